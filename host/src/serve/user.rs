//! A GoTo account as a SCIM User (RFC 7643 §4.1), and a User a client wants as the
//! connector's writes.
//!
//! - `id` is the GoTo user key; `userName` and the one `emails` value are the login email,
//!   unless the profile's mapping computes the email (from `userName`, say): then `userName` is
//!   the client's own, kept in the state like `externalId`;
//! - `entitlements` are the account's licenses (value: license key), `roles` its admin roles
//!   (value: role name), `groups` its one group (read-only: members change through the Group);
//! - GoTo's status, products and group are in the extension [`EXTENSION_SCHEMA`], whose
//!   `groupKey` can also be written to move the user;
//! - `active` is whether the account holds a license: deactivating deprovisions it (every
//!   license, admin role and the group taken away; the account and its meeting history stay).

use std::collections::{BTreeMap, BTreeSet};

use gtm_scim::error::{ScimError, ScimType};
use gtm_scim::schema::{EXTENSION_SCHEMA, USER_SCHEMA};
use serde_json::{Map, Value, json};

use gtm_state::ScimAccount;

use crate::runtime::{
    Account, AccountChanges, AccountFields, AccountStatus, EntitlementKind, EntitlementRef, NewAccount, status_name,
};

/// License key → license name, for `entitlements.display`.
pub type LicenseNames = BTreeMap<String, String>;

/// `account` as a SCIM User, at `base` (the service's base URL), with what the state keeps of it.
pub fn to_scim(account: &Account, kept: &ScimAccount, base: &str, licenses: &LicenseNames) -> Value {
    let formatted = [account.first_name.as_deref(), account.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut name = Map::new();
    insert_some(&mut name, "givenName", account.first_name.as_deref());
    insert_some(&mut name, "familyName", account.last_name.as_deref());
    insert_some(&mut name, "formatted", Some(formatted.as_str()).filter(|f| !f.is_empty()));
    let entitlements: Vec<Value> = account
        .license_keys
        .iter()
        .map(|key| {
            let mut value = json!({"value": key, "type": "license"});
            if let Some(display) = licenses.get(key) {
                value["display"] = json!(display);
            }
            value
        })
        .collect();
    let roles: Vec<Value> =
        account.admin_roles.iter().map(|role| json!({"value": role, "display": role, "type": "admin-role"})).collect();
    let mut extension = Map::new();
    extension.insert("status".into(), json!(status_name(&account.status)));
    extension.insert("products".into(), json!(account.products));
    insert_some(&mut extension, "groupKey", account.group_key.as_deref());
    insert_some(&mut extension, "groupName", account.group_name.as_deref());

    let mut user = Map::new();
    user.insert("schemas".into(), json!([USER_SCHEMA, EXTENSION_SCHEMA]));
    user.insert("id".into(), json!(account.key));
    insert_some(&mut user, "externalId", kept.external_id.as_deref());
    user.insert("userName".into(), json!(kept.user_name.as_deref().unwrap_or(&account.email)));
    user.insert("name".into(), Value::Object(name));
    user.insert("displayName".into(), json!(if formatted.is_empty() { &account.email } else { &formatted }));
    user.insert("emails".into(), json!([{"value": account.email, "type": "work", "primary": true}]));
    insert_some(&mut user, "locale", account.locale.as_deref());
    insert_some(&mut user, "timezone", account.time_zone.as_deref());
    user.insert("active".into(), json!(is_active(account)));
    user.insert("entitlements".into(), Value::Array(entitlements));
    user.insert("roles".into(), Value::Array(roles));
    if let Some(group) = &account.group_key {
        let display = account.group_name.as_deref().unwrap_or(group);
        user.insert(
            "groups".into(),
            json!([{"value": group, "display": display, "$ref": format!("{base}/Groups/{group}"), "type": "direct"}]),
        );
    }
    user.insert(EXTENSION_SCHEMA.into(), Value::Object(extension));
    user.insert("meta".into(), json!({"resourceType": "User", "location": format!("{base}/Users/{}", account.key)}));
    Value::Object(user)
}

fn insert_some(object: &mut Map<String, Value>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        object.insert(name.into(), json!(value));
    }
}

/// A GoTo account is active while it holds a license: without one it cannot host meetings.
fn is_active(account: &Account) -> bool {
    matches!(account.status, AccountStatus::Active | AccountStatus::Invited) && !account.license_keys.is_empty()
}

/// What a SCIM User asks for, attribute by attribute; `None` where it says nothing.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Desired {
    pub user_name: Option<String>,
    /// The primary (else the first) of `emails`.
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub active: Option<bool>,
    pub licenses: Option<BTreeSet<String>>,
    pub roles: Option<BTreeSet<String>>,
    /// The extension's `groupKey`: `Some(None)` to leave every group.
    pub group: Option<Option<String>>,
    pub external_id: Option<String>,
}

impl Desired {
    /// Reads a User body (or a patched representation). Attribute names are matched
    /// case-insensitively, as RFC 7643 §2.1 says; values of the wrong type are `invalidValue`.
    pub fn read(user: &Value) -> Result<Desired, ScimError> {
        let user = user.as_object().ok_or_else(|| invalid_syntax("a User must be a JSON object"))?;
        let name = field(user, "name").map(|n| object(n, "name")).transpose()?;
        let primary_email = field(user, "emails").map(primary_email).transpose()?.flatten();
        let extension = field(user, EXTENSION_SCHEMA).map(|e| object(e, EXTENSION_SCHEMA)).transpose()?;
        Ok(Desired {
            user_name: text(user, "userName")?,
            email: primary_email,
            first_name: name.map(|n| text(n, "givenName")).transpose()?.flatten(),
            last_name: name.map(|n| text(n, "familyName")).transpose()?.flatten(),
            locale: text(user, "locale")?,
            time_zone: text(user, "timezone")?,
            active: field(user, "active").map(boolean).transpose()?,
            licenses: field(user, "entitlements").map(|v| values(v, "entitlements")).transpose()?,
            roles: field(user, "roles").map(|v| values(v, "roles")).transpose()?,
            group: extension.and_then(|e| field(e, "groupKey")).map(group_key).transpose()?,
            external_id: text(user, "externalId")?,
        })
    }

    /// Reads a whole representation (a User as patched), where access left out is access the
    /// User no longer has: PATCH removes an emptied attribute altogether.
    pub fn read_whole(user: &Value) -> Result<Desired, ScimError> {
        let mut desired = Desired::read(user)?;
        desired.licenses.get_or_insert_default();
        desired.roles.get_or_insert_default();
        desired.group.get_or_insert(None);
        Ok(desired)
    }

    /// The GoTo login email the User gives: its `userName`, else its email.
    fn login(&self) -> Option<String> {
        self.user_name.clone().or_else(|| self.email.clone())
    }

    /// What the state keeps of this User: its external id, and its user name where the
    /// mapping computes the email (`templated`), so the email is not the user name.
    pub fn kept(&self, templated: &BTreeSet<String>) -> ScimAccount {
        let user_name = self.user_name.clone().filter(|_| templated.contains("email"));
        ScimAccount { external_id: self.external_id.clone(), user_name }
    }

    /// The GoTo attributes given directly: those the profile's mapping does not compute.
    fn fields(&self, templated: &BTreeSet<String>) -> AccountFields {
        let direct = |attribute: &str, value: &Option<String>| value.clone().filter(|_| !templated.contains(attribute));
        AccountFields {
            email: direct("email", &self.login()),
            first_name: direct("first-name", &self.first_name),
            last_name: direct("last-name", &self.last_name),
            locale: direct("locale", &self.locale),
            time_zone: direct("time-zone", &self.time_zone),
        }
    }

    /// The User's attributes as identity attributes for the mapping's templates.
    fn identity(&self) -> Vec<(String, String)> {
        [
            ("userName", &self.user_name),
            ("email", &self.email.clone().or_else(|| self.user_name.clone())),
            ("givenName", &self.first_name),
            ("familyName", &self.last_name),
            ("locale", &self.locale),
            ("timezone", &self.time_zone),
            ("externalId", &self.external_id),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value.clone()?)))
        .collect()
    }

    /// The create for this User, with its licenses, roles and group.
    pub fn new_account(&self, templated: &BTreeSet<String>) -> Result<NewAccount, ScimError> {
        if self.user_name.is_none() && (self.email.is_none() || templated.contains("email")) {
            return Err(ScimError::bad_request(ScimType::InvalidValue, "userName (the GoTo login email) is required"));
        }
        if self.active == Some(false) && (self.licenses.iter().chain(&self.roles).any(|s| !s.is_empty())) {
            return Err(inactive_with_access());
        }
        Ok(NewAccount {
            fields: self.fields(templated),
            identity: if templated.is_empty() { Vec::new() } else { self.identity() },
            entitlements: self.access().collect(),
        })
    }

    /// Every entitlement this User asks for.
    fn access(&self) -> impl Iterator<Item = EntitlementRef> + '_ {
        let of = |kind: EntitlementKind| move |key: &String| EntitlementRef { kind, key: key.clone() };
        let licenses = self.licenses.iter().flatten().map(of(EntitlementKind::License));
        let roles = self.roles.iter().flatten().map(of(EntitlementKind::AdminRole));
        let group = self.group.iter().flatten().map(of(EntitlementKind::Group));
        licenses.chain(roles).chain(group)
    }
}

/// The connector's writes that take `current` to `desired`, in the order they run.
#[derive(Debug, Default)]
pub struct Plan {
    /// Attribute changes, if any.
    pub update: Option<AccountChanges>,
    pub grant: Vec<EntitlementRef>,
    pub revoke: Vec<EntitlementRef>,
    /// Deactivation: every license, role and the group go, the account stays.
    pub deprovision: bool,
}

impl Plan {
    /// What to write for `desired`, judged against `current` before anything is sent: a
    /// request that cannot be carried out whole is refused whole.
    pub fn new(current: &Account, desired: &Desired, templated: &BTreeSet<String>) -> Result<Plan, ScimError> {
        let mut plan = Plan::default();
        let wanted = desired.fields(templated);
        let differs = |want: &Option<String>, have: &Option<String>| want.is_some() && want != have;
        let fields = AccountFields {
            email: wanted.email.filter(|e| !e.eq_ignore_ascii_case(&current.email)),
            first_name: wanted.first_name.filter(|v| differs(&Some(v.clone()), &current.first_name)),
            last_name: wanted.last_name.filter(|v| differs(&Some(v.clone()), &current.last_name)),
            locale: wanted.locale.filter(|v| differs(&Some(v.clone()), &current.locale)),
            time_zone: wanted.time_zone.filter(|v| differs(&Some(v.clone()), &current.time_zone)),
        };
        let has_fields = [&fields.email, &fields.first_name, &fields.last_name, &fields.locale, &fields.time_zone]
            .iter()
            .any(|f| f.is_some());
        // With templates, the guest compares what they give with GoTo's values itself.
        let identity = if templated.is_empty() { Vec::new() } else { desired.identity() };
        if has_fields || !identity.is_empty() {
            plan.update = Some(AccountChanges { fields, identity });
        }
        let current_group: BTreeSet<String> = current.group_key.iter().cloned().collect();
        let diffs = [
            (EntitlementKind::License, &desired.licenses, current.license_keys.iter().cloned().collect()),
            (EntitlementKind::AdminRole, &desired.roles, current.admin_roles.iter().cloned().collect()),
            (EntitlementKind::Group, &desired.group.clone().map(|g| g.into_iter().collect()), current_group),
        ];
        for (kind, want, have) in diffs {
            let Some(want) = want else { continue };
            let have: BTreeSet<String> = have;
            let reference = |key: &String| EntitlementRef { kind, key: key.clone() };
            plan.grant.extend(want.difference(&have).map(reference));
            // A group grant moves the user: the old group needs no revoke of its own.
            if kind != EntitlementKind::Group || want.is_empty() {
                plan.revoke.extend(have.difference(want).map(reference));
            }
        }
        let active_now = is_active(current);
        match desired.active {
            Some(false) if active_now => {
                if !plan.grant.is_empty() {
                    return Err(inactive_with_access());
                }
                plan.deprovision = true;
                // Deprovisioning takes everything away: no revoke of its own is needed.
                plan.revoke.clear();
            }
            Some(true) if !active_now => {
                let licensed = desired.licenses.as_ref().is_some_and(|l| !l.is_empty());
                if !licensed {
                    return Err(ScimError::bad_request(
                        ScimType::InvalidValue,
                        "a GoTo account is active while it holds a license: add one in entitlements to activate it",
                    ));
                }
            }
            _ => {}
        }
        Ok(plan)
    }
}

fn inactive_with_access() -> ScimError {
    ScimError::bad_request(
        ScimType::InvalidValue,
        "an inactive GoTo account holds no licenses, roles or group: do not grant access with active false",
    )
}

fn invalid_syntax(detail: &str) -> ScimError {
    ScimError::bad_request(ScimType::InvalidSyntax, detail)
}

fn invalid_value(detail: String) -> ScimError {
    ScimError::bad_request(ScimType::InvalidValue, detail)
}

/// The member `name` of `object`, matched case-insensitively.
fn field<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value).filter(|v| !v.is_null())
}

fn object<'v>(value: &'v Value, name: &str) -> Result<&'v Map<String, Value>, ScimError> {
    value.as_object().ok_or_else(|| invalid_value(format!("{name} must be an object")))
}

/// A string attribute; blank is the same as absent.
fn text(object: &Map<String, Value>, name: &str) -> Result<Option<String>, ScimError> {
    match field(object, name) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid_value(format!("{name} must be a string, got {other}"))),
    }
}

/// A boolean; Entra sends `"True"` and `"False"` as strings.
fn boolean(value: &Value) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(invalid_value(format!("active must be true or false, got {other}"))),
    }
}

/// The `value`s of a multi-valued attribute (objects with a `value`, or bare strings).
fn values(list: &Value, name: &str) -> Result<BTreeSet<String>, ScimError> {
    let items = list.as_array().ok_or_else(|| invalid_value(format!("{name} must be a list")))?;
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            Value::Object(o) => match field(o, "value") {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                _ => Err(invalid_value(format!("each of {name} needs a string value"))),
            },
            other => Err(invalid_value(format!("{name} holds {other}, not a value"))),
        })
        .collect()
}

/// The primary email, else the first one.
fn primary_email(emails: &Value) -> Result<Option<String>, ScimError> {
    let list = emails.as_array().ok_or_else(|| invalid_value("emails must be a list".into()))?;
    let objects: Vec<&Map<String, Value>> = list.iter().filter_map(Value::as_object).collect();
    let primary = objects.iter().find(|e| field(e, "primary").and_then(|p| boolean(p).ok()) == Some(true));
    primary.or(objects.first()).map(|e| text(e, "value")).transpose().map(Option::flatten)
}

fn group_key(value: &Value) -> Result<Option<String>, ScimError> {
    match value {
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(invalid_value(format!("groupKey must be a group key, got {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            key: "11".into(),
            email: "ann@example.com".into(),
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            locale: Some("en_US".into()),
            time_zone: None,
            status: AccountStatus::Active,
            license_keys: vec!["100".into()],
            products: vec!["G2M".into()],
            group_key: Some("7".into()),
            group_name: Some("Sales".into()),
            admin_roles: vec!["MANAGE_USERS".into()],
            invited_date_ms: None,
            password_created: Some(true),
        }
    }

    /// Entitlement references as text, to compare (the bindings' types have no `PartialEq`).
    fn refs(list: &[EntitlementRef]) -> Vec<String> {
        list.iter().map(|r| format!("{:?}:{}", r.kind, r.key)).collect()
    }

    #[test]
    fn an_account_reads_back_as_the_user_it_is_with_nothing_to_write() {
        let names = LicenseNames::from([("100".into(), "Business".into())]);
        let kept = ScimAccount { external_id: Some("emp-1".into()), user_name: None };
        let user = to_scim(&account(), &kept, "http://x/scim/v2", &names);
        assert_eq!(user["userName"], "ann@example.com");
        assert_eq!(user["name"]["formatted"], "Ann Lee");
        assert_eq!(user["entitlements"][0], json!({"value": "100", "type": "license", "display": "Business"}));
        assert_eq!(user["groups"][0]["$ref"], "http://x/scim/v2/Groups/7");
        assert_eq!(user[EXTENSION_SCHEMA]["status"], "active");
        assert_eq!(user["active"], true);
        let desired = Desired::read(&user).unwrap();
        assert_eq!(desired.external_id.as_deref(), Some("emp-1"));
        let plan = Plan::new(&account(), &desired, &BTreeSet::new()).unwrap();
        assert!(plan.update.is_none() && plan.grant.is_empty() && plan.revoke.is_empty() && !plan.deprovision);
    }

    #[test]
    fn a_changed_user_becomes_an_update_grants_and_revokes() {
        let body = json!({
            "USERNAME": "ann@example.com",
            "name": {"givenName": "Anne"},
            "entitlements": [{"value": "200"}],
            "roles": ["MANAGE_USERS", "SUPER_USER"],
            EXTENSION_SCHEMA: {"groupKey": "8"},
        });
        let plan = Plan::new(&account(), &Desired::read(&body).unwrap(), &BTreeSet::new()).unwrap();
        let update = plan.update.unwrap();
        assert_eq!(update.fields.first_name.as_deref(), Some("Anne"));
        assert_eq!(update.fields.email, None, "unchanged");
        assert_eq!(
            refs(&plan.grant),
            ["EntitlementKind::License:200", "EntitlementKind::AdminRole:SUPER_USER", "EntitlementKind::Group:8"]
        );
        assert_eq!(refs(&plan.revoke), ["EntitlementKind::License:100"], "the group moves, it is not left");
        assert!(!plan.deprovision);
    }

    #[test]
    fn deactivation_deprovisions_and_refuses_to_grant_at_the_same_time() {
        let off = json!({"active": "False"});
        let plan = Plan::new(&account(), &Desired::read(&off).unwrap(), &BTreeSet::new()).unwrap();
        assert!(plan.deprovision);
        let both = json!({"active": false, "roles": ["SUPER_USER"]});
        let refused = Plan::new(&account(), &Desired::read(&both).unwrap(), &BTreeSet::new()).unwrap_err();
        assert_eq!((refused.status, refused.scim_type), (400, Some(ScimType::InvalidValue)));
    }

    #[test]
    fn activation_needs_a_license() {
        let mut suspended = account();
        suspended.status = AccountStatus::Suspended;
        suspended.license_keys.clear();
        let refused = Plan::new(&suspended, &Desired::read(&json!({"active": true})).unwrap(), &BTreeSet::new());
        assert!(refused.unwrap_err().detail.contains("holds a license"));
        let licensed = json!({"active": true, "entitlements": [{"value": "100"}]});
        let plan = Plan::new(&suspended, &Desired::read(&licensed).unwrap(), &BTreeSet::new()).unwrap();
        assert_eq!(refs(&plan.grant), ["EntitlementKind::License:100"]);
    }

    #[test]
    fn templated_attributes_come_from_the_mapping_not_the_user() {
        let templated = BTreeSet::from(["email".to_owned()]);
        let body = json!({"userName": "bo.ek", "name": {"givenName": "Bo", "familyName": "Ek"}});
        let desired = Desired::read(&body).unwrap();
        let create = desired.new_account(&templated).unwrap();
        assert_eq!(create.fields.email, None);
        assert_eq!(create.fields.first_name.as_deref(), Some("Bo"));
        assert!(create.identity.contains(&("userName".into(), "bo.ek".into())));
        assert_eq!(desired.kept(&templated).user_name.as_deref(), Some("bo.ek"), "the user name is the client's");
        assert_eq!(desired.kept(&BTreeSet::new()).user_name, None, "the user name is the email");
        let nameless = Desired::read(&json!({"name": {"givenName": "Bo"}})).unwrap();
        assert!(nameless.new_account(&templated).unwrap_err().detail.contains("userName"));
    }

    #[test]
    fn values_of_the_wrong_type_are_named() {
        for (body, says) in [
            (json!({"userName": 5}), "userName must be a string"),
            (json!({"active": "maybe"}), "active must be true or false"),
            (json!({"entitlements": "100"}), "entitlements must be a list"),
            (json!({"roles": [{"display": "x"}]}), "roles needs a string value"),
            (json!([1]), "must be a JSON object"),
        ] {
            let error = Desired::read(&body).unwrap_err();
            assert!(error.detail.contains(says), "{body}: {}", error.detail);
        }
    }
}
