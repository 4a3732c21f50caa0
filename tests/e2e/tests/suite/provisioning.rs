//! Provisioning: every write operation through the component, its idempotent retries and its
//! conflicts, checked against the simulator's state and write counter.

use std::time::Duration;

use gotosim::{Fault, FaultRule, Gate, License, Matcher, NewUser};
use gtm_e2e::{Harness, OpenOnDrop, run_cli, unthrottled};
use serde_json::Value;

/// A license with at least `free` free seats.
fn license_with_room(h: &Harness, free: u32) -> License {
    h.sim.with_world(|w| w.licenses()).into_iter().find(|l| l.seats >= l.user_count + free).expect("a roomy license")
}

/// Fills every free seat of `license` with users added behind the API's back.
fn fill(h: &Harness, license: &License) {
    h.sim.with_world(|w| {
        let free = license.seats - w.licenses().iter().find(|l| l.key == license.key).unwrap().user_count;
        for n in 0..free {
            let mut user = NewUser::new(format!("filler{n}@example.com"), "Fill", "Er");
            user.license_keys = vec![license.key.clone()];
            w.add_user(user);
        }
    });
}

fn group_keys(h: &Harness) -> Vec<String> {
    h.sim.with_world(|w| w.groups().into_iter().map(|g| g.key).collect())
}

fn create_jane(h: &Harness, extra: &[&str]) -> String {
    let mut args = vec!["create", "--email", "jane.doe@example.com", "--first-name", "Jane", "--last-name", "Doe"];
    args.extend_from_slice(extra);
    let result = h.run(&args).success().json();
    assert_eq!(result["status"], "created", "{result}");
    result["account-key"].as_str().unwrap().to_owned()
}

#[test]
fn create_applies_license_role_and_group_at_creation() {
    let h = Harness::new(unthrottled(301, 40));
    let license = license_with_room(&h, 1);
    let group = group_keys(&h)[0].clone();
    let before = h.sim.with_world(|w| w.users().len());
    let key = create_jane(
        &h,
        &[
            "--locale",
            "de_DE",
            "--time-zone",
            "Europe/Berlin",
            "--license",
            &license.key,
            "--group",
            &group,
            "--role",
            "RUN_REPORTS",
        ],
    );
    let user = h.sim.with_world(|w| w.user(&key)).expect("created");
    assert_eq!(
        (user.first_name.as_str(), user.locale.as_str(), user.time_zone.as_str()),
        ("Jane", "de_DE", "Europe/Berlin")
    );
    assert_eq!(user.license_keys, vec![license.key.clone()]);
    assert_eq!(user.group_key.as_deref(), Some(group.as_str()));
    assert_eq!(user.admin_roles, vec!["RUN_REPORTS".to_owned()]);
    assert_eq!(h.sim.with_world(|w| w.users().len()), before + 1);
    assert_eq!(h.sim.stats().by_route.get("POST /accounts/{}/users").copied(), Some(1));
}

#[test]
fn creating_twice_links_to_the_existing_account_and_grants_what_is_missing() {
    let h = Harness::new(unthrottled(302, 30));
    let license = license_with_room(&h, 1);
    let key = create_jane(&h, &[]);
    let again = h
        .run(&[
            "create",
            "--email",
            "Jane.Doe@example.com",
            "--first-name",
            "Jane",
            "--last-name",
            "Doe",
            "--license",
            &license.key,
        ])
        .success()
        .json();
    assert_eq!((again["status"].as_str(), again["account-key"].as_str()), (Some("exists"), Some(key.as_str())));
    assert_eq!(h.sim.with_world(|w| w.user(&key)).unwrap().license_keys, vec![license.key.clone()]);
    let users = h.sim.with_world(|w| w.users());
    assert_eq!(users.iter().filter(|u| u.email.eq_ignore_ascii_case("jane.doe@example.com")).count(), 1);
}

#[test]
fn a_create_of_an_email_goto_does_not_list_yet_finds_the_account_once_it_shows() {
    let mut config = unthrottled(313, 20);
    // GoTo's filtered lists lag behind a create (reference §6.4): here they miss new accounts
    // until the test says otherwise, so the lookup before the second create finds nothing and
    // Add Users answers without a key.
    config.knobs.filter_visibility_delay_ms = 600_000;
    let h = Harness::new(config);
    let key = create_jane(&h, &[]);
    let gate = Gate::default();
    let _opened = OpenOnDrop(vec![gate.clone()]);
    let add_users = Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some("allOrNothing".into()),
        ..Default::default()
    };
    h.sim.add_fault(FaultRule { matcher: add_users, skip: 0, times: 1, fault: Fault::Hold(gate.clone()) });
    let env = h.env();
    let again = std::thread::spawn(move || {
        let args = ["create", "--email", "jane.doe@example.com", "--first-name", "Jane", "--last-name", "Doe"];
        run_cli(&args, "", env)
    });
    assert!(gate.wait_for_arrival(Duration::from_secs(120)), "the second create never reached GoTo");
    // The lists catch up while Add Users is answering.
    h.sim.set_knobs(|k| k.filter_visibility_delay_ms = 0);
    gate.open();
    let again = again.join().unwrap().success().json();
    assert_eq!((again["status"].as_str(), again["account-key"].as_str()), (Some("exists"), Some(key.as_str())));
    assert_eq!(h.sim.stats().by_route.get("POST /accounts/{}/users").copied(), Some(2));
    let users = h.sim.with_world(|w| w.users());
    assert_eq!(users.iter().filter(|u| u.email == "jane.doe@example.com").count(), 1);
}

#[test]
fn a_create_retried_after_a_server_error_creates_once() {
    let h = Harness::new(unthrottled(303, 20));
    let matcher = Matcher {
        path_contains: Some("/users".into()),
        query_contains: Some("allOrNothing".into()),
        ..Default::default()
    };
    h.sim.add_fault(FaultRule { matcher, skip: 0, times: 1, fault: Fault::Status(503) });
    let key = create_jane(&h, &[]);
    assert_eq!(h.sim.stats().faults_injected, 1);
    assert_eq!(h.sim.with_world(|w| w.user_by_email("jane.doe@example.com")).unwrap().key, key);
}

#[test]
fn update_sends_only_what_changed_and_never_the_key() {
    let h = Harness::new(unthrottled(304, 20));
    let key = create_jane(&h, &["--locale", "en_US"]);
    let result =
        h.run(&["update", &key, "--first-name", "Jane", "--last-name", "Smith", "--locale", "en_US"]).success().json();
    assert_eq!(result["status"], "changed");
    assert_eq!(result["calls"][0]["summary"], "set last-name of jane.doe@example.com");
    let user = h.sim.with_world(|w| w.user(&key)).unwrap();
    assert_eq!((user.first_name.as_str(), user.last_name.as_str()), ("Jane", "Smith"));

    let writes = h.writes();
    let same = h.run(&["update", "jane.doe@example.com", "--last-name", "Smith"]).success().json();
    assert_eq!(same["status"], "unchanged");
    assert_eq!(h.writes(), writes, "nothing to change, nothing sent");
}

#[test]
fn an_email_clash_on_update_is_a_conflict() {
    let h = Harness::new(unthrottled(305, 20));
    let key = create_jane(&h, &[]);
    let taken = h.sim.with_world(|w| w.users().into_iter().find(|u| u.key != key).unwrap().email);
    let out = h.run(&["update", &key, "--email", &taken]).failure(1, &["conflict (email)", "another GoTo account"]);
    assert_eq!(out.json()["error"]["kind"], "conflict");
    assert_eq!(h.sim.with_world(|w| w.user(&key)).unwrap().email, "jane.doe@example.com");
}

#[test]
fn delete_removes_licenses_by_default_and_hard_deletes_on_request_and_twice_is_fine() {
    let h = Harness::new(unthrottled(306, 30));
    let license = license_with_room(&h, 1);
    let key = create_jane(&h, &["--license", &license.key]);

    let result = h.run(&["delete", &key]).success().json();
    assert_eq!(result["status"], "changed");
    assert_eq!(result["seat-impact"][0]["used-after"], result["seat-impact"][0]["used-before"].as_u64().unwrap() - 1);
    let user = h.sim.with_world(|w| w.user(&key)).expect("the account and its history stay");
    assert!(user.license_keys.is_empty());
    assert_eq!(user.status.as_str(), "SUSPENDED");
    assert_eq!(h.run(&["delete", &key]).success().json()["status"], "unchanged");

    assert_eq!(h.run(&["delete", &key, "--mode", "hard-delete", "--yes"]).success().json()["status"], "changed");
    assert!(h.sim.with_world(|w| w.user(&key)).is_none());
    let writes = h.writes();
    for mode in ["hard-delete", "deprovision"] {
        assert_eq!(h.run(&["delete", &key, "--mode", mode, "--yes"]).success().json()["status"], "unchanged");
    }
    assert_eq!(h.run(&["delete", "jane.doe@example.com"]).success().json()["status"], "unchanged");
    assert_eq!(h.writes(), writes);
}

/// Jane with two admin roles, a group and a license: everything a leaver must lose.
fn create_privileged_jane(h: &Harness) -> (String, License, String) {
    let license = license_with_room(h, 1);
    let group = group_keys(h)[0].clone();
    let key = create_jane(
        h,
        &["--license", &license.key, "--group", &group, "--role", "MANAGE_USERS", "--role", "RUN_REPORTS"],
    );
    (key, license, group)
}

fn kept(result: &Value) -> Vec<(String, String)> {
    let kept = result["kept"].as_array().unwrap_or_else(|| panic!("no kept list: {result}"));
    kept.iter().map(|k| (k["kind"].as_str().unwrap().to_owned(), k["key"].as_str().unwrap().to_owned())).collect()
}

#[test]
fn a_leaver_loses_every_admin_role_the_group_and_every_license_and_keeps_the_account() {
    let h = Harness::new(unthrottled(314, 30));
    let (key, license, _) = create_privileged_jane(&h);

    let writes = h.writes();
    let plan = h.run(&["delete", &key, "--dry-run"]).success().json();
    let calls: Vec<(&str, &str)> = plan["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["method"].as_str().unwrap(), c["summary"].as_str().unwrap()))
        .collect();
    assert_eq!(
        calls,
        [
            ("PUT", "revoke every admin role (MANAGE_USERS, RUN_REPORTS) from jane.doe@example.com"),
            ("DELETE", calls[1].1),
            ("PUT", "remove every license from jane.doe@example.com"),
        ],
        "{plan}"
    );
    assert!(calls[1].1.starts_with("remove jane.doe@example.com from group "), "{plan}");
    assert_eq!(plan["seat-impact"][0]["license-key"], license.key.as_str());
    assert!(kept(&plan).is_empty());
    assert_eq!(h.writes(), writes, "a dry run sends nothing");

    let result = h.run(&["delete", &key]).success().json();
    assert_eq!((result["status"].as_str(), result["calls"].as_array().unwrap().len()), (Some("changed"), 3));
    assert!(kept(&result).is_empty());
    let user = h.sim.with_world(|w| w.user(&key)).expect("the account and its history stay");
    assert!(user.admin_roles.is_empty(), "a leaver keeps no admin right: {:?}", user.admin_roles);
    assert_eq!(user.group_key, None);
    assert!(user.license_keys.is_empty());
    assert_eq!(user.status.as_str(), "SUSPENDED");

    let writes = h.writes();
    assert_eq!(h.run(&["delete", &key]).success().json()["status"], "unchanged");
    assert_eq!(h.writes(), writes, "a deprovisioned account has nothing left to remove");
}

#[test]
fn keep_options_narrow_a_deprovision_and_the_result_names_what_was_kept() {
    let h = Harness::new(unthrottled(315, 30));
    let (key, _, group) = create_privileged_jane(&h);

    let result = h.run(&["delete", &key, "--keep-roles"]).success().json();
    let roles =
        [("admin-role".to_owned(), "MANAGE_USERS".to_owned()), ("admin-role".to_owned(), "RUN_REPORTS".to_owned())];
    assert_eq!(kept(&result), roles);
    let user = h.sim.with_world(|w| w.user(&key)).unwrap();
    assert_eq!(user.admin_roles, ["MANAGE_USERS", "RUN_REPORTS"]);
    assert_eq!((user.group_key, user.license_keys.len()), (None, 0));

    // The same through apply: the group is kept and named, the roles go this time.
    h.run(&["grant", &key, "--group", &group]).success();
    let line = format!(r#"{{"op":"delete","account":"{key}","keep-group":true}}"#);
    let applied = h.run_with_stdin(&["apply", "-"], &line).success().jsonl();
    assert_eq!(kept(&applied[0]), [("group".to_owned(), group.clone())]);
    let user = h.sim.with_world(|w| w.user(&key)).unwrap();
    assert_eq!((user.group_key.as_deref(), user.admin_roles.len()), (Some(group.as_str()), 0));

    // Keeping access means nothing to a hard delete: refused, not ignored.
    let writes = h.writes();
    h.run(&["delete", &key, "--mode", "hard-delete", "--keep-roles"]).failure(2, &["keep-roles and keep-group"]);
    h.run_with_stdin(&["apply", "-"], r#"{"op":"delete","account":"1","mode":"remove-licenses"}"#)
        .failure(1, &["1 of 1 operations failed"]);
    assert_eq!(h.writes(), writes);
    assert!(h.sim.with_world(|w| w.user(&key)).is_some());
}

#[test]
fn a_leaver_whose_license_goto_fails_to_show_still_loses_every_access() {
    let h = Harness::new(unthrottled(316, 30));
    let (key, _, _) = create_privileged_jane(&h);
    // Reading the license catalogue for the seat report fails past every retry; the seat count
    // is a report, so the leaver's access goes all the same.
    let matcher = Matcher { path_contains: Some("/licenses".to_owned()), ..Default::default() };
    h.sim.add_fault(FaultRule { matcher, skip: 0, times: u32::MAX, fault: Fault::Status(503) });

    let result = h.run(&["delete", &key]).success().json();
    assert_eq!((result["status"].as_str(), result["calls"].as_array().unwrap().len()), (Some("changed"), 3));
    assert_eq!(result["seat-impact"], serde_json::json!([]), "{result}");
    let user = h.sim.with_world(|w| w.user(&key)).unwrap();
    assert!(user.admin_roles.is_empty(), "a leaver keeps no admin right: {:?}", user.admin_roles);
    assert_eq!((user.group_key, user.license_keys.len()), (None, 0));
}

#[test]
fn licenses_are_granted_and_revoked_idempotently_in_both_endpoint_shapes() {
    for assignment in ["user-update", "license-users"] {
        let h = Harness::new(unthrottled(307, 30));
        h.append_to_profile(&format!("license-assignment = \"{assignment}\""));
        let license = license_with_room(&h, 1);
        let key = create_jane(&h, &[]);
        let granted = h.run(&["grant", &key, "--license", &license.key]).success().json();
        assert_eq!(granted["status"], "changed", "{assignment}");
        let method = granted["calls"][0]["method"].as_str().unwrap();
        assert_eq!(method, if assignment == "user-update" { "PUT" } else { "POST" });
        assert_eq!(h.sim.with_world(|w| w.user(&key)).unwrap().license_keys, vec![license.key.clone()]);
        let writes = h.writes();
        assert_eq!(h.run(&["grant", &key, "--license", &license.key]).success().json()["status"], "unchanged");
        assert_eq!(h.writes(), writes, "{assignment}: granting what is held sends nothing");

        assert_eq!(h.run(&["revoke", &key, "--license", &license.key]).success().json()["status"], "changed");
        assert!(h.sim.with_world(|w| w.user(&key)).unwrap().license_keys.is_empty(), "{assignment}");
        let writes = h.writes();
        assert_eq!(h.run(&["revoke", &key, "--license", &license.key]).success().json()["status"], "unchanged");
        assert_eq!(h.writes(), writes, "{assignment}: revoking what is absent sends nothing");
    }
}

#[test]
fn granting_a_group_moves_the_user_and_names_the_group_left() {
    let h = Harness::new(unthrottled(308, 30));
    let groups = group_keys(&h);
    let key = create_jane(&h, &["--group", &groups[0]]);
    let moved = h.run(&["grant", &key, "--group", &groups[1]]).success().json();
    assert_eq!(moved["replaced"], serde_json::json!({"kind": "group", "key": groups[0]}));
    assert_eq!(h.sim.with_world(|w| w.user(&key)).unwrap().group_key.as_deref(), Some(groups[1].as_str()));

    // Revoking a group the user is not in leaves the user's real group alone.
    assert_eq!(h.run(&["revoke", &key, "--group", &groups[0]]).success().json()["status"], "unchanged");
    assert_eq!(h.sim.with_world(|w| w.user(&key)).unwrap().group_key.as_deref(), Some(groups[1].as_str()));
    assert_eq!(h.run(&["revoke", &key, "--group", &groups[1]]).success().json()["status"], "changed");
    assert_eq!(h.sim.with_world(|w| w.user(&key)).unwrap().group_key, None);
}

/// No public source shows `GET …/licenses/{key}` or `GET …/groups/{key}` (reference §11): with
/// them answering 404, creates and grants still check licenses and groups, against the
/// listings, each read once per call; an unknown key is still refused by name.
#[test]
fn licenses_and_groups_are_checked_against_their_listings_without_single_object_reads() {
    let h = Harness::new(unthrottled(330, 30));
    h.sim.set_knobs(|k| k.single_object_reads = false);
    let license = license_with_room(&h, 2);
    let groups = group_keys(&h);
    let key = create_jane(&h, &["--license", &license.key, "--group", &groups[0]]);
    let other = h.run(&["create", "--email", "o@example.com", "--first-name", "O", "--last-name", "P"]).success();
    let other = other.json()["account-key"].as_str().unwrap().to_owned();
    let granted = h.run(&["grant", &other, "--license", &license.key]).success().json();
    assert_eq!(granted["seat-impact"][0]["license-key"], license.key.as_str(), "{granted}");
    h.sim.reset_stats();
    assert_eq!(h.run(&["grant", &key, "--group", &groups[1]]).success().json()["status"], "changed");
    let stats = h.sim.stats();
    assert_eq!(stats.by_route.get("GET /accounts/{}/groups").copied(), Some(1), "{:?}", stats.by_route);
    assert_eq!(stats.by_route.get("GET /accounts/{}/groups/{}"), None, "{:?}", stats.by_route);
    let user = h.sim.with_world(|w| w.user(&key)).unwrap();
    assert_eq!((user.license_keys, user.group_key), (vec![license.key.clone()], Some(groups[1].clone())));
    assert_eq!(h.sim.with_world(|w| w.user(&other)).unwrap().license_keys, vec![license.key.clone()]);

    let writes = h.writes();
    h.run(&["grant", &key, "--license", "99999"]).failure(2, &["entitlement.key", "license 99999 does not exist"]);
    h.run(&["grant", &key, "--group", "99999"]).failure(2, &["entitlement.key", "group 99999 does not exist"]);
    assert_eq!(h.writes(), writes, "an unknown key is refused before anything is written");
}

#[test]
fn admin_roles_are_added_to_and_removed_from_the_list() {
    let h = Harness::new(unthrottled(309, 20));
    let key = create_jane(&h, &["--role", "RUN_REPORTS"]);
    h.run(&["grant", &key, "--role", "MANAGE_USERS"]).success();
    assert_eq!(h.sim.with_world(|w| w.user(&key)).unwrap().admin_roles, vec!["RUN_REPORTS", "MANAGE_USERS"]);
    assert_eq!(h.run(&["grant", &key, "--role", "MANAGE_USERS"]).success().json()["status"], "unchanged");
    h.run(&["revoke", &key, "--role", "RUN_REPORTS"]).success();
    assert_eq!(h.sim.with_world(|w| w.user(&key)).unwrap().admin_roles, vec!["MANAGE_USERS"]);
    assert_eq!(h.run(&["revoke", &key, "--role", "RUN_REPORTS"]).success().json()["status"], "unchanged");
}

#[test]
fn a_full_license_is_refused_before_any_write() {
    let h = Harness::new(unthrottled(310, 30));
    let license = license_with_room(&h, 0);
    fill(&h, &license);
    let key = create_jane(&h, &[]);
    let writes = h.writes();
    h.run(&["grant", &key, "--license", &license.key]).failure(2, &["has no free seat", &license.key]);
    h.run(&["create", "--email", "b@example.com", "--first-name", "B", "--last-name", "C", "--license", &license.key])
        .failure(2, &["has no free seat"]);
    assert_eq!(h.writes(), writes);
    assert!(h.sim.with_world(|w| w.user_by_email("b@example.com")).is_none());
}

#[test]
fn every_validation_rule_names_its_field_and_sends_nothing() {
    let h = Harness::new(unthrottled(311, 20));
    let long_email = format!("{}@example.com", "a".repeat(120));
    let long_name = "n".repeat(33);
    let base = |email: &str, first: &str, last: &str| -> Vec<String> {
        ["create", "--email", email, "--first-name", first, "--last-name", last].map(str::to_owned).to_vec()
    };
    let with = |mut args: Vec<String>, extra: &[&str]| {
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (base("not-an-email", "A", "B"), "email", "email address"),
        (base(&long_email, "A", "B"), "email", "at most 128"),
        (base("a@example.com", &long_name, "B"), "first-name", "at most 32"),
        (base("a@example.com", "A", &long_name), "last-name", "at most 32"),
        (
            vec!["create".into(), "--email".into(), "a@example.com".into(), "--first-name".into(), "A".into()],
            "last-name",
            "required",
        ),
        (with(base("a@example.com", "A", "B"), &["--locale", "english"]), "locale", "GoTo locale"),
        (with(base("a@example.com", "A", "B"), &["--time-zone", "Mars/Olympus"]), "time-zone", "IANA time zone"),
        (
            with(base("a@example.com", "A", "B"), &["--license", "12345"]),
            "entitlement.key",
            "license 12345 does not exist",
        ),
        (with(base("a@example.com", "A", "B"), &["--group", "12345"]), "entitlement.key", "group 12345 does not exist"),
        (with(base("a@example.com", "A", "B"), &["--role", "GOD_MODE"]), "entitlement.key", "not a GoTo admin role"),
    ];
    for (args, field, rule) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = h.run(&args).failure(2, &[rule]);
        let error = &out.json()["error"];
        assert_eq!((error["kind"].as_str(), error["field"].as_str()), (Some("invalid-input"), Some(field)), "{args:?}");
    }
    let key = h.user_keys()[1].clone();
    h.run(&["update", &key, "--email", "two@@example.com"]).failure(2, &["invalid input (email)"]);
    h.run(&["update", &key]).failure(2, &["nothing to change"]);
    h.run(&["grant", "not-a-key", "--role", "RUN_REPORTS"]).failure(2, &["GoTo key (digits) or an email"]);
    h.run(&["grant", &key, "--license", "12a"]).failure(2, &["entitlement.key"]);
    h.run(&["grant", "999999", "--role", "RUN_REPORTS"]).failure(1, &["not found (account-key)"]);
    assert_eq!(h.writes(), 0, "{:?}", h.sim.stats());
}

#[test]
fn dry_runs_plan_every_operation_without_writing() {
    let h = Harness::new(unthrottled(312, 30));
    let license = license_with_room(&h, 1);
    let groups = group_keys(&h);
    let target = h
        .sim
        .with_world(|w| w.users().into_iter().find(|u| u.group_key.is_some() && !u.license_keys.is_empty()).unwrap());
    let plan = h
        .run(&[
            "create",
            "--email",
            "new@example.com",
            "--first-name",
            "N",
            "--last-name",
            "U",
            "--license",
            &license.key,
            "--dry-run",
        ])
        .success()
        .json();
    assert_eq!((plan["status"].as_str(), plan["dry-run"].as_bool()), (Some("planned"), Some(true)));
    assert_eq!(plan["calls"][0]["method"], "POST");
    assert_eq!(plan["seat-impact"][0]["used-after"].as_u64(), Some(u64::from(license.user_count) + 1));
    let other_group = groups.iter().find(|g| Some(*g) != target.group_key.as_ref()).unwrap();
    let planned: Vec<Value> = [
        vec!["update", &target.key, "--last-name", "Planned"],
        vec!["grant", &target.key, "--group", other_group],
        vec!["grant", &target.key, "--role", "MANAGE_GROUPS"],
        vec!["revoke", &target.key, "--license", &target.license_keys[0]],
        vec!["delete", &target.key, "--mode", "hard-delete"],
    ]
    .into_iter()
    .map(|mut args| {
        args.push("--dry-run");
        h.run(&args).success().json()
    })
    .collect();
    for plan in &planned {
        assert_eq!(plan["status"], "planned", "{plan}");
        assert!(!plan["calls"].as_array().unwrap().is_empty(), "{plan}");
    }
    assert_eq!(planned[1]["replaced"]["key"], target.group_key.clone().unwrap().as_str());
    assert_eq!(h.writes(), 0);
    assert_eq!(h.sim.with_world(|w| w.user(&target.key)).unwrap().last_name, target.last_name);
}
