//! Fault injection, rate limiting, request counters, and error paths.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use gotosim::{Fault, FaultRule, Knobs, Matcher, SimConfig};
use http::Method;

use crate::client::{Api, Resp, send};

fn rule(path: &str, skip: u32, times: u32, fault: Fault) -> FaultRule {
    let matcher = Matcher { method: Some(Method::GET), path_contains: Some(path.into()), query_contains: None };
    FaultRule { matcher, skip, times, fault }
}

#[test]
fn each_fault_kind() {
    let api = Api::start(40);
    let users = api.acct("/users");
    let normal = api.get(&users);

    api.sim.add_fault(rule("/users", 1, 2, Fault::Status(503)));
    assert_eq!(api.get(&users).status, 200, "skipped");
    for _ in 0..2 {
        let resp = api.get(&users);
        assert_eq!((resp.status, resp.code()), (503, "server.error".to_owned()));
    }
    assert_eq!(api.get(&users).status, 200, "used up");
    api.sim.clear_faults();

    api.sim.add_fault(rule("/users", 0, 1, Fault::Html502));
    let html = api.get(&users);
    assert_eq!(html.status, 502);
    assert!(html.header("content-type").unwrap().starts_with("text/html"));
    assert!(html.text().contains("502 Bad Gateway") && html.body.len() > 250);

    api.sim.add_fault(rule("/users", 0, 1, Fault::Truncated));
    let cut = api.get(&users);
    assert_eq!(cut.status, 200);
    assert!(cut.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(cut.header("content-length").unwrap().parse::<usize>().unwrap(), cut.body.len());
    assert_eq!(cut.body.len(), normal.body.len() / 2);
    assert!(serde_json::from_slice::<serde_json::Value>(&cut.body).is_err());

    api.sim.add_fault(rule("/users", 0, 1, Fault::NonJson));
    let plain = api.get(&users);
    assert_eq!((plain.status, plain.header("content-type")), (200, Some("text/plain")));
    assert!(serde_json::from_slice::<serde_json::Value>(&plain.body).is_err());

    api.sim.add_fault(rule("/users", 0, 1, Fault::RateLimited));
    let limited = api.get(&users);
    assert_eq!((limited.status, limited.code()), (429, "too.many.requests".to_owned()));
    assert_eq!(limited.header("retry-after"), Some("1"));

    api.sim.add_fault(rule("/users", 0, 1, Fault::DelayMs(150)));
    let start = Instant::now();
    assert_eq!(api.get(&users).status, 200);
    assert!(start.elapsed() >= Duration::from_millis(150));

    let token_rule = FaultRule {
        matcher: Matcher { path_contains: Some("/oauth/token".into()), ..Matcher::default() },
        skip: 0,
        times: 1,
        fault: Fault::Status(500),
    };
    api.sim.add_fault(token_rule);
    let refresh = format!("grant_type=refresh_token&refresh_token={}", api.sim.credentials().refresh_token);
    assert_eq!(api.token_request(&refresh).status, 500);
    assert_eq!(api.token_request(&refresh).status, 200);
    let query_rule = FaultRule {
        matcher: Matcher { query_contains: Some("offset=40".into()), ..Matcher::default() },
        skip: 0,
        times: 1,
        fault: Fault::Status(500),
    };
    api.sim.add_fault(query_rule);
    assert_eq!(api.get(&api.acct("/users?offset=20")).status, 200);
    assert_eq!(api.get(&api.acct("/users?offset=40")).status, 500);
    assert_eq!(api.sim.stats().faults_injected, 9);
}

#[test]
fn rate_limit_per_api_with_retry_after() {
    let config = SimConfig {
        knobs: Knobs { rate_limit_per_sec: Some(2), retry_after_secs: Some(2), ..Knobs::default() },
        ..SimConfig::new(41)
    };
    let api = Api::with(config); // one OAuth request used
    let me = "/admin/rest/v1/me";
    let responses: Vec<Resp> = (0..12).map(|_| api.get(me)).collect();
    assert!(responses[..2].iter().all(|r| r.status == 200), "a full bucket allows a burst of the rate");
    let limited: Vec<&Resp> = responses.iter().filter(|r| r.status == 429).collect();
    assert!(limited.len() >= 5, "{}", limited.len());
    assert_eq!(limited[0].code(), "too.many.requests");
    assert_eq!(limited[0].header("retry-after"), Some("2"));
    assert_eq!(api.sim.stats().rate_limited, limited.len() as u64);
    // The token endpoint has its own bucket.
    let refresh = format!("grant_type=refresh_token&refresh_token={}", api.sim.credentials().refresh_token);
    assert_eq!(api.token_request(&refresh).status, 200);

    api.sim.set_knobs(|k| k.retry_after_secs = None);
    let bare = (0..20).map(|_| api.get(me)).find(|r| r.status == 429).expect("a 429");
    assert!(bare.header("retry-after").is_none());
    api.sim.set_knobs(|k| k.rate_limit_per_sec = None);
    assert_eq!(api.get(me).status, 200);
}

#[test]
fn stats_count_requests_by_route() {
    let api = Api::start(42);
    api.sim.reset_stats();
    let key = api.sim.with_world(|w| w.users()[0].key.clone());
    api.get(&api.acct("/users"));
    api.get(&api.acct(&format!("/users/{key}")));
    api.get(&api.acct(&format!("/users/{key}")));
    api.call("PUT", &api.acct(&format!("/users/{key}")), Some("not json"));
    api.get("/identity/v1/Users/me");
    api.get("/admin/rest/v1/accounts/1/users"); // wrong account: never reaches a handler
    send(&api.base, "GET", "/admin/rest/v1/me", &[], None); // unauthenticated
    api.get("/nowhere");
    let s = api.sim.stats();
    assert_eq!(s.total, 8);
    assert_eq!((s.admin_reads, s.admin_writes, s.unauthorized), (4, 1, 1));
    assert_eq!(s.by_route.get("GET /accounts/{}/users/{}"), Some(&2));
    assert_eq!(s.by_route.get("PUT /accounts/{}/users/{}"), Some(&1));
    assert_eq!(s.by_route.get("GET /accounts/{}/users"), Some(&1));
    assert_eq!(s.by_route.get("GET /identity/v1/Users/me"), Some(&1));
    assert_eq!(s.token_requests, 0);
    api.refresh_access_token();
    assert_eq!(api.sim.stats().token_requests, 1);
    assert_eq!(api.sim.stats().by_route.get("POST /oauth/token"), Some(&1));
}

#[test]
fn error_envelopes_for_unknown_things() {
    let api = Api::start(43);
    let wrong_account = api.get("/admin/rest/v1/accounts/1/users");
    assert_eq!((wrong_account.status, wrong_account.code()), (404, "account.not.found".to_owned()));
    let body = api.get(&api.acct("/users/999")).json();
    assert_eq!(body["errors"][0]["value"], "999");
    let incident = body["incidentId"].as_str().unwrap();
    assert_eq!(incident.len(), 36);
    assert_eq!(api.get("/admin/rest/v1/nothing").code(), "resource.not.found");
    let not_utf8 = api.get(&api.acct("/groups/%FF"));
    assert_eq!((not_utf8.status, not_utf8.code()), (400, "request.invalid".to_owned()));

    // A principal without admin roles is authenticated but not authorised.
    api.sim.with_world(|w| {
        let me = w.principal_key().to_owned();
        w.update_user(&me, |u| u.admin_roles.clear());
    });
    let forbidden = api.get(&api.acct("/users"));
    assert_eq!((forbidden.status, forbidden.code()), (403, "not.authorized".to_owned()));
    assert_eq!(api.get("/admin/rest/v1/me").status, 200);
}

#[test]
fn slow_responses_and_shutdown_with_open_connections() {
    let api = Api::start(44);
    api.sim.set_knobs(|k| k.response_delay_ms = 100);
    let start = Instant::now();
    assert_eq!(api.get("/admin/rest/v1/me").status, 200);
    assert!(start.elapsed() >= Duration::from_millis(100));

    let host = api.base.strip_prefix("http://").unwrap().to_owned();
    let _never_used = std::net::TcpStream::connect(&host).unwrap();
    let mut kept_alive = std::net::TcpStream::connect(&host).unwrap();
    kept_alive.write_all(b"GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    kept_alive.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 404");
    drop(api); // must not wait for the idle connections
}

#[test]
fn large_worlds_page_and_filter() {
    let mut config = SimConfig::sized(45, 20_000, 40, 6);
    config.knobs.rate_limit_per_sec = None;
    let api = Api::with(config);
    let page = api.get_ok(&api.acct("/users?offset=19000&pageSize=1000"));
    assert_eq!(page["results"].as_array().unwrap().len(), 1000);
    assert_eq!(page["total"].as_u64(), Some(20_000));
    let hit = api.get_ok(&api.acct("/users?filter=email%20eq%20%22alex.lee@example.com%22"));
    assert_eq!(hit["total"].as_u64(), Some(1));
}

#[test]
fn raw_quotes_work_on_kept_alive_connections() {
    let api = Api::start(46);
    let host = api.base.strip_prefix("http://").unwrap();
    let auth = format!("Authorization: Bearer {}", api.token);
    let body = r#"{"name":"Quoted \"Team\""}"#;
    let chunk = format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
    let requests = [
        format!(
            "POST {} HTTP/1.1\r\nHost: h\r\n{auth}\r\nContent-Length: {}\r\n\r\n{body}",
            api.acct("/groups"),
            body.len()
        ),
        format!("GET {} HTTP/1.1\r\nHost: h\r\n{auth}\r\n\r\n", api.acct(r#"/groups?filter=(name="Quoted \"Team\"")"#)),
        format!(
            "PUT {} HTTP/1.1\r\nHost: h\r\n{auth}\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}",
            api.acct("/groups/1")
        ),
        format!(
            "GET {} HTTP/1.1\r\nHost: h\r\n{auth}\r\nConnection: close\r\n\r\n",
            api.acct(r#"/users?filter=(email="alex@example.org")"#)
        ),
    ];
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream.write_all(requests.concat().as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let statuses: Vec<&str> = raw.match_indices("HTTP/1.1 ").map(|(i, _)| &raw[i + 9..i + 12]).collect();
    assert_eq!(statuses, ["200", "200", "404", "200"], "{raw}");
    assert!(raw.contains(r#""name":"Quoted \"Team\"""#));
    assert!(raw.contains(r#""total":1"#));
}
