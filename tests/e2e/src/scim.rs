//! `gtm-connector serve` for the SCIM suites: the real service (the library's [`Service`], the
//! same one the CLI starts) on a loopback port the OS chooses, for a harness's profile, and a
//! small SCIM client. The service's log (at debug, all there is) is swept for secrets, the
//! bearer token included, when it stops.

use std::sync::{Arc, Mutex};

use gtm_host::log::{Level, Logger};
use gtm_host::serve::{ServeOptions, Service};
use gtm_leaks::Secrets;
use serde_json::Value;

use crate::{Captured, Harness};

/// The bearer token the suites' clients present.
pub const TOKEN: &str = "scim-bearer-7c1d5e93a4b2";

/// A running service and its client.
pub struct Scim<'h> {
    h: &'h Harness,
    service: Option<Service>,
    pub base: String,
    log: Arc<Mutex<Vec<u8>>>,
    agent: ureq::Agent,
}

/// One answer: status, headers (names in lower case) and the body as JSON (null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Asserts `status` and returns the body, showing it on failure.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        self.body
    }

    /// Asserts a SCIM error with this status and `scimType`, whose detail says `says`.
    #[track_caller]
    pub fn error(self, status: u16, scim_type: Option<&str>, says: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{}", self.body);
        assert_eq!(self.body["status"], status.to_string(), "{}", self.body);
        assert_eq!(self.body["scimType"].as_str(), scim_type, "{}", self.body);
        let detail = self.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "the detail {detail:?} does not say {says:?}");
    }
}

impl<'h> Scim<'h> {
    /// Stores the bearer token and starts the service with the profile's settings.
    pub fn start(h: &'h Harness) -> Scim<'h> {
        Scim::start_with(h, |_| {})
    }

    /// Like [`Scim::start`], with the options changed by `adjust`.
    pub fn start_with(h: &'h Harness, adjust: impl FnOnce(&mut ServeOptions)) -> Scim<'h> {
        Scim::try_start(h, adjust).unwrap_or_else(|e| panic!("the service starts: {e:#}"))
    }

    /// Starts the service, or says why it would not.
    pub fn try_start(h: &'h Harness, adjust: impl FnOnce(&mut ServeOptions)) -> anyhow::Result<Scim<'h>> {
        h.run_with_stdin(&["secrets", "set", "scim-token"], TOKEN).success();
        let log = Arc::new(Mutex::new(Vec::new()));
        let logger = Logger::new(Level::Debug, Captured(log.clone()));
        let connector = h.connector(logger.clone())?;
        let mut options = ServeOptions::from_profile(connector.profile());
        options.listen = "127.0.0.1:0".parse().unwrap();
        adjust(&mut options);
        let service = Service::start(&connector, options, logger)?;
        let base = service.base_url().to_owned();
        let config = ureq::Agent::config_builder().proxy(None).http_status_as_error(false).build();
        Ok(Scim { h, service: Some(service), base, log, agent: ureq::Agent::new_with_config(config) })
    }

    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path, Some(TOKEN), None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Answer {
        self.request("POST", path, Some(TOKEN), Some(body))
    }

    pub fn put(&self, path: &str, body: &Value) -> Answer {
        self.request("PUT", path, Some(TOKEN), Some(body))
    }

    pub fn patch(&self, path: &str, body: &Value) -> Answer {
        self.request("PATCH", path, Some(TOKEN), Some(body))
    }

    pub fn delete(&self, path: &str) -> Answer {
        self.request("DELETE", path, Some(TOKEN), None)
    }

    /// Any request below the base URL (or at the server's root, for a path starting with `//`).
    pub fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Answer {
        let url = match path.strip_prefix("//") {
            Some(root) => format!("{}/{root}", self.base.trim_end_matches("/scim/v2")),
            None => format!("{}{path}", self.base),
        };
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = body.map(Value::to_string).unwrap_or_default();
        if !body.is_empty() {
            request = request.header("content-type", "application/scim+json");
        }
        let mut response =
            self.agent.run(request.body(body).unwrap()).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        Answer { status: response.status().as_u16(), headers, body }
    }

    /// Every User, page after page of `count`, as the service lists them.
    pub fn all_users(&self, count: u64) -> (u64, Vec<Value>) {
        let (mut users, mut start) = (Vec::new(), 1);
        loop {
            let page = self.get(&format!("/Users?startIndex={start}&count={count}")).expect(200);
            let resources = page["Resources"].as_array().cloned().unwrap_or_default();
            let total = page["totalResults"].as_u64().unwrap();
            if resources.is_empty() {
                return (total, users);
            }
            start += resources.len() as u64;
            users.extend(resources);
        }
    }

    /// What the service logged so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    /// Stops the service (requests in flight finish) and returns its log.
    pub fn stop(mut self) -> String {
        self.service.take().map(Service::stop).transpose().expect("the service stops cleanly");
        self.log()
    }
}

impl Drop for Scim<'_> {
    fn drop(&mut self) {
        if let Some(service) = self.service.take() {
            let _ = service.stop();
        }
        if std::thread::panicking() {
            return;
        }
        let mut secrets = self.h.issued_secrets();
        secrets.push(TOKEN.to_owned());
        Secrets::new(secrets).assert_not_in("the SCIM service's log", &self.log());
    }
}
