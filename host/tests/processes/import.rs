//! A `gtm-connector import` process killed mid-import leaves the reconciliation state
//! consistent, and the next run is correct; one whose stdout reader goes away stops cleanly.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use gotosim::Fault;
use serde_json::Value;

use crate::support::{Home, kill, unthrottled, users_page};

const IMPORT: &[&str] = &["import", "accounts", "--page-size", "10"];

/// A home of 50 accounts with a complete first import done, so that a wrong conclusion would
/// show as accounts marked missing.
fn imported(seed: u64) -> Home {
    let home = Home::new(unthrottled(seed, 50));
    home.run(IMPORT);
    home
}

fn every_account_present(home: &Home) {
    let items = home.json(&["state", "show", "--format", "json"]);
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert!(items.iter().all(|i| i["status"] == "present"), "no account marked missing");
}

/// The import history, newest first, once its latest run ended `state` and marked nothing
/// missing, with every account still present.
#[track_caller]
fn ended_marking_nothing(home: &Home, state: &str) -> Value {
    let history = home.json(&["state", "history", "--format", "json"]);
    assert_eq!(history[0]["state"], state, "{history}");
    assert_eq!(history[0]["missing"], 0);
    every_account_present(home);
    history
}

#[test]
fn a_process_killed_mid_import_leaves_the_state_consistent_and_the_next_run_correct() {
    let home = imported(501);

    // The second import is held on its third page, then killed there.
    let gate = home.hold(users_page(20), 0, Fault::Hold);
    home.stopped_at(IMPORT, &gate, kill);
    gate.open();
    home.assert_state_intact();

    // The killed run is recorded as abandoned, and nothing was concluded from it.
    let history = ended_marking_nothing(&home, "abandoned");
    assert_eq!(history[1]["state"], "complete");

    // The next run completes normally and agrees with the simulator.
    let removed = home.sim.with_world(|w| {
        let key = w.users()[7].key.clone();
        w.remove_user(&key);
        key
    });
    let out = home.run(IMPORT);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 49);
    let history = home.json(&["state", "history", "--format", "json"]);
    assert_eq!((history[0]["state"].as_str(), history[0]["missing"].as_u64()), (Some("complete"), Some(1)));
    let items = home.json(&["state", "show", "--format", "json"]);
    let gone: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "suspended-from-import")
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(gone, [removed.as_str()]);
}

#[test]
fn an_import_piped_into_a_reader_that_stops_early_is_cancelled_cleanly() {
    let home = imported(502);

    // `import … | head -1`: the reader takes one line of page 1 and goes away while page 2 is
    // held; page 2 is then written into a closed pipe.
    let gate = home.hold(users_page(10), 0, Fault::Hold);
    let mut child = home
        .command()
        .args([IMPORT, &["--confirm-deletions"]].concat())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let arrived = gate.wait_for_arrival(Duration::from_secs(120));
    let mut head = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    head.read_line(&mut first).unwrap();
    drop(head);
    gate.open();
    assert!(arrived, "the import never reached page 2");
    let out = child.wait_with_output().unwrap();
    home.assert_no_secret_in("the import", first.as_bytes(), &out.stderr);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(first.starts_with("{\"key\""), "{first}");
    assert!(!stderr.contains("error") && !stderr.contains("Broken pipe"), "{stderr}");
    assert!(stderr.contains("the import was cancelled, so nothing was marked missing"), "{stderr}");
    home.assert_state_intact();

    let history = ended_marking_nothing(&home, "cancelled");
    assert_eq!(history[0]["reason"], "the output was closed before the import finished");
}
