//! The component's stderr as log lines. What the guest writes there (a panic message, a stray
//! `eprintln!`) goes through the host's [`Logger`]: escaped for the terminal, behind the
//! progress bar, and into whatever sink the caller chose, never straight to the process's fd 2.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::log::{Level, Logger};

/// A line longer than this is logged in pieces, so a guest writing without newlines cannot
/// grow the host's memory.
const MAX_LINE: usize = 8 << 10;

/// Where the component's stderr goes: one log line per line written.
#[derive(Clone)]
pub(crate) struct GuestStderr {
    log: Logger,
    /// The unfinished last line.
    partial: Arc<Mutex<Vec<u8>>>,
}

impl GuestStderr {
    pub(crate) fn new(log: Logger) -> GuestStderr {
        GuestStderr { log, partial: Arc::default() }
    }

    fn take(&self, bytes: &[u8]) {
        let mut partial = self.partial.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        partial.extend_from_slice(bytes);
        loop {
            let cut = match partial.iter().position(|b| *b == b'\n') {
                Some(newline) => (newline + 1).min(MAX_LINE),
                None if partial.len() >= MAX_LINE => MAX_LINE,
                None => break,
            };
            let line: Vec<u8> = partial.drain(..cut).collect();
            let text = String::from_utf8_lossy(&line);
            self.log.log(Level::Warn, "guest stderr", text.trim_end_matches(['\n', '\r']));
        }
    }
}

impl IsTerminal for GuestStderr {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestStderr {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for GuestStderr {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.take(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_LINE)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestStderr {
    async fn ready(&mut self) {}
}

impl AsyncWrite for GuestStderr {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.take(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_become_escaped_log_lines_and_long_ones_are_cut() {
        let buffer = Buffer::default();
        let mut stderr = GuestStderr::new(Logger::new(Level::Warn, buffer.clone()));
        stderr.write(Bytes::from_static(b"panicked at src/x.rs:1:\n\x1b[2Kboom")).unwrap();
        stderr.write(Bytes::from_static(b"!\r\n")).unwrap();
        stderr.write(Bytes::from(vec![b'a'; MAX_LINE + 1])).unwrap();
        let written = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = written.lines().collect();
        assert_eq!(
            lines[..2],
            ["[warn] guest stderr: panicked at src/x.rs:1:", "[warn] guest stderr: \\u{1b}[2Kboom!"]
        );
        assert_eq!(lines.len(), 3, "one line of MAX_LINE bytes; the last byte waits for more");
        assert_eq!(lines[2].len(), "[warn] guest stderr: ".len() + MAX_LINE);
    }
}
