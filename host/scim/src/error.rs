//! SCIM errors (RFC 7644 §3.12): an HTTP status, an optional `scimType` and a detail, and the
//! error body a service returns for them.

use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use crate::schema::ERROR_SCHEMA;

/// The `scimType` of a 400 (or 409) error, serialised as RFC 7644 §3.12's camelCase names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ScimType {
    /// The filter syntax was invalid, or the filter is not supported.
    InvalidFilter,
    /// The filter yields more results than the service will return.
    TooMany,
    /// A value is already in use (a duplicate `userName`, say).
    Uniqueness,
    /// The change is not compatible with the attribute's mutability (`readOnly`).
    Mutability,
    /// The request body is not a valid SCIM message.
    InvalidSyntax,
    /// A `path` is malformed or names no attribute of the schema.
    InvalidPath,
    /// The `path` (or its value filter) selects nothing to operate on.
    NoTarget,
    /// A value is missing, of the wrong type, or not allowed for the attribute.
    InvalidValue,
    /// The requested protocol version is not supported.
    InvalidVers,
    /// The request carries sensitive data where it must not (in a URL, say).
    Sensitive,
}

impl ScimType {
    /// The RFC's name for it, as it appears in `scimType`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed SCIM request: what the service answers with [`ScimError::body`] and `status`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("SCIM {status}{}: {detail}", scim_type.map(|t| format!(" {t}")).unwrap_or_default())]
pub struct ScimError {
    /// The HTTP status code.
    pub status: u16,
    /// RFC 7644's error keyword, where one applies.
    pub scim_type: Option<ScimType>,
    /// What was wrong, for a person to read.
    pub detail: String,
}

impl ScimError {
    /// An error of any status.
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> ScimError {
        ScimError { status, scim_type, detail: detail.into() }
    }

    /// 400 Bad Request with a `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some(scim_type), detail)
    }

    /// 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> ScimError {
        ScimError::new(404, None, detail)
    }

    /// 409 Conflict, normally with [`ScimType::Uniqueness`].
    pub fn conflict(scim_type: ScimType, detail: impl Into<String>) -> ScimError {
        ScimError::new(409, Some(scim_type), detail)
    }

    /// 401 Unauthorized.
    pub fn unauthorized(detail: impl Into<String>) -> ScimError {
        ScimError::new(401, None, detail)
    }

    /// The same error with `context` put before its detail ("operation 2: ...").
    pub(crate) fn context(mut self, context: impl fmt::Display) -> ScimError {
        self.detail = format!("{context}: {}", self.detail);
        self
    }

    /// The RFC 7644 §3.12 error body: the Error schema, `status` as a string, `scimType` when
    /// set, and `detail`.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = Value::from(scim_type.as_str());
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_error_schema_a_string_status_and_the_scim_type() {
        let error = ScimError::conflict(ScimType::Uniqueness, "userName ann@x.example is taken");
        assert_eq!(
            error.body(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "409",
                "scimType": "uniqueness",
                "detail": "userName ann@x.example is taken",
            })
        );
    }

    #[test]
    fn body_leaves_scim_type_out_when_there_is_none() {
        let body = ScimError::not_found("no User 42").body();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none(), "{body}");
    }

    #[test]
    fn every_scim_type_serialises_as_the_rfc_names_it() {
        let all = [
            (ScimType::InvalidFilter, "invalidFilter"),
            (ScimType::TooMany, "tooMany"),
            (ScimType::Uniqueness, "uniqueness"),
            (ScimType::Mutability, "mutability"),
            (ScimType::InvalidSyntax, "invalidSyntax"),
            (ScimType::InvalidPath, "invalidPath"),
            (ScimType::NoTarget, "noTarget"),
            (ScimType::InvalidValue, "invalidValue"),
            (ScimType::InvalidVers, "invalidVers"),
            (ScimType::Sensitive, "sensitive"),
        ];
        for (scim_type, name) in all {
            assert_eq!(serde_json::to_value(scim_type).unwrap(), name);
            assert_eq!(scim_type.to_string(), name);
        }
    }

    #[test]
    fn display_names_status_type_and_detail() {
        assert_eq!(
            ScimError::bad_request(ScimType::NoTarget, "nothing matched").to_string(),
            "SCIM 400 noTarget: nothing matched"
        );
        assert_eq!(ScimError::unauthorized("no bearer token").to_string(), "SCIM 401: no bearer token");
        assert_eq!(ScimError::new(503, None, "busy").status, 503);
    }
}
