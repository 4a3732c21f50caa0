//! The write operations: create, update and delete accounts, grant and revoke access.
//!
//! Each one reads what it needs, checks everything it can before writing (GoTo's rules, the
//! mapping's rules, that licenses, groups and roles exist, that a seat is free), then builds a
//! [`Plan`]. Granting what is held, revoking what is not, and deleting what is gone plan no
//! write at all, so a retried request never does harm.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::catalogue::Catalogue;
use crate::error::{conflict, invalid_input, not_found, transport};
use crate::filter;
use crate::goto::model::{Group, License, ListPage, User};
use crate::host::LogLevel;
use crate::keys::{self, Key};
use crate::mapping::Mapping;
use crate::plan::{Plan, Write};
use crate::retry;
use crate::session::Session;
use crate::settings::{EmptyLists, GroupMove, LicenseAssignment};
use crate::transport::Method;
use crate::types::{ConnectorError, EntitlementKind, EntitlementRef};
use crate::validate::{self, Attribute, Completeness};
use crate::wit::{
    AccountChanges, AccountFilter, DeleteMode, DeprovisionOptions, NewAccount, SeatImpact, WriteOptions, WriteOutcome,
};

/// Lookups by email right after GoTo reported a conflict; its filtered lists may lag behind
/// a create (reference §6.4, eventual consistency).
const LOOKUP_ATTEMPTS: u32 = 4;

/// Whether [`Provisioner::change_access`] grants or revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChange {
    Grant,
    Revoke,
}

/// The write operations on one GoTo account.
pub struct Provisioner<'s, 'a> {
    session: &'s Session<'a>,
    account: String,
    catalogue: Catalogue,
}

impl<'s, 'a> Provisioner<'s, 'a> {
    pub fn new(session: &'s Session<'a>) -> Result<Self, ConnectorError> {
        Ok(Provisioner { session, account: session.account_key()?.to_owned(), catalogue: Catalogue::default() })
    }

    pub fn create(
        &self,
        new: &NewAccount,
        mapping: &Mapping,
        options: WriteOptions,
    ) -> Result<WriteOutcome, ConnectorError> {
        let fields = mapping.resolve(self.session.host(), &new.fields, &new.identity)?;
        validate::account_fields(&fields, Completeness::New)?;
        mapping.check(self.session.host(), &fields, true)?;
        let access = Access::sorted(&new.entitlements)?;
        let email = fields.email.clone().unwrap_or_default();
        // A retried create finds the account it made the first time, before any seat is
        // counted against it.
        if let Some(existing) = self.find_by_email(&email)? {
            return Err(ConnectorError::AlreadyExists(existing));
        }
        let mut plan = Plan::for_account(None);
        for license in &access.licenses {
            plan.seat(self.seat_for_new_holder(license)?);
        }
        let group_name = access.group.as_deref().map(|g| self.group(g)).transpose()?.map(|g| g.name.clone());
        let mut user = Map::new();
        for attribute in Attribute::ALL {
            if let Some(value) = attribute.of(&fields) {
                user.insert(attribute.goto_name().to_owned(), json!(value));
            }
        }
        let mut body = json!({ "users": [user], "suppressEmail": self.session.settings.suppress_email });
        let send_empty = self.session.settings.empty_lists == EmptyLists::Send;
        for (field, list) in [("licenseKeys", &access.licenses), ("adminRoles", &access.roles)] {
            if send_empty || !list.is_empty() {
                body[field] = json!(list);
            }
        }
        if let Some(group) = &access.group {
            body["groupKey"] = json!(group);
        }
        let summary = format!(
            "create {email} with {} license(s), {} admin role(s){}",
            access.licenses.len(),
            access.roles.len(),
            group_name.map(|g| format!(", in group {g}")).unwrap_or_default()
        );
        // With allOrNothing=false a repeated POST cannot duplicate: the email is the key.
        let post = Write::new(Method::Post, self.users(), Some(body), summary)
            .with_query(&[("allOrNothing", "false")])
            .replayable();
        plan.write(post.clone());
        if options.dry_run {
            return Ok(plan.outcome());
        }
        let created = match post.send(self.session) {
            Ok(response) => serde_json::from_slice::<Vec<Created>>(&response.body).map_err(|e| {
                transport(format!("GoTo's answer to the create of {email} is not the expected JSON: {e}"))
            })?,
            // Should GoTo ignore allOrNothing=false, a conflict still means the email exists.
            Err(ConnectorError::Conflict(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        let key = created.into_iter().find(|c| c.email.eq_ignore_ascii_case(&email)).and_then(|c| c.key);
        match key {
            Some(key) => {
                plan.created(key.0);
                Ok(plan.outcome())
            }
            None => Err(ConnectorError::AlreadyExists(self.existing_after_conflict(&email)?)),
        }
    }

    pub fn update(
        &self,
        key: &str,
        changes: &AccountChanges,
        mapping: &Mapping,
        options: WriteOptions,
    ) -> Result<WriteOutcome, ConnectorError> {
        keys::validate("key", key)?;
        let fields = mapping.resolve(self.session.host(), &changes.fields, &changes.identity)?;
        validate::account_fields(&fields, Completeness::Partial)?;
        mapping.check(self.session.host(), &fields, false)?;
        if Attribute::ALL.iter().all(|a| a.of(&fields).is_none()) {
            return Err(invalid_input("changes", "nothing to change: give at least one attribute"));
        }
        let user = self.user(key)?;
        let mut body = Map::new();
        let mut changed = Vec::new();
        for attribute in Attribute::ALL {
            if let Some(value) = attribute.of(&fields)
                && current(&user, attribute) != Some(value.as_str())
            {
                body.insert(attribute.goto_name().to_owned(), json!(value));
                changed.push(attribute.name());
            }
        }
        let mut plan = Plan::for_account(Some(key));
        if !body.is_empty() {
            let summary = format!("set {} of {}", changed.join(", "), user.email);
            plan.write(
                Write::new(Method::Put, self.user_path(key), Some(Value::Object(body)), summary)
                    .with_query(&[("allOrNothing", "true")]),
            );
        }
        plan.carry_out(self.session, options).map_err(|e| match e {
            ConnectorError::Conflict(_) => conflict(
                "email",
                format!("{} is already the email of another GoTo account", fields.email.unwrap_or_default()),
            ),
            other => other,
        })
    }

    pub fn delete(&self, key: &str, mode: DeleteMode, options: WriteOptions) -> Result<WriteOutcome, ConnectorError> {
        keys::validate("key", key)?;
        let mut plan = Plan::for_account(Some(key));
        let user = match self.user(key) {
            Ok(user) => user,
            Err(ConnectorError::NotFound(_)) => return Ok(plan.outcome()),
            Err(e) => return Err(e),
        };
        let held: Vec<String> = user.license_keys.iter().map(|k| k.0.clone()).collect();
        for license in &held {
            if let Some(impact) = self.seat_for_leaving_holder(license) {
                plan.seat(impact);
            }
        }
        match mode {
            DeleteMode::Deprovision(keep) => {
                self.plan_deprovision(&user, &held, keep, &mut plan);
                plan.carry_out(self.session, options)
            }
            DeleteMode::HardDelete => {
                let summary = format!("delete {} from the account (GoTo erases their meeting history)", user.email);
                plan.write(Write::new(Method::Delete, self.user_path(key), None, summary));
                let planned = plan.outcome();
                match plan.carry_out(self.session, options) {
                    // Gone since it was read: deleted by a resent DELETE whose first answer was
                    // lost, or by someone else. Either way the account was there and is not now.
                    Err(ConnectorError::NotFound(_)) => Ok(planned),
                    other => other,
                }
            }
        }
    }

    /// Takes away every admin role, the group and every license, except what `keep` keeps,
    /// which the plan names. Roles go first: should a later call fail, the leaver has already
    /// lost the rights that matter most.
    fn plan_deprovision(&self, user: &User, licenses: &[String], keep: DeprovisionOptions, plan: &mut Plan) {
        // Custom role sets (reference §4.4, weak evidence) and the groups a user administers
        // (§6.4, set only at creation) change through calls this connector does not make: what
        // it cannot take away it names as kept.
        let unreachable = [
            ("custom role sets", EntitlementKind::AdminRole, "role-set", user.role_set_ids()),
            ("administration of groups", EntitlementKind::Group, "managed-group", user.managed_group_ids()),
        ];
        for (what, kind, prefix, ids) in unreachable {
            if ids.is_empty() {
                continue;
            }
            self.session.log(
                LogLevel::Warn,
                &format!("{} keeps GoTo {what} {}: remove them in GoTo's admin center", user.email, ids.join(", ")),
            );
            for id in ids {
                plan.keeps(EntitlementRef { kind, key: format!("{prefix}:{id}") });
            }
        }
        if keep.keep_roles {
            for role in &user.admin_roles {
                plan.keeps(EntitlementRef { kind: EntitlementKind::AdminRole, key: role.clone() });
            }
        } else if !user.admin_roles.is_empty() {
            let summary = format!("revoke every admin role ({}) from {}", user.admin_roles.join(", "), user.email);
            plan.write(self.set_roles(user, Vec::new(), &summary));
        }
        if let Some(group) = &user.group_key {
            if keep.keep_group {
                plan.keeps(EntitlementRef { kind: EntitlementKind::Group, key: group.0.clone() });
            } else {
                plan.write(self.leave_group(user));
            }
        }
        match self.session.settings.license_assignment {
            LicenseAssignment::UserUpdate if !licenses.is_empty() => {
                plan.write(self.set_licenses(user, &[], format!("remove every license from {}", user.email)))
            }
            LicenseAssignment::UserUpdate => {}
            LicenseAssignment::LicenseUsers => {
                for license in licenses {
                    plan.write(self.license_users(Method::Delete, license, user));
                }
            }
        }
    }

    /// Grants or revokes one entitlement; what already holds plans no write.
    pub fn change_access(
        &self,
        change: AccessChange,
        account_key: &str,
        entitlement: &EntitlementRef,
        options: WriteOptions,
    ) -> Result<WriteOutcome, ConnectorError> {
        keys::validate("account-key", account_key)?;
        validate::entitlement(entitlement)?;
        let user = self.user(account_key)?;
        let mut plan = Plan::for_account(Some(account_key));
        match change {
            AccessChange::Grant => self.plan_grant(&user, entitlement, &mut plan)?,
            AccessChange::Revoke => self.plan_revoke(&user, entitlement, &mut plan)?,
        }
        plan.carry_out(self.session, options)
    }

    fn plan_grant(&self, user: &User, entitlement: &EntitlementRef, plan: &mut Plan) -> Result<(), ConnectorError> {
        let key = entitlement.key.as_str();
        match entitlement.kind {
            EntitlementKind::License if !holds_license(user, key) => {
                plan.seat(self.seat_for_new_holder(key)?);
                plan.write(match self.session.settings.license_assignment {
                    LicenseAssignment::UserUpdate => {
                        let mut licenses: Vec<String> = user.license_keys.iter().map(|k| k.0.clone()).collect();
                        licenses.push(key.to_owned());
                        self.set_licenses(user, &licenses, format!("add {} to license {key}", user.email))
                    }
                    LicenseAssignment::LicenseUsers => self.license_users(Method::Post, key, user).replayable(),
                });
            }
            EntitlementKind::Group if user.group_key.as_ref().is_none_or(|g| g.0 != key) => {
                let group = self.group(key)?;
                let leaving = user.group_name.as_deref().map(|n| format!(", leaving {n}")).unwrap_or_default();
                if let Some(old) = &user.group_key {
                    plan.replaces(EntitlementRef { kind: EntitlementKind::Group, key: old.0.clone() });
                }
                let summary = format!("move {} into group {}{leaving}", user.email, group.name);
                if user.group_key.is_some() && self.session.settings.group_move == GroupMove::LeaveThenJoin {
                    plan.write(self.leave_group(user));
                }
                let path = format!("/accounts/{}/groups/{key}/users/{}", self.account, user.key.0);
                plan.write(Write::new(Method::Put, path, None, summary));
            }
            EntitlementKind::AdminRole if !user.admin_roles.iter().any(|r| r == key) => {
                let mut roles = user.admin_roles.clone();
                roles.push(key.to_owned());
                plan.write(self.set_roles(user, roles, &format!("grant {key} to {}", user.email)));
            }
            _ => {}
        }
        Ok(())
    }

    fn plan_revoke(&self, user: &User, entitlement: &EntitlementRef, plan: &mut Plan) -> Result<(), ConnectorError> {
        let key = entitlement.key.as_str();
        match entitlement.kind {
            EntitlementKind::License if holds_license(user, key) => {
                if let Some(impact) = self.seat_for_leaving_holder(key) {
                    plan.seat(impact);
                }
                plan.write(match self.session.settings.license_assignment {
                    LicenseAssignment::UserUpdate => {
                        let licenses: Vec<String> =
                            user.license_keys.iter().filter(|k| k.0 != key).map(|k| k.0.clone()).collect();
                        self.set_licenses(user, &licenses, format!("remove {} from license {key}", user.email))
                    }
                    LicenseAssignment::LicenseUsers => self.license_users(Method::Delete, key, user),
                });
            }
            EntitlementKind::Group if user.group_key.as_ref().is_some_and(|g| g.0 == key) => {
                plan.write(self.leave_group(user));
            }
            EntitlementKind::AdminRole if user.admin_roles.iter().any(|r| r == key) => {
                let roles = user.admin_roles.iter().filter(|r| *r != key).cloned().collect();
                plan.write(self.set_roles(user, roles, &format!("revoke {key} from {}", user.email)));
            }
            _ => {}
        }
        Ok(())
    }

    fn users(&self) -> String {
        format!("/accounts/{}/users", self.account)
    }

    fn user_path(&self, key: &str) -> String {
        format!("/accounts/{}/users/{key}", self.account)
    }

    /// Reads account `key`. The answer's key names the paths of the writes that follow, so an
    /// answer about another account stops the operation before anything is written.
    fn user(&self, key: &str) -> Result<User, ConnectorError> {
        let user: User =
            self.read(&self.user_path(key), "account", key, |message| not_found("account-key", message))?;
        if user.key.0 != key {
            return Err(transport(format!(
                "GoTo answered the read of account {key} with account {}; nothing was written",
                user.key.0
            )));
        }
        Ok(user)
    }

    fn license(&self, key: &str) -> Result<&License, ConnectorError> {
        self.catalogue.license(self.session, key)
    }

    fn group(&self, key: &str) -> Result<&Group, ConnectorError> {
        self.catalogue.group(self.session, key)
    }

    /// Reads the `what` with this key; a 404 becomes the error `absent` makes of a message
    /// saying it does not exist, so each caller names the input that was wrong.
    fn read<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
        key: &str,
        absent: impl FnOnce(String) -> ConnectorError,
    ) -> Result<T, ConnectorError> {
        self.session.get(path, &[]).map_err(|e| match e {
            ConnectorError::NotFound(_) => {
                absent(format!("{what} {key} does not exist in GoTo account {}", self.account))
            }
            other => other,
        })
    }

    /// The seat change of giving one more user a license, failing when none is free.
    fn seat_for_new_holder(&self, key: &str) -> Result<SeatImpact, ConnectorError> {
        let license = self.license(key)?;
        let used = used_seats(license);
        if let Some(seats) = license.seats
            && used >= seats
        {
            let name = license.description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
            return Err(invalid_input(
                "entitlement.key",
                format!("license {key}{name} has no free seat: {used} of {seats} in use"),
            ));
        }
        Ok(SeatImpact { license_key: key.to_owned(), used_before: used, used_after: used + 1, seats: license.seats })
    }

    /// The seat change of one user leaving a license; none if the license is gone or cannot be
    /// read. Only a report: taking access away must not wait on it, or a leaver whose license
    /// GoTo fails to show would keep every admin role.
    fn seat_for_leaving_holder(&self, key: &str) -> Option<SeatImpact> {
        match self.license(key) {
            Ok(license) => {
                let used = used_seats(license);
                Some(SeatImpact {
                    license_key: key.to_owned(),
                    used_before: used,
                    used_after: used.saturating_sub(1),
                    seats: license.seats,
                })
            }
            Err(ConnectorError::InvalidInput(_)) => None,
            Err(e) => {
                let why = e.message();
                self.session.log(LogLevel::Warn, &format!("seat impact on license {key} unknown: {why}"));
                None
            }
        }
    }

    /// Replaces the user's whole license list (the `user-update` assignment).
    fn set_licenses(&self, user: &User, licenses: &[String], summary: String) -> Write {
        Write::new(Method::Put, self.user_path(&user.key.0), Some(json!({ "licenseKeys": licenses })), summary)
    }

    fn license_users(&self, method: Method, license: &str, user: &User) -> Write {
        let (verb, preposition) = if method == Method::Post { ("add", "to") } else { ("remove", "from") };
        let summary = format!("{verb} {} {preposition} license {license}", user.email);
        let path = format!("/accounts/{}/licenses/{license}/users", self.account);
        Write::new(method, path, Some(json!({ "userKeys": [user.key.0] })), summary)
    }

    /// Takes the user out of their group; GoTo can only remove a user from every group at
    /// once, which is the user's one group.
    fn leave_group(&self, user: &User) -> Write {
        let name = user.group_name.as_deref().or(user.group_key.as_ref().map(|g| g.0.as_str())).unwrap_or_default();
        let summary = format!("remove {} from group {name}", user.email);
        let path = format!("/accounts/{}/users/{}/groups", self.account, user.key.0);
        Write::new(Method::Delete, path, None, summary)
    }

    fn set_roles(&self, user: &User, roles: Vec<String>, summary: &str) -> Write {
        Write::new(Method::Put, self.user_path(&user.key.0), Some(json!({ "adminRoles": roles })), summary.to_owned())
    }

    /// The key of the account with this email, if any.
    fn find_by_email(&self, email: &str) -> Result<Option<String>, ConnectorError> {
        let escaping = self.session.settings.filter_escaping;
        let filter = filter::account_filter(&AccountFilter::Email(email.to_owned()), escaping)?;
        let page: ListPage<User> = self.session.get(&self.users(), &[("filter", filter.as_str())])?;
        Ok(page.results.into_iter().find(|u| u.email.eq_ignore_ascii_case(email)).map(|u| u.key.0))
    }

    /// GoTo said the email exists; find whose it is, giving its lists time to catch up.
    fn existing_after_conflict(&self, email: &str) -> Result<String, ConnectorError> {
        for attempt in 1..=LOOKUP_ATTEMPTS {
            if let Some(key) = self.find_by_email(email)? {
                return Ok(key);
            }
            if attempt < LOOKUP_ATTEMPTS {
                let host = self.session.host();
                let wait = retry::backoff(host, Duration::from_millis(500), attempt);
                self.session.log(LogLevel::Info, &format!("{email} exists but is not listed yet; looking again"));
                host.sleep(wait);
            }
        }
        Err(conflict(
            "email",
            format!("GoTo reports {email} as taken, but no account in GoTo account {} has it", self.account),
        ))
    }
}

/// One entry of Add Users' answer; `key` is absent when the email already existed.
#[derive(Debug, serde::Deserialize)]
struct Created {
    key: Option<Key>,
    #[serde(default)]
    email: String,
}

/// The access a new account is created with, checked and without repeats.
struct Access {
    licenses: Vec<String>,
    roles: Vec<String>,
    group: Option<String>,
}

impl Access {
    fn sorted(entitlements: &[EntitlementRef]) -> Result<Access, ConnectorError> {
        let (mut licenses, mut roles, mut groups) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for e in entitlements {
            validate::entitlement(e)?;
            let set = match e.kind {
                EntitlementKind::License => &mut licenses,
                EntitlementKind::AdminRole => &mut roles,
                EntitlementKind::Group => &mut groups,
            };
            set.insert(e.key.clone());
        }
        if groups.len() > 1 {
            let list: Vec<String> = groups.into_iter().collect();
            return Err(invalid_input(
                "entitlements",
                format!("a GoTo user belongs to at most one group, got {}", list.join(", ")),
            ));
        }
        Ok(Access {
            licenses: licenses.into_iter().collect(),
            roles: roles.into_iter().collect(),
            group: groups.into_iter().next(),
        })
    }
}

fn holds_license(user: &User, key: &str) -> bool {
    user.license_keys.iter().any(|k| k.0 == key)
}

fn used_seats(license: &License) -> u32 {
    license.user_count.unwrap_or(license.user_keys.len() as u32)
}

fn current(user: &User, attribute: Attribute) -> Option<&str> {
    match attribute {
        Attribute::Email => Some(user.email.as_str()),
        Attribute::FirstName => user.first_name.as_deref(),
        Attribute::LastName => user.last_name.as_deref(),
        Attribute::Locale => user.locale.as_deref(),
        Attribute::TimeZone => user.time_zone.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeTransport, NO_FIELDS, json, signed_in_host};
    use crate::wit::AccountFields;

    fn new_account(entitlements: Vec<EntitlementRef>) -> NewAccount {
        let fields = AccountFields {
            email: Some("a@example.com".into()),
            first_name: Some("A".into()),
            last_name: Some("B".into()),
            ..NO_FIELDS
        };
        NewAccount { fields, identity: Vec::new(), entitlements }
    }

    fn create(http: &FakeTransport, account: &NewAccount, dry_run: bool) -> Result<WriteOutcome, ConnectorError> {
        let host = signed_in_host().with_setting("account-key", "9");
        let session = Session::new(&host, http).unwrap();
        Provisioner::new(&session).unwrap().create(account, &Mapping::default(), WriteOptions { dry_run })
    }

    const NOBODY: &str = r#"{"results":[],"total":0}"#;

    #[test]
    fn a_dry_run_create_reads_but_never_writes() {
        let http = FakeTransport::sequence(vec![
            json(200, NOBODY),
            json(200, r#"{"results":[{"key":"5","seats":3,"userCount":1,"userKeys":["1"]}],"total":1}"#),
        ]);
        let license = EntitlementRef { kind: EntitlementKind::License, key: "5".into() };
        let outcome = create(&http, &new_account(vec![license]), true).unwrap();
        assert!(outcome.changed);
        assert_eq!(outcome.calls[0].path, "/admin/rest/v1/accounts/9/users?allOrNothing=false");
        assert_eq!((outcome.seat_impact[0].used_before, outcome.seat_impact[0].used_after), (1, 2));
        let sent = http.requests();
        assert!(sent.iter().all(|r| r.method == Method::Get));
        assert!(sent[1].url.contains("/accounts/9/licenses?offset=0&pageSize=1000"), "{}", sent[1].url);
    }

    /// The license and group checks read the catalogue listings, once per call, never the
    /// single-object reads no public source documents.
    #[test]
    fn licenses_and_groups_are_looked_up_in_their_listings_once() {
        let licenses = r#"{"results":[{"key":"5","seats":9,"userCount":1},{"key":"6","seats":9}],"total":2}"#;
        let http = FakeTransport::sequence(vec![
            json(200, NOBODY),
            json(200, licenses),
            json(200, r#"{"results":[{"key":"30","name":"Sales"}],"total":1}"#),
        ]);
        let license = |k: &str| EntitlementRef { kind: EntitlementKind::License, key: k.into() };
        let group = EntitlementRef { kind: EntitlementKind::Group, key: "30".into() };
        let outcome = create(&http, &new_account(vec![license("5"), license("6"), group]), true).unwrap();
        assert_eq!(outcome.seat_impact.len(), 2);
        assert!(outcome.calls[0].summary.contains("in group Sales"), "{}", outcome.calls[0].summary);
        assert_eq!(http.requests().len(), 3);

        let http = FakeTransport::sequence(vec![json(200, NOBODY), json(200, licenses)]);
        match create(&http, &new_account(vec![license("404")]), true) {
            Err(ConnectorError::InvalidInput(e)) => {
                assert_eq!(e.field.as_deref(), Some("entitlement.key"));
                assert!(e.message.contains("license 404 does not exist"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_create_answered_without_a_key_is_already_exists_with_the_key_found() {
        let http = FakeTransport::sequence(vec![
            json(200, NOBODY),
            json(200, r#"[{"email":"a@example.com"}]"#),
            json(200, NOBODY),
            json(200, r#"{"results":[{"key":"77","email":"A@example.com"}],"total":1}"#),
        ]);
        match create(&http, &new_account(Vec::new()), false) {
            Err(ConnectorError::AlreadyExists(key)) => assert_eq!(key, "77"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn two_groups_are_refused_before_any_request() {
        let http = FakeTransport::sequence(Vec::new());
        let group = |k: &str| EntitlementRef { kind: EntitlementKind::Group, key: k.into() };
        match create(&http, &new_account(vec![group("1"), group("2")]), false) {
            Err(ConnectorError::InvalidInput(e)) => assert_eq!(e.field.as_deref(), Some("entitlements")),
            other => panic!("{other:?}"),
        }
        assert!(http.requests().is_empty());
    }
}
