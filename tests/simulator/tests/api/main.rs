//! End-to-end tests of the simulator over real loopback HTTP.

mod client;
mod listing;
mod oauth;
mod robustness;
mod writes;
