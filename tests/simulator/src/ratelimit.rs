//! Per-API token buckets (reference §5.4, quirk 15): GoTo documents 10 requests/s per API, then 429.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::RETRY_AFTER;

use crate::error::{ApiError, invented};
use crate::state::{Shared, lock};
use crate::stats::{ADMIN_PREFIX, IDENTITY_PREFIX};

/// The separately limited APIs.
#[derive(Clone, Copy)]
enum Api {
    Admin,
    Identity,
    OAuth,
}

impl Api {
    fn of(path: &str) -> Option<Api> {
        if path.starts_with(ADMIN_PREFIX) {
            Some(Api::Admin)
        } else if path.starts_with(IDENTITY_PREFIX) {
            Some(Api::Identity)
        } else if path.starts_with("/oauth/") {
            Some(Api::OAuth)
        } else {
            None
        }
    }
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// One bucket per API; capacity and refill rate are both the configured rate, so a burst of
/// `rate` requests passes and then `rate` per second.
pub(crate) struct RateLimiter {
    buckets: [Option<Bucket>; 3],
}

impl RateLimiter {
    pub fn new() -> Self {
        RateLimiter { buckets: [None; 3] }
    }

    fn allow(&mut self, api: Api, rate: u32, now: Instant) -> bool {
        let rate = f64::from(rate);
        let bucket = self.buckets[api as usize].get_or_insert(Bucket { tokens: rate, last: now });
        let refill = now.saturating_duration_since(bucket.last).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(rate);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The 429 response: Admin error envelope plus `Retry-After` when configured.
pub(crate) fn too_many_requests(retry_after_secs: Option<u32>) -> Response {
    let mut response =
        ApiError::new(http::StatusCode::TOO_MANY_REQUESTS, invented::TOO_MANY_REQUESTS, "rate limit exceeded")
            .into_response();
    if let Some(secs) = retry_after_secs {
        response.headers_mut().insert(RETRY_AFTER, secs.into());
    }
    response
}

/// Middleware: answers 429 once an API's bucket is empty.
pub(crate) async fn limit(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let knobs = s.knobs();
    if let (Some(api), Some(rate)) = (Api::of(req.uri().path()), knobs.rate_limit_per_sec)
        && !lock(&s.limiter).allow(api, rate, Instant::now())
    {
        return too_many_requests(knobs.retry_after_secs);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bursts_then_refills_per_api() {
        let mut limiter = RateLimiter::new();
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.allow(Api::Admin, 3, t0)));
        assert!(!limiter.allow(Api::Admin, 3, t0));
        assert!(limiter.allow(Api::OAuth, 3, t0), "APIs are limited separately");
        assert!(limiter.allow(Api::Admin, 3, t0 + Duration::from_millis(340)));
        assert!(!limiter.allow(Api::Admin, 3, t0 + Duration::from_millis(340)));
        assert!(!limiter.allow(Api::Identity, 0, t0));
    }
}
