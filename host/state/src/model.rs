//! The vocabulary shared by every module: what is imported (scopes, items, statuses), how a run
//! is identified, where it stands, and how the caller ends it. A leaf: it uses no other module
//! but `sql` and `attributes`, so every module can use it without an import circle.

use std::fmt;

use rusqlite::ToSql;
use rusqlite::types::{FromSql, FromSqlResult, ToSqlOutput, ValueRef};
use serde::Serialize;

use crate::attributes::Attributes;
use crate::sql::text_enum;

/// What one import run reads from GoTo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Accounts,
    Groups,
    Licenses,
    AdminRoles,
}

text_enum!(Scope { Accounts => "accounts", Groups => "groups", Licenses => "licenses", AdminRoles => "admin-roles" });

impl Scope {
    /// The plural noun for messages ("GoTo reported 500 admin roles").
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Scope::AdminRoles => "admin roles",
            other => other.as_str(),
        }
    }
}

/// Whether the latest proof says an item exists. Accounts use Saviynt's terms, entitlements
/// active/inactive; which pair applies follows from the scope, so only the crate picks one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Present,
    SuspendedFromImport,
    Active,
    Inactive,
}

text_enum!(Status {
    Present => "present",
    SuspendedFromImport => "suspended-from-import",
    Active => "active",
    Inactive => "inactive",
});

impl Status {
    /// The status of an item an import has seen.
    pub(crate) fn seen(scope: Scope) -> Status {
        if scope == Scope::Accounts { Status::Present } else { Status::Active }
    }

    /// The status of an item a complete import proved absent.
    pub(crate) fn gone(scope: Scope) -> Status {
        if scope == Scope::Accounts { Status::SuspendedFromImport } else { Status::Inactive }
    }

    pub(crate) fn is_gone(self) -> bool {
        matches!(self, Status::SuspendedFromImport | Status::Inactive)
    }
}

/// Identifies one import run. Prints and serializes as its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RunId(pub(crate) i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ToSql for RunId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl FromSql for RunId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(RunId)
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Complete,
    Incomplete,
    Failed,
    /// Stopped by the caller before the listing ended (its reader went away); like a failed
    /// run it proves nothing, but nothing went wrong.
    Cancelled,
    Abandoned,
}

impl RunState {
    /// Whether the state keeps what the run recorded. A run that did not end (failed, cancelled,
    /// abandoned) is undone: its pages were never shown to be one listing.
    pub(crate) fn keeps_its_pages(self) -> bool {
        matches!(self, RunState::Running | RunState::Complete | RunState::Incomplete)
    }
}

text_enum!(RunState {
    Running => "running",
    Complete => "complete",
    Incomplete => "incomplete",
    Failed => "failed",
    Cancelled => "cancelled",
    Abandoned => "abandoned",
});

/// One account or entitlement as read from GoTo.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// GoTo's key (user key, group key, license key, role name); unique within a scope.
    pub key: String,
    /// Accounts only: the address used to correlate the account with an identity. Changes to it
    /// are tracked only if it is also one of the attributes.
    pub email: Option<String>,
    /// Compared per top-level name to detect changes.
    pub attributes: Attributes,
}

/// The matching form of an email: trimmed and lowercased; `None` if blank.
pub(crate) fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim();
    (!email.is_empty()).then(|| email.to_lowercase())
}

/// How the caller ends a run.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// Every page was read. The crate itself decides whether that proves absence.
    Finished { deletions: DeletionPolicy },
    /// The import failed; nothing is ever marked missing.
    Failed { reason: String },
    /// The caller stopped the import early, not because of an error (its output was closed);
    /// nothing is ever marked missing.
    Cancelled { reason: String },
}

/// Guards against marking a mass of items missing by mistake (e.g. a tenant switch, an API
/// returning a truncated listing that still looks consistent).
#[derive(Debug, Clone, PartialEq)]
pub struct DeletionPolicy {
    /// Hold deletions when more than this share (0..=1) of the scope's items would go missing.
    pub max_share: f64,
    /// Hold deletions when more than this many items would go missing.
    pub max_count: Option<u64>,
    /// `--confirm-deletions`: apply whatever a complete run proves, past either limit.
    pub confirmed: bool,
}

impl Default for DeletionPolicy {
    fn default() -> Self {
        DeletionPolicy { max_share: 0.10, max_count: None, confirmed: false }
    }
}
