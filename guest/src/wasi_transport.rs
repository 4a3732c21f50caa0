//! [`Transport`] over wasi:http (the `wasip2` bindings), blocking per request.
//!
//! Written against the raw bindings rather than waki because a client must report why a
//! request failed: when the host refuses a request (egress policy) or the connection fails,
//! writing the request body fails with a bare "stream closed" while the real reason waits in
//! the response future. Here the future's error always wins.

use std::io::{Read, Write};
use std::time::Duration;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, Method as WasiMethod, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};

use crate::error::transport;
use crate::retry::path_of;
use crate::transport::{HttpRequest, HttpResponse, Method, Transport};
use crate::types::ConnectorError;

/// Only the connect timeout is the guest's to choose; the host clamps the others.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct WasiTransport;

impl Transport for WasiTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let what = format!("{} {}", request.method.as_str(), path_of(&request.url));
        let origin = request.url.split('/').take(3).collect::<Vec<_>>().join("/");
        exchange(request).map_err(|failure| match failure {
            Failure::Http(ErrorCode::HttpRequestDenied) => transport(format!(
                "{what}: the host's egress policy denied the request to {origin}; only the configured api-base and token-base hosts are allowed"
            )),
            Failure::Http(code) => transport(format!("{what} to {origin} failed: {code:?}")),
            Failure::Other(why) => transport(format!("{what} to {origin} failed: {why}")),
        })
    }
}

enum Failure {
    Http(ErrorCode),
    Other(String),
}

fn exchange(request: &HttpRequest) -> Result<HttpResponse, Failure> {
    let (scheme, rest) = request.url.split_once("://").ok_or_else(|| Failure::Other("the URL has no scheme".into()))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let mut fields: Vec<(String, Vec<u8>)> =
        request.headers.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.as_bytes().to_vec())).collect();
    // Without a length the host streams the body chunked, even an empty one; a server that
    // answers before reading the final chunk then closes the connection under the request,
    // which fails as an incomplete message. A declared length avoids the race.
    let length = request.body.as_ref().map_or(0, Vec::len);
    fields.push(("content-length".to_owned(), length.to_string().into_bytes()));
    let headers = Fields::from_list(&fields).map_err(|e| Failure::Other(format!("invalid header: {e:?}")))?;
    let outgoing = OutgoingRequest::new(headers);
    let method = match request.method {
        Method::Get => WasiMethod::Get,
        Method::Post => WasiMethod::Post,
        Method::Put => WasiMethod::Put,
        Method::Delete => WasiMethod::Delete,
    };
    let scheme = if scheme.eq_ignore_ascii_case("https") { Scheme::Https } else { Scheme::Http };
    let set = |ok: Result<(), ()>, what: &str| ok.map_err(|()| Failure::Other(format!("invalid {what}")));
    set(outgoing.set_method(&method), "method")?;
    set(outgoing.set_scheme(Some(&scheme)), "scheme")?;
    set(outgoing.set_authority(Some(authority)), "authority")?;
    set(outgoing.set_path_with_query(Some(path)), "path")?;
    let body = outgoing.body().map_err(|()| Failure::Other("request body unavailable".into()))?;

    let options = RequestOptions::new();
    // A host may not support the option; the request then uses the host's own timeout.
    let _ = options.set_connect_timeout(Some(CONNECT_TIMEOUT.as_nanos() as u64));
    let future = outgoing_handler::handle(outgoing, Some(options)).map_err(Failure::Http)?;

    // A write that fails because the host refused or lost the request is explained by the
    // response future below; a write that fails after the server answered does not matter.
    write_body(body, request.body.as_deref().unwrap_or_default());
    let response = loop {
        match future.get() {
            Some(Ok(Ok(response))) => break response,
            Some(Ok(Err(code))) => return Err(Failure::Http(code)),
            Some(Err(())) => return Err(Failure::Other("the response was already taken".into())),
            None => future.subscribe().block(),
        }
    };

    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .filter_map(|(name, value)| Some((name, String::from_utf8(value).ok()?)))
        .collect();
    let incoming = response.consume().map_err(|()| Failure::Other("response body unavailable".into()))?;
    let mut bytes = Vec::new();
    {
        let mut stream = incoming.stream().map_err(|()| Failure::Other("response body unavailable".into()))?;
        stream.read_to_end(&mut bytes).map_err(|e| Failure::Other(format!("reading the response body: {e}")))?;
    }
    drop(incoming);
    Ok(HttpResponse { status, headers, body: bytes })
}

/// Sends the request body, best effort: a failure here is explained by the response future.
fn write_body(body: OutgoingBody, bytes: &[u8]) {
    if !bytes.is_empty()
        && let Ok(mut stream) = body.write()
    {
        let _ = Write::write_all(&mut stream, bytes).and_then(|()| Write::flush(&mut stream));
    }
    let _ = OutgoingBody::finish(body, None);
}
