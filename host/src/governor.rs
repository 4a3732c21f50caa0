//! The client-side rate governor. Every request made under one loaded profile waits its turn
//! here, however many component instances make them, so a process stays under GoTo's limit
//! (about 10 requests per second) instead of finding it by 429s.
//!
//! A token bucket of one token: requests start at least `1 / rate` apart, which is what a
//! server-side window of the same rate accepts without a burst allowance. A 429 halves the rate
//! (down to [`MIN_RATE`]) and, when GoTo says `Retry-After`, holds every request until then; each
//! answer that is not a 429 wins back a twentieth of the configured rate.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The governor never slows below this, so one bad minute cannot stall an import for hours.
pub const MIN_RATE: f64 = 0.5;

/// Requests per second when the profile does not say.
pub const DEFAULT_RATE: f64 = 10.0;

/// A `Retry-After` longer than this is not honoured as given: GoTo's windows are seconds long.
const MAX_PAUSE: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Governor {
    ceiling: f64,
    pace: Mutex<Pace>,
}

#[derive(Debug)]
struct Pace {
    rate: f64,
    /// The earliest instant the next request may start.
    next: Instant,
}

impl Governor {
    /// A governor allowing `per_sec` requests per second (at least [`MIN_RATE`]).
    pub fn new(per_sec: f64) -> Governor {
        let ceiling = per_sec.max(MIN_RATE);
        Governor { ceiling, pace: Mutex::new(Pace { rate: ceiling, next: Instant::now() }) }
    }

    /// The current rate, requests per second.
    pub fn rate(&self) -> f64 {
        self.lock().rate
    }

    /// Waits until a request may start, and takes its slot.
    pub async fn admit(&self) {
        let wait = self.reserve(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes the next slot from `now` and says how long to wait for it.
    fn reserve(&self, now: Instant) -> Duration {
        let mut pace = self.lock();
        let start = pace.next.max(now);
        pace.next = start + Duration::from_secs_f64(1.0 / pace.rate);
        start - now
    }

    /// Takes in what an answer said about the rate: its status and `Retry-After` header.
    pub fn observe(&self, status: u16, retry_after: Option<&str>) {
        let pause = retry_after.and_then(|value| gtm_retry_after::wait(value, SystemTime::now()));
        self.observe_at(status, pause, Instant::now());
    }

    fn observe_at(&self, status: u16, pause: Option<Duration>, now: Instant) {
        let mut pace = self.lock();
        if status == 429 {
            pace.rate = (pace.rate / 2.0).max(MIN_RATE);
            if let Some(pause) = pause {
                pace.next = pace.next.max(now + pause.min(MAX_PAUSE));
            }
        } else {
            pace.rate = (pace.rate + self.ceiling / 20.0).min(self.ceiling);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pace> {
        self.pace.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_start_one_interval_apart() {
        let governor = Governor::new(10.0);
        let now = Instant::now();
        let waits: Vec<Duration> = (0..4).map(|_| governor.reserve(now)).collect();
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 100, 200, 300]);
        // Time that passed without requests is not saved up into a burst.
        let later = now + Duration::from_secs(10);
        assert_eq!(governor.reserve(later), Duration::ZERO);
        assert_eq!(governor.reserve(later).as_millis(), 100);
    }

    #[test]
    fn a_429_halves_the_rate_and_holds_everyone_for_retry_after_then_the_rate_recovers() {
        let governor = Governor::new(10.0);
        let now = Instant::now();
        governor.observe_at(429, Some(Duration::from_secs(2)), now);
        assert_eq!(governor.rate(), 5.0);
        assert_eq!(governor.reserve(now).as_millis(), 2000, "nobody starts before Retry-After");
        assert_eq!(governor.reserve(now).as_millis(), 2200, "then at the halved rate");
        for _ in 0..5 {
            governor.observe_at(429, None, now);
        }
        assert_eq!(governor.rate(), MIN_RATE, "never below the floor");
        for _ in 0..40 {
            governor.observe_at(200, None, now);
        }
        assert_eq!(governor.rate(), 10.0, "recovered, never above the ceiling");
        governor.observe_at(429, Some(Duration::from_secs(3600)), now);
        assert!(governor.reserve(now) <= MAX_PAUSE + Duration::from_secs(3), "an absurd Retry-After is capped");
    }
}
