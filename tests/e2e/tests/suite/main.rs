//! End-to-end suites: the real component, in the real host, against the simulator.

mod auth;
mod cli;
mod entitlements;
mod faults;
mod import;
mod portability;
mod sandbox;
