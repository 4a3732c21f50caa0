//! history, diff and the JSON shape the CLI prints.

use super::*;
use crate::{ChangeKind, RunId, RunState, StateError};

#[test]
fn history_is_newest_first() {
    let env = Env::new();
    let mut store = env.open();
    let first = import(&mut store, Scope::Accounts, &accounts(3), finished()).run;
    let second = import(&mut store, Scope::Groups, &[group("g", "G")], finished()).run;
    let run = store.begin(Scope::Accounts, Some("key=u0000")).unwrap();

    let history = store.history(10).unwrap();
    assert_eq!(history.iter().map(|record| record.id).collect::<Vec<_>>(), [run, second, first]);
    assert_eq!(
        (history[0].state, history[0].filter.as_deref(), history[0].ended_at),
        (RunState::Running, Some("key=u0000"), None)
    );
    assert_eq!((history[2].started_at, history[2].counts.added, history[2].counts.reported_total), (NOW, 3, Some(3)));
    assert_eq!(store.history(1).unwrap().len(), 1);
}

#[test]
fn diff_defaults_to_what_the_latest_run_changed() {
    let env = Env::new();
    let mut store = env.open();
    assert!(matches!(store.diff(None, None), Err(StateError::NoFinishedRun)));
    let items = accounts(10);
    let first = import(&mut store, Scope::Accounts, &items, finished()).run;
    let mut changed = items[..9].to_vec();
    changed[0] = account("u0000", "lead");
    let second = import(&mut store, Scope::Accounts, &changed, finished()).run;
    let groups = import(&mut store, Scope::Groups, &[group("g", "G")], finished()).run;

    let latest = store.diff(None, None).unwrap();
    assert_eq!((latest.scope, latest.from, latest.to, latest.changes.len()), (Scope::Groups, None, groups, 1));

    let diff = store.diff(None, Some(second)).unwrap();
    assert_eq!((diff.scope, diff.from, diff.to), (Scope::Accounts, Some(first), second));
    let kinds: Vec<_> = diff.changes.iter().map(|entry| (entry.key.as_str(), entry.kind)).collect();
    assert_eq!(kinds, [("u0000", ChangeKind::Changed), ("u0009", ChangeKind::Missing)]);
    let title = &diff.changes[0].attributes[0];
    assert_eq!(
        (title.name.as_str(), title.before.clone(), title.after.clone()),
        ("title", Some(json!("staff")), Some(json!("lead")))
    );

    let everything = store.diff(None, Some(first)).unwrap();
    assert_eq!(everything.changes.len(), 10);
    assert_eq!(store.diff(Some(first), None).unwrap().to, second, "`to` defaults within from's scope");
    assert!(matches!(store.diff(Some(first), Some(groups)), Err(StateError::ScopeMismatch { .. })));
    assert!(matches!(store.diff(Some(RunId(42)), None), Err(StateError::UnknownRun(RunId(42)))));
}

#[test]
fn outputs_serialize_in_kebab_case() {
    let env = Env::new();
    let mut store = env.open();
    let summary = import(&mut store, Scope::AdminRoles, &[group("SUPER_USER", "Super user")], finished());
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["scope"], json!("admin-roles"));
    assert_eq!(json["completeness"], json!({"state": "complete"}));
    assert_eq!(json["counts"]["reported-total"], json!(1));
    assert_eq!(json["held"], json!(null));

    let record = serde_json::to_value(&store.history(1).unwrap()[0]).unwrap();
    assert_eq!(
        (record["state"].clone(), record["started-at"].clone(), record["added"].clone()),
        (json!("complete"), json!(NOW), json!(1))
    );
    let item = serde_json::to_value(&store.show(None).unwrap()[0]).unwrap();
    assert_eq!((item["status"].clone(), item["first-seen-run"].clone()), (json!("active"), json!(summary.run)));
}
