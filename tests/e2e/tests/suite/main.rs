//! End-to-end suites: the real component, in the real host, against the simulator.

mod apply;
mod auth;
mod cli;
mod compatibility;
mod conventions;
mod doctor;
mod entitlements;
mod faults;
mod groups;
mod hostile;
mod hostile_files;
mod hostile_tokens;
mod hostile_writes;
mod import;
mod login;
mod mapping;
mod pacing;
mod portability;
mod properties;
mod provisioning;
mod queue;
mod reconciliation;
mod sandbox;
mod scim;
