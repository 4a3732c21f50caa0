//! The connector's `host` interface on standard WASI interfaces, for the portable build: the
//! connector component composed with this adapter runs on a stock runtime such as the `wasmtime`
//! CLI (`-S http -S config -S keyvalue`).
//!
//! - Settings and secrets are config keys of the same name (`-S config-var=client-id=…`).
//! - Secrets the connector stores (the cached access token, a rotated refresh token) go to the
//!   wasi:keyvalue bucket named by the `token-store` setting (default: the empty identifier, which
//!   is wasmtime's in-memory store) and are read back before the config. When no bucket opens they
//!   are kept in memory for this instance only, and a warning says what that loses.
//! - Logs go to stderr; `debug` lines only when the `log-level` setting is `debug`.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

mod bindings {
    wit_bindgen::generate!({
        world: "iga:gotomeeting-portable/adapter",
        path: ["../../wit", "../wit"],
        // The adapter's own minimal copies of these interfaces (portable/wit/deps).
        generate_all,
        pub_export_macro: true,
    });
}

use bindings::exports::iga::gotomeeting::host::{Guest, HostError, LogLevel};
use bindings::wasi::config::store as config;
use bindings::wasi::keyvalue::store::{self as keyvalue, Bucket};

/// Where the connector's stored secrets live for this instance.
enum TokenStore {
    /// The runtime's key-value bucket.
    Bucket(Bucket),
    /// No bucket opened: this instance's memory, gone when it ends.
    Memory(RefCell<HashMap<String, String>>),
}

thread_local! {
    // Opened on first use, so a run that stores nothing never touches wasi:keyvalue.
    static TOKENS: OnceCell<TokenStore> = const { OnceCell::new() };
}

fn with_tokens<T>(f: impl FnOnce(&TokenStore) -> T) -> T {
    TOKENS.with(|cell| f(cell.get_or_init(open_token_store)))
}

fn open_token_store() -> TokenStore {
    let identifier = setting("token-store").unwrap_or_default();
    match keyvalue::open(&identifier) {
        Ok(bucket) => TokenStore::Bucket(bucket),
        Err(e) => {
            write_log(
                LogLevel::Warn,
                &format!(
                    "no wasi:keyvalue bucket `{identifier}` ({}): tokens the connector stores are kept in \
                     memory for this run only, so a rotated refresh token is lost when it ends",
                    describe_keyvalue(&e)
                ),
            );
            TokenStore::Memory(RefCell::default())
        }
    }
}

/// A config value; a config error reads as unset, since `get-setting` cannot fail.
fn setting(key: &str) -> Option<String> {
    config::get(key).ok().flatten()
}

fn describe_keyvalue(e: &keyvalue::Error) -> String {
    match e {
        keyvalue::Error::NoSuchStore => "no such store".to_owned(),
        keyvalue::Error::AccessDenied => "access denied".to_owned(),
        keyvalue::Error::Other(message) => message.clone(),
    }
}

fn keyvalue_error(name: &str, e: &keyvalue::Error) -> HostError {
    let message = format!("wasi:keyvalue failed for `{name}`: {}", describe_keyvalue(e));
    match e {
        keyvalue::Error::AccessDenied => HostError::Denied(message),
        keyvalue::Error::NoSuchStore | keyvalue::Error::Other(_) => HostError::Unavailable(message),
    }
}

fn stored_secret(name: &str) -> Result<Option<String>, HostError> {
    with_tokens(|tokens| match tokens {
        TokenStore::Bucket(bucket) => match bucket.get(name).map_err(|e| keyvalue_error(name, &e))? {
            Some(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
                HostError::Unavailable(format!("wasi:keyvalue holds a value for `{name}` that is not UTF-8"))
            }),
            None => Ok(None),
        },
        TokenStore::Memory(memory) => Ok(memory.borrow().get(name).cloned()),
    })
}

fn write_log(level: LogLevel, message: &str) {
    let name = match level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    eprintln!("{name}: {message}");
}

struct Adapter;

impl Guest for Adapter {
    fn get_setting(key: String) -> Option<String> {
        setting(&key)
    }

    fn get_secret(name: String) -> Result<Option<String>, HostError> {
        if let Some(stored) = stored_secret(&name)? {
            return Ok(Some(stored));
        }
        config::get(&name).map_err(|e| {
            let (config::Error::Upstream(message) | config::Error::Io(message)) = e;
            HostError::Unavailable(format!("wasi:config failed for `{name}`: {message}"))
        })
    }

    fn set_secret(name: String, value: String) -> Result<(), HostError> {
        with_tokens(|tokens| match tokens {
            TokenStore::Bucket(bucket) => bucket.set(&name, value.as_bytes()).map_err(|e| keyvalue_error(&name, &e)),
            TokenStore::Memory(memory) => {
                memory.borrow_mut().insert(name, value);
                Ok(())
            }
        })
    }

    fn log(level: LogLevel, message: String) {
        if level != LogLevel::Debug || setting("log-level").as_deref() == Some("debug") {
            write_log(level, &message);
        }
    }
}

bindings::export!(Adapter with_types_in bindings);
