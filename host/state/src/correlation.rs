//! Correlating GoTo accounts with the IGA's identities by email, and reporting what changed since
//! the previous correlation, so a scheduled run reports only news.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::error::{Doing, StateError};
use crate::model::{RunId, Scope, Status, normalize_email};
use crate::run::run_scope;
use crate::store::Store;

/// An identity from the IGA side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Identity {
    pub id: String,
    pub email: String,
}

/// A present account, as the correlation report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Account {
    pub key: String,
    pub email: Option<String>,
}

/// An identity that owns an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Match {
    pub identity: String,
    #[serde(flatten)]
    pub account: Account,
}

/// Two identities share an email: the first in the input owns the account, the other owns none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Ambiguous {
    pub email: String,
    pub kept: String,
    pub ignored: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CorrelationTotals {
    pub matched: u64,
    pub orphan_accounts: u64,
    pub identities_without_account: u64,
    pub ambiguous: u64,
}

/// Totals of the current correlation, and what changed since the previous one. On the first
/// correlation everything counts as new. `ambiguous` always lists every current duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CorrelationReport {
    pub run: RunId,
    pub first: bool,
    pub totals: CorrelationTotals,
    pub newly_matched: Vec<Match>,
    /// Matches that ended: the account is gone, or now orphaned or owned by another identity.
    pub no_longer_matched: Vec<Match>,
    pub newly_orphaned: Vec<Account>,
    /// Orphans that are now matched or gone (suspended-from-import).
    pub no_longer_orphaned: Vec<Account>,
    pub new_identities_without_account: Vec<Identity>,
    /// Identities that had no account and now have one, or are no longer in the identity list.
    pub resolved_identities: Vec<Identity>,
    pub ambiguous: Vec<Ambiguous>,
}

/// One present account and the identity that owns it (`None`: orphan).
struct Correlated {
    item: i64,
    account: Account,
    owner: Option<String>,
}

/// The identities, deduplicated by id, indexed by email. An identity may be listed once per
/// address it has, and owns each; the first identity wins an email, and one that owns no email
/// because it lost them all is reported only as ambiguous, never as an identity without an
/// account.
struct Identities<'a> {
    distinct: Vec<&'a Identity>,
    by_email: HashMap<String, &'a Identity>,
    ambiguous: Vec<Ambiguous>,
}

impl<'a> Identities<'a> {
    fn new(identities: &'a [Identity]) -> Self {
        let mut index = Identities { distinct: Vec::new(), by_email: HashMap::new(), ambiguous: Vec::new() };
        // Per id, in input order: its first listing, and whether it owns an email (or has none).
        let mut ids: Vec<(&'a Identity, bool)> = Vec::new();
        let mut position: HashMap<&str, usize> = HashMap::new();
        let mut clashes = HashSet::new();
        for identity in identities {
            let at = *position.entry(identity.id.as_str()).or_insert_with(|| {
                ids.push((identity, false));
                ids.len() - 1
            });
            let owns = match normalize_email(&identity.email) {
                None => true,
                Some(email) => match index.by_email.entry(email) {
                    Entry::Vacant(slot) => {
                        slot.insert(identity);
                        true
                    }
                    Entry::Occupied(slot) if slot.get().id == identity.id => true,
                    Entry::Occupied(slot) => {
                        // The same clash listed twice is still one clash.
                        if clashes.insert((slot.key().clone(), identity.id.as_str())) {
                            index.ambiguous.push(Ambiguous {
                                email: slot.key().clone(),
                                kept: slot.get().id.clone(),
                                ignored: identity.id.clone(),
                            });
                        }
                        false
                    }
                },
            };
            ids[at].1 |= owns;
        }
        index.distinct = ids.into_iter().filter(|(_, owns)| *owns).map(|(identity, _)| identity).collect();
        index
    }

    /// The identities that own none of `accounts`, in input order.
    fn without_account(&self, accounts: &[Correlated]) -> Vec<Identity> {
        let owners: HashSet<&str> = accounts.iter().filter_map(|account| account.owner.as_deref()).collect();
        self.distinct.iter().filter(|identity| !owners.contains(identity.id.as_str())).map(|&i| i.clone()).collect()
    }
}

impl Store {
    /// Matches the present accounts to `identities` by email (case-insensitive, trimmed), stores
    /// the result as the latest correlation, and reports what changed since the previous one.
    /// `run` is the accounts import the correlation is based on.
    pub fn correlate(&mut self, run: RunId, identities: &[Identity]) -> Result<CorrelationReport, StateError> {
        let now = (self.clock)();
        let tx = self.commit_pages()?.transaction().doing("starting a correlation")?;
        let scope = run_scope(&tx, run)?;
        if scope != Scope::Accounts {
            return Err(StateError::ScopeMismatch { run, expected: Scope::Accounts, found: scope });
        }
        let index = Identities::new(identities);
        let first = !tx
            .query_row("SELECT EXISTS (SELECT 1 FROM correlations)", [], |row| row.get::<_, bool>(0))
            .doing("reading the previous correlation")?;
        let previous = previous_accounts(&tx)?;
        let previous_without = previous_identities(&tx)?;
        let current = current_accounts(&tx, &index)?;
        let without = index.without_account(&current);
        save(&tx, run, &current, &without, now)?;
        tx.commit().doing("committing the correlation")?;

        let (current_owners, previous_owners) = (owners(&current), owners(&previous));
        let report = CorrelationReport {
            run,
            first,
            totals: CorrelationTotals {
                matched: current.iter().filter(|account| account.owner.is_some()).count() as u64,
                orphan_accounts: current.iter().filter(|account| account.owner.is_none()).count() as u64,
                identities_without_account: without.len() as u64,
                ambiguous: index.ambiguous.len() as u64,
            },
            newly_matched: matches(departed(&current, &previous_owners)),
            no_longer_matched: matches(departed(&previous, &current_owners)),
            newly_orphaned: orphans(departed(&current, &previous_owners)),
            no_longer_orphaned: orphans(departed(&previous, &current_owners)),
            new_identities_without_account: minus(&without, &previous_without),
            resolved_identities: minus(&previous_without, &without),
            ambiguous: index.ambiguous,
        };
        Ok(report)
    }
}

fn current_accounts(conn: &Connection, identities: &Identities<'_>) -> Result<Vec<Correlated>, StateError> {
    const READING: &str = "reading present accounts";
    let mut stmt = conn
        .prepare("SELECT id, key, email, email_norm FROM items WHERE scope = ?1 AND status = ?2 ORDER BY key")
        .doing(READING)?;
    stmt.query_map(params![Scope::Accounts, Status::Present], |row| {
        let email_norm: Option<String> = row.get(3)?;
        let owner = email_norm.and_then(|email| identities.by_email.get(&email).map(|identity| identity.id.clone()));
        Ok(Correlated { item: row.get(0)?, account: Account { key: row.get(1)?, email: row.get(2)? }, owner })
    })
    .and_then(Iterator::collect)
    .doing(READING)
}

fn previous_accounts(conn: &Connection) -> Result<Vec<Correlated>, StateError> {
    const READING: &str = "reading the previous correlation";
    let mut stmt = conn
        .prepare(
            "SELECT o.item_id, i.key, i.email, o.identity_id FROM account_owners o JOIN items i ON i.id = o.item_id
             ORDER BY i.key",
        )
        .doing(READING)?;
    stmt.query_map([], |row| {
        Ok(Correlated {
            item: row.get(0)?,
            account: Account { key: row.get(1)?, email: row.get(2)? },
            owner: row.get(3)?,
        })
    })
    .and_then(Iterator::collect)
    .doing(READING)
}

fn previous_identities(conn: &Connection) -> Result<Vec<Identity>, StateError> {
    const READING: &str = "reading the previous correlation";
    let mut stmt = conn
        .prepare("SELECT identity_id, email FROM identities_without_account ORDER BY identity_id")
        .doing(READING)?;
    stmt.query_map([], |row| Ok(Identity { id: row.get(0)?, email: row.get(1)? }))
        .and_then(Iterator::collect)
        .doing(READING)
}

/// Replaces the stored correlation with this one.
fn save(
    conn: &Connection,
    run: RunId,
    accounts: &[Correlated],
    without: &[Identity],
    now: i64,
) -> Result<(), StateError> {
    const SAVING: &str = "saving the correlation";
    conn.execute_batch("DELETE FROM account_owners; DELETE FROM identities_without_account;").doing(SAVING)?;
    let mut owner = conn.prepare("INSERT INTO account_owners (item_id, identity_id) VALUES (?1, ?2)").doing(SAVING)?;
    for account in accounts {
        owner.execute(params![account.item, account.owner]).doing(SAVING)?;
    }
    let mut identity =
        conn.prepare("INSERT INTO identities_without_account (identity_id, email) VALUES (?1, ?2)").doing(SAVING)?;
    for without in without {
        identity.execute(params![without.id, without.email]).doing(SAVING)?;
    }
    conn.execute("INSERT INTO correlations (run_id, at) VALUES (?1, ?2)", params![run, now]).doing(SAVING)?;
    Ok(())
}

/// Each account's owner (`None`: orphan), by item id.
fn owners(accounts: &[Correlated]) -> HashMap<i64, Option<&str>> {
    accounts.iter().map(|account| (account.item, account.owner.as_deref())).collect()
}

/// The entries of `accounts` whose owner differs in `other` (including: absent from `other`).
fn departed<'a>(
    accounts: &'a [Correlated],
    other: &HashMap<i64, Option<&str>>,
) -> impl Iterator<Item = &'a Correlated> {
    accounts.iter().filter(|account| other.get(&account.item) != Some(&account.owner.as_deref()))
}

fn matches<'a>(accounts: impl Iterator<Item = &'a Correlated>) -> Vec<Match> {
    accounts
        .filter_map(|account| {
            let identity = account.owner.clone()?;
            Some(Match { identity, account: account.account.clone() })
        })
        .collect()
}

fn orphans<'a>(accounts: impl Iterator<Item = &'a Correlated>) -> Vec<Account> {
    accounts.filter(|account| account.owner.is_none()).map(|account| account.account.clone()).collect()
}

/// The identities in `these` whose id is not in `those`.
fn minus(these: &[Identity], those: &[Identity]) -> Vec<Identity> {
    let ids: HashSet<&str> = those.iter().map(|identity| identity.id.as_str()).collect();
    these.iter().filter(|identity| !ids.contains(identity.id.as_str())).cloned().collect()
}
