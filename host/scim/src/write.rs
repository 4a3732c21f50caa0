//! Writing client values into a resource, shared by PATCH (RFC 7644 §3.5.2) and resources sent
//! whole ([`crate::normalize`]): an object of attributes merged in, one attribute (or
//! sub-attribute) added or replaced, one removed. Every value goes through the schema, so names
//! keep their canonical case and multi-valued attributes are known from the table.

use std::fmt;

use serde_json::{Map, Value};

use crate::elements;
use crate::error::{ScimError, ScimType};
use crate::json;
use crate::path;
use crate::schema::{Attribute, Container, Schema, Target, resolve};
use crate::value;

/// How a value meets what is there: `add` appends to a multi-valued attribute, `replace`
/// replaces its values. Both merge into a single complex attribute and overwrite a simple one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Add,
    Replace,
}

pub(crate) fn invalid_value(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidValue, detail)
}

/// Writes each attribute of `value` into `resource`, as a PATCH without a path does. The keys
/// are attribute names or paths (`name.givenName`, fully qualified ones too); at the top
/// (`within` is `None`) a key may also be a schema URN whose object holds that schema's
/// attributes. `schemas` is the resource's own business and is skipped; read-only attributes
/// are ignored, as in a resource sent whole (RFC 7644 §3.5.1), so a client may send back what
/// it read.
pub(crate) fn merge_object(
    resource: &mut Map<String, Value>,
    schema: &'static Schema,
    mode: Mode,
    value: &Map<String, Value>,
    within: Option<Container>,
) -> Result<(), ScimError> {
    for (key, item) in value {
        if within.is_none() && key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let mut key_path =
            path::parse(key).map_err(|why| invalid_value(format!("\"{key}\" is not an attribute name: {why}")))?;
        if key_path.schema.is_none() {
            key_path.schema = within.map(|container| container_urn(schema, container).to_owned());
        }
        match resolve(schema, &key_path).map_err(invalid_value)? {
            Target::Schema(container) if within.is_none() => {
                let object = item
                    .as_object()
                    .ok_or_else(|| invalid_value(format!("\"{key}\" takes an object of that schema's attributes")))?;
                merge_object(resource, schema, mode, object, Some(container))?;
            }
            Target::Schema(_) => return Err(invalid_value(format!("\"{key}\" is a schema, not an attribute"))),
            Target::Attribute { container, attr, sub } => {
                if attr.writable() && sub.is_none_or(Attribute::writable) {
                    write(resource, container, attr, sub, mode, item)?;
                }
            }
        }
    }
    Ok(())
}

fn container_urn(schema: &'static Schema, container: Container) -> &'static str {
    match container {
        Container::Core => schema.id,
        Container::Extension(extension) => extension.id,
    }
}

/// Adds or replaces `attr` (or its `sub` on a single value, or on every value of a
/// multi-valued one) with `value`. A null value unassigns.
pub(crate) fn write(
    resource: &mut Map<String, Value>,
    container: Container,
    attr: &'static Attribute,
    sub: Option<&'static Attribute>,
    mode: Mode,
    value: &Value,
) -> Result<(), ScimError> {
    let map = json::container_mut(resource, container);
    match (attr.multi_valued, sub) {
        (false, None) => match value::element(attr, value).map_err(invalid_value)? {
            Value::Object(subs) => {
                let mut current = take_object(map, attr.name);
                json::merge_into(&mut current, subs);
                json::set(map, attr.name, Value::Object(current));
            }
            simple => json::set(map, attr.name, simple),
        },
        (false, Some(sub)) => {
            let new = value::element(sub, value).map_err(invalid_value)?;
            let mut current = take_object(map, attr.name);
            json::set(&mut current, sub.name, new);
            json::set(map, attr.name, Value::Object(current));
        }
        (true, None) => {
            let items = value::elements(attr, value).map_err(invalid_value)?;
            let mut list = elements::take(map, attr.name);
            if mode == Mode::Replace {
                list.clear();
            }
            let written = elements::add(attr, &mut list, items);
            elements::single_primary(&mut list, &written);
            elements::put(map, attr.name, list);
        }
        (true, Some(sub)) => {
            let new = value::element(sub, value).map_err(invalid_value)?;
            let mut list = elements::take(map, attr.name);
            if list.is_empty() && !new.is_null() {
                list.push(Value::Object(Map::new()));
            }
            for item in &mut list {
                if let Some(object) = item.as_object_mut() {
                    json::set(object, sub.name, new.clone());
                }
            }
            let written: Vec<usize> = (0..list.len()).collect();
            elements::single_primary(&mut list, &written);
            elements::put(map, attr.name, list);
        }
    }
    drop_empty(map, attr.name);
    json::tidy(resource, container);
    Ok(())
}

/// Removes `attr`, or its `sub` from its value (from every value of a multi-valued one).
pub(crate) fn remove(
    resource: &mut Map<String, Value>,
    container: Container,
    attr: &'static Attribute,
    sub: Option<&'static Attribute>,
) {
    if json::container(resource, container).is_none() {
        return;
    }
    let map = json::container_mut(resource, container);
    match sub {
        None => {
            json::take(map, attr.name);
        }
        Some(sub) => {
            let mut list = elements::take(map, attr.name);
            let every = 0..list.len();
            elements::remove_sub(&mut list, every, sub.name);
            if attr.multi_valued {
                elements::put(map, attr.name, list);
            } else if let Some(single) = list.pop() {
                json::set(map, attr.name, single);
            }
        }
    }
    json::tidy(resource, container);
}

/// The path's attribute must be writable by the client (RFC 7644 §3.5.2: a client must not
/// modify a readOnly attribute).
pub(crate) fn check_writable(
    path: &dyn fmt::Display,
    attr: &Attribute,
    sub: Option<&Attribute>,
) -> Result<(), ScimError> {
    match [Some(attr), sub].into_iter().flatten().find(|def| !def.writable()) {
        Some(def) => Err(ScimError::bad_request(
            ScimType::Mutability,
            format!("\"{}\" is readOnly, so \"{path}\" cannot be changed", def.name),
        )),
        None => Ok(()),
    }
}

fn take_object(map: &mut Map<String, Value>, name: &str) -> Map<String, Value> {
    match json::take(map, name) {
        Some(Value::Object(object)) => object,
        _ => Map::new(),
    }
}

/// A complex attribute left with no sub-attributes is unassigned.
fn drop_empty(map: &mut Map<String, Value>, name: &str) {
    if json::get(map, name).and_then(Value::as_object).is_some_and(Map::is_empty) {
        json::take(map, name);
    }
}
