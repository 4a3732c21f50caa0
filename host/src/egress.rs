//! The egress policy for the guest's outgoing HTTP, enforced in `WasiHttpHooks::send_request`.
//!
//! Only exact origins (scheme, host, port) are reachable: the configured API and token hosts.
//! Every exchange gets clamped timeouts, a total deadline and a response size cap, and is
//! logged at debug level with credentials redacted.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Full, Limited};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::governor::Governor;
use crate::log::{Level, Logger};

/// A scheme, host and port the guest may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses the origin of an `http(s)://host[:port][/path]` URL.
    pub fn of_url(url: &str) -> Result<Origin> {
        let uri: Uri = url.parse().with_context(|| format!("{url:?} is not a URL"))?;
        Origin::of_uri(&uri).with_context(|| format!("{url:?} is not a usable http(s) URL"))
    }

    /// The origin of an absolute http(s) URI whose authority is exactly `host` or `host:port`.
    /// Anything else (user information, an empty, zero-padded or out-of-range port) is refused,
    /// because connecting uses the authority's text: what is checked must be all there is.
    fn of_uri(uri: &Uri) -> Result<Origin> {
        let scheme = uri.scheme_str().context("it has no scheme")?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            other => bail!("its scheme {other:?} is not http or https"),
        };
        let authority = uri.authority().context("it has no host")?.as_str().to_ascii_lowercase();
        if authority.contains('@') {
            bail!("it carries user information (`user@`) before the host; remove it");
        }
        let host = uri.host().filter(|h| !h.is_empty()).context("it has no host")?.to_ascii_lowercase();
        let port = match authority.strip_prefix(host.as_str()) {
            Some("") => default_port,
            Some(port) => match port.strip_prefix(':').and_then(|p| p.parse::<u16>().ok()) {
                Some(number) if number > 0 && port == format!(":{number}") => number,
                _ => bail!("its port {:?} is not a number from 1 to 65535", port.trim_start_matches(':')),
            },
            None => bail!("its host {authority:?} is not in plain form"),
        };
        Ok(Origin { scheme, host, port })
    }

    /// Whether the host is a loopback IP literal (127.0.0.0/8, ::1) or `localhost`, where the
    /// simulator runs and plain http is acceptable.
    pub fn is_loopback(&self) -> bool {
        let literal = self.host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(&self.host);
        self.host == "localhost" || literal.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// `host`, or `host:port` when the port is not the scheme's default: what is connected to
    /// and sent as `Host`.
    fn authority(&self) -> String {
        match (self.scheme.as_str(), self.port) {
            ("https", 443) | ("http", 80) => self.host.clone(),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Limits and the allow-list for outgoing requests.
#[derive(Debug, Clone)]
pub struct EgressPolicy {
    pub allowed: Vec<Origin>,
    pub connect_timeout: Duration,
    pub first_byte_timeout: Duration,
    pub between_bytes_timeout: Duration,
    /// The whole exchange, from connect to the last body byte.
    pub deadline: Duration,
    pub max_response_bytes: usize,
    /// Paces every request made under this policy, whichever connection makes it.
    pub governor: Arc<Governor>,
}

impl EgressPolicy {
    /// Allows exactly these origins, with default limits, paced at `requests_per_second`.
    pub fn allow(allowed: Vec<Origin>, requests_per_second: f64) -> Self {
        EgressPolicy {
            allowed,
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(60),
            between_bytes_timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(120),
            max_response_bytes: 32 << 20,
            governor: Arc::new(Governor::new(requests_per_second)),
        }
    }

    /// The request, readdressed to the allowed origin it names (returned with it), or
    /// `HttpRequestDenied`. The URI's authority and the `Host` header are rewritten from the
    /// checked origin, so the connection goes exactly where the check said it may.
    fn admit<B>(&self, mut request: http::Request<B>) -> Result<(http::Request<B>, Origin), HttpError> {
        let origin = Origin::of_uri(request.uri())
            .ok()
            .filter(|o| self.allowed.contains(o))
            .ok_or(HttpError::HttpRequestDenied)?;
        let authority = origin.authority();
        let mut parts = request.uri().clone().into_parts();
        parts.authority = Some(authority.parse().map_err(|_| HttpError::HttpRequestUriInvalid)?);
        *request.uri_mut() = Uri::from_parts(parts).map_err(|_| HttpError::HttpRequestUriInvalid)?;
        let host = http::HeaderValue::from_str(&authority).map_err(|_| HttpError::HttpRequestUriInvalid)?;
        request.headers_mut().insert(http::header::HOST, host);
        Ok((request, origin))
    }

    fn options(&self, requested: Option<RequestOptions>) -> RequestOptions {
        let clamp = |asked: Option<Duration>, max: Duration| Some(asked.map_or(max, |d| d.min(max)));
        let requested = requested.unwrap_or_default();
        RequestOptions {
            connect_timeout: clamp(requested.connect_timeout, self.connect_timeout),
            first_byte_timeout: clamp(requested.first_byte_timeout, self.first_byte_timeout),
            between_bytes_timeout: clamp(requested.between_bytes_timeout, self.between_bytes_timeout),
        }
    }
}

/// The OAuth token endpoint, `{token-base}/oauth/token`: the one place a rotated refresh token
/// comes from. The API may share its origin (a gateway in front of both, the simulator), and an
/// API answer that happens to hold a `refresh_token` field must not replace the real one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEndpoint {
    origin: Origin,
    path: String,
}

impl TokenEndpoint {
    /// The endpoint below the `token-base` URL.
    pub fn below(token_base: &str) -> Result<TokenEndpoint> {
        let uri: Uri = token_base.parse().with_context(|| format!("{token_base:?} is not a URL"))?;
        let origin = Origin::of_uri(&uri).with_context(|| format!("{token_base:?} is not a usable http(s) URL"))?;
        Ok(TokenEndpoint { origin, path: format!("{}/oauth/token", uri.path().trim_end_matches('/')) })
    }

    /// Whether an admitted request to `origin` is a token request.
    fn is(&self, method: &http::Method, origin: &Origin, uri: &Uri) -> bool {
        method == http::Method::POST && *origin == self.origin && uri.path() == self.path
    }
}

/// Called with the body of every 2xx answer to a POST to the token endpoint, before the guest
/// sees a byte of it: the host journals a rotated refresh token here, so that it is durable
/// even if the process dies before the guest has read the answer and stored it.
pub type TokenJournal = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// The per-store hooks object wasmtime-wasi-http calls for every outgoing request.
pub struct EgressHooks {
    policy: Arc<EgressPolicy>,
    log: Logger,
    journal: Option<(TokenEndpoint, TokenJournal)>,
}

impl EgressHooks {
    pub fn new(policy: Arc<EgressPolicy>, log: Logger) -> Self {
        EgressHooks { policy, log, journal: None }
    }

    /// Hands answers from the token `endpoint` to `journal` first.
    pub fn journaling_tokens(self, endpoint: TokenEndpoint, journal: TokenJournal) -> Self {
        EgressHooks { journal: Some((endpoint, journal)), ..self }
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

impl WasiHttpHooks for EgressHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: IoFuture,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), HttpError>> + Send> {
        let policy = self.policy.clone();
        let log = self.log.clone();
        let journal = self.journal.clone();
        Box::new(async move {
            let shown = redact_uri(request.uri());
            let method = request.method().clone();
            let (request, origin) = match policy.admit(request) {
                Ok(admitted) => admitted,
                Err(denied) => {
                    log.log(Level::Warn, "http", format_args!("denied {method} {shown}: not an allowed origin"));
                    return Err(denied);
                }
            };
            let journal = journal.filter(|(token, _)| token.is(&method, &origin, request.uri())).map(|(_, j)| j);
            if log.enabled(Level::Debug) {
                let headers = redact_headers(request.headers());
                log.log(Level::Debug, "http", format_args!("→ {method} {shown} {headers}"));
            }
            policy.governor.admit().await;
            let started = Instant::now();
            let exchange = exchange(request, policy.options(options), policy.max_response_bytes);
            let response = match tokio::time::timeout(policy.deadline, exchange).await {
                Ok(result) => result,
                Err(_) => Err(HttpError::HttpResponseTimeout),
            };
            match &response {
                Ok(r) => log.log(
                    Level::Debug,
                    "http",
                    format_args!(
                        "← {} {method} {shown} ({} bytes, {} ms)",
                        r.status(),
                        r.body().len(),
                        started.elapsed().as_millis()
                    ),
                ),
                Err(e) => log.log(Level::Debug, "http", format_args!("✗ {method} {shown}: {e:?}")),
            }
            let response = response?;
            let retry_after = response.headers().get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok());
            policy.governor.observe(response.status().as_u16(), retry_after);
            if response.status() == http::StatusCode::TOO_MANY_REQUESTS {
                log.log(
                    Level::Info,
                    "http",
                    format_args!("GoTo answered 429: pacing requests at {:.1}/s", policy.governor.rate()),
                );
            }
            if let Some(journal) = journal.filter(|_| response.status().is_success()) {
                journal(response.body());
            }
            let response = response.map(|body| Full::new(body).map_err(|never| match never {}).boxed_unsync());
            Ok((response, Box::new(async { Ok(()) }) as IoFuture))
        })
    }
}

/// Sends the request and reads the whole body (GoTo answers with bounded JSON pages), so the
/// deadline and the size cap cover the body too.
async fn exchange(
    request: http::Request<WasiBody>,
    options: RequestOptions,
    max_bytes: usize,
) -> Result<http::Response<Bytes>, HttpError> {
    let (response, connection) = wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
    let (parts, body) = response.into_parts();
    let (body, _) = tokio::join!(Limited::new(body, max_bytes).collect(), connection);
    let body = body.map_err(|e| match e.downcast::<HttpError>() {
        Ok(http_error) => *http_error,
        Err(_) => HttpError::HttpResponseBodySize(Some(max_bytes as u64)),
    })?;
    Ok(http::Response::from_parts(parts, body.to_bytes()))
}

/// The URI with user information and the values of credential-like query parameters replaced.
fn redact_uri(uri: &Uri) -> String {
    let mut text = uri.to_string();
    if let Some(authority) = uri.authority()
        && let Some((_, host)) = authority.as_str().rsplit_once('@')
    {
        text = text.replacen(authority.as_str(), &format!("<redacted>@{host}"), 1);
    }
    let Some((base, query)) = text.split_once('?') else { return text };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_sensitive(name) => format!("{name}=<redacted>"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", redacted.join("&"))
}

fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["token", "secret", "password", "code", "assertion", "authorization"].iter().any(|s| name.contains(s))
}

fn redact_headers(headers: &http::HeaderMap) -> String {
    let shown: Vec<String> = headers
        .iter()
        .map(|(name, value)| {
            if is_sensitive(name.as_str()) || name == http::header::COOKIE {
                format!("{name}: <redacted>")
            } else {
                format!("{name}: {}", value.to_str().unwrap_or("<binary>"))
            }
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

/// Validates the API and token base URLs and returns their origins: https everywhere except on
/// loopback, where the simulator runs.
pub fn origins_for(bases: &[(&str, &str)]) -> Result<Vec<Origin>> {
    let mut origins = Vec::new();
    for (setting, url) in bases {
        let origin = Origin::of_url(url).with_context(|| format!("setting {setting}"))?;
        if !origin.is_https() && !origin.is_loopback() {
            bail!(
                "setting {setting} is {url:?}: plain http is only allowed for loopback hosts (the simulator); use https"
            );
        }
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governor::DEFAULT_RATE;

    fn origin(url: &str) -> Origin {
        Origin::of_url(url).unwrap()
    }

    fn refusal(url: &str) -> String {
        format!("{:#}", Origin::of_url(url).unwrap_err())
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let a = origin("https://API.getgo.com/admin");
        assert_eq!(a, origin("https://api.getgo.com:443"));
        assert_ne!(a, origin("http://api.getgo.com"));
        assert_ne!(a, origin("https://api.getgo.com.evil.example"));
        assert_ne!(a, origin("https://api.getgo.com."), "a trailing dot is another name");
        assert_ne!(a, origin("https://api.getgo.com:8443"));
    }

    #[test]
    fn an_authority_that_is_not_plain_host_and_port_is_refused() {
        assert!(refusal("http://x@127.0.0.1:9").contains("user information"));
        assert!(refusal("http://127.0.0.1:9@evil.example").contains("user information"));
        assert!(refusal("http://127.0.0.1:99999").contains("port \"99999\" is not a number from 1 to 65535"));
        for odd in ["http://127.0.0.1:/", "http://127.0.0.1:09", "http://127.0.0.1:0", "ftp://127.0.0.1"] {
            assert!(Origin::of_url(odd).is_err(), "{odd} was accepted");
        }
    }

    #[test]
    fn loopback_means_a_loopback_literal_or_localhost() {
        for host in ["127.0.0.1", "127.8.9.10", "[::1]", "localhost", "LOCALHOST"] {
            assert!(origin(&format!("http://{host}:1")).is_loopback(), "{host}");
        }
        for host in ["127.0.0.1.evil.example", "127.evil", "localhost.evil.example", "[::ffff:7f00:1]", "10.0.0.1"] {
            assert!(!origin(&format!("http://{host}:1")).is_loopback(), "{host}");
        }
    }

    /// Requests whose origin is allowed are readdressed to exactly that origin; anything else is
    /// denied by the check itself.
    #[test]
    fn only_exactly_equal_origins_are_admitted_and_readdressed() {
        let policy =
            EgressPolicy::allow(vec![origin("https://api.getgo.com"), origin("http://127.0.0.1:8080")], DEFAULT_RATE);
        let admit = |uri: &str| {
            let request = http::Request::builder().uri(uri).header("host", "evil.example").body(()).unwrap();
            policy.admit(request).map(|(r, _)| (r.uri().to_string(), r.headers()["host"].to_str().unwrap().to_owned()))
        };
        let admitted = |uri: &str, to: &str, host: &str| {
            assert_eq!(admit(uri).unwrap(), (to.to_owned(), host.to_owned()), "{uri}");
        };
        admitted("https://api.getgo.com/x?y=1", "https://api.getgo.com/x?y=1", "api.getgo.com");
        admitted("https://API.GetGo.COM:443/x", "https://api.getgo.com/x", "api.getgo.com");
        admitted("http://127.0.0.1:8080/t", "http://127.0.0.1:8080/t", "127.0.0.1:8080");
        for denied in [
            "http://x@127.0.0.1:8080/",
            "http://127.0.0.1:8080@evil.example/",
            "https://user:pw@api.getgo.com/",
            "https://api.getgo.com./",
            "https://api.getgo.com:8443/",
            "http://api.getgo.com/",
            "http://127.0.0.1/",
            "http://127.0.0.1:08080/",
            "http://127.0.0.1:8081/",
            "http://127.0.0.1.:8080/",
            "http://localhost:8080/",
        ] {
            assert!(matches!(admit(denied), Err(HttpError::HttpRequestDenied)), "{denied} was admitted");
        }
    }

    /// Through the hook as wasmtime calls it: a denied request opens no socket; an admitted one
    /// reaches the checked address with the checked `Host`.
    #[tokio::test]
    async fn the_hook_connects_only_to_the_checked_origin() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let policy = Arc::new(EgressPolicy::allow(vec![origin(&format!("http://127.0.0.1:{port}"))], DEFAULT_RATE));
        let mut hooks = EgressHooks::new(policy, Logger::silent());
        let mut send = |uri: String| {
            let body = http_body_util::Empty::<Bytes>::new().map_err(|never| match never {}).boxed_unsync();
            let request = http::Request::builder().uri(uri).body(body).unwrap();
            Box::into_pin(hooks.send_request(request, None, Box::new(async { Ok::<(), HttpError>(()) })))
        };
        for denied in [format!("http://x@127.0.0.1:{port}/"), format!("http://127.0.0.1:{port}@localhost/")] {
            assert!(matches!(send(denied.clone()).await, Err(HttpError::HttpRequestDenied)), "{denied}");
        }
        listener.set_nonblocking(true).unwrap();
        assert!(listener.accept().is_err(), "a denied request connected");

        listener.set_nonblocking(false).unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                head.push(byte[0]);
            }
            stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").unwrap();
            String::from_utf8(head).unwrap().to_ascii_lowercase()
        });
        let (response, _) = send(format!("HTTP://127.0.0.1:{port}/ok")).await.unwrap();
        assert_eq!(response.status(), 204);
        let head = server.join().unwrap();
        assert!(head.starts_with("get /ok ") && head.contains(&format!("\r\nhost: 127.0.0.1:{port}\r\n")), "{head}");
    }

    #[test]
    fn only_posts_to_the_token_endpoint_are_token_answers() {
        let token = TokenEndpoint::below("http://127.0.0.1:8080/").unwrap();
        let here = origin("http://127.0.0.1:8080");
        let is = |method: http::Method, uri: &str| token.is(&method, &here, &uri.parse().unwrap());
        assert!(is(http::Method::POST, "http://127.0.0.1:8080/oauth/token"));
        assert!(!is(http::Method::POST, "http://127.0.0.1:8080/admin/rest/v1/accounts/1/users"), "an API write");
        assert!(!is(http::Method::GET, "http://127.0.0.1:8080/oauth/token"));
        assert!(!token.is(&http::Method::POST, &origin("http://127.0.0.1:9"), &"/oauth/token".parse().unwrap()));
        let below = TokenEndpoint::below("https://gw.example/goto-auth").unwrap();
        assert!(below.is(
            &http::Method::POST,
            &origin("https://gw.example"),
            &"/goto-auth/oauth/token".parse().unwrap()
        ));
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        assert!(origins_for(&[("api-base", "http://api.getgo.com")]).is_err());
        let err = origins_for(&[("token-base", "http://127.0.0.1.evil.example")]).unwrap_err();
        assert!(err.to_string().contains("setting token-base"), "{err}");
        assert_eq!(
            origins_for(&[("api-base", "http://127.0.0.1:9"), ("token-base", "http://127.0.0.1:9")]).unwrap().len(),
            1
        );
    }

    #[test]
    fn credentials_are_redacted_from_logged_uris_and_headers() {
        let uri: Uri = "http://h/x?refresh_token=abc&filter=(key%3D%221%22)".parse().unwrap();
        assert_eq!(redact_uri(&uri), "http://h/x?refresh_token=<redacted>&filter=(key%3D%221%22)");
        let uri: Uri = "http://user:pw@h:1/x".parse().unwrap();
        assert_eq!(redact_uri(&uri), "http://<redacted>@h:1/x");
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", "Bearer secret-token".parse().unwrap());
        headers.insert("accept", "application/json".parse().unwrap());
        let shown = redact_headers(&headers);
        assert!(!shown.contains("secret-token") && shown.contains("accept: application/json"), "{shown}");
    }

    #[test]
    fn timeouts_are_clamped_to_the_policy() {
        let policy = EgressPolicy::allow(vec![], DEFAULT_RATE);
        let o = policy
            .options(Some(RequestOptions { connect_timeout: Some(Duration::from_secs(600)), ..Default::default() }));
        assert_eq!(o.connect_timeout, Some(policy.connect_timeout));
        assert_eq!(o.between_bytes_timeout, Some(policy.between_bytes_timeout));
    }
}
