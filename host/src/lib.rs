//! The wasmtime host for the GoTo Meeting connector component, and its CLI.
//!
//! - [`engine`]: the wasmtime engine and the compiled-code cache;
//! - [`runtime`]: instantiating the component and calling its exports, with limits;
//! - [`egress`]: the outgoing HTTP allow-list, timeouts and redacted traffic log, with the
//!   [`governor`] pacing every request under GoTo's rate limit;
//! - [`secrets`] and [`profile`]: where credentials and settings come from, [`limits`] what
//!   a connection may use;
//! - [`consent`]: an administrator's consent in the browser, received on a loopback port;
//! - [`connector`]: one profile's connector (settings, secrets, component, state), assembled
//!   once for every front end;
//! - [`serve`]: the SCIM 2.0 service in front of the connector;
//! - [`cli`]: the `gtm-connector` command line, runnable in-process for tests.

pub mod bad_input;
pub mod cli;
pub mod connector;
pub mod consent;
pub mod egress;
pub mod engine;
pub mod governor;
mod guest_stderr;
pub mod limits;
pub mod log;
pub mod profile;
pub mod runtime;
pub mod secrets;
pub mod serve;
