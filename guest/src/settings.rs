//! Non-secret settings read from the host, validated once per call.

use crate::cursor::MAX_TOTAL;
use crate::error::config;
use crate::host::Host;
use crate::keys;
use crate::types::ConnectorError;

pub const DEFAULT_API_BASE: &str = "https://api.getgo.com";
pub const DEFAULT_TOKEN_BASE: &str = "https://authentication.logmeininc.com";
pub const DEFAULT_PAGE_SIZE: u32 = 200;
/// GoTo's largest page; larger requests are clamped by the API anyway.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Default of `max-items`, the most items one listing may hold (the host's `[limits] max-items`).
pub const DEFAULT_MAX_ITEMS: u64 = 1_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Scheme and authority (and optional path prefix) of the Admin API, without a trailing `/`.
    pub api_base: String,
    /// Scheme and authority of the OAuth token service, without a trailing `/`.
    pub token_base: String,
    pub account_key: Option<String>,
    pub page_size: u32,
    /// Whether new accounts get GoTo's invitation email (`suppress-email`, default false).
    pub suppress_email: bool,
    pub license_assignment: LicenseAssignment,
    pub group_move: GroupMove,
    pub empty_lists: EmptyLists,
    pub filter_escaping: FilterEscaping,
    /// The most items a listing the guest reads whole (the admin-role count) may hold.
    pub max_items: u64,
}

/// How a license is granted to or revoked from an existing user. The public evidence for the
/// dedicated license endpoints is weak (reference §6.8), so the user update is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseAssignment {
    /// `PUT /users/{u}` with the user's whole new `licenseKeys` list.
    UserUpdate,
    /// `POST` / `DELETE /licenses/{l}/users` with `{"userKeys": [u]}`.
    LicenseUsers,
}

/// How a user who already has a group is moved into another (`group-move`). One
/// `PUT /groups/{g}/users/{u}` is confirmed only for a user in no group; the one client seen
/// changing groups first leaves them (reference §11), so that is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupMove {
    /// `DELETE /users/{u}/groups`, then `PUT /groups/{g}/users/{u}`.
    LeaveThenJoin,
    /// `PUT /groups/{g}/users/{u}` alone, GoTo moving the user out of the old group.
    Put,
}

/// Whether Add Users carries `licenseKeys` and `adminRoles` when they are empty
/// (`empty-lists`). GoTo's Add Users example sends `"adminRoles": []` (reference §6.4), so
/// sending is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyLists {
    Send,
    Omit,
}

/// Whether caller values in filters are regex-escaped (`filter-escaping`). GoTo matches filter
/// values as regexes (its docs show `(?i).*…`), so escaping is what makes them exact, and the
/// default; no public source shows an escaped value (reference §11), hence the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterEscaping {
    Escaped,
    Plain,
}

/// The value of setting `key` among `choices`, the first being the default; anything else is a
/// config error naming the key and the accepted values.
fn choice<T: Copy>(host: &dyn Host, key: &str, choices: &[(&str, T)]) -> Result<T, ConnectorError> {
    let Some(raw) = host.setting(key) else {
        return Ok(choices[0].1);
    };
    choices.iter().find(|(name, _)| *name == raw.trim()).map(|(_, value)| *value).ok_or_else(|| {
        let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
        config(key, format!("setting {key} must be {}, got {raw:?}", names.join(" or ")))
    })
}

impl Settings {
    pub fn load(host: &dyn Host) -> Result<Self, ConnectorError> {
        let api_base = base_url(host, "api-base", DEFAULT_API_BASE)?;
        let token_base = base_url(host, "token-base", DEFAULT_TOKEN_BASE)?;
        let account_key = host.setting("account-key").filter(|k| !k.is_empty());
        if let Some(key) = &account_key {
            keys::validate("account-key", key).map_err(|_| {
                config("account-key", format!("setting account-key must be decimal digits, got {key:?}"))
            })?;
        }
        let page_size = match host.setting("page-size") {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => parse_page_size(&raw).ok_or_else(|| {
                config("page-size", format!("setting page-size must be 1..={MAX_PAGE_SIZE}, got {raw:?}"))
            })?,
        };
        let suppress_email = choice(host, "suppress-email", &[("false", false), ("true", true)])?;
        let license_assignment = choice(
            host,
            "license-assignment",
            &[("user-update", LicenseAssignment::UserUpdate), ("license-users", LicenseAssignment::LicenseUsers)],
        )?;
        let group_move =
            choice(host, "group-move", &[("leave-then-join", GroupMove::LeaveThenJoin), ("put", GroupMove::Put)])?;
        let empty_lists = choice(host, "empty-lists", &[("send", EmptyLists::Send), ("omit", EmptyLists::Omit)])?;
        let filter_escaping =
            choice(host, "filter-escaping", &[("escaped", FilterEscaping::Escaped), ("plain", FilterEscaping::Plain)])?;
        let max_items = match host.setting("max-items") {
            None => DEFAULT_MAX_ITEMS,
            Some(raw) => raw.trim().parse::<u64>().ok().filter(|n| (1..=MAX_TOTAL).contains(n)).ok_or_else(|| {
                config("max-items", format!("setting max-items must be 1..={MAX_TOTAL}, got {raw:?}"))
            })?,
        };
        Ok(Settings {
            api_base,
            token_base,
            account_key,
            page_size,
            suppress_email,
            license_assignment,
            group_move,
            empty_lists,
            filter_escaping,
            max_items,
        })
    }
}

pub fn parse_page_size(raw: &str) -> Option<u32> {
    raw.trim().parse::<u32>().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
}

fn base_url(host: &dyn Host, key: &str, default: &str) -> Result<String, ConnectorError> {
    let value = host.setting(key).unwrap_or_else(|| default.to_owned());
    let trimmed = value.trim().trim_end_matches('/');
    let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(authority) if !authority.is_empty() && !trimmed.contains(['?', '#', ' ']) => Ok(trimmed.to_owned()),
        _ => Err(config(key, format!("setting {key} must be an http(s) URL such as {default}, got {value:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeHost;

    #[test]
    fn defaults_apply_when_nothing_is_configured() {
        let s = Settings::load(&FakeHost::default()).unwrap();
        assert_eq!(s.api_base, DEFAULT_API_BASE);
        assert_eq!(s.token_base, DEFAULT_TOKEN_BASE);
        assert_eq!(s.page_size, DEFAULT_PAGE_SIZE);
        assert_eq!(s.account_key, None);
    }

    #[test]
    fn bad_settings_are_config_errors_naming_the_setting() {
        for (key, value) in [
            ("api-base", "ftp://x"),
            ("token-base", "https://"),
            ("page-size", "0"),
            ("page-size", "x"),
            ("account-key", "abc"),
            ("suppress-email", "yes"),
            ("license-assignment", "magic"),
            ("group-move", "teleport"),
            ("empty-lists", "maybe"),
            ("filter-escaping", "regex"),
            ("max-items", "0"),
            ("max-items", "1e6"),
        ] {
            let host = FakeHost::default().with_setting(key, value);
            match Settings::load(&host) {
                Err(ConnectorError::Config(c)) => assert_eq!(c.field.as_deref(), Some(key)),
                other => panic!("{key}={value}: {other:?}"),
            }
        }
    }

    #[test]
    fn trailing_slashes_are_dropped() {
        let host = FakeHost::default().with_setting("api-base", "http://127.0.0.1:8080/");
        assert_eq!(Settings::load(&host).unwrap().api_base, "http://127.0.0.1:8080");
    }
}
