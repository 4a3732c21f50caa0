//! A write operation's plan: the write calls it needs, decided after every read and check,
//! then either sent in order or, in a dry run, only described. One plan writes one account, or
//! one group.

use serde_json::Value;

use crate::host::LogLevel;
use crate::session::{Replay, Session, path_and_query};
use crate::transport::{HttpResponse, Method};
use crate::types::{ConnectorError, EntitlementRef};
use crate::wit::{GroupOutcome, PlannedCall, SeatImpact, WriteOptions, WriteOutcome};

/// One write request to GoTo.
#[derive(Debug, Clone)]
pub struct Write {
    pub method: Method,
    /// Below the Admin API prefix, e.g. `/accounts/1/users/2`.
    pub path: String,
    pub query: Vec<(&'static str, &'static str)>,
    pub body: Option<Value>,
    /// What the call does, in words, for plans and logs.
    pub summary: String,
    pub replay: Replay,
}

impl Write {
    pub fn new(method: Method, path: String, body: Option<Value>, summary: String) -> Write {
        Write { method, path, query: Vec::new(), body, summary, replay: Replay::IfIdempotent }
    }

    pub fn with_query(mut self, query: &[(&'static str, &'static str)]) -> Write {
        self.query = query.to_vec();
        self
    }

    /// Marks the request as safe to resend after a server error although its method is not
    /// idempotent.
    pub fn replayable(mut self) -> Write {
        self.replay = Replay::Always;
        self
    }

    pub fn describe(&self) -> PlannedCall {
        PlannedCall {
            method: self.method.as_str().to_owned(),
            path: path_and_query(&self.path, &self.query),
            summary: self.summary.clone(),
        }
    }

    pub fn send(&self, session: &Session) -> Result<HttpResponse, ConnectorError> {
        session.call(self.method, &self.path, &self.query, self.body.as_ref(), self.replay)
    }
}

/// What a write operation will do to one account or group.
#[derive(Debug)]
pub struct Plan {
    /// The key of the account or group written, once known.
    key: Option<String>,
    writes: Vec<Write>,
    replaced: Option<EntitlementRef>,
    kept: Vec<EntitlementRef>,
    seats: Vec<SeatImpact>,
}

impl Plan {
    pub fn for_account(account_key: Option<&str>) -> Plan {
        Plan::new(account_key)
    }

    pub fn for_group(group_key: Option<&str>) -> Plan {
        Plan::new(group_key)
    }

    fn new(key: Option<&str>) -> Plan {
        Plan { key: key.map(str::to_owned), writes: Vec::new(), replaced: None, kept: Vec::new(), seats: Vec::new() }
    }

    pub fn write(&mut self, write: Write) {
        self.writes.push(write);
    }

    pub fn replaces(&mut self, entitlement: EntitlementRef) {
        self.replaced = Some(entitlement);
    }

    /// Notes access the operation deliberately leaves in place.
    pub fn keeps(&mut self, entitlement: EntitlementRef) {
        self.kept.push(entitlement);
    }

    pub fn seat(&mut self, impact: SeatImpact) {
        self.seats.push(impact);
    }

    /// Records the key GoTo chose for what the plan created.
    pub fn created(&mut self, key: String) {
        self.key = Some(key);
    }

    /// The outcome as planned, without sending anything.
    pub fn outcome(&self) -> WriteOutcome {
        WriteOutcome {
            account_key: self.key.clone(),
            changed: !self.writes.is_empty(),
            replaced: self.replaced.clone(),
            kept: self.kept.clone(),
            calls: self.writes.iter().map(Write::describe).collect(),
            seat_impact: self.seats.clone(),
        }
    }

    /// The outcome of a group plan as planned, without sending anything.
    pub fn group_outcome(&self) -> GroupOutcome {
        GroupOutcome {
            group_key: self.key.clone(),
            changed: !self.writes.is_empty(),
            calls: self.writes.iter().map(Write::describe).collect(),
        }
    }

    /// Sends the writes in order and returns the outcome, unless this is a dry run.
    pub fn carry_out(self, session: &Session, options: WriteOptions) -> Result<WriteOutcome, ConnectorError> {
        self.send(session, options)?;
        Ok(self.outcome())
    }

    /// Sends the writes in order, unless this is a dry run. If one fails after others
    /// succeeded, a warning says how far the plan got.
    pub fn send(&self, session: &Session, options: WriteOptions) -> Result<(), ConnectorError> {
        if options.dry_run {
            return Ok(());
        }
        for (done, write) in self.writes.iter().enumerate() {
            if let Err(e) = write.send(session) {
                if done > 0 {
                    let count = self.writes.len();
                    session.log(LogLevel::Warn, &format!("{done} of {count} calls succeeded before one failed"));
                }
                return Err(e);
            }
        }
        Ok(())
    }
}
