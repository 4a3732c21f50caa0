//! A small leveled logger writing to a caller-chosen sink (the CLI's stderr, or a buffer in
//! tests). Per invocation rather than global, so parallel in-process runs do not mix.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Verbosity, from quietest to loudest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        })
    }
}

/// Cloneable handle to one log sink.
#[derive(Clone)]
pub struct Logger {
    max: Level,
    sink: Arc<Mutex<dyn Write + Send>>,
}

impl Logger {
    pub fn new(max: Level, sink: impl Write + Send + 'static) -> Self {
        Logger { max, sink: Arc::new(Mutex::new(sink)) }
    }

    /// A logger that drops everything.
    pub fn silent() -> Self {
        Logger::new(Level::Error, std::io::sink())
    }

    pub fn enabled(&self, level: Level) -> bool {
        level <= self.max
    }

    /// Writes a plain line (a CLI message) whatever the level.
    pub fn say(&self, message: impl fmt::Display) {
        let mut sink = self.sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = writeln!(sink, "{message}");
    }

    /// Writes `message` under `source` (e.g. `guest`, `http`) if `level` is enabled.
    pub fn log(&self, level: Level, source: &str, message: impl fmt::Display) {
        if self.enabled(level) {
            let mut sink = self.sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // A closed stderr must not fail the operation being logged.
            let _ = writeln!(sink, "[{level}] {source}: {message}");
        }
    }
}
