//! Reconciliation state for the GoTo Meeting connector.
//!
//! Per import the CLI calls [`Store::open`], [`Store::begin`], [`Store::record_page`] for each page
//! ([`Store::restart_pass`] if GoTo's reported total moved, then re-read from the first page), and
//! [`Store::finish`]. The store remembers every account and entitlement seen and logs what changed.
//! It marks items missing only when the run itself proves it read the whole listing, and holds a
//! mass removal back until confirmed, so an import that fails half-way can never report accounts
//! as deleted, and a run that does not end (failed, cancelled, abandoned) is undone, so a broken
//! or hostile listing leaves nothing behind.
//!
//! Modules form layers, each using only those below it: `sql`, then `attributes` and `model` (the
//! shared vocabulary), `error`, `input` and `run` (an open run), then `records`, `deletion`, `undo`, `schema`,
//! then `store`, and on top `queries`, `correlation`, `queue` (the retry queue of write
//! operations) and `scim_accounts` (what the SCIM service keeps per account), which share only the
//! database with the rest.

mod attributes;
mod correlation;
mod deletion;
mod error;
mod input;
mod model;
mod queries;
mod queue;
mod records;
mod run;
mod schema;
mod scim_accounts;
mod sql;
mod store;
#[cfg(test)]
mod tests;
mod undo;

pub use attributes::{Attributes, NotAnObject};
pub use correlation::{Account, Ambiguous, CorrelationReport, CorrelationTotals, Identity, Match};
pub use deletion::Held;
pub use error::StateError;
pub use model::{DeletionPolicy, End, Item, RunId, RunState, Scope, Status};
pub use queries::{Diff, DiffEntry, PendingItem, RunRecord, StoredItem};
pub use queue::{Failure, QueueId, Queued};
pub use records::{AttributeChange, ChangeKind, ItemChange, Recorded};
pub use scim_accounts::ScimAccount;
pub use store::{Completeness, Counts, Store, Summary};
