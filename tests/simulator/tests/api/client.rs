//! A deliberately raw HTTP/1.1 client: it sends the request target byte for byte (raw quotes
//! included) and exposes the exact response bytes (for truncation checks).

use std::io::{Read, Write};
use std::net::TcpStream;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gotosim::{SimConfig, Simulator};
use serde_json::Value;

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The first error code of an Admin error envelope.
    pub fn code(&self) -> String {
        self.json()["errors"][0]["code"].as_str().unwrap_or_default().to_owned()
    }
}

pub fn send(base: &str, method: &str, target: &str, headers: &[(&str, String)], body: Option<&str>) -> Resp {
    let host = base.strip_prefix("http://").expect("http base url");
    let mut stream = TcpStream::connect(host).expect("connect");
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        request.push_str("\r\n");
    }
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    parse(&raw)
}

fn parse(raw: &[u8]) -> Resp {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Resp { status, headers, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size = usize::from_str_radix(std::str::from_utf8(&data[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

pub fn basic(id: &str, secret: &str) -> (&'static str, String) {
    ("Authorization", format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))))
}

/// A simulator plus a valid access token; rate limiting off unless the config sets it.
pub struct Api {
    pub sim: Simulator,
    pub base: String,
    pub token: String,
    pub account: String,
}

impl Api {
    pub fn start(seed: u64) -> Api {
        let mut config = SimConfig::new(seed);
        config.knobs.rate_limit_per_sec = None;
        Api::with(config)
    }

    pub fn with(config: SimConfig) -> Api {
        let sim = Simulator::start(config).expect("start");
        let base = sim.base_url();
        let account = sim.account_key();
        let mut api = Api { sim, base, token: String::new(), account };
        api.token = api.refresh_access_token();
        api
    }

    /// `POST /oauth/token` with the client's Basic credentials and the given form body.
    pub fn token_request(&self, form: &str) -> Resp {
        let c = self.sim.credentials();
        let headers = [basic(&c.client_id, &c.client_secret), form_type()];
        send(&self.base, "POST", "/oauth/token", &headers, Some(form))
    }

    pub fn refresh_access_token(&self) -> String {
        let refresh = self.sim.credentials().refresh_token;
        let resp = self.token_request(&format!("grant_type=refresh_token&refresh_token={refresh}"));
        assert_eq!(resp.status, 200, "{}", resp.text());
        resp.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// `/admin/rest/v1/accounts/{account}{rest}`.
    pub fn acct(&self, rest: &str) -> String {
        format!("/admin/rest/v1/accounts/{}{rest}", self.account)
    }

    pub fn call(&self, method: &str, target: &str, body: Option<&str>) -> Resp {
        let mut headers = vec![("Authorization", format!("Bearer {}", self.token))];
        if body.is_some() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        send(&self.base, method, target, &headers, body)
    }

    pub fn get(&self, target: &str) -> Resp {
        self.call("GET", target, None)
    }

    /// GET that must succeed; returns the JSON.
    pub fn get_ok(&self, target: &str) -> Value {
        let resp = self.get(target);
        assert_eq!(resp.status, 200, "GET {target}: {}", resp.text());
        resp.json()
    }
}

pub fn form_type() -> (&'static str, String) {
    ("Content-Type", "application/x-www-form-urlencoded".to_owned())
}

/// The `key` fields of a list page, as strings.
pub fn keys(page: &Value) -> Vec<String> {
    page["results"].as_array().unwrap().iter().map(|u| u["key"].as_str().unwrap().to_owned()).collect()
}
