//! `probe`: read-only checks of what the connector assumes about a tenant's API (reference
//! §11 lists what no public source confirms). Every request is a GET, besides one token
//! refresh; a check GoTo refuses becomes a finding, so a hostile or partial API is reported,
//! not failed on.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::transport;
use crate::filter;
use crate::goto::model::{ListPage, Me};
use crate::keys;
use crate::session::{Replay, Session};
use crate::settings::{EmptyLists, FilterEscaping, GroupMove, LicenseAssignment, MAX_PAGE_SIZE};
use crate::transport::Method;
use crate::types::ConnectorError;
use crate::wit::{AccountFilter, Finding};

/// Page sizes asked for: the connector's largest, and one beyond any documented client.
const PAGE_SIZES: [u32; 2] = [MAX_PAGE_SIZE, 5000];
/// Headers worth reporting: rate-limit state and retry hints, in any vendor's spelling.
const RATE_HEADER_MARKS: [&str; 3] = ["ratelimit", "rate-limit", "retry-after"];

/// What a probe read; `headers` collects the rate-limit headers of every answer.
struct Probe<'s, 'a> {
    session: &'s Session<'a>,
    headers: RefCell<BTreeMap<String, String>>,
    answers: Cell<u32>,
}

pub fn run(session: &Session) -> Result<Vec<Finding>, ConnectorError> {
    let probe = Probe { session, headers: RefCell::default(), answers: Cell::new(0) };
    let lifetime = session.refresh_token_lifetime()?;
    let me_body: Value = probe.get("/me", &[])?;
    let me: Me = serde_json::from_value(me_body.clone())
        .map_err(|e| transport(format!("GoTo's /me answer is not the expected JSON: {e}")))?;
    let account = session.account_key_from(&me)?.to_owned();
    let mut findings = vec![me_shape(&me_body), token_lifetime(lifetime)];
    findings.push(probe.page_size(&account));
    findings.push(probe.escaped_filter(&account, me.email.as_deref()));
    for collection in ["licenses", "groups"] {
        findings.push(probe.single_object_read(&account, collection));
    }
    findings.push(probe.rate_headers());
    findings.extend(unprobed(session));
    Ok(findings)
}

fn finding(name: &str, observed: impl Into<String>, recommended: Option<String>) -> Finding {
    Finding { name: name.to_owned(), observed: observed.into(), recommended }
}

/// The fields `/me` carries, and whether the account key can be found from them.
fn me_shape(body: &Value) -> Finding {
    let fields: Vec<&str> = body.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    let names_account = ["accountKey", "accounts"].iter().any(|f| fields.contains(f));
    let recommended = (!names_account).then(|| "account-key = \"<your account key>\" (/me names none)".to_owned());
    finding("me-fields", format!("/me has {}", fields.join(", ")), recommended)
}

fn token_lifetime(secs: u64) -> Finding {
    let observed =
        format!("a refreshed access token lasts {secs} s; the connector refreshes it after {} s", secs * 2 / 3);
    finding("token-lifetime", observed, None)
}

impl Probe<'_, '_> {
    /// A GET whose answer's rate-limit headers are noted.
    fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, ConnectorError> {
        let response = self.session.call(Method::Get, path, query, None, Replay::IfIdempotent)?;
        self.answers.set(self.answers.get() + 1);
        let mut headers = self.headers.borrow_mut();
        for (name, value) in &response.headers {
            let lower = name.to_ascii_lowercase();
            if RATE_HEADER_MARKS.iter().any(|mark| lower.contains(mark)) {
                headers.insert(lower, value.clone());
            }
        }
        serde_json::from_slice(&response.body)
            .map_err(|e| transport(format!("GET {path} answered with a body that is not the expected JSON: {e}")))
    }

    fn users(&self, account: &str, query: &[(&str, &str)]) -> Result<ListPage<Value>, ConnectorError> {
        self.get(&format!("/accounts/{account}/users"), query)
    }

    /// Asks for large pages: GoTo may honour, clamp or refuse them.
    fn page_size(&self, account: &str) -> Finding {
        let mut observed = Vec::new();
        let mut largest: Option<u32> = None;
        let mut clamped_to = None;
        for size in PAGE_SIZES {
            let size_text = size.to_string();
            match self.users(account, &[("offset", "0"), ("pageSize", &size_text), ("attributes", "key")]) {
                Ok(page) => {
                    let returned = page.results.len() as u64;
                    if returned >= u64::from(size) {
                        observed.push(format!("{size}: honoured"));
                        largest = Some(size);
                    } else if returned == page.total {
                        observed.push(format!("{size}: all {returned} users in one page (too few to tell)"));
                    } else {
                        observed.push(format!("{size}: clamped to {returned} of {}", page.total));
                        clamped_to = clamped_to.or(Some(returned as u32));
                    }
                }
                Err(e) => observed.push(format!("{size}: refused ({})", e.message())),
            }
        }
        let recommended = match (largest, clamped_to) {
            (_, Some(clamp)) if clamp > 0 => Some(format!("page-size = {}", clamp.min(MAX_PAGE_SIZE))),
            (Some(size), _) => Some(format!("page-size = {}", size.min(MAX_PAGE_SIZE))),
            _ => None,
        };
        finding("page-size", observed.join("; "), recommended)
    }

    /// Whether the connector's escaped email filter finds the admin, compared with the value
    /// sent as a bare regex.
    fn escaped_filter(&self, account: &str, email: Option<&str>) -> Finding {
        let Some(email) = email else {
            return finding("filter-escaping", "not checked: /me has no email to look up", None);
        };
        let admin = AccountFilter::Email(email.to_owned());
        let (escaped, plain) = match (
            filter::account_filter(&admin, FilterEscaping::Escaped),
            filter::account_filter(&admin, FilterEscaping::Plain),
        ) {
            (Ok(escaped), Ok(plain)) => (escaped, plain),
            (Err(e), _) | (_, Err(e)) => {
                return finding("filter-escaping", format!("not checked: {}", e.message()), None);
            }
        };
        let mut matched = Vec::new();
        for (label, filter) in [("escaped", escaped.as_str()), ("plain", plain.as_str())] {
            let outcome = self.users(account, &[("filter", filter), ("pageSize", "5"), ("attributes", "key,email")]);
            matched.push(match outcome {
                Ok(page) => {
                    let found = page
                        .results
                        .iter()
                        .any(|u| u.get("email").and_then(Value::as_str).is_some_and(|e| e.eq_ignore_ascii_case(email)));
                    (label, Ok(found))
                }
                Err(e) => (label, Err(e.message().to_owned())),
            });
        }
        let observed: Vec<String> = matched
            .iter()
            .map(|(label, outcome)| match outcome {
                Ok(true) => format!("{label} value matches the admin's own email"),
                Ok(false) => format!("{label} value does not match the admin's own email"),
                Err(why) => format!("{label} value refused ({why})"),
            })
            .collect();
        let recommended = match (&matched[0].1, &matched[1].1) {
            (Ok(true), _) => "filter-escaping = \"escaped\"",
            (_, Ok(true)) => "filter-escaping = \"plain\"",
            _ => "neither filter finds the admin: filter with --filter-goto in GoTo's own syntax",
        };
        let recommended = Some(recommended.to_owned());
        finding("filter-escaping", observed.join("; "), recommended)
    }

    /// Whether `GET …/{collection}/{key}` exists, tried on the first listed item.
    fn single_object_read(&self, account: &str, collection: &str) -> Finding {
        let name = format!("single-{}-read", collection.trim_end_matches('s'));
        let path = format!("/accounts/{account}/{collection}");
        let first = match self.get::<ListPage<Value>>(&path, &[("offset", "0"), ("pageSize", "1")]) {
            Ok(page) => page.results.into_iter().next(),
            Err(e) => return finding(&name, format!("the {collection} listing was refused ({})", e.message()), None),
        };
        let key =
            first.as_ref().and_then(|item| item.get("key")).map(|k| k.as_str().map_or(k.to_string(), str::to_owned));
        let Some(key) = key else {
            return finding(&name, format!("not checked: the {collection} listing is empty"), None);
        };
        // The key goes into the path: only a real GoTo key may.
        if keys::validate("key", &key).is_err() {
            return finding(
                &name,
                format!("not checked: the {collection} listing's first key is not a GoTo key"),
                None,
            );
        }
        let observed = match self.get::<Value>(&format!("{path}/{key}"), &[]) {
            Ok(_) => format!("GET …/{collection}/{{key}} exists"),
            Err(ConnectorError::NotFound(_)) => format!("GET …/{collection}/{{key}} answers 404 (absent)"),
            Err(e) => format!("GET …/{collection}/{{key}} refused ({})", e.message()),
        };
        // Writes check licenses and groups against the listings, so neither answer needs a setting.
        finding(&name, observed, None)
    }

    fn rate_headers(&self) -> Finding {
        let answers = self.answers.get();
        let headers = self.headers.borrow();
        let observed = if headers.is_empty() {
            format!("none on {answers} answers")
        } else {
            headers.iter().map(|(name, value)| format!("{name}: {value}")).collect::<Vec<_>>().join(", ")
        };
        finding("rate-limit-headers", observed, None)
    }
}

/// Write shapes only a write would reveal: each named with the setting in force and the
/// default, so a reader knows what the connector will send and what to switch to if GoTo
/// refuses it.
fn unprobed(session: &Session) -> Vec<Finding> {
    let settings = &session.settings;
    let in_force = [
        (
            "license-assignment",
            match settings.license_assignment {
                LicenseAssignment::UserUpdate => "user-update",
                LicenseAssignment::LicenseUsers => "license-users",
            },
            "user-update",
            "license-users",
        ),
        (
            "group-move",
            match settings.group_move {
                GroupMove::LeaveThenJoin => "leave-then-join",
                GroupMove::Put => "put",
            },
            "leave-then-join",
            "put",
        ),
        (
            "empty-lists",
            match settings.empty_lists {
                EmptyLists::Send => "send",
                EmptyLists::Omit => "omit",
            },
            "send",
            "omit",
        ),
    ];
    in_force
        .into_iter()
        .map(|(name, value, default, other)| {
            finding(
                name,
                format!("not probed (only a write would tell); in force: {value}"),
                Some(format!("{name} = \"{default}\" unless GoTo refuses it, then \"{other}\"")),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeTransport, json, signed_in_host};

    /// Every probe is a GET (besides the refresh); a listed key that is not a GoTo key never
    /// goes into a path; rate-limit headers are reported whatever their spelling.
    #[test]
    fn the_probe_only_reads_and_puts_no_listed_key_it_cannot_trust_into_a_path() {
        let host = signed_in_host();
        let user = r#"{"key":"1","email":"a.b@x.com"}"#;
        let page = format!(r#"{{"results":[{user}],"total":1}}"#);
        let http = FakeTransport::sequence(vec![
            json(200, r#"{"access_token":"fresh","expires_in":7200}"#),
            json(200, r#"{"accountKey":"9","email":"a.b@x.com"}"#).with_header("X-RateLimit-Remaining", "99"),
            json(200, &page),
            json(200, &page),
            json(200, &page),
            json(200, &page),
            json(200, r#"{"results":[{"key":"../../users/1"}],"total":1}"#),
            json(200, r#"{"results":[],"total":0}"#),
        ]);
        let session = Session::new(&host, &http).unwrap();
        let findings = run(&session).unwrap();
        let observed = |name: &str| findings.iter().find(|f| f.name == name).unwrap().observed.clone();
        assert!(observed("token-lifetime").contains("7200 s"));
        assert!(observed("single-license-read").contains("not a GoTo key"), "{findings:?}");
        assert!(observed("single-group-read").contains("listing is empty"), "{findings:?}");
        assert_eq!(observed("rate-limit-headers"), "x-ratelimit-remaining: 99");
        let sent = http.requests();
        assert_eq!(sent.len(), 8);
        assert!(sent[1..].iter().all(|r| r.method == Method::Get), "{sent:?}");
    }
}
