//! Records and bootstrap peer lists through `codec::decode_message`
//! (proto3 JSON or binary, whichever the bytes are), then `from_proto` and
//! verify on every record.
//!
//! Invariants: no panic; every decoded message survives a proto3 JSON round
//! trip and a binary round trip unchanged; verdicts are stable across those
//! round trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use torpeer_core::codec::decode_message;
use torpeer_core::network::NetworkParams;
use torpeer_core::proto::{PeerList, PeerRecord};
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

fn round_trips<M>(message: &M)
where
    M: Message
        + Default
        + PartialEq
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    let json = serde_json::to_vec(message).expect("serializes");
    let (back, _) = decode_message::<M>(&json, usize::MAX).expect("own JSON decodes");
    assert_eq!(&back, message, "proto3 JSON round trip changed the message");
    let binary = message.encode_to_vec();
    assert_eq!(
        &M::decode(binary.as_slice()).expect("own binary decodes"),
        message
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok((record, _)) = decode_message::<PeerRecord>(data, MAX) {
        round_trips(&record);
        let v = verdict(&record);
        let json: PeerRecord =
            serde_json::from_slice(&serde_json::to_vec(&record).expect("ser")).expect("de");
        assert_eq!(verdict(&json), v);
    }
    if let Ok((list, _)) = decode_message::<PeerList>(data, MAX) {
        round_trips(&list);
        for entry in &list.peers {
            if let Some(record) = &entry.record {
                let _ = verdict(record);
            }
        }
    }
});
