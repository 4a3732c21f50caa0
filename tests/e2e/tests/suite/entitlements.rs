//! Entitlement catalogues: groups, licenses and admin roles, checked against the simulator.

use std::collections::BTreeMap;

use gtm_e2e::{Harness, unthrottled};

#[test]
fn groups_come_with_hierarchy_and_member_counts() {
    let mut config = unthrottled(21, 200);
    config.groups = 12;
    let h = Harness::new(config);
    let records = h.run(&["import", "entitlements", "--kind", "groups", "--page-size", "5"]).success().jsonl();
    let groups = h.sim.with_world(|w| w.groups());
    assert_eq!(records.len(), groups.len());
    for (record, group) in records.iter().zip(&groups) {
        assert_eq!(record["kind"], "group");
        assert_eq!(record["key"], group.key.as_str());
        assert_eq!(record["name"], group.name.as_str());
        assert_eq!(record["member-count"], group.member_count);
        assert_eq!(record["total-member-count"], group.total_member_count);
        assert_eq!(record["parent-key"], serde_json::json!(group.parent_key));
    }
    assert!(groups.iter().any(|g| g.parent_key.is_some()), "the seed nests groups");
}

#[test]
fn licenses_report_seats_and_products() {
    let h = Harness::new(unthrottled(22, 120));
    let records = h.run(&["import", "entitlements", "--kind", "licenses"]).success().jsonl();
    let licenses = h.sim.with_world(|w| w.licenses());
    assert_eq!(records.len(), licenses.len());
    for license in &licenses {
        let record = records.iter().find(|r| r["key"] == license.key.as_str()).unwrap();
        assert_eq!(record["name"], license.description.as_str());
        assert_eq!(record["seats"], license.seats);
        assert_eq!(record["used"], license.user_count);
        assert_eq!(record["products"], serde_json::json!(license.products));
    }
}

#[test]
fn admin_roles_list_documented_roles_with_holders_counted() {
    let h = Harness::new(unthrottled(23, 1500));
    h.sim.with_world(|w| {
        let key = w.users()[3].key.clone();
        w.update_user(&key, |u| u.admin_roles.push("CUSTOM_AUDITOR".into()));
    });
    let out = h.run(&["-v", "import", "entitlements", "--kind", "roles"]).success();
    let records = out.jsonl();
    let mut holders: BTreeMap<String, u64> = BTreeMap::new();
    for user in h.sim.with_world(|w| w.users()) {
        for role in user.admin_roles {
            *holders.entry(role).or_default() += 1;
        }
    }
    for role in gotosim::World::admin_roles_catalog() {
        let record = records.iter().find(|r| r["key"] == *role).unwrap_or_else(|| panic!("{role} missing"));
        assert_eq!(record["documented"], true);
        assert_eq!(record["member-count"], holders.get(*role).copied().unwrap_or(0), "{role}");
    }
    let custom = records.iter().find(|r| r["key"] == "CUSTOM_AUDITOR").unwrap();
    assert_eq!((custom["documented"].as_bool(), custom["member-count"].as_u64()), (Some(false), Some(1)));
    // 1500 users are counted in pages of 1000.
    assert_eq!(h.sim.stats().by_route.get("GET /accounts/{}/users").copied(), Some(2), "{}", out.stderr);
}
