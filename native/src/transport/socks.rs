//! A minimal SOCKS5 client (RFC 1928, CONNECT by domain name, no auth) —
//! enough to ask tor for a stream to `<onion>:<port>`. Hand-written because
//! it is ~100 lines and lets us map tor's extended reply codes (0xF0–0xF7,
//! onion-service failures) to clear errors.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Why a SOCKS5 CONNECT failed.
#[derive(Debug, thiserror::Error)]
pub enum SocksError {
    /// Socket failure while talking to the proxy.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The proxy does not speak SOCKS5 or wants authentication.
    #[error("proxy refused the no-auth SOCKS5 greeting")]
    Greeting,
    /// Host names are at most 255 bytes in SOCKS5.
    #[error("host name too long")]
    HostTooLong,
    /// The proxy answered with a failure code.
    #[error("connect failed: {}", reply_text(*.0))]
    Reply(u8),
    /// The proxy's answer is malformed.
    #[error("malformed reply")]
    Malformed,
}

impl SocksError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io(_) => "socks_io",
            Self::Greeting => "socks_greeting",
            Self::HostTooLong => "socks_host_too_long",
            Self::Reply(_) => "socks_refused",
            Self::Malformed => "socks_malformed",
        }
    }
}

/// Text of a reply code, including tor's onion-service extensions
/// (`SocksPort ... ExtendedErrors`).
fn reply_text(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        0xF0 => "onion service descriptor not found",
        0xF1 => "onion service descriptor invalid",
        0xF2 => "onion service introduction failed",
        0xF3 => "onion service rendezvous failed",
        0xF4 => "onion service missing client authorization",
        0xF5 => "onion service wrong client authorization",
        0xF6 => "invalid onion address",
        0xF7 => "onion service introduction timed out",
        _ => "unknown reply code",
    }
}

/// CONNECT to `host:port` through the SOCKS5 proxy on `stream`; on success
/// the stream carries the tunnelled connection.
pub async fn connect<S>(mut stream: S, host: &str, port: u16) -> Result<S, SocksError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let host_len = u8::try_from(host.len()).map_err(|_| SocksError::HostTooLong)?;
    stream.write_all(&[5, 1, 0]).await?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await?;
    if choice != [5, 0] {
        return Err(SocksError::Greeting);
    }
    let mut req = Vec::with_capacity(7 + host.len());
    req.extend_from_slice(&[5, 1, 0, 3, host_len]);
    req.extend_from_slice(host.as_bytes());
    req.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&req).await?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await?;
    if head[0] != 5 {
        return Err(SocksError::Malformed);
    }
    if head[1] != 0 {
        return Err(SocksError::Reply(head[1]));
    }
    // Skip the bound address: its length depends on the address type.
    let addr_len = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await?;
            usize::from(len[0])
        }
        _ => return Err(SocksError::Malformed),
    };
    let mut rest = vec![0u8; addr_len + 2];
    stream.read_exact(&mut rest).await?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted proxy on the other end of an in-memory pipe.
    async fn proxy(mut s: tokio::io::DuplexStream, reply: u8) -> Vec<u8> {
        let mut greet = [0u8; 3];
        s.read_exact(&mut greet).await.unwrap();
        assert_eq!(greet, [5, 1, 0]);
        s.write_all(&[5, 0]).await.unwrap();
        let mut head = [0u8; 5];
        s.read_exact(&mut head).await.unwrap();
        let mut host = vec![0u8; usize::from(head[4]) + 2];
        s.read_exact(&mut host).await.unwrap();
        s.write_all(&[5, reply, 0, 1, 127, 0, 0, 1, 0, 80])
            .await
            .unwrap();
        host
    }

    #[tokio::test]
    async fn connect_sends_domain_and_port() {
        let (a, b) = tokio::io::duplex(1024);
        let p = tokio::spawn(proxy(b, 0));
        connect(a, "example.onion", 7447).await.unwrap();
        let sent = p.await.unwrap();
        assert_eq!(&sent[..13], b"example.onion");
        assert_eq!(&sent[13..], &7447u16.to_be_bytes());
    }

    #[tokio::test]
    async fn tor_extended_errors_are_named() {
        let (a, b) = tokio::io::duplex(1024);
        let p = tokio::spawn(proxy(b, 0xF0));
        let err = connect(a, "x.onion", 1).await.unwrap_err();
        p.await.unwrap();
        assert!(matches!(err, SocksError::Reply(0xF0)));
        assert!(err.to_string().contains("descriptor not found"));
    }
}
