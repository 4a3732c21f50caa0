//! Against a server that misbehaves on purpose (`gtm_e2e::hostile`): each shape GoTo, a proxy
//! or an attacker could send, and what the connector must still promise.

use gtm_e2e::Harness;
use gtm_e2e::hostile::{Hostile, Reply, page_of, user};

#[test]
fn a_well_behaved_look_alike_imports_like_goto() {
    let all: Vec<_> = (0..7).map(user).collect();
    let server = Hostile::goto(move |req| if req.is_user_listing() { page_of(req, &all) } else { Reply::not_found() });
    let h = Harness::against(&server);
    let out = h.run(&["import", "accounts", "--page-size", "3"]).success();
    assert_eq!(out.jsonl().len(), 7, "{}", out.stdout);
    assert_eq!(server.count(|r| r.is_user_listing()), 3, "pages of 3, 3 and 1");
}
