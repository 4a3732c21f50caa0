//! `test`, `import` and `get`: reading from GoTo through the component.

use anyhow::Result;

use super::args::{Get, Import};
use super::output::{Export, Record, account_record, entitlement_record, plural, to_object};
use super::progress::Progress;
use super::{Context, bad_input};
use crate::log::Level;
use crate::runtime::{
    AccountFilter, AccountPage, AccountQuery, CallError, Connection, ConnectionInfo, EntitlementKind, EntitlementPage,
    EntitlementQuery,
};

pub fn test(ctx: &mut Context<'_>) -> Result<()> {
    let mut conn = ctx.connect()?;
    let info = check(&mut conn)?;
    let name = info.account_name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
    let principal = info.principal.as_deref().unwrap_or("an unnamed user");
    let roles = if info.admin_roles.is_empty() { "no admin roles".to_owned() } else { info.admin_roles.join(", ") };
    writeln!(ctx.stdout, "connected to GoTo account {}{name} as {principal} [{roles}]", info.account_key)?;
    Ok(())
}

/// Tests the connection and pins the account key for the rest of the run.
pub fn check(conn: &mut Connection) -> Result<ConnectionInfo> {
    let info = conn.test_connection()?;
    conn.remember_setting("account-key", &info.account_key);
    Ok(info)
}

pub fn run(ctx: &mut Context<'_>, what: &Import) -> Result<()> {
    let (export, label) = match what {
        Import::Accounts { export, .. } => (export, "accounts"),
        Import::Entitlements { kind, export } => (export, plural((*kind).into())),
    };
    // An output file that cannot be created is found before anything is sent.
    let file: Option<Export<'static>> =
        export.output.as_deref().map(|path| Export::to_file(export.format, path)).transpose().map_err(bad_input)?;
    let mut conn = ctx.connect()?;
    check(&mut conn)?;
    let out = match file {
        Some(file) => file,
        None => Export::to_stdout(export.format, &mut *ctx.stdout)?,
    };
    let progress = Progress::new(ctx.stderr_is_terminal, label, &ctx.log);
    let totals = match what {
        Import::Accounts { filter, .. } => stream(out, &progress, |on_page| {
            each_account_page(&mut conn, filter.clone(), export.page_size, |page| {
                on_page(page.accounts.iter().map(account_record).collect(), page.total)
            })
        }),
        Import::Entitlements { kind, .. } => stream(out, &progress, |on_page| {
            each_entitlement_page(&mut conn, (*kind).into(), export.page_size, |page| {
                on_page(page.entitlements.iter().map(entitlement_record).collect(), page.total)
            })
        }),
    }?;
    drop(progress);
    totals.report(ctx, label);
    Ok(())
}

pub fn get(ctx: &mut Context<'_>, what: &Get) -> Result<()> {
    let Get::Account { key } = what;
    let mut conn = ctx.connect()?;
    let account = conn.get_account(key)?;
    writeln!(ctx.stdout, "{}", serde_json::to_string_pretty(&to_object(account_record(&account)))?)?;
    Ok(())
}

/// Page callback: the page's records and the total GoTo reported with it.
type OnPage<'a> = dyn FnMut(Vec<Record>, u64) -> Result<()> + 'a;

/// Writes the records of every page `read` produces to `out`, showing progress, and completes
/// the output only when every page was read.
fn stream(
    mut out: Export<'_>,
    progress: &Progress,
    read: impl FnOnce(&mut OnPage<'_>) -> Result<Totals>,
) -> Result<Totals> {
    let mut written = 0u64;
    let totals = read(&mut |records, total| {
        for record in records {
            out.write(record)?;
            written += 1;
        }
        progress.page(written, total);
        Ok(())
    })?;
    out.finish()?;
    Ok(totals)
}

/// What a paged read saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    pub read: u64,
    /// The total GoTo reported with the last page.
    pub reported: u64,
}

impl Totals {
    fn report(&self, ctx: &Context<'_>, label: &str) {
        if self.read != self.reported {
            ctx.log.log(
                Level::Warn,
                "import",
                format_args!(
                    "GoTo reported {} {label} but {} were read: the data changed during the import",
                    self.reported, self.read
                ),
            );
        }
        ctx.log.log(Level::Info, "import", format_args!("{} {label} imported", self.read));
    }
}

/// A page of a paged listing.
trait Paged {
    fn len(&self) -> usize;
    fn total(&self) -> u64;
    fn next_cursor(&self) -> Option<String>;
}

impl Paged for AccountPage {
    fn len(&self) -> usize {
        self.accounts.len()
    }
    fn total(&self) -> u64 {
        self.total
    }
    fn next_cursor(&self) -> Option<String> {
        self.next_cursor.clone()
    }
}

impl Paged for EntitlementPage {
    fn len(&self) -> usize {
        self.entitlements.len()
    }
    fn total(&self) -> u64 {
        self.total
    }
    fn next_cursor(&self) -> Option<String> {
        self.next_cursor.clone()
    }
}

/// Calls `fetch` with each cursor until the connector reports no next page.
fn drain<P: Paged>(
    mut fetch: impl FnMut(Option<String>) -> Result<P, CallError>,
    mut on_page: impl FnMut(&P) -> Result<()>,
) -> Result<Totals> {
    let mut totals = Totals::default();
    let mut cursor = None;
    loop {
        let page = fetch(cursor.take())?;
        on_page(&page)?;
        totals.read += page.len() as u64;
        totals.reported = page.total();
        match page.next_cursor() {
            Some(next) => cursor = Some(next),
            None => return Ok(totals),
        }
    }
}

pub fn each_account_page(
    conn: &mut Connection,
    filter: Option<AccountFilter>,
    page_size: Option<u32>,
    on_page: impl FnMut(&AccountPage) -> Result<()>,
) -> Result<Totals> {
    drain(|cursor| conn.list_accounts(&AccountQuery { filter: filter.clone(), page_size, cursor }), on_page)
}

pub fn each_entitlement_page(
    conn: &mut Connection,
    kind: EntitlementKind,
    page_size: Option<u32>,
    on_page: impl FnMut(&EntitlementPage) -> Result<()>,
) -> Result<Totals> {
    drain(|cursor| conn.list_entitlements(kind, &EntitlementQuery { page_size, cursor }), on_page)
}
