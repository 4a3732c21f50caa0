//! Resolving an [`AttrPath`] against a resource's schemas: which object holds the attribute
//! (the resource itself, or an extension's object under its URN) and which definitions apply.

use super::{Attribute, Schema};
use crate::path::AttrPath;

/// Where an attribute lives in a resource: at the top (the core schema) or in an extension's
/// object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Container {
    /// The resource object itself.
    Core,
    /// The object under the extension's URN.
    Extension(&'static Schema),
}

/// What a path names.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    /// A whole schema's attributes: the path is that schema's URN.
    Schema(Container),
    /// One attribute, and perhaps one of its sub-attributes.
    Attribute { container: Container, attr: &'static Attribute, sub: Option<&'static Attribute> },
}

/// Resolves `path` against `schema` and its extensions. An unqualified name is looked up in the
/// core schema first, then in the extensions (clients send `groupKey` bare). The error says
/// what is missing, without a prefix.
pub(crate) fn resolve(schema: &'static Schema, path: &AttrPath) -> Result<Target, String> {
    if let Some(urn) = path.as_urn() {
        if urn.eq_ignore_ascii_case(schema.id) {
            return Ok(Target::Schema(Container::Core));
        }
        if let Some(extension) = schema.extension(&urn) {
            return Ok(Target::Schema(Container::Extension(extension)));
        }
    }
    let (container, attr) = match &path.schema {
        Some(urn) if urn.eq_ignore_ascii_case(schema.id) => (Container::Core, schema.attribute(&path.attr)),
        Some(urn) => {
            let extension =
                schema.extension(urn).ok_or_else(|| format!("\"{path}\" is in no schema of this resource"))?;
            (Container::Extension(extension), extension.attribute(&path.attr))
        }
        None => match schema.attribute(&path.attr) {
            Some(attr) => (Container::Core, Some(attr)),
            None => schema
                .extensions
                .iter()
                .find_map(|extension| Some((Container::Extension(extension), extension.attribute(&path.attr)?)))
                .map_or((Container::Core, None), |(container, attr)| (container, Some(attr))),
        },
    };
    let attr =
        attr.ok_or_else(|| format!("{} has no attribute \"{}\"", container_name(schema, container), path.attr))?;
    let sub = match &path.sub {
        None => None,
        Some(name) => {
            Some(attr.sub_attribute(name).ok_or_else(|| format!("\"{}\" has no sub-attribute \"{name}\"", attr.name))?)
        }
    };
    Ok(Target::Attribute { container, attr, sub })
}

fn container_name(schema: &Schema, container: Container) -> &'static str {
    match container {
        Container::Core => schema.name,
        Container::Extension(extension) => extension.name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{EXTENSION_SCHEMA, USER_SCHEMA, extension_schema, user_schema};

    fn target(path: &str) -> Result<Target, String> {
        resolve(user_schema(), &AttrPath::parse(path).unwrap())
    }

    fn names(path: &str) -> (Container, &'static str, Option<&'static str>) {
        match target(path).unwrap() {
            Target::Attribute { container, attr, sub } => (container, attr.name, sub.map(|s| s.name)),
            Target::Schema(_) => panic!("{path} resolved to a schema"),
        }
    }

    #[test]
    fn core_names_resolve_in_any_case_and_qualified() {
        assert_eq!(names("USERNAME"), (Container::Core, "userName", None));
        assert_eq!(names(&format!("{USER_SCHEMA}:name.givenname")), (Container::Core, "name", Some("givenName")));
    }

    #[test]
    fn extension_names_resolve_qualified_or_bare() {
        let extension = Container::Extension(extension_schema());
        assert_eq!(names(&format!("{EXTENSION_SCHEMA}:groupKey")), (extension, "groupKey", None));
        assert_eq!(names("groupkey"), (extension, "groupKey", None));
    }

    #[test]
    fn a_schema_urn_names_the_whole_schema() {
        assert!(matches!(target(EXTENSION_SCHEMA).unwrap(), Target::Schema(Container::Extension(_))));
        assert!(matches!(target(USER_SCHEMA).unwrap(), Target::Schema(Container::Core)));
    }

    #[test]
    fn unknown_names_say_what_is_missing() {
        assert_eq!(target("title").unwrap_err(), "User has no attribute \"title\"");
        assert_eq!(target("name.middleName").unwrap_err(), "\"name\" has no sub-attribute \"middleName\"");
        assert_eq!(
            target(&format!("{EXTENSION_SCHEMA}:userName")).unwrap_err(),
            "GoTo User has no attribute \"userName\""
        );
        assert_eq!(
            target("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department").unwrap_err(),
            "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department\" is in no schema of this resource"
        );
    }
}
