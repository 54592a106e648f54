//! Transports: how streams to and from peers are opened.
//!
//! The trait is deliberately small — accept the next inbound stream, dial a
//! peer, open a stream to a named host (for HTTP bootstrap) — so that the
//! driver does not care whether bytes travel over loopback TCP, an external
//! tor's SOCKS port, or an embedded Tor client (`arti`, feature `arti`).
//!
//! Invariant: a Tor transport never dials an IP endpoint taken from a record
//! and never publishes one ([`Transport::tcp_endpoint`] is `None`), so the
//! node's [`NodeConfig::tcp_transport`](torpeer_core::NodeConfig) stays
//! `None` and no IP address leaks into the network.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};
use torpeer_core::OnionAddress;

#[cfg(feature = "arti")]
pub mod arti;
pub mod prefixed;
pub mod socks;
pub mod tcp;
pub mod tor;

/// Virtual port of the TorPeer protocol on a node's onion service, and the
/// port tor transports dial (PROTOCOL.md §9).
pub const DEFAULT_ONION_PORT: u16 = 7447;

/// A bidirectional byte stream to a peer.
pub trait AsyncStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> AsyncStream for T {}

/// A boxed stream, whatever the transport.
pub type BoxStream = Box<dyn AsyncStream>;

/// A boxed, sendable future (the trait must be object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a transport operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Socket-level failure.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The tcp transport was asked to dial a peer whose record has no
    /// endpoint.
    #[error("peer {0} has no tcp endpoint")]
    NoEndpoint(OnionAddress),
    /// The SOCKS5 proxy refused or failed.
    #[error("socks5: {0}")]
    Socks(#[from] socks::SocksError),
    /// Timed out.
    #[error("timed out")]
    Timeout,
    /// The embedded Tor client failed (bad onion address, descriptor not
    /// found, introduction or rendezvous failure, service stopped …).
    #[cfg(feature = "arti")]
    #[error(transparent)]
    Arti(#[from] crate::arti::ArtiError),
}

impl TransportError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io(_) => "io",
            Self::NoEndpoint(_) => "no_endpoint",
            Self::Socks(e) => e.code(),
            Self::Timeout => "timeout",
            #[cfg(feature = "arti")]
            Self::Arti(e) => e.code(),
        }
    }
}

/// A way to reach peers and be reached by them.
pub trait Transport: Send + Sync + 'static {
    /// Short name for logs and `/v1/status` (`tcp`, `tor`, `arti`).
    fn name(&self) -> &'static str;

    /// The next inbound stream (from the listener bound at construction).
    fn accept(&self) -> BoxFuture<'_, Result<BoxStream, TransportError>>;

    /// Open a stream to a peer. `tcp_endpoint` comes from the peer's record
    /// and is only ever honoured by the loopback tcp transport.
    fn dial(
        &self,
        onion: OnionAddress,
        tcp_endpoint: Option<SocketAddr>,
    ) -> BoxFuture<'_, Result<BoxStream, TransportError>>;

    /// Open a stream to `host:port` (HTTP bootstrap). Tor transports route
    /// this through Tor too, so fetching a bootstrap list never bypasses it.
    fn connect_host<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, Result<BoxStream, TransportError>>;

    /// The endpoint to publish in our record: `Some` on tcp only.
    fn tcp_endpoint(&self) -> Option<SocketAddr>;

    /// The local address inbound streams arrive on (for logs and tests).
    fn local_addr(&self) -> Option<SocketAddr>;

    /// The health of an onion service this transport runs itself (arti),
    /// for `/v1/status` and `/metrics`; `None` for transports that run
    /// none (tcp, or an external tor that runs it for us).
    fn onion_service(&self) -> Option<OnionServiceReport> {
        None
    }
}

/// An in-process onion service's health (`onion_service` in `/v1/status`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OnionServiceReport {
    /// arti's state of the service: `Bootstrapping`, `DegradedReachable`,
    /// `DegradedUnreachable`, `Running`, `Recovering`, `Broken`,
    /// `Shutdown`. In a young test network it rarely says `Running`
    /// although the service is reachable.
    pub state: String,
    /// arti's current problem with it, if any (one line, shortened).
    pub problem: Option<String>,
    /// How often the supervisor dropped and relaunched it.
    pub restarts: u64,
}
