//! Property tests over what the host takes from outside: profile TOML, `apply` files and
//! identities files. Generated cases use a fixed seed; the checked-in corpus under
//! `tests/corpus/<target>/` (crate `gtm-corpus`, one input per file) is replayed too.

use std::path::Path;

use gtm_corpus::{generated, replay};
use gtm_e2e::{Harness, unthrottled};
use gtm_host::profile::{Overrides, Paths, Profile};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

/// A TOML value of any type, including the out-of-range ones.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        (-5i64..70_000).prop_map(|n| n.to_string()),
        Just("0".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("-1".to_owned()),
        Just("1e400".to_owned()),
        Just("nan".to_owned()),
        Just("true".to_owned()),
        prop_oneof![
            Just("http://127.0.0.1:1"),
            Just("http://127.0.0.1.evil.example"),
            Just("http://x@127.0.0.1:9"),
            Just("https://api.getgo.com:99999"),
            Just("https://api.getgo.com/"),
            Just("ftp://x"),
            Just(""),
            Just("../../etc"),
            Just("user-update"),
        ]
        .prop_map(|s| format!("{s:?}")),
        "[ -~]{0,12}".prop_map(|s| format!("{s:?}")),
        Just("[1, 2]".to_owned()),
        Just("{ template = \"{{ x }}\" }".to_owned()),
    ]
}

/// A profile: known and unknown keys in and out of their tables, any values, or raw text.
fn profile_text() -> impl Strategy<Value = String> {
    let top = prop_oneof![
        Just("api-base"),
        Just("token-base"),
        Just("account-key"),
        Just("page-size"),
        Just("suppress-email"),
        Just("license-assignment"),
        Just("api_base"),
    ];
    let limits = prop_oneof![
        Just("memory-mib"),
        Just("call-timeout-secs"),
        Just("http-timeout-secs"),
        Just("max-response-kib"),
        Just("fuel"),
    ];
    let reconciliation = prop_oneof![Just("max-missing-percent"), Just("max-missing-count")];
    let lines = (
        prop::collection::vec((top, toml_value()), 0..4),
        prop::collection::vec((limits, toml_value()), 0..3),
        prop::collection::vec((reconciliation, toml_value()), 0..2),
    )
        .prop_map(|(top, limits, reconciliation)| {
            let table = |name: &str, entries: Vec<(&str, String)>| {
                if entries.is_empty() {
                    return String::new();
                }
                let body: String = entries.into_iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
                format!("[{name}]\n{body}")
            };
            let head: String = top.into_iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
            format!("{head}{}{}", table("limits", limits), table("reconciliation", reconciliation))
        });
    prop_oneof![6 => lines, 1 => "\\PC{0,40}"]
}

/// Loading a profile never panics; what loads is within the documented ranges.
fn check_profile(paths: &Paths, text: &[u8]) -> Result<(), TestCaseError> {
    std::fs::write(paths.profile_file("prop"), text).unwrap();
    let Ok(profile) = Profile::load(paths, "prop", &Default::default(), &Overrides::default()) else {
        return Ok(());
    };
    prop_assert!(profile.page_size.is_none_or(|n| (1..=1000).contains(&n)));
    prop_assert!(profile.limits.memory_bytes > 0, "a zero memory cap loaded");
    for base in [&profile.api_base, &profile.token_base] {
        let plain = base.strip_prefix("http://");
        let host = plain.map(|rest| match rest.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => rest.split(['/', ':']).next().unwrap_or_default(),
        });
        prop_assert!(
            host.is_none_or(|h| h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())),
            "plain http to a host that is not loopback loaded: {}",
            base
        );
        prop_assert!(!base.contains('@'), "a base with userinfo loaded: {}", base);
    }
    Ok(())
}

fn profile_paths() -> (tempfile::TempDir, Paths) {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths { home: home.path().to_owned(), cache: home.path().join("cache") };
    std::fs::create_dir_all(paths.profile_file("prop").parent().unwrap()).unwrap();
    (home, paths)
}

#[test]
fn profiles_load_only_within_their_documented_ranges() {
    let (_home, paths) = profile_paths();
    generated(400, profile_text(), |text| check_profile(&paths, text.as_bytes()));
}

#[test]
fn profile_corpus() {
    let (_home, paths) = profile_paths();
    replay("profiles", |_, text| check_profile(&paths, text));
}

/// One `apply` line: an operation, one broken in a way users break them, or raw bytes.
fn apply_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(br#"{"op":"grant","account":"user1@example.com","role":"RUN_REPORTS"}"#.to_vec()),
        Just(br#"{"op":"create","email":"new@example.com","first-name":"N","last-name":"P"}"#.to_vec()),
        Just(br#"{"op":"delete","account":"1"}"#.to_vec()),
        Just(br#"{"op":"grant","account":"x","role":"RUN_REPORTS","colour":"red"}"#.to_vec()),
        Just(br#"{"op":"launch"}"#.to_vec()),
        Just(br#"{"op":"update","account":"1","first-name":42}"#.to_vec()),
        Just(b"{\"op\":\"grant\",\"account\":\"\xff\xfe\",\"role\":\"X\"}".to_vec()),
        Just(b"{not json".to_vec()),
        Just(b"   ".to_vec()),
        Just(Vec::new()),
        prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..40),
    ]
}

/// `apply --dry-run` gives every non-blank line of the file exactly one result, numbered with
/// the file's line, in order, whatever the other lines hold; it sends no write.
fn check_apply(h: &Harness, dir: &Path, lines: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let file = dir.join("ops.jsonl");
    std::fs::write(&file, lines.join(&b'\n')).unwrap();
    let writes = h.writes();
    let out = h.run(&["apply", file.to_str().unwrap(), "--dry-run"]);
    prop_assert!([0, 1, 2].contains(&out.status), "exit {}: {}", out.status, out.stderr);
    let expected: Vec<u64> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| !String::from_utf8_lossy(line).trim().is_empty())
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let numbered: Vec<u64> =
        out.stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()?["line"].as_u64()).collect();
    prop_assert_eq!(numbered, expected, "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    prop_assert_eq!(h.writes(), writes, "a dry run wrote");
    Ok(())
}

#[test]
fn apply_files_get_one_result_per_line_whatever_the_lines_hold() {
    let h = Harness::new(unthrottled(61, 4));
    let dir = tempfile::tempdir().unwrap();
    generated(48, prop::collection::vec(apply_line(), 1..6), |lines| check_apply(&h, dir.path(), &lines));
}

#[test]
fn apply_corpus() {
    let h = Harness::new(unthrottled(62, 4));
    let dir = tempfile::tempdir().unwrap();
    replay("apply", |_, file| {
        let lines: Vec<Vec<u8>> = file.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        check_apply(&h, dir.path(), &lines)
    });
}

/// An identities file of any shape: the import correlates it, or refuses it up front (exit 2,
/// naming the file) without reading GoTo; never a panic.
fn check_identities(h: &Harness, dir: &Path, name: &str, contents: &[u8]) -> Result<(), TestCaseError> {
    let file = dir.join(name);
    std::fs::write(&file, contents).unwrap();
    let before = h.sim.stats().total;
    let out = h.run(&["import", "accounts", "--identities", file.to_str().unwrap()]);
    match out.status {
        0 => {}
        2 => {
            prop_assert!(out.stderr.contains(name), "the error does not name the file: {}", out.stderr);
            prop_assert_eq!(h.sim.stats().total, before, "a refused identities file still read GoTo");
        }
        other => prop_assert!(false, "exit {}: {}", other, out.stderr),
    }
    Ok(())
}

fn identities_file() -> impl Strategy<Value = (String, Vec<u8>)> {
    let cell = prop_oneof![
        Just("user1@example.com".to_owned()),
        Just("USER2@Example.com ".to_owned()),
        Just("".to_owned()),
        Just("\"quoted, cell\"".to_owned()),
        Just("=cmd|' /C calc'!A0".to_owned()),
        "[ -~]{0,10}",
    ];
    let header = prop_oneof![Just("id,email"), Just("employee-id,mail"), Just("email"), Just("name,phone"), Just("")];
    let csv = (header, prop::collection::vec(prop::collection::vec(cell.clone(), 0..3), 0..4)).prop_map(|(h, rows)| {
        let body: Vec<String> = rows.into_iter().map(|r| r.join(",")).collect();
        ("ids.csv".to_owned(), format!("{h}\n{}", body.join("\n")).into_bytes())
    });
    let jsonl = prop::collection::vec(
        prop_oneof![
            (cell.clone(), cell).prop_map(|(id, email)| serde_json::json!({"id": id, "email": email}).to_string()),
            Just("{\"id\": 1}".to_owned()),
            Just("[]".to_owned()),
            "[ -~]{0,12}",
        ],
        0..4,
    )
    .prop_map(|lines| ("ids.jsonl".to_owned(), lines.join("\n").into_bytes()));
    let bytes = prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| ("ids.csv".to_owned(), b));
    prop_oneof![csv, jsonl, bytes]
}

#[test]
fn identities_files_are_correlated_or_refused_up_front() {
    let h = Harness::new(unthrottled(63, 4));
    let dir = tempfile::tempdir().unwrap();
    generated(32, identities_file(), |(name, contents)| check_identities(&h, dir.path(), &name, &contents));
}

#[test]
fn identities_corpus() {
    let h = Harness::new(unthrottled(64, 4));
    let dir = tempfile::tempdir().unwrap();
    replay("identities", |name, contents| check_identities(&h, dir.path(), name, contents));
}
