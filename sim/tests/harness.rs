//! Tests of the simulator's own machinery (links, loss, churn, partitions,
//! poisoning, measurement) against a tiny reference node whose behaviour is
//! known: it speaks the wire format (Hello / HelloAck / GetPeers / Peers,
//! without the challenge–response), verifies every record with
//! `record::verify`, and keeps a table with a per-source cap. The real
//! node's scenarios are in `scenarios.rs`.

// Test code: panics are assertion failures.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use torpeer_core::codec::{FrameDecoder, encode_frame};
use torpeer_core::identity::Identity;
use torpeer_core::node::{ConnectionId, Direction, NodeConfig, NodeStats, PeerInfo, PeerStatus};
use torpeer_core::proto::frame::Kind;
use torpeer_core::{Input, OnionAddress, Output, SignedRecord, Timestamp, proto, record};
use torpeer_sim::{Adversaries, NodeTuning, Partition, SimConfig, SimNode, World};

#[derive(Debug)]
struct Conn {
    decoder: FrameDecoder,
    peer: Option<OnionAddress>,
}

#[derive(Debug)]
struct Entry {
    record: SignedRecord,
    learned_from: Option<OnionAddress>,
}

#[derive(Debug)]
struct RefNode {
    config: NodeConfig,
    own: SignedRecord,
    rng: ChaCha8Rng,
    out: VecDeque<Output>,
    conns: BTreeMap<ConnectionId, Conn>,
    dialing: BTreeMap<ConnectionId, OnionAddress>,
    table: BTreeMap<OnionAddress, Entry>,
    per_source: BTreeMap<Option<OnionAddress>, usize>,
    bootstrap: Vec<OnionAddress>,
    next_conn: u64,
    next_gossip: Timestamp,
    rejected: BTreeMap<String, u64>,
    frames_sent: u64,
    bytes_sent: u64,
}

impl RefNode {
    fn send(&mut self, conn: ConnectionId, kind: Kind) {
        if let Ok(bytes) = encode_frame(kind, self.config.max_frame_len) {
            self.frames_sent += 1;
            self.bytes_sent += bytes.len() as u64;
            self.out.push_back(Output::Transmit { conn, bytes });
        }
    }

    fn dial(&mut self, onion: OnionAddress) {
        let conn = ConnectionId(self.next_conn);
        self.next_conn += 1;
        self.dialing.insert(conn, onion);
        self.out.push_back(Output::Dial {
            conn,
            onion,
            tcp_endpoint: None,
        });
    }

    fn admit(&mut self, now: Timestamp, rec: &proto::PeerRecord, from: Option<OnionAddress>) {
        // What we already hold at this sequence needs no second check.
        if let Ok(addr) = OnionAddress::parse(&rec.onion)
            && self
                .table
                .get(&addr)
                .is_some_and(|e| e.record.body.sequence >= rec.sequence)
        {
            return;
        }
        let signed = match record::verify(rec, &self.config.params, now.as_secs()) {
            Ok(s) => s,
            Err(e) => {
                *self.rejected.entry(e.code().to_owned()).or_insert(0) += 1;
                return;
            }
        };
        let addr = signed.body.address;
        if addr == self.own.body.address {
            return;
        }
        if let Some(e) = self.table.get_mut(&addr) {
            if signed.body.sequence > e.record.body.sequence {
                e.record = signed;
            }
            return;
        }
        let used = self.per_source.entry(from).or_insert(0);
        if self.table.len() < self.config.table_capacity && *used < self.config.max_per_source {
            *used += 1;
            self.table.insert(
                addr,
                Entry {
                    record: signed,
                    learned_from: from,
                },
            );
        }
    }

    fn entries(&self, max: usize) -> Vec<proto::PeerEntry> {
        std::iter::once(&self.own)
            .chain(self.table.values().map(|e| &e.record))
            .take(max)
            .map(|r| proto::PeerEntry {
                record: Some(r.to_proto()),
                status: proto::PeerStatus::Online as i32,
                last_seen: 0,
                learned_from: String::new(),
            })
            .collect()
    }

    fn frame(&mut self, now: Timestamp, conn: ConnectionId, kind: Kind) {
        let peer = self.conns.get(&conn).and_then(|c| c.peer);
        match kind {
            Kind::Hello(h) => {
                if let Some(r) = &h.record {
                    self.admit(now, r, None);
                    if let (Ok(s), Some(c)) = (
                        record::verify(r, &self.config.params, now.as_secs()),
                        self.conns.get_mut(&conn),
                    ) {
                        c.peer = Some(s.body.address);
                    }
                }
                let ack = proto::HelloAck {
                    version: 1,
                    network: self.config.params.name.to_string(),
                    record: Some(self.own.to_proto()),
                    nonce: Vec::new(),
                    signature: Vec::new(),
                };
                self.send(conn, Kind::HelloAck(ack));
                self.get_peers(conn);
            }
            Kind::HelloAck(a) => {
                if let Some(r) = &a.record {
                    self.admit(now, r, None);
                }
                self.get_peers(conn);
            }
            Kind::GetPeers(g) => {
                let max = if g.max == 0 { 1_000 } else { g.max as usize };
                let peers = self.entries(max.min(1_000));
                self.send(
                    conn,
                    Kind::Peers(proto::Peers {
                        request_id: g.request_id,
                        peers,
                        filtered: false,
                        cursor: None,
                    }),
                );
            }
            Kind::Peers(p) => {
                for e in &p.peers {
                    if let Some(r) = &e.record {
                        self.admit(now, r, peer);
                    }
                }
            }
            _ => {}
        }
    }

    fn get_peers(&mut self, conn: ConnectionId) {
        let request_id = self.rng.next_u64();
        self.send(
            conn,
            Kind::GetPeers(proto::GetPeers {
                request_id,
                max: 1_000,
                ..Default::default()
            }),
        );
    }
}

impl SimNode for RefNode {
    fn create(
        identity: Identity,
        config: NodeConfig,
        seed: [u8; 32],
        now: Timestamp,
    ) -> Option<Self> {
        let own = record::RecordBody {
            address: identity.address(),
            network: config.params.name.clone(),
            role: config.role,
            ports: Vec::new(),
            issued_at: now.as_secs(),
            sequence: config.initial_sequence + 1,
            pow_difficulty: config.pow_difficulty,
            pow_nonce: config.pow_nonce,
            tcp_endpoint: None,
        }
        .sign(&identity)
        .ok()?;
        let next_gossip = now.plus_millis(config.gossip_interval_ms);
        Some(Self {
            config,
            own,
            rng: ChaCha8Rng::from_seed(seed),
            out: VecDeque::new(),
            conns: BTreeMap::new(),
            dialing: BTreeMap::new(),
            table: BTreeMap::new(),
            per_source: BTreeMap::new(),
            bootstrap: Vec::new(),
            next_conn: 1 << 63,
            next_gossip,
            rejected: BTreeMap::new(),
            frames_sent: 0,
            bytes_sent: 0,
        })
    }

    fn handle_input(&mut self, now: Timestamp, input: Input<'_>) {
        match input {
            Input::ConnectionOpened { conn, direction } => {
                let peer = self.dialing.remove(&conn);
                self.conns.insert(
                    conn,
                    Conn {
                        decoder: FrameDecoder::new(self.config.max_frame_len),
                        peer,
                    },
                );
                if direction == Direction::Outbound {
                    let hello = proto::Hello {
                        version: 1,
                        network: self.config.params.name.to_string(),
                        record: Some(self.own.to_proto()),
                        nonce: Vec::new(),
                        target: peer.map(|p| p.to_string()).unwrap_or_default(),
                    };
                    self.send(conn, Kind::Hello(hello));
                }
            }
            Input::DialFailed { conn, .. } => {
                self.dialing.remove(&conn);
            }
            Input::Received { conn, bytes } => {
                let mut frames = Vec::new();
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.decoder.push(bytes);
                    while let Ok(Some(kind)) = c.decoder.next_frame() {
                        frames.push(kind);
                    }
                }
                for kind in frames {
                    self.frame(now, conn, kind);
                }
            }
            Input::ConnectionClosed { conn } => {
                self.conns.remove(&conn);
            }
        }
    }

    fn handle_timeout(&mut self, now: Timestamp) {
        if now < self.next_gossip {
            return;
        }
        self.next_gossip = now.plus_millis(self.config.gossip_interval_ms);
        let open: Vec<ConnectionId> = self.conns.keys().copied().collect();
        if !open.is_empty() {
            let pick = open[(self.rng.next_u64() % open.len() as u64) as usize];
            self.get_peers(pick);
        }
        // Rotate connections: one new dial per tick, and drop a random
        // stream beyond twice the target, so the overlay keeps mixing.
        if self.conns.len() > 2 * self.config.target_outbound {
            let pick = open[(self.rng.next_u64() % open.len() as u64) as usize];
            self.out.push_back(Output::Close { conn: pick });
        }
        if self.dialing.is_empty() {
            // Bootstrap contacts stay candidates forever, so that a node
            // cut off by a partition finds its way back when it heals.
            let candidates: Vec<OnionAddress> = self
                .bootstrap
                .iter()
                .chain(self.table.keys())
                .copied()
                .collect();
            if !candidates.is_empty() {
                let pick = candidates[(self.rng.next_u64() % candidates.len() as u64) as usize];
                self.dial(pick);
            }
        }
    }

    fn handle_peer_list(
        &mut self,
        now: Timestamp,
        list: &proto::PeerList,
        source: Option<OnionAddress>,
    ) -> usize {
        let before = self.table.len();
        for e in &list.peers {
            if let Some(r) = &e.record {
                self.admit(now, r, source);
            }
        }
        self.table.len() - before
    }

    fn add_bootstrap(&mut self, _now: Timestamp, onion: OnionAddress, _tcp: Option<SocketAddr>) {
        if !self.bootstrap.contains(&onion) {
            self.bootstrap.push(onion);
        }
        self.dial(onion);
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Timestamp> {
        Some(self.next_gossip)
    }

    fn own_record(&self) -> &SignedRecord {
        &self.own
    }

    fn peers(&self) -> Vec<PeerInfo> {
        self.table
            .values()
            .map(|e| PeerInfo {
                record: e.record.clone(),
                status: PeerStatus::Unknown,
                last_seen: None,
                learned_from: e.learned_from,
                direct: e.learned_from.is_none(),
                failures: 0,
                connected: false,
            })
            .collect()
    }

    fn stats(&self) -> NodeStats {
        NodeStats {
            connections: self.conns.len(),
            known_peers: self.table.len(),
            frames_sent: self.frames_sent,
            frames_received: 0,
            bytes_sent: self.bytes_sent,
            bytes_received: 0,
            records_rejected: self.rejected.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            ..NodeStats::default()
        }
    }
}

fn run(c: SimConfig) -> torpeer_sim::Report {
    World::<RefNode>::new(c).expect("valid configuration").run()
}

fn config(nodes: usize, seed: u64, duration_s: u64) -> SimConfig {
    let mut c = SimConfig::new(nodes, seed);
    c.duration_s = duration_s;
    c
}

#[test]
fn reference_network_converges_and_is_deterministic() {
    let r = run(config(50, 1, 600));
    assert!(r.converged_at_s.is_some(), "{r}");
    assert!(r.messages_per_node > 0.0 && r.bytes_per_node > 0.0, "{r}");
    assert_eq!(r.peak_table_size, 49, "{r}");
    assert_eq!(r.to_json(), run(config(50, 1, 600)).to_json());
    let mut other = run(config(50, 2, 600));
    other.seed = 1;
    assert_ne!(r.to_json(), other.to_json());
}

#[test]
fn loss_and_churn_break_streams_and_fail_dials() {
    let mut c = config(60, 3, 1_800);
    c.loss = 0.2;
    c.churn = 3.0;
    let r = run(c);
    assert!(r.churn_events > 0, "{r}");
    assert!(r.dial_failures > 0, "{r}");
    assert!(r.streams_broken > 0, "{r}");
    assert!(r.converged_at_s.is_some(), "{r}");
}

#[test]
fn no_convergence_across_a_partition_until_it_heals() {
    let mut c = config(40, 4, 1_200);
    c.partitions = vec![Partition {
        start_s: 0,
        end_s: 400,
        split: 20,
    }];
    let r = run(c);
    assert!(r.converged_at_s.is_some(), "never converged:\n{r}");
    let t = r.converged_at_s.unwrap_or(0.0);
    assert!(t > 400.0, "converged at {t}, during the partition:\n{r}");
    // A partition that never heals: never converges.
    let mut c = config(40, 4, 600);
    c.partitions = vec![Partition {
        start_s: 0,
        end_s: 10_000,
        split: 20,
    }];
    let r = run(c);
    assert_eq!(r.converged_at_s, None, "{r}");
    assert!(!r.converged_at_end);
}

#[test]
fn poison_reaches_nodes_and_is_counted_by_reason() {
    let mut c = config(30, 5, 600);
    c.node = NodeTuning {
        max_per_source: Some(25),
        ..NodeTuning::default()
    };
    c.adversaries = Adversaries {
        bad_signature: 20,
        bad_pow: 20,
        replays: 5,
        sybils: 100,
        weak_sybils: 20,
        fill_victim: 200,
    };
    let r = run(c);
    for reason in ["bad_signature", "bad_pow", "expired"] {
        assert!(
            r.rejected.get(reason).copied().unwrap_or(0) > 0,
            "{reason}: {r}"
        );
    }
    assert_eq!(r.invalid_admitted, 0, "{r}");
    assert!(
        r.max_sybils_per_source > 0 && r.max_sybils_per_source <= 25,
        "{r}"
    );
    assert!(r.victim_honest_known.is_some());
}

#[test]
fn bad_configurations_are_refused_with_codes() {
    let mut c = config(1, 1, 10);
    assert_eq!(
        World::<RefNode>::new(c.clone()).unwrap_err().code(),
        "too_few_nodes"
    );
    c.nodes = 10;
    c.loss = 1.0;
    assert_eq!(
        World::<RefNode>::new(c.clone()).unwrap_err().code(),
        "bad_loss"
    );
    c.loss = 0.0;
    c.partitions = vec![Partition {
        start_s: 5,
        end_s: 5,
        split: 3,
    }];
    assert_eq!(
        World::<RefNode>::new(c).unwrap_err().code(),
        "bad_partition"
    );
}
