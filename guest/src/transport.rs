//! The HTTP seam between GoTo logic and whatever sends requests (waki in the component,
//! a scripted fake in unit tests).

use crate::types::ConnectorError;

/// HTTP methods the GoTo Admin API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// Safe to resend after a failure that may or may not have reached GoTo.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post)
    }
}

/// One outgoing request with an absolute URL.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

/// A response as received; the body is complete (GoTo's JSON responses are small pages).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends one request. Errors are `transport` errors: the exchange did not complete.
pub trait Transport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, ConnectorError>;
}
