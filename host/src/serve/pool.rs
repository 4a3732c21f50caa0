//! A bounded pool of connector instances. At most `instances` requests run at once, each on an
//! instance of its own (made from one seed, so all share the secret store, the token refresh
//! and the profile's rate governor); at most `queue` more wait for one; beyond that a request
//! is refused at once (503), so a burst cannot pile up unbounded work or memory.

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::failure::{Failure, busy};
use super::lock;
use crate::runtime::Connection;

pub struct Pool {
    /// The first instance: made once (it found the account key), and the pattern of the others.
    seed: Mutex<Connection>,
    idle: Mutex<Vec<Connection>>,
    /// One permit per instance that may run.
    running: Arc<Semaphore>,
    /// One permit per request admitted: running or waiting.
    admitted: Arc<Semaphore>,
}

impl Pool {
    pub fn new(seed: Connection, instances: usize, queue: usize) -> Pool {
        Pool {
            seed: Mutex::new(seed),
            idle: Mutex::new(Vec::new()),
            running: Arc::new(Semaphore::new(instances)),
            admitted: Arc::new(Semaphore::new(instances + queue)),
        }
    }

    /// Runs `job` on an instance, off the async threads (connector calls block on GoTo).
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        job: impl FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        let Ok(_admitted) = self.admitted.clone().try_acquire_owned() else {
            return Err(busy());
        };
        let _running = self.running.clone().acquire_owned().await.map_err(|_| busy())?;
        let pool = self.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let mut conn = pool.take()?;
            let outcome = job(&mut conn);
            // An instance that trapped may not be entered again: it is dropped, not returned.
            if !conn.trapped() {
                lock(&pool.idle).push(conn);
            }
            outcome
        })
        .await;
        outcome.unwrap_or_else(|e| {
            Err(gtm_scim::error::ScimError::new(500, None, format!("the request failed: {e}")).into())
        })
    }

    /// An idle instance, or a new one like the seed.
    fn take(&self) -> Result<Connection, Failure> {
        if let Some(conn) = lock(&self.idle).pop() {
            return Ok(conn);
        }
        lock(&self.seed).sibling().map_err(|e| {
            gtm_scim::error::ScimError::new(500, None, format!("could not start a connector instance: {e:#}")).into()
        })
    }
}
