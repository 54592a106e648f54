//! External tor: outbound through tor's SOCKS5 port by onion hostname,
//! inbound on a local listener that tor's `HiddenServicePort` points at.
//!
//! torrc for a node listening on 127.0.0.1:7447:
//!
//! ```text
//! HiddenServiceDir /var/lib/torpeer/hs
//! HiddenServicePort 7447 127.0.0.1:7447
//! SocksPort 9050
//! ```
//!
//! The identity is the HiddenServiceDir's key, so the key that signs our
//! record is the key tor serves.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use torpeer_core::OnionAddress;

use super::{BoxFuture, BoxStream, Transport, TransportError, socks};

/// The external-tor transport.
#[derive(Debug)]
pub struct TorTransport {
    listener: TcpListener,
    local: SocketAddr,
    socks: SocketAddr,
    onion_port: u16,
}

impl TorTransport {
    /// Listen on `listen` (the target of tor's `HiddenServicePort`) and dial
    /// through the SOCKS5 proxy at `socks`, to `onion_port` on peers.
    pub async fn bind(
        listen: SocketAddr,
        socks: SocketAddr,
        onion_port: u16,
    ) -> Result<Self, TransportError> {
        let listener = TcpListener::bind(listen).await?;
        let local = listener.local_addr()?;
        Ok(Self {
            listener,
            local,
            socks,
            onion_port,
        })
    }
}

impl Transport for TorTransport {
    fn name(&self) -> &'static str {
        "tor"
    }

    fn accept(&self) -> BoxFuture<'_, Result<BoxStream, TransportError>> {
        Box::pin(async move {
            let (stream, _) = self.listener.accept().await?;
            Ok(Box::new(stream) as BoxStream)
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
            let stream = TcpStream::connect(self.socks).await?;
            let stream = socks::connect(stream, &host, self.onion_port).await?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn connect_host<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, Result<BoxStream, TransportError>> {
        Box::pin(async move {
            let stream = TcpStream::connect(self.socks).await?;
            let stream = socks::connect(stream, host, port).await?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn tcp_endpoint(&self) -> Option<SocketAddr> {
        None
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        Some(self.local)
    }
}
