//! The embedded arti transport on a real private Tor network.
//!
//! - `arti_onion_round_trips_with_itself_and_ctor`: arti serves the onion of
//!   a HiddenServiceDir written by `hsdir_fs::write_hs_dir`, and bytes
//!   round-trip arti → own onion, arti → a C-tor onion service, and a C-tor
//!   client (SOCKS) → the arti service, also after the supervisor dropped
//!   and relaunched the service.
//! - `torpeer_run_on_arti_discovers_over_onions`: the real `torpeer run
//!   --transport arti --tor-network DIR` binary: a router's `/v1/peers` is
//!   served on its onion (fetched by a C-tor client), participants
//!   bootstrap from the router's onion address and from an
//!   `http://ONION:7447/v1/peers` URL, know each other, exchange an
//!   application message, and no node process has a TCP connection to
//!   anything but the network's relays and its own HTTP API.
//!
//! Ignored by plain `cargo test` (it launches ~10 tor processes and an arti
//! client); `scripts/ci/70-tor-network.sh` runs it with `--ignored` and
//! `TORPEER_REQUIRE_TOR=1`, which makes a missing `tor` a failure instead of
//! a skip. Connects are retried (bounded): in a young network descriptors
//! appear seconds after services start, and the HSDir ring moves at each
//! 6-minute time period.
#![cfg(feature = "arti")]
// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use torpeer_node::arti::{ArtiConfig, ArtiOnion};
use torpeer_node::hsdir_fs;
use torpeer_tornet::{TorNet, TorNetOptions, socks5_connect, tor_available};

mod common;

const VIRTUAL_PORT: u16 = 80;
/// Retry budget per connection: > one rate-limited republish (60 s) plus
/// the post-rotation outage measured in the notes (25–57 s).
const RETRY_BUDGET: Duration = Duration::from_secs(150);
/// One attempt may hang on a circuit; cut it off and retry.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

fn skip_reason() -> Option<String> {
    if tor_available(Path::new("tor")) {
        return None;
    }
    let reason = "`tor` is not installed (apt-get install tor)".to_owned();
    assert!(
        std::env::var("TORPEER_REQUIRE_TOR").as_deref() != Ok("1"),
        "TORPEER_REQUIRE_TOR=1 but {reason}"
    );
    Some(reason)
}

fn artifacts(name: &str) -> Option<PathBuf> {
    std::env::var_os("TORPEER_ARTIFACTS").map(|d| PathBuf::from(d).join(name))
}

/// Retries `attempt` every 2 s until it succeeds or `RETRY_BUDGET` is spent;
/// returns the value and how many attempts it took.
async fn retry<T, E: std::fmt::Display, F, Fut>(what: &str, mut attempt: F) -> (T, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let start = Instant::now();
    let mut tries = 0;
    loop {
        tries += 1;
        match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt()).await {
            Ok(Ok(v)) => return (v, tries),
            Ok(Err(e)) => eprintln!("[{:>5.1}s] {what}: {e}", start.elapsed().as_secs_f64()),
            Err(_) => eprintln!(
                "[{:>5.1}s] {what}: attempt timed out",
                start.elapsed().as_secs_f64()
            ),
        }
        assert!(
            start.elapsed() < RETRY_BUDGET,
            "{what}: no success within {RETRY_BUDGET:?} ({tries} tries)"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Echo server on 127.0.0.1 for the C-tor onion service: echoes lines.
fn tcp_echo_server(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut w = conn.try_clone().unwrap();
                for line in BufReader::new(conn).lines() {
                    let Ok(line) = line else { break };
                    if w.write_all(format!("{line}\n").as_bytes()).is_err() {
                        break;
                    }
                }
            });
        }
    });
}

/// Writes `msg\n` on an arti stream and reads the echo back.
async fn arti_round_trip(mut s: arti_client::DataStream, msg: &str) -> std::io::Result<String> {
    s.write_all(format!("{msg}\n").as_bytes()).await?;
    s.flush().await?;
    let mut buf = vec![0u8; msg.len() + 1];
    s.read_exact(&mut buf).await?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[test]
#[ignore = "launches a private Tor network; run by scripts/ci/70-tor-network.sh"]
fn arti_onion_round_trips_with_itself_and_ctor() {
    if let Some(reason) = skip_reason() {
        eprintln!("SKIPPED: {reason}");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut net = TorNet::launch(
        &base.path().join("net"),
        TorNetOptions {
            artifacts_dir: artifacts("tornet-arti"),
            ..TorNetOptions::default()
        },
    )
    .unwrap();
    let timings = net.timings();
    println!("FIGURE network: {timings:?}");

    // The arti service's identity: a HiddenServiceDir as `torpeer keygen`
    // writes it.
    let arti_hs = base.path().join("arti-hs");
    let identity = hsdir_fs::generate_identity().unwrap();
    hsdir_fs::write_hs_dir(&arti_hs, &identity, false).unwrap();
    let hostname = std::fs::read_to_string(arti_hs.join("hostname")).unwrap();

    // A C-tor onion service in front of a TCP echo server, and a C-tor client.
    let echo_port = net.take_port().unwrap();
    tcp_echo_server(echo_port);
    let ctor_hs = base.path().join("ctor-hs");
    hsdir_fs::write_hs_dir(&ctor_hs, &hsdir_fs::generate_identity().unwrap(), false).unwrap();
    let ctor_onion = std::fs::read_to_string(ctor_hs.join("hostname")).unwrap();
    net.start_onion_service(
        "ctorsvc",
        &ctor_hs,
        VIRTUAL_PORT,
        ([127, 0, 0, 1], echo_port).into(),
    )
    .unwrap();
    let ctor_client = net.start_client("ctorclient").unwrap();
    println!(
        "FIGURE c-tor service + client bootstrapped: {:.1}s",
        t0.elapsed().as_secs_f64()
    );

    let arti_dir = base.path().join("arti");
    let cfg = ArtiConfig::for_test_network(net.info(), &arti_dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let t_arti = Instant::now();
        let (onion, mut incoming) = ArtiOnion::start(&cfg, &arti_hs, VIRTUAL_PORT)
            .await
            .unwrap();
        println!(
            "FIGURE arti bootstrap + service launch: {:.2}s",
            t_arti.elapsed().as_secs_f64()
        );

        // The key arti serves is the HiddenServiceDir's.
        assert_eq!(format!("{}\n", onion.onion_address()), hostname);
        assert_eq!(onion.onion_address(), &identity.address());

        // arti side: echo every line of every incoming stream.
        tokio::spawn(async move {
            while let Some(inc) = incoming.recv().await {
                tokio::spawn(async move {
                    let (r, mut w) = tokio::io::split(inc.stream);
                    let mut lines = tokio::io::BufReader::new(r).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if w.write_all(format!("{line}\n").as_bytes()).await.is_err()
                            || w.flush().await.is_err()
                        {
                            break;
                        }
                    }
                });
            }
        });

        // 1. arti → its own onion.
        let own = hostname.trim().to_owned();
        let (onion_ref, own_ref) = (&onion, own.as_str());
        let t = Instant::now();
        let (echo, tries) = retry("arti -> own onion", || async move {
            let s = onion_ref
                .dial(own_ref, VIRTUAL_PORT)
                .await
                .map_err(|e| e.to_string())?;
            arti_round_trip(s, "arti-to-self")
                .await
                .map_err(|e| e.to_string())
        })
        .await;
        assert_eq!(echo, "arti-to-self\n");
        println!(
            "FIGURE arti -> own onion: {:.2}s, {tries} tries",
            t.elapsed().as_secs_f64()
        );

        // 2. arti → the C-tor onion service.
        let ctor = ctor_onion.trim();
        let t = Instant::now();
        let (echo, tries) = retry("arti -> c-tor onion", || async move {
            let s = onion_ref
                .dial(ctor, VIRTUAL_PORT)
                .await
                .map_err(|e| e.to_string())?;
            arti_round_trip(s, "arti-to-ctor")
                .await
                .map_err(|e| e.to_string())
        })
        .await;
        assert_eq!(echo, "arti-to-ctor\n");
        println!(
            "FIGURE arti -> c-tor onion: {:.2}s, {tries} tries",
            t.elapsed().as_secs_f64()
        );

        // 3. C-tor client (SOCKS) → the arti service.
        let socks = ctor_client.socks;
        let t = Instant::now();
        let (echo, tries) = retry("c-tor client -> arti onion", || {
            ctor_echo(socks, own.clone())
        })
        .await;
        assert_eq!(echo, "ctor-to-arti\n");
        println!(
            "FIGURE c-tor client -> arti onion: {:.2}s, {tries} tries",
            t.elapsed().as_secs_f64()
        );

        // 4. The supervisor's restart: drop and relaunch the service (same
        // key, same nickname); streams keep arriving on the same receiver.
        let report = onion.service_report();
        assert_eq!(report.restarts, 0, "{report:?}");
        let t = Instant::now();
        onion.restart_service();
        let (state, _) = retry("the onion service to be relaunched", || async {
            let r = onion.service_report();
            if r.restarts == 1 && r.state != "Shutdown" {
                Ok(r.state)
            } else {
                Err(format!("{r:?}"))
            }
        })
        .await;
        println!(
            "FIGURE onion service restart -> relaunched ({state}): {:.2}s",
            t.elapsed().as_secs_f64()
        );
        let (echo, tries) = retry("c-tor client -> arti onion after the restart", || {
            ctor_echo(socks, own.clone())
        })
        .await;
        assert_eq!(echo, "ctor-to-arti\n");
        println!(
            "FIGURE c-tor client -> arti onion after a restart: {:.2}s, {tries} tries",
            t.elapsed().as_secs_f64()
        );
        assert_eq!(onion.service_report().restarts, 1);

        // Dialing garbage is a typed error, not a panic or a Tor round trip.
        let err = onion.dial("not-an-onion", VIRTUAL_PORT).await.unwrap_err();
        assert_eq!(err.code(), "arti.bad_address");
        onion.shutdown().await;
    });
    println!("FIGURE total: {:.1}s", t0.elapsed().as_secs_f64());
    assert!(
        net.exited_process().is_none(),
        "a tor process died during the test"
    );
}

// ---------------------------------------------------------------------------
// `torpeer run --transport arti` on the private network.

/// Budget for a node process to bootstrap arti and launch its service.
const START_BUDGET: Duration = Duration::from_secs(120);
/// Budget for discovery over Tor (dials retried with back-off by the core,
/// the 30 s gossip period, a possible time-period rotation).
const DISCOVERY_BUDGET: Duration = Duration::from_secs(240);

/// A `torpeer run` process on arti; killed on drop.
struct ArtiNode {
    child: std::process::Child,
    data_dir: PathBuf,
    http: std::net::SocketAddr,
    onion: String,
    /// From spawn until `http.addr` appeared (arti bootstrapped and the
    /// service launched: the transport starts before the HTTP API).
    started_in: Duration,
    spawned_at: Instant,
}

impl Drop for ArtiNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn poll_until<T>(what: &str, budget: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < budget,
            "timed out after {budget:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn start_arti_node(
    net_dir: &Path,
    dir: &Path,
    name: &str,
    role: &str,
    bootstrap: &[String],
) -> ArtiNode {
    let data_dir = dir.join(name);
    std::fs::create_dir_all(&data_dir).unwrap();
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let mut cmd = std::process::Command::new(common::bin());
    cmd.args(["run", "--transport", "arti", "--tor-network"])
        .arg(net_dir)
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--hs-dir")
        .arg(data_dir.join("hs"))
        .args(["--http", "127.0.0.1:0", "--network", common::NETWORK])
        .args(["--difficulty", common::DIFFICULTY, "--role", role])
        .env(
            "RUST_LOG",
            "info,tor_netdir=error,tor_circmgr=error,tor_guardmgr=error",
        )
        .stdout(std::process::Stdio::null())
        .stderr(log);
    for b in bootstrap {
        cmd.args(["--bootstrap", b]);
    }
    let spawned_at = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let addr_file = data_dir.join("http.addr");
    let http: std::net::SocketAddr = poll_until(&format!("{name} to start"), START_BUDGET, || {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
            panic!("{name} exited early with {status}:\n{log}");
        }
        std::fs::read_to_string(&addr_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
    });
    let started_in = spawned_at.elapsed();
    let status = common::status(http);
    assert_eq!(status["transport"], "arti");
    assert!(status["listen"].is_null(), "arti has no listener: {status}");
    // The supervised service's health, arti only.
    let svc = &status["onion_service"];
    assert!(svc["state"].is_string(), "{status}");
    assert_eq!(svc["restarts"], 0, "{status}");
    let (code, _, metrics) = common::get(http, "/metrics");
    assert_eq!(code, 200);
    assert!(
        String::from_utf8_lossy(&metrics).contains("\ntorpeer_onion_service_restarts_total 0\n"),
        "no restart counter in /metrics"
    );
    let onion = status["onion"].as_str().unwrap().to_owned();
    let hostname = std::fs::read_to_string(data_dir.join("hs").join("hostname")).unwrap();
    assert_eq!(hostname.trim(), onion, "the served onion is the hs dir's");
    ArtiNode {
        child,
        data_dir,
        http,
        onion,
        started_in,
        spawned_at,
    }
}

/// `GET /v1/peers` on `onion:7447` through a C-tor client's SOCKS port.
fn peers_over_socks(socks: std::net::SocketAddr, onion: &str) -> Result<serde_json::Value, String> {
    let port = torpeer_node::transport::DEFAULT_ONION_PORT;
    let mut s = socks5_connect(socks, onion, port).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(ATTEMPT_TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.write_all(
        format!("GET /v1/peers HTTP/1.1\r\nHost: {onion}:{port}\r\nAccept: application/json\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    // Tor ends the stream with END; C tor reports that as EOF.
    let _ = s.read_to_end(&mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no HTTP head in {} bytes", out.len()))?;
    let head = String::from_utf8_lossy(&out[..split]);
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("answer: {head}"));
    }
    serde_json::from_slice(&out[split + 4..]).map_err(|e| e.to_string())
}

/// Every TCP socket of process `pid` as (local, remote, state), from the
/// socket inodes in /proc/PID/fd matched against /proc/PID/net/tcp{,6}.
/// Also returns how many UDP sockets it has.
fn tcp_sockets(pid: u32) -> (Vec<(std::net::SocketAddr, std::net::SocketAddr, u8)>, usize) {
    use std::collections::HashSet;
    let mut inodes = HashSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
    {
        if let Ok(target) = std::fs::read_link(fd.path()) {
            let t = target.to_string_lossy();
            if let Some(ino) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                inodes.insert(ino.to_owned());
            }
        }
    }
    let mut tcp = Vec::new();
    let mut udp = 0;
    for (file, v6) in [
        ("tcp", false),
        ("tcp6", true),
        ("udp", false),
        ("udp6", true),
    ] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{file}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || !inodes.contains(f[9]) {
                continue;
            }
            if file.starts_with("udp") {
                udp += 1;
                continue;
            }
            let state = u8::from_str_radix(f[3], 16).unwrap();
            tcp.push((proc_addr(f[1], v6), proc_addr(f[2], v6), state));
        }
    }
    (tcp, udp)
}

/// Parses `0100007F:1F90` (and the IPv6 form) from /proc/net/tcp.
fn proc_addr(s: &str, v6: bool) -> std::net::SocketAddr {
    let (ip, port) = s.split_once(':').unwrap();
    let port = u16::from_str_radix(port, 16).unwrap();
    let ip: std::net::IpAddr = if v6 {
        let mut b = [0u8; 16];
        for (i, chunk) in b.chunks_mut(4).enumerate() {
            let word = u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16).unwrap();
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        std::net::Ipv6Addr::from(b).into()
    } else {
        std::net::Ipv4Addr::from(u32::from_str_radix(ip, 16).unwrap().to_le_bytes()).into()
    };
    (ip, port).into()
}

/// The leak check: a node on arti has no TCP connection except to a relay
/// ORPort of the network (arti's channels) and its own HTTP API listener
/// and the connections accepted on it, and no UDP socket (arti resolves
/// names at exits, never locally).
fn assert_only_tor_sockets(node: &ArtiNode, orports: &[std::net::SocketAddr]) {
    const LISTEN: u8 = 0x0A;
    let (tcp, udp) = tcp_sockets(node.child.id());
    assert_eq!(udp, 0, "{}: UDP sockets open", node.onion);
    let mut channels = 0;
    for (local, remote, state) in &tcp {
        if *local == node.http {
            // The API listener, or a connection accepted on it.
            continue;
        }
        assert_ne!(
            *state, LISTEN,
            "{}: unexpected listener {local}",
            node.onion
        );
        // TIME_WAIT/CLOSE states still name the remote; all must be relays.
        assert!(
            orports.contains(remote),
            "{}: TCP connection {local} -> {remote} (state {state:#x}) is not to a relay",
            node.onion
        );
        channels += 1;
    }
    assert!(channels > 0, "{}: no connection to Tor at all?", node.onion);
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn known_peers(node: &ArtiNode) -> Vec<String> {
    let (code, _, body) = common::get(node.http, "/v1/peers");
    assert_eq!(code, 200);
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    list["peers"]
        .as_array()
        .map(|peers| {
            peers
                .iter()
                .filter_map(|p| {
                    // proto3 JSON PeerEntry: the onion is in its record.
                    p.pointer("/record/onion")
                        .and_then(|o| o.as_str())
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn post_message(from: &ArtiNode, to: &str, data_b64: &str) -> u16 {
    let token = std::fs::read_to_string(from.data_dir.join("api.token")).unwrap();
    let body = format!(r#"{{"to": "{to}", "data": "{data_b64}"}}"#);
    let req = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        token.trim(),
        body.len()
    );
    common::raw_http(from.http, req.as_bytes()).0
}

#[test]
#[ignore = "launches a private Tor network; run by scripts/ci/70-tor-network.sh"]
fn torpeer_run_on_arti_discovers_over_onions() {
    if let Some(reason) = skip_reason() {
        eprintln!("SKIPPED: {reason}");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let mut net = TorNet::launch(
        &base.path().join("net"),
        TorNetOptions {
            artifacts_dir: artifacts("tornet-arti-cli"),
            ..TorNetOptions::default()
        },
    )
    .unwrap();
    println!("FIGURE network: {:?}", net.timings());
    let net_dir = net.info().dir.clone();
    let orports: Vec<std::net::SocketAddr> = net.info().nodes.iter().map(|n| n.orport).collect();
    let ctor_client = net.start_client("ctorclient").unwrap();
    let nodes_dir = base.path().join("nodes");
    std::fs::create_dir_all(&nodes_dir).unwrap();
    // Node logs are test artifacts too.
    struct CopyLogs(PathBuf);
    impl Drop for CopyLogs {
        fn drop(&mut self) {
            if let Some(dest) = artifacts("arti-nodes") {
                let _ = std::fs::create_dir_all(&dest);
                for e in std::fs::read_dir(&self.0).into_iter().flatten().flatten() {
                    if e.path().extension().is_some_and(|x| x == "log") {
                        let _ = std::fs::copy(e.path(), dest.join(e.file_name()));
                    }
                }
            }
        }
    }
    let _logs = CopyLogs(nodes_dir.clone());

    // The router: its onion serves /v1/peers (HTTP sniffed on the protocol
    // port, over an arti stream), fetched by a C-tor client.
    let router = start_arti_node(&net_dir, &nodes_dir, "router", "router", &[]);
    println!(
        "FIGURE torpeer run (router) -> arti bootstrapped + service launched: {:.2}s",
        router.started_in.as_secs_f64()
    );
    let t = Instant::now();
    let mut tries = 0;
    let list = poll_until(
        "the router's /v1/peers over its onion",
        RETRY_BUDGET,
        || {
            tries += 1;
            match peers_over_socks(ctor_client.socks, &router.onion) {
                Ok(v) => Some(v),
                Err(e) => {
                    eprintln!(
                        "[{:>5.1}s] c-tor -> router /v1/peers: {e}",
                        t.elapsed().as_secs_f64()
                    );
                    std::thread::sleep(Duration::from_secs(2));
                    None
                }
            }
        },
    );
    println!(
        "FIGURE torpeer run (router) -> own onion reachable (c-tor client GET /v1/peers): {:.2}s, {tries} tries",
        router.spawned_at.elapsed().as_secs_f64()
    );
    assert_eq!(list["source"], router.onion.as_str(), "{list}");

    // Participant A bootstraps from the onion address, B from the URL on
    // the onion (fetched through arti by connect_host).
    let a = start_arti_node(
        &net_dir,
        &nodes_dir,
        "a",
        "participant",
        std::slice::from_ref(&router.onion),
    );
    let url = format!(
        "http://{}:{}/v1/peers",
        router.onion,
        torpeer_node::transport::DEFAULT_ONION_PORT
    );
    let b = start_arti_node(&net_dir, &nodes_dir, "b", "participant", &[url]);
    let t = Instant::now();
    for (n, others) in [
        (&router, [&a.onion, &b.onion]),
        (&a, [&router.onion, &b.onion]),
        (&b, [&router.onion, &a.onion]),
    ] {
        poll_until(
            &format!("{} to know {others:?}", n.onion),
            DISCOVERY_BUDGET,
            || {
                let known = known_peers(n);
                others.iter().all(|o| known.contains(*o)).then_some(())
            },
        );
    }
    println!(
        "FIGURE three arti nodes know each other: {:.1}s after the participants started",
        t.elapsed().as_secs_f64()
    );

    // `torpeer peers --from ONION` on its own embedded arti client: the
    // router's list, fetched over its onion and verified record by record.
    let t = Instant::now();
    let cli_arti = base.path().join("peers-cli-arti");
    let listed = poll_until(
        "`torpeer peers --from <router onion>` over arti",
        RETRY_BUDGET,
        || {
            let out = std::process::Command::new(common::bin())
                .args(["peers", "--from", &router.onion, "--json"])
                .args(["--difficulty", common::DIFFICULTY])
                .arg("--tor-network")
                .arg(&net_dir)
                .arg("--arti-dir")
                .arg(&cli_arti)
                .output()
                .unwrap();
            if out.status.success() {
                return Some(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap());
            }
            eprintln!(
                "[{:>5.1}s] torpeer peers via arti: {}",
                t.elapsed().as_secs_f64(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            std::thread::sleep(Duration::from_secs(2));
            None
        },
    );
    let onions: Vec<&str> = listed["peers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["record"]["onion"].as_str())
        .collect();
    for o in [&router.onion, &a.onion, &b.onion] {
        assert!(onions.contains(&o.as_str()), "{o} missing from {onions:?}");
    }
    println!(
        "FIGURE torpeer peers --from <router onion> via its own arti client: {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // An application message A -> B over Tor.
    let t = Instant::now();
    poll_until("a message from A to reach B", DISCOVERY_BUDGET, || {
        let code = post_message(&a, &b.onion, "aGVsbG8gb3ZlciB0b3I=");
        assert!(code == 202 || code == 409, "POST /v1/messages: {code}");
        let got = common::status(b.http)["messages_received"]
            .as_u64()
            .unwrap_or(0);
        if got == 0 {
            std::thread::sleep(Duration::from_secs(1));
        }
        (got > 0).then_some(())
    });
    println!(
        "FIGURE message A -> B over onions: {:.1}s",
        t.elapsed().as_secs_f64()
    );

    common::api_message_figures(
        "over onions",
        (a.http, &a.data_dir, &a.onion),
        (b.http, &b.data_dir),
        &b.onion,
    );

    // No clearnet: only relay ORPorts and the API.
    for n in [&router, &a, &b] {
        assert_only_tor_sockets(n, &orports);
    }
    for (name, n) in [("router", &router), ("a", &a), ("b", &b)] {
        println!(
            "FIGURE RSS {name} (arti, {} known peers): {} KiB",
            known_peers(n).len(),
            rss_kib(n.child.id())
        );
    }
    assert!(
        net.exited_process().is_none(),
        "a tor process died during the test"
    );
}

/// One line through a C-tor client's SOCKS port to `onion`'s echo service,
/// and what came back.
async fn ctor_echo(socks: std::net::SocketAddr, onion: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || -> Result<String, String> {
        let mut s = socks5_connect(socks, &onion, VIRTUAL_PORT).map_err(|e| e.to_string())?;
        s.write_all(b"ctor-to-arti\n").map_err(|e| e.to_string())?;
        let mut buf = [0u8; 13];
        s.read_exact(&mut buf).map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    })
    .await
    .map_err(|e| e.to_string())?
}
