//! GoTo's wire format: JSON shapes, error envelopes and documented admin roles.

pub mod errors;
pub mod model;
pub mod roles;
