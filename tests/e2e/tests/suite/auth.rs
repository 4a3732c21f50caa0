//! OAuth: refresh on expiry, token caching across runs, rotation, rejected credentials.

use std::collections::BTreeSet;
use std::time::Duration;

use gotosim::{Fault, FaultRule, Gate, Matcher, Rotation};
use gtm_e2e::{Harness, OpenOnDrop, files_in, run_cli, unthrottled};

#[test]
fn an_access_token_expiring_mid_import_is_refreshed_and_nothing_is_lost() {
    let mut config = unthrottled(31, 500);
    // Each token authorises four API requests, then GoTo answers 401.
    config.knobs.access_token_max_uses = Some(4);
    let h = Harness::new(config);
    let records = h.run(&["import", "accounts", "--page-size", "50"]).success().jsonl();
    let keys: Vec<&str> = records.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 500);
    assert_eq!(keys.iter().collect::<BTreeSet<_>>().len(), 500, "no duplicates");
    assert_eq!(keys, h.user_keys(), "nothing missing");
    let stats = h.sim.stats();
    assert!(stats.unauthorized >= 2, "tokens expired mid-import: {stats:?}");
    assert_eq!(stats.refresh_grants_ok, stats.unauthorized + 1, "one refresh per expiry, plus the first");
}

#[test]
fn a_second_run_reuses_the_cached_token_and_the_compiled_code() {
    let h = Harness::new(unthrottled(32, 20));
    let cache = tempfile::tempdir().unwrap();
    let mut env = h.env();
    env.insert("GTM_CACHE_DIR".into(), cache.path().display().to_string());

    let first = h.run_with(&["-v", "import", "accounts"], "", env.clone()).success();
    assert!(first.stderr.contains("component loaded (Compiled)"), "{}", first.stderr);
    assert_eq!(h.sim.stats().token_requests, 1);
    assert_eq!(files_in(&cache.path().join("components")).len(), 1);

    let second = h.run_with(&["-v", "import", "accounts"], "", env).success();
    assert!(second.stderr.contains("component loaded (Hit)"), "{}", second.stderr);
    assert_eq!(h.sim.stats().token_requests, 1, "the access token cached by the first run was reused");
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn a_rotated_refresh_token_is_persisted_and_used_next_time() {
    let mut config = unthrottled(33, 10);
    config.knobs.rotation = Rotation::Always;
    let h = Harness::new(config);
    let original = h.stored_secret("refresh-token").unwrap();
    h.run(&["import", "accounts"]).success();
    let rotated = h.stored_secret("refresh-token").unwrap();
    assert_ne!(rotated, original, "the new refresh token was stored");
    // Dropping the cached access token makes the next run refresh, with the rotated token.
    h.run(&["secrets", "delete", "access-token"]).success();
    h.run(&["import", "accounts"]).success();
    assert_ne!(h.stored_secret("refresh-token").unwrap(), rotated);
}

#[test]
fn two_processes_refreshing_around_the_same_time_both_succeed_with_a_rotating_token() {
    let mut config = unthrottled(35, 10);
    config.knobs.rotation = Rotation::Always;
    // A token serves one request, so the second process refreshes even if it starts only after
    // the first has stored its token.
    config.knobs.access_token_max_uses = Some(1);
    let h = Harness::new(config);
    // Hold the first refresh at GoTo, and the second when it comes.
    let (first, second) = (Gate::default(), Gate::default());
    let _opened = OpenOnDrop(vec![first.clone(), second.clone()]);
    for gate in [&first, &second] {
        let matcher = Matcher { path_contains: Some("/oauth/token".into()), ..Default::default() };
        h.sim.add_fault(FaultRule { matcher, skip: 0, times: 1, fault: Fault::Hold(gate.clone()) });
    }
    let env = h.env();
    let a = std::thread::spawn(move || run_cli(&["test"], "", env));
    assert!(first.wait_for_arrival(Duration::from_secs(120)), "the first refresh never reached GoTo");
    // The second process needs a refresh too, while the first holds the refresh token it read.
    let env = h.env();
    let b = std::thread::spawn(move || run_cli(&["test"], "", env));
    first.open();
    assert!(second.wait_for_arrival(Duration::from_secs(120)), "the second refresh never reached GoTo");
    second.open();
    a.join().unwrap().success();
    // Had it spent the refresh token the first one rotated, GoTo would have said invalid_grant.
    b.join().unwrap().success();
    assert_eq!(h.sim.stats().refresh_grants_ok, 2);
}

#[test]
fn without_rotation_the_old_refresh_token_is_kept() {
    let mut config = unthrottled(34, 10);
    config.knobs.rotation = Rotation::Never;
    let h = Harness::new(config);
    let original = h.stored_secret("refresh-token").unwrap();
    h.run(&["import", "accounts"]).success();
    h.run(&["secrets", "delete", "access-token"]).success();
    h.run(&["import", "accounts"]).success();
    assert_eq!(h.stored_secret("refresh-token").unwrap(), original);
    assert_eq!(h.sim.stats().refresh_grants_ok, 2);
}

#[test]
fn a_bad_refresh_token_fails_clearly_with_no_output_file() {
    let h = Harness::new(unthrottled(35, 10));
    h.run_with_stdin(&["secrets", "set", "refresh-token"], "not-a-valid-token\n").success();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("accounts.jsonl");
    let out = h.run(&["import", "accounts", "--output", output.to_str().unwrap()]);
    out.failure(3, &["GoTo rejected the refresh token", "invalid_grant", "hint:", "secrets set refresh-token"]);
    assert!(files_in(dir.path()).is_empty(), "no partial output");
    assert_eq!(h.sim.stats().admin_reads, 0);
}

#[test]
fn bad_client_credentials_say_which_secrets_to_check() {
    let h = Harness::new(unthrottled(36, 5));
    h.run_with_stdin(&["secrets", "set", "client-secret"], "wrong").success();
    h.run(&["test"]).failure(3, &["GoTo rejected the OAuth client", "client-id and client-secret"]);
}

#[test]
fn a_missing_secret_names_it_and_how_to_store_it() {
    let h = Harness::new(unthrottled(37, 5));
    h.run(&["secrets", "delete", "client-id"]).success();
    h.run(&["import", "accounts"]).failure(2, &["configuration (client-id)", "secrets set client-id"]);
    assert_eq!(h.sim.stats().total, 0, "nothing was sent");
}

#[test]
fn secrets_from_the_environment_override_the_file() {
    let h = Harness::new(unthrottled(38, 5));
    h.run(&["secrets", "delete", "client-secret"]).success();
    let mut env = h.env();
    env.insert("GTM_SECRET_CLIENT_SECRET".into(), h.sim.credentials().client_secret);
    let out = run_cli(&["test"], "", env.clone()).success();
    assert!(out.stdout.starts_with("connected to GoTo account"), "{}", out.stdout);
    let listed = run_cli(&["secrets", "list"], "", env).success();
    assert!(listed.stdout.contains("client-secret\tenv GTM_SECRET_CLIENT_SECRET"), "{}", listed.stdout);
}

#[test]
fn a_refresh_token_from_the_environment_that_goto_rotated_is_superseded_by_the_stored_one() {
    let mut config = unthrottled(39, 5);
    config.knobs.rotation = Rotation::Always;
    let h = Harness::new(config);
    let mut env = h.env();
    env.insert("GTM_SECRET_REFRESH_TOKEN".into(), h.sim.credentials().refresh_token);
    h.run(&["secrets", "delete", "refresh-token"]).success();

    let first = h.run_with(&["test"], "", env.clone()).success();
    assert!(!first.stderr.contains("has since been replaced"), "{}", first.stderr);
    let rotated = h.stored_secret("refresh-token").expect("the rotated token was stored");
    // The variable still holds the spent token; the next refresh must use the rotated one.
    h.run(&["secrets", "delete", "access-token"]).success();
    let second = h.run_with(&["test"], "", env.clone()).success();
    assert!(
        second.stderr.contains("GTM_SECRET_REFRESH_TOKEN holds a value that has since been replaced"),
        "{}",
        second.stderr
    );
    assert_eq!(second.stderr.matches("has since been replaced").count(), 1, "said once: {}", second.stderr);
    assert_eq!(h.sim.stats().refresh_grants_ok, 2, "no invalid_grant");
    assert_ne!(h.stored_secret("refresh-token").unwrap(), rotated, "rotated again, and stored");
    let listed = h.run_with(&["secrets", "list"], "", env).success();
    assert!(listed.stdout.contains("refresh-token\tfile"), "{}", listed.stdout);
}

/// The leak sweep itself: a secret in a run's output, or part of one in a file under the home,
/// fails the test.
#[test]
fn the_leak_sweep_catches_a_secret_in_output_and_in_the_home() {
    let h = Harness::new(unthrottled(40, 1));
    let mut env = h.env();
    // `secrets list` prints the variable's name, so a secret equal to it is "printed".
    env.insert("GTM_SECRET_SWEEP_PROBE".into(), "GTM_SECRET_SWEEP_PROBE".into());
    let printed = std::panic::catch_unwind(|| run_cli(&["secrets", "list"], "", env)).unwrap_err();
    let message = printed.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("the stdout of `gtm-connector secrets list` holds the secret \"GTM_\"… (22 characters)"),
        "{message}"
    );

    // Cut short, as a message quoting "the first 20 characters" would.
    let secret = h.sim.credentials().client_secret;
    std::fs::write(h.home.path().join("notes.txt"), format!("remember {}", &secret[..20])).unwrap();
    let swept = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(h))).unwrap_err();
    let message = swept.downcast_ref::<String>().unwrap();
    assert!(message.contains("notes.txt holds the secret"), "{message}");
    assert!(!message.contains(&secret), "the failure does not repeat the secret");
}
