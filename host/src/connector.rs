//! One profile's connector, assembled once: its settings (with the rate governor every request
//! goes through), its secret store, the compiled component and where its reconciliation state
//! lives. Every front end (each CLI command, the SCIM service) starts from a [`Connector`], so
//! a connection is put together in one place only.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context as _, Result};

use crate::bad_input::bad_input;
use crate::engine::{CacheOutcome, EMBEDDED_COMPONENT};
use crate::log::{Level, Logger};
use crate::profile::{Environment, Overrides, Paths, Profile};
use crate::runtime::{Connection, ConnectorRuntime};
use crate::secrets::{SecretStore, private_dir};
use gtm_state::Store;

/// Where a connector's pieces come from.
pub struct Setup<'a> {
    /// The environment (`GTM_*` variables, `HOME`).
    pub env: &'a Environment,
    /// `--config-dir`, else the environment's default.
    pub config_dir: Option<PathBuf>,
    /// The profile's name, already checked to be a plain name.
    pub profile: &'a str,
    /// Settings given on the command line.
    pub overrides: Overrides,
    /// A component file to run instead of the one built into this binary.
    pub component: Option<PathBuf>,
    pub log: Logger,
}

/// A profile's settings, secrets and compiled component, ready to connect.
pub struct Connector {
    paths: Paths,
    profile: Profile,
    component: Option<PathBuf>,
    /// Loaded at the first connection: commands that only read secrets never compile it.
    runtime: OnceLock<ConnectorRuntime>,
    env: Environment,
    log: Logger,
}

impl Connector {
    /// Loads the profile. A profile (or, at the first connection, a component) the user got
    /// wrong is [`crate::bad_input::BadInput`].
    pub fn open(setup: &Setup<'_>) -> Result<Connector> {
        let paths = Paths::resolve(setup.config_dir.clone(), setup.env).map_err(bad_input)?;
        let profile = Profile::load(&paths, setup.profile, setup.env, &setup.overrides).map_err(bad_input)?;
        Connector::with_profile(setup, paths, profile)
    }

    /// [`Connector::open`] with a profile resolved by the caller (`auth login`'s, before it is
    /// saved).
    pub fn with_profile(setup: &Setup<'_>, paths: Paths, profile: Profile) -> Result<Connector> {
        Ok(Connector {
            paths,
            profile,
            component: setup.component.clone(),
            runtime: OnceLock::new(),
            env: setup.env.clone(),
            log: setup.log.clone(),
        })
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The reconciliation state's database file.
    pub fn state_file(&self) -> PathBuf {
        self.paths.state_file(&self.profile.name)
    }

    /// The reconciliation state, created if it does not exist yet.
    pub fn open_state(&self) -> Result<Store> {
        open_state(&self.state_file())
    }

    /// The profile's secret store, warning about variables a newer stored value replaced.
    pub fn secrets(&self) -> Result<SecretStore> {
        open_secrets(&self.paths, &self.profile.name, &self.env, &self.log)
    }

    /// A connection with the profile's secret store. Its [`Connection::sibling`]s share the
    /// store, the token refresh and the rate governor.
    pub fn connect(&self) -> Result<Connection> {
        self.connect_with(self.secrets()?)
    }

    /// A connection with `secrets` (a staged store, for `auth login`).
    pub fn connect_with(&self, secrets: SecretStore) -> Result<Connection> {
        let mut conn = self.runtime()?.connect(&self.profile, secrets, self.log.clone())?;
        // A broken mapping template fails here, for every front end, before anything is sent.
        conn.check_configuration()?;
        Ok(conn)
    }
}

impl Connector {
    fn runtime(&self) -> Result<&ConnectorRuntime> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime);
        }
        let runtime = load_runtime(self.component.as_deref(), &self.paths, &self.log)?;
        Ok(self.runtime.get_or_init(|| runtime))
    }
}

/// Opens the state at `path`, creating it (in a directory only its owner can read: it holds
/// people's emails and access) if it does not exist yet.
pub fn open_state(path: &Path) -> Result<Store> {
    private_dir(path.parent().context("the state file has no directory")?)?;
    Ok(Store::open(path)?)
}

/// The secret store of profile `name`, warning once about stale `GTM_SECRET_*` variables.
pub fn open_secrets(paths: &Paths, name: &str, env: &Environment, log: &Logger) -> Result<SecretStore> {
    let store = SecretStore::open(paths.secrets_file(name), env).map_err(bad_input)?;
    for var in store.stale_variables() {
        log.log(
            Level::Warn,
            "secrets",
            format_args!(
                "{var} holds a value that has since been replaced (GoTo rotated it, or `auth login` stored a \
                 new one); using the newer one stored in {}. Update {var} or unset it",
                store.path().display()
            ),
        );
    }
    Ok(store)
}

/// The component to run: `component`, else the one built into this binary, through the
/// compiled-code cache.
fn load_runtime(component: Option<&Path>, paths: &Paths, log: &Logger) -> Result<ConnectorRuntime> {
    let cache = paths.cache.join("components");
    let runtime = match component {
        // A component the user names is input: one that cannot be read or loaded is theirs to fix.
        Some(path) => std::fs::read(path)
            .with_context(|| format!("cannot read the component {}", shown(path).display()))
            .and_then(|wasm| {
                ConnectorRuntime::load(&wasm, Some(&cache))
                    .with_context(|| format!("cannot load the component {}", shown(path).display()))
            })
            .map_err(bad_input)?,
        None => ConnectorRuntime::load(EMBEDDED_COMPONENT, Some(&cache))?,
    };
    if let CacheOutcome::Untrusted(why) = &runtime.cache {
        let fix = "if it is your own, `chmod go-w` it, or set GTM_CACHE_DIR to a private directory";
        log.log(Level::Warn, "host", format_args!("not using the compiled-code cache: {why}; {fix}"));
    }
    log.log(Level::Debug, "host", format_args!("component loaded ({:?})", runtime.cache));
    Ok(runtime)
}

/// Absolute path for messages, without failing when the file does not exist yet.
pub fn shown(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
