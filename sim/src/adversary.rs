//! The adversary's ammunition and the one place it lies.
//!
//! All attacks come from a malicious node that runs the real [`Node`] code
//! with its own valid identity, so it completes handshakes and is gossiped
//! about like anyone else. The simulator then rewrites what it sends:
//! [`Rewriter`] appends poisoned entries to every `Peers` answer on its
//! streams, and the bootstrap peer lists it serves over "HTTP" carry the same
//! poison. Everything here is built from the run's seed.
//!
//! [`Node`]: torpeer_core::Node

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;
use torpeer_core::identity::Identity;
use torpeer_core::record::{RecordBody, Role};
use torpeer_core::{NetworkParams, OnionAddress, pow, proto};

use crate::config::Adversaries;

/// Sequence number of replayed "old" records. Honest nodes start at
/// [`HONEST_INITIAL_SEQUENCE`] + 1, so an entry holding this sequence can
/// only come from a replay.
pub const REPLAY_SEQUENCE: u64 = 1;
/// `initial_sequence` of every honest node.
pub const HONEST_INITIAL_SEQUENCE: u64 = 100;
/// Most poisoned entries the malicious node adds to one `Peers` answer.
pub const POISON_PER_ANSWER: usize = 250;
/// The protocol's cap on entries in one answer (PROTOCOL.md, addrman's
/// 1,000); the malicious node stays within it so that its answers are not
/// refused wholesale for size.
pub const MAX_ANSWER_ENTRIES: usize = 1_000;

/// Poisoned records and the identities they name.
#[derive(Debug, Default)]
pub struct Poison {
    /// Every invalid entry (bad signature, bad PoW, weak PoW, replays),
    /// cycled through in order.
    invalid: Vec<proto::PeerEntry>,
    /// Valid Sybil entries at the network minimum difficulty.
    sybil: Vec<proto::PeerEntry>,
    /// Extra valid Sybils for the table-fill attack.
    fill: Vec<proto::PeerEntry>,
    next_invalid: usize,
    next_sybil: usize,
    /// Addresses that never had a valid record: admitting any is a bug.
    pub forged: BTreeSet<OnionAddress>,
    /// Addresses of valid Sybils (both pools).
    pub sybils: BTreeSet<OnionAddress>,
}

/// Why the poison could not be made (only a degenerate seed can cause it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoisonError {
    /// A record could not be signed.
    #[error("could not build an adversary record: {0}")]
    Record(#[from] torpeer_core::RecordError),
    /// A PoW difficulty was out of range.
    #[error("could not solve an adversary PoW: {0}")]
    Pow(#[from] pow::PowError),
}

fn entry(record: proto::PeerRecord) -> proto::PeerEntry {
    proto::PeerEntry {
        record: Some(record),
        status: proto::PeerStatus::Online as i32,
        last_seen: 0,
        learned_from: String::new(),
    }
}

fn fresh_identity(rng: &mut ChaCha8Rng) -> Option<Identity> {
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    Identity::from_seed(&seed).ok()
}

fn body(params: &NetworkParams, id: &Identity, issued_at: u64, seq: u64) -> RecordBody {
    RecordBody {
        address: id.address(),
        network: params.name.clone(),
        role: Role::Participant,
        ports: Vec::new(),
        issued_at,
        sequence: seq,
        pow_difficulty: params.min_difficulty,
        pow_nonce: 0,
        tcp_endpoint: None,
    }
}

/// A correctly signed record with a PoW solved at `difficulty`.
fn solved(
    params: &NetworkParams,
    id: &Identity,
    difficulty: u8,
    issued_at: u64,
) -> Result<proto::PeerRecord, PoisonError> {
    let (nonce, _) = pow::solve(&params.name.id(), &id.address(), difficulty)?;
    let mut b = body(params, id, issued_at, HONEST_INITIAL_SEQUENCE + 1);
    b.pow_difficulty = difficulty;
    b.pow_nonce = nonce;
    Ok(b.sign(id)?.to_proto())
}

/// An honest identity the replay attack may re-sign old records for (the
/// simulator knows every key; a real attacker would have recorded them).
#[derive(Debug)]
pub struct ReplayTarget<'a> {
    /// The identity.
    pub identity: &'a Identity,
    /// Its solved nonce at the network difficulty.
    pub pow_nonce: u64,
}

impl Poison {
    /// Build the pools. `now_secs` is the start of the run.
    pub fn build(
        adv: &Adversaries,
        params: &NetworkParams,
        rng: &mut ChaCha8Rng,
        replay_targets: &[ReplayTarget<'_>],
        now_secs: u64,
    ) -> Result<Self, PoisonError> {
        let mut p = Self::default();
        let net = params.name.id();
        for _ in 0..adv.bad_signature {
            let Some(id) = fresh_identity(rng) else {
                continue;
            };
            let mut record = solved(params, &id, params.min_difficulty, now_secs)?;
            if let Some(byte) = record.signature.get_mut(7) {
                *byte ^= 0x5a;
            }
            p.forged.insert(id.address());
            p.invalid.push(entry(record));
        }
        for _ in 0..adv.bad_pow {
            let Some(id) = fresh_identity(rng) else {
                continue;
            };
            // The first nonce (from a random start) that does NOT meet the
            // claimed difficulty: a correctly signed record with fake work.
            let mut nonce = rng.next_u64();
            while pow::verify(&net, &id.address(), nonce, params.min_difficulty).is_ok() {
                nonce = nonce.wrapping_add(1);
            }
            let mut b = body(params, &id, now_secs, HONEST_INITIAL_SEQUENCE + 1);
            b.pow_nonce = nonce;
            p.forged.insert(id.address());
            p.invalid.push(entry(b.sign(&id)?.to_proto()));
        }
        for _ in 0..adv.weak_sybils {
            let Some(id) = fresh_identity(rng) else {
                continue;
            };
            let weak = params.min_difficulty / 2;
            p.forged.insert(id.address());
            p.invalid.push(entry(solved(params, &id, weak, now_secs)?));
        }
        for target in replay_targets.iter().take(adv.replays) {
            // Expired: issued one hour before the TTL ran out.
            let old = now_secs
                .saturating_sub(params.record_ttl_secs)
                .saturating_sub(3_600);
            let mut b = body(params, target.identity, old, REPLAY_SEQUENCE);
            b.pow_nonce = target.pow_nonce;
            p.invalid.push(entry(b.sign(target.identity)?.to_proto()));
            // Superseded: fresh time, lower sequence than the live record.
            let mut b = body(params, target.identity, now_secs, REPLAY_SEQUENCE);
            b.pow_nonce = target.pow_nonce;
            p.invalid.push(entry(b.sign(target.identity)?.to_proto()));
        }
        for _ in 0..adv.sybils {
            let Some(id) = fresh_identity(rng) else {
                continue;
            };
            p.sybils.insert(id.address());
            p.sybil
                .push(entry(solved(params, &id, params.min_difficulty, now_secs)?));
        }
        for _ in 0..adv.fill_victim {
            let Some(id) = fresh_identity(rng) else {
                continue;
            };
            p.sybils.insert(id.address());
            p.fill
                .push(entry(solved(params, &id, params.min_difficulty, now_secs)?));
        }
        Ok(p)
    }

    /// Whether there is anything to inject.
    pub fn is_empty(&self) -> bool {
        self.invalid.is_empty() && self.sybil.is_empty() && self.fill.is_empty()
    }

    /// Up to `n` poisoned entries: half invalid, half valid Sybils (when
    /// both exist), cycling through each pool so every record is used.
    pub fn batch(&mut self, n: usize) -> Vec<proto::PeerEntry> {
        let mut out = Vec::with_capacity(n);
        let mut pools_left = true;
        while out.len() < n && pools_left {
            pools_left = false;
            if !self.invalid.is_empty() {
                let i = self.next_invalid % self.invalid.len();
                out.push(self.invalid[i].clone());
                self.next_invalid = self.next_invalid.wrapping_add(1);
                pools_left = true;
            }
            if out.len() < n && !self.sybil.is_empty() {
                let i = self.next_sybil % self.sybil.len();
                out.push(self.sybil[i].clone());
                self.next_sybil = self.next_sybil.wrapping_add(1);
                pools_left = true;
            }
        }
        out
    }

    /// The whole table-fill pool (pushed at the victim at once).
    pub fn fill(&self) -> &[proto::PeerEntry] {
        &self.fill
    }
}

/// Splits a byte stream into whole length-delimited frames (prefix
/// included), keeping a partial tail for the next call.
#[derive(Debug, Default)]
struct Splitter {
    buf: Vec<u8>,
}

impl Splitter {
    fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.buf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        while let Some((len, prefix)) = read_varint(&self.buf) {
            let Some(total) = usize::try_from(len)
                .ok()
                .and_then(|l| l.checked_add(prefix))
            else {
                // Absurd length: pass the rest through untouched.
                frames.push(std::mem::take(&mut self.buf));
                break;
            };
            if self.buf.len() < total {
                break;
            }
            let rest = self.buf.split_off(total);
            frames.push(std::mem::replace(&mut self.buf, rest));
        }
        frames
    }
}

/// A protobuf varint at the front of `bytes`: value and length, `None` if
/// incomplete or over-long.
fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The `Frame.kind` field names (PROTOCOL.md §7), by field number − 1.
const FRAME_KINDS: [&str; 12] = [
    "hello",
    "hello_ack",
    "hello_finish",
    "get_peers",
    "peers",
    "subscribe",
    "peer_event",
    "ping",
    "pong",
    "goodbye",
    "app_data",
    "error",
];

/// The kind of a frame from its first tag alone (a `Frame` is one oneof
/// field), without decoding the body: "unknown" for anything else.
fn frame_kind(body: &[u8]) -> &'static str {
    read_varint(body)
        .and_then(|(tag, _)| usize::try_from(tag >> 3).ok())
        .and_then(|field| FRAME_KINDS.get(field.wrapping_sub(1)))
        .copied()
        .unwrap_or("unknown")
}

/// Number of whole frames in a transmit (the node writes whole frames),
/// each also counted by kind in `by_kind`.
pub fn count_frames(mut bytes: &[u8], by_kind: &mut BTreeMap<&'static str, u64>) -> u64 {
    let mut n = 0;
    while let Some((len, prefix)) = read_varint(bytes) {
        let Some(total) = usize::try_from(len)
            .ok()
            .and_then(|l| l.checked_add(prefix))
        else {
            break;
        };
        n += 1;
        let kind = bytes.get(prefix..total).map_or("unknown", frame_kind);
        *by_kind.entry(kind).or_insert(0) += 1;
        match bytes.get(total..) {
            Some(rest) => bytes = rest,
            None => break,
        }
    }
    n
}

/// The malicious node's side of one stream: watches the get-peers requests
/// it receives (to respect their `max`) and poisons the answers it sends.
#[derive(Debug, Default)]
pub struct Rewriter {
    inbound: Splitter,
    outbound: Splitter,
    /// request id → most entries the requester asked for.
    asked: BTreeMap<u64, usize>,
}

impl Rewriter {
    /// Bytes arriving at the malicious node: note get-peers limits.
    pub fn observe_inbound(&mut self, bytes: &[u8]) {
        for frame in self.inbound.push(bytes) {
            if let Some(proto::frame::Kind::GetPeers(req)) = decode(&frame) {
                let max = match usize::try_from(req.max) {
                    Ok(0) | Err(_) => MAX_ANSWER_ENTRIES,
                    Ok(m) => m.min(MAX_ANSWER_ENTRIES),
                };
                self.asked.insert(req.request_id, max);
                // Forget very old requests so the map stays small.
                while self.asked.len() > 64 {
                    self.asked.pop_first();
                }
            }
        }
    }

    /// Bytes the malicious node sends: every `Peers` answer gets poisoned
    /// entries appended up to the requester's limit; other frames pass
    /// through byte for byte.
    pub fn rewrite_outbound(&mut self, bytes: &[u8], poison: &mut Poison) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for frame in self.outbound.push(bytes) {
            match decode(&frame) {
                Some(proto::frame::Kind::Peers(mut peers)) => {
                    let cap = self
                        .asked
                        .remove(&peers.request_id)
                        .unwrap_or(MAX_ANSWER_ENTRIES);
                    let room = cap.saturating_sub(peers.peers.len()).min(POISON_PER_ANSWER);
                    peers.peers.extend(poison.batch(room));
                    let frame = proto::Frame {
                        kind: Some(proto::frame::Kind::Peers(peers)),
                    };
                    out.extend_from_slice(&frame.encode_length_delimited_to_vec());
                }
                _ => out.extend_from_slice(&frame),
            }
        }
        out
    }
}

fn decode(frame: &[u8]) -> Option<proto::frame::Kind> {
    proto::Frame::decode_length_delimited(frame).ok()?.kind
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use torpeer_core::record;

    fn params() -> NetworkParams {
        NetworkParams::default().with_min_difficulty(6)
    }

    #[test]
    fn poison_is_invalid_and_sybils_are_valid() {
        let params = params();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let adv = Adversaries {
            bad_signature: 3,
            bad_pow: 3,
            weak_sybils: 3,
            sybils: 3,
            ..Adversaries::default()
        };
        let now = 1_800_000_000;
        let mut p = Poison::build(&adv, &params, &mut rng, &[], now).unwrap();
        let mut codes = BTreeMap::new();
        for e in &p.invalid {
            let err = record::verify(e.record.as_ref().unwrap(), &params, now).unwrap_err();
            *codes.entry(err.code()).or_insert(0) += 1;
        }
        assert_eq!(codes.get("bad_signature"), Some(&3));
        assert_eq!(codes.get("bad_pow"), Some(&6));
        for e in &p.sybil {
            record::verify(e.record.as_ref().unwrap(), &params, now).unwrap();
        }
        assert_eq!(p.forged.len(), 9);
        assert_eq!(p.sybils.len(), 3);
        // Batches alternate pools and cycle.
        let b = p.batch(20);
        assert_eq!(b.len(), 20);
    }

    #[test]
    fn replays_are_expired_or_old_sequence() {
        let params = params();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let id = Identity::from_seed(&[3; 32]).unwrap();
        let (nonce, _) = pow::solve(&params.name.id(), &id.address(), 6).unwrap();
        let adv = Adversaries {
            replays: 1,
            ..Adversaries::default()
        };
        let now = 1_800_000_000;
        let targets = [ReplayTarget {
            identity: &id,
            pow_nonce: nonce,
        }];
        let p = Poison::build(&adv, &params, &mut rng, &targets, now).unwrap();
        assert_eq!(p.invalid.len(), 2);
        let expired = record::verify(p.invalid[0].record.as_ref().unwrap(), &params, now);
        assert_eq!(expired.unwrap_err().code(), "expired");
        let stale = record::verify(p.invalid[1].record.as_ref().unwrap(), &params, now).unwrap();
        assert_eq!(stale.body.sequence, REPLAY_SEQUENCE);
    }

    #[test]
    fn rewriter_poisons_only_peers_answers_within_the_asked_max() {
        let params = params();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let adv = Adversaries {
            bad_signature: 2,
            ..Adversaries::default()
        };
        let mut p = Poison::build(&adv, &params, &mut rng, &[], 1_800_000_000).unwrap();
        let mut rw = Rewriter::default();
        let ask = proto::Frame {
            kind: Some(proto::frame::Kind::GetPeers(proto::GetPeers {
                request_id: 9,
                max: 5,
                ..Default::default()
            })),
        }
        .encode_length_delimited_to_vec();
        // Split delivery must not matter.
        rw.observe_inbound(&ask[..3]);
        rw.observe_inbound(&ask[3..]);
        let ping = proto::Frame {
            kind: Some(proto::frame::Kind::Ping(proto::Ping { nonce: 4 })),
        }
        .encode_length_delimited_to_vec();
        let answer = proto::Frame {
            kind: Some(proto::frame::Kind::Peers(proto::Peers {
                request_id: 9,
                peers: vec![proto::PeerEntry::default(); 2],
                filtered: false,
                cursor: None,
            })),
        }
        .encode_length_delimited_to_vec();
        let mut both = ping.clone();
        both.extend_from_slice(&answer);
        let out = rw.rewrite_outbound(&both, &mut p);
        assert_eq!(&out[..ping.len()], &ping[..]);
        let mut kinds = BTreeMap::new();
        assert_eq!(count_frames(&out, &mut kinds), 2);
        assert_eq!(kinds, BTreeMap::from([("peers", 1), ("ping", 1)]));
        let Some(proto::frame::Kind::Peers(peers)) = decode(&out[ping.len()..]) else {
            panic!("not a peers frame");
        };
        assert_eq!(peers.peers.len(), 5);
    }

    #[test]
    fn every_frame_kind_is_named_by_its_tag() {
        use proto::frame::Kind as K;
        let kinds = [
            (K::Hello(proto::Hello::default()), "hello"),
            (K::HelloAck(proto::HelloAck::default()), "hello_ack"),
            (
                K::HelloFinish(proto::HelloFinish::default()),
                "hello_finish",
            ),
            (K::GetPeers(proto::GetPeers::default()), "get_peers"),
            (K::Peers(proto::Peers::default()), "peers"),
            (K::Subscribe(proto::Subscribe::default()), "subscribe"),
            (K::PeerEvent(proto::PeerEvent::default()), "peer_event"),
            (K::Ping(proto::Ping::default()), "ping"),
            (K::Pong(proto::Pong::default()), "pong"),
            (K::Goodbye(proto::Goodbye::default()), "goodbye"),
            (K::AppData(proto::AppData::default()), "app_data"),
            (K::Error(proto::Error::default()), "error"),
        ];
        let mut all = Vec::new();
        for (kind, _) in &kinds {
            all.extend(
                proto::Frame {
                    kind: Some(kind.clone()),
                }
                .encode_length_delimited_to_vec(),
            );
        }
        // A frame of a kind this build does not know (field 99).
        all.extend([3, 0x98, 0x06, 0]);
        let mut counted = BTreeMap::new();
        assert_eq!(count_frames(&all, &mut counted), 13);
        let mut want: BTreeMap<&str, u64> = kinds.iter().map(|(_, n)| (*n, 1)).collect();
        want.insert("unknown", 1);
        assert_eq!(counted, want);
    }
}
