//! A `gtm-connector import` process killed mid-import leaves the reconciliation state
//! consistent, and the next run is correct.

use std::path::Path;
use std::process::{Command, Output};
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

#[test]
fn a_process_killed_mid_import_leaves_the_state_consistent_and_the_next_run_correct() {
    let mut config = SimConfig::sized(501, 50, 4, 2);
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

    // A complete first import, so that a wrong conclusion would show up as accounts marked missing.
    run(home.path(), &["import", "accounts", "--page-size", "10"]);

    // The second import is held on its third page, then killed there.
    let gate = Gate::default();
    let page_3 = Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some("offset=20".into()),
        ..Default::default()
    };
    sim.add_fault(FaultRule { matcher: page_3, skip: 0, times: 1, fault: Fault::Hold(gate.clone()) });
    let mut child = command(home.path())
        .args(["import", "accounts", "--page-size", "10"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let arrived = gate.wait_for_arrival(Duration::from_secs(120));
    child.kill().unwrap();
    child.wait().unwrap();
    gate.open();
    assert!(arrived, "the import never reached page 3");

    // The killed run is recorded as abandoned, and nothing was concluded from it.
    let history = json(&run(home.path(), &["state", "history", "--format", "json"]));
    assert_eq!(history[0]["state"], "abandoned", "{history}");
    assert_eq!(history[0]["missing"], 0);
    assert_eq!(history[1]["state"], "complete");
    let items = json(&run(home.path(), &["state", "show", "--format", "json"]));
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert!(items.iter().all(|i| i["status"] == "present"), "no account marked missing");

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
