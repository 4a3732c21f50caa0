//! The wasmtime engine and the on-disk cache of compiled components.
//!
//! Compiling the component takes under a second in release (more in debug); loading the
//! compiled form takes milliseconds. Cache files are named by the SHA-256 of the component and
//! the engine's compatibility hash, so a different component or wasmtime build never loads
//! stale code, and files are written atomically so a crash leaves no torn cache entry.
//!
//! Compiled code is native code, run as the user: a cache entry is loaded only if the user
//! alone could have written it, that is if both the cache directory and the file are owned by
//! the user and writable by no one else. Otherwise the component is compiled in memory and the
//! cache is left alone.

use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// The component compiled into this binary by build.rs.
pub static EMBEDDED_COMPONENT: &[u8] = include_bytes!(env!("GTM_GUEST_WASM"));

/// Where this build wrote the portable build: the component composed with portable/adapter,
/// for stock runtimes such as the `wasmtime` CLI (README, "Other hosts").
pub const PORTABLE_COMPONENT_PATH: &str = env!("GTM_PORTABLE_WASM");

/// Whether a component load compiled code or reused the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded compiled code from the cache directory.
    Hit,
    /// Compiled now and stored in the cache directory.
    Compiled,
    /// Compiled now; no cache directory was given.
    Uncached,
    /// Compiled now without using the cache, because someone else could have written to it:
    /// what was refused, and why.
    Untrusted(String),
}

/// An engine configured for the connector: Cranelift, epoch interruption for deadlines.
pub fn new_engine() -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    // The component comes optimised by LLVM: Cranelift's own optimisations cost a first run
    // about a tenth of its time (0.91 s to 0.81 s on two cores) and saved 3 % of an import's
    // instructions.
    config.cranelift_opt_level(wasmtime::OptLevel::None);
    Engine::new(&config).map_err(anyhow::Error::from).context("configuring the wasmtime engine")
}

/// Loads `wasm` as a component, through the cache in `cache_dir` when given and trusted.
pub fn load_component(engine: &Engine, wasm: &[u8], cache_dir: Option<&Path>) -> Result<(Component, CacheOutcome)> {
    let Some(dir) = cache_dir else {
        return Ok((compile(engine, wasm)?, CacheOutcome::Uncached));
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating the compiled component cache {}", dir.display()))?;
    let metadata = fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    if let Some(why) = untrusted(&metadata) {
        let refused = format!("the cache directory {} {why}", dir.display());
        return Ok((compile(engine, wasm)?, CacheOutcome::Untrusted(refused)));
    }
    let path = cache_path(engine, wasm, dir);
    let refused = match read_trusted(&path) {
        Ok(Some(compiled)) => {
            // SAFETY: the bytes are from a file that only this user could have written, in a
            // directory only this user can write, named by content hash and engine hash; this
            // host is what fills that directory. A file that fails wasmtime's checks is
            // recompiled and replaced below.
            if let Ok(component) = unsafe { Component::deserialize(engine, &compiled) } {
                return Ok((component, CacheOutcome::Hit));
            }
            None
        }
        Ok(None) => None,
        Err(why) => Some(format!("the cache file {} {why}", path.display())),
    };
    let component = compile(engine, wasm)?;
    // The directory is the user's own, so an entry someone else made is replaced with ours.
    store(&path, &component.serialize().map_err(anyhow::Error::from)?)
        .with_context(|| format!("writing compiled component cache {}", path.display()))?;
    Ok((component, refused.map_or(CacheOutcome::Compiled, CacheOutcome::Untrusted)))
}

/// Why a cache directory or file with this metadata cannot be trusted, if it cannot.
fn untrusted(metadata: &fs::Metadata) -> Option<String> {
    let me = rustix::process::geteuid().as_raw();
    let mode = metadata.mode() & 0o7777;
    if metadata.uid() != me {
        Some(format!("is owned by another user (uid {}, not {me})", metadata.uid()))
    } else if mode & 0o022 != 0 {
        Some(format!("is writable by other users (mode {mode:o})"))
    } else {
        None
    }
}

/// The cache file's bytes if it exists; why not if it is not a file only this user could have
/// written. The checks are made on the open file, so what is checked is what is read.
fn read_trusted(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be read ({e})")),
    };
    let metadata = file.metadata().map_err(|e| format!("cannot be read ({e})"))?;
    if !metadata.is_file() {
        return Err("is not a regular file".into());
    }
    if let Some(why) = untrusted(&metadata) {
        return Err(why);
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.read_to_end(&mut bytes).map_err(|e| format!("cannot be read ({e})"))?;
    Ok(Some(bytes))
}

fn compile(engine: &Engine, wasm: &[u8]) -> Result<Component> {
    Component::new(engine, wasm)
        .map_err(anyhow::Error::from)
        .context("the connector is not a valid WebAssembly component")
}

fn cache_path(engine: &Engine, wasm: &[u8], dir: &Path) -> PathBuf {
    let mut engine_hash = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut engine_hash);
    let digest = Sha256::digest(wasm);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}-{:016x}.cwasm", engine_hash.finish()))
}

/// Writes a cache entry atomically (a 0600 temporary file, renamed into place).
fn store(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("cache path has no directory")?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_load_is_a_cache_hit() {
        let engine = new_engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (_, first) = load_component(&engine, EMBEDDED_COMPONENT, Some(dir.path())).unwrap();
        let (_, second) = load_component(&engine, EMBEDDED_COMPONENT, Some(dir.path())).unwrap();
        assert_eq!((first, second), (CacheOutcome::Compiled, CacheOutcome::Hit));
    }

    #[test]
    fn a_corrupt_cache_file_is_recompiled() {
        let engine = new_engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = cache_path(&engine, EMBEDDED_COMPONENT, dir.path());
        fs::write(&path, b"garbage").unwrap();
        fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let (_, outcome) = load_component(&engine, EMBEDDED_COMPONENT, Some(dir.path())).unwrap();
        assert_eq!(outcome, CacheOutcome::Compiled);
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().mode() & 0o7777
    }

    /// A valid compiled component planted where others could have written it is never run.
    #[test]
    fn a_cache_entry_others_could_write_is_not_loaded_and_is_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let engine = new_engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = cache_path(&engine, EMBEDDED_COMPONENT, dir.path());
        fs::write(&path, compile(&engine, EMBEDDED_COMPONENT).unwrap().serialize().unwrap()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        let (_, outcome) = load_component(&engine, EMBEDDED_COMPONENT, Some(dir.path())).unwrap();
        match outcome {
            CacheOutcome::Untrusted(why) => assert!(why.contains("writable by other users (mode 666)"), "{why}"),
            other => panic!("the planted file was trusted: {other:?}"),
        }
        assert_eq!(mode(&path), 0o600, "replaced by the host's own entry");
        let (_, outcome) = load_component(&engine, EMBEDDED_COMPONENT, Some(dir.path())).unwrap();
        assert_eq!(outcome, CacheOutcome::Hit);
    }

    #[test]
    fn a_cache_directory_others_can_write_is_not_used_at_all() {
        use std::os::unix::fs::PermissionsExt;
        let engine = new_engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = cache_path(&engine, EMBEDDED_COMPONENT, dir.path());
        fs::write(&path, compile(&engine, EMBEDDED_COMPONENT).unwrap().serialize().unwrap()).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let (_, outcome) = load_component(&engine, EMBEDDED_COMPONENT, Some(dir.path())).unwrap();
        assert!(matches!(&outcome, CacheOutcome::Untrusted(why) if why.contains("cache directory")), "{outcome:?}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "nothing written there");
        assert_eq!(mode(dir.path()), 0o777, "and nothing changed");
    }

    #[test]
    fn a_cache_entry_owned_by_another_user_is_not_loaded() {
        let engine = new_engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = cache_path(&engine, EMBEDDED_COMPONENT, dir.path());
        fs::write(&path, compile(&engine, EMBEDDED_COMPONENT).unwrap().serialize().unwrap()).unwrap();
        // Only root can give a file away; elsewhere the mode tests above cover the check.
        if std::os::unix::fs::chown(&path, Some(65534), None).is_ok() {
            let (_, outcome) = load_component(&engine, EMBEDDED_COMPONENT, Some(dir.path())).unwrap();
            assert!(matches!(&outcome, CacheOutcome::Untrusted(why) if why.contains("owned by another user")));
        }
    }

    #[test]
    fn not_a_component_is_a_clear_error() {
        let engine = new_engine().unwrap();
        let err = load_component(&engine, b"\0asm nonsense", None).unwrap_err();
        assert!(format!("{err:#}").contains("not a valid WebAssembly component"));
    }
}
