//! The attribute mapping: how identity attributes become GoTo attributes, and the extra
//! validation rules an administrator adds on top of GoTo's own.
//!
//! The host hands over the profile's `[mapping]` table as JSON in the `mapping` setting, e.g.
//! `{"email": {"template": "{{ mail | lower }}", "pattern": ".*@example\\.com"}}`. Templates are
//! MiniJinja and patterns are regular expressions, both run by the host's `templates` interface
//! (one crate, `gtm-templates`, native in the bundled host and a component for the others).
//! Everything is checked when loaded, so a broken template or pattern is a configuration error
//! naming its attribute.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{config, invalid_input};
use crate::host::Host;
use crate::types::ConnectorError;
use crate::validate::Attribute;
use crate::wit::AccountFields;

/// One attribute's entry in the `mapping` setting.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RuleSpec {
    template: Option<String>,
    #[serde(default)]
    required: bool,
    pattern: Option<String>,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

#[derive(Debug)]
struct Rule {
    template: Option<String>,
    required: bool,
    /// Checked when loaded; the whole value must match.
    pattern: Option<String>,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

/// The compiled mapping. Attributes without an entry are taken as given.
#[derive(Debug, Default)]
pub struct Mapping {
    rules: BTreeMap<Attribute, Rule>,
}

impl Mapping {
    /// Reads and compiles the `mapping` setting.
    pub fn load(host: &dyn Host) -> Result<Mapping, ConnectorError> {
        match host.setting("mapping") {
            None => Ok(Mapping::default()),
            Some(raw) if raw.trim().is_empty() => Ok(Mapping::default()),
            Some(raw) => Mapping::parse(&raw, host),
        }
    }

    fn parse(raw: &str, host: &dyn Host) -> Result<Mapping, ConnectorError> {
        let specs: BTreeMap<String, RuleSpec> =
            serde_json::from_str(raw).map_err(|e| config("mapping", format!("the mapping is not valid: {e}")))?;
        let mut rules = BTreeMap::new();
        for (name, spec) in specs {
            let field = format!("mapping.{name}");
            let attribute = Attribute::from_name(&name).ok_or_else(|| {
                let known: Vec<&str> = Attribute::ALL.iter().map(|a| a.name()).collect();
                config(
                    &field,
                    format!("{name:?} is not a GoTo attribute; mappable attributes are {}", known.join(", ")),
                )
            })?;
            if let Some(template) = &spec.template {
                host.check_template(template)
                    .map_err(|e| config(&field, format!("the template for {name} does not compile: {e}")))?;
            }
            if let Some(pattern) = &spec.pattern {
                host.check_pattern(pattern)
                    .map_err(|e| config(&field, format!("the pattern for {name} is not a valid regex: {e}")))?;
            }
            if let (Some(min), Some(max)) = (spec.min_length, spec.max_length)
                && min > max
            {
                return Err(config(&field, format!("min-length {min} is above max-length {max} for {name}")));
            }
            rules.insert(
                attribute,
                Rule {
                    template: spec.template,
                    required: spec.required,
                    pattern: spec.pattern,
                    min_length: spec.min_length,
                    max_length: spec.max_length,
                },
            );
        }
        Ok(Mapping { rules })
    }

    /// The GoTo attributes for an identity: those given directly win; the others come from
    /// the templates. A template that renders to blank leaves its attribute unset.
    pub fn resolve(
        &self,
        host: &dyn Host,
        given: &AccountFields,
        identity: &[(String, String)],
    ) -> Result<AccountFields, ConnectorError> {
        let mut fields = given.clone();
        if identity.is_empty() {
            return Ok(fields);
        }
        for (attribute, rule) in &self.rules {
            let (Some(template), None) = (&rule.template, attribute.of(given)) else { continue };
            let rendered = host.render_template(template, identity).map_err(|e| {
                invalid_input(
                    &format!("mapping.{}", attribute.name()),
                    format!("the template for {} failed for this identity: {e}", attribute.name()),
                )
            })?;
            let value = rendered.trim();
            attribute.set(&mut fields, (!value.is_empty()).then(|| value.to_owned()));
        }
        Ok(fields)
    }

    /// Applies the configured rules. `required` applies only when `creating`, since an update
    /// leaves unmentioned attributes alone.
    pub fn check(&self, host: &dyn Host, fields: &AccountFields, creating: bool) -> Result<(), ConnectorError> {
        for (attribute, rule) in &self.rules {
            let name = attribute.name();
            let Some(value) = attribute.of(fields) else {
                if rule.required && creating {
                    return Err(invalid_input(name, format!("{name} is required by the mapping rules")));
                }
                continue;
            };
            let length = value.chars().count();
            if let Some(min) = rule.min_length.filter(|min| length < *min) {
                return Err(invalid_input(name, format!("{name} must be at least {min} characters, got {value:?}")));
            }
            if let Some(max) = rule.max_length.filter(|max| length > *max) {
                return Err(invalid_input(name, format!("{name} must be at most {max} characters, got {value:?}")));
            }
            if let Some(pattern) = &rule.pattern {
                let matches = host
                    .pattern_matches(pattern, value)
                    .map_err(|e| config(&format!("mapping.{name}"), format!("the pattern for {name} failed: {e}")))?;
                if !matches {
                    return Err(invalid_input(name, format!("{name} must match the pattern {pattern}, got {value:?}")));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeHost, NO_FIELDS};

    fn identity(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn parse(raw: &str) -> Result<Mapping, ConnectorError> {
        Mapping::parse(raw, &FakeHost::default())
    }

    fn resolve(
        mapping: &Mapping,
        given: &AccountFields,
        identity: &[(String, String)],
    ) -> Result<AccountFields, ConnectorError> {
        mapping.resolve(&FakeHost::default(), given, identity)
    }

    fn error_field(e: ConnectorError) -> (String, String) {
        match e {
            ConnectorError::Config(i) | ConnectorError::InvalidInput(i) => (i.field.unwrap_or_default(), i.message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn templates_map_with_conditions_and_string_functions() {
        let mapping = parse(
            r#"{
              "email": {"template": "{{ given | lower }}.{{ family | lower | replace(' ', '') }}@example.com"},
              "first-name": {"template": "{{ given | title }}"},
              "last-name": {"template": "{% if preferred %}{{ preferred }}{% else %}{{ family }}{% endif %}"},
              "time-zone": {"template": "{{ identity['office-tz'] | default('UTC') }}"}
            }"#,
        )
        .unwrap();
        let given = AccountFields { first_name: Some("Explicit".into()), ..NO_FIELDS };
        let fields =
            resolve(&mapping, &given, &identity(&[("given", "ANNA"), ("family", "Van Dijk"), ("preferred", "")]))
                .unwrap();
        assert_eq!(fields.email.as_deref(), Some("anna.vandijk@example.com"));
        assert_eq!(fields.first_name.as_deref(), Some("Explicit"), "a given value wins over the template");
        assert_eq!(fields.last_name.as_deref(), Some("Van Dijk"));
        assert_eq!(fields.time_zone.as_deref(), Some("UTC"));
    }

    #[test]
    fn a_broken_template_fails_at_load_naming_the_attribute() {
        let (field, message) = error_field(parse(r#"{"last-name": {"template": "{{ sn | upper "}}"#).unwrap_err());
        assert_eq!(field, "mapping.last-name");
        assert!(message.contains("does not compile"), "{message}");

        let (field, _) = error_field(parse(r#"{"manager": {"template": "x"}}"#).unwrap_err());
        assert_eq!(field, "mapping.manager");
        let (field, _) = error_field(parse(r#"{"email": {"pattern": "("}}"#).unwrap_err());
        assert_eq!(field, "mapping.email");
        let (field, _) = error_field(parse(r#"{"email": {"tempalte": "x"}}"#).unwrap_err());
        assert_eq!(field, "mapping");
    }

    #[test]
    fn a_missing_identity_attribute_is_an_input_error_naming_the_mapping() {
        let mapping = parse(r#"{"email": {"template": "{{ mail }}"}}"#).unwrap();
        let (field, message) = error_field(resolve(&mapping, &NO_FIELDS, &identity(&[("other", "x")])).unwrap_err());
        assert_eq!(field, "mapping.email");
        assert!(message.contains("undefined"), "{message}");
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel() {
        let mapping = parse(r#"{"email": {"template": "{% for i in range(100000) %}{% endfor %}a@b.c"}}"#).unwrap();
        assert!(resolve(&mapping, &NO_FIELDS, &identity(&[("x", "y")])).is_err());
    }

    #[test]
    fn rules_check_required_pattern_and_length() {
        let mapping = parse(
            r#"{"email": {"required": true, "pattern": "[a-z.]+@example\\.com"},
                "first-name": {"min-length": 2, "max-length": 5}}"#,
        )
        .unwrap();
        let host = FakeHost::default();
        let ok = AccountFields { email: Some("a.b@example.com".into()), ..NO_FIELDS };
        assert!(mapping.check(&host, &ok, true).is_ok());
        assert_eq!(error_field(mapping.check(&host, &NO_FIELDS, true).unwrap_err()).0, "email");
        assert!(mapping.check(&host, &NO_FIELDS, false).is_ok());
        let foreign = AccountFields { email: Some("a@example.com.evil".into()), ..NO_FIELDS };
        assert!(error_field(mapping.check(&host, &foreign, true).unwrap_err()).1.contains("pattern"));
        let short = AccountFields { first_name: Some("A".into()), ..ok.clone() };
        assert!(error_field(mapping.check(&host, &short, true).unwrap_err()).1.contains("at least 2"));
        let long = AccountFields { first_name: Some("Abcdef".into()), ..ok };
        assert!(error_field(mapping.check(&host, &long, true).unwrap_err()).1.contains("at most 5"));
    }
}
