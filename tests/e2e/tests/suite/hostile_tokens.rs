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
