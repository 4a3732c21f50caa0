//! The crash suite: real `gtm-connector` processes killed (or interrupted) while a request is held
//! at the simulator, at points of an import, a token refresh, an `apply` and an export; then the
//! next run must be correct and nothing lost: the state passes `PRAGMA integrity_check`, the
//! stored refresh token is the one GoTo issued last, a file of writes converges, no temporary
//! export is left behind. Held requests, not timers, pick the instant.

mod apply;
mod import;
mod refresh;
mod signals;
mod support;
