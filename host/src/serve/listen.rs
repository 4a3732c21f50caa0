//! The listener: plain HTTP/1.1 or TLS (rustls), on a runtime of its own, and a graceful stop:
//! no new connection is accepted, requests in flight finish, then the runtime ends.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context as _, Result, anyhow};
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use crate::log::{Level, Logger};

/// A TLS configuration from PEM files: the certificate chain and its private key.
pub fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow!("cannot read the certificate chain {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(anyhow!("{} holds no PEM certificate", cert.display()));
    }
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| anyhow!("cannot read the private key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and the private key do not go together")?;
    Ok(Arc::new(config))
}

/// A listener serving on its own thread until stopped.
pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl Running {
    pub fn stop(mut self) -> Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| anyhow!("the service's thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// Serves `app` on `listener` until [`Running::stop`].
pub fn start(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    log: Logger,
) -> Result<Running> {
    listener.set_nonblocking(true)?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the service's runtime")?;
    let (stop, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("scim-service".into())
        .spawn(move || runtime.block_on(serve(listener, tls.map(TlsAcceptor::from), app, stopped, log)))?;
    Ok(Running { stop: Some(stop), thread: Some(thread) })
}

async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    mut stopped: oneshot::Receiver<()>,
    log: Logger,
) -> Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let graceful = GracefulShutdown::new();
    let builder = http1::Builder::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    log.log(Level::Warn, "scim", format_args!("accepting a connection failed: {e}"));
                    continue;
                }
            },
            _ = &mut stopped => break,
        };
        let service = TowerToHyperService::new(app.clone());
        match &tls {
            None => {
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(connection);
                tokio::spawn(watched);
            }
            Some(acceptor) => {
                let (acceptor, builder, watcher, log) =
                    (acceptor.clone(), builder.clone(), graceful.watcher(), log.clone());
                tokio::spawn(async move {
                    match acceptor.accept(stream).await {
                        Ok(stream) => {
                            let connection = builder.serve_connection(TokioIo::new(stream), service);
                            let _ = watcher.watch(connection).await;
                        }
                        Err(e) => log.log(Level::Debug, "scim", format_args!("TLS handshake with {peer} failed: {e}")),
                    }
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
