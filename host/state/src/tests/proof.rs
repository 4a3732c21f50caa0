//! Completeness and the deletion threshold: only a proven, unheld run marks anything missing.

use super::*;
use crate::{Completeness, StateError, Status};

fn all_present(store: &Store, scope: Scope) -> bool {
    store.show(Some(scope)).unwrap().iter().all(|item| item.status == Status::seen(scope))
}

fn incomplete(reason: &str) -> Completeness {
    Completeness::Incomplete { reason: reason.to_owned() }
}

#[test]
fn a_failed_run_marks_nothing() {
    let env = Env::new();
    let mut store = env.open();
    import(&mut store, Scope::Accounts, &accounts(3), finished());
    let run = store.begin(Scope::Accounts, None).unwrap();
    store.record_page(run, 3, &accounts(1)).unwrap();
    let summary = store.finish(run, End::Failed { reason: "GoTo returned 503".into() }).unwrap();

    assert_eq!(summary.completeness, Completeness::Failed { reason: "GoTo returned 503".into() });
    assert!(summary.missing.is_empty() && summary.held.is_none());
    assert!(all_present(&store, Scope::Accounts));
}

#[test]
fn a_filtered_run_marks_nothing_and_says_why() {
    let env = Env::new();
    let mut store = env.open();
    import(&mut store, Scope::Accounts, &accounts(3), finished());
    let run = store.begin(Scope::Accounts, Some("email=u0000@example.com")).unwrap();
    store.record_page(run, 1, &accounts(1)).unwrap();
    let summary = store.finish(run, confirmed()).unwrap();

    assert_eq!(summary.completeness, incomplete("a filtered import cannot prove absence"));
    assert!(summary.missing.is_empty());
    assert!(all_present(&store, Scope::Accounts));
}

#[test]
fn a_listing_of_another_goto_account_proves_nothing_about_this_one() {
    let env = Env::new();
    let mut store = env.open();
    let full = |store: &mut Store, account: &str, items: &[Item]| {
        let run = store.begin(Scope::Accounts, None).unwrap();
        store.set_account(run, account).unwrap();
        store.record_page(run, items.len() as u64, items).unwrap();
        store.finish(run, confirmed()).unwrap()
    };
    let items = accounts(3);
    assert_eq!(full(&mut store, "111", &items).completeness, Completeness::Complete);
    // The profile now points at another tenant: its complete listing is not evidence that
    // the first tenant's accounts are gone, even confirmed.
    let other = full(&mut store, "222", &[account("x", "staff")]);
    assert_eq!(
        other.completeness,
        incomplete(
            "the import read GoTo account 222, but this state holds the accounts of account 111; \
             use another profile for another account"
        )
    );
    assert!(all_present(&store, Scope::Accounts));
    // Back on the first account, proof works as before.
    let back = full(&mut store, "111", &items[..2]);
    assert_eq!((back.completeness, back.counts.missing), (Completeness::Complete, 2));
}

#[test]
fn a_run_without_pages_is_incomplete() {
    let env = Env::new();
    let mut store = env.open();
    import(&mut store, Scope::Accounts, &accounts(3), finished());
    let run = store.begin(Scope::Accounts, None).unwrap();
    let summary = store.finish(run, confirmed()).unwrap();
    assert_eq!(summary.completeness, incomplete("no page was recorded"));
    assert!(all_present(&store, Scope::Accounts));
}

#[test]
fn a_total_that_moves_is_incomplete_until_a_consistent_pass() {
    let env = Env::new();
    let mut store = env.open();
    let items = accounts(4);
    import(&mut store, Scope::Accounts, &items[..3], finished());

    let run = store.begin(Scope::Accounts, None).unwrap();
    store.record_page(run, 3, &items[..2]).unwrap();
    store.record_page(run, 4, &items[2..]).unwrap();
    let summary = store.finish(run, confirmed()).unwrap();
    assert_eq!(summary.completeness, incomplete("the total changed during the import (3, then 4)"));
    assert!(summary.missing.is_empty());

    // The CLI notices the move, restarts, and reads a consistent second pass.
    let run = store.begin(Scope::Accounts, None).unwrap();
    store.record_page(run, 4, &items[..2]).unwrap();
    store.record_page(run, 5, &items[2..]).unwrap();
    store.restart_pass(run).unwrap();
    store.record_page(run, 4, &items[..2]).unwrap();
    store.record_page(run, 4, &items[2..]).unwrap();
    let summary = store.finish(run, finished()).unwrap();
    assert_eq!(summary.completeness, Completeness::Complete);
    let counts = &summary.counts;
    assert_eq!((counts.passes, counts.reported_total, counts.seen, counts.unchanged), (2, Some(4), 4, 4));
}

#[test]
fn a_restart_forgets_what_the_earlier_pass_saw() {
    let env = Env::new();
    let mut store = env.open();
    let items = accounts(3);
    import(&mut store, Scope::Accounts, &items, finished());

    let run = store.begin(Scope::Accounts, None).unwrap();
    store.record_page(run, 3, &items).unwrap();
    store.restart_pass(run).unwrap();
    store.record_page(run, 2, &items[..2]).unwrap();
    let summary = store.finish(run, confirmed()).unwrap();
    assert_eq!(summary.completeness, Completeness::Complete);
    assert_eq!(summary.missing, ["u0002"]);
    // Seen in both passes, still counted once.
    assert_eq!((summary.counts.seen, summary.counts.unchanged), (2, 3));
}

#[test]
fn a_restart_without_a_new_page_is_incomplete() {
    let env = Env::new();
    let mut store = env.open();
    let run = store.begin(Scope::Accounts, None).unwrap();
    store.record_page(run, 3, &accounts(3)).unwrap();
    store.restart_pass(run).unwrap();
    let summary = store.finish(run, finished()).unwrap();
    assert_eq!(summary.completeness, incomplete("no page was recorded after the listing restarted"));
}

#[test]
fn a_duplicated_row_is_counted_once_and_leaves_the_run_short() {
    let env = Env::new();
    let mut store = env.open();
    let items = accounts(4);
    import(&mut store, Scope::Accounts, &items, finished());

    // Offset paging shifted: u0001 twice, u0003 never.
    let run = store.begin(Scope::Accounts, None).unwrap();
    store.record_page(run, 4, &items[..2]).unwrap();
    store.record_page(run, 4, &items[1..3]).unwrap();
    let summary = store.finish(run, confirmed()).unwrap();
    assert_eq!(summary.completeness, incomplete("GoTo reported 4 accounts but 3 distinct keys were seen"));
    assert_eq!((summary.counts.seen, summary.counts.unchanged), (3, 3));
    assert!(all_present(&store, Scope::Accounts));
}

#[test]
fn an_empty_tenant_is_complete_but_emptying_one_is_held() {
    let env = Env::new();
    let mut store = env.open();
    let summary = import(&mut store, Scope::Licenses, &[], finished());
    assert_eq!(summary.completeness, Completeness::Complete);

    import(&mut store, Scope::Accounts, &accounts(20), finished());
    let summary = import(&mut store, Scope::Accounts, &[], finished());
    assert_eq!(summary.completeness, Completeness::Complete);
    assert!(summary.missing.is_empty());
    assert_eq!(summary.held.map(|held| held.keys.len()), Some(20));
    assert!(all_present(&store, Scope::Accounts));
}

#[test]
fn a_mass_removal_is_held_until_confirmed() {
    let env = Env::new();
    let mut store = env.open();
    let items = accounts(20);
    import(&mut store, Scope::Accounts, &items, finished());

    let held = import(&mut store, Scope::Accounts, &items[..15], finished());
    let reason = "5 of 20 accounts (25 %) would be marked missing, above the 10 % threshold; \
                  re-run with --confirm-deletions to apply";
    assert_eq!(held.completeness, Completeness::Complete);
    assert!(held.missing.is_empty());
    let hold = held.held.as_ref().unwrap();
    assert_eq!((hold.reason.as_str(), hold.keys.clone()), (reason, keys(&items[15..])));
    assert_eq!((held.counts.held, held.counts.missing), (5, 0));
    assert!(all_present(&store, Scope::Accounts));

    let pending = store.pending().unwrap();
    assert_eq!(pending.len(), 5);
    assert_eq!((pending[0].key.as_str(), pending[0].label.as_deref()), ("u0015", Some("u0015@example.com")));
    assert!(pending.iter().all(|item| item.run == held.run && item.reason == reason));

    // A failed run leaves the pending list alone.
    let run = store.begin(Scope::Accounts, None).unwrap();
    store.finish(run, End::Failed { reason: "cancelled".into() }).unwrap();
    assert_eq!(store.pending().unwrap().len(), 5);

    let applied = import(&mut store, Scope::Accounts, &items[..15], confirmed());
    assert_eq!(applied.missing, keys(&items[15..]));
    assert!(applied.held.is_none());
    assert!(store.pending().unwrap().is_empty());
}

#[test]
fn the_next_complete_run_recomputes_pending() {
    let env = Env::new();
    let mut store = env.open();
    let items = accounts(20);
    import(&mut store, Scope::Accounts, &items, finished());
    import(&mut store, Scope::Accounts, &items[..15], finished());
    assert_eq!(store.pending().unwrap().len(), 5);

    let summary = import(&mut store, Scope::Accounts, &items, finished());
    assert!(summary.held.is_none() && summary.missing.is_empty());
    assert!(store.pending().unwrap().is_empty());
}

#[test]
fn max_count_holds_too_and_pending_shows_entitlement_names() {
    let env = Env::new();
    let mut store = env.open();
    let groups: Vec<Item> = (0..100).map(|n| group(&format!("g{n:03}"), &format!("Team {n}"))).collect();
    import(&mut store, Scope::Groups, &groups, finished());
    let policy = DeletionPolicy { max_count: Some(1), ..DeletionPolicy::default() };
    let summary = import(&mut store, Scope::Groups, &groups[..98], End::Finished { deletions: policy });
    assert!(summary.held.unwrap().reason.contains("above the limit of 1"));
    assert_eq!(store.pending().unwrap()[0].label.as_deref(), Some("Team 98"));
}

#[test]
fn a_threshold_that_would_disable_the_guard_is_refused() {
    let env = Env::new();
    let mut store = env.open();
    let run = store.begin(Scope::Accounts, None).unwrap();
    for max_share in [f64::NAN, -0.1, 1.5] {
        let end = End::Finished { deletions: DeletionPolicy { max_share, ..DeletionPolicy::default() } };
        assert!(matches!(store.finish(run, end), Err(StateError::InvalidThreshold(_))));
    }
    // The run is still open and can end normally.
    store.record_page(run, 0, &[]).unwrap();
    assert_eq!(store.finish(run, finished()).unwrap().completeness, Completeness::Complete);
}
