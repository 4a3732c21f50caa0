//! GoTo Admin API JSON shapes (reference §4–§6) and their mapping onto WIT records.
//! Absent optional fields are the norm (GoTo omits empty lists), so every list defaults.

use serde::Deserialize;

use crate::goto::errors::excerpt;
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
    pub invited_date: Option<i64>,
    pub password_created: Option<bool>,
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

/// `POST /oauth/token` success. The refresh grant usually omits `refresh_token` (§2.4).
#[derive(Debug, Deserialize)]
pub struct TokenGrant {
    pub access_token: String,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<String>,
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
