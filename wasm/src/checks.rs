//! The Rust half of every export: decode, verify and solve on plain Rust
//! values, with no JS types, so these rules run (and are tested) natively.
//! [`crate::api`] only converts JS arguments into these calls and the results
//! back. Every rule itself is torpeer-core's; this module only chooses which
//! core call answers which question and how a failure is reported.

use torpeer_core::codec::{self, Encoding};
use torpeer_core::network::NetworkParams;
use torpeer_core::onion::OnionAddress;
use torpeer_core::pow::{self, PowSearch};
use torpeer_core::proto::{PeerList, PeerRecord};
use torpeer_core::record;

use crate::error::{Failure, POW_NOT_FOUND};

/// Largest record or peer list accepted, in bytes: the core's frame limit,
/// room for a 1,000-entry list.
pub const MAX_INPUT_LEN: usize = codec::DEFAULT_MAX_FRAME_LEN;

/// Tries per slice of a bounded solve; small enough that `maxHashes` is
/// honoured closely.
const SOLVE_SLICE: u64 = 1 << 14;

/// The outcome of verifying one record: `code` is `"ok"` or the core's
/// [`RecordError::code`](torpeer_core::record::RecordError::code) (or a
/// decoding code such as `invalid_json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the record is valid.
    pub ok: bool,
    /// `"ok"` or a stable failure code.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl Verdict {
    fn valid() -> Self {
        Self {
            ok: true,
            code: "ok",
            message: "record is valid".to_owned(),
        }
    }

    fn invalid(failure: Failure) -> Self {
        Self {
            ok: false,
            code: failure.code,
            message: failure.message,
        }
    }
}

/// Decode a record given as proto3 JSON or binary protobuf.
pub fn decode_record(bytes: &[u8]) -> Result<(PeerRecord, Encoding), Failure> {
    Ok(codec::decode_message::<PeerRecord>(bytes, MAX_INPUT_LEN)?)
}

/// Decode a peer list given as proto3 JSON or binary protobuf.
pub fn decode_peer_list(bytes: &[u8]) -> Result<(PeerList, Encoding), Failure> {
    Ok(codec::decode_message::<PeerList>(bytes, MAX_INPUT_LEN)?)
}

/// Full verification of a decoded record (structure, network, time window,
/// proof-of-work, signature).
pub fn verify_record(record: &PeerRecord, params: &NetworkParams, now_unix: u64) -> Verdict {
    match record::verify(record, params, now_unix) {
        Ok(_) => Verdict::valid(),
        Err(e) => Verdict::invalid(e.into()),
    }
}

/// Decode then verify: a record that cannot be decoded is an invalid record
/// (its verdict carries the decoding code), not an error of the caller.
pub fn verify_record_bytes(bytes: &[u8], params: &NetworkParams, now_unix: u64) -> Verdict {
    match decode_record(bytes) {
        Ok((record, _)) => verify_record(&record, params, now_unix),
        Err(failure) => Verdict::invalid(failure),
    }
}

/// One verdict per entry of a list, in order; an entry without a record is
/// `malformed`.
pub fn verify_peer_list<'a>(
    list: &'a PeerList,
    params: &NetworkParams,
    now_unix: u64,
) -> Vec<(Verdict, Option<&'a PeerRecord>)> {
    list.peers
        .iter()
        .map(|entry| match &entry.record {
            Some(record) => (verify_record(record, params, now_unix), Some(record)),
            None => (
                Verdict::invalid(Failure::new("malformed", "peer entry has no record")),
                None,
            ),
        })
        .collect()
}

/// Does `nonce` meet `difficulty` for this onion key on this network?
/// `Ok(false)` for a weak nonce; `Err` only for a difficulty above the
/// maximum.
pub fn verify_pow(
    params: &NetworkParams,
    onion: &OnionAddress,
    nonce: u64,
    difficulty: u32,
) -> Result<bool, Failure> {
    let difficulty = pow::check_difficulty(difficulty)?;
    match pow::verify(&params.name.id(), onion, nonce, difficulty) {
        Ok(()) => Ok(true),
        Err(pow::PowError::Insufficient { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Search nonces `0, 1, 2, …` until one meets `difficulty`, trying at most
/// `max_hashes` when given. Returns the nonce and the number of hashes tried.
pub fn solve_pow(
    params: &NetworkParams,
    onion: &OnionAddress,
    difficulty: u32,
    max_hashes: Option<u64>,
) -> Result<(u64, u64), Failure> {
    let difficulty = pow::check_difficulty(difficulty)?;
    let mut search = PowSearch::new(&params.name.id(), onion, difficulty, 0, 1)?;
    loop {
        let budget = match max_hashes {
            Some(max) => {
                let left = max.saturating_sub(search.tries());
                if left == 0 {
                    return Err(Failure::new(
                        POW_NOT_FOUND,
                        format!("no nonce meets difficulty {difficulty} in the first {max} tries"),
                    ));
                }
                left.min(SOLVE_SLICE)
            }
            None => SOLVE_SLICE,
        };
        if let Some(nonce) = search.run(budget) {
            return Ok((nonce, search.tries()));
        }
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use torpeer_core::Identity;
    use torpeer_core::network::NetworkName;
    use torpeer_core::record::{RecordBody, Role};

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn params() -> NetworkParams {
        NetworkParams::default().with_min_difficulty(8)
    }

    fn signed(seed: u8) -> PeerRecord {
        let identity = Identity::from_seed(&[seed; 32]).unwrap();
        let address = identity.address();
        let p = params();
        let (nonce, _) = solve_pow(&p, &address, 8, None).unwrap();
        RecordBody {
            address,
            network: p.name.clone(),
            role: Role::Participant,
            ports: vec![80],
            issued_at: NOW,
            sequence: 1,
            pow_difficulty: 8,
            pow_nonce: nonce,
            tcp_endpoint: None,
        }
        .sign(&identity)
        .unwrap()
        .to_proto()
    }

    #[test]
    fn valid_records_verify_from_json_and_binary() {
        let record = signed(1);
        let json = serde_json::to_vec(&record).unwrap();
        let bin = record.encode_to_vec();
        for bytes in [json, bin] {
            assert_eq!(
                verify_record_bytes(&bytes, &params(), NOW),
                Verdict::valid()
            );
        }
    }

    #[test]
    fn failures_carry_the_core_codes() {
        let record = signed(2);
        let mut tampered = record.clone();
        tampered.sequence += 1;
        assert_eq!(
            verify_record(&tampered, &params(), NOW).code,
            "bad_signature"
        );
        let mut weak = record.clone();
        weak.pow_nonce = weak.pow_nonce.wrapping_add(1);
        // A neighbouring nonce almost surely misses 8 bits; if it happens to
        // meet them the signature still breaks, so the record is refused.
        assert!(!verify_record(&weak, &params(), NOW).ok);
        let strict = params().with_min_difficulty(20);
        assert_eq!(verify_record(&record, &strict, NOW).code, "bad_pow");
        let other = NetworkParams::new(NetworkName::new("other").unwrap()).with_min_difficulty(8);
        assert_eq!(verify_record(&record, &other, NOW).code, "wrong_network");
        assert_eq!(
            verify_record(&record, &params(), NOW + 2 * 86_400).code,
            "expired"
        );
        assert_eq!(
            verify_record(&record, &params(), NOW - 3_600).code,
            "from_future"
        );
        let mut bad_onion = record.clone();
        // One changed character: the checksum no longer matches.
        let first = if bad_onion.onion.starts_with('a') {
            "b"
        } else {
            "a"
        };
        bad_onion.onion.replace_range(..1, first);
        assert_eq!(
            verify_record(&bad_onion, &params(), NOW).code,
            "malformed_address"
        );
        assert_eq!(
            verify_record_bytes(b"{oops", &params(), NOW).code,
            "invalid_json"
        );
        assert_eq!(
            verify_record_bytes(&[0xff, 0xff], &params(), NOW).code,
            "invalid_protobuf"
        );
    }

    #[test]
    fn list_verdicts_follow_entry_order() {
        let good = signed(3);
        let mut bad = signed(4);
        bad.signature[0] ^= 1;
        let list = PeerList {
            network: "torpeer".into(),
            peers: [Some(good), Some(bad), None]
                .into_iter()
                .map(|record| torpeer_core::proto::PeerEntry {
                    record,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let codes: Vec<_> = verify_peer_list(&list, &params(), NOW)
            .iter()
            .map(|(v, r)| (v.code, r.is_some()))
            .collect();
        assert_eq!(
            codes,
            [("ok", true), ("bad_signature", true), ("malformed", false)]
        );
    }

    #[test]
    fn pow_checks_and_bounded_solves() {
        let p = params();
        let onion = Identity::from_seed(&[5; 32]).unwrap().address();
        let (nonce, hashes) = solve_pow(&p, &onion, 10, None).unwrap();
        assert_eq!(hashes, nonce + 1);
        assert_eq!(verify_pow(&p, &onion, nonce, 10), Ok(true));
        assert!(nonce == 0 || verify_pow(&p, &onion, nonce - 1, 10) == Ok(false));
        assert_eq!(
            verify_pow(&p, &onion, nonce, 65).unwrap_err().code,
            "pow_difficulty_too_high"
        );
        // The first solution is at `nonce`: a budget that stops short fails
        // with a code, one that reaches it succeeds.
        if nonce > 0 {
            assert_eq!(
                solve_pow(&p, &onion, 10, Some(nonce)).unwrap_err().code,
                POW_NOT_FOUND
            );
        }
        assert_eq!(
            solve_pow(&p, &onion, 10, Some(nonce + 1)),
            Ok((nonce, nonce + 1))
        );
    }
}
