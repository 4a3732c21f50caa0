//! A client's value for an attribute, checked against its definition and put in canonical
//! form: names in their schema case, booleans sent as strings ("False", as Entra does) read as
//! booleans, read-only sub-attributes dropped (RFC 7644 §3.5.1), a lone value of a multi-valued
//! attribute read as a list of one.

use serde_json::{Map, Value};

use crate::schema::{AttrType, Attribute};

/// The elements of a multi-valued attribute's value (an array, or one element alone), nulls
/// dropped.
pub(crate) fn elements(attr: &Attribute, value: &Value) -> Result<Vec<Value>, String> {
    let items = match value {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    items.iter().filter(|item| !item.is_null()).map(|item| element(attr, item)).collect()
}

/// One value of `attr` (the whole value of a single-valued attribute, or one element of a
/// multi-valued one). A complex value keeps nulls, which unassign a sub-attribute on merge.
pub(crate) fn element(attr: &Attribute, value: &Value) -> Result<Value, String> {
    if attr.kind == AttrType::Complex {
        return match value {
            Value::Null => Ok(Value::Null),
            Value::Object(object) => complex(attr, object).map(Value::Object),
            other => Err(format!("\"{}\" takes an object of sub-attributes, not {}", attr.name, kind(other))),
        };
    }
    match (attr.kind, value) {
        (_, Value::Null) => Ok(Value::Null),
        (AttrType::Boolean, Value::Bool(_)) => Ok(value.clone()),
        (AttrType::Boolean, Value::String(text)) => {
            boolean(text).map(Value::Bool).ok_or_else(|| format!("\"{}\" is true or false, not \"{text}\"", attr.name))
        }
        (AttrType::String | AttrType::DateTime | AttrType::Reference, Value::String(_)) => Ok(value.clone()),
        (expected, other) => Err(format!("\"{}\" takes a {}, not {}", attr.name, expected.as_str(), kind(other))),
    }
}

/// `true` or `false` in any case, as Entra sends booleans.
pub(crate) fn boolean(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn complex(attr: &Attribute, object: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (name, value) in object {
        let sub =
            attr.sub_attribute(name).ok_or_else(|| format!("\"{}\" has no sub-attribute \"{name}\"", attr.name))?;
        if sub.writable() {
            out.insert(sub.name.to_owned(), element(sub, value)?);
        }
    }
    Ok(out)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{group_schema, user_schema};

    fn attr(name: &str) -> &'static Attribute {
        user_schema().attribute(name).unwrap()
    }

    #[test]
    fn booleans_sent_as_strings_are_booleans() {
        assert_eq!(element(attr("active"), &json!("False")).unwrap(), json!(false));
        assert_eq!(element(attr("active"), &json!("TRUE")).unwrap(), json!(true));
        assert_eq!(element(attr("active"), &json!(false)).unwrap(), json!(false));
        assert_eq!(element(attr("active"), &json!("no")).unwrap_err(), "\"active\" is true or false, not \"no\"");
        let email = element(attr("emails"), &json!({"VALUE": "a@x.example", "primary": "True"})).unwrap();
        assert_eq!(email, json!({"value": "a@x.example", "primary": true}));
    }

    #[test]
    fn wrong_types_say_what_was_expected() {
        assert_eq!(element(attr("userName"), &json!(5)).unwrap_err(), "\"userName\" takes a string, not a number");
        assert_eq!(
            element(attr("name"), &json!("Ann")).unwrap_err(),
            "\"name\" takes an object of sub-attributes, not a string"
        );
        assert_eq!(
            element(attr("name"), &json!({"middleName": "Q"})).unwrap_err(),
            "\"name\" has no sub-attribute \"middleName\""
        );
    }

    #[test]
    fn read_only_sub_attributes_are_dropped_and_a_lone_element_is_a_list() {
        let members = group_schema().attribute("members").unwrap();
        assert_eq!(
            elements(members, &json!({"value": "42", "display": "ann@x.example", "$ref": "../Users/42"})).unwrap(),
            vec![json!({"value": "42", "$ref": "../Users/42"})]
        );
        assert_eq!(elements(members, &json!([{"value": "1"}, null, {"value": "2"}])).unwrap().len(), 2);
        let name =
            element(attr("name"), &json!({"givenName": "Ann", "formatted": "Ann B", "familyName": null})).unwrap();
        assert_eq!(name, json!({"givenName": "Ann", "familyName": null}));
    }
}
