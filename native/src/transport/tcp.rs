//! Plain TCP on loopback: development, tests and the demo.
//!
//! Records carry the listening endpoint (`tcp_endpoint`), so peers can dial
//! what they discover without Tor.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use torpeer_core::OnionAddress;

use super::{BoxFuture, BoxStream, Transport, TransportError};

/// The loopback tcp transport.
#[derive(Debug)]
pub struct TcpTransport {
    listener: TcpListener,
    local: SocketAddr,
}

impl TcpTransport {
    /// Listen on `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr) -> Result<Self, TransportError> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        Ok(Self { listener, local })
    }
}

impl Transport for TcpTransport {
    fn name(&self) -> &'static str {
        "tcp"
    }

    fn accept(&self) -> BoxFuture<'_, Result<BoxStream, TransportError>> {
        Box::pin(async move {
            let (stream, _) = self.listener.accept().await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn dial(
        &self,
        onion: OnionAddress,
        tcp_endpoint: Option<SocketAddr>,
    ) -> BoxFuture<'_, Result<BoxStream, TransportError>> {
        Box::pin(async move {
            let endpoint = tcp_endpoint.ok_or(TransportError::NoEndpoint(onion))?;
            let stream = TcpStream::connect(endpoint).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn connect_host<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, Result<BoxStream, TransportError>> {
        Box::pin(async move {
            let stream = TcpStream::connect((host, port)).await?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn tcp_endpoint(&self) -> Option<SocketAddr> {
        Some(self.local)
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        Some(self.local)
    }
}
