//! Recording what an import saw: upsert each item, note it seen by the run, and keep a change
//! log (`added`, `changed`, `restored` here; `missing` from the deletion module). A run's counts
//! and summary lists are read back from that log, so an item seen twice in one run counts once.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attributes::Attributes;
use crate::error::{Doing, StateError};
use crate::model::{Item, RunId, Status, normalize_email};
use crate::run::OpenRun;
use crate::sql::{Json, text_enum, to_i64};

/// What happened to an item in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Seen for the first time.
    Added,
    /// Seen again with different attributes.
    Changed,
    /// Seen again after a complete run had marked it suspended-from-import / inactive.
    Restored,
    /// Marked suspended-from-import / inactive by a complete run.
    Missing,
}

text_enum!(ChangeKind { Added => "added", Changed => "changed", Restored => "restored", Missing => "missing" });

/// Whether the run had recorded an item of a page before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Not before in this run.
    First,
    /// In an earlier pass over a listing that moved; new to this pass.
    InEarlierPass,
    /// Already in this pass: a row offset paging repeated, or a page sent twice.
    InThisPass,
}

/// One top-level attribute whose value differs; `None` means absent (or null).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AttributeChange {
    pub name: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// An item that changed in a run, with the names of the attributes that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ItemChange {
    pub key: String,
    pub attributes: Vec<String>,
}

/// Entries kept per list in a run's summary; the counts are always complete, and the change
/// log (`Store::diff`) has every entry. Bounds memory however large the first import is.
pub(crate) const LISTED: usize = 1000;

/// What a run added, changed, restored and marked missing: every key counted once, the first
/// [`LISTED`] of each kind listed.
#[derive(Default)]
pub(crate) struct RunChanges {
    pub(crate) counts: [u64; 4],
    pub(crate) added: Vec<String>,
    pub(crate) changed: Vec<ItemChange>,
    pub(crate) restored: Vec<ItemChange>,
    pub(crate) missing: Vec<String>,
}

impl RunChanges {
    pub(crate) fn count(&self, kind: ChangeKind) -> u64 {
        self.counts[kind as usize]
    }

    /// Takes in one key's folded changes.
    fn push(&mut self, kind: ChangeKind, key: String, attributes: Vec<String>) {
        let count = &mut self.counts[kind as usize];
        *count += 1;
        if *count > LISTED as u64 {
            return;
        }
        match kind {
            ChangeKind::Added => self.added.push(key),
            ChangeKind::Missing => self.missing.push(key),
            ChangeKind::Changed => self.changed.push(ItemChange { key, attributes }),
            ChangeKind::Restored => self.restored.push(ItemChange { key, attributes }),
        }
    }
}

/// An item as the state held it when a page brought it again.
struct Stored {
    id: i64,
    status: Status,
    attributes: Attributes,
    email: Option<String>,
    last_seen_run: RunId,
}

/// Upserts one page's items for a running run. The caller owns the transaction.
/// Returns, per item, whether this run had already recorded it.
pub(crate) fn record_items(conn: &Connection, run: &OpenRun, items: &[Item]) -> Result<Vec<Recorded>, StateError> {
    const PREPARING: &str = "preparing to record a page";
    let mut find = conn
        .prepare_cached("SELECT id, status, attributes, email, last_seen_run FROM items WHERE scope = ?1 AND key = ?2")
        .doing(PREPARING)?;
    // The uniqueness check of the insert is the look-up: a key already stored adds nothing.
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO items (scope, key, status, attributes, email, email_norm, first_seen_run, last_seen_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
             ON CONFLICT (scope, key) DO NOTHING
             RETURNING id",
        )
        .doing(PREPARING)?;
    let mut update = conn
        .prepare_cached(
            "UPDATE items SET status = ?2, attributes = ?3, email = ?4, email_norm = ?5, last_seen_run = ?6
             WHERE id = ?1",
        )
        .doing(PREPARING)?;
    // Most items of most runs are unchanged: only the run that saw them is written (and the text
    // of attributes equal to what was stored but written differently, so it is compared as text
    // from then on).
    let mut touch = conn
        .prepare_cached("UPDATE items SET last_seen_run = ?2, attributes = coalesce(?3, attributes) WHERE id = ?1")
        .doing(PREPARING)?;
    let mut note_seen = conn
        .prepare_cached(
            "INSERT INTO run_seen (run_id, item_id, pass, last_seen_before) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
        )
        .doing(PREPARING)?;
    // The item as it was before the run first changed it, for undoing a run that does not end.
    let mut keep_before = conn
        .prepare_cached(
            "UPDATE run_seen SET before_status = ?3, before_attributes = ?4, before_email = ?5
             WHERE run_id = ?1 AND item_id = ?2 AND before_status IS NULL",
        )
        .doing(PREPARING)?;
    let mut note_seen_again = conn
        .prepare_cached("UPDATE run_seen SET pass = ?3 WHERE run_id = ?1 AND item_id = ?2 AND pass <> ?3")
        .doing(PREPARING)?;

    let status = Status::seen(run.scope);
    let pass = to_i64(run.pass);
    // A scope with nothing present when the run began (a first import) is read with inserts
    // first; otherwise most keys are stored already, and a look-up comes first.
    let mostly_new = run.present_before == 0;
    let mut recorded_before = Vec::with_capacity(items.len());
    for item in items {
        let email_norm = item.email.as_deref().and_then(normalize_email);
        let mut add = || {
            insert
                .query_row(
                    params![run.scope, item.key, status, item.attributes, item.email, email_norm, run.id],
                    |row| row.get::<_, i64>(0),
                )
                .optional()
                .doing("adding an item")
        };
        let added = if mostly_new { add()? } else { None };
        let stored = match added {
            Some(_) => None,
            None => find
                .query_row(params![run.scope, item.key], |row| {
                    Ok(Stored {
                        id: row.get(0)?,
                        status: row.get(1)?,
                        attributes: Attributes::stored(row.get(2)?),
                        email: row.get(3)?,
                        last_seen_run: row.get(4)?,
                    })
                })
                .optional()
                .doing("looking up an item")?,
        };
        let Some(before) = stored else {
            // Not stored: added above, or (looked up first) added now.
            let id = match added {
                Some(id) => id,
                None => add()?.ok_or(StateError::Sqlite {
                    doing: "adding an item",
                    source: rusqlite::Error::QueryReturnedNoRows,
                })?,
            };
            note_seen.execute(params![run.id, id, pass, None::<RunId>]).doing("noting an item seen")?;
            recorded_before.push(Recorded::First);
            log_change(conn, run.id, id, ChangeKind::Added, &[])?;
            continue;
        };
        let id = before.id;
        let recorded =
            if note_seen.execute(params![run.id, id, pass, before.last_seen_run]).doing("noting an item seen")? == 1 {
                Recorded::First
            } else if note_seen_again.execute(params![run.id, id, pass]).doing("noting an item seen")? == 1 {
                Recorded::InEarlierPass
            } else {
                Recorded::InThisPass
            };
        let diffs = attribute_changes(&before.attributes, &item.attributes)?;
        if before.status == status && diffs.is_empty() && before.email == item.email {
            let rewritten = (before.attributes != item.attributes).then_some(&item.attributes);
            touch.execute(params![id, run.id, rewritten]).doing("updating an item")?;
        } else {
            keep_before
                .execute(params![run.id, id, before.status, before.attributes, before.email])
                .doing("keeping an item's earlier state")?;
            update
                .execute(params![id, status, item.attributes, item.email, email_norm, run.id])
                .doing("updating an item")?;
        }
        let change = if before.status.is_gone() {
            Some(ChangeKind::Restored)
        } else if diffs.is_empty() {
            None
        } else {
            Some(ChangeKind::Changed)
        };
        recorded_before.push(recorded);
        if let Some(kind) = change {
            log_change(conn, run.id, id, kind, &diffs)?;
        }
    }
    Ok(recorded_before)
}

/// Appends one entry to the change log.
pub(crate) fn log_change(
    conn: &Connection,
    run: RunId,
    item: i64,
    kind: ChangeKind,
    attributes: &[AttributeChange],
) -> Result<(), StateError> {
    let attributes = (!attributes.is_empty()).then_some(Json(attributes));
    conn.prepare_cached("INSERT INTO changes (run_id, item_id, kind, attributes) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut stmt| stmt.execute(params![run, item, kind, attributes]))
        .doing("logging a change")?;
    Ok(())
}

/// Reads a stored change's attribute list (stored as NULL when empty).
pub(crate) fn stored_attributes(value: Option<Json<Vec<AttributeChange>>>) -> Vec<AttributeChange> {
    value.map(|Json(changes)| changes).unwrap_or_default()
}

/// A run's change log in item order, as [`run_changes`] folds it.
pub(crate) const RUN_CHANGES: &str =
    "SELECT c.kind, i.key, c.attributes FROM changes c JOIN items i ON i.id = c.item_id
     WHERE c.run_id = ?1 ORDER BY c.item_id, c.id";

/// Folds a run's change log into one entry per key, streaming it in key order so that memory
/// does not grow with the run. A key added in the run stays "added" even if it changed again
/// later in the run; a restored key stays "restored"; repeated changes merge attribute names.
pub(crate) fn run_changes(conn: &Connection, run: RunId) -> Result<RunChanges, StateError> {
    const READING: &str = "reading the run's changes";
    let mut stmt = conn.prepare_cached(RUN_CHANGES).doing(READING)?;
    let rows = stmt
        .query_map([run], |row| {
            Ok((row.get::<_, ChangeKind>(0)?, row.get::<_, String>(1)?, stored_attributes(row.get(2)?)))
        })
        .doing(READING)?;

    let mut changes = RunChanges::default();
    // The key being folded: its strongest kind so far and the attribute names seen.
    let mut current: Option<(String, ChangeKind, Vec<String>)> = None;
    for row in rows {
        let (kind, key, attributes) = row.doing(READING)?;
        match &mut current {
            Some((folding, strongest, names)) if *folding == key => {
                if rank(kind) > rank(*strongest) {
                    *strongest = kind;
                }
                for change in attributes {
                    if !names.contains(&change.name) {
                        names.push(change.name);
                    }
                }
            }
            _ => {
                if let Some((done, kind, names)) = current.take() {
                    changes.push(kind, done, names);
                }
                current = Some((key, kind, attributes.into_iter().map(|change| change.name).collect()));
            }
        }
    }
    if let Some((done, kind, names)) = current {
        changes.push(kind, done, names);
    }
    Ok(changes)
}

/// Which kind wins when one key has several changes in a run.
fn rank(kind: ChangeKind) -> u8 {
    match kind {
        ChangeKind::Changed => 0,
        ChangeKind::Restored => 1,
        ChangeKind::Added => 2,
        ChangeKind::Missing => 3,
    }
}

/// The top-level attributes whose values differ, in name order. Equal texts are equal
/// attributes, found without parsing either.
fn attribute_changes(before: &Attributes, after: &Attributes) -> Result<Vec<AttributeChange>, StateError> {
    if before == after {
        return Ok(Vec::new());
    }
    let (before, after) = (before.to_map()?, after.to_map()?);
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    Ok(names
        .into_iter()
        .filter_map(|name| {
            let (old, new) = (before.get(name), after.get(name));
            (old != new).then(|| AttributeChange { name: name.clone(), before: old.cloned(), after: new.cloned() })
        })
        .collect())
}
