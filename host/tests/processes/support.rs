//! What every suite here needs: a simulator, a home whose profile points at it with its
//! credentials stored, the real binary run in that home, and a way to stop it at a held request.
//!
//! It is also the leak sweep of these suites (`gtm-leaks`): every run goes at `-vvv`, whatever it
//! writes is searched for every secret, whole or cut short (a stopped process's output lands in
//! files under the home), and when a home is dropped every file in it but the secrets file is
//! searched too.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use gotosim::{Fault, FaultRule, Gate, Matcher, SimConfig, Simulator};
use gtm_host::profile::{LimitsFile, MAX_REQUESTS_PER_SECOND, Paths, ProfileFile};
use gtm_host::secrets::SecretStore;
use gtm_leaks::{Secrets, profile_secrets};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gtm-connector");
pub const PROFILE: &str = "crash";

/// A simulator of `users` users with rate limiting off: these tests wait on gates, not clocks.
pub fn unthrottled(seed: u64, users: usize) -> SimConfig {
    let mut config = SimConfig::sized(seed, users, 4, 2);
    config.knobs.rate_limit_per_sec = None;
    config
}

/// Requests for the account listing's page at `offset`.
pub fn users_page(offset: u32) -> Matcher {
    Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some(format!("offset={offset}")),
        ..Default::default()
    }
}

/// Requests whose path contains `part`.
pub fn path(part: &str) -> Matcher {
    Matcher { path_contains: Some(part.into()), ..Default::default() }
}

pub struct Home {
    pub sim: Simulator,
    pub dir: tempfile::TempDir,
    pub paths: Paths,
    /// Processes stopped so far; names the files their output went to.
    stopped: AtomicU32,
}

impl Home {
    /// Starts the simulator and writes the profile and its secrets.
    pub fn new(config: SimConfig) -> Home {
        let sim = Simulator::start(config).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths { home: dir.path().to_path_buf(), cache: dir.path().join("cache") };
        let home = Home { sim, dir, paths, stopped: AtomicU32::new(0) };
        home.save_profile(LimitsFile::default());
        let credentials = home.sim.credentials();
        let mut secrets = home.secrets();
        secrets.set("client-id", &credentials.client_id).unwrap();
        secrets.set("client-secret", &credentials.client_secret).unwrap();
        secrets.set("refresh-token", &credentials.refresh_token).unwrap();
        home
    }

    /// Writes the profile with these limits, paced as fast as the governor goes unless they
    /// say otherwise: these tests wait on gates, not on pacing.
    pub fn save_profile(&self, mut limits: LimitsFile) {
        limits.requests_per_second.get_or_insert(MAX_REQUESTS_PER_SECOND);
        let profile = ProfileFile {
            api_base: Some(self.sim.base_url()),
            token_base: Some(self.sim.base_url()),
            limits: Some(limits),
            ..Default::default()
        };
        profile.save(&self.paths.profile_file(PROFILE)).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary with this home and profile, and no other environment, logging everything.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .env("HOME", self.path())
            .env("GTM_HOME", self.path())
            .env("GTM_CACHE_DIR", &self.paths.cache)
            .env("GTM_PROFILE", PROFILE)
            .arg("-vvv");
        command
    }

    /// Runs the binary to its end, whatever its exit status; its output holds no secret.
    #[track_caller]
    pub fn output(&self, args: &[&str]) -> Output {
        let out = self.command().args(args).output().unwrap();
        self.assert_no_secret_in(&format!("`gtm-connector {}`", args.join(" ")), &out.stdout, &out.stderr);
        out
    }

    /// Panics if the output of `what` holds a secret of this home, whole or cut short.
    #[track_caller]
    pub fn assert_no_secret_in(&self, what: &str, stdout: &[u8], stderr: &[u8]) {
        let secrets = self.leak_sweep();
        for (stream, bytes) in [("stdout", stdout), ("stderr", stderr)] {
            secrets.assert_not_in(&format!("the {stream} of {what}"), &String::from_utf8_lossy(bytes));
        }
    }

    /// Every secret of this home: what the simulator issued and what the profile stores.
    fn leak_sweep(&self) -> Secrets {
        let mut secrets = self.sim.issued_tokens();
        secrets.extend(profile_secrets(self.path(), PROFILE, &Default::default()));
        Secrets::new(secrets)
    }

    /// Runs the binary and asserts that it succeeded.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.output(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// [`Home::run`]'s stdout as one JSON document.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_slice(&self.run(args).stdout).unwrap()
    }

    pub fn secrets(&self) -> SecretStore {
        SecretStore::open(self.paths.secrets_file(PROFILE), &Default::default()).unwrap()
    }

    /// Holds the next request `matcher` selects (after `skip` of them) until the gate opens.
    pub fn hold(&self, matcher: Matcher, skip: u32, hold: fn(Gate) -> Fault) -> Gate {
        let gate = Gate::default();
        self.sim.add_fault(FaultRule { matcher, skip, times: 1, fault: hold(gate.clone()) });
        gate
    }

    /// Starts the binary with `args`, waits until a request is held at `gate`, then lets `stop`
    /// end the process (kill it, or signal it); returns how it ended. The gate stays shut.
    #[track_caller]
    pub fn stopped_at(&self, args: &[&str], gate: &Gate, stop: impl FnOnce(&mut Child)) -> ExitStatus {
        // The output goes to files in the home, which the sweep on drop reads.
        let n = self.stopped.fetch_add(1, Ordering::SeqCst);
        let output = self.path().join("stopped-output");
        std::fs::create_dir_all(&output).unwrap();
        let file = |stream: &str| Stdio::from(File::create(output.join(format!("{n}.{stream}"))).unwrap());
        let mut child = self.command().args(args).stdout(file("stdout")).stderr(file("stderr")).spawn().unwrap();
        let arrived = gate.wait_for_arrival(Duration::from_secs(120));
        if !arrived {
            let _ = child.kill();
        }
        stop(&mut child);
        let status = child.wait().unwrap();
        assert!(arrived, "`gtm-connector {}` never reached the held request", args.join(" "));
        status
    }

    /// SQLite's own check of the whole state database, run without opening the `Store` (which
    /// would take the lock and write).
    #[track_caller]
    pub fn assert_state_intact(&self) {
        let db = rusqlite::Connection::open(self.paths.state_file(PROFILE)).unwrap();
        let verdict: String = db.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
        assert_eq!(verdict, "ok");
    }
}

/// Sweeps the home for secrets as the test ends (unless it already failed).
impl Drop for Home {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.leak_sweep().assert_home_clean(self.path());
        }
    }
}

/// Kills the process outright, as `kill -9` or the OOM killer would.
pub fn kill(child: &mut Child) {
    child.kill().unwrap();
}
