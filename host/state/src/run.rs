//! A run that is still open, as recording a page and finishing a run need it.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Doing, StateError};
use crate::model::{RunId, RunState, Scope};
use crate::sql::{get_opt_u64, get_u64, to_i64};

/// A run that is still running.
pub(crate) struct OpenRun {
    pub(crate) id: RunId,
    pub(crate) scope: Scope,
    pub(crate) filtered: bool,
    pub(crate) pass: u64,
    pub(crate) reported_total: Option<u64>,
    pub(crate) other_total: Option<u64>,
    pub(crate) present_before: u64,
    /// The GoTo account the run reads, once the caller has said.
    pub(crate) account: Option<String>,
    /// The GoTo account the scope's latest complete run read, if it said.
    pub(crate) proven_account: Option<String>,
}

impl OpenRun {
    /// Loads `id`, which must exist and still be running.
    pub(crate) fn load(conn: &Connection, id: RunId) -> Result<OpenRun, StateError> {
        let found = conn
            .prepare_cached(
                "SELECT state, scope, filter IS NOT NULL, passes, reported_total, other_total, present_before,
                        account,
                        (SELECT p.account FROM runs p WHERE p.scope = r.scope AND p.state = ?2 AND p.id < r.id
                         ORDER BY p.id DESC LIMIT 1)
                 FROM runs r WHERE r.id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![id, RunState::Complete], |row| {
                    let run = OpenRun {
                        id,
                        scope: row.get(1)?,
                        filtered: row.get(2)?,
                        pass: get_u64(row, 3)?,
                        reported_total: get_opt_u64(row, 4)?,
                        other_total: get_opt_u64(row, 5)?,
                        present_before: get_u64(row, 6)?,
                        account: row.get(7)?,
                        proven_account: row.get(8)?,
                    };
                    Ok((row.get::<_, RunState>(0)?, run))
                })
                .optional()
            })
            .doing("reading an import run")?;
        match found {
            None => Err(StateError::UnknownRun(id)),
            Some((RunState::Running, run)) => Ok(run),
            Some((state, _)) => Err(StateError::RunEnded { run: id, state }),
        }
    }

    /// Distinct keys seen in the current pass.
    pub(crate) fn seen_in_pass(&self, conn: &Connection) -> Result<u64, StateError> {
        conn.prepare_cached("SELECT count(*) FROM run_seen WHERE run_id = ?1 AND pass = ?2")
            .and_then(|mut stmt| stmt.query_row(params![self.id, to_i64(self.pass)], |row| get_u64(row, 0)))
            .doing("counting the keys seen")
    }
}

/// The scope of any run, running or ended.
pub(crate) fn run_scope(conn: &Connection, run: RunId) -> Result<Scope, StateError> {
    conn.prepare_cached("SELECT scope FROM runs WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([run], |row| row.get(0)).optional())
        .doing("reading an import run")?
        .ok_or(StateError::UnknownRun(run))
}
