//! The tokio driver: runs the sans-IO core [`Node`] and owns all its I/O.
//!
//! Shape (ARCHITECTURE.md, native):
//! - **one node task** owns the `Node` — no lock around it. It waits on
//!   connection events, commands and the `poll_timeout` deadline, feeds the
//!   node, and after every input drains `poll_output` (the core's one rule);
//! - **one task per stream** ([`conn`]) with a reader and a writer half,
//!   talking to the node task over bounded channels;
//! - **one accept task** per transport; routers sniff each inbound stream
//!   and answer HTTP `GET`s (bootstrap lists over Tor) on the same port;
//! - the HTTP API and library users reach the node task through a cloneable
//!   [`NodeHandle`] (commands with oneshot replies) and subscribe to
//!   [`Event`]s on a broadcast channel.
//!
//! Shutdown ([`NodeHandle::shutdown`]): `node.shutdown()`, drain the goodbyes,
//! wait briefly for streams to flush, persist the table, return.

pub mod conn;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use torpeer_core::node::{
    ConnectionId, Direction, Event, Input, NodeStats, Output, PeerFilter, PeerInfo, SendError,
};
use torpeer_core::{Identity, Node, NodeConfig, OnionAddress, Role, proto};

use crate::clock::Clock;
use crate::store::{Loaded, Store};
use crate::transport::prefixed::Prefixed;
use crate::transport::{BoxStream, Transport};
use conn::ConnEvent;

/// Pending connection events before connection tasks wait (backpressure).
const EVENT_QUEUE: usize = 1024;
/// Pending commands.
const COMMAND_QUEUE: usize = 256;
/// Persist at most this often while the table changes.
const PERSIST_DEBOUNCE: Duration = Duration::from_secs(2);
/// How long shutdown waits for goodbyes to flush.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// How long a dial may take (Tor rendezvous can take tens of seconds).
const DIAL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a router waits for the first bytes of an inbound stream.
const SNIFF_TIMEOUT: Duration = Duration::from_secs(30);
/// Most inbound streams not yet handed to the node (accept flood guard).
const MAX_PENDING_INBOUND: usize = 256;
/// Slots of a stream's write queue that application messages never take,
/// so pings, gossip and goodbyes still fit when an application sends as
/// fast as it can.
const PROTOCOL_RESERVE: usize = 32;

/// A bootstrap contact given at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// An onion address: dial it.
    Onion(OnionAddress),
    /// An onion address reachable at a loopback endpoint (tcp transport).
    Tcp(OnionAddress, SocketAddr),
    /// An `http://` URL serving a `PeerList`.
    Url(String),
}

/// Everything the driver needs besides the transport.
#[derive(Debug)]
pub struct DriverConfig {
    /// Our key.
    pub identity: Identity,
    /// Core configuration (its `tcp_transport` and `initial_sequence` are
    /// filled in by the driver from the transport and the store).
    pub node: NodeConfig,
    /// Persist here (`None`: nothing is persisted).
    pub data_dir: Option<std::path::PathBuf>,
    /// Contacts to start from.
    pub bootstrap: Vec<Bootstrap>,
}

/// Why the driver could not start.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// Core refused our configuration.
    #[error(transparent)]
    Node(#[from] torpeer_core::node::NodeError),
    /// Data directory problem.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl DriverError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Node(_) => "own_record_invalid",
            Self::Store(e) => e.code(),
        }
    }
}

/// A point-in-time view for `/v1/status` and `/metrics`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    /// Our onion address.
    pub onion: String,
    /// participant or router.
    pub role: &'static str,
    /// Network name.
    pub network: String,
    /// The network's minimum proof-of-work difficulty (what a dashboard
    /// must verify records against).
    pub min_difficulty: u8,
    /// Transport name.
    pub transport: &'static str,
    /// Local protocol listener (for tor: the HiddenServicePort target).
    pub listen: Option<String>,
    /// Authenticated connections.
    pub connections: usize,
    /// Streams open at the driver (including handshakes in progress).
    pub streams: usize,
    /// Peer-table entries.
    pub known_peers: usize,
    /// Seconds since start.
    pub uptime_s: u64,
    /// Sequence of our current record.
    pub record_sequence: u64,
    /// Application messages received.
    pub messages_received: u64,
    /// The in-process onion service's health (arti transport only; absent
    /// otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onion_service: Option<crate::transport::OnionServiceReport>,
    /// Counters from the core.
    #[serde(skip)]
    pub stats: NodeStats,
}

/// Requests to the node task.
#[derive(Debug)]
enum Command {
    Status(oneshot::Sender<Status>),
    PeerList(PeerFilter, oneshot::Sender<proto::PeerList>),
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    Send {
        to: OnionAddress,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), SendError>>,
    },
    AddBootstrap(OnionAddress, Option<SocketAddr>),
    PeerListFetched(proto::PeerList, Option<OnionAddress>),
    Shutdown,
}

/// Why a request to the node task failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// The node task has stopped.
    #[error("node is not running")]
    Stopped,
    /// The node refused to send.
    #[error(transparent)]
    Send(#[from] SendError),
}

impl HandleError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::Send(e) => e.code(),
        }
    }
}

/// Cheap, cloneable access to a running node.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<Event>,
    onion: OnionAddress,
    role: Role,
    network: String,
    transport: Arc<dyn Transport>,
}

impl std::fmt::Debug for dyn Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("name", &self.name())
            .field("local_addr", &self.local_addr())
            .finish()
    }
}

impl NodeHandle {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, HandleError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| HandleError::Stopped)?;
        rx.await.map_err(|_| HandleError::Stopped)
    }

    /// Our onion address.
    pub fn onion(&self) -> OnionAddress {
        self.onion
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Network name.
    pub fn network(&self) -> &str {
        &self.network
    }

    /// The transport (to dial hosts for HTTP bootstrap, read the local
    /// address).
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Status snapshot.
    pub async fn status(&self) -> Result<Status, HandleError> {
        self.ask(Command::Status).await
    }

    /// The bootstrap list we serve.
    pub async fn peer_list(&self, filter: PeerFilter) -> Result<proto::PeerList, HandleError> {
        self.ask(|tx| Command::PeerList(filter, tx)).await
    }

    /// The peer table.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, HandleError> {
        self.ask(Command::Peers).await
    }

    /// Send application data to a participant.
    pub async fn send(&self, to: OnionAddress, data: Vec<u8>) -> Result<(), HandleError> {
        self.ask(|reply| Command::Send { to, data, reply })
            .await??;
        Ok(())
    }

    /// Dial a contact and keep it as bootstrap.
    pub async fn add_bootstrap(
        &self,
        onion: OnionAddress,
        tcp: Option<SocketAddr>,
    ) -> Result<(), HandleError> {
        self.commands
            .send(Command::AddBootstrap(onion, tcp))
            .await
            .map_err(|_| HandleError::Stopped)
    }

    /// Admit a fetched bootstrap list.
    pub async fn add_peer_list(
        &self,
        list: proto::PeerList,
        source: Option<OnionAddress>,
    ) -> Result<(), HandleError> {
        self.commands
            .send(Command::PeerListFetched(list, source))
            .await
            .map_err(|_| HandleError::Stopped)
    }

    /// Events from now on (lagging subscribers lose the oldest).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Ask the node to shut down; await the [`Driver`]'s join handle to know
    /// when it has.
    pub async fn shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown).await;
    }
}

/// A running node: its handle and the task to await.
#[derive(Debug)]
pub struct Driver {
    /// Talk to the node.
    pub handle: NodeHandle,
    /// Ends after shutdown (table persisted).
    pub task: JoinHandle<()>,
}

/// Start a node on `transport`. Must be called inside a tokio runtime (it
/// spawns the node, accept and bootstrap tasks). Loads persisted state from
/// `config.data_dir` first and saves the new record sequence before the
/// node talks to anyone.
pub fn spawn(config: DriverConfig, transport: Arc<dyn Transport>) -> Result<Driver, DriverError> {
    let DriverConfig {
        identity,
        mut node,
        data_dir,
        bootstrap,
    } = config;
    let clock = Clock::new();
    node.tcp_transport = transport.tcp_endpoint();
    let store = data_dir.map(Store::open).transpose()?;
    if let Some(store) = &store {
        match store.load_sequence()? {
            Loaded::Ok(seq) => node.initial_sequence = node.initial_sequence.max(seq),
            Loaded::Missing => {}
            Loaded::Corrupt { moved_to, reason } => {
                tracing::warn!(?moved_to, %reason, "record sequence file is corrupt; set aside");
            }
        }
    }
    let role = node.role;
    let network = node.params.name.to_string();
    let mut seed = [0u8; 32];
    if getrandom::fill(&mut seed).is_err() {
        // Without OS randomness the node's nonces would be predictable; the
        // clock is a poor but non-constant fallback, and we say so.
        tracing::warn!("OS randomness unavailable; seeding the node from the clock");
        seed[..8].copy_from_slice(&clock.now().as_millis().to_le_bytes());
    }
    let mut core = Node::new(identity, node, seed, clock.now())?;
    let onion = core.address();
    if let Some(store) = &store {
        // Persist the sequence we now sign before anything else, so even a
        // kill -9 a moment later restarts with a newer record.
        store.save_sequence(core.own_record().body.sequence)?;
        match store.load_peers()? {
            Loaded::Ok(list) => {
                let admitted = core.handle_peer_list(clock.now(), &list, None);
                tracing::info!(
                    entries = list.peers.len(),
                    admitted,
                    "loaded persisted peer table"
                );
            }
            Loaded::Missing => {}
            Loaded::Corrupt { moved_to, reason } => {
                tracing::warn!(?moved_to, %reason, "persisted peer table is corrupt; set aside, starting empty");
            }
        }
    }
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (ev_tx, _) = broadcast::channel(1024);
    let (conn_tx, conn_rx) = mpsc::channel(EVENT_QUEUE);
    let handle = NodeHandle {
        commands: cmd_tx,
        events: ev_tx.clone(),
        onion,
        role,
        network,
        transport: transport.clone(),
    };
    let accept = tokio::spawn(accept_loop(handle.clone(), conn_tx.clone()));
    for b in bootstrap {
        match b {
            Bootstrap::Onion(o) => core.add_bootstrap(clock.now(), o, None),
            Bootstrap::Tcp(o, addr) => core.add_bootstrap(clock.now(), o, Some(addr)),
            Bootstrap::Url(url) => {
                tokio::spawn(fetch_bootstrap(handle.clone(), url));
            }
        }
    }
    let task = NodeTask {
        node: core,
        clock,
        store,
        transport,
        commands: cmd_rx,
        conn_events: conn_rx,
        conn_tx,
        events: ev_tx,
        writers: HashMap::new(),
        dirty_since: None,
        messages_received: 0,
    };
    let task = tokio::spawn(async move {
        task.run().await;
        accept.abort();
    });
    Ok(Driver { handle, task })
}

/// Fetch a bootstrap list over HTTP (retrying: the server may be starting
/// too) and hand it to the node.
async fn fetch_bootstrap(handle: NodeHandle, url: String) {
    let mut delay = Duration::from_millis(500);
    for attempt in 1..=8 {
        match crate::http::client::fetch_peer_list(handle.transport().as_ref(), &url).await {
            Ok(list) => {
                let source = OnionAddress::parse(&list.source).ok();
                tracing::info!(%url, entries = list.peers.len(), "fetched bootstrap list");
                let _ = handle.add_peer_list(list, source).await;
                return;
            }
            Err(e) => {
                tracing::warn!(%url, attempt, error = %e, "bootstrap fetch failed");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Accept inbound streams; ids count up from 1 in the lower half of the id
/// space (the node allocates outbound ids from `1 << 63`).
async fn accept_loop(handle: NodeHandle, events: mpsc::Sender<ConnEvent>) {
    static NEXT_INBOUND: AtomicU64 = AtomicU64::new(1);
    let pending = Arc::new(tokio::sync::Semaphore::new(MAX_PENDING_INBOUND));
    loop {
        let stream = match handle.transport.accept().await {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = pending.clone().try_acquire_owned() else {
            tracing::warn!("too many inbound streams pending; dropping one");
            continue;
        };
        let conn = ConnectionId(NEXT_INBOUND.fetch_add(1, Ordering::Relaxed) & !(1 << 63));
        let events = events.clone();
        let handle = handle.clone();
        tokio::spawn(async move {
            if handle.role == Role::Router {
                let mut stream = stream;
                let first = match sniff(&mut stream).await {
                    Some(b) => b,
                    None => return,
                };
                if first == b"GET " {
                    drop(permit);
                    let io = Prefixed::new(first, stream);
                    crate::http::server::serve_public(io, handle).await;
                    return;
                }
                drop(permit);
                conn::run(conn, Direction::Inbound, stream, events, Some(first)).await;
            } else {
                drop(permit);
                conn::run(conn, Direction::Inbound, stream, events, None).await;
            }
        });
    }
}

/// Read the first four bytes of a stream (fewer if it ends), with a timeout.
async fn sniff(stream: &mut BoxStream) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4];
    let mut got = 0;
    let read = async {
        while got < buf.len() {
            match stream.read(&mut buf[got..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
    };
    tokio::time::timeout(SNIFF_TIMEOUT, read).await.ok()?;
    (got > 0).then(|| buf[..got].to_vec())
}

struct NodeTask {
    node: Node,
    clock: Clock,
    store: Option<Store>,
    transport: Arc<dyn Transport>,
    commands: mpsc::Receiver<Command>,
    conn_events: mpsc::Receiver<ConnEvent>,
    conn_tx: mpsc::Sender<ConnEvent>,
    events: broadcast::Sender<Event>,
    writers: HashMap<ConnectionId, mpsc::Sender<Vec<u8>>>,
    dirty_since: Option<Instant>,
    messages_received: u64,
}

impl NodeTask {
    async fn run(mut self) {
        loop {
            self.drain();
            let deadline = self.node.poll_timeout().map(|t| self.clock.instant_at(t));
            let persist_at = self.dirty_since.map(|t| t + PERSIST_DEBOUNCE);
            tokio::select! {
                Some(ev) = self.conn_events.recv() => self.on_conn_event(ev),
                cmd = self.commands.recv() => match cmd {
                    Some(Command::Shutdown) | None => break,
                    Some(cmd) => self.on_command(cmd),
                },
                () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    self.node.handle_timeout(self.clock.now());
                }
                () = sleep_until(persist_at.unwrap_or_else(Instant::now)), if persist_at.is_some() => {
                    self.persist().await;
                }
            }
        }
        self.shutdown().await;
    }

    async fn shutdown(mut self) {
        tracing::info!("shutting down: saying goodbye to peers");
        self.node.shutdown(self.clock.now());
        self.drain();
        // Dropping the writers lets each stream flush its goodbye and close.
        let mut open = self.writers.len();
        self.writers.clear();
        let grace = Instant::now() + SHUTDOWN_GRACE;
        while open > 0 {
            tokio::select! {
                ev = self.conn_events.recv() => match ev {
                    Some(ConnEvent::Closed { .. }) => open -= 1,
                    Some(ConnEvent::Opened { .. }) | Some(_) => {}
                    None => break,
                },
                () = sleep_until(grace) => break,
            }
        }
        self.persist().await;
        tracing::info!("node stopped");
    }

    fn on_conn_event(&mut self, ev: ConnEvent) {
        let now = self.clock.now();
        match ev {
            ConnEvent::Opened {
                conn,
                direction,
                writer,
            } => {
                self.writers.insert(conn, writer);
                self.node
                    .handle_input(now, Input::ConnectionOpened { conn, direction });
            }
            ConnEvent::DialFailed { conn, reason } => {
                self.node
                    .handle_input(now, Input::DialFailed { conn, reason });
            }
            ConnEvent::Received { conn, bytes } => {
                self.node.handle_input(
                    now,
                    Input::Received {
                        conn,
                        bytes: &bytes,
                    },
                );
            }
            ConnEvent::Closed { conn } => {
                self.writers.remove(&conn);
                self.node
                    .handle_input(now, Input::ConnectionClosed { conn });
            }
        }
    }

    fn on_command(&mut self, cmd: Command) {
        let now = self.clock.now();
        match cmd {
            Command::Status(reply) => {
                let _ = reply.send(self.status());
            }
            Command::PeerList(filter, reply) => {
                let _ = reply.send(self.node.peer_list(now, &filter));
            }
            Command::Peers(reply) => {
                let _ = reply.send(self.node.peers());
            }
            Command::Send { to, data, reply } => {
                let _ = reply.send(self.send_app(now, to, data));
            }
            Command::AddBootstrap(onion, tcp) => self.node.add_bootstrap(now, onion, tcp),
            Command::PeerListFetched(list, source) => {
                let admitted = self.node.handle_peer_list(now, &list, source);
                tracing::info!(admitted, "admitted bootstrap records");
                self.mark_dirty();
            }
            Command::Shutdown => {}
        }
    }

    fn status(&self) -> Status {
        let stats = self.node.stats();
        let record = self.node.own_record();
        Status {
            onion: self.node.address().to_string(),
            role: record.body.role.as_str(),
            network: record.body.network.to_string(),
            min_difficulty: self.node.config().params.min_difficulty,
            transport: self.transport.name(),
            listen: self.transport.local_addr().map(|a| a.to_string()),
            connections: stats.connections,
            streams: self.writers.len(),
            known_peers: stats.known_peers,
            uptime_s: self.clock.uptime().as_secs(),
            record_sequence: record.body.sequence,
            messages_received: self.messages_received,
            onion_service: self.transport.onion_service(),
            stats,
        }
    }

    /// Application data to `to`, bounded per peer.
    ///
    /// The core queues messages (`send_queue_len`) only while it dials; to
    /// a connected peer a message becomes a frame on that stream's write
    /// queue at once. Without a bound here, an application sending faster
    /// than the peer reads would fill that queue and the stream would be
    /// closed as a slow reader, losing what was queued. So the same limit
    /// applies to a connected peer's write queue, and beyond it `send`
    /// answers `QueueFull`, leaving the connection alone.
    fn send_app(
        &mut self,
        now: torpeer_core::Timestamp,
        to: OnionAddress,
        data: Vec<u8>,
    ) -> Result<(), SendError> {
        let limit = self
            .node
            .config()
            .send_queue_len
            .min(conn::WRITE_QUEUE - PROTOCOL_RESERVE);
        if let Some(w) = self
            .node
            .connection_to(&to)
            .and_then(|c| self.writers.get(&c))
            && w.max_capacity() - w.capacity() >= limit
        {
            return Err(SendError::QueueFull);
        }
        self.node.send(now, &to, data)?;
        self.drain();
        Ok(())
    }

    /// The core's one rule: after every input, drain the outputs.
    fn drain(&mut self) {
        while let Some(out) = self.node.poll_output() {
            self.output(out);
        }
    }

    fn output(&mut self, out: Output) {
        match out {
            Output::Transmit { conn, bytes } => self.transmit(conn, bytes),
            Output::Dial {
                conn,
                onion,
                tcp_endpoint,
            } => self.dial(conn, onion, tcp_endpoint),
            Output::Close { conn } => {
                // Dropping the sender closes the stream once its queue is
                // written; the task then reports Closed.
                self.writers.remove(&conn);
            }
            Output::Event(ev) => self.on_event(ev),
        }
    }

    fn transmit(&mut self, conn: ConnectionId, bytes: Vec<u8>) {
        let Some(w) = self.writers.get(&conn) else {
            tracing::debug!(?conn, "transmit on a stream that is gone");
            return;
        };
        if let Err(e) = w.try_send(bytes) {
            // A peer that does not read its frames loses the connection
            // rather than stalling the node task.
            tracing::warn!(?conn, error = %e, "write queue full or closed; closing stream");
            self.writers.remove(&conn);
        }
    }

    fn dial(&mut self, conn: ConnectionId, onion: OnionAddress, tcp: Option<SocketAddr>) {
        let transport = self.transport.clone();
        let events = self.conn_tx.clone();
        // A Tor transport ignores endpoints, but never even pass one on.
        let tcp = if transport.tcp_endpoint().is_some() {
            tcp
        } else {
            None
        };
        tokio::spawn(async move {
            match tokio::time::timeout(DIAL_TIMEOUT, transport.dial(onion, tcp)).await {
                Ok(Ok(stream)) => {
                    conn::run(conn, Direction::Outbound, stream, events, None).await;
                }
                Ok(Err(e)) => {
                    let _ = events
                        .send(ConnEvent::DialFailed {
                            conn,
                            reason: format!("{}: {e}", e.code()),
                        })
                        .await;
                }
                Err(_) => {
                    let _ = events
                        .send(ConnEvent::DialFailed {
                            conn,
                            reason: "timeout".into(),
                        })
                        .await;
                }
            }
        });
    }

    fn on_event(&mut self, ev: Event) {
        match &ev {
            Event::PeerDiscovered {
                onion,
                learned_from,
            } => {
                tracing::info!(peer = %onion, from = ?learned_from.map(|o| o.to_string()), "peer discovered");
                self.mark_dirty();
            }
            Event::RecordUpdated { .. } | Event::PeerOnline { .. } | Event::PeerOffline { .. } => {
                tracing::debug!(?ev, "peer change");
                self.mark_dirty();
            }
            Event::Message { from, data } => {
                self.messages_received += 1;
                tracing::debug!(%from, len = data.len(), "application message");
            }
            Event::HandshakeFailed { conn, reason, .. } => {
                tracing::info!(?conn, code = %reason.code, "handshake failed");
            }
            Event::PeerError {
                peer,
                code,
                message,
            } => {
                tracing::info!(%peer, ?code, %message, "peer sent an error");
            }
        }
        // No subscribers is fine.
        let _ = self.events.send(ev);
    }

    fn mark_dirty(&mut self) {
        if self.dirty_since.is_none() && self.store.is_some() {
            self.dirty_since = Some(Instant::now());
        }
    }

    async fn persist(&mut self) {
        self.dirty_since = None;
        let Some(store) = self.store.clone() else {
            return;
        };
        let now = self.clock.now();
        let own = self.node.address().to_string();
        let mut list = self.node.peer_list(
            now,
            &PeerFilter {
                role: None,
                online_only: false,
                max: usize::MAX,
            },
        );
        // Our own record is re-signed at start; only peers are worth keeping.
        list.peers
            .retain(|e| e.record.as_ref().is_none_or(|r| r.onion != own));
        let sequence = self.node.own_record().body.sequence;
        let result = tokio::task::spawn_blocking(move || {
            store.save_peers(&list)?;
            store.save_sequence(sequence)
        })
        .await;
        match result {
            Ok(Ok(())) => tracing::debug!("peer table saved"),
            Ok(Err(e)) => tracing::warn!(error = %e, "could not save peer table"),
            Err(e) => tracing::warn!(error = %e, "persist task failed"),
        }
    }
}
