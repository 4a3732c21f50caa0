//! The connector operations, one method per WIT export, on top of a [`Session`].

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;

use crate::catalogue;
use crate::cursor::Cursor;
use crate::error::{config, invalid_input, transport};
use crate::filter;
use crate::goto::model::{Group, License, User, UserRoles};
use crate::goto::roles;
use crate::groups::GroupWriter;
use crate::host::Host;
use crate::keys::{self, Key};
use crate::mapping::Mapping;
use crate::probe;
use crate::provision::{AccessChange, Provisioner};
use crate::session::Session;
use crate::settings::MAX_PAGE_SIZE;
use crate::transport::Transport;
use crate::types::{
    Account, ConnectorError, Entitlement, EntitlementDetails, EntitlementKind, EntitlementRef, RoleDetails,
};
use crate::wit::{
    AccountChanges, AccountPage, AccountQuery, ConnectionInfo, ConsentGrant, ConsentRequest, DeleteMode,
    EntitlementPage, EntitlementQuery, Finding, GroupOutcome, NewAccount, TokenTiming, WriteOptions, WriteOutcome,
};

pub struct Connector<'a> {
    session: Session<'a>,
}

/// One page of a listing as the connector hands it on.
struct Listed<U> {
    items: Vec<U>,
    next_cursor: Option<String>,
    total: u64,
    /// On a first page, the cursors of the pages after it.
    ahead: Vec<String>,
}

impl<'a> Connector<'a> {
    pub fn new(host: &'a dyn Host, http: &'a dyn Transport) -> Result<Self, ConnectorError> {
        Ok(Connector { session: Session::new(host, http)? })
    }

    pub fn test_connection(&self) -> Result<ConnectionInfo, ConnectorError> {
        let me = self.session.me()?;
        let administered: Vec<&str> = me.accounts.iter().map(|a| a.key.0.as_str()).collect();
        if let Some(configured) = &self.session.settings.account_key
            && !administered.is_empty()
            && !administered.contains(&configured.as_str())
        {
            return Err(config(
                "account-key",
                format!(
                    "the account-key setting {configured} is not an account these credentials administer ({})",
                    administered.join(", ")
                ),
            ));
        }
        let account_key = self.session.account_key_from(&me)?.to_owned();
        let account_name = me.accounts.iter().find(|a| a.key.0 == account_key).and_then(|a| a.name.clone());
        Ok(ConnectionInfo { account_key, account_name, principal: me.email, admin_roles: me.admin_roles })
    }

    pub fn consent_url(&self, request: &ConsentRequest) -> Result<String, ConnectorError> {
        self.session.tokens().consent_url(request)
    }

    pub fn redeem_consent(&self, grant: &ConsentGrant) -> Result<(), ConnectorError> {
        self.session.tokens().redeem(grant)
    }

    pub fn cached_token(&self) -> Result<Option<TokenTiming>, ConnectorError> {
        self.session.tokens().cached()
    }

    pub fn check_account_query(&self, query: &AccountQuery) -> Result<(), ConnectorError> {
        self.account_filter(query)?;
        self.page_size(query.page_size)?;
        Cursor::start(query.cursor.as_deref()).map(drop)
    }

    pub fn probe(&self) -> Result<Vec<Finding>, ConnectorError> {
        probe::run(&self.session)
    }

    pub fn list_accounts(&self, query: &AccountQuery) -> Result<AccountPage, ConnectorError> {
        let filter = self.account_filter(query)?;
        let extra: Vec<(&str, &str)> = filter.iter().map(|f| ("filter", f.as_str())).collect();
        let page = self.page::<User, Account>("users", &extra, query.page_size, query.cursor.as_deref())?;
        Ok(AccountPage { accounts: page.items, next_cursor: page.next_cursor, total: page.total, ahead: page.ahead })
    }

    pub fn get_account(&self, key: &str) -> Result<Account, ConnectorError> {
        keys::validate("key", key)?;
        let account = self.session.account_key()?;
        let user: User = self.session.get(&format!("/accounts/{account}/users/{key}"), &[])?;
        Ok(user.into())
    }

    pub fn list_entitlements(
        &self,
        kind: EntitlementKind,
        query: &EntitlementQuery,
    ) -> Result<EntitlementPage, ConnectorError> {
        let page = match kind {
            EntitlementKind::Group => {
                self.page::<Group, Entitlement>("groups", &[], query.page_size, query.cursor.as_deref())?
            }
            EntitlementKind::License => {
                self.page::<License, Entitlement>("licenses", &[], query.page_size, query.cursor.as_deref())?
            }
            EntitlementKind::AdminRole => self.admin_roles(query)?,
        };
        Ok(EntitlementPage {
            entitlements: page.items,
            next_cursor: page.next_cursor,
            total: page.total,
            ahead: page.ahead,
        })
    }

    /// Loads and compiles everything configurable, without contacting GoTo.
    pub fn check_configuration(&self) -> Result<(), ConnectorError> {
        Mapping::load(self.session.host()).map(drop)
    }

    pub fn create_account(&self, account: &NewAccount, options: WriteOptions) -> Result<WriteOutcome, ConnectorError> {
        let mapping = Mapping::load(self.session.host())?;
        Provisioner::new(&self.session)?.create(account, &mapping, options)
    }

    pub fn update_account(
        &self,
        key: &str,
        changes: &AccountChanges,
        options: WriteOptions,
    ) -> Result<WriteOutcome, ConnectorError> {
        let mapping = Mapping::load(self.session.host())?;
        Provisioner::new(&self.session)?.update(key, changes, &mapping, options)
    }

    pub fn delete_account(
        &self,
        key: &str,
        mode: DeleteMode,
        options: WriteOptions,
    ) -> Result<WriteOutcome, ConnectorError> {
        Provisioner::new(&self.session)?.delete(key, mode, options)
    }

    pub fn add_access(
        &self,
        account_key: &str,
        entitlement: &EntitlementRef,
        options: WriteOptions,
    ) -> Result<WriteOutcome, ConnectorError> {
        Provisioner::new(&self.session)?.change_access(AccessChange::Grant, account_key, entitlement, options)
    }

    pub fn remove_access(
        &self,
        account_key: &str,
        entitlement: &EntitlementRef,
        options: WriteOptions,
    ) -> Result<WriteOutcome, ConnectorError> {
        Provisioner::new(&self.session)?.change_access(AccessChange::Revoke, account_key, entitlement, options)
    }

    pub fn create_group(&self, name: &str, options: WriteOptions) -> Result<GroupOutcome, ConnectorError> {
        GroupWriter::new(&self.session).create(name, options)
    }

    pub fn rename_group(&self, key: &str, name: &str, options: WriteOptions) -> Result<GroupOutcome, ConnectorError> {
        GroupWriter::new(&self.session).rename(key, name, options)
    }

    pub fn delete_group(&self, key: &str, options: WriteOptions) -> Result<GroupOutcome, ConnectorError> {
        GroupWriter::new(&self.session).delete(key, options)
    }

    /// Reads one page of `/accounts/{account}/{collection}` starting where the cursor says.
    fn page<T, U>(
        &self,
        collection: &str,
        extra: &[(&str, &str)],
        page_size: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Listed<U>, ConnectorError>
    where
        T: DeserializeOwned + Into<U>,
    {
        let size = self.page_size(page_size)?;
        let start = Cursor::start(cursor)?;
        let page = catalogue::page::<T>(&self.session, collection, extra, start, size)?;
        let ahead = if cursor.is_none() { Cursor::ahead(page.items.len(), page.total) } else { Vec::new() };
        Ok(Listed {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
            total: page.total,
            ahead,
        })
    }

    fn account_filter(&self, query: &AccountQuery) -> Result<Option<String>, ConnectorError> {
        let escaping = self.session.settings.filter_escaping;
        query.filter.as_ref().map(|f| filter::account_filter(f, escaping)).transpose()
    }

    fn page_size(&self, requested: Option<u32>) -> Result<u32, ConnectorError> {
        match requested {
            None => Ok(self.session.settings.page_size),
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
            Some(n) => Err(invalid_input("page-size", format!("page-size must be 1..={MAX_PAGE_SIZE}, got {n}"))),
        }
    }

    /// GoTo has no role catalogue endpoint: the documented roles, plus any other role found
    /// on a user, counted over every user. Returned as a single page, which the host takes as a
    /// whole catalogue, so the user listing behind it must be provably whole: one total
    /// throughout, every page adding users, as many distinct users as that total, and no more
    /// than the `max-items` setting allows.
    fn admin_roles(&self, query: &EntitlementQuery) -> Result<Listed<Entitlement>, ConnectorError> {
        if query.cursor.is_some() {
            return Err(invalid_input("cursor", "admin roles come in a single page; call again without a cursor"));
        }
        let unreliable = |why: String| transport(format!("counting admin roles over GoTo's user listing: {why}"));
        let max_items = self.session.settings.max_items;
        let mut members: BTreeMap<String, u32> = BTreeMap::new();
        let mut users: BTreeSet<Key> = BTreeSet::new();
        let mut cursor: Option<String> = None;
        let mut first_total = None;
        loop {
            let page = self.page::<UserRoles, UserRoles>(
                "users",
                &[("attributes", "key,adminRoles")],
                Some(MAX_PAGE_SIZE),
                cursor.as_deref(),
            )?;
            let total = *first_total.get_or_insert(page.total);
            if page.total != total {
                return Err(unreliable(format!("it moved while being read (total {total}, then {})", page.total)));
            }
            if total > max_items {
                return Err(unreliable(format!("it reports {total} users, above the max-items limit of {max_items}")));
            }
            let before = users.len();
            for user in page.items {
                // A row that offset paging repeated is counted once.
                if users.insert(user.key) {
                    for role in user.admin_roles {
                        *members.entry(role).or_default() += 1;
                    }
                }
            }
            if users.len() == before && total > 0 {
                return Err(unreliable("a page repeated users already read and added none".to_owned()));
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let total = first_total.unwrap_or_default();
        if users.len() as u64 != total {
            return Err(unreliable(format!("it reports {total} users but listed {} distinct ones", users.len())));
        }
        let documented = roles::DOCUMENTED.iter().map(|(name, _)| name.to_string());
        let extra: Vec<String> = members.keys().filter(|r| roles::description(r).is_none()).cloned().collect();
        let items: Vec<Entitlement> = documented
            .chain(extra)
            .map(|name| Entitlement {
                id: EntitlementRef { kind: EntitlementKind::AdminRole, key: name.clone() },
                description: roles::description(&name).map(str::to_owned),
                details: EntitlementDetails::AdminRole(RoleDetails {
                    documented: roles::description(&name).is_some(),
                    member_count: members.get(&name).copied().unwrap_or(0),
                }),
                name,
            })
            .collect();
        let total = items.len() as u64;
        Ok(Listed { items, next_cursor: None, total, ahead: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeTransport, json, signed_in_host};
    use crate::wit::AccountFilter;

    fn connector_with<'a>(host: &'a crate::testing::FakeHost, http: &'a FakeTransport) -> Connector<'a> {
        Connector::new(host, http).unwrap()
    }

    #[test]
    fn list_accounts_pages_by_offset_and_stops_at_total() {
        let host = signed_in_host().with_setting("account-key", "9");
        let http = FakeTransport::sequence(vec![
            json(
                200,
                r#"{"results":[{"key":"1","email":"a@x"},{"key":2,"email":"b@x"}],"fromIndex":0,"toIndex":2,"total":3}"#,
            ),
            json(200, r#"{"results":[{"key":"3","email":"c@x"}],"fromIndex":2,"toIndex":3,"total":3}"#),
        ]);
        let c = connector_with(&host, &http);
        let first = c.list_accounts(&AccountQuery { filter: None, page_size: Some(2), cursor: None }).unwrap();
        assert_eq!((first.accounts.len(), first.total), (2, 3));
        let second =
            c.list_accounts(&AccountQuery { filter: None, page_size: Some(2), cursor: first.next_cursor }).unwrap();
        assert_eq!(second.accounts[0].key, "3");
        assert_eq!(second.next_cursor, None);
        let urls: Vec<String> = http.requests().into_iter().map(|r| r.url).collect();
        assert!(urls[0].ends_with("/accounts/9/users?offset=0&pageSize=2"), "{}", urls[0]);
        assert!(urls[1].ends_with("/accounts/9/users?offset=2&pageSize=2"), "{}", urls[1]);
    }

    #[test]
    fn a_filtered_import_sends_an_escaped_filter() {
        let host = signed_in_host().with_setting("account-key", "9");
        let http = FakeTransport::sequence(vec![json(200, r#"{"results":[],"fromIndex":0,"toIndex":0,"total":0}"#)]);
        let page = connector_with(&host, &http)
            .list_accounts(&AccountQuery {
                filter: Some(AccountFilter::Email("a+b@x.com".into())),
                page_size: None,
                cursor: None,
            })
            .unwrap();
        assert_eq!(page.total, 0);
        assert!(http.requests()[0].url.contains("filter=%28email%3D%22%28%3Fi%29a%5C%2Bb%40x%5C.com%22%29"));
    }

    #[test]
    fn bad_page_sizes_and_keys_are_rejected_before_any_request() {
        let host = signed_in_host().with_setting("account-key", "9");
        let http = FakeTransport::sequence(vec![]);
        let c = connector_with(&host, &http);
        assert!(matches!(
            c.list_accounts(&AccountQuery { filter: None, page_size: Some(0), cursor: None }),
            Err(ConnectorError::InvalidInput(_))
        ));
        assert!(matches!(c.get_account("../me"), Err(ConnectorError::InvalidInput(_))));
        let long = AccountFilter::Goto("x".repeat(5000));
        assert!(matches!(
            c.check_account_query(&AccountQuery { filter: Some(long), page_size: None, cursor: None }),
            Err(ConnectorError::InvalidInput(_))
        ));
        assert!(matches!(
            c.check_account_query(&AccountQuery { filter: None, page_size: None, cursor: Some("not a cursor".into()) }),
            Err(ConnectorError::InvalidInput(_))
        ));
        c.check_account_query(&AccountQuery {
            filter: Some(AccountFilter::Email("a@x".into())),
            page_size: Some(5),
            cursor: None,
        })
        .unwrap();
        assert!(http.requests().is_empty());
    }

    #[test]
    fn admin_roles_merge_documented_names_with_roles_found_on_users() {
        let host = signed_in_host().with_setting("account-key", "9");
        let http = FakeTransport::sequence(vec![json(
            200,
            r#"{"results":[{"key":"1","adminRoles":["SUPER_USER"]},{"key":"2","adminRoles":["SUPER_USER","CUSTOM_X"]},{"key":"3"}],"total":3}"#,
        )]);
        let page = connector_with(&host, &http)
            .list_entitlements(EntitlementKind::AdminRole, &EntitlementQuery { page_size: None, cursor: None })
            .unwrap();
        assert_eq!(page.total as usize, roles::DOCUMENTED.len() + 1);
        let count = |name: &str| match &page.entitlements.iter().find(|e| e.name == name).unwrap().details {
            EntitlementDetails::AdminRole(d) => (d.member_count, d.documented),
            other => panic!("{other:?}"),
        };
        assert_eq!(count("SUPER_USER"), (2, true));
        assert_eq!(count("CUSTOM_X"), (1, false));
        assert_eq!(count("RUN_REPORTS"), (0, true));
        assert!(http.requests()[0].url.contains("attributes=key%2CadminRoles"));
    }

    fn admin_roles_over(pages: &[&str], max_items: &str) -> Result<EntitlementPage, ConnectorError> {
        let host = signed_in_host().with_setting("account-key", "9").with_setting("max-items", max_items);
        let http = FakeTransport::sequence(pages.iter().map(|body| json(200, body)).collect());
        connector_with(&host, &http)
            .list_entitlements(EntitlementKind::AdminRole, &EntitlementQuery { page_size: None, cursor: None })
    }

    #[test]
    fn admin_roles_are_counted_only_over_a_provably_whole_user_listing() {
        let one = r#"{"results":[{"key":"1","adminRoles":["X"]}],"total":2}"#;
        for (pages, max_items, says) in [
            (vec![one, one], "10", "added none"),
            (vec![one, r#"{"results":[{"key":"2"}],"total":3}"#], "10", "moved while being read (total 2, then 3)"),
            (vec![one], "1", "above the max-items limit of 1"),
            (vec![r#"{"results":[{"key":"1"},{"key":"1"}],"total":2}"#], "10", "reports 2 users but listed 1"),
        ] {
            match admin_roles_over(&pages, max_items) {
                Err(ConnectorError::Transport(e)) => assert!(e.message.contains(says), "{says}: {}", e.message),
                other => panic!("{says}: {other:?}"),
            }
        }
        let whole = admin_roles_over(&[one, r#"{"results":[{"key":"2","adminRoles":["X"]}],"total":2}"#], "10");
        assert!(whole.unwrap().entitlements.iter().any(|e| e.name == "X"));
    }

    #[test]
    fn a_page_that_is_not_a_well_formed_listing_fails_instead_of_ending_the_listing() {
        let host = signed_in_host().with_setting("account-key", "9");
        for (body, says) in [
            (r#"{"results":[]}"#, "missing field `total`"),
            (r#"{"incidentId":"a","errors":[{"code":"X"}]}"#, "missing field `total`"),
            (r#"{"results":[],"total":1e9}"#, "total must be a whole number, got 1e"),
            (r#"{"results":[],"total":"3"}"#, "total must be a whole number"),
            (r#"{"results":[{"key":"../x","email":"a@x"}],"total":1}"#, "decimal digits"),
            (r#"{"results":[],"total":3}"#, "empty at offset 0"),
            (r#"{"results":[{"key":"1"},{"key":"2"}],"total":1}"#, "rows 0..2"),
        ] {
            // Unreadable bodies are read three times before they fail; the rest fail at once.
            let http = FakeTransport::sequence(vec![json(200, body); 3]);
            let listed = connector_with(&host, &http).list_accounts(&AccountQuery {
                filter: None,
                page_size: Some(10),
                cursor: None,
            });
            match listed {
                Err(ConnectorError::Transport(e)) => assert!(e.message.contains(says), "{body}: {}", e.message),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn test_connection_rejects_an_account_key_the_user_does_not_administer() {
        let host = signed_in_host().with_setting("account-key", "5");
        let http = FakeTransport::sequence(vec![json(
            200,
            r#"{"email":"a@x","accountKey":"1","accounts":[{"key":"1","name":"Acme"}]}"#,
        )]);
        match connector_with(&host, &http).test_connection() {
            Err(ConnectorError::Config(c)) => assert_eq!(c.field.as_deref(), Some("account-key")),
            other => panic!("{other:?}"),
        }
    }
}
