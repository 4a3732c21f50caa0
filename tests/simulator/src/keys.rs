//! GoTo keys: decimal identifiers, generated deterministically, rendered as JSON strings or bare
//! numbers, and accepted from clients in either form (reference §3).

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Hands out unique keys: 19 digits that fit in an i64 (like every real key seen), or 26 digits
/// (like GoTo's own doc examples, more than a u64 holds).
pub(crate) struct KeyGen {
    rng: StdRng,
    long: bool,
    used: HashSet<String>,
}

impl KeyGen {
    pub fn new(seed: u64, long: bool) -> Self {
        // Its own stream, so the number of keys drawn does not shift the seeded data.
        KeyGen { rng: StdRng::seed_from_u64(seed ^ 0x6b65_7973), long, used: HashSet::new() }
    }

    pub fn next(&mut self) -> String {
        loop {
            let key = if self.long {
                let head: u64 = self.rng.random_range(10_000_000..100_000_000);
                let tail: u64 = self.rng.random_range(0..1_000_000_000_000_000_000);
                format!("{head}{tail:018}")
            } else {
                self.rng.random_range(1_000_000_000_000_000_000..=i64::MAX as u64).to_string()
            };
            if self.used.insert(key.clone()) {
                return key;
            }
        }
    }
}

/// Renders a key: a JSON string, or with `numeric_keys` a bare (arbitrary-precision) number.
pub(crate) fn key_json(key: &str, numeric: bool) -> Value {
    if numeric
        && is_digits(key)
        && let Ok(n) = key.parse::<serde_json::Number>()
    {
        return Value::Number(n);
    }
    Value::String(key.to_owned())
}

/// Renders a list of keys with [`key_json`].
pub(crate) fn keys_json(keys: &[String], numeric: bool) -> Value {
    Value::Array(keys.iter().map(|k| key_json(k, numeric)).collect())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A key from a request path: clients that serialise a JSON string into the path send it quoted.
pub(crate) fn path_key(raw: &str) -> String {
    raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(raw).to_owned()
}

/// A key in a request body: a JSON string, or a non-negative integer of any length (never via f64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key(pub String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Key(s)),
            Value::Number(n) if is_digits(&n.to_string()) => Ok(Key(n.to_string())),
            other => Err(serde::de::Error::custom(format!("not a key: {other}"))),
        }
    }
}

/// Unwraps a list of body keys.
pub(crate) fn strings(keys: Vec<Key>) -> Vec<String> {
    keys.into_iter().map(|k| k.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_configured_length() {
        let mut short = KeyGen::new(1, false);
        let mut long = KeyGen::new(1, true);
        for _ in 0..100 {
            let k = short.next();
            assert_eq!(k.len(), 19);
            assert!(k.parse::<i64>().is_ok());
            assert_eq!(long.next().len(), 26);
        }
    }

    #[test]
    fn numeric_rendering_keeps_every_digit() {
        let key = "78888886011013972886849029";
        assert_eq!(serde_json::to_string(&key_json(key, true)).unwrap(), key);
        assert_eq!(key_json(key, false), Value::String(key.into()));
    }

    #[test]
    fn body_keys_accept_strings_and_long_numbers_only() {
        let k: Key = serde_json::from_str("78888886011013972886849029").unwrap();
        assert_eq!(k.0, "78888886011013972886849029");
        let k: Key = serde_json::from_str("\"42\"").unwrap();
        assert_eq!(k.0, "42");
        assert!(serde_json::from_str::<Key>("-1").is_err());
        assert!(serde_json::from_str::<Key>("1.5").is_err());
        assert!(serde_json::from_str::<Key>("true").is_err());
    }

    #[test]
    fn quoted_path_keys_are_unwrapped() {
        assert_eq!(path_key("\"123\""), "123");
        assert_eq!(path_key("123"), "123");
    }
}
