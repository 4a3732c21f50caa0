//! PATCH from RFC 7644 §3.5.2's examples, from what Entra and Okta send, and its errors.

use serde_json::{Value, json};

use super::*;
use crate::schema::{EXTENSION_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, group_schema, user_schema};

const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
const JAMES: &str = "08e1d05d-121c-4561-8b96-473d93df9210";

fn request(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

fn user() -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "id": "6581286685341855244",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Barbara Jensen"},
        "displayName": "Barbara Jensen",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"},
        ],
        "active": true,
        "entitlements": [{"value": "1355534416108530190", "display": "GoTo Meeting Business"}],
        "roles": [{"value": "MANAGE_USERS"}, {"value": "RUN_REPORTS"}],
        "groups": [{"value": "2493304650723090190", "display": "Defenders"}],
        "meta": {"resourceType": "User"},
    })
}

fn group() -> Value {
    json!({
        "schemas": [GROUP_SCHEMA],
        "id": "8450026542029090574",
        "displayName": "Tour Guides",
        "members": [{"value": BABS, "display": "Babs Jensen"}],
        "meta": {"resourceType": "Group"},
    })
}

/// Applies `operations` to `resource` (a User or a Group, by its schemas).
fn patched(mut resource: Value, operations: Value) -> Result<Value, ScimError> {
    let schema = if resource["schemas"][0] == GROUP_SCHEMA { group_schema() } else { user_schema() };
    PatchRequest::parse(&request(operations))?.apply(&mut resource, schema)?;
    Ok(resource)
}

fn ok(resource: Value, operations: Value) -> Value {
    patched(resource, operations.clone()).unwrap_or_else(|e| panic!("{operations}: {e}"))
}

fn failure(resource: Value, operations: Value) -> ScimError {
    match patched(resource, operations.clone()) {
        Ok(resource) => panic!("{operations} succeeded: {resource}"),
        Err(error) => error,
    }
}

fn member_values(group: &Value) -> Vec<&str> {
    group["members"]
        .as_array()
        .map_or_else(Vec::new, |members| members.iter().map(|m| m["value"].as_str().unwrap()).collect())
}

// RFC 7644 §3.5.2.1: add.

#[test]
fn rfc_add_members() {
    let group = ok(
        group(),
        json!([{"op": "add", "path": "members", "value": [{
            "display": "James Smith", "$ref": format!("https://example.com/v2/Users/{JAMES}"), "value": JAMES,
        }]}]),
    );
    assert_eq!(member_values(&group), [BABS, JAMES]);
    let uri = format!("https://example.com/v2/Users/{JAMES}");
    assert_eq!(group["members"][1], json!({"value": JAMES, "$ref": uri}), "display is the service's to set");
}

#[test]
fn rfc_add_without_a_path_merges_the_object() {
    let user = ok(
        user(),
        json!([{"op": "add", "value": {"emails": [{"value": "babs@jensen.net", "type": "other"}], "locale": "en_US"}}]),
    );
    assert_eq!(user["emails"].as_array().unwrap().len(), 3);
    assert_eq!(user["emails"][2], json!({"value": "babs@jensen.net", "type": "other"}));
    assert_eq!(user["locale"], "en_US");
    assert_eq!(user["userName"], "bjensen@example.com");
}

#[test]
fn add_to_a_multi_valued_attribute_does_not_duplicate() {
    let group = ok(
        group(),
        json!([{"op": "add", "path": "members", "value": [{"value": BABS}, {"value": JAMES}, {"value": JAMES}]}]),
    );
    assert_eq!(member_values(&group), [BABS, JAMES]);
    let user = ok(user(), json!([{"op": "add", "path": "roles", "value": {"value": "manage_users"}}]));
    assert_eq!(
        user["roles"],
        json!([{"value": "manage_users"}, {"value": "RUN_REPORTS"}]),
        "one role, spelt the newest way"
    );
}

// RFC 7644 §3.5.2.2: remove.

#[test]
fn rfc_remove_one_member() {
    let group = ok(group(), json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}]));
    assert!(group.get("members").is_none(), "no members left is no members attribute: {group}");
}

#[test]
fn rfc_remove_all_members() {
    let group = ok(
        json!({"schemas": [GROUP_SCHEMA], "displayName": "G", "members": [{"value": BABS}, {"value": JAMES}]}),
        json!([{"op": "remove", "path": "members"}]),
    );
    assert_eq!(group, json!({"schemas": [GROUP_SCHEMA], "displayName": "G"}));
}

#[test]
fn rfc_remove_then_add_replaces_one_member() {
    let group = ok(
        group(),
        json!([
            {"op": "remove", "path": format!("members[value eq \"{BABS}\"]")},
            {"op": "add", "path": "members", "value": [{"display": "James Smith", "value": JAMES}]},
        ]),
    );
    assert_eq!(member_values(&group), [JAMES]);
}

#[test]
fn rfc_remove_with_a_complex_filter() {
    let user = ok(user(), json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]));
    assert_eq!(user["emails"], json!([{"value": "babs@jensen.org", "type": "home"}]));
}

#[test]
fn remove_of_nothing_succeeds() {
    let before = group();
    assert_eq!(ok(before.clone(), json!([{"op": "remove", "path": format!("members[value eq \"{JAMES}\"]")}])), before);
    assert_eq!(ok(user(), json!([{"op": "remove", "path": "locale"}])), user());
}

#[test]
fn remove_a_sub_attribute() {
    let user = ok(
        user(),
        json!([{"op": "remove", "path": "name.familyName"}, {"op": "remove", "path": "emails[type eq \"home\"].type"}]),
    );
    assert_eq!(user["name"], json!({"givenName": "Barbara", "formatted": "Barbara Jensen"}));
    assert_eq!(user["emails"][1], json!({"value": "babs@jensen.org"}));
}

// RFC 7644 §3.5.2.3: replace.

#[test]
fn rfc_replace_all_members() {
    let group = ok(group(), json!([{"op": "replace", "path": "members", "value": [{"value": JAMES}, {"value": "x"}]}]));
    assert_eq!(member_values(&group), [JAMES, "x"]);
}

#[test]
fn rfc_replace_the_values_a_filter_selects() {
    let user = ok(
        user(),
        json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "barbara@example.com", "type": "work"}}]),
    );
    assert_eq!(user["emails"][0], json!({"value": "barbara@example.com", "type": "work"}), "replaced whole");
    assert_eq!(user["emails"][1]["value"], "babs@jensen.org");
}

#[test]
fn rfc_replace_a_sub_attribute_of_the_values_a_filter_selects() {
    let user = ok(
        user(),
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"}]),
    );
    assert_eq!(user["emails"][0], json!({"value": "barbara@example.com", "type": "work", "primary": true}));
}

#[test]
fn rfc_replace_without_a_path() {
    let user = ok(
        user(),
        json!([{"op": "replace", "value": {
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
            "locale": "en_GB",
        }}]),
    );
    assert_eq!(user["emails"].as_array().unwrap().len(), 2, "replace replaces the values: {}", user["emails"]);
    assert_eq!(user["locale"], "en_GB");
}

#[test]
fn replace_of_a_single_complex_attribute_leaves_unnamed_sub_attributes() {
    let user = ok(user(), json!([{"op": "replace", "path": "name", "value": {"familyName": "Smith"}}]));
    assert_eq!(user["name"], json!({"givenName": "Barbara", "familyName": "Smith", "formatted": "Barbara Jensen"}));
}

#[test]
fn replace_with_null_unassigns() {
    let user = ok(user(), json!([{"op": "replace", "path": "name.givenName", "value": null}]));
    assert_eq!(user["name"], json!({"familyName": "Jensen", "formatted": "Barbara Jensen"}));
}

#[test]
fn replace_of_an_attribute_not_there_adds_it() {
    let user = ok(user(), json!([{"op": "replace", "path": "timezone", "value": "Europe/Paris"}]));
    assert_eq!(user["timezone"], "Europe/Paris");
}

// Entra ID.

#[test]
fn entra_capitalised_ops_and_string_booleans() {
    let user = ok(
        user(),
        json!([
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "emails[type eq \"work\"].primary", "value": "True"},
        ]),
    );
    assert_eq!(user["active"], false);
    assert_eq!(user["emails"][0]["primary"], true);
}

#[test]
fn entra_removes_members_by_value_list() {
    let group = ok(
        json!({"schemas": [GROUP_SCHEMA], "displayName": "G", "members": [{"value": BABS}, {"value": JAMES}, {"value": "x"}]}),
        json!([{"op": "Remove", "path": "members", "value": [{"value": BABS}, {"value": "x"}, {"value": "absent"}]}]),
    );
    assert_eq!(member_values(&group), [JAMES]);
}

#[test]
fn entra_revokes_entitlements_and_roles_by_value_list() {
    let user = ok(
        user(),
        json!([
            {"op": "Remove", "path": "entitlements", "value": [{"value": "1355534416108530190"}]},
            {"op": "Remove", "path": "roles", "value": [{"value": "run_reports", "primary": "False", "type": "WindowsAzureActiveDirectoryRole"}]},
        ]),
    );
    assert!(user.get("entitlements").is_none(), "{user}");
    assert_eq!(user["roles"], json!([{"value": "MANAGE_USERS"}]));
}

#[test]
fn entra_adds_a_work_email_through_a_filter_that_matches_nothing() {
    let mut bare = user();
    bare.as_object_mut().unwrap().remove("emails");
    let user = ok(bare, json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]));
    assert_eq!(user["emails"], json!([{"type": "work", "value": "new@example.com"}]));
}

#[test]
fn entra_grants_a_role_with_its_extra_sub_attributes() {
    let user = ok(
        user(),
        json!([{"op": "Add", "path": "roles", "value": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "MANAGE_SEATS"}]}]),
    );
    assert_eq!(user["roles"][2], json!({"value": "MANAGE_SEATS"}));
}

// Okta.

#[test]
fn okta_replace_without_a_path_ignores_what_it_may_not_change() {
    let user =
        ok(user(), json!([{"op": "replace", "value": {"id": "other", "active": false, "meta": {}, "schemas": []}}]));
    assert_eq!(user["active"], false);
    assert_eq!(user["id"], "6581286685341855244");
    assert_eq!(user["schemas"], json!([USER_SCHEMA]));
    let group =
        ok(group(), json!([{"op": "replace", "value": {"id": "8450026542029090574", "displayName": "Guides"}}]));
    assert_eq!(group["displayName"], "Guides");
}

// Paths: qualified, extensions, case.

#[test]
fn fully_qualified_paths() {
    let user = ok(
        user(),
        json!([
            {"op": "replace", "path": format!("{USER_SCHEMA}:name.givenName"), "value": "Babs"},
            {"op": "add", "path": format!("{EXTENSION_SCHEMA}:groupKey"), "value": "77"},
        ]),
    );
    assert_eq!(user["name"]["givenName"], "Babs");
    assert_eq!(user[EXTENSION_SCHEMA], json!({"groupKey": "77"}));
    assert_eq!(user["schemas"], json!([USER_SCHEMA, EXTENSION_SCHEMA]), "the extension is listed once it is there");
    let user = ok(user, json!([{"op": "remove", "path": format!("{EXTENSION_SCHEMA}:groupKey")}]));
    assert!(user.get(EXTENSION_SCHEMA).is_none(), "{user}");
    assert_eq!(user["schemas"], json!([USER_SCHEMA]));
}

#[test]
fn extension_attributes_by_urn_key_by_urn_path_and_bare() {
    let expected = json!({"groupKey": "5"});
    for operation in [
        json!({"op": "replace", "value": {EXTENSION_SCHEMA: {"groupKey": "5"}}}),
        json!({"op": "add", "value": {format!("{EXTENSION_SCHEMA}:groupKey"): "5"}}),
        json!({"op": "replace", "path": EXTENSION_SCHEMA, "value": {"GROUPKEY": "5", "status": "ACTIVE"}}),
        json!({"op": "add", "path": "groupKey", "value": "5"}),
    ] {
        assert_eq!(ok(user(), json!([operation.clone()]))[EXTENSION_SCHEMA], expected, "{operation}");
    }
}

#[test]
fn names_in_any_case_are_written_in_canonical_case() {
    let user = ok(
        json!({"schemas": [USER_SCHEMA], "userName": "a@x.example"}),
        json!([
            {"op": "add", "path": "NAME.GIVENNAME", "value": "Ann"},
            {"op": "add", "value": {"Name": {"FamilyName": "Bee"}, "LOCALE": "en_US", "name.GIVENname": "Anne"}},
        ]),
    );
    assert_eq!(
        user,
        json!({"schemas": [USER_SCHEMA], "userName": "a@x.example", "name": {"givenName": "Anne", "familyName": "Bee"}, "locale": "en_US"})
    );
}

#[test]
fn the_body_keys_and_op_names_are_read_without_case() {
    let body = json!({"SCHEMAS": [PATCH_OP.to_uppercase()], "operations": [{"OP": "REPLACE", "Path": "locale", "VALUE": "de_DE"}]});
    let mut user = user();
    PatchRequest::parse(&body).unwrap().apply(&mut user, user_schema()).unwrap();
    assert_eq!(user["locale"], "de_DE");
}

#[test]
fn making_a_value_primary_makes_the_others_not_primary() {
    let user = ok(
        user(),
        json!([{"op": "add", "path": "emails", "value": {"value": "new@example.com", "type": "work", "primary": true}}]),
    );
    assert_eq!(user["emails"][0]["primary"], false);
    assert_eq!(user["emails"][2]["primary"], true);
    let user =
        ok(user, json!([{"op": "replace", "path": "emails[value eq \"babs@jensen.org\"].primary", "value": true}]));
    let primaries: Vec<bool> = user["emails"].as_array().unwrap().iter().map(|e| e["primary"] == true).collect();
    assert_eq!(primaries, [false, true, false]);
}

// Errors.

#[test]
fn malformed_bodies_are_invalid_syntax() {
    let cases = [
        (json!([]), "a PATCH body is a JSON object"),
        (json!({"Operations": []}), "schemas must list urn:ietf:params:scim:api:messages:2.0:PatchOp"),
        (json!({"schemas": ["urn:x"], "Operations": []}), "schemas must list"),
        (json!({"schemas": [PATCH_OP]}), "needs Operations"),
        (json!({"schemas": [PATCH_OP], "Operations": {}}), "needs Operations"),
        (json!({"schemas": [PATCH_OP], "Operations": []}), "Operations is empty"),
        (json!({"schemas": [PATCH_OP], "Operations": ["add"]}), "Operations[0]: an operation is a JSON object"),
        (json!({"schemas": [PATCH_OP], "Operations": [{"path": "x"}]}), "Operations[0]: op is missing"),
        (
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "locale", "value": "x"}, {"op": "merge"}]}),
            "Operations[1]: op is add, remove or replace, not \"merge\"",
        ),
    ];
    for (body, detail) in cases {
        let error = PatchRequest::parse(&body).unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidSyntax), "{body}");
        assert!(error.detail.contains(detail), "{body}: {}", error.detail);
    }
}

#[test]
fn operations_that_cannot_parse_name_the_problem() {
    let cases = [
        (json!({"op": "add", "path": "locale"}), ScimType::InvalidValue, "Operations[0]: add needs a value"),
        (json!({"op": "replace", "path": 5, "value": 1}), ScimType::InvalidPath, "path is a string, not 5"),
        (json!({"op": "remove", "path": "emails[type eq]"}), ScimType::InvalidFilter, "expected a value"),
        (json!({"op": "remove", "path": "a.b.c"}), ScimType::InvalidPath, "at most one sub-attribute"),
    ];
    for (operation, scim_type, detail) in cases {
        let error = PatchRequest::parse(&request(json!([operation]))).unwrap_err();
        assert_eq!(error.scim_type, Some(scim_type), "{operation}");
        assert!(error.detail.contains(detail), "{operation}: {}", error.detail);
    }
}

#[test]
fn operations_that_cannot_apply_name_the_operation_and_the_problem() {
    let cases = [
        (json!({"op": "remove"}), ScimType::NoTarget, "operation 1 (remove): remove needs a path"),
        (
            json!({"op": "replace", "value": "x"}),
            ScimType::InvalidValue,
            "replace without a path takes an object of attributes",
        ),
        (
            json!({"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x"}),
            ScimType::NoTarget,
            "operation 1 (replace emails[type eq \"other\"].value): no value of \"emails\" matches [type eq \"other\"]",
        ),
        (
            json!({"op": "add", "path": "emails[type co \"x\"].value", "value": "x"}),
            ScimType::NoTarget,
            "matches [type co \"x\"]",
        ),
        (json!({"op": "add", "path": "title", "value": "x"}), ScimType::InvalidPath, "User has no attribute \"title\""),
        (
            json!({"op": "add", "path": "name.middleName", "value": "x"}),
            ScimType::InvalidPath,
            "\"name\" has no sub-attribute \"middleName\"",
        ),
        (
            json!({"op": "add", "path": "emails[type eq \"work\"].kind", "value": "x"}),
            ScimType::InvalidPath,
            "\"emails\" has no sub-attribute \"kind\"",
        ),
        (
            json!({"op": "replace", "path": "userName[value eq \"x\"]", "value": "y"}),
            ScimType::InvalidPath,
            "\"userName\" is single-valued",
        ),
        (
            json!({"op": "remove", "path": "emails[tpye eq \"work\"]"}),
            ScimType::InvalidFilter,
            "names \"tpye\", which is not a sub-attribute of \"emails\"",
        ),
        (
            json!({"op": "add", "path": "groups", "value": [{"value": "1"}]}),
            ScimType::Mutability,
            "\"groups\" is readOnly, so \"groups\" cannot be changed",
        ),
        (json!({"op": "replace", "path": "id", "value": "1"}), ScimType::Mutability, "\"id\" is readOnly"),
        (
            json!({"op": "replace", "path": "displayName", "value": "B"}),
            ScimType::Mutability,
            "\"displayName\" is readOnly",
        ),
        (
            json!({"op": "replace", "path": "name.formatted", "value": "B"}),
            ScimType::Mutability,
            "\"formatted\" is readOnly",
        ),
        (json!({"op": "remove", "path": "meta"}), ScimType::Mutability, "\"meta\" is readOnly"),
        (
            json!({"op": "replace", "path": format!("{EXTENSION_SCHEMA}:status"), "value": "ACTIVE"}),
            ScimType::Mutability,
            "\"status\" is readOnly",
        ),
        (
            json!({"op": "replace", "path": "active", "value": "maybe"}),
            ScimType::InvalidValue,
            "\"active\" is true or false, not \"maybe\"",
        ),
        (
            json!({"op": "add", "path": "emails", "value": [{"value": "x", "kind": "y"}]}),
            ScimType::InvalidValue,
            "\"emails\" has no sub-attribute \"kind\"",
        ),
        (
            json!({"op": "add", "value": {"nickName": "Babs"}}),
            ScimType::InvalidValue,
            "User has no attribute \"nickName\"",
        ),
        (
            json!({"op": "add", "value": {"locale": 5}}),
            ScimType::InvalidValue,
            "\"locale\" takes a string, not a number",
        ),
        (json!({"op": "remove", "path": "userName"}), ScimType::InvalidValue, "\"userName\" is required"),
        (
            json!({"op": "add", "path": "entitlements", "value": [{"display": "x"}]}),
            ScimType::InvalidValue,
            "every value of \"entitlements\" needs \"value\"",
        ),
        (json!({"op": "remove", "path": EXTENSION_SCHEMA}), ScimType::InvalidPath, "is a schema: only add or replace"),
        (
            json!({"op": "add", "value": {EXTENSION_SCHEMA: "x"}}),
            ScimType::InvalidValue,
            "takes an object of that schema's attributes",
        ),
    ];
    for (operation, scim_type, detail) in cases {
        let error = failure(user(), json!([operation.clone()]));
        assert_eq!((error.status, error.scim_type), (400, Some(scim_type)), "{operation}: {error}");
        assert!(error.detail.contains(detail), "{operation}:\n  got  {}\n  want {detail}", error.detail);
    }
    let error = failure(
        group(),
        json!([{"op": "replace", "path": format!("members[value eq \"{BABS}\"].display"), "value": "B"}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::Mutability), "{error}");
}

#[test]
fn a_failed_operation_leaves_the_resource_as_it_was() {
    let mut resource = user();
    let request = PatchRequest::parse(&request(json!([
        {"op": "replace", "path": "locale", "value": "fr_FR"},
        {"op": "remove", "path": "emails"},
        {"op": "replace", "path": "roles[value eq \"SUPER_USER\"]", "value": {"value": "x"}},
    ])))
    .unwrap();
    let error = request.apply(&mut resource, user_schema()).unwrap_err();
    assert!(error.detail.starts_with("operation 3 "), "{}", error.detail);
    assert_eq!(resource, user());
}

#[test]
fn a_resource_that_is_not_an_object_is_the_services_error() {
    let request = PatchRequest::parse(&request(json!([{"op": "remove", "path": "locale"}]))).unwrap();
    assert_eq!(request.apply(&mut json!([]), user_schema()).unwrap_err().status, 500);
}

#[test]
fn parsed_operations_keep_their_parts() {
    let parsed = PatchRequest::parse(&request(json!([
        {"op": "Remove", "path": format!("members[value eq \"{BABS}\"]"), "value": null},
        {"op": "add", "value": {"displayName": "G"}},
    ])))
    .unwrap();
    assert_eq!(parsed.operations.len(), 2);
    assert_eq!(parsed.operations[0].op, Op::Remove);
    assert_eq!(parsed.operations[0].value, None, "a remove's null value is no value");
    assert_eq!(parsed.operations[0].to_string(), format!("remove members[value eq \"{BABS}\"]"));
    assert_eq!(parsed.operations[1].path, None);
}
