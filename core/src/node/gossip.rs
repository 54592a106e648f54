//! Discovery: get-peers / peers, subscriptions and pushed peer events, and
//! the admission of records learned from peers (PROTOCOL.md §7–8).

use crate::onion::OnionAddress;
use crate::proto;
use crate::proto::frame::Kind;
use crate::record::{Role, SignedRecord};
use crate::table::{Admitted, Entry, Provenance};

use super::conn::{GET_PEERS_BURST, GET_PEERS_REFILL_MS};
use super::known::KnownFilter;
use super::{ConnectionId, Event, Node, Output, PeerFilter, PeerStatus, Timestamp};

/// Most entries in one `Peers` answer.
pub(crate) const MAX_ANSWER: usize = 1_000;
/// Share of the table one answer may reveal, in percent (addrman's 23 %).
const ANSWER_PERCENT: usize = 23;
/// An answer may always hold this many entries, so small networks converge
/// in one exchange.
const ANSWER_FLOOR: usize = 64;
/// Outstanding get-peers requests remembered per connection.
const MAX_PENDING_REQUESTS: usize = 8;
/// Peers whose change-log cursor we remember (PROTOCOL.md §8.4): more than
/// the outbound target, so cursors outlive rotations and reconnects.
pub(crate) const MAX_CURSORS: usize = 64;
/// One periodic round in this many sends a known-records filter even when
/// it holds a cursor: a full reconciliation that recovers what a cursor
/// cannot (a record a Bloom false positive hid when the cursor was made, or
/// one our table evicted since).
const FILTER_EVERY: usize = 8;
/// A big filtered answer of which at least half was new to us is followed
/// at once by up to this many more requests to the same peer, while our
/// table is not full: a node far behind (new, or in a flash crowd) then takes in several
/// answers' worth per round instead of one. With the round's own request
/// that is 4 per stream per round, within the answerer's limit of 8 in a
/// burst and one per 5 s.
pub(crate) const FOLLOW_UPS: u8 = 3;
/// A record that reached us by push is relayed to our subscribers only
/// while it is this fresh (seconds since it was signed): news of a join or
/// a refresh spreads as a rumour, and then stops. Records we pulled are
/// never relayed (Bitcoin's addr relay keeps the same two rules): without
/// them a table that is full and evicts would push every record it
/// re-learns, and gossip in a network larger than the tables never quiets.
pub(crate) const RELAY_WINDOW_S: u64 = 600;

/// Whether a record that entered the table is news for our subscribers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Relay {
    /// Pushed to us: relay while fresh ([`RELAY_WINDOW_S`]).
    IfFresh,
    /// Pulled, imported or bootstrapped: never relayed.
    Never,
}

/// The public key an onion string spells, without validating checksum or
/// curve point; only ever used to *skip* a record, never to admit one.
fn quick_key(onion: &str) -> Option<[u8; 32]> {
    let body = onion.strip_suffix(".onion").unwrap_or(onion);
    if body.len() != 56 || !body.is_ascii() {
        return None;
    }
    let raw = data_encoding::BASE32_NOPAD
        .decode(body.to_ascii_uppercase().as_bytes())
        .ok()?;
    raw.get(..32)?.try_into().ok()
}

/// Whether an entry passes a filter (ignoring `max`).
pub(crate) fn matches(e: &Entry, filter: &PeerFilter) -> bool {
    filter.role.is_none_or(|r| r == e.record().body.role)
        && (!filter.online_only || e.status == PeerStatus::Online)
}

/// The wire form of an entry.
pub(crate) fn to_entry(e: &Entry) -> proto::PeerEntry {
    proto::PeerEntry {
        record: Some(e.record().to_proto()),
        status: match e.status {
            PeerStatus::Unknown => proto::PeerStatus::Unknown,
            PeerStatus::Online => proto::PeerStatus::Online,
            PeerStatus::Offline => proto::PeerStatus::Offline,
        } as i32,
        last_seen: e.last_seen.map_or(0, Timestamp::as_secs),
        learned_from: e
            .provenance()
            .source()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

impl Node {
    /// Send a get-peers request for up to `max` entries. With `delta` and a
    /// cursor from this peer, it asks for what changed since the cursor;
    /// otherwise it carries a filter of what we hold (none while the table
    /// is empty: it would exclude nothing).
    pub(super) fn request_peers(&mut self, conn: ConnectionId, max: u32, delta: bool) {
        let request_id = self.next_request_id;
        self.next_request_id += 1;
        let Some(peer_cursor) = self.conns.get(&conn).map(|c| {
            c.peer
                .filter(|_| delta)
                .and_then(|p| self.cursors.get(&p).copied())
        }) else {
            return;
        };
        let since = peer_cursor.map(|(epoch, version, _, _)| proto::Cursor { epoch, version });
        // With a cursor, the filter holds only what we admitted since the
        // answer before it (pushes, other peers): the peer's changes we
        // already have. Without, everything we hold (every entry has a
        // change version ≥ 1).
        let from = peer_cursor.map_or(0, |(_, _, ours, _)| ours);
        let count = if from == 0 {
            self.table.len()
        } else {
            self.table.changed_since(from).count()
        };
        let known = if count == 0 {
            None
        } else {
            let key = (
                rand_core::Rng::next_u64(&mut self.rng),
                rand_core::Rng::next_u64(&mut self.rng),
            );
            let held = self
                .table
                .changed_since(from)
                .map(|(o, e)| (o.public_key(), e.record().body.sequence));
            Some(KnownFilter::build(held, count, key).into_proto())
        };
        if since.is_some() {
            self.stats.gossip_delta_requests += 1;
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.pending_requests.len() >= MAX_PENDING_REQUESTS {
            c.pending_requests.remove(0);
        }
        c.pending_requests.push(request_id);
        self.send_frame(
            conn,
            Kind::GetPeers(proto::GetPeers {
                request_id,
                max,
                role: proto::Role::Unspecified as i32,
                online_only: false,
                known,
                since,
            }),
        );
    }

    /// Remember (or forget) where a peer's change log stood at its answer,
    /// with where ours stood once that answer and the one before it were
    /// taken in.
    fn store_cursor(&mut self, peer: OnionAddress, cursor: Option<proto::Cursor>) {
        let Some(cursor) = cursor else {
            // Capped without a position, or a peer that restarted or never
            // keeps one: reconcile by filter next time.
            self.cursors.remove(&peer);
            return;
        };
        if self.cursors.len() >= MAX_CURSORS && !self.cursors.contains_key(&peer) {
            // Drop a cursor of a peer we are not connected to, else any.
            let victim = self
                .cursors
                .keys()
                .find(|p| !self.by_peer.contains_key(p))
                .or_else(|| self.cursors.keys().next())
                .copied();
            if let Some(v) = victim {
                self.cursors.remove(&v);
            }
        }
        // The filter of the next pull covers what we admitted since the
        // answer *before* this one: a record usually reaches us and the peer
        // a little apart, and one we got from elsewhere shortly before the
        // peer did would otherwise come back in its next delta.
        let ours = self
            .cursors
            .get(&peer)
            .map_or(self.table.version(), |&(_, _, _, now)| now);
        let now = self.table.version();
        self.cursors
            .insert(peer, (cursor.epoch, cursor.version, ours, now));
    }

    /// How many entries an answer may hold now.
    fn answer_cap(&self) -> usize {
        (self.table.len() * ANSWER_PERCENT / 100).clamp(ANSWER_FLOOR, MAX_ANSWER)
    }

    /// The entries passing `filter`, excluding `exclude` and the records
    /// `known` says the asker holds, and with the cursor the answer may
    /// carry.
    ///
    /// With `since` (a version of our table), the records changed after it,
    /// oldest change first, up to the cap; the cursor is the version of the
    /// last one sent, or our current version when nothing more changed.
    /// Without, a uniform random sample; the cursor is our current version
    /// only when the sample is everything that matched (nothing was left
    /// out by the cap).
    pub(super) fn select_peers(
        &mut self,
        filter: &PeerFilter,
        exclude: Option<OnionAddress>,
        known: Option<&KnownFilter>,
        since: Option<u64>,
    ) -> (Vec<proto::PeerEntry>, Option<proto::Cursor>) {
        let cap = filter.max.min(self.answer_cap());
        let wanted = |o: &OnionAddress, e: &Entry| {
            Some(*o) != exclude
                && matches(e, filter)
                && known.is_none_or(|k| !k.contains(o.public_key(), e.record().body.sequence))
        };
        let cursor = |version| proto::Cursor {
            epoch: self.epoch,
            version,
        };
        if let Some(since) = since {
            let mut pool: Vec<&Entry> = self
                .table
                .changed_since(since)
                .filter(|(o, e)| wanted(o, e))
                .map(|(_, e)| e)
                .collect();
            pool.sort_unstable_by_key(|e| e.changed());
            let version = if pool.len() <= cap {
                self.table.version()
            } else {
                pool.get(cap.wrapping_sub(1)).map_or(since, |e| e.changed())
            };
            pool.truncate(cap);
            let entries = pool.into_iter().map(to_entry).collect();
            return (entries, Some(cursor(version)));
        }
        let mut pool: Vec<&Entry> = self
            .table
            .iter()
            .filter(|(o, e)| wanted(o, e))
            .map(|(_, e)| e)
            .collect();
        let complete = pool.len() <= cap;
        let version = self.table.version();
        let take = cap.min(pool.len());
        // Partial Fisher–Yates with the seeded RNG: a uniform sample.
        for i in 0..take {
            let span = (pool.len() - i) as u64;
            let j = i + (rand_core::Rng::next_u64(&mut self.rng) % span) as usize;
            pool.swap(i, j);
        }
        pool.truncate(take);
        let entries = pool.into_iter().map(to_entry).collect();
        (entries, complete.then(|| cursor(version)))
    }

    pub(super) fn on_get_peers(
        &mut self,
        now: Timestamp,
        conn: ConnectionId,
        mut g: proto::GetPeers,
    ) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !c
            .get_peers_tokens
            .take(now, GET_PEERS_BURST, GET_PEERS_REFILL_MS)
        {
            self.send_error(
                conn,
                proto::ErrorCode::RateLimited,
                "get-peers rate limit: at most 8 requests in a burst, one per 5 s",
            );
            return;
        }
        let requester = c.peer;
        let known = match g.known.take().map(KnownFilter::from_proto).transpose() {
            Ok(k) => k,
            Err(e) => {
                self.send_error(conn, proto::ErrorCode::ProtocolViolation, &e.to_string());
                return;
            }
        };
        let max = if g.max == 0 {
            MAX_ANSWER
        } else {
            (g.max as usize).min(MAX_ANSWER)
        };
        let filter = PeerFilter {
            role: Role::from_proto(g.role),
            online_only: g.online_only,
            max,
        };
        // A cursor of another run of ours, or from our future, is ignored:
        // the answer is then what it would be without one.
        let since = g
            .since
            .filter(|c| c.epoch == self.epoch && c.version <= self.table.version())
            .map(|c| c.version);
        let (peers, cursor) = self.select_peers(&filter, requester, known.as_ref(), since);
        self.send_frame(
            conn,
            Kind::Peers(proto::Peers {
                request_id: g.request_id,
                peers,
                filtered: known.is_some() || since.is_some(),
                cursor,
            }),
        );
    }

    pub(super) fn on_peers(&mut self, now: Timestamp, conn: ConnectionId, p: proto::Peers) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let Some(peer) = c.peer else { return };
        let Some(pos) = c.pending_requests.iter().position(|r| *r == p.request_id) else {
            self.send_error(
                conn,
                proto::ErrorCode::ProtocolViolation,
                "peers answer to no request of ours",
            );
            return;
        };
        c.pending_requests.remove(pos);
        c.answers_deltas |= p.filtered;
        let mut admitted = 0;
        for entry in p.peers.iter().take(MAX_ANSWER) {
            if let Some(record) = &entry.record {
                admitted += usize::from(self.admit_proto(
                    now,
                    record,
                    Provenance::Heard(peer),
                    Some(conn),
                    Relay::Never,
                ));
            }
        }
        // A big answer means our tables still differ a lot (we are new, or
        // the network is): then a filter of everything we hold makes the
        // better next request, as a delta would spend its cap on changes we
        // got elsewhere. Cursors are for tables that agree.
        let big = p.peers.len() >= ANSWER_FLOOR;
        let cursor = p.cursor.filter(|_| !big);
        self.store_cursor(peer, cursor);
        // Still far behind this peer: ask again now rather than in a round.
        let full = self.table.is_full();
        if big
            && admitted * 2 >= p.peers.len()
            && p.filtered
            && !full
            && let Some(c) = self.conns.get_mut(&conn)
            && c.follow_ups > 0
        {
            c.follow_ups -= 1;
            self.stats.gossip_follow_ups += 1;
            self.request_peers(conn, MAX_ANSWER as u32, false);
        }
        if admitted > 0 {
            self.schedule_dial_check(now);
        }
    }

    pub(super) fn on_peer_event(
        &mut self,
        now: Timestamp,
        conn: ConnectionId,
        ev: proto::PeerEvent,
    ) {
        let Some(peer) = self.conns.get(&conn).and_then(|c| c.peer) else {
            return;
        };
        // Only the record matters: liveness is what we observe ourselves.
        if let Some(record) = ev.entry.as_ref().and_then(|e| e.record.as_ref())
            && self.admit_proto(
                now,
                record,
                Provenance::Heard(peer),
                Some(conn),
                Relay::IfFresh,
            )
        {
            self.schedule_dial_check(now);
        }
    }

    /// Offer a wire record to the table; events for what changed, and
    /// pushes when `relay` says it is news. `true` if it was new or newer.
    pub(super) fn admit_proto(
        &mut self,
        now: Timestamp,
        record: &proto::PeerRecord,
        provenance: Provenance,
        from: Option<ConnectionId>,
        relay: Relay,
    ) -> bool {
        // Most gossip repeats what we hold: drop it before parsing the onion
        // (which decompresses a curve point) and long before verifying.
        if let Some(key) = quick_key(&record.onion)
            && self
                .table
                .held_sequence(&key)
                .is_some_and(|held| held >= record.sequence)
        {
            return false;
        }
        let parsed = match SignedRecord::from_proto(record) {
            Ok(r) => r,
            Err(e) => {
                self.table.count_reject(e.code());
                return false;
            }
        };
        let onion = parsed.body.address;
        if onion == self.address() {
            return false;
        }
        // A connected peer speaking about itself is direct contact.
        let provenance = if provenance.source() == Some(onion) && self.by_peer.contains_key(&onion)
        {
            Provenance::Direct
        } else {
            provenance
        };
        // A full table admits a new record only by evicting another, and
        // what it re-learns that way is not news: relaying it would send
        // records round the network for as long as tables churn.
        let saturated = self.table.is_full();
        let fresh = relay == Relay::IfFresh
            && parsed.body.issued_at.saturating_add(RELAY_WINDOW_S) >= now.as_secs();
        match self.table.offer(now, parsed, provenance) {
            Ok(Admitted::New) => {
                self.outputs.push_back(Output::Event(Event::PeerDiscovered {
                    onion,
                    learned_from: provenance.source(),
                }));
                if fresh && !saturated {
                    self.push_event(now, proto::peer_event::Kind::Joined, &onion, from);
                }
                true
            }
            Ok(Admitted::Updated) => {
                let sequence = self
                    .table
                    .get(&onion)
                    .map_or(0, |e| e.record().body.sequence);
                self.outputs
                    .push_back(Output::Event(Event::RecordUpdated { onion, sequence }));
                if fresh {
                    self.push_event(now, proto::peer_event::Kind::Updated, &onion, from);
                }
                true
            }
            Ok(Admitted::Unchanged) | Err(_) => false,
        }
    }

    /// Push a peer event about `onion` to every subscriber except `except`,
    /// within each subscriber's rate limit (dropped pushes are recovered by
    /// periodic get-peers).
    pub(super) fn push_event(
        &mut self,
        now: Timestamp,
        kind: proto::peer_event::Kind,
        onion: &OnionAddress,
        except: Option<ConnectionId>,
    ) {
        let Some(entry) = self.table.get(onion).map(to_entry) else {
            return;
        };
        let (burst, refill) = (self.config.push_burst, self.config.push_refill_ms);
        let targets: Vec<ConnectionId> = self
            .conns
            .iter_mut()
            .filter(|(id, c)| {
                Some(**id) != except && c.subscribed && c.is_established() && c.peer != Some(*onion)
            })
            .filter_map(|(id, c)| c.push_tokens.take(now, burst, refill).then_some(*id))
            .collect();
        for conn in targets {
            self.send_frame(
                conn,
                Kind::PeerEvent(proto::PeerEvent {
                    kind: kind as i32,
                    entry: Some(entry.clone()),
                }),
            );
        }
    }

    /// Push our refreshed record to every authenticated peer, so that
    /// direct contacts never hold an expiring copy.
    pub(super) fn push_own_record(&mut self) {
        let entry = proto::PeerEntry {
            record: Some(self.own_record.to_proto()),
            status: proto::PeerStatus::Online as i32,
            last_seen: self.own_record.body.issued_at,
            learned_from: String::new(),
        };
        let targets: Vec<ConnectionId> = self.by_peer.values().copied().collect();
        for conn in targets {
            self.send_frame(
                conn,
                Kind::PeerEvent(proto::PeerEvent {
                    kind: proto::peer_event::Kind::Updated as i32,
                    entry: Some(entry.clone()),
                }),
            );
        }
    }

    /// One periodic gossip round: a get-peers to a random authenticated
    /// peer. With a cursor from that peer it asks for what changed since
    /// (one round in [`FILTER_EVERY`] sends a filter instead); without, a
    /// filter of what we hold. A peer known to answer deltas is asked for
    /// up to [`MAX_ANSWER`] records (it sends only what we lack); one that
    /// ignored the filter so far gets the small `gossip_max`, as its answer
    /// is a random sample. So does every peer while our table is full: in a
    /// network larger than our table every record we take in evicts
    /// another, and a sample's worth per round keeps the table mixing
    /// without downloading a thousand records every round forever.
    pub(super) fn gossip_round(&mut self, now: Timestamp) {
        let _ = now;
        if self.by_peer.is_empty() {
            return;
        }
        let i = self.random_index(self.by_peer.len());
        if let Some(&conn) = self.by_peer.values().nth(i) {
            self.stats.gossip_rounds += 1;
            let deltas = self.conns.get_mut(&conn).is_some_and(|c| {
                c.follow_ups = FOLLOW_UPS;
                c.answers_deltas
            });
            let full = self.table.is_full();
            let max = if deltas && !full {
                MAX_ANSWER as u32
            } else {
                self.config.gossip_max
            };
            let delta = self.random_index(FILTER_EVERY) != 0;
            self.request_peers(conn, max, delta);
        }
    }
}
