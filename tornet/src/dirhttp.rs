//! Just enough HTTP/1.0 to ask a directory authority for its consensus.
//!
//! Readiness is decided by what the authorities actually serve, never by
//! sleeping: a consensus that lists every relay is the one fact every
//! client needs before it can bootstrap.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Largest body we read; a consensus of a few dozen loopback relays is a
/// few kilobytes.
const MAX_BODY: u64 = 4 * 1024 * 1024;

/// `GET path` from `addr`; returns the status code and the body.
pub(crate) fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())?;
    let mut raw = Vec::new();
    stream.take(MAX_BODY).read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Nicknames of the routers a (microdesc) consensus lists: its `r` lines.
pub(crate) fn consensus_nicknames(consensus: &str) -> Vec<&str> {
    consensus
        .lines()
        .filter_map(|l| l.strip_prefix("r "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_come_from_r_lines_only() {
        let c = "network-status-version 3 microdesc\nr test000a AAAA 2026-11-25 14:00:00 127.0.0.1 5100 0\nm abc\nr test003r BBBB 2026-11-25 14:00:00 127.0.0.1 5106 0\nrecommended-relay-protocols x\n";
        assert_eq!(consensus_nicknames(c), vec!["test000a", "test003r"]);
    }

    #[test]
    fn get_parses_status_and_body() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 256];
            let _ = s.read(&mut buf).unwrap();
            s.write_all(b"HTTP/1.0 404 Not found\r\nX: y\r\n\r\nbody")
                .unwrap();
        });
        let (status, body) = get(addr, "/tor/x").unwrap();
        server.join().unwrap();
        assert_eq!(status, 404);
        assert_eq!(body, "body");
    }
}
