//! How a failure reaches the SCIM client: a connector error, a trap or a full pool becomes a
//! SCIM error body (RFC 7644 §3.12) with the status a SCIM client acts on.

use gtm_scim::error::{ScimError, ScimType};
use gtm_state::StateError;

use crate::runtime::{CallError, ConnectorError, describe};

/// A SCIM error, with how long to wait before trying again when that is known.
#[derive(Debug)]
pub struct Failure {
    pub error: ScimError,
    /// `Retry-After`, in seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl From<ScimError> for Failure {
    fn from(error: ScimError) -> Failure {
        Failure { error, retry_after: None }
    }
}

impl From<CallError> for Failure {
    fn from(error: CallError) -> Failure {
        match error {
            CallError::Connector(e) => connector_failure(&e),
            // The instance is dropped; the next request gets a fresh one.
            CallError::Trap(e) => ScimError::new(500, None, format!("the connector stopped: {e:#}")).into(),
        }
    }
}

impl From<StateError> for Failure {
    fn from(error: StateError) -> Failure {
        ScimError::new(500, None, format!("the service's state: {error}")).into()
    }
}

/// The SCIM answer to what the connector reported. Failures on GoTo's side (its errors, a
/// listing that is not well formed, the network) are 502, never an empty or partial answer;
/// what the SCIM client sent wrong is 400, 404 or 409.
fn connector_failure(error: &ConnectorError) -> Failure {
    let detail = describe(error);
    let scim = |status, scim_type| ScimError::new(status, scim_type, detail.clone());
    match error {
        ConnectorError::NotFound(_) => scim(404, None).into(),
        ConnectorError::AlreadyExists(_) => scim(409, Some(ScimType::Uniqueness)).into(),
        ConnectorError::Conflict(_) => scim(409, None).into(),
        ConnectorError::InvalidInput(_) => scim(400, Some(ScimType::InvalidValue)).into(),
        ConnectorError::RateLimited(limit) => {
            Failure { error: scim(429, None), retry_after: Some(limit.retry_after_secs.map_or(1, u64::from)) }
        }
        ConnectorError::Unsupported(_) => scim(501, None).into(),
        // The service's own GoTo credentials or settings: the operator's to fix, not the client's.
        ConnectorError::Unauthorized(_) | ConnectorError::Forbidden(_) | ConnectorError::Config(_) => {
            scim(500, None).into()
        }
        ConnectorError::Remote(_) | ConnectorError::Transport(_) => scim(502, None).into(),
    }
}

/// The answer when every instance is busy and the queue is full.
pub fn busy() -> Failure {
    Failure {
        error: ScimError::new(503, None, "every connector instance is busy and the queue is full; retry shortly"),
        retry_after: Some(1),
    }
}
