//! `gtm-connector import` processes killed at held points of token refreshes, with GoTo rotating
//! the refresh token on every refresh and access tokens good for three requests (so refreshes
//! happen mid-import): each time the next run succeeds with the token GoTo last issued (no
//! `invalid_grant`), and the state database passes `PRAGMA integrity_check`. And the one window
//! no client can close: GoTo rotated, and the answer never arrived.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gotosim::{Fault, FaultRule, Gate, Matcher, Rotation, SimConfig, Simulator};
use gtm_host::profile::{Paths, ProfileFile};
use gtm_host::secrets::SecretStore;

const BIN: &str = env!("CARGO_BIN_EXE_gtm-connector");
const PROFILE: &str = "crash";
const USERS: usize = 40;
const IMPORT: &[&str] = &["import", "accounts", "--page-size", "10"];

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
    command(home).args(args).output().unwrap()
}

struct Setup {
    sim: Simulator,
    home: tempfile::TempDir,
    paths: Paths,
}

impl Setup {
    fn new(seed: u64) -> Setup {
        let mut config = SimConfig::sized(seed, USERS, 4, 2);
        config.knobs.rate_limit_per_sec = None;
        config.knobs.rotation = Rotation::Always;
        config.knobs.access_token_max_uses = Some(3);
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
        Setup { sim, home, paths }
    }

    fn secrets(&self) -> SecretStore {
        SecretStore::open(self.paths.secrets_file(PROFILE), &Default::default()).unwrap()
    }

    /// Starts an import that must refresh first, holds it at `fault`'s gate, kills it there,
    /// then lets the held request go (`abandon`: as if it never reached GoTo).
    fn kill_at(&self, what: &str, matcher: Matcher, skip: u32, hold: fn(Gate) -> Fault, abandon: bool) {
        self.secrets().delete("access-token").unwrap();
        let gate = Gate::default();
        self.sim.add_fault(FaultRule { matcher, skip, times: 1, fault: hold(gate.clone()) });
        let mut child =
            command(self.home.path()).args(IMPORT).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let arrived = gate.wait_for_arrival(Duration::from_secs(120));
        child.kill().unwrap();
        child.wait().unwrap();
        if abandon {
            gate.abandon()
        } else {
            gate.open()
        }
        self.sim.clear_faults();
        assert!(arrived, "the import never reached {what}");
    }

    /// The next import succeeds, reads everything, and the state is intact.
    #[track_caller]
    fn assert_next_run_correct(&self, what: &str) {
        let out = run(self.home.path(), IMPORT);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "after a kill at {what}: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), USERS, "after a kill at {what}");
        assert_eq!(
            self.secrets().get("refresh-token"),
            Some(self.sim.credentials().refresh_token.as_str()),
            "after a kill at {what}, the stored refresh token is the one GoTo issued last"
        );
        let db = rusqlite::Connection::open(self.paths.state_file(PROFILE)).unwrap();
        let check: String = db.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
        assert_eq!(check, "ok", "after a kill at {what}");
    }
}

fn path(contains: &str) -> Matcher {
    Matcher { path_contains: Some(contains.into()), ..Default::default() }
}

fn page(offset: u32) -> Matcher {
    Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some(format!("offset={offset}")),
        ..Default::default()
    }
}

#[test]
fn a_process_killed_anywhere_on_the_refresh_path_loses_no_rotated_refresh_token() {
    let setup = Setup::new(601);
    let out = run(setup.home.path(), IMPORT);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let before = setup.sim.stats().refresh_grants_ok;

    // Each killed import runs: token, /me, pages 0 and 1, page 2 refused (its token is used up),
    // token, page 2 again, page 3.
    let points: [(&str, Matcher, u32, bool); 7] = [
        ("the first token request", path("/oauth/token"), 0, true),
        ("the mid-import token request", path("/oauth/token"), 1, true),
        ("the request after the first token answer", path("/me"), 0, false),
        ("the first page", page(0), 0, false),
        ("the page refused for a used-up token", page(20), 0, false),
        ("the request after the mid-import token answer", page(20), 1, false),
        ("the last page", page(30), 0, false),
    ];
    for (what, matcher, skip, abandon) in points {
        setup.kill_at(what, matcher, skip, Fault::Hold, abandon);
        setup.assert_next_run_correct(what);
    }
    assert!(setup.sim.stats().refresh_grants_ok >= before + 14, "every killed and every next run refreshed");
}

#[test]
fn a_token_answer_lost_in_flight_after_goto_rotated_is_the_one_window_and_says_re_consent() {
    let setup = Setup::new(602);
    setup.kill_at("the token answer", path("/oauth/token"), 0, Fault::HoldAnswer, false);
    // GoTo rotated and the answer died with the process: the stored token is spent.
    let out = run(setup.home.path(), IMPORT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("invalid_grant") && stderr.contains("admin consent"), "{stderr}");
    assert!(stderr.contains("secrets set refresh-token"), "the hint says how to store the new one: {stderr}");
}
