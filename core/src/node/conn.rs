//! Per-connection state: framing, handshake progress, liveness timers and
//! subscription flags of one stream.

use crate::codec::FrameDecoder;
use crate::onion::OnionAddress;
use crate::record::Role;
use crate::table::{TokenBucket, Verified};

use super::{Direction, Timestamp};

/// Get-peers requests answered on one stream in a burst (PROTOCOL.md §7).
pub(crate) const GET_PEERS_BURST: u64 = 8;
/// One more answered get-peers every this many milliseconds.
pub(crate) const GET_PEERS_REFILL_MS: u64 = 5_000;

/// Length of handshake nonces.
pub(crate) const NONCE_LEN: usize = 32;

/// Where a connection is in its life (PROTOCOL.md §6).
#[derive(Debug, Clone)]
pub(crate) enum ConnState {
    /// We asked the driver to dial; no stream yet.
    Dialing,
    /// Listener: stream open, waiting for the dialler's `Hello`.
    AwaitHello,
    /// Dialler: `Hello` sent, waiting for `HelloAck`.
    AwaitAck {
        /// Our nonce, sent in `Hello`.
        nonce: [u8; NONCE_LEN],
    },
    /// Listener: `HelloAck` sent, waiting for `HelloFinish`.
    AwaitFinish {
        /// The dialler's record (verified, not yet proven live).
        record: Box<Verified>,
        /// The dialler's nonce.
        dialler_nonce: [u8; NONCE_LEN],
        /// Our nonce, sent in `HelloAck`.
        nonce: [u8; NONCE_LEN],
    },
    /// Authenticated both ways.
    Established,
}

/// One stream.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) direction: Direction,
    pub(crate) state: ConnState,
    pub(crate) decoder: FrameDecoder,
    /// Outbound: the onion we dialled.
    pub(crate) target: Option<OnionAddress>,
    /// The authenticated peer (set when established).
    pub(crate) peer: Option<OnionAddress>,
    /// The peer's role (set when established).
    pub(crate) peer_role: Option<Role>,
    /// Dial + handshake must be over by then.
    pub(crate) handshake_deadline: Timestamp,
    /// Last frame received (or the open time).
    pub(crate) last_recv: Timestamp,
    /// Last ping we sent.
    pub(crate) last_ping: Timestamp,
    /// The peer asked us to push peer events.
    pub(crate) subscribed: bool,
    /// Rate limit on pushes to this peer.
    pub(crate) push_tokens: TokenBucket,
    /// Get-peers requests we sent and await an answer to.
    pub(crate) pending_requests: Vec<u64>,
    /// Whether the peer said goodbye (a graceful close: no redial).
    pub(crate) said_goodbye: bool,
    /// Closed by us for a protocol violation: back off instead of redialling.
    pub(crate) broken: bool,
    /// Closed to rotate an outbound slot (by us, or the peer said so in its
    /// `Goodbye`): the peer stays online, nobody redials.
    pub(crate) rotated_out: bool,
    /// The peer answered a filtered get-peers with a delta (`Peers.filtered`),
    /// so periodic requests to it may ask for many records.
    pub(crate) answers_deltas: bool,
    /// Rate limit on the get-peers requests we answer on this stream.
    pub(crate) get_peers_tokens: TokenBucket,
    /// Catch-up requests we may still send on this stream before our next
    /// periodic round picks it (PROTOCOL.md §8.4 "Catching up").
    pub(crate) follow_ups: u8,
}

impl Conn {
    pub(crate) fn new(
        direction: Direction,
        state: ConnState,
        target: Option<OnionAddress>,
        now: Timestamp,
        handshake_timeout_ms: u64,
        max_frame_len: usize,
        push_burst: u64,
    ) -> Self {
        Self {
            direction,
            state,
            decoder: FrameDecoder::new(max_frame_len),
            target,
            peer: None,
            peer_role: None,
            handshake_deadline: now.plus_millis(handshake_timeout_ms),
            last_recv: now,
            last_ping: now,
            subscribed: false,
            push_tokens: TokenBucket::full(push_burst, now),
            pending_requests: Vec::new(),
            said_goodbye: false,
            broken: false,
            rotated_out: false,
            answers_deltas: false,
            get_peers_tokens: TokenBucket::full(GET_PEERS_BURST, now),
            follow_ups: super::gossip::FOLLOW_UPS,
        }
    }

    pub(crate) fn is_established(&self) -> bool {
        matches!(self.state, ConnState::Established)
    }

    /// The next time this connection needs attention.
    pub(crate) fn deadline(&self, ping_interval_ms: u64, idle_timeout_ms: u64) -> Timestamp {
        if self.is_established() {
            let ping = self
                .last_recv
                .max(self.last_ping)
                .plus_millis(ping_interval_ms);
            let idle = self.last_recv.plus_millis(idle_timeout_ms);
            ping.min(idle)
        } else {
            self.handshake_deadline
        }
    }
}
