//! A `gtm-connector apply` process killed while a write is held at GoTo, then the same file run
//! again: it converges, nothing is duplicated, and the profile's state is intact.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gotosim::{Fault, FaultRule, Gate, Matcher, SimConfig, Simulator};
use gtm_host::profile::{Paths, ProfileFile};
use gtm_host::secrets::SecretStore;
use http::Method;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gtm-connector");
const PROFILE: &str = "crash";

const EMAILS: [&str; 3] = ["ann@example.com", "bob@example.com", "cat@example.com"];

/// Creates, a grant to an account created earlier in the file, and a move into a group.
fn operations(group: &str) -> String {
    let create = |email: &str| format!(r#"{{"op":"create","email":"{email}","first-name":"A","last-name":"B"}}"#);
    [
        create(EMAILS[0]),
        create(EMAILS[1]),
        r#"{"op":"grant","account":"ann@example.com","role":"MANAGE_USERS"}"#.to_owned(),
        format!(r#"{{"op":"grant","account":"ann@example.com","group":"{group}"}}"#),
        create(EMAILS[2]),
    ]
    .join("\n")
}

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

fn statuses(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["status"].as_str().unwrap().to_owned())
        .collect()
}

/// Kills `apply` while the request `held` matches (after `skip` matching ones) is held, then
/// runs the file again and checks that it converged.
fn killed_at(seed: u64, held: Matcher, skip: u32) {
    let mut config = SimConfig::sized(seed, 20, 4, 2);
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
    // The profile has a reconciliation state, as it would beside a nightly import.
    run(home.path(), &["import", "accounts"]);
    let group = sim.with_world(|w| w.groups()[0].key.clone());
    let file = home.path().join("ops.jsonl");
    std::fs::write(&file, operations(&group)).unwrap();

    let gate = Gate::default();
    sim.add_fault(FaultRule { matcher: held, skip, times: 1, fault: Fault::Hold(gate.clone()) });
    let mut child = command(home.path())
        .args(["apply", file.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let arrived = gate.wait_for_arrival(Duration::from_secs(120));
    child.kill().unwrap();
    child.wait().unwrap();
    // The held write may now reach GoTo after all: the rerun must cope either way.
    gate.open();
    assert!(arrived, "the apply never reached the held write");

    let again = run(home.path(), &["apply", file.to_str().unwrap()]);
    let done = ["created", "exists", "changed", "unchanged"];
    assert!(statuses(&again).iter().all(|s| done.contains(&s.as_str())), "{:?}", statuses(&again));
    let writes = sim.stats().admin_writes;
    let third = run(home.path(), &["apply", file.to_str().unwrap()]);
    assert!(statuses(&third).iter().all(|s| s == "exists" || s == "unchanged"), "{:?}", statuses(&third));
    assert_eq!(sim.stats().admin_writes, writes, "a converged file writes nothing");

    let users = sim.with_world(|w| w.users());
    for email in EMAILS {
        assert_eq!(users.iter().filter(|u| u.email == email).count(), 1, "{email} exactly once");
    }
    let ann = sim.with_world(|w| w.user_by_email(EMAILS[0])).unwrap();
    assert_eq!((ann.admin_roles, ann.group_key), (vec!["MANAGE_USERS".to_owned()], Some(group)));

    let state = rusqlite::Connection::open(paths.state_file(PROFILE)).unwrap();
    let check: String = state.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(check, "ok");
    drop(state);
    run(home.path(), &["import", "accounts"]);
}

#[test]
fn apply_killed_at_the_create_of_its_second_line_converges_when_run_again() {
    let create = Matcher {
        method: Some(Method::POST),
        path_contains: Some("/users".into()),
        query_contains: Some("allOrNothing".into()),
    };
    killed_at(511, create, 1);
}

#[test]
fn apply_killed_at_a_grant_converges_when_run_again() {
    let grant = Matcher { method: Some(Method::PUT), path_contains: Some("/users/".into()), ..Default::default() };
    killed_at(512, grant, 0);
}
