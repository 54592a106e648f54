//! What a node sends of its own accord when records arrive: the pushes to
//! its subscribers (PROTOCOL.md §7 "Pushes": pushed records while fresh,
//! never pulled ones, nothing a full table re-learns by evicting another
//! entry), and the catch-up requests after a big answer (§8.4); and how
//! much a full table asks for.

use super::harness::{Net, config};
use crate::node::gossip::{FOLLOW_UPS, RELAY_WINDOW_S};
use crate::node::{ConnectionId, Output};
use crate::proto;
use crate::proto::frame::Kind;
use crate::record::Role;
use crate::testutil::{identity, params, record};

/// Hub `h` (table capacity `capacity`) connected to `p`, `r` and `q`, all
/// subscribed to it; the outputs of the connection set-up are drained.
fn hub(capacity: usize) -> (Net, usize, [usize; 3]) {
    let mut cfg = config(params(), 10, Role::Participant);
    cfg.table_capacity = capacity;
    Net::star(cfg, [Role::Participant; 3])
}

/// The frames `i` queued, with the connection each goes to.
fn sent(net: &mut Net, i: usize) -> Vec<(ConnectionId, Kind)> {
    let mut frames = Vec::new();
    while let Some(out) = net.nodes[i].poll_output() {
        if let Output::Transmit { conn, bytes } = out {
            let mut d = crate::codec::FrameDecoder::default();
            d.push(&bytes);
            while let Ok(Some(k)) = d.next_frame() {
                frames.push((conn, k));
            }
        }
    }
    frames
}

/// The connections `frames` pushed a peer event about `onion` to, sorted.
fn pushed_to(frames: &[(ConnectionId, Kind)], onion: &str) -> Vec<ConnectionId> {
    let mut to: Vec<ConnectionId> = frames
        .iter()
        .filter_map(|(c, k)| match k {
            Kind::PeerEvent(ev)
                if ev
                    .entry
                    .as_ref()
                    .and_then(|e| e.record.as_ref())
                    .is_some_and(|r| r.onion == onion) =>
            {
                Some(*c)
            }
            _ => None,
        })
        .collect();
    to.sort();
    to
}

/// The wire entry of identity `n`'s record.
fn entry(n: u32, sequence: u64, issued_at: u64) -> (String, proto::PeerEntry) {
    let rec = record(
        &params(),
        &identity(n),
        Role::Participant,
        sequence,
        issued_at,
    );
    let onion = rec.body.address.to_string();
    (
        onion,
        proto::PeerEntry {
            record: Some(rec.to_proto()),
            ..proto::PeerEntry::default()
        },
    )
}

/// Feed `h` a pushed `Joined` event on `conn`; the frames it sends.
fn push(
    net: &mut Net,
    h: usize,
    conn: ConnectionId,
    e: proto::PeerEntry,
) -> Vec<(ConnectionId, Kind)> {
    let now = net.now;
    net.nodes[h].on_peer_event(
        now,
        conn,
        proto::PeerEvent {
            kind: proto::peer_event::Kind::Joined as i32,
            entry: Some(e),
        },
    );
    sent(net, h)
}

#[test]
fn a_fresh_pushed_record_is_relayed_to_every_other_subscriber() {
    let (mut net, h, [p, r, q]) = hub(100);
    let from_p = net.conn_between(h, p).unwrap();
    let mut others = vec![
        net.conn_between(h, r).unwrap(),
        net.conn_between(h, q).unwrap(),
    ];
    others.sort();
    let (onion, e) = entry(50, 1, net.now.as_secs());
    let frames = push(&mut net, h, from_p, e);
    assert_eq!(pushed_to(&frames, &onion), others, "relayed, not back to p");
    // The same record again is not news.
    let (_, e) = entry(50, 1, net.now.as_secs());
    assert!(pushed_to(&push(&mut net, h, from_p, e), &onion).is_empty());
    // A newer sequence is, and goes out as an update.
    let (_, e) = entry(50, 2, net.now.as_secs());
    assert_eq!(pushed_to(&push(&mut net, h, from_p, e), &onion), others);
}

#[test]
fn a_pushed_record_older_than_the_relay_window_is_kept_but_not_relayed() {
    let (mut net, h, [p, r, _q]) = hub(100);
    let from_p = net.conn_between(h, p).unwrap();
    let now = net.now.as_secs();
    let (onion, e) = entry(51, 1, now - RELAY_WINDOW_S - 1);
    assert!(pushed_to(&push(&mut net, h, from_p, e), &onion).is_empty());
    assert!(
        net.nodes[h].peer(&identity(51).address()).is_some(),
        "admitted"
    );
    // At the edge of the window it is still news.
    let (onion, e) = entry(52, 1, now - RELAY_WINDOW_S);
    let to_r = net.conn_between(h, r).unwrap();
    assert!(pushed_to(&push(&mut net, h, from_p, e), &onion).contains(&to_r));
}

#[test]
fn records_from_a_peers_answer_are_admitted_but_not_relayed() {
    let (mut net, h, [p, _r, _q]) = hub(100);
    let from_p = net.conn_between(h, p).unwrap();
    let now = net.now;
    net.nodes[h].request_peers(from_p, 1_000, false);
    let request_id = sent(&mut net, h)
        .into_iter()
        .find_map(|(_, k)| match k {
            Kind::GetPeers(g) => Some(g.request_id),
            _ => None,
        })
        .unwrap();
    let (onion, e) = entry(53, 1, now.as_secs());
    net.nodes[h].on_peers(
        now,
        from_p,
        proto::Peers {
            request_id,
            peers: vec![e],
            ..proto::Peers::default()
        },
    );
    assert!(pushed_to(&sent(&mut net, h), &onion).is_empty());
    assert!(net.nodes[h].peer(&identity(53).address()).is_some());
}

#[test]
fn a_full_table_does_not_relay_what_it_admits_by_eviction() {
    // Capacity 4: the three direct peers and one heard-of record.
    let (mut net, h, [p, r, _q]) = hub(4);
    let from_p = net.conn_between(h, p).unwrap();
    let to_r = net.conn_between(h, r).unwrap();
    let now = net.now.as_secs();
    let (first, e) = entry(54, 1, now);
    assert!(pushed_to(&push(&mut net, h, from_p, e), &first).contains(&to_r));
    // Full now: the next one enters by evicting the first, unannounced.
    let (second, e) = entry(55, 1, now);
    assert!(pushed_to(&push(&mut net, h, from_p, e), &second).is_empty());
    assert!(net.nodes[h].peer(&identity(55).address()).is_some());
    assert!(
        net.nodes[h].peer(&identity(54).address()).is_none(),
        "evicted"
    );
    assert_eq!(net.nodes[h].stats().known_peers, 4);
    // An update of a held record evicts nothing: still news.
    let (_, e) = entry(55, 2, now);
    assert!(pushed_to(&push(&mut net, h, from_p, e), &second).contains(&to_r));
}

/// The `max` of the get-peers that one periodic round of `h` sends, with
/// every peer known to answer filtered requests.
fn gossip_max_asked(net: &mut Net, h: usize) -> u32 {
    for c in net.nodes[h].conns.values_mut() {
        c.answers_deltas = true;
    }
    let now = net.now;
    net.nodes[h].gossip_round(now);
    sent(net, h)
        .into_iter()
        .find_map(|(_, k)| match k {
            Kind::GetPeers(g) => Some(g.max),
            _ => None,
        })
        .unwrap()
}

#[test]
fn a_full_table_asks_for_a_sample_not_for_everything() {
    // Three entries (the spokes) in a table of 100: ask for up to 1,000.
    let (mut net, h, _) = hub(100);
    assert_eq!(gossip_max_asked(&mut net, h), 1_000);
    // The same in a table of three: full, so a sample's worth.
    let (mut net, h, _) = hub(3);
    assert_eq!(net.nodes[h].stats().known_peers, 3);
    let small = net.nodes[h].config.gossip_max;
    assert_eq!(gossip_max_asked(&mut net, h), small);
    assert!(small < 1_000);
}

/// Feed `h` an answer on `conn` to its pending request `request_id`, of
/// the records of identities `ids`; the request it sends at once, if any.
fn answer(
    net: &mut Net,
    h: usize,
    conn: ConnectionId,
    request_id: u64,
    ids: std::ops::Range<u32>,
    filtered: bool,
) -> Option<proto::GetPeers> {
    let now = net.now;
    let peers = ids.map(|n| entry(n, 1, now.as_secs()).1).collect();
    net.nodes[h].on_peers(
        now,
        conn,
        proto::Peers {
            request_id,
            peers,
            filtered,
            cursor: None,
        },
    );
    sent(net, h).into_iter().find_map(|(c, k)| match k {
        Kind::GetPeers(g) if c == conn => Some(g),
        _ => None,
    })
}

/// Make `h` send a get-peers on `conn`; its request id.
fn pending(net: &mut Net, h: usize, conn: ConnectionId) -> u64 {
    net.nodes[h].request_peers(conn, 1_000, false);
    sent(net, h)
        .into_iter()
        .find_map(|(_, k)| match k {
            Kind::GetPeers(g) => Some(g.request_id),
            _ => None,
        })
        .unwrap()
}

#[test]
fn a_big_answer_with_news_is_followed_up_at_once_a_few_times_a_round() {
    let (mut net, h, [p, ..]) = hub(10_000);
    let conn = net.conn_between(h, p).unwrap();
    let mut id = pending(&mut net, h, conn);
    let mut next = 100;
    for _ in 0..FOLLOW_UPS {
        let g = answer(&mut net, h, conn, id, next..next + 64, true)
            .expect("a big answer with new records is followed up");
        // A full filter of everything held (it now includes that answer).
        assert_eq!((g.max, g.since), (1_000, None));
        assert!(g.known.is_some());
        id = g.request_id;
        next += 64;
    }
    assert_eq!(
        net.nodes[h].stats().gossip_follow_ups,
        u64::from(FOLLOW_UPS)
    );
    // The round's budget is spent: the next big answer waits for a round.
    assert!(answer(&mut net, h, conn, id, next..next + 64, true).is_none());
    assert_eq!(
        net.nodes[h].stats().known_peers,
        3 + 64 * (FOLLOW_UPS as usize + 1)
    );
}

#[test]
fn small_unfiltered_or_stale_answers_and_full_tables_are_not_followed_up() {
    let (mut net, h, [p, ..]) = hub(10_000);
    let conn = net.conn_between(h, p).unwrap();
    // Fewer than 64 entries: we are close to the peer.
    let id = pending(&mut net, h, conn);
    assert!(answer(&mut net, h, conn, id, 100..163, true).is_none());
    // A random sample (the peer ignored our filter).
    let id = pending(&mut net, h, conn);
    assert!(answer(&mut net, h, conn, id, 200..264, false).is_none());
    // Fewer than half new: the tables have all but met.
    let id = pending(&mut net, h, conn);
    assert!(answer(&mut net, h, conn, id, 300..364, true).is_some());
    let id = pending(&mut net, h, conn);
    assert!(answer(&mut net, h, conn, id, 310..374, true).is_none());
    // Exactly half new still is.
    let id = pending(&mut net, h, conn);
    assert!(answer(&mut net, h, conn, id, 342..406, true).is_some());
    assert_eq!(net.nodes[h].stats().gossip_follow_ups, 2);
    // A full table takes in news only by evicting: no catching up.
    let (mut net, h, [p, ..]) = hub(50);
    let conn = net.conn_between(h, p).unwrap();
    let id = pending(&mut net, h, conn);
    assert!(answer(&mut net, h, conn, id, 100..164, true).is_none());
    assert_eq!(net.nodes[h].stats().gossip_follow_ups, 0);
}
