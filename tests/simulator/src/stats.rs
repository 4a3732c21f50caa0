//! Request counters.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, StatusCode};

use crate::state::Shared;

/// Where the Admin API lives; route templates in [`Stats::by_route`] are relative to it.
pub(crate) const ADMIN_PREFIX: &str = "/admin/rest/v1";
/// Where the SCIM identity API lives.
pub(crate) const IDENTITY_PREFIX: &str = "/identity/v1";

/// Counters since start (or the last `reset_stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every request received.
    pub total: u64,
    /// GETs on the admin or identity API that reached a handler.
    pub admin_reads: u64,
    /// Other methods on the admin API that reached a handler (even if they then failed validation).
    pub admin_writes: u64,
    /// `POST /oauth/token` requests that reached the handler.
    pub token_requests: u64,
    /// Successful refresh-token grants.
    pub refresh_grants_ok: u64,
    /// 429 responses (rate limiter and injected).
    pub rate_limited: u64,
    /// 401 responses from the admin and identity APIs.
    pub unauthorized: u64,
    /// Fault rules fired.
    pub faults_injected: u64,
    /// Per route template that reached a handler, e.g. `"GET /accounts/{}/users"`.
    pub by_route: BTreeMap<String, u64>,
}

fn is_admin_api(path: &str) -> bool {
    path.starts_with(ADMIN_PREFIX) || path.starts_with(IDENTITY_PREFIX)
}

/// Outermost layer: counts every request and the 429/401 responses, whoever produced them.
pub(crate) async fn observe(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let admin = is_admin_api(req.uri().path());
    s.stats().total += 1;
    let response = next.run(req).await;
    let mut stats = s.stats();
    match response.status() {
        StatusCode::TOO_MANY_REQUESTS => stats.rate_limited += 1,
        StatusCode::UNAUTHORIZED if admin => stats.unauthorized += 1,
        _ => {}
    }
    response
}

/// Innermost layer of every route: counts requests that reached a handler.
pub(crate) async fn count_route(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
    {
        let mut stats = s.stats();
        let method = req.method();
        if is_admin_api(&matched) {
            if method == Method::GET {
                stats.admin_reads += 1;
            } else {
                stats.admin_writes += 1;
            }
        } else if method == Method::POST && matched == "/oauth/token" {
            stats.token_requests += 1;
        }
        *stats.by_route.entry(format!("{method} {}", template(&matched))).or_default() += 1;
    }
    next.run(req).await
}

/// `/admin/rest/v1/accounts/{a}/users/{u}` → `/accounts/{}/users/{}`.
fn template(matched: &str) -> String {
    let path = matched.strip_prefix(ADMIN_PREFIX).unwrap_or(matched);
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_drop_the_prefix_and_parameter_names() {
        assert_eq!(super::template("/admin/rest/v1/accounts/{a}/users/{u}"), "/accounts/{}/users/{}");
        assert_eq!(super::template("/oauth/token"), "/oauth/token");
    }
}
