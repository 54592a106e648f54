//! Peer-list encode/decode: a `PeerList` of 1,000 and 10,000 entries as
//! binary protobuf (prost) and proto3 JSON (pbjson + serde_json).

use prost::Message;
use torpeer_core::proto;
use torpeer_core::record::SignedRecord;

use crate::measure::{Step, rates};
use crate::records::{BenchError, NOW};
use crate::report::Report;

fn peer_list(records: &[SignedRecord]) -> proto::PeerList {
    proto::PeerList {
        network: "torpeer".into(),
        source: records
            .first()
            .map(|r| r.body.address.to_string())
            .unwrap_or_default(),
        generated_at: NOW,
        peers: records
            .iter()
            .map(|r| proto::PeerEntry {
                record: Some(r.to_proto()),
                last_seen: NOW - 60,
                ..Default::default()
            })
            .collect(),
    }
}

pub(crate) fn bench(
    records: &[SignedRecord],
    seconds: f64,
    report: &mut Report,
) -> Result<(), BenchError> {
    for n in [1_000usize, 10_000] {
        if records.len() < n {
            continue;
        }
        let list = peer_list(&records[..n]);
        let binary = list.encode_to_vec();
        let json = serde_json::to_vec(&list).map_err(|e| BenchError::List(e.to_string()))?;
        let back = proto::PeerList::decode(binary.as_slice())
            .map_err(|e| BenchError::List(e.to_string()))?;
        let back_json: proto::PeerList =
            serde_json::from_slice(&json).map_err(|e| BenchError::List(e.to_string()))?;
        if back != list || back_json != list {
            return Err(BenchError::List("round trip changed the list".into()));
        }
        let mut steps: Vec<Step<'_>> = vec![
            Box::new(|| {
                std::hint::black_box(list.encode_to_vec());
                1
            }),
            Box::new(|| {
                std::hint::black_box(proto::PeerList::decode(binary.as_slice()).is_ok());
                1
            }),
            Box::new(|| {
                std::hint::black_box(serde_json::to_vec(&list).is_ok());
                1
            }),
            Box::new(|| {
                std::hint::black_box(serde_json::from_slice::<proto::PeerList>(&json).is_ok());
                1
            }),
        ];
        let measured = rates(seconds, &mut steps);
        drop(steps);
        let [enc_bin, dec_bin, enc_json, dec_json] =
            [0, 1, 2, 3].map(|i| measured.get(i).copied().unwrap_or(0.0));
        report.list(n, "binary (prost)", binary.len(), enc_bin, dec_bin);
        report.list(n, "JSON (pbjson)", json.len(), enc_json, dec_json);
    }
    Ok(())
}
