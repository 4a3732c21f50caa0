//! GoTo misbehaving: throttling, gateway errors, truncated bodies, slowness, unreachable hosts.

use gotosim::{Fault, FaultRule, Matcher};
use gtm_e2e::{Harness, files_in, unthrottled};

fn on_users(fault: Fault, times: u32) -> FaultRule {
    FaultRule { matcher: Matcher { path_contains: Some("/users".into()), ..Default::default() }, skip: 1, times, fault }
}

#[test]
fn a_429_is_waited_out_and_the_import_completes() {
    let h = Harness::new(unthrottled(41, 300));
    h.sim.add_fault(on_users(Fault::RateLimited, 1));
    let records = h.run(&["import", "accounts", "--page-size", "100"]).success().jsonl();
    assert_eq!(records.len(), 300);
    assert_eq!(h.sim.stats().rate_limited, 1);
}

#[test]
fn the_default_rate_limit_is_respected_by_retrying() {
    let mut config = unthrottled(42, 60);
    config.knobs.rate_limit_per_sec = Some(2);
    let h = Harness::new(config);
    let records = h.run(&["import", "accounts", "--page-size", "10"]).success().jsonl();
    assert_eq!(records.len(), 60);
    assert!(h.sim.stats().rate_limited >= 1, "{:?}", h.sim.stats());
}

#[test]
fn a_one_off_html_502_is_retried() {
    let h = Harness::new(unthrottled(43, 150));
    h.sim.add_fault(on_users(Fault::Html502, 1));
    assert_eq!(h.run(&["import", "accounts", "--page-size", "50"]).success().jsonl().len(), 150);
}

#[test]
fn a_persistent_html_502_is_a_clear_remote_error_and_leaves_no_file() {
    let h = Harness::new(unthrottled(44, 150));
    h.sim.add_fault(on_users(Fault::Html502, 100));
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    h.run(&["import", "accounts", "--page-size", "50", "-o", output.to_str().unwrap()])
        .failure(1, &["HTTP 502", "non-JSON body (text/html)", "Bad Gateway"]);
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn five_hundreds_in_a_burst_are_retried() {
    let h = Harness::new(unthrottled(45, 100));
    h.sim.add_fault(on_users(Fault::Status(503), 2));
    assert_eq!(h.run(&["import", "accounts", "--page-size", "50"]).success().jsonl().len(), 100);
}

#[test]
fn truncated_and_non_json_bodies_are_read_again() {
    let h = Harness::new(unthrottled(46, 100));
    h.sim.add_fault(on_users(Fault::Truncated, 1));
    h.sim.add_fault(FaultRule { skip: 2, ..on_users(Fault::NonJson, 1) });
    assert_eq!(h.run(&["import", "accounts", "--page-size", "25"]).success().jsonl().len(), 100);
}

#[test]
fn bodies_that_stay_broken_become_a_transport_error() {
    let h = Harness::new(unthrottled(47, 10));
    h.sim.add_fault(FaultRule { skip: 0, ..on_users(Fault::Truncated, 100) });
    h.run(&["import", "accounts"]).failure(1, &["transport", "not the expected JSON"]);
}

#[test]
fn a_slow_server_hits_the_http_timeout() {
    let h = Harness::new(unthrottled(48, 10));
    h.set_limits("http-timeout-secs = 1");
    h.run(&["test"]).success();
    h.sim.add_fault(FaultRule { skip: 0, ..on_users(Fault::DelayMs(2500), 100) });
    h.run(&["import", "accounts"]).failure(1, &["transport", "Timeout"]);
}

#[test]
fn an_unreachable_host_is_a_transport_error_with_a_hint() {
    let h = Harness::new(unthrottled(49, 5));
    // Port 1 on loopback: nothing listens there.
    h.run(&["--api-base", "http://127.0.0.1:1", "--token-base", "http://127.0.0.1:1", "test"]).failure(
        1,
        &[
            "transport",
            "POST /oauth/token to http://127.0.0.1:1 failed: ErrorCode::ConnectionRefused",
            "hint: check that api-base and token-base",
        ],
    );
}
