//! `auth login | status | logout`, driven headlessly: the login runs with `--no-browser`, and
//! the test plays the browser, following the printed address to the simulator's consent page
//! and its redirect back to the login's loopback listener (or pasting it back with `--paste`).

use gotosim::{Consent, Knobs};
use gtm_e2e::{Harness, Running, unthrottled};
use serde_json::Value;

/// A browser that follows the consent page's redirect back to the login, never through a proxy.
fn browser() -> ureq::Agent {
    agent(5)
}

/// A browser on another machine: it shows where it was sent instead of going there.
fn remote_browser() -> ureq::Agent {
    agent(0)
}

fn agent(redirects: u32) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .max_redirects(redirects)
        .max_redirects_will_error(false)
        .build();
    ureq::Agent::new_with_config(config)
}

/// Starts `auth login --no-browser --port 0` with `extra`, and returns it with the consent
/// page's address it printed on a line of its own.
fn start_login(h: &Harness, extra: &[&str]) -> (Running, String) {
    let mut args = vec!["auth", "login", "--no-browser", "--port", "0"];
    args.extend(extra);
    let mut run = h.spawn(&args);
    let url = run.line(|l| l.starts_with("http") && l.contains("/oauth/authorize?"));
    (run, url)
}

/// Follows the consent page's address like a browser; returns the status of the last page.
fn consent_in_browser(url: &str) -> u16 {
    browser().get(url).call().expect("the consent page and the redirect answer").status().as_u16()
}

/// The client's flags for a login.
fn client_flags(h: &Harness) -> [String; 4] {
    let client = h.sim.credentials();
    ["--client-id".into(), client.client_id, "--client-secret".into(), client.client_secret]
}

fn secrets_file(h: &Harness) -> Option<String> {
    std::fs::read_to_string(h.secrets_file()).ok()
}

/// What a failed login must leave: the secrets and the profile as they were.
struct Before {
    secrets: Option<String>,
    profile: String,
}

impl Before {
    fn take(h: &Harness) -> Before {
        Before { secrets: secrets_file(h), profile: std::fs::read_to_string(h.profile_file()).unwrap() }
    }

    #[track_caller]
    fn unchanged(&self, h: &Harness) {
        assert_eq!(secrets_file(h), self.secrets, "the secrets are as they were");
        assert_eq!(std::fs::read_to_string(h.profile_file()).unwrap(), self.profile, "the profile is as it was");
    }
}

#[test]
fn a_login_from_nothing_stores_the_tokens_saves_the_account_key_and_tests_the_connection() {
    let h = Harness::without_secrets(unthrottled(101, 12));
    let flags = client_flags(&h);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (run, url) = start_login(&h, &flags);
    let port = url.split("redirect_uri=http%3A%2F%2F127.0.0.1%3A").nth(1).unwrap().split("%2F").next().unwrap();
    assert!(url.contains("response_type=code") && url.contains("&state=") && !url.contains("code_challenge"), "{url}");
    assert_eq!(consent_in_browser(&url), 200, "the browser is told the consent arrived");
    let out = h.finish(run).success();
    let registered = format!("must have this redirect URI registered: http://127.0.0.1:{port}/callback\n");
    assert!(out.stderr.contains(&registered), "{}", out.stderr);

    let account = h.sim.account_key();
    assert!(out.stdout.starts_with(&format!("connected to GoTo account {account}")), "{}", out.stdout);
    assert!(out.stderr.contains("stored access-token, client-id, client-secret, refresh-token in"), "{}", out.stderr);
    let client = h.sim.credentials();
    assert_eq!(h.stored_secret("client-id"), Some(client.client_id));
    assert_eq!(h.stored_secret("client-secret"), Some(client.client_secret));
    assert_eq!(h.stored_secret("refresh-token"), Some(client.refresh_token), "the token the code was exchanged for");
    let profile = std::fs::read_to_string(h.profile_file()).unwrap();
    assert!(profile.contains(&format!("account-key = \"{account}\"")), "{profile}");

    // The stored credentials serve the next command, with the access token the login cached.
    assert_eq!(h.sim.stats().token_requests, 1);
    assert_eq!(h.run(&["import", "accounts"]).success().jsonl().len(), 12);
    assert_eq!(h.sim.stats().token_requests, 1);
}

#[test]
fn a_login_with_pkce_sends_the_challenge_and_its_verifier() {
    let h = Harness::new(unthrottled(102, 3));
    let (run, url) = start_login(&h, &["--pkce"]);
    assert!(url.contains("&code_challenge=") && url.contains("&code_challenge_method=S256"), "{url}");
    consent_in_browser(&url);
    // The simulator refuses an exchange without the verifier behind the challenge.
    h.finish(run).success();
}

#[test]
fn a_login_takes_the_profiles_pkce_setting_and_a_new_client_secret_replaces_the_stored_one() {
    let h = Harness::new(unthrottled(103, 3));
    h.append_to_profile("[login]\npkce = true");
    let client = h.sim.credentials();
    h.run_with_stdin(&["secrets", "set", "client-secret"], "an-outdated-client-secret").success();
    let (run, url) = start_login(&h, &["--client-secret", &client.client_secret]);
    assert!(url.contains("&code_challenge="), "{url}");
    consent_in_browser(&url);
    h.finish(run).success();
    assert_eq!(h.stored_secret("client-secret"), Some(client.client_secret));
}

/// Runs a login with `flags` against a simulator whose knobs `set` changes, follows its consent
/// page in a browser (which is shown a page with `page` status), and checks that it fails with
/// `status`, saying each of `needles`, and that it changed nothing.
fn failed_login(
    seed: u64,
    set: impl FnOnce(&mut Knobs),
    flags: &[&str],
    page: u16,
    status: i32,
    needles: &[&str],
) -> Harness {
    let mut config = unthrottled(seed, 3);
    set(&mut config.knobs);
    let h = Harness::new(config);
    let before = Before::take(&h);
    let (run, url) = start_login(&h, flags);
    assert_eq!(consent_in_browser(&url), page);
    h.finish(run).failure(status, needles);
    before.unchanged(&h);
    h
}

#[test]
fn a_declined_consent_is_credentials_rejected_and_changes_nothing() {
    let declined = ["the consent was declined (access_denied (The user denied access))", "allow access"];
    // The browser is sent back to the terminal.
    let h = failed_login(104, |k| k.consent = Consent::Deny, &[], 400, 3, &declined);
    assert_eq!(h.sim.stats().token_requests, 0);
}

#[test]
fn a_wrong_client_secret_is_refused_at_the_exchange_and_the_stored_secrets_stay() {
    let refused = ["GoTo rejected the OAuth client: invalid_client", "client-secret"];
    failed_login(105, |_| {}, &["--client-secret", "a-wrong-client-secret"], 200, 3, &refused);
}

#[test]
fn an_expired_code_says_to_log_in_again_and_stores_nothing() {
    let expired =
        ["GoTo refused the authorization code: invalid_grant (Authorization code expired)", "auth login` again"];
    failed_login(106, |k| k.authorization_code_ttl_secs = 0, &[], 200, 3, &expired);
}

#[test]
fn a_redirect_with_another_state_is_refused_before_any_exchange() {
    let forged = ["carries another state than this login sent", "nothing was exchanged"];
    let h = failed_login(107, |k| k.consent = Consent::WrongState, &[], 400, 1, &forged);
    assert_eq!(h.sim.stats().token_requests, 0, "the code was never offered");
}

#[test]
fn no_redirect_before_the_timeout_fails_saying_so() {
    let late = ["no consent redirect arrived within 1 s", "--timeout SECS", "--paste"];
    // The consent page, left open.
    failed_login(108, |k| k.consent = Consent::Ignore, &["--timeout", "1"], 200, 1, &late);
}

#[test]
fn a_port_in_use_is_bad_input_and_nothing_is_contacted() {
    let h = Harness::new(unthrottled(109, 3));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = h.run(&["auth", "login", "--no-browser", "--port", &port]);
    let out = out.failure(2, &[&format!("port {port} on 127.0.0.1 is in use"), "--port", "[login] port"]);
    assert!(!out.stderr.contains("/oauth/authorize"), "{}", out.stderr);
    assert_eq!(h.sim.stats().token_requests, 0);
}

#[test]
fn without_a_client_id_and_a_terminal_the_login_names_the_ways_to_give_one() {
    let h = Harness::without_secrets(unthrottled(110, 3));
    h.run(&["auth", "login", "--no-browser"])
        .failure(2, &["no OAuth client-id to log in with", "--client-id", "GTM_SECRET_CLIENT_ID"]);
    let client = h.sim.credentials().client_id;
    h.run(&["auth", "login", "--client-id", &client]).failure(2, &["no OAuth client-secret", "--client-secret"]);
    assert!(secrets_file(&h).is_none(), "nothing stored");
}

/// The address the consent page sends a browser on another machine to.
fn redirect_location(url: &str) -> String {
    let page = remote_browser().get(url).call().unwrap();
    assert_eq!(page.status().as_u16(), 302);
    page.headers().get("location").unwrap().to_str().unwrap().to_owned()
}

#[test]
fn a_pasted_redirect_logs_in_without_a_listener() {
    let h = Harness::without_secrets(unthrottled(111, 3));
    let flags = client_flags(&h);
    let mut args = vec!["--paste"];
    args.extend(flags.iter().map(String::as_str));
    let (mut run, url) = start_login(&h, &args);
    run.line(|l| l.contains("paste here the whole address"));
    let location = redirect_location(&url);
    run.type_in(&format!("{location}\n"));
    let out = h.finish(run).success();
    assert!(out.stdout.starts_with("connected to GoTo account"), "{}", out.stdout);
    assert_eq!(h.stored_secret("refresh-token"), Some(h.sim.credentials().refresh_token));
}

#[test]
fn a_pasted_code_that_was_used_already_is_refused_and_a_pasted_nonsense_is_bad_input() {
    let h = Harness::new(unthrottled(112, 3));
    let before = Before::take(&h);
    let (mut run, url) = start_login(&h, &["--paste"]);
    let location = redirect_location(&url);
    // Someone else exchanges the code first.
    let (redirect_uri, query) = location.split_once('?').unwrap();
    let code = query.strip_prefix("code=").unwrap().split('&').next().unwrap();
    let client = h.sim.credentials();
    let spent = browser()
        .post(format!("{}/oauth/token", h.sim.base_url()))
        .header("Authorization", basic(&client.client_id, &client.client_secret))
        .content_type("application/x-www-form-urlencoded")
        .send(format!("grant_type=authorization_code&code={code}&redirect_uri={redirect_uri}"))
        .unwrap();
    assert_eq!(spent.status().as_u16(), 200);
    run.type_in(&format!("{location}\n"));
    h.finish(run).failure(3, &["GoTo refused the authorization code: invalid_grant (Invalid authorization code)"]);
    before.unchanged(&h);

    let (mut run, _) = start_login(&h, &["--paste"]);
    run.type_in("the code is 1234\n");
    h.finish(run).failure(2, &["not the address of a consent redirect", "paste the whole address"]);
    before.unchanged(&h);
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

#[test]
fn status_lists_the_credentials_and_their_sources_and_the_cached_tokens_expiry() {
    let h = Harness::new(unthrottled(113, 3));
    let secrets = h.secrets_file().display().to_string();
    let text = h.run(&["auth", "status"]).success().stdout;
    assert!(text.contains(&format!("client-id\tfile {secrets}")), "{text}");
    assert!(text.contains("access-token\tnot cached"), "{text}");
    assert!(text.contains("refresh-token\tfile") && text.contains(", stored 0 s ago"), "{text}");
    assert!(text.contains("account-key\tnot set"), "{text}");

    h.run(&["test"]).success();
    let mut env = h.env();
    env.insert("GTM_SECRET_CLIENT_SECRET".into(), h.sim.credentials().client_secret);
    let report: Value = h.run_with(&["auth", "status", "--format", "json"], "", env).success().json();
    let source = |name: &str| {
        let listed = report["credentials"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap().clone();
        (listed["source"].clone(), listed["location"].clone())
    };
    assert_eq!(source("client-secret"), ("env".into(), "GTM_SECRET_CLIENT_SECRET".into()));
    assert_eq!(source("refresh-token"), ("file".into(), secrets.clone().into()));
    let left = report["access_token"]["expires_in_secs"].as_u64().unwrap();
    assert!((3000..=3600).contains(&left), "{report}");
    assert_eq!(report["access_token"]["expired"], false);
    assert_eq!(report["refresh_token"]["warning"], Value::Null);
    let text = h.run(&["auth", "status"]).success().stdout;
    assert!(text.contains("access-token\tfile") && text.contains("expires in"), "{text}");
}

#[test]
fn status_warns_as_the_refresh_tokens_thirty_days_near() {
    let h = Harness::new(unthrottled(114, 3));
    let mut file: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(h.secrets_file()).unwrap()).unwrap();
    let stored: u64 = file["refresh-token.stored-at"].as_str().unwrap().parse().unwrap();
    file.insert("refresh-token.stored-at".into(), (stored - 26 * 86_400).to_string().into());
    std::fs::write(h.secrets_file(), serde_json::to_string(&file).unwrap()).unwrap();
    let out = h.run(&["auth", "status"]).success();
    assert!(out.stderr.contains("warning: the refresh token was stored 26 days ago"), "{}", out.stderr);
    assert!(out.stderr.contains("run `gtm-connector auth login` before then"), "{}", out.stderr);
    let report = h.run(&["auth", "status", "--format", "json"]).success().json();
    assert!(report["refresh_token"]["age_secs"].as_u64().unwrap() >= 26 * 86_400);
    assert!(report["refresh_token"]["warning"].as_str().unwrap().contains("it stops working in about"), "{report}");
}

#[test]
fn logout_removes_the_tokens_keeps_the_client_and_the_next_run_says_to_log_in() {
    let h = Harness::new(unthrottled(115, 3));
    h.run(&["test"]).success();
    let out = h.run(&["auth", "logout"]).success();
    assert!(out.stdout.contains("removed refresh-token, access-token from"), "{}", out.stdout);
    assert!(out.stdout.contains("kept client-id, client-secret"), "{}", out.stdout);
    assert_eq!((h.stored_secret("refresh-token"), h.stored_secret("access-token")), (None, None));
    assert!(h.stored_secret("client-secret").is_some());
    h.run(&["test"]).failure(2, &["the secret refresh-token is not set", "auth login` for a new one"]);
    assert!(h.run(&["auth", "logout"]).success().stdout.starts_with("no tokens were stored"));
}

#[test]
fn logout_says_when_a_variable_still_supplies_a_refresh_token() {
    let h = Harness::new(unthrottled(116, 3));
    let mut env = h.env();
    env.insert("GTM_SECRET_REFRESH_TOKEN".into(), h.sim.credentials().refresh_token);
    let out = h.run_with(&["auth", "logout"], "", env).success();
    assert!(out.stderr.contains("GTM_SECRET_REFRESH_TOKEN still supplies a refresh token; unset it"), "{}", out.stderr);
}

/// A login to a profile that does not exist yet creates it, pointed where the flags said.
#[test]
fn a_login_creates_a_new_profile_with_the_bases_it_was_given() {
    let h = Harness::without_secrets(unthrottled(117, 3));
    let base = h.sim.base_url();
    let flags = client_flags(&h);
    let mut args = vec!["--profile", "fresh", "--api-base", &base, "--token-base", &base];
    args.extend(["auth", "login", "--no-browser", "--port", "0"]);
    args.extend(flags.iter().map(String::as_str));
    let mut run = h.spawn(&args);
    let url = run.line(|l| l.contains("/oauth/authorize?"));
    consent_in_browser(&url);
    h.finish(run).success();
    let profile = std::fs::read_to_string(h.home.path().join("profiles/fresh.toml")).unwrap();
    assert!(profile.contains(&format!("api-base = \"{base}\"")) && profile.contains("account-key"), "{profile}");
    let mut env = h.env();
    env.insert("GTM_PROFILE".into(), "fresh".into());
    h.run_with(&["test"], "", env).success();
}
