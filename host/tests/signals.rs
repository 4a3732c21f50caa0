//! A `gtm-connector import --output FILE` process interrupted mid-export (SIGTERM, Ctrl-C)
//! leaves no temporary file of account records behind, and exits as a shell expects.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use gotosim::{Fault, FaultRule, Gate, Matcher, SimConfig, Simulator};
use gtm_host::profile::{Paths, ProfileFile};
use gtm_host::secrets::SecretStore;
use rustix::process::{Pid, Signal, kill_process};

const BIN: &str = env!("CARGO_BIN_EXE_gtm-connector");
const PROFILE: &str = "signals";

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[test]
fn an_interrupted_export_removes_its_temporary_file_and_exits_128_plus_the_signal() {
    let mut config = SimConfig::sized(502, 50, 4, 2);
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

    let out_dir = tempfile::tempdir().unwrap();
    // Left by a run killed outright two days ago: swept by the next export into this directory.
    let stale = out_dir.path().join(".gtm-export-St4le0ne2Day");
    std::fs::File::create(&stale).unwrap().set_modified(SystemTime::now() - Duration::from_secs(2 * 86_400)).unwrap();
    let output = out_dir.path().join("accounts.jsonl");

    for (signal, status) in [(Signal::TERM, 143), (Signal::INT, 130)] {
        let gate = Gate::default();
        let page_3 = Matcher {
            path_contains: Some("/users".into()),
            query_contains: Some("offset=20".into()),
            ..Default::default()
        };
        sim.add_fault(FaultRule { matcher: page_3, skip: 0, times: 1, fault: Fault::Hold(gate.clone()) });
        let mut child = Command::new(BIN)
            .env_clear()
            .env("HOME", home.path())
            .env("GTM_HOME", home.path())
            .env("GTM_CACHE_DIR", home.path().join("cache"))
            .env("GTM_PROFILE", PROFILE)
            .args(["import", "accounts", "--page-size", "10", "--output", output.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let arrived = gate.wait_for_arrival(Duration::from_secs(120));
        let during = names_in(out_dir.path());
        kill_process(Pid::from_child(&child), signal).unwrap();
        let exit = child.wait().unwrap();
        gate.open();
        assert!(arrived, "the import never reached page 3");
        assert!(
            during.iter().any(|n| n.starts_with(".gtm-export-") && n != ".gtm-export-St4le0ne2Day"),
            "the export was being written: {during:?}"
        );
        assert!(!during.contains(&".gtm-export-St4le0ne2Day".to_owned()), "the stale file was swept: {during:?}");
        assert_eq!(exit.code(), Some(status), "{signal:?}: {exit:?}");
        assert!(names_in(out_dir.path()).is_empty(), "{signal:?} left {:?}", names_in(out_dir.path()));
    }
}
