//! Resource limits for one connection, a leaf module so that the profile (which reads them)
//! and the runtime (which enforces them) need not import each other.

use std::time::Duration;

/// Resource limits for one connection (HTTP limits are in [`crate::egress::EgressPolicy`]).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest linear memory the guest may grow.
    pub memory_bytes: usize,
    /// Longest a single connector call may run, including time spent waiting on HTTP.
    pub call_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { memory_bytes: 256 << 20, call_timeout: Duration::from_secs(600) }
    }
}
