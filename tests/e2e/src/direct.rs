//! The library's [`Connection`] driven directly, without a front end, for suites about what
//! one export does through the real component and host. Its log (at debug, all there is) is
//! swept for secrets when it is dropped.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

use gtm_host::log::{Level, Logger};
use gtm_host::runtime::Connection;
use gtm_leaks::Secrets;

use crate::{Captured, Harness};

/// A connection for a harness's profile, as every front end assembles it.
pub struct Direct<'h> {
    h: &'h Harness,
    conn: Connection,
    log: Arc<Mutex<Vec<u8>>>,
}

impl<'h> Direct<'h> {
    pub fn connect(h: &'h Harness) -> Direct<'h> {
        let log = Arc::new(Mutex::new(Vec::new()));
        let logger = Logger::new(Level::Debug, Captured(log.clone()));
        let conn = h
            .connector(logger)
            .and_then(|connector| connector.connect())
            .unwrap_or_else(|e| panic!("the connection opens: {e:#}"));
        Direct { h, conn, log }
    }
}

impl Deref for Direct<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for Direct<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for Direct<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let log = String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned();
        Secrets::new(self.h.issued_secrets()).assert_not_in("the connection's log", &log);
    }
}
