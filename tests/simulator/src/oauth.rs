//! The OAuth 2.0 endpoints (reference §2, quirk 16): `POST /oauth/token` with Basic client auth,
//! refresh and single-use authorization-code grants (bound to their redirect URI, expiring, with
//! PKCE S256 when the consent asked for it), RFC 6749 errors; `GET /oauth/authorize`, whose
//! stand-in administrator consents, declines, forges the state or walks away (`Knobs::consent`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::header::{AUTHORIZATION, CACHE_CONTROL, LOCATION, PRAGMA, WWW_AUTHENTICATE};
use http::{HeaderMap, StatusCode};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rand::distr::{Alphanumeric, SampleString};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::config::{Consent, Knobs, Rotation};
use crate::error::uuid_like;
use crate::extract::Params;
use crate::keys::key_json;
use crate::state::{Shared, lock};
use crate::stats;

/// The scopes every token carries; `identity:` is the Admin Center scope the Admin API needs.
const SCOPE: &str = "identity: identity:scim.me collab:";

/// What a client needs to call the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

/// `None` = a lifetime too long to represent: never expires.
type Deadline = Option<Instant>;

fn deadline(now: Instant, secs: u64) -> Deadline {
    now.checked_add(Duration::from_secs(secs))
}

fn expired(deadline: Deadline, now: Instant) -> bool {
    deadline.is_some_and(|d| now >= d)
}

struct AccessToken {
    deadline: Deadline,
    uses: u32,
}

/// An authorization code not yet exchanged, and what its exchange must repeat.
struct IssuedCode {
    /// The consent's `redirect_uri`; the exchange must send the same one.
    redirect_uri: Option<String>,
    /// The consent's PKCE S256 challenge; the exchange must send its verifier.
    challenge: Option<String>,
    deadline: Deadline,
}

/// Why a code exchange is refused, as the `error_description` says it.
const UNKNOWN_CODE: &str = "Invalid authorization code";

/// Issued tokens and codes. Token strings come from a seeded generator, so a run is reproducible.
pub(crate) struct TokenStore {
    rng: StdRng,
    client_id: String,
    client_secret: String,
    subject: String,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, Deadline>,
    codes: HashMap<String, IssuedCode>,
    /// The newest refresh token, handed out by `Simulator::credentials`.
    latest_refresh: String,
    /// Every token and authorization code minted, for tests that check none leaks.
    issued: Vec<String>,
}

impl TokenStore {
    /// A client with one valid refresh token, for the principal `subject` (a user key).
    pub fn new(seed: u64, subject: String, knobs: &Knobs) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x006f_6175_7468);
        let client_id = uuid_like(rng.random(), rng.random());
        let client_secret = Alphanumeric.sample_string(&mut rng, 24);
        let mut store = TokenStore {
            rng,
            client_id,
            client_secret,
            subject,
            access: HashMap::new(),
            refresh: HashMap::new(),
            codes: HashMap::new(),
            latest_refresh: String::new(),
            issued: Vec::new(),
        };
        store.new_refresh_token(knobs.refresh_token_ttl_secs, Instant::now());
        store
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            refresh_token: self.latest_refresh.clone(),
        }
    }

    pub fn issued(&self) -> &[String] {
        &self.issued
    }

    /// A JWT-looking opaque token (clients must not parse it).
    fn mint(&mut self, typ: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(r#"{"kid":"oauthv2.lmi.com.0219","alg":"RS512"}"#);
        let jti = uuid_like(self.rng.random(), self.rng.random());
        let claims =
            json!({"sc": SCOPE, "ogn": "pwd", "aud": self.client_id, "sub": self.subject, "jti": jti, "typ": typ});
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signature: [u8; 64] = self.rng.random();
        let token = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(signature));
        self.issued.push(token.clone());
        token
    }

    fn new_refresh_token(&mut self, ttl_secs: u64, now: Instant) -> String {
        let token = self.mint("r");
        self.refresh.insert(token.clone(), deadline(now, ttl_secs));
        self.latest_refresh = token.clone();
        token
    }

    pub fn new_access_token(&mut self, ttl_secs: u64, now: Instant) -> String {
        self.access.retain(|_, t| !expired(t.deadline, now));
        let token = self.mint("a");
        self.access.insert(token.clone(), AccessToken { deadline: deadline(now, ttl_secs), uses: 0 });
        token
    }

    /// Checks an access token for one API request, counting the use.
    pub fn authorize(&mut self, token: &str, max_uses: Option<u32>, now: Instant) -> bool {
        match self.access.get_mut(token) {
            Some(t) if !expired(t.deadline, now) && max_uses.is_none_or(|max| t.uses < max) => {
                t.uses += 1;
                true
            }
            _ => false,
        }
    }

    /// A single-use code for a consent to `redirect_uri` (none: any exchange) with an optional
    /// PKCE S256 `challenge`.
    pub fn issue_code(
        &mut self,
        redirect_uri: Option<&str>,
        challenge: Option<&str>,
        knobs: &Knobs,
        now: Instant,
    ) -> String {
        let code = Alphanumeric.sample_string(&mut self.rng, 48);
        self.issued.push(code.clone());
        let issued = IssuedCode {
            redirect_uri: redirect_uri.map(str::to_owned),
            challenge: challenge.map(str::to_owned),
            deadline: deadline(now, knobs.authorization_code_ttl_secs),
        };
        self.codes.insert(code.clone(), issued);
        code
    }

    /// Exchanges a single-use code for a new refresh token. The code is spent by any attempt,
    /// as RFC 6749 §4.1.2 asks of a code presented twice.
    fn redeem_code(&mut self, form: &Params, knobs: &Knobs, now: Instant) -> Result<String, &'static str> {
        let issued = self.codes.remove(form.get("code").unwrap_or_default()).ok_or(UNKNOWN_CODE)?;
        if expired(issued.deadline, now) {
            return Err("Authorization code expired");
        }
        if issued.redirect_uri.is_some() && issued.redirect_uri.as_deref() != form.get("redirect_uri") {
            return Err("redirect_uri does not match the authorization request");
        }
        if let Some(challenge) = issued.challenge {
            let verifier = form.get("code_verifier").ok_or("Missing code_verifier")?;
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
                return Err("code_verifier does not match the code_challenge");
            }
        }
        Ok(self.new_refresh_token(knobs.refresh_token_ttl_secs, now))
    }

    /// Validates a refresh token. `Ok(Some(new))` when it was rotated (the old one then stops
    /// working), `Ok(None)` when it stays, `Err` when unknown or expired.
    fn use_refresh_token(&mut self, token: &str, knobs: &Knobs, now: Instant) -> Result<Option<String>, ()> {
        let deadline = *self.refresh.get(token).ok_or(())?;
        if expired(deadline, now) {
            self.refresh.remove(token);
            return Err(());
        }
        let rotate = match knobs.rotation {
            Rotation::Never => false,
            Rotation::Always => true,
            Rotation::WhenRemainingBelowSecs(secs) => {
                deadline.is_some_and(|d| d.saturating_duration_since(now) < Duration::from_secs(secs))
            }
        };
        if !rotate {
            return Ok(None);
        }
        self.refresh.remove(token);
        Ok(Some(self.new_refresh_token(knobs.refresh_token_ttl_secs, now)))
    }

    fn client_matches(&self, id: &str, secret: &str) -> bool {
        id == self.client_id && secret == self.client_secret
    }

    fn client_id(&self) -> &str {
        &self.client_id
    }
}

/// The OAuth router (absolute paths).
pub(crate) fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/oauth/authorize", get(authorize))
        .route_layer(from_fn_with_state(shared.clone(), stats::count_route))
}

/// An RFC 6749 §5.2 error response.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (status, Json(json!({"error": error, "error_description": description}))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(WWW_AUTHENTICATE, http::HeaderValue::from_static("Basic realm=\"oauth\""));
    }
    response
}

/// `client_id:client_secret` from a Basic `Authorization` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /oauth/token`.
async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let knobs = s.knobs();
    let now = Instant::now();
    let mut tokens = lock(&s.tokens);
    let client_ok = basic_credentials(&headers).is_some_and(|(id, secret)| tokens.client_matches(&id, &secret));
    if !client_ok {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    let form = Params::parse(&String::from_utf8_lossy(&body));
    // The refresh token to return, if a new one was issued.
    let issued = match form.get("grant_type") {
        Some("refresh_token") => {
            let presented = form.get("refresh_token").unwrap_or_default();
            match tokens.use_refresh_token(presented, &knobs, now) {
                Ok(rotated) => {
                    s.stats().refresh_grants_ok += 1;
                    rotated
                }
                Err(()) => {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid refresh token");
                }
            }
        }
        Some("authorization_code") => match tokens.redeem_code(&form, &knobs, now) {
            Ok(refresh) => Some(refresh),
            Err(why) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why),
        },
        Some(_) => {
            return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "Unsupported grant type");
        }
        None => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing grant_type");
        }
    };
    let access = tokens.new_access_token(knobs.access_token_ttl_secs, now);
    drop(tokens);

    let mut out = Map::new();
    out.insert("access_token".into(), json!(access));
    // GoTo's refresh response omits token_type and refresh_token unless a new one was issued (§2.4).
    if let Some(refresh) = issued {
        out.insert("token_type".into(), json!("Bearer"));
        out.insert("refresh_token".into(), json!(refresh));
    }
    out.insert("expires_in".into(), json!(knobs.access_token_ttl_secs));
    out.insert("scope".into(), json!(SCOPE));
    let world = s.world();
    let principal = world.user_ref(world.principal_key());
    out.insert("principal".into(), json!(principal.map(|u| u.email.as_str()).unwrap_or_default()));
    if knobs.legacy_token_fields {
        out.insert("account_key".into(), key_json(world.account_key(), knobs.numeric_keys));
        out.insert("organizer_key".into(), key_json(world.principal_key(), knobs.numeric_keys));
        out.insert("account_type".into(), json!(""));
        if let Some(u) = principal {
            out.insert("email".into(), json!(u.email));
            out.insert("firstName".into(), json!(u.first_name));
            out.insert("lastName".into(), json!(u.last_name));
        }
        out.insert("version".into(), json!("3"));
        out.insert("platform".into(), json!("GLOBAL"));
    }
    drop(world);
    let no_store = [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")];
    (no_store, Json(Value::Object(out))).into_response()
}

/// `GET /oauth/authorize`: the administrator's answer, per `Knobs::consent`; by default a
/// consent at once, redirecting back with a single-use code.
async fn authorize(State(s): State<Arc<Shared>>, params: Params) -> Response {
    let knobs = s.knobs();
    let mut tokens = lock(&s.tokens);
    if params.get("client_id") != Some(tokens.client_id()) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client", "Unknown client_id");
    }
    let Some(redirect_uri) = params.get("redirect_uri").filter(|u| !u.is_empty()) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing redirect_uri");
    };
    let challenge = params.get("code_challenge");
    let mut query = match (params.get("response_type"), params.get("code_challenge_method"), knobs.consent) {
        (_, _, Consent::Ignore) => {
            let page = "<!doctype html><title>GoTo</title><p>Allow access to your GoTo account?</p>";
            return (StatusCode::OK, [(http::header::CONTENT_TYPE, "text/html")], page).into_response();
        }
        (Some("code"), _, Consent::Deny) => "error=access_denied&error_description=The+user+denied+access".to_owned(),
        (Some("code"), method, _) if challenge.is_some() && method != Some("S256") => {
            "error=invalid_request&error_description=Only+S256+code+challenges+are+supported".to_owned()
        }
        (Some("code"), _, _) => {
            format!("code={}", tokens.issue_code(Some(redirect_uri), challenge, &knobs, Instant::now()))
        }
        _ => "error=unsupported_response_type".to_owned(),
    };
    let state = match knobs.consent {
        Consent::WrongState => Some("forged"),
        _ => params.get("state"),
    };
    if let Some(state) = state {
        query.push_str(&format!("&state={}", utf8_percent_encode(state, NON_ALPHANUMERIC)));
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    (StatusCode::FOUND, [(LOCATION, format!("{redirect_uri}{separator}{query}"))]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(knobs: &Knobs) -> TokenStore {
        TokenStore::new(1, "42".into(), knobs)
    }

    #[test]
    fn credentials_are_deterministic() {
        let knobs = Knobs::default();
        assert_eq!(store(&knobs).credentials(), store(&knobs).credentials());
        assert_ne!(TokenStore::new(2, "42".into(), &knobs).credentials(), store(&knobs).credentials());
    }

    #[test]
    fn rotation_modes() {
        let now = Instant::now();
        for (rotation, rotates) in [
            (Rotation::Never, false),
            (Rotation::Always, true),
            (Rotation::WhenRemainingBelowSecs(7 * 86_400), false),
            (Rotation::WhenRemainingBelowSecs(31 * 86_400), true),
        ] {
            let knobs = Knobs { rotation, ..Knobs::default() };
            let mut s = store(&knobs);
            let old = s.credentials().refresh_token;
            let result = s.use_refresh_token(&old, &knobs, now).unwrap();
            assert_eq!(result.is_some(), rotates, "{rotation:?}");
            assert_eq!(s.use_refresh_token(&old, &knobs, now).is_ok(), !rotates, "old token after {rotation:?}");
            if let Some(new) = result {
                assert_eq!(s.credentials().refresh_token, new);
            }
        }
    }

    #[test]
    fn access_tokens_expire_by_time_and_by_use() {
        let knobs = Knobs::default();
        let mut s = store(&knobs);
        let now = Instant::now();
        let t = s.new_access_token(3600, now);
        assert!(s.authorize(&t, Some(2), now));
        assert!(s.authorize(&t, Some(2), now));
        assert!(!s.authorize(&t, Some(2), now));
        assert!(s.authorize(&t, None, now));
        let instant = s.new_access_token(0, now);
        assert!(!s.authorize(&instant, None, now));
        assert!(!s.authorize("bogus", None, now));
    }

    #[test]
    fn codes_are_single_use() {
        let knobs = Knobs::default();
        let mut s = store(&knobs);
        let now = Instant::now();
        let code = s.issue_code(None, None, &knobs, now);
        let form = Params::parse(&format!("code={code}"));
        assert!(s.redeem_code(&form, &knobs, now).is_ok());
        assert_eq!(s.redeem_code(&form, &knobs, now), Err(UNKNOWN_CODE));
    }

    #[test]
    fn codes_are_bound_to_their_redirect_and_challenge_and_expire() {
        let knobs = Knobs::default();
        let mut s = store(&knobs);
        let now = Instant::now();
        // A verifier and its S256 challenge.
        let verifier = "dBjftJeZ4CVP-mJ92IZcLXlgdjf7xH2bJVwUhaJmt1Q";
        let challenge = "NtHAWabmnJ3E0LvOdhq_vBnfII7Km1byS2qJpM4xWI4";
        let redeem = |s: &mut TokenStore, redirect: &str, form: &str| {
            let code = s.issue_code(Some(redirect), Some(challenge), &knobs, now);
            s.redeem_code(&Params::parse(&format!("code={code}&{form}")), &knobs, now)
        };
        let good = format!("redirect_uri=http://l/cb&code_verifier={verifier}");
        assert_eq!(redeem(&mut s, "http://l/cb", &good).map(drop), Ok(()));
        assert!(redeem(&mut s, "http://l/other", &good).unwrap_err().contains("redirect_uri"));
        assert!(redeem(&mut s, "http://l/cb", "redirect_uri=http://l/cb").unwrap_err().contains("code_verifier"));
        assert!(
            redeem(&mut s, "http://l/cb", "redirect_uri=http://l/cb&code_verifier=x").unwrap_err().contains("match")
        );
        let instant = Knobs { authorization_code_ttl_secs: 0, ..Knobs::default() };
        let code = s.issue_code(None, None, &instant, now);
        assert!(s.redeem_code(&Params::parse(&format!("code={code}")), &knobs, now).unwrap_err().contains("expired"));
    }
}
