//! A `gtm-connector import --output FILE` process interrupted mid-export (SIGTERM, Ctrl-C)
//! leaves no temporary file of account records behind, and exits as a shell expects.

use std::path::Path;
use std::time::{Duration, SystemTime};

use gotosim::Fault;
use rustix::process::{Pid, Signal, kill_process};

use crate::support::{Home, unthrottled, users_page};

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[test]
fn an_interrupted_export_removes_its_temporary_file_and_exits_128_plus_the_signal() {
    let home = Home::new(unthrottled(502, 50));
    let out_dir = tempfile::tempdir().unwrap();
    // Left by a run killed outright two days ago: swept by the next export into this directory.
    let stale = out_dir.path().join(".gtm-export-St4le0ne2Day");
    std::fs::File::create(&stale).unwrap().set_modified(SystemTime::now() - Duration::from_secs(2 * 86_400)).unwrap();
    let output = out_dir.path().join("accounts.jsonl");
    let import = ["import", "accounts", "--page-size", "10", "--output", output.to_str().unwrap()];

    for (signal, status) in [(Signal::TERM, 143), (Signal::INT, 130)] {
        let gate = home.hold(users_page(20), 0, Fault::Hold);
        let mut during = Vec::new();
        let exit = home.stopped_at(&import, &gate, |child| {
            during = names_in(out_dir.path());
            kill_process(Pid::from_child(child), signal).unwrap();
        });
        gate.open();
        assert!(
            during.iter().any(|n| n.starts_with(".gtm-export-") && n != ".gtm-export-St4le0ne2Day"),
            "the export was being written: {during:?}"
        );
        assert!(!during.contains(&".gtm-export-St4le0ne2Day".to_owned()), "the stale file was swept: {during:?}");
        assert_eq!(exit.code(), Some(status), "{signal:?}: {exit:?}");
        assert!(names_in(out_dir.path()).is_empty(), "{signal:?} left {:?}", names_in(out_dir.path()));
    }
}
