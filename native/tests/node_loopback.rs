//! The `torpeer run` binary on loopback: discovery, persistence, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use torpeer_core::codec::FrameDecoder;
use torpeer_core::proto;
use torpeer_core::proto::frame::Kind;

fn known_peers(http: SocketAddr) -> u64 {
    status(http)["known_peers"].as_u64().unwrap()
}

#[test]
fn five_nodes_one_bootstrap_everyone_knows_everyone_and_records_verify() {
    let dir = tempfile::tempdir().unwrap();
    let router = start(&dir.path().join("r"), "router", &[]);
    let contact = tcp_contact(router.http);
    let url = format!("http://{}/v1/peers", router.http);
    let mut nodes = vec![router];
    for i in 0..4 {
        // One participant bootstraps from the HTTP list, the rest by contact.
        let b = if i == 3 { url.clone() } else { contact.clone() };
        nodes.push(start(
            &dir.path().join(format!("p{i}")),
            "participant",
            &[b],
        ));
    }
    for n in &nodes {
        wait_for("every node to know the 4 others", || {
            (known_peers(n.http) >= 4).then_some(())
        });
    }

    // /v1/status has the fields the dashboard and scripts rely on.
    let s = status(nodes[1].http);
    for key in [
        "onion",
        "role",
        "connections",
        "known_peers",
        "uptime_s",
        "network",
    ] {
        assert!(s.get(key).is_some(), "status lacks {key}: {s}");
    }
    assert_eq!(s["role"], "participant");
    assert_eq!(s["network"], NETWORK);

    // /v1/peers: proto3 JSON, records under `peers`, each one verifies with
    // `torpeer record verify`.
    let (code, head, body) = get(nodes[0].http, "/v1/peers");
    assert_eq!(code, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("access-control-allow-origin: *")
    );
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let peers = list["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 5, "own record + 4 peers");
    let file = dir.path().join("list.json");
    std::fs::write(&file, &body).unwrap();
    let out = Command::new(bin())
        .args([
            "record",
            "verify",
            "--list",
            "--network",
            NETWORK,
            "--difficulty",
            DIFFICULTY,
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same list as binary protobuf.
    let (code, head, pb) = raw_http(
        nodes[0].http,
        b"GET /v1/peers HTTP/1.1\r\nHost: x\r\nAccept: application/x-protobuf\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(code, 200);
    assert!(head.contains("application/x-protobuf"));
    let pb_file = dir.path().join("list.pb");
    std::fs::write(&pb_file, &pb).unwrap();
    let out = Command::new(bin())
        .args([
            "record",
            "verify",
            "--list",
            "--network",
            NETWORK,
            "--difficulty",
            DIFFICULTY,
        ])
        .arg(&pb_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // `torpeer peers --from URL` verifies every record (exit 0), and with the
    // default network minimum (20) every difficulty-8 record fails (exit 1).
    let ok = Command::new(bin())
        .args(["peers", "--from", &url, "--difficulty", DIFFICULTY])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let strict = Command::new(bin())
        .args(["peers", "--from", &url])
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("below the network minimum"));

    // The router answers `GET /v1/peers` on its protocol port too (how
    // newcomers bootstrap over Tor), and nothing else there.
    let proto_port: SocketAddr = status(nodes[0].http)["listen"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (code, _, body) = get(proto_port, "/v1/peers");
    assert_eq!(code, 200);
    let again: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(again["source"], list["source"]);
    assert_eq!(get(proto_port, "/v1/status").0, 404);

    // Metrics are Prometheus text.
    let (code, _, m) = get(nodes[0].http, "/metrics");
    assert_eq!(code, 200);
    let m = String::from_utf8(m).unwrap();
    assert!(m.contains("# TYPE torpeer_known_peers gauge"));
    assert!(m.contains("torpeer_known_peers 4"), "{m}");
}

#[test]
fn killed_node_restarts_from_its_persisted_table() {
    let dir = tempfile::tempdir().unwrap();
    let router = start(&dir.path().join("r"), "router", &[]);
    let contact = tcp_contact(router.http);
    let a = start(
        &dir.path().join("a"),
        "participant",
        std::slice::from_ref(&contact),
    );
    let b_dir = dir.path().join("b");
    let mut b = start(&b_dir, "participant", &[contact]);
    for n in [&router, &a, &b] {
        wait_for("discovery", || (known_peers(n.http) >= 2).then_some(()));
    }
    let seq_before = status(b.http)["record_sequence"].as_u64().unwrap();
    // The table is saved shortly after it changes (debounced).
    wait_for("peers.bin", || {
        std::fs::metadata(b_dir.join("peers.bin"))
            .ok()
            .filter(|m| m.len() > 0)
    });
    b.child.kill().unwrap(); // SIGKILL: no goodbye, no final save
    b.child.wait().unwrap();
    drop(b);

    let b = start(&b_dir, "participant", &[]);
    wait_for("restarted node to reconnect from its table", || {
        let s = status(b.http);
        (s["known_peers"].as_u64().unwrap() >= 2 && s["connections"].as_u64().unwrap() >= 1)
            .then_some(())
    });
    let seq_after = status(b.http)["record_sequence"].as_u64().unwrap();
    assert!(seq_after > seq_before, "restart must sign a newer record");
}

#[test]
fn corrupt_table_is_set_aside_and_the_node_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("n");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("peers.bin"), b"\xff\xff\xff\xff not a peer list").unwrap();
    std::fs::write(d.join("sequence"), b"garbage").unwrap();
    let n = start(&d, "participant", &[]);
    assert_eq!(status(n.http)["known_peers"], 0);
    let names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("peers.bin.corrupt-")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("sequence.corrupt-")),
        "{names:?}"
    );
}

/// Write `bytes` to the protocol port and wait until the node closes the
/// stream (read returns 0 or an error). Returns what it sent back.
fn send_and_expect_close(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    // Ends at EOF or reset; a read timeout (node kept it open) fails below.
    let r = s.read_to_end(&mut out);
    if let Err(e) = &r {
        assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "node did not close the stream"
        );
    }
    out
}

/// The whole answer to a fatal framing error (PROTOCOL.md §5, §7 "Framing
/// errors"): exactly one well-formed length-delimited `Error` frame with
/// `code`, then the close.
fn expect_error_frame_then_close(addr: SocketAddr, bytes: &[u8], code: proto::ErrorCode) {
    let out = send_and_expect_close(addr, bytes);
    let mut decoder = FrameDecoder::default();
    decoder.push(&out);
    match decoder.next_frame() {
        Ok(Some(Kind::Error(e))) => {
            assert_eq!(
                e.code(),
                code,
                "error frame for {:02x?}: {e:?}",
                &bytes[..bytes.len().min(8)]
            );
            assert!(!e.message.is_empty(), "{e:?}");
        }
        other => panic!(
            "expected an Error frame for {:02x?}, got {other:?} from {out:02x?}",
            &bytes[..bytes.len().min(8)]
        ),
    }
    assert_eq!(decoder.next_frame(), Ok(None));
    assert_eq!(
        decoder.buffered(),
        0,
        "nothing after the error frame: {out:02x?}"
    );
}

#[test]
fn garbage_oversized_frames_and_bad_http_get_errors_and_the_node_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let n = start(&dir.path().join("n"), "participant", &[]);
    let proto_port: SocketAddr = status(n.http)["listen"].as_str().unwrap().parse().unwrap();

    // A frame that is not protobuf (5 bytes of an unterminated varint tag):
    // undecodable, so PROTOCOL_VIOLATION and close.
    expect_error_frame_then_close(
        proto_port,
        &[0x05, 0xff, 0xff, 0xff, 0xff, 0xff],
        proto::ErrorCode::ProtocolViolation,
    );
    // A length prefix far above the frame limit (about 256 MiB): refused as
    // soon as the prefix is read, FRAME_TOO_LARGE and close.
    expect_error_frame_then_close(
        proto_port,
        &[0xff, 0xff, 0xff, 0x7f, 0, 0, 0],
        proto::ErrorCode::FrameTooLarge,
    );
    // Pure noise: a length prefix longer than 10 bytes, PROTOCOL_VIOLATION.
    expect_error_frame_then_close(
        proto_port,
        &[0xAA; 4096],
        proto::ErrorCode::ProtocolViolation,
    );
    // The protocol port still serves: an empty frame (no known kind) gets
    // UNKNOWN_MESSAGE and the stream stays open.
    {
        let mut s = TcpStream::connect(proto_port).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.write_all(&[0x00]).unwrap();
        let mut decoder = FrameDecoder::default();
        let mut buf = [0u8; 4096];
        let e = loop {
            let got = s.read(&mut buf).unwrap();
            assert!(
                got > 0,
                "node closed the stream after an unknown frame kind"
            );
            decoder.push(&buf[..got]);
            match decoder.next_frame() {
                Ok(Some(Kind::Error(e))) => break e,
                Ok(None) => {}
                other => panic!("expected an Error frame, got {other:?}"),
            }
        };
        assert_eq!(e.code(), proto::ErrorCode::UnknownMessage, "{e:?}");
        s.set_read_timeout(Some(std::time::Duration::from_millis(500)))
            .unwrap();
        let still_open = s.read(&mut buf);
        assert!(
            matches!(&still_open, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
            "stream should stay open after UNKNOWN_MESSAGE, got {still_open:?}"
        );
    }
    assert_eq!(status(n.http)["known_peers"], 0);

    // Malformed HTTP: a clear 4xx each, and the API keeps answering.
    assert_eq!(raw_http(n.http, b"GARBAGE\r\n\r\n").0, 400);
    assert_eq!(
        raw_http(n.http, b"GET /v1/status HTTP/9.9\r\n\r\n").0 / 100,
        4
    );
    assert_eq!(get(n.http, "/nope").0, 404);
    assert_eq!(get(n.http, "/v1/peers?role=king").0, 400);
    assert_eq!(
        raw_http(n.http, b"POST /v1/peers HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc").0,
        405
    );
    let huge = format!(
        "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    assert_eq!(raw_http(n.http, huge.as_bytes()).0 / 100, 4);
    assert_eq!(status(n.http)["role"], "participant");
}

fn sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn sigterm_says_goodbye_saves_the_table_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let router = start(&dir.path().join("r"), "router", &[]);
    let p_dir = dir.path().join("p");
    let mut p = start(&p_dir, "participant", &[tcp_contact(router.http)]);
    wait_for("discovery", || (known_peers(p.http) >= 1).then_some(()));
    let _ = std::fs::remove_file(p_dir.join("peers.bin"));
    sigterm(p.child.id());
    let code = wait_for("exit", || p.child.try_wait().unwrap());
    assert!(code.success(), "{code}");
    // Saved on shutdown even though the debounced save had been removed.
    assert!(std::fs::metadata(p_dir.join("peers.bin")).unwrap().len() > 0);
    // The router hears the goodbye (or the close) and drops the connection.
    wait_for("router to see the participant leave", || {
        (status(router.http)["connections"].as_u64().unwrap() == 0).then_some(())
    });
}

/// A stand-in for a built dashboard: an `index.html` that names `marker`,
/// and one asset.
fn fake_web_dir(root: &Path, marker: &str) -> PathBuf {
    let dir = root.join(marker);
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        format!("<!doctype html><title>{marker}</title><p id=marker>{marker}</p>\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("assets/app.js"),
        format!("console.log({marker:?});\n"),
    )
    .unwrap();
    dir
}

/// `/` of a node's HTTP API must be exactly `dir`'s index.html.
fn assert_serves(http: SocketAddr, dir: &Path) {
    let (code, head, body) = get(http, "/");
    assert_eq!(code, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert_eq!(
        String::from_utf8_lossy(&body),
        std::fs::read_to_string(dir.join("index.html")).unwrap(),
        "/ is not {}",
        dir.display()
    );
}

#[test]
fn run_serves_the_dashboard_of_web_dir_and_the_flag_overrides_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let from_flag = fake_web_dir(dir.path(), "web-from-flag-7f3a");
    let from_config = fake_web_dir(dir.path(), "web-from-config-91c2");
    fn flag(d: &Path) -> [&OsStr; 2] {
        [OsStr::new("--web-dir"), d.as_os_str()]
    }

    let node = start_with(&dir.path().join("a"), "participant", &[], &flag(&from_flag));
    assert_serves(node.http, &from_flag);
    assert_eq!(get(node.http, "/index.html").2, get(node.http, "/").2);
    let (code, head, body) = get(node.http, "/assets/app.js");
    assert_eq!(code, 200, "{head}");
    assert!(head.contains("text/javascript"), "{head}");
    assert_eq!(body, b"console.log(\"web-from-flag-7f3a\");\n");
    assert_eq!(get(node.http, "/assets/absent.js").0, 404);
    // The API beside it is untouched.
    assert_eq!(status(node.http)["network"], NETWORK);
    drop(node);

    // `web_dir` in the config file…
    let config = dir.path().join("torpeer.toml");
    std::fs::write(
        &config,
        format!("web_dir = {:?}\n", from_config.display().to_string()),
    )
    .unwrap();
    let with_config = [OsStr::new("--config"), config.as_os_str()];
    let node = start_with(&dir.path().join("b"), "participant", &[], &with_config);
    assert_serves(node.http, &from_config);
    drop(node);
    // …and `--web-dir` over it.
    let both = [with_config, flag(&from_flag)].concat();
    let node = start_with(&dir.path().join("c"), "participant", &[], &both);
    assert_serves(node.http, &from_flag);
}

#[test]
fn an_unusable_web_dir_stops_run_and_demo_at_start_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let absent = dir.path().join("absent");
    for (bad, reason) in [(&empty, "no index.html"), (&absent, "No such file")] {
        let data_dir = dir.path().join("data");
        let run = Command::new(bin())
            .args(["run", "--transport", "tcp", "--listen", "127.0.0.1:0"])
            .args(["--http", "127.0.0.1:0", "--network", NETWORK])
            .args(["--difficulty", DIFFICULTY])
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--web-dir")
            .arg(bad)
            .output()
            .unwrap();
        let demo = Command::new(bin())
            .args(["demo", "--nodes", "2", "--http", "127.0.0.1:0", "--web-dir"])
            .arg(bad)
            .output()
            .unwrap();
        for (what, out) in [("run", &run), ("demo", &demo)] {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
            assert!(
                stderr.contains(&format!("web_dir {}: ", bad.display())),
                "{what}: {stderr}"
            );
            assert!(stderr.contains(reason), "{what}: {stderr}");
            assert!(stderr.contains("(web_dir)"), "{what}: {stderr}");
        }
        assert!(!data_dir.exists(), "run started before checking --web-dir");
        assert!(
            !String::from_utf8_lossy(&demo.stdout).contains("dashboard:"),
            "demo started before checking --web-dir"
        );
    }
}

#[test]
fn demo_prints_its_dashboard_and_nodes_find_each_other() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let web = fake_web_dir(dir.path(), "demo-web-5e1b");
    let mut child = Command::new(bin())
        .args(["demo", "--nodes", "3", "--http", "127.0.0.1:0", "--web-dir"])
        .arg(&web)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("demo ended before the dashboard line")
            .unwrap();
        if let Some(url) = line.strip_prefix("dashboard: ") {
            break url.to_owned();
        }
    };
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    assert_serves(addr, &web);
    wait_for("demo nodes to meet", || {
        (known_peers(addr) >= 2).then_some(())
    });
    assert_eq!(status(addr)["role"], "router");
    sigterm(child.id());
    let code = wait_for("demo to exit", || child.try_wait().unwrap());
    assert!(code.success(), "{code}");
}

fn now_ms() -> torpeer_core::Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    torpeer_core::Timestamp::from_millis(d.as_millis() as u64)
}

#[test]
fn the_router_binary_refuses_application_data_and_keeps_the_connection() {
    use torpeer_core::node::{Direction, Event, Input, Output};
    use torpeer_core::{
        Identity, NetworkName, NetworkParams, Node, NodeConfig, OnionAddress, Role,
    };

    let dir = tempfile::tempdir().unwrap();
    let router = start(&dir.path().join("r"), "router", &[]);
    let s = status(router.http);
    let router_onion = OnionAddress::parse(s["onion"].as_str().unwrap()).unwrap();
    let proto_port: SocketAddr = s["listen"].as_str().unwrap().parse().unwrap();

    // A participant in the test: a torpeer-core Node driven over a TcpStream,
    // so it handshakes for real; the AppData frame is written by hand,
    // because the core refuses to send application data to a router.
    let network = NetworkName::new(NETWORK).unwrap();
    let identity = Identity::from_seed(&[7; 32]).unwrap();
    let difficulty: u8 = DIFFICULTY.parse().unwrap();
    let (nonce, _) =
        torpeer_core::pow::solve(&network.id(), &identity.address(), difficulty).unwrap();
    let params = NetworkParams::new(network).with_min_difficulty(difficulty);
    let mut config = NodeConfig::new(params, Role::Participant, nonce, difficulty);
    // Never accepted: the router may dial back, the test does not care.
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    config.tcp_transport = Some(unused.local_addr().unwrap());
    let mut node = Node::new(identity, config, [9; 32], now_ms()).unwrap();
    node.add_bootstrap(now_ms(), router_onion, Some(proto_port));

    let mut stream: Option<(torpeer_core::node::ConnectionId, TcpStream)> = None;
    // Every frame the router sends, decoded on the side.
    let mut frames = FrameDecoder::default();
    let mut seen: Vec<Kind> = Vec::new();
    let mut online = false;
    let mut pump = |node: &mut Node,
                    stream: &mut Option<(torpeer_core::node::ConnectionId, TcpStream)>,
                    seen: &mut Vec<Kind>,
                    online: &mut bool| {
        while let Some(out) = node.poll_output() {
            match out {
                Output::Dial {
                    conn, tcp_endpoint, ..
                } => {
                    assert_eq!(tcp_endpoint, Some(proto_port));
                    let s = TcpStream::connect(proto_port).unwrap();
                    s.set_read_timeout(Some(std::time::Duration::from_millis(50)))
                        .unwrap();
                    *stream = Some((conn, s));
                    node.handle_input(
                        now_ms(),
                        Input::ConnectionOpened {
                            conn,
                            direction: Direction::Outbound,
                        },
                    );
                }
                Output::Transmit { bytes, .. } => {
                    stream.as_mut().unwrap().1.write_all(&bytes).unwrap();
                }
                Output::Close { .. } => panic!("the test's node closed the stream"),
                Output::Event(Event::PeerOnline { onion }) if onion == router_onion => {
                    *online = true;
                }
                Output::Event(Event::HandshakeFailed { reason, .. }) => {
                    panic!("handshake failed: {reason:?}")
                }
                Output::Event(_) => {}
            }
        }
        let Some((conn, s)) = stream.as_mut() else {
            return;
        };
        let mut buf = [0u8; 16 * 1024];
        match s.read(&mut buf) {
            Ok(0) => panic!("the router closed the stream; frames so far: {seen:?}"),
            Ok(n) => {
                frames.push(&buf[..n]);
                while let Some(k) = frames.next_frame().unwrap() {
                    seen.push(k);
                }
                node.handle_input(
                    now_ms(),
                    Input::Received {
                        conn: *conn,
                        bytes: &buf[..n],
                    },
                );
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("read: {e}"),
        }
        if node.poll_timeout().is_some_and(|t| t <= now_ms()) {
            node.handle_timeout(now_ms());
        }
    };
    let start_at = std::time::Instant::now();
    while !online {
        assert!(
            start_at.elapsed() < WAIT,
            "handshake with the router timed out"
        );
        pump(&mut node, &mut stream, &mut seen, &mut online);
    }
    assert!(matches!(seen.first(), Some(Kind::HelloAck(_))), "{seen:?}");

    let app = torpeer_core::codec::encode_frame(
        Kind::AppData(proto::AppData {
            data: b"hello router".to_vec(),
        }),
        torpeer_core::codec::DEFAULT_MAX_FRAME_LEN,
    )
    .unwrap();
    stream.as_mut().unwrap().1.write_all(&app).unwrap();
    let refusal = loop {
        assert!(start_at.elapsed() < WAIT, "no refusal; frames: {seen:?}");
        if let Some(e) = seen.iter().find_map(|k| match k {
            Kind::Error(e) => Some(e.clone()),
            _ => None,
        }) {
            break e;
        }
        pump(&mut node, &mut stream, &mut seen, &mut online);
    };
    assert_eq!(
        refusal.code(),
        proto::ErrorCode::RouterRefusesAppData,
        "{refusal:?}"
    );

    // The connection is kept (PROTOCOL.md §7): a ping after the refusal
    // gets its pong on the same stream.
    let ping = torpeer_core::codec::encode_frame(
        Kind::Ping(proto::Ping { nonce: 0x7e57 }),
        torpeer_core::codec::DEFAULT_MAX_FRAME_LEN,
    )
    .unwrap();
    stream.as_mut().unwrap().1.write_all(&ping).unwrap();
    loop {
        assert!(
            start_at.elapsed() < WAIT,
            "no pong after the refusal; frames: {seen:?}"
        );
        if seen
            .iter()
            .any(|k| matches!(k, Kind::Pong(p) if p.nonce == 0x7e57))
        {
            break;
        }
        pump(&mut node, &mut stream, &mut seen, &mut online);
    }
    assert!(status(router.http)["connections"].as_u64().unwrap() >= 1);
}
