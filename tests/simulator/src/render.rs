//! Wire shapes of users, groups, licenses and list envelopes. Empty optional fields are omitted,
//! never `null` or `[]` (quirk 2); keys are strings or bare numbers per the `numeric_keys` knob.

use serde_json::{Map, Value, json};

use crate::config::Knobs;
use crate::keys::{key_json, keys_json};
use crate::world::{Group, License, User};

/// Per-response rendering options.
#[derive(Clone, Copy)]
pub(crate) struct Style {
    pub numeric_keys: bool,
}

impl Style {
    pub fn of(knobs: &Knobs) -> Self {
        Style { numeric_keys: knobs.numeric_keys }
    }

    pub fn key(self, key: &str) -> Value {
        key_json(key, self.numeric_keys)
    }
}

/// Inserts `value` unless the list is empty.
fn put_list(map: &mut Map<String, Value>, name: &str, value: Value) {
    if value.as_array().is_some_and(|a| !a.is_empty()) {
        map.insert(name.to_owned(), value);
    }
}

fn strings(list: &[String]) -> Value {
    json!(list)
}

/// A user object (reference §4.1).
pub(crate) fn user(u: &User, style: Style) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("key".into(), style.key(&u.key));
    m.insert("email".into(), json!(u.email));
    m.insert("firstName".into(), json!(u.first_name));
    m.insert("lastName".into(), json!(u.last_name));
    m.insert("locale".into(), json!(u.locale));
    m.insert("timeZone".into(), json!(u.time_zone));
    put_list(&mut m, "licenseKeys", keys_json(&u.license_keys, style.numeric_keys));
    put_list(&mut m, "products", strings(&u.products));
    if let Some(group) = &u.group_key {
        m.insert("groupKey".into(), style.key(group));
    }
    if let Some(name) = &u.group_name {
        m.insert("groupName".into(), json!(name));
    }
    put_list(&mut m, "groupKeyPath", keys_json(&u.group_key_path, style.numeric_keys));
    put_list(&mut m, "groupNamePath", strings(&u.group_name_path));
    put_list(&mut m, "adminRoles", strings(&u.admin_roles));
    put_list(&mut m, "roleSets", strings(&u.role_sets));
    if !u.products.is_empty() {
        m.insert("settings".into(), settings(&u.products));
    }
    m.insert("passwordCreated".into(), json!(u.password_created));
    if let Some(date) = u.invited_date {
        m.insert("invitedDate".into(), json!(date));
    }
    m.insert("nameLocked".into(), json!(u.name_locked));
    m.insert("emailLocked".into(), json!(u.email_locked));
    m.insert("identityReadOnly".into(), json!(u.identity_read_only));
    m.insert("canAuthenticate".into(), json!(u.can_authenticate));
    m.insert("status".into(), json!(u.status.as_str()));
    m.insert("inviteCount".into(), json!(u.invite_count));
    m
}

/// Per-product settings, much shortened from the real blobs.
fn settings(products: &[String]) -> Value {
    let per_product = json!({"attendeeListEnabled": true, "chatEnabled": true, "recordingEnabled": false});
    Value::Object(products.iter().map(|p| (p.clone(), per_product.clone())).collect())
}

/// A group object (reference §4.2).
pub(crate) fn group(g: &Group, style: Style) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("key".into(), style.key(&g.key));
    m.insert("name".into(), json!(g.name));
    m.insert("keyPath".into(), keys_json(&g.key_path, style.numeric_keys));
    m.insert("namePath".into(), strings(&g.name_path));
    put_list(&mut m, "userKeys", keys_json(&g.user_keys, style.numeric_keys));
    m.insert("memberCount".into(), json!(g.member_count));
    m.insert("totalMemberCount".into(), json!(g.total_member_count));
    m
}

/// A license object (reference §4.3).
pub(crate) fn license(l: &License, style: Style) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("key".into(), style.key(&l.key));
    m.insert("description".into(), json!(l.description));
    m.insert("type".into(), json!(l.license_type));
    m.insert("channel".into(), json!(l.channel));
    m.insert("enabled".into(), json!(l.enabled));
    m.insert("seats".into(), json!(l.seats));
    m.insert("userCount".into(), json!(l.user_count));
    put_list(&mut m, "products", strings(&l.products));
    put_list(&mut m, "userKeys", keys_json(&l.user_keys, style.numeric_keys));
    m
}

/// Keeps `key` plus the requested attributes (`attributes=` / `attributeNames=`).
pub(crate) fn project(mut m: Map<String, Value>, attributes: Option<&[String]>) -> Value {
    if let Some(keep) = attributes {
        m.retain(|name, _| name == "key" || keep.iter().any(|k| k == name));
    }
    Value::Object(m)
}

/// The list envelope (quirk 3): `toIndex` is exclusive, `total` counts every match.
pub(crate) fn page(results: Vec<Value>, offset: usize, total: usize) -> Value {
    let to = offset + results.len();
    json!({"results": results, "fromIndex": offset, "toIndex": to, "total": total})
}
