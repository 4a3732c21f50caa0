//! The rate governor against the simulator's own limiter, which enforces GoTo's 10 requests per
//! second per API: paced at the limit, an import meets no 429; unpaced, the same import meets
//! them (so the limiter is real) and still completes through the component's retries.

use gotosim::SimConfig;
use gtm_e2e::Harness;

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
