//! The retry queue: write operations that failed for a transient cause (GoTo throttling, a 5xx,
//! the network), kept with their last error until `retry` completes them or they fail for good.
//!
//! An operation is identified by its canonical JSON: the object with its keys sorted at every
//! level, without whitespace. Queueing the same operation again (the same line applied twice,
//! failing both times) updates the one entry: its attempts and last error, not its place.
//! Every change is one SQL statement, so a killed process leaves the queue as before or after.

use rusqlite::params;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Doing, StateError};
use crate::sql::{Json, get_u64};
use crate::store::Store;

/// Identifies one queued operation. Ids are never reused, so an id in old output never names
/// another operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct QueueId(i64);

impl std::fmt::Display for QueueId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Why the latest attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The error kind as result lines name it (`remote`, `transport`, `rate-limited`).
    pub kind: String,
    pub message: String,
}

/// One queued operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Queued {
    pub id: QueueId,
    /// The operation, canonical (see the module documentation).
    pub operation: Value,
    /// Unix seconds when it was first queued.
    pub queued_at: i64,
    /// Unix seconds of the latest failed attempt.
    pub last_attempt_at: i64,
    /// Failed attempts so far, the first included.
    pub attempts: u64,
    pub last_error: Failure,
}

impl Store {
    /// Queues `operation` (a JSON object), or, if it is queued already, counts one more failed
    /// attempt and keeps `failure` as its last error. Returns its id.
    pub fn enqueue(&mut self, operation: &Value, failure: &Failure) -> Result<QueueId, StateError> {
        let now = (self.clock)();
        self.commit_pages()?
            .query_row(
                "INSERT INTO queue (operation, queued_at, last_attempt_at, attempts, error_kind, error_message)
                 VALUES (?1, ?2, ?2, 1, ?3, ?4)
                 ON CONFLICT (operation) DO UPDATE SET
                     attempts = attempts + 1, last_attempt_at = ?2, error_kind = ?3, error_message = ?4
                 RETURNING id",
                params![canonical(operation).to_string(), now, failure.kind, failure.message],
                |row| row.get(0).map(QueueId),
            )
            .doing("queueing an operation for retry")
    }

    /// Counts one more failed attempt of a queued operation, with `failure` as its last error;
    /// one that is no longer queued stays gone.
    pub fn record_failure(&mut self, id: QueueId, failure: &Failure) -> Result<(), StateError> {
        let now = (self.clock)();
        self.commit_pages()?
            .execute(
                "UPDATE queue SET attempts = attempts + 1, last_attempt_at = ?2, error_kind = ?3, error_message = ?4
                 WHERE id = ?1",
                params![id.0, now, failure.kind, failure.message],
            )
            .doing("noting a failed retry")?;
        Ok(())
    }

    /// Removes a queued operation (it succeeded, or failed for good); removing one that is not
    /// queued does nothing.
    pub fn dequeue(&mut self, id: QueueId) -> Result<(), StateError> {
        self.commit_pages()?
            .execute("DELETE FROM queue WHERE id = ?1", [id.0])
            .doing("removing an operation from the queue")?;
        Ok(())
    }

    /// Every queued operation, in the order queued.
    pub fn queue(&self) -> Result<Vec<Queued>, StateError> {
        const READING: &str = "reading the retry queue";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, operation, queued_at, last_attempt_at, attempts, error_kind, error_message
                 FROM queue ORDER BY id",
            )
            .doing(READING)?;
        stmt.query_map([], |row| {
            Ok(Queued {
                id: QueueId(row.get(0)?),
                operation: row.get::<_, Json<Value>>(1)?.0,
                queued_at: row.get(2)?,
                last_attempt_at: row.get(3)?,
                attempts: get_u64(row, 4)?,
                last_error: Failure { kind: row.get(5)?, message: row.get(6)? },
            })
        })
        .and_then(Iterator::collect)
        .doing(READING)
    }
}

/// `value` with the keys of every object sorted, so two spellings of one operation are one text
/// whatever order their fields came in (and whether or not serde_json preserves order).
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), canonical(v))).collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}
