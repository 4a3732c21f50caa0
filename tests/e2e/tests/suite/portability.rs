//! Portability: the component the Rust host embeds also runs under jco + Node with a small JS
//! host (tests/portability), against the same simulator, and reads the same data.
//!
//! Needs Node.js 20+ (the pinned npm packages require it) and `npm ci --prefix tests/portability`;
//! without them the test fails rather than skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gtm_e2e::{Harness, unthrottled};
use serde_json::Value;

const SETUP: &str = "run `npm ci --prefix tests/portability` from the repository root (needs Node.js 20 or newer)";
/// Transpiling and running take about a second; this only stops a hung Node from hanging CI.
const TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn the_component_runs_under_jco_and_node_with_a_js_host() {
    let dir = portability_dir();
    require_node_setup(&dir);
    let h = Harness::new(unthrottled(71, 300));
    let work = tempfile::tempdir().unwrap();
    let component = work.path().join("connector.wasm");
    std::fs::write(&component, gtm_host::engine::EMBEDDED_COMPONENT).unwrap();

    let summary = run_check(&h, &dir, &component, work.path());

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
    assert_eq!(summary["errors"]["notFound"]["tag"], "not-found");
    assert_eq!(summary["errors"]["invalidInput"]["tag"], "invalid-input");
    assert_eq!(summary["dryRun"]["accountKey"], fetched["key"]);
    assert_eq!(summary["dryRun"]["method"], "PUT");
    assert_eq!(h.sim.stats().admin_writes, 0, "dry runs under jco send no write either");
}

/// tests/portability, found from this crate's directory (tests/e2e) as cargo gives it to the
/// running test, so any CARGO_TARGET_DIR works, even one last built from another checkout.
fn portability_dir() -> PathBuf {
    let package = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    Path::new(&package).join("../portability").canonicalize().expect("tests/portability exists")
}

/// Fails (never skips) when Node or the npm packages are missing: a skipped portability check
/// would pass CI without checking anything.
fn require_node_setup(dir: &Path) {
    let version = match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(out) => panic!("`node --version` failed ({}); {SETUP}", out.status),
        Err(e) => panic!("cannot run `node` ({e}); install Node.js, then {SETUP}"),
    };
    let major: u32 = version.trim_start_matches('v').split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    assert!(major >= 20, "Node.js {version} is too old for the pinned jco; {SETUP}");
    for package in ["@bytecodealliance/jco", "@bytecodealliance/preview2-shim"] {
        let manifest = dir.join("node_modules").join(package).join("package.json");
        assert!(manifest.is_file(), "{} is missing; {SETUP}", manifest.display());
    }
}

/// Runs check.mjs against the simulator and returns its JSON summary. Node gets a clean
/// environment: settings and secrets go in as GTM_SETTING_*/GTM_SECRET_* variables (see host.mjs),
/// so none from the developer's shell (say, a real tenant's GTM_SECRET_*) can leak in.
fn run_check(h: &Harness, dir: &Path, component: &Path, work: &Path) -> Value {
    let credentials = h.sim.credentials();
    let (stdout_path, stderr_path) = (work.join("stdout"), work.join("stderr"));
    let mut command = Command::new("node");
    command
        .arg(dir.join("check.mjs"))
        .arg(component)
        .current_dir(dir)
        .env_clear()
        .env("GTM_SETTING_API_BASE", h.sim.base_url())
        .env("GTM_SETTING_TOKEN_BASE", h.sim.base_url())
        .env("GTM_SECRET_CLIENT_ID", &credentials.client_id)
        .env("GTM_SECRET_CLIENT_SECRET", &credentials.client_secret)
        .env("GTM_SECRET_REFRESH_TOKEN", &credentials.refresh_token)
        .stdin(Stdio::null())
        // Files, not pipes: nothing to drain while we wait with a deadline.
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    for name in ["PATH", "TMPDIR"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start node ({e}); {SETUP}"));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("check.mjs ran over {TIMEOUT:?}; stderr:\n{}", read(&stderr_path));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (read(&stdout_path), read(&stderr_path));
    assert!(status.success(), "check.mjs failed ({status}); stderr:\n{stderr}\nstdout:\n{stdout}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("check.mjs printed no JSON summary ({e}):\n{stdout}"))
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
