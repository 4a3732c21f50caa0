//! The attribute mapping's engines, configured in one place: MiniJinja for templates, regex-lite
//! for patterns.
//!
//! The guest component asks for them through the WIT `templates` interface instead of linking
//! them: MiniJinja was about half of the component's code and regex-lite a tenth of the rest,
//! and the bundled host runs them natively. Other hosts get the same engines, and so the same
//! renderings and matches, as the templates component (`portable/templates`), which the portable
//! build composes in.

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior, Value};
use regex_lite::Regex;

/// Caps a template's work, so a runaway loop fails instead of spinning until the host's deadline.
const FUEL: u64 = 50_000;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Printing an attribute the identity lacks is an error, but `{% if manager %}` is allowed.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_fuel(Some(FUEL));
    env
}

/// Compiles `template`; the error says what is wrong and on which line.
pub fn check(template: &str) -> Result<(), String> {
    environment().template_from_str(template).map(drop).map_err(|e| describe(&e))
}

/// Renders `template` with each identity attribute as a variable by its name, and all of them
/// as `identity`, for names that are not identifiers (`{{ identity["employee-id"] }}`).
pub fn render(template: &str, identity: &[(String, String)]) -> Result<String, String> {
    let attributes: BTreeMap<&str, Value> =
        identity.iter().map(|(name, value)| (name.as_str(), Value::from(value.as_str()))).collect();
    let mut variables = attributes.clone();
    variables.insert("identity", Value::from(attributes));
    environment().render_str(template, Value::from(variables)).map_err(|e| describe(&e))
}

/// Compiles `pattern`, anchored so that it must match a whole value.
fn anchored(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| e.to_string())
}

/// Checks that `pattern` compiles; the error says what is wrong.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    anchored(pattern).map(drop)
}

/// Whether the whole of `value` matches `pattern`.
pub fn matches_pattern(pattern: &str, value: &str) -> Result<bool, String> {
    anchored(pattern).map(|regex| regex.is_match(value))
}

/// A MiniJinja error in one line, with its position when known.
fn describe(e: &minijinja::Error) -> String {
    let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
    match e.line() {
        Some(line) => format!("{}{detail} (line {line})", e.kind()),
        None => format!("{}{detail}", e.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn renders_filters_conditions_and_attributes_that_are_not_identifiers() {
        let person = identity(&[("given", "ANNA"), ("family", "Van Dijk"), ("preferred", ""), ("office-tz", "")]);
        let render = |t: &str| render(t, &person).unwrap();
        assert_eq!(render("{{ given | lower }}.{{ family | lower | replace(' ', '') }}"), "anna.vandijk");
        assert_eq!(render("{{ given | title }}"), "Anna");
        assert_eq!(render("{% if preferred %}{{ preferred }}{% else %}{{ family }}{% endif %}"), "Van Dijk");
        assert_eq!(render("{{ identity['office-tz'] or 'UTC' }}"), "UTC");
        assert_eq!(render("{{ identity['missing'] | default('UTC') }}"), "UTC");
    }

    #[test]
    fn a_broken_template_is_described_with_its_line() {
        let message = check("line one\n{{ sn | upper ").unwrap_err();
        assert!(message.contains("syntax error") && message.contains("(line 2)"), "{message}");
        assert!(check("{{ sn | upper }}").is_ok());
    }

    #[test]
    fn printing_a_missing_attribute_fails_but_testing_it_does_not() {
        let message = render("{{ mail }}", &identity(&[("other", "x")])).unwrap_err();
        assert!(message.contains("undefined"), "{message}");
        assert_eq!(render("{% if mail %}m{% endif %}x", &identity(&[])).unwrap(), "x");
    }

    #[test]
    fn patterns_match_whole_values_only() {
        assert_eq!(matches_pattern("[a-z.]+@example\\.com", "a.b@example.com"), Ok(true));
        assert_eq!(matches_pattern("[a-z.]+@example\\.com", "a@example.com.evil"), Ok(false));
        assert_eq!(matches_pattern("[a-z]+", "ab1"), Ok(false), "anchored at the end");
        assert_eq!(matches_pattern("b|a", "ab"), Ok(false), "an alternation is anchored as a whole");
        assert_eq!(matches_pattern("a|b", "b"), Ok(true));
    }

    #[test]
    fn a_broken_pattern_is_described() {
        let message = check_pattern("(").unwrap_err();
        assert!(message.contains("unclosed") || message.contains("without closing"), "{message}");
        assert_eq!(matches_pattern("(", "x").unwrap_err(), message, "matching reports the same error");
        assert!(check_pattern("[a-z]{2,5}").is_ok());
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel() {
        let message = render("{% for i in range(100000) %}{% endfor %}a@b.c", &identity(&[])).unwrap_err();
        assert!(message.contains("fuel"), "{message}");
    }
}
