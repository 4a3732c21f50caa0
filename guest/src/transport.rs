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

    /// The response with every occurrence of `secret` in its body replaced by `[withheld]`. A
    /// server or gateway that echoes the request's credentials back (a debug error page, a
    /// reflected header) must not hand them to error messages, logs or the records.
    pub fn withholding(mut self, secret: &str) -> HttpResponse {
        // Shorter values are no real credential and would match ordinary text in the body.
        const SHORTEST: usize = 8;
        let secret = secret.as_bytes();
        // Every response body is searched, a page of a thousand accounts among them: a
        // comparison at each of its offsets was a third of the guest's time.
        let finder = memchr::memmem::Finder::new(secret);
        let find = |bytes: &[u8]| finder.find(bytes);
        if secret.len() < SHORTEST || find(&self.body).is_none() {
            return self;
        }
        let mut body = Vec::with_capacity(self.body.len());
        let mut rest = self.body.as_slice();
        while let Some(at) = find(rest) {
            body.extend_from_slice(&rest[..at]);
            body.extend_from_slice(b"[withheld]");
            rest = &rest[at + secret.len()..];
        }
        body.extend_from_slice(rest);
        self.body = body;
        self
    }
}

/// Sends one request. Errors are `transport` errors: the exchange did not complete.
pub trait Transport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, ConnectorError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &[u8]) -> HttpResponse {
        HttpResponse { status: 502, headers: Vec::new(), body: body.to_vec() }
    }

    #[test]
    fn every_echo_of_the_secret_is_withheld() {
        let secret = "tok-3f9a2c71";
        let mut body = format!("{secret} said: Bearer {secret}, again {secret}{secret}").into_bytes();
        body.extend_from_slice(b"\xff end ");
        body.extend_from_slice(secret.as_bytes());
        let withheld = response(&body).withholding(secret).body;
        assert_eq!(withheld, b"[withheld] said: Bearer [withheld], again [withheld][withheld]\xff end [withheld]");
        let partial = b"tok-3f9a2c7 is almost it".to_vec();
        assert_eq!(response(&partial).withholding(secret).body, partial, "a near miss stays");
        assert_eq!(response(b"short").withholding("short").body, b"short", "too short to be a credential");
    }
}
