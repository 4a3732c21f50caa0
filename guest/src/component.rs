//! The component boundary: WIT exports call [`Connector`], whose [`Host`] and [`Transport`]
//! are the WIT `host` imports and waki's wasi:http client.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::bindings::exports::iga::gotomeeting::connector::{
    AccountFields, AccountPage, AccountQuery, ConnectionInfo, DeleteMode, EntitlementPage, EntitlementQuery, Guest,
    NewAccount, WriteOptions, WriteOutcome,
};
use crate::bindings::iga::gotomeeting::host::{self as wit_host, HostError};
use crate::connector::Connector;
use crate::error::{config, transport};
use crate::host::{Host, LogLevel};
use crate::transport::{HttpRequest, HttpResponse, Method, Transport};
use crate::types::{Account, ConnectorError, EntitlementKind, EntitlementRef};

/// Waki sets only the connect timeout; the host clamps the others and the total deadline.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

struct Component;

fn with_connector<T>(operation: impl FnOnce(&Connector) -> Result<T, ConnectorError>) -> Result<T, ConnectorError> {
    operation(&Connector::new(&WitHost, &WakiTransport)?)
}

impl Guest for Component {
    fn test_connection() -> Result<ConnectionInfo, ConnectorError> {
        with_connector(|c| c.test_connection())
    }
    fn list_accounts(query: AccountQuery) -> Result<AccountPage, ConnectorError> {
        with_connector(|c| c.list_accounts(&query))
    }
    fn get_account(key: String) -> Result<Account, ConnectorError> {
        with_connector(|c| c.get_account(&key))
    }
    fn list_entitlements(kind: EntitlementKind, query: EntitlementQuery) -> Result<EntitlementPage, ConnectorError> {
        with_connector(|c| c.list_entitlements(kind, &query))
    }
    fn create_account(account: NewAccount, options: WriteOptions) -> Result<WriteOutcome, ConnectorError> {
        with_connector(|c| c.create_account(&account, options))
    }
    fn update_account(key: String, changes: AccountFields, options: WriteOptions) -> Result<WriteOutcome, ConnectorError> {
        with_connector(|c| c.update_account(&key, &changes, options))
    }
    fn delete_account(key: String, mode: DeleteMode, options: WriteOptions) -> Result<WriteOutcome, ConnectorError> {
        with_connector(|c| c.delete_account(&key, mode, options))
    }
    fn add_access(account_key: String, entitlement: EntitlementRef, options: WriteOptions) -> Result<WriteOutcome, ConnectorError> {
        with_connector(|c| c.add_access(&account_key, &entitlement, options))
    }
    fn remove_access(account_key: String, entitlement: EntitlementRef, options: WriteOptions) -> Result<WriteOutcome, ConnectorError> {
        with_connector(|c| c.remove_access(&account_key, &entitlement, options))
    }
}

crate::bindings::export!(Component with_types_in crate::bindings);

struct WitHost;

fn host_failure(name: &str, error: HostError) -> ConnectorError {
    match error {
        HostError::Denied(why) => config(name, format!("the host refused access to secret {name}: {why}")),
        HostError::Unavailable(why) => config(name, format!("the host's secret store failed for {name}: {why}")),
    }
}

impl Host for WitHost {
    fn setting(&self, key: &str) -> Option<String> {
        wit_host::get_setting(key)
    }
    fn secret(&self, name: &str) -> Result<Option<String>, ConnectorError> {
        wit_host::get_secret(name).map_err(|e| host_failure(name, e))
    }
    fn set_secret(&self, name: &str, value: &str) -> Result<(), ConnectorError> {
        wit_host::set_secret(name, value).map_err(|e| host_failure(name, e))
    }
    fn log(&self, level: LogLevel, message: &str) {
        wit_host::log(level, message);
    }
    fn now_unix(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

struct WakiTransport;

impl Transport for WakiTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let method = match request.method {
            Method::Get => waki::Method::Get,
            Method::Post => waki::Method::Post,
            Method::Put => waki::Method::Put,
            Method::Delete => waki::Method::Delete,
        };
        let mut builder = waki::Client::new()
            .request(method, &request.url)
            .headers(request.headers.iter().map(|(k, v)| (*k, v.as_str())))
            .connect_timeout(CONNECT_TIMEOUT);
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let what = format!("{} {}", request.method.as_str(), crate::retry::path_of(&request.url));
        let response = builder.send().map_err(|e| exchange_failure(&what, &request.url, e))?;
        let status = response.status_code();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        let body = response.body().map_err(|e| exchange_failure(&what, &request.url, e))?;
        Ok(HttpResponse { status, headers, body })
    }
}

fn exchange_failure(what: &str, url: &str, error: anyhow::Error) -> ConnectorError {
    let origin = url.split('/').take(3).collect::<Vec<_>>().join("/");
    match error.downcast_ref::<waki::ErrorCode>() {
        Some(waki::ErrorCode::HttpRequestDenied) => transport(format!(
            "{what}: the host's egress policy denied the request to {origin}; only the configured api-base and token-base hosts are allowed"
        )),
        Some(code) => transport(format!("{what} to {origin} failed: {code:?}")),
        None => transport(format!("{what} to {origin} failed: {error:#}")),
    }
}
