//! GoTo's own rules for account attributes, group names and entitlement references, checked
//! before any write so that a bad value is reported by name instead of by a GoTo error code.

use crate::error::invalid_input;
use crate::goto::roles;
use crate::keys;
use crate::types::{ConnectorError, EntitlementKind, EntitlementRef};
use crate::wit::AccountFields;

/// Limits from the GoTo Admin Center (reference §4.1).
const MAX_EMAIL: usize = 128;
const MAX_NAME: usize = 32;
/// The longest group name accepted. GoTo documents no limit (reference §4.2 says only that a
/// name is required and unique); this is the connector's own bound, that of an email.
const MAX_GROUP_NAME: usize = 128;
/// Languages of GoTo's user interface; a locale is `language_COUNTRY`, e.g. `en_US`.
const LOCALE_LANGUAGES: &[&str] = &["de", "en", "es", "fr", "it", "ja", "ko", "nl", "pt", "zh"];
const TIME_ZONES: &str = include_str!("time_zones.txt");

/// One GoTo account attribute. The names are those of the WIT record and of the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attribute {
    Email,
    FirstName,
    LastName,
    Locale,
    TimeZone,
}

impl Attribute {
    pub const ALL: [Attribute; 5] =
        [Attribute::Email, Attribute::FirstName, Attribute::LastName, Attribute::Locale, Attribute::TimeZone];

    pub fn name(self) -> &'static str {
        match self {
            Attribute::Email => "email",
            Attribute::FirstName => "first-name",
            Attribute::LastName => "last-name",
            Attribute::Locale => "locale",
            Attribute::TimeZone => "time-zone",
        }
    }

    /// The field's name in GoTo's JSON.
    pub fn goto_name(self) -> &'static str {
        match self {
            Attribute::Email => "email",
            Attribute::FirstName => "firstName",
            Attribute::LastName => "lastName",
            Attribute::Locale => "locale",
            Attribute::TimeZone => "timeZone",
        }
    }

    pub fn from_name(name: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn of(self, fields: &AccountFields) -> Option<&String> {
        self.slot(fields).as_ref()
    }

    pub fn set(self, fields: &mut AccountFields, value: Option<String>) {
        *self.slot_mut(fields) = value;
    }

    fn slot(self, f: &AccountFields) -> &Option<String> {
        match self {
            Attribute::Email => &f.email,
            Attribute::FirstName => &f.first_name,
            Attribute::LastName => &f.last_name,
            Attribute::Locale => &f.locale,
            Attribute::TimeZone => &f.time_zone,
        }
    }

    fn slot_mut(self, f: &mut AccountFields) -> &mut Option<String> {
        match self {
            Attribute::Email => &mut f.email,
            Attribute::FirstName => &mut f.first_name,
            Attribute::LastName => &mut f.last_name,
            Attribute::Locale => &mut f.locale,
            Attribute::TimeZone => &mut f.time_zone,
        }
    }
}

/// Whether the attributes GoTo requires at creation must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// A new account: email, first and last name are required.
    New,
    /// A partial update: only what is given is checked.
    Partial,
}

/// Checks every given attribute against GoTo's rules.
pub fn account_fields(fields: &AccountFields, completeness: Completeness) -> Result<(), ConnectorError> {
    for attribute in Attribute::ALL {
        match attribute.of(fields) {
            Some(value) => value_of(attribute, value)?,
            None if completeness == Completeness::New && required_by_goto(attribute) => {
                return Err(invalid_input(
                    attribute.name(),
                    format!("{} is required to create a GoTo account", attribute.name()),
                ));
            }
            None => {}
        }
    }
    Ok(())
}

/// A group name as it is sent to GoTo: trimmed, then 1 to [`MAX_GROUP_NAME`] characters
/// without control characters.
pub fn group_name(name: &str) -> Result<&str, ConnectorError> {
    let trimmed = name.trim();
    let fail = |rule: String| Err(invalid_input("name", format!("a group name {rule}, got {name:?}")));
    if trimmed.is_empty() {
        return fail("must not be empty".to_owned());
    }
    if trimmed.chars().count() > MAX_GROUP_NAME {
        return fail(format!("must be at most {MAX_GROUP_NAME} characters"));
    }
    if let Some(c) = trimmed.chars().find(|c| c.is_control()) {
        return fail(format!("must not contain the control character {c:?}"));
    }
    Ok(trimmed)
}

fn required_by_goto(attribute: Attribute) -> bool {
    matches!(attribute, Attribute::Email | Attribute::FirstName | Attribute::LastName)
}

fn value_of(attribute: Attribute, value: &str) -> Result<(), ConnectorError> {
    let field = attribute.name();
    let fail = |rule: String| Err(invalid_input(field, format!("{field} {rule}, got {value:?}")));
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return fail(format!("must not contain the control character {c:?}"));
    }
    match attribute {
        Attribute::Email => {
            if value.chars().count() > MAX_EMAIL {
                return fail(format!("must be at most {MAX_EMAIL} characters"));
            }
            if !is_email(value) {
                return fail("must be an email address such as jane@example.com".to_owned());
            }
        }
        Attribute::FirstName | Attribute::LastName => {
            if value.trim().is_empty() {
                return fail("must not be empty".to_owned());
            }
            if value.chars().count() > MAX_NAME {
                return fail(format!("must be at most {MAX_NAME} characters"));
            }
        }
        Attribute::Locale => {
            if !is_locale(value) {
                return fail(format!(
                    "must be a GoTo locale such as en_US (language one of {}, then _ and a two-letter country)",
                    LOCALE_LANGUAGES.join(", ")
                ));
            }
        }
        Attribute::TimeZone => {
            if !is_time_zone(value) {
                return fail("must be an IANA time zone such as America/New_York".to_owned());
            }
        }
    }
    Ok(())
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

fn is_locale(value: &str) -> bool {
    match value.split_once('_') {
        Some((language, country)) => {
            LOCALE_LANGUAGES.contains(&language)
                && country.len() == 2
                && country.bytes().all(|b| b.is_ascii_uppercase())
        }
        None => false,
    }
}

fn is_time_zone(value: &str) -> bool {
    TIME_ZONES.lines().any(|zone| !zone.starts_with('#') && zone == value)
}

/// Checks the shape of an entitlement reference: digits for groups and licenses, a role name
/// GoTo documents for admin roles.
pub fn entitlement(entitlement: &EntitlementRef) -> Result<(), ConnectorError> {
    match entitlement.kind {
        EntitlementKind::Group | EntitlementKind::License => keys::validate("entitlement.key", &entitlement.key),
        EntitlementKind::AdminRole => match roles::description(&entitlement.key) {
            Some(_) => Ok(()),
            None => Err(invalid_input(
                "entitlement.key",
                format!(
                    "{:?} is not a GoTo admin role; the roles are {}",
                    entitlement.key,
                    roles::DOCUMENTED.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
                ),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(email: &str, first: &str, last: &str) -> AccountFields {
        AccountFields {
            email: Some(email.into()),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            locale: None,
            time_zone: None,
        }
    }

    fn field_of(result: Result<(), ConnectorError>) -> String {
        match result {
            Err(ConnectorError::InvalidInput(e)) => e.field.unwrap_or_default(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn goto_rules_name_the_field_that_broke_them() {
        assert!(account_fields(&fields("a.b+c@x.example", "Ann", "Lee"), Completeness::New).is_ok());
        let long_email = format!("{}@x.com", "a".repeat(123));
        for (f, field) in [
            (fields("no-at-sign", "A", "B"), "email"),
            (fields("a@nodot", "A", "B"), "email"),
            (fields(&long_email, "A", "B"), "email"),
            (fields("a@x.com", "", "B"), "first-name"),
            (fields("a@x.com", "A", &"b".repeat(33)), "last-name"),
        ] {
            assert_eq!(field_of(account_fields(&f, Completeness::New)), field);
        }
        let mut missing = fields("a@x.com", "A", "B");
        missing.last_name = None;
        assert_eq!(field_of(account_fields(&missing, Completeness::New)), "last-name");
        assert!(account_fields(&missing, Completeness::Partial).is_ok());
    }

    #[test]
    fn locales_and_time_zones_are_checked_against_known_values() {
        let mut f = fields("a@x.com", "A", "B");
        f.locale = Some("fr_CA".into());
        f.time_zone = Some("Europe/Paris".into());
        assert!(account_fields(&f, Completeness::New).is_ok());
        f.locale = Some("english".into());
        assert_eq!(field_of(account_fields(&f, Completeness::New)), "locale");
        f.locale = None;
        f.time_zone = Some("Mars/Olympus".into());
        assert_eq!(field_of(account_fields(&f, Completeness::New)), "time-zone");
    }

    #[test]
    fn group_names_are_trimmed_and_bounded() {
        assert_eq!(group_name("  Sales EMEA \t").unwrap(), "Sales EMEA");
        let longest = "é".repeat(MAX_GROUP_NAME);
        assert_eq!(group_name(&longest).unwrap(), longest, "counted in characters, not bytes");
        for bad in ["", "   ", "\t\n", &"x".repeat(MAX_GROUP_NAME + 1), "Sales\nEMEA", "a\u{7f}b"] {
            match group_name(bad) {
                Err(ConnectorError::InvalidInput(e)) => assert_eq!(e.field.as_deref(), Some("name"), "{bad:?}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn entitlement_references_are_checked_by_kind() {
        let role = |k: &str| EntitlementRef { kind: EntitlementKind::AdminRole, key: k.into() };
        assert!(entitlement(&role("MANAGE_USERS")).is_ok());
        assert_eq!(field_of(entitlement(&role("GOD_MODE"))), "entitlement.key");
        let group = EntitlementRef { kind: EntitlementKind::Group, key: "12a".into() };
        assert_eq!(field_of(entitlement(&group)), "entitlement.key");
    }
}
