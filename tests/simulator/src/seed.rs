//! Deterministic, realistic account data of any size.

use std::collections::{HashMap, HashSet};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::config::SimConfig;
use crate::world::{License, User, UserStatus, World};

const ACCOUNT_NAMES: &[&str] =
    &["Acme Corporation", "Globex", "Initech", "Umbrella Health", "Hooli", "Vandelay Industries"];

/// (description, products): Webinar and Training include Meeting (reference §4.3).
const LICENSES: &[(&str, &[&str])] = &[
    ("GoTo Meeting Business", &["G2M"]),
    ("GoTo Webinar Pro", &["G2M", "G2W"]),
    ("GoTo Training", &["G2M", "G2T"]),
    ("GoTo Meeting Free", &["G2MFREE"]),
    ("GoTo Connect Phone System", &["G2M", "JIVE"]),
    ("GoTo Meeting Enterprise", &["G2M"]),
    ("GoTo Webinar Enterprise", &["G2M", "G2W"]),
    ("GoTo Conference Room", &["G2C"]),
];

const GROUPS: &[&str] = &[
    "Engineering",
    "Sales",
    "Platform",
    "Support",
    "EMEA Sales",
    "Marketing",
    "Tier 2",
    "Finance",
    "Field Marketing",
    "Payroll",
    "Legal",
    "People Ops",
    "Design",
    "Data",
    "Security",
    "Partners",
    "APAC Sales",
    "Tier 1",
    "Research",
    "Operations",
];

/// (display name, its ASCII form for emails).
const FIRST: &[(&str, &str)] = &[
    ("James", "james"),
    ("Mary", "mary"),
    ("Wei", "wei"),
    ("Priya", "priya"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Ahmed", "ahmed"),
    ("Olga", "olga"),
    ("Kenji", "kenji"),
    ("Fatima", "fatima"),
    ("Liam", "liam"),
    ("Sofia", "sofia"),
    ("Noah", "noah"),
    ("Chloé", "chloe"),
    ("Mateo", "mateo"),
    ("Aisha", "aisha"),
    ("Lukas", "lukas"),
    ("Emma", "emma"),
    ("Yuki", "yuki"),
    ("Oliver", "oliver"),
    ("Ingrid", "ingrid"),
    ("Diego", "diego"),
    ("Hannah", "hannah"),
    ("Raj", "raj"),
    ("Anna", "anna"),
    ("Mohammed", "mohammed"),
    ("Camille", "camille"),
    ("Sven", "sven"),
    ("Grace", "grace"),
    ("Tomás", "tomas"),
    ("Nia", "nia"),
    ("Ethan", "ethan"),
    ("Mei", "mei"),
    ("Jakub", "jakub"),
    ("Leila", "leila"),
    ("Samuel", "samuel"),
    ("Amara", "amara"),
    ("Henrik", "henrik"),
    ("Isabella", "isabella"),
    ("Kwame", "kwame"),
];

const LAST: &[(&str, &str)] = &[
    ("Smith", "smith"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("Chen", "chen"),
    ("Patel", "patel"),
    ("O'Brien", "obrien"),
    ("Nguyen", "nguyen"),
    ("Kowalski", "kowalski"),
    ("Rossi", "rossi"),
    ("Tanaka", "tanaka"),
    ("Johnson", "johnson"),
    ("Silva", "silva"),
    ("Dubois", "dubois"),
    ("Ivanova", "ivanova"),
    ("Kim", "kim"),
    ("Andersen", "andersen"),
    ("Okafor", "okafor"),
    ("Hernández", "hernandez"),
    ("Cohen", "cohen"),
    ("Schmidt", "schmidt"),
    ("Williams", "williams"),
    ("Singh", "singh"),
    ("Yamamoto", "yamamoto"),
    ("Lopez", "lopez"),
    ("Novak", "novak"),
    ("Brown", "brown"),
    ("Haddad", "haddad"),
    ("van der Berg", "vanderberg"),
    ("Fischer", "fischer"),
    ("Martin", "martin"),
    ("Ali", "ali"),
    ("Jones", "jones"),
    ("Costa", "costa"),
    ("Larsen", "larsen"),
    ("Mensah", "mensah"),
    ("Wang", "wang"),
    ("Taylor", "taylor"),
    ("Moreau", "moreau"),
    ("Sato", "sato"),
];

/// (locale, its time zones); en_US is drawn half the time.
const LOCALES: &[(&str, &[&str])] = &[
    ("en_US", &["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]),
    ("en_GB", &["Europe/London"]),
    ("de_DE", &["Europe/Berlin"]),
    ("fr_FR", &["Europe/Paris"]),
    ("es_ES", &["Europe/Madrid"]),
    ("it_IT", &["Europe/Rome"]),
    ("ja_JP", &["Asia/Tokyo"]),
    ("pt_BR", &["America/Sao_Paulo"]),
    ("nl_NL", &["Europe/Amsterdam"]),
    ("en_AU", &["Australia/Sydney"]),
];

/// Emails that only match correctly when a client escapes regex metacharacters (`+`, `.`), plus
/// `alex@…`, which sorts before `alex+sales@…` only when ordering by local part first (quirk 4).
const TRICKY: &[(&str, &str, &str)] = &[
    ("alex+sales@example.com", "Alex", "Sales"),
    ("alexsales@example.com", "Alexis", "Sales"),
    ("alex.lee@example.com", "Alex", "Lee"),
    ("alexxlee@example.com", "Alexx", "Lee"),
    ("alex@example.org", "Alex", "Ortiz"),
];

/// Roles handed to the ~3% of users who are admins.
const SEEDED_ROLES: &[&str] =
    &["SUPER_USER", "MANAGE_USERS", "MANAGE_SEATS", "MANAGE_GROUPS", "MANAGE_SETTINGS", "RUN_REPORTS"];

/// 2020-01-01T00:00:00Z, the earliest seeded invitation.
const EPOCH_2020_MS: i64 = 1_577_836_800_000;
const FIVE_YEARS_MS: i64 = 5 * 365 * 86_400_000;

/// Builds the account described by `config`.
pub(crate) fn seed(config: &SimConfig) -> World {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let account_name = ACCOUNT_NAMES.choose(&mut rng).copied().unwrap_or("Acme Corporation");
    let mut world = World::empty(config.seed, config.knobs.long_keys, account_name.to_owned());
    let licenses = seed_licenses(&mut world, config.licenses);
    let groups = seed_groups(&mut world, &mut rng, config.groups);

    let mut seeder = UserSeeder { rng, licenses, groups, emails: Emails::default() };
    let principal = seeder.principal(&mut world);
    world.set_principal(principal);
    let tricky = if config.users >= 10 { TRICKY.len() } else { 0 };
    for &(email, first, last) in &TRICKY[..tricky] {
        seeder.emails.reserve(email);
        seeder.add(&mut world, email.to_owned(), first, last);
    }
    for _ in (1 + tricky)..config.users {
        let (first, first_ascii) = *FIRST.choose(&mut seeder.rng).unwrap_or(&FIRST[0]);
        let (last, last_ascii) = *LAST.choose(&mut seeder.rng).unwrap_or(&LAST[0]);
        let email = seeder.emails.make(&mut seeder.rng, first_ascii, last_ascii);
        seeder.add(&mut world, email, first, last);
    }
    world.recount_groups();
    size_seats(&mut world);
    world
}

fn seed_licenses(world: &mut World, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let (name, products) = LICENSES[i % LICENSES.len()];
            let round = i / LICENSES.len();
            let description = if round == 0 { name.to_owned() } else { format!("{name} #{}", round + 1) };
            let free = products.contains(&"G2MFREE");
            let key = world.new_key();
            world.push_license(License {
                key: key.clone(),
                description,
                license_type: if free { "FREE" } else { "PAID" }.into(),
                channel: if free { "ONLINE" } else { "DIRECT" }.into(),
                enabled: true,
                seats: 0,
                user_count: 0,
                products: products.iter().map(|p| (*p).to_owned()).collect(),
                user_keys: Vec::new(),
            });
            key
        })
        .collect()
}

/// Every third group is a root; the others nest under a random earlier group.
fn seed_groups(world: &mut World, rng: &mut StdRng, count: usize) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(count);
    for i in 0..count {
        let base = GROUPS[i % GROUPS.len()];
        let round = i / GROUPS.len();
        let name = if round == 0 { base.to_owned() } else { format!("{base} {}", round + 1) };
        let parent = (i % 3 != 0).then(|| keys[rng.random_range(0..i)].clone());
        let key = world.create_group(&name, parent.as_deref());
        keys.push(key.expect("seeded group names are unique and parents exist"));
    }
    keys
}

/// Seats: the second and third licenses are nearly full (1 and 2 free), the rest roomy.
fn size_seats(world: &mut World) {
    let counts: Vec<u32> = world.licenses_ref().iter().map(|l| l.user_count).collect();
    for (i, used) in counts.into_iter().enumerate() {
        let free = match i {
            1 | 2 => i as u32,
            _ => used / 5 + 5,
        };
        world.set_seats(i, used + free);
    }
}

struct UserSeeder {
    rng: StdRng,
    licenses: Vec<String>,
    groups: Vec<String>,
    emails: Emails,
}

impl UserSeeder {
    /// The account creator and OAuth principal: an active super user, never invited.
    fn principal(&mut self, world: &mut World) -> String {
        let email = "admin@example.com";
        self.emails.reserve(email);
        let mut user = User::new(world.new_key(), email.into(), "Robin".into(), "Castillo".into());
        user.admin_roles = vec!["SUPER_USER".into()];
        user.password_created = true;
        user.can_authenticate = true;
        let key = user.key.clone();
        let licenses: Vec<String> = self.licenses.iter().take(1).cloned().collect();
        world.insert_user(user, &licenses, self.groups.first().map(String::as_str));
        key
    }

    fn add(&mut self, world: &mut World, email: String, first: &str, last: &str) {
        let rng = &mut self.rng;
        let mut user = User::new(world.new_key(), email, first.into(), last.into());
        let (locale, zones) =
            if rng.random_bool(0.5) { LOCALES[0] } else { *LOCALES.choose(rng).unwrap_or(&LOCALES[0]) };
        user.locale = locale.into();
        user.time_zone = (*zones.choose(rng).unwrap_or(&zones[0])).into();
        user.invited_date = Some(EPOCH_2020_MS + rng.random_range(0..FIVE_YEARS_MS));

        let licenses = self.pick_licenses();
        let rng = &mut self.rng;
        // Status follows from licenses and password (quirk 12); INACTIVE is set explicitly.
        let roll: f64 = rng.random();
        (user.password_created, user.invite_count) = if licenses.is_empty() {
            (rng.random_bool(0.5), 1)
        } else if roll < 0.03 {
            user.status = UserStatus::Inactive;
            (true, 2)
        } else if roll < 0.23 {
            (false, rng.random_range(1..=3))
        } else {
            (true, 1)
        };
        user.can_authenticate = user.password_created;
        if rng.random_bool(0.03) {
            let n = rng.random_range(1..=2);
            user.admin_roles = SEEDED_ROLES.choose_multiple(rng, n).map(|r| (*r).to_owned()).collect();
        }
        // A few identities managed by an IdP.
        let managed = rng.random_bool(0.02);
        (user.name_locked, user.email_locked, user.identity_read_only) = (managed, managed, managed);
        let group = (!self.groups.is_empty() && rng.random_bool(0.85))
            .then(|| self.groups[rng.random_range(0..self.groups.len())].clone());
        world.insert_user(user, &licenses, group.as_deref());
    }

    /// 90% licensed, mostly with the first license; one in ten licensed users holds two.
    fn pick_licenses(&mut self) -> Vec<String> {
        let n = self.licenses.len();
        if n == 0 || self.rng.random_bool(0.1) {
            return Vec::new();
        }
        let first = if n == 1 || self.rng.random_bool(0.7) { 0 } else { self.rng.random_range(1..n) };
        let mut picked = vec![self.licenses[first].clone()];
        if n > 1 && self.rng.random_bool(0.1) {
            let second = (first + self.rng.random_range(1..n)) % n;
            picked.push(self.licenses[second].clone());
        }
        picked
    }
}

/// Unique email generation: a few common local-part patterns, numbered on collision.
#[derive(Default)]
struct Emails {
    used: HashSet<String>,
    next_suffix: HashMap<String, u32>,
}

impl Emails {
    fn reserve(&mut self, email: &str) {
        self.used.insert(email.to_owned());
    }

    fn make(&mut self, rng: &mut StdRng, first: &str, last: &str) -> String {
        let initial = &first[..1];
        let local = match rng.random_range(0..4) {
            0 | 1 => format!("{first}.{last}"),
            2 => format!("{initial}{last}"),
            _ => format!("{first}_{last}"),
        };
        let domain = match rng.random_range(0..20) {
            0..15 => "example.com",
            15..18 => "example.org",
            _ => "eu.example.net",
        };
        let base = format!("{local}@{domain}");
        if self.used.insert(base.clone()) {
            return base;
        }
        loop {
            let n = self.next_suffix.entry(base.clone()).or_insert(1);
            *n += 1;
            let email = format!("{local}{n}@{domain}");
            if self.used.insert(email.clone()) {
                return email;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_world() {
        let a = seed(&SimConfig::new(7));
        let b = seed(&SimConfig::new(7));
        assert_eq!(a.users(), b.users());
        assert_eq!(a.groups(), b.groups());
        assert_eq!(a.licenses(), b.licenses());
        assert_ne!(seed(&SimConfig::new(8)).users(), a.users());
    }

    #[test]
    fn seeded_world_is_consistent_and_varied() {
        let world = seed(&SimConfig::sized(3, 400, 8, 4));
        let users = world.users();
        assert_eq!(users.len(), 400);
        for email in ["alex+sales@example.com", "alexsales@example.com", "alex.lee@example.com", "alexxlee@example.com"]
        {
            assert!(world.user_by_email(email).is_some(), "{email}");
        }
        for status in [UserStatus::Active, UserStatus::Invited, UserStatus::Suspended, UserStatus::Inactive] {
            assert!(users.iter().any(|u| u.status == status), "{status:?}");
        }
        assert!(users.iter().any(|u| !u.admin_roles.is_empty() && u.key != world.principal_key()));
        for license in world.licenses() {
            assert!(license.seats > license.user_count);
            assert_eq!(license.user_count as usize, license.user_keys.len());
            for key in &license.user_keys {
                let user = world.user(key).unwrap();
                assert!(user.license_keys.contains(&license.key));
                assert!(license.products.iter().all(|p| user.products.contains(p)));
            }
        }
        assert!(world.licenses()[1].seats - world.licenses()[1].user_count == 1);
        let groups = world.groups();
        assert!(groups.iter().any(|g| g.key_path.len() > 1));
        for g in &groups {
            assert_eq!(g.key_path.last(), Some(&g.key));
            assert_eq!(g.name_path.last(), Some(&g.name));
            for key in &g.user_keys {
                assert_eq!(world.user(key).unwrap().group_key.as_ref(), Some(&g.key));
            }
        }
        let total: u64 = groups.iter().filter(|g| g.parent_key.is_none()).map(|g| g.total_member_count).sum();
        assert_eq!(total as usize, users.iter().filter(|u| u.group_key.is_some()).count());
    }

    #[test]
    fn tiny_worlds_still_have_the_principal() {
        let world = seed(&SimConfig::sized(1, 0, 0, 0));
        assert_eq!(world.users().len(), 1);
        assert_eq!(world.user(world.principal_key()).unwrap().status, UserStatus::Suspended);
    }
}
