//! An item's attributes: a JSON object, held as the text the state stores. An item whose text
//! is what was stored is unchanged without either being parsed; only texts that differ are
//! compared attribute by attribute.

use rusqlite::ToSql;
use rusqlite::types::ToSqlOutput;
use serde::Serialize;
use serde_json::{Map, Value};

/// A JSON object's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes(String);

/// Why attributes could not be made or read back.
#[derive(Debug, thiserror::Error)]
#[error("an item's attributes must be a JSON object: {0}")]
pub struct NotAnObject(String);

impl Attributes {
    /// The attributes `object` serialises to, which must be a JSON object (a map or a struct).
    pub fn new(object: &impl Serialize) -> Result<Attributes, NotAnObject> {
        let text = serde_json::to_string(object).map_err(|e| NotAnObject(e.to_string()))?;
        if !text.starts_with('{') {
            return Err(NotAnObject(excerpt(&text)));
        }
        Ok(Attributes(text))
    }

    /// Stored text, which the state only ever wrote from an `Attributes`.
    pub(crate) fn stored(text: String) -> Attributes {
        Attributes(text)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The attributes by name.
    pub fn to_map(&self) -> Result<Map<String, Value>, NotAnObject> {
        serde_json::from_str(&self.0).map_err(|e| NotAnObject(format!("{e}: {}", excerpt(&self.0))))
    }
}

impl ToSql for Attributes {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.as_str()))
    }
}

/// The start of a long text, for messages.
fn excerpt(text: &str) -> String {
    const SHOWN: usize = 80;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_are_an_objects_text_and_read_back() {
        let attributes = Attributes::new(&json!({"b": 1, "a": [true, null]})).unwrap();
        assert_eq!(attributes.to_map().unwrap(), *json!({"a": [true, null], "b": 1}).as_object().unwrap());
        for not_an_object in [json!([1]), json!("x"), json!(null)] {
            let error = Attributes::new(&not_an_object).unwrap_err().to_string();
            assert!(error.starts_with("an item's attributes must be a JSON object"), "{error}");
        }
        let garbled = Attributes::stored("{\"a\":".repeat(40));
        assert!(garbled.to_map().unwrap_err().to_string().ends_with('…'), "long texts are shortened");
    }
}
