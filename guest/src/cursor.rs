//! The opaque paging cursor handed to the host between `list-*` calls.
//!
//! It carries the next offset and the total GoTo reported, so a caller can tell when the
//! data moved under an offset-paged import.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::invalid_input;
use crate::types::ConnectorError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub offset: u64,
    pub total: u64,
}

impl Cursor {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&self).expect("a cursor always serialises"))
    }

    pub fn decode(text: &str) -> Result<Self, ConnectorError> {
        URL_SAFE_NO_PAD.decode(text).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).ok_or_else(|| {
            invalid_input("cursor", "the cursor is not one this connector issued; start again without a cursor")
        })
    }

    /// The offset to start from: zero without a cursor.
    pub fn start(cursor: Option<&str>) -> Result<u64, ConnectorError> {
        cursor.map(|c| Cursor::decode(c).map(|c| c.offset)).transpose().map(|o| o.unwrap_or(0))
    }

    /// The cursor for the page after one that started at `offset` and returned `returned` rows.
    pub fn after(offset: u64, returned: usize, total: u64) -> Option<String> {
        let next = offset + returned as u64;
        (returned > 0 && next < total).then(|| Cursor { offset: next, total }.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign_text() {
        let c = Cursor { offset: 400, total: 1234 };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(matches!(Cursor::decode("not-a-cursor"), Err(ConnectorError::InvalidInput(_))));
    }

    #[test]
    fn paging_stops_at_total_or_on_an_empty_page() {
        assert_eq!(Cursor::after(0, 200, 450).map(|c| Cursor::decode(&c).unwrap().offset), Some(200));
        assert_eq!(Cursor::after(400, 50, 450), None);
        assert_eq!(Cursor::after(400, 0, 9999), None);
        assert_eq!(Cursor::start(None).unwrap(), 0);
    }
}
