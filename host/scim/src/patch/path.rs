//! A PATCH operation's `path` (RFC 7644 §3.5.2): `attrPath`, or `attrPath[valFilter]` with an
//! optional `.subAttr` after it (`members[value eq "2819"]`, `emails[type eq "work"].value`).

use std::fmt;

use crate::error::{ScimError, ScimType};
use crate::filter::{Filter, parse_bracketed};
use crate::path::{self, AttrPath};

/// A parsed PATCH path.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    /// The attribute (with its sub-attribute when there is no filter: `name.givenName`).
    pub attr: AttrPath,
    /// The value filter selecting values of a multi-valued attribute.
    pub filter: Option<Filter>,
    /// The sub-attribute after the filter.
    pub sub: Option<String>,
}

impl PatchPath {
    /// Parses a path; a malformed one is `invalidPath`, a malformed filter in it
    /// `invalidFilter`.
    pub fn parse(text: &str) -> Result<PatchPath, ScimError> {
        let invalid = |why: String| ScimError::bad_request(ScimType::InvalidPath, format!("path \"{text}\": {why}"));
        let Some(open) = text.find('[') else {
            return Ok(PatchPath { attr: AttrPath::parse(text.trim())?, filter: None, sub: None });
        };
        let attr = path::parse(text[..open].trim()).map_err(invalid)?;
        if attr.sub.is_some() {
            return Err(invalid(format!(
                "a value filter follows a multi-valued attribute, not the sub-attribute \"{attr}\""
            )));
        }
        let (filter, after) = parse_bracketed(text, open + 1).map_err(|e| e.context(format!("path \"{text}\"")))?;
        let sub = match text[after..].trim_end() {
            "" => None,
            rest => {
                let name = rest.strip_prefix('.').ok_or_else(|| {
                    invalid(format!("only \".subAttribute\" may follow the value filter, not \"{rest}\""))
                })?;
                let parsed = path::parse(name).map_err(invalid)?;
                if parsed.schema.is_some() || parsed.sub.is_some() {
                    return Err(invalid(format!("\"{name}\" is not a sub-attribute name")));
                }
                Some(parsed.attr)
            }
        };
        Ok(PatchPath { attr, filter: Some(filter), sub })
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::filter::CompareOp;

    #[test]
    fn parses_plain_filtered_and_sub_attribute_paths() {
        let plain = PatchPath::parse("name.givenName").unwrap();
        assert_eq!(plain, PatchPath { attr: AttrPath::new("name", Some("givenName")), filter: None, sub: None });
        let member = PatchPath::parse("members[value eq \"2819c223-7f76-453a-919d-413861904646\"]").unwrap();
        assert_eq!(member.attr, AttrPath::new("members", None));
        assert_eq!(
            member.filter,
            Some(Filter::Compare {
                path: AttrPath::new("value", None),
                op: CompareOp::Eq,
                value: json!("2819c223-7f76-453a-919d-413861904646"),
            })
        );
        let work =
            PatchPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"work\"].value").unwrap();
        assert_eq!(work.attr.schema.as_deref(), Some("urn:ietf:params:scim:schemas:core:2.0:User"));
        assert_eq!(work.sub.as_deref(), Some("value"));
        assert_eq!(work.to_string(), "urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"work\"].value");
    }

    #[test]
    fn a_bracket_inside_the_filter_string_does_not_end_it() {
        let path = PatchPath::parse("emails[value eq \"a]b\"].type").unwrap();
        assert_eq!(path.sub.as_deref(), Some("type"));
    }

    #[test]
    fn malformed_paths_say_what_is_wrong() {
        let cases = [
            ("emails[type eq \"work\"", ScimType::InvalidFilter, "expected \"]\" to close the value filter"),
            ("emails[type eq]", ScimType::InvalidFilter, "expected a value"),
            ("emails.value[type eq \"work\"]", ScimType::InvalidPath, "not the sub-attribute \"emails.value\""),
            ("emails[type eq \"work\"]value", ScimType::InvalidPath, "only \".subAttribute\" may follow"),
            ("emails[type eq \"work\"].a.b", ScimType::InvalidPath, "\"a.b\" is not a sub-attribute name"),
            ("emails[type eq \"work\"].1x", ScimType::InvalidPath, "not an attribute name"),
            ("name..x", ScimType::InvalidPath, "an attribute name is missing"),
        ];
        for (text, scim_type, why) in cases {
            let error = PatchPath::parse(text).unwrap_err();
            assert_eq!(error.scim_type, Some(scim_type), "{text}: {error}");
            assert!(error.detail.contains(why), "{text}: {}", error.detail);
            assert!(error.detail.contains(&format!("path \"{text}\"")), "{text}: {}", error.detail);
        }
    }
}
