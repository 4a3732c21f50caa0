//! The rate governor against the simulator's own limiter, which enforces GoTo's 10 requests per
//! second per API: paced at the limit, an import meets no 429; unpaced, the same import meets
//! them (so the limiter is real) and still completes through the component's retries. And the
//! pages of a listing are read ahead in parallel, yet handed on in order.

use std::time::Duration;

use gotosim::{Fault, FaultRule, Gate, Matcher, SimConfig};
use gtm_e2e::{Harness, OpenOnDrop, unthrottled};
use serde_json::Value;

/// 300 accounts in pages of 10: 30 listing requests, three seconds at the limit.
fn limited() -> Harness {
    let config = SimConfig::sized(91, 300, 2, 2);
    assert_eq!(config.knobs.rate_limit_per_sec, Some(10), "the simulator limits like GoTo");
    Harness::new(config)
}

#[test]
fn paced_at_goto_s_limit_an_import_is_never_answered_429() {
    let h = limited();
    h.set_limits("requests-per-second = 10");
    let out = h.run(&["import", "accounts", "--page-size", "10"]).success();
    assert_eq!(out.stdout.lines().count(), 300);
    let stats = h.sim.stats();
    assert_eq!(stats.rate_limited, 0, "no 429 in {} requests", stats.total);
    assert!(stats.by_route.get("GET /accounts/{}/users").copied() >= Some(30));
}

#[test]
fn unpaced_the_same_import_meets_429s_slows_down_and_still_completes() {
    let h = limited();
    let out = h.run(&["import", "accounts", "--page-size", "10"]).success();
    assert_eq!(out.stdout.lines().count(), 300);
    assert!(h.sim.stats().rate_limited > 0, "the simulator's limiter answered 429");
    assert!(out.stderr.contains("GoTo answered 429: pacing requests at 500.0/s"), "{}", out.stderr);
}

/// Pages ahead are fetched while an earlier one is still outstanding (so latency does not add
/// to the rate limit), and still come out in GoTo's order.
#[test]
fn pages_ahead_are_read_in_parallel_and_handed_on_in_order() {
    let h = Harness::new(unthrottled(92, 50));
    let page = |offset: u32| Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some(format!("offset={offset}&")),
        ..Default::default()
    };
    let (second, third) = (Gate::default(), Gate::default());
    for (offset, gate) in [(10, &second), (20, &third)] {
        h.sim.add_fault(FaultRule { matcher: page(offset), skip: 0, times: 1, fault: Fault::Hold(gate.clone()) });
    }
    let _open = OpenOnDrop(vec![second.clone(), third.clone()]);
    let reader = {
        let h = h.env();
        std::thread::spawn(move || gtm_e2e::run_cli(&["import", "accounts", "--page-size", "10"], "", h))
    };
    // Both held at once: the page at offset 20 was asked for before the one at 10 was answered.
    assert!(second.wait_for_arrival(Duration::from_secs(60)), "page 2 never asked for");
    assert!(third.wait_for_arrival(Duration::from_secs(60)), "page 3 not asked for while page 2 was held");
    third.open();
    second.open();
    let out = reader.join().unwrap().success();
    let keys: Vec<String> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, h.user_keys(), "in GoTo's order, each once");
}

#[test]
fn a_pipeline_depth_of_one_reads_one_page_at_a_time() {
    let h = Harness::new(unthrottled(93, 30));
    h.set_limits("pipeline-depth = 1");
    let held = Gate::default();
    let second = Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some("offset=10&".into()),
        ..Default::default()
    };
    h.sim.add_fault(FaultRule { matcher: second, skip: 0, times: 1, fault: Fault::Hold(held.clone()) });
    let _open = OpenOnDrop(vec![held.clone()]);
    let reader = {
        let env = h.env();
        std::thread::spawn(move || gtm_e2e::run_cli(&["import", "accounts", "--page-size", "10"], "", env))
    };
    assert!(held.wait_for_arrival(Duration::from_secs(60)));
    let listing = |h: &Harness| h.sim.stats().by_route.get("GET /accounts/{}/users").copied().unwrap_or(0);
    assert_eq!(listing(&h), 1, "only the first page was answered while the second is held");
    held.open();
    reader.join().unwrap().success();
    assert_eq!(listing(&h), 3);
}

/// Siblings reading in parallel take turns at refreshing: with GoTo rotating the refresh token
/// and access tokens good for 16 requests, every refresh uses the token GoTo issued last.
///
/// Not fewer uses: GoTo's tokens expire by time (an hour), so a token one reader has just
/// refreshed is good for its retry however busy its siblings are. A token good for only two
/// requests could be spent by the siblings before the refresher's retry when the machine is
/// loaded, which GoTo never does, and the test failed on it now and then.
#[test]
fn parallel_readers_take_turns_at_refreshing_a_rotating_token() {
    let mut config = unthrottled(94, 1200);
    config.knobs.rotation = gotosim::Rotation::Always;
    config.knobs.access_token_max_uses = Some(16);
    let h = Harness::new(config);
    let out = h.run(&["import", "accounts", "--page-size", "10"]).success();
    assert_eq!(out.stdout.lines().count(), 1200);
    assert!(!out.stderr.contains("invalid_grant"), "{}", out.stderr);
    let stats = h.sim.stats();
    assert!(stats.refresh_grants_ok >= 6, "refreshed mid-import: {}", stats.refresh_grants_ok);
    assert_eq!(stats.token_requests, stats.refresh_grants_ok, "no refresh was refused");
    assert_eq!(h.stored_secret("refresh-token"), Some(h.sim.credentials().refresh_token));
}
