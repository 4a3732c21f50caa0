//! Read-only views for the CLI: current items, run history, change diffs, pending deletions.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Doing, StateError};
use crate::model::{RunId, RunState, Scope, Status};
use crate::records::{AttributeChange, ChangeKind, stored_attributes};
use crate::run::run_scope;
use crate::sql::{Json, get_opt_u64, get_u64, to_i64};
use crate::store::{Counts, Store};

/// One account or entitlement as currently stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct StoredItem {
    pub scope: Scope,
    pub key: String,
    pub status: Status,
    pub email: Option<String>,
    pub attributes: Map<String, Value>,
    pub first_seen_run: RunId,
    pub last_seen_run: RunId,
    /// Accounts: the owning identity as of the latest correlation.
    pub identity: Option<String>,
}

/// One import run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunRecord {
    pub id: RunId,
    pub scope: Scope,
    pub filter: Option<String>,
    /// Unix seconds.
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub state: RunState,
    /// Why the run is incomplete, failed or abandoned, or why a complete run held deletions.
    pub reason: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The changes logged by the runs of one scope after `from`, up to and including `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Diff {
    pub scope: Scope,
    /// `None`: from the beginning.
    pub from: Option<RunId>,
    pub to: RunId,
    pub changes: Vec<DiffEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DiffEntry {
    pub run: RunId,
    pub key: String,
    pub kind: ChangeKind,
    /// For `changed` and `restored`: the attributes that differ, with before and after values.
    pub attributes: Vec<AttributeChange>,
}

/// An item a complete run would have marked missing, held by the deletion threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PendingItem {
    pub scope: Scope,
    pub key: String,
    /// What a person recognises it by: the email of an account, the `name` attribute of an entitlement.
    pub label: Option<String>,
    pub run: RunId,
    pub reason: String,
}

impl Store {
    /// The current items, of one scope or all, ordered by scope and key.
    pub fn show(&self, scope: Option<Scope>) -> Result<Vec<StoredItem>, StateError> {
        const READING: &str = "reading items";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT i.scope, i.key, i.status, i.email, i.attributes, i.first_seen_run, i.last_seen_run, o.identity_id
                 FROM items i LEFT JOIN account_owners o ON o.item_id = i.id
                 WHERE ?1 IS NULL OR i.scope = ?1
                 ORDER BY i.scope, i.key",
            )
            .doing(READING)?;
        stmt.query_map([scope], |row| {
            Ok(StoredItem {
                scope: row.get(0)?,
                key: row.get(1)?,
                status: row.get(2)?,
                email: row.get(3)?,
                attributes: row.get::<_, Json<_>>(4)?.0,
                first_seen_run: row.get(5)?,
                last_seen_run: row.get(6)?,
                identity: row.get(7)?,
            })
        })
        .and_then(Iterator::collect)
        .doing(READING)
    }

    /// The latest `limit` runs, newest first.
    pub fn history(&self, limit: usize) -> Result<Vec<RunRecord>, StateError> {
        const READING: &str = "reading the run history";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, scope, filter, started_at, ended_at, state, reason, passes, reported_total,
                        seen, added, changed, unchanged, restored, missing, held
                 FROM runs ORDER BY id DESC LIMIT ?1",
            )
            .doing(READING)?;
        stmt.query_map([to_i64(limit)], |row| {
            Ok(RunRecord {
                id: row.get(0)?,
                scope: row.get(1)?,
                filter: row.get(2)?,
                started_at: row.get(3)?,
                ended_at: row.get(4)?,
                state: row.get(5)?,
                reason: row.get(6)?,
                counts: Counts {
                    passes: get_u64(row, 7)?,
                    reported_total: get_opt_u64(row, 8)?,
                    seen: get_u64(row, 9)?,
                    added: get_u64(row, 10)?,
                    changed: get_u64(row, 11)?,
                    unchanged: get_u64(row, 12)?,
                    restored: get_u64(row, 13)?,
                    missing: get_u64(row, 14)?,
                    held: get_u64(row, 15)?,
                },
            })
        })
        .and_then(Iterator::collect)
        .doing(READING)
    }

    /// The changes logged in the runs after `from` up to and including `to`, for `to`'s scope.
    ///
    /// Defaults: `to` is the latest ended run (of `from`'s scope, if given); `from` is the ended
    /// run of the same scope before `to`. So `diff(None, None)` is what the latest run changed.
    pub fn diff(&self, from: Option<RunId>, to: Option<RunId>) -> Result<Diff, StateError> {
        let from_scope = from.map(|run| run_scope(&self.conn, run)).transpose()?;
        let (to, scope) = match to {
            Some(run) => (run, run_scope(&self.conn, run)?),
            None => self.latest_ended(from_scope, None)?.ok_or(StateError::NoFinishedRun)?,
        };
        let from = match (from, from_scope) {
            (Some(run), Some(found)) if found != scope => {
                return Err(StateError::ScopeMismatch { run, expected: scope, found });
            }
            (Some(run), _) => Some(run),
            (None, _) => self.latest_ended(Some(scope), Some(to))?.map(|(run, _)| run),
        };

        const READING: &str = "reading the change log";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.run_id, i.key, c.kind, c.attributes
                 FROM changes c JOIN runs r ON r.id = c.run_id JOIN items i ON i.id = c.item_id
                 WHERE r.scope = ?1 AND c.run_id > ?2 AND c.run_id <= ?3
                 ORDER BY c.id",
            )
            .doing(READING)?;
        let changes = stmt
            .query_map(params![scope, from.unwrap_or(RunId(0)), to], |row| {
                Ok(DiffEntry {
                    run: row.get(0)?,
                    key: row.get(1)?,
                    kind: row.get(2)?,
                    attributes: stored_attributes(row.get(3)?),
                })
            })
            .and_then(Iterator::collect)
            .doing(READING)?;
        Ok(Diff { scope, from, to, changes })
    }

    /// The items held by the deletion threshold, ordered by scope and key.
    pub fn pending(&self) -> Result<Vec<PendingItem>, StateError> {
        const READING: &str = "reading pending deletions";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT i.scope, i.key,
                        COALESCE(i.email, CASE WHEN json_type(i.attributes, '$.name') = 'text'
                                               THEN json_extract(i.attributes, '$.name') END),
                        p.run_id, COALESCE(r.reason, '')
                 FROM pending p JOIN items i ON i.id = p.item_id JOIN runs r ON r.id = p.run_id
                 ORDER BY i.scope, i.key",
            )
            .doing(READING)?;
        stmt.query_map([], |row| {
            Ok(PendingItem {
                scope: row.get(0)?,
                key: row.get(1)?,
                label: row.get(2)?,
                run: row.get(3)?,
                reason: row.get(4)?,
            })
        })
        .and_then(Iterator::collect)
        .doing(READING)
    }

    /// The latest ended run, optionally of one scope and before a given run, with its scope.
    fn latest_ended(&self, scope: Option<Scope>, before: Option<RunId>) -> Result<Option<(RunId, Scope)>, StateError> {
        self.conn
            .query_row(
                "SELECT id, scope FROM runs
                 WHERE state <> ?1 AND (?2 IS NULL OR scope = ?2) AND (?3 IS NULL OR id < ?3)
                 ORDER BY id DESC LIMIT 1",
                params![RunState::Running, scope, before],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .doing("finding the latest ended run")
    }
}
