//! The opaque paging cursor handed to the host between `list-*` calls, and the rules a page
//! must follow to move it on.
//!
//! It carries the next offset and the total GoTo reported, so a caller can tell when the
//! data moved under an offset-paged import.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::invalid_input;
use crate::types::ConnectorError;

/// No GoTo account holds this many users or entitlements; a larger total is a lie, and would
/// otherwise invite a read that never ends.
pub const MAX_TOTAL: u64 = 1_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub offset: u64,
    pub total: u64,
    /// Made by [`Cursor::at`] rather than handed on by a page: no page before it reported a
    /// total, so a listing that ends before its offset is an empty page, not one that moved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub positioned: bool,
}

/// Where a page read starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    pub offset: u64,
    /// See [`Cursor::positioned`].
    pub positioned: bool,
}

impl Start {
    /// A read from `offset` that continues a listing whose pages came before.
    pub fn continuing(offset: u64) -> Start {
        Start { offset, positioned: false }
    }
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

    /// Where to start: the beginning without a cursor.
    pub fn start(cursor: Option<&str>) -> Result<Start, ConnectorError> {
        let start = cursor.map(Cursor::decode).transpose()?;
        Ok(start.map_or(Start::continuing(0), |c| Start { offset: c.offset, positioned: c.positioned }))
    }

    /// The cursor of a listing's page that starts at `offset` (0-based), for hosts that page
    /// by position, such as SCIM's `startIndex`.
    // Called only from the component boundary, which native builds leave out.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub fn at(offset: u64) -> String {
        Cursor { offset, total: 0, positioned: true }.encode()
    }

    /// The cursor for the page after one that started at `offset`, returned `returned` rows and
    /// reported `total`: `None` after the last page. A page that cannot be part of a listing of
    /// `total` rows is refused with what is wrong with it, since ending there would pass a
    /// partial listing off as complete.
    pub fn after(start: Start, returned: usize, total: u64) -> Result<Option<String>, String> {
        if total > MAX_TOTAL {
            return Err(format!("its total {total} is beyond any real listing (at most {MAX_TOTAL})"));
        }
        let offset = start.offset;
        if start.positioned && returned == 0 && offset >= total {
            return Ok(None);
        }
        let next = offset.saturating_add(returned as u64);
        if next > total {
            return Err(format!("it holds rows {offset}..{next} of a listing it says has {total}"));
        }
        if returned == 0 && offset < total {
            return Err(format!("it is empty at offset {offset} of a listing it says has {total}"));
        }
        Ok((next < total).then(|| Cursor { offset: next, total, positioned: false }.encode()))
    }
}

/// Cursors handed out ahead of the pages they start, at most: enough for a million accounts in
/// pages of 100; a longer listing is read on from the last of them.
pub const MAX_AHEAD: usize = 10_000;

impl Cursor {
    /// After a first page of `returned` rows of a listing of `total`, the cursors of every page
    /// after it (at most [`MAX_AHEAD`]), each `returned` rows on: the stride GoTo really used,
    /// should it clamp the page size asked for.
    pub fn ahead(returned: usize, total: u64) -> Vec<String> {
        let stride = returned as u64;
        if stride == 0 {
            return Vec::new();
        }
        (1..)
            .map(|page| page * stride)
            .take_while(|offset| *offset < total)
            .take(MAX_AHEAD)
            .map(|offset| Cursor { offset, total, positioned: false }.encode())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign_text() {
        let c = Cursor { offset: 400, total: 1234, positioned: false };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(matches!(Cursor::decode("not-a-cursor"), Err(ConnectorError::InvalidInput(_))));
    }

    #[test]
    fn the_pages_ahead_follow_the_first_page_s_stride_up_to_the_total() {
        let offsets = |returned, total| -> Vec<u64> {
            Cursor::ahead(returned, total).iter().map(|c| Cursor::decode(c).unwrap().offset).collect()
        };
        assert_eq!(offsets(200, 650), [200, 400, 600]);
        assert_eq!(offsets(200, 600), [200, 400]);
        assert_eq!(offsets(200, 200), Vec::<u64>::new());
        assert_eq!(offsets(0, 0), Vec::<u64>::new());
        assert_eq!(Cursor::ahead(1, MAX_TOTAL).len(), MAX_AHEAD);
        // Each is the cursor the page before it would have handed on.
        assert_eq!(Cursor::ahead(200, 650)[0], Cursor::after(Start::continuing(0), 200, 650).unwrap().unwrap());
    }

    #[test]
    fn paging_stops_at_total() {
        let next = |offset, returned, total| Cursor::after(Start::continuing(offset), returned, total).unwrap();
        assert_eq!(next(0, 200, 450).map(|c| Cursor::decode(&c).unwrap().offset), Some(200));
        assert_eq!(next(400, 50, 450), None);
        assert_eq!(next(0, 0, 0), None, "an empty listing is one empty page");
        assert_eq!(Cursor::start(None).unwrap(), Start::continuing(0));
    }

    #[test]
    fn a_page_that_disagrees_with_its_total_is_refused() {
        for (offset, returned, total, says) in [
            (400, 0, 9999, "empty at offset 400"),
            (0, 2, 1, "rows 0..2 of a listing it says has 1"),
            (400, 51, 450, "rows 400..451"),
            (0, 0, MAX_TOTAL + 1, "beyond any real listing"),
        ] {
            let refused = Cursor::after(Start::continuing(offset), returned, total).unwrap_err();
            assert!(refused.contains(says), "{offset}+{returned} of {total}: {refused}");
        }
    }

    #[test]
    fn a_positioned_read_past_the_end_is_the_end_and_a_continued_one_is_refused() {
        let positioned = Cursor::start(Some(&Cursor::at(500))).unwrap();
        assert_eq!(positioned, Start { offset: 500, positioned: true });
        assert_eq!(Cursor::after(positioned, 0, 450), Ok(None), "asked past the end: nothing there");
        assert_eq!(Cursor::after(positioned, 0, 500), Ok(None));
        // Within the listing the usual rules hold: an empty page before the total is refused.
        assert!(Cursor::after(Start { offset: 100, positioned: true }, 0, 450).is_err());
        let next = Cursor::after(Start { offset: 100, positioned: true }, 100, 450).unwrap().unwrap();
        assert_eq!(Cursor::start(Some(&next)).unwrap(), Start::continuing(200), "a handed-on cursor continues");
        // The same empty page after a page that said the listing was longer: it moved.
        assert!(Cursor::after(Start::continuing(500), 0, 450).is_err());
    }
}
