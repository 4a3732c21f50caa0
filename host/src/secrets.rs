//! The secret store: one JSON file per profile, mode 0600, written so that a process killed at
//! any instant leaves either the old or the new contents, and a write that was complete when
//! the process died is kept: the new contents go first to a journal (`PROFILE.pending`: the
//! contents, their SHA-256 and the SHA-256 of the file they replace, fsynced), then replace the
//! file atomically (temporary file, fsync, rename, directory fsync), then the journal goes. The
//! next process to open or lock the store adopts a complete journal written on top of the
//! current file and drops an incomplete or stale one.
//! `GTM_SECRET_<NAME>` environment variables override the file, for CI and containers.
//!
//! Several processes may share a profile (an import and an `apply`, say). Every write is a
//! read-modify-write under the profile's lock file, so one process's rotated refresh token is
//! never overwritten by another's stale copy, and a token refresh holds the lock from reading
//! the refresh token until the new access token is stored, so two processes never spend the
//! same refresh token (which GoTo answers with `invalid_grant` once it has rotated it).
//!
//! A rotated refresh token cannot go back into a `GTM_SECRET_REFRESH_TOKEN` variable, so the
//! file records beside it the SHA-256 of the variable's value it replaced; while the variable
//! still holds that spent value, the file's newer token is used instead.
//!
//! Beside each secret the file also records when it was stored (`NAME.stored-at`, Unix
//! seconds), which tells how old a refresh token is. A store can also be *staged*: its writes
//! are then held in memory and reach the file together, in one write, on
//! [`SecretStore::commit_staged`], so a login that fails halfway leaves the file as it was.

use std::collections::BTreeMap;
use std::fs::{self, File, TryLockError};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::profile::Environment;

/// Where a secret's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretSource {
    File,
    Environment,
}

type Secrets = BTreeMap<String, String>;

pub struct SecretStore {
    path: PathBuf,
    file: Secrets,
    /// Values from `GTM_SECRET_*` variables.
    overrides: Secrets,
    /// The variables found stale when the store was opened, for one warning.
    stale: Vec<String>,
    /// The profile's lock, while this store holds it for a token refresh.
    refresh_lock: Option<File>,
    /// Writes held back from the file while the store is staged.
    staged: Option<Secrets>,
}

/// How long to wait for another process's refresh before giving up; a refresh is one HTTP
/// exchange, bounded by the HTTP timeouts.
const LOCK_PATIENCE: Duration = Duration::from_secs(120);
const LOCK_POLL: Duration = Duration::from_millis(20);

/// The file entry beside a secret holding the SHA-256 of the variable's value it replaced. The
/// `.` keeps it apart from secret names, which cannot contain one.
const SUPERSEDES: &str = ".supersedes-env-sha256";

/// The file entry beside a secret holding when it was stored, in Unix seconds.
const STORED_AT: &str = ".stored-at";

/// Whether a file entry is metadata beside a secret rather than a secret: only metadata names
/// hold a `.`.
fn is_metadata(entry: &str) -> bool {
    entry.contains('.')
}

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

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

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

impl SecretStore {
    /// Opens the store at `path` (which need not exist yet) with overrides from `env`.
    pub fn open(path: PathBuf, env: &Environment) -> Result<Self> {
        refuse_if_link(&path)?;
        if let Some(dir) = path.parent().filter(|dir| dir.exists()) {
            refuse_if_dir_shared(dir)?;
        }
        if journal_path(&path).exists() {
            // Taking the lock adopts or drops the journal a killed process left.
            let _lock = lock(&path)?;
        }
        let file = read_file(&path)?.1;
        let overrides: Secrets = env
            .iter()
            // Empty is unset, as for every GTM_ variable: CI expands a missing secret to "",
            // which must not hide the stored value.
            .filter(|(_, value)| !value.is_empty())
            .filter_map(|(var, value)| {
                let name = var.strip_prefix("GTM_SECRET_")?.to_ascii_lowercase().replace('_', "-");
                Some((name, value.clone()))
            })
            .collect();
        let stale = overrides.keys().filter(|name| superseded(&file, &overrides, name)).map(|n| env_var(n)).collect();
        Ok(SecretStore { path, file, overrides, stale, refresh_lock: None, staged: None })
    }

    /// The `GTM_SECRET_*` variables that hold a value the file has since replaced (a refresh
    /// token GoTo rotated): the file's value is used instead, and the variable should be updated.
    pub fn stale_variables(&self) -> &[String] {
        &self.stale
    }

    /// A secret's value as the file holds it now, which another process may have changed since
    /// this store was opened (a rotated refresh token).
    pub fn current(&mut self, name: &str) -> Result<Option<String>> {
        self.file = read_file(&self.path)?.1;
        Ok(self.get(name).map(str::to_owned))
    }

    /// Takes the profile's lock for a token refresh, waiting for another process's refresh to
    /// end; kept until [`SecretStore::end_refresh`].
    pub fn begin_refresh(&mut self) -> Result<()> {
        if self.refresh_lock.is_none() {
            self.refresh_lock = Some(lock(&self.path)?);
        }
        Ok(())
    }

    pub fn end_refresh(&mut self) {
        self.refresh_lock = None;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The variable's value, unless the file as last read holds a newer one that replaced it:
    /// decided on every read, so a token another process rotated over the variable counts too.
    fn overridden(&self, name: &str) -> Option<&String> {
        self.overrides.get(name).filter(|_| !superseded(&self.file, &self.overrides, name))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        let staged = self.staged.as_ref().and_then(|staged| staged.get(name));
        staged.or_else(|| self.overridden(name)).or_else(|| self.file.get(name)).map(String::as_str)
    }

    pub fn source(&self, name: &str) -> Option<SecretSource> {
        if self.staged.as_ref().is_some_and(|staged| staged.contains_key(name)) {
            Some(SecretSource::File)
        } else if self.overridden(name).is_some() {
            Some(SecretSource::Environment)
        } else {
            self.file.contains_key(name).then_some(SecretSource::File)
        }
    }

    /// Stores a secret in the file. A value also set by environment variable stays overridden.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        self.store(name, value, None)
    }

    /// Stores a secret the connector replaced (a refreshed access token, a rotated refresh
    /// token) and uses it from now on. When an environment variable overrides it, the file also
    /// records the variable's fingerprint: the stored value supersedes that variable value, in
    /// this run and in later ones, until the variable changes.
    pub fn replace(&mut self, name: &str, value: &str) -> Result<()> {
        let fingerprint = self.overrides.get(name).map(|v| sha256(v.as_bytes()));
        self.store(name, value, fingerprint)
    }

    fn store(&mut self, name: &str, value: &str, supersedes: Option<String>) -> Result<()> {
        validate_name(name)?;
        if let Some(staged) = &mut self.staged {
            staged.insert(name.to_owned(), value.to_owned());
            return Ok(());
        }
        let now = now_unix();
        self.update(|file| put(file, name, value, supersedes, now))
    }

    /// Holds every later write (`set`, `replace`) in memory, where `get` and `current` see it,
    /// until [`SecretStore::commit_staged`]; a store dropped before that never wrote them.
    pub fn stage(&mut self) {
        self.staged.get_or_insert_default();
    }

    /// Writes the staged secrets to the file in one write, each superseding the variable that
    /// overrides it (as [`SecretStore::replace`] does), and ends the staging. Returns their names.
    pub fn commit_staged(&mut self) -> Result<Vec<String>> {
        let staged = self.staged.take().unwrap_or_default();
        let fingerprints: BTreeMap<&String, String> =
            staged.keys().filter_map(|name| Some((name, sha256(self.overrides.get(name)?.as_bytes())))).collect();
        let now = now_unix();
        self.update(|file| {
            for (name, value) in &staged {
                put(file, name, value, fingerprints.get(name).cloned(), now);
            }
        })?;
        Ok(staged.into_keys().collect())
    }

    /// When the file's value of a secret was stored, in Unix seconds, if the file records it.
    pub fn stored_at(&self, name: &str) -> Option<u64> {
        self.file.get(&format!("{name}{STORED_AT}"))?.parse().ok()
    }

    /// Removes a secret from the file; false if the file did not hold it.
    pub fn delete(&mut self, name: &str) -> Result<bool> {
        Ok(!self.remove(&[name])?.is_empty())
    }

    /// Removes these secrets from the file, with their metadata, in one write; returns those
    /// the file held.
    pub fn remove(&mut self, names: &[&str]) -> Result<Vec<String>> {
        names.iter().try_for_each(|name| validate_name(name))?;
        let mut removed = Vec::new();
        self.update(|file| {
            for name in names {
                if file.remove(*name).is_some() {
                    removed.push((*name).to_owned());
                }
                for metadata in [SUPERSEDES, STORED_AT] {
                    file.remove(&format!("{name}{metadata}"));
                }
            }
        })?;
        Ok(removed)
    }

    /// Applies `change` to the file as it is now, under the profile's lock (unless this store
    /// already holds it for a refresh), so concurrent processes never lose each other's writes.
    fn update(&mut self, change: impl FnOnce(&mut Secrets)) -> Result<()> {
        let _lock = match self.refresh_lock {
            Some(_) => None,
            None => Some(lock(&self.path)?),
        };
        let (base, mut next) = read_file(&self.path)?;
        change(&mut next);
        commit(&self.path, base.as_deref(), &next, &mut || Ok(()))?;
        self.file = next;
        Ok(())
    }

    /// Every secret name with where it comes from; values are never listed.
    pub fn names(&self) -> Vec<(String, SecretSource)> {
        let mut names: Vec<(String, SecretSource)> =
            self.file.keys().filter(|n| !is_metadata(n)).map(|n| (n.clone(), SecretSource::File)).collect();
        for name in self.overrides.keys().filter(|n| self.overridden(n).is_some()) {
            names.retain(|(n, _)| n != name);
            names.push((name.clone(), SecretSource::Environment));
        }
        names.sort();
        names
    }
}

/// Writes a secret into `file` with its metadata: when it was stored and, when it supersedes a
/// variable's value, that value's fingerprint.
fn put(file: &mut Secrets, name: &str, value: &str, supersedes: Option<String>, now: u64) {
    file.insert(name.to_owned(), value.to_owned());
    file.insert(format!("{name}{STORED_AT}"), now.to_string());
    if let Some(fingerprint) = supersedes {
        file.insert(format!("{name}{SUPERSEDES}"), fingerprint);
    }
}

/// Whether `file` holds a value for `name` that replaced the one its variable in `overrides`
/// still holds (a refresh token GoTo rotated).
fn superseded(file: &Secrets, overrides: &Secrets, name: &str) -> bool {
    let replaced = |value: &String| file.get(&format!("{name}{SUPERSEDES}")) == Some(&sha256(value.as_bytes()));
    file.contains_key(name) && overrides.get(name).is_some_and(replaced)
}

/// The profile's lock file, locked, with any journal a killed process left settled; the lock is
/// released when the file is dropped.
fn lock(path: &Path) -> Result<File> {
    let dir = path.parent().context("the secrets path has no directory")?;
    private_dir(dir)?;
    refuse_if_dir_shared(dir)?;
    let lock_path = path.with_extension("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if started.elapsed() < LOCK_PATIENCE => std::thread::sleep(LOCK_POLL),
            Err(TryLockError::WouldBlock) => bail!(
                "another gtm-connector process has held {} for {} s; is one stuck?",
                lock_path.display(),
                LOCK_PATIENCE.as_secs()
            ),
            Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("locking {}", lock_path.display())),
        }
    }
    recover(path, &mut || Ok(()))?;
    Ok(file)
}

/// The journal of a write in progress.
#[derive(Serialize, Deserialize)]
struct Journal {
    /// SHA-256 of the file this write replaces; `None` when there was none.
    base: Option<String>,
    /// SHA-256 of `secrets` serialised as the file holds them.
    sha256: String,
    secrets: Secrets,
}

fn journal_path(path: &Path) -> PathBuf {
    path.with_extension("pending")
}

fn temp_path(path: &Path) -> PathBuf {
    path.with_extension("tmp")
}

fn serialise(secrets: &Secrets) -> Vec<u8> {
    serde_json::to_vec_pretty(secrets).expect("a map of strings always serialises")
}

/// Writes `next` over the file whose contents hash to `base`, calling `step` after each file
/// operation (a test stops there, as a kill would). The caller holds the profile's lock.
fn commit(path: &Path, base: Option<&str>, next: &Secrets, step: &mut dyn FnMut() -> Result<()>) -> Result<()> {
    let contents = serialise(next);
    let journal = Journal { base: base.map(str::to_owned), sha256: sha256(&contents), secrets: next.clone() };
    let journal_file = journal_path(path);
    write_synced(&journal_file, &serde_json::to_vec(&journal)?, step)?;
    replace_file(path, &contents, step)?;
    fs::remove_file(&journal_file).with_context(|| format!("removing {}", journal_file.display()))?;
    step()
}

/// Settles a journal left by a killed process: adopted when complete and written on top of the
/// file as it is, dropped otherwise (incomplete, or already applied).
fn recover(path: &Path, step: &mut dyn FnMut() -> Result<()>) -> Result<()> {
    let journal_file = journal_path(path);
    let bytes = match fs::read(&journal_file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", journal_file.display())),
    };
    let complete = serde_json::from_slice::<Journal>(&bytes)
        .ok()
        .map(|j| (serialise(&j.secrets), j))
        .filter(|(contents, j)| sha256(contents) == j.sha256);
    if let Some((contents, journal)) = complete {
        let current = read_file(path)?.0;
        if journal.base == current {
            replace_file(path, &contents, step)?;
        }
    }
    fs::remove_file(&journal_file).with_context(|| format!("removing {}", journal_file.display()))?;
    step()
}

/// Replaces `path` atomically: temporary file, fsync, rename, directory fsync.
fn replace_file(path: &Path, contents: &[u8], step: &mut dyn FnMut() -> Result<()>) -> Result<()> {
    let temp = temp_path(path);
    write_synced(&temp, contents, step)?;
    fs::rename(&temp, path).with_context(|| format!("replacing {}", path.display()))?;
    step()?;
    sync_dir(path)?;
    step()
}

/// Writes a new 0600 file in two halves (so a test can stop between them, as a kill mid-write
/// would), fsyncs it and its directory entry. Whatever was at `path` (a leftover, or a link
/// someone planted to have the secrets written elsewhere) is removed first, and the file is
/// created exclusively, which never follows a link.
fn write_synced(path: &Path, contents: &[u8], step: &mut dyn FnMut() -> Result<()>) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("removing the leftover {}", path.display()));
        }
        _ => {}
    }
    let mut file = File::options()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    step()?;
    let (first, second) = contents.split_at(contents.len() / 2);
    for half in [first, second] {
        file.write_all(half).with_context(|| format!("writing {}", path.display()))?;
        step()?;
    }
    file.sync_all().with_context(|| format!("syncing {}", path.display()))?;
    step()?;
    sync_dir(path)?;
    step()
}

/// A rename or a new file is durable only once its directory entry is flushed too.
fn sync_dir(path: &Path) -> Result<()> {
    let dir = path.parent().context("the secrets path has no directory")?;
    File::open(dir)?.sync_all().with_context(|| format!("syncing {}", dir.display()))
}

/// The file's SHA-256 and secrets; none if it does not exist yet.
fn read_file(path: &Path) -> Result<(Option<String>, Secrets)> {
    match fs::read(path) {
        Ok(bytes) => {
            refuse_if_shared(path)?;
            let secrets = serde_json::from_slice(&bytes).with_context(|| {
                format!("the secrets file {} is not a JSON object of names to values; fix or delete it", path.display())
            })?;
            Ok((Some(sha256(&bytes)), secrets))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((None, Secrets::new())),
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

/// Another user who can write the secrets directory can swap the secrets file, or plant a file
/// at the journal's name for the next run to adopt.
fn refuse_if_dir_shared(dir: &Path) -> Result<()> {
    let mode = fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        bail!(
            "the secrets directory {} can be written by other users (mode {mode:o}), who could replace the \
             secrets file; run `chmod 700 {}`",
            dir.display(),
            dir.display()
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

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

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
    fn a_secrets_directory_others_can_write_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path().join("secrets");
        fs::create_dir(&secrets).unwrap();
        let path = secrets.join("default.json");
        for mode in [0o777, 0o1777, 0o770] {
            fs::set_permissions(&secrets, fs::Permissions::from_mode(mode)).unwrap();
            let err = SecretStore::open(path.clone(), &Environment::new()).err().unwrap().to_string();
            assert!(err.contains("can be written by other users") && err.contains("chmod 700"), "{err}");
        }
        fs::set_permissions(&secrets, fs::Permissions::from_mode(0o750)).unwrap();
        SecretStore::open(path.clone(), &Environment::new()).unwrap().set("client-id", "abc").unwrap();
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

    /// A step counter that stops the protocol after `stop_after` file operations, as a kill would.
    fn stopping_after(stop_after: usize) -> impl FnMut() -> Result<()> {
        let mut done = 0;
        move || {
            done += 1;
            if done > stop_after { bail!("killed") } else { Ok(()) }
        }
    }

    #[test]
    fn a_write_stopped_after_any_file_operation_leaves_the_old_or_the_new_state_and_the_new_once_journaled() {
        let old = Secrets::from([("refresh-token".to_owned(), "rt-old".to_owned()), ("x".to_owned(), "1".to_owned())]);
        let new =
            Secrets::from([("refresh-token".to_owned(), "rt-rotated".to_owned()), ("x".to_owned(), "1".to_owned())]);
        // The journal's bytes are all written after its creation and both halves.
        const JOURNAL_WRITTEN: usize = 3;
        let mut finished = false;
        for stop in 0.. {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.json");
            let mut store = SecretStore::open(path.clone(), &Environment::new()).unwrap();
            store.set("refresh-token", "rt-old").unwrap();
            store.set("x", "1").unwrap();
            let base = read_file(&path).unwrap().0;
            let outcome = commit(&path, base.as_deref(), &new, &mut stopping_after(stop));

            let seen: Secrets = SecretStore::open(path.clone(), &Environment::new())
                .unwrap()
                .file
                .into_iter()
                .filter(|(name, _)| !is_metadata(name))
                .collect();
            assert!(seen == old || seen == new, "stopped after {stop} steps: {seen:?}");
            if stop >= JOURNAL_WRITTEN {
                assert_eq!(seen, new, "stopped after {stop} steps, once the journal was complete");
            }
            assert_eq!(files_in(dir.path()), ["p.json", "p.lock"], "nothing left over after {stop} steps");
            if outcome.is_ok() {
                finished = true;
                break;
            }
        }
        assert!(finished);
    }

    #[test]
    fn an_adoption_stopped_after_any_file_operation_is_completed_by_the_next_open() {
        let new = Secrets::from([("refresh-token".to_owned(), "rt-rotated".to_owned())]);
        for stop in 0.. {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.json");
            SecretStore::open(path.clone(), &Environment::new()).unwrap().set("refresh-token", "rt-old").unwrap();
            let base = read_file(&path).unwrap().0;
            // Killed with the journal complete but not yet applied...
            commit(&path, base.as_deref(), &new, &mut stopping_after(5)).unwrap_err();
            // ...and the next process killed while adopting it.
            let adopted = recover(&path, &mut stopping_after(stop));
            assert_eq!(SecretStore::open(path.clone(), &Environment::new()).unwrap().file, new, "after {stop} steps");
            if adopted.is_ok() {
                break;
            }
        }
    }

    #[test]
    fn a_torn_or_stale_journal_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let mut store = SecretStore::open(path.clone(), &Environment::new()).unwrap();
        store.set("refresh-token", "rt-1").unwrap();
        let base = read_file(&path).unwrap().0;
        let new = Secrets::from([("refresh-token".to_owned(), "rt-2".to_owned())]);
        let contents = serialise(&new);
        // Valid JSON with the wrong checksum: a torn write.
        let torn = Journal { base: base.clone(), sha256: sha256(b"something else"), secrets: new.clone() };
        fs::write(journal_path(&path), serde_json::to_vec(&torn).unwrap()).unwrap();
        assert_eq!(SecretStore::open(path.clone(), &Environment::new()).unwrap().get("refresh-token"), Some("rt-1"));
        // Complete, but written on top of a file that has changed since: already applied.
        store.set("refresh-token", "rt-3").unwrap();
        let stale = Journal { base, sha256: sha256(&contents), secrets: new };
        fs::write(journal_path(&path), serde_json::to_vec(&stale).unwrap()).unwrap();
        assert_eq!(SecretStore::open(path.clone(), &Environment::new()).unwrap().get("refresh-token"), Some("rt-3"));
        assert_eq!(files_in(dir.path()), ["p.json", "p.lock"]);
    }

    #[test]
    fn a_value_the_connector_replaced_over_an_environment_variable_wins_until_the_variable_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let env = Environment::from([("GTM_SECRET_REFRESH_TOKEN".to_owned(), "rt-env".to_owned())]);
        let mut store = SecretStore::open(path.clone(), &env).unwrap();
        assert_eq!((store.get("refresh-token"), store.stale_variables().len()), (Some("rt-env"), 0));
        store.set("refresh-token", "rt-typed").unwrap();
        assert_eq!(store.get("refresh-token"), Some("rt-env"), "a plain set leaves the variable in force");
        store.replace("refresh-token", "rt-rotated").unwrap();
        assert_eq!(store.get("refresh-token"), Some("rt-rotated"), "used at once");

        let reopened = SecretStore::open(path.clone(), &env).unwrap();
        assert_eq!(reopened.get("refresh-token"), Some("rt-rotated"), "and in the next run");
        assert_eq!(reopened.source("refresh-token"), Some(SecretSource::File));
        assert_eq!(reopened.stale_variables(), ["GTM_SECRET_REFRESH_TOKEN"]);
        assert_eq!(reopened.names(), [("refresh-token".to_owned(), SecretSource::File)], "no fingerprint listed");
        let raw = fs::read_to_string(&path).unwrap();
        assert!(!raw.contains("rt-env"), "only a fingerprint of the variable is kept");

        // A new value in the variable (fresh consent) wins again.
        let fresh = Environment::from([("GTM_SECRET_REFRESH_TOKEN".to_owned(), "rt-new-consent".to_owned())]);
        let reopened = SecretStore::open(path, &fresh).unwrap();
        assert_eq!((reopened.get("refresh-token"), reopened.stale_variables().len()), (Some("rt-new-consent"), 0));
    }

    /// Two runs with the same `GTM_SECRET_REFRESH_TOKEN`: once one has rotated the variable's
    /// token, the other must use the rotated one, not spend the variable's dead one.
    #[test]
    fn a_token_another_process_rotated_over_the_variable_supersedes_it_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let env = Environment::from([("GTM_SECRET_REFRESH_TOKEN".to_owned(), "rt-env".to_owned())]);
        let mut first = SecretStore::open(path.clone(), &env).unwrap();
        let mut second = SecretStore::open(path.clone(), &env).unwrap();
        first.replace("refresh-token", "rt-rotated").unwrap();
        second.begin_refresh().unwrap();
        assert_eq!(second.current("refresh-token").unwrap().as_deref(), Some("rt-rotated"));
        assert_eq!(second.source("refresh-token"), Some(SecretSource::File));
        second.end_refresh();
        // Once the file holds no replacement, the variable is in force again.
        first.delete("refresh-token").unwrap();
        assert_eq!(second.current("refresh-token").unwrap().as_deref(), Some("rt-env"));
    }

    #[test]
    fn an_empty_variable_is_unset_and_the_stored_value_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        SecretStore::open(path.clone(), &Environment::new()).unwrap().set("refresh-token", "rt-stored").unwrap();
        let env = Environment::from([("GTM_SECRET_REFRESH_TOKEN".to_owned(), String::new())]);
        let store = SecretStore::open(path, &env).unwrap();
        assert_eq!(
            (store.get("refresh-token"), store.source("refresh-token")),
            (Some("rt-stored"), Some(SecretSource::File))
        );
    }

    /// Links planted at the temporary file's and the journal's fixed names would have the
    /// secrets written into their targets.
    #[test]
    fn links_at_the_temporary_and_journal_names_are_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let victims: Vec<PathBuf> = ["tmp", "pending"].iter().map(|n| dir.path().join(format!("victim-{n}"))).collect();
        for (victim, name) in victims.iter().zip([temp_path(&path), journal_path(&path)]) {
            fs::write(victim, "kept\n").unwrap();
            std::os::unix::fs::symlink(victim, name).unwrap();
        }
        SecretStore::open(path.clone(), &Environment::new()).unwrap().set("refresh-token", "rt-secret").unwrap();
        for victim in &victims {
            assert_eq!(fs::read_to_string(victim).unwrap(), "kept\n", "{}", victim.display());
        }
        assert_eq!(SecretStore::open(path, &Environment::new()).unwrap().get("refresh-token"), Some("rt-secret"));
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

    #[test]
    fn staged_writes_are_seen_at_once_and_reach_the_file_only_together_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let env = Environment::from([("GTM_SECRET_CLIENT_ID".to_owned(), "env-id".to_owned())]);
        let mut store = SecretStore::open(path.clone(), &env).unwrap();
        store.set("refresh-token", "rt-old").unwrap();
        store.stage();
        store.set("client-id", "flag-id").unwrap();
        store.replace("refresh-token", "rt-new").unwrap();
        assert_eq!(store.current("refresh-token").unwrap().as_deref(), Some("rt-new"));
        assert_eq!(store.get("client-id"), Some("flag-id"));
        let outside = SecretStore::open(path.clone(), &env).unwrap();
        assert_eq!((outside.get("client-id"), outside.get("refresh-token")), (Some("env-id"), Some("rt-old")));
        // Dropped uncommitted: nothing was written.
        drop(store);
        assert_eq!(SecretStore::open(path.clone(), &env).unwrap().get("refresh-token"), Some("rt-old"));

        let mut store = SecretStore::open(path.clone(), &env).unwrap();
        store.stage();
        store.set("client-id", "flag-id").unwrap();
        store.set("refresh-token", "rt-new").unwrap();
        assert_eq!(store.commit_staged().unwrap(), ["client-id", "refresh-token"]);
        let reopened = SecretStore::open(path.clone(), &env).unwrap();
        assert_eq!(reopened.get("client-id"), Some("flag-id"), "the stored value supersedes the variable it replaced");
        assert_eq!(reopened.get("refresh-token"), Some("rt-new"));
        store.set("access-token", "at").unwrap();
        assert_eq!(SecretStore::open(path, &env).unwrap().get("access-token"), Some("at"), "staging ended");
    }

    #[test]
    fn each_stored_secret_records_when_and_remove_takes_the_record_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let mut store = SecretStore::open(path.clone(), &Environment::new()).unwrap();
        let before = now_unix();
        store.set("refresh-token", "rt").unwrap();
        store.set("access-token", "at").unwrap();
        store.set("client-id", "id").unwrap();
        let stored = store.stored_at("refresh-token").unwrap();
        assert!((before..=now_unix()).contains(&stored));
        assert_eq!(store.names().len(), 3, "the records are not secrets");
        assert_eq!(
            store.remove(&["refresh-token", "access-token", "client-secret"]).unwrap(),
            ["refresh-token", "access-token"]
        );
        let reopened = SecretStore::open(path, &Environment::new()).unwrap();
        assert_eq!(reopened.file.keys().collect::<Vec<_>>(), ["client-id", "client-id.stored-at"]);
        assert_eq!(reopened.stored_at("refresh-token"), None);
    }
}
