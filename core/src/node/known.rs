//! The known-records filter a get-peers request carries (PROTOCOL.md §8.4).
//!
//! Periodic gossip used to pull a random sample of the peer's table. Once a
//! node holds most of the network, almost every sampled record is one it
//! already has, and the last few percent arrive like coupons in a
//! coupon-collector game (46 rounds at 1,000 nodes instead of ~8). With a
//! filter the asker says what it holds, and the answer carries only records
//! it lacks: one exchange reconciles two tables up to the answer cap.
//!
//! A Bloom filter is the summary because it is one-sided (a record the
//! asker holds is never sent again, one it lacks is left out only with the
//! false-positive rate), compact (10 bits per record: 1.2 KiB for 1,000
//! records) and cheap on both sides (one SipHash per record). The hash key
//! is fresh per request, so a record hidden by a false positive in one
//! round is found in the next, and an attacker cannot grind identities that
//! collide with a victim's record in every round.

use std::hash::Hasher;

use siphasher::sip::SipHasher13;

use crate::proto;

/// Largest filter accepted or built, in bytes (131,072 bits): bounds the
/// request size and the bits an answerer reads per record.
pub(crate) const MAX_FILTER_BYTES: usize = 16_384;
/// Most hash indices per element accepted.
pub(crate) const MAX_FILTER_HASHES: u32 = 16;
/// Bits per record in filters we build (false positives ~0.8 % with k = 7).
const BITS_PER_RECORD: usize = 10;
/// Hash indices per record in filters we build (≈ ln 2 · bits per record).
const HASHES: u32 = 7;

/// Why a received filter is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FilterError {
    /// No bits at all.
    #[error("known filter is empty")]
    Empty,
    /// More than [`MAX_FILTER_BYTES`].
    #[error("known filter of {0} bytes exceeds the maximum of 16384")]
    TooLarge(usize),
    /// `hashes` outside `1..=16`.
    #[error("known filter asks for {0} hashes, allowed 1..=16")]
    BadHashes(u32),
}

/// A salted Bloom filter of `(public key, sequence)` pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownFilter {
    bits: Vec<u8>,
    hashes: u32,
    key: (u64, u64),
}

/// The element hash: SipHash-1-3 keyed by `key` over the public key and the
/// big-endian sequence.
fn element_hash(key: (u64, u64), public_key: &[u8; 32], sequence: u64) -> u64 {
    let mut msg = [0u8; 40];
    msg[..32].copy_from_slice(public_key);
    msg[32..].copy_from_slice(&sequence.to_be_bytes());
    let mut h = SipHasher13::new_with_keys(key.0, key.1);
    h.write(&msg);
    h.finish()
}

impl KnownFilter {
    /// A filter holding `records` (`count` of them), sized for a false
    /// positive rate below 1 % up to 13,107 records and capped at
    /// [`MAX_FILTER_BYTES`] beyond.
    pub(crate) fn build<'a>(
        records: impl Iterator<Item = (&'a [u8; 32], u64)>,
        count: usize,
        key: (u64, u64),
    ) -> Self {
        let bytes = count
            .saturating_mul(BITS_PER_RECORD)
            .div_ceil(8)
            .clamp(8, MAX_FILTER_BYTES);
        let mut filter = Self {
            bits: vec![0; bytes],
            hashes: HASHES,
            key,
        };
        for (public_key, sequence) in records {
            filter.insert(public_key, sequence);
        }
        filter
    }

    fn m(&self) -> u64 {
        (self.bits.len() as u64) * 8
    }

    /// The `k` bit indices of an element: `(h1 + j·h2) mod m`
    /// (Kirsch–Mitzenmacher double hashing).
    ///
    /// Computed as `a = h1 mod m`, `b = h2 mod m`, then `a + j·b` reduced
    /// by subtraction: the same indices (`h1 + j·h2` cannot overflow a u64
    /// for 32-bit halves and j ≤ 16) with two divisions instead of `k`.
    /// Every gossip round builds a filter over the whole table and the
    /// answerer tests its whole table against it, so this is the hot loop
    /// of gossip at scale.
    fn indices(&self, public_key: &[u8; 32], sequence: u64) -> impl Iterator<Item = usize> + use<> {
        let h = element_hash(self.key, public_key, sequence);
        let m = self.m().max(1);
        let (mut i, step) = ((h & 0xffff_ffff) % m, (h >> 32) % m);
        (0..self.hashes).map(move |_| {
            let index = i as usize;
            i += step;
            if i >= m {
                i -= m;
            }
            index
        })
    }

    fn insert(&mut self, public_key: &[u8; 32], sequence: u64) {
        for i in self.indices(public_key, sequence) {
            self.bits[i / 8] |= 1 << (i % 8);
        }
    }

    /// Whether the asker (probably) holds this record.
    pub(crate) fn contains(&self, public_key: &[u8; 32], sequence: u64) -> bool {
        self.indices(public_key, sequence)
            .all(|i| self.bits[i / 8] & (1 << (i % 8)) != 0)
    }

    /// Take a received filter, checking its bounds.
    pub(crate) fn from_proto(p: proto::KnownFilter) -> Result<Self, FilterError> {
        if p.bits.is_empty() {
            return Err(FilterError::Empty);
        }
        if p.bits.len() > MAX_FILTER_BYTES {
            return Err(FilterError::TooLarge(p.bits.len()));
        }
        if !(1..=MAX_FILTER_HASHES).contains(&p.hashes) {
            return Err(FilterError::BadHashes(p.hashes));
        }
        Ok(Self {
            bits: p.bits,
            hashes: p.hashes,
            key: (p.key0, p.key1),
        })
    }

    /// The wire form.
    pub(crate) fn into_proto(self) -> proto::KnownFilter {
        proto::KnownFilter {
            bits: self.bits,
            hashes: self.hashes,
            key0: self.key.0,
            key1: self.key.1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u64) -> [u8; 32] {
        let mut k = [0u8; 32];
        k[..8].copy_from_slice(&i.to_be_bytes());
        k[8..16].copy_from_slice(&(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).to_le_bytes());
        k
    }

    #[test]
    fn holds_what_was_inserted_and_little_else() {
        let keys: Vec<[u8; 32]> = (0..1_000).map(key).collect();
        let f = KnownFilter::build(keys.iter().map(|k| (k, 5)), keys.len(), (1, 2));
        assert_eq!(f.bits.len(), 1_250);
        // No false negatives, ever.
        assert!(keys.iter().all(|k| f.contains(k, 5)));
        // Another sequence of a held key is another element.
        let newer = keys.iter().filter(|k| f.contains(k, 6)).count();
        let absent = (1_000..11_000).filter(|i| f.contains(&key(*i), 5)).count();
        // Expected rate (1 - e^{-7/10})^7 ≈ 0.8 %; allow 2 %.
        assert!(newer < 20, "{newer} of 1000 newer sequences look held");
        assert!(absent < 200, "{absent} of 10000 absent keys look held");
    }

    #[test]
    fn false_positives_change_with_the_key() {
        let keys: Vec<[u8; 32]> = (0..1_000).map(key).collect();
        let probe: Vec<[u8; 32]> = (1_000..3_000).map(key).collect();
        let fp = |salt: u64| -> Vec<usize> {
            let f = KnownFilter::build(keys.iter().map(|k| (k, 1)), keys.len(), (salt, !salt));
            (0..probe.len())
                .filter(|&i| f.contains(&probe[i], 1))
                .collect()
        };
        let (a, b) = (fp(1), fp(2));
        assert!(!a.is_empty() && !b.is_empty());
        let both = a.iter().filter(|i| b.contains(i)).count();
        assert!(
            both * 4 < a.len().min(b.len()),
            "{both} shared of {a:?} / {b:?}"
        );
    }

    #[test]
    fn indices_follow_the_spec() {
        // PROTOCOL.md §8.4, written out independently of `indices`.
        let f = KnownFilter::build(std::iter::empty(), 100, (7, 9));
        let pk = key(42);
        let mut h = SipHasher13::new_with_keys(7, 9);
        let mut msg = pk.to_vec();
        msg.extend_from_slice(&3u64.to_be_bytes());
        h.write(&msg);
        let h = h.finish();
        let m = 8 * 125u64;
        let want: Vec<usize> = (0..7u64)
            .map(|j| (((h & 0xffff_ffff) + j * (h >> 32)) % m) as usize)
            .collect();
        assert_eq!(f.indices(&pk, 3).collect::<Vec<_>>(), want);
    }

    #[test]
    fn incremental_indices_equal_the_formula_for_any_size_and_k() {
        // Received filters have any length 1..=16384 and k in 1..=16; the
        // running sum must agree with `(h1 + j·h2) mod m` for all of them.
        for (len, hashes) in [(1, 16), (3, 1), (7, 5), (125, 7), (999, 16), (16_384, 16)] {
            let f = KnownFilter::from_proto(proto::KnownFilter {
                bits: vec![0; len],
                hashes,
                key0: len as u64,
                key1: 99,
            })
            .unwrap();
            let m = 8 * len as u64;
            for i in 0..200 {
                let pk = key(i);
                let h = element_hash(f.key, &pk, i);
                let want: Vec<usize> = (0..u64::from(hashes))
                    .map(|j| (((h & 0xffff_ffff) + j * (h >> 32)) % m) as usize)
                    .collect();
                assert_eq!(
                    f.indices(&pk, i).collect::<Vec<_>>(),
                    want,
                    "m={m} k={hashes}"
                );
            }
        }
    }

    #[test]
    fn sizes_are_bounded() {
        let empty = KnownFilter::build(std::iter::empty(), 0, (0, 0));
        assert_eq!(empty.bits.len(), 8);
        let huge = KnownFilter::build(std::iter::empty(), 1_000_000, (0, 0));
        assert_eq!(huge.bits.len(), MAX_FILTER_BYTES);
    }

    #[test]
    fn bad_filters_are_refused() {
        let p = |bits: usize, hashes: u32| proto::KnownFilter {
            bits: vec![0xff; bits],
            hashes,
            key0: 0,
            key1: 0,
        };
        assert_eq!(KnownFilter::from_proto(p(0, 7)), Err(FilterError::Empty));
        assert_eq!(
            KnownFilter::from_proto(p(MAX_FILTER_BYTES + 1, 7)),
            Err(FilterError::TooLarge(MAX_FILTER_BYTES + 1))
        );
        assert_eq!(
            KnownFilter::from_proto(p(8, 0)),
            Err(FilterError::BadHashes(0))
        );
        assert_eq!(
            KnownFilter::from_proto(p(8, 17)),
            Err(FilterError::BadHashes(17))
        );
        assert!(KnownFilter::from_proto(p(MAX_FILTER_BYTES, 16)).is_ok());
    }
}
