//! Turning a failed GoTo response into the WIT error variant.
//!
//! GoTo's envelope is `{"incidentId": …, "errors": [{"code": "user.not.found", "value": …}]}`;
//! gateways in front of it send HTML instead, which must still produce a readable error.

use serde::Deserialize;

use crate::error::excerpt;
use crate::transport::HttpResponse;
use crate::types::{ConnectorError, ErrorInfo, RateLimit, RemoteFailure};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    incident_id: Option<serde_json::Value>,
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
struct ErrorItem {
    code: Option<String>,
    value: Option<serde_json::Value>,
}

/// What GoTo said, as far as the body tells.
struct Detail {
    code: Option<String>,
    value: Option<String>,
    incident_id: Option<String>,
    /// Set when the body was not GoTo's JSON envelope.
    excerpt: Option<String>,
}

fn text(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn detail(response: &HttpResponse) -> Detail {
    match serde_json::from_slice::<Envelope>(&response.body) {
        Ok(envelope) => {
            let first = envelope.errors.into_iter().next();
            Detail {
                code: first.as_ref().and_then(|e| e.code.clone()),
                value: first.and_then(|e| e.value).map(text),
                incident_id: envelope.incident_id.map(text),
                excerpt: None,
            }
        }
        Err(_) => Detail { code: None, value: None, incident_id: None, excerpt: Some(excerpt(&response.body)) },
    }
}

/// Maps a non-2xx response to an error. `action` says what was attempted, e.g. `GET …/users`.
pub fn from_response(action: &str, response: &HttpResponse) -> ConnectorError {
    if (300..400).contains(&response.status) {
        let message = format!(
            "{action} failed: GoTo answered with a redirect (HTTP {}) to {}; redirects are not followed",
            response.status,
            location_origin(response)
        );
        return ConnectorError::Remote(RemoteFailure {
            status: response.status,
            code: None,
            incident_id: None,
            message,
        });
    }
    let d = detail(response);
    let said = match (&d.code, &d.value, &d.excerpt) {
        (Some(code), Some(value), _) => format!("{code} ({value})"),
        (Some(code), None, _) => code.clone(),
        (None, _, Some(excerpt)) if !excerpt.is_empty() => {
            let kind = response.header("content-type").unwrap_or("no content type");
            format!("a non-JSON body ({kind}): \"{excerpt}\"")
        }
        _ => "no error detail".to_owned(),
    };
    let message = format!("{action} failed with HTTP {}: {said}", response.status);
    let context = |field: Option<&str>| ErrorInfo { message: message.clone(), field: field.map(str::to_owned) };
    match response.status {
        400 | 422 => {
            let field =
                d.code.as_deref().and_then(|c| c.split('.').next()).map(|f| if f == "user" { "account" } else { f });
            ConnectorError::InvalidInput(context(field))
        }
        401 => ConnectorError::Unauthorized(ErrorInfo {
            message: format!(
                "{message}. GoTo refused the access token even after a refresh: check that the OAuth client has the \
                 Admin Center (identity:) scope and that the consenting user is still an admin"
            ),
            field: None,
        }),
        403 => ConnectorError::Forbidden(ErrorInfo {
            message: format!("{message}. The GoTo user behind the credentials lacks the admin role this needs"),
            field: None,
        }),
        404 => ConnectorError::NotFound(context(Some("key"))),
        409 => ConnectorError::Conflict(context(None)),
        429 => ConnectorError::RateLimited(RateLimit { retry_after_secs: retry_after(response), message }),
        status => ConnectorError::Remote(RemoteFailure { status, code: d.code, incident_id: d.incident_id, message }),
    }
}

/// Where a redirect points, as scheme, host and port only: its path and query may carry tokens.
fn location_origin(response: &HttpResponse) -> String {
    const MAX: usize = 100;
    let Some(location) = response.header("location").map(str::trim).filter(|l| !l.is_empty()) else {
        return "no location".to_owned();
    };
    let Some((scheme, rest)) = location.split_once("://") else {
        return "a path on the same host".to_owned();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}").chars().filter(|c| !c.is_control()).take(MAX).collect()
}

/// `Retry-After` in whole seconds (see [`gtm_retry_after::wait`]), rounded up: waiting a little
/// long is fine, retrying early is another 429.
pub fn retry_after(response: &HttpResponse) -> Option<u32> {
    let wait = gtm_retry_after::wait(response.header("retry-after")?, std::time::SystemTime::now())?;
    Some(u32::try_from(wait.as_millis().div_ceil(1000)).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, content_type: &str, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_envelope_maps_by_status_with_code_and_incident() {
        let r = response(
            404,
            "application/json",
            r#"{"incidentId":"abc","errors":[{"code":"user.not.found","value":"42"}]}"#,
        );
        match from_response("GET user 42", &r) {
            ConnectorError::NotFound(c) => assert!(c.message.contains("user.not.found (42)"), "{}", c.message),
            other => panic!("{other:?}"),
        }
        let r = response(500, "application/json", r#"{"incidentId":"inc-1","errors":[{"code":"server.error"}]}"#);
        match from_response("GET x", &r) {
            ConnectorError::Remote(f) => {
                assert_eq!(
                    (f.status, f.code.as_deref(), f.incident_id.as_deref()),
                    (500, Some("server.error"), Some("inc-1"))
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_html_gateway_page_becomes_a_remote_error_with_a_short_excerpt() {
        let html = format!(
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>{}</body></html>",
            "x ".repeat(400)
        );
        match from_response("GET users", &response(502, "text/html", &html)) {
            ConnectorError::Remote(f) => {
                assert_eq!(f.status, 502);
                assert!(
                    f.message.contains("non-JSON body (text/html): \"502 Bad Gateway 502 Bad Gateway"),
                    "{}",
                    f.message
                );
                assert!(f.message.len() < 260, "{}", f.message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_redirect_is_refused_naming_only_the_origin_it_points_to() {
        let mut r = response(302, "text/html", "<a href='x'>moved</a>");
        r.headers.push(("Location".into(), "https://user:pw@login.example:8443/cb?code=secret#frag".into()));
        match from_response("GET /admin/rest/v1/me", &r) {
            ConnectorError::Remote(f) => {
                assert_eq!(f.status, 302);
                assert_eq!(
                    f.message,
                    "GET /admin/rest/v1/me failed: GoTo answered with a redirect (HTTP 302) to \
                     https://login.example:8443; redirects are not followed"
                );
            }
            other => panic!("{other:?}"),
        }
        let relative =
            HttpResponse { status: 307, headers: vec![("Location".into(), "/v2/me?t=1".into())], body: vec![] };
        assert!(format!("{:?}", from_response("GET", &relative)).contains("to a path on the same host"));
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let mut r = response(429, "application/json", "{}");
        r.headers.push(("Retry-After".into(), "3".into()));
        assert!(matches!(
            from_response("GET", &r),
            ConnectorError::RateLimited(RateLimit { retry_after_secs: Some(3), .. })
        ));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        let with = |value: &str| {
            let mut r = response(429, "application/json", "{}");
            r.headers.push(("Retry-After".into(), value.into()));
            retry_after(&r)
        };
        assert_eq!(with(" 120 "), Some(120));
        assert_eq!(with("Sun, 06 Nov 1994 08:49:37 GMT"), Some(0), "a date past: retry now");
        let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(30));
        assert!(with(&soon).is_some_and(|secs| (29..=30).contains(&secs)), "{:?}", with(&soon));
        assert_eq!(with("99999999999"), Some(u32::MAX), "saturated, not dropped");
        assert_eq!(with("soon"), None);
        assert_eq!(retry_after(&response(429, "application/json", "{}")), None, "no header");
    }
}
