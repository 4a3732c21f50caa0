//! Paging, ordering, projection, filters and key rendering.

use gotosim::{Knobs, SimConfig};
use serde_json::Value;

use crate::client::{Api, keys};

fn emails(page: &Value) -> Vec<String> {
    page["results"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn pages_cover_every_user_in_default_order() {
    let api = Api::start(1);
    let expected: Vec<String> = api.sim.with_world(|w| w.users().into_iter().map(|u| u.key).collect());
    let (mut seen, mut offset) = (Vec::new(), 0);
    loop {
        let page = api.get_ok(&api.acct(&format!("/users?offset={offset}&pageSize=7")));
        let n = page["results"].as_array().unwrap().len();
        assert_eq!(page["fromIndex"].as_u64(), Some(offset as u64));
        assert_eq!(page["toIndex"].as_u64(), Some((offset + n) as u64), "toIndex is exclusive");
        assert_eq!(page["total"].as_u64(), Some(50));
        if n == 0 {
            break;
        }
        seen.extend(keys(&page));
        offset += n;
    }
    assert_eq!(seen, expected);

    // Local part first: alex@… sorts before alex+sales@… although '+' < '@'.
    let all = emails(&api.get_ok(&api.acct("/users?pageSize=1000")));
    let pos = |e: &str| all.iter().position(|x| x == e).unwrap();
    assert!(pos("alex@example.org") < pos("alex+sales@example.com"));
    assert!(pos("alex+sales@example.com") < pos("alex.lee@example.com"));
    let order_key = |e: &String| (e.split('@').next().unwrap().to_lowercase(), e.to_lowercase());
    assert!(all.windows(2).all(|w| order_key(&w[0]) <= order_key(&w[1])));
}

#[test]
fn page_size_defaults_clamps_and_runs_out() {
    let api = Api::start(2);
    assert_eq!(api.get_ok(&api.acct("/users"))["results"].as_array().unwrap().len(), 20);
    let past = api.get_ok(&api.acct("/users?offset=500"));
    assert_eq!(past["results"], Value::Array(vec![]));
    assert_eq!(past["total"].as_u64(), Some(50));
    api.sim.set_knobs(|k| k.max_page_size = 5);
    assert_eq!(api.get_ok(&api.acct("/users?pageSize=100"))["results"].as_array().unwrap().len(), 5);
    assert_eq!(api.get(&api.acct("/users?pageSize=-1")).code(), "request.invalid");
}

#[test]
fn empty_fields_are_omitted_and_projection_works() {
    let api = Api::start(3);
    let page = api.get_ok(&api.acct("/users?pageSize=1000"));
    fn no_null_or_empty(v: &Value) -> bool {
        match v {
            Value::Null => false,
            Value::Array(a) => !a.is_empty() && a.iter().all(no_null_or_empty),
            Value::Object(o) => o.values().all(no_null_or_empty),
            _ => true,
        }
    }
    let users = page["results"].as_array().unwrap();
    assert!(users.iter().all(no_null_or_empty));
    let unlicensed = users.iter().find(|u| u.get("licenseKeys").is_none()).expect("an unlicensed user");
    assert_eq!(unlicensed["status"], "SUSPENDED");
    assert!(unlicensed.get("products").is_none());
    assert!(users.iter().any(|u| u.get("groupKey").is_none() && u.get("groupKeyPath").is_none()));
    let admin = api.get_ok("/admin/rest/v1/me");
    assert!(admin.get("invitedDate").is_none(), "the account creator was never invited");

    let projected = api.get_ok(&api.acct("/users?attributes=key,email&pageSize=3"));
    for u in projected["results"].as_array().unwrap() {
        let mut fields: Vec<&String> = u.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(fields, ["email", "key"]);
    }
    let named = api.get_ok(&api.acct("/users?attributeNames=firstName&pageSize=1"));
    assert_eq!(named["results"][0].as_object().unwrap().len(), 2);
}

#[test]
fn groups_by_name_and_licenses_listed() {
    let api = Api::start(4);
    let groups = api.get_ok(&api.acct("/groups"));
    let names: Vec<&str> = groups["results"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted);
    assert_eq!(groups["total"].as_u64(), Some(5));
    let nested = groups["results"].as_array().unwrap().iter().find(|g| g["keyPath"].as_array().unwrap().len() > 1);
    let nested = nested.expect("a nested group");
    assert_eq!(nested["namePath"].as_array().unwrap().last().unwrap(), &nested["name"]);

    let licenses = api.get_ok(&api.acct("/licenses?pageSize=2"));
    assert_eq!((licenses["total"].as_u64(), licenses["toIndex"].as_u64()), (Some(3), Some(2)));
    let first = &licenses["results"][0];
    assert_eq!(first["userCount"].as_u64().unwrap() as usize, first["userKeys"].as_array().unwrap().len());
    let key = first["key"].as_str().unwrap();
    assert_eq!(api.get_ok(&api.acct(&format!("/licenses/{key}")))["key"], key);
}

fn total(api: &Api, query: &str) -> u64 {
    api.get_ok(&api.acct(&format!("/users?{query}")))["total"].as_u64().unwrap()
}

#[test]
fn filter_dialect_a_full_match_regex() {
    let api = Api::start(5);
    // Raw quotes and parentheses in the query string, as curl sends them.
    assert_eq!(total(&api, r#"filter=(email="alex.lee@example.com")"#), 2, "unescaped '.' also matches alexxlee");
    assert_eq!(total(&api, r#"filter=(email="alex\.lee@example\.com")"#), 1);
    assert_eq!(total(&api, "filter=(email=%22alex%5C.lee%40example%5C.com%22)"), 1, "percent-encoded");
    assert_eq!(total(&api, "filter=(email=%22alex%5C%2Bsales@example.com%22)"), 1);
    // Unescaped, '+' is a quantifier: the filter finds the wrong user.
    let wrong = api.get_ok(&api.acct("/users?filter=(email=%22alex%2Bsales@example.com%22)"));
    assert_eq!(emails(&wrong), ["alexsales@example.com"]);
    assert_eq!(total(&api, r#"filter=(email="alex")"#), 0, "whole-value match, not find");
    assert_eq!(total(&api, r#"filter=(firstName="(?i)ALEX")"#), 3);
    assert_eq!(total(&api, r#"filter=(firstName="ALEX")"#), 0);
    assert_eq!(total(&api, r#"filter=(email="alex@example.org")|(email="alexsales@example.com")"#), 2);
    assert_eq!(total(&api, r#"filter=(firstName="Alex")%26(lastName="Lee")"#), 1, "& must be encoded");
    assert_eq!(total(&api, r#"filter=(email="nobody@nowhere")"#), 0);
    let key = api.sim.with_world(|w| w.user_by_email("alexsales@example.com").unwrap().key);
    assert_eq!(total(&api, &format!("filter=(key=%22{key}%22)")), 1);
    let groups = api.get_ok(&api.acct(r#"/groups?filter=(name="Engineering")"#));
    assert_eq!(groups["total"].as_u64(), Some(1));
}

#[test]
fn filter_dialect_b_and_the_plus_quirk() {
    let api = Api::start(6);
    assert_eq!(total(&api, "filter=email%20eq%20%22ALEX.LEE@example.com%22"), 1, "case-insensitive email");
    assert_eq!(total(&api, "filter=email%20eq%20%22alex%2Bsales@example.com%22"), 1);
    // A raw '+' in the value is a form-encoded space: a client bug the simulator exposes.
    assert_eq!(total(&api, "filter=email%20eq%20%22alex+sales@example.com%22"), 0);
    assert_eq!(total(&api, "filter=email+eq+%22alex.lee@example.com%22"), 1);
    api.sim.set_knobs(|k| k.reject_plus_in_eq_filter = true);
    let refused = api.get(&api.acct("/users?filter=email+eq+%22alex.lee@example.com%22"));
    assert_eq!((refused.status, refused.code()), (400, "filter.invalid".to_owned()));
    assert_eq!(total(&api, "filter=email%20eq%20%22alex.lee@example.com%22"), 1);
}

#[test]
fn bad_filters_are_400_filter_invalid() {
    let api = Api::start(7);
    for bad in [r#"(status="ACTIVE")"#, r#"(email="x""#, "email%20ne%20%22x%22", r#"(email="(")"#] {
        let resp = api.get(&api.acct(&format!("/users?filter={bad}")));
        assert_eq!((resp.status, resp.code()), (400, "filter.invalid".to_owned()), "{bad}");
        assert!(resp.json()["incidentId"].is_string());
    }
}

#[test]
fn numeric_and_long_keys() {
    let config = SimConfig {
        knobs: Knobs { numeric_keys: true, long_keys: true, rate_limit_per_sec: None, ..Knobs::default() },
        ..SimConfig::new(8)
    };
    let api = Api::with(config);
    assert_eq!(api.account.len(), 26);
    let resp = api.get(&api.acct("/users?pageSize=100"));
    let page = resp.json();
    let user = page["results"].as_array().unwrap().iter().find(|u| u.get("groupKeyPath").is_some()).unwrap();
    for field in [&user["key"], &user["licenseKeys"][0], &user["groupKey"], &user["groupKeyPath"][0]] {
        assert!(field.is_number(), "{field}");
        assert_eq!(field.to_string().len(), 26, "every digit kept");
    }
    let key = user["key"].to_string();
    assert!(resp.text().contains(&format!("\"key\":{key}")), "unquoted in the raw body");
    assert!(api.get_ok("/admin/rest/v1/me")["accountKey"].is_number());
    let group = api.get_ok(&api.acct("/groups"))["results"][0].clone();
    assert!(group["keyPath"][0].is_number());

    // Keys come back in requests as numbers, strings, or quoted path segments.
    let license = api.get_ok(&api.acct("/licenses"))["results"][0]["key"].to_string();
    let put =
        api.call("PUT", &api.acct(&format!("/users/%22{key}%22")), Some(&format!(r#"{{"licenseKeys":[{license}]}}"#)));
    assert_eq!(put.status, 204, "{}", put.text());
    let created = api.call("POST", &api.acct("/groups"), Some(r#"{"name":"Numbers"}"#));
    assert!(created.json().is_number());
    assert_eq!(created.text().len(), 26, "a bare number: {}", created.text());
}

#[test]
fn string_keys_by_default_but_group_creation_returns_a_bare_number() {
    let api = Api::start(9);
    let page = api.get_ok(&api.acct("/users?pageSize=1"));
    assert!(page["results"][0]["key"].is_string());
    assert_eq!(page["results"][0]["key"].as_str().unwrap().len(), 19);
    let created = api.call("POST", &api.acct("/groups"), Some(r#"{"name":"Bare"}"#));
    assert_eq!(created.status, 200);
    assert!(created.json().is_number(), "{}", created.text());
}
