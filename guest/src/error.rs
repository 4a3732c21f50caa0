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

pub fn unsupported(message: impl Into<String>) -> ConnectorError {
    ConnectorError::Unsupported(context(None, message))
}
