//! Connection settings and schema migrations.
//!
//! `PRAGMA user_version` holds the number of migration steps applied. To change the schema, append
//! a step to `MIGRATIONS`; never edit a step that has shipped.

use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Doing, StateError};
use crate::sql::to_i64;

/// Version 1: the whole schema.
const V1: &str = "
-- One row per import run. Counts are filled in when the run ends.
CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    scope          TEXT    NOT NULL,
    filter         TEXT,
    started_at     INTEGER NOT NULL,
    ended_at       INTEGER,
    state          TEXT    NOT NULL,
    reason         TEXT,
    -- Present/active items of the scope when the run began: the deletion threshold's denominator.
    present_before INTEGER NOT NULL,
    passes         INTEGER NOT NULL DEFAULT 1,
    -- The total the first page of the current pass reported (NULL: no page yet), and the first
    -- different total a later page of the pass reported (which makes it unable to prove absence).
    reported_total INTEGER,
    other_total    INTEGER,
    seen           INTEGER NOT NULL DEFAULT 0,
    added          INTEGER NOT NULL DEFAULT 0,
    changed        INTEGER NOT NULL DEFAULT 0,
    unchanged      INTEGER NOT NULL DEFAULT 0,
    restored       INTEGER NOT NULL DEFAULT 0,
    missing        INTEGER NOT NULL DEFAULT 0,
    held           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_scope ON runs (scope, id);
CREATE INDEX runs_by_state ON runs (state);

-- The current state of every account and entitlement ever seen.
CREATE TABLE items (
    id             INTEGER PRIMARY KEY,
    scope          TEXT    NOT NULL,
    key            TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    attributes     TEXT    NOT NULL,
    email          TEXT,
    email_norm     TEXT,
    first_seen_run INTEGER NOT NULL REFERENCES runs (id),
    last_seen_run  INTEGER NOT NULL REFERENCES runs (id),
    UNIQUE (scope, key)
);
CREATE INDEX items_by_status ON items (scope, status);

-- Which items a running run has seen, and in which pass. Rows are deleted when the run ends.
CREATE TABLE run_seen (
    run_id  INTEGER NOT NULL REFERENCES runs (id),
    item_id INTEGER NOT NULL REFERENCES items (id),
    pass    INTEGER NOT NULL,
    PRIMARY KEY (run_id, item_id)
) WITHOUT ROWID;
CREATE INDEX run_seen_by_pass ON run_seen (run_id, pass);

-- The change log: added, changed, restored, missing. `attributes` lists changed attributes.
CREATE TABLE changes (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    item_id    INTEGER NOT NULL REFERENCES items (id),
    kind       TEXT    NOT NULL,
    attributes TEXT
);
CREATE INDEX changes_by_run ON changes (run_id);

-- Items a complete run would have marked missing but held back by the threshold.
CREATE TABLE pending (
    item_id INTEGER PRIMARY KEY REFERENCES items (id),
    run_id  INTEGER NOT NULL REFERENCES runs (id)
);

-- The latest correlation: every present account and its identity (NULL: orphan) ...
CREATE TABLE account_owners (
    item_id     INTEGER PRIMARY KEY REFERENCES items (id),
    identity_id TEXT
);
-- ... every identity with no present account ...
CREATE TABLE identities_without_account (
    identity_id TEXT PRIMARY KEY,
    email       TEXT NOT NULL
);
-- ... and a log of correlations, so the first one can be told apart.
CREATE TABLE correlations (
    id     INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    at     INTEGER NOT NULL
);
";

/// Version 2: the GoTo account each run read, so that a listing of another account is never
/// taken as proof about this state's items.
const V2: &str = "ALTER TABLE runs ADD COLUMN account TEXT;";

/// Version 3: what each item was before the running run first touched it, so that a run which
/// does not end (failed, cancelled, abandoned) can be undone instead of leaving what a broken or
/// hostile listing sent. `before_status` is set only if the run changed the item.
const V3: &str = "
ALTER TABLE run_seen ADD COLUMN last_seen_before INTEGER;
ALTER TABLE run_seen ADD COLUMN before_status TEXT;
ALTER TABLE run_seen ADD COLUMN before_attributes TEXT;
ALTER TABLE run_seen ADD COLUMN before_email TEXT;
";

/// Version 4: the retry queue (see `queue.rs`). `operation` is the canonical JSON of the
/// operation, its identity; AUTOINCREMENT so an id is never given to another operation.
const V4: &str = "
CREATE TABLE queue (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    operation       TEXT    NOT NULL UNIQUE,
    queued_at       INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    error_kind      TEXT    NOT NULL,
    error_message   TEXT    NOT NULL
);
";

/// Version 5: what the SCIM service keeps of each GoTo account that GoTo has no field for
/// (see `scim_accounts.rs`): the client's `externalId`, its `userName` where that is not the
/// email, and when the client deleted an account that the service only deprovisioned; and a
/// group's `externalId`.
const V5: &str = "
CREATE TABLE scim_accounts (
    account_key TEXT PRIMARY KEY,
    external_id TEXT,
    user_name   TEXT COLLATE NOCASE UNIQUE,
    deleted_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX scim_accounts_by_external_id ON scim_accounts (external_id);
CREATE TABLE scim_groups (
    group_key   TEXT PRIMARY KEY,
    external_id TEXT NOT NULL
) WITHOUT ROWID;
";

/// Version 6: indexes an import pays for per item only where they are read. A run's seen set is
/// counted by pass once, when the run ends, from its primary key; the change log is read per run
/// in item order, which an index on both gives without sorting.
const V6: &str = "
DROP INDEX IF EXISTS run_seen_by_pass;
DROP INDEX IF EXISTS changes_by_run;
CREATE INDEX IF NOT EXISTS changes_by_run_item ON changes (run_id, item_id);
";

const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

/// The page cache's bound, in KiB (SQLite's default is 2 MiB). An import looks every key up in
/// the `(scope, key)` index, in GoTo's order, not the index's: with the default cache, a large
/// state rereads its index pages from the file on every page recorded. 16 MiB holds the indexes
/// of a few hundred thousand items and keeps the process's memory bounded whatever the size.
const CACHE_KIB: i64 = 16 * 1024;

/// WAL frames (database pages) after which a commit checkpoints the WAL into the database: 32 MiB
/// at SQLite's 4 KiB pages, where SQLite's default is 1,000.
const CHECKPOINT_PAGES: i64 = 8192;

/// Per-connection settings: WAL so a killed process leaves a consistent database, foreign keys,
/// a bounded page cache large enough for the indexes, and a busy timeout in case something
/// outside the lock (a backup, sqlite3) holds the file.
pub(crate) fn configure(conn: &Connection) -> Result<(), StateError> {
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        .doing("switching to WAL journal mode")?;
    // A negative cache_size is a size in KiB rather than a number of pages.
    conn.pragma_update(None, "cache_size", -CACHE_KIB).doing("sizing the page cache")?;
    // Each commit is still synced to the WAL; a checkpoint copies it into the database. Every
    // page of an import rewrites much of the key index, so a longer WAL copies each database
    // page once for many commits instead of once for a few.
    conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES).doing("setting the WAL checkpoint")?;
    conn.pragma_update(None, "foreign_keys", true).doing("enabling foreign keys")?;
    conn.busy_timeout(Duration::from_secs(5)).doing("setting the busy timeout")
}

/// Applies the steps this database lacks, all in one transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StateError> {
    let known = to_i64(MIGRATIONS.len());
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).doing("starting the schema migration")?;
    let found: i64 =
        tx.pragma_query_value(None, "user_version", |row| row.get(0)).doing("reading the schema version")?;
    if found > known {
        return Err(StateError::SchemaTooNew { found, known });
    }
    let applied = usize::try_from(found).unwrap_or(0);
    for step in MIGRATIONS.iter().skip(applied) {
        tx.execute_batch(step).doing("migrating the schema")?;
    }
    tx.pragma_update(None, "user_version", known).doing("writing the schema version")?;
    tx.commit().doing("committing the schema migration")
}
