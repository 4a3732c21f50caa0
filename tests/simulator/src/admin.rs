//! Admin API routes under `/admin/rest/v1` (reference §6).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value, json};

use crate::auth;
use crate::error::{ApiError, codes, invented};
use crate::extract::{JsonBody, Params, PathKeys};
use crate::filter::{GROUP_ATTRS, LICENSE_ATTRS, USER_ATTRS};
use crate::keys::{Key, strings};
use crate::listing::{ListQuery, Ordered};
use crate::render::{self, Style};
use crate::state::Shared;
use crate::stats;
use crate::world::{Batch, Group, Invitee, License, User, UserPatch, World};

type Reply = Result<Response, ApiError>;

/// The Admin API router (relative to `/admin/rest/v1`).
pub(crate) fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    let accounts = Router::new()
        .route("/accounts/{a}/users", get(list_users).post(add_users))
        .route("/accounts/{a}/users/{u}", get(get_user).put(put_user).delete(delete_user))
        .route("/accounts/{a}/users/{u}/groups", delete(clear_groups))
        .route("/accounts/{a}/groups", get(list_groups).post(create_group))
        .route("/accounts/{a}/groups/{g}", get(get_group).put(put_group).delete(delete_group))
        .route("/accounts/{a}/groups/{g}/users/{u}", put(move_user))
        .route("/accounts/{a}/licenses", get(list_licenses))
        .route("/accounts/{a}/licenses/{l}", get(get_license))
        .route("/accounts/{a}/licenses/{l}/users", post(grant_license).delete(revoke_license))
        .route_layer(from_fn_with_state(shared.clone(), stats::count_route))
        .route_layer(from_fn_with_state(shared.clone(), auth::account_guard));
    Router::new()
        .route("/me", get(me))
        .route_layer(from_fn_with_state(shared.clone(), stats::count_route))
        .merge(accounts)
        .route_layer(from_fn_with_state(shared.clone(), auth::bearer))
}

fn style(s: &Shared) -> Style {
    Style::of(&s.knobs())
}

/// A single-object read, refused as an unknown path when the `single_object_reads` knob is off.
fn single_object_read(s: &Shared, collection: &str, key: &str) -> Result<(), ApiError> {
    if s.knobs().single_object_reads {
        return Ok(());
    }
    Err(ApiError::not_found(invented::RESOURCE_NOT_FOUND, format!("/{collection}/{key}")))
}

fn no_content() -> Reply {
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// `GET /me`: the caller as a user, plus its account(s) (reference §6.1, quirk 18).
async fn me(State(s): State<Arc<Shared>>) -> Reply {
    let style = style(&s);
    let world = s.world();
    let user = world.user_or_404(world.principal_key())?;
    let mut body = render::user(user, style);
    body.insert("accountKey".into(), style.key(world.account_key()));
    body.insert("accounts".into(), json!([{"key": style.key(world.account_key()), "name": world.account_name()}]));
    Ok(Json(Value::Object(body)).into_response())
}

/// Runs a list query and answers with the page envelope of rendered, projected items.
fn list_page<'a, T: 'a>(
    query: &ListQuery,
    items: impl Ordered<'a, T> + Copy,
    attr: impl Fn(&'a T, usize) -> &'a str,
    hidden: impl Fn(&T) -> bool,
    to_json: impl Fn(&T) -> Map<String, Value>,
) -> Reply {
    let (page, total) = query.run(items, attr, hidden);
    let results = page.into_iter().map(|item| render::project(to_json(item), query.attributes.as_deref())).collect();
    Ok(Json(render::page(results, query.offset, total)).into_response())
}

// ---- users ----

/// User attribute values in `USER_ATTRS` order.
fn user_attr(u: &User, i: usize) -> &str {
    match i {
        0 => &u.key,
        1 => &u.email,
        2 => &u.first_name,
        _ => &u.last_name,
    }
}

async fn list_users(State(s): State<Arc<Shared>>, params: Params) -> Reply {
    let knobs = s.knobs();
    let query = ListQuery::parse(&params, USER_ATTRS, &knobs)?;
    let style = Style::of(&knobs);
    let delay = Duration::from_millis(knobs.filter_visibility_delay_ms);
    let now = Instant::now();
    let world = s.world();
    list_page(
        &query,
        world.users_in_order(),
        user_attr,
        |u| world.hidden_from_filters(&u.key, delay, now),
        |u| render::user(u, style),
    )
}

async fn get_user(State(s): State<Arc<Shared>>, keys: PathKeys) -> Reply {
    let style = style(&s);
    let world = s.world();
    Ok(Json(Value::Object(render::user(world.user_or_404(keys.get("u"))?, style))).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddUsersBody {
    users: Vec<InviteeBody>,
    #[serde(default)]
    license_keys: Vec<Key>,
    #[serde(default)]
    admin_roles: Vec<String>,
    group_key: Option<Key>,
    #[serde(default)]
    managed_group_keys: Vec<Key>,
    #[serde(default)]
    suppress_email: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteeBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    locale: Option<String>,
    time_zone: Option<String>,
}

/// Admin Center limits (D16): email ≤ 128 characters, names ≤ 32.
fn check_email(email: &str) -> Result<(), ApiError> {
    let ok = email.len() <= 128
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if ok { Ok(()) } else { Err(ApiError::bad_request(invented::EMAIL_INVALID, email)) }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.trim().is_empty() && name.chars().count() <= 32;
    if ok { Ok(()) } else { Err(ApiError::bad_request(invented::NAME_INVALID, name)) }
}

fn check_roles(roles: &[String]) -> Result<(), ApiError> {
    match roles.iter().find(|r| !World::admin_roles_catalog().contains(&r.as_str())) {
        Some(bad) => Err(ApiError::bad_request(invented::ROLE_INVALID, bad.clone())),
        None => Ok(()),
    }
}

/// `POST /users`: Add Users, batch-shaped, `allOrNothing` defaulting to true (quirk 6).
async fn add_users(State(s): State<Arc<Shared>>, params: Params, JsonBody(body): JsonBody<AddUsersBody>) -> Reply {
    let all_or_nothing = params.flag("allOrNothing", true)?;
    if body.users.is_empty() {
        return Err(ApiError::bad_request(invented::REQUEST_INVALID, "users"));
    }
    for u in &body.users {
        check_email(&u.email)?;
        check_name(&u.first_name)?;
        check_name(&u.last_name)?;
    }
    check_roles(&body.admin_roles)?;
    let batch = Batch {
        invitees: body
            .users
            .into_iter()
            .map(|u| Invitee {
                email: u.email,
                first_name: u.first_name,
                last_name: u.last_name,
                locale: u.locale,
                time_zone: u.time_zone,
            })
            .collect(),
        license_keys: strings(body.license_keys),
        admin_roles: body.admin_roles,
        group_key: body.group_key.map(|k| k.0),
        managed_group_keys: strings(body.managed_group_keys),
        suppress_email: body.suppress_email,
    };
    let knobs = s.knobs();
    let style = Style::of(&knobs);
    let created = s.world().add_users(batch, all_or_nothing, knobs.conflict_returns_existing_key, now_ms())?;
    let out: Vec<Value> = created
        .into_iter()
        .map(|c| match c.key {
            Some(key) => json!({"key": style.key(&key), "email": c.email}),
            None => json!({"email": c.email}),
        })
        .collect();
    Ok(Json(out).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserPatchBody {
    key: Option<IgnoredAny>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    locale: Option<String>,
    time_zone: Option<String>,
    admin_roles: Option<Vec<String>>,
    license_keys: Option<Vec<Key>>,
}

/// `PUT /users/{u}`: partial update; `key` in the body is refused (quirk 7).
async fn put_user(State(s): State<Arc<Shared>>, keys: PathKeys, JsonBody(body): JsonBody<UserPatchBody>) -> Reply {
    if body.key.is_some() {
        return Err(ApiError::bad_request(invented::KEY_NOT_ALLOWED, "key"));
    }
    if let Some(email) = &body.email {
        check_email(email)?;
    }
    for name in body.first_name.iter().chain(&body.last_name) {
        check_name(name)?;
    }
    if let Some(roles) = &body.admin_roles {
        check_roles(roles)?;
    }
    let patch = UserPatch {
        email: body.email,
        first_name: body.first_name,
        last_name: body.last_name,
        locale: body.locale,
        time_zone: body.time_zone,
        admin_roles: body.admin_roles,
        license_keys: body.license_keys.map(strings),
    };
    s.world().patch_user(keys.get("u"), patch)?;
    no_content()
}

async fn delete_user(State(s): State<Arc<Shared>>, keys: PathKeys) -> Reply {
    let key = keys.get("u");
    if !s.world().remove_user(key) {
        return Err(ApiError::not_found(codes::USER_NOT_FOUND, key));
    }
    no_content()
}

/// `DELETE /users/{u}/groups`: leaves every group (quirk 8).
async fn clear_groups(State(s): State<Arc<Shared>>, keys: PathKeys) -> Reply {
    s.world().clear_groups(keys.get("u"))?;
    no_content()
}

// ---- groups ----

/// Group attribute values in `GROUP_ATTRS` order.
fn group_attr(g: &Group, i: usize) -> &str {
    if i == 0 { &g.key } else { &g.name }
}

async fn list_groups(State(s): State<Arc<Shared>>, params: Params) -> Reply {
    let knobs = s.knobs();
    let query = ListQuery::parse(&params, GROUP_ATTRS, &knobs)?;
    let style = Style::of(&knobs);
    let world = s.world();
    let groups = world.groups_in_order();
    list_page(&query, groups.as_slice(), |g, i| group_attr(g, i), |_| false, |g| render::group(g, style))
}

async fn get_group(State(s): State<Arc<Shared>>, keys: PathKeys) -> Reply {
    single_object_read(&s, "groups", keys.get("g"))?;
    let style = style(&s);
    let world = s.world();
    Ok(Json(Value::Object(render::group(world.group_or_404(keys.get("g"))?, style))).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupBody {
    key: Option<IgnoredAny>,
    #[serde(default)]
    name: String,
    /// The parent field's real name is unknown (reference §4.2); `parentKey` is a guess.
    parent_key: Option<Key>,
}

/// `POST /groups`: answers with the new key as a bare JSON number (quirk 1).
async fn create_group(State(s): State<Arc<Shared>>, JsonBody(body): JsonBody<GroupBody>) -> Reply {
    let parent = body.parent_key.map(|k| k.0);
    let key = s.world().create_group(body.name.trim(), parent.as_deref())?;
    let bare = key.parse::<serde_json::Number>().map_or(Value::String(key), Value::Number);
    Ok(Json(bare).into_response())
}

/// `PUT /groups/{g}`: rename; `key` in the body is refused (quirk 10).
async fn put_group(State(s): State<Arc<Shared>>, keys: PathKeys, JsonBody(body): JsonBody<GroupBody>) -> Reply {
    if body.key.is_some() {
        return Err(ApiError::bad_request(invented::KEY_NOT_ALLOWED, "key"));
    }
    s.world().rename_group(keys.get("g"), body.name.trim())?;
    no_content()
}

async fn delete_group(State(s): State<Arc<Shared>>, keys: PathKeys) -> Reply {
    let key = keys.get("g");
    if !s.world().delete_group(key) {
        return Err(ApiError::not_found(codes::GROUP_NOT_FOUND, key));
    }
    no_content()
}

/// `PUT /groups/{g}/users/{u}`: moves the user, leaving its previous group (quirk 8).
async fn move_user(State(s): State<Arc<Shared>>, keys: PathKeys) -> Reply {
    s.world().move_to_group(keys.get("g"), keys.get("u"))?;
    no_content()
}

// ---- licenses ----

/// License attribute values in `LICENSE_ATTRS` order.
fn license_attr(l: &License, i: usize) -> &str {
    if i == 0 { &l.key } else { &l.description }
}

async fn list_licenses(State(s): State<Arc<Shared>>, params: Params) -> Reply {
    let knobs = s.knobs();
    let query = ListQuery::parse(&params, LICENSE_ATTRS, &knobs)?;
    let style = Style::of(&knobs);
    let world = s.world();
    list_page(&query, world.licenses_ref(), license_attr, |_| false, |l| render::license(l, style))
}

async fn get_license(State(s): State<Arc<Shared>>, keys: PathKeys) -> Reply {
    single_object_read(&s, "licenses", keys.get("l"))?;
    let style = style(&s);
    let world = s.world();
    Ok(Json(Value::Object(render::license(world.license_or_404(keys.get("l"))?, style))).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserKeysBody {
    user_keys: Vec<Key>,
}

/// `POST /licenses/{l}/users` (path and body inferred, reference §6.8).
async fn grant_license(State(s): State<Arc<Shared>>, keys: PathKeys, JsonBody(body): JsonBody<UserKeysBody>) -> Reply {
    s.world().grant_license(keys.get("l"), &strings(body.user_keys))?;
    no_content()
}

/// `DELETE /licenses/{l}/users` with a body (path and body inferred, reference §6.8).
async fn revoke_license(State(s): State<Arc<Shared>>, keys: PathKeys, JsonBody(body): JsonBody<UserKeysBody>) -> Reply {
    s.world().revoke_license(keys.get("l"), &strings(body.user_keys))?;
    no_content()
}
