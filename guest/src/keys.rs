//! GoTo keys: decimal identifiers sent as JSON strings or bare numbers of any length.
//!
//! serde_json's `arbitrary_precision` keeps a number's exact digits, so a 26-digit key never
//! passes through `f64` or `u64`. Keys read from GoTo go into the URL paths of later calls, so
//! one that is not plain digits (`../x`, `1e5`, `-3`) is refused as it is read.

use std::fmt;

use serde::de::{self, MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer};

use crate::error::{excerpt, invalid_input};
use crate::types::ConnectorError;

/// A key as received from GoTo, normalised to its digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

/// Reads a key straight from the JSON text, without building a `serde_json::Value` first.
struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key (string or number)")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Key, E> {
        checked(text.to_owned())
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Key, E> {
        checked(text)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Key, E> {
        checked(number.to_string())
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Key, E> {
        checked(number.to_string())
    }

    /// `arbitrary_precision` hands a number beyond 64 bits over as a map holding its exact
    /// digits.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Key, A::Error> {
        let number = serde_json::Number::deserialize(MapAccessDeserializer::new(map))?;
        checked(number.to_string())
    }
}

fn checked<E: de::Error>(text: String) -> Result<Key, E> {
    if is_key(&text) {
        Ok(Key(text))
    } else {
        Err(E::custom(format!(
            "expected a key of 1 to {MAX_KEY_DIGITS} decimal digits, got {:?}",
            excerpt(text.as_bytes())
        )))
    }
}

impl From<Key> for String {
    fn from(key: Key) -> String {
        key.0
    }
}

/// The longest key accepted; GoTo's longest documented example has 26 digits.
const MAX_KEY_DIGITS: usize = 64;

fn is_key(text: &str) -> bool {
    (1..=MAX_KEY_DIGITS).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// Checks a key given by a caller before it goes into a URL path.
pub fn validate(field: &str, key: &str) -> Result<(), ConnectorError> {
    if !is_key(key) {
        return Err(invalid_input(
            field,
            format!("{field} must be a GoTo key: 1 to {MAX_KEY_DIGITS} decimal digits, got {key:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        key: Key,
        keys: Vec<Key>,
    }

    #[test]
    fn keys_parse_from_strings_and_long_numbers_without_rounding() {
        let h: Holder = serde_json::from_str(
            r#"{"key": 78888886011013972886849029, "keys": ["6581286685341855244", 9082234732973873678]}"#,
        )
        .unwrap();
        assert_eq!(h.key.0, "78888886011013972886849029");
        assert_eq!(h.keys, vec![Key("6581286685341855244".into()), Key("9082234732973873678".into())]);
    }

    #[test]
    fn a_key_from_goto_that_is_not_digits_is_refused_as_it_is_read() {
        for bad in [r#""../x""#, r#""1/../../y""#, "1e5", "-3", "1.5", r#""""#, "true", "null", r#""12 ""#] {
            let parsed = serde_json::from_str::<Key>(bad);
            assert!(parsed.is_err(), "{bad} was read as {parsed:?}");
        }
        let long = format!("\"{}\"", "7".repeat(500));
        assert!(serde_json::from_str::<Key>(&long).unwrap_err().to_string().contains("…"), "long values are shortened");
    }

    #[test]
    fn a_key_must_be_digits() {
        assert!(validate("key", "123").is_ok());
        for bad in ["", "12a", "../1", "1 2", &"9".repeat(65)] {
            let err = validate("key", bad).unwrap_err();
            assert!(matches!(err, ConnectorError::InvalidInput(ref c) if c.field.as_deref() == Some("key")), "{bad}");
        }
    }
}
