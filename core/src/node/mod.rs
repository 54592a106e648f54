//! The sans-IO node: a state machine fed with inputs and polled for outputs.
//!
//! Modelled on quinn-proto and str0m. The node never reads a clock, opens a
//! socket or spawns a task: the driver (the native tokio node, the simulator,
//! a JS driver) owns all I/O and feeds the node what happened.
//!
//! # API families
//!
//! - **Construction:** [`Node::new`] takes the identity, the configuration, a
//!   32-byte RNG seed and the current time. Same seed and same inputs give
//!   the same outputs, byte for byte.
//! - **Inputs** (`handle_*`): [`Node::handle_input`] for connection events
//!   and received bytes, [`Node::handle_timeout`] when the deadline from
//!   [`Node::poll_timeout`] has passed, [`Node::handle_peer_list`] for a
//!   bootstrap list fetched over HTTP.
//! - **Application commands:** [`Node::add_bootstrap`], [`Node::send`],
//!   [`Node::shutdown`].
//! - **Outputs** (`poll_*`): [`Node::poll_output`] until it returns `None`,
//!   then [`Node::poll_timeout`] for the next deadline.
//! - **Getters:** [`Node::address`], [`Node::own_record`], [`Node::peers`],
//!   [`Node::peer_list`], [`Node::stats`].
//!
//! # The one rule
//!
//! After every input or command, drain [`Node::poll_output`] until it returns
//! `None`, act on each output, then wait until the deadline of
//! [`Node::poll_timeout`] or the next input, whichever comes first.
//!
//! ```
//! use torpeer_core::node::{Input, Node, NodeConfig, Output, Timestamp};
//! use torpeer_core::{Identity, NetworkName, NetworkParams, Role};
//!
//! // A throwaway network with a trivial proof-of-work.
//! let params = NetworkParams::new(NetworkName::new("doc-example").unwrap()).with_min_difficulty(0);
//! let identity = Identity::from_seed(&[1; 32]).unwrap();
//! let config = NodeConfig::new(params, Role::Participant, 0, 0);
//! let mut now = Timestamp::from_secs(1_800_000_000);
//! let mut node = Node::new(identity, config, [7; 32], now).unwrap();
//!
//! for _ in 0..3 {
//!     while let Some(out) = node.poll_output() {
//!         match out {
//!             Output::Transmit { conn, bytes } => { /* write bytes to conn */ }
//!             Output::Dial { conn, onion, tcp_endpoint } => {
//!                 // open a stream; here every dial fails
//!                 node.handle_input(now, Input::DialFailed { conn, reason: "offline".into() });
//!             }
//!             Output::Close { conn } => { /* close it */ }
//!             Output::Event(e) => { /* tell the application */ }
//!         }
//!     }
//!     // Wait for I/O or the deadline; here: jump to the deadline.
//!     if let Some(deadline) = node.poll_timeout() {
//!         now = now.max(deadline);
//!         node.handle_timeout(now);
//!     }
//! }
//! assert_eq!(node.stats().connections, 0);
//! ```

mod conn;
mod frames;
mod gossip;
mod handshake;
mod known;
mod timers;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use crate::identity::Identity;
use crate::network::NetworkParams;
use crate::onion::OnionAddress;
use crate::proto;
use crate::record::{Role, SignedRecord};
use crate::table::{Entry, PeerTable, Provenance, TableLimits};

use conn::Conn;

#[cfg(test)]
mod tests;

pub use handshake::{Signer, TRANSCRIPT_LABEL, transcript};

/// A point in time: milliseconds since the Unix epoch, as the driver sees
/// it. Drivers with a monotonic clock anchor it once (`unix_at_start +
/// elapsed`), so that the node's timers never run backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// From Unix milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }
    /// From Unix seconds.
    pub const fn from_secs(s: u64) -> Self {
        Self(s.saturating_mul(1000))
    }
    /// Unix milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// Unix seconds (rounded down), the unit of record times.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }
    /// This time plus `ms` milliseconds (saturating).
    pub const fn plus_millis(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

/// Identifies one stream between this node and a peer. Inbound ids are chosen
/// by the driver; outbound ids are chosen by the node in [`Output::Dial`].
/// The two never collide: the node allocates from the upper half of the id
/// space (`conn.0 >= 1 << 63`), the driver must use the lower half.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

/// Who opened a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A peer dialled us.
    Inbound,
    /// We dialled (in answer to an [`Output::Dial`]).
    Outbound,
}

/// Something that happened outside the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input<'a> {
    /// A stream is open. For outbound streams `conn` is the id from the
    /// [`Output::Dial`] that asked for it.
    ConnectionOpened {
        /// The stream.
        conn: ConnectionId,
        /// Who opened it.
        direction: Direction,
    },
    /// A dial asked for by [`Output::Dial`] failed before a stream opened.
    DialFailed {
        /// The id from the dial.
        conn: ConnectionId,
        /// Human-readable reason, for logs and events.
        reason: String,
    },
    /// Bytes arrived on a stream.
    Received {
        /// The stream.
        conn: ConnectionId,
        /// The bytes, in order; any split is allowed.
        bytes: &'a [u8],
    },
    /// The stream is closed (by the peer, an error, or after [`Output::Close`]).
    ConnectionClosed {
        /// The stream.
        conn: ConnectionId,
    },
}

/// Something the driver must do, or tell the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write these bytes (whole frames) to the stream, in order.
    Transmit {
        /// The stream.
        conn: ConnectionId,
        /// Bytes to write.
        bytes: Vec<u8>,
    },
    /// Open a stream to a peer; answer with [`Input::ConnectionOpened`]
    /// (direction outbound) or [`Input::DialFailed`].
    Dial {
        /// Id of the stream to be.
        conn: ConnectionId,
        /// The peer's onion address (what a Tor transport dials).
        onion: OnionAddress,
        /// The peer's loopback endpoint, only when the node is configured
        /// for the tcp transport ([`NodeConfig::tcp_transport`]); a node on
        /// a Tor transport never emits one.
        tcp_endpoint: Option<SocketAddr>,
    },
    /// Close the stream after writing what was transmitted before.
    Close {
        /// The stream.
        conn: ConnectionId,
    },
    /// Something the application may want to know.
    Event(Event),
}

/// Why a handshake or connection failed, as seen by this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureReason {
    /// Stable machine-readable code (`wrong_network`, `bad_record:...`, ...).
    pub code: String,
    /// Human-readable text.
    pub message: String,
}

/// What the application hears about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new identity entered the table (with a verified record).
    PeerDiscovered {
        /// The peer.
        onion: OnionAddress,
        /// Who told us (`None` when we contacted it directly or it was a
        /// bootstrap entry).
        learned_from: Option<OnionAddress>,
    },
    /// A peer has an authenticated live connection with us.
    PeerOnline {
        /// The peer.
        onion: OnionAddress,
    },
    /// A peer is considered offline (connection lost and not re-established,
    /// or dials failing).
    PeerOffline {
        /// The peer.
        onion: OnionAddress,
    },
    /// A known peer's record was replaced by one with a higher sequence.
    RecordUpdated {
        /// The peer.
        onion: OnionAddress,
        /// The new sequence number.
        sequence: u64,
    },
    /// Application data from an authenticated participant.
    Message {
        /// The sender (the authenticated peer of the connection).
        from: OnionAddress,
        /// The payload.
        data: Vec<u8>,
    },
    /// A connection failed to authenticate or broke the protocol.
    HandshakeFailed {
        /// The stream.
        conn: ConnectionId,
        /// The peer, when known.
        peer: Option<OnionAddress>,
        /// Why.
        reason: FailureReason,
    },
    /// A peer answered with an error frame.
    PeerError {
        /// The peer.
        peer: OnionAddress,
        /// Error code from the frame.
        code: proto::ErrorCode,
        /// Message from the frame.
        message: String,
    },
}

/// Why [`Node::send`] refused a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The destination is not in the table.
    #[error("unknown peer")]
    UnknownPeer,
    /// The destination is known but has no live connection and cannot be
    /// dialled now.
    #[error("peer is offline")]
    PeerOffline,
    /// The destination is a router; routers refuse application data.
    #[error("peer is a router and refuses application data")]
    RouterRefuses,
    /// This node is a router and does not send application data.
    #[error("this node is a router and does not send application data")]
    LocalIsRouter,
    /// Larger than the configured maximum.
    #[error("message of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Message length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The per-peer queue is full.
    #[error("send queue for this peer is full")]
    QueueFull,
    /// The node is shutting down.
    #[error("node is shut down")]
    ShutDown,
}

impl SendError {
    /// Stable machine-readable code (HTTP API, wasm).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownPeer => "unknown_peer",
            Self::PeerOffline => "peer_offline",
            Self::RouterRefuses => "router_refuses",
            Self::LocalIsRouter => "local_is_router",
            Self::TooLarge { .. } => "too_large",
            Self::QueueFull => "queue_full",
            Self::ShutDown => "shut_down",
        }
    }
}

/// Node configuration. Durations are in milliseconds.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Network parameters every peer must share.
    pub params: NetworkParams,
    /// This node's role.
    pub role: Role,
    /// Virtual ports to publish in our record.
    pub ports: Vec<u16>,
    /// Proof-of-work nonce for our key on this network, already solved.
    pub pow_nonce: u64,
    /// Difficulty the nonce meets (claimed in our record).
    pub pow_difficulty: u8,
    /// `Some(endpoint)` only on the loopback tcp transport: published in our
    /// record and allows dialling endpoints from records. `None` on Tor
    /// transports: never publish nor dial an IP endpoint.
    pub tcp_transport: Option<SocketAddr>,
    /// Sequence number to start from (persisted by the driver, so a restart
    /// issues a record newer than any it issued before).
    pub initial_sequence: u64,
    /// Outbound connections the node tries to keep.
    pub target_outbound: usize,
    /// Most simultaneous connections (inbound + outbound).
    pub max_connections: usize,
    /// Peer-table capacity. Set it with [`NodeConfig::set_table_capacity`],
    /// which scales the per-source limits with it.
    pub table_capacity: usize,
    /// Most table entries one source may have inserted (a quarter of the
    /// capacity, at least 1,000: [`TableLimits::for_capacity`]).
    pub max_per_source: usize,
    /// Period of get-peers gossip to a random connected peer.
    pub gossip_interval_ms: u64,
    /// Period of pings on idle connections.
    pub ping_interval_ms: u64,
    /// A connection silent this long is closed.
    pub idle_timeout_ms: u64,
    /// A handshake not finished in this time is aborted.
    pub handshake_timeout_ms: u64,
    /// Largest application message.
    pub max_message_len: usize,
    /// Largest frame accepted or sent.
    pub max_frame_len: usize,
    /// Salted source buckets for per-source caps and rate limits.
    pub source_buckets: u32,
    /// Records one source bucket may make us verify in a burst.
    pub source_burst: u64,
    /// One more record per source bucket every this many milliseconds
    /// (4,000 = 0.25/s for the default 10,000-entry table).
    pub source_refill_ms: u64,
    /// Peer events pushed to one subscriber in a burst.
    pub push_burst: u64,
    /// One more pushed event per subscriber every this many milliseconds.
    pub push_refill_ms: u64,
    /// Entries asked for in periodic get-peers gossip.
    pub gossip_max: u32,
    /// First redial delay after a failure; doubles per failure (jittered).
    pub redial_base_ms: u64,
    /// Longest redial delay.
    pub redial_max_ms: u64,
    /// Consecutive failed dials after which a never-reached peer is offline.
    pub offline_after_failures: u32,
    /// How often the dialler looks for peers while below target.
    pub dial_check_ms: u64,
    /// Every this often (jittered), a node at its outbound target dials one
    /// more, random known-but-unconnected peer and, once it is up, closes
    /// another outbound connection: the topology keeps exploring, so
    /// partitions heal (PROTOCOL.md §8.3). `0` turns rotation off.
    pub rotate_interval_ms: u64,
    /// Messages queued per peer while it is being dialled.
    pub send_queue_len: usize,
    /// Verification memo shared by many nodes of one process (simulators
    /// only; see [`VerifyCache`](crate::table::VerifyCache)). `None` by default.
    pub verify_cache: Option<std::sync::Arc<dyn crate::table::VerifyCache>>,
}

impl NodeConfig {
    /// Defaults for a network.
    pub fn new(params: NetworkParams, role: Role, pow_nonce: u64, pow_difficulty: u8) -> Self {
        let table = TableLimits::default();
        Self {
            params,
            role,
            ports: Vec::new(),
            pow_nonce,
            pow_difficulty,
            tcp_transport: None,
            initial_sequence: 0,
            target_outbound: 8,
            max_connections: 64,
            table_capacity: table.capacity,
            max_per_source: table.max_per_source,
            gossip_interval_ms: 30_000,
            ping_interval_ms: 60_000,
            idle_timeout_ms: 180_000,
            handshake_timeout_ms: 30_000,
            max_message_len: 1 << 20,
            max_frame_len: crate::codec::DEFAULT_MAX_FRAME_LEN + 1024,
            source_buckets: table.source_buckets,
            source_burst: table.source_burst,
            source_refill_ms: table.source_refill_ms,
            push_burst: 100,
            push_refill_ms: 1_000,
            gossip_max: 64,
            redial_base_ms: 5_000,
            redial_max_ms: 3_600_000,
            offline_after_failures: 3,
            dial_check_ms: 10_000,
            rotate_interval_ms: 300_000,
            send_queue_len: 64,
            verify_cache: None,
        }
    }

    /// Set the peer-table capacity and the per-source limits that go with
    /// it ([`TableLimits::for_capacity`]): a bigger table must be fillable
    /// from as few sources as a small one. Set `max_per_source`,
    /// `source_burst` or `source_refill_ms` after this to override them.
    pub fn set_table_capacity(&mut self, capacity: usize) {
        let t = TableLimits::for_capacity(capacity);
        self.table_capacity = t.capacity;
        self.max_per_source = t.max_per_source;
        self.source_burst = t.source_burst;
        self.source_refill_ms = t.source_refill_ms;
    }
}

/// Status of a peer as this node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerStatus {
    /// Never had contact, or not recently.
    Unknown,
    /// Authenticated live connection now, or very recently.
    Online,
    /// Contact lost or dials failing.
    Offline,
}

/// One table entry as the application sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The verified record.
    pub record: SignedRecord,
    /// Online / offline / unknown.
    pub status: PeerStatus,
    /// Last authenticated contact, if any.
    pub last_seen: Option<Timestamp>,
    /// Who told us about it; `None` for direct contact or bootstrap.
    pub learned_from: Option<OnionAddress>,
    /// Whether we ever had an authenticated connection with it.
    pub direct: bool,
    /// Consecutive failed dials.
    pub failures: u32,
    /// Whether a live authenticated connection exists now.
    pub connected: bool,
}

/// Counters for status pages and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Authenticated connections now.
    pub connections: usize,
    /// Table entries now.
    pub known_peers: usize,
    /// Frames sent since start.
    pub frames_sent: u64,
    /// Frames received since start.
    pub frames_received: u64,
    /// Bytes sent since start.
    pub bytes_sent: u64,
    /// Bytes received since start.
    pub bytes_received: u64,
    /// Records refused, by [`RecordError::code`](crate::record::RecordError::code)
    /// or [`Rejected::code`](crate::table::Rejected::code), sorted by code.
    pub records_rejected: Vec<(String, u64)>,
    /// Records verified and admitted (new or newer sequence).
    pub records_accepted: u64,
    /// Periodic get-peers rounds started.
    pub gossip_rounds: u64,
    /// Get-peers requests (periodic or at connection) that asked for the
    /// changes since a cursor instead of sending a known-records filter.
    pub gossip_delta_requests: u64,
    /// Catch-up get-peers sent right after a big answer (PROTOCOL.md §8.4).
    pub gossip_follow_ups: u64,
}

/// Which peers a get-peers answer or a bootstrap list holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerFilter {
    /// Only this role (`None`: any).
    pub role: Option<Role>,
    /// Only peers seen online.
    pub online_only: bool,
    /// At most this many entries (the node also caps it, PROTOCOL.md).
    pub max: usize,
}

impl Default for PeerFilter {
    fn default() -> Self {
        Self {
            role: None,
            online_only: false,
            max: 1_000,
        }
    }
}

/// Why a node could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// Our own record does not verify (bad PoW for this key and network,
    /// difficulty below the network minimum, ...).
    #[error("own record is invalid: {0}")]
    OwnRecord(#[from] crate::record::RecordError),
}

/// A message waiting for a connection to its destination.
type Queue = VecDeque<Vec<u8>>;

/// A bootstrap contact given by [`Node::add_bootstrap`].
#[derive(Debug, Clone)]
struct Bootstrap {
    tcp_endpoint: Option<SocketAddr>,
    failures: u32,
    next_retry: Timestamp,
}

/// The sans-IO TorPeer node. See the [module docs](self).
#[derive(Debug)]
pub struct Node {
    identity: Identity,
    config: NodeConfig,
    own_record: SignedRecord,
    rng: ChaCha20Rng,
    table: PeerTable,
    conns: BTreeMap<ConnectionId, Conn>,
    /// The authenticated connection kept per peer.
    by_peer: BTreeMap<OnionAddress, ConnectionId>,
    /// Dials (and handshakes of outbound streams) in progress, per target.
    dialing: BTreeMap<OnionAddress, ConnectionId>,
    bootstrap: BTreeMap<OnionAddress, Bootstrap>,
    /// Peers to redial once (their connection dropped without goodbye).
    redial: BTreeSet<OnionAddress>,
    queues: BTreeMap<OnionAddress, Queue>,
    /// Where each peer's change log stood at its last complete answer, and
    /// our table's version once we took in the answer before it and that
    /// one: `(epoch, version, ours_before, ours)`, at most
    /// [`gossip::MAX_CURSORS`].
    cursors: BTreeMap<OnionAddress, (u64, u64, u64, u64)>,
    /// Drawn at start: our cursors' epoch, so a peer never continues from a
    /// version of an earlier run of ours.
    epoch: u64,
    outputs: VecDeque<Output>,
    next_conn_id: u64,
    next_request_id: u64,
    gossip_at: Timestamp,
    refresh_at: Timestamp,
    dial_check_at: Option<Timestamp>,
    /// Next outbound rotation (unused when rotation is off).
    rotate_at: Timestamp,
    /// The dial of the rotation in progress, if any.
    rotation: Option<ConnectionId>,
    shut_down: bool,
    stats: NodeStats,
}

impl Node {
    /// A node with `identity`, started at `now`.
    pub fn new(
        identity: Identity,
        config: NodeConfig,
        seed: [u8; 32],
        now: Timestamp,
    ) -> Result<Self, NodeError> {
        let own_record = sign_own_record(&identity, &config, config.initial_sequence, now)?;
        own_record.verify(&config.params, now.as_secs())?;
        let mut rng = ChaCha20Rng::from_seed(seed);
        let mut salt = [0u8; 32];
        rng.fill_bytes(&mut salt);
        let epoch = rng.next_u64();
        let limits = TableLimits {
            capacity: config.table_capacity,
            max_per_source: config.max_per_source,
            source_buckets: config.source_buckets,
            source_burst: config.source_burst,
            source_refill_ms: config.source_refill_ms,
            allow_tcp_endpoints: config.tcp_transport.is_some(),
        };
        let mut table = PeerTable::new(identity.address(), config.params.clone(), limits, salt);
        table.set_verify_cache(config.verify_cache.clone());
        let mut node = Self {
            identity,
            own_record,
            rng,
            table,
            conns: BTreeMap::new(),
            by_peer: BTreeMap::new(),
            dialing: BTreeMap::new(),
            bootstrap: BTreeMap::new(),
            redial: BTreeSet::new(),
            queues: BTreeMap::new(),
            cursors: BTreeMap::new(),
            epoch,
            outputs: VecDeque::new(),
            next_conn_id: OUTBOUND_ID_BASE,
            next_request_id: 1,
            gossip_at: now,
            refresh_at: now,
            dial_check_at: Some(now),
            rotate_at: now,
            rotation: None,
            shut_down: false,
            stats: NodeStats::default(),
            config,
        };
        node.gossip_at = now.plus_millis(node.jitter(node.config.gossip_interval_ms));
        node.refresh_at = node.refresh_deadline();
        node.rotate_at = now.plus_millis(node.jitter(node.config.rotate_interval_ms));
        Ok(node)
    }

    /// Feed an event from the driver.
    pub fn handle_input(&mut self, now: Timestamp, input: Input<'_>) {
        match input {
            Input::ConnectionOpened { conn, direction } => self.on_opened(now, conn, direction),
            Input::DialFailed { conn, reason } => {
                if self.conns.contains_key(&conn) {
                    self.drop_conn(now, conn, Some(reason));
                }
            }
            Input::Received { conn, bytes } => self.on_received(now, conn, bytes),
            Input::ConnectionClosed { conn } => {
                if self.conns.contains_key(&conn) {
                    self.drop_conn(now, conn, Some("connection closed".into()));
                }
            }
        }
    }

    /// Call when the deadline from [`Node::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.on_timeout(now);
    }

    /// Verify and admit the records of a bootstrap list fetched over HTTP
    /// (or loaded from disk). `source` is the node that served it, if known.
    /// Returns how many records were admitted or updated.
    ///
    /// With `source == None` (a persisted list) an entry's `learned_from`
    /// is kept as its provenance, so per-source caps survive a restart.
    pub fn handle_peer_list(
        &mut self,
        now: Timestamp,
        list: &proto::PeerList,
        source: Option<OnionAddress>,
    ) -> usize {
        if self.shut_down {
            return 0;
        }
        if list.network != self.config.params.name.as_str() {
            self.table.count_reject("wrong_network");
            return 0;
        }
        let mut admitted = 0;
        for entry in &list.peers {
            let Some(record) = &entry.record else {
                self.table.count_reject("malformed");
                continue;
            };
            if record.onion == self.address().to_string() {
                continue;
            }
            let provenance = match source {
                Some(s) => Provenance::Heard(s),
                None => OnionAddress::parse(&entry.learned_from)
                    .map(Provenance::Heard)
                    .unwrap_or(Provenance::Bootstrap),
            };
            if self.admit_proto(now, record, provenance, None, gossip::Relay::Never) {
                admitted += 1;
            }
        }
        self.schedule_dial_check(now);
        admitted
    }

    /// Dial this peer and keep it as a bootstrap contact. `tcp_endpoint` is
    /// used only on the tcp transport.
    pub fn add_bootstrap(
        &mut self,
        now: Timestamp,
        onion: OnionAddress,
        tcp_endpoint: Option<SocketAddr>,
    ) {
        if self.shut_down || onion == self.address() {
            return;
        }
        let tcp_endpoint = tcp_endpoint.filter(|_| self.config.tcp_transport.is_some());
        self.bootstrap.insert(
            onion,
            Bootstrap {
                tcp_endpoint,
                failures: 0,
                next_retry: now,
            },
        );
        if !self.by_peer.contains_key(&onion) && !self.dialing.contains_key(&onion) {
            self.dial(now, onion, tcp_endpoint);
        }
    }

    /// Queue application data to a participant.
    pub fn send(
        &mut self,
        now: Timestamp,
        to: &OnionAddress,
        data: Vec<u8>,
    ) -> Result<(), SendError> {
        if self.shut_down {
            return Err(SendError::ShutDown);
        }
        if self.config.role == Role::Router {
            return Err(SendError::LocalIsRouter);
        }
        if data.len() > self.config.max_message_len {
            return Err(SendError::TooLarge {
                len: data.len(),
                max: self.config.max_message_len,
            });
        }
        let Some(entry) = self.table.get(to) else {
            return Err(SendError::UnknownPeer);
        };
        if entry.record().body.role == Role::Router {
            return Err(SendError::RouterRefuses);
        }
        if let Some(&conn) = self.by_peer.get(to) {
            let frame = proto::frame::Kind::AppData(proto::AppData { data });
            return if self.send_frame(conn, frame) {
                Ok(())
            } else {
                Err(SendError::TooLarge {
                    len: self.config.max_frame_len,
                    max: self.config.max_message_len,
                })
            };
        }
        let endpoint = entry.tcp_endpoint();
        let dialable = self.config.tcp_transport.is_none() || endpoint.is_some();
        let backing_off = entry.status == PeerStatus::Offline && entry.next_retry > now;
        if !dialable || (backing_off && !self.dialing.contains_key(to)) {
            return Err(SendError::PeerOffline);
        }
        let queue = self.queues.entry(*to).or_default();
        if queue.len() >= self.config.send_queue_len {
            return Err(SendError::QueueFull);
        }
        queue.push_back(data);
        if !self.dialing.contains_key(to) {
            self.dial(now, *to, endpoint);
        }
        Ok(())
    }

    /// Say goodbye to every peer and close all connections.
    pub fn shutdown(&mut self, now: Timestamp) {
        if self.shut_down {
            return;
        }
        let _ = now;
        self.shut_down = true;
        let ids: Vec<ConnectionId> = self.conns.keys().copied().collect();
        for conn in ids {
            if self.conns.get(&conn).is_some_and(Conn::is_established) {
                self.send_frame(
                    conn,
                    proto::frame::Kind::Goodbye(proto::Goodbye {
                        reason: "shutting down".into(),
                        rotating: false,
                    }),
                );
            }
            self.outputs.push_back(Output::Close { conn });
        }
        self.conns.clear();
        self.by_peer.clear();
        self.dialing.clear();
        self.queues.clear();
        self.redial.clear();
        let connected: Vec<OnionAddress> = self
            .table
            .iter()
            .filter(|(_, e)| e.conn.is_some())
            .map(|(o, _)| *o)
            .collect();
        for onion in connected {
            if let Some(e) = self.table.get_mut(&onion) {
                e.conn = None;
            }
        }
        self.dial_check_at = None;
    }

    /// The next output, `None` when drained.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The earliest deadline at which [`Node::handle_timeout`] must be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.next_deadline()
    }

    /// Our onion address.
    pub fn address(&self) -> OnionAddress {
        self.identity.address()
    }

    /// Our current signed record.
    pub fn own_record(&self) -> &SignedRecord {
        &self.own_record
    }

    /// Our configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The peer table (read-only), for metrics and the simulator.
    pub fn table(&self) -> &PeerTable {
        &self.table
    }

    /// A snapshot of the peer table, ordered by onion address.
    pub fn peers(&self) -> Vec<PeerInfo> {
        let mut entries: Vec<(&OnionAddress, &Entry)> = self.table.iter().collect();
        entries.sort_unstable_by_key(|(o, _)| **o);
        entries.into_iter().map(|(_, e)| Self::info(e)).collect()
    }

    /// The established connection that frames to `onion` go out on, if
    /// any. A driver that bounds its per-connection write queues needs it:
    /// with connections both ways the node may switch to a newer one
    /// (PROTOCOL.md §7), and only this answer follows such a switch.
    pub fn connection_to(&self, onion: &OnionAddress) -> Option<ConnectionId> {
        self.by_peer.get(onion).copied()
    }

    /// One peer, if known.
    pub fn peer(&self, onion: &OnionAddress) -> Option<PeerInfo> {
        self.table.get(onion).map(Self::info)
    }

    fn info(e: &Entry) -> PeerInfo {
        PeerInfo {
            record: e.record().clone(),
            status: e.status,
            last_seen: e.last_seen,
            learned_from: e.provenance().source(),
            direct: e.direct(),
            failures: e.failures,
            connected: e.conn.is_some(),
        }
    }

    /// The bootstrap list served over HTTP: our own record first, then the
    /// table's entries that pass `filter` (in onion order, at most
    /// `filter.max` of them).
    pub fn peer_list(&self, now: Timestamp, filter: &PeerFilter) -> proto::PeerList {
        let mut peers = vec![proto::PeerEntry {
            record: Some(self.own_record.to_proto()),
            status: proto::PeerStatus::Online as i32,
            last_seen: now.as_secs(),
            learned_from: String::new(),
        }];
        peers.extend(
            self.table
                .iter()
                .filter(|(_, e)| gossip::matches(e, filter))
                .take(filter.max)
                .map(|(_, e)| gossip::to_entry(e)),
        );
        proto::PeerList {
            network: self.config.params.name.to_string(),
            source: self.address().to_string(),
            generated_at: now.as_secs(),
            peers,
        }
    }

    /// Counters.
    pub fn stats(&self) -> NodeStats {
        let mut stats = self.stats.clone();
        stats.connections = self.by_peer.len();
        stats.known_peers = self.table.len();
        stats.records_accepted = self.table.accepted();
        stats.records_rejected = self
            .table
            .rejected()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
        stats
    }

    /// Uniform jitter: a duration in `[base/2, 3·base/2)`.
    fn jitter(&mut self, base_ms: u64) -> u64 {
        let half = base_ms / 2;
        half + self.rng.next_u64() % base_ms.max(1)
    }

    /// A uniformly random index below `n` (`n > 0`).
    fn random_index(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % (n.max(1) as u64)) as usize
    }
}

/// Outbound connection ids start here; the driver uses the lower half.
const OUTBOUND_ID_BASE: u64 = 1 << 63;

/// Sign our record with `sequence + 1`, issued at `now`.
fn sign_own_record(
    identity: &Identity,
    config: &NodeConfig,
    sequence: u64,
    now: Timestamp,
) -> Result<SignedRecord, crate::record::RecordError> {
    crate::record::RecordBody {
        address: identity.address(),
        network: config.params.name.clone(),
        role: config.role,
        ports: config.ports.clone(),
        issued_at: now.as_secs(),
        sequence: sequence.saturating_add(1),
        pow_difficulty: config.pow_difficulty,
        pow_nonce: config.pow_nonce,
        tcp_endpoint: config.tcp_transport,
    }
    .sign(identity)
}
