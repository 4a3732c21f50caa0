//! What the SCIM service keeps of a GoTo account that GoTo has no field for: the `externalId`
//! the provisioning client gave it, its `userName` when that is not the GoTo email (the
//! profile's mapping computes the email), and whether the client deleted it. A SCIM DELETE
//! deprovisions by default (the account stays in GoTo, suspended, with its meeting history),
//! yet RFC 7644 §3.6 wants the resource gone (404) afterwards: the service hides accounts
//! marked deleted here until a create with the same email brings one back. Every change is one
//! SQL statement, so a killed process leaves each row as before or after. A group's `externalId`
//! is kept beside, by group key.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, params};

use crate::error::{Doing, StateError};
use crate::store::Store;

/// The client's own attributes of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimAccount {
    pub external_id: Option<String>,
    /// Unique among accounts, without regard to case.
    pub user_name: Option<String>,
}

impl Store {
    /// The client's attributes of the account `key` (none set: both `None`).
    pub fn scim_account(&self, key: &str) -> Result<ScimAccount, StateError> {
        self.conn
            .query_row("SELECT external_id, user_name FROM scim_accounts WHERE account_key = ?1", params![key], |row| {
                Ok(ScimAccount { external_id: row.get(0)?, user_name: row.get(1)? })
            })
            .optional()
            .map(Option::unwrap_or_default)
            .doing("reading an account's SCIM attributes")
    }

    /// Sets the client's attributes of the account `key`. A user name another account has is
    /// refused by the database; callers check [`Store::account_with_user_name`] first.
    pub fn set_scim_account(&mut self, key: &str, account: &ScimAccount) -> Result<(), StateError> {
        self.commit_pages()?
            .execute(
                "INSERT INTO scim_accounts (account_key, external_id, user_name) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_key) DO UPDATE
                 SET external_id = excluded.external_id, user_name = excluded.user_name",
                params![key, account.external_id, account.user_name],
            )
            .map(drop)
            .doing("recording an account's SCIM attributes")
    }

    /// The keys of the accounts whose external id is `external_id`, in key order.
    pub fn accounts_with_external_id(&self, external_id: &str) -> Result<Vec<String>, StateError> {
        self.keys("SELECT account_key FROM scim_accounts WHERE external_id = ?1 ORDER BY account_key", [external_id])
            .doing("finding accounts by external id")
    }

    /// The account whose user name is `user_name`, without regard to case.
    pub fn account_with_user_name(&self, user_name: &str) -> Result<Option<String>, StateError> {
        self.keys("SELECT account_key FROM scim_accounts WHERE user_name = ?1", [user_name])
            .map(|keys| keys.into_iter().next())
            .doing("finding an account by user name")
    }

    /// Marks the account `key` deleted by the SCIM client, at the store's clock.
    pub fn mark_deleted(&mut self, key: &str) -> Result<(), StateError> {
        let now = (self.clock)();
        self.commit_pages()?
            .execute(
                "INSERT INTO scim_accounts (account_key, deleted_at) VALUES (?1, ?2)
                 ON CONFLICT (account_key) DO UPDATE SET deleted_at = excluded.deleted_at",
                params![key, now],
            )
            .map(drop)
            .doing("marking an account deleted")
    }

    /// Brings back an account marked deleted; returns whether it was.
    pub fn revive(&mut self, key: &str) -> Result<bool, StateError> {
        self.commit_pages()?
            .execute(
                "UPDATE scim_accounts SET deleted_at = NULL WHERE account_key = ?1 AND deleted_at IS NOT NULL",
                params![key],
            )
            .map(|changed| changed > 0)
            .doing("bringing back a deleted account")
    }

    /// The accounts marked deleted.
    pub fn deleted_accounts(&self) -> Result<BTreeSet<String>, StateError> {
        self.keys("SELECT account_key FROM scim_accounts WHERE deleted_at IS NOT NULL", params![])
            .map(|keys| keys.into_iter().collect())
            .doing("listing deleted accounts")
    }

    /// The external id the client gave the group `key`, if any.
    pub fn group_external_id(&self, key: &str) -> Result<Option<String>, StateError> {
        self.keys("SELECT external_id FROM scim_groups WHERE group_key = ?1", [key])
            .map(|ids| ids.into_iter().next())
            .doing("reading a group's external id")
    }

    /// Sets (or, with `None`, forgets) the external id of the group `key`.
    pub fn set_group_external_id(&mut self, key: &str, external_id: Option<&str>) -> Result<(), StateError> {
        match external_id {
            Some(id) => self.conn.execute(
                "INSERT INTO scim_groups (group_key, external_id) VALUES (?1, ?2)
                 ON CONFLICT (group_key) DO UPDATE SET external_id = excluded.external_id",
                params![key, id],
            ),
            None => self.conn.execute("DELETE FROM scim_groups WHERE group_key = ?1", params![key]),
        }
        .map(drop)
        .doing("recording a group's external id")
    }

    fn keys(&self, sql: &str, parameters: impl rusqlite::Params) -> rusqlite::Result<Vec<String>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        statement.query_map(parameters, |row| row.get(0))?.collect()
    }
}
