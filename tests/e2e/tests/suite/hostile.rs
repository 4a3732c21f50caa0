//! Against a server that misbehaves on purpose (`gtm_e2e::hostile`): each shape GoTo, a proxy
//! or an attacker could send, and what the connector must still promise. Every case first
//! imports the same accounts from a well-behaved listing, then meets the hostile one with
//! `max-missing-percent = 100` and `--confirm-deletions`, so a wrong conclusion would show as
//! accounts marked missing. Each must stay bounded, fail with an error naming what was wrong,
//! mark nothing, write no output file and leak no secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gtm_e2e::hostile::{ACCESS_TOKEN, ACCOUNT_KEY, Hostile, Reply, Request, page_of, token_reply, user};
use gtm_e2e::{Harness, Outcome, files_in};
use serde_json::{Value, json};

/// Accounts in the honest listing, read in pages of [`PAGE`].
const USERS: u64 = 7;
const PAGE: &str = "3";
/// Listing requests one hostile import may make: three passes of a few pages, or three reads
/// of one bad page, stay well under it.
const MAX_REQUESTS: usize = 20;

fn accounts() -> Vec<Value> {
    (0..USERS).map(user).collect()
}

/// A hostile server and a profile whose state already holds a complete import of [`USERS`]
/// accounts (or of the admin roles, for `--kind roles`).
struct Scene {
    server: Hostile,
    h: Harness,
    /// Whether listings are answered by the hostile function (after the first import).
    hostile: Arc<AtomicBool>,
}

impl Scene {
    /// Serves the honest listing for the first import, then every listing request with `hostile`.
    fn new(import: &[&str], hostile: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Scene {
        let hostile_now = Arc::new(AtomicBool::new(false));
        let turned = hostile_now.clone();
        let all = accounts();
        let server = {
            let turned = turned.clone();
            Hostile::goto(move |req| match (req.is_user_listing(), turned.load(Ordering::SeqCst)) {
                (false, _) => Reply::not_found(),
                (true, false) => page_of(req, &all),
                (true, true) => hostile(req),
            })
        };
        let h = Harness::against(&server);
        h.set_limits("http-timeout-secs = 1\nmax-response-kib = 64\nmax-items = 100");
        h.append_to_profile("[reconciliation]\nmax-missing-percent = 100");
        h.run(&[import, &["--page-size", PAGE]].concat()).success();
        turned.store(true, Ordering::SeqCst);
        Scene { server, h, hostile: hostile_now }
    }

    /// Serves the honest listing again.
    fn honest_again(&self) {
        self.hostile.store(false, Ordering::SeqCst);
    }

    /// Runs the hostile import into an output file and checks every promise but the error
    /// itself, which the caller checks on the returned outcome: the run ended `expected`
    /// (`failed`, or `incomplete` for a listing that moved), bounded, marking nothing, leaking
    /// nothing, and a failed run left no output file. Returns the outcome and the run's history.
    fn import(&self, import: &[&str], expected: &str) -> (Outcome, Value) {
        let out_dir = tempfile::tempdir().unwrap();
        let output = out_dir.path().join("out.jsonl");
        let before = self.server.count(Request::is_user_listing);
        let started = Instant::now();
        let args =
            [import, &["--page-size", PAGE, "--confirm-deletions", "--output", output.to_str().unwrap()]].concat();
        let out = self.h.run(&[&["-v"], args.as_slice()].concat());
        let (requests, took) = (self.server.count(Request::is_user_listing) - before, started.elapsed());
        assert!(requests <= MAX_REQUESTS, "{requests} listing requests:\n{}", out.stderr);
        assert!(took < Duration::from_secs(30), "took {took:?}");
        if expected == "failed" {
            assert!(files_in(out_dir.path()).is_empty(), "no output file, complete or partial");
        }
        let kept = |h: &Harness| -> Vec<String> {
            let items = h.run(&["state", "show", "--format", "json"]).success().json();
            items.as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap().to_owned()).collect()
        };

        let history = self.h.run(&["state", "history", "--format", "json"]).success();
        let run = history.json()[0].clone();
        assert_eq!(run["state"], expected, "{run}");
        assert_eq!(run["missing"], 0, "{run}");
        let items = self.h.run(&["state", "show", "--format", "json"]).success();
        let items_json = items.json();
        let statuses: Vec<&Value> = items_json.as_array().unwrap().iter().map(|i| &i["status"]).collect();
        assert!(!statuses.is_empty());
        for status in statuses {
            assert!(status == "present" || status == "active", "an item was marked {status}:\n{}", items.stdout);
        }
        if expected == "failed" && import == ["import", "accounts"] {
            let honest: Vec<String> = accounts().iter().map(|a| a["key"].as_str().unwrap().to_owned()).collect();
            assert_eq!(kept(&self.h), honest, "a failed run keeps nothing it read");
        }
        let secrets = [
            self.h.stored_secret("client-secret").unwrap(),
            self.h.stored_secret("refresh-token").unwrap(),
            ACCESS_TOKEN.to_owned(),
        ];
        for text in [&out.stdout, &out.stderr, &history.stdout, &items.stdout] {
            for secret in &secrets {
                assert!(!text.contains(secret.as_str()), "a secret leaked into:\n{text}");
            }
        }
        (out, run)
    }
}

/// The `import` meets `hostile`; it must fail (exit 1), and both its error and the reason
/// `state history` keeps name each of `needles`.
fn fails_import(import: &[&str], hostile: impl Fn(&Request) -> Reply + Send + Sync + 'static, needles: &[&str]) {
    let (out, run) = Scene::new(import, hostile).import(import, "failed");
    out.failure(1, needles);
    let reason = run["reason"].as_str().unwrap_or_default();
    assert!(!reason.is_empty(), "{run}");
    for needle in needles {
        assert!(reason.contains(needle), "the recorded reason lacks {needle:?}: {reason}");
    }
}

/// [`fails_import`] for the account import.
fn fails(hostile: impl Fn(&Request) -> Reply + Send + Sync + 'static, needles: &[&str]) {
    fails_import(&["import", "accounts"], hostile, needles);
}

/// The honest page for `req`, with `total` in place of the true one.
fn lying(req: &Request, total: Value) -> Reply {
    let Reply::Json(status, mut body) = page_of(req, &accounts()) else { unreachable!() };
    body["total"] = total;
    Reply::Json(status, body)
}

/// The page `req` asks for of a listing of fresh users whose total is always one more than
/// has been read: it never ends.
fn one_more_than_read(req: &Request) -> Reply {
    let offset = req.number("offset", 0);
    let size = req.number("pageSize", 3);
    let results: Vec<Value> = (offset..offset + size).map(|i| user(1000 + i)).collect();
    Reply::ok(json!({"results": results, "total": offset + size + 1}))
}

#[test]
fn a_well_behaved_look_alike_imports_like_goto() {
    let all: Vec<_> = (0..7).map(user).collect();
    let server = Hostile::goto(move |req| if req.is_user_listing() { page_of(req, &all) } else { Reply::not_found() });
    let h = Harness::against(&server);
    let out = h.run(&["import", "accounts", "--page-size", "3"]).success();
    assert_eq!(out.jsonl().len(), 7, "{}", out.stdout);
    assert_eq!(server.count(|r| r.is_user_listing()), 3, "pages of 3, 3 and 1");
}

#[test]
fn a_page_without_a_total_is_a_failed_page_not_an_empty_listing() {
    fails(|_| Reply::ok(json!({})), &["missing field `total`"]);
    fails(|_| Reply::ok(json!({"results": []})), &["missing field `total`"]);
    fails(|req| lying(req, Value::Null), &["total must be a whole number, got null"]);
}

#[test]
fn an_error_envelope_sent_with_200_is_a_failed_page() {
    let envelope = json!({"incidentId": "hostile-1", "errors": [{"code": "SERVER_ERROR", "value": "oops"}]});
    fails(move |_| Reply::ok(envelope.clone()), &["missing field `total`"]);
}

#[test]
fn totals_that_are_not_counts_are_refused() {
    for total in [json!(-1), json!(1.5), json!("7"), json!([7])] {
        fails(move |req| lying(req, total.clone()), &["total must be a whole number"]);
    }
}

#[test]
fn a_total_too_high_stops_at_the_first_empty_page() {
    fails(|req| lying(req, json!(USERS + 5)), &["not well formed", "empty at offset 7 of a listing it says has 12"]);
}

#[test]
fn a_total_too_low_is_caught_by_the_rows_beyond_it() {
    fails(|req| lying(req, json!(4)), &["not well formed", "rows 3..6 of a listing it says has 4"]);
}

#[test]
fn an_absurd_total_fails_at_the_first_page() {
    fails(|req| lying(req, json!(1e9)), &["total must be a whole number"]);
    fails(|req| lying(req, json!(1_000_000_000u64)), &["GoTo reported 1000000000 accounts", "max-items = 100 "]);
    fails(|req| lying(req, json!(u64::MAX)), &["beyond any real listing"]);
}

#[test]
fn the_same_page_repeated_fails_as_a_repeating_listing() {
    // Every offset gets the first page, with the true total.
    fails(|req| lying(&with_offset(req, 0), json!(USERS)), &["all read before in this pass", "repeats itself"]);
}

#[test]
fn a_total_that_always_grows_past_what_was_read_is_stopped() {
    fails(one_more_than_read, &["does not end", "more than twice the 4 it reported"]);
}

#[test]
fn an_endless_listing_stops_at_max_items() {
    // Fresh users on every page and a total that promises many more.
    let endless = |req: &Request| {
        let Reply::Json(_, mut body) = one_more_than_read(req) else { unreachable!() };
        body["total"] = json!(900);
        Reply::ok(body)
    };
    fails(endless, &["GoTo reported 900 accounts, more than [limits] max-items = 100 allows"]);
}

#[test]
fn a_failed_listing_leaves_no_made_up_accounts_for_the_next_honest_run_to_hold() {
    // Fresh users under max-items for three pages, then the connection drops.
    let failing = |req: &Request| {
        if req.number("offset", 0) >= 9 {
            return Reply::Reset;
        }
        let Reply::Json(_, mut body) = one_more_than_read(req) else { unreachable!() };
        body["total"] = json!(60);
        Reply::ok(body)
    };
    let import = ["import", "accounts"];
    let scene = Scene::new(&import, failing);
    let (out, _) = scene.import(&import, "failed");
    out.failure(1, &[]);
    // With no phantom accounts kept, the honest listing is complete and finds nothing gone,
    // held or pending, with the default threshold as with `--confirm-deletions`.
    scene.honest_again();
    let honest = scene.h.run(&["import", "accounts", "--page-size", PAGE]);
    let honest = honest.success();
    assert!(honest.stderr.contains("0 added, 0 changed, 7 unchanged, 0 restored, 0 missing"), "{}", honest.stderr);
    assert!(!honest.stderr.contains("held"), "{}", honest.stderr);
    let pending = scene.h.run(&["state", "pending", "--format", "json"]).success().json();
    assert_eq!(pending, json!([]));
}

#[test]
fn a_listing_that_keeps_moving_is_incomplete_and_marks_nothing() {
    // Honest pages, but an account is added before every answer: the total never holds still.
    let requests = Arc::new(AtomicU64::new(0));
    let moving = move |req: &Request| {
        let added = requests.fetch_add(1, Ordering::SeqCst) + 1;
        let all: Vec<Value> = (0..USERS + added).map(user).collect();
        page_of(req, &all)
    };
    let import = ["import", "accounts"];
    let (out, run) = Scene::new(&import, moving).import(&import, "incomplete");
    let out = out.success();
    assert!(out.stderr.contains("not a complete listing, so nothing was marked missing"), "{}", out.stderr);
    assert!(run["reason"].as_str().unwrap().contains("the total changed during the import"), "{run}");
}

#[test]
fn results_that_are_not_an_array_of_keyed_accounts_are_refused() {
    fails(|_| Reply::ok(json!({"results": {"key": "1"}, "total": 1})), &["invalid type"]);
    fails(|_| Reply::ok(json!({"results": ["1", "2"], "total": 2})), &["invalid type"]);
    fails(|_| Reply::ok(json!({"results": [{"email": "a@x.example"}], "total": 1})), &["missing field `key`"]);
}

#[test]
fn keys_that_are_not_digits_are_refused_before_they_reach_a_path() {
    for key in [json!("../x"), json!("1/../../y"), json!(-3), json!(1.5)] {
        fails(
            move |_| Reply::ok(json!({"results": [{"key": key.clone(), "email": "a@x.example"}], "total": 1})),
            &["decimal digits"],
        );
    }
}

#[test]
fn redirects_are_never_followed() {
    for status in [301, 302, 307] {
        let elsewhere = Hostile::start(|req| page_of(req, &accounts()));
        let target = format!("{}/admin/rest/v1/accounts/1/users", elsewhere.base_url());
        // The wording is the redirect's own (another slice names it); failing is what counts.
        fails(move |_| Reply::redirect(status, &target), &[]);
        assert_eq!(elsewhere.requests().len(), 0, "the {status} redirect was followed");
    }
}

#[test]
fn a_body_over_max_response_kib_is_refused() {
    fails(
        |req| {
            let Reply::Json(_, mut body) = page_of(req, &accounts()) else { unreachable!() };
            body["padding"] = json!("x".repeat(100 << 10));
            Reply::ok(body)
        },
        &["transport", "BodySize"],
    );
}

#[test]
fn a_body_that_drips_slower_than_the_http_timeout_is_abandoned() {
    fails(
        |_| Reply::Drip {
            status: 200,
            declared: Some(64),
            chunk: b" ".to_vec(),
            every: Duration::from_millis(1500),
            times: 4,
        },
        &["transport", "Timeout"],
    );
}

#[test]
fn a_body_cut_off_half_way_is_a_failed_page() {
    fails(
        |req| {
            let Reply::Json(_, body) = page_of(req, &accounts()) else { unreachable!() };
            let body = serde_json::to_vec(&body).unwrap();
            Reply::CutOff { status: 200, sent: body.len() / 2, body }
        },
        &["transport"],
    );
}

#[test]
fn a_connection_reset_is_a_failed_page() {
    fails(|_| Reply::Reset, &["transport"]);
}

#[test]
fn html_sent_with_200_is_a_failed_page() {
    fails(
        |_| Reply::Raw {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: b"<html><body>Welcome to the captive portal</body></html>".to_vec(),
        },
        &["not the expected JSON"],
    );
}

#[test]
fn the_admin_role_count_refuses_a_listing_that_repeats_or_lies() {
    let import = ["import", "entitlements", "--kind", "roles"];
    let repeated = |req: &Request| lying(&with_offset(req, 0), json!(USERS * 3));
    fails_import(&import, repeated, &["counting admin roles", "added none"]);
    let moving = Arc::new(AtomicU64::new(0));
    let lies = move |req: &Request| lying(req, json!(USERS + 1 + moving.fetch_add(1, Ordering::SeqCst)));
    fails_import(&import, lies, &["not well formed", "empty at offset 7"]);
}

/// `req` as if it had asked for `offset`.
fn with_offset(req: &Request, offset: u64) -> Request {
    let mut req = req.clone();
    req.query.retain(|(name, _)| name != "offset");
    req.query.push(("offset".into(), offset.to_string()));
    req
}

#[test]
fn escape_sequences_in_what_goto_sends_never_reach_the_terminal_in_logs_or_text_reports() {
    let mut sneaky = user(0);
    sneaky["email"] = json!("a\u{1b}]0;pwned\u{7}\u{1b}[2K@hostile.example");
    let all = vec![sneaky];
    let server = Hostile::goto(move |req| if req.is_user_listing() { page_of(req, &all) } else { Reply::not_found() });
    let h = Harness::against(&server);
    let dir = tempfile::tempdir().unwrap();
    let identities = dir.path().join("ids.csv");
    std::fs::write(&identities, "id,email\nE\u{1b}[8m1,b@hostile.example\n").unwrap();
    let out = h.run(&["import", "accounts", "--identities", identities.to_str().unwrap()]).success();
    assert!(out.stderr.contains("orphan accounts (new)"), "{}", out.stderr);
    let shown = h.run(&["state", "show"]).success();
    for text in [&out.stderr, &shown.stdout] {
        assert!(text.contains("pwned") && !text.contains(['\u{1b}', '\u{7}']), "{text:?}");
    }
}

#[test]
fn a_complete_listing_of_another_goto_account_marks_nothing_of_this_one() {
    const OTHER_ACCOUNT: &str = "4242424242424242499";
    let ours: Vec<Value> = accounts();
    let theirs: Vec<Value> = vec![user(500)];
    let server = Hostile::start(move |req| {
        if req.method == "GET" && req.path.ends_with("/me") {
            return Reply::ok(json!({
                "email": "admin@hostile.example", "accountKey": ACCOUNT_KEY,
                "accounts": [{"key": ACCOUNT_KEY}, {"key": OTHER_ACCOUNT}],
            }));
        }
        match req.path.strip_suffix("/users").and_then(|p| p.rsplit('/').next()) {
            _ if req.is_token() => token_reply(json!(3600)),
            Some(ACCOUNT_KEY) => page_of(req, &ours),
            Some(OTHER_ACCOUNT) => page_of(req, &theirs),
            _ => Reply::not_found(),
        }
    });
    let h = Harness::against(&server);
    h.append_to_profile("[reconciliation]\nmax-missing-percent = 100");
    h.run(&["import", "accounts"]).success();
    // The profile is pointed at the other account the same credentials administer.
    let out = h.run(&["--account-key", OTHER_ACCOUNT, "import", "accounts", "--confirm-deletions"]).success();
    assert!(out.stderr.contains(&format!("this state holds the accounts of account {ACCOUNT_KEY}")), "{}", out.stderr);
    let items = h.run(&["state", "show", "--format", "json"]).success().json();
    let gone: Vec<&Value> = items.as_array().unwrap().iter().filter(|i| i["status"] != "present").collect();
    assert!(gone.is_empty(), "marked missing on another account's listing: {gone:?}");
}
