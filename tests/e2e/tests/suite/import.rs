//! Account import: paging, filters, keys, formats, outputs.

use std::collections::BTreeSet;

use gotosim::NewUser;
use gtm_e2e::{ClosesAfter, Harness, files_in, keys, parse_jsonl, run_cli_into, unthrottled};
use serde_json::Value;

#[test]
fn a_multi_page_import_reads_every_account_exactly_once() {
    let h = Harness::new(unthrottled(11, 450));
    let out = h.run(&["import", "accounts", "--page-size", "100"]).success();
    let records = out.jsonl();
    assert_eq!(records.len(), 450);
    assert_eq!(keys(&records), h.user_keys(), "every account, in GoTo's order");
    assert_eq!(keys(&records).into_iter().collect::<BTreeSet<_>>().len(), 450, "no duplicates");
    assert_eq!(h.sim.stats().by_route.get("GET /accounts/{}/users").copied(), Some(5), "450 accounts in pages of 100");

    // Every attribute comes across, memberships included.
    let world = h.sim.with_world(|w| w.users());
    let first = &records[0];
    assert_eq!(first["email"], world[0].email.as_str());
    assert_eq!(first["status"], world[0].status.as_str().to_ascii_lowercase());
    let licensed = records.iter().find(|r| !r["license-keys"].as_array().unwrap().is_empty()).unwrap();
    let user = world.iter().find(|u| u.key == licensed["key"]).unwrap();
    assert_eq!(licensed["license-keys"], serde_json::json!(user.license_keys));
    assert_eq!(licensed["group-key"], serde_json::json!(user.group_key));
}

#[test]
fn an_email_filter_with_plus_and_dots_matches_only_that_account() {
    let h = Harness::new(unthrottled(12, 40));
    h.sim.with_world(|w| {
        for email in ["ann+sales@example.com", "annnsales@example.com", "ann.lee@example.com", "annxlee@example.com"] {
            w.add_user(NewUser::new(email, "Ann", "Lee"));
        }
    });
    for email in ["ann+sales@example.com", "ANN.LEE@example.com"] {
        let records = h.run(&["import", "accounts", "--filter", &format!("email={email}")]).success().jsonl();
        assert_eq!(records.len(), 1, "{email}: {records:?}");
        assert_eq!(records[0]["email"].as_str().unwrap(), email.to_ascii_lowercase());
    }
}

#[test]
fn key_name_and_goto_filters_narrow_the_import() {
    let h = Harness::new(unthrottled(13, 60));
    let target = h.sim.with_world(|w| w.users()[7].clone());

    let by_key = h.run(&["import", "accounts", "--filter", &format!("key={}", target.key)]).success().jsonl();
    assert_eq!(keys(&by_key), vec![target.key.clone()]);

    let by_name = h
        .run(&["import", "accounts", "--filter", &format!("name={}", target.last_name.to_uppercase())])
        .success()
        .jsonl();
    assert!(by_name.iter().any(|r| r["key"] == target.key.as_str()));
    assert!(by_name.iter().all(|r| r["last-name"].as_str().unwrap().eq_ignore_ascii_case(&target.last_name)
        || r["first-name"].as_str().unwrap().eq_ignore_ascii_case(&target.last_name)));

    let goto = h.run(&["import", "accounts", "--filter", r#"goto=(email="(?i).*@example\.com")"#]).success().jsonl();
    let expected = h.sim.with_world(|w| w.users().iter().filter(|u| u.email.ends_with("@example.com")).count());
    assert_eq!(goto.len(), expected);

    let none = h.run(&["import", "accounts", "--filter", "email=nobody@nowhere.example"]).success();
    assert_eq!(none.stdout, "");
}

#[test]
fn invalid_filters_are_rejected_with_what_to_write() {
    let h = Harness::new(unthrottled(14, 5));
    h.run(&["import", "accounts", "--filter", "phone=123"])
        .failure(2, &["unknown filter attribute \"phone\"", "email=ADDRESS"]);
    h.run(&["import", "accounts", "--filter", "key=12ab"]).failure(2, &["filter.key", "decimal digits"]);
    h.run(&["import", "accounts", "--filter", "goto=(email=unbalanced"]).failure(2, &["invalid input", "HTTP 400"]);
    assert_eq!(h.sim.stats().admin_writes, 0);
}

#[test]
fn twenty_six_digit_numeric_keys_survive_intact() {
    let mut config = unthrottled(15, 30);
    config.knobs.numeric_keys = true;
    config.knobs.long_keys = true;
    let h = Harness::new(config);
    let records = h.run(&["import", "accounts"]).success().jsonl();
    let expected = h.user_keys();
    assert!(expected.iter().all(|k| k.len() == 26), "{expected:?}");
    assert_eq!(keys(&records), expected);
    let licensed = records.iter().find(|r| !r["license-keys"].as_array().unwrap().is_empty()).unwrap();
    assert_eq!(licensed["license-keys"][0].as_str().unwrap().len(), 26);

    let one = h.run(&["get", "account", &expected[3]]).success();
    let account: Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(account["key"], expected[3].as_str());
}

#[test]
fn csv_and_json_outputs_go_to_a_file() {
    let h = Harness::new(unthrottled(16, 25));
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("accounts.csv");
    let json = dir.path().join("accounts.json");
    h.run(&["import", "accounts", "--format", "csv", "--output", csv.to_str().unwrap()]).success();
    h.run(&["import", "accounts", "--format", "json", "-o", json.to_str().unwrap()]).success();
    let csv = std::fs::read_to_string(csv).unwrap();
    assert!(csv.starts_with("key,email,first-name,last-name,locale,time-zone,status,"), "{csv}");
    assert_eq!(csv.lines().count(), 26);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 25);
    assert_eq!(files_in(dir.path()), vec!["accounts.csv", "accounts.json"]);
}

#[test]
fn get_account_reads_one_and_names_what_is_wrong() {
    let h = Harness::new(unthrottled(17, 10));
    let key = h.user_keys()[2].clone();
    let out = h.run(&["get", "account", &key]).success();
    let account: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(account["key"], key.as_str());
    h.run(&["get", "account", "999999999"]).failure(1, &["not found", "user.not.found"]);
    h.run(&["get", "account", "../me"]).failure(2, &["invalid input (key)"]);
}

#[test]
fn jsonl_lines_parse_back_the_same() {
    let h = Harness::new(unthrottled(18, 3));
    let out = h.run(&["import", "accounts"]).success();
    assert_eq!(parse_jsonl(&out.stdout).len(), 3);
}

#[test]
fn a_reader_that_stops_reading_cancels_the_import_cleanly() {
    let h = Harness::new(unthrottled(14, 60));
    h.append_to_profile("[reconciliation]\nmax-missing-percent = 100");
    h.run(&["import", "accounts", "--page-size", "10"]).success();
    for format in ["jsonl", "csv", "json"] {
        let mut head = ClosesAfter::new(2000);
        let args = ["import", "accounts", "--page-size", "10", "--confirm-deletions", "--format", format];
        let (status, stderr) = run_cli_into(&args, b"", h.env(), &mut head);
        assert_eq!(status, 0, "{format}: {stderr}");
        assert!(!stderr.contains("error") && !stderr.to_lowercase().contains("broken pipe"), "{format}: {stderr}");
        assert!(stderr.contains("the import was cancelled, so nothing was marked missing"), "{format}: {stderr}");
        assert_eq!(head.taken.len(), 2000, "{format}: the reader got what it asked for");

        let history = h.run(&["state", "history", "--format", "json"]).success().json();
        assert_eq!(history[0]["state"], "cancelled", "{format}: {}", history[0]);
        assert_eq!(history[0]["missing"], 0);
        let items = h.run(&["state", "show", "--format", "json"]).success().json();
        assert!(items.as_array().unwrap().iter().all(|i| i["status"] == "present"), "{format}: {items}");
    }
}
