//! The simulated network: nodes, streams between them, and the event loop.
//!
//! # The loop
//!
//! Everything that will happen is an event in one queue ordered by
//! `(virtual ms, scheduling order)`: a dial completing, bytes arriving, a
//! stream closing, a node going offline, a partition starting, a
//! measurement. Node deadlines ([`Node::poll_timeout`]) are events too: after
//! every interaction with a node the world reads its deadline and, if it
//! changed, schedules a timer event (older timer events for that node are
//! then recognised as stale and skipped). Popping the earliest event
//! therefore always advances whichever component — a link or a node — has
//! the earliest deadline, as in str0m's `progress()`.
//!
//! Nodes are never called from inside another node's output handling:
//! outputs only schedule events, so there is no re-entrancy and the order of
//! calls is fixed by the queue alone. No `HashMap` is iterated (one is used
//! for address lookups only), and all randomness comes from two ChaCha8
//! streams seeded from the run's seed: same seed, same run.
//!
//! # Link model (Tor streams)
//!
//! A dial takes three one-way latencies (rendezvous circuit) and fails with
//! probability `loss` (circuit failure), or after 10 s when the target is
//! offline, unknown or across a partition. A stream's latency is drawn once;
//! each segment adds up to 25 % jitter and is delivered in order (a segment
//! never overtakes an earlier one: head-of-line blocking). Tor streams are
//! reliable, so a lost segment is *retransmitted*: each loss adds a
//! retransmission timeout (max(1 s, 2·latency), doubling), and after four
//! losses in a row the stream breaks (both ends see it close).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use torpeer_core::identity::Identity;
use torpeer_core::node::{ConnectionId, Direction, Event, NodeConfig};
use torpeer_core::table::VerifyCache;
use torpeer_core::{
    Input, NetworkParams, Node, OnionAddress, Output, Role, SignedRecord, Timestamp, pow, proto,
};

use crate::driven::SimNode;

use crate::adversary::{self, HONEST_INITIAL_SEQUENCE, Poison, REPLAY_SEQUENCE, Rewriter};
use crate::config::{ConfigError, LatencyDist, SIM_EPOCH_MS, SimConfig};
use crate::queue::EventQueue;
use crate::report::Report;

/// Why a run could not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// The configuration is refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An identity, PoW or node could not be set up.
    #[error("setup failed: {0}")]
    Setup(String),
}

impl SimError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config(e) => e.code(),
            Self::Setup(_) => "setup_failed",
        }
    }
}

/// A dial that cannot reach its target fails after this long (Tor gives up
/// on a missing descriptor or dead introduction points after seconds).
const UNREACHABLE_DIAL_MS: u64 = 10_000;
/// Consecutive losses of one segment after which the stream breaks.
const LOSSES_TO_BREAK: u32 = 4;
/// Records held this long past their TTL count as admitted while expired.
const EXPIRY_GRACE_SECS: u64 = 600;
/// Fraction of honest nodes that must be known (and knowing) to converge.
const CONVERGENCE_FRACTION: f64 = 0.99;
/// Share of honest nodes given the malicious node as an extra bootstrap.
const MALICIOUS_BOOTSTRAP_SHARE: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Honest,
    Malicious,
}

#[derive(Debug)]
struct Slot<N> {
    kind: Kind,
    identity_seed: [u8; 32],
    address: OnionAddress,
    pow_nonce: u64,
    node: Option<N>,
    online: bool,
    /// From when the node counts as an observer in the convergence check:
    /// at once for the network's own start, after the settle time for a
    /// node coming back.
    settled_at: u64,
    /// Bumped whenever the node goes offline, so events meant for an earlier
    /// life are dropped.
    generation: u32,
    /// The timer event currently scheduled (virtual ms), if any.
    timer_at: Option<u64>,
    conns: BTreeMap<ConnectionId, usize>,
    next_inbound: u64,
    bootstrap: Vec<usize>,
    /// Streams (and whether they were still dialling) that died while a
    /// node that kept its state was offline; told to it when it returns.
    lost: Vec<(ConnectionId, bool)>,
    /// Counters of earlier lives of this slot (a node restarted empty).
    carried: Carried,
}

#[derive(Debug, Default, Clone)]
struct Carried {
    rejected: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkState {
    Dialing,
    Open,
    /// One side closed: data already written still arrives.
    Closing,
    /// Broken by loss, churn or a partition: data in flight is lost.
    Broken,
}

#[derive(Debug, Clone, Copy)]
struct Side {
    node: usize,
    conn: ConnectionId,
    generation: u32,
    /// The node was told the stream closed (or never heard of it).
    closed: bool,
}

#[derive(Debug)]
struct Link {
    sides: [Side; 2],
    state: LinkState,
    latency_ms: u64,
    /// Per direction (index = receiving side): time of the last delivery.
    last_at: [u64; 2],
}

/// Whether a node starts for the first time or returns from churn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    First,
    Return,
}

#[derive(Debug)]
enum Ev {
    Start {
        node: usize,
    },
    Timer {
        node: usize,
        generation: u32,
    },
    DialDone {
        link: usize,
    },
    Deliver {
        link: usize,
        to: usize,
        bytes: Vec<u8>,
    },
    Closed {
        link: usize,
        to: usize,
    },
    GoOffline {
        node: usize,
    },
    GoOnline {
        node: usize,
    },
    PartitionStart {
        index: usize,
    },
    Attack,
    Sample,
}

#[derive(Debug, Default)]
struct Counters {
    frames: u64,
    frames_by_kind: BTreeMap<&'static str, u64>,
    bytes: u64,
    dials: u64,
    dial_failures: u64,
    streams_broken: u64,
    churn_events: u64,
    events: u64,
    handshake_failures: BTreeMap<String, u64>,
    peak_table: usize,
    /// (node, address) pairs of invalid records seen admitted.
    invalid: BTreeSet<(usize, OnionAddress)>,
}

/// The verification memo shared by every node of a run
/// ([`torpeer_core::table::VerifyCache`]): proof-of-work and signature checks
/// are pure functions of the record, so each valid record is verified once
/// per run instead of once per node. It also interns the records: every
/// node's table holds the same few thousand records, so they hold `Arc`s
/// to one copy each (a table entry then costs its bookkeeping only). Only
/// lookups, never iteration: the `HashMap` cannot make a run depend on
/// hashing order.
#[derive(Debug, Default)]
struct SharedVerifyCache(Mutex<HashMap<[u8; 32], Option<Arc<SignedRecord>>>>);

impl VerifyCache for SharedVerifyCache {
    fn contains(&self, digest: &[u8; 32]) -> bool {
        self.0.lock().is_ok_and(|map| map.contains_key(digest))
    }
    fn insert(&self, digest: [u8; 32]) {
        if let Ok(mut map) = self.0.lock() {
            map.entry(digest).or_insert(None);
        }
    }
    fn intern(&self, digest: [u8; 32], record: SignedRecord) -> Arc<SignedRecord> {
        let Ok(mut map) = self.0.lock() else {
            return Arc::new(record);
        };
        map.entry(digest)
            .or_insert(None)
            .get_or_insert_with(|| Arc::new(record))
            .clone()
    }
}

/// A whole simulated network of `N` nodes (the real [`Node`] unless a test
/// says otherwise).
#[derive(Debug)]
pub struct World<N: SimNode = Node> {
    cfg: SimConfig,
    params: NetworkParams,
    now: u64,
    end: u64,
    queue: EventQueue<Ev>,
    slots: Vec<Slot<N>>,
    links: Vec<Link>,
    by_address: HashMap<OnionAddress, usize>,
    /// Randomness of the network (latency, loss, churn, node seeds).
    rng: ChaCha8Rng,
    poison: Poison,
    rewriters: BTreeMap<usize, Rewriter>,
    malicious: Option<usize>,
    counters: Counters,
    converged_at: Option<u64>,
    gossip_interval_ms: u64,
    max_per_source: usize,
    verify_cache: Option<Arc<dyn VerifyCache>>,
}

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    // 53 random bits in [0, 1).
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    // n is small (node counts); modulo bias is irrelevant for a simulation.
    (rng.next_u64() % (n.max(1) as u64)) as usize
}

impl<N: SimNode> World<N> {
    /// Set up identities, nodes and scheduled events. Solving the sim-level
    /// PoW for every identity happens here.
    pub fn new(cfg: SimConfig) -> Result<Self, SimError> {
        cfg.validate()?;
        let params = NetworkParams::new(
            torpeer_core::NetworkName::new("torpeer-sim")
                .map_err(|e| SimError::Setup(e.to_string()))?,
        )
        .with_min_difficulty(cfg.difficulty);
        let mut setup = ChaCha8Rng::seed_from_u64(cfg.seed);
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x7e70_9ee5_5a1b_0001);
        let net_id = params.name.id();

        let honest = cfg.nodes;
        let with_adversary = cfg.adversaries.any();
        let total = honest + usize::from(with_adversary);
        let mut slots = Vec::with_capacity(total);
        let mut by_address = HashMap::with_capacity(total);
        for i in 0..total {
            let mut identity_seed = [0u8; 32];
            setup.fill_bytes(&mut identity_seed);
            let identity =
                Identity::from_seed(&identity_seed).map_err(|e| SimError::Setup(e.to_string()))?;
            let (pow_nonce, _) = pow::solve(&net_id, &identity.address(), cfg.difficulty)
                .map_err(|e| SimError::Setup(e.to_string()))?;
            let kind = if i < honest {
                Kind::Honest
            } else {
                Kind::Malicious
            };
            by_address.insert(identity.address(), i);
            slots.push(Slot {
                kind,
                identity_seed,
                address: identity.address(),
                pow_nonce,
                node: None,
                online: false,
                settled_at: 0,
                generation: 0,
                timer_at: None,
                conns: BTreeMap::new(),
                next_inbound: 1,
                bootstrap: Vec::new(),
                lost: Vec::new(),
                carried: Carried::default(),
            });
        }
        // Bootstrap graph: each honest node knows a few nodes created before
        // it (node 0 knows none; it is found by others).
        for (i, slot) in slots.iter_mut().enumerate().take(honest).skip(1) {
            let want = cfg.bootstrap_contacts.min(i);
            let mut picked = BTreeSet::new();
            while picked.len() < want {
                picked.insert(below(&mut setup, i));
            }
            slot.bootstrap = picked.into_iter().collect();
        }
        let malicious = with_adversary.then_some(honest);
        if let Some(m) = malicious {
            let mut picked = BTreeSet::new();
            while picked.len() < cfg.bootstrap_contacts.min(honest) {
                picked.insert(below(&mut setup, honest));
            }
            slots[m].bootstrap = picked.into_iter().collect();
            for slot in slots.iter_mut().take(honest) {
                if uniform(&mut setup) < MALICIOUS_BOOTSTRAP_SHARE {
                    slot.bootstrap.push(m);
                }
            }
        }

        let start_secs = SIM_EPOCH_MS / 1000;
        let replay_ids: Vec<(Identity, u64)> = slots
            .iter()
            .take(cfg.adversaries.replays.min(honest))
            .filter_map(|s| Some((Identity::from_seed(&s.identity_seed).ok()?, s.pow_nonce)))
            .collect();
        let targets: Vec<_> = replay_ids
            .iter()
            .map(|(identity, pow_nonce)| adversary::ReplayTarget {
                identity,
                pow_nonce: *pow_nonce,
            })
            .collect();
        let poison = Poison::build(&cfg.adversaries, &params, &mut setup, &targets, start_secs)
            .map_err(|e| SimError::Setup(e.to_string()))?;

        let mut defaults = NodeConfig::new(params.clone(), Role::Participant, 0, cfg.difficulty);
        if let Some(v) = cfg.node.table_capacity {
            defaults.set_table_capacity(v);
        }
        let gossip_interval_ms = cfg
            .node
            .gossip_interval_ms
            .unwrap_or(defaults.gossip_interval_ms)
            .max(1);
        let max_per_source = cfg.node.max_per_source.unwrap_or(defaults.max_per_source);

        let end = SIM_EPOCH_MS + cfg.duration_s.saturating_mul(1000);
        let mut world = Self {
            params,
            now: SIM_EPOCH_MS,
            end,
            queue: EventQueue::new(),
            slots,
            links: Vec::new(),
            by_address,
            rng,
            poison,
            rewriters: BTreeMap::new(),
            malicious,
            counters: Counters::default(),
            converged_at: None,
            gossip_interval_ms,
            max_per_source,
            verify_cache: cfg
                .shared_verify_cache
                .then(|| Arc::new(SharedVerifyCache::default()) as Arc<dyn VerifyCache>),
            cfg,
        };
        for node in 0..total {
            let at = SIM_EPOCH_MS
                + (uniform(&mut setup) * world.cfg.start_spread_s as f64 * 1000.0) as u64;
            world.queue.push(at, Ev::Start { node });
        }
        for (index, p) in world.cfg.partitions.iter().enumerate() {
            world.queue.push(
                SIM_EPOCH_MS + p.start_s * 1000,
                Ev::PartitionStart { index },
            );
        }
        if world.malicious.is_some() && !world.poison.is_empty() {
            world.queue.push(
                SIM_EPOCH_MS + world.cfg.start_spread_s * 1000 + world.gossip_interval_ms,
                Ev::Attack,
            );
        }
        world
            .queue
            .push(SIM_EPOCH_MS + world.cfg.sample_interval_ms, Ev::Sample);
        Ok(world)
    }

    /// Run to the end and report.
    pub fn run(mut self) -> Report {
        while let Some(at) = self.queue.peek_time() {
            if at > self.end {
                break;
            }
            let Some((at, ev)) = self.queue.pop() else {
                break;
            };
            self.now = at;
            self.counters.events += 1;
            self.handle(ev);
        }
        self.now = self.end;
        self.sample();
        self.report()
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Start { node } => self.start(node, Life::First),
            Ev::Timer { node, generation } => self.timer(node, generation),
            Ev::DialDone { link } => self.dial_done(link),
            Ev::Deliver { link, to, bytes } => self.deliver(link, to, &bytes),
            Ev::Closed { link, to } => self.closed(link, to),
            Ev::GoOffline { node } => self.go_offline(node),
            Ev::GoOnline { node } => self.go_online(node),
            Ev::PartitionStart { index } => self.partition_start(index),
            Ev::Attack => self.attack(),
            Ev::Sample => {
                self.sample();
                let next = self.now + self.cfg.sample_interval_ms.max(1);
                self.queue.push(next, Ev::Sample);
            }
        }
    }

    fn ts(&self) -> Timestamp {
        Timestamp::from_millis(self.now)
    }

    fn alive(&self, side: &Side) -> bool {
        let s = &self.slots[side.node];
        s.online && s.generation == side.generation && s.node.is_some()
    }

    // ------------------------------------------------------------ nodes

    fn make_node(&mut self, idx: usize) -> Option<N> {
        let slot = &self.slots[idx];
        let identity = Identity::from_seed(&slot.identity_seed).ok()?;
        let mut config = NodeConfig::new(
            self.params.clone(),
            Role::Participant,
            slot.pow_nonce,
            self.cfg.difficulty,
        );
        config.initial_sequence = HONEST_INITIAL_SEQUENCE + u64::from(slot.generation);
        let t = &self.cfg.node;
        if let Some(v) = t.gossip_interval_ms {
            config.gossip_interval_ms = v;
        }
        if let Some(v) = t.table_capacity {
            config.set_table_capacity(v);
        }
        if let Some(v) = t.max_per_source {
            config.max_per_source = v;
        }
        if let Some(v) = t.target_outbound {
            config.target_outbound = v;
        }
        if let Some(v) = t.max_connections {
            config.max_connections = v;
        }
        if let Some(v) = t.rotate_interval_ms {
            config.rotate_interval_ms = v;
        }
        config.verify_cache = self.verify_cache.clone();
        let mut seed = [0u8; 32];
        self.rng.fill_bytes(&mut seed);
        N::create(identity, config, seed, self.ts())
    }

    /// Bring a node up: a fresh one (first start, or a restart without
    /// state), or the kept one.
    fn start(&mut self, idx: usize, life: Life) {
        if life == Life::First || self.slots[idx].node.is_none() {
            let Some(node) = self.make_node(idx) else {
                return;
            };
            self.slots[idx].node = Some(node);
        }
        let contacts: Vec<OnionAddress> = self.slots[idx]
            .bootstrap
            .iter()
            .map(|&b| self.slots[b].address)
            .collect();
        let now = self.now;
        let ts = self.ts();
        let slot = &mut self.slots[idx];
        slot.online = true;
        // The settle time applies to nodes coming back, not to the
        // network's own start: convergence is measured from time zero, and
        // a first start counts at once (else every run would report at
        // least the settle time, whatever the protocol did).
        slot.settled_at = if life == Life::First {
            SIM_EPOCH_MS
        } else {
            now.saturating_add(self.cfg.settle_ms)
        };
        slot.timer_at = None;
        let lost = std::mem::take(&mut slot.lost);
        if let Some(node) = slot.node.as_mut() {
            // A kept node learns that its streams and dials died while it
            // was away, then catches up on deadlines that passed.
            for (conn, dialing) in lost {
                let input = if dialing {
                    Input::DialFailed {
                        conn,
                        reason: "went offline".to_owned(),
                    }
                } else {
                    Input::ConnectionClosed { conn }
                };
                node.handle_input(ts, input);
            }
            for onion in contacts {
                node.add_bootstrap(ts, onion, None);
            }
            node.handle_timeout(ts);
        }
        self.drain(idx);
        if self.slots[idx].kind == Kind::Honest && self.cfg.churn > 0.0 {
            self.schedule_churn(idx);
        }
    }

    fn schedule_churn(&mut self, idx: usize) {
        let rate_per_ms = self.cfg.churn / 3_600_000.0;
        let u = 1.0 - uniform(&mut self.rng);
        let wait = (-u.ln() / rate_per_ms).min(1e15) as u64;
        let at = self.now.saturating_add(wait.max(1));
        if at < self.end {
            self.queue.push(at, Ev::GoOffline { node: idx });
        }
    }

    fn timer(&mut self, idx: usize, generation: u32) {
        let ts = self.ts();
        let slot = &mut self.slots[idx];
        if slot.generation != generation || !slot.online || slot.timer_at != Some(self.now) {
            return; // stale
        }
        slot.timer_at = None;
        if let Some(node) = slot.node.as_mut() {
            node.handle_timeout(ts);
        }
        self.drain(idx);
    }

    /// Drain a node's outputs, act on each, and (re)schedule its timer.
    fn drain(&mut self, idx: usize) {
        let Some(node) = self.slots[idx].node.as_mut() else {
            return;
        };
        let outputs: Vec<Output> = std::iter::from_fn(|| node.poll_output()).collect();
        let deadline = node.poll_timeout();
        for out in outputs {
            self.output(idx, out);
        }
        let slot = &mut self.slots[idx];
        if let Some(deadline) = deadline {
            // A deadline in the past runs now; never spin at one instant.
            let at = deadline.as_millis().max(self.now + 1);
            if slot.timer_at != Some(at) {
                slot.timer_at = Some(at);
                let generation = slot.generation;
                self.queue.push(
                    at,
                    Ev::Timer {
                        node: idx,
                        generation,
                    },
                );
            }
        } else {
            slot.timer_at = None;
        }
    }

    fn output(&mut self, idx: usize, out: Output) {
        match out {
            Output::Transmit { conn, bytes } => self.transmit(idx, conn, bytes),
            Output::Dial { conn, onion, .. } => self.dial(idx, conn, onion),
            Output::Close { conn } => self.close(idx, conn),
            Output::Event(event) => self.event(idx, event),
        }
    }

    fn event(&mut self, idx: usize, event: Event) {
        if self.slots[idx].kind != Kind::Honest {
            return;
        }
        match event {
            Event::PeerDiscovered { onion, .. } | Event::RecordUpdated { onion, .. }
                if self.poison.forged.contains(&onion) =>
            {
                self.counters.invalid.insert((idx, onion));
            }
            Event::HandshakeFailed { reason, .. } => {
                *self
                    .counters
                    .handshake_failures
                    .entry(format!("handshake:{}", reason.code))
                    .or_insert(0) += 1;
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------ links

    fn latency(&mut self) -> u64 {
        match self.cfg.latency {
            LatencyDist::Fixed { ms } => ms,
            LatencyDist::Uniform { lo_ms, hi_ms } => {
                lo_ms + (uniform(&mut self.rng) * (hi_ms - lo_ms + 1) as f64) as u64
            }
            LatencyDist::LogNormal {
                median_ms,
                sigma,
                min_ms,
                max_ms,
            } => {
                // Box-Muller.
                let u1 = 1.0 - uniform(&mut self.rng);
                let u2 = uniform(&mut self.rng);
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let ms = (median_ms.max(1) as f64) * (sigma * z).exp();
                (ms as u64).clamp(min_ms, max_ms)
            }
        }
    }

    fn partitioned(&self, a: usize, b: usize) -> bool {
        let t = self.now;
        self.cfg.partitions.iter().any(|p| {
            let active = t >= SIM_EPOCH_MS + p.start_s * 1000 && t < SIM_EPOCH_MS + p.end_s * 1000;
            // The malicious node sits on neither side: it reaches everyone.
            let side = |n: usize| (n < p.split, n >= self.cfg.nodes);
            active && !side(a).1 && !side(b).1 && side(a).0 != side(b).0
        })
    }

    fn dial(&mut self, idx: usize, conn: ConnectionId, onion: OnionAddress) {
        if self.slots[idx].kind == Kind::Honest {
            self.counters.dials += 1;
        }
        let latency = self.latency();
        let target = self.by_address.get(&onion).copied();
        let generation = self.slots[idx].generation;
        let link = self.links.len();
        self.links.push(Link {
            sides: [
                Side {
                    node: idx,
                    conn,
                    generation,
                    closed: false,
                },
                Side {
                    node: target.unwrap_or(usize::MAX),
                    conn: ConnectionId(0),
                    generation: 0,
                    closed: true,
                },
            ],
            state: LinkState::Dialing,
            latency_ms: latency,
            last_at: [0, 0],
        });
        self.slots[idx].conns.insert(conn, link);
        let reachable = target.is_some_and(|t| t != idx && self.slots[t].online);
        let at = if reachable {
            self.now + 3 * latency
        } else {
            self.now + UNREACHABLE_DIAL_MS
        };
        self.queue.push(at, Ev::DialDone { link });
    }

    fn dial_done(&mut self, link: usize) {
        let dialer = self.links[link].sides[0];
        if !self.alive(&dialer) || self.links[link].state != LinkState::Dialing {
            return;
        }
        let target = self.links[link].sides[1].node;
        let reason = if target == usize::MAX {
            Some("onion service not found")
        } else if target == dialer.node {
            Some("dial to own onion")
        } else if !self.slots[target].online || self.slots[target].node.is_none() {
            Some("onion service offline")
        } else if self.partitioned(dialer.node, target) {
            Some("unreachable (partition)")
        } else if uniform(&mut self.rng) < self.cfg.loss {
            Some("circuit failed")
        } else {
            None
        };
        let ts = self.ts();
        if let Some(reason) = reason {
            self.links[link].state = LinkState::Broken;
            self.links[link].sides[0].closed = true;
            self.slots[dialer.node].conns.remove(&dialer.conn);
            if self.slots[dialer.node].kind == Kind::Honest {
                self.counters.dial_failures += 1;
            }
            if let Some(node) = self.slots[dialer.node].node.as_mut() {
                node.handle_input(
                    ts,
                    Input::DialFailed {
                        conn: dialer.conn,
                        reason: reason.to_owned(),
                    },
                );
            }
            self.drain(dialer.node);
            return;
        }
        // Open: the listener accepts first, then the dialler learns it.
        let slot = &mut self.slots[target];
        let conn = ConnectionId(slot.next_inbound);
        slot.next_inbound += 1;
        slot.conns.insert(conn, link);
        let generation = slot.generation;
        let l = &mut self.links[link];
        l.state = LinkState::Open;
        l.sides[1] = Side {
            node: target,
            conn,
            generation,
            closed: false,
        };
        if Some(target) == self.malicious || Some(dialer.node) == self.malicious {
            self.rewriters.insert(link, Rewriter::default());
        }
        if let Some(node) = self.slots[target].node.as_mut() {
            node.handle_input(
                ts,
                Input::ConnectionOpened {
                    conn,
                    direction: Direction::Inbound,
                },
            );
        }
        self.drain(target);
        if let Some(node) = self.slots[dialer.node].node.as_mut() {
            node.handle_input(
                ts,
                Input::ConnectionOpened {
                    conn: dialer.conn,
                    direction: Direction::Outbound,
                },
            );
        }
        self.drain(dialer.node);
    }

    /// Which side of `link` is `idx` (the sender).
    fn side_of(&self, link: usize, idx: usize, conn: ConnectionId) -> Option<usize> {
        let l = &self.links[link];
        (0..2).find(|&s| l.sides[s].node == idx && l.sides[s].conn == conn)
    }

    fn transmit(&mut self, idx: usize, conn: ConnectionId, bytes: Vec<u8>) {
        let Some(&link) = self.slots[idx].conns.get(&conn) else {
            return;
        };
        if self.links[link].state != LinkState::Open {
            return;
        }
        let Some(from) = self.side_of(link, idx, conn) else {
            return;
        };
        let to = 1 - from;
        let bytes = if let Some(rw) = self.rewriters.get_mut(&link) {
            if Some(idx) == self.malicious {
                rw.rewrite_outbound(&bytes, &mut self.poison)
            } else {
                rw.observe_inbound(&bytes);
                bytes
            }
        } else {
            bytes
        };
        if self.slots[idx].kind == Kind::Honest {
            self.counters.frames +=
                adversary::count_frames(&bytes, &mut self.counters.frames_by_kind);
            self.counters.bytes += bytes.len() as u64;
        }
        // Latency with jitter, retransmissions on loss, in-order delivery.
        let base = self.links[link].latency_ms;
        let jitter = (uniform(&mut self.rng) * base as f64 * 0.25) as u64;
        let mut at = self.now + base + jitter;
        let mut rto = (2 * base).max(1_000);
        let mut losses = 0;
        while self.cfg.loss > 0.0 && uniform(&mut self.rng) < self.cfg.loss {
            losses += 1;
            if losses >= LOSSES_TO_BREAK {
                self.break_link(link, at);
                return;
            }
            at += rto;
            rto *= 2;
        }
        let l = &mut self.links[link];
        at = at.max(l.last_at[to]);
        l.last_at[to] = at;
        self.queue.push(at, Ev::Deliver { link, to, bytes });
    }

    fn deliver(&mut self, link: usize, to: usize, bytes: &[u8]) {
        let l = &self.links[link];
        let side = l.sides[to];
        if l.state == LinkState::Broken || side.closed || !self.alive(&side) {
            return;
        }
        let ts = self.ts();
        if let Some(node) = self.slots[side.node].node.as_mut() {
            node.handle_input(
                ts,
                Input::Received {
                    conn: side.conn,
                    bytes,
                },
            );
        }
        self.drain(side.node);
    }

    /// A node closed its end: it hears the close at once, the peer after
    /// the data already written.
    fn close(&mut self, idx: usize, conn: ConnectionId) {
        let Some(&link) = self.slots[idx].conns.get(&conn) else {
            return;
        };
        let Some(from) = self.side_of(link, idx, conn) else {
            return;
        };
        let to = 1 - from;
        let l = &mut self.links[link];
        match l.state {
            LinkState::Open => {
                l.state = LinkState::Closing;
                let at = (self.now + l.latency_ms).max(l.last_at[to]) + 1;
                self.queue.push(at, Ev::Closed { link, to });
            }
            LinkState::Dialing => {
                // Abandoned dial: the target never hears of it.
                l.state = LinkState::Broken;
            }
            LinkState::Closing | LinkState::Broken => {}
        }
        self.queue.push(self.now, Ev::Closed { link, to: from });
    }

    fn closed(&mut self, link: usize, to: usize) {
        let side = self.links[link].sides[to];
        if side.closed {
            return;
        }
        self.links[link].sides[to].closed = true;
        if !self.alive(&side) {
            return;
        }
        self.slots[side.node].conns.remove(&side.conn);
        let ts = self.ts();
        if let Some(node) = self.slots[side.node].node.as_mut() {
            node.handle_input(ts, Input::ConnectionClosed { conn: side.conn });
        }
        self.drain(side.node);
    }

    /// The stream dies: both live ends hear of it (after a latency), and
    /// what is in flight is lost.
    fn break_link(&mut self, link: usize, at: u64) {
        let l = &mut self.links[link];
        if l.state == LinkState::Broken {
            return;
        }
        l.state = LinkState::Broken;
        self.counters.streams_broken += 1;
        self.rewriters.remove(&link);
        for to in 0..2 {
            if !l.sides[to].closed {
                self.queue
                    .push(at.max(self.now + 1), Ev::Closed { link, to });
            }
        }
    }

    // ------------------------------------------------------------ churn

    fn go_offline(&mut self, idx: usize) {
        if !self.slots[idx].online {
            return;
        }
        self.counters.churn_events += 1;
        let conns: Vec<(ConnectionId, usize)> = self.slots[idx]
            .conns
            .iter()
            .map(|(c, l)| (*c, *l))
            .collect();
        let mut lost = Vec::with_capacity(conns.len());
        for (conn, link) in conns {
            lost.push((conn, self.links[link].state == LinkState::Dialing));
            let latency = self.links[link].latency_ms;
            self.break_link(link, self.now + latency);
        }
        let keep = uniform(&mut self.rng) < self.cfg.churn_keep_state;
        let slot = &mut self.slots[idx];
        slot.online = false;
        slot.generation += 1;
        slot.timer_at = None;
        slot.conns.clear();
        slot.lost = if keep { lost } else { Vec::new() };
        if !keep && let Some(node) = slot.node.take() {
            for (code, n) in node.stats().records_rejected {
                *slot.carried.rejected.entry(code).or_insert(0) += n;
            }
        }
        let (lo, hi) = self.cfg.churn_offline_s;
        let secs = lo + (uniform(&mut self.rng) * (hi - lo + 1) as f64) as u64;
        self.queue
            .push(self.now + secs * 1000, Ev::GoOnline { node: idx });
    }

    fn go_online(&mut self, idx: usize) {
        // A kept node resumes with its table: it was told nothing while
        // away, so its streams are gone (they were removed from the world;
        // tell it they closed).
        self.start(idx, Life::Return);
    }

    fn partition_start(&mut self, index: usize) {
        if self.cfg.partitions.get(index).is_none() {
            return;
        }
        for link in 0..self.links.len() {
            let l = &self.links[link];
            if matches!(l.state, LinkState::Open | LinkState::Closing)
                && self.partitioned(l.sides[0].node, l.sides[1].node)
            {
                let at = self.now + l.latency_ms;
                self.break_link(link, at);
            }
        }
    }

    // ------------------------------------------------------------ attacks

    /// The malicious node serves poisoned bootstrap lists: the table-fill
    /// pool and a batch of poison to the victim (node 0), a batch to one
    /// random honest node. Repeats every gossip interval.
    fn attack(&mut self) {
        let Some(m) = self.malicious else {
            return;
        };
        let next = self.now + self.gossip_interval_ms;
        self.queue.push(next, Ev::Attack);
        if !self.slots[m].online {
            return;
        }
        let ts = self.ts();
        let source = self.slots[m].address;
        let own = self.slots[m]
            .node
            .as_ref()
            .map(|n| n.own_record().to_proto());
        let random = below(&mut self.rng, self.cfg.nodes);
        for (victim, fill) in [(0usize, true), (random, false)] {
            if !self.slots[victim].online {
                continue;
            }
            let mut peers = Vec::new();
            if let Some(own) = &own {
                peers.push(proto::PeerEntry {
                    record: Some(own.clone()),
                    status: proto::PeerStatus::Online as i32,
                    last_seen: ts.as_secs(),
                    learned_from: String::new(),
                });
            }
            if fill {
                peers.extend(self.poison.fill().iter().cloned());
            }
            let room = adversary::MAX_ANSWER_ENTRIES.saturating_sub(peers.len());
            peers.extend(self.poison.batch(room.min(adversary::POISON_PER_ANSWER)));
            // Lists are capped like answers; the fill pool goes in slices.
            for chunk in peers.chunks(adversary::MAX_ANSWER_ENTRIES) {
                let list = proto::PeerList {
                    network: self.params.name.to_string(),
                    source: source.to_string(),
                    generated_at: ts.as_secs(),
                    peers: chunk.to_vec(),
                };
                if let Some(node) = self.slots[victim].node.as_mut() {
                    node.handle_peer_list(ts, &list, Some(source));
                }
            }
            self.drain(victim);
        }
    }

    // ------------------------------------------------------------ measuring

    fn honest_online(&self) -> Vec<usize> {
        (0..self.cfg.nodes)
            .filter(|&i| self.slots[i].online && self.slots[i].node.is_some())
            .collect()
    }

    /// How many honest online nodes (other than itself) `idx` knows.
    fn known_honest_online(&self, idx: usize) -> usize {
        let Some(node) = self.slots[idx].node.as_ref() else {
            return 0;
        };
        node.peers()
            .iter()
            .filter(|p| {
                self.by_address
                    .get(&p.record.body.address)
                    .is_some_and(|&j| {
                        j != idx
                            && j < self.cfg.nodes
                            && self.slots[j].online
                            && self.slots[j].node.is_some()
                    })
            })
            .count()
    }

    /// Sample table sizes and check convergence. The exact check (which
    /// copies tables) runs only once the cheap one (table sizes) passes
    /// everywhere, and stops at the first node that fails.
    fn sample(&mut self) {
        let online = self.honest_online();
        let mut all_big_enough = !online.is_empty();
        let need = (CONVERGENCE_FRACTION * online.len() as f64).ceil() as usize;
        let observers: Vec<usize> = online
            .iter()
            .copied()
            .filter(|&i| self.now >= self.slots[i].settled_at)
            .collect();
        for &i in &online {
            let known = self.slots[i]
                .node
                .as_ref()
                .map_or(0, |n| n.stats().known_peers);
            self.counters.peak_table = self.counters.peak_table.max(known);
        }
        for &i in &observers {
            let known = self.slots[i]
                .node
                .as_ref()
                .map_or(0, |n| n.stats().known_peers);
            if known + 1 < need {
                all_big_enough = false;
                break;
            }
        }
        // Not before every node has made its first start: until then a
        // network of the few that started would count as converged.
        let all_started = self.now >= SIM_EPOCH_MS + self.cfg.start_spread_s * 1000;
        if self.converged_at.is_none()
            && all_started
            && all_big_enough
            && !observers.is_empty()
            && observers
                .iter()
                .all(|&i| self.known_honest_online(i) + 1 >= need)
        {
            self.converged_at = Some(self.now);
        }
        if self.cfg.progress_every_s > 0 {
            let elapsed = self.now.saturating_sub(SIM_EPOCH_MS);
            let every = self.cfg.progress_every_s.saturating_mul(1000);
            if elapsed % every < self.cfg.sample_interval_ms.max(1) {
                let (min, max) = online.iter().fold((usize::MAX, 0), |(lo, hi), &i| {
                    let k = self.slots[i]
                        .node
                        .as_ref()
                        .map_or(0, |n| n.stats().known_peers);
                    (lo.min(k), hi.max(k))
                });
                eprintln!(
                    "sim: t={} s, online {}, known peers min {} max {}, converged at {}",
                    elapsed / 1000,
                    online.len(),
                    if min == usize::MAX { 0 } else { min },
                    max,
                    self.converged_at.map_or("-".to_owned(), |t| format!(
                        "{} s",
                        t.saturating_sub(SIM_EPOCH_MS) / 1000
                    )),
                );
            }
        }
    }

    fn report(&self) -> Report {
        let online = self.honest_online();
        let n_online = online.len();
        let observers: Vec<usize> = online
            .iter()
            .copied()
            .filter(|&i| self.now >= self.slots[i].settled_at)
            .collect();
        let mut min_fraction: f64 = 1.0;
        for &i in &observers {
            let frac = (self.known_honest_online(i) + 1) as f64 / n_online.max(1) as f64;
            min_fraction = min_fraction.min(frac);
        }
        if observers.is_empty() {
            min_fraction = 0.0;
        }

        let mut rejected: BTreeMap<String, u64> = self.counters.handshake_failures.clone();
        let mut invalid = self.counters.invalid.clone();
        let mut max_per_source = 0usize;
        let mut max_per_node = 0usize;
        let mut stale = 0u64;
        let now_secs = self.now / 1000;
        let ttl = self.params.record_ttl_secs;
        for i in 0..self.cfg.nodes {
            let slot = &self.slots[i];
            for (code, n) in &slot.carried.rejected {
                *rejected.entry(code.clone()).or_insert(0) += n;
            }
            let Some(node) = slot.node.as_ref() else {
                continue;
            };
            for (code, n) in node.stats().records_rejected {
                *rejected.entry(code).or_insert(0) += n;
            }
            if !self.cfg.adversaries.any() {
                continue;
            }
            let mut per_source: BTreeMap<Option<OnionAddress>, usize> = BTreeMap::new();
            let mut sybils = 0;
            for p in node.peers() {
                let body = &p.record.body;
                if self.poison.forged.contains(&body.address)
                    || body.issued_at.saturating_add(ttl + EXPIRY_GRACE_SECS) < now_secs
                {
                    invalid.insert((i, body.address));
                }
                if body.sequence == REPLAY_SEQUENCE {
                    stale += 1;
                }
                if self.poison.sybils.contains(&body.address) {
                    sybils += 1;
                    *per_source.entry(p.learned_from).or_insert(0) += 1;
                }
            }
            max_per_node = max_per_node.max(sybils);
            max_per_source = max_per_source.max(per_source.values().copied().max().unwrap_or(0));
        }
        let victim_honest_known = (self.cfg.adversaries.fill_victim > 0).then(|| {
            self.slots[0].node.as_ref().map_or(0, |n| {
                n.peers()
                    .iter()
                    .filter(|p| {
                        self.by_address
                            .get(&p.record.body.address)
                            .is_some_and(|&j| j < self.cfg.nodes)
                    })
                    .count()
            })
        });

        let n = self.cfg.nodes as f64;
        let gossip_s = self.gossip_interval_ms as f64 / 1000.0;
        let converged_at_s = self
            .converged_at
            .map(|t| (t - SIM_EPOCH_MS) as f64 / 1000.0);
        Report {
            nodes: self.cfg.nodes,
            seed: self.cfg.seed,
            duration_s: self.cfg.duration_s,
            loss: self.cfg.loss,
            churn: self.cfg.churn,
            sybils: self.cfg.adversaries.sybils,
            gossip_interval_s: gossip_s,
            converged_at_s,
            rounds: converged_at_s.map(|t| t / gossip_s),
            expected_rounds: n.ln() / 3f64.ln() + n.ln().ln(),
            converged_at_end: min_fraction >= CONVERGENCE_FRACTION,
            min_known_fraction_at_end: min_fraction,
            messages_per_node: self.counters.frames as f64 / n,
            messages_by_kind: self
                .counters
                .frames_by_kind
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            bytes_per_node: self.counters.bytes as f64 / n,
            peak_table_size: self.counters.peak_table,
            table_entries_at_end: self.slots[..self.cfg.nodes]
                .iter()
                .filter_map(|s| s.node.as_ref())
                .map(|n| n.stats().known_peers as u64)
                .sum(),
            rejected,
            invalid_admitted: invalid.len() as u64,
            max_sybils_per_source: max_per_source,
            max_sybils_per_node: max_per_node,
            max_per_source: self.max_per_source,
            victim_honest_known,
            stale_replays_at_end: stale,
            honest_online_at_end: n_online,
            dials: self.counters.dials,
            dial_failures: self.counters.dial_failures,
            streams_broken: self.counters.streams_broken,
            churn_events: self.counters.churn_events,
            events: self.counters.events,
        }
    }
}
