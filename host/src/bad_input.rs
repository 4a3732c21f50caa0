//! The one error marker every front end reads the same way: the user fixes it by changing the
//! invocation, the request or the configuration (the CLI's exit status 2, SCIM's 400).

use std::fmt;

/// An error in what the user gave: a flag, a file, a profile setting, a request.
#[derive(Debug)]
pub struct BadInput(pub anyhow::Error);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for BadInput {}

/// Marks `error` as the user's to fix.
pub fn bad_input(error: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(BadInput(error))
}
