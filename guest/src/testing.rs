//! Fakes for unit tests: a scripted transport and an in-memory host with a settable clock.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::error::transport;
use crate::host::{Host, LogLevel};
use crate::transport::{HttpRequest, HttpResponse, Transport};
use crate::types::ConnectorError;

/// Account fields with nothing set.
pub const NO_FIELDS: crate::wit::AccountFields =
    crate::wit::AccountFields { email: None, first_name: None, last_name: None, locale: None, time_zone: None };

pub fn json(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    }
}

impl HttpResponse {
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Answers requests with a fixed sequence of responses and records what was sent.
pub struct FakeTransport {
    responses: RefCell<VecDeque<HttpResponse>>,
    sent: RefCell<Vec<HttpRequest>>,
}

impl FakeTransport {
    pub fn sequence(responses: Vec<HttpResponse>) -> Self {
        FakeTransport { responses: RefCell::new(responses.into()), sent: RefCell::default() }
    }

    pub fn requests(&self) -> Vec<HttpRequest> {
        self.sent.borrow().clone()
    }
}

impl Transport for FakeTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, ConnectorError> {
        self.sent.borrow_mut().push(request.clone());
        self.responses.borrow_mut().pop_front().ok_or_else(|| transport("no scripted response left"))
    }
}

#[derive(Default)]
pub struct FakeHost {
    settings: HashMap<String, String>,
    secrets: RefCell<HashMap<String, String>>,
    now: Cell<u64>,
    slept: RefCell<Vec<Duration>>,
    read_only: Option<&'static str>,
    /// What `random_u64` returns; `None` is the top of the range (the longest jitter).
    random: Cell<Option<u64>>,
}

impl FakeHost {
    pub fn with_setting(mut self, key: &str, value: &str) -> Self {
        self.settings.insert(key.into(), value.into());
        self
    }

    pub fn with_secret(self, name: &str, value: &str) -> Self {
        self.secrets.borrow_mut().insert(name.into(), value.into());
        self
    }

    /// Makes `set_secret` of `name` fail, as a host with a broken store would.
    pub fn refusing_writes_of(mut self, name: &'static str) -> Self {
        self.read_only = Some(name);
        self
    }

    pub fn stored(&self, name: &str) -> Option<String> {
        self.secrets.borrow().get(name).cloned()
    }

    pub fn advance(&self, secs: u64) {
        self.now.set(self.now.get() + secs);
    }

    pub fn slept(&self) -> Vec<Duration> {
        self.slept.borrow().clone()
    }

    pub fn set_random(&self, value: u64) {
        self.random.set(Some(value));
    }
}

/// A host with client credentials and a fresh cached access token.
pub fn signed_in_host() -> FakeHost {
    FakeHost::default()
        .with_secret("client-id", "cid")
        .with_secret("client-secret", "cs")
        .with_secret("refresh-token", "rt")
        .with_secret("access-token", r#"{"token":"at","expires_at":3600,"refresh_after":2400}"#)
}

impl Host for FakeHost {
    fn setting(&self, key: &str) -> Option<String> {
        self.settings.get(key).cloned()
    }
    fn secret(&self, name: &str) -> Result<Option<String>, ConnectorError> {
        Ok(self.stored(name))
    }
    fn set_secret(&self, name: &str, value: &str) -> Result<(), ConnectorError> {
        if self.read_only == Some(name) {
            return Err(crate::error::config(name, "the store is read-only"));
        }
        self.secrets.borrow_mut().insert(name.into(), value.into());
        Ok(())
    }
    fn log(&self, _level: LogLevel, _message: &str) {}
    fn now_unix(&self) -> u64 {
        self.now.get()
    }
    fn sleep(&self, duration: Duration) {
        self.slept.borrow_mut().push(duration);
    }
    fn random_u64(&self) -> u64 {
        self.random.get().unwrap_or(u64::MAX)
    }
    fn check_template(&self, template: &str) -> Result<(), String> {
        gtm_templates::check(template)
    }
    fn render_template(&self, template: &str, identity: &[(String, String)]) -> Result<String, String> {
        gtm_templates::render(template, identity)
    }
    fn check_pattern(&self, pattern: &str) -> Result<(), String> {
        gtm_templates::check_pattern(pattern)
    }
    fn pattern_matches(&self, pattern: &str, value: &str) -> Result<bool, String> {
        gtm_templates::matches_pattern(pattern, value)
    }
}
