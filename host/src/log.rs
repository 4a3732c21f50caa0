//! A small leveled logger writing to a caller-chosen sink (the CLI's stderr, or a buffer in
//! tests). Per invocation rather than global, so parallel in-process runs do not mix.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use indicatif::ProgressBar;

/// Logging must work even after a panic elsewhere poisoned the lock.
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

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
    /// A progress bar drawn on the same terminal, hidden while a line is written.
    progress: Arc<Mutex<Option<ProgressBar>>>,
}

impl Logger {
    pub fn new(max: Level, sink: impl Write + Send + 'static) -> Self {
        Logger { max, sink: Arc::new(Mutex::new(sink)), progress: Arc::default() }
    }

    /// Lines are written around `bar` until [`Logger::clear_progress`].
    pub fn set_progress(&self, bar: ProgressBar) {
        *lock(&self.progress) = Some(bar);
    }

    pub fn clear_progress(&self) {
        *lock(&self.progress) = None;
    }

    fn write_line(&self, line: fmt::Arguments<'_>) {
        let write = || {
            // A closed stderr must not fail the operation being logged.
            let _ = writeln!(lock(&self.sink), "{line}");
        };
        match lock(&self.progress).as_ref() {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
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
        self.write_line(format_args!("{message}"));
    }

    /// Writes `message` under `source` (e.g. `guest`, `http`) if `level` is enabled.
    pub fn log(&self, level: Level, source: &str, message: impl fmt::Display) {
        if self.enabled(level) {
            self.write_line(format_args!("[{level}] {source}: {message}"));
        }
    }
}
