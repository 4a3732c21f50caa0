//! `gtm-connector serve`, the SCIM 2.0 service, through the real component and host against the
//! simulator (and a hostile server): discovery, authentication, paging, filters, the User
//! lifecycle, access by PATCH, group moves, the pool's bound, and GoTo's failures as SCIM errors.

use std::sync::Arc;
use std::time::Duration;

use gotosim::{Fault, FaultRule, Gate, Matcher};
use gtm_e2e::hostile::{Hostile, Reply, user};
use gtm_e2e::scim::{Answer, Scim, TOKEN};
use gtm_e2e::{Harness, OpenOnDrop, unthrottled};
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const EXTENSION: &str = "urn:iga:gotomeeting:params:scim:schemas:extension:goto:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn patch(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

fn new_user(email: &str) -> Value {
    json!({"schemas": [USER], "userName": email, "name": {"givenName": "Scim", "familyName": "Person"}, "externalId": "hr-1"})
}

/// The simulator's user `key`.
fn sim_user(h: &Harness, key: &str) -> gotosim::User {
    h.sim.with_world(|w| w.user(key)).expect("the user is in the simulator")
}

fn values(list: &Value) -> Vec<String> {
    list.as_array().into_iter().flatten().map(|v| v["value"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn discovery_documents_answer_in_scim_json() {
    let h = Harness::new(unthrottled(1, 5));
    let scim = Scim::start(&h);
    let config = scim.get("/ServiceProviderConfig");
    assert_eq!(config.header("content-type"), Some("application/scim+json"));
    let config = config.expect(200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    let types = scim.get("/ResourceTypes").expect(200);
    let names: Vec<&str> = types["Resources"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["User", "Group"]);
    scim.get("/ResourceTypes/User").expect(200);
    let schemas = scim.get("/Schemas").expect(200);
    let ids: Vec<&str> = schemas["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&USER) && ids.contains(&EXTENSION), "{ids:?}");
    let group = scim.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group").expect(200);
    assert!(group.to_string().contains("at most one group"), "the Group schema says a member moves");
    scim.get("/Schemas/urn:nope").error(404, None, "no schema");
    scim.get("/Nothing").error(404, None, "no such SCIM endpoint");
}

#[test]
fn requests_without_the_bearer_token_are_refused_before_goto_is_asked() {
    let h = Harness::new(unthrottled(2, 5));
    let scim = Scim::start(&h);
    let before = h.sim.stats().admin_reads;
    for token in [None, Some("wrong"), Some("")] {
        let answer = scim.request("GET", "/Users", token, None);
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
        answer.error(401, None, "bearer token");
    }
    assert_eq!(h.sim.stats().admin_reads, before, "nothing reached GoTo");
    assert_eq!(scim.request("GET", "//healthz", None, None).expect(200)["status"], "ok");
    scim.request("GET", "/Users?count=1", Some(TOKEN), None).expect(200);
}

#[test]
fn the_service_refuses_to_start_without_a_token_or_on_plain_http_beyond_loopback() {
    let h = Harness::new(unthrottled(3, 2));
    h.run_with_stdin(&["secrets", "set", "scim-token"], TOKEN).success();
    let exposed = Scim::try_start(&h, |o| o.listen = "0.0.0.0:0".parse().unwrap()).err().expect("refused");
    assert!(format!("{exposed:#}").contains("--tls-cert"), "{exposed:#}");
    h.run(&["secrets", "delete", "scim-token"]).success();
    let connector = h.connector(gtm_host::log::Logger::silent()).unwrap();
    let options = gtm_host::serve::ServeOptions::from_profile(connector.profile());
    let missing = gtm_host::serve::Service::start(&connector, options, gtm_host::log::Logger::silent()).err().unwrap();
    assert!(format!("{missing:#}").contains("secrets set scim-token"), "{missing:#}");
}

#[test]
fn paging_by_position_reads_every_account_once_with_the_simulator_s_total() {
    let h = Harness::new(unthrottled(4, 23));
    let scim = Scim::start(&h);
    let (total, users) = scim.all_users(5);
    assert_eq!(total, 23);
    let ids: Vec<String> = users.iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, h.user_keys(), "every account, once, in GoTo's order");
    let past = scim.get("/Users?startIndex=40&count=5").expect(200);
    assert_eq!((past["totalResults"].as_u64(), past["Resources"].as_array().map(Vec::len)), (Some(23), Some(0)));
    let counted = scim.get("/Users?count=0").expect(200);
    assert_eq!(counted["totalResults"], 23);
    assert!(counted["Resources"].as_array().is_none_or(Vec::is_empty));
    let first = &users[0];
    assert_eq!(first["schemas"], json!([USER, EXTENSION]));
    assert_eq!(first["meta"]["location"], format!("{}/Users/{}", scim.base, first["id"].as_str().unwrap()));
    scim.get("/Users?count=abc").error(400, Some("invalidValue"), "count");
}

#[test]
fn filters_goto_can_answer_are_exact_and_others_are_refused() {
    let h = Harness::new(unthrottled(5, 12));
    let scim = Scim::start(&h);
    let target = h.sim.with_world(|w| w.users()[3].clone());
    let by_name = scim.get(&format!("/Users?filter=userName%20eq%20%22{}%22", target.email.to_uppercase())).expect(200);
    assert_eq!(by_name["totalResults"], 1);
    assert_eq!(by_name["Resources"][0]["id"], target.key.as_str());
    let by_id = scim.get(&format!("/Users?filter=id%20eq%20%22{}%22", target.key)).expect(200);
    assert_eq!(by_id["Resources"][0]["userName"], target.email.as_str());
    let none = scim.get("/Users?filter=userName%20eq%20%22nobody%40example.com%22").expect(200);
    assert_eq!(none["totalResults"], 0);
    // Narrowed by the email, then held to the whole filter.
    let both =
        format!("/Users?filter=userName%20eq%20%22{}%22%20and%20name.givenName%20eq%20%22Zed-Nope%22", target.email);
    assert_eq!(scim.get(&both).expect(200)["totalResults"], 0);
    scim.get("/Users?filter=userName%20sw%20%22a%22").error(400, Some("invalidFilter"), "eq");
    scim.get("/Users?filter=userName%20eq").error(400, Some("invalidFilter"), "");
    let projected = scim.get(&format!("/Users/{}?attributes=userName", target.key)).expect(200);
    assert_eq!(projected["userName"], target.email.as_str());
    assert!(projected.get("name").is_none(), "{projected}");
    assert_eq!(projected["id"], target.key.as_str(), "id is always returned");
    // The request log names method, path, status and time: never the query, which holds emails.
    let log = scim.log();
    let requests: Vec<&str> = log.lines().filter(|l| l.contains("] scim: GET ")).collect();
    assert!(requests.iter().any(|l| l.contains("/scim/v2/Users 200")), "{log}");
    let email = target.email.split('@').next().unwrap();
    assert!(requests.iter().all(|l| !l.contains('?') && !l.to_lowercase().contains(email)), "{requests:#?}");
}

#[test]
fn a_user_is_created_refused_twice_patched_replaced_and_deleted() {
    let h = Harness::new(unthrottled(6, 3));
    let scim = Scim::start(&h);
    let license = h.sim.with_world(|w| w.licenses()[0].key.clone());
    let mut body = new_user("new.person@example.com");
    body["entitlements"] = json!([{"value": license}]);
    let created = scim.post("/Users", &body);
    let location = created.header("location").map(str::to_owned);
    let user = created.expect(201);
    let key = user["id"].as_str().unwrap().to_owned();
    assert_eq!(location.as_deref(), user["meta"]["location"].as_str());
    assert_eq!(user["externalId"], "hr-1");
    assert_eq!(sim_user(&h, &key).first_name, "Scim");
    assert_eq!(sim_user(&h, &key).license_keys, std::slice::from_ref(&license));
    assert_eq!(user["active"], true);
    let by_external = scim.get("/Users?filter=externalId%20eq%20%22hr-1%22").expect(200);
    assert_eq!(by_external["Resources"][0]["id"], key.as_str());

    scim.post("/Users", &new_user("New.Person@example.com")).error(409, Some("uniqueness"), "already exists");

    let patched = scim.patch(
        &format!("/Users/{key}"),
        &patch(json!([
            {"op": "Replace", "path": "name.givenName", "value": "Renamed"},
            {"op": "replace", "value": {"locale": "fr_FR"}},
        ])),
    );
    let patched = patched.expect(200);
    assert_eq!(patched["name"]["givenName"], "Renamed");
    assert_eq!((sim_user(&h, &key).first_name, sim_user(&h, &key).locale), ("Renamed".into(), "fr_FR".into()));
    scim.patch(&format!("/Users/{key}"), &patch(json!([{"op": "replace", "path": "id", "value": "1"}]))).error(
        400,
        Some("mutability"),
        "readOnly",
    );

    let mut replacement = new_user("new.person@example.com");
    replacement["name"]["familyName"] = json!("Replaced");
    replacement["externalId"] = json!("hr-2");
    let replaced = scim.put(&format!("/Users/{key}"), &replacement).expect(200);
    assert_eq!(
        (replaced["name"]["familyName"].as_str(), replaced["externalId"].as_str()),
        (Some("Replaced"), Some("hr-2"))
    );

    let writes = h.writes();
    scim.delete(&format!("/Users/{key}")).expect(204);
    assert!(h.writes() > writes, "the delete deprovisioned");
    scim.get(&format!("/Users/{key}")).error(404, None, "no User");
    let kept = sim_user(&h, &key);
    assert!(kept.license_keys.is_empty() && kept.admin_roles.is_empty(), "deprovisioned, history kept");
    scim.delete(&format!("/Users/{key}")).error(404, None, "no User");
    let (total, listed) = scim.all_users(10);
    assert_eq!(total, 3, "the deleted account is not listed");
    assert!(listed.iter().all(|u| u["id"] != key.as_str()));

    // A create with its email brings it back, as the body says.
    let revived = scim.post("/Users", &new_user("new.person@example.com")).expect(201);
    assert_eq!(revived["id"], key.as_str());
    assert_eq!(revived["name"]["familyName"], "Person");
    scim.get(&format!("/Users/{key}")).expect(200);
    scim.get("/Users/not-a-key").error(404, None, "no User");
    scim.post("/Users", &json!({"schemas": [USER], "name": {"givenName": "No"}})).error(
        400,
        Some("invalidValue"),
        "userName",
    );
    scim.request("POST", "/Users", Some(TOKEN), None).error(400, Some("invalidSyntax"), "JSON");
}

#[test]
fn entitlements_and_roles_are_granted_and_revoked_by_patch() {
    let h = Harness::new(unthrottled(7, 4));
    let scim = Scim::start(&h);
    let key = h.sim.with_world(|w| w.users()[1].key.clone());
    let license = h.sim.with_world(|w| {
        let held = w.user(&key).unwrap().license_keys;
        w.licenses().into_iter().find(|l| !held.contains(&l.key)).expect("a license the user lacks").key
    });
    let path = format!("/Users/{key}");
    let granted = scim
        .patch(
            &path,
            &patch(json!([
                {"op": "add", "path": "entitlements", "value": [{"value": license}]},
                {"op": "add", "path": "roles", "value": [{"value": "MANAGE_USERS"}]},
            ])),
        )
        .expect(200);
    assert!(values(&granted["entitlements"]).contains(&license));
    assert!(values(&granted["roles"]).contains(&"MANAGE_USERS".to_owned()));
    let now = sim_user(&h, &key);
    assert!(now.license_keys.contains(&license) && now.admin_roles.contains(&"MANAGE_USERS".to_owned()));

    let writes = h.writes();
    scim.patch(&path, &patch(json!([{"op": "add", "path": "roles", "value": [{"value": "MANAGE_USERS"}]}])))
        .expect(200);
    assert_eq!(h.writes(), writes, "granting what is held writes nothing");

    let revoked = scim
        .patch(
            &path,
            &patch(json!([
                {"op": "remove", "path": format!("entitlements[value eq \"{license}\"]")},
                {"op": "Remove", "path": "roles", "value": [{"value": "MANAGE_USERS"}]},
            ])),
        )
        .expect(200);
    assert!(!values(&revoked["entitlements"]).contains(&license));
    let now = sim_user(&h, &key);
    assert!(!now.license_keys.contains(&license) && !now.admin_roles.contains(&"MANAGE_USERS".to_owned()));
    scim.patch(&path, &patch(json!([{"op": "add", "path": "entitlements", "value": [{"value": "999"}]}]))).error(
        400,
        Some("invalidValue"),
        "999",
    );
}

#[test]
fn deactivation_deprovisions_and_a_license_reactivates() {
    let h = Harness::new(unthrottled(8, 4));
    let scim = Scim::start(&h);
    let (key, license) = h.sim.with_world(|w| {
        let admin = w.principal_key().to_owned();
        let u = w
            .users()
            .into_iter()
            .find(|u| u.key != admin && !u.license_keys.is_empty() && u.group_key.is_some())
            .unwrap();
        (u.key.clone(), u.license_keys[0].clone())
    });
    let path = format!("/Users/{key}");
    let off = scim.patch(&path, &patch(json!([{"op": "Replace", "path": "active", "value": "False"}]))).expect(200);
    assert_eq!(off["active"], false);
    let now = sim_user(&h, &key);
    assert!(now.license_keys.is_empty() && now.admin_roles.is_empty() && now.group_key.is_none(), "{now:?}");
    scim.patch(&path, &patch(json!([{"op": "replace", "path": "active", "value": true}]))).error(
        400,
        Some("invalidValue"),
        "holds a license",
    );
    let on = scim
        .patch(
            &path,
            &patch(json!([
                {"op": "replace", "path": "active", "value": true},
                {"op": "add", "path": "entitlements", "value": [{"value": license}]},
            ])),
        )
        .expect(200);
    assert_eq!(on["active"], true);
}

#[test]
fn adding_a_member_moves_the_user_between_groups() {
    let h = Harness::new(unthrottled(9, 8));
    let scim = Scim::start(&h);
    let (key, from) = h.sim.with_world(|w| {
        let u = w.users().into_iter().find(|u| u.group_key.is_some()).unwrap();
        (u.key.clone(), u.group_key.clone().unwrap())
    });
    let to = h.sim.with_world(|w| w.groups().into_iter().find(|g| g.key != from).unwrap().key);
    let groups = scim.get("/Groups").expect(200);
    assert_eq!(groups["totalResults"], h.sim.with_world(|w| w.groups().len()) as u64);
    let without = scim.get("/Groups?excludedAttributes=members").expect(200);
    assert!(without["Resources"][0].get("members").is_none());

    scim.patch(&format!("/Groups/{to}"), &patch(json!([{"op": "add", "path": "members", "value": [{"value": key}]}])))
        .expect(204);
    assert_eq!(sim_user(&h, &key).group_key.as_deref(), Some(to.as_str()));
    let left = scim.get(&format!("/Groups/{from}")).expect(200);
    assert!(!values(&left["members"]).contains(&key), "moved out of {from}");
    let joined = scim.get(&format!("/Groups/{to}")).expect(200);
    assert!(values(&joined["members"]).contains(&key));
    let user = scim.get(&format!("/Users/{key}")).expect(200);
    assert_eq!(user["groups"][0]["value"], to.as_str());

    scim.patch(
        &format!("/Groups/{to}"),
        &patch(json!([{"op": "remove", "path": format!("members[value eq \"{key}\"]")}])),
    )
    .expect(204);
    assert_eq!(sim_user(&h, &key).group_key, None);
    scim.get("/Groups/12345").error(404, None, "no Group");
}

#[test]
fn a_group_is_created_with_members_renamed_and_deleted() {
    let h = Harness::new(unthrottled(14, 6));
    let scim = Scim::start(&h);
    let key = h.sim.with_world(|w| w.users()[2].key.clone());
    let group = "urn:ietf:params:scim:schemas:core:2.0:Group";
    let created =
        scim.post("/Groups", &json!({"schemas": [group], "displayName": "Auditors", "members": [{"value": key}]}));
    let location = created.header("location").map(str::to_owned);
    let created = created.expect(201);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location.as_deref(), created["meta"]["location"].as_str());
    assert_eq!(values(&created["members"]), std::slice::from_ref(&key));
    assert_eq!(sim_user(&h, &key).group_key.as_deref(), Some(id.as_str()), "the member moved in");
    scim.post("/Groups", &json!({"schemas": [group], "displayName": "auditors"})).error(
        409,
        Some("uniqueness"),
        "already exists",
    );
    scim.post("/Groups", &json!({"schemas": [group]})).error(400, Some("invalidValue"), "displayName");

    scim.patch(
        &format!("/Groups/{id}"),
        &patch(json!([{"op": "replace", "path": "displayName", "value": "Internal Audit"}])),
    )
    .expect(204);
    assert_eq!(h.sim.with_world(|w| w.groups().into_iter().find(|g| g.key == id).unwrap().name), "Internal Audit");
    assert_eq!(sim_user(&h, &key).group_name.as_deref(), Some("Internal Audit"));

    scim.delete(&format!("/Groups/{id}")).expect(204);
    scim.get(&format!("/Groups/{id}")).error(404, None, "no Group");
    assert_eq!(sim_user(&h, &key).group_key, None, "its member is left without a group");
    scim.delete(&format!("/Groups/{id}")).error(404, None, "no Group");
}

#[test]
fn a_full_pool_answers_503_with_retry_after_and_the_held_request_completes() {
    let h = Harness::new(unthrottled(10, 3));
    let scim = Scim::start_with(&h, |o| {
        o.instances = 1;
        o.queue = 0;
    });
    let gate = Gate::default();
    let listing = Matcher { path_contains: Some("/users".into()), ..Default::default() };
    h.sim.add_fault(FaultRule { matcher: listing, skip: 0, times: 1, fault: Fault::Hold(gate.clone()) });
    let _open = OpenOnDrop(vec![gate.clone()]);
    std::thread::scope(|s| {
        let held = s.spawn(|| scim.get("/Users?count=2"));
        assert!(gate.wait_for_arrival(Duration::from_secs(30)), "the first request reached GoTo");
        let refused = scim.get("/Users?count=2");
        assert_eq!(refused.header("retry-after"), Some("1"));
        refused.error(503, None, "busy");
        gate.open();
        assert_eq!(held.join().unwrap().expect(200)["totalResults"], 3);
    });
    scim.get("/Users?count=2").expect(200);
}

/// A server whose every user listing is answered `listing`.
fn listing_answered(listing: Reply) -> (Hostile, Harness) {
    let server = Hostile::goto(move |req| if req.is_user_listing() { listing.clone() } else { Reply::not_found() });
    let h = Harness::against(&server);
    h.set_limits("http-timeout-secs = 1\nmax-response-kib = 64");
    (server, h)
}

#[test]
fn a_hostile_listing_is_a_scim_error_never_an_empty_list() {
    let all: Vec<Value> = (0..5).map(user).collect();
    let html = Reply::Raw {
        status: 502,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: b"<html><body>502 Bad Gateway</body></html>".to_vec(),
    };
    for (shape, listing) in [
        ("200 {}", Reply::ok(json!({}))),
        ("more results than its total", Reply::ok(json!({"results": all, "total": 2}))),
        ("an empty page of a listing of 5", Reply::ok(json!({"results": [], "total": 5}))),
        (
            "a body cut off",
            Reply::CutOff { status: 200, body: json!({"results": all, "total": 5}).to_string().into_bytes(), sent: 40 },
        ),
        ("a reset connection", Reply::Reset),
        ("a proxy's HTML page", html),
    ] {
        let (_server, h) = listing_answered(listing);
        let scim = Scim::start(&h);
        for path in
            ["/Users", "/Users?startIndex=3&count=2", "/Users?filter=userName%20eq%20%22user1%40hostile.example%22"]
        {
            let answer: Answer = scim.get(path);
            assert_eq!(answer.status, 502, "{shape}, {path}: {}", answer.body);
            assert!(answer.body.get("totalResults").is_none(), "{shape}: no list at all");
            answer.error(502, None, "");
        }
    }
}

#[test]
fn with_a_mapped_email_the_user_name_is_the_client_s_kept_and_unique() {
    let h = Harness::new(unthrottled(11, 3));
    h.append_to_profile("[mapping.email]\ntemplate = \"{{ userName | lower }}@mapped.example\"");
    let scim = Scim::start(&h);
    let named = |user_name: &str| json!({"schemas": [USER], "userName": user_name, "name": {"givenName": "A", "familyName": "B"}});
    let user = scim.post("/Users", &named("Ann.Lee")).expect(201);
    let key = user["id"].as_str().unwrap().to_owned();
    assert_eq!(user["userName"], "Ann.Lee");
    assert_eq!(user["emails"][0]["value"], "ann.lee@mapped.example");
    assert_eq!(sim_user(&h, &key).email, "ann.lee@mapped.example", "the mapping made the GoTo email");
    let found = scim.get("/Users?filter=userName%20eq%20%22ann.lee%22").expect(200);
    assert_eq!(found["Resources"][0]["id"], key.as_str());
    scim.post("/Users", &named("ANN.LEE")).error(409, Some("uniqueness"), "");
    let other = scim.post("/Users", &named("bo")).expect(201);
    let other_path = format!("/Users/{}", other["id"].as_str().unwrap());
    scim.patch(&other_path, &patch(json!([{"op": "replace", "path": "userName", "value": "ann.lee"}]))).error(
        409,
        Some("uniqueness"),
        "another user's",
    );
    let renamed =
        scim.patch(&other_path, &patch(json!([{"op": "replace", "path": "userName", "value": "bob"}]))).expect(200);
    assert_eq!(renamed["userName"], "bob");
    assert_eq!(renamed["emails"][0]["value"], "bob@mapped.example", "the mapping follows the user name");
}

/// The venv's python (from `GTM_PORTABILITY_PYTHON`, which .ci/run sets) with scim2-tester as
/// tests/scim/requirements.txt pins it; without it the test fails rather than skips.
fn scim2_tester_python() -> std::ffi::OsString {
    let setup = "from the repository root: `python3 -m venv target/venv && target/venv/bin/pip install \
                 -r tests/scim/requirements.txt && export GTM_PORTABILITY_PYTHON=\"$PWD/target/venv/bin/python\"`";
    let python = std::env::var_os("GTM_PORTABILITY_PYTHON").unwrap_or_else(|| {
        panic!("GTM_PORTABILITY_PYTHON is not set; it names the python of a venv with scim2-tester, {setup}")
    });
    let requirements = std::fs::read_to_string(repository().join("tests/scim/requirements.txt")).unwrap();
    let pinned =
        requirements.lines().find_map(|l| l.trim().strip_prefix("scim2-tester==")).expect("scim2-tester is pinned");
    let probe = "import importlib.metadata as m; print(m.version('scim2-tester'))";
    let found = std::process::Command::new(&python).args(["-c", probe]).output().expect("the venv's python runs");
    let found = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    assert_eq!(found, pinned, "the venv has scim2-tester {found:?}, requirements.txt pins {pinned}; {setup}");
    python
}

fn repository() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn scim2_tester_passes_every_check_that_applies_to_goto() {
    let python = scim2_tester_python();
    let h = Harness::new(unthrottled(12, 5));
    // scim2-tester's user names are UUIDs and it may send no name: the profile maps them, as an
    // IGA team whose identifiers are not emails would.
    h.append_to_profile(
        "[mapping.email]\ntemplate = \"{{ userName | lower }}@scim2-tester.example\"\n\n\
         [mapping.first-name]\ntemplate = \"{{ (givenName | default('Scim'))[:32] }}\"\n\n\
         [mapping.last-name]\ntemplate = \"{{ (familyName | default('Tester'))[:32] }}\"",
    );
    let scim = Scim::start(&h);
    let report = h.home.path().join("scim2-tester.json");
    let run = std::process::Command::new(python)
        .arg(repository().join("tests/scim/check.py"))
        .arg(&scim.base)
        .arg("--report")
        .arg(&report)
        .env("GTM_SCIM_TOKEN", TOKEN)
        .output()
        .expect("check.py runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "scim2-tester failed:\n{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(!stdout.contains(TOKEN), "the token is masked");
    let results: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let passed = |name: &str| results.iter().any(|r| r["name"] == name && r["status"] == "passed");
    for check in [
        "service_provider_config_endpoint",
        "query_all_schemas",
        "User/object_creation",
        "User/object_query",
        "User/object_query_without_id",
        "User/object_deletion",
        "User/check_replace_attribute:userName",
        "User/check_add_attribute:externalId",
        "User/check_add_attribute:locale",
        "User/check_replace_attribute:timezone",
        "Group/object_creation",
        "Group/object_replacement",
        "Group/object_deletion",
        "Group/check_replace_attribute:displayName",
        "Group/check_remove_attribute:members",
        "Group/check_add_attribute:externalId",
    ] {
        assert!(passed(check), "{check} did not pass:\n{stdout}");
    }
}

#[test]
fn with_a_certificate_the_service_speaks_only_tls() {
    let h = Harness::new(unthrottled(13, 2));
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let (cert, key) = (h.home.path().join("cert.pem"), h.home.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let scim = Scim::start_with(&h, |o| {
        o.listen = "0.0.0.0:0".parse().unwrap();
        o.tls = Some((cert.clone(), key.clone()));
    });
    assert!(scim.base.starts_with("https://0.0.0.0:"), "{}", scim.base);
    let url = scim.base.replace("0.0.0.0", "127.0.0.1");
    let trusted = ureq::tls::Certificate::from_der(certified.cert.der()).to_owned();
    let tls =
        ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![trusted]))).build();
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder().proxy(None).http_status_as_error(false).tls_config(tls).build(),
    );
    let answer =
        agent.get(format!("{url}/Users?count=1")).header("authorization", format!("Bearer {TOKEN}")).call().unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let plain = ureq::Agent::new_with_config(ureq::Agent::config_builder().proxy(None).build());
    assert!(plain.get(format!("{}/Users", url.replace("https", "http"))).call().is_err(), "no plain HTTP");
    // A key that is not the certificate's is refused before anything listens.
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    std::fs::write(&key, other.signing_key.serialize_pem()).unwrap();
    let refused = Scim::try_start(&h, |o| o.tls = Some((cert.clone(), key.clone()))).err().expect("refused");
    assert!(format!("{refused:#}").contains("do not go together"), "{refused:#}");
}
