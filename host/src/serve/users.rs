//! `/Users`: each request as calls of one connector instance, with the same checks, plans and
//! idempotence as the CLI's writes.

use gtm_scim::error::{ScimError, ScimType};
use gtm_scim::filter::{CompareOp, Filter, matches};
use gtm_scim::patch::PatchRequest;
use gtm_scim::path::AttrPath;
use gtm_scim::projection::project;
use gtm_scim::query::{ListQuery, list_response};
use gtm_scim::schema::{USER_SCHEMA, user_schema};
use serde_json::Value;

use super::failure::Failure;
use super::listing::{self, MAX_PAGE};
use super::user::{Desired, Plan};
use super::{Shared, is_key, lock, no_such};
use crate::profile::ServeDelete;
use crate::runtime::{
    AccessChange, Account, AccountFilter, AccountQuery, CallError, Connection, ConnectorError, DeleteMode,
    DeprovisionOptions, WriteOptions,
};

/// The most accounts a filtered listing reads before answering `tooMany`: a filter narrows to
/// a handful; one that does not is refused rather than read without end.
const MAX_FILTERED: usize = 10_000;

const WRITE: WriteOptions = WriteOptions { dry_run: false };

/// GET /Users: a page by position, or the accounts a filter selects.
pub fn list(conn: &mut Connection, shared: &Shared, query: &ListQuery) -> Result<Value, Failure> {
    let count = query.count.unwrap_or(shared.page_size).min(u64::from(MAX_PAGE));
    let (total, users) = match &query.filter {
        None => page(conn, shared, query.start_index, count)?,
        Some(filter) => {
            let selected = select(conn, shared, filter)?;
            let total = selected.len() as u64;
            let skip = usize::try_from(query.start_index - 1).unwrap_or(usize::MAX);
            (total, selected.into_iter().skip(skip).take(count as usize).collect())
        }
    };
    let resources = users.iter().map(|u| project(u, user_schema(), &query.attributes, &query.excluded_attributes));
    Ok(list_response(total, query.start_index, resources.collect()))
}

/// One page of the whole listing, read at its position; accounts the client deleted are left out.
fn page(conn: &mut Connection, shared: &Shared, start_index: u64, count: u64) -> Result<(u64, Vec<Value>), Failure> {
    let cursor = match start_index {
        1 => None,
        n => Some(conn.cursor_at(n - 1)?),
    };
    // A count of 0 asks for the total only; GoTo's smallest page tells it.
    let query = AccountQuery { filter: None, page_size: Some(count.max(1) as u32), cursor };
    let page = conn.list_accounts(&query)?;
    let deleted = shared.deleted()?;
    let total = page.total.saturating_sub(deleted.len() as u64);
    let shown = page.accounts.iter().filter(|a| !deleted.contains(&a.key)).take(count as usize);
    let users = shown.map(|a| shared.user(conn, a)).collect::<Result<_, _>>()?;
    Ok((total, users))
}

/// Every User the filter selects, in GoTo's order. The filter must narrow the listing through
/// something GoTo (or the state) can look up; the whole filter is then applied to what that
/// read, so a condition GoTo cannot check is never dropped.
fn select(conn: &mut Connection, shared: &Shared, filter: &Filter) -> Result<Vec<Value>, Failure> {
    let accounts = match narrowing(filter, shared.keeps_user_names())? {
        Narrowing::Key(key) => read_one(conn, &key)?.into_iter().collect(),
        Narrowing::UserName(name) => {
            let key = lock(&shared.state).account_with_user_name(&name)?;
            match key {
                Some(key) => read_one(conn, &key)?.into_iter().collect(),
                None => Vec::new(),
            }
        }
        Narrowing::ExternalId(id) => {
            let keys = lock(&shared.state).accounts_with_external_id(&id)?;
            let mut accounts = Vec::new();
            for key in keys {
                accounts.extend(read_one(conn, &key)?);
            }
            accounts
        }
        Narrowing::Goto(filter) => read_all(conn, filter)?,
    };
    let deleted = shared.deleted()?;
    let mut users = Vec::new();
    for account in accounts.iter().filter(|a| !deleted.contains(&a.key)) {
        let user = shared.user(conn, account)?;
        if matches(filter, &user) {
            users.push(user);
        }
    }
    Ok(users)
}

/// How a filter narrows what is read.
#[derive(Debug)]
enum Narrowing {
    Key(String),
    ExternalId(String),
    /// A user name kept in the state (see [`Shared::keeps_user_names`]).
    UserName(String),
    Goto(AccountFilter),
}

/// The narrowest lookup a filter allows: an equality on `id`, `externalId`, `userName`,
/// `emails.value`, `name.givenName` or `name.familyName`, alone or in an `and`.
fn narrowing(filter: &Filter, keeps_user_names: bool) -> Result<Narrowing, ScimError> {
    lookup(filter, keeps_user_names).ok_or_else(|| {
        ScimError::bad_request(
            ScimType::InvalidFilter,
            "GoTo can look users up only by an equality (eq) on id, externalId, userName, emails.value, \
             name.givenName or name.familyName; combine others with `and` after one of those",
        )
    })
}

fn lookup(filter: &Filter, keeps_user_names: bool) -> Option<Narrowing> {
    match filter {
        Filter::Compare { path, op: CompareOp::Eq, value: Value::String(value) } => {
            let attribute = user_attribute(path)?;
            let value = value.clone();
            match attribute.as_str() {
                "id" => Some(Narrowing::Key(value)),
                "externalid" => Some(Narrowing::ExternalId(value)),
                "username" if keeps_user_names => Some(Narrowing::UserName(value)),
                "username" | "emails" | "emails.value" => Some(Narrowing::Goto(AccountFilter::Email(value))),
                "name.givenname" | "name.familyname" => Some(Narrowing::Goto(AccountFilter::Name(value))),
                _ => None,
            }
        }
        Filter::ValuePath { path, filter } => {
            let inner = match filter.as_ref() {
                Filter::Compare { path: sub, op, value } if sub.sub.is_none() => Filter::Compare {
                    path: AttrPath {
                        schema: path.schema.clone(),
                        attr: path.attr.clone(),
                        sub: Some(sub.attr.clone()),
                    },
                    op: *op,
                    value: value.clone(),
                },
                _ => return None,
            };
            lookup(&inner, keeps_user_names)
        }
        // The narrower side wins: a key over an email over a name.
        Filter::And(a, b) => match (lookup(a, keeps_user_names), lookup(b, keeps_user_names)) {
            (Some(x), Some(y)) => Some(if rank(&x) <= rank(&y) { x } else { y }),
            (x, y) => x.or(y),
        },
        _ => None,
    }
}

fn rank(narrowing: &Narrowing) -> u8 {
    match narrowing {
        Narrowing::Key(_) => 0,
        Narrowing::ExternalId(_) | Narrowing::UserName(_) => 1,
        Narrowing::Goto(AccountFilter::Email(_)) => 2,
        Narrowing::Goto(_) => 3,
    }
}

/// A core User attribute path in lower case (`name.givenname`), or none for another schema's.
fn user_attribute(path: &AttrPath) -> Option<String> {
    if path.schema.as_deref().is_some_and(|s| !s.eq_ignore_ascii_case(USER_SCHEMA)) {
        return None;
    }
    let attr = path.attr.to_ascii_lowercase();
    Some(match &path.sub {
        Some(sub) => format!("{attr}.{}", sub.to_ascii_lowercase()),
        None => attr,
    })
}

/// The account `key`, or none if GoTo has no such user.
fn read_one(conn: &mut Connection, key: &str) -> Result<Option<Account>, Failure> {
    if !is_key(key) {
        return Ok(None);
    }
    match conn.get_account(key) {
        Ok(account) => Ok(Some(account)),
        Err(CallError::Connector(ConnectorError::NotFound(_))) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Every account GoTo's filter selects, up to [`MAX_FILTERED`].
fn read_all(conn: &mut Connection, filter: AccountFilter) -> Result<Vec<Account>, Failure> {
    let mut accounts = Vec::new();
    let too_many = |total: u64| match total > MAX_FILTERED as u64 {
        true => Err(ScimError::bad_request(
            ScimType::TooMany,
            format!("the filter selects {total} users, more than {MAX_FILTERED}: narrow it"),
        )
        .into()),
        false => Ok(()),
    };
    listing::each_account(conn, Some(filter), too_many, |account| {
        accounts.push(account);
        Ok(())
    })?;
    Ok(accounts)
}

/// The account behind `/Users/{id}`: 404 if GoTo has none or the client deleted it.
fn current(conn: &mut Connection, shared: &Shared, id: &str) -> Result<Account, Failure> {
    let account = read_one(conn, id)?.ok_or_else(|| no_such("User", id))?;
    if shared.deleted()?.contains(&account.key) {
        return Err(no_such("User", id));
    }
    Ok(account)
}

/// GET /Users/{id}.
pub fn get(conn: &mut Connection, shared: &Shared, id: &str, query: &ListQuery) -> Result<Value, Failure> {
    let account = current(conn, shared, id)?;
    let user = shared.user(conn, &account)?;
    Ok(project(&user, user_schema(), &query.attributes, &query.excluded_attributes))
}

/// POST /Users: creates the account with its access; a userName in use is `uniqueness` (409),
/// except for an account the client deleted, which comes back with what the body asks.
pub fn create(conn: &mut Connection, shared: &Shared, body: &Value) -> Result<Value, Failure> {
    let desired = Desired::read(body)?;
    let new = desired.new_account(&shared.templated)?;
    unique_user_name(shared, &desired, None)?;
    let key = match conn.create_account(&new, WRITE) {
        Ok(outcome) => outcome.account_key.ok_or_else(|| ScimError::new(502, None, "GoTo gave the new user no key"))?,
        Err(CallError::Connector(ConnectorError::AlreadyExists(key))) if shared.deleted()?.contains(&key) => {
            let account = conn.get_account(&key)?;
            write(conn, shared, &account, &desired)?;
            lock(&shared.state).revive(&key)?;
            key
        }
        Err(e) => return Err(e.into()),
    };
    keep(shared, &key, &desired)?;
    let account = conn.get_account(&key)?;
    shared.user(conn, &account)
}

/// Refuses a user name that another account has (`uniqueness`), where the state keeps user
/// names. An account the client deleted gives its name up.
fn unique_user_name(shared: &Shared, desired: &Desired, account: Option<&str>) -> Result<(), Failure> {
    let Some(name) = desired.kept(&shared.templated).user_name else { return Ok(()) };
    let deleted = shared.deleted()?;
    let mut state = lock(&shared.state);
    match state.account_with_user_name(&name)? {
        Some(other) if Some(other.as_str()) == account => Ok(()),
        Some(other) if deleted.contains(&other) => {
            let freed = gtm_state::ScimAccount { user_name: None, ..state.scim_account(&other)? };
            Ok(state.set_scim_account(&other, &freed)?)
        }
        Some(_) => {
            Err(ScimError::conflict(ScimType::Uniqueness, format!("the userName {name:?} is another user's")).into())
        }
        None => Ok(()),
    }
}

/// Records what the state keeps of the account `key` for `desired`.
fn keep(shared: &Shared, key: &str, desired: &Desired) -> Result<(), Failure> {
    Ok(lock(&shared.state).set_scim_account(key, &desired.kept(&shared.templated))?)
}

/// PUT /Users/{id}: the body replaces the User. Read-only attributes are ignored, and a
/// multi-valued attribute the body leaves out (entitlements, roles) is left as it is, since
/// clients replace profiles without repeating access they manage elsewhere.
pub fn replace(conn: &mut Connection, shared: &Shared, id: &str, body: &Value) -> Result<Value, Failure> {
    let account = current(conn, shared, id)?;
    let desired = Desired::read(body)?;
    unique_user_name(shared, &desired, Some(&account.key))?;
    write(conn, shared, &account, &desired)?;
    keep(shared, &account.key, &desired)?;
    let account = conn.get_account(&account.key)?;
    shared.user(conn, &account)
}

/// PATCH /Users/{id}: the operations applied to the User as it is, then written as the
/// difference. Read-only attributes may not change.
pub fn patch(conn: &mut Connection, shared: &Shared, id: &str, body: &Value) -> Result<Value, Failure> {
    let request = PatchRequest::parse(body)?;
    let account = current(conn, shared, id)?;
    let before = shared.user(conn, &account)?;
    let mut after = before.clone();
    request.apply(&mut after, user_schema())?;
    for read_only in ["id", "groups"] {
        if before.get(read_only) != after.get(read_only) {
            let why = match read_only {
                "groups" => "groups is read-only: change a user's group through the Group's members or groupKey",
                _ => "id is read-only",
            };
            return Err(ScimError::bad_request(ScimType::Mutability, why).into());
        }
    }
    let desired = Desired::read_whole(&after)?;
    unique_user_name(shared, &desired, Some(&account.key))?;
    write(conn, shared, &account, &desired)?;
    keep(shared, &account.key, &desired)?;
    let account = conn.get_account(&account.key)?;
    shared.user(conn, &account)
}

/// Carries out the plan from `account` to `desired`: attributes, then grants, then revokes or
/// the deprovision. Each write is idempotent, so a client retrying a failed request converges.
fn write(conn: &mut Connection, shared: &Shared, account: &Account, desired: &Desired) -> Result<(), Failure> {
    let plan = Plan::new(account, desired, &shared.templated)?;
    if let Some(changes) = &plan.update {
        conn.update_account(&account.key, changes, WRITE)?;
    }
    for entitlement in &plan.grant {
        conn.change_access(AccessChange::Grant, &account.key, entitlement, WRITE)?;
    }
    for entitlement in &plan.revoke {
        conn.change_access(AccessChange::Revoke, &account.key, entitlement, WRITE)?;
    }
    if plan.deprovision {
        conn.delete_account(&account.key, deprovision(), WRITE)?;
    }
    Ok(())
}

fn deprovision() -> DeleteMode {
    DeleteMode::Deprovision(DeprovisionOptions { keep_roles: false, keep_group: false })
}

/// DELETE /Users/{id}: deprovisions (or, if the profile says so, deletes) the account, which
/// the service then no longer shows.
pub fn delete(conn: &mut Connection, shared: &Shared, id: &str) -> Result<(), Failure> {
    let account = current(conn, shared, id)?;
    match shared.delete {
        ServeDelete::Deprovision => {
            conn.delete_account(&account.key, deprovision(), WRITE)?;
            lock(&shared.state).mark_deleted(&account.key)?;
        }
        ServeDelete::HardDelete => {
            conn.delete_account(&account.key, DeleteMode::HardDelete, WRITE)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gtm_scim::filter::parse;

    /// The narrowing, as text (the bindings' filter has no `PartialEq`).
    fn narrowed(text: &str) -> Result<String, ScimError> {
        narrowing(&parse(text).unwrap(), false).map(|n| format!("{n:?}"))
    }

    #[test]
    fn equalities_goto_can_look_up_narrow_the_listing() {
        let email = |e: &str| format!("{:?}", Narrowing::Goto(AccountFilter::Email(e.into())));
        assert_eq!(narrowed(r#"userName eq "a@x.com""#).unwrap(), email("a@x.com"));
        assert_eq!(narrowed(r#"emails.value eq "a@x.com""#).unwrap(), email("a@x.com"));
        assert_eq!(narrowed(r#"emails[value eq "a@x.com"]"#).unwrap(), email("a@x.com"));
        assert_eq!(narrowed(r#"id eq "12""#).unwrap(), format!("{:?}", Narrowing::Key("12".into())));
        assert_eq!(narrowed(r#"externalId eq "e-1""#).unwrap(), format!("{:?}", Narrowing::ExternalId("e-1".into())));
        assert_eq!(
            narrowed(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Ann""#).unwrap(),
            format!("{:?}", Narrowing::Goto(AccountFilter::Name("Ann".into())))
        );
        assert_eq!(
            narrowed(r#"name.familyName eq "Lee" and userName eq "a@x.com""#).unwrap(),
            email("a@x.com"),
            "the narrower side"
        );
        assert_eq!(narrowed(r#"active eq true and id eq "3""#).unwrap(), format!("{:?}", Narrowing::Key("3".into())));
    }

    #[test]
    fn a_filter_goto_cannot_narrow_is_refused_not_widened() {
        for text in [
            r#"userName sw "a""#,
            r#"userName eq "a@x.com" or userName eq "b@x.com""#,
            "active eq true",
            "title pr",
            r#"not (userName eq "a@x.com")"#,
        ] {
            let refused = narrowed(text).unwrap_err();
            assert_eq!((refused.status, refused.scim_type), (400, Some(ScimType::InvalidFilter)), "{text}");
        }
    }
}
