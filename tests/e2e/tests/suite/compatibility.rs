//! The write and filter shapes no public source confirms (reference §11), switchable per
//! profile: each value works against the simulator (or, where only the request shows the
//! difference, is seen on the wire by the hostile server), and a bad value is refused by name.

use gotosim::NewUser;
use gtm_e2e::hostile::{Hostile, Reply};
use gtm_e2e::{Harness, unthrottled};
use serde_json::{Value, json};

fn group_keys(h: &Harness) -> Vec<String> {
    h.sim.with_world(|w| w.groups().into_iter().map(|g| g.key).collect())
}

fn create(h: &Harness, email: &str, extra: &[&str]) -> String {
    let mut args = vec!["create", "--email", email, "--first-name", "Jane", "--last-name", "Doe"];
    args.extend_from_slice(extra);
    h.run(&args).success().json()["account-key"].as_str().unwrap().to_owned()
}

#[test]
fn a_group_move_is_one_put_or_leave_then_join_as_the_profile_says() {
    for (setting, methods) in [("leave-then-join", vec!["DELETE", "PUT"]), ("put", vec!["PUT"])] {
        let h = Harness::new(unthrottled(350, 20));
        h.append_to_profile(&format!("group-move = \"{setting}\""));
        let groups = group_keys(&h);
        let key = create(&h, "jane.doe@example.com", &["--group", &groups[0]]);
        let moved = h.run(&["grant", &key, "--group", &groups[1]]).success().json();
        let sent: Vec<&str> =
            moved["calls"].as_array().unwrap().iter().map(|c| c["method"].as_str().unwrap()).collect();
        assert_eq!(sent, methods, "{setting}: {moved}");
        assert_eq!(moved["replaced"], json!({"kind": "group", "key": groups[0]}), "{setting}");
        assert_eq!(h.sim.with_world(|w| w.user(&key)).unwrap().group_key.as_deref(), Some(groups[1].as_str()));
        // A user in no group joins with the one PUT either way.
        let other = create(&h, "o@example.com", &[]);
        let joined = h.run(&["grant", &other, "--group", &groups[1]]).success().json();
        assert_eq!(joined["calls"].as_array().unwrap().len(), 1, "{setting}: {joined}");
    }
}

#[test]
fn empty_license_and_role_lists_are_sent_or_omitted_in_add_users_as_the_profile_says() {
    for (setting, present) in [("send", true), ("omit", false)] {
        let server = Hostile::goto(|req| match req.method.as_str() {
            "GET" => Reply::ok(json!({"results": [], "total": 0})),
            _ => Reply::ok(json!([{"key": "7000000000000000001", "email": "jane.doe@example.com"}])),
        });
        let h = Harness::against(&server);
        h.append_to_profile(&format!("empty-lists = \"{setting}\""));
        create(&h, "jane.doe@example.com", &[]);
        let posts: Vec<Value> = server
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && !r.is_token())
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect();
        assert_eq!(posts.len(), 1, "{setting}");
        for field in ["licenseKeys", "adminRoles"] {
            assert_eq!(posts[0].get(field).is_some(), present, "{setting}: {}", posts[0]);
        }

        // The simulator creates the account from either shape.
        let h = Harness::new(unthrottled(351, 10));
        h.append_to_profile(&format!("empty-lists = \"{setting}\""));
        let key = create(&h, "jane.doe@example.com", &["--role", "RUN_REPORTS"]);
        let user = h.sim.with_world(|w| w.user(&key)).unwrap();
        assert_eq!((user.admin_roles, user.license_keys.len()), (vec!["RUN_REPORTS".to_owned()], 0), "{setting}");
    }
}

#[test]
fn filter_values_are_escaped_or_sent_as_regexes_as_the_profile_says() {
    for (setting, matches) in [("escaped", 1), ("plain", 2)] {
        let h = Harness::new(unthrottled(352, 10));
        h.sim.with_world(|w| {
            w.add_user(NewUser::new("jane.doe@example.com", "Jane", "Doe"));
            w.add_user(NewUser::new("janeXdoe@example.com", "Jane", "Xdoe"));
        });
        h.append_to_profile(&format!("filter-escaping = \"{setting}\""));
        let found = h.run(&["import", "accounts", "--filter", "email=jane.doe@example.com"]).success().jsonl();
        // Unescaped, the '.' is a regex wildcard and matches janeXdoe too.
        assert_eq!(found.len(), matches, "{setting}: {found:?}");
    }
}

#[test]
fn a_bad_compatibility_value_is_refused_naming_the_setting_before_anything_is_sent() {
    for key in ["group-move", "empty-lists", "filter-escaping", "license-assignment"] {
        let h = Harness::new(unthrottled(353, 5));
        h.append_to_profile(&format!("{key} = \"sometimes\""));
        h.run(&["test"]).failure(2, &[key, "sometimes"]);
        assert_eq!(h.sim.stats().admin_reads + h.writes(), 0, "{key}");
    }
}
