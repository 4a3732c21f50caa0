//! State shared by every request handler.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::config::Knobs;
use crate::faults::Faults;
use crate::oauth::TokenStore;
use crate::ratelimit::RateLimiter;
use crate::stats::Stats;
use crate::world::World;

/// Everything a running simulator owns. Each part has its own lock, held only briefly and never
/// across an `.await`.
pub(crate) struct Shared {
    pub world: Mutex<World>,
    pub tokens: Mutex<TokenStore>,
    pub knobs: Mutex<Knobs>,
    pub faults: Mutex<Faults>,
    pub stats: Mutex<Stats>,
    pub limiter: Mutex<RateLimiter>,
}

impl Shared {
    /// A snapshot of the knobs for one request.
    pub fn knobs(&self) -> Knobs {
        lock(&self.knobs).clone()
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        lock(&self.stats)
    }
}

/// Locks, ignoring poisoning: every critical section leaves the data consistent before it can panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
