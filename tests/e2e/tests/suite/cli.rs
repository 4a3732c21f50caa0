//! The command line itself: configuration errors, secrets, help, demo.

use gotosim::{Fault, FaultRule, Matcher};
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
    assert!(out.stderr.contains("stored secret client-id") && !out.stderr.contains("abc"));
    assert_eq!(h.stored_secret("client-id").as_deref(), Some("abc"));
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(h.secrets_file()).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    h.run_with_stdin(&["secrets", "set", "client-id"], "\n").failure(2, &["no value for client-id on stdin"]);
    h.run_with_stdin(&["secrets", "set", "Client Id"], "x").failure(2, &["invalid value 'Client Id'"]);
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
    h.run(&["--component", bogus.to_str().unwrap(), "test"])
        .failure(2, &["cannot load the component", "bogus.wasm", "not a valid WebAssembly component"]);
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not wasm at all").unwrap();
    h.run(&["--component", text.to_str().unwrap(), "test"]).failure(2, &["cannot load the component", "notes.txt"]);
    h.run(&["--component", "/nonexistent.wasm", "test"]).failure(2, &["cannot read the component /nonexistent.wasm"]);
    assert_eq!(h.sim.stats().total, 0, "nothing was sent");
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
        "leaver: ",
        "remove every license from",
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

#[test]
fn a_secret_that_is_not_utf8_is_bad_input_and_the_stored_one_stays() {
    let h = Harness::new(unthrottled(69, 1));
    let before = h.stored_secret("client-id");
    h.run_with_stdin_bytes(&["secrets", "set", "client-id"], b"abc\xff\xfe\n")
        .failure(2, &["the value for client-id on stdin is not valid UTF-8"]);
    assert_eq!(h.stored_secret("client-id"), before);
}

#[test]
fn limits_out_of_range_are_bad_input_naming_the_key_at_load() {
    let h = Harness::new(unthrottled(70, 1));
    let profile = std::fs::read_to_string(h.profile_file()).unwrap();
    for (line, needle) in [
        ("memory-mib = 0", "[limits] memory-mib must be between 1 and 4096, got 0"),
        ("memory-mib = 99999999", "[limits] memory-mib must be between 1 and 4096, got 99999999"),
        ("call-timeout-secs = 0", "[limits] call-timeout-secs must be between 1 and 86400, got 0"),
        ("http-timeout-secs = 0", "[limits] http-timeout-secs must be between 1 and 3600, got 0"),
        ("max-response-kib = 0", "[limits] max-response-kib must be between 1 and 1048576, got 0"),
        ("max-response-kib = 99999999999999", "[limits] max-response-kib must be between 1 and 1048576"),
        ("requests-per-second = 0", "[limits] requests-per-second must be between 1 and 1000, got 0"),
        ("requests-per-second = 5000", "[limits] requests-per-second must be between 1 and 1000, got 5000"),
    ] {
        std::fs::write(h.profile_file(), &profile).unwrap();
        h.set_limits(line);
        h.run(&["test"]).failure(2, &[needle]);
    }
    assert_eq!(h.sim.stats().total, 0, "nothing was sent");
}

#[test]
fn a_port_above_65535_is_bad_input_at_load() {
    let h = Harness::new(unthrottled(71, 1));
    h.run(&["--api-base", "http://127.0.0.1:70000", "test"])
        .failure(2, &["setting api-base", "its port \"70000\" is not a number from 1 to 65535"]);
    let mut env = h.env();
    env.insert("GTM_TOKEN_BASE".into(), "https://auth.example:123456/oauth".into());
    run_cli(&["test"], "", env).failure(2, &["setting token-base", "\"123456\""]);
    h.run(&["--api-base", "http://[::1]:65536", "test"]).failure(2, &["\"65536\""]);
    assert_eq!(h.sim.stats().total, 0, "nothing was sent");
}

#[test]
fn a_bad_filter_or_page_size_is_invalid_input_before_anything_is_sent_or_recorded() {
    let h = Harness::new(unthrottled(72, 5));
    let long = format!("email={}@example.com", "a".repeat(100 << 10));
    let out =
        h.run(&["import", "accounts", "--filter", &long]).failure(2, &["invalid input (filter.email)", "at most 4096"]);
    assert!(!out.stderr.contains("invalid path"), "{}", out.stderr);
    let goto = format!("goto={}", "x".repeat(100 << 10));
    h.run(&["import", "accounts", "--filter", &goto]).failure(2, &["invalid input (filter.goto)", "at most 4096"]);
    h.run(&["import", "accounts", "--filter", "email=a@x", "--page-size", "0"]).failure(2, &["0 is not in 1..=1000"]);
    assert_eq!(h.sim.stats().total, 0, "nothing was sent, not even a token refresh");
    let history = h.run(&["state", "history"]);
    assert!(history.stderr.contains("has no reconciliation state yet"), "no run was recorded: {}", history.stderr);
}

#[test]
fn a_redirect_from_goto_is_refused_not_followed() {
    let h = Harness::new(unthrottled(73, 5));
    let me = Matcher { path_contains: Some("/me".into()), ..Default::default() };
    h.sim.add_fault(FaultRule { matcher: me, skip: 0, times: 1, fault: Fault::Status(302) });
    let out = h.run(&["test"]).failure(1, &["GoTo answered with a redirect (HTTP 302)", "redirects are not followed"]);
    assert!(!out.stderr.contains("no error detail"), "{}", out.stderr);
}

#[test]
fn a_csv_export_neutralises_cells_a_spreadsheet_would_run_and_json_keeps_them() {
    let h = Harness::new(unthrottled(74, 3));
    let keys = h.user_keys();
    let names = ["=HYPERLINK(\"http://evil.example\",\"x\")", "@SUM(1)", "-2+3"];
    h.sim.with_world(|w| {
        for (key, name) in keys.iter().zip(names) {
            w.update_user(key, |u| u.first_name = name.to_owned());
        }
    });
    let csv = h.run(&["import", "accounts", "--format", "csv"]).success().stdout;
    for (key, neutralised) in
        keys.iter().zip(["\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"", "\"'@SUM(1)\"", "\"'-2+3\""])
    {
        let email = h.sim.with_world(|w| w.user(key)).unwrap().email;
        let start = format!("{key},{email},{neutralised},");
        assert!(csv.lines().any(|l| l.starts_with(&start)), "no row starts {start}:\n{csv}");
    }
    let jsonl = h.run(&["import", "accounts"]).success().jsonl();
    for (key, name) in keys.iter().zip(names) {
        let record = jsonl.iter().find(|r| r["key"] == key.as_str()).unwrap();
        assert_eq!(record["first-name"], name, "JSON carries the value as it is");
    }
}
