//! The discovery documents (RFC 7644 §4): `/Schemas`, `/ResourceTypes` and
//! `/ServiceProviderConfig`, written from the attribute tables.

use serde_json::{Value, json};

use super::{
    Attribute, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA, Schema, extension_schema,
    group_schema, user_schema,
};

/// A resource type the service offers: its name, endpoint and core schema.
struct ResourceType {
    name: &'static str,
    endpoint: &'static str,
    description: &'static str,
    schema: fn() -> &'static Schema,
}

const RESOURCE_TYPES: [ResourceType; 2] = [
    ResourceType { name: "User", endpoint: "/Users", description: "GoTo users.", schema: user_schema },
    ResourceType { name: "Group", endpoint: "/Groups", description: "GoTo groups.", schema: group_schema },
];

/// Every schema the service uses, as `/Schemas` lists them (RFC 7643 §7), each with its
/// `meta.location` under `base_url`.
pub fn schemas_document(base_url: &str) -> Vec<Value> {
    [user_schema(), extension_schema(), group_schema()]
        .into_iter()
        .map(|schema| {
            json!({
                "schemas": [SCHEMA_SCHEMA],
                "id": schema.id,
                "name": schema.name,
                "description": schema.description,
                "attributes": schema.attributes.iter().map(attribute).collect::<Vec<_>>(),
                "meta": meta("Schema", base_url, &format!("/Schemas/{}", schema.id)),
            })
        })
        .collect()
}

/// The User and Group resource types (RFC 7643 §6), the User with the GoTo extension.
pub fn resource_types(base_url: &str) -> Vec<Value> {
    RESOURCE_TYPES
        .iter()
        .map(|resource| {
            let schema = (resource.schema)();
            let extensions: Vec<Value> =
                schema.extensions.iter().map(|extension| json!({"schema": extension.id, "required": false})).collect();
            json!({
                "schemas": [RESOURCE_TYPE_SCHEMA],
                "id": resource.name,
                "name": resource.name,
                "endpoint": resource.endpoint,
                "description": resource.description,
                "schema": schema.id,
                "schemaExtensions": extensions,
                "meta": meta("ResourceType", base_url, &format!("/ResourceTypes/{}", resource.name)),
            })
        })
        .collect()
}

/// What the service supports (RFC 7643 §5): PATCH and filters (up to `max_results` a page),
/// no bulk, sorting, ETags or password change, and a bearer token.
pub fn service_provider_config(base_url: &str, max_results: u64) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "The token in the profile's scim-token secret, sent as \
                            'Authorization: Bearer TOKEN'.",
            "primary": true,
        }],
        "meta": meta("ServiceProviderConfig", base_url, "/ServiceProviderConfig"),
    })
}

fn meta(resource_type: &str, base_url: &str, path: &str) -> Value {
    json!({"resourceType": resource_type, "location": format!("{}{path}", base_url.trim_end_matches('/'))})
}

/// One attribute's representation (RFC 7643 §7).
fn attribute(attribute_def: &Attribute) -> Value {
    let mut out = json!({
        "name": attribute_def.name,
        "type": attribute_def.kind.as_str(),
        "multiValued": attribute_def.multi_valued,
        "description": attribute_def.description,
        "required": attribute_def.required,
        "caseExact": attribute_def.case_exact,
        "mutability": attribute_def.mutability.as_str(),
        "returned": attribute_def.returned.as_str(),
        "uniqueness": attribute_def.uniqueness.as_str(),
    });
    if !attribute_def.canonical_values.is_empty() {
        out["canonicalValues"] = json!(attribute_def.canonical_values);
    }
    if !attribute_def.reference_types.is_empty() {
        out["referenceTypes"] = json!(attribute_def.reference_types);
    }
    if !attribute_def.sub_attributes.is_empty() {
        out["subAttributes"] = attribute_def.sub_attributes.iter().map(attribute).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{EXTENSION_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

    fn find<'a>(items: &'a [Value], key: &str, value: &str) -> &'a Value {
        items.iter().find(|item| item[key] == value).unwrap_or_else(|| panic!("no {key} {value}"))
    }

    #[test]
    fn schemas_list_user_extension_and_group_with_their_attributes() {
        let schemas = schemas_document("https://scim.example/v2/");
        assert_eq!(schemas.len(), 3);
        let user = find(&schemas, "id", USER_SCHEMA);
        assert_eq!(user["schemas"], json!([SCHEMA_SCHEMA]));
        assert_eq!(user["meta"]["location"], format!("https://scim.example/v2/Schemas/{USER_SCHEMA}"));
        let attributes = user["attributes"].as_array().unwrap();
        let user_name = find(attributes, "name", "userName");
        assert_eq!(
            user_name,
            &json!({
                "name": "userName", "type": "string", "multiValued": false,
                "description": user_name["description"], "required": true, "caseExact": false,
                "mutability": "readWrite", "returned": "default", "uniqueness": "server",
            })
        );
        let emails = find(attributes, "name", "emails");
        assert_eq!(emails["multiValued"], true);
        assert_eq!(
            find(emails["subAttributes"].as_array().unwrap(), "name", "type")["canonicalValues"],
            json!(["work", "home", "other"])
        );
        let groups = find(attributes, "name", "groups");
        assert_eq!(groups["mutability"], "readOnly");
        assert_eq!(
            find(groups["subAttributes"].as_array().unwrap(), "name", "$ref")["referenceTypes"],
            json!(["Group"])
        );
        let extension = find(&schemas, "id", EXTENSION_SCHEMA);
        assert_eq!(find(extension["attributes"].as_array().unwrap(), "name", "groupKey")["mutability"], "readWrite");
        let group = find(&schemas, "id", GROUP_SCHEMA);
        let members = find(group["attributes"].as_array().unwrap(), "name", "members");
        assert!(members["description"].as_str().unwrap().contains("moves"), "{members}");
    }

    #[test]
    fn every_attribute_description_is_written() {
        for schema in schemas_document("") {
            let mut stack: Vec<&Value> = schema["attributes"].as_array().unwrap().iter().collect();
            while let Some(attribute) = stack.pop() {
                assert!(attribute["description"].as_str().is_some_and(|d| d.len() > 8), "{attribute}");
                stack.extend(attribute["subAttributes"].as_array().into_iter().flatten());
            }
        }
    }

    #[test]
    fn resource_types_name_endpoints_and_the_user_extension() {
        let types = resource_types("https://scim.example/v2");
        let user = find(&types, "id", "User");
        assert_eq!(user["endpoint"], "/Users");
        assert_eq!(user["schema"], USER_SCHEMA);
        assert_eq!(user["schemaExtensions"], json!([{"schema": EXTENSION_SCHEMA, "required": false}]));
        assert_eq!(
            user["meta"],
            json!({"resourceType": "ResourceType", "location": "https://scim.example/v2/ResourceTypes/User"})
        );
        let group = find(&types, "id", "Group");
        assert_eq!(group["endpoint"], "/Groups");
        assert_eq!(group["schemaExtensions"], json!([]));
    }

    #[test]
    fn service_provider_config_says_what_is_supported() {
        let config = service_provider_config("https://scim.example/v2", 200);
        assert_eq!(config["patch"]["supported"], true);
        assert_eq!(config["bulk"]["supported"], false);
        assert_eq!(config["filter"], json!({"supported": true, "maxResults": 200}));
        for unsupported in ["changePassword", "sort", "etag"] {
            assert_eq!(config[unsupported]["supported"], false, "{unsupported}");
        }
        assert_eq!(config["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(config["meta"]["location"], "https://scim.example/v2/ServiceProviderConfig");
    }
}
