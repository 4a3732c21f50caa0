//! Accepting request targets that GoTo's Java stack accepts but the `http` crate refuses.
//!
//! Clients send filters like `?filter=(email="a@b.com")` with raw quotes (curl does). hyper rejects
//! a raw `"` (and `<`, `>`, a space) in the query with 400 before any handler runs, so this listener
//! percent-encodes those bytes in each HTTP/1 request line on the way in. Only request lines are
//! touched: the scanner follows `Content-Length` and chunked bodies to know where the next request
//! starts, and gives up (passes bytes through unchanged) on anything it does not understand.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Longest request, header or chunk-size line the scanner buffers before giving up.
const MAX_LINE: usize = 64 * 1024;

/// A TCP listener whose connections have their request lines repaired.
pub(crate) struct LenientListener(pub TcpListener);

impl Listener for LenientListener {
    type Io = LenientStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        // Small responses must not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        (LenientStream { inner: stream, scanner: Scanner::default(), out: Vec::new(), pos: 0 }, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// Where the scanner is in the HTTP/1 byte stream.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum State {
    #[default]
    RequestLine,
    Headers {
        content_length: u64,
        chunked: bool,
        upgrade: bool,
    },
    Body(u64),
    ChunkSize,
    /// Chunk bytes left, including the CRLF after them.
    ChunkData(u64),
    Trailers,
    Passthrough,
}

#[derive(Default)]
struct Scanner {
    state: State,
    line: Vec<u8>,
}

impl Scanner {
    /// Consumes `input`, appending the (possibly rewritten) bytes to `out`.
    fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.state {
                State::Passthrough => {
                    out.extend_from_slice(input);
                    return;
                }
                State::Body(left) | State::ChunkData(left) => {
                    let n = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    let left = left - n as u64;
                    self.state = match (self.state, left) {
                        (State::Body(_), 0) => State::RequestLine,
                        (State::Body(_), _) => State::Body(left),
                        (_, 0) => State::ChunkSize,
                        _ => State::ChunkData(left),
                    };
                }
                _ => {
                    let Some(end) = input.iter().position(|&b| b == b'\n') else {
                        self.line.extend_from_slice(input);
                        if self.line.len() > MAX_LINE {
                            self.give_up(out);
                        }
                        return;
                    };
                    self.line.extend_from_slice(&input[..=end]);
                    input = &input[end + 1..];
                    let line = std::mem::take(&mut self.line);
                    self.line_done(&line, out);
                }
            }
        }
    }

    /// Emits whatever is buffered unchanged and stops interpreting the stream.
    fn give_up(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.line);
        self.state = State::Passthrough;
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let text = trim_eol(line);
        if self.state == State::RequestLine && !text.is_empty() {
            match fix_request_line(text) {
                Some(fixed) => {
                    out.extend_from_slice(&fixed);
                    out.extend_from_slice(&line[text.len()..]);
                    self.state = State::Headers { content_length: 0, chunked: false, upgrade: false };
                }
                None => {
                    out.extend_from_slice(line);
                    self.state = State::Passthrough;
                }
            }
            return;
        }
        out.extend_from_slice(line);
        self.state = match self.state {
            State::Headers { content_length, chunked, upgrade } if text.is_empty() => {
                if upgrade {
                    State::Passthrough
                } else if chunked {
                    State::ChunkSize
                } else if content_length > 0 {
                    State::Body(content_length)
                } else {
                    State::RequestLine
                }
            }
            State::Headers { mut content_length, mut chunked, mut upgrade } => {
                let header = String::from_utf8_lossy(text);
                let (name, value) = header.split_once(':').unwrap_or((&header, ""));
                let (name, value) = (name.trim(), value.trim());
                if name.eq_ignore_ascii_case("content-length") {
                    match value.parse() {
                        Ok(n) => content_length = n,
                        // Not ours to judge: stop interpreting once the headers end.
                        Err(_) => upgrade = true,
                    }
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.to_ascii_lowercase().contains("chunked");
                } else if name.eq_ignore_ascii_case("upgrade") {
                    upgrade = true;
                }
                State::Headers { content_length, chunked, upgrade }
            }
            State::ChunkSize => {
                let size = String::from_utf8_lossy(text);
                let size = size.split(';').next().unwrap_or_default().trim();
                match u64::from_str_radix(size, 16) {
                    Ok(0) => State::Trailers,
                    Ok(n) => n.checked_add(2).map_or(State::Passthrough, State::ChunkData),
                    Err(_) => State::Passthrough,
                }
            }
            State::Trailers if text.is_empty() => State::RequestLine,
            // Blank lines between requests (RFC 9112 §2.2) and trailer fields.
            other => other,
        };
    }
}

fn looks_like_request_line(text: &[u8]) -> bool {
    text.ends_with(b" HTTP/1.1") || text.ends_with(b" HTTP/1.0")
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `METHOD SP target SP HTTP/1.x` with the bytes `http` refuses percent-encoded in the target.
/// `None` for anything that is not an HTTP/1 request line.
fn fix_request_line(text: &[u8]) -> Option<Vec<u8>> {
    if !looks_like_request_line(text) {
        return None;
    }
    let first = text.iter().position(|&b| b == b' ')?;
    let last = text.iter().rposition(|&b| b == b' ')?;
    if first >= last {
        return None;
    }
    let mut fixed = Vec::with_capacity(text.len() + 16);
    fixed.extend_from_slice(&text[..=first]);
    for &b in &text[first + 1..last] {
        match b {
            b'"' | b'<' | b'>' | b' ' | b'`' => fixed.extend_from_slice(format!("%{b:02X}").as_bytes()),
            _ => fixed.push(b),
        }
    }
    fixed.extend_from_slice(&text[last..]);
    Some(fixed)
}

/// A connection whose incoming request lines pass through the [`Scanner`].
pub(crate) struct LenientStream<S> {
    inner: S,
    scanner: Scanner,
    out: Vec<u8>,
    pos: usize,
}

impl<S: AsyncRead + Unpin> AsyncRead for LenientStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pos < this.out.len() {
                let n = buf.remaining().min(this.out.len() - this.pos);
                buf.put_slice(&this.out[this.pos..this.pos + n]);
                this.pos += n;
                if this.pos == this.out.len() {
                    this.out.clear();
                    this.pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.scanner.state == State::Passthrough {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            let mut chunk = [0u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                // EOF: release a partial line so hyper can report it, then EOF.
                this.scanner.give_up(&mut this.out);
                if this.out.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            this.scanner.feed(read.filled(), &mut this.out);
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LenientStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes.
    fn scan(input: &[u8], step: usize) -> Vec<u8> {
        let mut scanner = Scanner::default();
        let mut out = Vec::new();
        for piece in input.chunks(step) {
            scanner.feed(piece, &mut out);
        }
        out
    }

    #[test]
    fn repairs_request_lines_only() {
        let input = concat!(
            "GET /u?filter=(email=\"a@b.com\")&x=a b HTTP/1.1\r\nHost: h\r\n\r\n",
            "POST /p?q=\"1\" HTTP/1.1\r\nContent-Length: 9\r\n\r\n{\"a\":\"b\"}",
            "\r\nPUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "5;ext\r\n\"x\"\"y\r\n0\r\nT: \"t\"\r\n\r\n",
            "GET /last?\"z\" HTTP/1.0\r\n\r\n",
        );
        let expected = concat!(
            "GET /u?filter=(email=%22a@b.com%22)&x=a%20b HTTP/1.1\r\nHost: h\r\n\r\n",
            "POST /p?q=%221%22 HTTP/1.1\r\nContent-Length: 9\r\n\r\n{\"a\":\"b\"}",
            "\r\nPUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "5;ext\r\n\"x\"\"y\r\n0\r\nT: \"t\"\r\n\r\n",
            "GET /last?%22z%22 HTTP/1.0\r\n\r\n",
        );
        for step in [1, 3, 7, 4096] {
            assert_eq!(String::from_utf8(scan(input.as_bytes(), step)).unwrap(), expected, "step {step}");
        }
    }

    #[test]
    fn leaves_what_it_does_not_understand() {
        let h2 = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\"binary\"";
        assert_eq!(scan(h2, 5), h2);
        let upgrade = b"GET / HTTP/1.1\r\nUpgrade: x\r\n\r\nGET /\"q\" HTTP/1.1\r\n";
        assert_eq!(scan(upgrade, 2), upgrade);
    }
}
