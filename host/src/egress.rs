//! The egress policy for the guest's outgoing HTTP, enforced in `WasiHttpHooks::send_request`.
//!
//! Only exact origins (scheme, host, port) are reachable: the configured API and token hosts.
//! Every exchange gets clamped timeouts, a total deadline and a response size cap, and is
//! logged at debug level with credentials redacted.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Full, Limited};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

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
        Origin::of_uri(&uri).with_context(|| format!("{url:?} is not an http(s) URL with a host"))
    }

    fn of_uri(uri: &Uri) -> Option<Origin> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        let host = uri.host()?.to_ascii_lowercase();
        Some(Origin { port: uri.port_u16().unwrap_or(default_port), scheme, host })
    }

    /// Whether the host is a loopback address (the simulator), where plain http is acceptable.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host == "[::1]" || self.host.starts_with("127.")
    }

    pub fn is_https(&self) -> bool {
        self.scheme == "https"
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
}

impl EgressPolicy {
    /// Allows exactly these origins, with default limits.
    pub fn allow(allowed: Vec<Origin>) -> Self {
        EgressPolicy {
            allowed,
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(60),
            between_bytes_timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(120),
            max_response_bytes: 32 << 20,
        }
    }

    fn permits(&self, origin: &Origin) -> bool {
        self.allowed.contains(origin)
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

/// Called with the body of every 2xx answer to a POST to the token origin, before the guest
/// sees a byte of it: the host journals a rotated refresh token here, so that it is durable
/// even if the process dies before the guest has read the answer and stored it.
pub type TokenJournal = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// The per-store hooks object wasmtime-wasi-http calls for every outgoing request.
pub struct EgressHooks {
    policy: Arc<EgressPolicy>,
    log: Logger,
    journal: Option<(Origin, TokenJournal)>,
}

impl EgressHooks {
    pub fn new(policy: Arc<EgressPolicy>, log: Logger) -> Self {
        EgressHooks { policy, log, journal: None }
    }

    /// Hands token answers from `token_origin` to `journal` first.
    pub fn journaling_tokens(self, token_origin: Origin, journal: TokenJournal) -> Self {
        EgressHooks { journal: Some((token_origin, journal)), ..self }
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
            let allowed = Origin::of_uri(request.uri()).filter(|o| policy.permits(o));
            let Some(origin) = allowed else {
                log.log(Level::Warn, "http", format_args!("denied {method} {shown}: not an allowed origin"));
                return Err(HttpError::HttpRequestDenied);
            };
            let journal = journal.filter(|(o, _)| method == http::Method::POST && *o == origin).map(|(_, j)| j);
            if log.enabled(Level::Debug) {
                let headers = redact_headers(request.headers());
                log.log(Level::Debug, "http", format_args!("→ {method} {shown} {headers}"));
            }
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

/// The URI with the values of credential-like query parameters replaced.
fn redact_uri(uri: &Uri) -> String {
    let Some(query) = uri.query() else { return uri.to_string() };
    let base = uri.to_string();
    let base = base.split('?').next().unwrap_or_default();
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

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let a = Origin::of_url("https://API.getgo.com/admin").unwrap();
        assert_eq!(a, Origin::of_url("https://api.getgo.com:443").unwrap());
        assert_ne!(a, Origin::of_url("http://api.getgo.com").unwrap());
        assert_ne!(a, Origin::of_url("https://api.getgo.com.evil.example").unwrap());
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        assert!(origins_for(&[("api-base", "http://api.getgo.com")]).is_err());
        assert_eq!(
            origins_for(&[("api-base", "http://127.0.0.1:9"), ("token-base", "http://127.0.0.1:9")]).unwrap().len(),
            1
        );
    }

    #[test]
    fn credentials_are_redacted_from_logged_uris_and_headers() {
        let uri: Uri = "http://h/x?refresh_token=abc&filter=(key%3D%221%22)".parse().unwrap();
        assert_eq!(redact_uri(&uri), "http://h/x?refresh_token=<redacted>&filter=(key%3D%221%22)");
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", "Bearer secret-token".parse().unwrap());
        headers.insert("accept", "application/json".parse().unwrap());
        let shown = redact_headers(&headers);
        assert!(!shown.contains("secret-token") && shown.contains("accept: application/json"), "{shown}");
    }

    #[test]
    fn timeouts_are_clamped_to_the_policy() {
        let policy = EgressPolicy::allow(vec![]);
        let o = policy
            .options(Some(RequestOptions { connect_timeout: Some(Duration::from_secs(600)), ..Default::default() }));
        assert_eq!(o.connect_timeout, Some(policy.connect_timeout));
        assert_eq!(o.between_bytes_timeout, Some(policy.between_bytes_timeout));
    }
}
