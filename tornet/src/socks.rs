//! A blocking SOCKS5 CONNECT through a tor client, for tests and probes.
//!
//! tor's `ExtendedErrors` reply codes (0xF0–0xF7) name onion-service
//! failures; they are reported by name so a failed test says *why*.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::TorNetError;

/// Opens a stream to `host:port` through the SOCKS5 proxy at `proxy`
/// (hostname resolution happens in tor, so `.onion` names work).
pub fn socks5_connect(proxy: SocketAddr, host: &str, port: u16) -> Result<TcpStream, TorNetError> {
    let target = format!("{host}:{port}");
    let fail = |reason: String| TorNetError::Socks {
        target: target.clone(),
        reason,
    };
    let host_len = u8::try_from(host.len()).map_err(|_| fail("host name too long".into()))?;
    let mut s = TcpStream::connect_timeout(&proxy, Duration::from_secs(5))
        .map_err(|e| fail(format!("proxy {proxy}: {e}")))?;
    // tor gives up on a stream after its own timeouts (~2 min at most).
    s.set_read_timeout(Some(Duration::from_secs(150)))
        .map_err(|e| fail(e.to_string()))?;
    let io = |e: std::io::Error| TorNetError::Socks {
        target: format!("{host}:{port}"),
        reason: e.to_string(),
    };
    s.write_all(&[5, 1, 0]).map_err(io)?;
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).map_err(io)?;
    if reply != [5, 0] {
        return Err(fail(format!("proxy refused no-auth: {reply:?}")));
    }
    let mut req = vec![5, 1, 0, 3, host_len];
    req.extend_from_slice(host.as_bytes());
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).map_err(io)?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).map_err(io)?;
    if head[1] != 0 {
        return Err(fail(reply_name(head[1]).to_owned()));
    }
    let addr_len = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut l = [0u8; 1];
            s.read_exact(&mut l).map_err(io)?;
            usize::from(l[0])
        }
        other => return Err(fail(format!("bad address type {other}"))),
    };
    let mut rest = vec![0u8; addr_len + 2];
    s.read_exact(&mut rest).map_err(io)?;
    s.set_read_timeout(None).map_err(io)?;
    Ok(s)
}

/// Names of SOCKS5 reply codes, including tor's extended onion errors.
pub fn reply_name(code: u8) -> &'static str {
    match code {
        0x01 => "general failure",
        0x02 => "not allowed by ruleset",
        0x03 => "network unreachable",
        0x04 => "host unreachable",
        0x05 => "connection refused",
        0x06 => "TTL expired",
        0x07 => "command not supported",
        0x08 => "address type not supported",
        0xF0 => "onion service descriptor not found",
        0xF1 => "onion service descriptor invalid",
        0xF2 => "onion service introduction failed",
        0xF3 => "onion service rendezvous failed",
        0xF4 => "onion service missing client authorization",
        0xF5 => "onion service wrong client authorization",
        0xF6 => "onion address invalid",
        0xF7 => "onion service introduction timed out",
        _ => "unknown SOCKS5 reply",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A fake proxy that answers the handshake with `code`.
    fn fake_proxy(code: u8) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut b = [0u8; 3];
            s.read_exact(&mut b).unwrap();
            s.write_all(&[5, 0]).unwrap();
            let mut head = [0u8; 5];
            s.read_exact(&mut head).unwrap();
            let mut rest = vec![0u8; usize::from(head[4]) + 2];
            s.read_exact(&mut rest).unwrap();
            s.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap();
            if code == 0 {
                s.write_all(b"hi").unwrap();
            }
        });
        addr
    }

    #[test]
    fn success_leaves_stream_at_payload() {
        let mut s = socks5_connect(fake_proxy(0), "x.onion", 80).unwrap();
        let mut b = [0u8; 2];
        s.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"hi");
    }

    #[test]
    fn extended_error_is_named() {
        let err = socks5_connect(fake_proxy(0xF0), "x.onion", 80).unwrap_err();
        assert!(err.to_string().contains("descriptor not found"), "{err}");
        assert_eq!(err.code(), "tornet.socks");
    }
}
