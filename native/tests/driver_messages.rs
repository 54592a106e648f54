//! Application messages through the library driver (the HTTP API has no
//! send endpoint yet): a participant's message reaches another participant;
//! routers refuse application data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use torpeer_core::node::{Event, SendError};
use torpeer_core::{Identity, NetworkName, NetworkParams, NodeConfig, Role, pow};
use torpeer_node::driver::{self, Bootstrap, Driver, DriverConfig, HandleError};
use torpeer_node::transport::Transport;
use torpeer_node::transport::tcp::TcpTransport;

const WAIT: Duration = Duration::from_secs(90);

async fn node(seed: u8, role: Role, bootstrap: Vec<Bootstrap>) -> (Driver, std::net::SocketAddr) {
    let network = NetworkName::new("itest-lib").unwrap();
    let identity = Identity::from_seed(&[seed; 32]).unwrap();
    let (nonce, _) = pow::solve(&network.id(), &identity.address(), 8).unwrap();
    let params = NetworkParams::new(network).with_min_difficulty(8);
    let transport = TcpTransport::bind(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let listen = transport.local_addr().unwrap();
    let drv = driver::spawn(
        DriverConfig {
            identity,
            node: NodeConfig::new(params, role, nonce, 8),
            data_dir: None,
            bootstrap,
        },
        Arc::new(transport),
    )
    .unwrap();
    (drv, listen)
}

/// Poll `f` until true, at most [`WAIT`].
async fn until<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    tokio::time::timeout(WAIT, async {
        while !f().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participant_message_arrives_and_router_refuses_app_data() {
    let (router, rl) = node(1, Role::Router, vec![]).await;
    let contact = Bootstrap::Tcp(router.handle.onion(), rl);
    let (a, _) = node(2, Role::Participant, vec![contact.clone()]).await;
    let (b, _) = node(3, Role::Participant, vec![contact]).await;
    for n in [&router, &a, &b] {
        until("discovery", || async {
            n.handle.status().await.unwrap().known_peers >= 2
        })
        .await;
    }
    let mut events = b.handle.subscribe();
    let to = b.handle.onion();
    // The first send may find no live connection yet; the node dials on
    // demand, so retry while it reports the peer offline.
    until("send accepted", || async {
        match a.handle.send(to, b"hello b".to_vec()).await {
            Ok(()) => true,
            Err(HandleError::Send(SendError::PeerOffline | SendError::QueueFull)) => false,
            Err(e) => panic!("send failed: {e}"),
        }
    })
    .await;
    let got = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(Event::Message { from, data }) => return (from, data),
                Ok(_) => {}
                Err(e) => panic!("event stream: {e}"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(got, (a.handle.onion(), b"hello b".to_vec()));
    assert_eq!(b.handle.status().await.unwrap().messages_received, 1);

    // Routers refuse application data, both ways.
    assert_eq!(
        a.handle.send(router.handle.onion(), b"x".to_vec()).await,
        Err(HandleError::Send(SendError::RouterRefuses))
    );
    assert_eq!(
        router.handle.send(a.handle.onion(), b"x".to_vec()).await,
        Err(HandleError::Send(SendError::LocalIsRouter))
    );

    for n in [&router, &a, &b] {
        n.handle.shutdown().await;
    }
    for n in [router, a, b] {
        tokio::time::timeout(WAIT, n.task).await.unwrap().unwrap();
    }
}
