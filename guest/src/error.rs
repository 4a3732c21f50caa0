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

/// A short, single-line, tag-free excerpt of a body for error messages.
pub fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 120;
    let raw = String::from_utf8_lossy(body);
    let mut plain = String::with_capacity(raw.len().min(4 * MAX));
    let mut in_tag = false;
    for c in raw.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let words = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    match words.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &words[..cut]),
        None => words,
    }
}
