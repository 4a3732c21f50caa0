//! Scopes and run ids as people type them (`state show --scope`, `state diff RUN`).

use std::str::FromStr;

use crate::error::StateError;
use crate::model::{RunId, Scope};

impl FromStr for Scope {
    type Err = StateError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Scope::parse(name).ok_or_else(|| StateError::UnknownScope(name.to_owned()))
    }
}

impl FromStr for RunId {
    type Err = StateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(RunId(id)),
            _ => Err(StateError::InvalidRunId(text.to_owned())),
        }
    }
}
