//! Evaluating a filter against a JSON resource, as a service with no index would: strings
//! compare without case (every attribute is read as caseExact=false), a multi-valued attribute
//! matches when any of its values does, and a complex value compared whole is compared by its
//! `value` sub-attribute (`emails co "@x"`).

use std::cmp::Ordering;

use serde_json::Value;

use super::{CompareOp, Filter};
use crate::json;
use crate::path::AttrPath;
use crate::value::boolean;

/// Whether `resource` matches `filter`. A path qualified by a schema URN is looked up in the
/// object under that URN when the resource has one (an extension), else at the top.
pub fn matches(filter: &Filter, resource: &Value) -> bool {
    match filter {
        Filter::And(left, right) => matches(left, resource) && matches(right, resource),
        Filter::Or(left, right) => matches(left, resource) || matches(right, resource),
        Filter::Not(inner) => !matches(inner, resource),
        Filter::Present(path) => values(resource, path).into_iter().any(present),
        Filter::Compare { path, op: CompareOp::Eq, value: Value::Null } => {
            !values(resource, path).into_iter().any(present)
        }
        Filter::Compare { path, op: CompareOp::Ne, value } => {
            !matches(&Filter::Compare { path: path.clone(), op: CompareOp::Eq, value: value.clone() }, resource)
        }
        Filter::Compare { path, op, value } => values(resource, path).into_iter().any(|have| compare(have, *op, value)),
        Filter::ValuePath { path, filter } => values(resource, path).into_iter().any(|item| matches(filter, item)),
    }
}

/// The values at `path`: each element of a multi-valued attribute, and of each its
/// sub-attribute. Inside a simple multi-valued attribute's value path, `value` is the element.
fn values<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(object) = resource.as_object() else {
        return if path.is("value", None) { vec![resource] } else { Vec::new() };
    };
    let root =
        path.schema.as_deref().and_then(|urn| json::get(object, urn)).and_then(Value::as_object).unwrap_or(object);
    let attribute = json::get(root, &path.attr).map(flatten).unwrap_or_default();
    match &path.sub {
        None => attribute,
        Some(sub) => attribute
            .into_iter()
            .filter_map(|item| item.as_object().and_then(|item| json::get(item, sub)))
            .flat_map(flatten)
            .collect(),
    }
}

fn flatten(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    }
}

/// RFC 7644's `pr`: a value that is not null, not an empty string, array or object.
fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(object) => !object.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(have: &Value, op: CompareOp, want: &Value) -> bool {
    if let Some(object) = have.as_object() {
        return json::get(object, "value").is_some_and(|value| !value.is_object() && compare(value, op, want));
    }
    match (have, want) {
        (Value::String(have), Value::String(want)) => {
            let (have, want) = (have.to_lowercase(), want.to_lowercase());
            match op {
                CompareOp::Co => have.contains(&want),
                CompareOp::Sw => have.starts_with(&want),
                CompareOp::Ew => have.ends_with(&want),
                _ => ordered(have.cmp(&want), op),
            }
        }
        (Value::Number(have), Value::Number(want)) => number_order(have, want).is_some_and(|order| ordered(order, op)),
        (Value::Bool(have), _) => op == CompareOp::Eq && as_bool(want) == Some(*have),
        (Value::String(have), Value::Bool(want)) => op == CompareOp::Eq && boolean(have) == Some(*want),
        _ => false,
    }
}

/// A boolean, or a string "true"/"false" in any case (Entra's `active eq "True"`).
fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) => boolean(text),
        _ => None,
    }
}

/// Integers compare exactly (keys run past f64's precision); others as f64.
fn number_order(have: &serde_json::Number, want: &serde_json::Number) -> Option<Ordering> {
    match (have.as_i64(), want.as_i64(), have.as_u64(), want.as_u64()) {
        (Some(have), Some(want), _, _) => Some(have.cmp(&want)),
        (_, _, Some(have), Some(want)) => Some(have.cmp(&want)),
        _ => have.as_f64()?.partial_cmp(&want.as_f64()?),
    }
}

/// Whether an ordering satisfies an ordering operator (or `eq`).
fn ordered(order: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => order == Ordering::Equal,
        CompareOp::Gt => order == Ordering::Greater,
        CompareOp::Ge => order != Ordering::Less,
        CompareOp::Lt => order == Ordering::Less,
        CompareOp::Le => order != Ordering::Greater,
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
