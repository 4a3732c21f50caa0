//! The token endpoint, the authorize redirect, and access-token checks on the Admin API.

use gotosim::{Consent, Knobs, Rotation, SimConfig};

use crate::client::{Api, basic, form_type, send};

fn refresh(api: &Api, token: &str) -> crate::client::Resp {
    api.token_request(&format!("grant_type=refresh_token&refresh_token={token}"))
}

#[test]
fn refresh_normally_omits_refresh_token_and_token_type() {
    let api = Api::start(20);
    let resp = refresh(&api, &api.sim.credentials().refresh_token);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let body = resp.json();
    assert!(body.get("refresh_token").is_none() && body.get("token_type").is_none(), "{body}");
    assert_eq!(body["expires_in"].as_u64(), Some(3600));
    assert!(body["scope"].as_str().unwrap().split(' ').any(|s| s == "identity:"));
    assert_eq!(body["principal"], "admin@example.com");
    assert!(body.get("account_key").is_none());
    assert_eq!(api.sim.stats().refresh_grants_ok, 2, "the fixture refreshed once too");
}

#[test]
fn rotation_modes() {
    for (rotation, rotates) in [
        (Rotation::Never, false),
        (Rotation::Always, true),
        (Rotation::WhenRemainingBelowSecs(7 * 86_400), false),
        (Rotation::WhenRemainingBelowSecs(31 * 86_400), true),
    ] {
        let api = Api::start(21);
        api.sim.set_knobs(|k| k.rotation = rotation);
        let old = api.sim.credentials().refresh_token;
        let body = refresh(&api, &old).json();
        assert_eq!(body.get("refresh_token").is_some(), rotates, "{rotation:?}");
        if rotates {
            assert_eq!(body["token_type"], "Bearer");
            let new = body["refresh_token"].as_str().unwrap();
            assert_eq!(api.sim.credentials().refresh_token, new);
            let reused = refresh(&api, &old);
            assert_eq!((reused.status, reused.json()["error"].as_str()), (400, Some("invalid_grant")));
            assert_eq!(refresh(&api, new).status, 200);
        } else {
            assert_eq!(refresh(&api, &old).status, 200, "the old token still works");
        }
    }
}

#[test]
fn expired_and_unknown_refresh_tokens_are_invalid_grant() {
    let api = Api::start(22);
    assert_eq!(refresh(&api, "nope").json()["error"], "invalid_grant");
    // The next rotated token is born expired.
    api.sim.set_knobs(|k| {
        k.rotation = Rotation::Always;
        k.refresh_token_ttl_secs = 0;
    });
    let rotated = refresh(&api, &api.sim.credentials().refresh_token).json();
    let resp = refresh(&api, rotated["refresh_token"].as_str().unwrap());
    assert_eq!(resp.status, 400);
    assert!(resp.json()["error_description"].is_string());
}

#[test]
fn client_authentication_and_grant_types() {
    let api = Api::start(23);
    let c = api.sim.credentials();
    let form = format!("grant_type=refresh_token&refresh_token={}", c.refresh_token);
    let wrong = send(&api.base, "POST", "/oauth/token", &[basic(&c.client_id, "wrong"), form_type()], Some(&form));
    assert_eq!((wrong.status, wrong.json()["error"].as_str()), (401, Some("invalid_client")));
    assert!(wrong.header("www-authenticate").is_some());
    // GoTo wants Basic auth; credentials in the body are not enough.
    let in_body = format!("{form}&client_id={}&client_secret={}", c.client_id, c.client_secret);
    assert_eq!(send(&api.base, "POST", "/oauth/token", &[form_type()], Some(&in_body)).status, 401);
    let odd = api.token_request("grant_type=password&username=a&password=b");
    assert_eq!((odd.status, odd.json()["error"].as_str()), (400, Some("unsupported_grant_type")));
    assert_eq!(api.token_request("").json()["error"], "invalid_request");
    assert_eq!(send(&api.base, "GET", "/oauth/token", &[], None).status, 405, "POST only");
}

#[test]
fn authorization_codes_are_single_use() {
    let api = Api::start(24);
    let code = api.sim.issue_authorization_code();
    let form = format!("grant_type=authorization_code&code={code}&redirect_uri=http://localhost/cb");
    let first = api.token_request(&form).json();
    assert_eq!(first["token_type"], "Bearer");
    let refresh_token = first["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&api, refresh_token).status, 200);
    assert_eq!(api.token_request(&form).json()["error"], "invalid_grant");

    let c = api.sim.credentials();
    assert_eq!(c.refresh_token, refresh_token, "credentials() hands out the newest refresh token");
    let target = format!(
        "/oauth/authorize?client_id={}&response_type=code&redirect_uri=http://localhost/cb&state=s%201",
        c.client_id
    );
    let redirect = send(&api.base, "GET", &target, &[], None);
    assert_eq!(redirect.status, 302);
    let location = redirect.header("location").unwrap();
    assert!(location.starts_with("http://localhost/cb?code=") && location.ends_with("&state=s%201"), "{location}");
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let exchanged =
        api.token_request(&format!("grant_type=authorization_code&code={code}&redirect_uri=http://localhost/cb"));
    assert_eq!(exchanged.status, 200);
}

/// The location the consent page redirects to, for a consent to `http://localhost/cb`.
fn consent(api: &Api, extra: &str) -> String {
    let target = format!(
        "/oauth/authorize?client_id={}&response_type=code&redirect_uri=http://localhost/cb&state=s1{extra}",
        api.sim.credentials().client_id
    );
    let redirect = send(&api.base, "GET", &target, &[], None);
    assert_eq!(redirect.status, 302, "{}", redirect.text());
    redirect.header("location").unwrap().to_owned()
}

fn code_of(location: &str) -> &str {
    location.split("code=").nth(1).unwrap().split('&').next().unwrap()
}

#[test]
fn a_code_is_bound_to_its_redirect_uri_and_pkce_challenge() {
    let api = Api::start(28);
    let code = code_of(&consent(&api, "")).to_owned();
    let elsewhere =
        api.token_request(&format!("grant_type=authorization_code&code={code}&redirect_uri=http://evil/cb"));
    assert_eq!((elsewhere.status, elsewhere.json()["error"].as_str()), (400, Some("invalid_grant")));
    let spent =
        api.token_request(&format!("grant_type=authorization_code&code={code}&redirect_uri=http://localhost/cb"));
    assert_eq!(spent.json()["error"], "invalid_grant", "a refused attempt spends the code");

    // A verifier and its S256 challenge.
    let challenge = "&code_challenge=NtHAWabmnJ3E0LvOdhq_vBnfII7Km1byS2qJpM4xWI4&code_challenge_method=S256";
    let form = |code: &str, verifier: &str| {
        format!("grant_type=authorization_code&code={code}&redirect_uri=http://localhost/cb&code_verifier={verifier}")
    };
    let code = code_of(&consent(&api, challenge)).to_owned();
    assert_eq!(
        api.token_request(&form(&code, "wrong")).json()["error_description"],
        "code_verifier does not match the code_challenge"
    );
    let code = code_of(&consent(&api, challenge)).to_owned();
    assert_eq!(api.token_request(&form(&code, "dBjftJeZ4CVP-mJ92IZcLXlgdjf7xH2bJVwUhaJmt1Q")).status, 200);
    let plain = consent(&api, "&code_challenge=abc&code_challenge_method=plain");
    assert!(plain.contains("error=invalid_request") && !plain.contains("code="), "{plain}");
}

#[test]
fn the_consent_page_can_decline_forge_the_state_walk_away_or_let_the_code_expire() {
    let api = Api::start(29);
    api.sim.set_knobs(|k| k.consent = Consent::Deny);
    let denied = consent(&api, "");
    assert!(
        denied.starts_with("http://localhost/cb?error=access_denied&") && denied.ends_with("&state=s1"),
        "{denied}"
    );
    api.sim.set_knobs(|k| k.consent = Consent::WrongState);
    let forged = consent(&api, "");
    assert!(forged.contains("code=") && forged.ends_with("&state=forged"), "{forged}");
    api.sim.set_knobs(|k| k.consent = Consent::Ignore);
    let target = format!(
        "/oauth/authorize?client_id={}&response_type=code&redirect_uri=http://l/cb",
        api.sim.credentials().client_id
    );
    let page = send(&api.base, "GET", &target, &[], None);
    assert_eq!((page.status, page.header("location")), (200, None));

    api.sim.set_knobs(|k| {
        k.consent = Consent::Grant;
        k.authorization_code_ttl_secs = 0;
    });
    let code = code_of(&consent(&api, "")).to_owned();
    let late =
        api.token_request(&format!("grant_type=authorization_code&code={code}&redirect_uri=http://localhost/cb"));
    assert_eq!(late.json()["error_description"], "Authorization code expired");
}

#[test]
fn legacy_token_fields() {
    let mut config = SimConfig::new(25);
    config.knobs = Knobs { legacy_token_fields: true, rate_limit_per_sec: None, ..Knobs::default() };
    let api = Api::with(config);
    let body = refresh(&api, &api.sim.credentials().refresh_token).json();
    assert_eq!(body["account_key"].as_str(), Some(api.account.as_str()));
    assert_eq!(body["email"], "admin@example.com");
    assert_eq!(body["version"], "3");
    assert!(body["organizer_key"].is_string());
}

#[test]
fn access_tokens_are_checked_counted_and_expire() {
    let api = Api::start(26);
    let me = "/admin/rest/v1/me";
    let missing = send(&api.base, "GET", me, &[], None);
    assert_eq!((missing.status, missing.code()), (401, "not.authenticated".to_owned()));
    let bogus = send(&api.base, "GET", me, &[("Authorization", "Bearer nope".into())], None);
    assert_eq!(bogus.status, 401);

    api.sim.set_knobs(|k| k.access_token_max_uses = Some(3));
    assert!((0..3).all(|_| api.get(me).status == 200));
    let used_up = api.get(me);
    assert_eq!((used_up.status, used_up.code()), (401, "not.authenticated".to_owned()));
    assert_eq!(api.sim.stats().unauthorized, 3);
    api.sim.set_knobs(|k| k.access_token_max_uses = None);

    api.sim.set_knobs(|k| k.access_token_ttl_secs = 0);
    let instant = api.refresh_access_token();
    let expired = send(&api.base, "GET", me, &[("Authorization", format!("Bearer {instant}"))], None);
    assert_eq!(expired.status, 401);
    let body = refresh(&api, &api.sim.credentials().refresh_token).json();
    assert_eq!(body["expires_in"].as_u64(), Some(0));
}

#[test]
fn me_and_scim_me() {
    let api = Api::start(27);
    let me = api.get_ok("/admin/rest/v1/me");
    assert_eq!(me["accountKey"].as_str(), Some(api.account.as_str()));
    assert_eq!(me["accounts"][0]["key"].as_str(), Some(api.account.as_str()));
    assert!(me["accounts"][0]["name"].is_string());
    assert_eq!(me["adminRoles"][0], "SUPER_USER");
    let scim = api.get_ok("/identity/v1/Users/me");
    let account = &scim["urn:scim:schemas:extension:getgo:1.0"]["accounts"][0];
    assert_eq!(account["value"].as_str(), Some(api.account.as_str()));
    assert!(account["entitlements"].as_array().unwrap().iter().any(|e| e == "acctadmin"));
    assert_eq!(scim["userName"], "admin@example.com");
    assert_eq!(send(&api.base, "GET", "/identity/v1/Users/me", &[], None).status, 401);
}
