//! Opening, locking, crash recovery, migrations, run states, parsing, and scale.

use super::*;
use crate::{Attributes, Completeness, RunId, RunState, StateError, Status};

#[test]
fn a_second_store_on_the_same_path_is_busy() {
    let env = Env::new();
    let store = env.open();
    let second = Store::open(&env.path());
    let Err(error @ StateError::Busy { .. }) = second else { panic!("expected Busy") };
    assert!(error.to_string().starts_with("another gtm-connector process is using this state ("));
    drop(store);
    Store::open(&env.path()).unwrap();
}

#[test]
fn a_run_left_running_is_abandoned_and_the_next_run_is_correct() {
    let env = Env::new();
    let items = accounts(3);
    {
        let mut store = env.open();
        import(&mut store, Scope::Accounts, &items, finished());
        let run = store.begin(Scope::Accounts, None).unwrap();
        store.record_page(run, 3, &[account("u0000", "lead")]).unwrap();
        // The process dies here: the Store is dropped without `finish`.
    }
    let mut store = env.open();
    let dead = &store.history(1).unwrap()[0];
    assert_eq!(dead.state, RunState::Abandoned);
    assert_eq!(dead.reason.as_deref(), Some("the process ended before the import finished"));
    assert_eq!((dead.ended_at, dead.counts.seen, dead.counts.changed), (Some(NOW), 1, 1));
    assert!(store.pending().unwrap().is_empty());

    // The dead run is undone: u0000 is staff again, and the next import changes nothing.
    assert!(store.show(None).unwrap().iter().all(|item| item.attributes["title"] == "staff"));
    let summary = import(&mut store, Scope::Accounts, &items, finished());
    assert_eq!(summary.completeness, Completeness::Complete);
    assert_eq!((summary.counts.changed, summary.counts.unchanged, summary.counts.missing), (0, 3, 0));
}

#[test]
fn a_cancelled_run_is_recorded_as_such_and_marks_nothing() {
    let env = Env::new();
    let mut store = env.open();
    import(&mut store, Scope::Accounts, &accounts(3), finished());
    let reason = "the output was closed".to_owned();
    let summary = import(&mut store, Scope::Accounts, &accounts(1), End::Cancelled { reason: reason.clone() });
    assert_eq!((summary.completeness, summary.counts.missing), (Completeness::Cancelled { reason }, 0));
    let run = &store.history(1).unwrap()[0];
    assert_eq!((run.state, run.reason.as_deref()), (RunState::Cancelled, Some("the output was closed")));
    assert_eq!(serde_json::to_value(run.state).unwrap(), json!("cancelled"));
    assert!(store.show(None).unwrap().iter().all(|item| item.status == Status::Present));
}

#[test]
fn the_connection_keeps_commits_durable_with_a_bounded_cache_and_a_long_wal() {
    let env = Env::new();
    let store = env.open();
    let pragma = |name: &str| store.conn.pragma_query_value(None, name, |row| row.get::<_, i64>(0)).unwrap();
    // synchronous = FULL (2): every commit is synced before it returns.
    assert_eq!(pragma("synchronous"), 2);
    assert_eq!(pragma("cache_size"), -16 * 1024);
    assert_eq!(pragma("wal_autocheckpoint"), 8192);
    let mode: String = store.conn.pragma_query_value(None, "journal_mode", |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

/// A run's pages are committed together every few thousand items. A page that fails half-way
/// is rolled back with the pages since the last commit; what was committed stays.
#[test]
fn pages_are_committed_together_and_a_failed_page_takes_only_the_uncommitted_ones() {
    let env = Env::new();
    let mut store = env.open();
    let committed = || {
        rusqlite::Connection::open(env.path())
            .unwrap()
            .query_row("SELECT count(*) FROM items", [], |row| row.get::<_, i64>(0))
            .unwrap()
    };
    let items = accounts(9000);
    let run = store.begin(Scope::Accounts, None).unwrap();
    store.record_page(run, 9000, &items[..1000]).unwrap();
    assert_eq!(committed(), 0, "a page is not committed alone");
    for chunk in items[1000..].chunks(1000) {
        store.record_page(run, 9000, chunk).unwrap();
    }
    assert_eq!(committed(), 9000, "committed once 8,192 items were recorded");

    let broken = Item { key: "u0000".into(), email: None, attributes: Attributes::stored("{not json".into()) };
    store.record_page(run, 9000, &[account("late", "x")]).unwrap();
    assert!(store.record_page(run, 9000, &[account("new", "x"), broken]).is_err());
    let summary = store.finish(run, End::Failed { reason: "a page failed".into() }).unwrap();
    assert_eq!(summary.counts.added, 9000, "what was committed, not the pages rolled back");
    assert!(store.show(None).unwrap().is_empty(), "and the failed run is undone");
}

/// Version 6 drops the index on a run's seen set by pass and replaces the change log's index by
/// run with one by run and item, which reads a run's changes in the order they are folded.
#[test]
fn a_version_5_database_gets_the_indexes_of_version_6() {
    let env = Env::new();
    drop(env.open());
    let conn = rusqlite::Connection::open(env.path()).unwrap();
    conn.execute_batch(
        "DROP INDEX changes_by_run_item;
         CREATE INDEX run_seen_by_pass ON run_seen (run_id, pass);
         CREATE INDEX changes_by_run ON changes (run_id);
         PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(conn);
    let store = env.open();
    let indexes: Vec<String> = store
        .conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        indexes,
        ["changes_by_run_item", "items_by_status", "runs_by_scope", "runs_by_state", "scim_accounts_by_external_id"]
    );
    let plan: Vec<String> = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", crate::records::RUN_CHANGES))
        .unwrap()
        .query_map([1], |row| row.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(plan.iter().any(|step| step.contains("changes_by_run_item")), "{plan:?}");
    assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "read in order, not sorted: {plan:?}");
}

#[test]
fn a_schema_newer_than_the_crate_is_refused() {
    let env = Env::new();
    rusqlite::Connection::open(env.path()).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let Err(error) = Store::open(&env.path()) else { panic!("expected an error") };
    assert!(matches!(error, StateError::SchemaTooNew { found: 99, known: 6 }), "{error}");
}

#[test]
fn reopening_keeps_the_state() {
    let env = Env::new();
    import(&mut env.open(), Scope::Accounts, &accounts(3), finished());
    let store = env.open();
    assert_eq!(store.show(None).unwrap().len(), 3);
    assert_eq!(store.history(10).unwrap().len(), 1);
}

#[test]
fn runs_are_checked() {
    let env = Env::new();
    let mut store = env.open();
    let run = store.begin(Scope::Accounts, None).unwrap();
    assert!(matches!(
        store.begin(Scope::Accounts, None),
        Err(StateError::RunInProgress { run: busy, scope: Scope::Accounts }) if busy == run
    ));
    let groups = store.begin(Scope::Groups, None).unwrap();
    store.finish(groups, finished()).unwrap();
    assert!(matches!(store.record_page(groups, 0, &[]), Err(StateError::RunEnded { state: RunState::Incomplete, .. })));
    assert!(matches!(store.finish(groups, finished()), Err(StateError::RunEnded { .. })));
    assert!(matches!(store.restart_pass(RunId(99)), Err(StateError::UnknownRun(RunId(99)))));
    store.finish(run, finished()).unwrap();
}

#[test]
fn names_parse_and_print_stably() {
    for scope in [Scope::Accounts, Scope::Groups, Scope::Licenses, Scope::AdminRoles] {
        assert_eq!(scope.to_string().parse::<Scope>().unwrap(), scope);
    }
    assert_eq!(serde_json::to_value(Scope::AdminRoles).unwrap(), json!("admin-roles"));
    assert!(matches!("roles".parse::<Scope>(), Err(StateError::UnknownScope(_))));
    assert_eq!("7".parse::<RunId>().unwrap(), RunId(7));
    assert_eq!(serde_json::to_value(RunId(7)).unwrap(), json!(7));
    for bad in ["0", "-1", "x", ""] {
        assert!(matches!(bad.parse::<RunId>(), Err(StateError::InvalidRunId(_))));
    }
}

#[test]
fn a_hundred_thousand_accounts_in_pages_of_a_thousand() {
    let env = Env::new();
    let mut store = env.open();
    let items = accounts(100_000);
    let first = import_paged(&mut store, Scope::Accounts, &items, 1000, finished());
    let second = import_paged(&mut store, Scope::Accounts, &items[1..], 1000, finished());
    assert_eq!(first.counts.added, 100_000);
    assert_eq!(first.added.len(), 1000, "the summary lists a bounded sample; the counts are complete");
    assert_eq!((second.counts.unchanged, second.missing.as_slice()), (99_999, ["u0000".to_owned()].as_slice()));
}
