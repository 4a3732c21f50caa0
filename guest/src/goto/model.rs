//! GoTo Admin API JSON shapes (reference §4–§6) and their mapping onto WIT records.
//! Absent optional fields are the norm (GoTo omits empty lists), so every list defaults.

use serde::Deserialize;

use crate::error::excerpt;
use crate::keys::Key;
use crate::types::{
    Account, AccountStatus, Entitlement, EntitlementDetails, EntitlementKind, EntitlementRef, GroupDetails,
    LicenseDetails,
};

/// The list envelope: `results`, `fromIndex`, `toIndex` (exclusive), `total`. Every recorded
/// GoTo listing carries an integer `total` (reference §11), so a body without one (`{}`, an
/// error envelope sent with 200) is not a listing, never an empty one; whether the page agrees
/// with its total is checked by [`crate::cursor::Cursor::after`].
#[derive(Debug, Deserialize)]
pub struct ListPage<T> {
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    #[serde(deserialize_with = "count")]
    pub total: u64,
}

/// A listing's `total`: a whole number, named as such when it is anything else (`-1`, `1e9`,
/// `"7"`, `null`).
fn count<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    value.as_u64().ok_or_else(|| {
        serde::de::Error::custom(format!(
            "the listing's total must be a whole number, got {}",
            excerpt(value.to_string().as_bytes())
        ))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub key: Key,
    #[serde(default)]
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub license_keys: Vec<Key>,
    #[serde(default)]
    pub products: Vec<String>,
    pub group_key: Option<Key>,
    pub group_name: Option<String>,
    #[serde(default)]
    pub admin_roles: Vec<String>,
    /// Custom role sets (reference §4.4), ids as GoTo sends them: strings or numbers.
    #[serde(default)]
    pub role_sets: Vec<serde_json::Value>,
    /// Groups the user administers, which GoTo sets through Add Users' `managedGroupKeys`
    /// (reference §6.4) and no documented call changes afterwards.
    #[serde(default)]
    pub managed_group_keys: Vec<serde_json::Value>,
    pub invited_date: Option<i64>,
    pub password_created: Option<bool>,
}

impl User {
    /// The ids of the user's custom role sets, as text.
    pub fn role_set_ids(&self) -> Vec<String> {
        ids_as_text(&self.role_sets)
    }

    /// The keys of the groups the user administers, as text.
    pub fn managed_group_ids(&self) -> Vec<String> {
        ids_as_text(&self.managed_group_keys)
    }
}

/// Ids as GoTo sends them, strings or numbers, as text.
fn ids_as_text(ids: &[serde_json::Value]) -> Vec<String> {
    ids.iter().map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_owned)).collect()
}

/// Only the fields the role catalogue needs, read with `attributes=key,adminRoles`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRoles {
    pub key: Key,
    #[serde(default)]
    pub admin_roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub key: Key,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub key_path: Vec<Key>,
    #[serde(default)]
    pub name_path: Vec<String>,
    #[serde(default)]
    pub user_keys: Vec<Key>,
    pub member_count: Option<u32>,
    pub total_member_count: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct License {
    pub key: Key,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub license_type: Option<String>,
    pub enabled: Option<bool>,
    pub seats: Option<u32>,
    pub user_count: Option<u32>,
    #[serde(default)]
    pub user_keys: Vec<Key>,
    #[serde(default)]
    pub products: Vec<String>,
}

/// `GET /me`: the caller, its default account and the accounts it administers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub email: Option<String>,
    pub account_key: Option<Key>,
    #[serde(default)]
    pub accounts: Vec<MeAccount>,
    #[serde(default)]
    pub admin_roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct MeAccount {
    pub key: Key,
    pub name: Option<String>,
}

/// `POST /oauth/token` success (RFC 6749 §5.1). The refresh grant usually omits
/// `refresh_token` (§2.4). Read field by field rather than all or nothing, so that an odd
/// `expires_in` or a missing `access_token` never costs the rotated refresh token beside it.
#[derive(Debug, PartialEq)]
pub struct TokenGrant {
    /// A new refresh token: any non-empty string, kept exactly as sent.
    pub refresh_token: Option<String>,
    /// The access token, if it is a string that can go into an `Authorization` header.
    pub access_token: Option<String>,
    /// The access token's lifetime in seconds, defaulted and clamped to [`TokenGrant::LIFETIME`].
    pub lifetime_secs: u64,
}

impl TokenGrant {
    /// GoTo's documented access-token lifetime, used when `expires_in` is absent or unreadable.
    pub const DEFAULT_LIFETIME: u64 = 3600;
    /// Lifetimes accepted: a zero or negative one would refresh before every request, a huge
    /// one would keep a revoked token cached for ever.
    pub const LIFETIME: std::ops::RangeInclusive<u64> = 60..=86_400;

    /// Reads whatever a 2xx token answer holds; a body that is not a JSON object holds nothing.
    pub fn read(body: &[u8]) -> TokenGrant {
        let object = match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(object)) => object,
            _ => serde_json::Map::new(),
        };
        let text = |name: &str| object.get(name).and_then(serde_json::Value::as_str).filter(|t| !t.is_empty());
        let usable = |t: &&str| t.bytes().all(|b| b.is_ascii_graphic());
        let lifetime = object.get("expires_in").and_then(seconds).unwrap_or(Self::DEFAULT_LIFETIME as f64);
        TokenGrant {
            refresh_token: text("refresh_token").map(str::to_owned),
            access_token: text("access_token").filter(usable).map(str::to_owned),
            // `as` saturates, and the clamp bounds it either way.
            lifetime_secs: (lifetime as u64).clamp(*Self::LIFETIME.start(), *Self::LIFETIME.end()),
        }
    }
}

/// `expires_in` as a number of seconds: a JSON number (integer or not) or a numeric string.
fn seconds(value: &serde_json::Value) -> Option<f64> {
    let number = match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    number.filter(|n| !n.is_nan())
}

/// RFC 6749 §5.2 error body from the token endpoint.
#[derive(Debug, Deserialize)]
pub struct TokenError {
    pub error: String,
    pub error_description: Option<String>,
}

fn status(raw: Option<String>) -> AccountStatus {
    match raw.as_deref() {
        Some("ACTIVE") => AccountStatus::Active,
        Some("INVITED") => AccountStatus::Invited,
        Some("SUSPENDED") => AccountStatus::Suspended,
        Some("INACTIVE") => AccountStatus::Inactive,
        Some(other) => AccountStatus::Other(other.to_owned()),
        None => AccountStatus::Other(String::new()),
    }
}

impl From<User> for Account {
    fn from(u: User) -> Account {
        Account {
            key: u.key.into(),
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            locale: u.locale,
            time_zone: u.time_zone,
            status: status(u.status),
            license_keys: u.license_keys.into_iter().map(String::from).collect(),
            products: u.products,
            group_key: u.group_key.map(String::from),
            group_name: u.group_name,
            admin_roles: u.admin_roles,
            invited_date_ms: u.invited_date,
            password_created: u.password_created,
        }
    }
}

impl From<Group> for Entitlement {
    fn from(g: Group) -> Entitlement {
        // keyPath runs root → self, so the parent is the element before the last.
        let parent_key = g.key_path.len().checked_sub(2).map(|i| g.key_path[i].0.clone());
        let direct = g.member_count.unwrap_or(g.user_keys.len() as u32);
        Entitlement {
            id: EntitlementRef { kind: EntitlementKind::Group, key: g.key.into() },
            name: g.name,
            description: None,
            details: EntitlementDetails::Group(GroupDetails {
                parent_key,
                name_path: g.name_path,
                member_count: direct,
                total_member_count: g.total_member_count.unwrap_or(direct),
            }),
        }
    }
}

impl From<License> for Entitlement {
    fn from(l: License) -> Entitlement {
        let name = l.description.clone().unwrap_or_else(|| format!("License {}", l.key.0));
        Entitlement {
            id: EntitlementRef { kind: EntitlementKind::License, key: l.key.into() },
            name,
            description: l.description,
            details: EntitlementDetails::License(LicenseDetails {
                seats: l.seats,
                used: l.user_count.unwrap_or(l.user_keys.len() as u32),
                products: l.products,
                enabled: l.enabled.unwrap_or(true),
                license_type: l.license_type,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_grant_reads_every_shape_of_expires_in_and_keeps_the_refresh_token() {
        let lifetime = |expires: &str| {
            let body = format!(r#"{{"access_token":"at","expires_in":{expires},"refresh_token":"rt-2"}}"#);
            let grant = TokenGrant::read(body.as_bytes());
            assert_eq!(grant.refresh_token.as_deref(), Some("rt-2"), "{expires}");
            grant.lifetime_secs
        };
        assert_eq!(lifetime("1800"), 1800);
        assert_eq!(lifetime(r#""1800""#), 1800, "a numeric string");
        assert_eq!(lifetime(r#"" 1800 ""#), 1800);
        assert_eq!(lifetime("1799.9"), 1799, "a float");
        assert_eq!(lifetime("0"), 60, "zero is clamped up");
        assert_eq!(lifetime("-60"), 60, "negative is clamped up");
        assert_eq!(lifetime("1e300"), 86_400, "huge is clamped down");
        assert_eq!(lifetime("99999999999999999999999"), 86_400, "beyond u64");
        assert_eq!(lifetime(r#""soon""#), 3600, "unreadable means GoTo's default");
        assert_eq!(lifetime("null"), 3600);
        assert_eq!(TokenGrant::read(br#"{"access_token":"at"}"#).lifetime_secs, 3600, "absent");
    }

    #[test]
    fn a_token_grant_without_a_usable_access_token_still_yields_its_refresh_token() {
        for body in [
            r#"{"refresh_token":"rt-2"}"#,
            r#"{"access_token":12345678901,"refresh_token":"rt-2"}"#,
            r#"{"access_token":"has space","refresh_token":"rt-2"}"#,
            r#"{"access_token":"","refresh_token":"rt-2"}"#,
        ] {
            let grant = TokenGrant::read(body.as_bytes());
            assert_eq!((grant.access_token, grant.refresh_token.as_deref()), (None, Some("rt-2")), "{body}");
        }
        let nothing = TokenGrant::read(b"<html>502</html>");
        assert_eq!((nothing.access_token, nothing.refresh_token), (None, None));
        assert_eq!(TokenGrant::read(br#"{"refresh_token":""}"#).refresh_token, None, "empty is no token");
    }

    #[test]
    fn a_recorded_user_maps_with_omitted_fields_defaulted() {
        let u: User = serde_json::from_str(
            r#"{"key":"5348866090447493637","email":"jlh@yahoo.com","firstName":"John Lee","lastName":"Hooker",
                "locale":"en_US","timeZone":"America/Los_Angeles","licenseKeys":["1355534416108530190"],
                "products":["G2MFREE"],"groupKey":"2493304650723090190","groupName":"Defenders",
                "settings":{"G2MFREE":{"chatEnabled":true}},"passwordCreated":false,"invitedDate":1588085082030,
                "status":"INVITED","inviteCount":1}"#,
        )
        .unwrap();
        let a = Account::from(u);
        assert_eq!(a.status, AccountStatus::Invited);
        assert_eq!(a.group_key.as_deref(), Some("2493304650723090190"));
        assert_eq!(a.invited_date_ms, Some(1588085082030));
        assert!(a.admin_roles.is_empty());

        let bare: User = serde_json::from_str(r#"{"key":1,"email":"x@y.z","status":"WEIRD"}"#).unwrap();
        assert_eq!(Account::from(bare).status, AccountStatus::Other("WEIRD".into()));
    }

    #[test]
    fn a_nested_group_names_its_parent() {
        let g: Group = serde_json::from_str(
            r#"{"key":"3","name":"Child","keyPath":["1","3"],"namePath":["Root","Child"],"memberCount":2,"totalMemberCount":2,"userKeys":["8","9"]}"#,
        )
        .unwrap();
        match Entitlement::from(g).details {
            EntitlementDetails::Group(d) => assert_eq!(d.parent_key.as_deref(), Some("1")),
            other => panic!("{other:?}"),
        }
    }
}
