//! Building GoTo filter expressions (dialect `(attr="regex")`) from typed filters.
//!
//! GoTo matches filter values as full regular expressions, so every value taken from a caller
//! is escaped: `a+b@x.com` must match only itself, not `aab@xxcom`.

use crate::error::invalid_input;
use crate::keys;
use crate::settings::FilterEscaping;
use crate::types::ConnectorError;
use crate::wit::AccountFilter;

/// The longest filter expression sent, after escaping. A filter travels in the URL, and GoTo's
/// gateways refuse long URLs with errors that do not name the filter.
const MAX_FILTER_BYTES: usize = 4096;

/// The GoTo `filter` query value for an account filter, its values escaped or not.
pub fn account_filter(filter: &AccountFilter, escaping: FilterEscaping) -> Result<String, ConnectorError> {
    let (field, expression) = expression(filter, escaping)?;
    if expression.len() > MAX_FILTER_BYTES {
        return Err(invalid_input(
            field,
            format!(
                "the filter is {} bytes long once escaped; at most {MAX_FILTER_BYTES} are accepted",
                expression.len()
            ),
        ));
    }
    Ok(expression)
}

/// The filter's expression and the field that names it in errors.
fn expression(filter: &AccountFilter, escaping: FilterEscaping) -> Result<(&'static str, String), ConnectorError> {
    match filter {
        AccountFilter::Email(email) => {
            let email = literal("filter.email", email, escaping)?;
            Ok(("filter.email", format!("(email=\"(?i){email}\")")))
        }
        AccountFilter::Key(key) => {
            keys::validate("filter.key", key)?;
            Ok(("filter.key", format!("(key=\"{key}\")")))
        }
        AccountFilter::Name(name) => {
            let name = literal("filter.name", name, escaping)?;
            Ok(("filter.name", format!("(firstName=\"(?i){name}\") | (lastName=\"(?i){name}\")")))
        }
        AccountFilter::Goto(raw) => {
            let raw = raw.trim();
            if raw.is_empty() {
                return Err(invalid_input("filter.goto", "a GoTo filter expression must not be empty"));
            }
            Ok(("filter.goto", raw.to_owned()))
        }
    }
}

/// Escapes a caller's value so GoTo's regex matching treats it literally (unless `plain`).
fn literal(field: &str, value: &str, escaping: FilterEscaping) -> Result<String, ConnectorError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid_input(field, format!("{field} must not be empty")));
    }
    if let Some(c) = value.chars().find(|c| *c == '"' || c.is_control()) {
        return Err(invalid_input(field, format!("{field} must not contain {c:?}")));
    }
    if escaping == FilterEscaping::Plain {
        return Ok(value.to_owned());
    }
    let mut escaped = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    Ok(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_metacharacters_are_escaped() {
        let f = account_filter(&AccountFilter::Email("a.b+sales@x.com".into()), FilterEscaping::Escaped).unwrap();
        assert_eq!(f, r#"(email="(?i)a\.b\+sales@x\.com")"#);
    }

    #[test]
    fn plain_values_are_sent_as_written() {
        let f = account_filter(&AccountFilter::Email("a.b+sales@x.com".into()), FilterEscaping::Plain).unwrap();
        assert_eq!(f, r#"(email="(?i)a.b+sales@x.com")"#);
    }

    #[test]
    fn name_matches_first_or_last_name() {
        let f = account_filter(&AccountFilter::Name("Lee".into()), FilterEscaping::Escaped).unwrap();
        assert_eq!(f, r#"(firstName="(?i)Lee") | (lastName="(?i)Lee")"#);
    }

    #[test]
    fn a_filter_longer_than_the_limit_once_escaped_is_invalid_input_naming_it() {
        // 2,100 dots fit the limit as typed but escape to 4,200 bytes.
        let email = format!("{}@x.com", ".".repeat(2100));
        for (filter, field) in
            [(AccountFilter::Email(email), "filter.email"), (AccountFilter::Goto("x".repeat(100 << 10)), "filter.goto")]
        {
            match account_filter(&filter, FilterEscaping::Escaped) {
                Err(ConnectorError::InvalidInput(c)) => {
                    assert_eq!(c.field.as_deref(), Some(field));
                    assert!(c.message.contains("at most 4096 are accepted"), "{}", c.message);
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(account_filter(&AccountFilter::Goto("x".repeat(MAX_FILTER_BYTES)), FilterEscaping::Escaped).is_ok());
    }

    #[test]
    fn bad_values_name_the_filter_field() {
        for (filter, field) in [
            (AccountFilter::Email("".into()), "filter.email"),
            (AccountFilter::Email("a\"b@x".into()), "filter.email"),
            (AccountFilter::Key("12x".into()), "filter.key"),
            (AccountFilter::Goto("  ".into()), "filter.goto"),
        ] {
            match account_filter(&filter, FilterEscaping::Escaped) {
                Err(ConnectorError::InvalidInput(c)) => assert_eq!(c.field.as_deref(), Some(field)),
                other => panic!("{other:?}"),
            }
        }
    }
}
