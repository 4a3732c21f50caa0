//! The profile's mapping: identity attributes through templates and rules into GoTo attributes.

use gtm_e2e::{Harness, unthrottled};

const MAPPING: &str = r#"
[mapping.email]
template = "{{ given | lower }}.{{ family | lower | replace(' ', '') }}@example.com"
pattern = '[a-z.]+@example\.com'

[mapping.first-name]
template = "{{ given | title }}"

[mapping.last-name]
template = "{% if preferred is defined %}{{ preferred }}{% else %}{{ family }}{% endif %}"
max-length = 12

[mapping.time-zone]
template = "{% if office == 'Paris' %}Europe/Paris{% else %}America/New_York{% endif %}"
"#;

#[test]
fn identity_attributes_are_mapped_with_conditions_and_string_functions() {
    let h = Harness::new(unthrottled(341, 20));
    h.append_to_profile("suppress-email = true");
    h.append_to_profile(MAPPING);
    let created = h
        .run(&["create", "--identity", "given=ANNA", "--identity", "family=Van Dijk", "--identity", "office=Paris"])
        .success()
        .json();
    let key = created["account-key"].as_str().unwrap();
    let user = h.sim.with_world(|w| w.user(key)).unwrap();
    assert_eq!(
        (user.email.as_str(), user.first_name.as_str(), user.last_name.as_str(), user.time_zone.as_str()),
        ("anna.vandijk@example.com", "Anna", "Van Dijk", "Europe/Paris")
    );
    assert_eq!(user.invite_count, 0, "suppress-email reached GoTo");

    // Given attributes win; an update maps the identity again and sends only what differs.
    let updated = h
        .run(&[
            "update",
            key,
            "--identity",
            "given=Anna",
            "--identity",
            "family=Van Dijk",
            "--identity",
            "office=Oslo",
            "--identity",
            "preferred=Vandijk",
        ])
        .success()
        .json();
    assert_eq!(updated["calls"][0]["summary"], "set last-name, time-zone of anna.vandijk@example.com");
    let user = h.sim.with_world(|w| w.user(key)).unwrap();
    assert_eq!((user.last_name.as_str(), user.time_zone.as_str()), ("Vandijk", "America/New_York"));
}

#[test]
fn mapping_rules_reject_values_before_any_write() {
    let h = Harness::new(unthrottled(342, 20));
    h.append_to_profile(MAPPING);
    let too_long =
        ["create", "--identity", "given=Al", "--identity", "family=Abcdefghijklmn", "--identity", "office=Oslo"];
    h.run(&too_long).failure(2, &["invalid input (last-name)", "at most 12"]);
    let missing = ["create", "--identity", "given=Al", "--identity", "office=Oslo"];
    let out = h.run(&missing).failure(2, &["mapping.email", "failed for this identity"]);
    assert_eq!(out.json()["error"]["field"], "mapping.email");
    let outside = [
        "create",
        "--email",
        "al@other.org",
        "--identity",
        "given=Al",
        "--identity",
        "family=B",
        "--identity",
        "office=Oslo",
    ];
    h.run(&outside).failure(2, &["email must match the pattern"]);
    assert_eq!(h.writes(), 0);
}

#[test]
fn a_broken_template_or_pattern_is_a_configuration_error_at_load_naming_the_attribute() {
    let h = Harness::new(unthrottled(343, 20));
    h.append_to_profile("[mapping.first-name]\ntemplate = \"{{ given | title \"\n");
    let requests = h.sim.stats().total;
    for args in [vec!["test"], vec!["import", "accounts"], vec!["grant", "1", "--role", "RUN_REPORTS"]] {
        h.run(&args).failure(2, &["configuration (mapping.first-name)", "does not compile"]);
    }
    assert_eq!(h.sim.stats().total, requests, "nothing was sent");

    let h = Harness::new(unthrottled(346, 10));
    h.append_to_profile("[mapping.email]\npattern = '[a-z'\n");
    let requests = h.sim.stats().total;
    h.run(&["test"]).failure(2, &["configuration (mapping.email)", "not a valid regex"]);
    assert_eq!(h.sim.stats().total, requests, "nothing was sent");

    let h = Harness::new(unthrottled(344, 10));
    h.append_to_profile("[mapping.manager]\ntemplate = \"x\"\n");
    h.run(&["test"]).failure(2, &["mapping.manager", "not a GoTo attribute"]);
    let h = Harness::new(unthrottled(345, 10));
    h.append_to_profile("license-assignment = \"magic\"");
    h.run(&["test"]).failure(2, &["license-assignment"]);
}
