//! Writes against a server that misbehaves on purpose (`gtm_e2e::hostile`): what GoTo sends
//! back decides where later writes go, so a lying answer must stop the write, not redirect it.

use gtm_e2e::Harness;
use gtm_e2e::hostile::{ACCOUNT_KEY, Hostile, Reply, Request};
use serde_json::json;

const ASKED: &str = "7000000000000000005";
const OTHER: &str = "7000000000000000006";

fn is_write(req: &Request) -> bool {
    req.method != "GET" && !req.is_token()
}

/// A server that answers the read of account [`ASKED`] with account [`OTHER`], a privileged
/// user in a group with a license, and accepts every write.
fn answering_with_another_account() -> Hostile {
    Hostile::goto(|req| {
        let user_path = format!("/admin/rest/v1/accounts/{ACCOUNT_KEY}/users/{ASKED}");
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", path) if path == user_path => Reply::ok(json!({
                "key": OTHER, "email": "someone.else@hostile.example", "firstName": "Some", "lastName": "One",
                "adminRoles": ["SUPER_USER"], "groupKey": "11", "groupName": "Admins", "licenseKeys": ["21"],
            })),
            ("GET", _) => Reply::not_found(),
            _ => Reply::Raw { status: 204, headers: Vec::new(), body: Vec::new() },
        }
    })
}

#[test]
fn an_answer_about_another_account_stops_the_write_before_anything_is_sent() {
    let server = answering_with_another_account();
    let h = Harness::against(&server);
    for args in [
        vec!["delete", ASKED],
        vec!["revoke", ASKED, "--role", "SUPER_USER"],
        vec!["grant", ASKED, "--role", "RUN_REPORTS"],
    ] {
        h.run(&args).failure(1, &[ASKED, OTHER, "nothing was written"]);
    }
    let writes: Vec<String> =
        server.requests().iter().filter(|r| is_write(r)).map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(writes.is_empty(), "writes sent for an account nobody asked about: {writes:?}");
}

#[test]
fn a_write_answered_with_a_redirect_is_refused_not_followed() {
    let elsewhere = Hostile::start(|_| Reply::Raw { status: 204, headers: Vec::new(), body: Vec::new() });
    let target = format!("{}/admin/rest/v1/accounts/{ACCOUNT_KEY}/users/{ASKED}", elsewhere.base_url());
    for status in [301, 302, 307, 308] {
        let target = target.clone();
        let server = Hostile::goto(move |req| match req.method.as_str() {
            "GET" if req.path.ends_with(ASKED) => Reply::ok(json!({
                "key": ASKED, "email": "leaver@hostile.example", "adminRoles": ["SUPER_USER"],
            })),
            "GET" => Reply::not_found(),
            _ => Reply::redirect(status, &target),
        });
        let h = Harness::against(&server);
        h.run(&["delete", ASKED]).failure(1, &["redirect", &format!("HTTP {status}"), "not followed"]);
        assert_eq!(server.count(is_write), 1, "{status}: the refused write was sent once");
    }
    assert!(elsewhere.requests().is_empty(), "a redirected write was followed");
}

#[test]
fn a_leaver_s_custom_role_sets_and_managed_groups_are_named_as_kept_never_passed_over() {
    // GoTo's custom role sets (`roleSets`, reference §4.4) and the groups a user administers
    // (`managedGroupKeys`, §6.4) change through calls this connector does not make; a
    // deprovision that leaves them must say so.
    let server = Hostile::goto(|req| match req.method.as_str() {
        "GET" if req.path.ends_with(ASKED) => Reply::ok(json!({
            "key": ASKED, "email": "leaver@hostile.example", "adminRoles": ["MANAGE_USERS"],
            "roleSets": ["9001", 9002], "managedGroupKeys": [4242],
        })),
        "GET" => Reply::not_found(),
        _ => Reply::Raw { status: 204, headers: Vec::new(), body: Vec::new() },
    });
    let h = Harness::against(&server);
    for args in [vec!["delete", ASKED, "--dry-run"], vec!["delete", ASKED]] {
        let out = h.run(&args).success();
        let result = out.json();
        assert_eq!(
            result["kept"],
            json!([
                {"kind": "admin-role", "key": "role-set:9001"},
                {"kind": "admin-role", "key": "role-set:9002"},
                {"kind": "group", "key": "managed-group:4242"},
            ]),
            "{result}"
        );
        assert!(out.stderr.contains("custom role sets 9001, 9002"), "{}", out.stderr);
        assert!(out.stderr.contains("administration of groups 4242"), "{}", out.stderr);
    }
}
