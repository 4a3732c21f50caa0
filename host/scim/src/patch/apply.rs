//! One PATCH operation against a resource (RFC 7644 §3.5.2.1–3): what each of add, remove and
//! replace does with no path, a path, and a path with a value filter.

use serde_json::{Map, Value};

use super::{Op, Operation, PatchPath};
use crate::elements;
use crate::error::{ScimError, ScimType};
use crate::filter::{self, CompareOp, Filter};
use crate::json;
use crate::schema::{AttrType, Attribute, Container, Schema, Target, resolve};
use crate::value;
use crate::write::{self, Mode, invalid_value};

/// Applies `operation` to `resource`, a resource of `schema`.
pub(super) fn operation(
    resource: &mut Map<String, Value>,
    schema: &'static Schema,
    operation: &Operation,
) -> Result<(), ScimError> {
    let Some(path) = &operation.path else {
        return match (operation.op, &operation.value) {
            (Op::Remove, _) => Err(ScimError::bad_request(ScimType::NoTarget, "remove needs a path")),
            (op, Some(Value::Object(value))) => write::merge_object(resource, schema, mode(op), value, None),
            (op, _) => Err(invalid_value(format!("{} without a path takes an object of attributes", op.as_str()))),
        };
    };
    let (container, attr, sub) = match resolve(schema, &path.attr).map_err(invalid_path)? {
        Target::Schema(container) => return whole_schema(resource, schema, operation, path, container),
        Target::Attribute { container, attr, sub: Some(sub) } => (container, attr, Some(sub)),
        Target::Attribute { container, attr, sub: None } => {
            let sub = match &path.sub {
                Some(name) => Some(
                    attr.sub_attribute(name)
                        .ok_or_else(|| invalid_path(format!("\"{}\" has no sub-attribute \"{name}\"", attr.name)))?,
                ),
                None => None,
            };
            (container, attr, sub)
        }
    };
    write::check_writable(path, attr, sub)?;
    match &path.filter {
        None => plain(resource, container, attr, sub, operation),
        Some(filter) => filtered(resource, container, attr, sub, filter, operation),
    }
}

fn mode(op: Op) -> Mode {
    if op == Op::Add { Mode::Add } else { Mode::Replace }
}

fn invalid_path(detail: String) -> ScimError {
    ScimError::bad_request(ScimType::InvalidPath, detail)
}

fn required_value(operation: &Operation) -> Result<&Value, ScimError> {
    operation.value.as_ref().ok_or_else(|| invalid_value(format!("{} needs a value", operation.op.as_str())))
}

/// A path that is a schema's URN: its value is an object of that schema's attributes.
fn whole_schema(
    resource: &mut Map<String, Value>,
    schema: &'static Schema,
    operation: &Operation,
    path: &PatchPath,
    container: Container,
) -> Result<(), ScimError> {
    if path.filter.is_some() || path.sub.is_some() || operation.op == Op::Remove {
        return Err(invalid_path(format!(
            "\"{}\" is a schema: only add or replace an object of its attributes",
            path.attr
        )));
    }
    match required_value(operation)? {
        Value::Object(value) => write::merge_object(resource, schema, mode(operation.op), value, Some(container)),
        _ => Err(invalid_value(format!("\"{}\" takes an object of that schema's attributes", path.attr))),
    }
}

/// A path without a filter.
fn plain(
    resource: &mut Map<String, Value>,
    container: Container,
    attr: &'static Attribute,
    sub: Option<&'static Attribute>,
    operation: &Operation,
) -> Result<(), ScimError> {
    match (operation.op, &operation.value) {
        // Entra removes some members (entitlements, roles) as remove members with a value list,
        // where RFC 7644 would remove them all.
        (Op::Remove, Some(value)) if attr.multi_valued && sub.is_none() => {
            remove_values(resource, container, attr, value)
        }
        (Op::Remove, _) => {
            write::remove(resource, container, attr, sub);
            Ok(())
        }
        (op, _) => write::write(resource, container, attr, sub, mode(op), required_value(operation)?),
    }
}

fn remove_values(
    resource: &mut Map<String, Value>,
    container: Container,
    attr: &'static Attribute,
    value: &Value,
) -> Result<(), ScimError> {
    let doomed = value::elements(attr, value).map_err(invalid_value)?;
    if json::container(resource, container).is_none() {
        return Ok(());
    }
    let map = json::container_mut(resource, container);
    let mut list = elements::take(map, attr.name);
    list.retain(|item| !doomed.iter().any(|gone| elements::same(attr, item, gone)));
    elements::put(map, attr.name, list);
    json::tidy(resource, container);
    Ok(())
}

/// A path with a value filter: the operation applies to the values the filter matches (or to
/// their sub-attribute). Remove of nothing succeeds (it is already so); replace of nothing is
/// `noTarget`; add to nothing makes a value from the filter's equalities
/// (`emails[type eq "work"].value` adds a work email), or is `noTarget` when the filter says
/// no such thing.
fn filtered(
    resource: &mut Map<String, Value>,
    container: Container,
    attr: &'static Attribute,
    sub: Option<&'static Attribute>,
    filter: &Filter,
    operation: &Operation,
) -> Result<(), ScimError> {
    if !attr.multi_valued {
        return Err(invalid_path(format!(
            "\"{}\" is single-valued: a value filter selects values of a multi-valued one",
            attr.name
        )));
    }
    check_filter(attr, filter)?;
    let new = match (operation.op, sub) {
        (Op::Remove, _) => None,
        (_, Some(sub)) => Some(value::element(sub, required_value(operation)?).map_err(invalid_value)?),
        (_, None) => Some(value::element(attr, required_value(operation)?).map_err(invalid_value)?),
    };
    if json::container(resource, container).is_none() && operation.op == Op::Remove {
        return Ok(());
    }
    let map = json::container_mut(resource, container);
    let mut list = elements::take(map, attr.name);
    let matched: Vec<usize> = (0..list.len()).filter(|&at| filter::matches(filter, &list[at])).collect();
    let written = match new {
        None => {
            remove_matched(&mut list, &matched, sub);
            Vec::new()
        }
        Some(new) if matched.is_empty() => {
            if operation.op == Op::Replace {
                return Err(no_match(attr, filter));
            }
            let mut seed = seed(attr, filter).ok_or_else(|| no_match(attr, filter))?;
            match (sub, new) {
                (Some(sub), new) => json::set(&mut seed, sub.name, new),
                (None, Value::Object(subs)) => json::merge_into(&mut seed, subs),
                (None, _) => return Err(no_match(attr, filter)),
            }
            elements::add(attr, &mut list, vec![Value::Object(seed)])
        }
        Some(new) => {
            for &at in &matched {
                match sub {
                    Some(sub) => {
                        if let Some(object) = list[at].as_object_mut() {
                            json::set(object, sub.name, new.clone());
                        }
                    }
                    None if operation.op == Op::Replace => list[at] = elements::fresh(new.clone()),
                    None => elements::merge(&mut list[at], new.clone()),
                }
            }
            matched
        }
    };
    elements::single_primary(&mut list, &written);
    elements::put(map, attr.name, list);
    json::tidy(resource, container);
    Ok(())
}

fn remove_matched(list: &mut Vec<Value>, matched: &[usize], sub: Option<&Attribute>) {
    match sub {
        Some(sub) => elements::remove_sub(list, matched.iter().copied(), sub.name),
        None => {
            let mut at = 0;
            list.retain(|_| {
                at += 1;
                !matched.contains(&(at - 1))
            });
        }
    }
}

fn no_match(attr: &Attribute, filter: &Filter) -> ScimError {
    ScimError::bad_request(ScimType::NoTarget, format!("no value of \"{}\" matches [{filter}]", attr.name))
}

/// A value filter may name only the attribute's sub-attributes (or `value`, for a simple
/// multi-valued attribute), so a misspelt name is an error rather than a filter that matches
/// nothing.
fn check_filter(attr: &Attribute, filter: &Filter) -> Result<(), ScimError> {
    match filter {
        Filter::And(left, right) | Filter::Or(left, right) => {
            check_filter(attr, left)?;
            check_filter(attr, right)
        }
        Filter::Not(inner) => check_filter(attr, inner),
        Filter::Compare { path, .. } | Filter::Present(path) | Filter::ValuePath { path, .. } => {
            let known = path.schema.is_none()
                && path.sub.is_none()
                && match attr.kind {
                    AttrType::Complex => attr.sub_attribute(&path.attr).is_some(),
                    _ => path.is("value", None),
                };
            if known {
                Ok(())
            } else {
                Err(ScimError::bad_request(
                    ScimType::InvalidFilter,
                    format!("the value filter names \"{path}\", which is not a sub-attribute of \"{}\"", attr.name),
                ))
            }
        }
    }
}

/// The sub-attributes a filter of `eq` comparisons joined by `and` pins down (`type eq "work"`),
/// as the start of a new value; none when the filter is anything else.
fn seed(attr: &Attribute, filter: &Filter) -> Option<Map<String, Value>> {
    match filter {
        Filter::And(left, right) => {
            let mut pinned = seed(attr, left)?;
            pinned.extend(seed(attr, right)?);
            Some(pinned)
        }
        Filter::Compare { path, op: CompareOp::Eq, value } if !value.is_null() => {
            let sub = attr.sub_attribute(&path.attr)?;
            let value = value::element(sub, value).ok()?;
            Some(Map::from_iter([(sub.name.to_owned(), value)]))
        }
        _ => None,
    }
}
