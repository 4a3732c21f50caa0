//! The running simulator: one thread with its own tokio runtime serving the router on loopback.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, OriginalUri, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use tokio::sync::oneshot;

use crate::config::{Knobs, SimConfig};
use crate::error::{ApiError, invented};
use crate::faults::{FaultRule, Faults};
use crate::lenient::LenientListener;
use crate::oauth::{Credentials, TokenStore};
use crate::ratelimit::RateLimiter;
use crate::state::{Shared, lock};
use crate::stats::{ADMIN_PREFIX, Stats};
use crate::world::World;
use crate::{admin, faults, identity, oauth, ratelimit, seed, stats};

/// Large enough for Add Users batches of thousands.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// A running simulator. Dropping it shuts the server down.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Seeds the world and serves it on `127.0.0.1` at a port the OS picks.
    pub fn start(config: SimConfig) -> anyhow::Result<Simulator> {
        Self::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// Seeds the world and serves it on `addr`; returns once the socket is listening.
    pub fn start_on(config: SimConfig, addr: SocketAddr) -> anyhow::Result<Simulator> {
        let listener = std::net::TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let world = seed::seed(&config);
        let tokens = TokenStore::new(config.seed, world.principal_key().to_owned(), &config.knobs);
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            tokens: Mutex::new(tokens),
            knobs: Mutex::new(config.knobs),
            faults: Mutex::new(Faults::default()),
            stats: Mutex::new(Stats::default()),
            limiter: Mutex::new(RateLimiter::new()),
        });
        let app = app(&shared);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name(format!("gotosim-{}", addr.port())).spawn(move || {
            runtime.block_on(async move {
                let served = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => {
                        axum::serve(LenientListener(listener), app)
                            .with_graceful_shutdown(async {
                                // A dropped sender (the Simulator is gone) also stops the server.
                                let _ = stop.await;
                            })
                            .await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = served {
                    eprintln!("gotosim on {addr} stopped: {e}");
                }
            });
        })?;
        Ok(Simulator { shared, addr, shutdown: Some(shutdown), thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT`: the admin API (`/admin/rest/v1`), identity API (`/identity/v1`)
    /// and OAuth endpoints (`/oauth/token`, `/oauth/authorize`) all live on this origin.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The OAuth client and its newest refresh token (the seeded one until a grant replaces it).
    pub fn credentials(&self) -> Credentials {
        lock(&self.shared.tokens).credentials()
    }

    /// Every access and refresh token and authorization code issued so far, expired or not:
    /// what a client must never let out of its secret store.
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.shared.tokens).issued().to_vec()
    }

    /// The account's key.
    pub fn account_key(&self) -> String {
        self.shared.world().account_key().to_owned()
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats().clone()
    }

    /// Zeroes the request counters.
    pub fn reset_stats(&self) {
        *self.shared.stats() = Stats::default();
    }

    /// Installs a fault rule (after those already installed).
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.shared.faults).add(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// The requests per second each API allows, if rate limiting is on.
    pub fn rate_limit(&self) -> Option<u32> {
        lock(&self.shared.knobs).rate_limit_per_sec
    }

    /// Changes knobs; requests after this call see the change.
    pub fn set_knobs(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut lock(&self.shared.knobs));
    }

    /// Direct access to the account's state. Requests wait while `f` runs, so `f` must not call
    /// the simulator over HTTP.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.shared.world())
    }

    /// A single-use code for the `authorization_code` grant.
    pub fn issue_authorization_code(&self) -> String {
        let knobs = self.shared.knobs();
        lock(&self.shared.tokens).issue_code(None, None, &knobs, std::time::Instant::now())
    }

    /// Blocks until the server stops (it runs until the process ends).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Every route plus the cross-cutting layers, outermost first: counting, the slow-response knob,
/// fault injection, rate limiting.
fn app(shared: &Arc<Shared>) -> Router {
    Router::new()
        .nest(ADMIN_PREFIX, admin::routes(shared))
        .merge(identity::routes(shared))
        .merge(oauth::routes(shared))
        .fallback(not_found)
        .layer(from_fn_with_state(shared.clone(), ratelimit::limit))
        .layer(from_fn_with_state(shared.clone(), faults::inject))
        .layer(from_fn_with_state(shared.clone(), slow))
        .layer(from_fn_with_state(shared.clone(), stats::observe))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared.clone())
}

/// The `response_delay_ms` knob.
async fn slow(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let delay = s.knobs().response_delay_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    next.run(req).await
}

async fn not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(invented::RESOURCE_NOT_FOUND, uri.path())
}
