//! Delta get-peers (the known-records filter), its bounds, and outbound
//! rotation (PROTOCOL.md §7, §8.3, §8.4).

use super::harness::{Net, config};
use crate::node::known::KnownFilter;
use crate::node::{ConnectionId, Event, Output, PeerStatus};
use crate::proto;
use crate::proto::frame::Kind;
use crate::record::Role;
use crate::testutil::params;

/// Hub `h` connected to `p`, `r` and `q`.
fn hub() -> (Net, usize, [usize; 3]) {
    Net::star(
        config(params(), 10, Role::Participant),
        [Role::Participant; 3],
    )
}

/// Feed `h` a get-peers on `conn` and return the frames it answers with.
fn ask(net: &mut Net, h: usize, conn: ConnectionId, g: proto::GetPeers) -> Vec<Kind> {
    let now = net.now;
    net.nodes[h].on_get_peers(now, conn, g);
    sent_frames(net, h)
}

/// The frames node `i` has queued to send, taken from its outputs before
/// the network delivers them.
fn sent_frames(net: &mut Net, i: usize) -> Vec<Kind> {
    let mut frames = Vec::new();
    while let Some(out) = net.nodes[i].poll_output() {
        if let Output::Transmit { bytes, .. } = out {
            let mut d = crate::codec::FrameDecoder::default();
            d.push(&bytes);
            while let Ok(Some(k)) = d.next_frame() {
                frames.push(k);
            }
        }
    }
    frames
}

fn get_peers(known: Option<proto::KnownFilter>) -> proto::GetPeers {
    proto::GetPeers {
        request_id: 3,
        max: 1_000,
        known,
        ..proto::GetPeers::default()
    }
}

/// A filter holding the records `h` holds for `onions`, with their
/// sequence shifted by `delta` (wrapping: `u64::MAX` is one older).
fn filter_of(net: &Net, h: usize, onions: &[usize], delta: u64) -> proto::KnownFilter {
    let keys: Vec<([u8; 32], u64)> = onions
        .iter()
        .map(|&i| {
            let e = net.nodes[h].table().get(&net.addr(i)).unwrap();
            (
                *net.addr(i).public_key(),
                e.record().body.sequence.wrapping_add(delta),
            )
        })
        .collect();
    KnownFilter::build(keys.iter().map(|(k, s)| (k, *s)), keys.len(), (5, 6)).into_proto()
}

fn answered(frames: &[Kind]) -> Option<(Vec<String>, bool)> {
    frames.iter().find_map(|k| match k {
        Kind::Peers(ps) => {
            let mut onions: Vec<String> = ps
                .peers
                .iter()
                .map(|e| e.record.as_ref().unwrap().onion.clone())
                .collect();
            onions.sort();
            Some((onions, ps.filtered))
        }
        _ => None,
    })
}

fn errors(frames: &[Kind]) -> Vec<proto::ErrorCode> {
    frames
        .iter()
        .filter_map(|k| match k {
            Kind::Error(e) => proto::ErrorCode::try_from(e.code).ok(),
            _ => None,
        })
        .collect()
}

#[test]
fn a_filtered_answer_holds_only_what_the_asker_lacks() {
    let (mut net, h, [p, r, q]) = hub();
    let conn = net.conn_between(h, p).unwrap();
    // p says it holds r's record: only q comes back, marked filtered.
    let known = filter_of(&net, h, &[r], 0);
    let frames = ask(&mut net, h, conn, get_peers(Some(known)));
    assert_eq!(
        answered(&frames),
        Some((vec![net.addr(q).to_string()], true))
    );
    // Holding an older sequence of r is not holding r.
    let known = filter_of(&net, h, &[r, q], u64::MAX);
    let frames = ask(&mut net, h, conn, get_peers(Some(known)));
    let mut both = vec![net.addr(r).to_string(), net.addr(q).to_string()];
    both.sort();
    assert_eq!(answered(&frames), Some((both.clone(), true)));
    // Everything held: an empty answer.
    let known = filter_of(&net, h, &[r, q], 0);
    let frames = ask(&mut net, h, conn, get_peers(Some(known)));
    assert_eq!(answered(&frames), Some((vec![], true)));
    // No filter: the plain sample, not marked filtered.
    let frames = ask(&mut net, h, conn, get_peers(None));
    assert_eq!(answered(&frames), Some((both, false)));
}

#[test]
fn bad_filters_get_a_protocol_violation_and_no_answer() {
    let (mut net, h, [p, ..]) = hub();
    let conn = net.conn_between(h, p).unwrap();
    for (bits, hashes) in [(0, 7), (16_385, 7), (8, 0), (8, 17)] {
        let bad = proto::KnownFilter {
            bits: vec![0; bits],
            hashes,
            key0: 1,
            key1: 2,
        };
        let frames = ask(&mut net, h, conn, get_peers(Some(bad)));
        assert_eq!(answered(&frames), None, "{bits} bytes, {hashes} hashes");
        assert_eq!(errors(&frames), vec![proto::ErrorCode::ProtocolViolation]);
    }
    // The connection is kept.
    assert!(net.conn_between(h, p).is_some());
}

#[test]
fn get_peers_are_rate_limited_per_stream() {
    let (mut net, h, [p, ..]) = hub();
    net.advance(60_000);
    let conn = net.conn_between(h, p).unwrap();
    let mut answers = 0;
    let mut limited = 0;
    for _ in 0..20 {
        let frames = ask(&mut net, h, conn, get_peers(None));
        answers += usize::from(answered(&frames).is_some());
        limited += errors(&frames)
            .iter()
            .filter(|c| **c == proto::ErrorCode::RateLimited)
            .count();
    }
    assert_eq!((answers, limited), (8, 12));
    // Tokens come back with time.
    net.advance(10_000);
    assert!(answered(&ask(&mut net, h, conn, get_peers(None))).is_some());
}

#[test]
fn requests_carry_a_filter_and_deltas_raise_the_gossip_size() {
    let (mut net, h, [p, ..]) = hub();
    // p's requests to h carried its table; h answered filtered, so p now
    // asks h for up to 1,000 records per round.
    let conn = net.conn_between(p, h).unwrap();
    assert!(net.nodes[p].conns[&conn].answers_deltas);
    let pending_before = net.nodes[p].stats().gossip_rounds;
    net.advance(120_000);
    assert!(net.nodes[p].stats().gossip_rounds > pending_before);
    assert_eq!(net.nodes[p].stats().known_peers, 3);
}

/// The onions of an answer in the order sent, and its cursor.
fn answer_with_cursor(frames: &[Kind]) -> Option<(Vec<String>, Option<proto::Cursor>)> {
    frames.iter().find_map(|k| match k {
        Kind::Peers(ps) => Some((
            ps.peers
                .iter()
                .map(|e| e.record.as_ref().unwrap().onion.clone())
                .collect(),
            ps.cursor,
        )),
        _ => None,
    })
}

fn since(epoch: u64, version: u64, max: u32) -> proto::GetPeers {
    proto::GetPeers {
        request_id: 4,
        max,
        since: Some(proto::Cursor { epoch, version }),
        ..proto::GetPeers::default()
    }
}

#[test]
fn a_cursor_answer_holds_only_what_changed_since() {
    let (mut net, h, [p, r, q]) = hub();
    let conn = net.conn_between(h, p).unwrap();
    let epoch = net.nodes[h].epoch;
    // A complete sample carries h's position.
    let (all, cursor) = answer_with_cursor(&ask(&mut net, h, conn, get_peers(None))).unwrap();
    assert_eq!(all.len(), 2);
    let cursor = cursor.expect("a complete answer carries a cursor");
    assert_eq!(cursor.epoch, epoch);
    assert_eq!(cursor.version, net.nodes[h].table().version());
    // Nothing changed since: an empty answer at the same position.
    let frames = ask(&mut net, h, conn, since(epoch, cursor.version, 1_000));
    assert_eq!(answer_with_cursor(&frames), Some((vec![], Some(cursor))));
    assert_eq!(answered(&frames), Some((vec![], true)));
    // A newcomer connects to h: the next delta is that record alone.
    let s = net.add_default(14, Role::Participant);
    net.connect(s, h);
    let frames = ask(&mut net, h, conn, since(epoch, cursor.version, 1_000));
    let (got, next) = answer_with_cursor(&frames).unwrap();
    assert_eq!(got, vec![net.addr(s).to_string()]);
    assert!(next.unwrap().version > cursor.version);
    // The requester never hears of itself, and r and q are unchanged.
    assert!(!got.contains(&net.addr(p).to_string()));
    let _ = (r, q);
}

#[test]
fn paged_cursors_visit_every_change_once_in_order() {
    let (mut net, h, [p, ..]) = hub();
    for n in 20..26 {
        let x = net.add_default(n, Role::Participant);
        net.connect(x, h);
    }
    net.advance(20_000);
    let conn = net.conn_between(h, p).unwrap();
    let epoch = net.nodes[h].epoch;
    let table = net.nodes[h].table();
    let mut expected: Vec<(u64, String)> = table
        .iter()
        .filter(|(o, _)| **o != net.addr(p))
        .map(|(o, e)| (e.changed(), o.to_string()))
        .collect();
    expected.sort();
    let end = table.version();
    // Two records per answer: each page continues where the last stopped.
    let (mut version, mut seen) = (0, Vec::new());
    for _ in 0..expected.len() {
        net.advance(5_000); // stay within the get-peers rate limit
        let frames = ask(&mut net, h, conn, since(epoch, version, 2));
        let (got, cursor) = answer_with_cursor(&frames).unwrap();
        let cursor = cursor.unwrap();
        assert!(cursor.version >= version, "a cursor never moves back");
        version = cursor.version;
        seen.extend(got);
        if version == end {
            break;
        }
    }
    let order: Vec<String> = expected.into_iter().map(|(_, o)| o).collect();
    assert_eq!(seen, order);
    assert_eq!(version, end);
}

#[test]
fn foreign_or_future_cursors_and_capped_samples() {
    let (mut net, h, [p, ..]) = hub();
    let conn = net.conn_between(h, p).unwrap();
    let epoch = net.nodes[h].epoch;
    let version = net.nodes[h].table().version();
    // Another run's epoch, or a version h never reached: answered as if
    // there were no cursor (the full sample, with h's real position).
    for bad in [
        since(epoch ^ 1, version, 1_000),
        since(epoch, version + 1, 1_000),
    ] {
        net.advance(5_000);
        let (got, cursor) = answer_with_cursor(&ask(&mut net, h, conn, bad)).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(cursor, Some(proto::Cursor { epoch, version }));
    }
    // A sample the cap cut short has no position to continue from.
    let capped = proto::GetPeers {
        max: 1,
        ..get_peers(None)
    };
    net.advance(5_000);
    let (got, cursor) = answer_with_cursor(&ask(&mut net, h, conn, capped)).unwrap();
    assert_eq!((got.len(), cursor), (1, None));
}

#[test]
fn gossip_continues_from_cursors_and_still_reconciles_by_filter() {
    let (mut net, h, [p, ..]) = hub();
    // p's first request (at the handshake) sent a filter; h's complete
    // answer left p a cursor, so most later rounds ask for changes only.
    assert!(net.nodes[p].cursors.contains_key(&net.addr(h)));
    net.advance(1_800_000);
    let stats = net.nodes[p].stats();
    assert!(stats.gossip_rounds >= 40, "{stats:?}");
    assert!(
        stats.gossip_delta_requests * 2 > stats.gossip_rounds,
        "{stats:?}"
    );
    assert!(
        stats.gossip_delta_requests < stats.gossip_rounds,
        "{stats:?}"
    );
    assert_eq!(stats.known_peers, 3);
}

/// The get-peers `p` sends to `h` now (taken from its outputs before the
/// network delivers it).
fn next_request(net: &mut Net, p: usize, h: usize, delta: bool) -> proto::GetPeers {
    let conn = net.conn_between(p, h).unwrap();
    net.nodes[p].request_peers(conn, 1_000, delta);
    sent_frames(net, p)
        .into_iter()
        .find_map(|k| match k {
            Kind::GetPeers(g) => Some(g),
            _ => None,
        })
        .expect("a get-peers was sent")
}

#[test]
fn a_cursor_pull_filters_only_recent_admissions() {
    let (mut net, h, [p, ..]) = hub();
    for n in 30..40 {
        let x = net.add_default(n, Role::Participant);
        net.connect(x, h);
    }
    net.advance(60_000);
    // p holds h's cursor and many records; two quiet rounds later, nothing
    // was admitted since the answer before last: a cursor and no filter.
    for _ in 0..2 {
        let g = next_request(&mut net, p, h, true);
        let (now, conn) = (net.now, net.conn_between(h, p).unwrap());
        net.nodes[h].on_get_peers(now, conn, g);
        net.drain();
        net.advance(6_000);
    }
    assert!(net.nodes[p].table().len() >= 12);
    let g = next_request(&mut net, p, h, true);
    assert!(g.since.is_some(), "{g:?}");
    assert_eq!(g.known, None, "{g:?}");
    // Without delta (the one-in-8 round) the filter covers the whole table.
    let full = next_request(&mut net, p, h, false);
    assert!(full.since.is_none());
    let bits = full.known.expect("a full filter").bits.len();
    assert!(bits * 8 >= 10 * net.nodes[p].table().len(), "{bits} bytes");
}

/// A node that keeps `target` outbound streams and never rotates.
fn quiet(n: u32, target: usize) -> crate::node::NodeConfig {
    let mut cfg = config(params(), n, Role::Participant);
    cfg.target_outbound = target;
    cfg.rotate_interval_ms = 0;
    cfg
}

#[test]
fn rotation_replaces_an_outbound_connection_without_offline_marks() {
    let mut net = Net::new();
    let mut cfg = config(params(), 1, Role::Participant);
    cfg.target_outbound = 1;
    cfg.rotate_interval_ms = 60_000;
    let a = net.add(1, cfg);
    // b dials nobody, c only b: every stream a has is one a opened.
    let b = net.add(2, quiet(2, 0));
    let c = net.add(3, quiet(3, 1));
    // a dials b; c is known to a only through b.
    net.connect(c, b);
    net.connect(a, b);
    assert_eq!(net.nodes[a].stats().known_peers, 2);
    assert!(net.conn_between(a, c).is_none());
    // Within 1.5 rotation periods a dials c and drops b (its only other
    // outbound stream), politely.
    for _ in 0..90 {
        if net.conn_between(a, c).is_some() {
            break;
        }
        net.advance(1_000);
    }
    assert!(net.conn_between(a, c).is_some(), "a did not rotate to c");
    assert!(net.conn_between(a, b).is_none(), "a kept both streams");
    let (sa, sb) = (net.addr(a), net.addr(b));
    assert!(!net.events_of(b).contains(&Event::PeerOffline { onion: sa }));
    assert_ne!(net.nodes[b].peer(&sa).unwrap().status, PeerStatus::Offline);
    assert_ne!(net.nodes[a].peer(&sb).unwrap().status, PeerStatus::Offline);
    // Neither side redials the rotated stream at once.
    net.advance(1_000);
    assert!(net.conn_between(a, b).is_none() && net.conn_between(b, a).is_none());
}

#[test]
fn rotation_off_keeps_the_topology() {
    let mut net = Net::new();
    let mut cfg = config(params(), 1, Role::Participant);
    cfg.target_outbound = 1;
    cfg.rotate_interval_ms = 0;
    let a = net.add(1, cfg);
    // b dials nobody, c only b: every stream a has is one a opened.
    let b = net.add(2, quiet(2, 0));
    let c = net.add(3, quiet(3, 1));
    net.connect(c, b);
    net.connect(a, b);
    net.advance(900_000);
    assert!(net.conn_between(a, c).is_none());
    assert!(net.conn_between(a, b).is_some());
}
