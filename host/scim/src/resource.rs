//! A resource sent whole (POST, PUT; RFC 7644 §3.3, §3.5.1) put in canonical form, and the
//! check that a resource holds its required attributes.

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimType};
use crate::json;
use crate::schema::{AttrType, Container, Schema};
use crate::write::{self, Mode, invalid_value};

/// The client's resource `body` as this service stores it: attribute names in their canonical
/// case, values checked against `schema` (booleans sent as strings read as booleans, a lone
/// value of a multi-valued attribute a list of one, duplicates merged), read-only attributes
/// (`id`, `meta`, `groups`, ...) ignored, `schemas` set to the core schema and the extensions
/// present. An attribute the schema does not have is `invalidValue`, naming it; a missing
/// required one (`userName`, a Group's `displayName`) too.
pub fn normalize(body: &Value, schema: &'static Schema) -> Result<Value, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::bad_request(ScimType::InvalidSyntax, "the resource must be a JSON object"))?;
    let mut resource = Map::from_iter([("schemas".to_owned(), Value::from(vec![schema.id]))]);
    write::merge_object(&mut resource, schema, Mode::Replace, object, None)?;
    check_required(&resource, schema)?;
    Ok(Value::Object(resource))
}

/// Every required attribute of `schema` and its extensions is assigned, and every value of a
/// complex attribute has its required sub-attributes (a member its `value`).
pub(crate) fn check_required(resource: &Map<String, Value>, schema: &'static Schema) -> Result<(), ScimError> {
    let containers = std::iter::once((Container::Core, schema))
        .chain(schema.extensions.iter().map(|e| (Container::Extension(e), *e)));
    let empty = Map::new();
    for (container, definitions) in containers {
        let map = json::container(resource, container).unwrap_or(&empty);
        for attr in definitions.attributes {
            let value = json::get(map, attr.name).filter(|value| !json::unassigned(value));
            if attr.required && value.is_none() {
                return Err(invalid_value(format!("\"{}\" is required", attr.name)));
            }
            if attr.kind != AttrType::Complex {
                continue;
            }
            let items = match value {
                Some(Value::Array(items)) => items.as_slice(),
                Some(single) => std::slice::from_ref(single),
                None => &[],
            };
            for sub in attr.sub_attributes.iter().filter(|sub| sub.required) {
                let lacking = items.iter().any(|item| {
                    item.as_object().is_none_or(|item| json::get(item, sub.name).is_none_or(Value::is_null))
                });
                if lacking {
                    return Err(invalid_value(format!("every value of \"{}\" needs \"{}\"", attr.name, sub.name)));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{EXTENSION_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, group_schema, user_schema};

    #[test]
    fn a_user_is_put_in_canonical_form() {
        let body = json!({
            "schemas": [USER_SCHEMA, EXTENSION_SCHEMA],
            "id": "ignored", "meta": {"resourceType": "User"},
            "USERNAME": "ann@x.example",
            "name": {"GivenName": "Ann", "familyName": "Bee", "formatted": "Ann Bee"},
            "displayName": "Ann Bee",
            "emails": {"value": "ann@x.example", "type": "work", "primary": "True"},
            "active": "False",
            "groups": [{"value": "9"}],
            EXTENSION_SCHEMA: {"groupkey": "77", "status": "ACTIVE"},
        });
        assert_eq!(
            normalize(&body, user_schema()).unwrap(),
            json!({
                "schemas": [USER_SCHEMA, EXTENSION_SCHEMA],
                "userName": "ann@x.example",
                "name": {"givenName": "Ann", "familyName": "Bee"},
                "emails": [{"value": "ann@x.example", "type": "work", "primary": true}],
                "active": false,
                EXTENSION_SCHEMA: {"groupKey": "77"},
            })
        );
    }

    #[test]
    fn a_group_without_extensions_has_only_its_schema() {
        let group =
            normalize(&json!({"displayName": "Sales", "members": [{"value": "1"}, {"value": "1"}]}), group_schema())
                .unwrap();
        assert_eq!(group, json!({"schemas": [GROUP_SCHEMA], "displayName": "Sales", "members": [{"value": "1"}]}));
    }

    #[test]
    fn missing_and_unknown_attributes_are_named() {
        let cases = [
            (json!({"name": {"givenName": "Ann"}}), "\"userName\" is required"),
            (json!({"userName": "a@x.example", "title": "Boss"}), "User has no attribute \"title\""),
            (
                json!({"userName": "a@x.example", "entitlements": [{"display": "x"}]}),
                "every value of \"entitlements\" needs \"value\"",
            ),
            (json!({"userName": 7}), "\"userName\" takes a string, not a number"),
            (
                json!({"userName": "a@x.example", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {}}),
                "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\" is in no schema of this resource",
            ),
        ];
        for (body, why) in cases {
            let error = normalize(&body, user_schema()).unwrap_err();
            assert_eq!(error.scim_type, Some(ScimType::InvalidValue), "{body}");
            assert!(error.detail.contains(why), "{body}: {}", error.detail);
        }
        assert_eq!(normalize(&json!([]), user_schema()).unwrap_err().scim_type, Some(ScimType::InvalidSyntax));
    }
}
