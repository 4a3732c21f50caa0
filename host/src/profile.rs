//! Profiles: a TOML file each under `<home>/profiles/<name>.toml`, overridden by `GTM_*`
//! environment variables, overridden in turn by command-line flags.

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use gtm_state::DeletionPolicy;

use crate::egress::{self, EgressPolicy};
use crate::governor::DEFAULT_RATE;
use crate::limits::Limits;

/// A snapshot of environment variables (the process's, or a test's own).
pub type Environment = BTreeMap<String, String>;

pub const DEFAULT_PROFILE: &str = "default";
pub const DEFAULT_API_BASE: &str = "https://api.getgo.com";
pub const DEFAULT_TOKEN_BASE: &str = "https://authentication.logmeininc.com";

/// Checks that `name` can name a profile: 1 to 64 ASCII letters, digits, `_` or `-`. The name
/// becomes a file name under `$GTM_HOME`, so anything that could make it a path elsewhere
/// (`/`, `..`, an absolute path) is refused before any file is touched.
pub fn check_profile_name(name: &str) -> Result<()> {
    let plain =
        (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !plain {
        bail!("{name:?} is not a valid profile name: use 1 to 64 letters, digits, '_' or '-' (e.g. prod-eu)");
    }
    Ok(())
}

/// Where profiles, secrets and compiled code live.
#[derive(Debug, Clone)]
pub struct Paths {
    pub home: PathBuf,
    pub cache: PathBuf,
}

impl Paths {
    /// `--config-dir`, else `GTM_HOME`, else `$XDG_CONFIG_HOME/gtm-connector`, else
    /// `~/.config/gtm-connector`; the cache likewise from `GTM_CACHE_DIR` / `XDG_CACHE_HOME`.
    pub fn resolve(config_dir: Option<PathBuf>, env: &Environment) -> Result<Paths> {
        let var = |name: &str| env.get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home_dir = var("HOME");
        let home = config_dir
            .or_else(|| var("GTM_HOME"))
            .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("gtm-connector")))
            .or_else(|| home_dir.as_ref().map(|h| h.join(".config/gtm-connector")))
            .context("cannot tell where to keep configuration: set GTM_HOME or HOME, or pass --config-dir")?;
        let cache = var("GTM_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("gtm-connector")))
            .or_else(|| home_dir.map(|h| h.join(".cache/gtm-connector")))
            .unwrap_or_else(|| home.join("cache"));
        Ok(Paths { home, cache })
    }

    pub fn profile_file(&self, profile: &str) -> PathBuf {
        self.home.join("profiles").join(format!("{profile}.toml"))
    }

    pub fn secrets_file(&self, profile: &str) -> PathBuf {
        self.home.join("secrets").join(format!("{profile}.json"))
    }

    /// The reconciliation state (SQLite) of a profile.
    pub fn state_file(&self, profile: &str) -> PathBuf {
        self.home.join("state").join(format!("{profile}.sqlite"))
    }

    fn known_profiles(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.home.join("profiles"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(str::to_owned))
            .collect();
        names.sort();
        names
    }
}

/// The profile file's contents; every field is optional.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileFile {
    pub api_base: Option<String>,
    pub token_base: Option<String>,
    pub account_key: Option<String>,
    pub page_size: Option<u32>,
    /// Whether new accounts skip GoTo's invitation email.
    pub suppress_email: Option<bool>,
    /// `user-update` (default) or `license-users`: how licenses are granted and revoked.
    pub license_assignment: Option<String>,
    /// `leave-then-join` (default) or `put`: how a user with a group is moved into another.
    pub group_move: Option<String>,
    /// `send` (default) or `omit`: empty `licenseKeys` / `adminRoles` in Add Users.
    pub empty_lists: Option<String>,
    /// `escaped` (default) or `plain`: whether filter values are regex-escaped.
    pub filter_escaping: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<LoginFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<ReconciliationFile>,
    /// `[mapping.<attribute>]` tables: template and validation rules, interpreted by the guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<toml::Table>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve: Option<ServeFile>,
}

/// Optional `[serve]` table: the SCIM service (`gtm-connector serve`).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeFile {
    /// The address to listen on (default `127.0.0.1:7644`).
    pub listen: Option<String>,
    /// What a SCIM DELETE does: `deprovision` (default) or `hard-delete`.
    pub delete: Option<String>,
    /// Component instances serving requests at once (default 4).
    pub instances: Option<u64>,
    /// Requests that may wait for an instance before the service answers 503 (default 64).
    pub queue: Option<u64>,
}

/// What a SCIM DELETE does to the GoTo account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeDelete {
    /// Takes every license, admin role and the group away; the account keeps its history.
    Deprovision,
    /// Deletes the user from the GoTo account, which erases its meeting history.
    HardDelete,
}

/// The SCIM service's settings, from the profile's `[serve]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub delete: ServeDelete,
    pub instances: usize,
    pub queue: usize,
}

/// Default of `[serve] listen`: loopback, on the port named for RFC 7644.
pub const DEFAULT_SERVE_LISTEN: &str = "127.0.0.1:7644";

impl ServeSettings {
    fn from_file(file: ServeFile) -> Result<ServeSettings> {
        let listen = file.listen.as_deref().unwrap_or(DEFAULT_SERVE_LISTEN);
        let listen = listen.parse().with_context(|| {
            format!("[serve] listen must be an address and port such as {DEFAULT_SERVE_LISTEN}, got {listen:?}")
        })?;
        let delete = match file.delete.as_deref() {
            None | Some("deprovision") => ServeDelete::Deprovision,
            Some("hard-delete") => ServeDelete::HardDelete,
            Some(other) => bail!("[serve] delete must be deprovision or hard-delete, got {other:?}"),
        };
        let bounded = |name: &str, value: Option<u64>, default: usize, max: u64| -> Result<usize> {
            match value {
                None => Ok(default),
                Some(n) if (1..=max).contains(&n) => Ok(n as usize),
                Some(n) => bail!("[serve] {name} must be between 1 and {max}, got {n}"),
            }
        };
        Ok(ServeSettings {
            listen,
            delete,
            instances: bounded("instances", file.instances, 4, 64)?,
            queue: bounded("queue", file.queue, 64, 10_000)?,
        })
    }
}

/// Optional `[limits]` table.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsFile {
    pub memory_mib: Option<u64>,
    pub call_timeout_secs: Option<u64>,
    pub http_timeout_secs: Option<u64>,
    pub max_response_kib: Option<u64>,
    /// The most items one import may read (a listing that never ends is stopped there).
    pub max_items: Option<u64>,
    /// The most requests per second the process sends, whatever it runs in parallel
    /// (default 10, GoTo's documented limit).
    pub requests_per_second: Option<u64>,
    /// How many component instances read the pages of one listing at once (default 4).
    pub pipeline_depth: Option<u64>,
}

/// Optional `[login]` table: how `auth login` receives GoTo's consent redirect.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LoginFile {
    /// The loopback port of the redirect URI registered on the OAuth client (default 8765).
    pub port: Option<u16>,
    /// Send a PKCE challenge with the consent (GoTo's documentation does not mention PKCE).
    pub pkce: Option<bool>,
}

/// Default of `[login] port`.
pub const DEFAULT_LOGIN_PORT: u16 = 8765;

/// How `auth login` receives the consent redirect, from the profile's `[login]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginSettings {
    pub port: u16,
    pub pkce: bool,
}

/// The highest `[limits] requests-per-second`: as fast as a loopback simulator without a limit.
pub const MAX_REQUESTS_PER_SECOND: u64 = 1000;

/// Default of `[limits] pipeline-depth`: at GoTo's 100–300 ms per request, enough requests in
/// flight to keep 10 per second going.
pub const DEFAULT_PIPELINE_DEPTH: usize = 4;

/// Default of `[limits] max-items`.
pub const DEFAULT_MAX_ITEMS: u64 = 1_000_000;
/// The largest `max-items`: the guest treats a larger total as a lie.
const MAX_ITEMS_CEILING: u64 = 1_000_000_000;

impl ProfileFile {
    /// Reads the profile file at `path`; none when it does not exist.
    pub fn read(path: &Path) -> Result<Option<ProfileFile>> {
        match fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map(Some)
                .with_context(|| format!("the profile file {} is not valid", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the file atomically (a temporary file beside it, renamed over it), so a reader
    /// never sees half a profile.
    pub fn save(&self, path: &Path) -> Result<()> {
        let dir = path.parent().context("profile path has no directory")?;
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut temp =
            tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing into {}", dir.display()))?;
        std::io::Write::write_all(&mut temp, toml::to_string_pretty(self)?.as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .with_context(|| format!("writing {}", path.display()))?;
        temp.persist(path).with_context(|| format!("replacing {}", path.display()))?;
        Ok(())
    }
}

/// Optional `[reconciliation]` table: when an import's deletions are held for confirmation.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReconciliationFile {
    /// Hold deletions above this percentage of the known accounts or entitlements (default 10).
    pub max_missing_percent: Option<f64>,
    /// Hold deletions above this many items.
    pub max_missing_count: Option<u64>,
}

/// Settings given on the command line; they win over the file and the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub api_base: Option<String>,
    pub token_base: Option<String>,
    pub account_key: Option<String>,
}

/// A resolved, validated profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub api_base: String,
    pub token_base: String,
    pub account_key: Option<String>,
    pub page_size: Option<u32>,
    pub limits: Limits,
    pub egress: EgressPolicy,
    /// Provisioning settings passed through to the guest, which validates them.
    pub provisioning: BTreeMap<String, String>,
    /// The threshold above which an import's deletions are held.
    pub deletion_limits: DeletionPolicy,
    /// The most items one import may read.
    pub max_items: u64,
    /// How many component instances read the pages of one listing at once.
    pub pipeline_depth: usize,
    pub login: LoginSettings,
    pub serve: ServeSettings,
}

impl Profile {
    pub fn load(paths: &Paths, name: &str, env: &Environment, flags: &Overrides) -> Result<Profile> {
        check_profile_name(name)?;
        let path = paths.profile_file(name);
        let file = match ProfileFile::read(&path)? {
            Some(file) => file,
            None if name == DEFAULT_PROFILE => ProfileFile::default(),
            None => {
                let known = paths.known_profiles();
                let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
                bail!("unknown profile {name:?}: there is no {} (known profiles: {known})", path.display());
            }
        };
        Self::resolve(name, file, env, flags)
    }

    /// The profile `name` from its file's contents, the environment and the flags.
    pub fn resolve(name: &str, file: ProfileFile, env: &Environment, flags: &Overrides) -> Result<Profile> {
        check_profile_name(name)?;
        let env_var = |var: &str| env.get(var).filter(|v| !v.is_empty()).cloned();
        let api_base = flags
            .api_base
            .clone()
            .or_else(|| env_var("GTM_API_BASE"))
            .or(file.api_base)
            .unwrap_or(DEFAULT_API_BASE.into());
        let token_base = flags
            .token_base
            .clone()
            .or_else(|| env_var("GTM_TOKEN_BASE"))
            .or(file.token_base)
            .unwrap_or(DEFAULT_TOKEN_BASE.into());
        let account_key = flags.account_key.clone().or_else(|| env_var("GTM_ACCOUNT_KEY")).or(file.account_key);
        let page_size = match env_var("GTM_PAGE_SIZE") {
            Some(raw) => Some(raw.parse().ok().context(format!("GTM_PAGE_SIZE must be a number, got {raw:?}"))?),
            None => file.page_size,
        };
        if let Some(size) = page_size
            && !(1..=1000).contains(&size)
        {
            bail!("page-size must be between 1 and 1000, got {size}");
        }
        if let Some(key) = &account_key
            && (key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()))
        {
            bail!("account-key must be GoTo's decimal account key, got {key:?}");
        }
        let origins = egress::origins_for(&[("api-base", &api_base), ("token-base", &token_base)])?;
        let limits_file = file.limits.unwrap_or_default();
        check_limits(&limits_file)?;
        let limits = Limits::from_file(&limits_file);
        let rate = limits_file.requests_per_second.map_or(DEFAULT_RATE, |rate| rate as f64);
        let mut egress = EgressPolicy::allow(origins, rate);
        if let Some(secs) = limits_file.http_timeout_secs {
            egress.first_byte_timeout = Duration::from_secs(secs);
            egress.between_bytes_timeout = Duration::from_secs(secs);
        }
        if let Some(kib) = limits_file.max_response_kib {
            egress.max_response_bytes = (kib as usize) << 10;
        }
        let max_items = limits_file.max_items.unwrap_or(DEFAULT_MAX_ITEMS);
        if !(1..=MAX_ITEMS_CEILING).contains(&max_items) {
            bail!("[limits] max-items must be between 1 and {MAX_ITEMS_CEILING}, got {max_items}");
        }
        let login_file = file.login.unwrap_or_default();
        let login = LoginSettings {
            port: login_file.port.unwrap_or(DEFAULT_LOGIN_PORT),
            pkce: login_file.pkce.unwrap_or(false),
        };
        let reconciliation = file.reconciliation.unwrap_or_default();
        let mut deletion_limits = DeletionPolicy { max_count: reconciliation.max_missing_count, ..Default::default() };
        if let Some(percent) = reconciliation.max_missing_percent {
            if !(0.0..=100.0).contains(&percent) {
                bail!("[reconciliation] max-missing-percent must be between 0 and 100, got {percent}");
            }
            deletion_limits.max_share = percent / 100.0;
        }
        let mut provisioning = BTreeMap::new();
        if let Some(suppress) = file.suppress_email {
            provisioning.insert("suppress-email".to_owned(), suppress.to_string());
        }
        // Checked by the guest, which knows the values, before any call is sent (exit 2).
        for (key, value) in [
            ("license-assignment", file.license_assignment),
            ("group-move", file.group_move),
            ("empty-lists", file.empty_lists),
            ("filter-escaping", file.filter_escaping),
        ] {
            if let Some(value) = value {
                provisioning.insert(key.to_owned(), value);
            }
        }
        if let Some(mapping) = file.mapping {
            provisioning.insert("mapping".to_owned(), serde_json::to_string(&mapping)?);
        }
        Ok(Profile {
            name: name.to_owned(),
            api_base,
            token_base,
            account_key,
            page_size,
            limits,
            egress,
            provisioning,
            deletion_limits,
            max_items,
            pipeline_depth: limits_file.pipeline_depth.map_or(DEFAULT_PIPELINE_DEPTH, |d| d as usize),
            login,
            serve: ServeSettings::from_file(file.serve.unwrap_or_default())?,
        })
    }

    /// The deletion policy of an import, `confirmed` by `--confirm-deletions`.
    pub fn deletion_policy(&self, confirmed: bool) -> DeletionPolicy {
        DeletionPolicy { confirmed, ..self.deletion_limits.clone() }
    }

    /// The settings the guest reads through `get-setting`.
    pub fn settings(&self) -> BTreeMap<String, String> {
        let mut settings = BTreeMap::from([
            ("api-base".to_owned(), self.api_base.clone()),
            ("token-base".to_owned(), self.token_base.clone()),
        ]);
        if let Some(key) = &self.account_key {
            settings.insert("account-key".into(), key.clone());
        }
        if let Some(size) = self.page_size {
            settings.insert("page-size".into(), size.to_string());
        }
        settings.insert("max-items".into(), self.max_items.to_string());
        settings.extend(self.provisioning.clone());
        settings
    }
}

/// Each `[limits]` key's accepted range. Zero would make every call fail; the tops are far
/// beyond any real need (wasm32 memory ends at 4 GiB) and keep the conversions from overflowing.
fn check_limits(limits: &LimitsFile) -> Result<()> {
    let keys = [
        ("memory-mib", limits.memory_mib, 4096),
        ("call-timeout-secs", limits.call_timeout_secs, 86_400),
        ("http-timeout-secs", limits.http_timeout_secs, 3600),
        ("max-response-kib", limits.max_response_kib, 1 << 20),
        ("requests-per-second", limits.requests_per_second, MAX_REQUESTS_PER_SECOND),
        ("pipeline-depth", limits.pipeline_depth, 16),
    ];
    for (key, value, max) in keys {
        if let Some(value) = value
            && !(1..=max).contains(&value)
        {
            bail!("[limits] {key} must be between 1 and {max}, got {value}");
        }
    }
    Ok(())
}

impl Limits {
    fn from_file(file: &LimitsFile) -> Limits {
        let defaults = Limits::default();
        Limits {
            memory_bytes: file.memory_mib.map_or(defaults.memory_bytes, |m| (m as usize) << 20),
            call_timeout: file.call_timeout_secs.map_or(defaults.call_timeout, Duration::from_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &Path) -> Paths {
        Paths { home: dir.to_path_buf(), cache: dir.join("cache") }
    }

    #[test]
    fn the_default_profile_needs_no_file_and_flags_beat_env_beat_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::load(&paths(dir.path()), DEFAULT_PROFILE, &Environment::new(), &Overrides::default()).unwrap();
        assert_eq!((p.api_base.as_str(), p.token_base.as_str()), (DEFAULT_API_BASE, DEFAULT_TOKEN_BASE));

        let file = ProfileFile {
            api_base: Some("http://127.0.0.1:1".into()),
            account_key: Some("5".into()),
            ..Default::default()
        };
        file.save(&paths(dir.path()).profile_file("lab")).unwrap();
        let env = Environment::from([("GTM_ACCOUNT_KEY".to_owned(), "6".to_owned())]);
        let flags = Overrides { account_key: Some("7".into()), ..Default::default() };
        let p = Profile::load(&paths(dir.path()), "lab", &env, &Overrides::default()).unwrap();
        assert_eq!((p.api_base.as_str(), p.account_key.as_deref()), ("http://127.0.0.1:1", Some("6")));
        let p = Profile::load(&paths(dir.path()), "lab", &env, &flags).unwrap();
        assert_eq!(p.account_key.as_deref(), Some("7"));
        assert_eq!(p.settings().get("max-items").map(String::as_str), Some("1000000"), "the guest gets the ceiling");
    }

    #[test]
    fn bad_profiles_fail_with_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let err = Profile::load(&paths, "nope", &Environment::new(), &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("unknown profile \"nope\""), "{err:#}");

        fs::create_dir_all(paths.home.join("profiles")).unwrap();
        fs::write(paths.profile_file("typo"), "api_bsae = \"x\"\n").unwrap();
        let err = Profile::load(&paths, "typo", &Environment::new(), &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("unknown field `api_bsae`"), "{err:#}");

        fs::write(paths.profile_file("many"), "[limits]\nmax-items = 0\n").unwrap();
        let err = Profile::load(&paths, "many", &Environment::new(), &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("max-items must be between 1 and"), "{err:#}");

        fs::write(paths.profile_file("plain"), "api-base = \"http://api.getgo.com\"\n").unwrap();
        let err = Profile::load(&paths, "plain", &Environment::new(), &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("plain http is only allowed for loopback"), "{err:#}");

        for name in ["../x", "/tmp/x", "a/b", "", ".", "x.y", &"n".repeat(65)] {
            let err = Profile::load(&paths, name, &Environment::new(), &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("is not a valid profile name"), "{name}: {err:#}");
        }
        assert!(check_profile_name("Prod_eu-2").is_ok() && check_profile_name(&"n".repeat(64)).is_ok());
    }
}
