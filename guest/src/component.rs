//! The component boundary: WIT exports call [`Connector`], whose [`Host`] and [`Transport`]
//! are the WIT `host` imports and a wasi:http client.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::bindings::exports::iga::gotomeeting::connector::{
    AccountChanges, AccountPage, AccountQuery, ConnectionInfo, ConsentGrant, ConsentRequest, DeleteMode,
    EntitlementPage, EntitlementQuery, Finding, GroupOutcome, Guest, NewAccount, TokenTiming, WriteOptions,
    WriteOutcome,
};
use crate::bindings::iga::gotomeeting::host::{self as wit_host, HostError};
use crate::bindings::iga::gotomeeting::templates as wit_templates;
use crate::connector::Connector;
use crate::cursor::Cursor;
use crate::error::config;
use crate::host::{Host, LogLevel};
use crate::types::{Account, ConnectorError, EntitlementKind, EntitlementRef};
use crate::wasi_transport::WasiTransport;

struct Component;

fn with_connector<T>(operation: impl FnOnce(&Connector) -> Result<T, ConnectorError>) -> Result<T, ConnectorError> {
    operation(&Connector::new(&WitHost, &WasiTransport)?)
}

impl Guest for Component {
    fn check_configuration() -> Result<(), ConnectorError> {
        with_connector(|c| c.check_configuration())
    }
    fn test_connection() -> Result<ConnectionInfo, ConnectorError> {
        with_connector(|c| c.test_connection())
    }
    fn consent_url(request: ConsentRequest) -> Result<String, ConnectorError> {
        with_connector(|c| c.consent_url(&request))
    }
    fn redeem_consent(grant: ConsentGrant) -> Result<(), ConnectorError> {
        with_connector(|c| c.redeem_consent(&grant))
    }
    fn cached_token() -> Result<Option<TokenTiming>, ConnectorError> {
        with_connector(|c| c.cached_token())
    }
    fn check_account_query(query: AccountQuery) -> Result<(), ConnectorError> {
        with_connector(|c| c.check_account_query(&query))
    }
    fn cursor_at(offset: u64) -> String {
        Cursor::at(offset)
    }
    fn probe() -> Result<Vec<Finding>, ConnectorError> {
        with_connector(|c| c.probe())
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
    fn update_account(
        key: String,
        changes: AccountChanges,
        options: WriteOptions,
    ) -> Result<WriteOutcome, ConnectorError> {
        with_connector(|c| c.update_account(&key, &changes, options))
    }
    fn delete_account(key: String, mode: DeleteMode, options: WriteOptions) -> Result<WriteOutcome, ConnectorError> {
        with_connector(|c| c.delete_account(&key, mode, options))
    }
    fn add_access(
        account_key: String,
        entitlement: EntitlementRef,
        options: WriteOptions,
    ) -> Result<WriteOutcome, ConnectorError> {
        with_connector(|c| c.add_access(&account_key, &entitlement, options))
    }
    fn remove_access(
        account_key: String,
        entitlement: EntitlementRef,
        options: WriteOptions,
    ) -> Result<WriteOutcome, ConnectorError> {
        with_connector(|c| c.remove_access(&account_key, &entitlement, options))
    }
    fn create_group(name: String, options: WriteOptions) -> Result<GroupOutcome, ConnectorError> {
        with_connector(|c| c.create_group(&name, options))
    }
    fn rename_group(key: String, name: String, options: WriteOptions) -> Result<GroupOutcome, ConnectorError> {
        with_connector(|c| c.rename_group(&key, &name, options))
    }
    fn delete_group(key: String, options: WriteOptions) -> Result<GroupOutcome, ConnectorError> {
        with_connector(|c| c.delete_group(&key, options))
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
    fn random_u64(&self) -> u64 {
        wasip2::random::random::get_random_u64()
    }
    fn check_template(&self, template: &str) -> Result<(), String> {
        wit_templates::check(template)
    }
    fn render_template(&self, template: &str, identity: &[(String, String)]) -> Result<String, String> {
        wit_templates::render(template, identity)
    }
    fn check_pattern(&self, pattern: &str) -> Result<(), String> {
        wit_templates::check_pattern(pattern)
    }
    fn pattern_matches(&self, pattern: &str, value: &str) -> Result<bool, String> {
        wit_templates::matches_pattern(pattern, value)
    }
}
