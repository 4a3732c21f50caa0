//! Test harness for the end-to-end suites: a seeded simulator, a profile pointing at it in a
//! temporary home, and the real `gtm-connector` CLI run in-process against both; and a hostile
//! server ([`hostile`]) for what the simulator would never do.

pub mod hostile;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use gotosim::{Gate, SimConfig, Simulator};
use gtm_host::cli::{Invocation, run};
use gtm_host::profile::{Environment, ProfileFile};
use serde_json::Value;

/// Opens its gates however a test ends: the simulator waits for held requests when dropped.
pub struct OpenOnDrop(pub Vec<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.iter().for_each(Gate::open);
    }
}

/// The profile every harness writes.
pub const PROFILE: &str = "sim";

/// A simulator of `users` users with rate limiting off, so tests that are not about throttling
/// never wait on it.
pub fn unthrottled(seed: u64, users: usize) -> SimConfig {
    let mut config = SimConfig::sized(seed, users, 6, 3);
    config.knobs.rate_limit_per_sec = None;
    config
}

pub struct Harness {
    pub sim: Simulator,
    pub home: tempfile::TempDir,
    pub cache: PathBuf,
}

/// What one CLI run produced.
#[derive(Debug)]
pub struct Outcome {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Asserts exit status 0 and returns self, showing stderr on failure.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.status, 0, "expected success; stderr:\n{}\nstdout:\n{}", self.stderr, self.stdout);
        self
    }

    /// Asserts a failure with this status whose stderr mentions every one of `needles`.
    #[track_caller]
    pub fn failure(self, status: i32, needles: &[&str]) -> Self {
        assert_eq!(self.status, status, "stderr:\n{}", self.stderr);
        for needle in needles {
            assert!(self.stderr.contains(needle), "stderr lacks {needle:?}:\n{}", self.stderr);
        }
        self
    }

    /// stdout parsed as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// stdout parsed as JSON Lines.
    pub fn jsonl(&self) -> Vec<Value> {
        parse_jsonl(&self.stdout)
    }
}

pub fn parse_jsonl(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}"))).collect()
}

/// A `Write` whose bytes can be read back after the CLI has taken ownership of it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Harness {
    /// Starts the simulator and writes profile `sim` with its credentials.
    pub fn new(config: SimConfig) -> Harness {
        let sim = Simulator::start(config).expect("simulator starts");
        let home = tempfile::tempdir().unwrap();
        let harness = Harness { sim, cache: shared_cache(), home };
        let base = harness.sim.base_url();
        ProfileFile { api_base: Some(base.clone()), token_base: Some(base), ..Default::default() }
            .save(&harness.profile_file())
            .unwrap();
        let credentials = harness.sim.credentials();
        for (name, value) in [
            ("client-id", credentials.client_id),
            ("client-secret", credentials.client_secret),
            ("refresh-token", credentials.refresh_token),
        ] {
            harness.run_with_stdin(&["secrets", "set", name], &value).success();
        }
        harness
    }

    /// A harness whose profile points at `server` for both the API and the token endpoint; the
    /// simulator behind it only supplies the stored credentials.
    pub fn against(server: &hostile::Hostile) -> Harness {
        let harness = Harness::new(unthrottled(0, 1));
        harness.point_at(&server.base_url());
        harness
    }

    /// Rewrites the profile to use `base` for the API and the token endpoint.
    pub fn point_at(&self, base: &str) {
        ProfileFile { api_base: Some(base.to_owned()), token_base: Some(base.to_owned()), ..Default::default() }
            .save(&self.profile_file())
            .unwrap();
    }

    /// Adds a `[limits]` table with these lines to the profile.
    pub fn set_limits(&self, lines: &str) {
        self.append_to_profile(&format!("[limits]\n{lines}"));
    }

    /// Appends TOML to the profile: settings before any table, or whole tables.
    pub fn append_to_profile(&self, toml: &str) {
        let profile = std::fs::read_to_string(self.profile_file()).unwrap();
        let (settings, tables) = match profile.find("\n[") {
            Some(at) => profile.split_at(at + 1),
            None => (profile.as_str(), ""),
        };
        let text = if toml.trim_start().starts_with('[') {
            format!("{profile}\n{toml}\n")
        } else {
            format!("{settings}{toml}\n{tables}")
        };
        std::fs::write(self.profile_file(), text).unwrap();
    }

    /// Write requests the simulator has received so far.
    pub fn writes(&self) -> u64 {
        self.sim.stats().admin_writes
    }

    pub fn profile_file(&self) -> PathBuf {
        self.home.path().join("profiles").join(format!("{PROFILE}.toml"))
    }

    pub fn secrets_file(&self) -> PathBuf {
        self.home.path().join("secrets").join(format!("{PROFILE}.json"))
    }

    /// The secret as stored in the profile's secret file.
    pub fn stored_secret(&self, name: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.secrets_file()).ok()?;
        let map: BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
        map.get(name).cloned()
    }

    pub fn env(&self) -> Environment {
        Environment::from([
            ("HOME".to_owned(), self.home.path().display().to_string()),
            ("GTM_HOME".to_owned(), self.home.path().display().to_string()),
            ("GTM_CACHE_DIR".to_owned(), self.cache.display().to_string()),
            ("GTM_PROFILE".to_owned(), PROFILE.to_owned()),
        ])
    }

    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_with(args, "", self.env())
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Outcome {
        self.run_with(args, stdin, self.env())
    }

    pub fn run_with(&self, args: &[&str], stdin: &str, env: Environment) -> Outcome {
        run_cli(args, stdin, env)
    }

    /// Every account key in the simulator, in GoTo's order.
    pub fn user_keys(&self) -> Vec<String> {
        self.sim.with_world(|w| w.users().into_iter().map(|u| u.key).collect())
    }
}

/// Runs the CLI in-process with exactly this environment.
pub fn run_cli(args: &[&str], stdin: &str, env: Environment) -> Outcome {
    let mut stdout = Vec::new();
    let (status, stderr) = run_cli_into(args, stdin, env, &mut stdout);
    Outcome { status, stdout: String::from_utf8(stdout).unwrap(), stderr }
}

/// [`run_cli`] with stdout written to `stdout`; returns the exit status and stderr.
pub fn run_cli_into(args: &[&str], stdin: &str, env: Environment, stdout: &mut dyn Write) -> (i32, String) {
    let mut argv = vec!["gtm-connector".to_owned()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let stderr = Captured::default();
    let status = run(Invocation {
        args: argv,
        env,
        stdin: &mut stdin.as_bytes(),
        stdin_is_terminal: false,
        stdout,
        stderr: Box::new(stderr.clone()),
        stderr_is_terminal: false,
    });
    let stderr = String::from_utf8(stderr.0.lock().unwrap().clone()).unwrap();
    (status, stderr)
}

/// A compiled-code cache shared by all tests of a run (entries are content-addressed and written
/// atomically, so sharing is safe); tests about the cache use their own directory.
fn shared_cache() -> PathBuf {
    std::env::temp_dir().join("gtm-e2e-component-cache")
}

/// Files directly in `dir`, for asserting that nothing partial was left behind.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}
