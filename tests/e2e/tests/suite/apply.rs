//! `apply`: a file of operations run in order, past failures, converging when run again.

use gotosim::NewUser;
use gtm_e2e::{Harness, unthrottled};

/// Operations where the third needs a seat that is not free until someone gives one back.
fn batch(license: &str, group: &str) -> String {
    [
        format!(
            r#"{{"op":"create","email":"ann@example.com","first-name":"Ann","last-name":"A","licenses":["{license}"]}}"#
        ),
        format!(r#"{{"op":"grant","account":"ann@example.com","group":"{group}"}}"#),
        format!(
            r#"{{"op":"create","email":"bob@example.com","first-name":"Bob","last-name":"B","licenses":["{license}"]}}"#
        ),
        r#"{"op":"create","email":"cat@example.com","first-name":"Cat","last-name":"C","roles":["RUN_REPORTS"]}"#
            .to_owned(),
        r#"{"op":"update","account":"cat@example.com","last-name":"Cee"}"#.to_owned(),
    ]
    .join("\n")
}

#[test]
fn a_failing_line_does_not_stop_the_rest_and_a_rerun_converges() {
    let h = Harness::new(unthrottled(331, 30));
    let group = h.sim.with_world(|w| w.groups()[0].key.clone());
    // A license with exactly one free seat: Ann takes it, Bob finds none.
    let license = h.sim.with_world(|w| {
        let license = w.licenses().into_iter().find(|l| l.seats > l.user_count).unwrap();
        for n in 1..(license.seats - license.user_count) {
            let mut filler = NewUser::new(format!("filler{n}@example.com"), "Fill", "Er");
            filler.license_keys = vec![license.key.clone()];
            w.add_user(filler);
        }
        license.key
    });
    let file = h.home.path().join("ops.jsonl");
    std::fs::write(&file, batch(&license, &group)).unwrap();
    let users_before = h.sim.with_world(|w| w.users().len());

    let first = h.run(&["apply", file.to_str().unwrap()]).failure(1, &["1 of 5 operations failed"]);
    let results = first.jsonl();
    let statuses: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["created", "changed", "failed", "created", "changed"]);
    assert_eq!(results[2]["line"], 3);
    assert_eq!(results[2]["error"]["kind"], "invalid-input");
    assert!(results[2]["error"]["message"].as_str().unwrap().contains("no free seat"));
    assert_eq!(h.sim.with_world(|w| w.users().len()), users_before + 2);

    // A seat is given back; the same file runs again and only Bob is left to do.
    h.sim.with_world(|w| {
        let filler = w.user_by_email("filler1@example.com").map(|u| u.key);
        filler.map(|key| w.remove_user(&key))
    });
    let second = h.run(&["apply", file.to_str().unwrap()]).success();
    let statuses: Vec<String> = second.jsonl().iter().map(|r| r["status"].as_str().unwrap().to_owned()).collect();
    assert_eq!(statuses, ["exists", "unchanged", "created", "exists", "unchanged"]);
    let users = h.sim.with_world(|w| w.users());
    for email in ["ann@example.com", "bob@example.com", "cat@example.com"] {
        assert_eq!(users.iter().filter(|u| u.email == email).count(), 1, "{email} exactly once");
    }
    assert_eq!(users.len(), users_before + 3 - 1, "three created, one filler removed");
    let bob = h.sim.with_world(|w| w.user_by_email("bob@example.com")).unwrap();
    assert_eq!(bob.license_keys, vec![license]);

    let writes = h.writes();
    let third = h.run(&["apply", file.to_str().unwrap()]).success();
    assert!(third.jsonl().iter().all(|r| r["status"] == "exists" || r["status"] == "unchanged"));
    assert_eq!(h.writes(), writes, "a converged file writes nothing");
}

#[test]
fn apply_reads_stdin_and_reports_unreadable_lines_with_their_number() {
    let h = Harness::new(unthrottled(332, 20));
    let input = "{\"op\":\"create\",\"email\":\"x@example.com\",\"first-name\":\"X\",\"last-name\":\"Y\"}\n\
                 \n\
                 {\"op\":\"grnat\",\"account\":\"x@example.com\"}\n\
                 {\"op\":\"grant\",\"account\":\"x@example.com\",\"role\":\"RUN_REPORTS\",\"group\":\"1\"}\n\
                 {\"op\":\"create\",\"emial\":\"typo@example.com\"}\n";
    let out = h.run_with_stdin(&["apply", "-"], input).failure(1, &["3 of 4 operations failed"]);
    let results = out.jsonl();
    assert_eq!(results.iter().map(|r| r["line"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 3, 4, 5]);
    assert_eq!(results[0]["status"], "created");
    assert!(results[1]["error"]["message"].as_str().unwrap().contains("unknown variant `grnat`"));
    assert!(results[2]["error"]["message"].as_str().unwrap().contains("exactly one of license, group and role"));
    assert!(results[3]["error"]["message"].as_str().unwrap().contains("unknown field `emial`"));
    assert!(h.sim.with_world(|w| w.user_by_email("typo@example.com")).is_none());
}

#[test]
fn apply_dry_run_plans_the_whole_file_without_writing() {
    let h = Harness::new(unthrottled(333, 30));
    let (license, group) = h.sim.with_world(|w| {
        let license = w.licenses().into_iter().find(|l| l.seats > l.user_count + 2).unwrap().key;
        (license, w.groups()[0].key.clone())
    });
    let file = h.home.path().join("ops.jsonl");
    std::fs::write(&file, batch(&license, &group)).unwrap();
    let out = h.run(&["apply", "--dry-run", file.to_str().unwrap()]);
    let results = out.jsonl();
    assert_eq!(results[0]["status"], "planned");
    assert_eq!(results[0]["seat-impact"][0]["license-key"], license.as_str());
    // Ann does not exist yet, so the grant that names her by email cannot be planned.
    assert_eq!(results[1]["error"]["kind"], "not-found");
    assert!(results.iter().all(|r| r["dry-run"] == true));
    assert_eq!(h.writes(), 0);
}

#[test]
fn a_missing_file_or_a_directory_is_bad_input_and_nothing_is_contacted() {
    let h = Harness::new(unthrottled(334, 10));
    let requests = h.sim.stats().total;
    h.run(&["apply", "/nonexistent/ops.jsonl"]).failure(2, &["cannot open", "ops.jsonl"]);
    let dir = tempfile::tempdir().unwrap();
    h.run(&["apply", dir.path().to_str().unwrap()]).failure(2, &["cannot read", "a directory"]);
    assert_eq!(h.sim.stats().total, requests);
}

#[test]
fn a_line_that_is_not_utf8_too_long_or_not_json_fails_alone_and_the_rest_apply() {
    let h = Harness::new(unthrottled(335, 10));
    let create = |email: &str| format!(r#"{{"op":"create","email":"{email}","first-name":"A","last-name":"B"}}"#);
    let mut file = Vec::new();
    for line in [
        create("one@example.com").into_bytes(),
        b"{\"op\":\"create\",\"email\":\"\xff@example.com\",\"first-name\":\"A\",\"last-name\":\"B\"}".to_vec(),
        // 8 MiB in one line: skipped in bounded memory, not parsed.
        create(&format!("{}@example.com", "x".repeat(8 << 20))).into_bytes(),
        create("two@example.com").into_bytes(),
        br#"{"op":"grant","account":"one@example.com","role":}"#.to_vec(),
        create("three@example.com").into_bytes(),
    ] {
        file.extend_from_slice(&line);
        file.push(b'\n');
    }
    let path = h.home.path().join("ops.jsonl");
    std::fs::write(&path, file).unwrap();

    let results = h.run(&["apply", path.to_str().unwrap()]).failure(1, &["3 of 6 operations failed"]).jsonl();
    let statuses: Vec<(u64, &str)> =
        results.iter().map(|r| (r["line"].as_u64().unwrap(), r["status"].as_str().unwrap())).collect();
    assert_eq!(statuses, [(1, "created"), (2, "failed"), (3, "failed"), (4, "created"), (5, "failed"), (6, "created")]);
    let message = |n: usize| results[n]["error"]["message"].as_str().unwrap().to_owned();
    assert!(message(1).contains("line 2 is not valid UTF-8"), "{}", message(1));
    assert!(message(2).contains("line 3 is longer than 1 MiB"), "{}", message(2));
    assert!(message(2).len() < 200, "the long line is not quoted back");
    // serde_json would say "line 1": the position is the file's.
    assert!(message(4).contains("expected value at line 5 column 50"), "{}", message(4));
    for email in ["one@example.com", "two@example.com", "three@example.com"] {
        assert!(h.sim.with_world(|w| w.user_by_email(email)).is_some(), "{email} was applied");
    }
}

/// `--concurrency`: operations on different accounts run at once (the second create reaches
/// GoTo while the first is held), results stay in input order, and operations naming the same
/// account keep their file order.
#[test]
fn apply_with_concurrency_runs_accounts_in_parallel_and_keeps_input_and_account_order() {
    use std::time::Duration;

    use gotosim::{Fault, FaultRule, Gate, Matcher};
    use gtm_e2e::OpenOnDrop;

    let h = Harness::new(unthrottled(335, 5));
    let lines = [
        r#"{"op":"create","email":"par1@example.com","first-name":"Par","last-name":"One","roles":["RUN_REPORTS"]}"#,
        r#"{"op":"create","email":"par2@example.com","first-name":"Par","last-name":"Two","roles":["RUN_REPORTS"]}"#,
        r#"{"op":"grant","account":"par1@example.com","role":"MANAGE_USERS"}"#,
        r#"{"op":"revoke","account":"par1@example.com","role":"MANAGE_USERS"}"#,
        r#"{"op":"update","account":"par2@example.com","last-name":"Deux"}"#,
        "not json",
    ];
    let file = h.home.path().join("ops.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let creates =
        Matcher { method: Some(http::Method::POST), path_contains: Some("/users".into()), ..Default::default() };
    let (first, second) = (Gate::default(), Gate::default());
    for gate in [&first, &second] {
        h.sim.add_fault(FaultRule { matcher: creates.clone(), skip: 0, times: 1, fault: Fault::Hold(gate.clone()) });
    }
    let _open = OpenOnDrop(vec![first.clone(), second.clone()]);
    let run = {
        let (env, file) = (h.env(), file.to_str().unwrap().to_owned());
        std::thread::spawn(move || gtm_e2e::run_cli(&["apply", "--concurrency", "4", &file], "", env))
    };
    assert!(first.wait_for_arrival(Duration::from_secs(60)), "no create reached GoTo");
    assert!(second.wait_for_arrival(Duration::from_secs(60)), "the second create waited for the first");
    second.open();
    first.open();
    let out = run.join().unwrap().failure(1, &["1 of 6 operations failed"]);
    let results = out.jsonl();
    let numbers: Vec<u64> = results.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6], "results in input order");
    let statuses: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["created", "created", "changed", "changed", "changed", "failed"]);
    let par1 = h.sim.with_world(|w| w.user_by_email("par1@example.com")).unwrap();
    assert_eq!(par1.admin_roles, ["RUN_REPORTS"], "the grant then the revoke, in file order");
    let par2 = h.sim.with_world(|w| w.user_by_email("par2@example.com")).unwrap();
    assert_eq!(par2.last_name, "Deux");
}
