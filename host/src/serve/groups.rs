//! `/Groups`: GoTo's user groups (RFC 7643 §4.2). `members` are the users whose group it is;
//! GoTo puts a user in at most one group, so adding a member moves the user out of any other.
//! A group is created, renamed and deleted through the component, like every other write.

use std::collections::{BTreeMap, BTreeSet};

use gtm_scim::error::{ScimError, ScimType};
use gtm_scim::filter::matches;
use gtm_scim::patch::PatchRequest;
use gtm_scim::path::AttrPath;
use gtm_scim::projection::project;
use gtm_scim::query::{ListQuery, list_response};
use gtm_scim::schema::{GROUP_SCHEMA, group_schema};
use serde_json::{Value, json};

use super::failure::Failure;
use super::{Shared, listing, lock, no_such};
use crate::runtime::{AccessChange, Connection, Entitlement, EntitlementKind, EntitlementRef, WriteOptions};

const WRITE: WriteOptions = WriteOptions { dry_run: false };

/// A group's members: user key and `userName`.
type Members = BTreeMap<String, Vec<(String, String)>>;

/// GET /Groups: the catalogue, filtered and paged here (GoTo cannot filter it), with members
/// unless the client leaves them out.
pub fn list(conn: &mut Connection, shared: &Shared, query: &ListQuery) -> Result<Value, Failure> {
    let groups = catalogue(conn)?;
    let members = if wants_members(query) { Some(members(conn, shared)?) } else { None };
    let mut selected = Vec::new();
    for group in &groups {
        let scim = to_scim(shared, group, members.as_ref())?;
        if query.filter.as_ref().is_none_or(|f| matches(f, &scim)) {
            selected.push(scim);
        }
    }
    let total = selected.len() as u64;
    let skip = usize::try_from(query.start_index - 1).unwrap_or(usize::MAX);
    let count = query.count.map_or(usize::MAX, |c| c as usize);
    let page = selected.iter().skip(skip).take(count);
    let resources = page.map(|g| project(g, group_schema(), &query.attributes, &query.excluded_attributes)).collect();
    Ok(list_response(total, query.start_index, resources))
}

/// GET /Groups/{id}.
pub fn get(conn: &mut Connection, shared: &Shared, id: &str, query: &ListQuery) -> Result<Value, Failure> {
    let group = find(conn, id)?;
    let members = if wants_members(query) { Some(members(conn, shared)?) } else { None };
    Ok(project(
        &to_scim(shared, &group, members.as_ref())?,
        group_schema(),
        &query.attributes,
        &query.excluded_attributes,
    ))
}

/// POST /Groups: creates the group, then moves the members it names into it. A name in use is
/// `uniqueness` (409).
pub fn create(conn: &mut Connection, shared: &Shared, body: &Value) -> Result<Value, Failure> {
    let name = display_name(body)?;
    let outcome = conn.create_group(&name, WRITE)?;
    let key = outcome.group_key.ok_or_else(|| ScimError::new(502, None, "GoTo gave the new group no key"))?;
    let group = find(conn, &key)?;
    let before = to_scim(shared, &group, Some(&Members::new()))?;
    let mut after = before.clone();
    after["members"] = body.get("members").cloned().unwrap_or(json!([]));
    after["externalId"] = body.get("externalId").cloned().unwrap_or(Value::Null);
    write_group(conn, shared, &group, &before, &after)?;
    get(conn, shared, &key, &ListQuery::from_pairs(Vec::new(), 1)?)
}

/// DELETE /Groups/{id}: deletes the group in GoTo; its members are left without a group.
pub fn delete(conn: &mut Connection, id: &str) -> Result<(), Failure> {
    let group = find(conn, id)?;
    conn.delete_group(&group.id.key, WRITE)?;
    Ok(())
}

/// The `displayName` a Group body gives, which must be there.
fn display_name(body: &Value) -> Result<String, ScimError> {
    match body.get("displayName") {
        Some(Value::String(name)) if !name.trim().is_empty() => Ok(name.clone()),
        _ => Err(ScimError::bad_request(ScimType::InvalidValue, "a Group needs a displayName, GoTo's group name")),
    }
}

/// PATCH /Groups/{id}: member changes, as grants of the group (a move) and revokes, and a
/// rename. Answered with 204, since the members of a group cost a read of every user.
pub fn patch(conn: &mut Connection, shared: &Shared, id: &str, body: &Value) -> Result<(), Failure> {
    let request = PatchRequest::parse(body)?;
    let group = find(conn, id)?;
    let before = to_scim(shared, &group, Some(&members(conn, shared)?))?;
    let mut after = before.clone();
    request.apply(&mut after, group_schema())?;
    write_group(conn, shared, &group, &before, &after)
}

/// PUT /Groups/{id}: the body's members become the group's.
pub fn replace(conn: &mut Connection, shared: &Shared, id: &str, body: &Value) -> Result<Value, Failure> {
    let group = find(conn, id)?;
    let all = members(conn, shared)?;
    let before = to_scim(shared, &group, Some(&all))?;
    let mut after = body.clone();
    if after.get("members").is_none() {
        after["members"] = json!([]);
    }
    if after.get("displayName").is_none() {
        after["displayName"] = before["displayName"].clone();
    }
    write_group(conn, shared, &group, &before, &after)?;
    get(conn, shared, id, &ListQuery::from_pairs(Vec::new(), 1)?)
}

/// The rename, grants and revokes that take the group from `before` to `after`, and its
/// external id kept.
fn write_group(
    conn: &mut Connection,
    shared: &Shared,
    group: &Entitlement,
    before: &Value,
    after: &Value,
) -> Result<(), Failure> {
    if !same_name(&before["displayName"], &after["displayName"]) {
        conn.rename_group(&group.id.key, &display_name(after)?, WRITE)?;
    }
    let (had, has) = (member_keys(before)?, member_keys(after)?);
    let reference = EntitlementRef { kind: EntitlementKind::Group, key: group.id.key.clone() };
    for user in has.difference(&had) {
        conn.change_access(AccessChange::Grant, user, &reference, WRITE)?;
    }
    for user in had.difference(&has) {
        conn.change_access(AccessChange::Revoke, user, &reference, WRITE)?;
    }
    let external_id = after.get("externalId").and_then(Value::as_str).filter(|id| !id.is_empty());
    Ok(lock(&shared.state).set_group_external_id(&group.id.key, external_id)?)
}

fn same_name(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

fn member_keys(group: &Value) -> Result<BTreeSet<String>, ScimError> {
    let Some(members) = group.get("members").filter(|m| !m.is_null()) else { return Ok(BTreeSet::new()) };
    let members =
        members.as_array().ok_or_else(|| ScimError::bad_request(ScimType::InvalidValue, "members must be a list"))?;
    members
        .iter()
        .map(|m| match m.get("value") {
            Some(Value::String(key)) => Ok(key.clone()),
            _ => Err(ScimError::bad_request(ScimType::InvalidValue, "each member needs the user's id as its value")),
        })
        .collect()
}

/// Whether the answer includes members (costly: every user is read).
fn wants_members(query: &ListQuery) -> bool {
    let members = |paths: &[AttrPath]| paths.iter().any(|p| p.attr.eq_ignore_ascii_case("members"));
    !members(&query.excluded_attributes) && (query.attributes.is_empty() || members(&query.attributes))
}

/// The group catalogue.
fn catalogue(conn: &mut Connection) -> Result<Vec<Entitlement>, Failure> {
    listing::entitlements(conn, EntitlementKind::Group)
}

fn find(conn: &mut Connection, id: &str) -> Result<Entitlement, Failure> {
    catalogue(conn)?.into_iter().find(|g| g.id.key == id).ok_or_else(|| no_such("Group", id))
}

/// Every group's members, from one read of every user; users the client deleted are left out.
fn members(conn: &mut Connection, shared: &Shared) -> Result<Members, Failure> {
    let deleted = shared.deleted()?;
    let mut members = Members::new();
    listing::each_account(
        conn,
        None,
        |_| Ok(()),
        |account| {
            if let Some(group) = account.group_key.clone().filter(|_| !deleted.contains(&account.key)) {
                let user_name = shared.user_name(&account)?;
                members.entry(group).or_default().push((account.key, user_name));
            }
            Ok(())
        },
    )?;
    Ok(members)
}

/// `group` as a SCIM Group, with the external id the state keeps; `members` none when they
/// were not read.
fn to_scim(shared: &Shared, group: &Entitlement, members: Option<&Members>) -> Result<Value, Failure> {
    let external_id = lock(&shared.state).group_external_id(&group.id.key)?;
    Ok(super::versioned(group_resource(group, external_id, members, &shared.base)))
}

fn group_resource(group: &Entitlement, external_id: Option<String>, members: Option<&Members>, base: &str) -> Value {
    let key = &group.id.key;
    let mut scim = json!({
        "schemas": [GROUP_SCHEMA],
        "id": key,
        "displayName": group.name,
        "meta": {"resourceType": "Group", "location": format!("{base}/Groups/{key}")},
    });
    if let Some(id) = external_id {
        scim["externalId"] = json!(id);
    }
    if let Some(members) = members {
        let list: Vec<Value> = members
            .get(key)
            .into_iter()
            .flatten()
            .map(|(user, name)| json!({"value": user, "display": name, "type": "User", "$ref": format!("{base}/Users/{user}")}))
            .collect();
        scim["members"] = Value::Array(list);
    }
    scim
}
