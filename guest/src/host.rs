//! What the connector needs from its host besides HTTP: the WIT `host` and `templates`
//! interfaces plus a clock.

use std::time::Duration;

use crate::types::ConnectorError;

pub use crate::bindings::iga::gotomeeting::host::LogLevel;

/// Settings, secrets, logging, time and the mapping's template and pattern engines, as the
/// embedding host supplies them.
pub trait Host {
    fn setting(&self, key: &str) -> Option<String>;
    fn secret(&self, name: &str) -> Result<Option<String>, ConnectorError>;
    fn set_secret(&self, name: &str, value: &str) -> Result<(), ConnectorError>;
    fn log(&self, level: LogLevel, message: &str);
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> u64;
    fn sleep(&self, duration: Duration);
    /// A uniformly random number from a real random source (`wasi:random`): retry jitter drawn
    /// from the clock would put parallel runs in lockstep.
    fn random_u64(&self) -> u64;
    /// Compiles a mapping template; the error says what is wrong.
    fn check_template(&self, template: &str) -> Result<(), String>;
    /// Renders a mapping template with the identity's attributes.
    fn render_template(&self, template: &str, identity: &[(String, String)]) -> Result<String, String>;
    /// Compiles a mapping pattern; the error says what is wrong.
    fn check_pattern(&self, pattern: &str) -> Result<(), String>;
    /// Whether the whole of `value` matches a mapping pattern.
    fn pattern_matches(&self, pattern: &str, value: &str) -> Result<bool, String>;
}
