//! Reading GoTo's offset-paged listings (`/accounts/{a}/{collection}`): one page for the
//! `list-*` exports, or a whole small catalogue (licenses, groups) for the write checks.
//!
//! Writes look licenses and groups up in their listings rather than through single-object
//! reads (`GET …/licenses/{key}`): only the listings appear in any public source (reference
//! §11), so an API without the single-object reads still grants and moves.

use std::cell::OnceCell;

use serde::de::DeserializeOwned;

use crate::cursor::{Cursor, Start};
use crate::error::{invalid_input, transport};
use crate::goto::model::{Group, License, ListPage};
use crate::session::Session;
use crate::settings::MAX_PAGE_SIZE;
use crate::types::ConnectorError;

/// One page read from a GoTo list endpoint.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub total: u64,
}

/// Reads the page of `/accounts/{account}/{collection}` at `start`.
pub fn page<T: DeserializeOwned>(
    session: &Session,
    collection: &str,
    extra: &[(&str, &str)],
    start: Start,
    size: u32,
) -> Result<Page<T>, ConnectorError> {
    let account = session.account_key()?;
    let offset = start.offset;
    let (offset_text, size_text) = (offset.to_string(), size.to_string());
    let mut params = vec![("offset", offset_text.as_str()), ("pageSize", size_text.as_str())];
    params.extend_from_slice(extra);
    let list: ListPage<T> = session.get(&format!("/accounts/{account}/{collection}"), &params)?;
    let next_cursor = Cursor::after(start, list.results.len(), list.total).map_err(|problem| {
        transport(format!("GoTo's {collection} listing page at offset {offset} is not well formed: {problem}"))
    })?;
    Ok(Page { items: list.results, next_cursor, total: list.total })
}

/// Every item of `collection`, in pages of the largest size, no more than `max-items`.
fn whole<T: DeserializeOwned>(session: &Session, collection: &str) -> Result<Vec<T>, ConnectorError> {
    let max_items = session.settings.max_items;
    let mut items = Vec::new();
    let mut offset = 0;
    loop {
        let page = page::<T>(session, collection, &[], Start::continuing(offset), MAX_PAGE_SIZE)?;
        if page.total > max_items {
            return Err(transport(format!(
                "GoTo's {collection} listing reports {} items, above the max-items limit of {max_items}",
                page.total
            )));
        }
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => offset = Cursor::decode(&next)?.offset,
            None => return Ok(items),
        }
    }
}

/// The license and group catalogues, each read at most once per export call.
#[derive(Default)]
pub struct Catalogue {
    licenses: OnceCell<Vec<License>>,
    groups: OnceCell<Vec<Group>>,
}

impl Catalogue {
    /// The license with this key; one that is not listed is invalid input naming it.
    pub fn license<'c>(&'c self, session: &Session, key: &str) -> Result<&'c License, ConnectorError> {
        let licenses = cached(&self.licenses, || whole(session, "licenses"))?;
        find(licenses, |l| l.key.0 == key, "license", key, session)
    }

    /// The group with this key; one that is not listed is invalid input naming it.
    pub fn group<'c>(&'c self, session: &Session, key: &str) -> Result<&'c Group, ConnectorError> {
        find(self.groups(session)?, |g| g.key.0 == key, "group", key, session)
    }

    /// Every group of the account.
    pub fn groups<'c>(&'c self, session: &Session) -> Result<&'c [Group], ConnectorError> {
        cached(&self.groups, || whole(session, "groups")).map(Vec::as_slice)
    }
}

/// The cell's value, read on first use; a failed read is not cached.
fn cached<T>(
    cell: &OnceCell<Vec<T>>,
    read: impl FnOnce() -> Result<Vec<T>, ConnectorError>,
) -> Result<&Vec<T>, ConnectorError> {
    if let Some(items) = cell.get() {
        return Ok(items);
    }
    let items = read()?;
    Ok(cell.get_or_init(|| items))
}

fn find<'c, T>(
    items: &'c [T],
    matches: impl Fn(&T) -> bool,
    what: &str,
    key: &str,
    session: &Session,
) -> Result<&'c T, ConnectorError> {
    let account = session.account_key()?;
    items.iter().find(|item| matches(item)).ok_or_else(|| {
        invalid_input("entitlement.key", format!("{what} {key} does not exist in GoTo account {account}"))
    })
}
