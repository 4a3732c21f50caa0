//! `native-vs-wasm [USERS] [ROUNDS]`: what the sandbox costs.
//!
//! Imports every account of a simulated GoTo account (page size 1000, rate limiting off) twice
//! per round: once with the guest's logic compiled natively (ureq as its transport), once through
//! the wasm component in the real host. Both build a fresh connector per page, as the component
//! does per call, and both talk HTTP to the same in-process simulator. Prints the median
//! throughput of each and their ratio. Run in release:
//!
//!     cargo run --release -p gtm-bench --bin native-vs-wasm -- 100000 5

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use gotosim::{SimConfig, Simulator};
use gtm_guest::types::{ConnectorError, ErrorInfo};
use gtm_guest::{Connector, Host, HttpRequest, HttpResponse, LogLevel, Transport};
use gtm_host::log::Logger;
use gtm_host::profile::{Overrides, Paths, Profile, ProfileFile};
use gtm_host::runtime::{AccountQuery, Connection, ConnectorRuntime};
use gtm_host::secrets::SecretStore;

const PAGE_SIZE: u32 = 1000;

fn main() -> Result<()> {
    let arg = |i: usize, default: usize| {
        std::env::args().nth(i).map_or(Ok(default), |a| a.parse()).context("arguments: [USERS] [ROUNDS]")
    };
    let (users, rounds) = (arg(1, 100_000)?, arg(2, 5)?);
    let mut config = SimConfig::sized(1, users, 20, 6);
    config.knobs.rate_limit_per_sec = None;
    let sim = Simulator::start(config)?;

    let native = NativeHost::for_sim(&sim);
    let http =
        UreqTransport(ureq::Agent::new_with_config(ureq::Agent::config_builder().http_status_as_error(false).build()));
    let home = tempfile::tempdir()?;
    let mut wasm = wasm_connection(&sim, home.path())?;

    // Warm up both paths (token, compiled code, connections) before measuring.
    import_native(&native, &http)?;
    import_wasm(&mut wasm)?;
    let (mut native_rates, mut wasm_rates) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        native_rates.push(rate(users, || import_native(&native, &http))?);
        wasm_rates.push(rate(users, || import_wasm(&mut wasm))?);
    }
    let (n, w) = (median(native_rates), median(wasm_rates));
    println!("| users | rounds | native accounts/s | wasm accounts/s | wasm / native |");
    println!("|---:|---:|---:|---:|---:|");
    println!("| {users} | {rounds} | {n:.0} | {w:.0} | {:.2} |", w / n);
    Ok(())
}

/// Accounts per second for one import, checking it read every account.
fn rate(users: usize, import: impl FnOnce() -> Result<usize>) -> Result<f64> {
    let started = Instant::now();
    let read = import()?;
    anyhow::ensure!(read == users, "read {read} accounts, expected {users}");
    Ok(read as f64 / started.elapsed().as_secs_f64())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn import_native(host: &NativeHost, http: &UreqTransport) -> Result<usize> {
    let (mut read, mut cursor) = (0, None);
    loop {
        let query = gtm_guest::wit::AccountQuery { filter: None, page_size: Some(PAGE_SIZE), cursor };
        let page = Connector::new(host, http).and_then(|c| c.list_accounts(&query)).map_err(|e| anyhow!("{e:?}"))?;
        read += page.accounts.len();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(read),
        }
    }
}

fn import_wasm(conn: &mut Connection) -> Result<usize> {
    let (mut read, mut cursor) = (0, None);
    loop {
        let page = conn.list_accounts(&AccountQuery { filter: None, page_size: Some(PAGE_SIZE), cursor })?;
        read += page.accounts.len();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(read),
        }
    }
}

fn wasm_connection(sim: &Simulator, home: &std::path::Path) -> Result<Connection> {
    let paths = Paths { home: home.to_owned(), cache: home.join("cache") };
    let credentials = sim.credentials();
    ProfileFile {
        api_base: Some(sim.base_url()),
        token_base: Some(sim.base_url()),
        account_key: Some(sim.account_key()),
        ..Default::default()
    }
    .save(&paths.profile_file("bench"))?;
    let mut secrets = SecretStore::open(paths.secrets_file("bench"), &Default::default())?;
    secrets.set("client-id", &credentials.client_id)?;
    secrets.set("client-secret", &credentials.client_secret)?;
    secrets.set("refresh-token", &credentials.refresh_token)?;
    let profile = Profile::load(&paths, "bench", &Default::default(), &Overrides::default())?;
    let runtime = ConnectorRuntime::load(gtm_host::engine::EMBEDDED_COMPONENT, Some(&paths.cache))?;
    runtime.connect(&profile, secrets, Logger::silent())
}

/// The guest's `Host` natively: settings and secrets in memory, the system clock.
struct NativeHost {
    settings: BTreeMap<&'static str, String>,
    secrets: RefCell<BTreeMap<String, String>>,
}

impl NativeHost {
    fn for_sim(sim: &Simulator) -> Self {
        let credentials = sim.credentials();
        NativeHost {
            settings: BTreeMap::from([
                ("api-base", sim.base_url()),
                ("token-base", sim.base_url()),
                ("account-key", sim.account_key()),
            ]),
            secrets: RefCell::new(BTreeMap::from([
                ("client-id".to_owned(), credentials.client_id),
                ("client-secret".to_owned(), credentials.client_secret),
                ("refresh-token".to_owned(), credentials.refresh_token),
            ])),
        }
    }
}

impl Host for NativeHost {
    fn setting(&self, key: &str) -> Option<String> {
        self.settings.get(key).cloned()
    }
    fn secret(&self, name: &str) -> Result<Option<String>, ConnectorError> {
        Ok(self.secrets.borrow().get(name).cloned())
    }
    fn set_secret(&self, name: &str, value: &str) -> Result<(), ConnectorError> {
        self.secrets.borrow_mut().insert(name.to_owned(), value.to_owned());
        Ok(())
    }
    fn log(&self, _level: LogLevel, _message: &str) {}
    fn now_unix(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
    fn random_u64(&self) -> u64 {
        rand::random()
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

/// The guest's `Transport` natively, over ureq.
struct UreqTransport(ureq::Agent);

impl Transport for UreqTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let failed =
            |e: &dyn std::fmt::Display| ConnectorError::Transport(ErrorInfo { message: e.to_string(), field: None });
        let mut builder = ureq::http::Request::builder().method(request.method.as_str()).uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let outgoing = builder.body(request.body.clone().unwrap_or_default()).map_err(|e| failed(&e))?;
        let mut response = self.0.run(outgoing).map_err(|e| failed(&e))?;
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = response.body_mut().with_config().limit(64 << 20).read_to_vec().map_err(|e| failed(&e))?;
        Ok(HttpResponse { status: response.status().as_u16(), headers, body })
    }
}
