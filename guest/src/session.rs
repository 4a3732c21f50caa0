//! One export call's conversation with GoTo: settings, tokens, the account key, and
//! authenticated requests with one refresh-and-retry on 401.

use std::cell::OnceCell;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::auth::Tokens;
use crate::error::{config, excerpt, transport};
use crate::goto::errors::from_response;
use crate::goto::model::Me;
use crate::host::{Host, LogLevel};
use crate::retry::{self, path_of};
use crate::settings::Settings;
use crate::transport::{HttpRequest, HttpResponse, Method, Transport};
use crate::types::ConnectorError;

const API_PREFIX: &str = "/admin/rest/v1";
/// A 2xx body that does not parse (truncated by a proxy) is re-read this many times in all.
const DECODE_ATTEMPTS: u32 = 3;
const USER_AGENT: &str = concat!("gtm-connector/", env!("CARGO_PKG_VERSION"));

/// Whether a request may be sent again after a 5xx answer or a broken exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Only if the method is idempotent.
    IfIdempotent,
    /// Always: the request is safe to repeat by design (a create keyed by email with
    /// `allOrNothing=false`, adding a user to a license).
    Always,
}

pub struct Session<'a> {
    host: &'a dyn Host,
    http: &'a dyn Transport,
    pub settings: Settings,
    tokens: Tokens<'a>,
    discovered_account_key: OnceCell<String>,
}

impl<'a> Session<'a> {
    pub fn new(host: &'a dyn Host, http: &'a dyn Transport) -> Result<Self, ConnectorError> {
        let settings = Settings::load(host)?;
        let tokens = Tokens::new(host, http, &settings.token_base);
        Ok(Session { host, http, settings, tokens, discovered_account_key: OnceCell::new() })
    }

    /// The host behind this session, for settings beyond [`Settings`] and for waiting.
    pub fn host(&self) -> &'a dyn Host {
        self.host
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        self.host.log(level, message);
    }

    /// The session's tokens, for the consent exchange and the cache's timing.
    pub fn tokens(&self) -> &Tokens<'a> {
        &self.tokens
    }

    /// Refreshes the access token now and returns its lifetime in seconds.
    pub fn refresh_token_lifetime(&self) -> Result<u64, ConnectorError> {
        self.tokens.refresh_timed().map(|(_, lifetime)| lifetime)
    }

    /// The caller's identity and accounts.
    pub fn me(&self) -> Result<Me, ConnectorError> {
        self.get("/me", &[])
    }

    /// The account to act on: the `account-key` setting, else the one `GET /me` reports.
    pub fn account_key(&self) -> Result<&str, ConnectorError> {
        match self.known_account_key() {
            Some(key) => Ok(key),
            None => self.account_key_from(&self.me()?),
        }
    }

    /// Like [`Session::account_key`], using a `/me` answer the caller already has.
    pub fn account_key_from(&self, me: &Me) -> Result<&str, ConnectorError> {
        if let Some(key) = self.known_account_key() {
            return Ok(key);
        }
        let key = discover_account_key(me)?;
        Ok(self.discovered_account_key.get_or_init(|| key))
    }

    /// The key known without asking GoTo: from the setting, or discovered earlier in this call.
    fn known_account_key(&self) -> Option<&str> {
        self.settings.account_key.as_deref().or_else(|| self.discovered_account_key.get().map(String::as_str))
    }

    /// `GET {api}/admin/rest/v1{path}?{query}`, decoded as JSON.
    pub fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, ConnectorError> {
        let mut attempt = 1;
        loop {
            let response = self.call(Method::Get, path, query, None, Replay::IfIdempotent)?;
            match serde_json::from_slice(&response.body) {
                Ok(value) => return Ok(value),
                Err(e) if attempt < DECODE_ATTEMPTS => {
                    self.log(LogLevel::Warn, &format!("GET {API_PREFIX}{path}: unreadable body ({e}), reading again"));
                    self.host.sleep(retry::backoff(self.host, Duration::from_millis(250), attempt));
                    attempt += 1;
                }
                Err(e) => {
                    return Err(transport(format!(
                        "GET {API_PREFIX}{path} returned HTTP {} with a body that is not the expected JSON ({e}): \"{}\"",
                        response.status,
                        excerpt(&response.body)
                    )));
                }
            }
        }
    }

    /// An authenticated request; non-2xx answers become errors.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
        replay: Replay,
    ) -> Result<HttpResponse, ConnectorError> {
        let url = self.url(path, query);
        let mut token = self.tokens.access_token()?;
        let mut refreshed = false;
        loop {
            let mut headers = vec![
                ("Authorization", format!("Bearer {token}")),
                ("Accept", "application/json".to_owned()),
                ("User-Agent", USER_AGENT.to_owned()),
            ];
            if body.is_some() {
                headers.push(("Content-Type", "application/json".to_owned()));
            }
            let request = HttpRequest {
                method,
                url: url.clone(),
                headers,
                body: body.map(|b| serde_json::to_vec(b).expect("JSON values always serialise")),
            };
            // A body echoing the token back (a gateway's debug page) must not carry it further.
            let response = retry::send(self.host, self.http, &request, replay == Replay::Always)?.withholding(&token);
            if response.status == 401 && !refreshed {
                self.log(LogLevel::Info, "GoTo refused the access token (401); refreshing it and retrying once");
                token = self.tokens.refresh()?;
                refreshed = true;
                continue;
            }
            if !response.is_success() {
                return Err(from_response(&format!("{} {}", method.as_str(), path_of(&url)), &response));
            }
            return Ok(response);
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        format!("{}{}", self.settings.api_base, path_and_query(path, query))
    }
}

/// The request target below the API base: `/admin/rest/v1{path}?{query}`.
pub fn path_and_query(path: &str, query: &[(&str, &str)]) -> String {
    let mut url = format!("{API_PREFIX}{path}");
    if !query.is_empty() {
        let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
        // Spaces as %20, not '+': GoTo's `eq` filter dialect rejects '+' (reference §5.2).
        // A literal '+' is already %2B here, so every remaining '+' was a space.
        url.push('?');
        url.push_str(&encoded.replace('+', "%20"));
    }
    url
}

fn discover_account_key(me: &Me) -> Result<String, ConnectorError> {
    me.account_key.as_ref().or_else(|| me.accounts.first().map(|a| &a.key)).map(|k| k.0.clone()).ok_or_else(|| {
        config("account-key", "GoTo's /me names no account for these credentials: set the account-key setting")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeTransport, json, signed_in_host};

    #[test]
    fn a_401_refreshes_once_and_retries() {
        let host = signed_in_host();
        let http = FakeTransport::sequence(vec![
            json(401, r#"{"errors":[{"code":"not.authenticated"}]}"#),
            json(200, r#"{"access_token":"fresh","expires_in":3600}"#),
            json(200, r#"{"accountKey":"77"}"#),
        ]);
        let session = Session::new(&host, &http).unwrap();
        assert_eq!(session.account_key().unwrap(), "77");
        let sent = http.requests();
        assert_eq!(sent.len(), 3);
        assert!(sent[2].headers.contains(&("Authorization", "Bearer fresh".to_owned())));
    }

    #[test]
    fn a_second_401_is_unauthorized() {
        let host = signed_in_host();
        let http = FakeTransport::sequence(vec![
            json(401, "{}"),
            json(200, r#"{"access_token":"fresh","expires_in":3600}"#),
            json(401, "{}"),
        ]);
        let session = Session::new(&host, &http).unwrap();
        assert!(matches!(session.me(), Err(ConnectorError::Unauthorized(_))));
    }

    #[test]
    fn a_truncated_body_is_read_again_then_reported() {
        let host = signed_in_host();
        let http = FakeTransport::sequence(vec![json(200, r#"{"accountKey":"#), json(200, r#"{"accountKey":"5"}"#)]);
        assert_eq!(Session::new(&host, &http).unwrap().account_key().unwrap(), "5");

        let http = FakeTransport::sequence(vec![json(200, "{\"acc"); 3]);
        match Session::new(&host, &http).unwrap().me() {
            Err(ConnectorError::Transport(c)) => assert!(c.message.contains("not the expected JSON"), "{}", c.message),
            other => panic!("{other:?}"),
        }
    }

    /// A gateway's error page, or a body that is not the JSON expected, that echoes the bearer
    /// token sent: the token is not quoted in the error.
    #[test]
    fn a_response_echoing_the_access_token_never_puts_it_in_an_error() {
        let token = "echoed-access-token-0123456789abcdef";
        let host = signed_in_host().with_secret(
            "access-token",
            &format!(r#"{{"token":"{token}","expires_at":9999999999,"refresh_after":9999999999}}"#),
        );
        let page = format!("<html><pre>GET /me\nAuthorization: Bearer {token}</pre></html>");
        let reflected = format!(r#"{{"accountKey":["Bearer {token}"]}}"#);
        let echoes = [
            json(502, &page).with_header("content-type", "text/html"),
            json(400, &format!(r#"{{"errors":[{{"code":"bad.header","value":"Bearer {token}"}}]}}"#)),
            json(200, &reflected),
        ];
        for echo in echoes {
            let http = FakeTransport::sequence(vec![echo; 3]);
            let error = Session::new(&host, &http).unwrap().me().unwrap_err();
            let message = format!("{error:?}");
            assert!(!message.contains(token) && !message.contains("echoed-acc"), "{message}");
            assert!(message.contains("[withheld]"), "{message}");
        }
    }

    #[test]
    fn query_spaces_are_percent_encoded_and_plus_is_literal() {
        let host = signed_in_host().with_setting("api-base", "http://h");
        let http = FakeTransport::sequence(vec![]);
        let s = Session::new(&host, &http).unwrap();
        assert_eq!(
            s.url("/x", &[("filter", "(email=\"a\\+b@x\") | (key=\"1\")")]),
            "http://h/admin/rest/v1/x?filter=%28email%3D%22a%5C%2Bb%40x%22%29%20%7C%20%28key%3D%221%22%29"
        );
    }

    #[test]
    fn the_account_key_setting_avoids_a_me_call() {
        let host = signed_in_host().with_setting("account-key", "123");
        let http = FakeTransport::sequence(vec![]);
        assert_eq!(Session::new(&host, &http).unwrap().account_key().unwrap(), "123");
        assert!(http.requests().is_empty());
    }
}
