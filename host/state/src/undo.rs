//! Undoing a run that did not end: a failed, cancelled or abandoned run leaves the items as they
//! were before it began. Its pages were never shown to be one whole listing, so what they said
//! is not evidence: a hostile or broken server stopped by the listing bounds must not leave
//! made-up accounts behind, which the next honest run would then hold as pending deletions.
//!
//! The run's seen set (`run_seen`) remembers, per item, when it was last seen before the run and,
//! if the run changed it, what it was before; items the run added are removed with the change log
//! entries that named them.

use rusqlite::{Connection, params};

use crate::error::{Doing, StateError};
use crate::model::{RunId, Status, normalize_email};

/// An item as it was before the run changed it.
struct Earlier {
    item: i64,
    status: Status,
    /// As stored: text the state wrote.
    attributes: String,
    email: Option<String>,
}

/// Puts back every item `run` touched and forgets what it added and logged. The caller owns the
/// transaction and still holds the run's seen set.
pub(crate) fn undo(conn: &Connection, run: RunId) -> Result<(), StateError> {
    const UNDOING: &str = "undoing a run that did not end";
    conn.prepare_cached(
        "UPDATE items SET last_seen_run = s.last_seen_before
         FROM run_seen s
         WHERE s.run_id = ?1 AND s.item_id = items.id AND s.last_seen_before IS NOT NULL",
    )
    .and_then(|mut stmt| stmt.execute([run]))
    .doing(UNDOING)?;

    let earlier: Vec<Earlier> = conn
        .prepare_cached(
            "SELECT item_id, before_status, before_attributes, before_email FROM run_seen
             WHERE run_id = ?1 AND before_status IS NOT NULL",
        )
        .and_then(|mut stmt| {
            stmt.query_map([run], |row| {
                Ok(Earlier { item: row.get(0)?, status: row.get(1)?, attributes: row.get(2)?, email: row.get(3)? })
            })?
            .collect()
        })
        .doing(UNDOING)?;
    let mut restore = conn
        .prepare_cached("UPDATE items SET status = ?2, attributes = ?3, email = ?4, email_norm = ?5 WHERE id = ?1")
        .doing(UNDOING)?;
    for Earlier { item, status, attributes, email } in earlier {
        let email_norm = email.as_deref().and_then(normalize_email);
        restore.execute(params![item, status, attributes, email, email_norm]).doing(UNDOING)?;
    }

    conn.execute("DELETE FROM changes WHERE run_id = ?1", [run]).doing(UNDOING)?;
    // Only this run's seen set still names the items it added.
    conn.execute(
        "DELETE FROM run_seen WHERE run_id = ?1 AND item_id IN (SELECT id FROM items WHERE first_seen_run = ?1)",
        [run],
    )
    .doing(UNDOING)?;
    conn.execute("DELETE FROM items WHERE first_seen_run = ?1", [run]).doing(UNDOING)?;
    Ok(())
}
