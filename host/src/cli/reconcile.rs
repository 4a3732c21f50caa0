//! Recording an import in the profile's reconciliation state, and telling the user what the
//! state concluded: what was added, changed and restored, what is missing (only with proof),
//! what is held back by the threshold, and who owns which account.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use gtm_state::{
    Attributes, Completeness, CorrelationReport, DeletionPolicy, End, Identity, Item, ItemChange, Recorded, RunId,
    Scope, Store, Summary,
};

use super::output::{AsObject, Record};
use crate::log::{Level, Logger};

/// Lists in the text summary stop after this many entries; `state diff` has them all.
const SHOWN: usize = 10;

/// One import run being recorded.
pub struct Recorder {
    store: Store,
    run: RunId,
}

impl Recorder {
    /// Opens the state (creating it) and starts a run of `scope`; `filter` is the filter as the
    /// user wrote it, for a limited import.
    pub fn begin(path: &Path, scope: Scope, filter: Option<&str>) -> Result<Recorder> {
        let mut store = open_state(path)?;
        let run = store.begin(scope, filter)?;
        Ok(Recorder { store, run })
    }

    /// Notes the GoTo account the run reads (see [`Store::set_account`]).
    pub fn account(&mut self, account: &str) -> Result<()> {
        Ok(self.store.set_account(self.run, account)?)
    }

    /// Records a page; says per record whether the run had recorded it before.
    pub fn page(&mut self, records: &[Record], reported_total: u64) -> Result<Vec<Recorded>> {
        let items: Vec<Item> = records.iter().map(item).collect::<Result<_>>()?;
        Ok(self.store.record_page(self.run, reported_total, &items)?)
    }

    /// GoTo's total moved between pages: the listing is read again from the start.
    pub fn restart(&mut self) -> Result<()> {
        Ok(self.store.restart_pass(self.run)?)
    }

    /// Ends the run as cancelled: stopped early on purpose, marking nothing missing.
    pub fn cancel(mut self, reason: &str) -> Result<Summary> {
        Ok(self.store.finish(self.run, End::Cancelled { reason: reason.to_owned() })?)
    }

    /// Ends the run: finished if `read` succeeded; otherwise failed, marking nothing missing,
    /// and `read`'s error is returned whether or not the failure could be recorded.
    pub fn end(mut self, read: Result<()>, deletions: DeletionPolicy, log: &Logger) -> Result<(Summary, Store)> {
        match read {
            Ok(()) => {
                let summary = self.store.finish(self.run, End::Finished { deletions })?;
                Ok((summary, self.store))
            }
            Err(error) => {
                if let Err(state) = self.store.finish(self.run, End::Failed { reason: format!("{error:#}") }) {
                    log.log(Level::Warn, "state", format_args!("could not record the failed run: {state:#}"));
                }
                Err(error)
            }
        }
    }
}

pub use crate::connector::open_state;

/// The state's view of a record: its key, its email (accounts), and the rest as attributes.
fn item(record: &Record) -> Result<Item> {
    let text = |wanted: &str| record.iter().find(|(name, _)| *name == wanted).and_then(|(_, v)| v.as_str());
    Ok(Item {
        key: text("key").unwrap_or_default().to_owned(),
        email: text("email").map(str::to_owned),
        attributes: Attributes::new(&AsObject::without(record, "key"))?,
    })
}

/// The run's conclusion in a few lines, for stderr.
pub fn describe(summary: &Summary) -> String {
    let c = &summary.counts;
    let scope = summary.scope;
    let mut text = format!(
        "{scope} (run {}): {} seen; {} added, {} changed, {} unchanged, {} restored, {} missing",
        summary.run, c.seen, c.added, c.changed, c.unchanged, c.restored, c.missing
    );
    match &summary.completeness {
        Completeness::Complete => {}
        Completeness::Incomplete { reason } => {
            let _ = write!(text, "\nnot a complete listing, so nothing was marked missing: {reason}");
        }
        Completeness::Failed { reason } => {
            let _ = write!(
                text,
                "\nthe import failed, so nothing was marked missing and the state keeps nothing it read: {reason}"
            );
        }
        Completeness::Cancelled { reason } => {
            let _ = write!(
                text,
                "\nthe import was cancelled, so nothing was marked missing and the state keeps nothing it read: {reason}"
            );
        }
    }
    // The summary lists only the first keys of each kind: the counts say how many there are.
    list(&mut text, "added", c.added, summary.added.iter().map(String::as_str), Whole::Diff);
    list(&mut text, "changed", c.changed, summary.changed.iter().map(changed), Whole::Diff);
    list(&mut text, "restored", c.restored, summary.restored.iter().map(changed), Whole::Diff);
    let gone = if scope == Scope::Accounts { "suspended-from-import" } else { "inactive" };
    list(
        &mut text,
        &format!("missing, now {gone}"),
        c.missing,
        summary.missing.iter().map(String::as_str),
        Whole::Diff,
    );
    if let Some(held) = &summary.held {
        let _ = write!(text, "\nheld: {}; `gtm-connector state pending` lists them", held.reason);
    }
    text
}

fn changed(change: &ItemChange) -> String {
    match change.attributes.as_slice() {
        [] => change.key.clone(),
        names => format!("{} ({})", change.key, names.join(", ")),
    }
}

/// Where the whole of a list that the text shortens can be read.
#[derive(Clone, Copy)]
enum Whole {
    /// A run's changes: the change log.
    Diff,
    /// The latest correlation: the accounts with their owners.
    Show,
}

/// A labelled line of the first entries of `count`; `entries` may hold fewer than `count`.
fn list<S: AsRef<str>>(text: &mut String, label: &str, count: u64, entries: impl Iterator<Item = S>, whole: Whole) {
    if count == 0 {
        return;
    }
    let shown: Vec<String> = entries.take(SHOWN).map(|e| e.as_ref().to_owned()).collect();
    let more = match count.saturating_sub(shown.len() as u64) {
        0 => String::new(),
        more => {
            let command = match whole {
                Whole::Diff => "state diff",
                Whole::Show => "state show",
            };
            format!(" and {more} more (`gtm-connector {command}`)")
        }
    };
    let _ = write!(text, "\n  {label}: {}{more}", shown.join(", "));
}

/// [`list`] of every entry of a complete correlation list.
fn list_all<S: AsRef<str>>(text: &mut String, label: &str, entries: impl ExactSizeIterator<Item = S>) {
    list(text, label, entries.len() as u64, entries, Whole::Show);
}

/// Correlates the run's accounts with `identities` and says what it found and what changed.
pub fn correlate(store: &mut Store, run: RunId, identities: &[Identity], log: &Logger) -> Result<CorrelationReport> {
    let report = store.correlate(run, identities)?;
    let t = &report.totals;
    let mut text = format!(
        "correlation: {} accounts matched to identities by email, {} orphan accounts, {} identities without an account",
        t.matched, t.orphan_accounts, t.identities_without_account
    );
    if !report.first {
        text.push_str("\n  since the last correlation:");
    }
    let account = |a: &gtm_state::Account| match &a.email {
        Some(email) => format!("{} <{email}>", a.key),
        None => a.key.clone(),
    };
    list_all(
        &mut text,
        "newly matched",
        report.newly_matched.iter().map(|m| format!("{} → {}", account(&m.account), m.identity)),
    );
    list_all(&mut text, "no longer matched", report.no_longer_matched.iter().map(|m| account(&m.account)));
    list_all(&mut text, "orphan accounts (new)", report.newly_orphaned.iter().map(account));
    list_all(&mut text, "no longer orphaned", report.no_longer_orphaned.iter().map(account));
    list_all(
        &mut text,
        "identities without an account (new)",
        report.new_identities_without_account.iter().map(|i| format!("{} <{}>", i.id, i.email)),
    );
    list_all(&mut text, "resolved identities", report.resolved_identities.iter().map(|i| i.id.clone()));
    list_all(
        &mut text,
        "ambiguous emails",
        report.ambiguous.iter().map(|a| format!("{} ({} kept, {} ignored)", a.email, a.kept, a.ignored)),
    );
    log.note(text);
    Ok(report)
}
