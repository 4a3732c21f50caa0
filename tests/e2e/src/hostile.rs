//! A GoTo look-alike that misbehaves on purpose.
//!
//! The simulator shares the connector's assumptions about GoTo; this server shares none. It
//! speaks just enough HTTP/1.1 by hand to answer each request with whatever the test's script
//! says, byte for byte: lying totals, error envelopes sent with 200, redirects, bodies that drip,
//! stop half-way or never end, connections closed without an answer. Everything a script does
//! not answer gets a 404, so a test sees exactly the traffic it planned for.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

/// The account the standard `/me` answer administers.
pub const ACCOUNT_KEY: &str = "4242424242424242421";
/// The access token the standard token answer issues.
pub const ACCESS_TOKEN: &str = "hostile-access-token-5b1e6f0c";

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// Query parameters, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A numeric query parameter, or `default` when absent or not a number.
    pub fn number(&self, name: &str, default: u64) -> u64 {
        self.param(name).and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn is_token(&self) -> bool {
        self.method == "POST" && self.path == "/oauth/token"
    }

    /// `GET …/accounts/{key}/users`, the account listing.
    pub fn is_user_listing(&self) -> bool {
        self.method == "GET" && self.path.ends_with("/users") && self.path.contains("/accounts/")
    }
}

/// How the server answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A JSON body with this status.
    Json(u16, Value),
    /// Any status, headers and body; `Content-Length` is added from the body.
    Raw { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// The status line and headers declare `declared` bytes (or none, then the connection's
    /// end would end the body), then `chunk` is sent `times` times, `every` apart.
    Drip { status: u16, declared: Option<usize>, chunk: Vec<u8>, every: Duration, times: usize },
    /// Headers announcing `body.len()` bytes, then only the first `sent` of them, then the
    /// connection is closed.
    CutOff { status: u16, body: Vec<u8>, sent: usize },
    /// The connection is closed without a byte sent back.
    Reset,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply::Json(200, body)
    }

    pub fn not_found() -> Reply {
        Reply::Json(
            404,
            json!({"incidentId": "hostile-404", "errors": [{"code": "NOT_FOUND", "value": "nothing here"}]}),
        )
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Raw { status, headers: vec![("Location".into(), location.into())], body: Vec::new() }
    }
}

type Script = dyn Fn(&Request) -> Reply + Send + Sync;

/// The running server; stops accepting when dropped.
pub struct Hostile {
    base: String,
    seen: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl Hostile {
    /// Serves every request with `script`.
    pub fn start(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (script, seen, stop) = (script.clone(), seen.clone(), stop.clone());
                    thread::spawn(move || serve(stream, &*script, &seen, &stop));
                }
            });
        }
        Hostile { base: format!("http://{addr}"), seen, stop, addr }
    }

    /// A GoTo look-alike: the standard token and `/me` answers, everything else from `script`.
    pub fn goto(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Hostile {
        Hostile::start(move |req| standard(req).unwrap_or_else(|| script(req)))
    }

    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    /// How many received requests `which` selects.
    pub fn count(&self, which: impl Fn(&Request) -> bool) -> usize {
        self.seen.lock().unwrap().iter().filter(|r| which(r)).count()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The token endpoint and `/me` as GoTo answers them; `None` for any other request.
pub fn standard(req: &Request) -> Option<Reply> {
    if req.is_token() {
        return Some(token_reply(json!(3600)));
    }
    if req.method == "GET" && req.path.ends_with("/me") {
        return Some(Reply::ok(json!({
            "key": "4242424242424242400",
            "email": "admin@hostile.example",
            "accountKey": ACCOUNT_KEY,
            "accounts": [{"key": ACCOUNT_KEY, "name": "Hostile Inc."}],
            "adminRoles": ["SUPER_USER"],
        })));
    }
    None
}

/// A token grant carrying [`ACCESS_TOKEN`] with this `expires_in`.
pub fn token_reply(expires_in: Value) -> Reply {
    Reply::ok(json!({"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": expires_in}))
}

/// User number `i`, as GoTo lists it.
pub fn user(i: u64) -> Value {
    json!({
        "key": format!("{}", 7_000_000_000_000_000_000u64 + i),
        "email": format!("user{i}@hostile.example"),
        "firstName": "User",
        "lastName": format!("Number{i}"),
        "status": "ACTIVE",
        "locale": "en_US",
    })
}

/// The page of `all` that `req`'s `offset` and `pageSize` ask for, with the true total.
pub fn page_of(req: &Request, all: &[Value]) -> Reply {
    let offset = req.number("offset", 0) as usize;
    let size = req.number("pageSize", 50) as usize;
    let results: Vec<Value> = all.iter().skip(offset).take(size).cloned().collect();
    Reply::ok(json!({"results": results, "total": all.len()}))
}

fn serve(stream: TcpStream, script: &Script, seen: &Mutex<Vec<Request>>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        seen.lock().unwrap().push(req.clone());
        let keep_going = answer(&mut writer, script(&req), stop).is_ok();
        if !keep_going {
            break;
        }
    }
}

/// Reads one request, or `None` at the connection's end or on anything unreadable.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = form_pairs(query);
    Some(Request { method, path: path.to_owned(), query, headers, body })
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%').then(|| text.get(i + 1..i + 3)).flatten();
        match (bytes[i], escaped.and_then(|hex| u8::from_str_radix(hex, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (b'+', _) => out.push(b' '),
            (byte, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `reply`; an error means the connection is finished.
fn answer(w: &mut TcpStream, reply: Reply, stop: &AtomicBool) -> std::io::Result<()> {
    match reply {
        Reply::Json(status, body) => {
            let headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
            write_whole(w, status, &headers, &serde_json::to_vec(&body).unwrap())
        }
        Reply::Raw { status, headers, body } => write_whole(w, status, &headers, &body),
        Reply::Drip { status, declared, chunk, every, times } => {
            let length = declared.map(|n| format!("Content-Length: {n}\r\n")).unwrap_or_default();
            write!(w, "HTTP/1.1 {status} Hostile\r\nContent-Type: application/json\r\n{length}\r\n")?;
            for _ in 0..times {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                w.write_all(&chunk)?;
                w.flush()?;
                thread::sleep(every);
            }
            close(w)
        }
        Reply::CutOff { status, body, sent } => {
            write!(
                w,
                "HTTP/1.1 {status} Hostile\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )?;
            w.write_all(&body[..sent.min(body.len())])?;
            close(w)
        }
        Reply::Reset => close(w),
    }
}

fn write_whole(w: &mut TcpStream, status: u16, headers: &[(String, String)], body: &[u8]) -> std::io::Result<()> {
    write!(w, "HTTP/1.1 {status} Hostile\r\n")?;
    for (name, value) in headers {
        write!(w, "{name}: {value}\r\n")?;
    }
    write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
    w.write_all(body)?;
    w.flush()
}

/// Ends the connection: the reply is over, or was never going to be whole.
fn close(w: &mut TcpStream) -> std::io::Result<()> {
    let _ = w.flush();
    let _ = w.shutdown(Shutdown::Both);
    Err(std::io::ErrorKind::ConnectionAborted.into())
}
