//! The HTTP surface: RFC 7644's endpoints below [`BASE_PATH`], each behind the bearer token,
//! answering `application/scim+json`; a health endpoint outside it; and a request log (method,
//! path, status, time: never a query, a body or a header, which carry personal data and the
//! token) at `-v`.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gtm_scim::error::{ScimError, ScimType};
use gtm_scim::query::ListQuery;
use gtm_scim::schema::{resource_types, schemas_document, service_provider_config};
use serde_json::{Value, json};

use super::failure::Failure;
use super::{BASE_PATH, Shared, groups, users};
use crate::log::Level;

/// SCIM's media type (RFC 7644 §8.1).
const SCIM_JSON: &str = "application/scim+json";

/// The most resources a page holds, as `/ServiceProviderConfig` says.
const MAX_RESULTS: u64 = 1000;

pub fn router(shared: Arc<Shared>) -> Router {
    let scim = Router::new()
        .route("/ServiceProviderConfig", get(provider_config))
        .route("/ResourceTypes", get(list_resource_types))
        .route("/ResourceTypes/{name}", get(one_resource_type))
        .route("/Schemas", get(list_schemas))
        .route("/Schemas/{id}", get(one_schema))
        .route("/Users", get(list_users).post(create_user))
        .route("/Users/{id}", get(get_user).put(replace_user).patch(patch_user).delete(delete_user))
        .route("/Groups", get(list_groups).post(create_group))
        .route("/Groups/{id}", get(get_group).put(replace_group).patch(patch_group).delete(delete_group))
        .route("/.search", post(search))
        .route("/Users/.search", post(search))
        .route("/Groups/.search", post(search))
        .fallback(unknown_endpoint)
        .layer(middleware::from_fn_with_state(shared.clone(), authenticate));
    Router::new()
        .route("/healthz", get(|| async { Reply::Ok(json!({"status": "ok"})) }))
        .nest(BASE_PATH, scim)
        .fallback(unknown_endpoint)
        .layer(middleware::from_fn_with_state(shared.clone(), log_request))
        .with_state(shared)
}

/// A SCIM answer: a resource or list, a created resource, or nothing.
enum Reply {
    Ok(Value),
    Created(Value),
    NoContent,
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Reply::Ok(body) => (StatusCode::OK, body),
            Reply::Created(body) => (StatusCode::CREATED, body),
            Reply::NoContent => return StatusCode::NO_CONTENT.into_response(),
        };
        let mut response = scim_json(status, &body);
        // RFC 7644 §3.3: a created resource's URI in Location as in meta.location.
        if status == StatusCode::CREATED
            && let Some(location) = body["meta"]["location"].as_str().and_then(|l| HeaderValue::from_str(l).ok())
        {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = scim_json(status, &self.error.body());
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}

type Answer = Result<Reply, Failure>;

/// Requests without the bearer token get 401 before anything else happens.
async fn authenticate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let presented = bearer(request.headers());
    if !presented.is_some_and(|token| shared.authorized(token)) {
        let detail = if presented.is_some() { "the bearer token is not valid" } else { "a bearer token is required" };
        return Failure::from(ScimError::unauthorized(detail)).into_response();
    }
    next.run(request).await
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn log_request(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_millis();
    shared.log.log(Level::Debug, "scim", format_args!("{method} {path} {} {elapsed} ms", response.status().as_u16()));
    response
}

async fn unknown_endpoint() -> Failure {
    ScimError::not_found("no such SCIM endpoint").into()
}

fn query(raw: Option<String>) -> Result<ListQuery, Failure> {
    let pairs = form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect::<Vec<_>>();
    Ok(ListQuery::from_pairs(pairs, MAX_RESULTS)?)
}

fn body(bytes: &Bytes) -> Result<Value, Failure> {
    serde_json::from_slice(bytes)
        .map_err(|e| ScimError::bad_request(ScimType::InvalidSyntax, format!("the body is not valid JSON: {e}")).into())
}

async fn provider_config(State(shared): State<Arc<Shared>>) -> Reply {
    Reply::Ok(service_provider_config(&shared.base, MAX_RESULTS))
}

async fn list_resource_types(State(shared): State<Arc<Shared>>) -> Reply {
    let types = resource_types(&shared.base);
    let total = types.len() as u64;
    Reply::Ok(gtm_scim::query::list_response(total, 1, types))
}

async fn one_resource_type(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Answer {
    let found =
        resource_types(&shared.base).into_iter().find(|t| t["name"] == name.as_str() || t["id"] == name.as_str());
    found.map(Reply::Ok).ok_or_else(|| ScimError::not_found(format!("no resource type {name}")).into())
}

async fn list_schemas(State(shared): State<Arc<Shared>>) -> Reply {
    let schemas = schemas_document(&shared.base);
    let total = schemas.len() as u64;
    Reply::Ok(gtm_scim::query::list_response(total, 1, schemas))
}

async fn one_schema(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Answer {
    let found = schemas_document(&shared.base).into_iter().find(|s| s["id"] == id.as_str());
    found.map(Reply::Ok).ok_or_else(|| ScimError::not_found(format!("no schema {id}")).into())
}

async fn list_users(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Answer {
    let query = query(raw)?;
    on_instance(&shared, move |conn, shared| users::list(conn, shared, &query).map(Reply::Ok)).await
}

async fn get_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Answer {
    let query = query(raw)?;
    on_instance(&shared, move |conn, shared| users::get(conn, shared, &id, &query).map(Reply::Ok)).await
}

async fn create_user(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Answer {
    let user = body(&bytes)?;
    on_instance(&shared, move |conn, shared| users::create(conn, shared, &user).map(Reply::Created)).await
}

async fn replace_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let user = body(&bytes)?;
    on_instance(&shared, move |conn, shared| users::replace(conn, shared, &id, &user).map(Reply::Ok)).await
}

async fn patch_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let patch = body(&bytes)?;
    on_instance(&shared, move |conn, shared| users::patch(conn, shared, &id, &patch).map(Reply::Ok)).await
}

async fn delete_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Answer {
    on_instance(&shared, move |conn, shared| users::delete(conn, shared, &id).map(|()| Reply::NoContent)).await
}

async fn list_groups(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Answer {
    let query = query(raw)?;
    on_instance(&shared, move |conn, shared| groups::list(conn, shared, &query).map(Reply::Ok)).await
}

async fn get_group(State(shared): State<Arc<Shared>>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Answer {
    let query = query(raw)?;
    on_instance(&shared, move |conn, shared| groups::get(conn, shared, &id, &query).map(Reply::Ok)).await
}

async fn replace_group(State(shared): State<Arc<Shared>>, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let group = body(&bytes)?;
    on_instance(&shared, move |conn, shared| groups::replace(conn, shared, &id, &group).map(Reply::Ok)).await
}

async fn patch_group(State(shared): State<Arc<Shared>>, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let patch = body(&bytes)?;
    on_instance(&shared, move |conn, shared| groups::patch(conn, shared, &id, &patch).map(|()| Reply::NoContent)).await
}

/// Searching by POST (RFC 7644 §3.4.3) is optional; GET with a filter does the same.
async fn search(_body: Bytes) -> Failure {
    ScimError::new(501, None, "search by POST is not supported: use GET with filter, attributes and excludedAttributes")
        .into()
}

async fn create_group(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Answer {
    let group = body(&bytes)?;
    on_instance(&shared, move |conn, shared| groups::create(conn, shared, &group).map(Reply::Created)).await
}

async fn delete_group(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Answer {
    on_instance(&shared, move |conn, _| groups::delete(conn, &id).map(|()| Reply::NoContent)).await
}

/// Runs `job` on a pooled connector instance.
async fn on_instance(
    shared: &Arc<Shared>,
    job: impl FnOnce(&mut crate::runtime::Connection, &Shared) -> Result<Reply, Failure> + Send + 'static,
) -> Answer {
    let for_job = shared.clone();
    shared.pool.run(move |conn| job(conn, &for_job)).await
}
