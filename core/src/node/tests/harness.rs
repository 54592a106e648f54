use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::codec::{FrameDecoder, encode_frame};
use crate::network::NetworkParams;
use crate::node::{ConnectionId, Direction, Event, Input, Node, NodeConfig, Output, Timestamp};
use crate::onion::OnionAddress;
use crate::proto::frame::Kind;
use crate::record::Role;
use crate::testutil::{identity, params, pow_nonce};

pub(super) const T0: u64 = 1_800_000_000;

/// The far end of a stream: another node, or the test itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum End {
    Node(usize, ConnectionId),
    Raw(u64),
}

enum Delivery {
    Bytes(usize, ConnectionId, Vec<u8>),
    Closed(usize, ConnectionId),
}

pub(super) struct Net {
    pub(super) nodes: Vec<Node>,
    pub(super) now: Timestamp,
    links: BTreeMap<(usize, ConnectionId), End>,
    raw_links: BTreeMap<u64, (usize, ConnectionId)>,
    /// Frames each raw stream received, decoded.
    pub(super) raw_rx: BTreeMap<u64, Vec<Kind>>,
    raw_dec: BTreeMap<u64, FrameDecoder>,
    pub(super) raw_closed: BTreeSet<u64>,
    /// Onions whose dials the test answers itself, as raw streams.
    pub(super) raw_targets: BTreeSet<OnionAddress>,
    /// Nodes that are down (dials to them fail).
    pub(super) down: BTreeSet<usize>,
    /// Links whose traffic is silently dropped.
    pub(super) black_holes: BTreeSet<(usize, ConnectionId)>,
    queue: VecDeque<Delivery>,
    pub(super) events: Vec<(usize, Event)>,
    /// Every output, for determinism checks.
    pub(super) log: Vec<String>,
    next_inbound: u64,
    next_raw: u64,
}

pub(super) fn config(params: NetworkParams, n: u32, role: Role) -> NodeConfig {
    let id = identity(n);
    NodeConfig::new(
        params.clone(),
        role,
        pow_nonce(&params, &id),
        params.min_difficulty,
    )
}

impl Net {
    pub(super) fn new() -> Self {
        Self {
            nodes: Vec::new(),
            now: Timestamp::from_secs(T0),
            links: BTreeMap::new(),
            raw_links: BTreeMap::new(),
            raw_rx: BTreeMap::new(),
            raw_dec: BTreeMap::new(),
            raw_closed: BTreeSet::new(),
            raw_targets: BTreeSet::new(),
            down: BTreeSet::new(),
            black_holes: BTreeSet::new(),
            queue: VecDeque::new(),
            events: Vec::new(),
            log: Vec::new(),
            next_inbound: 1,
            next_raw: 1,
        }
    }

    /// Add a node with identity `n`; returns its index.
    pub(super) fn add(&mut self, n: u32, cfg: NodeConfig) -> usize {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&n.to_le_bytes());
        self.nodes
            .push(Node::new(identity(n), cfg, seed, self.now).unwrap());
        self.nodes.len() - 1
    }

    /// A star: a hub of identity 10 (configured by `hub`) that the spokes
    /// of identities 11, 12, 13 (roles `spokes`) each dial and authenticate
    /// to; returns the hub's and the spokes' indexes.
    pub(super) fn star(hub: NodeConfig, spokes: [Role; 3]) -> (Self, usize, [usize; 3]) {
        let mut net = Self::new();
        let h = net.add(10, hub);
        let s = [11, 12, 13];
        let s = [0, 1, 2].map(|i| net.add_default(s[i], spokes[i]));
        for n in s {
            net.connect(n, h);
        }
        (net, h, s)
    }

    pub(super) fn add_default(&mut self, n: u32, role: Role) -> usize {
        self.add(n, config(params(), n, role))
    }

    pub(super) fn addr(&self, i: usize) -> OnionAddress {
        self.nodes[i].address()
    }

    /// `a` learns `b` as a bootstrap contact and dials it.
    pub(super) fn connect(&mut self, a: usize, b: usize) {
        let onion = self.addr(b);
        let now = self.now;
        self.nodes[a].add_bootstrap(now, onion, None);
        self.drain();
    }

    fn find(&self, onion: &OnionAddress) -> Option<usize> {
        self.nodes.iter().position(|n| n.address() == *onion)
    }

    /// Act on every output of every node until nothing moves.
    pub(super) fn drain(&mut self) {
        for _ in 0..50_000_000 {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                while let Some(out) = self.nodes[i].poll_output() {
                    moved = true;
                    self.act(i, out);
                }
            }
            if let Some(d) = self.queue.pop_front() {
                moved = true;
                let now = self.now;
                match d {
                    Delivery::Bytes(i, conn, bytes) => self.nodes[i].handle_input(
                        now,
                        Input::Received {
                            conn,
                            bytes: &bytes,
                        },
                    ),
                    Delivery::Closed(i, conn) => {
                        self.nodes[i].handle_input(now, Input::ConnectionClosed { conn })
                    }
                }
            }
            if !moved {
                return;
            }
        }
        panic!("network did not settle");
    }

    fn act(&mut self, i: usize, out: Output) {
        self.log
            .push(format!("{} {i} {out:?}", self.now.as_millis()));
        let now = self.now;
        match out {
            Output::Transmit { conn, bytes } => {
                if self.black_holes.contains(&(i, conn)) {
                    return;
                }
                match self.links.get(&(i, conn)) {
                    Some(End::Node(j, c)) => self.queue.push_back(Delivery::Bytes(*j, *c, bytes)),
                    Some(End::Raw(r)) => {
                        let dec = self
                            .raw_dec
                            .entry(*r)
                            .or_insert_with(|| FrameDecoder::new(1 << 22));
                        dec.push(&bytes);
                        while let Ok(Some(k)) = dec.next_frame() {
                            self.raw_rx.entry(*r).or_default().push(k);
                        }
                    }
                    None => {}
                }
            }
            Output::Dial { conn, onion, .. } => {
                if self.raw_targets.contains(&onion) {
                    let r = self.next_raw;
                    self.next_raw += 1;
                    self.links.insert((i, conn), End::Raw(r));
                    self.raw_links.insert(r, (i, conn));
                    self.nodes[i].handle_input(
                        now,
                        Input::ConnectionOpened {
                            conn,
                            direction: Direction::Outbound,
                        },
                    );
                    return;
                }
                match self.find(&onion).filter(|j| !self.down.contains(j)) {
                    Some(j) => {
                        let their = ConnectionId(self.next_inbound);
                        self.next_inbound += 1;
                        self.links.insert((i, conn), End::Node(j, their));
                        self.links.insert((j, their), End::Node(i, conn));
                        self.nodes[j].handle_input(
                            now,
                            Input::ConnectionOpened {
                                conn: their,
                                direction: Direction::Inbound,
                            },
                        );
                        self.nodes[i].handle_input(
                            now,
                            Input::ConnectionOpened {
                                conn,
                                direction: Direction::Outbound,
                            },
                        );
                    }
                    None => self.nodes[i].handle_input(
                        now,
                        Input::DialFailed {
                            conn,
                            reason: "unreachable".into(),
                        },
                    ),
                }
            }
            Output::Close { conn } => match self.links.remove(&(i, conn)) {
                Some(End::Node(j, c)) => {
                    self.links.remove(&(j, c));
                    self.queue.push_back(Delivery::Closed(j, c));
                    self.queue.push_back(Delivery::Closed(i, conn));
                }
                Some(End::Raw(r)) => {
                    self.raw_closed.insert(r);
                    self.raw_links.remove(&r);
                }
                None => {}
            },
            Output::Event(e) => self.events.push((i, e)),
        }
    }

    /// Take node `i` down without a goodbye: its streams just break.
    pub(super) fn kill(&mut self, i: usize) {
        self.down.insert(i);
        let mine: Vec<((usize, ConnectionId), End)> = self
            .links
            .iter()
            .filter(|((n, _), _)| *n == i)
            .map(|(k, v)| (*k, *v))
            .collect();
        for ((_, conn), end) in mine {
            self.links.remove(&(i, conn));
            if let End::Node(j, c) = end {
                self.links.remove(&(j, c));
                self.queue.push_back(Delivery::Closed(j, c));
            }
        }
        self.drain();
    }

    /// Run all nodes until `now + ms`, firing every timer on the way.
    pub(super) fn advance(&mut self, ms: u64) {
        let end = self.now.plus_millis(ms);
        for _ in 0..1_000_000 {
            let next = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(i, _)| !self.down.contains(i))
                .filter_map(|(_, n)| n.poll_timeout())
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    for i in 0..self.nodes.len() {
                        if !self.down.contains(&i)
                            && self.nodes[i].poll_timeout().is_some_and(|d| d <= now)
                        {
                            self.nodes[i].handle_timeout(now);
                        }
                    }
                    self.drain();
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
        panic!("timers did not settle");
    }

    /// Open an inbound raw stream to node `i`.
    pub(super) fn raw_open(&mut self, i: usize) -> u64 {
        let r = self.next_raw;
        self.next_raw += 1;
        let conn = ConnectionId(self.next_inbound);
        self.next_inbound += 1;
        self.links.insert((i, conn), End::Raw(r));
        self.raw_links.insert(r, (i, conn));
        let now = self.now;
        self.nodes[i].handle_input(
            now,
            Input::ConnectionOpened {
                conn,
                direction: Direction::Inbound,
            },
        );
        self.drain();
        r
    }

    /// The raw stream of the most recent dial to a raw target.
    pub(super) fn last_raw(&self) -> u64 {
        self.next_raw - 1
    }

    pub(super) fn raw_send_bytes(&mut self, r: u64, bytes: &[u8]) {
        let Some(&(i, conn)) = self.raw_links.get(&r) else {
            return;
        };
        let now = self.now;
        self.nodes[i].handle_input(now, Input::Received { conn, bytes });
        self.drain();
    }

    pub(super) fn raw_send(&mut self, r: u64, kind: Kind) {
        let bytes = encode_frame(kind, 1 << 22).unwrap();
        self.raw_send_bytes(r, &bytes);
    }

    pub(super) fn events_of(&self, i: usize) -> Vec<Event> {
        self.events
            .iter()
            .filter(|(n, _)| *n == i)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// The connection id node `i` uses towards node `j`, if linked.
    pub(super) fn conn_between(&self, i: usize, j: usize) -> Option<ConnectionId> {
        self.links.iter().find_map(|((n, c), end)| match end {
            End::Node(m, _) if *n == i && *m == j => Some(*c),
            _ => None,
        })
    }
}
