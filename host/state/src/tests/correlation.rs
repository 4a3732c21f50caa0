//! Correlating accounts with identities.

use super::*;
use crate::{Account, Ambiguous, Identity, Match, StateError};

fn identity(id: &str, email: &str) -> Identity {
    Identity { id: id.to_owned(), email: email.to_owned() }
}

fn acct(key: &str) -> Account {
    Account { key: key.to_owned(), email: Some(format!("{key}@example.com")) }
}

fn matched(identity: &str, key: &str) -> Match {
    Match { identity: identity.to_owned(), account: acct(key) }
}

#[test]
fn correlation_reports_everything_first_then_only_changes() {
    let env = Env::new();
    let mut store = env.open();
    let mut ann = account("ann", "staff");
    ann.email = Some("Ann@Example.com".into());
    let run =
        import(&mut store, Scope::Accounts, &[ann, account("bob", "staff"), account("cat", "staff")], finished()).run;
    let mut identities =
        vec![identity("i1", " ann@example.COM "), identity("i2", "bob@example.com"), identity("i3", "dan@example.com")];

    let first = store.correlate(run, &identities).unwrap();
    assert!(first.first);
    assert_eq!(
        (first.totals.matched, first.totals.orphan_accounts, first.totals.identities_without_account),
        (2, 1, 1)
    );
    let ann_match =
        Match { identity: "i1".into(), account: Account { key: "ann".into(), email: Some("Ann@Example.com".into()) } };
    assert_eq!(first.newly_matched, [ann_match, matched("i2", "bob")]);
    assert_eq!(first.newly_orphaned, [acct("cat")]);
    assert_eq!(first.new_identities_without_account, [identities[2].clone()]);
    let shown = store.show(Some(Scope::Accounts)).unwrap();
    assert_eq!(shown.iter().map(|item| item.identity.as_deref()).collect::<Vec<_>>(), [Some("i1"), Some("i2"), None]);

    let again = store.correlate(run, &identities).unwrap();
    assert!(!again.first);
    assert_eq!(again.totals, first.totals);
    assert!(again.newly_matched.is_empty() && again.newly_orphaned.is_empty());
    assert!(again.new_identities_without_account.is_empty() && again.resolved_identities.is_empty());

    // cat leaves GoTo, dan gets an account, erin joins the IGA without one, bob's identity goes.
    let next = [account("ann", "staff"), account("bob", "staff"), account("dan", "staff")];
    let run = import(&mut store, Scope::Accounts, &next, confirmed()).run;
    identities.remove(1);
    identities.push(identity("i4", "erin@example.com"));
    let report = store.correlate(run, &identities).unwrap();
    assert_eq!(report.newly_matched, [matched("i3", "dan")]);
    assert_eq!(report.no_longer_matched, [matched("i2", "bob")]);
    assert_eq!(report.newly_orphaned, [acct("bob")]);
    assert_eq!(report.no_longer_orphaned, [acct("cat")], "a suspended account is not an orphan");
    assert_eq!(report.new_identities_without_account, [identity("i4", "erin@example.com")]);
    assert_eq!(report.resolved_identities, [identity("i3", "dan@example.com")]);
}

#[test]
fn duplicate_identity_emails_are_reported_not_dropped() {
    let env = Env::new();
    let mut store = env.open();
    let run = import(&mut store, Scope::Accounts, &[account("ann", "staff")], finished()).run;
    let identities =
        [identity("i1", "ann@example.com"), identity("i9", "ANN@example.com"), identity("i1", "ann@example.com")];
    let report = store.correlate(run, &identities).unwrap();
    assert_eq!(report.newly_matched, [matched("i1", "ann")]);
    assert_eq!(
        report.ambiguous,
        [Ambiguous { email: "ann@example.com".into(), kept: "i1".into(), ignored: "i9".into() }]
    );
    // i9 lost the email to i1: it is listed under the clash, not as an identity without an account.
    assert_eq!(report.new_identities_without_account, Vec::<Identity>::new());
    assert_eq!((report.totals.ambiguous, report.totals.identities_without_account), (1, 0));

    // Neither identity of a clash over an email no account has is lost: the one kept has no account.
    let identities =
        [identity("i1", "ann@example.com"), identity("i5", "bo@example.com"), identity("i6", "BO@example.com")];
    let report = store.correlate(run, &identities).unwrap();
    assert_eq!(report.new_identities_without_account, [identity("i5", "bo@example.com")]);
    assert_eq!((report.totals.ambiguous, report.totals.identities_without_account), (1, 1));
}

#[test]
fn an_identity_listed_with_several_emails_owns_the_account_of_each() {
    let env = Env::new();
    let mut store = env.open();
    let run = import(&mut store, Scope::Accounts, &[account("ann", "staff"), account("al", "staff")], finished()).run;
    // An HR export with a row per address: the second address is the same person's, not an
    // orphan account to deprovision.
    let identities = [identity("i1", "ann@example.com"), identity("i1", "al@example.com")];
    let report = store.correlate(run, &identities).unwrap();
    assert_eq!(report.newly_matched, [matched("i1", "al"), matched("i1", "ann")]);
    assert_eq!((report.totals.orphan_accounts, report.totals.identities_without_account), (0, 0));
    assert!(report.ambiguous.is_empty());

    // Another identity claiming one of those addresses is a clash, listed once however often it
    // repeats; an identity that wins one address and loses another owns what it won.
    let identities = [
        identity("i1", "ann@example.com"),
        identity("i2", "ann@example.com"),
        identity("i2", "ann@example.com"),
        identity("i2", "al@example.com"),
    ];
    let report = store.correlate(run, &identities).unwrap();
    assert_eq!(
        report.ambiguous,
        [Ambiguous { email: "ann@example.com".into(), kept: "i1".into(), ignored: "i2".into() }]
    );
    assert_eq!(report.newly_matched, [matched("i2", "al")]);
    assert_eq!((report.totals.matched, report.totals.identities_without_account), (2, 0));
}

#[test]
fn correlation_needs_an_accounts_run() {
    let env = Env::new();
    let mut store = env.open();
    let run = import(&mut store, Scope::Groups, &[group("g", "G")], finished()).run;
    assert!(matches!(
        store.correlate(run, &[]),
        Err(StateError::ScopeMismatch { expected: Scope::Accounts, found: Scope::Groups, .. })
    ));
}
