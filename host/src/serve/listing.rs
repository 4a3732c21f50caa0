//! Whole listings through the component, page after page of GoTo's largest size: the filtered
//! accounts of a SCIM filter, every user for a group's members, the group and license catalogues.

use super::failure::Failure;
use crate::runtime::{
    Account, AccountFilter, AccountQuery, Connection, Entitlement, EntitlementKind, EntitlementQuery,
};

/// The largest page GoTo serves.
pub const MAX_PAGE: u32 = 1000;

/// Calls `visit` with each account `filter` selects (every one without), in GoTo's order, after
/// `check_total` has seen the total each page reports.
pub fn each_account(
    conn: &mut Connection,
    filter: Option<AccountFilter>,
    mut check_total: impl FnMut(u64) -> Result<(), Failure>,
    mut visit: impl FnMut(Account) -> Result<(), Failure>,
) -> Result<(), Failure> {
    follow(|cursor| {
        let page = conn.list_accounts(&AccountQuery { filter: filter.clone(), page_size: Some(MAX_PAGE), cursor })?;
        check_total(page.total)?;
        page.accounts.into_iter().try_for_each(&mut visit)?;
        Ok(page.next_cursor)
    })
}

/// Every entitlement of `kind`.
pub fn entitlements(conn: &mut Connection, kind: EntitlementKind) -> Result<Vec<Entitlement>, Failure> {
    let mut all = Vec::new();
    follow(|cursor| {
        let page = conn.list_entitlements(kind, &EntitlementQuery { page_size: Some(MAX_PAGE), cursor })?;
        all.extend(page.entitlements);
        Ok(page.next_cursor)
    })?;
    Ok(all)
}

/// Reads pages from no cursor on, each handing the next page's cursor, until one hands none.
fn follow(mut read: impl FnMut(Option<String>) -> Result<Option<String>, Failure>) -> Result<(), Failure> {
    let mut cursor = None;
    loop {
        match read(cursor)? {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}
