//! The retry queue: writes that fail for a transient cause are kept, `state queue` lists them,
//! `retry` completes them once the cause has passed, and nothing permanent is ever kept.

use gotosim::{Fault, FaultRule, Matcher};
use gtm_e2e::{Harness, unthrottled};
use http::Method;
use serde_json::{Value, json};

/// GoTo answers every `method` on a users path with 503 until the faults are cleared.
fn storm(h: &Harness, method: Method) {
    let matcher = Matcher { method: Some(method), path_contains: Some("/users".into()), ..Default::default() };
    h.sim.add_fault(FaultRule { matcher, skip: 0, times: u32::MAX, fault: Fault::Status(503) });
}

/// An existing user without admin roles.
fn plain_user(h: &Harness) -> String {
    h.sim.with_world(|w| w.users().into_iter().find(|u| u.admin_roles.is_empty()).unwrap().email)
}

fn statuses(results: &[Value]) -> Vec<&str> {
    results.iter().map(|r| r["status"].as_str().unwrap()).collect()
}

fn queue(h: &Harness) -> Vec<Value> {
    h.run(&["state", "queue", "--format", "json"]).success().json().as_array().unwrap().clone()
}

/// The error kinds of a 503 storm: a `remote` 503, or a `transport` failure.
const TRANSIENT: [&str; 2] = ["remote", "transport"];

const QUEUED: &str = "operations failed for a transient cause and were queued; run `gtm-connector --profile sim retry`";

#[test]
fn a_503_storm_during_apply_is_queued_and_retry_completes_it_with_no_duplicate() {
    let h = Harness::new(unthrottled(901, 20));
    let holder = plain_user(&h);
    let create = json!({"op": "create", "email": "new.hire@example.com", "first-name": "New", "last-name": "Hire"});
    let grant = json!({"op": "grant", "account": holder, "role": "RUN_REPORTS"});
    let lines = [
        create.to_string(),
        grant.to_string(),
        // Permanent failures: not an operation, and an account that does not exist.
        r#"{"op":"grant","account":"a@example.com","licence":"1"}"#.to_owned(),
        r#"{"op":"grant","account":"nobody@example.com","role":"RUN_REPORTS"}"#.to_owned(),
    ];
    let file = h.home.path().join("ops.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    storm(&h, Method::POST);
    storm(&h, Method::PUT);
    let users_before = h.sim.with_world(|w| w.users().len());

    let first = h.run(&["apply", file.to_str().unwrap()]).failure(1, &["4 of 4 operations failed", QUEUED]);
    assert_eq!(first.stderr.matches("were queued").count(), 1, "said once:\n{}", first.stderr);
    assert!(first.stderr.contains(&format!("2 {QUEUED}")), "{}", first.stderr);
    let results = first.jsonl();
    let kinds: Vec<&str> = results.iter().map(|r| r["error"]["kind"].as_str().unwrap()).collect();
    // A 503 sent before the request body was read can reach the client as a reset connection.
    assert!(kinds[..2].iter().all(|k| TRANSIENT.contains(k)), "{kinds:?}");
    assert_eq!(kinds[2..], ["invalid-operation", "not-found"]);

    // The same file failing again during the storm duplicates nothing: one more attempt each.
    h.run(&["apply", file.to_str().unwrap()]).failure(1, &[QUEUED]);
    let queued = queue(&h);
    let operations: Vec<&Value> = queued.iter().map(|q| &q["operation"]).collect();
    assert_eq!(operations, [&create, &grant]);
    for entry in &queued {
        assert_eq!(entry["attempts"], 2);
        let (kind, message) = (entry["last-error"]["kind"].as_str().unwrap(), &entry["last-error"]["message"]);
        assert!(
            TRANSIENT.contains(&kind) && (kind != "remote" || message.as_str().unwrap().contains("503")),
            "{entry}"
        );
        assert!(entry["queued-at"].as_i64().unwrap() > 0);
    }
    let text = h.run(&["state", "queue"]).success().stdout;
    assert!(text.contains("new.hire@example.com") && text.contains("2 attempt(s)"), "{text}");

    h.sim.clear_faults();
    let retried = h.run(&["retry"]).success();
    let results = retried.jsonl();
    assert_eq!(statuses(&results), ["created", "changed"]);
    let ids: Vec<&Value> = queued.iter().map(|q| &q["id"]).collect();
    assert_eq!(results.iter().map(|r| &r["queued"]).collect::<Vec<_>>(), ids);
    assert_eq!(results[0]["op"], "create");
    assert_eq!(results[1]["account"], holder.as_str());
    assert!(queue(&h).is_empty());

    h.sim.with_world(|w| {
        let users = w.users();
        assert_eq!(users.len(), users_before + 1);
        assert_eq!(users.iter().filter(|u| u.email == "new.hire@example.com").count(), 1);
        let roles = &users.iter().find(|u| u.email == holder).unwrap().admin_roles;
        assert_eq!(roles.iter().filter(|r| *r == "RUN_REPORTS").count(), 1, "{roles:?}");
    });
    // Done is done: the queue is empty and the file converges.
    h.run(&["retry"]).success().failure(0, &["the retry queue is empty"]);
    let again = h.run(&["apply", file.to_str().unwrap()]).failure(1, &["2 of 4 operations failed"]);
    assert_eq!(statuses(&again.jsonl())[..2], ["exists", "unchanged"]);
    assert!(!again.stderr.contains("queued"), "{}", again.stderr);
}

#[test]
fn a_single_write_is_queued_and_what_fails_again_stays_with_one_more_attempt() {
    let h = Harness::new(unthrottled(902, 10));
    let holder = plain_user(&h);
    storm(&h, Method::PUT);
    let single = h.run(&["grant", &holder, "--role", "RUN_REPORTS"]);
    let single = single.failure(1, &["1 operation failed for a transient cause and was queued"]);
    assert!(TRANSIENT.contains(&single.json()["error"]["kind"].as_str().unwrap()), "{}", single.stdout);

    // A dry run plans (its reads pass) and keeps the queue as is.
    let planned = h.run(&["retry", "--dry-run"]).success();
    assert_eq!(statuses(&planned.jsonl()), ["planned"]);
    assert_eq!(queue(&h)[0]["attempts"], 1);

    // Still storming: the operation fails again, exit 1, and stays with two attempts.
    let failed =
        h.run(&["retry"]).failure(1, &["1 of 1 operations failed", "1 operation failed for a transient cause again"]);
    assert!(TRANSIENT.contains(&failed.jsonl()[0]["error"]["kind"].as_str().unwrap()), "{}", failed.stdout);
    let queued = queue(&h);
    assert_eq!((queued.len(), &queued[0]["attempts"]), (1, &json!(2)));

    h.sim.clear_faults();
    assert_eq!(statuses(&h.run(&["retry"]).success().jsonl()), ["changed"]);
    assert!(queue(&h).is_empty());
}

#[test]
fn permanent_failures_and_dry_runs_are_never_queued() {
    let h = Harness::new(unthrottled(903, 10));
    let holder = plain_user(&h);
    let taken = h.sim.with_world(|w| w.users().into_iter().find(|u| u.email != holder).unwrap().email);
    // GoTo fails every account lookup by email: a dry run cannot plan, but it keeps nothing.
    let lookups = Matcher {
        method: Some(Method::GET),
        path_contains: Some("/users".into()),
        query_contains: Some("filter".into()),
    };
    h.sim.add_fault(FaultRule { matcher: lookups, skip: 0, times: u32::MAX, fault: Fault::Status(503) });
    let grant = format!(r#"{{"op":"grant","account":"{holder}","role":"RUN_REPORTS"}}"#);
    let dry = h.run_with_stdin(&["apply", "-", "--dry-run"], &grant).failure(1, &["1 of 1 operations failed"]);
    assert!(TRANSIENT.contains(&dry.jsonl()[0]["error"]["kind"].as_str().unwrap()), "{}", dry.stdout);
    assert!(!dry.stderr.contains("queued"), "{}", dry.stderr);
    h.sim.clear_faults();

    // GoTo refusing with a 4xx it has no better name for, bad input and a conflict (an update to
    // an email another account has) fail for good.
    let put = Matcher { method: Some(Method::PUT), path_contains: Some("/users".into()), ..Default::default() };
    h.sim.add_fault(FaultRule { matcher: put, skip: 0, times: 1, fault: Fault::Status(418) });
    let lines = [
        grant.clone(),
        r#"{"op":"update","account":"1","locale":"xx"#.to_owned(),
        format!(r#"{{"op":"update","account":"{holder}","email":"{taken}"}}"#),
        format!(r#"{{"op":"grant","account":"{holder}","role":"NO_SUCH_ROLE"}}"#),
    ];
    let out = h.run_with_stdin(&["apply", "-"], &lines.join("\n")).failure(1, &["4 of 4 operations failed"]);
    let kinds: Vec<String> = out.jsonl().iter().map(|r| r["error"]["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, ["remote", "invalid-operation", "conflict", "invalid-input"]);
    assert!(!out.stderr.contains("queued"), "{}", out.stderr);
    assert!(queue(&h).is_empty());
    h.run(&["retry"]).success().failure(0, &["the retry queue is empty"]);
}

#[test]
fn retry_with_no_state_says_the_queue_is_empty_and_contacts_nothing() {
    let h = Harness::new(unthrottled(904, 5));
    let requests = h.sim.stats().total;
    h.run(&["retry"]).success().failure(0, &["the retry queue is empty; nothing to retry"]);
    h.run(&["state", "queue"]).success().failure(0, &["the retry queue is empty"]);
    assert!(queue(&h).is_empty());
    assert_eq!(h.sim.stats().total, requests);
    assert!(!h.home.path().join("state").join("sim.sqlite").exists(), "no state is created to say so");
}

#[test]
fn an_operation_that_cannot_be_queued_is_named_and_the_apply_fails() {
    let h = Harness::new(unthrottled(905, 10));
    let holder = plain_user(&h);
    // Another process has the state (its lock file is held), as an import would.
    let state = h.home.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let lock = std::fs::File::create(state.join("sim.sqlite.lock")).unwrap();
    lock.try_lock().unwrap();
    storm(&h, Method::PUT);
    let grant = format!(r#"{{"op":"grant","account":"{holder}","role":"RUN_REPORTS"}}"#);
    let out = h.run_with_stdin(&["apply", "-"], &grant).failure(
        1,
        &[
            "line 1 failed and could not be queued",
            "another gtm-connector process is using this state",
            "1 of those could not be kept",
        ],
    );
    assert_eq!(out.jsonl()[0]["status"], "failed");
    drop(lock);
    h.sim.clear_faults();
    assert!(queue(&h).is_empty());
}
