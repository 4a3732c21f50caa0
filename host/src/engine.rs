//! The wasmtime engine and the on-disk cache of compiled components.
//!
//! Compiling the component takes about a second in release (more in debug); loading the
//! compiled form takes milliseconds. Cache files are named by the SHA-256 of the component and
//! the engine's compatibility hash, so a different component or wasmtime build never loads
//! stale code, and files are written atomically so a crash leaves no torn cache entry.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// The component compiled into this binary by build.rs.
pub static EMBEDDED_COMPONENT: &[u8] = include_bytes!(env!("GTM_GUEST_WASM"));

/// Whether a component load compiled code or reused the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded compiled code from the cache directory.
    Hit,
    /// Compiled now and stored in the cache directory.
    Compiled,
    /// Compiled now; no cache directory was given.
    Uncached,
}

/// An engine configured for the connector: Cranelift, epoch interruption for deadlines.
pub fn new_engine() -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    Engine::new(&config).map_err(anyhow::Error::from).context("configuring the wasmtime engine")
}

/// Loads `wasm` as a component, through the cache in `cache_dir` when given.
pub fn load_component(engine: &Engine, wasm: &[u8], cache_dir: Option<&Path>) -> Result<(Component, CacheOutcome)> {
    let Some(dir) = cache_dir else {
        return Ok((compile(engine, wasm)?, CacheOutcome::Uncached));
    };
    let path = cache_path(engine, wasm, dir);
    if path.exists() {
        // SAFETY: the file is one this host wrote from its own compilation (named by content
        // hash and engine hash, in the user's own cache directory); it is never supplied by a
        // plugin author. A file that fails wasmtime's checks is recompiled and replaced below.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
            return Ok((component, CacheOutcome::Hit));
        }
    }
    let component = compile(engine, wasm)?;
    store(&path, &component.serialize().map_err(anyhow::Error::from)?)
        .with_context(|| format!("writing compiled component cache {}", path.display()))?;
    Ok((component, CacheOutcome::Compiled))
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

fn store(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("cache path has no directory")?;
    fs::create_dir_all(dir)?;
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
        fs::write(cache_path(&engine, EMBEDDED_COMPONENT, dir.path()), b"garbage").unwrap();
        let (_, outcome) = load_component(&engine, EMBEDDED_COMPONENT, Some(dir.path())).unwrap();
        assert_eq!(outcome, CacheOutcome::Compiled);
    }

    #[test]
    fn not_a_component_is_a_clear_error() {
        let engine = new_engine().unwrap();
        let err = load_component(&engine, b"\0asm nonsense", None).unwrap_err();
        assert!(format!("{err:#}").contains("not a valid WebAssembly component"));
    }
}
