//! The crate's one error type. Every variant says what was being done, so the CLI can print it as is.

use std::path::PathBuf;

use crate::attributes::NotAnObject;
use crate::model::{RunId, RunState, Scope};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("another gtm-connector process is using this state ({})", path.display())]
    Busy { path: PathBuf },

    #[error("cannot {doing} {}: {source}", path.display())]
    Io {
        doing: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("state database error while {doing}: {source}")]
    Sqlite {
        doing: &'static str,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "the state database has schema version {found}, but this gtm-connector only knows up to {known}; \
         use a newer gtm-connector"
    )]
    SchemaTooNew { found: i64, known: i64 },

    #[error("there is no import run {0}")]
    UnknownRun(RunId),

    #[error("import run {run} has already ended ({state})")]
    RunEnded { run: RunId, state: RunState },

    #[error("import run {run} of {scope} is still in progress; finish it first")]
    RunInProgress { run: RunId, scope: Scope },

    #[error("import run {run} read {found}, not {expected}")]
    ScopeMismatch { run: RunId, expected: Scope, found: Scope },

    #[error("no import has finished yet")]
    NoFinishedRun,

    #[error("the deletion threshold must be a share between 0 and 1 (0.10 is 10 %), not {0}")]
    InvalidThreshold(f64),

    #[error("unknown scope {0:?}; expected accounts, groups, licenses or admin-roles")]
    UnknownScope(String),

    #[error("invalid run id {0:?}; expected a positive number")]
    InvalidRunId(String),

    #[error(transparent)]
    Attributes(#[from] NotAnObject),
}

/// Attaches "what we were doing" to a rusqlite error: `stmt.execute(..).doing("recording a page")?`.
pub(crate) trait Doing<T> {
    fn doing(self, doing: &'static str) -> Result<T, StateError>;
}

impl<T> Doing<T> for rusqlite::Result<T> {
    fn doing(self, doing: &'static str) -> Result<T, StateError> {
        self.map_err(|source| StateError::Sqlite { doing, source })
    }
}
