//! Deciding what disappeared. A run proves absence only if it provably read the whole, unfiltered
//! listing; even then a mass removal is held for confirmation instead of applied. This is what
//! keeps an import that failed half-way from reporting every account as deleted.

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::error::{Doing, StateError};
use crate::model::{DeletionPolicy, Scope, Status};
use crate::records::{self, ChangeKind};
use crate::run::OpenRun;
use crate::sql::{get_u64, to_i64};

/// Items a complete run would have marked missing, held back by the deletion threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Held {
    pub reason: String,
    pub keys: Vec<String>,
}

impl DeletionPolicy {
    /// Rejects a share that would silently disable the guard (NaN compares false to everything).
    pub(crate) fn validate(&self) -> Result<(), StateError> {
        if (0.0..=1.0).contains(&self.max_share) { Ok(()) } else { Err(StateError::InvalidThreshold(self.max_share)) }
    }
}

/// Why the run cannot prove absence, or `None` if it can. The rules, checked in order: no filter;
/// the GoTo account the state was proven from; a page recorded in the current pass; every page
/// of the pass reported the same total; the distinct keys seen in the pass match that total.
pub(crate) fn unproven(run: &OpenRun, seen: u64) -> Option<String> {
    if run.filtered {
        return Some("a filtered import cannot prove absence".to_owned());
    }
    if let (Some(read), Some(proven)) = (&run.account, &run.proven_account)
        && read != proven
    {
        return Some(format!(
            "the import read GoTo account {read}, but this state holds the {} of account {proven}; \
             use another profile for another account",
            run.scope.noun()
        ));
    }
    // Every page sets the pass's total, so no total means no page.
    let Some(total) = run.reported_total else {
        let reason =
            if run.pass > 1 { "no page was recorded after the listing restarted" } else { "no page was recorded" };
        return Some(reason.to_owned());
    };
    if let Some(other) = run.other_total {
        return Some(format!("the total changed during the import ({total}, then {other})"));
    }
    if seen != total {
        return Some(format!("GoTo reported {total} {} but {seen} distinct keys were seen", run.scope.noun()));
    }
    None
}

/// For a complete run: marks the present/active items it did not see as gone and logs them
/// `missing`, unless the policy holds them. Either way the scope's pending list is replaced
/// (held candidates, or nothing). Returns what was held.
/// `seen` is the number of distinct items seen in the run's current pass.
pub(crate) fn apply(
    conn: &Connection,
    run: &OpenRun,
    policy: &DeletionPolicy,
    seen: u64,
) -> Result<Option<Held>, StateError> {
    let candidates = candidates(conn, run, seen)?;
    // The pending list is short; the scope may hold many items.
    conn.prepare_cached("DELETE FROM pending WHERE (SELECT scope FROM items WHERE id = pending.item_id) = ?1")
        .and_then(|mut stmt| stmt.execute([run.scope]))
        .doing("clearing pending deletions")?;

    if let Some(reason) = hold_reason(run.scope, candidates.len() as u64, run.present_before, policy) {
        let mut hold = conn
            .prepare_cached("INSERT INTO pending (item_id, run_id) VALUES (?1, ?2)")
            .doing("holding deletions as pending")?;
        for (item, _) in &candidates {
            hold.execute(params![item, run.id]).doing("holding deletions as pending")?;
        }
        let keys = candidates.into_iter().map(|(_, key)| key).collect();
        return Ok(Some(Held { reason, keys }));
    }

    let mut mark = conn.prepare_cached("UPDATE items SET status = ?2 WHERE id = ?1").doing("marking missing items")?;
    for (item, _) in &candidates {
        mark.execute(params![item, Status::gone(run.scope)]).doing("marking missing items")?;
        records::log_change(conn, run.id, *item, ChangeKind::Missing, &[])?;
    }
    Ok(None)
}

/// Present/active items of the run's scope not seen in its current pass, as (item id, key).
fn candidates(conn: &Connection, run: &OpenRun, seen: u64) -> Result<Vec<(i64, String)>, StateError> {
    const FINDING: &str = "finding items the run did not see";
    // Every item the pass saw is present/active, so when as many are present as it saw, none
    // is a candidate, and no item needs to be looked for in the seen set (the usual case).
    let present: u64 = conn
        .prepare_cached("SELECT count(*) FROM items WHERE scope = ?1 AND status = ?2")
        .and_then(|mut stmt| stmt.query_row(params![run.scope, Status::seen(run.scope)], |row| get_u64(row, 0)))
        .doing(FINDING)?;
    if present <= seen {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT i.id, i.key FROM items i
             WHERE i.scope = ?1 AND i.status = ?2
               AND NOT EXISTS (SELECT 1 FROM run_seen s WHERE s.run_id = ?3 AND s.item_id = i.id AND s.pass = ?4)
             ORDER BY i.key",
        )
        .doing(FINDING)?;
    stmt.query_map(params![run.scope, Status::seen(run.scope), run.id, to_i64(run.pass)], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
    .and_then(Iterator::collect)
    .doing(FINDING)
}

/// Why `candidates` of the `present_before` items must be held rather than marked, if they must.
fn hold_reason(scope: Scope, candidates: u64, present_before: u64, policy: &DeletionPolicy) -> Option<String> {
    if candidates == 0 || policy.confirmed {
        return None;
    }
    // Candidates were all present before the run, so present_before >= candidates > 0.
    let share = candidates as f64 / present_before.max(1) as f64;
    let over_share = share > policy.max_share;
    let limit = match policy.max_count {
        _ if over_share => format!("the {} % threshold", percent(policy.max_share)),
        Some(max) if candidates > max => format!("the limit of {max}"),
        _ => return None,
    };
    Some(format!(
        "{candidates} of {present_before} {} ({} %) would be marked missing, above {limit}; \
         re-run with --confirm-deletions to apply",
        scope.noun(),
        percent(share)
    ))
}

/// A share as a percentage with at most one decimal: 0.1 → "10", 0.6667 → "66.7".
fn percent(share: f64) -> String {
    format!("{}", (share * 1000.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RunId;

    fn run(filtered: bool, pass: u64, reported_total: Option<u64>, other_total: Option<u64>) -> OpenRun {
        OpenRun {
            id: RunId(1),
            scope: Scope::Accounts,
            filtered,
            pass,
            reported_total,
            other_total,
            present_before: 0,
            account: None,
            proven_account: None,
        }
    }

    #[test]
    fn each_completeness_rule_names_itself() {
        let cases = [
            (run(true, 1, Some(2), None), 2, Some("a filtered import cannot prove absence")),
            (run(false, 1, None, None), 0, Some("no page was recorded")),
            (run(false, 2, None, None), 0, Some("no page was recorded after the listing restarted")),
            (run(false, 1, Some(500), Some(501)), 500, Some("the total changed during the import (500, then 501)")),
            (run(false, 1, Some(500), None), 498, Some("GoTo reported 500 accounts but 498 distinct keys were seen")),
            (run(false, 1, Some(500), None), 500, None),
            (run(false, 1, Some(0), None), 0, None),
        ];
        for (run, seen, expected) in cases {
            assert_eq!(unproven(&run, seen).as_deref(), expected);
        }
    }

    #[test]
    fn threshold_holds_only_above_the_limits_and_unconfirmed() {
        let policy = DeletionPolicy::default();
        assert_eq!(hold_reason(Scope::Accounts, 0, 0, &policy), None);
        assert_eq!(hold_reason(Scope::Accounts, 10, 100, &policy), None, "exactly 10 % is allowed");
        assert_eq!(
            hold_reason(Scope::Accounts, 11, 100, &policy).as_deref(),
            Some(
                "11 of 100 accounts (11 %) would be marked missing, above the 10 % threshold; \
                 re-run with --confirm-deletions to apply"
            )
        );
        let counted = DeletionPolicy { max_count: Some(5), ..DeletionPolicy::default() };
        assert_eq!(
            hold_reason(Scope::AdminRoles, 6, 1000, &counted).as_deref(),
            Some(
                "6 of 1000 admin roles (0.6 %) would be marked missing, above the limit of 5; \
                 re-run with --confirm-deletions to apply"
            )
        );
        let confirmed = DeletionPolicy { confirmed: true, ..counted };
        assert_eq!(hold_reason(Scope::Accounts, 1000, 1000, &confirmed), None);
    }

    #[test]
    fn percent_keeps_one_decimal() {
        assert_eq!(percent(0.1), "10");
        assert_eq!(percent(2.0 / 3.0), "66.7");
        assert_eq!(percent(1.0), "100");
    }
}
