//! The account's state and the invariants that tie it together: one group per user, group paths
//! and member counts, license seats and user products, derived user status, resurrected keys.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::error::{ApiError, codes, invented};
use crate::keys::KeyGen;
use crate::listing::Ordered;
use crate::ranked::RankedMap;

/// A user's account status (reference §4.1). Derived from licenses and password (quirk 12);
/// `Inactive` only ever comes from seeding or a test setting it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Invited,
    Suspended,
    Inactive,
}

impl UserStatus {
    /// The wire form, e.g. `"ACTIVE"`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "ACTIVE",
            UserStatus::Invited => "INVITED",
            UserStatus::Suspended => "SUSPENDED",
            UserStatus::Inactive => "INACTIVE",
        }
    }
}

/// A user as the Admin API shows it (reference §4.1). Empty lists and `None`s are omitted on the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub key: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub locale: String,
    pub time_zone: String,
    /// Derived; see [`UserStatus`].
    pub status: UserStatus,
    pub license_keys: Vec<String>,
    /// Derived: every product of every assigned license.
    pub products: Vec<String>,
    pub group_key: Option<String>,
    /// Derived from `group_key`.
    pub group_name: Option<String>,
    /// Derived: root → the user's group.
    pub group_key_path: Vec<String>,
    /// Derived: root → the user's group.
    pub group_name_path: Vec<String>,
    pub admin_roles: Vec<String>,
    pub role_sets: Vec<String>,
    pub password_created: bool,
    /// Epoch milliseconds; `None` for users never invited (the account creator).
    pub invited_date: Option<i64>,
    pub invite_count: u32,
    pub name_locked: bool,
    pub email_locked: bool,
    pub identity_read_only: bool,
    pub can_authenticate: bool,
}

impl User {
    pub(crate) fn new(key: String, email: String, first_name: String, last_name: String) -> Self {
        User {
            key,
            email,
            first_name,
            last_name,
            locale: "en_US".into(),
            time_zone: "America/New_York".into(),
            status: UserStatus::Suspended,
            license_keys: Vec::new(),
            products: Vec::new(),
            group_key: None,
            group_name: None,
            group_key_path: Vec::new(),
            group_name_path: Vec::new(),
            admin_roles: Vec::new(),
            role_sets: Vec::new(),
            password_created: false,
            invited_date: None,
            invite_count: 0,
            name_locked: false,
            email_locked: false,
            identity_read_only: false,
            can_authenticate: false,
        }
    }
}

/// A user group (reference §4.2). Groups nest; a user belongs to at most one.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub key: String,
    pub name: String,
    pub parent_key: Option<String>,
    /// Derived: root → this group.
    pub key_path: Vec<String>,
    /// Derived: root → this group.
    pub name_path: Vec<String>,
    /// Direct members.
    pub user_keys: Vec<String>,
    /// Derived: direct members.
    pub member_count: u64,
    /// Derived: members of this group and all its subgroups.
    pub total_member_count: u64,
}

/// A license (reference §4.3).
#[derive(Clone, Debug, PartialEq)]
pub struct License {
    pub key: String,
    pub description: String,
    /// The wire's `type`; GoTo's values are unknown, these are placeholders.
    pub license_type: String,
    pub channel: String,
    pub enabled: bool,
    pub seats: u32,
    /// Derived: `user_keys.len()`.
    pub user_count: u32,
    /// e.g. `["G2M", "G2W"]`: Webinar includes Meeting.
    pub products: Vec<String>,
    pub user_keys: Vec<String>,
}

/// A user to add directly (bypassing API validation and seat limits).
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Unknown keys are ignored.
    pub license_keys: Vec<String>,
    /// An unknown key is ignored.
    pub group_key: Option<String>,
    pub admin_roles: Vec<String>,
}

impl NewUser {
    /// A user with no license, group or role.
    pub fn new(email: impl Into<String>, first_name: impl Into<String>, last_name: impl Into<String>) -> Self {
        NewUser {
            email: email.into(),
            first_name: first_name.into(),
            last_name: last_name.into(),
            ..NewUser::default()
        }
    }
}

/// One user of an Add Users batch, already validated.
pub(crate) struct Invitee {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

/// An Add Users request (reference §6.4): the top-level fields apply to every user.
pub(crate) struct Batch {
    pub invitees: Vec<Invitee>,
    pub license_keys: Vec<String>,
    pub admin_roles: Vec<String>,
    pub group_key: Option<String>,
    pub managed_group_keys: Vec<String>,
    pub suppress_email: bool,
}

/// One entry of the Add Users response; `key` is absent for conflicting emails.
pub(crate) struct Created {
    pub email: String,
    pub key: Option<String>,
}

/// A partial user update (PUT user); `None` leaves the field alone.
#[derive(Default)]
pub(crate) struct UserPatch {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub admin_roles: Option<Vec<String>>,
    pub license_keys: Option<Vec<String>>,
}

/// The documented admin role names (reference §4.4).
const ADMIN_ROLES: &[&str] = &[
    "SUPER_USER",
    "MANAGE_USERS",
    "MANAGE_SEATS",
    "MANAGE_SETTINGS",
    "MANAGE_GROUPS",
    "RUN_REPORTS",
    "MANAGE_ACCOUNT",
    "ADD_USERS",
];

/// Default listing order (quirk 4): email local part, then the whole email, case-insensitively.
type OrderKey = (String, String);

fn order_key(email: &str) -> OrderKey {
    let lower = email.to_lowercase();
    let local = lower.split('@').next().unwrap_or_default().to_owned();
    (local, lower)
}

/// The state of one GoTo account.
pub struct World {
    account_key: String,
    account_name: String,
    /// The user the OAuth tokens belong to.
    principal: String,
    /// Kept in listing order, so pages are cut out at any offset without sorting or walking the
    /// users before them; also the email index.
    users: RankedMap<OrderKey, User>,
    /// User key → its slot in `users`.
    by_key: HashMap<String, OrderKey>,
    /// Lowercased email → key of users removed from the account; re-adding revives the key (quirk 14).
    deleted: HashMap<String, String>,
    groups: HashMap<String, Group>,
    licenses: Vec<License>,
    /// When API-created users were added, for the visibility delay (quirk 19).
    created_at: HashMap<String, Instant>,
    keys: KeyGen,
}

impl World {
    /// An account with no users, groups or licenses.
    pub(crate) fn empty(seed: u64, long_keys: bool, account_name: String) -> Self {
        let mut keys = KeyGen::new(seed, long_keys);
        World {
            account_key: keys.next(),
            account_name,
            principal: String::new(),
            users: RankedMap::new(),
            by_key: HashMap::new(),
            deleted: HashMap::new(),
            groups: HashMap::new(),
            licenses: Vec::new(),
            created_at: HashMap::new(),
            keys,
        }
    }

    /// The documented admin role names (reference §4.4).
    pub fn admin_roles_catalog() -> &'static [&'static str] {
        ADMIN_ROLES
    }

    /// The account's key.
    pub fn account_key(&self) -> &str {
        &self.account_key
    }

    /// The account's display name.
    pub fn account_name(&self) -> &str {
        &self.account_name
    }

    /// The key of the user the OAuth tokens act as.
    pub fn principal_key(&self) -> &str {
        &self.principal
    }

    pub(crate) fn set_principal(&mut self, key: String) {
        self.principal = key;
    }

    pub(crate) fn new_key(&mut self) -> String {
        self.keys.next()
    }

    // ---- reads ----

    /// Every user, in GoTo's default order.
    pub fn users(&self) -> Vec<User> {
        self.users.values().cloned().collect()
    }

    /// Every user, in GoTo's default order, for a listing to cut pages from.
    pub(crate) fn users_in_order(&self) -> impl Ordered<'_, User> + Copy {
        &self.users
    }

    /// A user by key.
    pub fn user(&self, key: &str) -> Option<User> {
        self.user_ref(key).cloned()
    }

    pub(crate) fn user_ref(&self, key: &str) -> Option<&User> {
        self.by_key.get(key).and_then(|slot| self.users.get(slot))
    }

    /// A user by email, case-insensitively.
    pub fn user_by_email(&self, email: &str) -> Option<User> {
        self.email_ref(email).cloned()
    }

    fn email_ref(&self, email: &str) -> Option<&User> {
        self.users.get(&order_key(email))
    }

    /// Every group, ordered by name.
    pub fn groups(&self) -> Vec<Group> {
        self.groups_in_order().into_iter().cloned().collect()
    }

    pub(crate) fn groups_in_order(&self) -> Vec<&Group> {
        let mut groups: Vec<&Group> = self.groups.values().collect();
        groups.sort_by_cached_key(|g| (g.name.to_lowercase(), g.key.clone()));
        groups
    }

    /// Every license, in creation order.
    pub fn licenses(&self) -> Vec<License> {
        self.licenses.clone()
    }

    pub(crate) fn licenses_ref(&self) -> &[License] {
        &self.licenses
    }

    pub(crate) fn license_ref(&self, key: &str) -> Option<&License> {
        self.licenses.iter().find(|l| l.key == key)
    }

    /// Whether an API-created user is still invisible to filtered lists (quirk 19).
    pub(crate) fn hidden_from_filters(&self, key: &str, delay: Duration, now: Instant) -> bool {
        !delay.is_zero() && self.created_at.get(key).is_some_and(|t| t.checked_add(delay).is_none_or(|end| now < end))
    }

    // ---- direct mutations (tests and seeding): no validation, no seat limits ----

    /// Adds a user, or returns the key of the existing user with that email. Unknown license and
    /// group keys are ignored; seats are not checked. A previously removed email gets its old key.
    pub fn add_user(&mut self, new: NewUser) -> String {
        if let Some(existing) = self.email_ref(&new.email) {
            return existing.key.clone();
        }
        let key = self.key_for(&new.email);
        let mut user = User::new(key.clone(), new.email, new.first_name, new.last_name);
        user.admin_roles = new.admin_roles;
        self.insert_user(user, &new.license_keys, new.group_key.as_deref());
        self.recount_groups();
        key
    }

    /// Removes a user from the account (and its group and licenses). Returns whether it existed.
    pub fn remove_user(&mut self, key: &str) -> bool {
        let Some(user) = self.user(key) else {
            return false;
        };
        for lic in &user.license_keys {
            self.detach_license(key, lic);
        }
        self.place_in_group(key, None);
        self.recount_groups();
        self.unindex(key);
        self.created_at.remove(key);
        self.deleted.insert(user.email.to_lowercase(), user.key);
        true
    }

    /// Edits a user in place, then restores every invariant: changed `license_keys` and `group_key`
    /// update licenses and groups (unknown keys dropped), derived fields are recomputed, and an
    /// email already used by another user is reverted. Returns whether the user exists.
    pub fn update_user(&mut self, key: &str, f: impl FnOnce(&mut User)) -> bool {
        let Some(mut user) = self.user(key) else {
            return false;
        };
        f(&mut user);
        self.replace_user(key, user);
        true
    }

    /// Deletes a license, unassigning it from its users. Returns whether it existed.
    pub fn delete_license(&mut self, key: &str) -> bool {
        let Some(pos) = self.licenses.iter().position(|l| l.key == key) else {
            return false;
        };
        let license = self.licenses.remove(pos);
        for user_key in &license.user_keys {
            if let Some(u) = user_mut(&mut self.users, &self.by_key, user_key) {
                u.license_keys.retain(|k| k != key);
                derive(u, &self.licenses, &self.groups);
            }
        }
        true
    }

    /// Deletes a group. Its members become ungrouped and its subgroups move up to its parent
    /// (GoTo's behaviour here is unknown). Returns whether it existed.
    pub fn delete_group(&mut self, key: &str) -> bool {
        let Some(group) = self.groups.remove(key) else {
            return false;
        };
        for g in self.groups.values_mut() {
            if g.parent_key.as_deref() == Some(key) {
                g.parent_key = group.parent_key.clone();
            }
        }
        for user_key in &group.user_keys {
            if let Some(u) = user_mut(&mut self.users, &self.by_key, user_key) {
                u.group_key = None;
            }
        }
        self.rebuild_groups();
        true
    }

    // ---- API operations: validated, may fail with an Admin API error ----

    /// Add Users (reference §6.4, quirks 6 and 14).
    pub(crate) fn add_users(
        &mut self,
        batch: Batch,
        all_or_nothing: bool,
        existing_key_on_conflict: bool,
        now_ms: i64,
    ) -> Result<Vec<Created>, ApiError> {
        for lic in &batch.license_keys {
            self.license_or_404(lic)?;
        }
        for group in batch.group_key.iter().chain(&batch.managed_group_keys) {
            self.group_or_404(group)?;
        }
        let mut seen = HashSet::new();
        let conflicts: Vec<(&'static str, String)> = batch
            .invitees
            .iter()
            .filter(|i| {
                let lower = i.email.to_lowercase();
                self.email_ref(&i.email).is_some() || !seen.insert(lower)
            })
            .map(|i| (codes::USER_NAME_CONFLICT, i.email.clone()))
            .collect();
        if all_or_nothing && !conflicts.is_empty() {
            return Err(ApiError { status: http::StatusCode::CONFLICT, errors: conflicts });
        }
        self.check_seats(&batch.license_keys, batch.invitees.len() - conflicts.len())?;

        let now = Instant::now();
        let mut created = Vec::with_capacity(batch.invitees.len());
        for invitee in batch.invitees {
            // Also catches a duplicate within the batch, created a moment ago.
            if let Some(existing) = self.email_ref(&invitee.email) {
                let key = existing_key_on_conflict.then(|| existing.key.clone());
                created.push(Created { email: invitee.email, key });
                continue;
            }
            let key = self.key_for(&invitee.email);
            let mut user = User::new(key.clone(), invitee.email.clone(), invitee.first_name, invitee.last_name);
            user.locale = invitee.locale.unwrap_or(user.locale);
            user.time_zone = invitee.time_zone.unwrap_or(user.time_zone);
            user.admin_roles = batch.admin_roles.clone();
            if !batch.suppress_email {
                user.invited_date = Some(now_ms);
                user.invite_count = 1;
            }
            self.insert_user(user, &batch.license_keys, batch.group_key.as_deref());
            self.created_at.insert(key.clone(), now);
            created.push(Created { email: invitee.email, key: Some(key) });
        }
        self.recount_groups();
        Ok(created)
    }

    /// PUT user: a partial update (quirk 7); `license_keys` replaces the set.
    pub(crate) fn patch_user(&mut self, key: &str, patch: UserPatch) -> Result<(), ApiError> {
        let mut user = self.user_or_404(key)?.clone();
        if let Some(email) = patch.email {
            if self.email_ref(&email).is_some_and(|other| other.key != key) {
                return Err(ApiError::conflict(codes::USER_NAME_CONFLICT, email));
            }
            user.email = email;
        }
        if let Some(licenses) = patch.license_keys {
            for lic in &licenses {
                self.license_or_404(lic)?;
            }
            for lic in licenses.iter().filter(|l| !user.license_keys.contains(l)) {
                self.check_seats(std::slice::from_ref(lic), 1)?;
            }
            user.license_keys = licenses;
        }
        let fields = [
            (patch.first_name, &mut user.first_name),
            (patch.last_name, &mut user.last_name),
            (patch.locale, &mut user.locale),
            (patch.time_zone, &mut user.time_zone),
        ];
        for (value, field) in fields {
            if let Some(value) = value {
                *field = value;
            }
        }
        if let Some(roles) = patch.admin_roles {
            user.admin_roles = roles;
        }
        self.replace_user(key, user);
        Ok(())
    }

    /// Create Group; `parent` nests it.
    pub(crate) fn create_group(&mut self, name: &str, parent: Option<&str>) -> Result<String, ApiError> {
        self.check_group_name(name, None)?;
        let (mut key_path, mut name_path) = match parent {
            Some(p) => {
                let p = self.group_or_404(p)?;
                (p.key_path.clone(), p.name_path.clone())
            }
            None => (Vec::new(), Vec::new()),
        };
        let key = self.keys.next();
        key_path.push(key.clone());
        name_path.push(name.to_owned());
        let group = Group {
            key: key.clone(),
            name: name.to_owned(),
            parent_key: parent.map(str::to_owned),
            key_path,
            name_path,
            user_keys: Vec::new(),
            member_count: 0,
            total_member_count: 0,
        };
        self.groups.insert(key.clone(), group);
        Ok(key)
    }

    /// Rename a group (quirk 10).
    pub(crate) fn rename_group(&mut self, key: &str, name: &str) -> Result<(), ApiError> {
        self.group_or_404(key)?;
        self.check_group_name(name, Some(key))?;
        if let Some(g) = self.groups.get_mut(key) {
            g.name = name.to_owned();
        }
        self.rebuild_groups();
        Ok(())
    }

    /// Put a user into a group, leaving any previous one (quirk 8).
    pub(crate) fn move_to_group(&mut self, group: &str, user: &str) -> Result<(), ApiError> {
        self.group_or_404(group)?;
        self.user_or_404(user)?;
        self.place_in_group(user, Some(group));
        self.recount_groups();
        Ok(())
    }

    /// Remove a user from all groups (there is no single-group removal).
    pub(crate) fn clear_groups(&mut self, user: &str) -> Result<(), ApiError> {
        self.user_or_404(user)?;
        self.place_in_group(user, None);
        self.recount_groups();
        Ok(())
    }

    /// Assign a license to users; already-assigned ones are left alone.
    pub(crate) fn grant_license(&mut self, license: &str, users: &[String]) -> Result<(), ApiError> {
        let assigned: HashSet<&String> = self.license_or_404(license)?.user_keys.iter().collect();
        for user in users {
            self.user_or_404(user)?;
        }
        let mut seen = HashSet::new();
        let fresh: Vec<String> = users.iter().filter(|u| !assigned.contains(u) && seen.insert(*u)).cloned().collect();
        self.check_seats(&[license.to_owned()], fresh.len())?;
        for user in &fresh {
            self.attach_license(user, license);
            self.derive_user(user);
        }
        Ok(())
    }

    /// Unassign a license from users; unassigned ones are left alone.
    pub(crate) fn revoke_license(&mut self, license: &str, users: &[String]) -> Result<(), ApiError> {
        self.license_or_404(license)?;
        for user in users {
            self.user_or_404(user)?;
        }
        for user in users {
            self.detach_license(user, license);
            self.derive_user(user);
        }
        Ok(())
    }

    pub(crate) fn user_or_404(&self, key: &str) -> Result<&User, ApiError> {
        self.user_ref(key).ok_or_else(|| ApiError::not_found(codes::USER_NOT_FOUND, key))
    }

    pub(crate) fn group_or_404(&self, key: &str) -> Result<&Group, ApiError> {
        self.groups.get(key).ok_or_else(|| ApiError::not_found(codes::GROUP_NOT_FOUND, key))
    }

    pub(crate) fn license_or_404(&self, key: &str) -> Result<&License, ApiError> {
        self.license_ref(key).ok_or_else(|| ApiError::not_found(invented::LICENSE_NOT_FOUND, key))
    }

    // ---- seeding ----

    pub(crate) fn push_license(&mut self, license: License) {
        self.licenses.push(license);
    }

    pub(crate) fn set_seats(&mut self, index: usize, seats: u32) {
        self.licenses[index].seats = seats;
    }

    /// Adds a fully described user (the caller ensures the email is new), then its licenses and group.
    /// Group counts are left for the caller to [`World::recount_groups`].
    pub(crate) fn insert_user(&mut self, mut user: User, licenses: &[String], group: Option<&str>) {
        let key = user.key.clone();
        user.license_keys.clear();
        user.group_key = None;
        self.index(user);
        for lic in licenses {
            self.attach_license(&key, lic);
        }
        self.place_in_group(&key, group);
    }

    /// Recomputes every group's direct and total member counts.
    pub(crate) fn recount_groups(&mut self) {
        let mut totals: HashMap<String, u64> = HashMap::new();
        for g in self.groups.values() {
            let direct = g.user_keys.len() as u64;
            for ancestor in &g.key_path {
                *totals.entry(ancestor.clone()).or_default() += direct;
            }
        }
        for g in self.groups.values_mut() {
            g.member_count = g.user_keys.len() as u64;
            g.total_member_count = totals.get(&g.key).copied().unwrap_or_default();
        }
    }

    // ---- invariant keeping ----

    /// The key for a new user: the old one if this email was removed before (quirk 14).
    fn key_for(&mut self, email: &str) -> String {
        match self.deleted.remove(&email.to_lowercase()) {
            Some(key) => key,
            None => self.keys.next(),
        }
    }

    /// Stores a user in its listing slot.
    fn index(&mut self, user: User) {
        let slot = order_key(&user.email);
        self.by_key.insert(user.key.clone(), slot.clone());
        self.users.insert(slot, user);
    }

    fn unindex(&mut self, key: &str) -> Option<User> {
        let slot = self.by_key.remove(key)?;
        self.users.remove(&slot)
    }

    /// Swaps in an edited copy of a user, routing license and group changes through bookkeeping.
    fn replace_user(&mut self, key: &str, mut target: User) {
        let Some(current) = self.user(key) else {
            return;
        };
        target.key = key.to_owned();
        if self.email_ref(&target.email).is_some_and(|other| other.key != key) {
            target.email = current.email.clone();
        }
        let wanted_licenses = std::mem::replace(&mut target.license_keys, current.license_keys.clone());
        let wanted_group = std::mem::replace(&mut target.group_key, current.group_key.clone());
        self.unindex(key);
        self.index(target);
        for lic in current.license_keys.iter().filter(|l| !wanted_licenses.contains(l)) {
            self.detach_license(key, lic);
        }
        for lic in &wanted_licenses {
            self.attach_license(key, lic);
        }
        if wanted_group != current.group_key {
            let group = wanted_group.filter(|g| self.groups.contains_key(g));
            self.place_in_group(key, group.as_deref());
            self.recount_groups();
        }
        self.derive_user(key);
    }

    fn attach_license(&mut self, user: &str, license: &str) {
        let Some(l) = self.licenses.iter_mut().find(|l| l.key == license) else {
            return;
        };
        let Some(u) = user_mut(&mut self.users, &self.by_key, user) else {
            return;
        };
        if !u.license_keys.iter().any(|k| k == license) {
            u.license_keys.push(license.to_owned());
            l.user_keys.push(user.to_owned());
            l.user_count = l.user_keys.len() as u32;
        }
    }

    fn detach_license(&mut self, user: &str, license: &str) {
        if let Some(l) = self.licenses.iter_mut().find(|l| l.key == license) {
            l.user_keys.retain(|k| k != user);
            l.user_count = l.user_keys.len() as u32;
        }
        if let Some(u) = user_mut(&mut self.users, &self.by_key, user) {
            u.license_keys.retain(|k| k != license);
        }
    }

    /// Moves a user to `group` (or none), then re-derives it. Counts are left to the caller.
    fn place_in_group(&mut self, user: &str, group: Option<&str>) {
        let Some(u) = user_mut(&mut self.users, &self.by_key, user) else {
            return;
        };
        if let Some(old) = u.group_key.take().and_then(|g| self.groups.get_mut(&g)) {
            old.user_keys.retain(|k| k != user);
        }
        if let Some(new) = group.and_then(|g| self.groups.get_mut(g)) {
            new.user_keys.push(user.to_owned());
            u.group_key = Some(new.key.clone());
        }
        self.derive_user(user);
    }

    fn derive_user(&mut self, key: &str) {
        if let Some(u) = user_mut(&mut self.users, &self.by_key, key) {
            derive(u, &self.licenses, &self.groups);
        }
    }

    fn check_seats(&self, licenses: &[String], added: usize) -> Result<(), ApiError> {
        for lic in licenses {
            if let Some(l) = self.license_ref(lic)
                && l.user_count as usize + added > l.seats as usize
            {
                return Err(ApiError::conflict(invented::SEATS_EXCEEDED, lic.clone()));
            }
        }
        Ok(())
    }

    fn check_group_name(&self, name: &str, except: Option<&str>) -> Result<(), ApiError> {
        if name.trim().is_empty() {
            return Err(ApiError::bad_request(codes::GROUP_NAME_REQUIRED, name));
        }
        let lower = name.to_lowercase();
        let taken = self.groups.values().any(|g| Some(g.key.as_str()) != except && g.name.to_lowercase() == lower);
        if taken {
            return Err(ApiError::conflict(codes::GROUP_NAME_CONFLICT, name));
        }
        Ok(())
    }

    /// Recomputes every group's paths and counts, and every user's group fields.
    fn rebuild_groups(&mut self) {
        let paths: Vec<(String, Vec<String>, Vec<String>)> = self
            .groups
            .keys()
            .map(|key| {
                let (mut keys, mut names) = (Vec::new(), Vec::new());
                let mut cursor = self.groups.get(key);
                // Bounded walk: a cycle (impossible through the API) cannot hang the server.
                while let Some(g) = cursor.filter(|_| keys.len() <= self.groups.len()) {
                    keys.push(g.key.clone());
                    names.push(g.name.clone());
                    cursor = g.parent_key.as_ref().and_then(|p| self.groups.get(p));
                }
                keys.reverse();
                names.reverse();
                (key.clone(), keys, names)
            })
            .collect();
        for (key, keys, names) in paths {
            if let Some(g) = self.groups.get_mut(&key) {
                g.key_path = keys;
                g.name_path = names;
            }
        }
        self.recount_groups();
        for u in self.users.values_mut() {
            derive(u, &self.licenses, &self.groups);
        }
    }
}

/// A user by key, borrowing only the user maps (so other fields stay usable).
fn user_mut<'a>(
    users: &'a mut RankedMap<OrderKey, User>,
    by_key: &HashMap<String, OrderKey>,
    key: &str,
) -> Option<&'a mut User> {
    by_key.get(key).and_then(|slot| users.get_mut(slot))
}

/// Recomputes a user's derived fields: products, status (quirk 12) and group name/paths.
fn derive(u: &mut User, licenses: &[License], groups: &HashMap<String, Group>) {
    u.products.clear();
    for license in licenses.iter().filter(|l| u.license_keys.contains(&l.key)) {
        for product in &license.products {
            if !u.products.contains(product) {
                u.products.push(product.clone());
            }
        }
    }
    u.status = if u.license_keys.is_empty() {
        UserStatus::Suspended
    } else if u.status == UserStatus::Inactive {
        UserStatus::Inactive
    } else if u.password_created {
        UserStatus::Active
    } else {
        UserStatus::Invited
    };
    match u.group_key.as_ref().and_then(|g| groups.get(g)) {
        Some(g) => {
            u.group_name = Some(g.name.clone());
            u.group_key_path = g.key_path.clone();
            u.group_name_path = g.name_path.clone();
        }
        None => {
            u.group_key = None;
            u.group_name = None;
            u.group_key_path.clear();
            u.group_name_path.clear();
        }
    }
}
