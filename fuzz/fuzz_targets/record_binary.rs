//! Signed peer records from binary protobuf: decode, `from_proto`, verify.
//!
//! Invariants: no panic; a structurally valid record survives
//! `to_proto`/`from_proto` unchanged and its protobuf form is the input
//! message up to the spelling of the onion address (a bare address gains
//! `.onion`); verification is deterministic, and a record that verifies
//! still verifies after a binary and a proto3 JSON round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use torpeer_core::network::NetworkParams;
use torpeer_core::proto::PeerRecord;
use torpeer_core::record::SignedRecord;

fuzz_target!(|data: &[u8]| {
    let Ok(message) = PeerRecord::decode(data) else {
        return;
    };
    let record = match SignedRecord::from_proto(&message) {
        Ok(record) => record,
        Err(e) => {
            assert!(!e.code().is_empty());
            return;
        }
    };
    let proto = record.to_proto();
    let mut normalized = message.clone();
    normalized.onion = record.body.address.to_string();
    assert_eq!(proto, normalized, "from_proto dropped or changed a field");
    assert_eq!(SignedRecord::from_proto(&proto).as_ref(), Ok(&record));
    assert_eq!(record.body.canonical_bytes(), record.body.canonical_bytes());

    // Verify on the record's own network, at its own issue time, with no
    // minimum difficulty: only PoW and signature can still fail.
    let params = NetworkParams::new(record.body.network.clone()).with_min_difficulty(0);
    let now = record.body.issued_at;
    let verdict = record.verify(&params, now);
    assert_eq!(record.verify(&params, now), verdict);
    let _ = record.verify(&NetworkParams::default(), 0);
    let _ = record.verify(&NetworkParams::default(), u64::MAX);
    if verdict.is_ok() {
        let binary = PeerRecord::decode(proto.encode_to_vec().as_slice()).expect("re-decodes");
        let json: PeerRecord =
            serde_json::from_slice(&serde_json::to_vec(&proto).expect("serializes"))
                .expect("JSON re-decodes");
        for again in [binary, json] {
            let again = SignedRecord::from_proto(&again).expect("still well-formed");
            assert_eq!(again, record);
            assert_eq!(again.verify(&params, now), Ok(()));
        }
    }
});
