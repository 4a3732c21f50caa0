//! OAuth 2.0 for GoTo: the refresh-token grant and an administrator's consent (the
//! authorization-code grant), both with Basic client authentication.
//!
//! The access token and its timing are cached through `set-secret`, so separate runs reuse it.
//! A token is refreshed once two thirds of its life have passed (GoTo tokens last an hour),
//! or when GoTo answers 401. A rotated refresh token is persisted before anything uses it,
//! and the old one is kept when the response carries none (GoTo usually sends none).

use std::cell::RefCell;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::error::{config, invalid_input, transport, unauthorized};
use crate::goto::errors::retry_after;
use crate::goto::model::{TokenError, TokenGrant};
use crate::host::{Host, LogLevel};
use crate::retry;
use crate::transport::{HttpRequest, Method, Transport};
use crate::types::{ConnectorError, RateLimit, RemoteFailure};
use crate::wit::{ConsentGrant, ConsentRequest, TokenTiming};

pub const SECRET_CLIENT_ID: &str = "client-id";
pub const SECRET_CLIENT_SECRET: &str = "client-secret";
pub const SECRET_REFRESH_TOKEN: &str = "refresh-token";
pub const SECRET_ACCESS_TOKEN: &str = "access-token";

/// The cached access token as stored under the `access-token` secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct CachedToken {
    token: String,
    expires_at: u64,
    refresh_after: u64,
}

/// What the token endpoint is asked to exchange.
enum Grant<'g> {
    /// The stored refresh token.
    Refresh(&'g str),
    /// The authorization code of an administrator's consent.
    Code(&'g ConsentGrant),
}

impl Grant<'_> {
    fn form(&self) -> String {
        let mut form = form_urlencoded::Serializer::new(String::new());
        match self {
            Grant::Refresh(token) => {
                form.append_pair("grant_type", "refresh_token").append_pair("refresh_token", token);
            }
            Grant::Code(grant) => {
                form.append_pair("grant_type", "authorization_code")
                    .append_pair("code", &grant.code)
                    .append_pair("redirect_uri", &grant.redirect_uri);
                if let Some(verifier) = &grant.code_verifier {
                    form.append_pair("code_verifier", verifier);
                }
            }
        }
        form.finish()
    }

    /// The credentials the grant carries, which no error text may repeat.
    fn credentials(&self) -> Vec<&str> {
        match self {
            Grant::Refresh(token) => vec![token],
            Grant::Code(grant) => {
                [Some(grant.code.as_str()), grant.code_verifier.as_deref()].into_iter().flatten().collect()
            }
        }
    }

    /// The grant in words, for errors.
    fn what(&self) -> &'static str {
        match self {
            Grant::Refresh(_) => "the refresh",
            Grant::Code(_) => "the authorization code",
        }
    }
}

pub struct Tokens<'a> {
    host: &'a dyn Host,
    http: &'a dyn Transport,
    token_url: String,
    authorize_url: String,
    current: RefCell<Option<CachedToken>>,
}

impl<'a> Tokens<'a> {
    pub fn new(host: &'a dyn Host, http: &'a dyn Transport, token_base: &str) -> Self {
        Tokens {
            host,
            http,
            token_url: format!("{token_base}/oauth/token"),
            authorize_url: format!("{token_base}/oauth/authorize"),
            current: RefCell::new(None),
        }
    }

    /// A usable access token: from memory, else from the secret store, else freshly refreshed.
    pub fn access_token(&self) -> Result<String, ConnectorError> {
        let now = self.host.now_unix();
        if self.current.borrow().is_none() {
            *self.current.borrow_mut() = self.stored()?;
        }
        if let Some(t) = self.current.borrow().as_ref().filter(|t| now < t.refresh_after) {
            return Ok(t.token.clone());
        }
        self.refresh()
    }

    /// The cached token's timing, without contacting GoTo.
    pub fn cached(&self) -> Result<Option<TokenTiming>, ConnectorError> {
        Ok(self.stored()?.map(|t| TokenTiming { expires_at: t.expires_at, refresh_after: t.refresh_after }))
    }

    /// The access token cached in the secret store; an unreadable entry counts as none.
    fn stored(&self) -> Result<Option<CachedToken>, ConnectorError> {
        Ok(self.host.secret(SECRET_ACCESS_TOKEN)?.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Exchanges the refresh token for a new access token, whatever the cache says.
    pub fn refresh(&self) -> Result<String, ConnectorError> {
        self.refresh_timed().map(|(token, _)| token)
    }

    /// [`Tokens::refresh`], also returning the token's lifetime in seconds as the connector
    /// takes it (`expires_in`, defaulted and clamped).
    pub fn refresh_timed(&self) -> Result<(String, u64), ConnectorError> {
        let client = self.client()?;
        let refresh_token =
            required_secret(self.host, SECRET_REFRESH_TOKEN, "a refresh token from one-time admin consent")?;
        self.exchange(&client, &Grant::Refresh(&refresh_token))
    }

    /// The OAuth client's id and secret, as stored.
    fn client(&self) -> Result<(String, String), ConnectorError> {
        let id = required_secret(self.host, SECRET_CLIENT_ID, "the OAuth client id")?;
        Ok((id, required_secret(self.host, SECRET_CLIENT_SECRET, "the OAuth client secret")?))
    }

    /// GoTo's consent page for the stored client, with the host's redirect, state and challenge.
    pub fn consent_url(&self, request: &ConsentRequest) -> Result<String, ConnectorError> {
        let client_id = required_secret(self.host, SECRET_CLIENT_ID, "the OAuth client id")?;
        if request.redirect_uri.trim().is_empty() {
            return Err(invalid_input(
                "redirect-uri",
                "the consent needs a redirect URI registered on the OAuth client",
            ));
        }
        if request.state.trim().is_empty() {
            return Err(invalid_input("state", "the consent needs a state value for the redirect to carry back"));
        }
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("client_id", &client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &request.redirect_uri)
            .append_pair("state", &request.state);
        if let Some(challenge) = &request.code_challenge {
            query.append_pair("code_challenge", challenge).append_pair("code_challenge_method", "S256");
        }
        Ok(format!("{}?{}", self.authorize_url, query.finish()))
    }

    /// Exchanges a consent's authorization code: the refresh token it brings is stored, and
    /// the access token cached.
    pub fn redeem(&self, grant: &ConsentGrant) -> Result<(), ConnectorError> {
        if grant.code.trim().is_empty() {
            return Err(invalid_input("code", "the consent redirect carried an empty authorization code"));
        }
        self.exchange(&self.client()?, &Grant::Code(grant)).map(drop)
    }

    /// One token request: Basic client authentication, the grant as a form. Returns the new
    /// access token and its lifetime.
    fn exchange(
        &self,
        (client_id, client_secret): &(String, String),
        grant: &Grant<'_>,
    ) -> Result<(String, u64), ConnectorError> {
        let basic = STANDARD.encode(format!("{client_id}:{client_secret}"));
        // What a token endpoint's error text must never repeat: every credential just sent.
        let mut sent = grant.credentials();
        sent.extend([client_secret.as_str(), basic.as_str()]);
        let request = HttpRequest {
            method: Method::Post,
            url: self.token_url.clone(),
            headers: vec![
                ("Authorization", format!("Basic {basic}")),
                ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
                ("Accept", "application/json".to_owned()),
            ],
            body: Some(grant.form().into_bytes()),
        };
        // A failed refresh changes nothing server-side, so it may be retried like a GET; a
        // code is spent by the first exchange GoTo processed, so a failed one is not repeated.
        let response = retry::send(self.host, self.http, &request, matches!(grant, Grant::Refresh(_)))?;
        if !response.is_success() {
            return Err(token_failure(&response, grant, &sent));
        }
        // Nothing in a token answer is ever quoted in an error or a log: it holds credentials.
        let answer = TokenGrant::read(&response.body);
        let previous = match grant {
            Grant::Refresh(token) => Some(*token),
            Grant::Code(_) => None,
        };
        if let Some(new) = answer.refresh_token.as_deref().filter(|t| Some(*t) != previous) {
            // Persist first, before anything else in the answer can fail: once GoTo has
            // rotated it, the old refresh token is dead.
            self.host.set_secret(SECRET_REFRESH_TOKEN, new)?;
            let said = match grant {
                Grant::Refresh(_) => "GoTo rotated the refresh token; the new one is stored",
                Grant::Code(_) => "the refresh token of the consent is stored",
            };
            self.host.log(LogLevel::Info, said);
        }
        let Some(token) = answer.access_token else {
            // An RFC 6749 error sent with a 2xx status is a refusal all the same.
            return Err(oauth_error(&response.body).map_or_else(
                || {
                    transport(
                        "the token endpoint answered without a usable access_token (its body is not shown: it holds \
                         credentials)",
                    )
                },
                |error| refusal(&error, grant, &sent),
            ));
        };
        if matches!(grant, Grant::Code(_)) && answer.refresh_token.is_none() {
            return Err(transport(
                "the token endpoint redeemed the authorization code without a refresh_token, so the connector could \
                 not keep working past the hour the access token lasts; check that the OAuth client may use refresh \
                 tokens",
            ));
        }
        let now = self.host.now_unix();
        let lifetime = answer.lifetime_secs;
        let cached = CachedToken { token, expires_at: now + lifetime, refresh_after: now + lifetime * 2 / 3 };
        let serialized = serde_json::to_string(&cached).expect("a cached token always serialises");
        // Unlike a rotated refresh token, a lost cache entry costs only a refresh next run.
        if let Err(e) = self.host.set_secret(SECRET_ACCESS_TOKEN, &serialized) {
            self.host.log(LogLevel::Warn, &format!("could not cache the access token for later runs: {}", e.message()));
        }
        self.host.log(LogLevel::Info, &format!("access token issued; valid for {lifetime} s"));
        let token = cached.token.clone();
        *self.current.borrow_mut() = Some(cached);
        Ok((token, lifetime))
    }
}

fn required_secret(host: &dyn Host, name: &str, what: &str) -> Result<String, ConnectorError> {
    match host.secret(name)? {
        Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(config(name, format!("the secret {name} is not set: store {what} under that name"))),
    }
}

/// Token-endpoint errors become `unauthorized` with what to do about them. Only an RFC 6749
/// §5.2 error object's `error` code (a word such as `invalid_grant`) and `error_description`
/// (short printable text, without the credentials just sent) are shown; nothing else in the
/// body is ever quoted.
fn token_failure(response: &crate::transport::HttpResponse, grant: &Grant<'_>, sent: &[&str]) -> ConnectorError {
    let Some(error) = oauth_error(&response.body) else {
        let status = response.status;
        let what = grant.what();
        return match status {
            400 | 401 | 403 => unauthorized(match grant {
                Grant::Refresh(_) => format!(
                    "the token endpoint refused {what} with HTTP {status} and no OAuth error. Check the secrets \
                     {SECRET_CLIENT_ID}, {SECRET_CLIENT_SECRET} and {SECRET_REFRESH_TOKEN}"
                ),
                Grant::Code(_) => format!(
                    "the token endpoint refused {what} with HTTP {status} and no OAuth error. Check the client id \
                     and secret, and consent again"
                ),
            }),
            429 => ConnectorError::RateLimited(RateLimit {
                retry_after_secs: retry_after(response),
                message: format!("the token endpoint is rate limiting {what} (HTTP 429)"),
            }),
            _ => ConnectorError::Remote(RemoteFailure {
                status,
                code: None,
                incident_id: None,
                message: format!(
                    "POST /oauth/token failed with HTTP {status} (its body is not shown: it may hold credentials)"
                ),
            }),
        };
    };
    refusal(&error, grant, sent)
}

/// An RFC 6749 §5.2 error object whose `error` is a plain code word, if the body is one.
fn oauth_error(body: &[u8]) -> Option<TokenError> {
    let code = |e: &TokenError| e.error.len() <= 64 && e.error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    // An object only: serde would also read a struct from a JSON array.
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .filter(serde_json::Value::is_object)
        .and_then(|v| serde_json::from_value::<TokenError>(v).ok())
        .filter(code)
}

/// The token endpoint's refusal as `unauthorized`, saying what to do; the description is shown
/// only when it is short, printable and repeats none of the credentials `sent`.
fn refusal(error: &TokenError, grant: &Grant<'_>, sent: &[&str]) -> ConnectorError {
    let shown = |text: &&str| {
        text.len() <= 200
            && text.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
            && !sent.iter().any(|s| text.contains(s))
    };
    let said = match error.error_description.as_deref().filter(shown) {
        Some(d) => format!("{} ({d})", error.error),
        None => error.error.clone(),
    };
    match (error.error.as_str(), grant) {
        ("invalid_grant", Grant::Refresh(_)) => unauthorized(format!(
            "GoTo rejected the refresh token: {said}. It has expired, been revoked, or been replaced by a rotated one. \
             Get a new refresh token through GoTo's admin consent flow and store it as the secret {SECRET_REFRESH_TOKEN}"
        )),
        ("invalid_grant", Grant::Code(_)) => unauthorized(format!(
            "GoTo refused the authorization code: {said}. A code works once, for a few minutes, and only with the \
             redirect URI it was issued for: consent again"
        )),
        ("invalid_client" | "unauthorized_client", _) => unauthorized(format!(
            "GoTo rejected the OAuth client: {said}. Check the secrets {SECRET_CLIENT_ID} and {SECRET_CLIENT_SECRET} \
             against the client in GoTo's developer center"
        )),
        _ => unauthorized(format!("the token endpoint refused {}: {said}", grant.what())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeHost, FakeTransport, json};

    fn host() -> FakeHost {
        FakeHost::default()
            .with_secret(SECRET_CLIENT_ID, "cid")
            .with_secret(SECRET_CLIENT_SECRET, "csecret")
            .with_secret(SECRET_REFRESH_TOKEN, "rt-1")
    }

    #[test]
    fn refresh_uses_basic_auth_and_caches_the_token_through_the_host() {
        let host = host();
        let http = FakeTransport::sequence(vec![json(200, r#"{"access_token":"at-1","expires_in":3600}"#)]);
        let tokens = Tokens::new(&host, &http, "https://auth.example");
        assert_eq!(tokens.access_token().unwrap(), "at-1");

        let sent = &http.requests()[0];
        assert_eq!(sent.url, "https://auth.example/oauth/token");
        assert!(sent.headers.contains(&("Authorization", format!("Basic {}", STANDARD.encode("cid:csecret")))));
        assert_eq!(
            String::from_utf8(sent.body.clone().unwrap()).unwrap(),
            "grant_type=refresh_token&refresh_token=rt-1"
        );
        // The old refresh token is kept: the response carried none.
        assert_eq!(host.stored(SECRET_REFRESH_TOKEN).as_deref(), Some("rt-1"));

        // A second run (new Tokens, same host) reuses the cached token without a request.
        let again = Tokens::new(&host, &http, "https://auth.example");
        assert_eq!(again.access_token().unwrap(), "at-1");
        assert_eq!(http.requests().len(), 1);
    }

    #[test]
    fn a_token_past_two_thirds_of_its_life_is_refreshed_ahead_of_expiry() {
        let host = host();
        let http = FakeTransport::sequence(vec![
            json(200, r#"{"access_token":"at-1","expires_in":3600}"#),
            json(200, r#"{"access_token":"at-2","expires_in":3600}"#),
        ]);
        let tokens = Tokens::new(&host, &http, "https://auth.example");
        assert_eq!(tokens.access_token().unwrap(), "at-1");
        host.advance(2399);
        assert_eq!(tokens.access_token().unwrap(), "at-1");
        host.advance(2);
        assert_eq!(tokens.access_token().unwrap(), "at-2");
    }

    #[test]
    fn a_rotated_refresh_token_is_stored_before_use() {
        let host = host();
        let http =
            FakeTransport::sequence(vec![json(200, r#"{"access_token":"at","expires_in":60,"refresh_token":"rt-2"}"#)]);
        Tokens::new(&host, &http, "https://a").refresh().unwrap();
        assert_eq!(host.stored(SECRET_REFRESH_TOKEN).as_deref(), Some("rt-2"));
    }

    #[test]
    fn a_failed_token_cache_write_does_not_fail_the_call_but_a_lost_rotation_does() {
        let host = host().refusing_writes_of(SECRET_ACCESS_TOKEN);
        let http = FakeTransport::sequence(vec![json(200, r#"{"access_token":"at","expires_in":60}"#)]);
        assert_eq!(Tokens::new(&host, &http, "https://a").refresh().unwrap(), "at");

        let host = self::host().refusing_writes_of(SECRET_REFRESH_TOKEN);
        let http = FakeTransport::sequence(vec![json(200, r#"{"access_token":"at","refresh_token":"rt-2"}"#)]);
        assert!(matches!(Tokens::new(&host, &http, "https://a").refresh(), Err(ConnectorError::Config(_))));
    }

    #[test]
    fn every_odd_expires_in_keeps_the_rotated_token_and_is_clamped() {
        for (expires, lifetime) in
            [(r#""3600""#, 3600), ("3599.5", 3599), ("0", 60), ("-60", 60), ("1e300", 86_400), (r#""x""#, 3600)]
        {
            let host = host();
            let body = format!(r#"{{"access_token":"at","expires_in":{expires},"refresh_token":"rt-2"}}"#);
            let http = FakeTransport::sequence(vec![json(200, &body)]);
            assert_eq!(Tokens::new(&host, &http, "https://a").refresh().unwrap(), "at", "{expires}");
            assert_eq!(host.stored(SECRET_REFRESH_TOKEN).as_deref(), Some("rt-2"), "{expires}");
            let cached: CachedToken = serde_json::from_str(&host.stored(SECRET_ACCESS_TOKEN).unwrap()).unwrap();
            assert_eq!(cached.expires_at - host.now_unix(), lifetime, "{expires}");
        }
    }

    #[test]
    fn an_unusable_token_answer_stores_the_rotated_token_and_quotes_nothing() {
        for (status, body) in [
            (200, r#"{"access_token":12345678901,"refresh_token":"rotated-secret-token"}"#),
            (200, r#"{"expires_in":3600,"refresh_token":"rotated-secret-token"}"#),
            (200, r#"{"access_token":"leaky-access-token","refresh_token":"rotated-secret-to"#),
            (500, r#"{"access_token":"leaky-access-token"}"#),
            (400, r#"["leaky-access-token","leaky-description"]"#),
            (400, r#"{"error":"invalid_grant","error_description":"leaky: rt-1 was spent"}"#),
            (401, r#"{"error":"leaky-access-token leaky-access-token leaky-access-token leaky-access-token"}"#),
        ] {
            let host = host();
            let http = FakeTransport::sequence(vec![json(status, body)]);
            let error = Tokens::new(&host, &http, "https://a").refresh().unwrap_err();
            let message = format!("{error:?}");
            assert!(!message.contains("leaky") && !message.contains("rotated-secret"), "{message}");
            assert!(!message.contains("rt-1"), "not even the refresh token just sent: {message}");
            if status == 200 && body.ends_with('}') {
                assert_eq!(host.stored(SECRET_REFRESH_TOKEN).as_deref(), Some("rotated-secret-token"), "{body}");
            }
        }
    }

    /// A token endpoint that repeats the Basic credentials it was sent in its description.
    #[test]
    fn an_error_description_repeating_the_basic_credentials_is_not_shown() {
        let basic = STANDARD.encode("cid:csecret");
        let body = format!(r#"{{"error":"invalid_client","error_description":"bad client Basic {basic}"}}"#);
        let host = host();
        let http = FakeTransport::sequence(vec![json(401, &body)]);
        let error = Tokens::new(&host, &http, "https://a").refresh().unwrap_err();
        let message = format!("{error:?}");
        assert!(!message.contains(&basic) && message.contains("invalid_client"), "{message}");
    }

    /// `{"error":"invalid_grant"}` sent with 200 is the refusal it says it is, not a transport
    /// failure: the same message and hint as with 400.
    #[test]
    fn an_oauth_error_sent_with_200_is_a_refusal() {
        let host = host();
        let http = FakeTransport::sequence(vec![json(200, r#"{"error":"invalid_grant","error_description":"spent"}"#)]);
        match Tokens::new(&host, &http, "https://a").refresh() {
            Err(ConnectorError::Unauthorized(c)) => {
                assert!(c.message.contains("invalid_grant (spent)") && c.message.contains("secret refresh-token"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invalid_grant_and_invalid_client_say_what_to_do() {
        for (body, hint) in [
            (r#"{"error":"invalid_grant","error_description":"expired"}"#, "store it as the secret refresh-token"),
            (r#"{"error":"invalid_client"}"#, "Check the secrets client-id and client-secret"),
        ] {
            let host = host();
            let http = FakeTransport::sequence(vec![json(400, body)]);
            match Tokens::new(&host, &http, "https://a").refresh() {
                Err(ConnectorError::Unauthorized(c)) => assert!(c.message.contains(hint), "{}", c.message),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_secret_is_a_config_error_naming_it() {
        let host = FakeHost::default().with_secret(SECRET_CLIENT_ID, "cid");
        let http = FakeTransport::sequence(vec![]);
        match Tokens::new(&host, &http, "https://a").access_token() {
            Err(ConnectorError::Config(c)) => assert_eq!(c.field.as_deref(), Some(SECRET_CLIENT_SECRET)),
            other => panic!("{other:?}"),
        }
        assert!(http.requests().is_empty());
    }

    fn consent_grant(verifier: Option<&str>) -> ConsentGrant {
        ConsentGrant {
            code: "code-1".into(),
            redirect_uri: "http://127.0.0.1:8765/callback".into(),
            code_verifier: verifier.map(str::to_owned),
        }
    }

    #[test]
    fn the_consent_url_names_the_client_redirect_state_and_challenge() {
        let host = FakeHost::default().with_secret(SECRET_CLIENT_ID, "cid 1");
        let http = FakeTransport::sequence(vec![]);
        let tokens = Tokens::new(&host, &http, "https://auth.example");
        let request = ConsentRequest {
            redirect_uri: "http://127.0.0.1:8765/callback".into(),
            state: "s&t".into(),
            code_challenge: Some("ch".into()),
        };
        assert_eq!(
            tokens.consent_url(&request).unwrap(),
            "https://auth.example/oauth/authorize?client_id=cid+1&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1\
             %3A8765%2Fcallback&state=s%26t&code_challenge=ch&code_challenge_method=S256"
        );
        let plain = ConsentRequest { code_challenge: None, ..request.clone() };
        assert!(!tokens.consent_url(&plain).unwrap().contains("code_challenge"));
        let stateless = ConsentRequest { state: " ".into(), ..request };
        let refused = tokens.consent_url(&stateless);
        assert!(matches!(refused, Err(ConnectorError::InvalidInput(i)) if i.field.as_deref() == Some("state")));
        assert!(http.requests().is_empty(), "building the address sends nothing");
    }

    #[test]
    fn a_redeemed_code_stores_the_refresh_token_and_caches_the_access_token() {
        let host = FakeHost::default().with_secret(SECRET_CLIENT_ID, "cid").with_secret(SECRET_CLIENT_SECRET, "cs");
        let http =
            FakeTransport::sequence(vec![json(200, r#"{"access_token":"at","refresh_token":"rt","expires_in":3600}"#)]);
        let tokens = Tokens::new(&host, &http, "https://auth.example");
        tokens.redeem(&consent_grant(Some("verifier"))).unwrap();
        let sent = &http.requests()[0];
        assert!(sent.headers.contains(&("Authorization", format!("Basic {}", STANDARD.encode("cid:cs")))));
        assert_eq!(
            String::from_utf8(sent.body.clone().unwrap()).unwrap(),
            "grant_type=authorization_code&code=code-1&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback\
             &code_verifier=verifier"
        );
        assert_eq!(host.stored(SECRET_REFRESH_TOKEN).as_deref(), Some("rt"));
        let timing = tokens.cached().unwrap().unwrap();
        assert_eq!((timing.expires_at, timing.refresh_after), (host.now_unix() + 3600, host.now_unix() + 2400));
    }

    #[test]
    fn a_refused_or_tokenless_code_exchange_says_so_and_stores_nothing() {
        for (status, body, needle) in [
            (
                400,
                r#"{"error":"invalid_grant","error_description":"code-1 was used"}"#,
                "refused the authorization code: invalid_grant.",
            ),
            (401, r#"{"error":"invalid_client"}"#, "Check the secrets client-id and client-secret"),
            (403, "", "refused the authorization code with HTTP 403"),
            (200, r#"{"access_token":"at"}"#, "without a refresh_token"),
        ] {
            let host = FakeHost::default().with_secret(SECRET_CLIENT_ID, "cid").with_secret(SECRET_CLIENT_SECRET, "cs");
            let http = FakeTransport::sequence(vec![json(status, body)]);
            let error = Tokens::new(&host, &http, "https://a").redeem(&consent_grant(None)).unwrap_err();
            let message = format!("{error:?}");
            assert!(message.contains(needle) && !message.contains("code-1"), "{message}");
            assert_eq!((host.stored(SECRET_REFRESH_TOKEN), host.stored(SECRET_ACCESS_TOKEN)), (None, None), "{body}");
        }
    }

    #[test]
    fn a_code_exchange_that_failed_on_the_server_is_not_repeated() {
        let host = FakeHost::default().with_secret(SECRET_CLIENT_ID, "cid").with_secret(SECRET_CLIENT_SECRET, "cs");
        let http =
            FakeTransport::sequence(vec![json(503, "{}"), json(200, r#"{"access_token":"at","refresh_token":"rt"}"#)]);
        let error = Tokens::new(&host, &http, "https://a").redeem(&consent_grant(None)).unwrap_err();
        assert!(matches!(error, ConnectorError::Remote(r) if r.status == 503));
        assert_eq!(http.requests().len(), 1, "GoTo may have spent the code");
    }
}
