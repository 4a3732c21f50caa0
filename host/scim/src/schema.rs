//! The resources' schemas (RFC 7643 §2, §7): one table of attribute definitions per schema,
//! read alike by the `/Schemas` documents, projection, PATCH and [`crate::normalize`].

mod discovery;
mod tables;
mod target;

pub use discovery::{resource_types, schemas_document, service_provider_config};
pub(crate) use target::{Container, Target, resolve};

/// The core User schema (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema (RFC 7643 §4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// This service's User extension: what GoTo knows of a user beyond the core schema.
pub const EXTENSION_SCHEMA: &str = "urn:iga:gotomeeting:params:scim:schemas:extension:goto:2.0:User";
/// A list response (RFC 7644 §3.4.2).
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// A PATCH request (RFC 7644 §3.5.2).
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// An error response (RFC 7644 §3.12).
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// A schema's own representation in `/Schemas` (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// A resource type in `/ResourceTypes` (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The `/ServiceProviderConfig` document (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// The core User schema, with the GoTo extension as its one extension.
pub fn user_schema() -> &'static Schema {
    &tables::USER
}

/// The core Group schema.
pub fn group_schema() -> &'static Schema {
    &tables::GROUP
}

/// The GoTo User extension schema.
pub fn extension_schema() -> &'static Schema {
    &tables::EXTENSION
}

/// A schema: its URN, its attributes and, for a core schema, the extensions a resource of it
/// may carry (each as an object under the extension's URN, RFC 7643 §3.3).
#[derive(Debug)]
pub struct Schema {
    /// The schema URN.
    pub id: &'static str,
    /// A short name ("User").
    pub name: &'static str,
    /// What the schema describes.
    pub description: &'static str,
    /// The attributes, in the order `/Schemas` lists them.
    pub attributes: &'static [Attribute],
    /// The extension schemas of resources of this schema (the resource type's
    /// `schemaExtensions`); empty for an extension itself.
    pub extensions: &'static [&'static Schema],
}

/// Schemas are the same when their URNs are.
impl PartialEq for Schema {
    fn eq(&self, other: &Schema) -> bool {
        self.id == other.id
    }
}

impl Eq for Schema {}

impl Schema {
    /// The attribute named `name`, ignoring case.
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        find(self.attributes, name)
    }

    /// The extension with URN `urn`, ignoring case.
    pub fn extension(&self, urn: &str) -> Option<&'static Schema> {
        self.extensions.iter().copied().find(|extension| extension.id.eq_ignore_ascii_case(urn))
    }
}

/// One attribute's definition (RFC 7643 §2.2, §7).
#[derive(Debug)]
pub struct Attribute {
    /// The canonical name, with the case the service writes it in.
    pub name: &'static str,
    /// The data type.
    pub kind: AttrType,
    /// Whether it holds a list of values.
    pub multi_valued: bool,
    /// Whether a resource must have it.
    pub required: bool,
    /// Whether a client may set it.
    pub mutability: Mutability,
    /// When responses include it.
    pub returned: Returned,
    /// Whether the service keeps its values unique.
    pub uniqueness: Uniqueness,
    /// Whether its string values compare with case.
    pub case_exact: bool,
    /// The values it normally takes (advisory, as in RFC 7643 §7).
    pub canonical_values: &'static [&'static str],
    /// For a reference, the resource types (or "uri") it may point at.
    pub reference_types: &'static [&'static str],
    /// For a complex attribute, its sub-attributes.
    pub sub_attributes: &'static [Attribute],
    /// What it means in GoTo, for the administrator who maps it.
    pub description: &'static str,
}

impl Attribute {
    /// The sub-attribute named `name`, ignoring case.
    pub fn sub_attribute(&self, name: &str) -> Option<&'static Attribute> {
        find(self.sub_attributes, name)
    }

    /// A single-valued, optional, read-write, default-returned, non-unique, case-insensitive
    /// attribute; the methods below change one characteristic each.
    pub(crate) const fn new(name: &'static str, kind: AttrType, description: &'static str) -> Attribute {
        Attribute {
            name,
            kind,
            multi_valued: false,
            required: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            case_exact: false,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
            description,
        }
    }

    pub(crate) const fn complex(
        name: &'static str,
        sub_attributes: &'static [Attribute],
        description: &'static str,
    ) -> Attribute {
        Attribute { sub_attributes, ..Attribute::new(name, AttrType::Complex, description) }
    }

    pub(crate) const fn multi(self) -> Attribute {
        Attribute { multi_valued: true, ..self }
    }

    pub(crate) const fn required(self) -> Attribute {
        Attribute { required: true, ..self }
    }

    pub(crate) const fn read_only(self) -> Attribute {
        Attribute { mutability: Mutability::ReadOnly, ..self }
    }

    pub(crate) const fn returned(self, returned: Returned) -> Attribute {
        Attribute { returned, ..self }
    }

    pub(crate) const fn unique(self) -> Attribute {
        Attribute { uniqueness: Uniqueness::Server, ..self }
    }

    pub(crate) const fn case_exact(self) -> Attribute {
        Attribute { case_exact: true, ..self }
    }

    pub(crate) const fn canonical(self, canonical_values: &'static [&'static str]) -> Attribute {
        Attribute { canonical_values, ..self }
    }

    pub(crate) const fn references(self, reference_types: &'static [&'static str]) -> Attribute {
        Attribute { reference_types, ..self }
    }

    /// Whether a client may write it.
    pub(crate) fn writable(&self) -> bool {
        self.mutability != Mutability::ReadOnly
    }
}

fn find(attributes: &'static [Attribute], name: &str) -> Option<&'static Attribute> {
    attributes.iter().find(|attribute| attribute.name.eq_ignore_ascii_case(name))
}

/// An attribute's data type: the ones this service's schemas use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    /// A string.
    String,
    /// `true` or `false`.
    Boolean,
    /// An xsd:dateTime string.
    DateTime,
    /// A URI of a resource or of anything else ("uri").
    Reference,
    /// An object of sub-attributes.
    Complex,
}

impl AttrType {
    /// The name `/Schemas` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// Whether a client may change an attribute: the two of RFC 7643's four that these schemas use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    /// Set by the service only; ignored in a resource sent whole, refused as a PATCH target.
    ReadOnly,
    /// Set by the client.
    ReadWrite,
}

impl Mutability {
    /// The name `/Schemas` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
        }
    }
}

/// When a response includes an attribute (RFC 7643 §2.2, RFC 7644 §3.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    /// Always, whatever `attributes` and `excludedAttributes` say.
    Always,
    /// Never.
    Never,
    /// Unless excluded, or unless `attributes` names others only.
    Default,
    /// Only when `attributes` names it.
    Request,
}

impl Returned {
    /// The name `/Schemas` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// Whether the service keeps an attribute's values unique: the two these schemas use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uniqueness {
    /// No uniqueness.
    None,
    /// Unique among this service's resources of the type.
    Server,
}

impl Uniqueness {
    /// The name `/Schemas` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_found_without_case() {
        let user = user_schema();
        assert_eq!(user.attribute("USERNAME").unwrap().name, "userName");
        assert_eq!(user.attribute("name").unwrap().sub_attribute("GIVENNAME").unwrap().name, "givenName");
        assert!(user.attribute("title").is_none());
        assert_eq!(user.extension(&EXTENSION_SCHEMA.to_uppercase()).unwrap().id, EXTENSION_SCHEMA);
        assert!(group_schema().extension(EXTENSION_SCHEMA).is_none());
    }

    #[test]
    fn user_characteristics_follow_the_brief() {
        let user = user_schema();
        let user_name = user.attribute("userName").unwrap();
        assert!(user_name.required && user_name.uniqueness == Uniqueness::Server && !user_name.case_exact);
        let id = user.attribute("id").unwrap();
        assert!(id.mutability == Mutability::ReadOnly && id.returned == Returned::Always);
        for read_only in ["displayName", "groups", "meta"] {
            assert!(!user.attribute(read_only).unwrap().writable(), "{read_only}");
        }
        assert!(!user.attribute("name").unwrap().sub_attribute("formatted").unwrap().writable());
        for multi in ["emails", "entitlements", "roles", "groups"] {
            assert!(user.attribute(multi).unwrap().multi_valued, "{multi}");
        }
        assert_eq!(user.attribute("active").unwrap().kind, AttrType::Boolean);
        let extension = extension_schema();
        assert!(extension.attribute("groupKey").unwrap().writable());
        for read_only in ["status", "products", "groupName"] {
            assert!(!extension.attribute(read_only).unwrap().writable(), "{read_only}");
        }
        assert!(extension.attribute("products").unwrap().multi_valued);
    }

    #[test]
    fn group_members_say_a_user_is_in_one_group() {
        let members = group_schema().attribute("members").unwrap();
        assert!(members.multi_valued && members.writable());
        assert!(members.description.contains("at most one group"), "{}", members.description);
        assert!(group_schema().attribute("displayName").unwrap().required);
    }
}
