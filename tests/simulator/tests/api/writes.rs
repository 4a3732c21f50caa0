//! Add/update/delete users, groups and license assignments, with GoTo's bookkeeping.

use gotosim::{NewUser, UserStatus};
use serde_json::{Value, json};

use crate::client::Api;

fn add(api: &Api, query: &str, body: Value) -> crate::client::Resp {
    api.call("POST", &api.acct(&format!("/users{query}")), Some(&body.to_string()))
}

#[test]
fn add_users_conflicts_all_or_nothing_and_not() {
    let api = Api::start(30);
    let batch = |emails: &[&str]| {
        let users: Vec<Value> =
            emails.iter().map(|e| json!({"email": e, "firstName": "New", "lastName": "Person"})).collect();
        json!({"users": users})
    };
    let refused = add(&api, "", batch(&["fresh1@example.com", "alex.lee@example.com"]));
    assert_eq!(refused.status, 409);
    assert_eq!(refused.json()["errors"][0], json!({"code": "user.name.conflict", "value": "alex.lee@example.com"}));
    assert!(api.sim.with_world(|w| w.user_by_email("fresh1@example.com").is_none()), "nothing created");

    let partial = add(&api, "?allOrNothing=false", batch(&["fresh1@example.com", "ALEX.LEE@example.com"]));
    assert_eq!(partial.status, 200);
    let body = partial.json();
    assert_eq!(body[0]["email"], "fresh1@example.com");
    assert!(body[0]["key"].is_string());
    assert_eq!(body[1], json!({"email": "ALEX.LEE@example.com"}), "conflicts come back without a key");

    api.sim.set_knobs(|k| k.conflict_returns_existing_key = true);
    let existing = api.sim.with_world(|w| w.user_by_email("alex.lee@example.com").unwrap().key);
    let body = add(&api, "?allOrNothing=false", batch(&["alex.lee@example.com"])).json();
    assert_eq!(body[0]["key"].as_str(), Some(existing.as_str()));

    let dup = add(&api, "", batch(&["twice@example.com", "twice@example.com"]));
    assert_eq!(dup.status, 409, "duplicates within one batch conflict too");
}

#[test]
fn new_users_status_invites_and_resurrection() {
    let api = Api::start(31);
    let (license, group) = api.sim.with_world(|w| (w.licenses()[0].key.clone(), w.groups()[0].key.clone()));
    let body = json!({
        "users": [{"email": "lic@example.com", "firstName": "Li", "lastName": "Censed", "locale": "de_DE", "timeZone": "Europe/Berlin"}],
        "licenseKeys": [license.parse::<u64>().unwrap()],
        "groupKey": group,
        "adminRoles": ["MANAGE_USERS"],
    });
    let key = add(&api, "", body).json()[0]["key"].as_str().unwrap().to_owned();
    let user = api.get_ok(&api.acct(&format!("/users/{key}")));
    assert_eq!(user["status"], "INVITED");
    assert_eq!(user["inviteCount"].as_u64(), Some(1));
    assert!(user["invitedDate"].as_i64().unwrap() > 1_600_000_000_000);
    assert_eq!(user["products"][0], "G2M");
    assert_eq!(user["groupKey"].as_str(), Some(group.as_str()));
    assert_eq!((user["locale"].as_str(), user["adminRoles"][0].as_str()), (Some("de_DE"), Some("MANAGE_USERS")));

    let quiet =
        json!({"users": [{"email": "quiet@example.com", "firstName": "Qu", "lastName": "Iet"}], "suppressEmail": true});
    let quiet_key = add(&api, "", quiet).json()[0]["key"].as_str().unwrap().to_owned();
    let quiet = api.get_ok(&api.acct(&format!("/users/{quiet_key}")));
    assert_eq!(quiet["status"], "SUSPENDED", "no license");
    assert!(quiet.get("invitedDate").is_none());

    assert_eq!(api.call("DELETE", &api.acct(&format!("/users/{key}")), None).status, 204);
    assert_eq!(api.get(&api.acct(&format!("/users/{key}"))).code(), "user.not.found");
    assert_eq!(api.call("DELETE", &api.acct(&format!("/users/{key}")), None).status, 404);
    let again = json!({"users": [{"email": "lic@example.com", "firstName": "Li", "lastName": "Back"}]});
    assert_eq!(add(&api, "", again).json()[0]["key"].as_str(), Some(key.as_str()), "same key after re-adding");
}

#[test]
fn add_users_validation() {
    let api = Api::start(32);
    let cases = [
        (json!({"users": []}), 400, "request.invalid"),
        (json!({"users": [{"email": "no-at", "firstName": "A", "lastName": "B"}]}), 400, "user.email.invalid"),
        (json!({"users": [{"email": "a@b.com", "firstName": "", "lastName": "B"}]}), 400, "user.name.invalid"),
        (
            json!({"users": [{"email": "a@b.com", "firstName": "A", "lastName": "B"}], "adminRoles": ["GOD"]}),
            400,
            "admin.role.invalid",
        ),
        (
            json!({"users": [{"email": "a@b.com", "firstName": "A", "lastName": "B"}], "licenseKeys": ["1"]}),
            404,
            "license.not.found",
        ),
        (
            json!({"users": [{"email": "a@b.com", "firstName": "A", "lastName": "B"}], "groupKey": 1}),
            404,
            "group.not.found",
        ),
        (
            json!({"users": [{"email": "a@b.com", "firstName": "A", "lastName": "B"}], "licenseKeys": [1.5]}),
            400,
            "request.invalid",
        ),
    ];
    for (body, status, code) in cases {
        let resp = add(&api, "", body.clone());
        assert_eq!((resp.status, resp.code()), (status, code.to_owned()), "{body}");
    }
    let garbage = api.call("POST", &api.acct("/users"), Some("{not json"));
    assert_eq!((garbage.status, garbage.code()), (400, "request.invalid".to_owned()));
    assert_eq!(add(&api, "?allOrNothing=perhaps", json!({"users": []})).status, 400);
}

#[test]
fn put_user_is_partial_and_refuses_key() {
    let api = Api::start(33);
    let key = api.sim.with_world(|w| w.user_by_email("alex.lee@example.com").unwrap().key);
    let path = api.acct(&format!("/users/{key}"));
    let before = api.get_ok(&path);
    assert_eq!(api.call("PUT", &path, Some(r#"{"adminRoles":["SUPER_USER"],"firstName":"Alexandra"}"#)).status, 204);
    let after = api.get_ok(&path);
    assert_eq!(after["adminRoles"], json!(["SUPER_USER"]));
    assert_eq!(
        (&after["firstName"], &after["lastName"], &after["email"]),
        (&json!("Alexandra"), &before["lastName"], &before["email"])
    );
    assert_eq!(api.call("PUT", &path, Some(r#"{"adminRoles":[]}"#)).status, 204);
    assert!(api.get_ok(&path).get("adminRoles").is_none(), "[] clears roles");

    let with_key = api.call("PUT", &path, Some(&format!(r#"{{"key":"{key}","firstName":"X"}}"#)));
    assert_eq!((with_key.status, with_key.code()), (400, "key.not.allowed".to_owned()));
    let clash = api.call("PUT", &path, Some(r#"{"email":"alexsales@example.com"}"#));
    assert_eq!((clash.status, clash.code()), (409, "user.name.conflict".to_owned()));
    assert_eq!(api.call("PUT", &api.acct("/users/123"), Some("{}")).code(), "user.not.found");

    assert_eq!(api.call("PUT", &path, Some(r#"{"email":"alex.l@example.com"}"#)).status, 204);
    let filtered = api.get_ok(&api.acct("/users?filter=email%20eq%20%22alex.l@example.com%22"));
    assert_eq!(filtered["total"].as_u64(), Some(1), "the email index follows the change");
}

#[test]
fn one_group_per_user() {
    let api = Api::start(34);
    let (user, from, to) = api.sim.with_world(|w| {
        let user = w.users().into_iter().find(|u| u.group_key.is_some()).unwrap();
        let from = user.group_key.clone().unwrap();
        let to = w.groups().into_iter().find(|g| g.key != from && g.key_path.len() > 1).unwrap();
        (user.key, from, to)
    });
    let before = api.get_ok(&api.acct(&format!("/groups/{from}")));
    let moved = api.call("PUT", &api.acct(&format!("/groups/{}/users/{user}", to.key)), None);
    assert_eq!(moved.status, 204);
    let u = api.get_ok(&api.acct(&format!("/users/{user}")));
    assert_eq!(u["groupKey"].as_str(), Some(to.key.as_str()));
    assert_eq!(u["groupKeyPath"], json!(to.key_path));
    assert_eq!(u["groupNamePath"], json!(to.name_path));
    let old = api.get_ok(&api.acct(&format!("/groups/{from}")));
    assert_eq!(old["memberCount"].as_u64().unwrap(), before["memberCount"].as_u64().unwrap() - 1);
    assert!(!old["userKeys"].as_array().is_some_and(|k| k.contains(&json!(user))), "left the old group");
    let root = &to.key_path[0];
    let root_total =
        |api: &Api| api.get_ok(&api.acct(&format!("/groups/{root}")))["totalMemberCount"].as_u64().unwrap();
    let total_before = root_total(&api);

    assert_eq!(api.call("DELETE", &api.acct(&format!("/users/{user}/groups")), None).status, 204);
    let u = api.get_ok(&api.acct(&format!("/users/{user}")));
    assert!(u.get("groupKey").is_none() && u.get("groupName").is_none());
    assert_eq!(root_total(&api), total_before - 1, "subgroup members count towards ancestors");
    assert_eq!(api.call("PUT", &api.acct(&format!("/groups/1/users/{user}")), None).code(), "group.not.found");
}

#[test]
fn group_create_rename_delete() {
    let api = Api::start(35);
    let parent = api.sim.with_world(|w| w.groups()[0].clone());
    let created =
        api.call("POST", &api.acct("/groups"), Some(&format!(r#"{{"name":"Child","parentKey":"{}"}}"#, parent.key)));
    let key = created.json().to_string();
    let child = api.get_ok(&api.acct(&format!("/groups/{key}")));
    assert_eq!(child["namePath"], json!([parent.name_path.clone(), vec!["Child".to_owned()]].concat()));
    assert!(child.get("userKeys").is_none(), "empty userKeys omitted");

    let dup = api.call("POST", &api.acct("/groups"), Some(&format!(r#"{{"name":"{}"}}"#, parent.name.to_uppercase())));
    assert_eq!((dup.status, dup.code()), (409, "group.name.conflict".to_owned()));
    assert_eq!(api.call("POST", &api.acct("/groups"), Some("{}")).code(), "group.name.required");
    let path = api.acct(&format!("/groups/{key}"));
    assert_eq!(api.call("PUT", &path, Some(&format!(r#"{{"key":"{key}","name":"X"}}"#))).code(), "key.not.allowed");
    assert_eq!(api.call("PUT", &path, Some(r#"{"name":""}"#)).code(), "group.name.required");
    assert_eq!(api.call("PUT", &path, Some(r#"{"name":"Renamed"}"#)).status, 204);
    assert_eq!(api.get_ok(&path)["name"], "Renamed");

    let member = api.sim.with_world(|w| {
        w.add_user(NewUser { group_key: Some(key.clone()), ..NewUser::new("m@example.com", "M", "E") })
    });
    assert_eq!(
        api.get_ok(&api.acct(&format!("/users/{member}")))["groupNamePath"].as_array().unwrap().last().unwrap(),
        "Renamed"
    );
    assert_eq!(api.call("DELETE", &path, None).status, 204);
    assert_eq!(api.get(&path).code(), "group.not.found");
    assert!(api.get_ok(&api.acct(&format!("/users/{member}"))).get("groupKey").is_none());
}

#[test]
fn license_seats_and_bookkeeping() {
    let api = Api::start(36);
    // The second seeded license has exactly one free seat.
    let (license, users) = api.sim.with_world(|w| {
        let l = w.licenses()[1].clone();
        let outsiders: Vec<String> =
            w.users().into_iter().filter(|u| !u.license_keys.contains(&l.key)).map(|u| u.key).take(2).collect();
        (l, outsiders)
    });
    assert_eq!(license.seats, license.user_count + 1);
    let path = api.acct(&format!("/licenses/{}/users", license.key));
    let grant = api.call("POST", &path, Some(&json!({"userKeys": [users[0]]}).to_string()));
    assert_eq!(grant.status, 204, "{}", grant.text());
    let full = api.call("POST", &path, Some(&json!({"userKeys": [users[1]]}).to_string()));
    assert_eq!((full.status, full.code()), (409, "license.seats.exceeded".to_owned()));

    let l = api.get_ok(&api.acct(&format!("/licenses/{}", license.key)));
    assert_eq!(l["userCount"].as_u64(), Some(u64::from(license.seats)));
    assert!(l["userKeys"].as_array().unwrap().contains(&json!(users[0])));
    let u = api.get_ok(&api.acct(&format!("/users/{}", users[0])));
    assert!(u["licenseKeys"].as_array().unwrap().contains(&json!(license.key)));
    assert!(u["products"].as_array().unwrap().contains(&json!("G2W")), "Webinar license brings G2W");

    let put = api.call(
        "PUT",
        &api.acct(&format!("/users/{}", users[1])),
        Some(&json!({"licenseKeys": [license.key]}).to_string()),
    );
    assert_eq!(put.code(), "license.seats.exceeded", "PUT user checks seats too");

    let revoke = api.call("DELETE", &path, Some(&json!({"userKeys": [users[0]]}).to_string()));
    assert_eq!(revoke.status, 204);
    assert_eq!(
        api.get_ok(&api.acct(&format!("/licenses/{}", license.key)))["userCount"].as_u64(),
        Some(u64::from(license.user_count))
    );
    assert_eq!(
        api.call(
            "PUT",
            &api.acct(&format!("/users/{}", users[1])),
            Some(&json!({"licenseKeys": [license.key]}).to_string())
        )
        .status,
        204
    );

    let unlicense = api.call("PUT", &api.acct(&format!("/users/{}", users[1])), Some(r#"{"licenseKeys":[]}"#));
    assert_eq!(unlicense.status, 204);
    let u = api.sim.with_world(|w| w.user(&users[1]).unwrap());
    assert_eq!((u.status, u.license_keys.len(), u.products.len()), (UserStatus::Suspended, 0, 0));
    assert_eq!(
        api.call("POST", &api.acct("/licenses/1/users"), Some(r#"{"userKeys":[]}"#)).code(),
        "license.not.found"
    );
    assert_eq!(api.call("POST", &path, Some(r#"{"userKeys":["1"]}"#)).code(), "user.not.found");
}

#[test]
fn world_edits_keep_invariants() {
    let api = Api::start(37);
    api.sim.with_world(|w| {
        let license = w.licenses()[0].clone();
        let key =
            w.add_user(NewUser { license_keys: vec![license.key.clone()], ..NewUser::new("w@example.com", "W", "X") });
        assert_eq!(w.user(&key).unwrap().status, UserStatus::Invited);
        assert!(w.update_user(&key, |u| u.password_created = true));
        assert_eq!(w.user(&key).unwrap().status, UserStatus::Active);
        assert!(w.delete_license(&license.key));
        assert_eq!(w.user(&key).unwrap().status, UserStatus::Suspended);
        assert!(w.remove_user(&key));
        assert!(!w.remove_user(&key));
        assert_eq!(w.add_user(NewUser::new("W@example.com", "W", "X")), key, "resurrected");
    });
}

#[test]
fn new_users_can_lag_behind_in_filtered_lists() {
    let api = Api::start(38);
    api.sim.set_knobs(|k| k.filter_visibility_delay_ms = 60_000);
    let body = json!({"users": [{"email": "late@example.com", "firstName": "La", "lastName": "Te"}]});
    let key = add(&api, "", body).json()[0]["key"].as_str().unwrap().to_owned();
    let filter = api.acct("/users?filter=email%20eq%20%22late@example.com%22");
    assert_eq!(api.get_ok(&filter)["total"].as_u64(), Some(0));
    assert_eq!(api.get(&api.acct(&format!("/users/{key}"))).status, 200, "direct reads see it");
    api.sim.set_knobs(|k| k.filter_visibility_delay_ms = 0);
    assert_eq!(api.get_ok(&filter)["total"].as_u64(), Some(1));
}
