use super::harness::{Net, T0, config};
use crate::identity::SignatureContext;
use crate::network::NetworkName;
use crate::node::{Event, PeerFilter, PeerStatus, SendError, Signer, transcript};
use crate::proto;
use crate::proto::frame::Kind;
use crate::record::Role;
use crate::testutil::{identity, params, record};

fn online(net: &Net, i: usize, j: usize) -> bool {
    let onion = net.addr(j);
    net.events_of(i).contains(&Event::PeerOnline { onion })
}

fn failure_codes(net: &Net, i: usize) -> Vec<String> {
    net.events_of(i)
        .into_iter()
        .filter_map(|e| match e {
            Event::HandshakeFailed { reason, .. } => Some(reason.code),
            _ => None,
        })
        .collect()
}

fn error_frames(net: &Net, r: u64) -> Vec<proto::ErrorCode> {
    net.raw_rx
        .get(&r)
        .into_iter()
        .flatten()
        .filter_map(|k| match k {
            Kind::Error(e) => proto::ErrorCode::try_from(e.code).ok(),
            _ => None,
        })
        .collect()
}

fn hello(net: &Net, signer: u32, target: usize, version: u32, network: &str) -> proto::Hello {
    proto::Hello {
        version,
        network: network.into(),
        record: Some(record(&params(), &identity(signer), Role::Participant, 1, T0).to_proto()),
        nonce: vec![9; 32],
        target: net.addr(target).to_string(),
    }
}

#[test]
fn handshake_authenticates_both_sides() {
    let mut net = Net::new();
    let a = net.add_default(1, Role::Participant);
    let b = net.add_default(2, Role::Router);
    net.connect(a, b);
    assert!(online(&net, a, b) && online(&net, b, a));
    let pa = net.nodes[a].peer(&net.addr(b)).unwrap();
    assert!(pa.connected && pa.direct && pa.status == PeerStatus::Online);
    assert_eq!(pa.record.body.role, Role::Router);
    let pb = net.nodes[b].peer(&net.addr(a)).unwrap();
    assert!(pb.connected && pb.direct);
    assert_eq!(net.nodes[a].stats().connections, 1);
    assert_eq!(net.nodes[b].stats().connections, 1);
}

#[test]
fn wrong_network_is_refused_with_a_clear_error() {
    let mut net = Net::new();
    let other = crate::network::NetworkParams::new(NetworkName::new("elsewhere").unwrap())
        .with_min_difficulty(2);
    let a = net.add_default(1, Role::Participant);
    let b = net.add(2, config(other, 2, Role::Participant));
    net.connect(a, b);
    assert_eq!(failure_codes(&net, b), vec!["wrong_network"]);
    assert_eq!(
        failure_codes(&net, a),
        vec!["peer_error:error_code_wrong_network"]
    );
    assert!(!online(&net, a, b) && net.conn_between(a, b).is_none());
}

#[test]
fn version_mismatch_is_refused() {
    let mut net = Net::new();
    let b = net.add_default(2, Role::Participant);
    let r = net.raw_open(b);
    let h = hello(&net, 5, b, 2, "torpeer-test");
    net.raw_send(r, Kind::Hello(h));
    assert_eq!(
        error_frames(&net, r),
        vec![proto::ErrorCode::VersionMismatch]
    );
    assert!(net.raw_closed.contains(&r));
    assert_eq!(failure_codes(&net, b), vec!["version_mismatch"]);
}

#[test]
fn forged_record_is_refused() {
    let mut net = Net::new();
    let b = net.add_default(2, Role::Participant);
    let r = net.raw_open(b);
    let mut h = hello(&net, 5, b, 1, "torpeer-test");
    if let Some(rec) = h.record.as_mut() {
        rec.signature[3] ^= 1;
    }
    net.raw_send(r, Kind::Hello(h));
    assert_eq!(error_frames(&net, r), vec![proto::ErrorCode::BadRecord]);
    assert_eq!(failure_codes(&net, b), vec!["bad_record:bad_signature"]);
    assert_eq!(
        net.nodes[b].stats().records_rejected,
        vec![("bad_signature".into(), 1)]
    );
}

#[test]
fn self_connection_is_refused() {
    let mut net = Net::new();
    let b = net.add_default(2, Role::Participant);
    let r = net.raw_open(b);
    net.raw_send(r, Kind::Hello(hello(&net, 2, b, 1, "torpeer-test")));
    assert_eq!(failure_codes(&net, b), vec!["self_connection"]);
}

#[test]
fn replayed_record_does_not_authenticate() {
    let mut net = Net::new();
    let b = net.add_default(2, Role::Participant);
    let r = net.raw_open(b);
    // The attacker holds identity 5's valid, signed record, but not its key.
    net.raw_send(r, Kind::Hello(hello(&net, 5, b, 1, "torpeer-test")));
    let ack = net.raw_rx[&r]
        .iter()
        .find_map(|k| match k {
            Kind::HelloAck(a) => Some(a.clone()),
            _ => None,
        })
        .unwrap();
    let attacker = identity(66);
    let t = transcript(
        &params().name.id(),
        &identity(5).address(),
        &net.addr(b),
        &[9; 32],
        &ack.nonce.clone().try_into().unwrap(),
        Signer::Dialler,
    );
    let sig = attacker.sign(SignatureContext::Handshake, &t);
    net.raw_send(
        r,
        Kind::HelloFinish(proto::HelloFinish {
            signature: sig.to_vec(),
        }),
    );
    assert_eq!(failure_codes(&net, b), vec!["bad_signature"]);
    assert!(net.raw_closed.contains(&r));
    assert!(net.nodes[b].peer(&identity(5).address()).is_none());
    // The same transcript signed by the real key would have passed.
    let good = identity(5).sign(SignatureContext::Handshake, &t);
    assert!(crate::identity::verify(
        &identity(5).address(),
        SignatureContext::Handshake,
        &t,
        &good
    ));
}

#[test]
fn dialler_refuses_a_listener_that_is_not_the_dialled_onion() {
    let mut net = Net::new();
    let a = net.add_default(1, Role::Participant);
    let x = identity(40).address();
    net.raw_targets.insert(x);
    let now = net.now;
    net.nodes[a].add_bootstrap(now, x, None);
    net.drain();
    let r = net.last_raw();
    let Kind::Hello(h) = &net.raw_rx[&r][0] else {
        panic!("expected Hello")
    };
    assert_eq!(h.target, x.to_string());
    // Someone else's perfectly valid record answers.
    let ack = proto::HelloAck {
        version: 1,
        network: "torpeer-test".into(),
        record: Some(record(&params(), &identity(41), Role::Participant, 1, T0).to_proto()),
        nonce: vec![1; 32],
        signature: vec![0; 64],
    };
    net.raw_send(r, Kind::HelloAck(ack));
    assert_eq!(failure_codes(&net, a), vec!["wrong_onion"]);
    assert_eq!(error_frames(&net, r), vec![proto::ErrorCode::BadHandshake]);
}

#[test]
fn listener_refuses_a_hello_meant_for_another_onion() {
    let mut net = Net::new();
    let b = net.add_default(2, Role::Participant);
    let r = net.raw_open(b);
    let mut h = hello(&net, 5, b, 1, "torpeer-test");
    h.target = identity(77).address().to_string();
    net.raw_send(r, Kind::Hello(h));
    assert_eq!(failure_codes(&net, b), vec!["wrong_target"]);
}

/// Hub `h` directly connected to a participant, a router and a third
/// node; `d` is only heard of.
fn hub() -> (Net, usize, [usize; 3]) {
    use Role::{Participant, Router};
    Net::star(
        config(params(), 10, Router),
        [Participant, Router, Participant],
    )
}

#[test]
fn get_peers_honours_filters() {
    let (mut net, h, [p, r, q]) = hub();
    net.kill(q);
    net.advance(120_000);
    let conn = net.conn_between(h, p).unwrap();
    let ask = |net: &mut Net, role: proto::Role, online_only: bool, max: u32| {
        let now = net.now;
        net.nodes[h].on_get_peers(
            now,
            conn,
            proto::GetPeers {
                request_id: 7,
                max,
                role: role as i32,
                online_only,
                known: None,
                since: None,
            },
        );
        let mut got = Vec::new();
        while let Some(out) = net.nodes[h].poll_output() {
            if let crate::node::Output::Transmit { bytes, .. } = out {
                let mut d = crate::codec::FrameDecoder::default();
                d.push(&bytes);
                if let Ok(Some(Kind::Peers(ps))) = d.next_frame() {
                    assert_eq!(ps.request_id, 7);
                    got = ps
                        .peers
                        .iter()
                        .map(|e| e.record.as_ref().unwrap().onion.clone())
                        .collect::<Vec<_>>();
                    got.sort();
                }
            }
        }
        got
    };
    let (sr, sq, sh) = (
        net.addr(r).to_string(),
        net.addr(q).to_string(),
        net.addr(h).to_string(),
    );
    // The requester itself is never in the answer.
    let mut all = vec![sr.clone(), sq.clone()];
    all.sort();
    assert_eq!(ask(&mut net, proto::Role::Unspecified, false, 0), all);
    assert_eq!(
        ask(&mut net, proto::Role::Router, false, 0),
        vec![sr.clone()]
    );
    assert_eq!(ask(&mut net, proto::Role::Participant, false, 0), vec![sq]);
    assert_eq!(ask(&mut net, proto::Role::Unspecified, true, 0), vec![sr]);
    assert_eq!(ask(&mut net, proto::Role::Unspecified, false, 1).len(), 1);
    // The HTTP list: own record first, same filters.
    let list = net.nodes[h].peer_list(
        net.now,
        &PeerFilter {
            role: Some(Role::Participant),
            online_only: false,
            max: 10,
        },
    );
    assert_eq!(list.peers.len(), 3);
    assert_eq!(list.peers[0].record.as_ref().unwrap().onion, sh);
}

#[test]
fn gossip_spreads_records_and_events_reach_subscribers() {
    let (net, h, [p, r, q]) = hub();
    // p connected first; it heard of r and q through pushed peer events.
    let hs = Some(net.addr(h));
    for j in [r, q] {
        let onion = net.addr(j);
        assert!(
            net.events_of(p).contains(&Event::PeerDiscovered {
                onion,
                learned_from: hs
            }),
            "p should learn {j} from the hub"
        );
    }
    // q connected last and learned p and r from its get-peers answer.
    assert_eq!(net.nodes[q].stats().known_peers, 3);
    assert_eq!(net.nodes[p].peer(&net.addr(q)).unwrap().learned_from, hs);
}

#[test]
fn routers_refuse_app_data_and_participants_deliver() {
    let (mut net, h, [p, _r, q]) = hub();
    let now = net.now;
    let hub_onion = net.addr(h);
    assert_eq!(
        net.nodes[p].send(now, &hub_onion, b"x".to_vec()),
        Err(SendError::RouterRefuses)
    );
    let p_onion = net.addr(p);
    assert_eq!(
        net.nodes[h].send(now, &p_onion, b"x".to_vec()),
        Err(SendError::LocalIsRouter)
    );
    // A misbehaving participant sends app data to the router anyway.
    let conn = net.conn_between(p, h).unwrap();
    net.nodes[p].send_frame(conn, Kind::AppData(proto::AppData { data: vec![1] }));
    net.drain();
    assert!(net.events_of(p).iter().any(|e| matches!(e,
        Event::PeerError { code: proto::ErrorCode::RouterRefusesAppData, peer, .. } if *peer == hub_onion)));
    assert!(net.conn_between(p, h).is_some(), "connection is kept");
    // p → q: dialled on demand, queued, delivered after the handshake.
    let q_onion = net.addr(q);
    net.nodes[p]
        .send(now, &q_onion, b"hello q".to_vec())
        .unwrap();
    net.drain();
    assert!(net.events_of(q).contains(&Event::Message {
        from: p_onion,
        data: b"hello q".to_vec()
    }));
}

#[test]
fn send_errors_are_typed() {
    let (mut net, _h, [p, _r, q]) = hub();
    let now = net.now;
    let q_onion = net.addr(q);
    let unknown = identity(99).address();
    assert_eq!(
        net.nodes[p].send(now, &unknown, vec![]),
        Err(SendError::UnknownPeer)
    );
    let big = vec![0; net.nodes[p].config().max_message_len + 1];
    assert!(matches!(
        net.nodes[p].send(now, &q_onion, big),
        Err(SendError::TooLarge { .. })
    ));
    // Not connected yet: queued while the dial is pending, up to the bound.
    let limit = net.nodes[p].config().send_queue_len;
    for _ in 0..limit {
        net.nodes[p].send(now, &q_onion, vec![1]).unwrap();
    }
    assert_eq!(
        net.nodes[p].send(now, &q_onion, vec![1]),
        Err(SendError::QueueFull)
    );
    net.drain();
    let delivered = net
        .events_of(q)
        .iter()
        .filter(|e| matches!(e, Event::Message { .. }))
        .count();
    assert_eq!(delivered, limit);
    net.nodes[p].shutdown(now);
    assert_eq!(
        net.nodes[p].send(now, &q_onion, vec![1]),
        Err(SendError::ShutDown)
    );
    assert_eq!(SendError::QueueFull.code(), "queue_full");
}

#[test]
fn offline_peers_refuse_sends_until_backoff_passes() {
    let (mut net, _h, [p, _r, q]) = hub();
    let (now, q_onion) = (net.now, net.addr(q));
    net.nodes[p].send(now, &q_onion, vec![1]).unwrap();
    net.drain();
    assert!(net.nodes[p].peer(&q_onion).unwrap().connected);
    net.kill(q);
    net.advance(1_000);
    let info = net.nodes[p].peer(&q_onion).unwrap();
    assert_eq!(info.status, PeerStatus::Offline);
    let now = net.now;
    assert_eq!(
        net.nodes[p].send(now, &q_onion, vec![1]),
        Err(SendError::PeerOffline)
    );
}

#[test]
fn ping_pong_keeps_connections_and_idle_ones_close() {
    let mut net = Net::new();
    let a = net.add_default(1, Role::Participant);
    let b = net.add_default(2, Role::Participant);
    net.connect(a, b);
    net.advance(400_000);
    assert!(net.conn_between(a, b).is_some(), "pings keep it alive");
    assert!(net.log.iter().any(|l| l.contains("Transmit")));
    let pings = net.nodes[a].stats().frames_sent;
    assert!(pings > 3);
    // Now b's traffic to a vanishes: a closes after the idle timeout.
    let cb = net.conn_between(b, a).unwrap();
    let ca = net.conn_between(a, b).unwrap();
    net.black_holes.insert((b, cb));
    net.advance(net.nodes[a].config().idle_timeout_ms + 1_000);
    assert_ne!(
        net.conn_between(a, b),
        Some(ca),
        "the silent stream is closed"
    );
}

#[test]
fn shutdown_says_goodbye() {
    let mut net = Net::new();
    let a = net.add_default(1, Role::Participant);
    let b = net.add_default(2, Role::Participant);
    net.connect(a, b);
    let now = net.now;
    net.nodes[a].shutdown(now);
    net.drain();
    let a_onion = net.addr(a);
    assert!(
        net.events_of(b)
            .contains(&Event::PeerOffline { onion: a_onion })
    );
    assert_eq!(
        net.nodes[b].peer(&a_onion).unwrap().status,
        PeerStatus::Offline
    );
    assert!(net.conn_between(a, b).is_none());
    assert_eq!(net.nodes[a].poll_timeout(), None);
}

#[test]
fn failed_dials_back_off_and_mark_offline() {
    let mut net = Net::new();
    let a = net.add_default(1, Role::Participant);
    let ghost = net.add_default(3, Role::Participant);
    net.down.insert(ghost);
    let list = proto::PeerList {
        network: "torpeer-test".into(),
        source: String::new(),
        generated_at: T0,
        peers: vec![proto::PeerEntry {
            record: Some(record(&params(), &identity(3), Role::Participant, 1, T0).to_proto()),
            status: 0,
            last_seen: 0,
            learned_from: String::new(),
        }],
    };
    let now = net.now;
    assert_eq!(net.nodes[a].handle_peer_list(now, &list, None), 1);
    let g = net.addr(ghost);
    let mut delays = Vec::new();
    let mut seen = 0;
    for _ in 0..20_000 {
        net.advance(1_000);
        let e = net.nodes[a].table().get(&g).unwrap();
        if e.failures > seen {
            seen = e.failures;
            delays.push((
                seen,
                e.next_retry.as_millis().saturating_sub(net.now.as_millis()),
            ));
            if seen == 6 {
                break;
            }
        }
    }
    assert_eq!(delays.len(), 6, "{delays:?}");
    for w in delays.windows(3) {
        assert!(w[2].1 > w[0].1, "backoff grows: {delays:?}");
    }
    let offline_events = net
        .events_of(a)
        .iter()
        .filter(|e| **e == Event::PeerOffline { onion: g })
        .count();
    assert_eq!(offline_events, 1);
    assert_eq!(net.nodes[a].peer(&g).unwrap().status, PeerStatus::Offline);
}

#[test]
fn lost_peer_whose_redial_fails_goes_offline() {
    let mut net = Net::new();
    let a = net.add_default(1, Role::Participant);
    let b = net.add_default(2, Role::Participant);
    net.connect(a, b);
    net.kill(b);
    net.advance(1);
    let b_onion = net.addr(b);
    assert!(
        net.events_of(a)
            .contains(&Event::PeerOffline { onion: b_onion })
    );
}

#[test]
fn own_record_is_refreshed_and_pushed() {
    let mut net = Net::new();
    let mut short = params();
    short.record_ttl_secs = 100;
    let a = net.add(1, config(short.clone(), 1, Role::Participant));
    let b = net.add(2, config(short, 2, Role::Participant));
    net.connect(a, b);
    assert_eq!(net.nodes[a].own_record().body.sequence, 1);
    net.advance(46_000);
    let rec = net.nodes[a].own_record().clone();
    assert_eq!(rec.body.sequence, 2);
    assert!(rec.body.issued_at >= T0 + 45);
    let a_onion = net.addr(a);
    assert!(net.events_of(b).contains(&Event::RecordUpdated {
        onion: a_onion,
        sequence: 2
    }));
    // Kept fresh for longer than one TTL.
    net.advance(200_000);
    assert!(net.nodes[b].peer(&a_onion).is_some());
    assert!(net.nodes[a].own_record().body.sequence >= 5);
}

#[test]
fn garbage_bytes_get_an_error_frame_and_a_close() {
    let mut net = Net::new();
    let b = net.add_default(2, Role::Participant);
    let r = net.raw_open(b);
    net.raw_send_bytes(r, &[0xff; 11]);
    assert_eq!(
        error_frames(&net, r),
        vec![proto::ErrorCode::ProtocolViolation]
    );
    assert!(net.raw_closed.contains(&r));
}

#[test]
fn oversized_frames_are_refused() {
    let mut net = Net::new();
    let b = net.add_default(2, Role::Participant);
    let r = net.raw_open(b);
    // A length prefix announcing 16 MiB.
    net.raw_send_bytes(r, &[0x80, 0x80, 0x80, 0x08]);
    assert_eq!(error_frames(&net, r), vec![proto::ErrorCode::FrameTooLarge]);
    assert!(net.raw_closed.contains(&r));
}

#[test]
fn unknown_frame_kinds_keep_the_connection() {
    let mut net = Net::new();
    let b = net.add_default(2, Role::Participant);
    let r = net.raw_open(b);
    net.raw_send_bytes(r, &[3, 0x98, 0x06, 0x01]);
    assert_eq!(
        error_frames(&net, r),
        vec![proto::ErrorCode::UnknownMessage]
    );
    assert!(!net.raw_closed.contains(&r));
    net.raw_send(r, Kind::Hello(hello(&net, 5, b, 1, "torpeer-test")));
    assert!(
        net.raw_rx[&r]
            .iter()
            .any(|k| matches!(k, Kind::HelloAck(_)))
    );
}

#[test]
fn session_frames_before_the_handshake_are_violations() {
    let mut net = Net::new();
    let b = net.add_default(2, Role::Participant);
    let r = net.raw_open(b);
    net.raw_send(r, Kind::GetPeers(proto::GetPeers::default()));
    assert_eq!(
        error_frames(&net, r),
        vec![proto::ErrorCode::ProtocolViolation]
    );
    assert!(net.raw_closed.contains(&r));
}

#[test]
fn extra_inbound_connections_are_overloaded() {
    let mut net = Net::new();
    let mut cfg = config(params(), 2, Role::Participant);
    cfg.max_connections = 1;
    let b = net.add(2, cfg);
    let _first = net.raw_open(b);
    let second = net.raw_open(b);
    assert_eq!(
        error_frames(&net, second),
        vec![proto::ErrorCode::Overloaded]
    );
    assert!(net.raw_closed.contains(&second));
}

#[test]
fn handshake_timeout_closes() {
    let mut net = Net::new();
    let b = net.add_default(2, Role::Participant);
    let r = net.raw_open(b);
    net.advance(31_000);
    assert!(net.raw_closed.contains(&r));
    assert_eq!(failure_codes(&net, b), vec!["handshake_timeout"]);
}

#[test]
fn simultaneous_dials_keep_one_connection() {
    let mut net = Net::new();
    let a = net.add_default(1, Role::Participant);
    let b = net.add_default(2, Role::Participant);
    let (oa, ob) = (net.addr(a), net.addr(b));
    let now = net.now;
    net.nodes[a].add_bootstrap(now, ob, None);
    net.nodes[b].add_bootstrap(now, oa, None);
    net.drain();
    assert_eq!(net.nodes[a].stats().connections, 1);
    assert_eq!(net.nodes[b].stats().connections, 1);
    assert!(net.conn_between(a, b).is_some());
    let onlines = net
        .events_of(a)
        .iter()
        .filter(|e| **e == Event::PeerOnline { onion: ob })
        .count();
    assert_eq!(onlines, 1);
}

fn run_scenario() -> Vec<String> {
    let mut net = Net::new();
    let ids: Vec<usize> = (0..6)
        .map(|n| {
            net.add_default(
                20 + n,
                if n % 3 == 0 {
                    Role::Router
                } else {
                    Role::Participant
                },
            )
        })
        .collect();
    for &i in &ids[1..] {
        net.connect(i, ids[0]);
    }
    net.advance(300_000);
    net.kill(ids[2]);
    net.advance(300_000);
    net.log
}

#[test]
fn same_seed_and_inputs_give_identical_outputs() {
    let first = run_scenario();
    let second = run_scenario();
    assert!(first.len() > 50);
    assert_eq!(first, second);
}

#[test]
fn a_small_network_converges_from_one_bootstrap() {
    let mut net = Net::new();
    let ids: Vec<usize> = (0..12)
        .map(|n| net.add_default(30 + n, Role::Participant))
        .collect();
    for &i in &ids[1..] {
        net.connect(i, ids[0]);
    }
    net.advance(120_000);
    for &i in &ids {
        assert_eq!(net.nodes[i].stats().known_peers, ids.len() - 1, "node {i}");
    }
}

#[test]
fn peer_list_round_trips_through_persistence() {
    let (net, h, [p, r, q]) = hub();
    let now = net.now;
    let list = net.nodes[p].peer_list(
        now,
        &PeerFilter {
            max: usize::MAX,
            ..PeerFilter::default()
        },
    );
    // Own record first, then the three peers p knows.
    assert_eq!(list.peers.len(), 4);
    let mut fresh = Net::new();
    let p2 = fresh.add_default(11, Role::Participant);
    let before = fresh.nodes[p2].stats().known_peers;
    assert_eq!(before, 0);
    // Our own record in the list is skipped, the others are admitted.
    assert_eq!(fresh.nodes[p2].handle_peer_list(now, &list, None), 3);
    let hs = Some(net.addr(h));
    assert_eq!(fresh.nodes[p2].peer(&net.addr(q)).unwrap().learned_from, hs);
    assert_eq!(
        fresh.nodes[p2].peer(&net.addr(h)).unwrap().learned_from,
        None
    );
    assert!(fresh.nodes[p2].peer(&net.addr(r)).is_some());
    // Loading it twice changes nothing and costs no verification.
    assert_eq!(fresh.nodes[p2].handle_peer_list(now, &list, None), 0);
    // A list for another network is refused as a whole.
    let mut other = list.clone();
    other.network = "elsewhere".into();
    assert_eq!(fresh.nodes[p2].handle_peer_list(now, &other, None), 0);
}

#[test]
fn tor_transport_never_dials_or_stores_ip_endpoints() {
    let mut net = Net::new();
    let a = net.add_default(1, Role::Participant);
    let mut tcp_cfg = config(params(), 2, Role::Participant);
    tcp_cfg.tcp_transport = Some("127.0.0.1:4000".parse().unwrap());
    let b = net.add(2, tcp_cfg);
    let now = net.now;
    let b_onion = net.addr(b);
    net.nodes[a].add_bootstrap(now, b_onion, Some("127.0.0.1:4000".parse().unwrap()));
    assert!(net.log.is_empty());
    while let Some(out) = net.nodes[a].poll_output() {
        if let crate::node::Output::Dial { tcp_endpoint, .. } = out {
            assert_eq!(tcp_endpoint, None);
        }
    }
    // b's record carries an endpoint: a Tor-transport node refuses it.
    let list = net.nodes[b].peer_list(now, &PeerFilter::default());
    let mut c = Net::new();
    let ci = c.add_default(3, Role::Participant);
    assert_eq!(c.nodes[ci].handle_peer_list(now, &list, None), 0);
    assert_eq!(
        c.nodes[ci].stats().records_rejected,
        vec![("tcp_endpoint_on_tor".into(), 1)]
    );
}

#[test]
fn tcp_transport_dials_endpoints_from_records() {
    let mut net = Net::new();
    let mut cfg_a = config(params(), 1, Role::Participant);
    cfg_a.tcp_transport = Some("127.0.0.1:4001".parse().unwrap());
    let a = net.add(1, cfg_a);
    let mut cfg_b = config(params(), 2, Role::Participant);
    cfg_b.tcp_transport = Some("127.0.0.1:4002".parse().unwrap());
    let b = net.add(2, cfg_b);
    let now = net.now;
    let list = net.nodes[b].peer_list(now, &PeerFilter::default());
    assert_eq!(net.nodes[a].handle_peer_list(now, &list, None), 1);
    net.nodes[a].handle_timeout(now);
    let mut dialled = None;
    while let Some(out) = net.nodes[a].poll_output() {
        if let crate::node::Output::Dial { tcp_endpoint, .. } = out {
            dialled = tcp_endpoint;
        }
    }
    assert_eq!(dialled, Some("127.0.0.1:4002".parse().unwrap()));
}

#[test]
fn pushes_are_rate_limited_and_gossip_recovers_the_rest() {
    let mut net = Net::new();
    let mut cfg = config(params(), 10, Role::Router);
    cfg.push_burst = 1;
    cfg.push_refill_ms = 3_600_000;
    let h = net.add(10, cfg);
    let p = net.add_default(11, Role::Participant);
    net.connect(p, h);
    for n in 12..16 {
        let i = net.add_default(n, Role::Participant);
        net.connect(i, h);
    }
    // Four joins, one push allowed: p knows the hub and one other.
    assert_eq!(net.nodes[p].stats().known_peers, 2);
    // Periodic get-peers fills in the rest.
    net.advance(200_000);
    assert_eq!(net.nodes[p].stats().known_peers, 5);
    assert!(net.nodes[p].stats().gossip_rounds >= 1);
}

#[test]
fn a_peer_that_breaks_the_protocol_is_not_redialled_at_once() {
    let mut net = Net::new();
    let a = net.add_default(1, Role::Participant);
    let b = net.add_default(2, Role::Participant);
    net.connect(a, b);
    let ca = net.conn_between(a, b).unwrap();
    // b's side of the stream suddenly carries garbage.
    let now = net.now;
    net.nodes[a].handle_input(
        now,
        crate::node::Input::Received {
            conn: ca,
            bytes: &[0xff; 11],
        },
    );
    net.drain();
    assert!(net.conn_between(a, b).is_none() && net.conn_between(b, a).is_none());
    let info = net.nodes[a].peer(&net.addr(b)).unwrap();
    assert_eq!(info.failures, 1);
    assert!(net.nodes[a].table().get(&net.addr(b)).unwrap().next_retry > now);
}

/// `set_table_capacity` carries the per-source limits along, and the node's
/// table gets them: a big table must not need more sources than a node has
/// connections (PROTOCOL.md §8.1).
#[test]
fn a_bigger_table_gets_bigger_per_source_limits() {
    let mut cfg = config(params(), 10, Role::Participant);
    cfg.set_table_capacity(100_000);
    let (net, h, _) = Net::star(cfg, [Role::Participant; 3]);
    let limits = net.nodes[h].table().limits();
    assert_eq!(limits.capacity, 100_000);
    assert_eq!(limits.max_per_source, 25_000);
    assert_eq!(limits.source_burst, 25_000);
    assert_eq!(limits.source_refill_ms, 400);
    // The default node is the 10,000-entry case.
    let d = config(params(), 10, Role::Participant);
    assert_eq!((d.table_capacity, d.max_per_source), (10_000, 2_500));
}
