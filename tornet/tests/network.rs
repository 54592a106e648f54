//! Launches a real private Tor network and sends bytes through it with C
//! tor only: through an exit to 127.0.0.1, and to a C-tor onion service.
//!
//! Ignored by `cargo test` (it runs ~10 tor processes); the CI stage
//! `scripts/ci/70-tor-network.sh` runs it with `--ignored` and
//! `TORPEER_REQUIRE_TOR=1`, which turns "tor is missing" from a skip into a
//! failure.
// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use torpeer_tornet::{TorNet, TorNetOptions, socks5_connect, tor_available};

/// `Some(reason)` when the test must be skipped.
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

/// An echo server on 127.0.0.1: echoes each line back.
fn echo_server(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            thread::spawn(move || {
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

/// Sends one line and reads it back.
fn round_trip(mut s: TcpStream, msg: &str) -> String {
    s.write_all(format!("{msg}\n").as_bytes()).unwrap();
    let mut buf = vec![0u8; msg.len() + 1];
    s.read_exact(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

/// Retries a SOCKS connect every 2 s for up to `budget`: a young network
/// answers "descriptor not found" until the service's first upload lands.
fn connect_retrying(
    proxy: std::net::SocketAddr,
    host: &str,
    port: u16,
    budget: Duration,
) -> TcpStream {
    let start = Instant::now();
    let mut errors = Vec::new();
    loop {
        match socks5_connect(proxy, host, port) {
            Ok(s) => return s,
            Err(e) => {
                eprintln!(
                    "[{:>5.1}s] connect {host}:{port}: {e}",
                    start.elapsed().as_secs_f64()
                );
                errors.push(e.to_string());
            }
        }
        assert!(
            start.elapsed() < budget,
            "no connection to {host}:{port} within {budget:?}: {errors:?}"
        );
        thread::sleep(Duration::from_secs(2));
    }
}

#[test]
#[ignore = "launches a private Tor network; run by scripts/ci/70-tor-network.sh"]
fn ctor_client_reaches_loopback_exit_and_ctor_onion_service() {
    if let Some(reason) = skip_reason() {
        eprintln!("SKIPPED: {reason}");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut net = TorNet::launch(
        &base.path().join("net"),
        TorNetOptions {
            artifacts_dir: artifacts("tornet-ctor"),
            ..TorNetOptions::default()
        },
    )
    .unwrap();
    let timings = net.timings();
    println!("tornet: {timings:?}");
    let info = net.info().clone();
    assert_eq!(info.nodes.len(), 6);
    assert_eq!(info.authorities().len(), 3);
    assert_eq!(info.hsdir_interval_minutes, 6);
    assert_eq!(
        torpeer_tornet::NetInfo::load(&info.dir).unwrap().nodes,
        info.nodes
    );

    let echo_port = net.take_port().unwrap();
    echo_server(echo_port);

    let client = net.start_client("client").unwrap();
    println!("client bootstrapped at {:.1}s", t0.elapsed().as_secs_f64());
    let s = connect_retrying(
        client.socks,
        "127.0.0.1",
        echo_port,
        Duration::from_secs(120),
    );
    assert_eq!(round_trip(s, "via-exit"), "via-exit\n");
    println!("exit round trip at {:.1}s", t0.elapsed().as_secs_f64());

    // A C-tor onion service in front of the echo server.
    let hs_dir = base.path().join("hs");
    std::fs::create_dir(&hs_dir).unwrap();
    std::fs::set_permissions(&hs_dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    net.start_onion_service("svc", &hs_dir, 80, ([127, 0, 0, 1], echo_port).into())
        .unwrap();
    let upload = net.wait_for_descriptor_upload("svc").unwrap();
    println!(
        "descriptor uploaded {upload:?} after service bootstrap, at {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let hostname = std::fs::read_to_string(hs_dir.join("hostname")).unwrap();
    let s = connect_retrying(client.socks, hostname.trim(), 80, Duration::from_secs(150));
    assert_eq!(round_trip(s, "via-onion"), "via-onion\n");
    println!("onion round trip at {:.1}s", t0.elapsed().as_secs_f64());
    assert!(net.exited_process().is_none());
}
