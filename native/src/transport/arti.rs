//! Embedded Tor (arti, cargo feature `arti`): the node's onion service runs
//! in-process and every outbound stream goes through Tor.
//!
//! - `accept`: streams peers open to virtual port `onion_port`
//!   ([`DEFAULT_ONION_PORT`](super::DEFAULT_ONION_PORT) unless configured)
//!   of our onion service; BEGINs to any other port are refused by
//!   [`ArtiOnion`];
//! - `dial`: `onion:onion_port` through arti. The record's tcp endpoint is
//!   ignored — a Tor transport never dials an IP taken from a record;
//! - `connect_host`: `host:port` through arti as well (an onion service, or
//!   a clearnet host via an exit), so a bootstrap URL never bypasses Tor;
//! - no tcp endpoint to publish, no local listener.
//!
//! The only sockets such a node opens itself are arti's own to its guards
//! and directory caches, and the local HTTP API listener.
//!
//! arti's `DataStream` buffers written bytes until flushed (it packs them
//! into relay cells); the driver's writer flushes after each burst of
//! frames, so nothing waits in a half-filled cell.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use torpeer_core::OnionAddress;

use super::{BoxFuture, BoxStream, OnionServiceReport, Transport, TransportError};
use crate::arti::{ArtiConfig, ArtiError, ArtiOnion, IncomingStream};

/// The embedded-arti transport.
#[derive(Debug)]
pub struct ArtiTransport {
    onion: ArtiOnion,
    // The driver has one accept loop; the lock is only ever uncontended.
    incoming: Mutex<mpsc::Receiver<IncomingStream>>,
    onion_port: u16,
    connect_timeout: Duration,
}

impl ArtiTransport {
    /// Bootstraps arti with `cfg` (bounded by its `bootstrap_timeout_secs`),
    /// launches the onion service of the key in `hs_dir` (checking arti
    /// serves that very address) and accepts streams to `onion_port`.
    /// Must be called inside a tokio runtime.
    pub async fn start(
        cfg: &ArtiConfig,
        hs_dir: &Path,
        onion_port: u16,
    ) -> Result<Self, ArtiError> {
        let (onion, incoming) = ArtiOnion::start(cfg, hs_dir, onion_port).await?;
        Ok(Self {
            onion,
            incoming: Mutex::new(incoming),
            onion_port,
            connect_timeout: cfg.connect_timeout(),
        })
    }

    /// The onion address the service runs as (the HiddenServiceDir's).
    pub fn onion_address(&self) -> &OnionAddress {
        self.onion.onion_address()
    }

    /// arti's view of the service (`Running`, `DegradedUnreachable`, …).
    pub fn service_state(&self) -> String {
        self.onion.service_state()
    }

    /// `fut` bounded by the connect timeout.
    async fn bounded<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, ArtiError>>,
    ) -> Result<T, TransportError> {
        match tokio::time::timeout(self.connect_timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(TransportError::Arti(e)),
            Err(_) => Err(TransportError::Timeout),
        }
    }
}

impl Transport for ArtiTransport {
    fn name(&self) -> &'static str {
        "arti"
    }

    fn accept(&self) -> BoxFuture<'_, Result<BoxStream, TransportError>> {
        Box::pin(async move {
            let mut incoming = self.incoming.lock().await;
            match incoming.recv().await {
                Some(inc) => Ok(Box::new(inc.stream) as BoxStream),
                None => Err(TransportError::Arti(ArtiError::ServiceStopped)),
            }
        })
    }

    fn dial(
        &self,
        onion: OnionAddress,
        // Never used: a Tor transport must not dial an IP from a record.
        _tcp_endpoint: Option<SocketAddr>,
    ) -> BoxFuture<'_, Result<BoxStream, TransportError>> {
        Box::pin(async move {
            let host = onion.to_string();
            let stream = self
                .bounded(self.onion.dial(&host, self.onion_port))
                .await?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn connect_host<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, Result<BoxStream, TransportError>> {
        Box::pin(async move {
            let stream = self.bounded(self.onion.connect_host(host, port)).await?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn tcp_endpoint(&self) -> Option<SocketAddr> {
        None
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        None
    }

    fn onion_service(&self) -> Option<OnionServiceReport> {
        Some(self.onion.service_report())
    }
}
