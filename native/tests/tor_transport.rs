//! The external-tor transport against a stand-in for tor's SOCKS port: a
//! loopback SOCKS5 server that maps onion hostnames to the nodes' local
//! listeners (what tor's `HiddenServicePort` would do). Checks that nodes
//! find each other by onion address alone and that no IP endpoint is ever
//! published or dialled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use torpeer_core::node::PeerFilter;
use torpeer_core::{Identity, NetworkName, NetworkParams, NodeConfig, Role, pow};
use torpeer_node::driver::{self, Bootstrap, Driver, DriverConfig};
use torpeer_node::transport::tor::TorTransport;
use torpeer_node::transport::{DEFAULT_ONION_PORT, Transport};

const WAIT: Duration = Duration::from_secs(90);

type Map = Arc<Mutex<HashMap<String, SocketAddr>>>;

/// A SOCKS5 CONNECT-by-domain server; records every (host, port) asked for.
async fn fake_tor(listener: TcpListener, map: Map, asked: Arc<Mutex<Vec<(String, u16)>>>) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        let map = map.clone();
        let asked = asked.clone();
        tokio::spawn(async move {
            let mut greet = [0u8; 3];
            s.read_exact(&mut greet).await.ok()?;
            s.write_all(&[5, 0]).await.ok()?;
            let mut head = [0u8; 5];
            s.read_exact(&mut head).await.ok()?;
            assert_eq!(head[3], 3, "tor transport must connect by domain name");
            let mut host = vec![0u8; usize::from(head[4])];
            s.read_exact(&mut host).await.ok()?;
            let mut port = [0u8; 2];
            s.read_exact(&mut port).await.ok()?;
            let host = String::from_utf8(host).unwrap();
            asked
                .lock()
                .unwrap()
                .push((host.clone(), u16::from_be_bytes(port)));
            let target = map.lock().unwrap().get(&host).copied();
            let Some(target) = target else {
                s.write_all(&[5, 0xF0, 0, 1, 0, 0, 0, 0, 0, 0]).await.ok()?;
                return None;
            };
            let mut up = TcpStream::connect(target).await.ok()?;
            s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await.ok()?;
            let _ = tokio::io::copy_bidirectional(&mut s, &mut up).await;
            Some(())
        });
    }
}

async fn node(
    seed: u8,
    role: Role,
    socks: SocketAddr,
    bootstrap: Vec<Bootstrap>,
) -> (Driver, SocketAddr) {
    let network = NetworkName::new("itest-tor").unwrap();
    let identity = Identity::from_seed(&[seed; 32]).unwrap();
    let (nonce, _) = pow::solve(&network.id(), &identity.address(), 8).unwrap();
    let params = NetworkParams::new(network).with_min_difficulty(8);
    let transport = TorTransport::bind(([127, 0, 0, 1], 0).into(), socks, DEFAULT_ONION_PORT)
        .await
        .unwrap();
    assert_eq!(transport.tcp_endpoint(), None);
    let listen = transport.local_addr().unwrap();
    let mut config = NodeConfig::new(params, role, nonce, 8);
    config.ports = vec![DEFAULT_ONION_PORT];
    let drv = driver::spawn(
        DriverConfig {
            identity,
            node: config,
            data_dir: None,
            bootstrap,
        },
        Arc::new(transport),
    )
    .unwrap();
    (drv, listen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_meet_through_socks_by_onion_only() {
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socks = proxy.local_addr().unwrap();
    let map: Map = Arc::default();
    let asked = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn(fake_tor(proxy, map.clone(), asked.clone()));

    let (router, rl) = node(11, Role::Router, socks, vec![]).await;
    map.lock()
        .unwrap()
        .insert(router.handle.onion().to_string(), rl);
    let boot = vec![Bootstrap::Onion(router.handle.onion())];
    let (a, al) = node(12, Role::Participant, socks, boot.clone()).await;
    map.lock().unwrap().insert(a.handle.onion().to_string(), al);
    let (b, bl) = node(13, Role::Participant, socks, boot).await;
    map.lock().unwrap().insert(b.handle.onion().to_string(), bl);

    tokio::time::timeout(WAIT, async {
        for n in [&router, &a, &b] {
            while n.handle.status().await.unwrap().known_peers < 2 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    })
    .await
    .expect("discovery over the tor transport");

    // No record anywhere carries an IP endpoint.
    for n in [&router, &a, &b] {
        let list = n.handle.peer_list(PeerFilter::default()).await.unwrap();
        for e in &list.peers {
            let r = e.record.as_ref().unwrap();
            assert!(
                r.tcp_endpoint.is_empty(),
                "{} published {}",
                r.onion,
                r.tcp_endpoint
            );
            assert_eq!(r.ports, vec![u32::from(DEFAULT_ONION_PORT)]);
        }
    }
    // Every dial went through the proxy, by onion name, to the protocol port.
    let asked = asked.lock().unwrap().clone();
    assert!(!asked.is_empty());
    for (host, port) in asked {
        assert!(host.ends_with(".onion"), "{host}");
        assert_eq!(port, DEFAULT_ONION_PORT);
    }
}
