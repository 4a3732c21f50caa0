//! Resending requests GoTo throttled or failed transiently.
//!
//! 429 is always retried (waiting `Retry-After` when given, else backing off); 5xx answers and
//! broken exchanges are retried only for idempotent requests, so a create is never doubled.

use std::time::Duration;

use crate::host::{Host, LogLevel};
use crate::transport::{HttpRequest, HttpResponse, Transport};
use crate::types::ConnectorError;

const RATE_LIMIT_ATTEMPTS: u32 = 6;
const SERVER_ERROR_ATTEMPTS: u32 = 3;
/// Never wait longer than this for one retry, whatever `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Exponential backoff from `base` with full jitter: a uniformly random wait up to
/// `base * 2^(attempt-1)` (at most [`MAX_WAIT`]), so that parallel runs spread their retries
/// instead of retrying in lockstep.
pub fn backoff(host: &dyn Host, base: Duration, attempt: u32) -> Duration {
    let ceiling = base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1))).min(MAX_WAIT);
    ceiling.mul_f64(host.random_u64() as f64 / u64::MAX as f64)
}

/// Sends `request`, retrying per the policy above. `retry_unsafe` allows retrying a
/// non-idempotent request on server errors (the token refresh, which changes nothing on failure).
pub fn send(
    host: &dyn Host,
    http: &dyn Transport,
    request: &HttpRequest,
    retry_unsafe: bool,
) -> Result<HttpResponse, ConnectorError> {
    let may_retry_failures = retry_unsafe || request.method.is_idempotent();
    let (mut throttled, mut failed) = (0u32, 0u32);
    loop {
        let what = format!("{} {}", request.method.as_str(), path_of(&request.url));
        let outcome = http.send(request);
        let wait = match &outcome {
            Ok(r) if r.status == 429 && throttled + 1 < RATE_LIMIT_ATTEMPTS => {
                throttled += 1;
                let wait = crate::goto::errors::retry_after(r)
                    .map(|s| Duration::from_secs(s.into()).min(MAX_WAIT))
                    .unwrap_or_else(|| backoff(host, Duration::from_millis(500), throttled));
                // Routine against GoTo's 10 requests/s: worth a line at -v, not a warning.
                host.log(LogLevel::Info, &format!("{what}: rate limited by GoTo, retrying in {} ms", wait.as_millis()));
                wait
            }
            Ok(r) if r.status >= 500 && may_retry_failures && failed + 1 < SERVER_ERROR_ATTEMPTS => {
                failed += 1;
                let wait = backoff(host, Duration::from_millis(250), failed);
                host.log(LogLevel::Warn, &format!("{what}: HTTP {}, retrying in {} ms", r.status, wait.as_millis()));
                wait
            }
            Err(ConnectorError::Transport(e)) if may_retry_failures && failed + 1 < SERVER_ERROR_ATTEMPTS => {
                failed += 1;
                let wait = backoff(host, Duration::from_millis(250), failed);
                host.log(LogLevel::Warn, &format!("{}, retrying in {} ms", e.message, wait.as_millis()));
                wait
            }
            _ => return outcome,
        };
        host.sleep(wait);
    }
}

/// The URL without scheme, authority or query: enough to say which call failed without
/// echoing filter values into logs.
pub fn path_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split('?').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeHost, FakeTransport, json};
    use crate::transport::Method;

    fn get() -> HttpRequest {
        HttpRequest { method: Method::Get, url: "http://h/admin/rest/v1/me?x=1".into(), headers: vec![], body: None }
    }

    #[test]
    fn a_429_waits_retry_after_then_succeeds() {
        let host = FakeHost::default();
        let http = FakeTransport::sequence(vec![json(429, "{}").with_header("Retry-After", "2"), json(200, "{}")]);
        assert_eq!(send(&host, &http, &get(), false).unwrap().status, 200);
        assert_eq!(host.slept(), vec![Duration::from_secs(2)]);
    }

    #[test]
    fn backoff_is_a_random_wait_up_to_an_exponential_ceiling() {
        let host = FakeHost::default();
        let base = Duration::from_millis(250);
        assert_eq!(backoff(&host, base, 1), base, "the top of the range");
        assert_eq!(backoff(&host, base, 3), base * 4);
        assert_eq!(backoff(&host, base, 30), MAX_WAIT);
        host.set_random(u64::MAX / 2);
        let half = backoff(&host, base, 3);
        assert!(half.abs_diff(base * 2) < Duration::from_millis(1), "{half:?}");
        host.set_random(0);
        assert_eq!(backoff(&host, base, 3), Duration::ZERO);
    }

    #[test]
    fn server_errors_retry_only_idempotent_requests() {
        let host = FakeHost::default();
        let http = FakeTransport::sequence(vec![json(502, "x"), json(200, "{}")]);
        assert_eq!(send(&host, &http, &get(), false).unwrap().status, 200);

        let post = HttpRequest { method: Method::Post, ..get() };
        let http = FakeTransport::sequence(vec![json(502, "x"), json(200, "{}")]);
        assert_eq!(send(&host, &http, &post, false).unwrap().status, 502);
        assert_eq!(http.requests().len(), 1);
    }

    #[test]
    fn retries_are_bounded() {
        let host = FakeHost::default();
        let http = FakeTransport::sequence(vec![json(429, "{}"); 10]);
        assert_eq!(send(&host, &http, &get(), false).unwrap().status, 429);
        assert_eq!(http.requests().len(), RATE_LIMIT_ATTEMPTS as usize);
    }

    #[test]
    fn paths_drop_the_query() {
        assert_eq!(
            path_of("https://api.getgo.com/admin/rest/v1/accounts/1/users?filter=x"),
            "/admin/rest/v1/accounts/1/users"
        );
    }
}
