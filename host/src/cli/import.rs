//! `test`, `import` and `get`: reading from GoTo through the component.

use anyhow::{Result, bail};
use std::io::{self, Write};
use std::path::Path;

use gtm_state::{DeletionPolicy, Recorded, Scope, Summary};
use serde_json::json;

use super::args::{Format, Get, Import, Kind, StateFormat};
use super::output::{Export, Record, account_record, plural, to_object};
use super::paging::{Event, Paged, Records, each_account_page, each_entitlement_page};
use super::progress::Progress;
use super::reconcile::{self, Recorder};
use super::report::write_json;
use super::{Context, bad_input, identities};
use crate::log::Logger;
use crate::profile::DEFAULT_MAX_ITEMS;
use crate::runtime::{AccountFilter, AccountQuery, Connection, ConnectionInfo};

pub fn test(ctx: &mut Context<'_>, format: StateFormat) -> Result<()> {
    let mut conn = ctx.connect()?;
    let info = check(&mut conn)?;
    if format == StateFormat::Json {
        let info = json!({
            "account-key": info.account_key,
            "account-name": info.account_name,
            "principal": info.principal,
            "admin-roles": info.admin_roles,
        });
        return write_json(ctx.stdout, &info);
    }
    writeln!(ctx.stdout, "{}", connected(&info))?;
    Ok(())
}

/// What a connection test found, in one line.
pub fn connected(info: &ConnectionInfo) -> String {
    let name = info.account_name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
    let principal = info.principal.as_deref().unwrap_or("an unnamed user");
    let roles = if info.admin_roles.is_empty() { "no admin roles".to_owned() } else { info.admin_roles.join(", ") };
    format!("connected to GoTo account {}{name} as {principal} [{roles}]", info.account_key)
}

/// Tests the connection and pins the account key for the rest of the run.
pub fn check(conn: &mut Connection) -> Result<ConnectionInfo> {
    let info = conn.test_connection()?;
    conn.remember_setting("account-key", &info.account_key);
    Ok(info)
}

pub fn run(ctx: &mut Context<'_>, what: &Import) -> Result<()> {
    let (export, reconcile, scope, label) = match what {
        Import::Accounts { export, reconcile, .. } => (export, reconcile, Scope::Accounts, "accounts"),
        Import::Entitlements { kind, export, reconcile } => {
            (export, reconcile, scope_of(*kind), plural((*kind).into()))
        }
    };
    // Files are checked before anything is contacted or recorded.
    let identities = match what {
        Import::Accounts { identities: Some(path), .. } => Some(identities::load(path).map_err(bad_input)?),
        _ => None,
    };
    let file: Option<Export<'static>> =
        export.output.as_deref().map(|path| Export::to_file(export.format, path)).transpose().map_err(bad_input)?;
    let filter = match what {
        Import::Accounts { filter: Some(filter), .. } => Some(filter_text(filter)),
        _ => None,
    };
    let connector = ctx.connector()?;
    let (mut conn, profile) = (connector.connect()?, connector.profile());
    // The component checks the filter and page size before anything is sent or recorded.
    if let Import::Accounts { filter, .. } = what {
        conn.check_account_query(&AccountQuery { filter: filter.clone(), page_size: export.page_size, cursor: None })?;
    }
    let mut recorder = Recorder::begin(&connector.state_file(), scope, filter.as_deref())?;
    let mut stdout = Watched { out: &mut *ctx.stdout, closed: false };
    let bounds = Bounds::new(label, profile.max_items);
    let read = (|| {
        let info = check(&mut conn)?;
        recorder.account(&info.account_key)?;
        let out = match file {
            Some(file) => file,
            None => Export::to_stdout(export.format, &mut stdout)?,
        };
        let progress = Progress::new(ctx.show_progress, label, &ctx.log);
        match what {
            Import::Accounts { filter, .. } => stream(out, &progress, &mut recorder, &ctx.log, bounds, |listing| {
                each_account_page(&mut conn, filter.clone(), export.page_size, |event| listing.on(event))
            }),
            Import::Entitlements { kind, .. } => stream(out, &progress, &mut recorder, &ctx.log, bounds, |listing| {
                each_entitlement_page(&mut conn, (*kind).into(), export.page_size, |event| listing.on(event))
            }),
        }
    })();
    // Whoever reads stdout stopped reading (`import … | head`): a clean stop, not a failure.
    if stdout.closed && read.is_err() {
        let summary = recorder.cancel("the output was closed before the import finished")?;
        ctx.log.note(reconcile::describe(&summary));
        return Ok(());
    }
    let (summary, mut store) = recorder.end(read, profile.deletion_policy(reconcile.confirm_deletions), &ctx.log)?;
    ctx.log.note(reconcile::describe(&summary));
    if let Some(identities) = identities {
        reconcile::correlate(&mut store, summary.run, &identities, &ctx.log)?;
    }
    Ok(())
}

/// Stdout that notes when its reader has gone away (a broken pipe).
struct Watched<'a> {
    out: &'a mut dyn Write,
    closed: bool,
}

impl Watched<'_> {
    fn note<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            self.closed |= e.kind() == io::ErrorKind::BrokenPipe;
        }
        result
    }
}

impl Write for Watched<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.out.write(buf);
        self.note(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        let flushed = self.out.flush();
        self.note(flushed)
    }
}

/// Imports every account into the state at `state` without writing them anywhere, and returns
/// what the state concluded (the demo's reconciliation).
pub fn reconcile_accounts(
    conn: &mut Connection,
    state: &Path,
    deletions: DeletionPolicy,
    log: &Logger,
) -> Result<Summary> {
    let mut recorder = Recorder::begin(state, Scope::Accounts, None)?;
    let mut discard = std::io::sink();
    let read = Export::to_stdout(Format::Jsonl, &mut discard).and_then(|out| {
        let bounds = Bounds::new("accounts", DEFAULT_MAX_ITEMS);
        stream(out, &Progress::new(false, "accounts", log), &mut recorder, log, bounds, |listing| {
            each_account_page(conn, None, None, |event| listing.on(event))
        })
    });
    Ok(recorder.end(read, deletions, log)?.0)
}

fn scope_of(kind: Kind) -> Scope {
    match kind {
        Kind::Groups => Scope::Groups,
        Kind::Licenses => Scope::Licenses,
        Kind::Roles => Scope::AdminRoles,
    }
}

/// A filter as the state records it, in the `--filter` syntax.
fn filter_text(filter: &AccountFilter) -> String {
    match filter {
        AccountFilter::Email(v) => format!("email={v}"),
        AccountFilter::Key(v) => format!("key={v}"),
        AccountFilter::Name(v) => format!("name={v}"),
        AccountFilter::Goto(v) => format!("goto={v}"),
    }
}

pub fn get(ctx: &mut Context<'_>, what: &Get) -> Result<()> {
    let Get::Account { key } = what;
    let mut conn = ctx.connect()?;
    let account = conn.get_account(key)?;
    writeln!(ctx.stdout, "{}", serde_json::to_string_pretty(&to_object(account_record(account)))?)?;
    Ok(())
}

/// Where the pages of one import go: the output, the progress bar and the state.
struct Listing<'o, 'p> {
    out: Export<'o>,
    progress: &'p Progress,
    recorder: &'p mut Recorder,
    log: &'p Logger,
    bounds: Bounds,
}

impl Listing<'_, '_> {
    fn on(&mut self, event: Event<Records>) -> Result<()> {
        match event {
            Event::Page(page) => {
                let total = page.total();
                self.page(page.records, total)
            }
            Event::Restart { from, to } => {
                self.log.note(format_args!(
                    "GoTo's total moved from {from} to {to} during the import (data changed between pages); \
                     reading again from the start"
                ));
                self.bounds.restart();
                self.recorder.restart()
            }
        }
    }

    /// Records a page in the state, then writes the records this run has not passed on
    /// before (after a re-read, or a row that offset paging repeated).
    fn page(&mut self, records: Vec<Record>, total: u64) -> Result<()> {
        self.bounds.before(records.len(), total)?;
        let recorded = self.recorder.page(&records, total)?;
        self.bounds.after(&recorded)?;
        for (record, recorded) in records.into_iter().zip(recorded) {
            if recorded == Recorded::First {
                self.out.write(record)?;
            }
        }
        self.out.flush()?;
        self.progress.page(self.bounds.items, total);
        Ok(())
    }
}

/// What stops a listing that would never end, whatever the server sends. A pass may grow a
/// little while it is read (accounts added meanwhile), but one that reads more than twice the
/// total its first page reported is not converging; a page must add an item new to its pass;
/// and no import reads more than `[limits] max-items`.
struct Bounds {
    noun: &'static str,
    max_items: u64,
    /// Distinct items this import has read.
    items: u64,
    /// The current pass's first reported total and rows read.
    pass_total: Option<u64>,
    pass_rows: u64,
}

impl Bounds {
    fn new(noun: &'static str, max_items: u64) -> Bounds {
        Bounds { noun, max_items, items: 0, pass_total: None, pass_rows: 0 }
    }

    fn restart(&mut self) {
        (self.pass_total, self.pass_rows) = (None, 0);
    }

    /// Checks a page of `rows` rows reporting `total`, before it is recorded.
    fn before(&mut self, rows: usize, total: u64) -> Result<()> {
        let (noun, max) = (self.noun, self.max_items);
        if total > max {
            bail!(
                "GoTo reported {total} {noun}, more than [limits] max-items = {max} allows; \
                 raise max-items in the profile if there really are that many"
            );
        }
        let first = *self.pass_total.get_or_insert(total);
        self.pass_rows += rows as u64;
        if self.pass_rows > first.saturating_mul(2) {
            bail!(
                "GoTo's listing does not end: {} {noun} read in this pass, more than twice the {first} \
                 it reported when the pass began",
                self.pass_rows
            );
        }
        Ok(())
    }

    /// Checks what the state made of a page: something new, and within `max-items`.
    fn after(&mut self, recorded: &[Recorded]) -> Result<()> {
        if !recorded.is_empty() && recorded.iter().all(|r| *r == Recorded::InThisPass) {
            bail!("GoTo sent a page of {} all read before in this pass: the listing repeats itself", self.noun);
        }
        self.items += recorded.iter().filter(|r| **r == Recorded::First).count() as u64;
        if self.items > self.max_items {
            bail!(
                "more than [limits] max-items = {} {} were read; the listing does not end",
                self.max_items,
                self.noun
            );
        }
        Ok(())
    }
}

/// Reads a listing into `out` and the state; the output is completed only when every page was
/// read.
fn stream(
    out: Export<'_>,
    progress: &Progress,
    recorder: &mut Recorder,
    log: &Logger,
    bounds: Bounds,
    read: impl FnOnce(&mut Listing<'_, '_>) -> Result<()>,
) -> Result<()> {
    let mut listing = Listing { out, progress, recorder, log, bounds };
    read(&mut listing)?;
    listing.out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Recorded = Recorded::First;

    #[test]
    fn a_pass_may_grow_while_read_but_not_past_twice_its_first_total() {
        let mut bounds = Bounds::new("accounts", 1000);
        bounds.before(10, 10).unwrap();
        bounds.before(10, 11).unwrap();
        let error = bounds.before(1, 12).unwrap_err().to_string();
        assert!(error.contains("21 accounts read in this pass, more than twice the 10"), "{error}");
        bounds.restart();
        bounds.before(10, 12).unwrap();
    }

    #[test]
    fn a_page_must_add_something_new_to_its_pass() {
        let mut bounds = Bounds::new("groups", 1000);
        bounds.after(&[FIRST, Recorded::InThisPass]).unwrap();
        bounds.after(&[Recorded::InEarlierPass]).unwrap();
        bounds.after(&[]).unwrap();
        let error = bounds.after(&[Recorded::InThisPass; 2]).unwrap_err().to_string();
        assert!(error.contains("a page of groups all read before in this pass"), "{error}");
    }

    #[test]
    fn no_import_reads_more_than_max_items() {
        let mut bounds = Bounds::new("accounts", 3);
        let error = bounds.before(0, 4).unwrap_err().to_string();
        assert!(error.contains("GoTo reported 4 accounts, more than [limits] max-items = 3 allows"), "{error}");
        // Across passes of a listing that keeps bringing new items, within each pass's total.
        bounds.before(3, 3).unwrap();
        bounds.after(&[FIRST; 3]).unwrap();
        bounds.restart();
        bounds.before(1, 3).unwrap();
        let error = bounds.after(&[FIRST]).unwrap_err().to_string();
        assert!(error.contains("more than [limits] max-items = 3 accounts were read"), "{error}");
    }
}
