//! Verifying many peer records at once: the same verdicts as
//! [`SignedRecord::verify`] one record at a time, for less work.
//!
//! A peer list can hold thousands of records, and nearly all the cost of
//! checking one is its ed25519 signature. Ed25519 batch verification checks
//! `n` signatures with one multi-scalar multiplication of size `2n + 1`,
//! which costs much less than `n` separate verifications. Everything else a
//! record needs (network, time window, difficulty, proof-of-work) is cheap
//! and runs per record, in the same order as the single path, so a record
//! that fails early gets the same error either way.
//!
//! Exactness. Single verification is ed25519-dalek's `verify_strict`; the
//! batch equation is looser in three ways, and each is closed here:
//! - `verify_strict` rejects a small-order key or `R`; the batch does not.
//!   Such records never enter a batch (they go through the single path).
//! - `verify_strict` compares `R`'s encoding, so a non-canonical `R`
//!   (y ≥ p) fails it, while the batch decompresses it and may accept.
//!   Such records never enter a batch either.
//! - A batch that fails says nothing about *which* record is bad: the chunk
//!   is split in halves and each half re-checked, down to a few records that
//!   go through the single path. So every `BadSignature` comes from
//!   `verify_strict` itself.
//!
//! What remains is the batch equation's own soundness: it holds when all
//! signatures in it are valid, and otherwise fails except with negligible
//! probability, as long as the points have no small-order component. A key
//! or `R` that mixes a prime-order point with a small-order one (which no
//! standard signer produces, and only the key's owner can use) can make a
//! record that `verify_strict` rejects pass a batch; excluding that would
//! need a subgroup check per point, which costs about as much as a
//! verification. See BENCHMARKS.md "Record verification".

use ed25519_dalek::{Signature, VerifyingKey};

use crate::identity::SignatureContext;
use crate::network::NetworkParams;
use crate::proto;
use crate::record::{RecordError, SignedRecord};

/// Signatures per batch equation. Larger batches amortise more (the
/// multi-scalar multiplication gets cheaper per point), but a bad record
/// costs about two batches of this size to locate.
pub const BATCH_SIZE: usize = 64;
/// Below this many records a failed batch is settled one by one.
const SINGLE_BELOW: usize = 4;

/// One record whose non-signature checks passed and whose signature may go
/// into a batch equation.
struct Candidate<'a> {
    index: usize,
    record: &'a SignedRecord,
    message: Vec<u8>,
    key: VerifyingKey,
    signature: Signature,
}

impl<'a> Candidate<'a> {
    /// `None` if the signature must go through the single path (see the
    /// module docs: small-order or undecodable points, non-canonical `R`).
    fn new(index: usize, record: &'a SignedRecord) -> Option<Self> {
        let key = record.body.address.verifying_key()?;
        let signature = Signature::from_bytes(&record.signature);
        let r = signature.r_bytes();
        if key.is_weak() || !is_canonical_y(r) {
            return None;
        }
        // `R` decoded as a point; `is_weak` is ed25519-dalek's small-order
        // test, the same one `verify_strict` applies to `R`.
        let r_point = VerifyingKey::from_bytes(r).ok()?;
        if r_point.is_weak() {
            return None;
        }
        let prefix = SignatureContext::Record.prefix();
        let body = record.body.canonical_bytes();
        let mut message = Vec::with_capacity(prefix.len() + body.len());
        message.extend_from_slice(prefix);
        message.extend_from_slice(&body);
        Some(Self {
            index,
            record,
            message,
            key,
            signature,
        })
    }
}

/// Whether a compressed Edwards point encodes its `y` canonically (`y < p`,
/// `p = 2^255 - 19`; bit 255 is the sign of `x`).
fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    let top = bytes[31] & 0x7f;
    !(top == 0x7f && bytes[1..31].iter().all(|b| *b == 0xff) && bytes[0] >= 0xed)
}

/// Verify every record, as [`SignedRecord::verify`] would one at a time,
/// with the signatures checked in batches of [`BATCH_SIZE`]. Verdict `i` is
/// for `records[i]`.
///
/// The core spawns no threads; a caller with threads splits a long list
/// into slices and calls this on each (the verdicts do not depend on how
/// the list is split).
pub fn verify_batch(
    records: &[SignedRecord],
    params: &NetworkParams,
    now_unix: u64,
) -> Vec<Result<(), RecordError>> {
    let mut verdicts = Vec::with_capacity(records.len());
    let mut candidates = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        let verdict = match record.verify_except_signature(params, now_unix) {
            Ok(()) => match Candidate::new(index, record) {
                Some(candidate) => {
                    candidates.push(candidate);
                    Ok(())
                }
                None => record.verify(params, now_unix),
            },
            Err(e) => Err(e),
        };
        verdicts.push(verdict);
    }
    for chunk in candidates.chunks(BATCH_SIZE) {
        settle(chunk, params, now_unix, &mut verdicts);
    }
    verdicts
}

/// Parse and verify protobuf records, as [`crate::record::verify`] would one
/// at a time.
pub fn verify_batch_proto(
    records: &[proto::PeerRecord],
    params: &NetworkParams,
    now_unix: u64,
) -> Vec<Result<SignedRecord, RecordError>> {
    let parsed: Vec<Result<SignedRecord, RecordError>> =
        records.iter().map(SignedRecord::from_proto).collect();
    let ok: Vec<SignedRecord> = parsed.iter().filter_map(|r| r.clone().ok()).collect();
    let mut verdicts = verify_batch(&ok, params, now_unix).into_iter();
    let mut ok = ok.into_iter();
    parsed
        .into_iter()
        .map(|p| {
            p.and_then(|_| {
                let record = ok.next().ok_or(RecordError::Malformed("internal count"))?;
                let verdict = verdicts
                    .next()
                    .ok_or(RecordError::Malformed("internal count"))?;
                verdict.map(|()| record)
            })
        })
        .collect()
}

/// Decide the signatures of `chunk`: one batch equation; if it fails, halve
/// and recurse, and settle small pieces with the single path.
fn settle(
    chunk: &[Candidate<'_>],
    params: &NetworkParams,
    now_unix: u64,
    verdicts: &mut [Result<(), RecordError>],
) {
    if chunk.len() < SINGLE_BELOW {
        for c in chunk {
            verdicts[c.index] = c.record.verify(params, now_unix);
        }
        return;
    }
    let messages: Vec<&[u8]> = chunk.iter().map(|c| c.message.as_slice()).collect();
    let signatures: Vec<Signature> = chunk.iter().map(|c| c.signature).collect();
    let keys: Vec<VerifyingKey> = chunk.iter().map(|c| c.key).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        return; // verdicts are already Ok(())
    }
    let (left, right) = chunk.split_at(chunk.len() / 2);
    settle(left, params, now_unix, verdicts);
    settle(right, params, now_unix, verdicts);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::network::NetworkName;
    use crate::pow;
    use crate::record::{RecordBody, Role};

    const NOW: u64 = 1_800_000_000;

    fn params() -> NetworkParams {
        NetworkParams::new(NetworkName::new("batch-test").unwrap()).with_min_difficulty(4)
    }

    fn record(seed: u32, difficulty: u8) -> SignedRecord {
        let mut s = [0u8; 32];
        s[..4].copy_from_slice(&seed.to_le_bytes());
        let id = Identity::from_seed(&s).unwrap();
        let params = params();
        let (nonce, _) = pow::solve(&params.name.id(), &id.address(), difficulty).unwrap();
        RecordBody {
            address: id.address(),
            network: params.name.clone(),
            role: Role::Participant,
            ports: vec![80],
            issued_at: NOW - 10,
            sequence: u64::from(seed),
            pow_difficulty: difficulty,
            pow_nonce: nonce,
            tcp_endpoint: None,
        }
        .sign(&id)
        .unwrap()
    }

    fn one_at_a_time(records: &[SignedRecord]) -> Vec<Result<(), RecordError>> {
        records.iter().map(|r| r.verify(&params(), NOW)).collect()
    }

    #[test]
    fn good_lists_verify_in_batches() {
        let records: Vec<SignedRecord> = (0..150).map(|i| record(i, 4)).collect();
        let verdicts = verify_batch(&records, &params(), NOW);
        assert_eq!(verdicts.len(), 150);
        assert!(verdicts.iter().all(Result::is_ok));
        assert!(verify_batch(&[], &params(), NOW).is_empty());
    }

    /// A list with bad signatures of every kind, bad and weak proofs-of-work,
    /// wrong networks and bad times, scattered over several batches, gets
    /// exactly the one-at-a-time verdicts.
    #[test]
    fn mixed_lists_get_the_same_verdicts_as_one_at_a_time() {
        let mut records: Vec<SignedRecord> = (0..200).map(|i| record(i, 4)).collect();
        // Signature over other bytes: valid-looking, wrong.
        records[3].body.sequence += 1;
        // A flipped bit in s, in R, and in the last byte (s not canonical).
        records[17].signature[40] ^= 1;
        records[18].signature[5] ^= 1;
        records[19].signature[63] |= 0xf0;
        // R the identity point (small order) and R not canonical.
        records[70].signature[..32].copy_from_slice(&{
            let mut r = [0u8; 32];
            r[0] = 1;
            r
        });
        records[71].signature[..32].copy_from_slice(&[0xff; 32]);
        records[71].signature[31] = 0x7f;
        // Several bad ones in one batch, next to each other.
        for r in &mut records[100..104] {
            r.signature[0] ^= 0x80;
        }
        // A nonce that fails the PoW (the signature covers it too, so the
        // PoW error must win, as in the single path).
        records[130].body.pow_nonce = records[130].body.pow_nonce.wrapping_add(1);
        // Claimed difficulty under the network minimum, signed correctly.
        records[140] = record(1000, 2);
        // Expired and from the future, wrong network.
        records[150].body.issued_at = 1;
        records[151].body.issued_at = NOW + 100_000;
        records[152].body.network = NetworkName::new("elsewhere").unwrap();
        // The last record of the list bad, in a short final batch.
        records[199].signature[1] ^= 2;

        let expected = one_at_a_time(&records);
        let bad = expected.iter().filter(|v| v.is_err()).count();
        assert!(bad >= 15, "the test list has {bad} bad records");
        assert_eq!(verify_batch(&records, &params(), NOW), expected);
        // Independent of how a caller splits the list.
        for split in [1, 7, 64, 65, 199] {
            let (a, b) = records.split_at(split);
            let mut got = verify_batch(a, &params(), NOW);
            got.extend(verify_batch(b, &params(), NOW));
            assert_eq!(got, expected, "split at {split}");
        }
        // Every record bad: still the same verdicts.
        let mut all_bad = records[..70].to_vec();
        for r in &mut all_bad {
            r.signature[33] ^= 4;
        }
        assert_eq!(
            verify_batch(&all_bad, &params(), NOW),
            one_at_a_time(&all_bad)
        );
    }

    #[test]
    fn proto_records_parse_and_verify_like_record_verify() {
        let mut list: Vec<proto::PeerRecord> = (0..20).map(|i| record(i, 4).to_proto()).collect();
        list[2].onion = "not an onion".into();
        list[5].signature.truncate(10);
        list[9].signature[3] ^= 1;
        let batch = verify_batch_proto(&list, &params(), NOW);
        let single: Vec<_> = list
            .iter()
            .map(|r| crate::record::verify(r, &params(), NOW))
            .collect();
        assert_eq!(batch, single);
        assert_eq!(batch.iter().filter(|v| v.is_err()).count(), 3);
    }

    #[test]
    fn canonical_y_check() {
        assert!(is_canonical_y(&[0; 32]));
        let mut p_minus_1 = [0xff; 32];
        p_minus_1[0] = 0xec;
        p_minus_1[31] = 0x7f;
        assert!(is_canonical_y(&p_minus_1));
        let mut p = p_minus_1;
        p[0] = 0xed;
        assert!(!is_canonical_y(&p));
        p[31] = 0xff; // sign bit does not matter
        assert!(!is_canonical_y(&p));
    }
}
