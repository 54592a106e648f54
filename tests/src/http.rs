//! A minimal blocking HTTP/1.1 client for driving nodes' APIs from tests:
//! one request per connection (`Connection: close`), over a TCP connection
//! or any stream already opened (a SOCKS stream through tor to an onion).
//!
//! Deliberately not a real client library: the tests talk to exactly one
//! server (the node's hyper), and seeing the raw status line and headers
//! makes failures readable.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

/// How long one exchange may take on loopback.
const LOCAL_TIMEOUT: Duration = Duration::from_secs(30);

/// A response: status code, header block, body.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code (0 if the status line was unreadable).
    pub status: u16,
    /// Status line and headers as received.
    pub head: String,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "HTTP {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Sends `request` on `stream` and reads the response until the server
/// closes or `Content-Length` bytes of body have arrived.
pub fn exchange<S: Read + Write>(stream: &mut S, request: &[u8]) -> io::Result<Response> {
    stream.write_all(request)?;
    stream.flush()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(done) = complete(&buf) {
            buf.truncate(done);
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Over Tor a close can arrive as a reset after the data.
            Err(e) if !buf.is_empty() && e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(e),
        }
    }
    let split = find(&buf, b"\r\n\r\n").ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "connection closed before the response headers ({} bytes: {:?})",
                buf.len(),
                String::from_utf8_lossy(&buf)
            ),
        )
    })?;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let body = buf[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok(Response { status, head, body })
}

/// `Some(total length)` once `buf` holds headers and a full
/// `Content-Length` body.
fn complete(buf: &[u8]) -> Option<usize> {
    let split = find(buf, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..split]);
    let len: usize = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    })?;
    let total = split + 4 + len;
    (buf.len() >= total).then_some(total)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, LOCAL_TIMEOUT)?;
    s.set_read_timeout(Some(LOCAL_TIMEOUT))?;
    s.set_write_timeout(Some(LOCAL_TIMEOUT))?;
    Ok(s)
}

/// The bytes of a `GET` request.
pub fn get_request(host: &str, path: &str, accept: Option<&str>) -> Vec<u8> {
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{accept}Connection: close\r\n\r\n").into_bytes()
}

/// `GET path` on a local server.
pub fn get(addr: SocketAddr, path: &str, accept: Option<&str>) -> io::Result<Response> {
    let mut s = connect(addr)?;
    exchange(&mut s, &get_request(&addr.to_string(), path, accept))
}

/// `POST path` with a JSON body and an optional bearer token.
pub fn post_json(
    addr: SocketAddr,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> io::Result<Response> {
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = connect(addr)?;
    exchange(&mut s, req.as_bytes())
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// The `event:` field (empty if none was sent).
    pub kind: String,
    /// The `data:` field, parsed as JSON.
    pub data: serde_json::Value,
}

/// Opens `GET /v1/events` with a bearer token and forwards every event
/// whose data is JSON. Fails if the server does not answer 200. The reader
/// thread ends when the server closes or the receiver is dropped.
pub fn subscribe(addr: SocketAddr, token: &str) -> io::Result<mpsc::Receiver<SseEvent>> {
    let mut s = connect(addr)?;
    // Events may be minutes apart: no read timeout on the stream itself.
    s.set_read_timeout(None)?;
    write!(
        s,
        "GET /v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Accept: text/event-stream\r\n\r\n"
    )?;
    let mut reader = BufReader::new(s);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    if status_line.split_whitespace().nth(1) != Some("200") {
        return Err(io::Error::other(format!(
            "/v1/events answered {:?}",
            status_line.trim()
        )));
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Chunked framing puts chunk sizes on their own lines; they match
        // neither prefix and are skipped.
        let mut kind = String::new();
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if let Some(k) = line.strip_prefix("event:") {
                kind = k.trim().to_owned();
            } else if let Some(d) = line.strip_prefix("data:")
                && let Ok(data) = serde_json::from_str(d.trim())
            {
                let ev = SseEvent {
                    kind: std::mem::take(&mut kind),
                    data,
                };
                if tx.send(ev).is_err() {
                    return;
                }
            }
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Cursor;

    /// A stream that yields canned bytes and swallows writes.
    struct Canned(Cursor<Vec<u8>>, Vec<u8>);
    impl Read for Canned {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            self.0.read(b)
        }
    }
    impl Write for Canned {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.1.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn response_stops_at_content_length_and_parses() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}trailing".to_vec();
        let mut s = Canned(Cursor::new(raw), Vec::new());
        let r = exchange(&mut s, b"GET / HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"{}");
        assert_eq!(r.json().unwrap(), serde_json::json!({}));
        assert_eq!(s.1, b"GET / HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn truncated_response_is_an_error_not_a_panic() {
        let mut s = Canned(Cursor::new(b"HTTP/1.1 200".to_vec()), Vec::new());
        let e = exchange(&mut s, b"x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn body_without_length_reads_to_close() {
        let raw = b"HTTP/1.1 404 Not Found\r\n\r\nnope".to_vec();
        let r = exchange(&mut Canned(Cursor::new(raw), Vec::new()), b"x").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, &b"nope"[..]));
        assert!(r.json().is_err());
    }
}
