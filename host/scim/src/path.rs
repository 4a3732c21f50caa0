//! Attribute paths (RFC 7644 §3.10): `userName`, `name.givenName`, and the fully-qualified
//! `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`.

use std::fmt;

use crate::error::{ScimError, ScimType};

/// An attribute path: an optional schema URN, an attribute and an optional sub-attribute, as
/// written (names are compared case-insensitively, never rewritten here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN before the attribute, when the path is fully qualified.
    pub schema: Option<String>,
    /// The attribute name.
    pub attr: String,
    /// The sub-attribute name after the dot.
    pub sub: Option<String>,
}

impl AttrPath {
    /// An unqualified path.
    pub fn new(attr: &str, sub: Option<&str>) -> AttrPath {
        AttrPath { schema: None, attr: attr.to_owned(), sub: sub.map(str::to_owned) }
    }

    /// Parses `attr`, `attr.sub`, or either behind a schema URN and a colon; anything else is
    /// `invalidPath`.
    pub fn parse(text: &str) -> Result<AttrPath, ScimError> {
        parse(text).map_err(|why| ScimError::bad_request(ScimType::InvalidPath, format!("path \"{text}\": {why}")))
    }

    /// Whether the path names `attr` (and `sub`, or no sub-attribute when `None`), ignoring case
    /// and any schema.
    pub fn is(&self, attr: &str, sub: Option<&str>) -> bool {
        self.attr.eq_ignore_ascii_case(attr)
            && match (&self.sub, sub) {
                (None, None) => true,
                (Some(have), Some(want)) => have.eq_ignore_ascii_case(want),
                _ => false,
            }
    }

    /// Like [`AttrPath::is`], and the path is unqualified or qualified by `schema`.
    pub fn is_in(&self, schema: &str, attr: &str, sub: Option<&str>) -> bool {
        self.schema.as_deref().is_none_or(|have| have.eq_ignore_ascii_case(schema)) && self.is(attr, sub)
    }

    /// The whole path read as a schema URN (`urn:…:User` parses as schema `urn:…:2.0`, attribute
    /// `User`), for the places where a path may name an extension itself.
    pub(crate) fn as_urn(&self) -> Option<String> {
        match (&self.schema, &self.sub) {
            (Some(schema), None) => Some(format!("{schema}:{}", self.attr)),
            _ => None,
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Whether `c` may appear in an attribute path as the filter and PATCH path grammars read it
/// (names, dots, the colons of a URN, `$ref`'s dollar).
pub(crate) fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '$')
}

/// Parses a path, saying what is wrong without the "path ..." prefix, so that the filter parser
/// can put its own position in front.
pub(crate) fn parse(text: &str) -> Result<AttrPath, String> {
    let (schema, names) = match text.rfind(':') {
        Some(colon) => {
            let schema = &text[..colon];
            if !schema.get(..4).is_some_and(|start| start.eq_ignore_ascii_case("urn:")) {
                return Err("only a schema URN (urn:…) may come before a colon".to_owned());
            }
            if let Some(bad) = schema.chars().find(|c| !is_path_char(*c)) {
                return Err(format!("'{bad}' is not allowed in a schema URN"));
            }
            (Some(schema.to_owned()), &text[colon + 1..])
        }
        None => (None, text),
    };
    let mut parts = names.split('.');
    let attr = name(parts.next().unwrap_or_default())?;
    let sub = parts.next().map(name).transpose()?;
    if parts.next().is_some() {
        return Err("a path has at most one sub-attribute".to_owned());
    }
    Ok(AttrPath { schema, attr, sub })
}

/// An attribute name: ALPHA *("-" / "_" / DIGIT / ALPHA) (RFC 7643 §2.1), or `$ref`.
fn name(text: &str) -> Result<String, String> {
    let mut chars = text.chars();
    let valid = text == "$ref"
        || (chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    if valid {
        Ok(text.to_owned())
    } else if text.is_empty() {
        Err("an attribute name is missing".to_owned())
    } else {
        Err(format!("\"{text}\" is not an attribute name (a letter, then letters, digits, '-' or '_')"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_dotted_and_qualified_paths() {
        assert_eq!(AttrPath::parse("userName").unwrap(), AttrPath::new("userName", None));
        assert_eq!(AttrPath::parse("name.givenName").unwrap(), AttrPath::new("name", Some("givenName")));
        assert_eq!(AttrPath::parse("members.$ref").unwrap(), AttrPath::new("members", Some("$ref")));
        let qualified = AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName").unwrap();
        assert_eq!(qualified.schema.as_deref(), Some("urn:ietf:params:scim:schemas:core:2.0:User"));
        assert!(qualified.is("NAME", Some("givenname")));
        let extension =
            AttrPath::parse("urn:iga:gotomeeting:params:scim:schemas:extension:goto:2.0:User:status").unwrap();
        assert_eq!(
            extension.schema.as_deref(),
            Some("urn:iga:gotomeeting:params:scim:schemas:extension:goto:2.0:User")
        );
        assert_eq!(extension.attr, "status");
    }

    #[test]
    fn names_compare_without_case_and_schema_only_when_given() {
        let path = AttrPath::parse("Emails.Value").unwrap();
        assert!(path.is("emails", Some("value")));
        assert!(!path.is("emails", None));
        assert!(!AttrPath::new("emails", None).is("emails", Some("value")));
        assert!(path.is_in("urn:x:User", "emails", Some("value")));
        let qualified = AttrPath::parse("URN:X:USER:userName").unwrap();
        assert!(qualified.is_in("urn:x:User", "username", None));
        assert!(!qualified.is_in("urn:x:Group", "username", None));
    }

    #[test]
    fn a_urn_alone_reads_back_as_that_urn() {
        let path = AttrPath::parse("urn:iga:gotomeeting:params:scim:schemas:extension:goto:2.0:User").unwrap();
        assert_eq!(path.as_urn().as_deref(), Some("urn:iga:gotomeeting:params:scim:schemas:extension:goto:2.0:User"));
        assert_eq!(AttrPath::new("userName", None).as_urn(), None);
    }

    #[test]
    fn display_writes_the_path_back() {
        for text in ["userName", "name.givenName", "urn:ietf:params:scim:schemas:core:2.0:User:emails.value"] {
            assert_eq!(AttrPath::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn malformed_paths_are_invalid_path_and_say_why() {
        let cases = [
            ("", "an attribute name is missing"),
            ("name.", "an attribute name is missing"),
            ("a.b.c", "at most one sub-attribute"),
            ("1name", "\"1name\" is not an attribute name"),
            ("na me", "\"na me\" is not an attribute name"),
            ("x:userName", "only a schema URN"),
            ("urn:a b:userName", "' ' is not allowed"),
        ];
        for (text, why) in cases {
            let error = AttrPath::parse(text).unwrap_err();
            assert_eq!(error.scim_type, Some(ScimType::InvalidPath), "{text}");
            assert!(error.detail.contains(why), "{text}: {}", error.detail);
            assert!(error.detail.contains(&format!("\"{text}\"")), "{text}: {}", error.detail);
        }
    }
}
