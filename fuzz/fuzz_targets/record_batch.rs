//! Batch verification of a peer list (`verify::verify_batch_proto`) against
//! one record at a time (`record::verify`), on lists decoded by
//! `codec::decode_message` (binary or proto3 JSON).
//!
//! Invariant: the same verdict for every record, whatever the mix of good
//! and bad signatures, PoWs and fields (the seeds are lists of valid records
//! that the fuzzer corrupts). Parameters come from the list itself (its
//! network, difficulty 0, `now` = `generated_at`), so that valid records
//! reach the signature checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torpeer_core::codec::decode_message;
use torpeer_core::network::{NetworkName, NetworkParams};
use torpeer_core::proto::{PeerList, PeerRecord};
use torpeer_core::{record, verify};

fuzz_target!(|data: &[u8]| {
    let Ok((list, _)) = decode_message::<PeerList>(data, 1 << 20) else {
        return;
    };
    let network = NetworkName::new(&list.network).unwrap_or_default();
    let params = NetworkParams::new(network).with_min_difficulty(0);
    let now = list.generated_at;
    let records: Vec<PeerRecord> = list.peers.into_iter().filter_map(|e| e.record).collect();
    let batch = verify::verify_batch_proto(&records, &params, now);
    assert_eq!(batch.len(), records.len());
    for (r, got) in records.iter().zip(&batch) {
        assert_eq!(
            got,
            &record::verify(r, &params, now),
            "batch and single disagree"
        );
    }
});
