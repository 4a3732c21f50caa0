//! The sandbox: egress allow-list, redacted logs, time and memory limits.

use gotosim::{Fault, FaultRule, Matcher};
use gtm_e2e::{Harness, unthrottled};
use gtm_host::egress::Origin;
use gtm_host::log::Logger;
use gtm_host::profile::{Overrides, Paths, Profile};
use gtm_host::runtime::{AccountQuery, CallError, ConnectorError, ConnectorRuntime};
use gtm_host::secrets::SecretStore;

#[test]
fn a_host_outside_the_allow_list_is_denied_before_any_traffic() {
    let h = Harness::new(unthrottled(51, 5));
    let paths = Paths { home: h.home.path().to_owned(), cache: h.cache.clone() };
    let mut profile = Profile::load(&paths, "sim", &h.env(), &Overrides::default()).unwrap();
    // Allow only an origin the connector never calls: the simulator's own becomes off-limits.
    profile.egress.allowed = vec![Origin::of_url("https://api.getgo.com").unwrap()];
    let secrets = SecretStore::open(paths.secrets_file("sim"), &h.env()).unwrap();
    let runtime = ConnectorRuntime::load(gtm_host::engine::EMBEDDED_COMPONENT, Some(&h.cache)).unwrap();
    let mut conn = runtime.connect(&profile, secrets, Logger::silent()).unwrap();
    match conn.list_accounts(&AccountQuery { filter: None, page_size: None, cursor: None }) {
        Err(CallError::Connector(ConnectorError::Transport(info))) => {
            assert!(info.message.contains("egress policy denied"), "{}", info.message);
            assert!(info.message.contains(&h.sim.base_url()), "names the refused origin: {}", info.message);
        }
        other => panic!("expected a denied request, got {other:?}"),
    }
    assert_eq!(h.sim.stats().total, 0, "nothing reached the network");
}

#[test]
fn the_traffic_log_never_shows_secrets() {
    let h = Harness::new(unthrottled(52, 30));
    let out = h.run(&["-v", "import", "accounts"]).success();
    let access_token: serde_json::Value = serde_json::from_str(&h.stored_secret("access-token").unwrap()).unwrap();
    let credentials = h.sim.credentials();
    assert!(out.stderr.contains("→ POST"), "the traffic is logged: {}", out.stderr);
    assert!(out.stderr.contains("authorization: <redacted>"), "{}", out.stderr);
    for secret in [access_token["token"].as_str().unwrap(), &credentials.client_secret, &credentials.refresh_token] {
        assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret), "a secret leaked");
    }
    let listed = h.run(&["secrets", "list"]).success();
    assert!(listed.stdout.contains("client-secret\tfile") && !listed.stdout.contains(&credentials.client_secret));
}

#[test]
fn a_call_over_its_time_limit_is_stopped() {
    let h = Harness::new(unthrottled(53, 5));
    h.set_limits("call-timeout-secs = 1");
    h.run(&["test"]).success();
    let slow = Matcher { path_contains: Some("/users".into()), ..Default::default() };
    h.sim.add_fault(FaultRule { matcher: slow, skip: 0, times: 10, fault: Fault::DelayMs(1500) });
    h.run(&["import", "accounts"]).failure(1, &["the connector stopped", "time limit of 1 s"]);
}

#[test]
fn the_guest_memory_cap_holds() {
    let h = Harness::new(unthrottled(54, 1000));
    h.set_limits("memory-mib = 2");
    h.run(&["import", "accounts", "--page-size", "1000"])
        .failure(1, &["exceeded its memory limit of 2 MiB", "memory-mib"]);
}

#[test]
fn a_response_over_the_size_cap_is_refused() {
    let h = Harness::new(unthrottled(55, 300));
    h.set_limits("max-response-kib = 16");
    h.run(&["test"]).success();
    h.run(&["import", "accounts", "--page-size", "300"]).failure(1, &["transport", "HttpResponseBodySize"]);
}

#[test]
fn an_api_base_with_user_information_is_refused_at_load() {
    let h = Harness::new(unthrottled(56, 5));
    let authority = h.sim.base_url().trim_start_matches("http://").to_owned();
    for api_base in [format!("http://x@{authority}"), format!("http://{authority}@localhost")] {
        std::fs::write(h.profile_file(), format!("api-base = {api_base:?}\ntoken-base = {:?}\n", h.sim.base_url()))
            .unwrap();
        h.run(&["test"]).failure(2, &["setting api-base", "user information"]);
    }
    assert_eq!(h.sim.stats().total, 0, "nothing was sent");
}

#[test]
fn plain_http_to_a_name_that_merely_starts_with_127_is_refused_at_load() {
    let h = Harness::new(unthrottled(57, 5));
    h.run(&["--token-base", "http://127.0.0.1.evil.example", "test"])
        .failure(2, &["setting token-base", "plain http is only allowed for loopback hosts"]);
    assert_eq!(h.sim.stats().total, 0, "nothing was sent");
}
