//! Files the connector is pointed at, or finds, that are not what they should be: profile names
//! that are paths, export targets that are not regular files, a symlinked secrets file, and a
//! compiled-code cache someone else could have written.

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use gtm_e2e::{Harness, files_in, unthrottled};

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_profile_name_that_is_a_path_is_refused_before_any_file_is_touched() {
    let h = Harness::new(unthrottled(81, 5));
    let shared = tempfile::tempdir().unwrap();
    fs::set_permissions(shared.path(), fs::Permissions::from_mode(0o1777)).unwrap();
    let outside = shared.path().join("x");
    let outside = outside.to_str().unwrap();
    let output = shared.path().join("out.jsonl");
    let home_before = (files_in(h.home.path()), files_in(&h.home.path().join("secrets")));

    for name in ["../x", outside, "a/b", "x.y", ""] {
        let flag = format!("--profile={name}");
        h.run_with_stdin(&[&flag, "secrets", "set", "client-id"], "v")
            .failure(2, &["--profile", "is not a valid profile name"]);
        h.run(&[&flag, "import", "accounts", "--output", output.to_str().unwrap()])
            .failure(2, &["is not a valid profile name"]);
        let mut env = h.env();
        env.insert("GTM_PROFILE".into(), name.into());
        if !name.is_empty() {
            h.run_with(&["secrets", "set", "client-id"], "v", env)
                .failure(2, &["GTM_PROFILE", "is not a valid profile name"]);
        }
    }
    h.run(&["sim", "--write-profile", outside]).failure(2, &["is not a valid profile name"]);

    assert_eq!(mode(shared.path()), 0o1777, "the shared directory was not chmodded");
    assert!(files_in(shared.path()).is_empty(), "nothing was created there");
    assert_eq!((files_in(h.home.path()), files_in(&h.home.path().join("secrets"))), home_before);
    assert_eq!(h.sim.stats().total, 0, "nothing was sent");
}

#[test]
fn an_export_target_that_is_not_a_regular_file_is_refused() {
    let h = Harness::new(unthrottled(82, 5));
    h.run(&["import", "accounts", "--output", "/dev/full"]).failure(2, &["/dev/full", "not a regular file"]);
    assert!(fs::metadata("/dev/full").unwrap().file_type().is_char_device(), "the device is still there");

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("kept.jsonl");
    fs::write(&target, "kept\n").unwrap();
    let link = dir.path().join("accounts.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    h.run(&["import", "accounts", "--output", link.to_str().unwrap()])
        .failure(2, &["accounts.jsonl", "is a symbolic link, not a regular file"]);
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), "kept\n");
    assert_eq!(files_in(dir.path()), ["accounts.jsonl", "kept.jsonl"], "no temporary file was left");
    assert_eq!(h.sim.stats().total, 0, "refused before anything was sent");

    // A regular file is replaced as before.
    h.run(&["import", "accounts", "--output", target.to_str().unwrap()]).success();
    assert_eq!(fs::read_to_string(&target).unwrap().lines().count(), 5);
}

#[test]
fn a_symlinked_secrets_file_is_refused_and_its_target_untouched() {
    let h = Harness::new(unthrottled(83, 5));
    // Outside the home, which the leak sweep searches: this file holds the secrets by design.
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("elsewhere.json");
    fs::rename(h.secrets_file(), &target).unwrap();
    std::os::unix::fs::symlink(&target, h.secrets_file()).unwrap();
    let before = fs::read_to_string(&target).unwrap();
    h.run(&["test"]).failure(2, &["sim.json is a symbolic link", "move the file it points to there"]);
    h.run_with_stdin(&["secrets", "set", "client-id"], "v").failure(2, &["is a symbolic link"]);
    assert!(fs::symlink_metadata(h.secrets_file()).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), before);
    assert_eq!(h.sim.stats().total, 0);
}

#[test]
fn a_compiled_code_cache_others_could_write_is_not_used() {
    let h = Harness::new(unthrottled(84, 5));
    let cache = tempfile::tempdir().unwrap();
    let mut env = h.env();
    env.insert("GTM_CACHE_DIR".into(), cache.path().display().to_string());
    let components = cache.path().join("components");
    let out = h.run_with(&["test"], "", env.clone()).success();
    assert!(!out.stderr.contains("compiled-code cache"), "{}", out.stderr);
    let entries = files_in(&components);
    let [entry] = entries.as_slice() else { panic!("one cache entry: {entries:?}") };
    let entry = components.join(entry);

    // An entry others could have written (or replaced) is not loaded, and ours replaces it.
    fs::set_permissions(&entry, fs::Permissions::from_mode(0o666)).unwrap();
    let out = h.run_with(&["test"], "", env.clone()).success();
    for needle in ["not using the compiled-code cache", "writable by other users (mode 666)", "chmod go-w"] {
        assert!(out.stderr.contains(needle), "stderr lacks {needle:?}: {}", out.stderr);
    }
    assert_eq!(mode(&entry), 0o600);

    // A directory others can write is not read or written at all.
    fs::set_permissions(&components, fs::Permissions::from_mode(0o777)).unwrap();
    fs::remove_file(&entry).unwrap();
    let out = h.run_with(&["test"], "", env).success();
    assert!(
        out.stderr.contains("the cache directory") && out.stderr.contains("writable by other users"),
        "{}",
        out.stderr
    );
    assert!(files_in(&components).is_empty(), "nothing was cached there");
}
