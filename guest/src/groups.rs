//! The group writes: create, rename and delete GoTo groups (reference §6.7).
//!
//! Each reads the group catalogue first, from its listing as the other writes do (reference
//! §11), so that a name in use is reported with its group's key, an unchanged name or an absent
//! group plans no write, and a dry run knows what it would do. Names are unique in an account;
//! the connector compares them without regard to case, as the simulator does, so that it never
//! creates a second `Sales` beside `sales` should GoTo allow it.

use serde_json::json;

use crate::catalogue::Catalogue;
use crate::error::{conflict, excerpt, not_found, transport};
use crate::goto::model::Group;
use crate::keys::{self, Key};
use crate::plan::{Plan, Write};
use crate::session::Session;
use crate::transport::Method;
use crate::types::ConnectorError;
use crate::validate;
use crate::wit::{GroupOutcome, WriteOptions};

/// The group writes on one GoTo account. Each checks its input before anything is sent, the
/// account key's discovery included.
pub struct GroupWriter<'s, 'a> {
    session: &'s Session<'a>,
    catalogue: Catalogue,
}

impl<'s, 'a> GroupWriter<'s, 'a> {
    pub fn new(session: &'s Session<'a>) -> Self {
        GroupWriter { session, catalogue: Catalogue::default() }
    }

    pub fn create(&self, name: &str, options: WriteOptions) -> Result<GroupOutcome, ConnectorError> {
        let name = validate::group_name(name)?;
        let account = self.session.account_key()?;
        // A retried create finds the group it made the first time.
        if let Some(existing) = named(self.catalogue.groups(self.session)?, name) {
            return Err(ConnectorError::AlreadyExists(existing.key.0.clone()));
        }
        let mut plan = Plan::for_group(None);
        // Not replayable: should a first POST have succeeded unseen, a resent one would be
        // refused as a conflict, and the caller's retry links to the group instead.
        let body = Some(json!({ "name": name }));
        let post =
            Write::new(Method::Post, format!("/accounts/{account}/groups"), body, format!("create group {name}"));
        plan.write(post.clone());
        if options.dry_run {
            return Ok(plan.group_outcome());
        }
        match post.send(self.session) {
            Ok(response) => {
                plan.created(created_key(&response.body, name)?);
                Ok(plan.group_outcome())
            }
            Err(ConnectorError::Conflict(_)) => Err(match self.holder_now(name)? {
                Some(existing) => ConnectorError::AlreadyExists(existing),
                None => conflict(
                    "name",
                    format!(
                        "GoTo reports the group name {name} as taken, but no group in GoTo account {account} has it"
                    ),
                ),
            }),
            Err(e) => Err(e),
        }
    }

    pub fn rename(&self, key: &str, name: &str, options: WriteOptions) -> Result<GroupOutcome, ConnectorError> {
        keys::validate("key", key)?;
        let name = validate::group_name(name)?;
        let account = self.session.account_key()?;
        let groups = self.catalogue.groups(self.session)?;
        let group = by_key(groups, key)
            .ok_or_else(|| not_found("key", format!("group {key} does not exist in GoTo account {account}")))?;
        let mut plan = Plan::for_group(Some(key));
        if group.name != name {
            if let Some(other) = named(groups, name).filter(|g| g.key.0 != key) {
                return Err(name_in_use(name, &other.key.0));
            }
            // GoTo refuses a rename whose body carries `key` (reference §6.7).
            let summary = format!("rename group {} to {name}", group.name);
            plan.write(Write::new(Method::Put, group_path(account, key), Some(json!({ "name": name })), summary));
        }
        match plan.send(self.session, options) {
            Ok(()) => Ok(plan.group_outcome()),
            Err(ConnectorError::Conflict(_)) => Err(match self.holder_now(name)? {
                Some(other) => name_in_use(name, &other),
                None => conflict("name", format!("GoTo refused to rename group {key} to {name}: the name is taken")),
            }),
            Err(e) => Err(e),
        }
    }

    pub fn delete(&self, key: &str, options: WriteOptions) -> Result<GroupOutcome, ConnectorError> {
        keys::validate("key", key)?;
        let account = self.session.account_key()?;
        let mut plan = Plan::for_group(Some(key));
        let Some(group) = by_key(self.catalogue.groups(self.session)?, key) else {
            return Ok(plan.group_outcome());
        };
        let members = group.member_count.unwrap_or(group.user_keys.len() as u32);
        let summary = format!("delete group {} ({members} direct member(s) leave it)", group.name);
        plan.write(Write::new(Method::Delete, group_path(account, key), None, summary));
        match plan.send(self.session, options) {
            // Gone since it was read: deleted by a resent DELETE whose first answer was lost, or
            // by someone else. Either way the group was there and is not now.
            Ok(()) | Err(ConnectorError::NotFound(_)) => Ok(plan.group_outcome()),
            Err(e) => Err(e),
        }
    }

    /// The key of the group named `name` as GoTo lists the groups now, after it refused a
    /// name this call's first read did not show taken.
    fn holder_now(&self, name: &str) -> Result<Option<String>, ConnectorError> {
        let now = Catalogue::default();
        Ok(named(now.groups(self.session)?, name).map(|g| g.key.0.clone()))
    }
}

fn group_path(account: &str, key: &str) -> String {
    format!("/accounts/{account}/groups/{key}")
}

fn name_in_use(name: &str, other: &str) -> ConnectorError {
    conflict("name", format!("group {other} is already named {name}"))
}

fn by_key<'g>(groups: &'g [Group], key: &str) -> Option<&'g Group> {
    groups.iter().find(|g| g.key.0 == key)
}

/// The group with this name, compared without regard to case.
fn named<'g>(groups: &'g [Group], name: &str) -> Option<&'g Group> {
    let wanted = name.to_lowercase();
    groups.iter().find(|g| g.name.trim().to_lowercase() == wanted)
}

/// The key in GoTo's answer to a create: a bare key, a JSON number (read digit for digit, even
/// past 20 digits) or a string.
fn created_key(body: &[u8], name: &str) -> Result<String, ConnectorError> {
    serde_json::from_slice::<Key>(body).map(String::from).map_err(|e| {
        transport(format!(
            "GoTo's answer to the create of group {name} is not the new group's key ({e}): \"{}\"; the group may \
             exist now, and a retried create names its key",
            excerpt(body)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeHost, FakeTransport, json, signed_in_host};
    use crate::transport::HttpResponse;

    const GROUPS: &str =
        r#"{"results":[{"key":"30","name":"Sales","memberCount":2},{"key":"31","name":"Ops"}],"total":2}"#;
    const WRITE: WriteOptions = WriteOptions { dry_run: false };
    const DRY_RUN: WriteOptions = WriteOptions { dry_run: true };

    type Sent = Vec<crate::transport::HttpRequest>;

    /// Runs `write` on account 9 against `responses`; returns its result and what was sent.
    fn run(
        responses: Vec<HttpResponse>,
        write: impl FnOnce(&GroupWriter) -> Result<GroupOutcome, ConnectorError>,
    ) -> (Result<GroupOutcome, ConnectorError>, Sent) {
        run_on(signed_in_host().with_setting("account-key", "9"), responses, write)
    }

    fn run_on(
        host: FakeHost,
        responses: Vec<HttpResponse>,
        write: impl FnOnce(&GroupWriter) -> Result<GroupOutcome, ConnectorError>,
    ) -> (Result<GroupOutcome, ConnectorError>, Sent) {
        let http = FakeTransport::sequence(responses);
        let session = Session::new(&host, &http).unwrap();
        let result = write(&GroupWriter::new(&session));
        (result, http.requests())
    }

    fn body(request: &crate::transport::HttpRequest) -> serde_json::Value {
        serde_json::from_slice(request.body.as_deref().unwrap_or_default()).unwrap()
    }

    #[track_caller]
    fn error_field(result: Result<GroupOutcome, ConnectorError>) -> (String, String) {
        match result {
            Err(ConnectorError::InvalidInput(e) | ConnectorError::Conflict(e) | ConnectorError::NotFound(e)) => {
                (e.field.unwrap_or_default(), e.message)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_create_posts_the_trimmed_name_and_reads_a_long_bare_key_exactly() {
        let (result, sent) =
            run(vec![json(200, GROUPS), json(200, "78888886011013972886849029")], |w| w.create(" Finance ", WRITE));
        let outcome = result.unwrap();
        assert_eq!(outcome.group_key.as_deref(), Some("78888886011013972886849029"));
        assert!(outcome.changed);
        assert_eq!(
            (sent[1].method, sent[1].url.as_str()),
            (Method::Post, "https://api.getgo.com/admin/rest/v1/accounts/9/groups")
        );
        assert_eq!(body(&sent[1]), json!({ "name": "Finance" }));
        assert_eq!(outcome.calls[0].summary, "create group Finance");

        let (result, _) =
            run(vec![json(200, GROUPS), json(201, r#""6425660710035235342""#)], |w| w.create("HR", WRITE));
        assert_eq!(result.unwrap().group_key.as_deref(), Some("6425660710035235342"), "a key sent as a string");
    }

    #[test]
    fn a_dry_run_create_reads_the_catalogue_and_plans_the_post_without_a_key() {
        let (result, sent) = run(vec![json(200, GROUPS)], |w| w.create("Finance", DRY_RUN));
        let outcome = result.unwrap();
        assert_eq!((outcome.group_key, outcome.changed), (None, true));
        assert_eq!(outcome.calls[0].method, "POST");
        assert_eq!(outcome.calls[0].path, "/admin/rest/v1/accounts/9/groups");
        assert_eq!(sent.len(), 1);
        assert!(sent[0].url.ends_with("/accounts/9/groups?offset=0&pageSize=1000"), "{}", sent[0].url);
    }

    #[test]
    fn a_name_in_use_is_already_exists_with_its_groups_key() {
        let (result, sent) = run(vec![json(200, GROUPS)], |w| w.create("sales", WRITE));
        assert_eq!(result.unwrap_err(), ConnectorError::AlreadyExists("30".into()), "compared without case");
        assert_eq!(sent.len(), 1, "nothing posted");

        // Created by someone else between the read and the POST: GoTo's 409, then a fresh read.
        let conflict = json(409, r#"{"errors":[{"code":"group.name.conflict","value":"Finance"}]}"#);
        let now = r#"{"results":[{"key":"30","name":"Sales"},{"key":"44","name":"FINANCE"}],"total":2}"#;
        let (result, sent) =
            run(vec![json(200, GROUPS), conflict.clone(), json(200, now)], |w| w.create("Finance", WRITE));
        assert_eq!(result.unwrap_err(), ConnectorError::AlreadyExists("44".into()));
        assert_eq!(sent.len(), 3);

        let (result, _) = run(vec![json(200, GROUPS), conflict, json(200, GROUPS)], |w| w.create("Finance", WRITE));
        let (field, message) = error_field(result);
        assert_eq!(field, "name");
        assert!(message.contains("no group in GoTo account 9 has it"), "{message}");
    }

    #[test]
    fn an_answer_that_is_not_a_key_is_a_transport_error_saying_the_group_may_exist() {
        for answer in ["", r#"{"key":"1"}"#, r#""../1""#, "1e5"] {
            let (result, _) = run(vec![json(200, GROUPS), json(200, answer)], |w| w.create("Finance", WRITE));
            match result {
                Err(ConnectorError::Transport(e)) => {
                    assert!(e.message.contains("may exist now"), "{answer}: {}", e.message)
                }
                other => panic!("{answer}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_names_and_keys_are_refused_before_any_request_even_the_account_keys_discovery() {
        let long = "n".repeat(129);
        for (write, field) in [
            (Box::new(|w: &GroupWriter| w.create("  ", WRITE)) as Box<dyn Fn(&GroupWriter) -> _>, "name"),
            (Box::new(|w: &GroupWriter| w.create(&long, WRITE)), "name"),
            (Box::new(|w: &GroupWriter| w.rename("30", "\u{0}", WRITE)), "name"),
            (Box::new(|w: &GroupWriter| w.rename("../30", "X", WRITE)), "key"),
            (Box::new(|w: &GroupWriter| w.delete("3 0", WRITE)), "key"),
        ] {
            // No account-key setting: finding the account would send `GET /me`.
            let (result, sent) = run_on(signed_in_host(), Vec::new(), write);
            assert_eq!(error_field(result).0, field);
            assert!(sent.is_empty());
        }
    }

    #[test]
    fn a_rename_puts_only_the_name_and_an_unchanged_name_writes_nothing() {
        let (result, sent) = run(vec![json(200, GROUPS), json(204, "")], |w| w.rename("30", "Sales EMEA ", WRITE));
        let outcome = result.unwrap();
        assert_eq!((outcome.group_key.as_deref(), outcome.changed), (Some("30"), true));
        assert_eq!((sent[1].method, body(&sent[1])), (Method::Put, json!({ "name": "Sales EMEA" })));
        assert!(sent[1].url.ends_with("/accounts/9/groups/30"), "{}", sent[1].url);
        assert_eq!(outcome.calls[0].summary, "rename group Sales to Sales EMEA");

        let (result, sent) = run(vec![json(200, GROUPS)], |w| w.rename("30", "Sales", WRITE));
        let outcome = result.unwrap();
        assert!(!outcome.changed && outcome.calls.is_empty());
        assert_eq!(sent.len(), 1);

        let (result, sent) = run(vec![json(200, GROUPS), json(204, "")], |w| w.rename("30", "SALES", WRITE));
        assert!(result.unwrap().changed, "a change of case is a rename");
        assert_eq!(sent.len(), 2);
    }

    #[test]
    fn a_rename_to_another_groups_name_or_of_an_absent_group_fails_before_writing() {
        let (result, sent) = run(vec![json(200, GROUPS)], |w| w.rename("30", "ops", WRITE));
        let (field, message) = error_field(result);
        assert_eq!(field, "name");
        assert!(message.contains("group 31"), "{message}");
        assert_eq!(sent.len(), 1);

        // Taken between the read and the PUT: GoTo's 409 names nobody, a fresh read does.
        let conflict = json(409, r#"{"errors":[{"code":"group.name.conflict","value":"Legal"}]}"#);
        let now = r#"{"results":[{"key":"30","name":"Sales"},{"key":"45","name":"Legal"}],"total":2}"#;
        let (result, sent) = run(vec![json(200, GROUPS), conflict, json(200, now)], |w| w.rename("30", "Legal", WRITE));
        let (field, message) = error_field(result);
        assert_eq!(field, "name");
        assert!(message.contains("group 45"), "{message}");
        assert_eq!(sent.len(), 3);

        let (result, sent) = run(vec![json(200, GROUPS)], |w| w.rename("77", "X", WRITE));
        assert!(
            matches!(result, Err(ConnectorError::NotFound(ref e)) if e.field.as_deref() == Some("key")),
            "{result:?}"
        );
        assert_eq!(sent.len(), 1);

        let (result, sent) = run(vec![json(200, GROUPS)], |w| w.rename("30", "Sales EMEA", DRY_RUN));
        assert_eq!(result.unwrap().calls[0].method, "PUT");
        assert_eq!(sent.len(), 1, "a dry run only reads");
    }

    #[test]
    fn a_delete_of_an_absent_group_writes_nothing_and_a_404_after_the_read_is_success() {
        let (result, sent) = run(vec![json(200, GROUPS)], |w| w.delete("77", WRITE));
        let outcome = result.unwrap();
        assert_eq!((outcome.group_key.as_deref(), outcome.changed, outcome.calls.len()), (Some("77"), false, 0));
        assert_eq!(sent.len(), 1);

        let (result, sent) = run(vec![json(200, GROUPS), json(204, "")], |w| w.delete("30", WRITE));
        let outcome = result.unwrap();
        assert!(outcome.changed);
        assert_eq!(outcome.calls[0].summary, "delete group Sales (2 direct member(s) leave it)");
        assert_eq!(sent[1].method, Method::Delete);
        assert!(sent[1].url.ends_with("/accounts/9/groups/30"), "{}", sent[1].url);

        let gone = json(404, r#"{"errors":[{"code":"group.not.found","value":"30"}]}"#);
        let (result, _) = run(vec![json(200, GROUPS), gone], |w| w.delete("30", WRITE));
        assert!(result.unwrap().changed);

        let (result, sent) = run(vec![json(200, GROUPS)], |w| w.delete("31", DRY_RUN));
        assert_eq!(result.unwrap().calls[0].summary, "delete group Ops (0 direct member(s) leave it)");
        assert_eq!(sent.len(), 1);
    }
}
