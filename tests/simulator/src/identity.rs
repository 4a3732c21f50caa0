//! `GET /identity/v1/Users/me`: the SCIM 1.x view of the caller (reference §7, quirk 18), the
//! most reliable way for a client to discover its account key.

use std::sync::Arc;

use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::auth;
use crate::error::ApiError;
use crate::keys::key_json;
use crate::state::Shared;
use crate::stats::{self, IDENTITY_PREFIX};

const GETGO_EXTENSION: &str = "urn:scim:schemas:extension:getgo:1.0";

/// The identity router (absolute paths).
pub(crate) fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route(&format!("{IDENTITY_PREFIX}/Users/me"), get(me))
        .route_layer(from_fn_with_state(shared.clone(), stats::count_route))
        .route_layer(from_fn_with_state(shared.clone(), auth::bearer))
}

async fn me(State(s): State<Arc<Shared>>) -> Result<Response, ApiError> {
    let numeric = s.knobs().numeric_keys;
    let world = s.world();
    let u = world.user_or_404(world.principal_key())?;
    // SCIM ids are strings by spec; the account key follows the numeric-keys knob like every Admin key.
    let body = json!({
        "schemas": ["urn:scim:schemas:core:1.0", GETGO_EXTENSION],
        "id": u.key,
        "userName": u.email,
        "displayName": format!("{} {}", u.first_name, u.last_name),
        "name": {"givenName": u.first_name, "familyName": u.last_name},
        "emails": [{"value": u.email, "primary": true}],
        "locale": u.locale,
        "timezone": u.time_zone,
        "active": true,
        "meta": {"location": format!("{IDENTITY_PREFIX}/Users/{}", u.key)},
        GETGO_EXTENSION: {"accounts": [{
            "value": key_json(world.account_key(), numeric),
            "display": world.account_name(),
            "entitlements": ["acctadmin", "g2m"],
        }]},
    });
    Ok(Json(body).into_response())
}
