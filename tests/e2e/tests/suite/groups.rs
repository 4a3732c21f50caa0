//! Group writes (create, rename, delete) through the real component and host against the
//! simulator, on a `Connection` driven directly, checked against the simulator's groups and its
//! write counter.

use gotosim::Group;
use gtm_e2e::direct::Direct;
use gtm_e2e::{Harness, unthrottled};
use gtm_host::runtime::{CallError, ConnectorError, GroupOutcome, WriteOptions};

const WRITE: WriteOptions = WriteOptions { dry_run: false };
const DRY_RUN: WriteOptions = WriteOptions { dry_run: true };

fn groups(h: &Harness) -> Vec<Group> {
    h.sim.with_world(|w| w.groups())
}

fn group(h: &Harness, key: &str) -> Option<Group> {
    groups(h).into_iter().find(|g| g.key == key)
}

/// A seeded group with direct members.
fn group_with_members(h: &Harness) -> Group {
    groups(h).into_iter().find(|g| !g.user_keys.is_empty()).expect("a seeded group with members")
}

/// The error the connector reported.
#[track_caller]
fn refused(result: Result<GroupOutcome, CallError>) -> ConnectorError {
    match result {
        Err(CallError::Connector(e)) => e,
        other => panic!("expected a connector error, got {other:?}"),
    }
}

/// The field a context-carrying error names.
#[track_caller]
fn field_of(error: &ConnectorError) -> Option<&str> {
    match error {
        ConnectorError::InvalidInput(i) | ConnectorError::Conflict(i) | ConnectorError::NotFound(i) => {
            i.field.as_deref()
        }
        other => panic!("expected an error naming a field, got {other:?}"),
    }
}

/// Each planned call as `METHOD path`.
fn calls(outcome: &GroupOutcome) -> Vec<String> {
    outcome.calls.iter().map(|c| format!("{} {}", c.method, c.path)).collect()
}

#[test]
fn a_created_group_has_the_key_the_simulator_chose_even_at_26_digits() {
    let mut config = unthrottled(1101, 10);
    config.knobs.long_keys = true;
    let h = Harness::new(config);
    let mut conn = Direct::connect(&h);
    let writes = h.writes();
    let outcome = conn.create_group("  Finance  ", WRITE).unwrap();
    let created: Vec<Group> = groups(&h).into_iter().filter(|g| g.name == "Finance").collect();
    assert_eq!(created.len(), 1, "one group, its name trimmed");
    assert_eq!(created[0].key.len(), 26, "{}", created[0].key);
    assert_eq!(outcome.group_key.as_deref(), Some(created[0].key.as_str()));
    assert!(outcome.changed);
    assert_eq!(calls(&outcome), [format!("POST /admin/rest/v1/accounts/{}/groups", h.sim.account_key())]);
    assert_eq!(h.writes(), writes + 1);
}

#[test]
fn a_duplicate_name_is_already_exists_with_that_groups_key_and_writes_nothing() {
    let h = Harness::new(unthrottled(1102, 10));
    let mut conn = Direct::connect(&h);
    let existing = groups(&h).remove(0);
    let (writes, count) = (h.writes(), groups(&h).len());
    for name in [existing.name.clone(), format!(" {} ", existing.name.to_uppercase())] {
        match refused(conn.create_group(&name, WRITE)) {
            ConnectorError::AlreadyExists(key) => assert_eq!(key, existing.key, "{name:?}"),
            other => panic!("{name:?}: {other:?}"),
        }
    }
    assert_eq!((h.writes(), groups(&h).len()), (writes, count));
}

#[test]
fn a_rename_changes_the_name_for_the_members_too_and_the_same_name_writes_nothing() {
    let h = Harness::new(unthrottled(1103, 20));
    let mut conn = Direct::connect(&h);
    let target = group_with_members(&h);
    let writes = h.writes();
    let outcome = conn.rename_group(&target.key, "Renamed Team", WRITE).unwrap();
    assert_eq!((outcome.group_key.as_deref(), outcome.changed), (Some(target.key.as_str()), true));
    assert_eq!(calls(&outcome), [format!("PUT /admin/rest/v1/accounts/{}/groups/{}", h.sim.account_key(), target.key)]);
    assert_eq!(group(&h, &target.key).unwrap().name, "Renamed Team");
    let member = h.sim.with_world(|w| w.user(&target.user_keys[0])).unwrap();
    assert_eq!(member.group_name.as_deref(), Some("Renamed Team"));
    assert_eq!(h.writes(), writes + 1);

    let again = conn.rename_group(&target.key, "Renamed Team", WRITE).unwrap();
    assert!(!again.changed && again.calls.is_empty(), "{again:?}");
    assert_eq!(h.writes(), writes + 1, "the same name sends nothing");
}

#[test]
fn a_rename_to_another_groups_name_is_a_conflict_and_an_unknown_group_is_not_found() {
    let h = Harness::new(unthrottled(1104, 10));
    let mut conn = Direct::connect(&h);
    let all = groups(&h);
    let (target, other) = (&all[0], &all[1]);
    let writes = h.writes();
    let conflict = refused(conn.rename_group(&target.key, &other.name.to_lowercase(), WRITE));
    assert!(matches!(conflict, ConnectorError::Conflict(_)), "{conflict:?}");
    assert_eq!(field_of(&conflict), Some("name"));
    assert_eq!(group(&h, &target.key).unwrap().name, target.name);

    let unknown = refused(conn.rename_group("1234567890123456789", "Anything", WRITE));
    assert!(matches!(unknown, ConnectorError::NotFound(_)), "{unknown:?}");
    assert_eq!(field_of(&unknown), Some("key"));
    assert_eq!(h.writes(), writes);
}

#[test]
fn a_delete_removes_the_group_from_goto_and_its_members_and_a_second_delete_writes_nothing() {
    let h = Harness::new(unthrottled(1105, 20));
    let mut conn = Direct::connect(&h);
    let target = group_with_members(&h);
    let writes = h.writes();
    let outcome = conn.delete_group(&target.key, WRITE).unwrap();
    assert_eq!((outcome.group_key.as_deref(), outcome.changed), (Some(target.key.as_str()), true));
    assert_eq!(
        calls(&outcome),
        [format!("DELETE /admin/rest/v1/accounts/{}/groups/{}", h.sim.account_key(), target.key)]
    );
    assert!(group(&h, &target.key).is_none());
    let member = h.sim.with_world(|w| w.user(&target.user_keys[0])).unwrap();
    assert_eq!(member.group_key, None);
    assert_eq!(h.writes(), writes + 1);

    let absent = conn.delete_group(&target.key, WRITE).unwrap();
    assert_eq!((absent.group_key.as_deref(), absent.changed), (Some(target.key.as_str()), false));
    assert!(absent.calls.is_empty());
    assert_eq!(h.writes(), writes + 1, "an absent group sends nothing");
}

#[test]
fn dry_runs_plan_each_group_write_and_send_none() {
    let h = Harness::new(unthrottled(1106, 10));
    let mut conn = Direct::connect(&h);
    let before = groups(&h);
    let target = &before[0];
    let (writes, account) = (h.writes(), h.sim.account_key());
    let created = conn.create_group("Finance", DRY_RUN).unwrap();
    assert_eq!((created.group_key.as_deref(), created.changed), (None, true), "GoTo has chosen no key");
    assert_eq!(calls(&created), [format!("POST /admin/rest/v1/accounts/{account}/groups")]);
    let renamed = conn.rename_group(&target.key, "Renamed Team", DRY_RUN).unwrap();
    assert_eq!(calls(&renamed), [format!("PUT /admin/rest/v1/accounts/{account}/groups/{}", target.key)]);
    let deleted = conn.delete_group(&target.key, DRY_RUN).unwrap();
    assert_eq!(calls(&deleted), [format!("DELETE /admin/rest/v1/accounts/{account}/groups/{}", target.key)]);
    assert_eq!(h.writes(), writes);
    let after = groups(&h);
    let names = |gs: &[Group]| gs.iter().map(|g| (g.key.clone(), g.name.clone())).collect::<Vec<_>>();
    assert_eq!(names(&after), names(&before));
}

#[test]
fn a_bad_name_is_refused_before_anything_is_sent() {
    let h = Harness::new(unthrottled(1107, 10));
    let mut conn = Direct::connect(&h);
    let target = groups(&h).remove(0);
    let requests = h.sim.stats().total;
    let long = "n".repeat(129);
    for name in ["", "   ", long.as_str(), "Sales\nEMEA"] {
        for error in [refused(conn.create_group(name, WRITE)), refused(conn.rename_group(&target.key, name, WRITE))] {
            assert!(matches!(error, ConnectorError::InvalidInput(_)), "{name:?}: {error:?}");
            assert_eq!(field_of(&error), Some("name"), "{name:?}");
        }
    }
    assert_eq!(h.sim.stats().total, requests, "not even a read or a token refresh");
}
