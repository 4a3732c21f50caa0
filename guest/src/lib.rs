//! The GoTo Meeting connector.
//!
//! Everything that knows GoTo lives here as plain Rust behind two small traits,
//! [`Transport`] (HTTP) and [`Host`] (settings, secrets, log, clock), so it is unit-tested
//! natively. The `component` module is the thin layer that binds those traits to
//! wit-bindgen imports and waki when compiled for `wasm32-wasip2`.

mod bindings {
    wit_bindgen::generate!({
        world: "connector-logic",
        path: "../wit",
        additional_derives: [PartialEq, Clone],
    });
}

mod auth;
mod catalogue;
mod connector;
mod cursor;
mod error;
mod filter;
mod goto;
mod groups;
mod host;
mod keys;
mod mapping;
mod plan;
mod probe;
mod provision;
mod retry;
mod session;
mod settings;
mod transport;
mod validate;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod wasi_transport;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod testing;

pub use bindings::exports::iga::gotomeeting::connector as wit;
pub use bindings::iga::gotomeeting::types;
pub use connector::Connector;
pub use host::{Host, LogLevel};
pub use transport::{HttpRequest, HttpResponse, Method, Transport};
