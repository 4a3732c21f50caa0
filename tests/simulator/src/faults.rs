//! Injected faults: rules matched against each request before normal handling.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex as StdMutex};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, StatusCode};
use tokio::sync::watch;

use crate::error::{ApiError, codes, invented};
use crate::ratelimit::too_many_requests;
use crate::state::{Shared, lock};
use crate::world::World;

/// One injected fault: applies to requests matching `matcher`, after skipping `skip` matching
/// requests, `times` times.
#[derive(Clone, Debug)]
pub struct FaultRule {
    pub matcher: Matcher,
    pub skip: u32,
    pub times: u32,
    pub fault: Fault,
}

/// Which requests a rule applies to; `None` fields match anything.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    pub method: Option<Method>,
    /// Substring of the path, e.g. `"/users"` or `"/oauth/token"`.
    pub path_contains: Option<String>,
    /// Substring of the raw (still encoded) query string.
    pub query_contains: Option<String>,
}

/// What happens to a matched request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// An error envelope with this status (code `server.error` for 5xx).
    Status(u16),
    /// A proxy's text/html 502 page.
    Html502,
    /// The normal response with its body cut in half (status and JSON content type kept).
    Truncated,
    /// 200 with a text/plain, non-JSON body.
    NonJson,
    /// A 429 as the rate limiter would give.
    RateLimited,
    /// The normal response after this delay.
    DelayMs(u64),
    /// Changes the world, then serves the request normally: data moving under a paged read.
    Mutate(WorldChange),
    /// Holds the request until the gate opens, then serves it: a test acts while a client is
    /// mid-request (kills it, say). Open the gate before dropping the simulator, which waits
    /// for requests in flight.
    Hold(Gate),
    /// Serves the request, then holds the answer until the gate opens: the server has acted
    /// (rotated a refresh token, say) and the client has not heard back.
    HoldAnswer(Gate),
}

/// Where [`Fault::Hold`] requests wait. Cloned handles share the gate.
#[derive(Clone, Debug)]
pub struct Gate(Arc<GateState>);

#[derive(Debug)]
struct GateState {
    arrivals: StdMutex<u32>,
    arrived: Condvar,
    open: watch::Sender<bool>,
    /// Set by [`Gate::abandon`]: held requests are dropped, not served.
    abandoned: AtomicBool,
}

impl Default for Gate {
    fn default() -> Self {
        Gate(Arc::new(GateState {
            arrivals: StdMutex::new(0),
            arrived: Condvar::new(),
            open: watch::channel(false).0,
            abandoned: AtomicBool::new(false),
        }))
    }
}

impl Gate {
    /// Blocks until a request is held at the gate, or `timeout` passes; true if one arrived.
    pub fn wait_for_arrival(&self, timeout: Duration) -> bool {
        let arrivals = self.0.arrivals.lock().unwrap_or_else(|e| e.into_inner());
        let (arrivals, _) =
            self.0.arrived.wait_timeout_while(arrivals, timeout, |n| *n == 0).unwrap_or_else(|e| e.into_inner());
        *arrivals > 0
    }

    /// Lets every held request (and any later one) through.
    pub fn open(&self) {
        self.0.open.send_replace(true);
    }

    /// Opens the gate, but a request held at a [`Fault::Hold`] gate is answered 503 without
    /// being served, as if it had never reached the server (its client was killed meanwhile).
    pub fn abandon(&self) {
        self.0.abandoned.store(true, Ordering::SeqCst);
        self.open();
    }

    /// Waits for the gate to open; false if it was abandoned.
    async fn pass(&self) -> bool {
        *self.0.arrivals.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.arrived.notify_all();
        let mut open = self.0.open.subscribe();
        let _ = open.wait_for(|open| *open).await;
        !self.0.abandoned.load(Ordering::SeqCst)
    }
}

/// A change to the simulated account, applied when a [`Fault::Mutate`] rule fires.
#[derive(Clone)]
pub struct WorldChange(pub Arc<dyn Fn(&mut World) + Send + Sync>);

impl WorldChange {
    pub fn new(change: impl Fn(&mut World) + Send + Sync + 'static) -> WorldChange {
        WorldChange(Arc::new(change))
    }
}

impl std::fmt::Debug for WorldChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorldChange(..)")
    }
}

struct ActiveRule {
    rule: FaultRule,
    skipped: u32,
    fired: u32,
}

/// The installed rules, in the order added; the first rule due to fire wins.
#[derive(Default)]
pub(crate) struct Faults {
    rules: Vec<ActiveRule>,
}

impl Faults {
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(ActiveRule { rule, skipped: 0, fired: 0 });
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Consumes the fault due for this request, if any.
    fn take(&mut self, method: &Method, path: &str, query: &str) -> Option<Fault> {
        for active in &mut self.rules {
            let m = &active.rule.matcher;
            let matches = m.method.as_ref().is_none_or(|x| x == method)
                && m.path_contains.as_deref().is_none_or(|p| path.contains(p))
                && m.query_contains.as_deref().is_none_or(|q| query.contains(q));
            if !matches || active.fired >= active.rule.times {
                continue;
            }
            if active.skipped < active.rule.skip {
                active.skipped += 1;
                continue;
            }
            active.fired += 1;
            return Some(active.rule.fault.clone());
        }
        None
    }
}

const PROXY_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
<center><h1>502 Bad Gateway</h1></center>\r\n\
<p>The upstream server did not answer in time. Please try again later.</p>\r\n\
<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n\
<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n";

/// Middleware: applies the first due fault, otherwise passes the request on.
pub(crate) async fn inject(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let uri = req.uri();
    let fault = lock(&s.faults).take(req.method(), uri.path(), uri.query().unwrap_or_default());
    let Some(fault) = fault else {
        return next.run(req).await;
    };
    s.stats().faults_injected += 1;
    match fault {
        Fault::Status(code) => status_error(code),
        Fault::Html502 => (StatusCode::BAD_GATEWAY, [(CONTENT_TYPE, "text/html")], PROXY_PAGE).into_response(),
        Fault::NonJson => (StatusCode::OK, [(CONTENT_TYPE, "text/plain")], "OK").into_response(),
        Fault::RateLimited => too_many_requests(s.knobs().retry_after_secs),
        Fault::DelayMs(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Fault::Truncated => truncate(next.run(req).await).await,
        Fault::Hold(gate) => match gate.pass().await {
            true => next.run(req).await,
            false => status_error(503),
        },
        Fault::HoldAnswer(gate) => {
            let response = next.run(req).await;
            gate.pass().await;
            response
        }
        Fault::Mutate(change) => {
            (change.0)(&mut s.world());
            next.run(req).await
        }
    }
}

fn status_error(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = match status.as_u16() {
        401 => codes::NOT_AUTHENTICATED,
        403 => invented::NOT_AUTHORIZED,
        404 => invented::RESOURCE_NOT_FOUND,
        429 => invented::TOO_MANY_REQUESTS,
        500.. => invented::SERVER_ERROR,
        _ => invented::REQUEST_INVALID,
    };
    ApiError::new(status, code, "injected fault").into_response()
}

/// Keeps the first half of the body, with a Content-Length that matches the cut.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let cut = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(CONTENT_LENGTH, cut.len().into());
    Response::from_parts(parts, Body::from(cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_skip_then_fire_a_limited_number_of_times() {
        let mut faults = Faults::default();
        let matcher = Matcher { method: Some(Method::GET), path_contains: Some("/users".into()), ..Matcher::default() };
        faults.add(FaultRule { matcher, skip: 1, times: 2, fault: Fault::NonJson });
        let take = |f: &mut Faults, m: &Method, p: &str| f.take(m, p, "").is_some();
        assert!(!take(&mut faults, &Method::GET, "/a/users"), "skipped");
        assert!(!take(&mut faults, &Method::POST, "/a/users"), "method differs");
        assert!(!take(&mut faults, &Method::GET, "/a/groups"), "path differs");
        assert!(take(&mut faults, &Method::GET, "/a/users"));
        assert!(take(&mut faults, &Method::GET, "/a/users"));
        assert!(!take(&mut faults, &Method::GET, "/a/users"), "used up");
    }
}
