//! Property tests: every encoder and decoder of the core round-trips, and
//! chunking never changes what a frame stream decodes to.

// Test code: a panic is a test failure, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use prost::Message;
use torpeer_core::codec::{
    DEFAULT_MAX_FRAME_LEN, Encoding, FrameDecoder, FrameError, decode_message, encode_frame,
};
use torpeer_core::hsdir::{self, HsDirKeys};
use torpeer_core::identity::Identity;
use torpeer_core::onion::OnionAddress;
use torpeer_core::proto::{self, frame::Kind};
use torpeer_core::record::SignedRecord;

use common::{peer_list, proto_record, signed_record};

fn frame_kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        any::<u64>().prop_map(|nonce| Kind::Ping(proto::Ping { nonce })),
        any::<u64>().prop_map(|nonce| Kind::Pong(proto::Pong { nonce })),
        prop::collection::vec(any::<u8>(), 0..600)
            .prop_map(|data| Kind::AppData(proto::AppData { data })),
        ".{0,40}".prop_map(|reason| Kind::Goodbye(proto::Goodbye {
            reason,
            rotating: false
        })),
        (any::<u64>(), any::<u32>(), 0i32..=2, any::<bool>()).prop_map(
            |(request_id, max, role, online_only)| Kind::GetPeers(proto::GetPeers {
                request_id,
                max,
                role,
                online_only,
                known: None,
                since: None,
            })
        ),
        any::<bool>().prop_map(|enabled| Kind::Subscribe(proto::Subscribe { enabled })),
        (0i32..=10, ".{0,40}")
            .prop_map(|(code, message)| Kind::Error(proto::Error { code, message })),
        prop::collection::vec(any::<u8>(), 0..64)
            .prop_map(|signature| Kind::HelloFinish(proto::HelloFinish { signature })),
        peer_list().prop_map(|l| Kind::Peers(proto::Peers {
            request_id: l.generated_at,
            peers: l.peers,
            filtered: false,
            cursor: None,
        })),
    ]
}

/// Push `stream` in chunks of the given sizes (cycled), collecting every
/// frame and error until the decoder needs more bytes or is poisoned.
fn decode_chunked(
    stream: &[u8],
    sizes: &[usize],
    max: usize,
) -> (Vec<Result<Kind, FrameError>>, FrameDecoder) {
    let mut decoder = FrameDecoder::new(max);
    let mut out = Vec::new();
    let mut rest = stream;
    let mut sizes = sizes.iter().cycle();
    let mut poisoned = false;
    while !rest.is_empty() && !poisoned {
        let n = (*sizes.next().unwrap()).clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        decoder.push(chunk);
        loop {
            match decoder.next_frame() {
                Ok(Some(k)) => out.push(Ok(k)),
                Ok(None) => break,
                Err(e) => {
                    poisoned = e.is_fatal();
                    out.push(Err(e));
                    if poisoned {
                        break;
                    }
                }
            }
        }
    }
    (out, decoder)
}

proptest! {
    #[test]
    fn frames_survive_any_chunking(
        kinds in prop::collection::vec(frame_kind(), 0..8),
        sizes in prop::collection::vec(1usize..80, 1..10),
    ) {
        let mut stream = Vec::new();
        for k in &kinds {
            stream.extend(encode_frame(k.clone(), DEFAULT_MAX_FRAME_LEN).unwrap());
        }
        let (got, decoder) = decode_chunked(&stream, &sizes, DEFAULT_MAX_FRAME_LEN);
        let expected: Vec<_> = kinds.into_iter().map(Ok).collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn arbitrary_bytes_decode_the_same_in_any_chunks(
        stream in prop::collection::vec(any::<u8>(), 0..300),
        sizes in prop::collection::vec(1usize..20, 1..10),
    ) {
        let (whole, _) = decode_chunked(&stream, &[usize::MAX], 128);
        let (chunked, _) = decode_chunked(&stream, &sizes, 128);
        prop_assert_eq!(whole, chunked);
    }

    #[test]
    fn proto_records_round_trip_binary_and_json(record in proto_record()) {
        let bin = record.encode_to_vec();
        prop_assert_eq!(decode_message::<proto::PeerRecord>(&bin, 1 << 16).unwrap(),
            (record.clone(), Encoding::Binary));
        let json = serde_json::to_vec(&record).unwrap();
        prop_assert_eq!(decode_message::<proto::PeerRecord>(&json, 1 << 16).unwrap(),
            (record, Encoding::Json));
    }

    #[test]
    fn peer_lists_round_trip_binary_and_json(list in peer_list()) {
        let bin = list.encode_to_vec();
        prop_assert_eq!(decode_message::<proto::PeerList>(&bin, 1 << 20).unwrap(),
            (list.clone(), Encoding::Binary));
        let json = serde_json::to_vec(&list).unwrap();
        prop_assert_eq!(decode_message::<proto::PeerList>(&json, 1 << 20).unwrap(),
            (list, Encoding::Json));
    }

    #[test]
    fn signed_records_stay_verifiable_through_binary_and_json(
        (record, params) in signed_record(),
    ) {
        let now = record.body.issued_at;
        prop_assert_eq!(record.verify(&params, now), Ok(()));
        let proto = record.to_proto();
        let bin = proto.encode_to_vec();
        let json = serde_json::to_vec(&proto).unwrap();
        for bytes in [bin, json] {
            let (decoded, _) = decode_message::<proto::PeerRecord>(&bytes, 1 << 16).unwrap();
            let again = torpeer_core::record::verify(&decoded, &params, now).unwrap();
            prop_assert_eq!(&again, &record);
            prop_assert_eq!(again.to_proto(), proto.clone());
        }
    }

    #[test]
    fn structurally_valid_proto_records_round_trip_through_from_proto(
        record in proto_record(),
    ) {
        // Arbitrary records are nearly always refused; when one is not, the
        // typed form must give the same protobuf back.
        if let Ok(signed) = SignedRecord::from_proto(&record) {
            prop_assert_eq!(SignedRecord::from_proto(&signed.to_proto()), Ok(signed));
        }
    }

    #[test]
    fn onion_addresses_round_trip(seed in any::<[u8; 32]>(), key in any::<[u8; 32]>()) {
        let address = Identity::from_seed(&seed).unwrap().address();
        let text = address.to_string();
        prop_assert_eq!(OnionAddress::parse(&text), Ok(address));
        prop_assert_eq!(OnionAddress::parse(&address.base32()), Ok(address));
        prop_assert_eq!(text.len(), 62);
        // Any 32 bytes: either not a usable key, or an address that parses
        // back to it.
        if let Ok(a) = OnionAddress::from_public_key(key) {
            prop_assert_eq!(a.public_key(), &key);
            prop_assert_eq!(OnionAddress::parse(&a.to_string()), Ok(a));
        }
    }

    #[test]
    fn onion_parse_accepts_only_canonical_spellings(s in "[a-z2-7]{56}") {
        match OnionAddress::parse(&s) {
            Ok(a) => prop_assert_eq!(a.base32(), s),
            Err(e) => prop_assert!(
                ["onion_checksum", "onion_version", "onion_invalid_key"].contains(&e.code()),
                "{s}: {e}"
            ),
        }
    }

    #[test]
    fn onion_parse_never_panics(s in ".{0,70}") {
        if let Ok(a) = OnionAddress::parse(&s) {
            prop_assert_eq!(a.base32(), s.strip_suffix(".onion").unwrap_or(&s));
        }
    }

    #[test]
    fn hsdir_files_round_trip(seed in any::<[u8; 32]>()) {
        let id = Identity::from_seed(&seed).unwrap();
        let secret = hsdir::encode_secret_key_file(&id);
        let public = hsdir::encode_public_key_file(&id.address());
        let host = hsdir::encode_hostname_file(&id.address());
        let keys = HsDirKeys::parse(&secret[..], Some(&public), Some(host.as_bytes())).unwrap();
        prop_assert_eq!(keys.identity.expanded_secret(), id.expanded_secret());
        prop_assert_eq!(&hsdir::encode_secret_key_file(&keys.identity)[..], &secret[..]);
        prop_assert_eq!(hsdir::parse_public_key_file(&public), Ok(id.address()));
        prop_assert_eq!(hsdir::parse_hostname_file(host.as_bytes()), Ok(id.address()));
    }

    #[test]
    fn hsdir_parse_never_panics(
        secret in prop::collection::vec(any::<u8>(), 0..120),
        public in prop::option::of(prop::collection::vec(any::<u8>(), 0..80)),
        host in prop::option::of(prop::collection::vec(any::<u8>(), 0..80)),
    ) {
        if let Err(e) = HsDirKeys::parse(&secret, public.as_deref(), host.as_deref()) {
            prop_assert!(e.code().starts_with("hsdir_"));
        }
    }
}
