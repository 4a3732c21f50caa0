//! Reconciliation: the state remembers each import, reports what changed, and marks accounts
//! and entitlements missing only when a complete listing proves them gone.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

use gotosim::{Fault, FaultRule, Matcher, NewUser, SimConfig, WorldChange};
use gtm_e2e::{Harness, unthrottled};
use serde_json::Value;

fn keys_of(changes: &Value, kind: &str) -> BTreeSet<String> {
    changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == kind)
        .map(|c| c["key"].as_str().unwrap().to_owned())
        .collect()
}

fn status_of(h: &Harness, key: &str) -> String {
    let items = h.run(&["state", "show", "--format", "json"]).success().json();
    let item =
        items.as_array().unwrap().iter().find(|i| i["key"] == key).unwrap_or_else(|| panic!("{key} not in state"));
    item["status"].as_str().unwrap().to_owned()
}

fn history(h: &Harness) -> Vec<Value> {
    h.run(&["state", "history", "--format", "json"]).success().json().as_array().unwrap().clone()
}

/// Removes the first `n` non-admin users from the simulator; returns their keys.
fn remove_users(h: &Harness, n: usize) -> Vec<String> {
    h.sim.with_world(|w| {
        let principal = w.principal_key().to_owned();
        let keys: Vec<String> = w.users().into_iter().map(|u| u.key).filter(|k| *k != principal).take(n).collect();
        for key in &keys {
            w.remove_user(key);
        }
        keys
    })
}

fn with_licenses(seed: u64, users: usize, licenses: usize) -> SimConfig {
    let mut config = unthrottled(seed, users);
    config.licenses = licenses;
    config
}

#[test]
fn a_second_import_reports_exactly_the_changes_made_in_between() {
    let h = Harness::new(with_licenses(401, 60, 12));
    let first = h.run(&["import", "accounts"]).success();
    assert!(first.stderr.contains("accounts (run 1): 60 seen; 60 added"), "{}", first.stderr);
    let state_dir = std::fs::metadata(h.home.path().join("state")).unwrap();
    assert_eq!(state_dir.permissions().mode() & 0o777, 0o700, "emails and access are private to the user");
    h.run(&["import", "entitlements", "--kind", "licenses"]).success();

    let (added, renamed, removed, license, holders) = h.sim.with_world(|w| {
        let users = w.users();
        let renamed = users[5].key.clone();
        w.update_user(&renamed, |u| u.last_name = "Renamed".into());
        let removed = users[6].key.clone();
        w.remove_user(&removed);
        let license = w.licenses().into_iter().find(|l| !l.user_keys.is_empty()).unwrap();
        w.delete_license(&license.key);
        let added: BTreeSet<String> =
            (0..2).map(|n| w.add_user(NewUser::new(format!("new{n}@example.com"), "New", "User"))).collect();
        let holders: BTreeSet<String> = license.user_keys.iter().filter(|k| **k != removed).cloned().collect();
        (added, renamed, removed, license.key, holders)
    });

    let second = h.run(&["import", "accounts"]).success();
    assert!(second.stderr.contains("accounts (run 3): 61 seen; 2 added"), "{}", second.stderr);
    let diff = h.run(&["state", "diff", "--format", "json"]).success().json();
    assert_eq!(keys_of(&diff, "added"), added);
    assert_eq!(keys_of(&diff, "missing"), BTreeSet::from([removed.clone()]));
    let mut changed = holders.clone();
    changed.insert(renamed.clone());
    assert_eq!(keys_of(&diff, "changed"), changed);
    let rename = diff["changes"].as_array().unwrap().iter().find(|c| c["key"] == renamed.as_str()).unwrap();
    assert_eq!(rename["attributes"][0]["name"], "last-name");
    assert_eq!(rename["attributes"][0]["after"], "Renamed");
    for holder in &holders {
        let change = diff["changes"].as_array().unwrap().iter().find(|c| c["key"] == holder.as_str()).unwrap();
        let names: Vec<&str> =
            change["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"license-keys"), "{holder}: {names:?}");
    }
    assert_eq!(status_of(&h, &removed), "suspended-from-import");

    h.run(&["import", "entitlements", "--kind", "licenses"]).success();
    let diff = h.run(&["state", "diff", "--format", "json"]).success().json();
    assert_eq!(keys_of(&diff, "missing"), BTreeSet::from([license.clone()]));
    assert_eq!(status_of(&h, &license), "inactive");
}

#[test]
fn an_import_failing_on_page_3_of_5_marks_nothing_missing() {
    let h = Harness::new(unthrottled(402, 52));
    h.run(&["import", "accounts", "--page-size", "10"]).success();
    let removed = remove_users(&h, 2);
    let page_3 = Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some("offset=20".into()),
        ..Default::default()
    };
    h.sim.add_fault(FaultRule { matcher: page_3, skip: 0, times: 100, fault: Fault::Status(503) });

    let failed = h.run(&["import", "accounts", "--page-size", "10"]).failure(1, &["HTTP 503"]);
    assert!(failed.stdout.lines().count() <= 20);
    let run = &history(&h)[0];
    assert_eq!((run["state"].as_str(), run["missing"].as_u64()), (Some("failed"), Some(0)), "{run}");
    assert!(run["reason"].as_str().unwrap().contains("503"), "{run}");
    for key in &removed {
        assert_eq!(status_of(&h, key), "present", "a failed import proves nothing");
    }

    h.sim.clear_faults();
    let complete = h.run(&["import", "accounts", "--page-size", "10"]).success();
    assert!(complete.stderr.contains("2 missing"), "{}", complete.stderr);
    for key in &removed {
        assert_eq!(status_of(&h, key), "suspended-from-import");
    }
}

#[test]
fn a_total_that_moves_mid_import_is_read_again_without_duplicates() {
    let h = Harness::new(unthrottled(403, 40));
    let page_2 = Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some("offset=10".into()),
        ..Default::default()
    };
    let change = WorldChange::new(|w| {
        w.add_user(NewUser::new("aaa.arrived.midway@example.com", "Mid", "Way"));
    });
    h.sim.add_fault(FaultRule { matcher: page_2, skip: 0, times: 1, fault: Fault::Mutate(change) });

    let out = h.run(&["import", "accounts", "--page-size", "10"]).success();
    assert!(out.stderr.contains("total moved from 40 to 41"), "{}", out.stderr);
    let keys: Vec<String> = out.jsonl().iter().map(|r| r["key"].as_str().unwrap().to_owned()).collect();
    let distinct: BTreeSet<&String> = keys.iter().collect();
    assert_eq!((keys.len(), distinct.len()), (41, 41), "every account once");
    let run = &history(&h)[0];
    assert_eq!((run["state"].as_str(), run["passes"].as_u64()), (Some("complete"), Some(2)), "{run}");
}

#[test]
fn a_listing_that_keeps_moving_is_incomplete_and_marks_nothing() {
    let h = Harness::new(unthrottled(404, 40));
    h.run(&["import", "accounts", "--page-size", "10"]).success();
    let removed = remove_users(&h, 1);
    let page_2 = Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some("offset=10".into()),
        ..Default::default()
    };
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let change = WorldChange::new(move |w| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        w.add_user(NewUser::new(format!("mover{n}@example.com"), "Mo", "Ver"));
    });
    h.sim.add_fault(FaultRule { matcher: page_2, skip: 0, times: 10, fault: Fault::Mutate(change) });

    let out = h.run(&["import", "accounts", "--page-size", "10"]).success();
    assert!(out.stderr.contains("nothing was marked missing"), "{}", out.stderr);
    let run = &history(&h)[0];
    assert_eq!(run["state"], "incomplete", "{run}");
    assert!(run["reason"].as_str().unwrap().contains("total changed"), "{run}");
    assert_eq!(status_of(&h, &removed[0]), "present");
}

#[test]
fn a_filtered_import_marks_nothing_missing_and_says_why() {
    let h = Harness::new(unthrottled(405, 30));
    h.run(&["import", "accounts"]).success();
    let removed = remove_users(&h, 1);
    let someone = h.sim.with_world(|w| w.users()[3].email.clone());
    let out = h.run(&["import", "accounts", "--filter", &format!("email={someone}")]).success();
    assert!(out.stderr.contains("a filtered import cannot prove absence"), "{}", out.stderr);
    assert_eq!(status_of(&h, &removed[0]), "present");
}

#[test]
fn the_threshold_holds_a_mass_removal_until_confirmed() {
    let h = Harness::new(unthrottled(406, 40));
    h.run(&["import", "accounts"]).success();
    let removed: BTreeSet<String> = remove_users(&h, 8).into_iter().collect();

    let held = h.run(&["import", "accounts"]).success();
    assert!(held.stderr.contains("held:") && held.stderr.contains("--confirm-deletions"), "{}", held.stderr);
    let pending = h.run(&["state", "pending", "--format", "json"]).success().json();
    let pending_keys: BTreeSet<String> =
        pending.as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap().to_owned()).collect();
    assert_eq!(pending_keys, removed);
    assert!(pending[0]["label"].as_str().unwrap().contains('@'), "pending items show their email");
    for key in &removed {
        assert_eq!(status_of(&h, key), "present");
    }

    let confirmed = h.run(&["import", "accounts", "--confirm-deletions"]).success();
    assert!(confirmed.stderr.contains("8 missing"), "{}", confirmed.stderr);
    for key in &removed {
        assert_eq!(status_of(&h, key), "suspended-from-import");
    }
    assert_eq!(h.run(&["state", "pending", "--format", "json"]).success().json(), serde_json::json!([]));

    // The threshold is the profile's to set.
    let h = Harness::new(unthrottled(407, 40));
    h.append_to_profile("[reconciliation]\nmax-missing-percent = 25");
    h.run(&["import", "accounts"]).success();
    remove_users(&h, 8);
    assert!(h.run(&["import", "accounts"]).success().stderr.contains("8 missing"));
}

#[test]
fn an_account_that_reappears_is_restored() {
    let h = Harness::new(unthrottled(408, 30));
    let created =
        h.run(&["create", "--email", "back@example.com", "--first-name", "Be", "--last-name", "Back"]).success();
    let key = created.json()["account-key"].as_str().unwrap().to_owned();
    h.run(&["import", "accounts"]).success();
    h.run(&["delete", &key, "--mode", "hard-delete", "--yes"]).success();
    h.run(&["import", "accounts"]).success();
    assert_eq!(status_of(&h, &key), "suspended-from-import");

    // GoTo gives a re-created email its old key back (reference §6.4).
    let again =
        h.run(&["create", "--email", "back@example.com", "--first-name", "Be", "--last-name", "Back"]).success();
    assert_eq!(again.json()["account-key"], key.as_str());
    let out = h.run(&["import", "accounts"]).success();
    assert!(out.stderr.contains("1 restored"), "{}", out.stderr);
    assert_eq!(status_of(&h, &key), "present");
    assert_eq!(
        keys_of(&h.run(&["state", "diff", "--format", "json"]).success().json(), "restored"),
        BTreeSet::from([key])
    );
}

#[test]
fn correlation_reports_orphans_on_both_sides_then_only_what_changed() {
    let h = Harness::new(unthrottled(409, 20));
    let users = h.sim.with_world(|w| w.users());
    let (owned, orphans) = users.split_at(users.len() - 3);
    let mut csv = String::from("employee_id,name,email\n");
    for (n, user) in owned.iter().enumerate() {
        // Case differs on purpose: correlation ignores it.
        csv.push_str(&format!("E{n},someone,{}\n", user.email.to_uppercase()));
    }
    csv.push_str("X1,nobody,ghost1@example.com\nX2,nobody,ghost2@example.com\n");
    let file = h.home.path().join("identities.csv");
    std::fs::write(&file, &csv).unwrap();

    let first = h.run(&["import", "accounts", "--identities", file.to_str().unwrap()]).success();
    let expected = format!(
        "{} accounts matched to identities by email, 3 orphan accounts, 2 identities without an account",
        owned.len()
    );
    assert!(first.stderr.contains(&expected), "{}", first.stderr);
    for orphan in orphans {
        assert!(first.stderr.contains(&orphan.key), "orphan {} listed:\n{}", orphan.key, first.stderr);
    }
    assert!(first.stderr.contains("X1 <ghost1@example.com>"), "{}", first.stderr);
    let items = h.run(&["state", "show", "--scope", "accounts", "--format", "json"]).success().json();
    let owner = items.as_array().unwrap().iter().find(|i| i["key"] == owned[0].key.as_str()).unwrap();
    assert_eq!(owner["identity"], "E0");

    // Nothing changed: the report says so and lists nobody again.
    let second = h.run(&["import", "accounts", "--identities", file.to_str().unwrap()]).success();
    assert!(second.stderr.contains("since the last correlation"), "{}", second.stderr);
    assert!(!second.stderr.contains("X1 <ghost1"), "{}", second.stderr);

    // An orphan gains an identity.
    std::fs::write(&file, format!("{csv}E99,found,{}\n", orphans[0].email)).unwrap();
    let third = h.run(&["import", "accounts", "--identities", file.to_str().unwrap()]).success();
    assert!(third.stderr.contains("newly matched") && third.stderr.contains("→ E99"), "{}", third.stderr);
}

#[test]
fn bad_identity_files_and_unknown_runs_are_bad_input() {
    let h = Harness::new(unthrottled(410, 10));
    let file = h.home.path().join("ids.csv");
    std::fs::write(&file, "name,email\nAnn,ann@example.com\n").unwrap();
    let requests = h.sim.stats().total;
    h.run(&["import", "accounts", "--identities", file.to_str().unwrap()]).failure(2, &["needs an id column"]);
    // A device would be read for ever, a huge file into memory: both refused up front.
    h.run(&["import", "accounts", "--identities", "/dev/zero"]).failure(2, &["/dev/zero", "not a regular file"]);
    let huge = h.home.path().join("huge.csv");
    std::fs::File::create(&huge).unwrap().set_len(1 << 32).unwrap();
    h.run(&["import", "accounts", "--identities", huge.to_str().unwrap()])
        .failure(2, &["4096 MiB", "more than the 256"]);
    std::fs::remove_file(&huge).unwrap();
    assert_eq!(h.sim.stats().total, requests, "checked before contacting GoTo");
    h.run(&["state", "history"]).failure(1, &["no reconciliation state yet"]);
    h.run(&["import", "accounts"]).success();
    h.run(&["state", "diff", "99"]).failure(2, &["there is no import run 99"]);
    h.run(&["state", "diff", "0"]).failure(2, &["invalid run id"]);
}

#[test]
fn a_summary_over_a_thousand_keys_counts_every_one_it_does_not_show() {
    let h = Harness::new(unthrottled(411, 1500));
    let first = h.run(&["import", "accounts", "--page-size", "1000"]).success();
    assert!(first.stderr.contains("accounts (run 1): 1500 seen; 1500 added"), "{}", first.stderr);
    assert!(first.stderr.contains(" and 1490 more (`gtm-connector state diff`)"), "{}", first.stderr);
}

#[test]
fn a_long_correlation_list_points_to_state_show_where_every_owner_is() {
    let h = Harness::new(unthrottled(413, 15));
    let file = h.home.path().join("identities.csv");
    std::fs::write(
        &file,
        "id,email
E0,nobody@example.com
",
    )
    .unwrap();
    let out = h.run(&["import", "accounts", "--identities", file.to_str().unwrap()]).success();
    assert!(out.stderr.contains("15 orphan accounts"), "{}", out.stderr);
    let orphans = out.stderr.lines().find(|l| l.starts_with("  orphan accounts (new): ")).unwrap();
    assert!(orphans.ends_with(" and 5 more (`gtm-connector state show`)"), "{orphans}");
}

#[test]
fn an_identity_that_loses_an_email_clash_is_listed_only_under_the_clash() {
    let h = Harness::new(unthrottled(412, 6));
    let users = h.sim.with_world(|w| w.users());
    let mut csv = String::from("id,email\n");
    for (n, user) in users.iter().enumerate() {
        csv.push_str(&format!("E{n},{}\n", user.email));
    }
    csv.push_str(&format!("DUP,{}\n", users[0].email.to_uppercase()));
    let file = h.home.path().join("identities.csv");
    std::fs::write(&file, &csv).unwrap();
    let out = h.run(&["import", "accounts", "--identities", file.to_str().unwrap()]).success();
    let expected = format!(
        "{} accounts matched to identities by email, 0 orphan accounts, 0 identities without an account",
        users.len()
    );
    assert!(out.stderr.contains(&expected), "{}", out.stderr);
    let clash = format!("ambiguous emails: {} (E0 kept, DUP ignored)", users[0].email.to_lowercase());
    assert!(out.stderr.contains(&clash), "{}", out.stderr);
    assert!(!out.stderr.contains("DUP <"), "DUP is not an identity without an account:\n{}", out.stderr);
}
