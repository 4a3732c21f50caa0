//! `doctor`: the read-only tenant probe, against the simulator configured either way GoTo might
//! behave, and against a server that refuses every probe.

use gtm_e2e::hostile::{Hostile, Reply};
use gtm_e2e::{Harness, unthrottled};
use serde_json::{Value, json};

/// The findings of `doctor --format json`, by name.
fn findings(h: &Harness) -> serde_json::Map<String, Value> {
    let out = h.run(&["doctor", "--format", "json"]).success().json();
    out.as_array().unwrap().iter().map(|f| (f["name"].as_str().unwrap().to_owned(), f.clone())).collect()
}

fn observed<'f>(findings: &'f serde_json::Map<String, Value>, name: &str) -> &'f str {
    findings.get(name).and_then(|f| f["observed"].as_str()).unwrap_or_else(|| panic!("no {name}: {findings:?}"))
}

#[test]
fn doctor_reports_what_a_goto_like_tenant_does_and_writes_nothing() {
    let h = Harness::new(unthrottled(340, 50));
    h.sim.set_knobs(|k| {
        k.max_page_size = 20;
        k.access_token_ttl_secs = 1800;
    });
    let found = findings(&h);
    assert!(observed(&found, "page-size").contains("1000: clamped to 20 of 50"), "{found:?}");
    assert_eq!(found["page-size"]["recommended"], "page-size = 20");
    assert!(observed(&found, "filter-escaping").contains("escaped value matches the admin's own email"));
    assert_eq!(found["filter-escaping"]["recommended"], "filter-escaping = \"escaped\"");
    assert!(observed(&found, "single-license-read").contains("exists"), "{found:?}");
    assert!(observed(&found, "single-group-read").contains("exists"), "{found:?}");
    assert!(observed(&found, "token-lifetime").contains("lasts 1800 s"), "{found:?}");
    for field in ["accountKey", "accounts", "email"] {
        assert!(observed(&found, "me-fields").contains(field), "{found:?}");
    }
    for unprobed in ["license-assignment", "group-move", "empty-lists"] {
        assert!(observed(&found, unprobed).contains("not probed"), "{found:?}");
    }
    assert!(found.contains_key("rate-limit-headers"));

    // The other world: no single-object reads, pages honoured up to 1000.
    h.sim.set_knobs(|k| {
        k.single_object_reads = false;
        k.max_page_size = 1000;
    });
    let found = findings(&h);
    assert!(observed(&found, "single-license-read").contains("404"), "{found:?}");
    assert!(observed(&found, "single-group-read").contains("404"), "{found:?}");
    assert!(observed(&found, "page-size").contains("all 50 users in one page"), "{found:?}");

    let text = h.run(&["doctor"]).success().stdout;
    assert!(text.lines().any(|l| l.starts_with("page-size ")), "{text}");
    assert!(text.contains("-> license-assignment"), "{text}");
    assert_eq!(h.writes(), 0, "doctor wrote to GoTo");
}

/// A tenant that refuses every probe beyond the token and `/me`: each is a finding saying so,
/// the run exits 0 and sends nothing but GETs.
#[test]
fn doctor_against_a_tenant_refusing_every_probe_reports_each_refusal_and_exits_0() {
    let server = Hostile::goto(|req| {
        if req.path.ends_with("/users") {
            Reply::Json(400, json!({"errors": [{"code": "INVALID_PAGE_SIZE", "value": "no"}]}))
        } else if req.path.ends_with("/groups") {
            Reply::Json(403, json!({"errors": [{"code": "FORBIDDEN", "value": "no"}]}))
        } else {
            Reply::not_found()
        }
    });
    let h = Harness::against(&server);
    let found = findings(&h);
    assert!(observed(&found, "page-size").contains("1000: refused"), "{found:?}");
    assert!(observed(&found, "page-size").contains("5000: refused"), "{found:?}");
    assert!(observed(&found, "filter-escaping").contains("escaped value refused"), "{found:?}");
    assert!(observed(&found, "single-license-read").contains("listing was refused"), "{found:?}");
    assert!(observed(&found, "single-group-read").contains("listing was refused"), "{found:?}");
    let writes: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.method != "GET" && !r.is_token())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

/// When the connection itself fails (`/me` refused), doctor fails with its exit status.
#[test]
fn doctor_fails_when_the_connection_itself_fails() {
    let server = Hostile::start(|req| {
        if req.is_token() {
            gtm_e2e::hostile::token_reply(json!(3600))
        } else {
            Reply::Json(401, json!({"errors": [{"code": "not.authenticated", "value": "no"}]}))
        }
    });
    let h = Harness::against(&server);
    h.run(&["doctor"]).failure(3, &["401"]);
}
