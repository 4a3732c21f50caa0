//! The `Store` and the life of an import run: open (lock, migrate, abandon runs of dead
//! processes), begin, record pages, restart a pass, finish.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::deletion::{self, Held};
use crate::error::{Doing, StateError};
use crate::model::{End, Item, RunId, RunState, Scope, Status};
use crate::records::{self, ChangeKind, ItemChange, Recorded, RunChanges};
use crate::run::OpenRun;
use crate::schema;
use crate::sql::{get_u64, to_i64};
use crate::undo;

const ABANDONED: &str = "the process ended before the import finished";

/// A run's pages are committed together once this many items are recorded since the last
/// commit (and when anything else is written). Each commit writes every database page the items
/// touched, and a page of 1,000 random keys touches most of the key index: committing a page at
/// a time wrote the index out again for every page, four times the WAL of committing eight.
const COMMIT_EVERY_ITEMS: usize = 8192;

/// The reconciliation state of one connector profile: a SQLite database plus the lock that makes
/// this process its only user.
pub struct Store {
    // Declared before the lock so the database is closed before the lock is released.
    pub(crate) conn: Connection,
    _lock: File,
    pub(crate) clock: fn() -> i64,
    /// Items recorded in the open transaction of pages, if one is open (see [`COMMIT_EVERY_ITEMS`]).
    uncommitted: Option<usize>,
}

/// Whether an ended run proved absence. Only `Complete` runs mark (or hold) anything missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Completeness {
    Complete,
    Incomplete { reason: String },
    Failed { reason: String },
    Cancelled { reason: String },
}

/// What a run did, in numbers. Filled in when the run ends; a running run shows only its passes
/// and reported total.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Counts {
    pub passes: u64,
    /// The total GoTo reported in the current (last) pass; `None` if no page was recorded in it.
    pub reported_total: Option<u64>,
    /// Distinct keys seen in the current pass.
    pub seen: u64,
    pub added: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub restored: u64,
    /// Items marked suspended-from-import / inactive.
    pub missing: u64,
    /// Items that would have been marked but were held back by the threshold (see `pending`).
    pub held: u64,
}

/// The outcome of `finish`: the run's completeness, counts and the keys behind them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    pub run: RunId,
    pub scope: Scope,
    pub completeness: Completeness,
    pub counts: Counts,
    /// The first 1,000 keys of each kind (the counts are complete; `Store::diff` lists all).
    pub added: Vec<String>,
    pub changed: Vec<ItemChange>,
    pub restored: Vec<ItemChange>,
    pub missing: Vec<String>,
    /// Set when a complete run's deletions exceeded the threshold and were held, not applied.
    pub held: Option<Held>,
}

impl Store {
    /// Opens (creating and migrating) the database at `path`, whose parent directory must exist.
    ///
    /// Holds an exclusive lock on `<path>.lock` for the Store's lifetime ([`StateError::Busy`] if
    /// another process has it). Because of that lock, a run still `running` at open time belongs
    /// to a process that died: it is marked `abandoned`.
    pub fn open(path: &Path) -> Result<Store, StateError> {
        Store::open_with_clock(path, unix_now)
    }

    /// `open` with a chosen clock, so tests do not depend on the time.
    pub(crate) fn open_with_clock(path: &Path, clock: fn() -> i64) -> Result<Store, StateError> {
        let lock = lock(path)?;
        let mut conn = Connection::open(path).doing("opening the state database")?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;
        let mut store = Store { conn, _lock: lock, clock, uncommitted: None };
        store.abandon_dead_runs()?;
        Ok(store)
    }

    /// Starts an import run. A filtered run (`filter` is the CLI's filter text) can record items
    /// but never proves absence. Only one run per scope may be running at a time.
    pub fn begin(&mut self, scope: Scope, filter: Option<&str>) -> Result<RunId, StateError> {
        let now = (self.clock)();
        let tx = self.commit_pages()?.transaction().doing("starting an import run")?;
        let running: Option<RunId> = tx
            .query_row(
                "SELECT id FROM runs WHERE scope = ?1 AND state = ?2",
                params![scope, RunState::Running],
                |row| row.get(0),
            )
            .optional()
            .doing("checking for an import in progress")?;
        if let Some(run) = running {
            return Err(StateError::RunInProgress { run, scope });
        }
        let run = tx
            .query_row(
                "INSERT INTO runs (scope, filter, started_at, state, present_before)
                 VALUES (?1, ?2, ?3, ?4, (SELECT count(*) FROM items WHERE scope = ?1 AND status = ?5))
                 RETURNING id",
                params![scope, filter, now, RunState::Running, Status::seen(scope)],
                |row| row.get(0),
            )
            .doing("starting an import run")?;
        tx.commit().doing("starting an import run")?;
        Ok(run)
    }

    /// Notes the GoTo account `run` reads. A complete listing of one account proves nothing
    /// about the items of another, so once a complete run has named its account, a run reading
    /// another one is incomplete.
    pub fn set_account(&mut self, run: RunId, account: &str) -> Result<(), StateError> {
        let tx = self.commit_pages()?.transaction().doing("noting the run's GoTo account")?;
        OpenRun::load(&tx, run)?;
        tx.execute("UPDATE runs SET account = ?2 WHERE id = ?1", params![run, account])
            .doing("noting the run's GoTo account")?;
        tx.commit().doing("noting the run's GoTo account")
    }

    /// Records one page: upserts each item, notes it seen by this run, logs changes, and
    /// remembers the total GoTo reported with the page. Pages are committed together (see
    /// [`COMMIT_EVERY_ITEMS`]), and before anything else is written; a page that fails is rolled
    /// back with the pages recorded since the last commit.
    ///
    /// Returns, per item, whether the run had recorded it before, so a caller re-reading a moving
    /// listing passes each item on once, and can tell a page that adds nothing to its pass.
    pub fn record_page(
        &mut self,
        run: RunId,
        reported_total: u64,
        items: &[Item],
    ) -> Result<Vec<Recorded>, StateError> {
        if self.uncommitted.is_none() {
            self.conn.execute_batch("BEGIN").doing("starting to record pages")?;
            self.uncommitted = Some(0);
        }
        let recorded_before = match record(&self.conn, run, reported_total, items) {
            Ok(recorded_before) => recorded_before,
            Err(error) => {
                // Not the page alone: a savepoint per page journals every index page it
                // touches, which cost more than the commits saved. The run fails either way.
                self.uncommitted = None;
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(error);
            }
        };
        let recorded = self.uncommitted.unwrap_or_default() + items.len();
        self.uncommitted = Some(recorded);
        if recorded >= COMMIT_EVERY_ITEMS {
            self.commit_pages()?;
        }
        Ok(recorded_before)
    }

    /// Commits the pages recorded since the last commit, if any; every other write comes after.
    pub(crate) fn commit_pages(&mut self) -> Result<&mut Connection, StateError> {
        if self.uncommitted.take().is_some() {
            self.conn.execute_batch("COMMIT").doing("committing recorded pages")?;
        }
        Ok(&mut self.conn)
    }

    /// The listing moved under us (the total changed between pages): forgets which keys this run
    /// has seen and the totals noted so far, so the caller can re-read from the first page. Keeps
    /// the attribute updates and change log already written, since they are true.
    pub fn restart_pass(&mut self, run: RunId) -> Result<(), StateError> {
        let tx = self.commit_pages()?.transaction().doing("starting a new pass")?;
        OpenRun::load(&tx, run)?;
        // Seen rows stay, tagged with the old pass: they still count the run's distinct keys.
        tx.execute(
            "UPDATE runs SET passes = passes + 1, reported_total = NULL, other_total = NULL WHERE id = ?1",
            [run],
        )
        .doing("starting a new pass")?;
        tx.commit().doing("starting a new pass")
    }

    /// Ends a run in one transaction and returns its summary. `End::Finished` marks items missing
    /// only if the run proves it read the whole listing, and within the deletion policy.
    pub fn finish(&mut self, run: RunId, end: End) -> Result<Summary, StateError> {
        if let End::Finished { deletions } = &end {
            deletions.validate()?;
        }
        let now = (self.clock)();
        let tx = self.commit_pages()?.transaction().doing("starting to finish a run")?;
        let open = OpenRun::load(&tx, run)?;
        let seen = open.seen_in_pass(&tx)?;
        let (completeness, held) = match end {
            End::Failed { reason } => (Completeness::Failed { reason }, None),
            End::Cancelled { reason } => (Completeness::Cancelled { reason }, None),
            End::Finished { deletions } => match deletion::unproven(&open, seen) {
                Some(reason) => (Completeness::Incomplete { reason }, None),
                None => (Completeness::Complete, deletion::apply(&tx, &open, &deletions, seen)?),
            },
        };
        let (state, reason) = match &completeness {
            Completeness::Complete => (RunState::Complete, held.as_ref().map(|held| held.reason.as_str())),
            Completeness::Incomplete { reason } => (RunState::Incomplete, Some(reason.as_str())),
            Completeness::Failed { reason } => (RunState::Failed, Some(reason.as_str())),
            Completeness::Cancelled { reason } => (RunState::Cancelled, Some(reason.as_str())),
        };
        let held_count = held.as_ref().map_or(0, |held| held.keys.len() as u64);
        let (counts, changes) = close(&tx, &open, (state, reason), seen, held_count, now)?;
        tx.commit().doing("committing the end of a run")?;
        let RunChanges { added, changed, restored, missing, .. } = changes;
        Ok(Summary { run, scope: open.scope, completeness, counts, added, changed, restored, missing, held })
    }

    fn abandon_dead_runs(&mut self) -> Result<(), StateError> {
        let now = (self.clock)();
        let tx = self.conn.transaction().doing("abandoning interrupted runs")?;
        let dead: Vec<RunId> = tx
            .prepare("SELECT id FROM runs WHERE state = ?1")
            .and_then(|mut stmt| stmt.query_map([RunState::Running], |row| row.get(0))?.collect())
            .doing("finding interrupted runs")?;
        for id in dead {
            let run = OpenRun::load(&tx, id)?;
            let seen = run.seen_in_pass(&tx)?;
            close(&tx, &run, (RunState::Abandoned, Some(ABANDONED)), seen, 0, now)?;
        }
        tx.commit().doing("abandoning interrupted runs")
    }
}

impl Drop for Store {
    /// An orderly drop (an error unwinding past an import) keeps the pages recorded, as a commit
    /// per page did; only a process killed outright loses those since the last commit, of a run
    /// that the next open abandons and undoes anyway.
    fn drop(&mut self) {
        let _ = self.commit_pages();
    }
}

/// Records one page within the open transaction; see [`Store::record_page`].
fn record(conn: &Connection, run: RunId, reported_total: u64, items: &[Item]) -> Result<Vec<Recorded>, StateError> {
    let open = OpenRun::load(conn, run)?;
    let recorded_before = records::record_items(conn, &open, items)?;
    // The first page of a pass sets the total; the first page that disagrees is remembered,
    // since one disagreement is enough to make the pass unable to prove absence.
    conn.prepare_cached(
        "UPDATE runs SET
             other_total = CASE WHEN other_total IS NULL AND reported_total <> ?2 THEN ?2 ELSE other_total END,
             reported_total = COALESCE(reported_total, ?2)
         WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute(params![run, to_i64(reported_total)]))
    .doing("noting the page's total")?;
    Ok(recorded_before)
}

/// Ends a run: counts what it did from the change log, writes the run's row, undoes it if it did
/// not end (the counts still say what it read), and drops its seen set (items keep
/// `last_seen_run`; the per-run set is only needed while the run is open).
fn close(
    tx: &Transaction<'_>,
    run: &OpenRun,
    (state, reason): (RunState, Option<&str>),
    seen: u64,
    held: u64,
    now: i64,
) -> Result<(Counts, RunChanges), StateError> {
    let changes = records::run_changes(tx, run.id)?;
    let touched: u64 = tx
        .query_row("SELECT count(*) FROM run_seen WHERE run_id = ?1", [run.id], |row| get_u64(row, 0))
        .doing("counting the keys seen")?;
    let added = changes.count(ChangeKind::Added);
    let changed = changes.count(ChangeKind::Changed);
    let restored = changes.count(ChangeKind::Restored);
    let counts = Counts {
        passes: run.pass,
        reported_total: run.reported_total,
        seen,
        added,
        changed,
        unchanged: touched.saturating_sub(added + changed + restored),
        restored,
        missing: changes.count(ChangeKind::Missing),
        held,
    };
    tx.execute(
        "UPDATE runs SET state = ?2, reason = ?3, ended_at = ?4, seen = ?5, added = ?6, changed = ?7,
             unchanged = ?8, restored = ?9, missing = ?10, held = ?11
         WHERE id = ?1",
        params![
            run.id,
            state,
            reason,
            now,
            to_i64(counts.seen),
            to_i64(counts.added),
            to_i64(counts.changed),
            to_i64(counts.unchanged),
            to_i64(counts.restored),
            to_i64(counts.missing),
            to_i64(counts.held),
        ],
    )
    .doing("recording the end of a run")?;
    if !state.keeps_its_pages() {
        undo::undo(tx, run.id)?;
    }
    tx.execute("DELETE FROM run_seen WHERE run_id = ?1", [run.id]).doing("clearing the run's seen keys")?;
    Ok((counts, changes))
}

/// Takes the advisory lock that makes this process the database's only user.
fn lock(path: &Path) -> Result<File, StateError> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|source| StateError::Io { doing: "create the lock file", path: lock_path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StateError::Busy { path: path.to_owned() }),
        Err(TryLockError::Error(source)) => Err(StateError::Io { doing: "lock", path: lock_path, source }),
    }
}

fn unix_now() -> i64 {
    // A clock before 1970 is a broken clock; 0 keeps the run's timestamps obviously wrong, not fatal.
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| to_i64(elapsed.as_secs()))
}
