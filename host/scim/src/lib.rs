//! The SCIM 2.0 protocol layer (RFC 7643, RFC 7644) of the GoTo Meeting connector's SCIM
//! service: filters, PATCH, list queries, projection and the discovery schemas. It knows SCIM
//! and nothing of GoTo's API, the component or HTTP; the service maps its JSON resources to
//! GoTo accounts and back.
//!
//! It follows the RFCs and accepts what real clients send: op names in any case (Entra's
//! "Replace"), booleans as strings ("False"), `remove` of some members as a value list, `replace`
//! without a path and with an object, fully-qualified paths, attribute names in any case
//! (written back in their schema's case).
//!
//! Modules form layers, each using only those below it: `error`, then `path` and `schema` (the
//! attribute tables, their resolution, the discovery documents), then `json` (case-insensitive
//! access) and `value` (client values checked against a definition), then `filter`, then
//! `elements` and `write` (writing values into a resource), then `resource`, `patch`,
//! `projection` and `query`.

mod elements;
pub mod error;
pub mod filter;
mod json;
pub mod patch;
pub mod path;
pub mod projection;
pub mod query;
mod resource;
pub mod schema;
mod value;
mod write;

pub use error::{ScimError, ScimType};
pub use filter::{CompareOp, Filter};
pub use patch::{Op, Operation, PatchPath, PatchRequest};
pub use path::AttrPath;
pub use projection::project;
pub use query::{ListQuery, list_response};
pub use resource::normalize;
pub use schema::{
    ERROR_SCHEMA, EXTENSION_SCHEMA, GROUP_SCHEMA, LIST_RESPONSE, PATCH_OP, Schema, USER_SCHEMA, extension_schema,
    group_schema, resource_types, schemas_document, service_provider_config, user_schema,
};
