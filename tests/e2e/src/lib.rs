//! Test harness for the end-to-end suites: a seeded simulator, a profile pointing at it in a
//! temporary home, and the real `gtm-connector` CLI run in-process against both; and a hostile
//! server ([`hostile`]) for what the simulator would never do.
//!
//! It is also a leak sweep. Every CLI run goes at `-vvv` (all the logging there is), and its
//! stdout and stderr are searched (with `gtm-leaks`) for every secret, whole or cut short: the
//! client secret, refresh and access tokens, and the Basic form of the client credentials. When
//! a harness is dropped, every file under its home except the secrets files (the state database
//! included) is searched too.

pub mod direct;
pub mod hostile;
pub mod scim;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use gotosim::{Gate, SimConfig, Simulator};
use gtm_host::cli::{Invocation, run};
use gtm_host::connector::{Connector, Setup};
use gtm_host::log::Logger;
use gtm_host::profile::{Environment, LimitsFile, MAX_REQUESTS_PER_SECOND, ProfileFile};
use gtm_leaks::{Secrets, profile_secrets};
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

/// The `key` of each record, in order.
pub fn keys(records: &[Value]) -> Vec<String> {
    records.iter().map(|r| r["key"].as_str().unwrap().to_owned()).collect()
}

/// A `Write` whose bytes can be read back after the CLI has taken ownership of it.
#[derive(Clone, Default)]
pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

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
        let harness = Harness::without_secrets(config);
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

    /// Starts the simulator and writes profile `sim` pointing at it, with no secrets: where a
    /// new administrator starts.
    pub fn without_secrets(config: SimConfig) -> Harness {
        let sim = Simulator::start(config).expect("simulator starts");
        let home = tempfile::tempdir().unwrap();
        let harness = Harness { sim, cache: shared_cache(), home };
        harness.point_at(&harness.sim.base_url());
        harness
    }

    /// A harness whose profile points at `server` for both the API and the token endpoint; the
    /// simulator behind it only supplies the stored credentials.
    pub fn against(server: &hostile::Hostile) -> Harness {
        let harness = Harness::new(unthrottled(0, 1));
        harness.point_at(&server.base_url());
        harness
    }

    /// Rewrites the profile to use `base` for the API and the token endpoint. Requests are paced
    /// as fast as the governor goes, so that tests not about pacing never wait on it.
    pub fn point_at(&self, base: &str) {
        let limits = LimitsFile { requests_per_second: Some(MAX_REQUESTS_PER_SECOND), ..Default::default() };
        let profile = ProfileFile {
            api_base: Some(base.to_owned()),
            token_base: Some(base.to_owned()),
            limits: Some(limits),
            ..Default::default()
        };
        profile.save(&self.profile_file()).unwrap();
    }

    /// Adds these lines to the profile's `[limits]` table (a key given here replaces the
    /// harness's own).
    pub fn set_limits(&self, lines: &str) {
        let profile = std::fs::read_to_string(self.profile_file()).unwrap();
        let own: Vec<&str> = lines.lines().filter_map(|l| l.split('=').next()).map(str::trim).collect();
        let kept: Vec<&str> =
            profile.lines().filter(|l| !own.contains(&l.split('=').next().unwrap_or_default().trim())).collect();
        let text = kept.join("\n").replacen("[limits]", &format!("[limits]\n{lines}"), 1);
        std::fs::write(self.profile_file(), text + "\n").unwrap();
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

    /// Like [`Harness::run_with_stdin`], with bytes that need not be UTF-8.
    pub fn run_with_stdin_bytes(&self, args: &[&str], stdin: &[u8]) -> Outcome {
        run_cli_bytes(args, stdin, self.env())
    }

    pub fn run_with(&self, args: &[&str], stdin: &str, env: Environment) -> Outcome {
        self.swept(args, run_cli(args, stdin, env))
    }

    /// Runs as if stdin were a terminal on which the user types `typed` (answers to prompts).
    pub fn run_on_terminal(&self, args: &[&str], typed: &str) -> Outcome {
        self.swept(args, captured(args, typed.as_bytes(), true, self.env()))
    }

    /// `outcome`, once checked for the secrets the servers issued.
    fn swept(&self, args: &[&str], outcome: Outcome) -> Outcome {
        outcome.assert_no_secret(args, &Secrets::new(self.issued_secrets()));
        outcome
    }

    /// Starts a run in its own thread, with stdin open for [`Running::type_in`].
    pub fn spawn(&self, args: &[&str]) -> Running {
        let (mut stdin, writer) = std::io::pipe().expect("a pipe for stdin");
        let (sender, lines) = mpsc::channel();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let env = self.env();
        let run = {
            let args = args.clone();
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run_swept(&args, &mut stdin, false, env, &mut Vec::new(), Some(sender))
            })
        };
        Running { args, lines, seen: Vec::new(), stdin: Some(writer), run }
    }

    /// Waits for a spawned run to end (closing its stdin), and sweeps its output for every
    /// token the servers issued meanwhile too.
    pub fn finish(&self, mut running: Running) -> Outcome {
        running.stdin = None;
        let outcome = running.run.join().expect("the run does not panic");
        let args: Vec<&str> = running.args.iter().map(String::as_str).collect();
        outcome.assert_no_secret(&args, &Secrets::new(self.issued_secrets()));
        outcome
    }

    /// Secrets issued by the servers behind this harness: every token the simulator minted,
    /// and the hostile server's access token.
    pub(crate) fn issued_secrets(&self) -> Vec<String> {
        let mut secrets = self.sim.issued_tokens();
        secrets.push(hostile::ACCESS_TOKEN.to_owned());
        secrets
    }

    /// The library's [`Connector`] for this harness's profile, opened as a front end opens it,
    /// logging to `log`.
    pub fn connector(&self, log: Logger) -> anyhow::Result<Connector> {
        let env = self.env();
        let setup = Setup {
            env: &env,
            config_dir: None,
            profile: PROFILE,
            overrides: Default::default(),
            component: None,
            log,
        };
        Connector::open(&setup)
    }

    /// Every account key in the simulator, in GoTo's order.
    pub fn user_keys(&self) -> Vec<String> {
        self.sim.with_world(|w| w.users().into_iter().map(|u| u.key).collect())
    }
}

/// Sweeps the home for secrets as the test ends (unless it already failed).
impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let mut secrets = self.issued_secrets();
        secrets.extend(secrets_in(self.home.path(), &self.env()));
        Secrets::new(secrets).assert_home_clean(self.home.path());
    }
}

/// The secrets of the profile `env` selects (see [`profile_secrets`]).
fn secrets_in(home: &Path, env: &Environment) -> Vec<String> {
    let profile = env.get("GTM_PROFILE").map_or("default", String::as_str);
    profile_secrets(home, profile, env)
}

impl Outcome {
    /// Panics if stdout or stderr holds any of `secrets`, whole or cut short.
    #[track_caller]
    fn assert_no_secret(&self, args: &[&str], secrets: &Secrets) {
        for (stream, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            secrets.assert_not_in(&format!("the {stream} of `gtm-connector {}`", args.join(" ")), text);
        }
    }
}

/// Runs the CLI in-process with exactly this environment, at `-vvv`, and checks that its output
/// holds none of the profile's secrets.
pub fn run_cli(args: &[&str], stdin: &str, env: Environment) -> Outcome {
    run_cli_bytes(args, stdin.as_bytes(), env)
}

/// [`run_cli`] with stdin as bytes.
pub fn run_cli_bytes(args: &[&str], stdin: &[u8], env: Environment) -> Outcome {
    captured(args, stdin, false, env)
}

/// [`run_cli_bytes`], with stdin taken for a terminal if `on_terminal`.
fn captured(args: &[&str], stdin: &[u8], on_terminal: bool, env: Environment) -> Outcome {
    let mut stdin = stdin;
    run_swept(args, &mut stdin, on_terminal, env, &mut Vec::new(), None)
}

/// [`run_cli_bytes`] with stdout written to `stdout` (which may refuse it, as a closed pipe
/// does); returns the exit status and stderr. What reached `stdout` is checked for secrets too.
pub fn run_cli_into(args: &[&str], mut stdin: &[u8], env: Environment, stdout: &mut dyn Write) -> (i32, String) {
    let seen = run_swept(args, &mut stdin, false, env, stdout, None);
    (seen.status, seen.stderr)
}

/// Runs the CLI at `-vvv` with stderr captured (and each line also sent to `lines`), stdin taken
/// for a terminal if `on_terminal`, and checks its output for the profile's secrets; stdout is
/// what reached `stdout`.
fn run_swept(
    args: &[&str],
    stdin: &mut dyn Read,
    on_terminal: bool,
    env: Environment,
    stdout: &mut dyn Write,
    lines: Option<mpsc::Sender<String>>,
) -> Outcome {
    let secrets_of = |env: &Environment| env.get("GTM_HOME").map(|h| secrets_in(Path::new(h), env)).unwrap_or_default();
    let mut secrets = secrets_of(&env);
    let mut argv = vec!["gtm-connector".to_owned(), "-vvv".to_owned()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let stderr = Captured::default();
    let mut tee = Tee { out: stdout, copy: Vec::new() };
    let status = run(Invocation {
        args: argv,
        env: env.clone(),
        stdin,
        stdin_is_terminal: on_terminal,
        stdout: &mut tee,
        stderr: Box::new(Lines { to: stderr.clone(), partial: Vec::new(), lines }),
        stderr_is_terminal: false,
    });
    let stderr = String::from_utf8(stderr.0.lock().unwrap().clone()).unwrap();
    secrets.extend(secrets_of(&env));
    let seen = Outcome { status, stdout: String::from_utf8_lossy(&tee.copy).into_owned(), stderr };
    seen.assert_no_secret(args, &Secrets::new(secrets));
    seen
}

/// A stdout whose reader goes away after `limit` bytes, as `head -c` does.
pub struct ClosesAfter {
    limit: usize,
    /// What the reader took before it went away.
    pub taken: Vec<u8>,
}

impl ClosesAfter {
    pub fn new(limit: usize) -> ClosesAfter {
        ClosesAfter { limit, taken: Vec::new() }
    }
}

impl Write for ClosesAfter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.limit - self.taken.len();
        if room == 0 {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(room);
        self.taken.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.taken.len() < self.limit { Ok(()) } else { Err(std::io::ErrorKind::BrokenPipe.into()) }
    }
}

/// Passes writes on to `to`, and each complete line to `lines` too.
struct Lines {
    to: Captured,
    partial: Vec<u8>,
    lines: Option<mpsc::Sender<String>>,
}

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.to.write_all(buf)?;
        if let Some(lines) = &self.lines {
            self.partial.extend_from_slice(buf);
            while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.partial.drain(..=end).collect();
                // A test that stopped reading has what it needed.
                let _ = lines.send(String::from_utf8_lossy(&line[..end]).into_owned());
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A CLI run going on in its own thread ([`Harness::spawn`]), for a command that waits on the
/// outside world (`auth login` waits for a browser): the test reads its stderr line by line as
/// it is written, writes its stdin when it has something to say, and ends it with
/// [`Harness::finish`].
pub struct Running {
    args: Vec<String>,
    lines: mpsc::Receiver<String>,
    /// The stderr lines read so far, for a failure to show.
    seen: Vec<String>,
    stdin: Option<std::io::PipeWriter>,
    run: std::thread::JoinHandle<Outcome>,
}

impl Running {
    /// Waits for the next stderr line satisfying `wanted` and returns it; panics, showing the
    /// lines so far, if the run ends first.
    #[track_caller]
    pub fn line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        while let Ok(line) = self.lines.recv() {
            self.seen.push(line.clone());
            if wanted(&line) {
                return line;
            }
        }
        panic!("the run ended without the line awaited; its stderr:\n{}", self.seen.join("\n"))
    }

    /// Writes `text` to the run's stdin and closes it.
    pub fn type_in(&mut self, text: &str) {
        let mut stdin = self.stdin.take().expect("stdin is written once");
        stdin.write_all(text.as_bytes()).expect("the run reads its stdin");
    }
}

/// Passes writes on to `out` and keeps a copy of what `out` accepted.
struct Tee<'a> {
    out: &'a mut dyn Write,
    copy: Vec<u8>,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.out.write(buf)?;
        self.copy.extend_from_slice(&buf[..written]);
        Ok(written)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
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
