//! Reading a paged listing to its end, in order, with the pages ahead fetched in parallel.
//!
//! A first page names the cursors of the pages after it (`ahead`). Up to the profile's
//! `pipeline-depth` sibling instances fetch them, each a fixed share in offset order, so GoTo's
//! latency no longer adds to its rate limit (the governor still paces every request). Pages are
//! handed on strictly in order, and never more than two per sibling are held in memory. Should a
//! page not lead where the first page said (rows moved between requests), the rest is read one
//! page at a time from where it does lead; should the total move, the listing is read again.

use std::sync::mpsc;

use anyhow::Result;

use super::output::{Record, account_record, entitlement_record};
use crate::runtime::{
    AccountFilter, AccountPage, AccountQuery, CallError, Connection, EntitlementKind, EntitlementPage, EntitlementQuery,
};

/// A page of a paged listing.
pub trait Paged: Send {
    fn total(&self) -> u64;
    fn next_cursor(&self) -> Option<String>;
    fn ahead(&self) -> &[String];
}

/// `Paged` for a WIT page record.
macro_rules! paged {
    ($page:ty) => {
        impl Paged for $page {
            fn total(&self) -> u64 {
                self.total
            }
            fn next_cursor(&self) -> Option<String> {
                self.next_cursor.clone()
            }
            fn ahead(&self) -> &[String] {
                &self.ahead
            }
        }
    };
}

paged!(AccountPage);
paged!(EntitlementPage);
paged!(Records);

/// A page made into records on the instance that fetched it, so that whoever takes the pages in
/// order only records and writes them.
pub struct Records {
    pub records: Vec<Record>,
    total: u64,
    next_cursor: Option<String>,
    ahead: Vec<String>,
}

impl From<AccountPage> for Records {
    fn from(page: AccountPage) -> Records {
        let records = page.accounts.into_iter().map(account_record).collect();
        Records { records, total: page.total, next_cursor: page.next_cursor, ahead: page.ahead }
    }
}

impl From<EntitlementPage> for Records {
    fn from(page: EntitlementPage) -> Records {
        let records = page.entitlements.into_iter().map(entitlement_record).collect();
        Records { records, total: page.total, next_cursor: page.next_cursor, ahead: page.ahead }
    }
}

/// What a paged read reports as it goes.
pub enum Event<P> {
    Page(P),
    /// GoTo's total changed between pages, so rows may have been skipped or repeated: the
    /// listing starts again from the first page.
    Restart {
        from: u64,
        to: u64,
    },
}

/// Reads beyond this many passes over a moving listing are not attempted; the state then
/// records the import as incomplete, which marks nothing missing.
const MAX_PASSES: u32 = 3;

/// Fetches the page a cursor starts (`None`: the first page) on a given instance.
type Fetch<'f, P> = &'f (dyn Fn(&mut Connection, Option<String>) -> Result<P, CallError> + Sync);

/// Where a pass goes after a page.
enum Next {
    /// The page at this cursor.
    Page(String),
    Done,
    /// The total moved: read the listing again.
    Restart,
}

/// One pass's view of the totals it has seen.
struct Pass {
    number: u32,
    first_total: u64,
}

impl Pass {
    /// Hands `page` on, or asks for a restart if its total moved (while passes remain).
    fn take<P: Paged>(&self, page: P, on_event: &mut dyn FnMut(Event<P>) -> Result<()>) -> Result<Next> {
        let total = page.total();
        if total != self.first_total && self.number < MAX_PASSES {
            on_event(Event::Restart { from: self.first_total, to: total })?;
            return Ok(Next::Restart);
        }
        let next = page.next_cursor().map_or(Next::Done, Next::Page);
        on_event(Event::Page(page))?;
        Ok(next)
    }
}

/// Reads every page with `fetch`, reporting each in order to `on_event`, starting again when
/// the total moves.
fn drain<P: Paged>(
    conn: &mut Connection,
    fetch: Fetch<'_, P>,
    mut on_event: impl FnMut(Event<P>) -> Result<()>,
) -> Result<()> {
    let depth = conn.pipeline_depth();
    let mut number = 1;
    'pass: loop {
        let first = fetch(conn, None)?;
        let pass = Pass { number, first_total: first.total() };
        let mut next = first.next_cursor().map_or(Next::Done, Next::Page);
        let ahead = first.ahead().to_vec();
        on_event(Event::Page(first))?;
        if depth > 1 && !ahead.is_empty() {
            next = prefetched(conn, depth, &ahead, fetch, &pass, &mut on_event)?;
        }
        loop {
            match next {
                Next::Done => return Ok(()),
                Next::Restart => {
                    number += 1;
                    continue 'pass;
                }
                Next::Page(cursor) => next = pass.take(fetch(conn, Some(cursor))?, &mut on_event)?,
            }
        }
    }
}

/// Reads the pages at `cursors` on `depth` sibling instances and hands them on in order; says
/// where the pass goes after the last one it handed on.
fn prefetched<P: Paged>(
    conn: &Connection,
    depth: usize,
    cursors: &[String],
    fetch: Fetch<'_, P>,
    pass: &Pass,
    on_event: &mut dyn FnMut(Event<P>) -> Result<()>,
) -> Result<Next> {
    let workers = depth.min(cursors.len());
    let siblings: Vec<Connection> = (0..workers).map(|_| conn.sibling()).collect::<Result<_>>()?;
    std::thread::scope(|scope| {
        // Sibling `w` fetches cursors w, w + workers, ... in order; a channel of one keeps it at
        // most one page ahead of the reader. A dropped receiver stops it.
        let pages: Vec<mpsc::Receiver<Result<P, CallError>>> = siblings
            .into_iter()
            .enumerate()
            .map(|(w, mut sibling)| {
                let (send, receive) = mpsc::sync_channel(1);
                scope.spawn(move || {
                    for cursor in cursors.iter().skip(w).step_by(workers) {
                        let page = fetch(&mut sibling, Some(cursor.clone()));
                        let failed = page.is_err();
                        if send.send(page).is_err() || failed {
                            return;
                        }
                    }
                });
                receive
            })
            .collect();
        for i in 0..cursors.len() {
            // A sibling sends every page it is given, or an error, before it stops.
            let page = pages[i % workers].recv().map_err(|_| anyhow::anyhow!("a page reader stopped early"))??;
            match pass.take(page, on_event)? {
                Next::Page(cursor) if cursors.get(i + 1).is_some_and(|expected| *expected != cursor) => {
                    // The page leads elsewhere than the first page said: read on from there.
                    return Ok(Next::Page(cursor));
                }
                Next::Page(cursor) if i + 1 == cursors.len() => return Ok(Next::Page(cursor)),
                Next::Page(_) => {}
                other => return Ok(other),
            }
        }
        Ok(Next::Done)
    })
}

/// Reads every page of accounts, each made into a `P` by the instance that fetched it.
pub fn each_account_page<P: Paged + From<AccountPage>>(
    conn: &mut Connection,
    filter: Option<AccountFilter>,
    page_size: Option<u32>,
    on_event: impl FnMut(Event<P>) -> Result<()>,
) -> Result<()> {
    let fetch = move |conn: &mut Connection, cursor| {
        conn.list_accounts(&AccountQuery { filter: filter.clone(), page_size, cursor }).map(P::from)
    };
    drain(conn, &fetch, on_event)
}

/// Reads every page of entitlements, each made into a `P` by the instance that fetched it.
pub fn each_entitlement_page<P: Paged + From<EntitlementPage>>(
    conn: &mut Connection,
    kind: EntitlementKind,
    page_size: Option<u32>,
    on_event: impl FnMut(Event<P>) -> Result<()>,
) -> Result<()> {
    let fetch = move |conn: &mut Connection, cursor| {
        conn.list_entitlements(kind, &EntitlementQuery { page_size, cursor }).map(P::from)
    };
    drain(conn, &fetch, on_event)
}
