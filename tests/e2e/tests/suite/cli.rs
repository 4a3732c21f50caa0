//! The command line itself: configuration errors, secrets, help, demo.

use gtm_e2e::{Harness, run_cli, unthrottled};

#[test]
fn a_malformed_profile_names_the_file_and_the_problem() {
    let h = Harness::new(unthrottled(61, 5));
    std::fs::write(h.profile_file(), "api-base = \"http://127.0.0.1:1\"\npage-size = \"many\"\n").unwrap();
    h.run(&["test"]).failure(2, &["sim.toml is not valid", "page-size"]);
    std::fs::write(h.profile_file(), "api-bass = \"x\"\n").unwrap();
    h.run(&["test"]).failure(2, &["unknown field `api-bass`"]);
}

#[test]
fn an_unknown_profile_lists_the_known_ones() {
    let h = Harness::new(unthrottled(62, 5));
    h.run(&["--profile", "prod", "test"]).failure(2, &["unknown profile \"prod\"", "known profiles: sim"]);
}

#[test]
fn bad_settings_from_flags_and_environment_are_named() {
    let h = Harness::new(unthrottled(63, 5));
    h.run(&["--api-base", "http://api.getgo.com", "test"]).failure(2, &["plain http is only allowed for loopback"]);
    h.run(&["--account-key", "acme", "test"]).failure(2, &["account-key must be GoTo's decimal account key"]);
    let mut env = h.env();
    env.insert("GTM_PAGE_SIZE".into(), "5000".into());
    run_cli(&["import", "accounts"], "", env).failure(2, &["page-size must be between 1 and 1000"]);
    h.run(&["import", "accounts", "--page-size", "0"]).failure(2, &["--page-size"]);
    h.run(&["import", "accounts", "-o", "/nonexistent-dir/x.jsonl"]).failure(2, &["does not exist"]);
    assert_eq!(h.sim.stats().total, 0, "nothing was sent");
}

#[test]
fn an_account_key_the_credentials_do_not_administer_is_refused() {
    let h = Harness::new(unthrottled(64, 5));
    h.run(&["--account-key", "123", "test"])
        .failure(2, &["account-key setting 123 is not an account these credentials administer"]);
}

#[test]
fn secrets_are_set_from_stdin_listed_by_name_and_deleted() {
    let h = Harness::new(unthrottled(65, 5));
    let out = h.run_with_stdin(&["secrets", "set", "client-id"], "abc\r\n").success();
    assert!(out.stdout.contains("stored secret client-id") && !out.stdout.contains("abc"));
    assert_eq!(h.stored_secret("client-id").as_deref(), Some("abc"));
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(h.secrets_file()).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    h.run_with_stdin(&["secrets", "set", "client-id"], "\n").failure(2, &["no value for client-id on stdin"]);
    h.run_with_stdin(&["secrets", "set", "Client Id"], "x").failure(2, &["not a valid secret name"]);
    h.run(&["secrets", "delete", "client-id"]).success();
    h.run(&["secrets", "delete", "client-id"]).failure(2, &["no secret client-id is stored"]);
    let listed = h.run(&["secrets", "list"]).success().stdout;
    assert!(listed.contains("refresh-token") && !listed.contains("client-id"), "{listed}");
}

#[test]
fn help_and_usage_errors() {
    let h = Harness::new(unthrottled(66, 1));
    let help = h.run(&["--help"]).success();
    assert!(help.stdout.contains("import") && help.stdout.contains("Exit codes"));
    h.run(&["frobnicate"]).failure(2, &["unrecognized subcommand"]);
    h.run(&["import", "entitlements", "--kind", "seats"]).failure(2, &["invalid value 'seats'"]);
}

#[test]
fn a_component_that_is_not_one_is_refused() {
    let h = Harness::new(unthrottled(67, 1));
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.wasm");
    std::fs::write(&bogus, b"\0asm\x01\0\0\0").unwrap();
    h.run(&["--component", bogus.to_str().unwrap(), "test"]).failure(1, &["not a valid WebAssembly component"]);
    h.run(&["--component", "/nonexistent.wasm", "test"]).failure(2, &["cannot read the component"]);
}

#[test]
fn the_demo_runs_the_whole_import_then_a_lifecycle_and_its_reconciliation() {
    let h = Harness::new(unthrottled(68, 1));
    let dir = tempfile::tempdir().unwrap();
    let out = h.run(&["demo", "--users", "400", "--output-dir", dir.path().to_str().unwrap()]).success();
    for needle in [
        "connected to account",
        "accounts: 400 imported",
        "groups: ",
        "licenses: 6",
        "admin roles: 8",
        "run 1: 400 accounts recorded in the state",
        "plan (dry run, nothing sent)",
        "joiner: created",
        "mover: move",
        "leaver: remove every license from",
        "accounts (run 2): 400 seen; 1 added, 2 changed, 397 unchanged, 0 restored, 1 missing",
        "requests to the simulator",
    ] {
        assert!(out.stdout.contains(needle), "{needle:?} missing from:\n{}", out.stdout);
    }
    let accounts = std::fs::read_to_string(dir.path().join("accounts.jsonl")).unwrap();
    assert_eq!(accounts.lines().count(), 400);
    assert_eq!(
        gtm_e2e::files_in(dir.path()),
        vec!["accounts.jsonl", "admin-role.jsonl", "group.jsonl", "license.jsonl"]
    );
}
