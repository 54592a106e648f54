//! Time-driven behaviour: the next deadline, handshake and idle timeouts,
//! pings, gossip rounds, record refresh and expiry, and the dialling policy
//! with exponential backoff (PROTOCOL.md §7–8).
//!
//! Timers are plain fields (a handful per node, one deadline per
//! connection), so [`Node::poll_timeout`] is a short scan and a simulator can
//! run very many nodes.

use std::net::SocketAddr;

use crate::onion::OnionAddress;
use crate::proto;
use crate::proto::frame::Kind;

use super::conn::{Conn, ConnState};
use super::{ConnectionId, Direction, Event, Node, Output, PeerStatus, Timestamp, sign_own_record};

impl Node {
    /// Earliest of all deadlines; `None` after shutdown.
    pub(super) fn next_deadline(&self) -> Option<Timestamp> {
        if self.shut_down {
            return None;
        }
        let (ping, idle) = (self.config.ping_interval_ms, self.config.idle_timeout_ms);
        let mut t = self.gossip_at.min(self.refresh_at);
        if let Some(d) = self.dial_check_at {
            t = t.min(d);
        }
        if self.config.rotate_interval_ms > 0 {
            t = t.min(self.rotate_at);
        }
        if let Some(secs) = self.table.next_expiry() {
            t = t.min(Timestamp::from_secs(secs.saturating_add(1)));
        }
        for c in self.conns.values() {
            t = t.min(c.deadline(ping, idle));
        }
        Some(t)
    }

    pub(super) fn on_timeout(&mut self, now: Timestamp) {
        if self.shut_down {
            return;
        }
        let (ping, idle) = (self.config.ping_interval_ms, self.config.idle_timeout_ms);
        let due: Vec<ConnectionId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.deadline(ping, idle) <= now)
            .map(|(id, _)| *id)
            .collect();
        for conn in due {
            self.conn_timeout(now, conn);
        }
        self.table.expire(now);
        if now >= self.refresh_at {
            self.refresh_own_record(now);
        }
        if now >= self.gossip_at {
            self.gossip_round(now);
            self.gossip_at = now.plus_millis(self.jitter(self.config.gossip_interval_ms));
        }
        if self.dial_check_at.is_some_and(|t| t <= now) {
            self.maintain_dials(now);
        }
        if self.config.rotate_interval_ms > 0 && now >= self.rotate_at {
            self.start_rotation(now);
            self.rotate_at = now.plus_millis(self.jitter(self.config.rotate_interval_ms));
        }
    }

    fn conn_timeout(&mut self, now: Timestamp, conn: ConnectionId) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        match c.state {
            ConnState::Dialing => {
                let peer = c.target;
                self.outputs
                    .push_back(Output::Event(Event::HandshakeFailed {
                        conn,
                        peer,
                        reason: super::FailureReason {
                            code: "dial_timeout".into(),
                            message: "the dial did not complete in time".into(),
                        },
                    }));
                self.close_local(now, conn, Some("dial timed out".into()));
            }
            ConnState::AwaitHello | ConnState::AwaitAck { .. } | ConnState::AwaitFinish { .. } => {
                self.fail(
                    now,
                    conn,
                    proto::ErrorCode::BadHandshake,
                    "handshake_timeout",
                    "handshake not completed in time".into(),
                );
            }
            ConnState::Established => {
                if now >= c.last_recv.plus_millis(self.config.idle_timeout_ms) {
                    self.close_local(now, conn, Some("idle timeout".into()));
                } else {
                    let nonce = rand_core::Rng::next_u64(&mut self.rng);
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.last_ping = now;
                    }
                    self.send_frame(conn, Kind::Ping(proto::Ping { nonce }));
                }
            }
        }
    }

    /// When our record must be re-signed: before it reaches half its TTL.
    pub(super) fn refresh_deadline(&self) -> Timestamp {
        let ttl_ms = self.config.params.record_ttl_secs.saturating_mul(1000);
        let issued = Timestamp::from_secs(self.own_record.body.issued_at);
        issued.plus_millis((ttl_ms * 45 / 100).max(1_000))
    }

    fn refresh_own_record(&mut self, now: Timestamp) {
        let sequence = self.own_record.body.sequence;
        if let Ok(record) = sign_own_record(&self.identity, &self.config, sequence, now) {
            self.own_record = record;
            self.push_own_record();
        }
        self.refresh_at = self.refresh_deadline().max(now.plus_millis(1_000));
    }

    /// Look at the dialling policy again at `now` (at the latest).
    pub(super) fn schedule_dial_check(&mut self, now: Timestamp) {
        if self.shut_down {
            return;
        }
        self.dial_check_at = Some(self.dial_check_at.map_or(now, |t| t.min(now)));
    }

    fn outbound_count(&self) -> usize {
        self.conns
            .values()
            .filter(|c| c.direction == Direction::Outbound)
            .count()
    }

    /// Ask the driver to open a stream.
    pub(super) fn dial(
        &mut self,
        now: Timestamp,
        onion: OnionAddress,
        tcp_endpoint: Option<SocketAddr>,
    ) -> ConnectionId {
        let conn = ConnectionId(self.next_conn_id);
        self.next_conn_id = self
            .next_conn_id
            .wrapping_add(1)
            .max(super::OUTBOUND_ID_BASE);
        let c = Conn::new(
            Direction::Outbound,
            ConnState::Dialing,
            Some(onion),
            now,
            self.config.handshake_timeout_ms,
            self.config.max_frame_len,
            self.config.push_burst,
        );
        self.conns.insert(conn, c);
        self.dialing.insert(onion, conn);
        // Never an IP endpoint on a Tor transport.
        let tcp_endpoint = tcp_endpoint.filter(|_| self.config.tcp_transport.is_some());
        self.outputs.push_back(Output::Dial {
            conn,
            onion,
            tcp_endpoint,
        });
        conn
    }

    /// Backoff after `failures` consecutive failures: base · 2^(n−1),
    /// capped, jittered to [½, 1½).
    pub(super) fn backoff(&mut self, failures: u32) -> u64 {
        let exp = failures.saturating_sub(1).min(32);
        let base = self
            .config
            .redial_base_ms
            .saturating_mul(1u64 << exp)
            .min(self.config.redial_max_ms);
        self.jitter(base)
    }

    /// A dial (or the handshake on a stream we opened) failed.
    pub(super) fn dial_failed(&mut self, now: Timestamp, target: OnionAddress, why: &str) {
        let _ = why;
        self.queues.remove(&target);
        self.redial.remove(&target);
        if let Some(failures) = self.bootstrap.get(&target).map(|b| b.failures + 1) {
            let delay = self.backoff(failures);
            if let Some(b) = self.bootstrap.get_mut(&target) {
                b.failures = failures;
                b.next_retry = now.plus_millis(delay);
            }
        }
        let Some(e) = self.table.get(&target) else {
            return;
        };
        let failures = e.failures.saturating_add(1);
        let status = e.status;
        let delay = self.backoff(failures);
        if let Some(e) = self.table.get_mut(&target) {
            e.failures = failures;
            e.next_retry = now.plus_millis(delay);
        }
        let offline = match status {
            PeerStatus::Online => true,
            PeerStatus::Unknown => failures >= self.config.offline_after_failures,
            PeerStatus::Offline => false,
        };
        if offline {
            self.mark_offline(now, target);
        }
    }

    /// Redial lost peers, then dial known peers until `target_outbound`.
    fn maintain_dials(&mut self, now: Timestamp) {
        self.dial_check_at = None;
        if self.shut_down {
            return;
        }
        let mut later: Option<Timestamp> = None;
        let redials: Vec<OnionAddress> = self.redial.iter().copied().collect();
        for peer in redials {
            if self.by_peer.contains_key(&peer) || self.dialing.contains_key(&peer) {
                self.redial.remove(&peer);
                continue;
            }
            let Some(e) = self.table.get(&peer) else {
                self.redial.remove(&peer);
                continue;
            };
            if e.next_retry > now {
                later = Some(later.map_or(e.next_retry, |t| t.min(e.next_retry)));
                continue;
            }
            if self.conns.len() >= self.config.max_connections {
                break;
            }
            let ep = e.tcp_endpoint();
            self.redial.remove(&peer);
            if self.config.tcp_transport.is_some() && ep.is_none() {
                continue;
            }
            self.dial(now, peer, ep);
        }
        while self.outbound_count() < self.config.target_outbound
            && self.conns.len() < self.config.max_connections
        {
            let Some((onion, ep)) = self.pick_candidate(now) else {
                break;
            };
            self.dial(now, onion, ep);
        }
        if self.outbound_count() < self.config.target_outbound {
            let t = now.plus_millis(self.jitter(self.config.dial_check_ms));
            later = Some(later.map_or(t, |l| l.min(t)));
        }
        if let Some(t) = later {
            self.schedule_dial_check(t);
        }
    }

    /// Rotation, step 1: at the outbound target, dial one more peer chosen
    /// by [`Node::pick_explore_candidate`]. Step 2 is in
    /// [`Node::finish_rotation`], once that connection is authenticated.
    fn start_rotation(&mut self, now: Timestamp) {
        let in_progress = self.rotation.is_some_and(|c| self.conns.contains_key(&c));
        if in_progress
            || self.shut_down
            || self.outbound_count() < self.config.target_outbound
            || self.conns.len() >= self.config.max_connections
        {
            return;
        }
        self.rotation = None;
        if let Some((onion, ep)) = self.pick_explore_candidate(now) {
            let conn = self.dial(now, onion, ep);
            self.rotation = Some(conn);
        }
    }

    /// Rotation, step 2: the new outbound connection `conn` is up; if that
    /// puts us above target, close another authenticated outbound
    /// connection, chosen at random, with `Goodbye{rotating}` (the peer
    /// stays online; neither side redials).
    pub(super) fn finish_rotation(&mut self, now: Timestamp, conn: ConnectionId) {
        if self.rotation != Some(conn) {
            return;
        }
        self.rotation = None;
        let others: Vec<ConnectionId> = self
            .by_peer
            .values()
            .copied()
            .filter(|&c| {
                c != conn
                    && self
                        .conns
                        .get(&c)
                        .is_some_and(|c| c.direction == Direction::Outbound)
            })
            .collect();
        if others.len() < self.config.target_outbound || others.is_empty() {
            return;
        }
        let victim = others[self.random_index(others.len())];
        if let Some(c) = self.conns.get_mut(&victim) {
            c.rotated_out = true;
        }
        self.send_frame(
            victim,
            Kind::Goodbye(proto::Goodbye {
                reason: "rotating outbound connection".into(),
                rotating: true,
            }),
        );
        self.close_local(now, victim, Some("rotated out".into()));
    }

    /// Whom a rotation dials: any known peer (table entry or bootstrap
    /// contact) that is not connected, not being dialled and past its retry
    /// time — offline ones included, since after a partition heals the
    /// "offline" peers are exactly the ones to try — preferring peers we did
    /// not hear of from a peer we are connected to now (their views are
    /// the ones we already share). Uniform among the preferred.
    fn pick_explore_candidate(
        &mut self,
        now: Timestamp,
    ) -> Option<(OnionAddress, Option<SocketAddr>)> {
        let tcp = self.config.tcp_transport.is_some();
        let mut candidates: Vec<(u8, OnionAddress, Option<SocketAddr>)> = Vec::new();
        for (o, b) in &self.bootstrap {
            if b.next_retry <= now
                && !self.by_peer.contains_key(o)
                && !self.dialing.contains_key(o)
                && (!tcp || b.tcp_endpoint.is_some())
            {
                candidates.push((0, *o, b.tcp_endpoint));
            }
        }
        for (o, e) in self.table.iter() {
            if e.next_retry > now
                || self.by_peer.contains_key(o)
                || self.dialing.contains_key(o)
                || self.bootstrap.contains_key(o)
                || (tcp && e.tcp_endpoint().is_none())
            {
                continue;
            }
            let via_connected = e
                .provenance()
                .source()
                .is_some_and(|s| self.by_peer.contains_key(&s));
            candidates.push((u8::from(via_connected), *o, e.tcp_endpoint()));
        }
        // Uniform among the best rank: count them, draw one.
        let best = candidates.iter().map(|c| c.0).min()?;
        let preferred: Vec<(OnionAddress, Option<SocketAddr>)> = candidates
            .into_iter()
            .filter(|c| c.0 == best)
            .map(|(_, o, ep)| (o, ep))
            .collect();
        let i = self.random_index(preferred.len());
        preferred.get(i).copied()
    }

    /// Whom to dial next: a bootstrap contact first, else a random table
    /// entry, preferring never-failed peers not known to be offline.
    fn pick_candidate(&mut self, now: Timestamp) -> Option<(OnionAddress, Option<SocketAddr>)> {
        let tcp = self.config.tcp_transport.is_some();
        let free =
            |n: &Self, o: &OnionAddress| !n.by_peer.contains_key(o) && !n.dialing.contains_key(o);
        if let Some((o, b)) = self.bootstrap.iter().find(|(o, b)| {
            b.next_retry <= now && free(self, o) && (!tcp || b.tcp_endpoint.is_some())
        }) {
            return Some((*o, b.tcp_endpoint));
        }
        // Reservoir sampling over the best rank seen: one pass, uniform.
        let mut best: Option<(u8, OnionAddress, Option<SocketAddr>)> = None;
        let mut seen = 0u64;
        let mut eligible: Vec<(u8, OnionAddress, Option<SocketAddr>)> = Vec::new();
        for (o, e) in self.table.iter() {
            if e.next_retry > now || !free(self, o) || (tcp && e.tcp_endpoint().is_none()) {
                continue;
            }
            let rank = u8::from(!(e.failures == 0 && e.status != PeerStatus::Offline));
            eligible.push((rank, *o, e.tcp_endpoint()));
        }
        for (rank, o, ep) in eligible {
            match best {
                Some((r, _, _)) if rank > r => continue,
                Some((r, _, _)) if rank < r => {
                    best = Some((rank, o, ep));
                    seen = 1;
                }
                None => {
                    best = Some((rank, o, ep));
                    seen = 1;
                }
                Some(_) => {
                    seen += 1;
                    if rand_core::Rng::next_u64(&mut self.rng).is_multiple_of(seen) {
                        best = Some((rank, o, ep));
                    }
                }
            }
        }
        best.map(|(_, o, ep)| (o, ep))
    }
}
