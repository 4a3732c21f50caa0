//! Token answers no GoTo should send, from the hostile server: each odd `expires_in` beside a
//! rotated refresh token, and answers with no usable access token. The rotated token is always
//! stored, and no part of a token answer appears in any output or in the state (the harness's
//! leak sweep checks every run and the home; these tests check the answers' other parts too).

use gtm_e2e::Harness;
use gtm_e2e::hostile::{ACCESS_TOKEN, Hostile, Reply, page_of, standard, user};
use serde_json::{Value, json};

/// A GoTo look-alike whose token endpoint gives `token`, listing three users.
fn server(token: Value) -> Hostile {
    let all: Vec<_> = (0..3).map(user).collect();
    Hostile::start(move |req| match req {
        _ if req.is_token() => Reply::ok(token.clone()),
        _ if req.is_user_listing() => page_of(req, &all),
        _ => standard(req).unwrap_or_else(Reply::not_found),
    })
}

/// Asserts that no output of `runs` and no state record quotes the token answer.
#[track_caller]
fn assert_unquoted(h: &Harness, runs: &[&gtm_e2e::Outcome], answer: &Value) {
    let history = h.run(&["state", "history", "--format", "json"]).success();
    let mut texts: Vec<&str> = runs.iter().flat_map(|o| [o.stdout.as_str(), o.stderr.as_str()]).collect();
    texts.push(&history.stdout);
    let fragments = ["expires_in", "hostile-rotated", ACCESS_TOKEN];
    for text in texts {
        for fragment in fragments.iter().copied().chain(answer["refresh_token"].as_str()) {
            assert!(!text.contains(fragment), "{fragment:?} quoted from the token answer {answer}:\n{text}");
        }
    }
}

#[test]
fn every_odd_expires_in_keeps_the_rotated_token_and_the_import_works() {
    for (i, expires_in) in [
        json!("3600"),
        json!(3599.5),
        json!(0),
        json!(-60),
        json!(1e300),
        json!(99999999999999999999u128),
        json!("soon"),
    ]
    .into_iter()
    .enumerate()
    {
        let rotated = format!("hostile-rotated-refresh-token-{i}-7c1d");
        let answer = json!({"access_token": ACCESS_TOKEN, "expires_in": expires_in, "refresh_token": rotated});
        let server = server(answer.clone());
        let h = Harness::against(&server);
        let import = h.run(&["import", "accounts"]).success();
        assert_eq!(import.jsonl().len(), 3, "expires_in {expires_in}: {}", import.stderr);
        assert_eq!(h.stored_secret("refresh-token").as_deref(), Some(rotated.as_str()), "expires_in {expires_in}");
        assert_eq!(server.count(|r| r.is_token()), 1, "expires_in {expires_in}: one refresh, however short");
        assert_unquoted(&h, &[&import], &answer);
    }
}

#[test]
fn a_token_answer_without_a_usable_access_token_still_stores_the_rotated_token_and_quotes_nothing() {
    for access_token in [Value::Null, json!(12345678901u64), json!(""), json!("has a space")] {
        let answer =
            json!({"access_token": access_token, "expires_in": 3600, "refresh_token": "hostile-rotated-no-access"});
        let server = server(answer.clone());
        let h = Harness::against(&server);
        let import = h.run(&["import", "accounts"]).failure(1, &["without a usable access_token"]);
        assert_eq!(h.stored_secret("refresh-token").as_deref(), Some("hostile-rotated-no-access"), "{answer}");
        assert_unquoted(&h, &[&import], &answer);
    }
}

#[test]
fn a_failed_token_answer_is_never_quoted() {
    let leaky = "hostile-rotated-in-an-error-body";
    for (status, body) in [
        (500, json!({"access_token": ACCESS_TOKEN, "refresh_token": leaky})),
        (400, json!([ACCESS_TOKEN, leaky])),
        (401, json!({"error": format!("{ACCESS_TOKEN} {leaky} {ACCESS_TOKEN} {leaky}")})),
    ] {
        let server = Hostile::start(move |req| {
            if req.is_token() {
                Reply::Json(status, body.clone())
            } else {
                standard(req).unwrap_or_else(Reply::not_found)
            }
        });
        let h = Harness::against(&server);
        let import = h.run(&["import", "accounts"]);
        assert!([1, 3].contains(&import.status), "HTTP {status}: {}", import.stderr);
        assert!(import.stderr.contains(&format!("HTTP {status}")), "HTTP {status}: {}", import.stderr);
        assert_unquoted(&h, &[&import], &json!({"refresh_token": leaky}));
    }
}

/// A gateway whose error page echoes the request it refused, `Authorization` header and all:
/// the error quotes the page, never the bearer token (the harness's sweep checks every output
/// and the state's history reason).
#[test]
fn an_error_page_echoing_the_bearer_token_is_quoted_without_it() {
    let server = Hostile::goto(|req| {
        let echoed = format!(
            "<html><pre>Refused: {} {}\nauthorization: {}</pre></html>",
            req.method,
            req.path,
            req.header("authorization").unwrap_or_default()
        );
        let headers = vec![("Content-Type".to_owned(), "text/html".to_owned())];
        Reply::Raw { status: 502, headers, body: echoed.into_bytes() }
    });
    let h = Harness::against(&server);
    let import = h.run(&["import", "accounts"]).failure(1, &["HTTP 502", "Bearer [withheld]"]);
    let history = h.run(&["state", "history", "--format", "json"]).success();
    for text in [&import.stderr, &history.stdout] {
        assert!(!text.contains(ACCESS_TOKEN), "{text}");
    }
}

/// A token endpoint whose `error_description` repeats the Basic credentials it was sent.
#[test]
fn a_token_refusal_repeating_the_basic_credentials_does_not_show_them() {
    let server = Hostile::start(|req| {
        if req.is_token() {
            let basic = req.header("authorization").unwrap_or_default().to_owned();
            Reply::Json(401, json!({"error": "invalid_client", "error_description": format!("bad {basic}")}))
        } else {
            standard(req).unwrap_or_else(Reply::not_found)
        }
    });
    let h = Harness::against(&server);
    // The harness fails the run if the Basic form reaches stderr; the code word still does.
    h.run(&["import", "accounts"]).failure(3, &["invalid_client", "client-id and client-secret"]);
}

/// `{"error":"invalid_grant"}` sent with 200 is a refused refresh token: exit 3 and the hint to
/// store a new one, as with 400.
#[test]
fn an_oauth_error_sent_with_200_is_credentials_rejected() {
    let server = Hostile::start(|req| {
        if req.is_token() {
            Reply::ok(json!({"error": "invalid_grant", "error_description": "refresh token spent"}))
        } else {
            standard(req).unwrap_or_else(Reply::not_found)
        }
    });
    let h = Harness::against(&server);
    h.run(&["import", "accounts"]).failure(3, &["invalid_grant (refresh token spent)", "secrets set refresh-token"]);
}
