//! Helpers shared by the node integration tests: spawn the real `torpeer`
//! binary on loopback, find its HTTP API, speak minimal HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const NETWORK: &str = "itest";
pub(crate) const DIFFICULTY: &str = "8";
/// Generous bound for anything to happen (machines are noisy); tests poll,
/// never sleep a fixed time.
pub(crate) const WAIT: Duration = Duration::from_secs(90);

/// The `torpeer` binary under test: `TORPEER_BIN` if set (a copy set aside,
/// when other builds share the target directory), else the one cargo built.
pub(crate) fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("TORPEER_BIN")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_torpeer").to_owned())
    })
}

/// A `torpeer run` child process, killed on drop.
pub(crate) struct NodeProc {
    pub(crate) child: Child,
    pub(crate) data_dir: PathBuf,
    pub(crate) http: SocketAddr,
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start a tcp node with its state in `data_dir`.
pub(crate) fn start(data_dir: &Path, role: &str, bootstrap: &[String]) -> NodeProc {
    start_with(data_dir, role, bootstrap, &[])
}

/// [`start`] with more flags (`--web-dir DIR`, `--config FILE`, …).
pub(crate) fn start_with(
    data_dir: &Path,
    role: &str,
    bootstrap: &[String],
    extra: &[&std::ffi::OsStr],
) -> NodeProc {
    let _ = std::fs::remove_file(data_dir.join("http.addr"));
    let log = std::fs::File::create(data_dir.with_extension("log")).unwrap();
    let mut cmd = Command::new(bin());
    cmd.args(["run", "--transport", "tcp", "--listen", "127.0.0.1:0"])
        .args(["--http", "127.0.0.1:0", "--network", NETWORK])
        .args(["--difficulty", DIFFICULTY, "--role", role])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--hs-dir")
        .arg(data_dir.join("hs"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log);
    for b in bootstrap {
        cmd.args(["--bootstrap", b]);
    }
    cmd.args(extra);
    let mut child = cmd.spawn().unwrap();
    let addr_file = data_dir.join("http.addr");
    let http = wait_for(&format!("{} to start", data_dir.display()), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("node exited early with {status}");
        }
        std::fs::read_to_string(&addr_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
    });
    NodeProc {
        child,
        data_dir: data_dir.to_path_buf(),
        http,
    }
}

/// Poll `f` every 50 ms until it returns `Some`, at most [`WAIT`].
pub(crate) fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A raw HTTP exchange: send `request`, return (status, headers, body).
///
/// A server may answer and close before it has read all of a malformed or
/// oversized request; the write error that causes is not the test's
/// verdict, the response (or its absence, status 0) is.
pub(crate) fn raw_http(addr: SocketAddr, request: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    parse_response(&out)
}

/// A request with a body, sent the way curl sends large ones: the head
/// with `Expect: 100-continue`, and the body only once the server says
/// `100 Continue`. A server that answers early (413 on the declared
/// length, 401) gets no body at all, so the client never writes into a
/// socket the server has already closed — which is what made a plain
/// write of a 2 MiB body fail with a broken pipe now and then.
///
/// `head` is everything up to, not including, the blank line.
pub(crate) fn http_expect_continue(
    addr: SocketAddr,
    head: &str,
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "{head}\r\nExpect: 100-continue\r\n\r\n").unwrap();
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    while !first.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => first.push(byte[0]),
            _ => break,
        }
    }
    let mut out = Vec::new();
    if first.starts_with(b"HTTP/1.1 100") {
        s.write_all(body).unwrap();
    } else {
        out = first;
    }
    let _ = s.read_to_end(&mut out);
    parse_response(&out)
}

/// Split a raw HTTP/1.1 response into (status, head, body).
fn parse_response(out: &[u8]) -> (u16, String, Vec<u8>) {
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let body = out.get(split + 4..).unwrap_or_default().to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head, body)
}

pub(crate) fn get(addr: SocketAddr, path: &str) -> (u16, String, Vec<u8>) {
    raw_http(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

pub(crate) fn status(addr: SocketAddr) -> serde_json::Value {
    let (code, _, body) = get(addr, "/v1/status");
    assert_eq!(code, 200);
    serde_json::from_slice(&body).unwrap()
}

/// `ONION@HOST:PORT` of a tcp node, from its status.
pub(crate) fn tcp_contact(addr: SocketAddr) -> String {
    let s = status(addr);
    format!(
        "{}@{}",
        s["onion"].as_str().unwrap(),
        s["listen"].as_str().unwrap()
    )
}

/// Open `GET /v1/events`, wait until the node has registered the stream,
/// and forward each `event:`/`data:` pair.
pub(crate) fn subscribe(
    http: SocketAddr,
    token: &str,
) -> std::sync::mpsc::Receiver<(String, serde_json::Value)> {
    let mut s = TcpStream::connect(http).unwrap();
    write!(
        s,
        "GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    // The node subscribes before it sends `: connected`: once that line is
    // read, no event sent after this returns can be missed.
    let mut lines = std::io::BufReader::new(s).lines();
    loop {
        let line = lines.next().expect("event stream closed").unwrap();
        if line == ": connected" {
            break;
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut kind = String::new();
        for line in lines {
            let Ok(line) = line else { return };
            if let Some(k) = line.strip_prefix("event: ") {
                kind = k.to_owned();
            } else if let Some(d) = line.strip_prefix("data: ")
                && let Ok(v) = serde_json::from_str(d)
                && tx.send((kind.clone(), v)).is_err()
            {
                return;
            }
        }
    });
    rx
}

/// Latency and throughput of application messages A -> B (on a connection
/// that is already up), measured through the real local API: `POST
/// /v1/messages` on A until `event: message` on B's `/v1/events`. Prints
/// `FIGURE` lines; figures, not limits: the only assertions are that every
/// message arrives, once and in order. `a` is (HTTP API, data dir, onion).
pub(crate) fn api_message_figures(
    label: &str,
    a: (SocketAddr, &Path, &str),
    b: (SocketAddr, &Path),
    b_onion: &str,
) {
    const LATENCY_SAMPLES: usize = 50;
    const BURST: usize = 500;
    /// Below the node's default per-peer queue (64), so a 409 is rare.
    const WINDOW: usize = 32;
    let read_token = |dir: &Path| {
        std::fs::read_to_string(dir.join("api.token"))
            .unwrap()
            .trim()
            .to_owned()
    };
    let a_token = read_token(a.1);
    let events = subscribe(b.0, &read_token(b.1));
    // "bXNn" + 8 digits is canonical base64 (12 chars, 9 bytes), so B's
    // event carries exactly the string A posted.
    let payload = |i: usize| format!("bXNn{i:08}");
    let recv = |want: &str, deadline: Instant| loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "message {want} did not reach B");
        match events.recv_timeout(left) {
            Ok((kind, v)) if kind == "message" => {
                assert_eq!(v["from"].as_str(), Some(a.2));
                let data = v["data"].as_str().unwrap_or_default();
                // Not ours (e.g. a late copy of a message the caller
                // re-posted until one arrived).
                if data.starts_with("bXNn") {
                    return data.to_owned();
                }
            }
            Ok(_) => {}
            Err(e) => panic!("B's event stream: {e} while waiting for {want}"),
        }
    };
    let post = |data: &str| loop {
        let body = format!(r#"{{"to": "{b_onion}", "data": "{data}"}}"#);
        let req = format!(
            "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {a_token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        match raw_http(a.0, req.as_bytes()).0 {
            202 => return,
            // Queue full: the earlier ones are still on their way.
            409 => std::thread::sleep(Duration::from_millis(20)),
            code => panic!("POST /v1/messages: {code}"),
        }
    };

    // One in flight at a time: the idle round trip through the local API,
    // A's driver, the onion circuit, B's driver and B's event stream.
    let mut lat = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let want = payload(i);
        let t = Instant::now();
        post(&want);
        let got = recv(&want, Instant::now() + WAIT);
        assert_eq!(got, want, "messages arrive in order, once");
        lat.push(t.elapsed());
    }
    lat.sort();
    let pct = |p: usize| lat[(lat.len() * p / 100).min(lat.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "FIGURE message latency A -> B {label} ({LATENCY_SAMPLES} samples, one in flight): \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(50),
        pct(99),
        lat[lat.len() - 1].as_secs_f64() * 1e3
    );

    // A burst with up to WINDOW in flight: messages per second end to end.
    let t = Instant::now();
    let deadline = t + WAIT;
    let (mut sent, mut got) = (0, 0);
    while got < BURST {
        while sent < BURST && sent - got < WINDOW {
            post(&payload(LATENCY_SAMPLES + sent));
            sent += 1;
        }
        let want = payload(LATENCY_SAMPLES + got);
        assert_eq!(
            recv(&want, deadline),
            want,
            "messages arrive in order, once"
        );
        got += 1;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "FIGURE message throughput A -> B {label} ({BURST} x 9 B, {WINDOW} in flight): \
         {:.0} msg/s ({secs:.2} s)",
        BURST as f64 / secs
    );
}
