//! A `gtm-connector import` process killed mid-import leaves the reconciliation state
//! consistent, and the next run is correct; one whose stdout reader goes away stops cleanly.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gotosim::{Fault, FaultRule, Gate, Matcher, SimConfig, Simulator};
use gtm_host::profile::{Paths, ProfileFile};
use gtm_host::secrets::SecretStore;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gtm-connector");
const PROFILE: &str = "crash";

fn command(home: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("HOME", home)
        .env("GTM_HOME", home)
        .env("GTM_CACHE_DIR", home.join("cache"))
        .env("GTM_PROFILE", PROFILE);
    command
}

fn run(home: &Path, args: &[&str]) -> Output {
    let out = command(home).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

/// SQLite's own check of the whole database file, run without opening the `Store` (which would
/// take the lock and write).
fn assert_intact(state: &Path) {
    let db = rusqlite::Connection::open(state).unwrap();
    let verdict: String = db.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(verdict, "ok", "{}", state.display());
}

/// A simulator of 50 users and a home whose profile points at it, with its secrets stored and a
/// complete first import done, so that a wrong conclusion would show as accounts marked missing.
fn imported(seed: u64) -> (Simulator, tempfile::TempDir, Paths) {
    let mut config = SimConfig::sized(seed, 50, 4, 2);
    config.knobs.rate_limit_per_sec = None;
    let sim = Simulator::start(config).unwrap();
    let home = tempfile::tempdir().unwrap();
    let paths = Paths { home: home.path().to_path_buf(), cache: home.path().join("cache") };
    ProfileFile { api_base: Some(sim.base_url()), token_base: Some(sim.base_url()), ..Default::default() }
        .save(&paths.profile_file(PROFILE))
        .unwrap();
    let mut secrets = SecretStore::open(paths.secrets_file(PROFILE), &Default::default()).unwrap();
    let credentials = sim.credentials();
    secrets.set("client-id", &credentials.client_id).unwrap();
    secrets.set("client-secret", &credentials.client_secret).unwrap();
    secrets.set("refresh-token", &credentials.refresh_token).unwrap();
    run(home.path(), &["import", "accounts", "--page-size", "10"]);
    (sim, home, paths)
}

/// Holds the next request for the users page at `offset` until the gate opens.
fn hold_page(sim: &Simulator, offset: u32) -> Gate {
    let gate = Gate::default();
    let page = Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some(format!("offset={offset}")),
        ..Default::default()
    };
    sim.add_fault(FaultRule { matcher: page, skip: 0, times: 1, fault: Fault::Hold(gate.clone()) });
    gate
}

fn every_account_present(home: &Path) {
    let items = json(&run(home, &["state", "show", "--format", "json"]));
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert!(items.iter().all(|i| i["status"] == "present"), "no account marked missing");
}

#[test]
fn a_process_killed_mid_import_leaves_the_state_consistent_and_the_next_run_correct() {
    let (sim, home, paths) = imported(501);

    // The second import is held on its third page, then killed there.
    let gate = hold_page(&sim, 20);
    let mut child = command(home.path())
        .args(["import", "accounts", "--page-size", "10"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let arrived = gate.wait_for_arrival(Duration::from_secs(120));
    child.kill().unwrap();
    child.wait().unwrap();
    gate.open();
    assert!(arrived, "the import never reached page 3");
    assert_intact(&paths.state_file(PROFILE));

    // The killed run is recorded as abandoned, and nothing was concluded from it.
    let history = json(&run(home.path(), &["state", "history", "--format", "json"]));
    assert_eq!(history[0]["state"], "abandoned", "{history}");
    assert_eq!(history[0]["missing"], 0);
    assert_eq!(history[1]["state"], "complete");
    every_account_present(home.path());

    // The next run completes normally and agrees with the simulator.
    let removed = sim.with_world(|w| {
        let key = w.users()[7].key.clone();
        w.remove_user(&key);
        key
    });
    let out = run(home.path(), &["import", "accounts", "--page-size", "10"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 49);
    let history = json(&run(home.path(), &["state", "history", "--format", "json"]));
    assert_eq!((history[0]["state"].as_str(), history[0]["missing"].as_u64()), (Some("complete"), Some(1)));
    let items = json(&run(home.path(), &["state", "show", "--format", "json"]));
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
    let (sim, home, paths) = imported(502);

    // `import … | head -1`: the reader takes one line of page 1 and goes away while page 2 is
    // held; page 2 is then written into a closed pipe.
    let gate = hold_page(&sim, 10);
    let mut child = command(home.path())
        .args(["import", "accounts", "--page-size", "10", "--confirm-deletions"])
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
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(first.starts_with("{\"key\""), "{first}");
    assert!(!stderr.contains("error") && !stderr.contains("Broken pipe"), "{stderr}");
    assert!(stderr.contains("the import was cancelled, so nothing was marked missing"), "{stderr}");
    assert_intact(&paths.state_file(PROFILE));

    let history = json(&run(home.path(), &["state", "history", "--format", "json"]));
    assert_eq!(history[0]["state"], "cancelled", "{history}");
    assert_eq!(history[0]["missing"], 0);
    assert_eq!(history[0]["reason"], "the output was closed before the import finished");
    every_account_present(home.path());
}
