//! TorPeer as a library: start a node from the same settings as
//! `torpeer run`, find peers, and exchange messages with them by onion
//! address.
//!
//! [`TorPeer::builder`] takes the settings (a TOML file like
//! `native/torpeer.example.toml`, or method calls), [`Builder::start`]
//! starts the node, and the [`TorPeer`] it returns is the application's
//! handle: its onion address, a snapshot of the peer table, a stream of
//! typed [`Event`]s, [`send`](TorPeer::send) and [`shutdown`](TorPeer::shutdown).
//! The transport is a setting like any other, so an application written
//! against loopback TCP runs unchanged on Tor.
//!
//! Three nodes on loopback TCP — a router and two participants that find
//! each other through it — and a message from one participant to the
//! other:
//!
//! ```
//! use torpeer_node::app::{Event, Role, SendError, TorPeer, TransportKind};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let settings = |name: &str| {
//!     TorPeer::builder()
//!         .data_dir(dir.path().join(name))
//!         .transport(TransportKind::Tcp)
//!         .listen("127.0.0.1:0".parse().unwrap())
//!         .network("doc-example")
//!         .difficulty(8)
//! };
//! let router = settings("router").role(Role::Router).start().await?;
//! let alice = settings("alice").bootstrap(router.contact()).start().await?;
//! let bob = settings("bob").bootstrap(router.contact()).start().await?;
//! let mut bob_events = bob.events();
//!
//! // Alice learns of Bob from the router; until then Bob is unknown to her.
//! loop {
//!     match alice.send(bob.onion(), b"hello bob".to_vec()).await {
//!         Ok(()) => break,
//!         Err(SendError::UnknownPeer | SendError::PeerOffline | SendError::QueueFull) => {
//!             tokio::time::sleep(std::time::Duration::from_millis(50)).await;
//!         }
//!         Err(e) => return Err(e.into()),
//!     }
//! }
//! while let Some(event) = bob_events.recv().await {
//!     if let Event::Message { from, data } = event {
//!         assert_eq!(from, alice.onion());
//!         assert_eq!(data, b"hello bob");
//!         break;
//!     }
//! }
//! for node in [alice, bob, router] {
//!     node.shutdown().await?;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The same node from a configuration file, on Tor through a system `tor`
//! (its `HiddenServiceDir` the node's `hs_dir`, its `HiddenServicePort
//! 7447` pointing at `listen`):
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use torpeer_node::app::TorPeer;
//!
//! let node = TorPeer::builder_from_file("torpeer.toml")?.start().await?;
//! println!("reach me at {}", node.onion());
//! # Ok(())
//! # }
//! ```
//!
//! Limits and backpressure: a message is at most `max_message_len` bytes
//! (1 MiB by default); at most `send_queue_len` messages (default 64) wait
//! per peer, whether it is being dialled or reading slowly, after which
//! [`send`](TorPeer::send) answers [`SendError::QueueFull`]; an event
//! stream that falls behind skips ahead and gets [`Event::Lagged`] instead
//! of holding memory.

mod builder;
mod error;
mod events;
pub mod launch;

use std::net::SocketAddr;

use tokio::task::JoinHandle;
use torpeer_core::node::PeerInfo;

pub use crate::config::{FileConfig, NodeTuning, TransportKind};
pub use crate::driver::Status;
pub use builder::Builder;
pub use error::{SendError, ShutDown, ShutdownError, StartError};
pub use events::Event;
pub use events::Events;
pub use torpeer_core::node::PeerStatus;
pub use torpeer_core::{OnionAddress, Role, SignedRecord, Timestamp};

use crate::driver::NodeHandle;
use launch::Launched;

/// One entry of the peer table, as [`TorPeer::peers`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Peer {
    /// Its address.
    pub onion: OnionAddress,
    /// Participant or router (only participants take messages).
    pub role: Role,
    /// Online, offline or unknown, as this node sees it.
    pub status: PeerStatus,
    /// Whether an authenticated connection to it is open now.
    pub connected: bool,
    /// Last authenticated contact.
    pub last_seen: Option<Timestamp>,
    /// Who told us about it (`None`: direct contact or bootstrap).
    pub learned_from: Option<OnionAddress>,
    /// Its verified, signed record.
    pub record: SignedRecord,
}

impl From<PeerInfo> for Peer {
    fn from(p: PeerInfo) -> Self {
        Self {
            onion: p.record.body.address,
            role: p.record.body.role,
            status: p.status,
            connected: p.connected,
            last_seen: p.last_seen,
            learned_from: p.learned_from,
            record: p.record,
        }
    }
}

/// A running node. Dropping it without [`shutdown`](Self::shutdown) asks
/// the node to stop in the background (goodbyes and the peer table are
/// still sent and saved if the runtime lives on).
#[derive(Debug)]
pub struct TorPeer {
    handle: NodeHandle,
    task: Option<JoinHandle<()>>,
    http: Option<(SocketAddr, JoinHandle<()>)>,
    max_message_len: usize,
}

impl TorPeer {
    /// Settings with `torpeer run`'s defaults; see [`Builder`].
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Settings from a TOML file in `torpeer run --config`'s format.
    pub fn builder_from_file(path: impl AsRef<std::path::Path>) -> Result<Builder, StartError> {
        Builder::from_file(path)
    }

    fn new(launched: Launched, http: Option<(SocketAddr, JoinHandle<()>)>) -> Self {
        Self {
            handle: launched.driver.handle,
            task: Some(launched.driver.task),
            http,
            max_message_len: launched.max_message_len,
        }
    }

    /// Our onion address: what peers send to.
    pub fn onion(&self) -> OnionAddress {
        self.handle.onion()
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.handle.role()
    }

    /// What another node needs as [`Builder::bootstrap`] to reach this one:
    /// `ONION@HOST:PORT` on the tcp transport, the onion address on Tor.
    pub fn contact(&self) -> String {
        match self.handle.transport().tcp_endpoint() {
            Some(addr) => format!("{}@{addr}", self.onion()),
            None => self.onion().to_string(),
        }
    }

    /// Where the local HTTP API listens, if it was asked for
    /// ([`Builder::http`]).
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|(a, _)| *a)
    }

    /// The largest message [`send`](Self::send) accepts.
    pub fn max_message_len(&self) -> usize {
        self.max_message_len
    }

    /// A snapshot of the peer table.
    pub async fn peers(&self) -> Result<Vec<Peer>, ShutDown> {
        Ok(self
            .handle
            .peers()
            .await?
            .into_iter()
            .map(Peer::from)
            .collect())
    }

    /// One peer's entry, if it is in the table.
    pub async fn peer(&self, onion: OnionAddress) -> Result<Option<Peer>, ShutDown> {
        Ok(self.peers().await?.into_iter().find(|p| p.onion == onion))
    }

    /// Counters and settings, as `GET /v1/status` shows them.
    pub async fn status(&self) -> Result<Status, ShutDown> {
        Ok(self.handle.status().await?)
    }

    /// Events from now on. Each call gives an independent stream.
    pub fn events(&self) -> Events {
        Events::new(self.handle.subscribe())
    }

    /// Send `data` to the participant `to`. `Ok` means it was queued on the
    /// peer's connection (or for the dial that opens one): delivery is not
    /// acknowledged, and a message queued for a dial that fails is dropped.
    pub async fn send(&self, to: OnionAddress, data: impl Into<Vec<u8>>) -> Result<(), SendError> {
        self.sender().send(to, data).await
    }

    /// A cheap, cloneable handle that only sends, for other tasks.
    pub fn sender(&self) -> Sender {
        Sender {
            handle: self.handle.clone(),
            max_message_len: self.max_message_len,
        }
    }

    /// The driver's handle, for what this facade does not cover (status
    /// internals, bootstrap lists, serving the HTTP API yourself).
    pub fn node_handle(&self) -> &NodeHandle {
        &self.handle
    }

    /// Say goodbye to peers, close connections, save the peer table, stop
    /// the HTTP API; returns when the node has stopped.
    pub async fn shutdown(mut self) -> Result<(), ShutdownError> {
        self.handle.shutdown().await;
        if let Some((_, http)) = self.http.take() {
            http.abort();
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| ShutdownError(e.to_string())),
            None => Ok(()),
        }
    }
}

/// Sends as a node from any task ([`TorPeer::sender`]). It does not keep
/// the node running: once the node shuts down, `send` answers
/// [`SendError::ShutDown`].
#[derive(Debug, Clone)]
pub struct Sender {
    handle: NodeHandle,
    max_message_len: usize,
}

impl Sender {
    /// The sending node's address.
    pub fn onion(&self) -> OnionAddress {
        self.handle.onion()
    }

    /// As [`TorPeer::send`].
    pub async fn send(&self, to: OnionAddress, data: impl Into<Vec<u8>>) -> Result<(), SendError> {
        let data = data.into();
        if data.len() > self.max_message_len {
            return Err(SendError::TooLarge {
                len: data.len(),
                max: self.max_message_len,
            });
        }
        Ok(self.handle.send(to, data).await?)
    }
}

impl Drop for TorPeer {
    fn drop(&mut self) {
        if let Some((_, http)) = self.http.take() {
            http.abort();
        }
        if self.task.is_some()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let handle = self.handle.clone();
            rt.spawn(async move { handle.shutdown().await });
        }
    }
}
