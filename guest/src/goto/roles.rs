//! GoTo's documented admin roles (reference §4.4) with their meanings.

pub const DOCUMENTED: &[(&str, &str)] = &[
    ("SUPER_USER", "Creates admins and managers, holds every other admin role, changes account settings"),
    ("MANAGE_USERS", "Creates, deletes and modifies users"),
    ("MANAGE_SEATS", "Distributes licenses to existing users"),
    ("MANAGE_SETTINGS", "Changes product settings for users"),
    ("MANAGE_GROUPS", "Creates, deletes and modifies groups"),
    ("RUN_REPORTS", "Runs reports"),
    ("MANAGE_ACCOUNT", "GoTo Connect administration (configure the PBX)"),
    ("ADD_USERS", "Adds users to the account"),
];

pub fn description(role: &str) -> Option<&'static str> {
    DOCUMENTED.iter().find(|(name, _)| *name == role).map(|(_, d)| *d)
}
