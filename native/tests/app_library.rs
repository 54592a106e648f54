//! The embedding API (`torpeer_node::app`): nodes started with the builder
//! in one process exchange messages both ways, see each other come online
//! and go offline, and a sender faster than its peer gets `QueueFull`
//! instead of a dropped connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use torpeer_node::app::{Builder, Event, Events, Role, SendError, TorPeer, TransportKind};

const WAIT: Duration = Duration::from_secs(90);

fn settings(dir: &Path, name: &str) -> Builder {
    TorPeer::builder()
        .data_dir(dir.join(name))
        .transport(TransportKind::Tcp)
        .listen("127.0.0.1:0".parse().unwrap())
        .network("itest-app")
        .difficulty(8)
}

/// The next event matching `pick`, at most [`WAIT`] away.
async fn next_matching<T>(
    events: &mut Events,
    what: &str,
    mut pick: impl FnMut(Event) -> Option<T>,
) -> T {
    tokio::time::timeout(WAIT, async {
        while let Some(ev) = events.next().await {
            if let Some(v) = pick(ev) {
                return v;
            }
        }
        panic!("event stream ended before {what}");
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Send, retrying while the destination is not discovered or connected yet.
async fn send_when_reachable(from: &TorPeer, to: &TorPeer, data: &[u8]) {
    tokio::time::timeout(WAIT, async {
        loop {
            match from.send(to.onion(), data.to_vec()).await {
                Ok(()) => return,
                Err(SendError::UnknownPeer | SendError::PeerOffline | SendError::QueueFull) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("send failed: {e}"),
            }
        }
    })
    .await
    .expect("destination never became reachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_participants_talk_both_ways_and_see_each_other_come_and_go() {
    let dir = tempfile::tempdir().unwrap();
    let router = settings(dir.path(), "router")
        .role(Role::Router)
        .start()
        .await
        .unwrap();
    assert_eq!(router.role(), Role::Router);
    let contact = router.contact();
    assert!(
        contact.starts_with(&router.onion().to_string()),
        "{contact}"
    );
    let alice = settings(dir.path(), "alice")
        .bootstrap(contact.clone())
        .start()
        .await
        .unwrap();
    let mut alice_events = alice.events();
    let bob = settings(dir.path(), "bob")
        .bootstrap(contact)
        .start()
        .await
        .unwrap();
    let mut bob_events = bob.events();
    let (a, b) = (alice.onion(), bob.onion());

    send_when_reachable(&alice, &bob, b"hello bob").await;
    let got = next_matching(&mut bob_events, "alice's message", |ev| match ev {
        Event::Message { from, data } => Some((from, data)),
        _ => None,
    })
    .await;
    assert_eq!(got, (a, b"hello bob".to_vec()));
    // Alice saw Bob come online (the connection her message opened).
    next_matching(&mut alice_events, "bob online at alice", |ev| {
        (ev == Event::PeerOnline { onion: b }).then_some(())
    })
    .await;

    send_when_reachable(&bob, &alice, b"hi alice").await;
    let got = next_matching(&mut alice_events, "bob's reply", |ev| match ev {
        Event::Message { from, data } => Some((from, data)),
        _ => None,
    })
    .await;
    assert_eq!(got, (b, b"hi alice".to_vec()));

    // The peer-table snapshot has the other participant and the router,
    // each with its role and a live connection.
    let peers = alice.peers().await.unwrap();
    let bob_entry = peers.iter().find(|p| p.onion == b).expect("bob in table");
    assert_eq!(bob_entry.role, Role::Participant);
    assert!(bob_entry.connected);
    assert_eq!(bob_entry.record.body.address, b);
    assert!(
        peers
            .iter()
            .any(|p| p.onion == router.onion() && p.role == Role::Router)
    );
    assert_eq!(alice.peer(b).await.unwrap().map(|p| p.onion), Some(b));

    // Typed refusals, nothing sent.
    assert_eq!(
        alice.send(router.onion(), b"x".to_vec()).await,
        Err(SendError::RouterRefuses)
    );
    assert_eq!(
        router.send(a, b"x".to_vec()).await,
        Err(SendError::LocalIsRouter)
    );
    let stranger = torpeer_core::Identity::from_seed(&[99; 32])
        .unwrap()
        .address();
    assert_eq!(
        alice.send(stranger, b"x".to_vec()).await,
        Err(SendError::UnknownPeer)
    );
    let too_big = vec![0u8; alice.max_message_len() + 1];
    assert_eq!(
        alice.send(b, too_big).await,
        Err(SendError::TooLarge {
            len: alice.max_message_len() + 1,
            max: alice.max_message_len()
        })
    );
    assert_eq!(alice.status().await.unwrap().messages_received, 1);

    // Bob leaves: Alice sees him go offline, and Bob's own stream ends.
    bob.shutdown().await.unwrap();
    next_matching(&mut alice_events, "bob offline at alice", |ev| {
        (ev == Event::PeerOffline { onion: b }).then_some(())
    })
    .await;
    let rest = tokio::time::timeout(WAIT, bob_events.collect::<Vec<_>>())
        .await
        .expect("bob's event stream ends after shutdown");
    assert!(
        !rest.iter().any(|e| matches!(e, Event::Message { .. })),
        "{rest:?}"
    );
    alice.shutdown().await.unwrap();
    router.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_sender_gets_queue_full_and_every_accepted_message_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let router = settings(dir.path(), "router")
        .role(Role::Router)
        .start()
        .await
        .unwrap();
    let alice = settings(dir.path(), "alice")
        .bootstrap(router.contact())
        .send_queue_len(8)
        .start()
        .await
        .unwrap();
    let bob = settings(dir.path(), "bob")
        .bootstrap(router.contact())
        .start()
        .await
        .unwrap();
    let mut bob_events = bob.events();
    send_when_reachable(&alice, &bob, b"first").await;
    next_matching(&mut bob_events, "the first message", |ev| {
        matches!(ev, Event::Message { .. }).then_some(())
    })
    .await;

    // 512 KiB messages as fast as the node takes them: the writer cannot
    // keep up, so some sends must be refused, and the refusals must not
    // cost the connection (every accepted message arrives, in order).
    let big = 512 * 1024;
    let mut accepted = Vec::new();
    let mut refused = 0u32;
    let mut seq = 0u32;
    while accepted.len() < 64 {
        let mut data = vec![0u8; big];
        data[..4].copy_from_slice(&seq.to_be_bytes());
        match alice.send(bob.onion(), data).await {
            Ok(()) => accepted.push(seq),
            Err(SendError::QueueFull) => {
                refused += 1;
                tokio::task::yield_now().await;
            }
            Err(e) => panic!("send failed: {e}"),
        }
        seq += 1;
    }
    assert!(refused > 0, "a sender this fast must see queue_full");
    let mut received = Vec::new();
    while received.len() < accepted.len() {
        let (from, data) = next_matching(&mut bob_events, "the burst", |ev| match ev {
            Event::Message { from, data } => Some((from, data)),
            Event::Lagged { missed } => panic!("test subscriber lagged by {missed}"),
            _ => None,
        })
        .await;
        assert_eq!(from, alice.onion());
        assert_eq!(data.len(), big);
        received.push(u32::from_be_bytes(data[..4].try_into().unwrap()));
    }
    assert_eq!(
        received, accepted,
        "accepted messages arrive once, in order"
    );
    // Still the same connection: Bob never saw Alice go offline.
    let peer = bob.peer(alice.onion()).await.unwrap().unwrap();
    assert!(peer.connected);
    for n in [alice, bob, router] {
        n.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builder_reads_the_run_config_format_and_reports_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("n");
    let toml = format!(
        "data_dir = {:?}\ntransport = \"tcp\"\nlisten = \"127.0.0.1:0\"\nhttp = \"127.0.0.1:0\"\n\
         network = \"itest-app\"\ndifficulty = 8\n[node]\nmax_message_len = 1000\n",
        data.display().to_string()
    );
    let node = Builder::from_toml(&toml).unwrap().start().await.unwrap();
    assert_eq!(node.max_message_len(), 1000);
    // Same files as `torpeer run`: key, token, bound HTTP address.
    assert!(data.join("hs/hs_ed25519_secret_key").is_file());
    assert!(data.join("api.token").is_file());
    let http = node.http_addr().expect("http was configured");
    let saved = std::fs::read_to_string(data.join("http.addr")).unwrap();
    assert_eq!(saved.trim(), http.to_string());
    // Restarting on the same data dir keeps the identity.
    let onion = node.onion();
    node.shutdown().await.unwrap();
    let again = Builder::from_toml(&toml).unwrap().start().await.unwrap();
    assert_eq!(again.onion(), onion);
    again.shutdown().await.unwrap();

    let err = Builder::from_toml("trasnport = \"tcp\"").unwrap_err();
    assert_eq!(err.code(), "config_parse");
    let err = settings(dir.path(), "bad")
        .network("Not A Network")
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "config_invalid");
    let err = settings(dir.path(), "bad2")
        .transport(TransportKind::Tor)
        .bootstrap(format!("{onion}@127.0.0.1:9"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "config_invalid", "{err}");
}
