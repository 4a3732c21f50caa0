//! `gtm-connector import` processes killed at held points of token refreshes, with GoTo rotating
//! the refresh token on every refresh and access tokens good for three requests (so refreshes
//! happen mid-import): each time the next run succeeds with the token GoTo last issued (no
//! `invalid_grant`), and the state database passes `PRAGMA integrity_check`. And the one window
//! no client can close: GoTo rotated, and the answer never arrived.

use gotosim::{Fault, Gate, Matcher, Rotation};
use gtm_host::profile::LimitsFile;

use crate::support::{Home, kill, path, unthrottled, users_page};

const USERS: usize = 40;
const IMPORT: &[&str] = &["import", "accounts", "--page-size", "10"];

fn rotating(seed: u64) -> Home {
    let mut config = unthrottled(seed, USERS);
    config.knobs.rotation = Rotation::Always;
    config.knobs.access_token_max_uses = Some(3);
    let home = Home::new(config);
    // One page at a time, so that the requests come in the order the kill points name.
    home.save_profile(LimitsFile { pipeline_depth: Some(1), ..Default::default() });
    home
}

/// Starts an import that must refresh first, holds it at `hold`'s gate, kills it there, then
/// lets the held request go (`abandon`: as if it never reached GoTo).
fn kill_at(home: &Home, matcher: Matcher, skip: u32, hold: fn(Gate) -> Fault, abandon: bool) {
    home.secrets().delete("access-token").unwrap();
    let gate = home.hold(matcher, skip, hold);
    home.stopped_at(IMPORT, &gate, kill);
    if abandon {
        gate.abandon()
    } else {
        gate.open()
    }
    home.sim.clear_faults();
}

/// The next import succeeds, reads everything, and the state is intact.
#[track_caller]
fn assert_next_run_correct(home: &Home, what: &str) {
    let out = home.output(IMPORT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "after a kill at {what}: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), USERS, "after a kill at {what}");
    assert_eq!(
        home.secrets().get("refresh-token"),
        Some(home.sim.credentials().refresh_token.as_str()),
        "after a kill at {what}, the stored refresh token is the one GoTo issued last"
    );
    home.assert_state_intact();
}

#[test]
fn a_process_killed_anywhere_on_the_refresh_path_loses_no_rotated_refresh_token() {
    let home = rotating(601);
    home.run(IMPORT);
    let before = home.sim.stats().refresh_grants_ok;

    // Each killed import runs: token, /me, pages 0 and 1, page 2 refused (its token is used up),
    // token, page 2 again, page 3.
    let points: [(&str, Matcher, u32, bool); 7] = [
        ("the first token request", path("/oauth/token"), 0, true),
        ("the mid-import token request", path("/oauth/token"), 1, true),
        ("the request after the first token answer", path("/me"), 0, false),
        ("the first page", users_page(0), 0, false),
        ("the page refused for a used-up token", users_page(20), 0, false),
        ("the request after the mid-import token answer", users_page(20), 1, false),
        ("the last page", users_page(30), 0, false),
    ];
    for (what, matcher, skip, abandon) in points {
        kill_at(&home, matcher, skip, Fault::Hold, abandon);
        assert_next_run_correct(&home, what);
    }
    assert!(home.sim.stats().refresh_grants_ok >= before + 14, "every killed and every next run refreshed");
}

#[test]
fn a_token_answer_lost_in_flight_after_goto_rotated_is_the_one_window_and_says_re_consent() {
    let home = rotating(602);
    kill_at(&home, path("/oauth/token"), 0, Fault::HoldAnswer, false);
    // GoTo rotated and the answer died with the process: the stored token is spent.
    let out = home.output(IMPORT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("invalid_grant") && stderr.contains("admin consent"), "{stderr}");
    assert!(stderr.contains("secrets set refresh-token"), "the hint says how to store the new one: {stderr}");
}
