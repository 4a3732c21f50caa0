//! The vocabulary shared by every module: what is imported (scopes, items, statuses), how a run
//! is identified, and how the caller ends it.

use std::fmt;
use std::str::FromStr;

use rusqlite::ToSql;
use rusqlite::types::{FromSql, FromSqlResult, ToSqlOutput, ValueRef};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::StateError;
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

impl FromStr for Scope {
    type Err = StateError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Scope::parse(name).ok_or_else(|| StateError::UnknownScope(name.to_owned()))
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

impl FromStr for RunId {
    type Err = StateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(RunId(id)),
            _ => Err(StateError::InvalidRunId(text.to_owned())),
        }
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

/// One account or entitlement as read from GoTo.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// GoTo's key (user key, group key, license key, role name); unique within a scope.
    pub key: String,
    /// Accounts only: the address used to correlate the account with an identity. Changes to it
    /// are tracked only if it is also one of the attributes.
    pub email: Option<String>,
    /// Compared per top-level name to detect changes.
    pub attributes: Map<String, Value>,
}

/// How the caller ends a run.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// Every page was read. The crate itself decides whether that proves absence.
    Finished { deletions: DeletionPolicy },
    /// The import failed or was cancelled; nothing is ever marked missing.
    Failed { reason: String },
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

impl DeletionPolicy {
    /// Rejects a share that would silently disable the guard (NaN compares false to everything).
    pub(crate) fn validate(&self) -> Result<(), StateError> {
        if (0.0..=1.0).contains(&self.max_share) { Ok(()) } else { Err(StateError::InvalidThreshold(self.max_share)) }
    }
}
