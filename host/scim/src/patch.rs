//! PATCH requests (RFC 7644 §3.5.2): parsing the PatchOp message, and applying its operations
//! to a JSON resource, all of them or none.

mod apply;
mod path;

use std::fmt;

use serde_json::{Map, Value};

pub use path::PatchPath;

use crate::error::{ScimError, ScimType};
use crate::json;
use crate::resource::check_required;
use crate::schema::{PATCH_OP, Schema};

/// A parsed PatchOp message.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchRequest {
    /// The operations, in order.
    pub operations: Vec<Operation>,
}

/// One operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// What it does.
    pub op: Op,
    /// Where: none means the resource itself.
    pub path: Option<PatchPath>,
    /// The value; absent for most removes (a remove's null value is read as absent).
    pub value: Option<Value>,
}

/// A PATCH operation's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `add`.
    Add,
    /// `remove`.
    Remove,
    /// `replace`.
    Replace,
}

impl Op {
    /// The name as RFC 7644 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Remove => "remove",
            Op::Replace => "replace",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op.as_str())?;
        match &self.path {
            Some(path) => write!(f, " {path}"),
            None => Ok(()),
        }
    }
}

impl PatchRequest {
    /// Parses a PatchOp body: `schemas` must list the PatchOp URN; `Operations`, `op`, `path`
    /// and `value` are found without case, as are the op names (Entra sends "Replace").
    pub fn parse(body: &Value) -> Result<PatchRequest, ScimError> {
        let object = body.as_object().ok_or_else(|| syntax("a PATCH body is a JSON object"))?;
        let lists_patch_op = json::get(object, "schemas").and_then(Value::as_array).is_some_and(|urns| {
            urns.iter().any(|urn| urn.as_str().is_some_and(|urn| urn.eq_ignore_ascii_case(PATCH_OP)))
        });
        if !lists_patch_op {
            return Err(syntax(format!("a PATCH body's schemas must list {PATCH_OP}")));
        }
        let operations = json::get(object, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| syntax("a PATCH body needs Operations, an array of operations"))?;
        if operations.is_empty() {
            return Err(syntax("Operations is empty"));
        }
        let operations = operations
            .iter()
            .enumerate()
            .map(|(at, operation)| Operation::parse(operation).map_err(|e| e.context(format!("Operations[{at}]"))))
            .collect::<Result<_, _>>()?;
        Ok(PatchRequest { operations })
    }

    /// Applies the operations in order to `resource`, a resource of `schema` (which says which
    /// attributes are multi-valued, read-only or required). If one fails, `resource` is left as
    /// it was and the error names the operation.
    pub fn apply(&self, resource: &mut Value, schema: &'static Schema) -> Result<(), ScimError> {
        let mut work = match resource {
            Value::Object(object) => object.clone(),
            _ => return Err(ScimError::new(500, None, "the resource to patch is not a JSON object")),
        };
        for (at, operation) in self.operations.iter().enumerate() {
            apply::operation(&mut work, schema, operation)
                .map_err(|e| e.context(format!("operation {} ({operation})", at + 1)))?;
        }
        check_required(&work, schema)?;
        *resource = Value::Object(work);
        Ok(())
    }
}

impl Operation {
    fn parse(operation: &Value) -> Result<Operation, ScimError> {
        let object: &Map<String, Value> =
            operation.as_object().ok_or_else(|| syntax("an operation is a JSON object"))?;
        let op = match json::get(object, "op") {
            Some(Value::String(name)) if name.eq_ignore_ascii_case("add") => Op::Add,
            Some(Value::String(name)) if name.eq_ignore_ascii_case("remove") => Op::Remove,
            Some(Value::String(name)) if name.eq_ignore_ascii_case("replace") => Op::Replace,
            Some(other) => return Err(syntax(format!("op is add, remove or replace, not {other}"))),
            None => return Err(syntax("op is missing")),
        };
        let path = match json::get(object, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.trim().is_empty() => None,
            Some(Value::String(text)) => Some(PatchPath::parse(text)?),
            Some(other) => {
                return Err(ScimError::bad_request(ScimType::InvalidPath, format!("path is a string, not {other}")));
            }
        };
        // A null value is the unassigned state (RFC 7643 §2.5): replacing with it unassigns.
        let value = json::get(object, "value").filter(|value| op != Op::Remove || !value.is_null()).cloned();
        if value.is_none() && op != Op::Remove {
            return Err(ScimError::bad_request(ScimType::InvalidValue, format!("{} needs a value", op.as_str())));
        }
        Ok(Operation { op, path, value })
    }
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidSyntax, detail)
}

#[cfg(test)]
mod tests;
