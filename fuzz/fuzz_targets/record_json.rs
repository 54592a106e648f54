//! Records and bootstrap peer lists through `codec::decode_message`
//! (proto3 JSON or binary, whichever the bytes are), then `from_proto` and
//! verify on every record.
//!
//! Invariants: no panic; every decoded message survives a binary round trip
//! unchanged, and a proto3 JSON round trip unless it holds an enum value
//! this schema does not know (pbjson refuses to write those: a typed
//! serde error, not a panic); verdicts are stable across those round trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use torpeer_core::codec::decode_message;
use torpeer_core::network::NetworkParams;
use torpeer_core::proto::{self, PeerList, PeerRecord};
use torpeer_core::record::SignedRecord;

const MAX: usize = 1 << 16;

/// Structure and verification verdicts (as codes) of one record.
fn verdict(record: &PeerRecord) -> Result<Result<(), &'static str>, &'static str> {
    let signed = SignedRecord::from_proto(record).map_err(|e| e.code())?;
    let params = NetworkParams::new(signed.body.network.clone()).with_min_difficulty(0);
    Ok(signed
        .verify(&params, signed.body.issued_at)
        .map_err(|e| e.code()))
}

fn known_role(role: i32) -> bool {
    proto::Role::try_from(role).is_ok()
}

fn record_enums_known(r: &PeerRecord) -> bool {
    known_role(r.role)
}

fn list_enums_known(l: &PeerList) -> bool {
    l.peers.iter().all(|e| {
        proto::PeerStatus::try_from(e.status).is_ok()
            && e.record.as_ref().is_none_or(record_enums_known)
    })
}

fn round_trips<M>(message: &M, enums_known: bool)
where
    M: Message
        + Default
        + PartialEq
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    let binary = message.encode_to_vec();
    assert_eq!(
        &M::decode(binary.as_slice()).expect("own binary decodes"),
        message
    );
    match serde_json::to_vec(message) {
        Ok(json) => {
            let (back, _) = decode_message::<M>(&json, usize::MAX).expect("own JSON decodes");
            assert_eq!(&back, message, "proto3 JSON round trip changed the message");
        }
        Err(e) => assert!(!enums_known, "JSON serialization failed: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok((record, _)) = decode_message::<PeerRecord>(data, MAX) {
        round_trips(&record, record_enums_known(&record));
        let v = verdict(&record);
        if let Ok(json) = serde_json::to_vec(&record) {
            let back: PeerRecord = serde_json::from_slice(&json).expect("de");
            assert_eq!(verdict(&back), v);
        }
    }
    if let Ok((list, _)) = decode_message::<PeerList>(data, MAX) {
        round_trips(&list, list_enums_known(&list));
        for entry in &list.peers {
            if let Some(record) = &entry.record {
                let _ = verdict(record);
            }
        }
    }
});
