//! `gtm-connector serve`: a SCIM 2.0 service (RFC 7643, RFC 7644) in front of the connector,
//! so an IGA platform's generic SCIM connector provisions GoTo with the component's checks.
//!
//! - [`routes`]: the HTTP surface (authentication, the request log, SCIM's media type);
//! - [`users`] and [`groups`]: each request as calls of one connector instance, with
//!   [`user`] mapping accounts to Users;
//! - [`listing`]: whole listings, page after page;
//! - [`pool`]: the bounded pool of instances (one rate governor for all of them);
//! - [`listen`]: the listener, TLS and graceful shutdown;
//! - [`failure`]: connector errors as SCIM errors.

mod failure;
mod groups;
mod listen;
mod listing;
mod pool;
mod routes;
mod user;
mod users;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use gtm_scim::error::ScimError;
use gtm_state::Store;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::bad_input::bad_input;
use crate::connector::Connector;
use crate::log::{Level, Logger};
use crate::profile::{Profile, ServeDelete};
use crate::runtime::{Account, Connection, EntitlementKind};
use failure::Failure;
use pool::Pool;
use user::LicenseNames;

/// The secret holding the bearer token SCIM clients present. Only the host reads it.
pub const SCIM_TOKEN: &str = "scim-token";

/// The path below which the SCIM endpoints are served.
pub const BASE_PATH: &str = "/scim/v2";

/// How long the license names shown in `entitlements.display` are reused before being read again.
const LICENSE_NAMES_TTL: Duration = Duration::from_secs(300);

/// How the service listens.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// PEM certificate chain and private key; none serves plain HTTP.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Serve plain HTTP on an address other than loopback (behind a TLS-terminating proxy).
    pub allow_plaintext: bool,
    /// Instances serving at once, and requests that may wait for one.
    pub instances: usize,
    pub queue: usize,
}

impl ServeOptions {
    /// The profile's `[serve]` settings.
    pub fn from_profile(profile: &Profile) -> ServeOptions {
        ServeOptions {
            listen: profile.serve.listen,
            tls: None,
            allow_plaintext: false,
            instances: profile.serve.instances,
            queue: profile.serve.queue,
        }
    }
}

/// A running service. Dropping it without [`Service::stop`] stops it too.
pub struct Service {
    base_url: String,
    listener: listen::Running,
}

impl Service {
    /// Checks the credentials (the account key is found once, for every instance), opens the
    /// state, binds the listener and starts serving.
    pub fn start(connector: &Connector, options: ServeOptions, log: Logger) -> Result<Service> {
        if !options.listen.ip().is_loopback() && options.tls.is_none() && !options.allow_plaintext {
            bail!(crate::bad_input::BadInput(anyhow::anyhow!(
                "{} is not a loopback address: serve it with --tls-cert and --tls-key, or pass --allow-plaintext \
                 if a TLS proxy in front of it is the only way in",
                options.listen
            )));
        }
        let secrets = connector.secrets()?;
        let token = secrets.get(SCIM_TOKEN).map(|t| Sha256::digest(t.as_bytes()).into()).ok_or_else(|| {
            bad_input(anyhow::anyhow!(
                "no {SCIM_TOKEN} secret: store the bearer token SCIM clients will present with \
                 `gtm-connector secrets set {SCIM_TOKEN}` (value on stdin)"
            ))
        })?;
        let tls =
            options.tls.as_ref().map(|(cert, key)| listen::tls_config(cert, key)).transpose().map_err(bad_input)?;
        let mut seed = connector.connect_with(secrets)?;
        let info = seed.test_connection().context("checking the GoTo credentials before serving")?;
        seed.remember_setting("account-key", &info.account_key);
        let state = connector
            .open_state()
            .with_context(|| format!("opening the reconciliation state {}", connector.state_file().display()))?;
        let listener = std::net::TcpListener::bind(options.listen)
            .with_context(|| format!("cannot listen on {}", options.listen))
            .map_err(bad_input)?;
        let address = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{address}{BASE_PATH}");
        let shared = Arc::new(Shared {
            pool: Arc::new(Pool::new(seed, options.instances, options.queue)),
            state: Mutex::new(state),
            base: base_url.clone(),
            delete: connector.profile().serve.delete,
            templated: templated(connector.profile()),
            page_size: u64::from(connector.profile().page_size.unwrap_or(100)),
            token,
            licenses: Mutex::new(None),
            log: log.clone(),
        });
        let listener = listen::start(listener, tls, routes::router(shared), log)?;
        Ok(Service { base_url, listener })
    }

    /// The base URL SCIM clients are given, e.g. `http://127.0.0.1:7644/scim/v2`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Stops accepting, lets the requests in flight finish, and returns when they have.
    pub fn stop(self) -> Result<()> {
        self.listener.stop()
    }
}

/// What every request of the service shares.
pub(crate) struct Shared {
    pool: Arc<Pool>,
    /// The profile's reconciliation state, held (and locked) for the service's life.
    state: Mutex<Store>,
    /// The base URL, for `meta.location` and `$ref`.
    base: String,
    delete: ServeDelete,
    /// GoTo attributes the profile's mapping computes from the User.
    templated: BTreeSet<String>,
    /// Users per page when the client gives no `count`.
    page_size: u64,
    /// SHA-256 of the bearer token: compared in constant time, never kept in the clear.
    token: [u8; 32],
    licenses: Mutex<Option<(Instant, Arc<LicenseNames>)>>,
    log: Logger,
}

impl Shared {
    /// The User for `account`, with its external id and license names.
    fn user(&self, conn: &mut Connection, account: &Account) -> Result<Value, Failure> {
        let kept = lock(&self.state).scim_account(&account.key)?;
        let names = self.license_names(conn)?;
        Ok(versioned(user::to_scim(account, &kept, &self.base, &names)))
    }

    /// The `userName` of `account`: its email, or the client's own where the state keeps it.
    fn user_name(&self, account: &Account) -> Result<String, Failure> {
        if !self.keeps_user_names() {
            return Ok(account.email.clone());
        }
        Ok(lock(&self.state).scim_account(&account.key)?.user_name.unwrap_or_else(|| account.email.clone()))
    }

    /// Whether `userName` is the client's own (kept in the state) rather than the GoTo email:
    /// when the profile's mapping computes the email.
    fn keeps_user_names(&self) -> bool {
        self.templated.contains("email")
    }

    /// Accounts the client deleted, which the service no longer shows.
    fn deleted(&self) -> Result<BTreeSet<String>, Failure> {
        Ok(lock(&self.state).deleted_accounts()?)
    }

    /// License names, read again after [`LICENSE_NAMES_TTL`].
    fn license_names(&self, conn: &mut Connection) -> Result<Arc<LicenseNames>, Failure> {
        if let Some((read, names)) = lock(&self.licenses).as_ref()
            && read.elapsed() < LICENSE_NAMES_TTL
        {
            return Ok(names.clone());
        }
        let licenses = listing::entitlements(conn, EntitlementKind::License)?;
        let names: LicenseNames = licenses.into_iter().map(|e| (e.id.key, e.name)).collect();
        let names = Arc::new(names);
        *lock(&self.licenses) = Some((Instant::now(), names.clone()));
        self.log.log(Level::Debug, "scim", format_args!("read {} license names", names.len()));
        Ok(names)
    }

    /// Whether `presented` is the bearer token, compared in constant time.
    fn authorized(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest.iter().zip(&self.token).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// `resource` with `meta.version`: a weak entity tag (RFC 7232) of everything else in it, so a
/// client can tell whether a resource changed since it last read it.
fn versioned(mut resource: Value) -> Value {
    let digest = Sha256::digest(resource.to_string().as_bytes());
    let tag = format!("W/\"{}\"", digest.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>());
    if let Some(meta) = resource.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert("version".into(), Value::String(tag));
    }
    resource
}

/// GoTo attributes that the profile's `[mapping]` gives a template.
fn templated(profile: &Profile) -> BTreeSet<String> {
    let Some(mapping) = profile.provisioning.get("mapping") else { return BTreeSet::new() };
    let Ok(Value::Object(rules)) = serde_json::from_str::<Value>(mapping) else { return BTreeSet::new() };
    rules.into_iter().filter(|(_, rule)| rule.get("template").is_some()).map(|(name, _)| name).collect()
}

/// GoTo keys are decimal digits; anything else names no resource.
fn is_key(id: &str) -> bool {
    !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_digit())
}

/// 404 for `/{resource}s/{id}`, quoting the id only when it is a key (not whatever was sent).
fn no_such(resource: &str, id: &str) -> Failure {
    let id = if is_key(id) { id } else { "given" };
    ScimError::not_found(format!("no {resource} with id {id}")).into()
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
