//! Property tests over everything the guest takes from outside: listing pages and token
//! responses from the server, keys, filters and mapping templates from the caller.
//!
//! Each property runs on generated inputs (a fixed seed, so every run tries the same cases) and
//! on the checked-in corpus under `tests/corpus/<target>/` (crate `gtm-corpus`), one input per
//! file: the shapes that once broke a promise, kept so that they never break it again.

use gtm_corpus::{generated, replay};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::Connector;
use crate::testing::{FakeHost, FakeTransport, json as respond, signed_in_host};
use crate::types::ConnectorError;
use crate::wit::{AccountFields, AccountFilter, AccountQuery, NewAccount, WriteOptions};

/// Any JSON value, nested a few levels, with the numbers and strings that break parsers.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![Just("1e400"), Just("-0"), Just("1e9"), Just("99999999999999999999999999"), Just("0.5")]
            .prop_map(|n| serde_json::from_str::<Value>(n).unwrap()),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![Just("key".to_owned()), Just("total".to_owned()), Just("results".to_owned()), "[a-z]{1,6}"],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A listing page: well formed, or with one part broken.
fn listing_page() -> impl Strategy<Value = Value> {
    let user = prop_oneof![
        "[0-9]{1,30}".prop_map(|k| json!({"key": k, "email": format!("u{k}@x.example")})),
        any_json().prop_map(|k| json!({"key": k, "email": "odd@x.example"})),
        any_json(),
    ];
    let results = prop_oneof![prop::collection::vec(user, 0..4).prop_map(Value::Array), any_json()];
    let total = prop_oneof![(0u64..10).prop_map(Value::from), any_json()];
    (results, total, any::<bool>(), any::<bool>()).prop_map(|(results, total, with_results, with_total)| {
        let mut page = serde_json::Map::new();
        if with_results {
            page.insert("results".into(), results);
        }
        if with_total {
            page.insert("total".into(), total);
        }
        Value::Object(page)
    })
}

fn list_one_page(body: &[u8]) -> Result<crate::wit::AccountPage, ConnectorError> {
    let host = signed_in_host().with_setting("account-key", "9");
    let mut response = respond(200, "");
    response.body = body.to_vec();
    let http = FakeTransport::sequence(vec![response]);
    Connector::new(&host, &http)?.list_accounts(&AccountQuery { filter: None, page_size: Some(50), cursor: None })
}

/// A page is accepted only when it is a well-formed listing: an integer total that the page
/// does not exceed, results an array of accounts whose keys are decimal digits. Anything else
/// is a failed page, never an empty (and so "complete") listing.
fn check_listing(body: &[u8]) -> Result<(), TestCaseError> {
    let Ok(page) = list_one_page(body) else { return Ok(()) };
    let parsed: Value =
        serde_json::from_slice(body).map_err(|e| TestCaseError::fail(format!("accepted non-JSON: {e}")))?;
    let total = parsed.get("total").and_then(Value::as_u64);
    prop_assert!(total.is_some(), "accepted a page without an integer total: {parsed}");
    prop_assert!(parsed.get("results").is_none_or(Value::is_array), "accepted non-array results: {parsed}");
    prop_assert_eq!(page.total, total.unwrap());
    prop_assert!(page.accounts.len() as u64 <= page.total, "more results than the total: {}", parsed);
    for account in &page.accounts {
        prop_assert!(
            !account.key.is_empty() && account.key.bytes().all(|b| b.is_ascii_digit()),
            "accepted key {:?}",
            account.key
        );
    }
    Ok(())
}

#[test]
fn listing_pages_are_accepted_only_when_well_formed() {
    generated(512, listing_page(), |page| check_listing(page.to_string().as_bytes()));
}

#[test]
fn listing_corpus() {
    replay("listing", |_, body| check_listing(body));
}

/// A token endpoint answer: its usual fields, with any type, or anything at all.
fn token_body() -> impl Strategy<Value = Vec<u8>> {
    let field = |name: &'static str, usual: BoxedStrategy<Value>| {
        prop_oneof![Just(None), usual.prop_map(Some), any_json().prop_map(Some)].prop_map(move |v| (name, v))
    };
    let expires = prop_oneof![
        (-10_000i64..10_000_000).prop_map(Value::from),
        "[0-9]{1,12}".prop_map(Value::String),
        (0.0f64..1e7).prop_map(Value::from),
        Just(json!(1e300)),
    ]
    .boxed();
    let object = (
        field("access_token", "[A-Za-z0-9]{8,24}".prop_map(Value::String).boxed()),
        field("expires_in", expires),
        field("refresh_token", "rotated-[A-Za-z0-9]{8,24}".prop_map(Value::String).boxed()),
    )
        .prop_map(|fields| {
            let object: serde_json::Map<String, Value> =
                [fields.0, fields.1, fields.2].into_iter().filter_map(|(k, v)| Some((k.to_owned(), v?))).collect();
            Value::Object(object).to_string().into_bytes()
        });
    prop_oneof![4 => object, 1 => prop::collection::vec(any::<u8>(), 0..64)]
}

/// Whatever the token endpoint answers: no panic; a rotated refresh token in the answer is
/// stored, however odd the rest; and no part of the answer is quoted in an error.
fn check_token(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    let host = FakeHost::default()
        .with_secret("client-id", "cid")
        .with_secret("client-secret", "cs")
        .with_secret("refresh-token", "the-old-refresh-token")
        .with_setting("account-key", "9");
    let mut token = respond(status, "");
    token.body = body.to_vec();
    let http = FakeTransport::sequence(vec![token, respond(200, r#"{"results":[],"total":0}"#)]);
    let result = Connector::new(&host, &http)
        .and_then(|c| c.list_accounts(&AccountQuery { filter: None, page_size: Some(1), cursor: None }));
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let rotated =
        parsed.as_ref().and_then(|v| v.get("refresh_token")).and_then(Value::as_str).filter(|t| !t.is_empty());
    if let (Some(rotated), true) = (rotated, (200..300).contains(&status)) {
        let stored = host.stored("refresh-token");
        prop_assert_eq!(stored.as_deref(), Some(rotated), "the rotated token was lost");
    }
    if let Err(error) = result {
        let message = format!("{error:?}");
        let quoted = parsed
            .iter()
            .flat_map(|v| ["access_token", "refresh_token"].map(|f| v.get(f).and_then(Value::as_str)))
            .flatten()
            .filter(|t| t.len() >= 8)
            .find(|t| message.contains(t));
        prop_assert!(quoted.is_none(), "the error quotes the token response: {}", message);
    }
    Ok(())
}

#[test]
fn token_answers_never_lose_a_rotated_token_nor_leak_into_errors() {
    generated(512, (prop_oneof![Just(200u16), Just(400), Just(401), Just(500)], token_body()), |(status, body)| {
        check_token(status, &body)
    });
}

#[test]
fn token_corpus() {
    replay("token", |_, body| check_token(200, body));
}

/// A key from a caller is sent only when it is decimal digits; anything else fails before any
/// request.
fn check_key(key: &str) -> Result<(), TestCaseError> {
    let host = signed_in_host().with_setting("account-key", "9");
    let http = FakeTransport::sequence(vec![respond(200, r#"{"key":"1","email":"a@x.example"}"#)]);
    let result = Connector::new(&host, &http).and_then(|c| c.get_account(key));
    let digits = !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_digit());
    if !digits {
        prop_assert!(matches!(result, Err(ConnectorError::InvalidInput(_))), "{key:?} gave {result:?}");
        prop_assert!(http.requests().is_empty(), "{key:?} was sent");
    }
    Ok(())
}

#[test]
fn caller_keys_are_checked_before_they_reach_a_url() {
    generated(512, prop_oneof![".{0,80}", "[0-9]{1,70}", "[0-9]{1,10}[/.%?#][0-9a-z./]{0,10}"], |key| check_key(&key));
}

#[test]
fn key_corpus() {
    replay("keys", |_, key| check_key(String::from_utf8_lossy(key).trim_end_matches('\n')));
}

/// An email filter reaches GoTo as a regex that matches the email itself, whatever characters
/// it holds, and nothing but a clean error comes back for values that cannot be sent.
fn check_email_filter(email: &str) -> Result<(), TestCaseError> {
    let host = signed_in_host().with_setting("account-key", "9");
    let http = FakeTransport::sequence(vec![respond(200, r#"{"results":[],"total":0}"#)]);
    let query = AccountQuery { filter: Some(AccountFilter::Email(email.to_owned())), page_size: None, cursor: None };
    let result = Connector::new(&host, &http).and_then(|c| c.list_accounts(&query));
    let Some(sent) = http.requests().first().cloned() else {
        prop_assert!(matches!(result, Err(ConnectorError::InvalidInput(_))), "{email:?} gave {result:?}");
        return Ok(());
    };
    let query = sent.url.split_once('?').map(|(_, q)| q.to_owned()).unwrap_or_default();
    let filter = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "filter").map(|(_, v)| v.into_owned());
    let filter = filter.ok_or_else(|| TestCaseError::fail("no filter parameter sent"))?;
    let pattern = filter
        .strip_prefix("(email=\"")
        .and_then(|f| f.strip_suffix("\")"))
        .ok_or_else(|| TestCaseError::fail(format!("unexpected filter shape {filter}")))?;
    let regex = regex::Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| TestCaseError::fail(format!("{filter} is not a regex: {e}")))?;
    prop_assert!(regex.is_match(email.trim()), "{} does not match {:?}", filter, email);
    Ok(())
}

#[test]
fn email_filters_match_exactly_the_email() {
    generated(512, prop_oneof!["[a-z0-9.+_~#&-]{1,12}@[a-z0-9.-]{1,10}", "\\PC{1,30}"], |email| {
        check_email_filter(&email)
    });
}

#[test]
fn filter_corpus() {
    replay("filters", |_, email| check_email_filter(String::from_utf8_lossy(email).trim_end_matches('\n')));
}

/// A mapping template of any text: it compiles or is a configuration error, it renders or is
/// an error, within its work cap; never a panic, never a hang.
fn check_template(template: &str) -> Result<(), TestCaseError> {
    let mapping = json!({"email": {"template": template}}).to_string();
    let host = signed_in_host().with_setting("account-key", "9").with_setting("mapping", &mapping);
    let http = FakeTransport::sequence(vec![]);
    let connector = Connector::new(&host, &http).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let account = NewAccount {
        fields: AccountFields {
            email: None,
            first_name: Some("A".into()),
            last_name: Some("B".into()),
            locale: None,
            time_zone: None,
        },
        identity: vec![("given".into(), "Ann".into()), ("n".into(), "12".into())],
        entitlements: vec![],
    };
    match connector.check_configuration() {
        Ok(()) => drop(connector.create_account(&account, WriteOptions { dry_run: true })),
        Err(error) => prop_assert!(matches!(error, ConnectorError::Config(_)), "{error:?}"),
    }
    Ok(())
}

fn template_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{{ given }}".to_owned()),
        Just("{{ given | lower | replace('a', 'b') }}".to_owned()),
        Just("{% for i in range(n | int) %}{{ i }}{% endfor %}".to_owned()),
        Just("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}".to_owned()),
        Just("{{ identity['given'] ~ '@x.example' }}".to_owned()),
        Just("{% if".to_owned()),
        Just("}}".to_owned()),
        Just("{{ 1 / 0 }}".to_owned()),
        Just("{{ missing.attr }}".to_owned()),
        ".{0,6}",
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
}

#[test]
fn mapping_templates_never_panic_nor_run_away() {
    generated(256, template_text(), |template| check_template(&template));
}

#[test]
fn template_corpus() {
    replay("templates", |_, template| check_template(&String::from_utf8_lossy(template)));
}
