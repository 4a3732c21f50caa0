//! Recording pages: added, changed, unchanged, restored.

use serde::Serialize;
use serde_json::json;

use super::*;
use crate::Recorded;
use crate::{Completeness, ItemChange, Status};

#[test]
fn first_import_adds_everything() {
    let env = Env::new();
    let mut store = env.open();
    let items = accounts(5);
    let summary = import(&mut store, Scope::Accounts, &items, finished());

    assert_eq!(summary.completeness, Completeness::Complete);
    assert_eq!(summary.added, keys(&items));
    assert_eq!((summary.counts.seen, summary.counts.added, summary.counts.unchanged), (5, 5, 0));
    assert!(summary.changed.is_empty() && summary.missing.is_empty() && summary.held.is_none());

    let shown = store.show(Some(Scope::Accounts)).unwrap();
    assert_eq!(shown.len(), 5);
    assert!(shown.iter().all(|item| item.status == Status::Present && item.first_seen_run == summary.run));
    assert_eq!(shown[0].email.as_deref(), Some("u0000@example.com"));
    assert_eq!(shown[0].attributes, items[0].attributes.to_map().unwrap());
}

#[test]
fn second_import_reports_exactly_what_changed() {
    let env = Env::new();
    let mut store = env.open();
    let first = accounts(10);
    import(&mut store, Scope::Accounts, &first, finished());

    // u0009 leaves (1 of 10: within the 10 % threshold), u0001 changes title, u0010 joins.
    let mut second = first[..9].to_vec();
    second[1] = account("u0001", "manager");
    second.push(account("u0010", "staff"));
    let summary = import(&mut store, Scope::Accounts, &second, finished());

    assert_eq!(summary.completeness, Completeness::Complete);
    assert_eq!(summary.added, ["u0010"]);
    assert_eq!(summary.changed, [ItemChange { key: "u0001".into(), attributes: vec!["title".into()] }]);
    assert_eq!(summary.missing, ["u0009"]);
    assert!(summary.restored.is_empty());
    let counts = &summary.counts;
    assert_eq!((counts.seen, counts.added, counts.changed, counts.unchanged, counts.missing), (10, 1, 1, 8, 1));

    let shown = store.show(Some(Scope::Accounts)).unwrap();
    let status = |key: &str| shown.iter().find(|item| item.key == key).unwrap().status;
    assert_eq!(status("u0009"), Status::SuspendedFromImport);
    assert_eq!(status("u0001"), Status::Present);
    assert_eq!(shown.iter().find(|item| item.key == "u0001").unwrap().attributes["title"], json!("manager"));
}

#[test]
fn changes_are_compared_per_top_level_attribute() {
    let env = Env::new();
    let mut store = env.open();
    let before = Item {
        key: "a".into(),
        email: None,
        attributes: attrs(json!({"x": 1, "nested": {"y": [1, 2]}, "gone": true})),
    };
    import(&mut store, Scope::Accounts, &[before], finished());
    let after =
        Item { key: "a".into(), email: None, attributes: attrs(json!({"x": 1, "nested": {"y": [2, 1]}, "new": "v"})) };
    let summary = import(&mut store, Scope::Accounts, &[after], finished());
    assert_eq!(
        summary.changed,
        [ItemChange { key: "a".into(), attributes: vec!["gone".into(), "nested".into(), "new".into()] }]
    );
}

#[test]
fn a_reappearing_account_is_restored_with_its_changes() {
    let env = Env::new();
    let mut store = env.open();
    import(&mut store, Scope::Accounts, &[account("a", "staff"), account("b", "staff")], finished());
    let gone = import(&mut store, Scope::Accounts, &[account("a", "staff")], confirmed());
    assert_eq!(gone.missing, ["b"]);

    let back = import(&mut store, Scope::Accounts, &[account("a", "staff"), account("b", "lead")], finished());
    assert_eq!(back.restored, [ItemChange { key: "b".into(), attributes: vec!["title".into()] }]);
    assert!(back.added.is_empty() && back.changed.is_empty());
    assert_eq!((back.counts.restored, back.counts.unchanged), (1, 1));
    let b = store.show(Some(Scope::Accounts)).unwrap().into_iter().find(|item| item.key == "b").unwrap();
    assert_eq!((b.status, b.last_seen_run), (Status::Present, back.run));
}

/// A scope with nothing present when a run begins is recorded inserts first (a first import):
/// the items it still holds, gone, are found all the same, restored and never doubled.
#[test]
fn a_run_over_a_scope_with_nothing_present_still_finds_what_it_holds() {
    let env = Env::new();
    let mut store = env.open();
    import(&mut store, Scope::Groups, &[group("g1", "Sales")], finished());
    assert_eq!(import(&mut store, Scope::Groups, &[], confirmed()).missing, ["g1"]);
    let back = import(&mut store, Scope::Groups, &[group("g1", "Sales"), group("g2", "Support")], finished());
    assert_eq!(back.restored, [ItemChange { key: "g1".into(), attributes: vec![] }]);
    assert_eq!(back.added, ["g2"]);
    assert_eq!(store.show(Some(Scope::Groups)).unwrap().len(), 2);
}

/// Attributes are compared as text first; the same attributes written another way are still
/// unchanged, and are kept as written now, so the next run compares text again.
#[test]
fn the_same_attributes_written_another_way_are_unchanged() {
    #[derive(Serialize)]
    struct Reordered {
        title: &'static str,
        email: &'static str,
    }
    let env = Env::new();
    let mut store = env.open();
    import(&mut store, Scope::Accounts, &[account("a", "staff")], finished());
    let attributes = Attributes::new(&Reordered { title: "staff", email: "a@example.com" }).unwrap();
    assert_ne!(attributes, account("a", "staff").attributes, "written another way");
    let same = Item { key: "a".into(), email: Some("a@example.com".into()), attributes: attributes.clone() };
    let summary = import(&mut store, Scope::Accounts, &[same], finished());
    assert_eq!((summary.counts.changed, summary.counts.unchanged), (0, 1));
    let stored: String =
        store.conn.query_row("SELECT attributes FROM items WHERE key = 'a'", [], |row| row.get(0)).unwrap();
    assert_eq!(stored, attributes.as_str());
}

#[test]
fn an_entitlement_goes_inactive_and_comes_back() {
    let env = Env::new();
    let mut store = env.open();
    let groups = [group("g1", "Sales"), group("g2", "Support")];
    import(&mut store, Scope::Groups, &groups, finished());
    let gone = import(&mut store, Scope::Groups, &groups[..1], confirmed());
    assert_eq!(gone.missing, ["g2"]);
    assert_eq!(store.show(Some(Scope::Groups)).unwrap()[1].status, Status::Inactive);

    let back = import(&mut store, Scope::Groups, &groups, finished());
    assert_eq!(back.restored, [ItemChange { key: "g2".into(), attributes: vec![] }]);
    assert!(store.show(Some(Scope::Groups)).unwrap().iter().all(|item| item.status == Status::Active));
}

#[test]
fn scopes_are_independent() {
    let env = Env::new();
    let mut store = env.open();
    import(&mut store, Scope::Accounts, &accounts(3), finished());
    // Same key in another scope is another item, and a groups import proves nothing about accounts.
    let summary = import(&mut store, Scope::Groups, &[group("u0000", "Sales")], finished());
    assert_eq!(summary.added, ["u0000"]);
    assert!(summary.missing.is_empty());
    assert_eq!(store.show(None).unwrap().len(), 4);
    assert!(store.show(Some(Scope::Accounts)).unwrap().iter().all(|item| item.status == Status::Present));
}

#[test]
fn a_page_says_which_items_the_run_had_already_recorded() {
    let env = Env::new();
    let mut store = env.open();
    let run = store.begin(Scope::Accounts, None).unwrap();
    let (first, earlier, this) = (Recorded::First, Recorded::InEarlierPass, Recorded::InThisPass);
    assert_eq!(store.record_page(run, 3, &[account("a", "x"), account("b", "x")]).unwrap(), [first, first]);
    assert_eq!(store.record_page(run, 3, &[account("b", "x")]).unwrap(), [this], "a page sent twice");
    store.restart_pass(run).unwrap();
    let again = store.record_page(run, 3, &[account("a", "x"), account("c", "x"), account("b", "y")]).unwrap();
    assert_eq!(again, [earlier, first, earlier]);
    assert_eq!(store.record_page(run, 3, &[account("a", "x")]).unwrap(), [this]);
    let other = store.begin(Scope::Groups, None).unwrap();
    assert_eq!(store.record_page(other, 1, &[account("a", "x")]).unwrap(), [first], "scopes are separate");
}

/// A failed, cancelled or abandoned run leaves every item exactly as it was: added items gone,
/// changed and restored ones back, last-seen runs back, and its change log empty; its counts
/// still say what it read.
#[test]
fn a_run_that_does_not_end_is_undone() {
    let env = Env::new();
    let mut store = env.open();
    import(&mut store, Scope::Accounts, &accounts(4), finished());
    // u0003 goes missing, so the failed run below can "restore" it.
    import(&mut store, Scope::Accounts, &accounts(3), confirmed());
    let before = store.show(None).unwrap();
    let history = store.history(10).unwrap().len();

    let ends = [
        End::Failed { reason: "GoTo's listing does not end".to_owned() },
        End::Cancelled { reason: "the output was closed".to_owned() },
    ];
    for end in ends {
        let run = store.begin(Scope::Accounts, None).unwrap();
        let mut moved = accounts(4);
        moved[0] = account("u0000", "lead");
        moved[1].email = Some("someone.else@example.com".to_owned());
        moved.push(account("phantom-1", "made up"));
        store.record_page(run, 1_000_000, &moved).unwrap();
        store.restart_pass(run).unwrap();
        store.record_page(run, 1_000_000, &[account("phantom-2", "made up"), account("u0000", "boss")]).unwrap();
        let summary = store.finish(run, end).unwrap();
        assert_eq!((summary.counts.added, summary.counts.changed, summary.counts.restored), (2, 1, 1));
        assert_eq!(store.show(None).unwrap(), before, "the state is as before the run");
        let logged: i64 =
            store.conn.query_row("SELECT count(*) FROM changes WHERE run_id = ?1", [run], |row| row.get(0)).unwrap();
        assert_eq!(logged, 0, "the run logged nothing it kept");
    }
    assert_eq!(store.history(10).unwrap().len(), history + 2);

    // Abandoned by a process that died mid-run.
    let run = store.begin(Scope::Accounts, None).unwrap();
    store.record_page(run, 1_000_000, &[account("phantom-3", "made up"), account("u0001", "lead")]).unwrap();
    drop(store);
    let mut store = env.open();
    assert_eq!(store.show(None).unwrap(), before);

    // An honest run afterwards finds nothing to add, restore or hold.
    let summary = import(&mut store, Scope::Accounts, &accounts(3), finished());
    assert_eq!(summary.completeness, Completeness::Complete);
    assert_eq!((summary.counts.added, summary.counts.changed, summary.counts.unchanged), (0, 0, 3));
    assert!(summary.held.is_none() && store.pending().unwrap().is_empty());
}
