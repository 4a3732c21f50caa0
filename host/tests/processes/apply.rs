//! A `gtm-connector apply` process killed while a write is held at GoTo, then the same file run
//! again: it converges, nothing is duplicated, and the profile's state is intact.

use std::process::Output;

use gotosim::{Fault, Matcher};
use http::Method;
use serde_json::Value;

use crate::support::{Home, kill, unthrottled};

const EMAILS: [&str; 3] = ["ann@example.com", "bob@example.com", "cat@example.com"];

/// Creates, a grant to an account created earlier in the file, and a move into a group.
fn operations(group: &str) -> String {
    let create = |email: &str| format!(r#"{{"op":"create","email":"{email}","first-name":"A","last-name":"B"}}"#);
    [
        create(EMAILS[0]),
        create(EMAILS[1]),
        r#"{"op":"grant","account":"ann@example.com","role":"MANAGE_USERS"}"#.to_owned(),
        format!(r#"{{"op":"grant","account":"ann@example.com","group":"{group}"}}"#),
        create(EMAILS[2]),
    ]
    .join("\n")
}

fn statuses(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["status"].as_str().unwrap().to_owned())
        .collect()
}

/// Kills `apply` while the request `held` matches (after `skip` matching ones) is held, then
/// runs the file again and checks that it converged.
fn killed_at(seed: u64, held: Matcher, skip: u32) {
    let home = Home::new(unthrottled(seed, 20));
    // The profile has a reconciliation state, as it would beside a nightly import.
    home.run(&["import", "accounts"]);
    let group = home.sim.with_world(|w| w.groups()[0].key.clone());
    let file = home.path().join("ops.jsonl");
    std::fs::write(&file, operations(&group)).unwrap();
    let apply = ["apply", file.to_str().unwrap()];

    let gate = home.hold(held, skip, Fault::Hold);
    home.stopped_at(&apply, &gate, kill);
    // The held write may now reach GoTo after all: the rerun must cope either way.
    gate.open();

    let again = home.run(&apply);
    let done = ["created", "exists", "changed", "unchanged"];
    assert!(statuses(&again).iter().all(|s| done.contains(&s.as_str())), "{:?}", statuses(&again));
    let writes = home.sim.stats().admin_writes;
    let third = home.run(&apply);
    assert!(statuses(&third).iter().all(|s| s == "exists" || s == "unchanged"), "{:?}", statuses(&third));
    assert_eq!(home.sim.stats().admin_writes, writes, "a converged file writes nothing");

    let users = home.sim.with_world(|w| w.users());
    for email in EMAILS {
        assert_eq!(users.iter().filter(|u| u.email == email).count(), 1, "{email} exactly once");
    }
    let ann = home.sim.with_world(|w| w.user_by_email(EMAILS[0])).unwrap();
    assert_eq!((ann.admin_roles, ann.group_key), (vec!["MANAGE_USERS".to_owned()], Some(group)));

    home.assert_state_intact();
    home.run(&["import", "accounts"]);
}

#[test]
fn apply_killed_at_the_create_of_its_second_line_converges_when_run_again() {
    let create = Matcher {
        method: Some(Method::POST),
        path_contains: Some("/users".into()),
        query_contains: Some("allOrNothing".into()),
    };
    killed_at(511, create, 1);
}

#[test]
fn apply_killed_at_a_grant_converges_when_run_again() {
    let grant = Matcher { method: Some(Method::PUT), path_contains: Some("/users/".into()), ..Default::default() };
    killed_at(512, grant, 0);
}
