//! Loading the connector component and calling it: one [`Connection`] is one sandboxed
//! instance with its own store, limits, egress hooks, settings and secret store.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, Result};
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::egress::{EgressHooks, TokenEndpoint, TokenJournal};
use crate::engine::{self, CacheOutcome};
use crate::guest_stderr::GuestStderr;
use crate::limits::Limits;
use crate::log::{Level, Logger};
use crate::profile::Profile;
use crate::secrets::SecretStore;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "connector-logic",
    });
}

pub use bindings::exports::iga::gotomeeting::connector::{
    AccountChanges, AccountFields, AccountFilter, AccountPage, AccountQuery, ConnectionInfo, ConsentGrant,
    ConsentRequest, DeleteMode, DeprovisionOptions, EntitlementPage, EntitlementQuery, Finding, GroupOutcome,
    NewAccount, PlannedCall, SeatImpact, TokenTiming, WriteOptions, WriteOutcome,
};
use bindings::iga::gotomeeting::host::{self as wit_host, HostError, LogLevel};
pub use bindings::iga::gotomeeting::types::{
    Account, AccountStatus, ConnectorError, Entitlement, EntitlementDetails, EntitlementKind, EntitlementRef, ErrorInfo,
};
use bindings::{ConnectorLogic, ConnectorLogicPre};

/// Far above what the connector's function tables need, far below what could hurt the host.
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Epochs advance every tick; a call's deadline is counted in ticks.
const TICK: Duration = Duration::from_millis(100);

impl Limits {
    fn deadline_ticks(&self) -> u64 {
        (self.call_timeout.as_millis() / TICK.as_millis()).max(1) as u64
    }
}

/// Secrets the guest may read, the only ones worth storing, and the subset it may write
/// (tokens it refreshes).
pub const SECRETS: &[&str] = &["client-id", "client-secret", "refresh-token", "access-token"];
const WRITABLE_SECRETS: &[&str] = &[REFRESH_TOKEN, "access-token"];
const REFRESH_TOKEN: &str = "refresh-token";

/// A failed connector call: an error the connector reported, or a trap (a bug or a limit).
#[derive(Debug)]
pub enum CallError {
    Connector(ConnectorError),
    Trap(anyhow::Error),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Connector(e) => write!(f, "{}", describe(e)),
            CallError::Trap(e) => write!(f, "the connector stopped: {e:#}"),
        }
    }
}

impl std::error::Error for CallError {}

/// An account status as GoTo names it.
pub fn status_name(status: &AccountStatus) -> &str {
    match status {
        AccountStatus::Active => "active",
        AccountStatus::Invited => "invited",
        AccountStatus::Suspended => "suspended",
        AccountStatus::Inactive => "inactive",
        AccountStatus::Other(other) => other,
    }
}

/// One line for a connector error: its kind, what went wrong, and the field at fault.
pub fn describe(error: &ConnectorError) -> String {
    let with_field = |kind: &str, info: &ErrorInfo| match &info.field {
        Some(field) => format!("{kind} ({field}): {}", info.message),
        None => format!("{kind}: {}", info.message),
    };
    match error {
        ConnectorError::NotFound(i) => with_field("not found", i),
        ConnectorError::AlreadyExists(key) => format!("already exists, with key {key}"),
        ConnectorError::Conflict(i) => with_field("conflict", i),
        ConnectorError::InvalidInput(i) => with_field("invalid input", i),
        ConnectorError::Unauthorized(i) => with_field("unauthorized", i),
        ConnectorError::Forbidden(i) => with_field("forbidden", i),
        ConnectorError::RateLimited(r) => match r.retry_after_secs {
            Some(s) => format!("rate limited (GoTo asked to wait {s} s): {}", r.message),
            None => format!("rate limited: {}", r.message),
        },
        ConnectorError::Remote(r) => {
            let incident = r.incident_id.as_ref().map(|i| format!(" [GoTo incident {i}]")).unwrap_or_default();
            format!("GoTo error: {}{incident}", r.message)
        }
        ConnectorError::Transport(i) => with_field("transport", i),
        ConnectorError::Config(i) => with_field("configuration", i),
        ConnectorError::Unsupported(i) => with_field("unsupported", i),
    }
}

/// A compiled connector component, ready to instantiate many times.
pub struct ConnectorRuntime {
    engine: Engine,
    pre: ConnectorLogicPre<State>,
    /// Whether loading reused compiled code from the cache.
    pub cache: CacheOutcome,
}

impl ConnectorRuntime {
    /// Compiles (or loads from `cache_dir`) the component in `wasm` and links the host.
    pub fn load(wasm: &[u8], cache_dir: Option<&Path>) -> Result<Self> {
        let engine = engine::new_engine()?;
        let (component, cache) = engine::load_component(&engine, wasm, cache_dir)?;
        let mut linker = Linker::<State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
        ConnectorLogic::add_to_linker::<State, HasSelf<HostState>>(&mut linker, |s| &mut s.host)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("the component's imports do not match what this host provides (is it a gtm connector?)")?;
        spawn_epoch_ticker(&engine);
        Ok(ConnectorRuntime { engine, pre: ConnectorLogicPre::new(pre)?, cache })
    }

    /// Instantiates the component for `profile`, with `secrets` as its secret store.
    pub fn connect(&self, profile: &Profile, secrets: SecretStore, log: Logger) -> Result<Connection> {
        let recipe = Recipe {
            engine: self.engine.clone(),
            pre: self.pre.clone(),
            profile: profile.clone(),
            secrets: Arc::new(Mutex::new(secrets)),
            refresh_turn: Arc::default(),
            instances: AtomicU64::new(0),
            log,
        };
        Arc::new(recipe).instantiate(profile.settings())
    }
}

/// What it takes to make one more instance like a connection: instances made from one recipe
/// share the secret store (so one refresh serves them all) and the profile's egress policy
/// (so one rate governor paces them all).
struct Recipe {
    engine: Engine,
    pre: ConnectorLogicPre<State>,
    profile: Profile,
    secrets: Arc<Mutex<SecretStore>>,
    refresh_turn: Arc<RefreshTurn>,
    instances: AtomicU64,
    log: Logger,
}

/// Which instance of a recipe is refreshing the token. The secrets file's lock keeps other
/// processes out of a refresh; this makes the instances of one process take turns too, since
/// with GoTo rotating, a second refresh with the same refresh token would be refused.
#[derive(Default)]
struct RefreshTurn {
    holder: Mutex<Option<u64>>,
    released: Condvar,
}

impl RefreshTurn {
    /// Waits until no other instance holds the turn, and takes it.
    fn take(&self, instance: u64) {
        let mut holder = self.holder.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while holder.is_some_and(|other| other != instance) {
            holder = self.released.wait(holder).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *holder = Some(instance);
    }

    /// Whether `instance` holds the turn.
    fn held_by(&self, instance: u64) -> bool {
        *self.holder.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) == Some(instance)
    }

    /// Gives the turn back, if `instance` holds it.
    fn give_back(&self, instance: u64) {
        let mut holder = self.holder.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if *holder == Some(instance) {
            *holder = None;
            self.released.notify_all();
        }
    }
}

impl Recipe {
    fn instantiate(self: Arc<Self>, settings: BTreeMap<String, String>) -> Result<Connection> {
        let (profile, log) = (&self.profile, &self.log);
        let token_endpoint = TokenEndpoint::below(&profile.token_base).context("setting token-base")?;
        let hooks = EgressHooks::new(Arc::new(profile.egress.clone()), log.clone())
            .journaling_tokens(token_endpoint, token_journal(self.secrets.clone(), log.clone()));
        let state = State {
            // No preopened directories, no environment, no arguments: the guest sees only
            // what the host interface hands it. Its stderr is logged, not inherited.
            wasi: WasiCtx::builder().stderr(GuestStderr::new(log.clone())).build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks,
            limiter: GuestLimiter { memory_bytes: profile.limits.memory_bytes, memory_exhausted: false },
            host: HostState {
                settings,
                secrets: self.secrets.clone(),
                refresh_turn: self.refresh_turn.clone(),
                instance: self.instances.fetch_add(1, Ordering::Relaxed),
                log: log.clone(),
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(profile.limits.deadline_ticks());
        let instance = self
            .pre
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .context("instantiating the connector component")?;
        Ok(Connection { store, instance, recipe: self, trapped: false })
    }
}

/// Stores the refresh token a token answer rotates, as soon as the answer has arrived: until
/// the guest has read it and called `set-secret`, it would otherwise exist only in memory. The
/// guest stores it too (other hosts have no such hook); the second write changes nothing.
fn token_journal(secrets: Arc<Mutex<SecretStore>>, log: Logger) -> TokenJournal {
    Arc::new(move |body: &[u8]| {
        let Some(rotated) = rotated_refresh_token(body) else { return };
        let mut secrets = lock(&secrets);
        if secrets.get(REFRESH_TOKEN) == Some(rotated.as_str()) {
            return;
        }
        match secrets.replace(REFRESH_TOKEN, &rotated) {
            Ok(()) => log.log(Level::Debug, "host", "journaled the rotated refresh token from the token answer"),
            Err(e) => log.log(Level::Warn, "host", format_args!("could not journal the rotated refresh token: {e:#}")),
        }
    })
}

/// RFC 6749 §5.1's `refresh_token` in a token answer: a non-empty string, exactly as sent.
fn rotated_refresh_token(body: &[u8]) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    answer.get("refresh_token")?.as_str().filter(|t| !t.is_empty()).map(str::to_owned)
}

/// The secret store is shared with the token journal; nothing panics while holding it, but a
/// poisoned lock must not lose a token either.
fn lock(secrets: &Mutex<SecretStore>) -> MutexGuard<'_, SecretStore> {
    secrets.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Advances the engine's epoch every tick until the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::spawn(move || {
        while let Some(engine) = weak.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(TICK);
        }
    });
}

/// Whether `change_access` grants or revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChange {
    Grant,
    Revoke,
}

/// A live, sandboxed connector instance.
pub struct Connection {
    store: Store<State>,
    instance: ConnectorLogic,
    recipe: Arc<Recipe>,
    /// Whether a call trapped: the instance may not be entered again.
    trapped: bool,
}

impl Connection {
    fn limits(&self) -> &Limits {
        &self.recipe.profile.limits
    }

    /// Whether a call trapped (a limit or a bug): a trapped instance may not be called again.
    pub fn trapped(&self) -> bool {
        self.trapped
    }

    /// How many instances may read the pages of one listing at once (`[limits] pipeline-depth`).
    pub fn pipeline_depth(&self) -> usize {
        self.recipe.profile.pipeline_depth
    }

    /// Another instance like this one, with the settings it has now (the account key found by
    /// `test-connection` included), its secret store and its rate governor, for work done in
    /// parallel.
    pub fn sibling(&self) -> Result<Connection> {
        self.recipe.clone().instantiate(self.store.data().host.settings.clone())
    }

    /// Sets a setting for later calls, e.g. the account key found by `test-connection`, so the
    /// guest need not look it up again.
    pub fn remember_setting(&mut self, key: &str, value: &str) {
        self.store.data_mut().host.settings.insert(key.to_owned(), value.to_owned());
    }

    /// Checks the profile's connector settings (mapping included) without contacting GoTo.
    pub fn check_configuration(&mut self) -> Result<(), CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_check_configuration(s))
    }

    pub fn test_connection(&mut self) -> Result<ConnectionInfo, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_test_connection(s))
    }

    /// GoTo's consent page for the stored client, to open in a browser; sends nothing.
    pub fn consent_url(&mut self, request: &ConsentRequest) -> Result<String, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_consent_url(s, request))
    }

    /// Exchanges a consent's code; the component stores the tokens through the secret store.
    pub fn redeem_consent(&mut self, grant: &ConsentGrant) -> Result<(), CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_redeem_consent(s, grant))
    }

    /// The cached access token's timing, if one is cached; sends nothing.
    pub fn cached_token(&mut self) -> Result<Option<TokenTiming>, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_cached_token(s))
    }

    /// Runs `f` on the secret store this connection (and its siblings) use.
    pub fn with_secrets<R>(&self, f: impl FnOnce(&mut SecretStore) -> R) -> R {
        f(&mut lock(&self.recipe.secrets))
    }

    /// The read-only tenant probe behind `doctor`.
    pub fn probe(&mut self) -> Result<Vec<Finding>, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_probe(s))
    }

    pub fn check_account_query(&mut self, query: &AccountQuery) -> Result<(), CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_check_account_query(s, query))
    }

    /// The cursor of the listing page that starts at `offset` (0-based).
    pub fn cursor_at(&mut self, offset: u64) -> Result<String, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_cursor_at(s, offset).map(Ok))
    }

    pub fn list_accounts(&mut self, query: &AccountQuery) -> Result<AccountPage, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_list_accounts(s, query))
    }

    pub fn get_account(&mut self, key: &str) -> Result<Account, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_get_account(s, &key.to_owned()))
    }

    pub fn list_entitlements(
        &mut self,
        kind: EntitlementKind,
        query: &EntitlementQuery,
    ) -> Result<EntitlementPage, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_list_entitlements(s, kind, query))
    }

    pub fn create_account(&mut self, account: &NewAccount, options: WriteOptions) -> Result<WriteOutcome, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_create_account(s, account, options))
    }

    pub fn update_account(
        &mut self,
        key: &str,
        changes: &AccountChanges,
        options: WriteOptions,
    ) -> Result<WriteOutcome, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_update_account(s, &key.to_owned(), changes, options))
    }

    pub fn delete_account(
        &mut self,
        key: &str,
        mode: DeleteMode,
        options: WriteOptions,
    ) -> Result<WriteOutcome, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_delete_account(s, &key.to_owned(), mode, options))
    }

    pub fn change_access(
        &mut self,
        change: AccessChange,
        account_key: &str,
        entitlement: &EntitlementRef,
        options: WriteOptions,
    ) -> Result<WriteOutcome, CallError> {
        let key = account_key.to_owned();
        self.call(|i, s| {
            let connector = i.iga_gotomeeting_connector();
            match change {
                AccessChange::Grant => connector.call_add_access(s, &key, entitlement, options),
                AccessChange::Revoke => connector.call_remove_access(s, &key, entitlement, options),
            }
        })
    }

    /// Creates a top-level group; a name in use is `already-exists` with that group's key.
    pub fn create_group(&mut self, name: &str, options: WriteOptions) -> Result<GroupOutcome, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_create_group(s, name, options))
    }

    /// Renames a group; its current name writes nothing.
    pub fn rename_group(&mut self, key: &str, name: &str, options: WriteOptions) -> Result<GroupOutcome, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_rename_group(s, &key.to_owned(), name, options))
    }

    /// Deletes a group; an absent one is success with `changed` false.
    pub fn delete_group(&mut self, key: &str, options: WriteOptions) -> Result<GroupOutcome, CallError> {
        self.call(|i, s| i.iga_gotomeeting_connector().call_delete_group(s, &key.to_owned(), options))
    }

    fn call<T>(
        &mut self,
        f: impl FnOnce(&ConnectorLogic, &mut Store<State>) -> wasmtime::Result<Result<T, ConnectorError>>,
    ) -> Result<T, CallError> {
        self.store.set_epoch_deadline(self.limits().deadline_ticks());
        self.store.data_mut().limiter.memory_exhausted = false;
        let outcome = f(&self.instance, &mut self.store);
        // A refresh that failed never stored an access token; its lock ends with the call.
        self.store.data().host.end_refresh();
        match outcome {
            Ok(Ok(value)) => Ok(value),
            // A guest that ran out of memory may fail gracefully; the limit is still the cause.
            Ok(Err(_)) if self.store.data().limiter.memory_exhausted => Err(CallError::Trap(self.memory_exhausted())),
            Ok(Err(error)) => Err(CallError::Connector(error)),
            Err(trap) => {
                self.trapped = true;
                Err(CallError::Trap(self.explain(trap)))
            }
        }
    }

    fn memory_exhausted(&self) -> anyhow::Error {
        anyhow::anyhow!(
            "the connector exceeded its memory limit of {} MiB; raise [limits] memory-mib in the profile",
            self.limits().memory_bytes >> 20
        )
    }

    /// A trap in words: which limit stopped the call, or that the connector has a bug.
    fn explain(&self, error: wasmtime::Error) -> anyhow::Error {
        let error = anyhow::Error::from(error);
        let state = self.store.data();
        state.host.log.log(Level::Debug, "host", format_args!("{error:?}"));
        if state.limiter.memory_exhausted {
            return self.memory_exhausted();
        }
        let message = if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            format!(
                "the call exceeded its time limit of {} s; raise [limits] call-timeout-secs in the profile",
                self.limits().call_timeout.as_secs()
            )
        } else {
            format!(
                "the connector failed unexpectedly (a bug; please report it with the -v output): {}",
                error.root_cause()
            )
        };
        anyhow::anyhow!(message)
    }
}

/// Caps the guest's memory and remembers whether the cap was hit, to explain the trap that follows.
struct GuestLimiter {
    memory_bytes: usize,
    memory_exhausted: bool,
}

impl ResourceLimiter for GuestLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired <= self.memory_bytes;
        self.memory_exhausted |= !allowed;
        Ok(allowed)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Store data: WASI and wasi-http contexts, limits, and the `host` interface's state.
pub struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: EgressHooks,
    limiter: GuestLimiter,
    host: HostState,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// The `host` interface: settings from the profile, secrets from the store, logs to the logger.
struct HostState {
    settings: BTreeMap<String, String>,
    secrets: Arc<Mutex<SecretStore>>,
    refresh_turn: Arc<RefreshTurn>,
    /// This instance among its recipe's, for taking turns at refreshing.
    instance: u64,
    log: Logger,
}

impl HostState {
    /// Ends this instance's refresh, if it is refreshing: the file lock, then the turn.
    fn end_refresh(&self) {
        if self.refresh_turn.held_by(self.instance) {
            lock(&self.secrets).end_refresh();
            self.refresh_turn.give_back(self.instance);
        }
    }
}

impl bindings::iga::gotomeeting::types::Host for HostState {}

/// The mapping's templates and patterns, run natively by the engines the templates component is
/// built on.
impl bindings::iga::gotomeeting::templates::Host for HostState {
    fn check(&mut self, template: String) -> Result<(), String> {
        gtm_templates::check(&template)
    }

    fn render(&mut self, template: String, identity: Vec<(String, String)>) -> Result<String, String> {
        gtm_templates::render(&template, &identity)
    }

    fn check_pattern(&mut self, pattern: String) -> Result<(), String> {
        gtm_templates::check_pattern(&pattern)
    }

    fn matches_pattern(&mut self, pattern: String, value: String) -> Result<bool, String> {
        gtm_templates::matches_pattern(&pattern, &value)
    }
}

impl wit_host::Host for HostState {
    fn get_setting(&mut self, key: String) -> Option<String> {
        self.settings.get(&key).cloned()
    }

    fn get_secret(&mut self, name: String) -> Result<Option<String>, HostError> {
        if !SECRETS.contains(&name.as_str()) {
            return Err(HostError::Denied(format!("the connector may not read secret {name:?}")));
        }
        let unavailable = |e: anyhow::Error| HostError::Unavailable(format!("{e:#}"));
        // Reading the refresh token means a refresh is starting: one process at a time, and
        // with the token as the file holds it now, in case another process just rotated it.
        if name == REFRESH_TOKEN {
            // The turn first, without the store's lock: another instance may be refreshing.
            self.refresh_turn.take(self.instance);
            lock(&self.secrets).begin_refresh().map_err(unavailable)?;
        }
        lock(&self.secrets).current(&name).map_err(unavailable)
    }

    fn set_secret(&mut self, name: String, value: String) -> Result<(), HostError> {
        if !WRITABLE_SECRETS.contains(&name.as_str()) {
            return Err(HostError::Denied(format!("the connector may not write secret {name:?}")));
        }
        lock(&self.secrets).replace(&name, &value).map_err(|e| HostError::Unavailable(format!("{e:#}")))?;
        // The new access token is stored: the refresh is over.
        if name == "access-token" {
            self.end_refresh();
        }
        Ok(())
    }

    fn log(&mut self, level: LogLevel, message: String) {
        let level = match level {
            LogLevel::Debug => Level::Debug,
            LogLevel::Info => Level::Info,
            LogLevel::Warn => Level::Warn,
            LogLevel::Error => Level::Error,
        };
        self.log.log(level, "connector", message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Environment;

    fn host_state(dir: &Path) -> HostState {
        let mut secrets = SecretStore::open(dir.join("s.json"), &Environment::new()).unwrap();
        secrets.set("client-secret", "cs").unwrap();
        secrets.set("signing-key", "sk").unwrap();
        HostState {
            settings: BTreeMap::new(),
            secrets: Arc::new(Mutex::new(secrets)),
            refresh_turn: Arc::default(),
            instance: 0,
            log: Logger::silent(),
        }
    }

    #[test]
    fn the_token_journal_stores_a_rotated_refresh_token_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(Mutex::new(SecretStore::open(dir.path().join("s.json"), &Environment::new()).unwrap()));
        lock(&secrets).set(REFRESH_TOKEN, "rt-1").unwrap();
        let journal = token_journal(secrets.clone(), Logger::silent());
        for unrotated in [&br#"{"access_token":"at"}"#[..], br#"{"refresh_token":""}"#, b"not json", br#"[1]"#] {
            journal(unrotated);
        }
        assert_eq!(lock(&secrets).get(REFRESH_TOKEN), Some("rt-1"));
        journal(br#"{"access_token":"at","expires_in":"soon","refresh_token":"rt-2"}"#);
        let reopened = SecretStore::open(dir.path().join("s.json"), &Environment::new()).unwrap();
        assert_eq!(reopened.get(REFRESH_TOKEN), Some("rt-2"), "durable before the guest has seen the answer");
    }

    #[test]
    fn the_guest_reads_only_its_credentials_and_writes_only_tokens() {
        use wit_host::Host as _;
        let dir = tempfile::tempdir().unwrap();
        let mut host = host_state(dir.path());
        assert_eq!(host.get_secret("client-secret".into()).unwrap().as_deref(), Some("cs"));
        assert!(matches!(host.get_secret("signing-key".into()), Err(HostError::Denied(_))));
        assert!(host.set_secret("refresh-token".into(), "rt".into()).is_ok());
        assert!(matches!(host.set_secret("client-secret".into(), "x".into()), Err(HostError::Denied(_))));
        assert_eq!(lock(&host.secrets).get("client-secret"), Some("cs"));
    }
}
