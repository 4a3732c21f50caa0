//! The secret store: one JSON file per profile, mode 0600, replaced atomically (temp file,
//! fsync, rename) so a crash never leaves a half-written file or loses a rotated token.
//! `GTM_SECRET_<NAME>` environment variables override the file, for CI and containers.
//!
//! Several processes may share a profile (an import and an `apply`, say). Every write is a
//! read-modify-write under the profile's lock file, so one process's rotated refresh token is
//! never overwritten by another's stale copy, and a token refresh holds the lock from reading
//! the refresh token until the new access token is stored, so two processes never spend the
//! same refresh token (which GoTo answers with `invalid_grant` once it has rotated it).

use std::collections::BTreeMap;
use std::fs::{self, File, TryLockError};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::profile::Environment;

/// Where a secret's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretSource {
    File,
    Environment,
}

pub struct SecretStore {
    path: PathBuf,
    file: BTreeMap<String, String>,
    overrides: BTreeMap<String, String>,
    /// The profile's lock, while this store holds it for a token refresh.
    refresh_lock: Option<File>,
}

/// How long to wait for another process's refresh before giving up; a refresh is one HTTP
/// exchange, bounded by the HTTP timeouts.
const LOCK_PATIENCE: Duration = Duration::from_secs(120);
const LOCK_POLL: Duration = Duration::from_millis(20);

/// The environment variable that overrides a secret: `refresh-token` → `GTM_SECRET_REFRESH_TOKEN`.
pub fn env_var(name: &str) -> String {
    format!("GTM_SECRET_{}", name.to_ascii_uppercase().replace('-', "_"))
}

/// Secret names are short kebab-case words, so they map onto files and variables unambiguously.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        bail!("{name:?} is not a valid secret name: use lowercase letters, digits and '-' (e.g. client-secret)");
    }
    Ok(())
}

impl SecretStore {
    /// Opens the store at `path` (which need not exist yet) with overrides from `env`.
    pub fn open(path: PathBuf, env: &Environment) -> Result<Self> {
        refuse_if_link(&path)?;
        let file = read_file(&path)?;
        let overrides = env
            .iter()
            .filter_map(|(var, value)| {
                let name = var.strip_prefix("GTM_SECRET_")?.to_ascii_lowercase().replace('_', "-");
                Some((name, value.clone()))
            })
            .collect();
        Ok(SecretStore { path, file, overrides, refresh_lock: None })
    }

    /// A secret's value as the file holds it now, which another process may have changed since
    /// this store was opened (a rotated refresh token).
    pub fn current(&mut self, name: &str) -> Result<Option<String>> {
        self.file = read_file(&self.path)?;
        Ok(self.get(name).map(str::to_owned))
    }

    /// Takes the profile's lock for a token refresh, waiting for another process's refresh to
    /// end; kept until [`SecretStore::end_refresh`].
    pub fn begin_refresh(&mut self) -> Result<()> {
        if self.refresh_lock.is_none() {
            self.refresh_lock = Some(self.lock()?);
        }
        Ok(())
    }

    pub fn end_refresh(&mut self) {
        self.refresh_lock = None;
    }

    /// The profile's lock file, locked; the lock is released when the file is dropped.
    fn lock(&self) -> Result<File> {
        let dir = self.path.parent().context("the secrets path has no directory")?;
        private_dir(dir)?;
        let path = self.path.with_extension("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(TryLockError::WouldBlock) if started.elapsed() < LOCK_PATIENCE => std::thread::sleep(LOCK_POLL),
                Err(TryLockError::WouldBlock) => bail!(
                    "another gtm-connector process has held {} for {} s; is one stuck?",
                    path.display(),
                    LOCK_PATIENCE.as_secs()
                ),
                Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("locking {}", path.display())),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.overrides.get(name).or_else(|| self.file.get(name)).map(String::as_str)
    }

    pub fn source(&self, name: &str) -> Option<SecretSource> {
        if self.overrides.contains_key(name) {
            Some(SecretSource::Environment)
        } else {
            self.file.contains_key(name).then_some(SecretSource::File)
        }
    }

    /// Stores a secret in the file. A value also set by environment variable stays overridden
    /// for reads in later runs; in this run the new value wins, so a rotated token is used at once.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        validate_name(name)?;
        self.update(|file| {
            file.insert(name.to_owned(), value.to_owned());
        })?;
        if let Some(overridden) = self.overrides.get_mut(name) {
            *overridden = value.to_owned();
        }
        Ok(())
    }

    /// Removes a secret from the file; false if the file did not hold it.
    pub fn delete(&mut self, name: &str) -> Result<bool> {
        validate_name(name)?;
        let mut removed = false;
        self.update(|file| removed = file.remove(name).is_some())?;
        Ok(removed)
    }

    /// Applies `change` to the file as it is now, under the profile's lock (unless this store
    /// already holds it for a refresh), so concurrent processes never lose each other's writes.
    fn update(&mut self, change: impl FnOnce(&mut BTreeMap<String, String>)) -> Result<()> {
        let _lock = match self.refresh_lock {
            Some(_) => None,
            None => Some(self.lock()?),
        };
        let mut next = read_file(&self.path)?;
        change(&mut next);
        self.write(&next)?;
        self.file = next;
        Ok(())
    }

    /// Every secret name with where it comes from; values are never listed.
    pub fn names(&self) -> Vec<(String, SecretSource)> {
        let mut names: Vec<(String, SecretSource)> =
            self.file.keys().map(|n| (n.clone(), SecretSource::File)).collect();
        for name in self.overrides.keys() {
            names.retain(|(n, _)| n != name);
            names.push((name.clone(), SecretSource::Environment));
        }
        names.sort();
        names
    }

    fn write(&self, contents: &BTreeMap<String, String>) -> Result<()> {
        let dir = self.path.parent().context("the secrets path has no directory")?;
        private_dir(dir)?;
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        temp.as_file().set_permissions(fs::Permissions::from_mode(0o600))?;
        temp.write_all(&serde_json::to_vec_pretty(contents)?)?;
        temp.as_file().sync_all()?;
        temp.persist(&self.path).with_context(|| format!("replacing {}", self.path.display()))?;
        // The rename is durable only once the directory entry is flushed too.
        fs::File::open(dir)?.sync_all()?;
        Ok(())
    }
}

/// The file's secrets; none if it does not exist yet.
fn read_file(path: &Path) -> Result<BTreeMap<String, String>> {
    match fs::read(path) {
        Ok(bytes) => {
            refuse_if_shared(path)?;
            serde_json::from_slice(&bytes).with_context(|| {
                format!("the secrets file {} is not a JSON object of names to values; fix or delete it", path.display())
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(e).with_context(|| format!("reading the secrets file {}", path.display())),
    }
}

fn refuse_if_shared(path: &Path) -> Result<()> {
    let mode = fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "the secrets file {} is readable by other users (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// Writes replace the file by rename, so a symlinked secrets file would become a plain file on
/// the first token write and its target would keep a refresh token GoTo has rotated away.
fn refuse_if_link(path: &Path) -> Result<()> {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        bail!(
            "the secrets file {} is a symbolic link, which the next token write would replace; \
             move the file it points to there instead, or point GTM_HOME at the directory that holds it",
            path.display()
        );
    }
    Ok(())
}

/// Creates `dir` (and missing parents) readable by its owner only: for secrets, and for the
/// reconciliation state, which holds people's emails and access. A directory that exists
/// already is left as it is: it may be shared (`/tmp`) and is not this program's to change.
pub fn private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).with_context(|| format!("creating {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_writes_a_0600_file_atomically_and_env_overrides_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets").join("default.json");
        let mut store = SecretStore::open(path.clone(), &Environment::new()).unwrap();
        store.set("client-id", "abc").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);

        let env = Environment::from([("GTM_SECRET_CLIENT_ID".to_owned(), "from-env".to_owned())]);
        let reopened = SecretStore::open(path.clone(), &env).unwrap();
        assert_eq!(reopened.get("client-id"), Some("from-env"));
        assert_eq!(reopened.names(), vec![("client-id".to_owned(), SecretSource::Environment)]);
        // No temp files are left beside it (the lock file stays, empty).
        let mut left: Vec<String> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["default.json", "default.lock"]);
    }

    #[test]
    fn a_shared_or_malformed_file_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        fs::write(&path, "{}").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = SecretStore::open(path.clone(), &Environment::new()).err().unwrap();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, "not json").unwrap();
        let err = SecretStore::open(path, &Environment::new()).err().unwrap();
        assert!(err.to_string().contains("not a JSON object"), "{err}");
    }

    #[test]
    fn private_dir_creates_owner_only_directories_and_never_changes_existing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        private_dir(&shared).unwrap();
        assert_eq!(fs::metadata(&shared).unwrap().permissions().mode() & 0o7777, 0o1777);
        let created = shared.join("a/b");
        private_dir(&created).unwrap();
        for made in [shared.join("a"), created] {
            assert_eq!(fs::metadata(made).unwrap().permissions().mode() & 0o077, 0, "created for the owner only");
        }
    }

    #[test]
    fn a_symlinked_secrets_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.json");
        fs::write(&target, "{}").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("s.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = SecretStore::open(link.clone(), &Environment::new()).err().unwrap();
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    }

    #[test]
    fn names_are_validated_and_delete_reports_absence() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SecretStore::open(dir.path().join("s.json"), &Environment::new()).unwrap();
        assert!(store.set("Bad Name", "x").is_err());
        assert!(!store.delete("client-id").unwrap());
        store.set("client-id", "x").unwrap();
        assert!(store.delete("client-id").unwrap());
        assert_eq!(store.get("client-id"), None);
    }

    #[test]
    fn writes_from_two_processes_sharing_a_profile_are_never_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let mut first = SecretStore::open(path.clone(), &Environment::new()).unwrap();
        first.set("refresh-token", "r1").unwrap();
        let mut second = SecretStore::open(path.clone(), &Environment::new()).unwrap();
        first.set("refresh-token", "r2-rotated").unwrap();
        // The second process still has r1 in memory; its write must not bring r1 back.
        second.set("access-token", "a").unwrap();
        assert_eq!(second.current("refresh-token").unwrap().as_deref(), Some("r2-rotated"));
        let reopened = SecretStore::open(path, &Environment::new()).unwrap();
        assert_eq!((reopened.get("refresh-token"), reopened.get("access-token")), (Some("r2-rotated"), Some("a")));
    }

    #[test]
    fn a_refresh_holds_the_profile_lock_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let mut store = SecretStore::open(path.clone(), &Environment::new()).unwrap();
        let probe = || File::options().write(true).open(path.with_extension("lock")).unwrap().try_lock();
        store.begin_refresh().unwrap();
        assert!(matches!(probe(), Err(TryLockError::WouldBlock)), "another process waits");
        store.set("access-token", "a").unwrap();
        store.end_refresh();
        assert!(probe().is_ok());
    }
}
