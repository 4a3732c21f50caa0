//! Request inputs (query, path keys, JSON bodies) turned into values, with every client mistake
//! answered by a 400 error envelope instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use http::request::Parts;
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, invented};
use crate::keys::path_key;

/// Query parameters, decoded the way a Java servlet does (`+` is a space), with the raw text kept
/// for quirk 5. Raw `(`, `)`, `=` and `"` are fine; an unencoded `&` splits the parameter.
pub(crate) struct Params {
    pairs: Vec<(String, String, String)>,
}

impl Params {
    pub fn parse(query: &str) -> Self {
        let pairs = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(name), raw.to_owned(), decode(raw))
            })
            .collect();
        Params { pairs }
    }

    /// The first decoded value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|p| p.0 == name).map(|p| p.2.as_str())
    }

    /// The first value of `name` as sent (still percent-encoded).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|p| p.0 == name).map(|p| p.1.as_str())
    }

    /// A non-negative integer parameter.
    pub fn number(&self, name: &str) -> Result<Option<usize>, ApiError> {
        self.get(name)
            .map(|v| {
                v.trim().parse().map_err(|_| ApiError::bad_request(invented::REQUEST_INVALID, format!("{name}={v}")))
            })
            .transpose()
    }

    /// A boolean parameter (`true`/`false`, any case).
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" => Ok(true),
            Some(v) if v == "false" => Ok(false),
            Some(v) => Err(ApiError::bad_request(invented::REQUEST_INVALID, format!("{name}={v}"))),
        }
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

impl<S: Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Params::parse(parts.uri.query().unwrap_or_default()))
    }
}

/// The route's path parameters, keys unquoted (`"123"` → `123`).
pub(crate) struct PathKeys(Vec<(String, String)>);

impl PathKeys {
    /// The parameter `name`; routes only ask for parameters they declare.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|p| p.0 == name).map(|p| p.1.as_str()).unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathKeys {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(invented::REQUEST_INVALID, e.body_text()))?;
        Ok(PathKeys(raw.iter().map(|(name, value)| (name.to_owned(), path_key(value))).collect()))
    }
}

/// A JSON request body of type `T`.
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), invented::REQUEST_INVALID, e.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(invented::REQUEST_INVALID, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_a_servlet_and_keeps_raw_text() {
        let p = Params::parse("filter=email+eq+%22a%2Bb%40x.com%22&offset=5&filter=ignored&flag");
        assert_eq!(p.get("filter"), Some(r#"email eq "a+b@x.com""#));
        assert_eq!(p.raw("filter"), Some("email+eq+%22a%2Bb%40x.com%22"));
        assert_eq!(p.number("offset").unwrap(), Some(5));
        assert_eq!(p.get("flag"), Some(""));
        let raw = Params::parse(r#"filter=(email="a@b.com")"#);
        assert_eq!(raw.get("filter"), Some(r#"(email="a@b.com")"#));
        assert!(Params::parse("offset=-1").number("offset").is_err());
        assert!(Params::parse("allOrNothing=maybe").flag("allOrNothing", true).is_err());
    }
}
