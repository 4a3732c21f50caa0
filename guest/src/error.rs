//! Constructors for the WIT error variant, so call sites state what went wrong and where.

use crate::types::{ConnectorError, ErrorInfo};

fn context(field: Option<&str>, message: impl Into<String>) -> ErrorInfo {
    ErrorInfo { message: message.into(), field: field.map(str::to_owned) }
}

pub fn invalid_input(field: &str, message: impl Into<String>) -> ConnectorError {
    ConnectorError::InvalidInput(context(Some(field), message))
}

pub fn config(field: &str, message: impl Into<String>) -> ConnectorError {
    ConnectorError::Config(context(Some(field), message))
}

pub fn transport(message: impl Into<String>) -> ConnectorError {
    ConnectorError::Transport(context(None, message))
}

pub fn unauthorized(message: impl Into<String>) -> ConnectorError {
    ConnectorError::Unauthorized(context(None, message))
}

pub fn not_found(field: &str, message: impl Into<String>) -> ConnectorError {
    ConnectorError::NotFound(context(Some(field), message))
}

pub fn conflict(field: &str, message: impl Into<String>) -> ConnectorError {
    ConnectorError::Conflict(context(Some(field), message))
}

impl ConnectorError {
    /// The human message carried by any case, for log lines.
    pub fn message(&self) -> &str {
        match self {
            ConnectorError::AlreadyExists(key) => key,
            ConnectorError::RateLimited(r) => &r.message,
            ConnectorError::Remote(r) => &r.message,
            ConnectorError::NotFound(i)
            | ConnectorError::Conflict(i)
            | ConnectorError::InvalidInput(i)
            | ConnectorError::Unauthorized(i)
            | ConnectorError::Forbidden(i)
            | ConnectorError::Transport(i)
            | ConnectorError::Config(i)
            | ConnectorError::Unsupported(i) => &i.message,
        }
    }
}
