//! The real `gtm-connector` binary as a process: `sim` serving on loopback, an import and a
//! login against it, and exit statuses.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use gtm_leaks::{Secrets, profile_secrets};

const BIN: &str = env!("CARGO_BIN_EXE_gtm-connector");

/// Kills the simulator process however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn command(home: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command.env_clear().env("HOME", home).env("GTM_HOME", home).env("GTM_CACHE_DIR", home.join("cache"));
    command
}

/// Starts `sim` writing the profile `local` into `home`, and returns it once it serves, with
/// the lines it printed.
fn start_sim(home: &std::path::Path) -> (Running, Vec<String>) {
    start_sim_with(home, &[])
}

/// [`start_sim`] with more `sim` flags.
fn start_sim_with(home: &std::path::Path, flags: &[&str]) -> (Running, Vec<String>) {
    let mut sim = command(home)
        .args(["sim", "--port", "0", "--users", "40", "--rate-limit", "0", "--write-profile", "local"])
        .args(flags)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let sim = Running(sim);
    let mut announced = Vec::new();
    // The simulator prints its address, the profile it wrote, then the Ctrl-C line: wait for it.
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("press Ctrl-C");
        announced.push(line);
        if done {
            break;
        }
    }
    assert!(announced[0].starts_with("GoTo simulator listening on http://127.0.0.1:"), "{announced:?}");
    (sim, announced)
}

#[test]
fn sim_serves_and_the_binary_imports_from_it_with_documented_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    let (sim, announced) = start_sim(home.path());

    let import = command(home.path()).args(["-vvv", "--profile", "local", "import", "accounts"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&import.stderr);
    assert!(import.status.success(), "{stderr}");
    let stdout = String::from_utf8(import.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 40);

    // The leak sweep: the profile's secrets (the simulator wrote them, the import cached an
    // access token) are nowhere in what either process printed, nor in any other file.
    let secrets = Secrets::new(profile_secrets(home.path(), "local", &Default::default()));
    secrets.assert_not_in("what `sim` printed", &announced.join("\n"));
    secrets.assert_not_in("the import's stdout", &stdout);
    secrets.assert_not_in("the import's stderr", &stderr);
    secrets.assert_home_clean(home.path());

    let unknown = command(home.path()).args(["--profile", "nope", "test"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown profile \"nope\""));

    std::fs::write(home.path().join("secrets/local.json"), "{}").unwrap();
    let missing = command(home.path()).args(["--profile", "local", "test"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2), "{}", String::from_utf8_lossy(&missing.stderr));
    drop(sim);
}

#[test]
fn the_binary_says_what_it_runs_and_its_bash_completion_loads_in_bash() {
    let home = tempfile::tempdir().unwrap();
    let version = command(home.path()).arg("--version").output().unwrap();
    assert!(version.status.success());
    let version = String::from_utf8(version.stdout).unwrap();
    for needle in ["gtm-connector ", "\ncomponent sha256:", "\nWIT package iga:gotomeeting@", "\nwasmtime "] {
        assert!(version.contains(needle), "--version lacks {needle:?}:\n{version}");
    }

    let script = command(home.path()).args(["completions", "bash"]).output().unwrap();
    assert!(script.status.success());
    let file = home.path().join("gtm-connector.bash");
    std::fs::write(&file, &script.stdout).unwrap();
    // Sourced by bash, the script registers a completion function for the command.
    let loaded = Command::new("bash")
        .arg("-c")
        .arg("source \"$1\" && complete -p gtm-connector")
        .arg("bash")
        .arg(&file)
        .output()
        .unwrap();
    let registered = String::from_utf8_lossy(&loaded.stdout);
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    assert!(
        registered.contains("-F _gtm__connector") && registered.trim_end().ends_with("gtm-connector"),
        "{registered}"
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0, "--version and completions write no file");
}

/// The login as a new administrator runs it on a machine without a display: the address on a
/// line of its own, a browser following it, the tokens stored, the connection tested.
#[test]
fn a_login_without_a_display_prints_the_address_and_receives_the_browsers_redirect() {
    let home = tempfile::tempdir().unwrap();
    let (sim, _) = start_sim(home.path());
    let logout = command(home.path()).args(["--profile", "local", "auth", "logout"]).output().unwrap();
    assert!(logout.status.success(), "{}", String::from_utf8_lossy(&logout.stderr));

    let mut login = command(home.path())
        .args(["--profile", "local", "auth", "login", "--port", "0", "--timeout", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = Vec::new();
    let mut lines = BufReader::new(login.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map(Result::unwrap)
        .inspect(|line| said.push(line.clone()))
        .find(|line| line.starts_with("http://127.0.0.1:") && line.contains("/oauth/authorize?"))
        .expect("the consent page's address");
    let browser = ureq::Agent::new_with_config(ureq::Agent::config_builder().proxy(None).build());
    assert_eq!(browser.get(&url).call().unwrap().status().as_u16(), 200, "the consent reached the login");
    said.extend(lines.map(Result::unwrap));
    let out = login.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{}", said.join("\n"));
    assert!(stdout.starts_with("connected to GoTo account"), "{stdout}");
    assert!(said.iter().any(|l| l.starts_with("Open this address in a browser")), "no display, no browser: {said:?}");

    let secrets = Secrets::new(profile_secrets(home.path(), "local", &Default::default()));
    secrets.assert_not_in("the login's stderr", &said.join("\n"));
    secrets.assert_not_in("the login's stdout", &stdout);
    secrets.assert_home_clean(home.path());
    drop(sim);
}

/// `serve` as a process: it prints its base URL, answers SCIM, and on SIGTERM stops accepting
/// but lets the request in flight finish (GoTo answers it 1.5 s late), then exits 0.
#[test]
fn serve_answers_scim_and_a_sigterm_lets_the_request_in_flight_finish() {
    const TOKEN: &str = "binary-scim-token-5b8e";
    let home = tempfile::tempdir().unwrap();
    let (sim, _) = start_sim_with(home.path(), &["--slow-ms", "1500"]);
    let mut set = command(home.path())
        .args(["--profile", "local", "secrets", "set", "scim-token"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut set.stdin.take().unwrap(), TOKEN.as_bytes()).unwrap();
    assert!(set.wait().unwrap().success());

    let mut serve = command(home.path())
        .args(["-v", "--profile", "local", "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let announced = BufReader::new(serve.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    let base = announced.strip_prefix("SCIM service listening at ").expect("the base URL first").to_owned();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/scim/v2"), "{announced}");
    let (lines, log) = std::sync::mpsc::channel();
    let stderr = serve.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all.push(line);
        }
        all
    });
    let serve = Running(serve);

    let url = format!("{base}/Users?count=3");
    let request = std::thread::spawn(move || {
        let agent = ureq::Agent::new_with_config(ureq::Agent::config_builder().proxy(None).build());
        let mut answer = agent.get(&url).header("authorization", format!("Bearer {TOKEN}")).call().unwrap();
        (answer.status().as_u16(), answer.body_mut().read_to_string().unwrap())
    });
    // The service has asked GoTo for the page: the request is in flight.
    while let Ok(line) = log.recv() {
        if line.contains("→ GET") && line.contains("/users?") {
            break;
        }
    }
    let pid = rustix::process::Pid::from_child(&serve.0);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let (status, body) = request.join().unwrap();
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["totalResults"], 40);
    let mut serve = serve;
    let exit = serve.0.wait().unwrap();
    let stderr = reader.join().unwrap().join("\n");
    assert!(exit.success(), "{exit:?}\n{stderr}");
    assert!(stderr.contains("stopping: the requests in flight finish first"), "{stderr}");
    let mut secrets = profile_secrets(home.path(), "local", &Default::default());
    secrets.push(TOKEN.to_owned());
    Secrets::new(secrets).assert_not_in("what serve logged", &stderr);
    drop(sim);
}
