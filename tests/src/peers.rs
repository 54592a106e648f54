//! Reading a node's peer table through `GET /v1/peers` (binary protobuf,
//! so the records are the exact bytes the node holds) and verifying every
//! record with `torpeer-core`, independently of the node that served it.

use std::collections::BTreeMap;

use prost::Message;
use torpeer_core::proto::{PeerList, PeerStatus};
use torpeer_core::{NetworkName, NetworkParams};

/// Media type that makes `/v1/peers` answer in binary protobuf.
pub const PROTOBUF: &str = "application/x-protobuf";

/// One table entry as a test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerView {
    /// Online / offline / unknown, as the serving node sees the peer.
    pub status: PeerStatus,
    /// Whether the record verified (signature, PoW, network, time), and
    /// why not.
    pub verified: Result<(), String>,
}

/// A decoded, verified list.
#[derive(Debug, Clone)]
pub struct Table {
    /// Onion of the node that produced the list.
    pub source: String,
    /// Every entry by onion address, the source's own record included.
    pub peers: BTreeMap<String, PeerView>,
}

impl Table {
    /// Onions among `expected` that are missing, not online, or whose
    /// record did not verify, each with the reason (empty: all good).
    pub fn not_online_verified<'a>(
        &self,
        expected: impl IntoIterator<Item = &'a str>,
    ) -> Vec<String> {
        expected
            .into_iter()
            .filter_map(|onion| match self.peers.get(onion) {
                None => Some(format!("{onion}: not in the table")),
                Some(PeerView {
                    verified: Err(e), ..
                }) => Some(format!("{onion}: record does not verify: {e}")),
                Some(v) if v.status != PeerStatus::Online => {
                    Some(format!("{onion}: {:?}", v.status))
                }
                Some(_) => None,
            })
            .collect()
    }

    /// Status of `onion` in this table.
    pub fn status_of(&self, onion: &str) -> Option<PeerStatus> {
        self.peers.get(onion).map(|v| v.status)
    }
}

/// Decodes a binary `PeerList` and verifies each record for `network` at
/// `difficulty` as of `now_unix`.
pub fn decode_table(
    bytes: &[u8],
    network: &str,
    difficulty: u8,
    now_unix: u64,
) -> Result<Table, String> {
    let list = PeerList::decode(bytes).map_err(|e| format!("not a PeerList: {e}"))?;
    let name = NetworkName::new(network).map_err(|e| e.to_string())?;
    if list.network != network {
        return Err(format!(
            "list is for network {:?}, not {network:?}",
            list.network
        ));
    }
    let params = NetworkParams::new(name).with_min_difficulty(difficulty);
    let mut peers = BTreeMap::new();
    for entry in &list.peers {
        let Some(record) = &entry.record else {
            return Err("an entry has no record".into());
        };
        let verified = torpeer_core::record::verify(record, &params, now_unix)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let status = PeerStatus::try_from(entry.status).unwrap_or(PeerStatus::Unknown);
        peers.insert(record.onion.clone(), PeerView { status, verified });
    }
    Ok(Table {
        source: list.source,
        peers,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use torpeer_core::proto::PeerEntry;
    use torpeer_core::record::{RecordBody, Role};
    use torpeer_core::{Identity, pow};

    fn record(seed: u8, network: &str) -> torpeer_core::proto::PeerRecord {
        let id = Identity::from_seed(&[seed; 32]).unwrap();
        let name = NetworkName::new(network).unwrap();
        let (nonce, _) = pow::solve(&name.id(), &id.address(), 4).unwrap();
        RecordBody {
            address: id.address(),
            network: name,
            role: Role::Participant,
            ports: vec![7447],
            issued_at: 1_000,
            sequence: 1,
            pow_difficulty: 4,
            pow_nonce: nonce,
            tcp_endpoint: None,
        }
        .sign(&id)
        .unwrap()
        .to_proto()
    }

    #[test]
    fn statuses_and_bad_records_are_reported() {
        let good = record(1, "t");
        let mut forged = record(2, "t");
        forged.sequence += 1; // signature no longer matches
        let offline = record(3, "t");
        let list = PeerList {
            network: "t".into(),
            source: good.onion.clone(),
            generated_at: 1_000,
            peers: vec![
                PeerEntry {
                    record: Some(good.clone()),
                    status: PeerStatus::Online as i32,
                    ..Default::default()
                },
                PeerEntry {
                    record: Some(forged.clone()),
                    status: PeerStatus::Online as i32,
                    ..Default::default()
                },
                PeerEntry {
                    record: Some(offline.clone()),
                    status: PeerStatus::Offline as i32,
                    ..Default::default()
                },
            ],
        };
        let t = decode_table(&list.encode_to_vec(), "t", 4, 1_000).unwrap();
        assert_eq!(t.source, good.onion);
        assert_eq!(t.status_of(&offline.onion), Some(PeerStatus::Offline));
        let missing = record(4, "t").onion;
        let bad = t.not_online_verified([
            good.onion.as_str(),
            forged.onion.as_str(),
            offline.onion.as_str(),
            missing.as_str(),
        ]);
        assert_eq!(bad.len(), 3, "{bad:?}");
        assert!(bad[0].contains("does not verify"), "{bad:?}");
        assert!(bad[1].ends_with("Offline"), "{bad:?}");
        assert!(bad[2].ends_with("not in the table"), "{bad:?}");
        // A higher network minimum fails every record.
        let strict = decode_table(&list.encode_to_vec(), "t", 20, 1_000).unwrap();
        assert_eq!(strict.not_online_verified([good.onion.as_str()]).len(), 1);
    }

    #[test]
    fn garbage_and_wrong_network_are_errors() {
        assert!(decode_table(b"\xff\xff\xff", "t", 4, 0).is_err());
        let list = PeerList {
            network: "other".into(),
            ..Default::default()
        };
        let e = decode_table(&list.encode_to_vec(), "t", 4, 0).unwrap_err();
        assert!(e.contains("not \"t\""), "{e}");
    }
}
