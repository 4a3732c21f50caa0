//! The conventions users expect of a command line: completions and manual pages, examples in
//! every `--help`, destructive writes that ask first, `--format json` for data, `--quiet`,
//! a `--version` that says what runs, and `secrets set` that catches a typo.

use gtm_e2e::{ClosesAfter, Harness, Outcome, run_cli, run_cli_into, unthrottled};
use sha2::Digest as _;

/// The accounts other than the one whose credentials are in use, which must stay.
fn others(h: &Harness) -> Vec<String> {
    let principal = h.sim.with_world(|w| w.principal_key().to_owned());
    h.user_keys().into_iter().filter(|k| *k != principal).collect()
}

/// Whether the simulator still has the account `key`.
fn exists(h: &Harness, key: &str) -> bool {
    h.sim.with_world(|w| w.user(key)).is_some()
}

/// A refusal before anything was sent: exit 2, these words on stderr, no request at all.
#[track_caller]
fn refused_unsent(h: &Harness, outcome: Outcome, needles: &[&str]) {
    let outcome = outcome.failure(2, needles);
    assert_eq!(outcome.stdout, "", "no result is printed");
    assert_eq!(h.sim.stats().total, 0, "nothing was sent, not even a token refresh");
}

#[test]
fn completions_for_every_shell_and_manual_pages_come_from_the_grammar() {
    let h = Harness::new(unthrottled(1001, 1));
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = h.run(&["completions", shell]).success().stdout;
        for word in ["gtm-connector", "import", "entitlements", "hard-delete"] {
            assert!(script.contains(word), "the {shell} completion lacks {word:?}");
        }
    }
    h.run(&["completions", "tcsh"]).failure(2, &["invalid value 'tcsh'", "bash"]);

    let page = h.run(&["man"]).success().stdout;
    for needle in [".TH gtm-connector 1", ".SH NAME", ".SH SUBCOMMANDS", ".SH \"GLOBAL OPTIONS\"", "Examples:"] {
        assert!(page.contains(needle), "the manual page lacks {needle:?}:\n{page}");
    }
    let accounts = h.run(&["man", "import", "accounts"]).success().stdout;
    assert!(accounts.contains(".TH gtm-connector-import-accounts 1"), "{accounts}");
    // roff escapes the dashes.
    for needle in ["\\-\\-filter", "gtm\\-connector import accounts \\-\\-output accounts.jsonl"] {
        assert!(accounts.contains(needle), "the page of `import accounts` lacks {needle:?}:\n{accounts}");
    }
    h.run(&["man", "import", "acounts"]).failure(2, &["`gtm-connector-import` has no command \"acounts\"", "accounts"]);
}

#[test]
fn help_shows_examples_and_global_options_under_their_own_heading() {
    let h = Harness::new(unthrottled(1002, 1));
    for (args, example) in [
        (vec!["--help"], "gtm-connector demo"),
        (vec!["import", "accounts", "--help"], "gtm-connector import accounts --output accounts.jsonl"),
        (vec!["delete", "-h"], "gtm-connector delete ann@example.com --mode hard-delete --yes"),
        (vec!["help", "state", "diff"], "gtm-connector state diff 3 7"),
    ] {
        let help = h.run(&args).success().stdout;
        let (own, globals) = help.split_once("Global options:").unwrap_or_else(|| panic!("{args:?}:\n{help}"));
        assert!(globals.contains("--profile <NAME>") && globals.contains("-q, --quiet"), "{args:?}:\n{help}");
        assert!(!own.contains("--profile"), "{args:?}: global options are under their heading only:\n{help}");
        assert!(help.contains("Examples:") && help.contains(example), "{args:?} lacks {example:?}:\n{help}");
    }
    let help = h.run(&["secrets", "set", "--help"]).success().stdout;
    assert!(
        help.contains("[possible values: client-id, client-secret, refresh-token, access-token, scim-token]"),
        "{help}"
    );
}

#[test]
fn a_hard_delete_without_a_terminal_needs_yes_and_sends_nothing_without_it() {
    let h = Harness::new(unthrottled(1003, 3));
    let key = others(&h)[0].clone();
    refused_unsent(
        &h,
        h.run(&["delete", &key, "--mode", "hard-delete"]),
        &[&format!("erases {key} and its meeting history"), "add --yes", "nothing was sent"],
    );
    assert!(exists(&h, &key));

    let plan = h.run(&["delete", &key, "--mode", "hard-delete", "--dry-run"]).success().json();
    assert_eq!(plan["status"], "planned", "a dry run needs no confirmation: {plan}");
    assert_eq!(h.writes(), 0);
    assert!(exists(&h, &key));

    let done = h.run(&["delete", &key, "--mode", "hard-delete", "--yes"]).success().json();
    assert_eq!(done["status"], "changed");
    assert!(!exists(&h, &key));

    // Deprovisioning keeps the account: it needs no confirmation.
    let other = others(&h)[0].clone();
    assert_eq!(h.run(&["delete", &other]).success().json()["status"], "changed");
    assert!(exists(&h, &other));
}

#[test]
fn a_hard_delete_on_a_terminal_asks_and_only_yes_goes_ahead() {
    let h = Harness::new(unthrottled(1004, 3));
    let key = others(&h)[0].clone();
    let question = format!("Delete {key} for good? GoTo erases the account and its meeting history. [y/N]");
    for typed in ["n\n", "\n", "yess\n", ""] {
        let outcome = h.run_on_terminal(&["delete", &key, "--mode", "hard-delete"], typed);
        refused_unsent(&h, outcome, &[&question, &format!("not confirmed: {key} was not deleted")]);
    }
    assert!(exists(&h, &key));
    let done = h.run_on_terminal(&["delete", &key, "--mode", "hard-delete"], "y\n").success();
    assert!(done.stderr.contains(&question), "{}", done.stderr);
    assert_eq!(done.json()["status"], "changed");
    assert!(!exists(&h, &key));
}

#[test]
fn apply_with_hard_deletes_needs_yes_and_names_the_lines_before_sending_anything() {
    let h = Harness::new(unthrottled(1005, 5));
    let keys = others(&h);
    let lines = [
        format!(r#"{{"op":"update","account":"{}","last-name":"Kept"}}"#, keys[0]),
        format!(r#"{{"op":"delete","account":"{}","mode":"hard-delete"}}"#, keys[1]),
        String::new(),
        format!(r#"{{"op":"delete","account":"{}"}}"#, keys[2]),
        format!(r#"{{"op":"delete","account":"{}","mode":"hard-delete"}}"#, keys[3]),
    ];
    let ops = lines.join("\n") + "\n";
    let file = h.home.path().join("leavers.jsonl");
    std::fs::write(&file, &ops).unwrap();
    let file = file.to_str().unwrap();
    let named = [format!("line 2 ({})", keys[1]), format!("line 5 ({})", keys[3])];
    let needles = [named[0].as_str(), named[1].as_str(), "hard-delete", "Add --yes", "nothing was sent"];
    for outcome in [h.run(&["apply", file]), h.run_with_stdin(&["apply", "-"], &ops)] {
        let stderr = outcome.stderr.clone();
        refused_unsent(&h, outcome, &needles);
        assert!(!stderr.contains("line 4"), "a deprovisioning line is not a hard delete: {stderr}");
    }
    assert!(keys.iter().all(|k| exists(&h, k)));

    let plans = h.run(&["apply", file, "--dry-run"]).success().jsonl();
    assert_eq!(plans.len(), 4, "a dry run needs no confirmation");
    assert_eq!(h.writes(), 0);

    // Without hard deletes, stdin is read through and then run as it always was.
    let update = format!("{}\n", lines[0]);
    assert_eq!(h.run_with_stdin(&["apply", "-"], &update).success().jsonl()[0]["status"], "changed");

    let results = h.run_with_stdin(&["apply", "-", "--yes"], &ops).success().jsonl();
    assert_eq!(results.iter().map(|r| r["line"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 4, 5]);
    assert!(!exists(&h, &keys[1]) && !exists(&h, &keys[3]));
    assert!(exists(&h, &keys[2]), "deprovisioned, not deleted");
}

#[test]
fn test_and_secrets_list_print_json_with_format_json() {
    let h = Harness::new(unthrottled(1006, 1));
    let account = h.sim.account_key();
    let text = h.run(&["test"]).success().stdout;
    assert!(text.starts_with(&format!("connected to GoTo account {account}")), "{text}");
    let info = h.run(&["test", "--format", "json"]).success().json();
    assert_eq!(info["account-key"], account.as_str());
    let principal = h.sim.with_world(|w| w.user(w.principal_key()).unwrap());
    assert_eq!(info["principal"], principal.email.as_str());
    assert_eq!(info["admin-roles"], serde_json::json!(principal.admin_roles));
    assert!(info["account-name"].is_string(), "{info}");

    let secrets_file = h.secrets_file().display().to_string();
    let listed = h.run(&["secrets", "list", "--format", "json"]).success().json();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["access-token", "client-id", "client-secret", "refresh-token"]);
    assert!(listed.as_array().unwrap().iter().all(|s| s["source"] == "file" && s["from"] == secrets_file.as_str()));

    let mut env = h.env();
    env.insert("GTM_SECRET_CLIENT_ID".into(), "from-the-environment".into());
    let listed = run_cli(&["secrets", "list", "--format", "json"], "", env).success().json();
    let client_id = listed.as_array().unwrap().iter().find(|s| s["name"] == "client-id").unwrap();
    assert_eq!((&client_id["source"], &client_id["from"]), (&"env".into(), &"GTM_SECRET_CLIENT_ID".into()));
    let text = h.run(&["secrets", "list"]).success().stdout;
    assert!(text.contains(&format!("client-id\tfile {secrets_file}")), "{text}");
}

#[test]
fn quiet_silences_summaries_but_not_data_warnings_or_errors() {
    let h = Harness::new(unthrottled(1007, 6));
    let loud = h.run(&["import", "accounts"]).success();
    assert!(loud.stderr.contains("accounts (run 1): 6 seen"), "{}", loud.stderr);
    let quiet = h.run(&["--quiet", "import", "accounts"]).success();
    assert_eq!(quiet.jsonl().len(), 6, "the data still comes");
    assert!(!quiet.stderr.contains("(run 2)"), "{}", quiet.stderr);

    let key = others(&h)[0].clone();
    let op = format!(r#"{{"op":"update","account":"{key}","last-name":"Q"}}"#);
    assert!(h.run_with_stdin(&["apply", "-"], &op).success().stderr.contains("applied 1 operations"));
    let quiet = h.run_with_stdin(&["-q", "apply", "-"], &op).success();
    assert_eq!(quiet.jsonl().len(), 1);
    assert!(!quiet.stderr.contains("applied"), "{}", quiet.stderr);

    let stored = h.run_with_stdin(&["-q", "secrets", "set", "client-id"], &h.sim.credentials().client_id).success();
    assert!(!stored.stderr.contains("stored secret"), "{}", stored.stderr);
    h.run(&["-q", "--profile", "nope", "test"]).failure(2, &["error: unknown profile \"nope\""]);
    h.run(&["-q", "delete", &key, "--mode", "hard-delete"]).failure(2, &["add --yes"]);
}

#[test]
fn secrets_set_takes_only_the_names_the_connector_reads_and_confirms_on_stderr() {
    let h = Harness::new(unthrottled(1008, 1));
    let before = std::fs::read(h.secrets_file()).unwrap();
    for (typo, nearest) in [("client-secert", "client-secret"), ("refresh_token", "refresh-token")] {
        h.run_with_stdin(&["secrets", "set", typo], "value")
            .failure(2, &[&format!("invalid value '{typo}'"), &format!("a similar value exists: '{nearest}'")]);
    }
    h.run_with_stdin(&["secrets", "set", "api-key"], "value")
        .failure(2, &["[possible values: client-id, client-secret, refresh-token, access-token, scim-token]"]);
    assert_eq!(std::fs::read(h.secrets_file()).unwrap(), before, "nothing was stored");

    let stored = h.run_with_stdin(&["secrets", "set", "client-id"], &h.sim.credentials().client_id).success();
    assert_eq!(stored.stdout, "", "stdout is for data");
    assert!(stored.stderr.contains("stored secret client-id in "), "{}", stored.stderr);
    h.run(&["test"]).success();
    let deleted = h.run(&["secrets", "delete", "access-token"]).success();
    assert_eq!(deleted.stdout, "");
    assert!(deleted.stderr.contains("deleted secret access-token"), "{}", deleted.stderr);
}

#[test]
fn version_names_the_component_the_wit_package_and_wasmtime() {
    let h = Harness::new(unthrottled(1009, 1));
    let version = h.run(&["--version"]).success().stdout;
    let digest = sha2::Sha256::digest(gtm_host::engine::EMBEDDED_COMPONENT);
    let short: String = format!("{digest:x}").chars().take(16).collect();
    let wit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../wit/world.wit")).unwrap();
    let package = wit.lines().find_map(|l| l.strip_prefix("package ")?.strip_suffix(';')).unwrap();
    let lines: Vec<&str> = version.lines().collect();
    assert_eq!(
        lines[..3],
        [
            format!("gtm-connector {}", env!("CARGO_PKG_VERSION")).as_str(),
            &format!("component sha256:{short}"),
            &format!("WIT package {package}"),
        ]
    );
    let wasmtime = lines[3].strip_prefix("wasmtime ").unwrap_or_else(|| panic!("{version}"));
    assert!(wasmtime.split('.').count() == 3 && wasmtime.split('.').all(|n| n.parse::<u32>().is_ok()), "{version}");
    assert_eq!(h.run(&["-V"]).success().stdout, format!("gtm-connector {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn output_into_a_reader_that_goes_away_ends_quietly_with_success() {
    let h = Harness::new(unthrottled(31, 5));
    h.run(&["import", "accounts"]).success();
    for args in [&["man"][..], &["completions", "bash"], &["state", "history"], &["state", "show", "--format", "json"]]
    {
        let mut head = ClosesAfter::new(40);
        let (status, stderr) = run_cli_into(args, b"", h.env(), &mut head);
        assert_eq!(status, 0, "{args:?}: {stderr}");
        assert!(!stderr.contains("error") && !stderr.to_lowercase().contains("broken pipe"), "{args:?}: {stderr}");
        assert_eq!(head.taken.len(), 40, "{args:?}: the reader got what it asked for");
    }
}
