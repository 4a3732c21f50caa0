//! A stateful, seedable simulator of the GoTo Admin API, its SCIM `/Users/me`, and the GoTo OAuth
//! token endpoint, reproducing the quirks listed in `shared/reference/goto-admin-api.md` §8, with
//! knobs and injectable faults for testing clients.
//!
//! ```no_run
//! let sim = gotosim::Simulator::start(gotosim::SimConfig::new(42)).unwrap();
//! println!("{} account {}", sim.base_url(), sim.account_key());
//! ```

mod admin;
mod auth;
mod config;
mod error;
mod extract;
mod faults;
mod filter;
mod identity;
mod keys;
mod lenient;
mod listing;
mod oauth;
mod ranked;
mod ratelimit;
mod render;
mod seed;
mod server;
mod state;
mod stats;
mod world;

pub use config::{Consent, Knobs, Rotation, SimConfig};
pub use faults::{Fault, FaultRule, Gate, Matcher, WorldChange};
pub use oauth::Credentials;
pub use server::Simulator;
pub use stats::Stats;
pub use world::{Group, License, NewUser, User, UserStatus, World};
