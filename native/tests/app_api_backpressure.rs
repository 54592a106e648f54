//! Backpressure on the application API: an SSE consumer that stops reading
//! is dropped by the node (its stream ends) instead of growing memory,
//! and the node keeps serving everyone else.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use torpeer_node::app::{Event, Role, SendError, TorPeer, TransportKind};

const WAIT: Duration = Duration::from_secs(90);
/// Messages sent at the stalled consumer: each becomes an SSE frame of
/// ~87 KiB, so these are ~35 MB of events, several times what the node
/// queues for one subscriber (4 MiB) plus hyper's buffer plus what the
/// loopback socket buffers hold.
const FLOOD: usize = 400;
const SIZE: usize = 64 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_event_consumer_is_dropped_and_the_node_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let settings = |name: &str| {
        TorPeer::builder()
            .data_dir(dir.path().join(name))
            .transport(TransportKind::Tcp)
            .listen("127.0.0.1:0".parse().unwrap())
            .network("itest-sse")
            .difficulty(8)
    };
    let router = settings("router").role(Role::Router).start().await.unwrap();
    let alice = settings("alice")
        .bootstrap(router.contact())
        .start()
        .await
        .unwrap();
    let bob = settings("bob")
        .bootstrap(router.contact())
        .http("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let http = bob.http_addr().unwrap();
    let token = std::fs::read_to_string(dir.path().join("bob/api.token")).unwrap();
    let token = token.trim();

    // A consumer with a tiny receive buffer that reads the response head
    // and then nothing.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(http).await.unwrap();
    stalled
        .write_all(
            format!("GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut head = vec![0u8; 512];
    let n = tokio::time::timeout(WAIT, stalled.read(&mut head))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&head[..n]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");

    // Flood Bob with messages while the consumer stalls; Bob's own
    // in-process stream keeps up and counts them.
    let mut bob_events = bob.events();
    let to = bob.onion();
    let flood = async {
        let mut sent = 0;
        while sent < FLOOD {
            match alice.send(to, vec![7u8; SIZE]).await {
                Ok(()) => sent += 1,
                Err(SendError::UnknownPeer | SendError::PeerOffline | SendError::QueueFull) => {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err(e) => panic!("send: {e}"),
            }
        }
    };
    let count = async {
        let mut received = 0;
        while received < FLOOD {
            match bob_events.recv().await {
                Some(Event::Message { .. }) => received += 1,
                Some(Event::Lagged { missed }) => panic!("in-process stream lagged by {missed}"),
                Some(_) => {}
                None => panic!("bob's stream ended"),
            }
        }
    };
    tokio::time::timeout(WAIT, async { tokio::join!(flood, count) })
        .await
        .expect("bob received the whole flood");

    // Now read what the stalled consumer was sent: the node ended its
    // stream (the chunked body's last chunk) well before the flood was
    // through.
    let mut body = Vec::new();
    let ended = tokio::time::timeout(WAIT, async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(n) => {
                    body.extend_from_slice(&buf[..n]);
                    if body.ends_with(b"\r\n0\r\n\r\n") {
                        return true;
                    }
                }
            }
        }
    })
    .await
    .unwrap_or(false);
    let text = String::from_utf8_lossy(&body);
    let delivered = text.matches("event: message").count();
    assert!(
        ended,
        "the stalled stream was never ended ({delivered} messages read)"
    );
    assert!(
        delivered < FLOOD,
        "a stalled consumer was sent all {FLOOD} messages"
    );

    // The node serves new subscribers, and messages reach them.
    let mut fresh = tokio::net::TcpStream::connect(http).await.unwrap();
    fresh
        .write_all(
            format!("GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    tokio::time::timeout(WAIT, async {
        let mut buf = vec![0u8; 4096];
        let mut sent = false;
        loop {
            let n = fresh.read(&mut buf).await.unwrap();
            assert!(n > 0, "fresh stream closed");
            seen.extend_from_slice(&buf[..n]);
            // Subscribed once the head arrived; then send one more.
            if !sent && seen.windows(4).any(|w| w == b"\r\n\r\n") {
                alice.send(to, b"still here".to_vec()).await.unwrap();
                sent = true;
            }
            // base64("still here")
            if String::from_utf8_lossy(&seen).contains("c3RpbGwgaGVyZQ==") {
                return;
            }
        }
    })
    .await
    .expect("a fresh subscriber gets new messages");

    for n in [alice, bob, router] {
        n.shutdown().await.unwrap();
    }
}
