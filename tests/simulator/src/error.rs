//! The Admin API error envelope (reference §5.3):
//! `{"incidentId": "…", "errors": [{"code": "user.not.found", "value": "…"}]}`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

/// Codes seen in GoTo responses or recorded client code (reference §5.3).
pub(crate) mod codes {
    pub const USER_NOT_FOUND: &str = "user.not.found";
    pub const GROUP_NOT_FOUND: &str = "group.not.found";
    pub const USER_NAME_CONFLICT: &str = "user.name.conflict";
    pub const GROUP_NAME_CONFLICT: &str = "group.name.conflict";
    pub const GROUP_NAME_REQUIRED: &str = "group.name.required";
    pub const NOT_AUTHENTICATED: &str = "not.authenticated";
}

/// Codes GoTo is not known to use; the reference has no evidence for them, so they are ours.
pub(crate) mod invented {
    /// A filter that does not parse or names an attribute that cannot be filtered on.
    pub const FILTER_INVALID: &str = "filter.invalid";
    /// Assigning a license beyond its seats.
    pub const SEATS_EXCEEDED: &str = "license.seats.exceeded";
    /// Rate limited (the real 429 body is unknown).
    pub const TOO_MANY_REQUESTS: &str = "too.many.requests";
    /// Malformed JSON body, query parameter or path.
    pub const REQUEST_INVALID: &str = "request.invalid";
    /// A PUT body carries `key`, which is immutable.
    pub const KEY_NOT_ALLOWED: &str = "key.not.allowed";
    /// The path names another account.
    pub const ACCOUNT_NOT_FOUND: &str = "account.not.found";
    /// Unknown license key (by analogy with `user.not.found`).
    pub const LICENSE_NOT_FOUND: &str = "license.not.found";
    /// The caller holds no admin role.
    pub const NOT_AUTHORIZED: &str = "not.authorized";
    /// No such route.
    pub const RESOURCE_NOT_FOUND: &str = "resource.not.found";
    /// An email that is empty, too long or has no `@`.
    pub const EMAIL_INVALID: &str = "user.email.invalid";
    /// A missing first or last name, or one over 32 characters.
    pub const NAME_INVALID: &str = "user.name.invalid";
    /// An admin role outside the documented catalog.
    pub const ROLE_INVALID: &str = "admin.role.invalid";
    /// An injected server error.
    pub const SERVER_ERROR: &str = "server.error";
}

/// An Admin API error: HTTP status plus the envelope's entries (`code`, offending `value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, value: impl Into<String>) -> Self {
        ApiError { status, errors: vec![(code, value.into())] }
    }

    pub fn bad_request(code: &'static str, value: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, value)
    }

    pub fn not_found(code: &'static str, value: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, value)
    }

    pub fn conflict(code: &'static str, value: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, value)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let errors: Vec<_> = self.errors.iter().map(|(code, value)| json!({"code": code, "value": value})).collect();
        (self.status, Json(json!({"incidentId": incident_id(), "errors": errors}))).into_response()
    }
}

/// A UUID-shaped id, unique per process. Counter-derived so runs stay reproducible.
fn incident_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    uuid_like(splitmix64(n), splitmix64(!n))
}

/// Formats 128 bits as a version-4-looking UUID.
pub(crate) fn uuid_like(hi: u64, lo: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        0x8000 | ((lo >> 48) & 0x3fff),
        lo & 0xffff_ffff_ffff
    )
}

/// A cheap, well-mixed hash of a counter.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
