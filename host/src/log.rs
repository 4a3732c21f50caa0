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
    /// `--quiet`: [`Logger::note`] lines are dropped.
    quiet: bool,
    sink: Arc<Mutex<dyn Write + Send>>,
    /// A progress bar drawn on the same terminal, hidden while a line is written.
    progress: Arc<Mutex<Option<ProgressBar>>>,
}

impl Logger {
    pub fn new(max: Level, sink: impl Write + Send + 'static) -> Self {
        Logger { max, quiet: false, sink: Arc::new(Mutex::new(sink)), progress: Arc::default() }
    }

    /// This logger, dropping [`Logger::note`] lines if `quiet`.
    pub fn quiet(self, quiet: bool) -> Self {
        Logger { quiet, ..self }
    }

    /// Lines are written around `bar` until [`Logger::clear_progress`].
    pub fn set_progress(&self, bar: ProgressBar) {
        *lock(&self.progress) = Some(bar);
    }

    pub fn clear_progress(&self) {
        *lock(&self.progress) = None;
    }

    fn write_line(&self, line: fmt::Arguments<'_>) {
        let text = line.to_string();
        let line = printable(&text);
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

    /// Writes a plain line that only reports what went well (a summary, a confirmation), which
    /// `--quiet` drops.
    pub fn note(&self, message: impl fmt::Display) {
        if !self.quiet {
            self.say(message);
        }
    }

    /// Writes `question` without ending the line, for an answer typed after it.
    pub fn ask(&self, question: impl fmt::Display) {
        let text = question.to_string();
        let mut sink = lock(&self.sink);
        let _ = write!(sink, "{}", printable(&text));
        let _ = sink.flush();
    }

    /// Writes `message` under `source` (e.g. `guest`, `http`) if `level` is enabled.
    pub fn log(&self, level: Level, source: &str, message: impl fmt::Display) {
        if self.enabled(level) {
            self.write_line(format_args!("[{level}] {source}: {message}"));
        }
    }
}

/// `text` with every control character but newline and tab escaped (`\u{1b}`): log lines and
/// text reports carry what GoTo and input files say (emails, names, error bodies), and a terminal would
/// obey an escape sequence in them (rewrite the title, hide lines, move the cursor).
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(unsafe_char) {
        return text.into();
    }
    text.chars()
        .map(|c| if unsafe_char(c) { c.escape_default().to_string() } else { c.to_string() })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_reach_the_terminal_without_its_control_characters() {
        let buffer = Buffer::default();
        let log = Logger::new(Level::Debug, buffer.clone());
        log.say("orphan: 1 <a\u{1b}]0;pwned\u{7}@x.example>\r\n  next\tline \u{9b}2J");
        log.log(Level::Warn, "guest", "\u{1b}[2K");
        let written = String::from_utf8(lock(&buffer.0).clone()).unwrap();
        assert_eq!(
            written,
            "orphan: 1 <a\\u{1b}]0;pwned\\u{7}@x.example>\\r\n  next\tline \\u{9b}2J\n[warn] guest: \\u{1b}[2K\n"
        );
    }

    #[test]
    fn quiet_drops_notes_and_keeps_what_must_be_said() {
        let buffer = Buffer::default();
        let log = Logger::new(Level::Warn, buffer.clone()).quiet(true);
        log.note("imported 3 accounts");
        log.say("error: it failed");
        log.log(Level::Warn, "host", "careful");
        let written = String::from_utf8(lock(&buffer.0).clone()).unwrap();
        assert_eq!(written, "error: it failed\n[warn] host: careful\n");
    }
}
