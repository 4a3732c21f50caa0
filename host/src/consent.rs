//! An administrator's consent in the browser (the OAuth 2.0 authorization-code grant, RFC 6749
//! §4.1, as RFC 8252 has native apps do it): a redirect URI on a loopback port, a random
//! `state` the redirect must bring back, PKCE (RFC 7636, S256) when asked for, and the redirect
//! received by a one-shot listener on 127.0.0.1 or pasted back by hand. GoTo's side (the consent
//! page's address, the code's exchange) is the component's.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::runtime::{ConsentGrant, ConsentRequest};

/// The path of the redirect URI.
pub const CALLBACK_PATH: &str = "/callback";

/// How long a browser's answer may take to finish once the redirect has been read.
const DRAIN: Duration = Duration::from_secs(5);

/// Why a consent brought back no code to exchange.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error(
        "port {port} on 127.0.0.1 is in use, so the consent redirect cannot be received there: stop what listens \
         on it, or choose another port with --port or `[login] port` (and register that redirect URI on the OAuth \
         client instead)"
    )]
    PortInUse { port: u16 },
    #[error("cannot listen on 127.0.0.1 port {port} for the consent redirect: {source}")]
    Listen { port: u16, source: std::io::Error },
    #[error(
        "the consent was declined ({0}): sign in as a GoTo administrator of the account and choose to allow \
         access, then run `auth login` again"
    )]
    Declined(String),
    #[error(
        "GoTo refused the consent request ({0}): check that the OAuth client has the Admin Center (identity:) \
         scope and this redirect URI registered"
    )]
    Refused(String),
    #[error(
        "the consent redirect carries another state than this login sent, so it belongs to another login (an old \
         browser tab) or was forged; nothing was exchanged. Run `auth login` again and use the address it prints"
    )]
    StateMismatch,
    #[error("the consent redirect carries no authorization code; run `auth login` again")]
    NoCode,
    #[error(
        "no consent redirect arrived within {0} s; run `auth login` again and finish the consent in the browser \
         sooner (or give it longer with --timeout SECS), or use --paste when the browser is on another machine"
    )]
    TimedOut(u64),
    #[error(
        "that is not the address of a consent redirect: paste the whole address the browser was sent to, \
         {0}?code=…&state=…"
    )]
    NotARedirect(String),
}

/// One consent: where it is sent back, and the secrets its redirect and exchange must match.
#[derive(Clone)]
pub struct Consent {
    redirect_uri: String,
    state: String,
    /// The PKCE code verifier, when PKCE is used.
    verifier: Option<String>,
}

impl Consent {
    /// A consent to be sent back to port `port` of 127.0.0.1, with a PKCE challenge if `pkce`.
    pub fn new(port: u16, pkce: bool) -> Consent {
        let mut rng = rand::rng();
        Consent {
            redirect_uri: redirect_uri(port),
            state: Alphanumeric.sample_string(&mut rng, 32),
            // 64 characters from RFC 7636's unreserved set, within its 43 to 128.
            verifier: pkce.then(|| Alphanumeric.sample_string(&mut rng, 64)),
        }
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// What the component needs to build the consent page's address.
    pub fn request(&self) -> ConsentRequest {
        ConsentRequest {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            code_challenge: self.verifier.as_ref().map(|v| URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))),
        }
    }

    /// The code a redirect's query brings back, if the redirect is this consent's and it was
    /// granted.
    pub fn accept(&self, query: &str) -> Result<ConsentGrant, ConsentError> {
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        // The state first: a redirect that is not this consent's says nothing about it.
        if param("state") != Some(self.state.as_str()) {
            return Err(ConsentError::StateMismatch);
        }
        if let Some(error) = param("error") {
            let said = match param("error_description").filter(|d| shown(d)) {
                Some(description) => format!("{} ({description})", sanitized(error)),
                None => sanitized(error),
            };
            return Err(match error {
                "access_denied" => ConsentError::Declined(said),
                _ => ConsentError::Refused(said),
            });
        }
        let code = param("code").filter(|c| !c.trim().is_empty()).ok_or(ConsentError::NoCode)?;
        Ok(ConsentGrant {
            code: code.to_owned(),
            redirect_uri: self.redirect_uri.clone(),
            code_verifier: self.verifier.clone(),
        })
    }

    /// [`Consent::accept`] for an address pasted back by hand: what follows its `?`.
    pub fn accept_pasted(&self, pasted: &str) -> Result<ConsentGrant, ConsentError> {
        let not_one = || ConsentError::NotARedirect(self.redirect_uri.clone());
        let (_, query) = pasted.trim().split_once('?').ok_or_else(not_one)?;
        // Whatever follows the query (a fragment) is not part of it.
        let query = query.split('#').next().unwrap_or_default();
        self.accept(query).map_err(|e| match e {
            ConsentError::StateMismatch if !query.contains("state=") => not_one(),
            other => other,
        })
    }
}

/// The redirect URI for port `port`, to register on the OAuth client.
pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}{CALLBACK_PATH}")
}

/// Whether text from the redirect may be repeated on the terminal: short and printable.
fn shown(text: &str) -> bool {
    text.len() <= 200 && text.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}

/// An OAuth error code as it may be shown: the code when it is a plain word, else a placeholder.
fn sanitized(error: &str) -> String {
    let word = error.len() <= 64 && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if word { error.to_owned() } else { "an unreadable error code".to_owned() }
}

/// A listener on 127.0.0.1 for one consent redirect.
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

impl Loopback {
    /// Listens on `port` of 127.0.0.1 (0 lets the system choose one).
    pub fn bind(port: u16) -> Result<Loopback, ConsentError> {
        let listener =
            TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).map_err(|e| match e.kind() {
                std::io::ErrorKind::AddrInUse => ConsentError::PortInUse { port },
                _ => ConsentError::Listen { port, source: e },
            })?;
        let port = listener.local_addr().map_err(|e| ConsentError::Listen { port, source: e })?.port();
        Ok(Loopback { listener, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits up to `timeout` for the first redirect to the callback path, and answers the
    /// browser with a page saying whether to go back to the terminal in triumph or for the
    /// reason. Requests for other paths (a browser's favicon) are answered 404 and ignored.
    pub fn receive(self, consent: &Consent, timeout: Duration) -> anyhow::Result<Result<ConsentGrant, ConsentError>> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        self.listener.set_nonblocking(true)?;
        runtime.block_on(async move {
            let (sender, mut received) = mpsc::channel(1);
            let callback = Callback { consent: Arc::new(consent.clone()), sender };
            let app = Router::new().route(CALLBACK_PATH, get(answer)).with_state(callback);
            let listener = tokio::net::TcpListener::from_std(self.listener)?;
            let (stop, stopped) = oneshot::channel::<()>();
            let server = tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
            });
            let outcome = tokio::time::timeout(timeout, received.recv()).await;
            let _ = stop.send(());
            // The browser's page is on its way; a browser holding the connection open cannot
            // hold up the login.
            let _ = tokio::time::timeout(DRAIN, server).await;
            Ok(match outcome {
                Ok(Some(outcome)) => outcome,
                Ok(None) | Err(_) => Err(ConsentError::TimedOut(timeout.as_secs())),
            })
        })
    }
}

#[derive(Clone)]
struct Callback {
    consent: Arc<Consent>,
    sender: mpsc::Sender<Result<ConsentGrant, ConsentError>>,
}

const PAGE_RECEIVED: &str = "<!doctype html><title>gtm-connector</title><p>GoTo's consent has reached \
                             gtm-connector. You can close this tab and go back to the terminal.</p>";
const PAGE_FAILED: &str =
    "<!doctype html><title>gtm-connector</title><p>The login did not complete. The terminal says why.</p>";

/// The redirect's answer to the browser. What went wrong is said on the terminal, not here.
async fn answer(State(callback): State<Callback>, RawQuery(query): RawQuery) -> (StatusCode, Html<&'static str>) {
    let outcome = callback.consent.accept(query.as_deref().unwrap_or_default());
    let page = match &outcome {
        Ok(_) => (StatusCode::OK, Html(PAGE_RECEIVED)),
        Err(_) => (StatusCode::BAD_REQUEST, Html(PAGE_FAILED)),
    };
    // Only the first redirect counts; the login has stopped listening for more.
    let _ = callback.sender.try_send(outcome);
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(consent: &Consent, rest: &str) -> String {
        format!("state={}&{rest}", consent.state)
    }

    #[test]
    fn a_redirect_is_accepted_only_with_this_consents_state_and_a_code() {
        let consent = Consent::new(8765, false);
        let grant = consent.accept(&query(&consent, "code=abc%2B1")).unwrap();
        assert_eq!((grant.code.as_str(), grant.redirect_uri.as_str()), ("abc+1", "http://127.0.0.1:8765/callback"));
        assert_eq!(grant.code_verifier, None);
        assert!(matches!(consent.accept("state=forged&code=abc"), Err(ConsentError::StateMismatch)));
        assert!(matches!(consent.accept("code=abc"), Err(ConsentError::StateMismatch)));
        assert!(matches!(consent.accept(&query(&consent, "code=")), Err(ConsentError::NoCode)));
    }

    #[test]
    fn a_declined_or_refused_consent_says_which_and_shows_only_printable_words() {
        let consent = Consent::new(1, false);
        let declined = consent.accept(&query(&consent, "error=access_denied&error_description=The+user+said+no"));
        assert_eq!(
            declined.unwrap_err().to_string().split(':').next(),
            Some("the consent was declined (access_denied (The user said no))")
        );
        let refused = consent.accept(&query(&consent, "error=invalid_scope&error_description=%1B%5B2J"));
        assert!(matches!(&refused, Err(ConsentError::Refused(said)) if said == "invalid_scope"), "{refused:?}");
        let odd = consent.accept(&query(&consent, "error=%1B%5B2Jx"));
        assert!(matches!(&odd, Err(ConsentError::Refused(said)) if said == "an unreadable error code"), "{odd:?}");
    }

    #[test]
    fn pkce_sends_the_s256_challenge_and_the_exchange_its_verifier() {
        let consent = Consent::new(1, true);
        let verifier = consent.verifier.clone().unwrap();
        assert!((43..=128).contains(&verifier.len()));
        let challenge = consent.request().code_challenge.unwrap();
        assert_eq!(challenge, URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())));
        assert_eq!(consent.accept(&query(&consent, "code=c")).unwrap().code_verifier, Some(verifier));
        assert_eq!(Consent::new(1, false).request().code_challenge, None);
        assert_ne!(Consent::new(1, false).state, Consent::new(1, false).state, "the state is random");
    }

    #[test]
    fn a_pasted_address_is_read_after_its_question_mark() {
        let consent = Consent::new(8765, false);
        let pasted = format!("  http://127.0.0.1:8765/callback?{}#frag\n", query(&consent, "code=c1"));
        assert_eq!(consent.accept_pasted(&pasted).unwrap().code, "c1");
        for nonsense in ["", "c1", "http://127.0.0.1:8765/callback", "http://x/?code=c1"] {
            assert!(matches!(consent.accept_pasted(nonsense), Err(ConsentError::NotARedirect(_))), "{nonsense}");
        }
    }

    #[test]
    fn a_port_in_use_is_named() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        assert!(matches!(Loopback::bind(port), Err(ConsentError::PortInUse { port: p }) if p == port));
    }
}
