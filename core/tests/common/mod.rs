//! Proptest strategies shared by the core property tests.
#![allow(dead_code, unreachable_pub)]

use proptest::prelude::*;
use torpeer_core::identity::Identity;
use torpeer_core::network::{NetworkName, NetworkParams};
use torpeer_core::pow;
use torpeer_core::proto;
use torpeer_core::record::{RecordBody, Role, SignedRecord};

/// A valid network name.
pub fn network_name() -> impl Strategy<Value = NetworkName> {
    "[a-z0-9._-]{1,64}".prop_map(|s| NetworkName::new(&s).unwrap())
}

/// Any loopback-style endpoint in canonical form (v4 or v6).
pub fn endpoint() -> impl Strategy<Value = Option<std::net::SocketAddr>> {
    prop_oneof![
        Just(None),
        (any::<[u8; 4]>(), 1u16..).prop_map(|(ip, port)| Some((ip, port).into())),
        (any::<[u16; 8]>(), 1u16..)
            .prop_map(|(ip, port)| { Some((std::net::Ipv6Addr::from(ip), port).into()) }),
    ]
}

/// A signed record with a solved (small) proof-of-work, and the
/// parameters under which it verifies at `body.issued_at`.
pub fn signed_record() -> impl Strategy<Value = (SignedRecord, NetworkParams)> {
    (
        any::<[u8; 32]>(),
        network_name(),
        prop_oneof![Just(Role::Participant), Just(Role::Router)],
        prop::collection::vec(1u16.., 0..=8),
        any::<u64>(),
        any::<u64>(),
        0u8..=4,
        endpoint(),
    )
        .prop_map(
            |(seed, network, role, ports, issued_at, sequence, difficulty, tcp_endpoint)| {
                let id = Identity::from_seed(&seed).unwrap();
                let (nonce, _) = pow::solve(&network.id(), &id.address(), difficulty).unwrap();
                let body = RecordBody {
                    address: id.address(),
                    network: network.clone(),
                    role,
                    ports,
                    issued_at,
                    sequence,
                    pow_difficulty: difficulty,
                    pow_nonce: nonce,
                    tcp_endpoint,
                };
                let params = NetworkParams::new(network).with_min_difficulty(difficulty);
                (body.sign(&id).unwrap(), params)
            },
        )
}

/// A protobuf `PeerRecord` with arbitrary contents (valid enum values
/// only, since proto3 JSON spells enums by name).
pub fn proto_record() -> impl Strategy<Value = proto::PeerRecord> {
    (
        ".{0,70}",
        ".{0,20}",
        0i32..=2,
        prop::collection::vec(any::<u32>(), 0..10),
        any::<u64>(),
        any::<u64>(),
        any::<u32>(),
        any::<u64>(),
        ".{0,30}",
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(
            |(
                onion,
                network,
                role,
                ports,
                issued_at,
                sequence,
                pow_difficulty,
                pow_nonce,
                tcp_endpoint,
                signature,
            )| proto::PeerRecord {
                onion,
                network,
                role,
                ports,
                issued_at,
                sequence,
                pow_difficulty,
                pow_nonce,
                tcp_endpoint,
                signature,
            },
        )
}

/// A bootstrap peer list with arbitrary records.
pub fn peer_list() -> impl Strategy<Value = proto::PeerList> {
    let entry = (
        prop::option::of(proto_record()),
        0i32..=2,
        any::<u64>(),
        ".{0,62}",
    )
        .prop_map(
            |(record, status, last_seen, learned_from)| proto::PeerEntry {
                record,
                status,
                last_seen,
                learned_from,
            },
        );
    (
        ".{0,20}",
        ".{0,62}",
        any::<u64>(),
        prop::collection::vec(entry, 0..6),
    )
        .prop_map(|(network, source, generated_at, peers)| proto::PeerList {
            network,
            source,
            generated_at,
            peers,
        })
}
