//! Admin and identity API access checks (quirk 17).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::AUTHORIZATION;

use crate::error::{ApiError, codes, invented};
use crate::extract::PathKeys;
use crate::state::{Shared, lock};

/// Requires a live `Authorization: Bearer` access token (counting one use of it) whose principal
/// still exists; otherwise 401 `not.authenticated`.
pub(crate) async fn bearer(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let max_uses = s.knobs().access_token_max_uses;
    let valid = token.is_some_and(|t| lock(&s.tokens).authorize(t, max_uses, Instant::now()));
    let principal_exists = valid && {
        let world = s.world();
        world.user_ref(world.principal_key()).is_some()
    };
    if !principal_exists {
        let reason = if token.is_none() { "missing bearer token" } else { "invalid or expired access token" };
        return ApiError::new(StatusCode::UNAUTHORIZED, codes::NOT_AUTHENTICATED, reason).into_response();
    }
    next.run(req).await
}

/// For `/accounts/{a}/…`: the account must be this one (404), and the caller must hold an admin
/// role (403; GoTo's exact role rules are unknown, so any role will do).
pub(crate) async fn account_guard(State(s): State<Arc<Shared>>, keys: PathKeys, req: Request, next: Next) -> Response {
    let denied = {
        let world = s.world();
        let account = keys.get("a");
        if account != world.account_key() {
            Some(ApiError::not_found(invented::ACCOUNT_NOT_FOUND, account))
        } else if world.user_ref(world.principal_key()).is_none_or(|u| u.admin_roles.is_empty()) {
            Some(ApiError::new(StatusCode::FORBIDDEN, invented::NOT_AUTHORIZED, world.principal_key()))
        } else {
            None
        }
    };
    match denied {
        Some(error) => error.into_response(),
        None => next.run(req).await,
    }
}
