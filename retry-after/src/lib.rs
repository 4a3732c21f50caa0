//! GoTo's `Retry-After` header, read one way on both sides of the sandbox: by the guest, which
//! waits it out before it retries (under any host), and by the bundled host's rate governor,
//! which holds the requests of every instance until then. The two cannot share it at run time
//! (the guest sees the answer only after the host has passed it on, and other hosts have no
//! governor), so they share this code instead.

use std::time::{Duration, SystemTime};

/// How long a `Retry-After` value asks to wait from `now`, in either of RFC 9110's forms
/// (§10.2.3): a number of seconds, or an HTTP date (a date past is no wait). GoTo does not
/// document the header, so any other value is none.
pub fn wait(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_read_as_seconds_or_as_an_http_date() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 12:00:00 GMT").unwrap();
        assert_eq!(wait(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(wait("120", now), Some(Duration::from_secs(120)));
        assert_eq!(wait("Wed, 02 Dec 2026 12:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(wait("Wed, 02 Dec 2026 11:00:00 GMT", now), Some(Duration::ZERO), "a date past");
        for odd in ["later", "-1", "1.5", ""] {
            assert_eq!(wait(odd, now), None, "{odd:?}");
        }
    }
}
