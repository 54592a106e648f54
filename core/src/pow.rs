//! Proof-of-work bound to an onion key, so that identities are not free to
//! mint.
//!
//! `hash = SHA3-256(domain ‖ network id ‖ public key ‖ nonce)`, with
//! - `domain` = `"torpeer pow v1"` and two NUL bytes (16 bytes),
//! - `network id` = [`NetworkName::id`](crate::network::NetworkName::id) (32 bytes),
//! - `public key` = the onion's ed25519 key (32 bytes),
//! - `nonce` = u64 little-endian (8 bytes).
//!
//! A nonce is valid for difficulty `D` when the hash, read as a big-endian bit
//! string, starts with at least `D` zero bits. The 88-byte input fits in one
//! SHA3-256 block (rate 136 bytes), so a verify is one Keccak-f[1600] call.
//! The nonce sits exactly in state lane 10, so the solver builds the padded
//! block once and only rewrites that lane per try; that layout is also what
//! lets a SIMD kernel run many nonces through one permutation call.

use sha3::{Digest, Sha3_256};

use crate::keccak::{self, Kernel};
use crate::network::NetworkId;
use crate::onion::OnionAddress;

/// Highest difficulty accepted. 2^64 tries is far beyond any honest solver;
/// refusing more keeps every check on lane 0 of the state.
pub const MAX_DIFFICULTY: u8 = 64;
/// The domain-separation prefix (16 bytes).
pub const POW_DOMAIN: &[u8; 16] = b"torpeer pow v1\0\0";
/// Length of the hashed input.
pub const POW_INPUT_LEN: usize = 16 + 32 + 32 + 8;
/// SHA3-256 rate in 64-bit lanes (136 bytes).
const RATE_LANES: usize = 17;

/// Why a proof-of-work is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// The hash has fewer leading zero bits than required.
    #[error("proof-of-work too weak: {achieved} leading zero bits, {required} required")]
    Insufficient {
        /// Bits required.
        required: u8,
        /// Bits the hash has.
        achieved: u32,
    },
    /// The difficulty is above [`MAX_DIFFICULTY`].
    #[error("difficulty {0} is above the maximum of {MAX_DIFFICULTY}")]
    DifficultyTooHigh(u32),
}

impl PowError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Insufficient { .. } => "pow_insufficient",
            Self::DifficultyTooHigh(_) => "pow_difficulty_too_high",
        }
    }
}

/// Validate a difficulty given as a wider integer (from the wire or a user).
pub fn check_difficulty(difficulty: u32) -> Result<u8, PowError> {
    u8::try_from(difficulty)
        .ok()
        .filter(|d| *d <= MAX_DIFFICULTY)
        .ok_or(PowError::DifficultyTooHigh(difficulty))
}

/// The 88 bytes that are hashed.
pub fn pow_input(network: &NetworkId, key: &OnionAddress, nonce: u64) -> [u8; POW_INPUT_LEN] {
    let mut input = [0u8; POW_INPUT_LEN];
    input[..16].copy_from_slice(POW_DOMAIN);
    input[16..48].copy_from_slice(&network.0);
    input[48..80].copy_from_slice(key.public_key());
    input[80..88].copy_from_slice(&nonce.to_le_bytes());
    input
}

/// The proof-of-work hash of a nonce (reference path, via the `sha3` crate).
pub fn pow_hash(network: &NetworkId, key: &OnionAddress, nonce: u64) -> [u8; 32] {
    Sha3_256::digest(pow_input(network, key, nonce)).into()
}

/// Number of leading zero bits of a byte string read big-endian.
pub fn leading_zero_bits(hash: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in hash {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Leading zero bits this nonce achieves (the "work" of a record).
pub fn achieved_difficulty(network: &NetworkId, key: &OnionAddress, nonce: u64) -> u32 {
    leading_zero_bits(&pow_hash(network, key, nonce))
}

/// Check a nonce against a difficulty: one hash.
pub fn verify(
    network: &NetworkId,
    key: &OnionAddress,
    nonce: u64,
    difficulty: u8,
) -> Result<(), PowError> {
    if difficulty > MAX_DIFFICULTY {
        return Err(PowError::DifficultyTooHigh(u32::from(difficulty)));
    }
    let achieved = achieved_difficulty(network, key, nonce);
    if achieved >= u32::from(difficulty) {
        Ok(())
    } else {
        Err(PowError::Insufficient {
            required: difficulty,
            achieved,
        })
    }
}

/// An incremental, single-threaded nonce search over `start, start + stride,
/// start + 2·stride, …`.
///
/// It holds no shared state, so a native solver runs one per thread with
/// `start = thread index, stride = thread count`, and a wasm solver runs one
/// in slices between yields to the event loop. [`PowSearch::run`] does a
/// bounded amount of work and returns, so callers can report progress or stop.
#[derive(Debug, Clone)]
pub struct PowSearch {
    template: [u64; 25],
    next: u64,
    stride: u64,
    difficulty: u8,
    tries: u64,
}

impl PowSearch {
    /// Prepare a search. `stride` 0 is treated as 1.
    pub fn new(
        network: &NetworkId,
        key: &OnionAddress,
        difficulty: u8,
        start: u64,
        stride: u64,
    ) -> Result<Self, PowError> {
        if difficulty > MAX_DIFFICULTY {
            return Err(PowError::DifficultyTooHigh(u32::from(difficulty)));
        }
        // SHA3 padding of an 88-byte message in a 136-byte block:
        // 0x06 right after the message, 0x80 in the last byte of the block.
        let mut block = [0u8; RATE_LANES * 8];
        block[..POW_INPUT_LEN].copy_from_slice(&pow_input(network, key, 0));
        block[POW_INPUT_LEN] = 0x06;
        block[RATE_LANES * 8 - 1] |= 0x80;
        let mut template = [0u64; 25];
        for (lane, chunk) in template.iter_mut().zip(block.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *lane = u64::from_le_bytes(b);
        }
        Ok(Self {
            template,
            next: start,
            stride: stride.max(1),
            difficulty,
            tries: 0,
        })
    }

    /// Try at most `max_tries` nonces; the first that meets the difficulty,
    /// if any. Runs on the fastest Keccak kernel of this machine
    /// ([`Kernel::best`]); the answer is the same on every kernel.
    pub fn run(&mut self, max_tries: u64) -> Option<u64> {
        self.run_with(Kernel::best(), max_tries)
    }

    /// [`run`](Self::run) on a given kernel (benchmarks, cross-checks). An
    /// unavailable kernel falls back to the portable one.
    ///
    /// A kernel hashes `kernel.lanes()` consecutive nonces of the sequence
    /// per call and reports the lowest-indexed hit, so the search returns the
    /// *first* solving nonce of its sequence and counts exactly the tries up
    /// to it, as a one-at-a-time loop would. A tail shorter than one batch
    /// runs on the portable kernel.
    pub fn run_with(&mut self, kernel: Kernel, max_tries: u64) -> Option<u64> {
        // With difficulty <= 64 only the first 8 hash bytes matter: lane 0,
        // whose little-endian bytes are hash[0..8]. The mask is over the
        // big-endian reading; byte-swapping it tests lane 0 directly.
        let mask = if self.difficulty == 0 {
            0
        } else {
            u64::MAX << (64 - u32::from(self.difficulty))
        };
        let mask_le = mask.swap_bytes();
        let lanes = kernel.lanes() as u64;
        let batches = max_tries / lanes;
        let tail = max_tries % lanes;
        for (kernel, batches) in [(kernel, batches), (Kernel::Portable, tail)] {
            if batches == 0 {
                continue;
            }
            let count = batches * kernel.lanes() as u64;
            let found = keccak::search(
                kernel,
                &self.template,
                self.next,
                self.stride,
                batches,
                mask_le,
            );
            let done = found.map_or(count, |i| i + 1);
            let last = self.next.wrapping_add((done - 1).wrapping_mul(self.stride));
            self.next = last.wrapping_add(self.stride);
            self.tries += done;
            if found.is_some() {
                return Some(last);
            }
        }
        None
    }

    /// Nonces tried so far.
    pub fn tries(&self) -> u64 {
        self.tries
    }

    /// The difficulty searched for.
    pub fn difficulty(&self) -> u8 {
        self.difficulty
    }
}

/// Solve on the current thread until a nonce is found. For small
/// difficulties (tests, demos, wasm); native code uses a threaded solver over
/// [`PowSearch`]. Returns the nonce and the number of tries.
pub fn solve(
    network: &NetworkId,
    key: &OnionAddress,
    difficulty: u8,
) -> Result<(u64, u64), PowError> {
    let mut search = PowSearch::new(network, key, difficulty, 0, 1)?;
    loop {
        if let Some(nonce) = search.run(1 << 16) {
            return Ok((nonce, search.tries()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The Keccak state lane that holds the nonce (input bytes 80..88).
    use crate::identity::Identity;
    use crate::keccak::NONCE_LANE;
    use crate::network::NetworkName;

    fn key(seed: u8) -> OnionAddress {
        Identity::from_seed(&[seed; 32]).unwrap().address()
    }

    #[test]
    fn fast_kernel_matches_sha3_crate() {
        let net = NetworkName::new("kernel-test").unwrap().id();
        let k = key(1);
        // difficulty 0 accepts the first nonce: compare many full hashes.
        for start in [0u64, 1, 255, 1 << 32, u64::MAX - 3] {
            let mut search = PowSearch::new(&net, &k, 0, start, 1).unwrap();
            let mut state = search.template;
            state[NONCE_LANE] = start;
            ::keccak::f1600(&mut state);
            let mut fast = [0u8; 32];
            for (i, lane) in state[..4].iter().enumerate() {
                fast[i * 8..i * 8 + 8].copy_from_slice(&lane.to_le_bytes());
            }
            assert_eq!(fast, pow_hash(&net, &k, start));
            assert_eq!(search.run(1), Some(start));
        }
    }

    #[test]
    fn solved_nonces_verify_and_neighbours_mostly_do_not() {
        let net = NetworkName::default_network().id();
        let k = key(2);
        let (nonce, tries) = solve(&net, &k, 12).unwrap();
        assert!(tries >= 1);
        verify(&net, &k, nonce, 12).unwrap();
        assert!(achieved_difficulty(&net, &k, nonce) >= 12);
        // The search returns the *first* solution: all earlier nonces fail.
        for n in 0..nonce {
            assert!(verify(&net, &k, n, 12).is_err());
        }
        // Bound to the key and the network: the hash changes with either.
        let other = NetworkName::new("other").unwrap().id();
        assert_ne!(pow_hash(&other, &k, nonce), pow_hash(&net, &k, nonce));
        assert_ne!(pow_hash(&net, &key(3), nonce), pow_hash(&net, &k, nonce));
    }

    #[test]
    fn strided_searches_partition_the_nonce_space() {
        let net = NetworkName::default_network().id();
        let k = key(4);
        let (first, _) = solve(&net, &k, 10).unwrap();
        // Two interleaved searches together find the same first nonce.
        let mut a = PowSearch::new(&net, &k, 10, 0, 2).unwrap();
        let mut b = PowSearch::new(&net, &k, 10, 1, 2).unwrap();
        let fa = a.run(first / 2 + 1);
        let fb = b.run(first / 2 + 1);
        assert_eq!(fa.into_iter().chain(fb).min(), Some(first));
    }

    #[test]
    fn difficulty_bounds() {
        let net = NetworkName::default_network().id();
        assert_eq!(check_difficulty(64), Ok(64));
        assert_eq!(check_difficulty(65), Err(PowError::DifficultyTooHigh(65)));
        assert_eq!(check_difficulty(300), Err(PowError::DifficultyTooHigh(300)));
        assert!(PowSearch::new(&net, &key(1), 65, 0, 1).is_err());
        assert_eq!(verify(&net, &key(1), 0, 0), Ok(()));
        assert_eq!(leading_zero_bits(&[0, 0, 0x10]), 19);
        assert_eq!(leading_zero_bits(&[0; 4]), 32);
    }
}

#[cfg(test)]
mod kernel_tests {
    use super::*;
    use crate::identity::Identity;
    use crate::keccak::NONCE_LANE;
    use crate::keccak::{Kernel, f1600_many};
    use crate::network::NetworkName;

    fn key(seed: u8) -> OnionAddress {
        Identity::from_seed(&[seed; 32]).unwrap().address()
    }

    /// Full 32-byte hashes of many nonces, computed on every kernel through
    /// the solver's padded template, equal the `sha3` crate's.
    #[test]
    fn every_kernel_hashes_like_the_sha3_crate() {
        let net = NetworkName::new("kernel-test").unwrap().id();
        let k = key(7);
        let search = PowSearch::new(&net, &k, 0, 0, 1).unwrap();
        let mut x = 0x1234_5678_9ABC_DEF0u64;
        let nonces: Vec<u64> = (0..37)
            .map(|i| {
                x = x.rotate_left(17).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i;
                x
            })
            .chain([0, 1, u64::MAX])
            .collect();
        for kernel in Kernel::ALL {
            let mut states: Vec<[u64; 25]> = nonces
                .iter()
                .map(|n| {
                    let mut s = search.template;
                    s[NONCE_LANE] = *n;
                    s
                })
                .collect();
            f1600_many(kernel, &mut states);
            for (state, nonce) in states.iter().zip(&nonces) {
                let mut hash = [0u8; 32];
                for (i, lane) in state[..4].iter().enumerate() {
                    hash[i * 8..i * 8 + 8].copy_from_slice(&lane.to_le_bytes());
                }
                assert_eq!(hash, pow_hash(&net, &k, *nonce), "kernel {kernel}");
            }
        }
    }

    /// Every kernel returns the first solving nonce of the stride sequence
    /// and counts the same tries, including when one batch holds several
    /// solutions (difficulty 1 and 2 solve about every second/fourth try),
    /// when `max_tries` is not a multiple of the lane count, and when the
    /// sequence wraps around `u64::MAX`.
    #[test]
    fn every_kernel_finds_the_first_solution_in_sequence_order() {
        let net = NetworkName::default_network().id();
        for (seed, difficulty, start, stride, max) in [
            (1u8, 1u8, 0u64, 1u64, 1000u64),
            (2, 2, 5, 3, 1000),
            (3, 6, 0, 1, 7),
            (4, 8, u64::MAX - 20, 7, 100_000),
            (5, 10, 1 << 40, 2, 100_003),
            (6, 0, 9, 1, 3),
        ] {
            let k = key(seed);
            // The reference: one nonce at a time through the sha3 crate.
            let mut expected = None;
            let mut n = start;
            for i in 0..max {
                if verify(&net, &k, n, difficulty).is_ok() {
                    expected = Some((n, i + 1));
                    break;
                }
                n = n.wrapping_add(stride);
            }
            for kernel in Kernel::ALL {
                let mut search = PowSearch::new(&net, &k, difficulty, start, stride).unwrap();
                let found = search.run_with(kernel, max);
                match expected {
                    Some((nonce, tries)) => {
                        assert_eq!(found, Some(nonce), "kernel {kernel} d={difficulty}");
                        assert_eq!(search.tries(), tries, "kernel {kernel}");
                        // The search resumes right after the solution.
                        let again = search.run_with(kernel, max);
                        if let Some(next) = again {
                            assert!(verify(&net, &k, next, difficulty).is_ok());
                            assert_ne!(next, nonce);
                        }
                    }
                    None => {
                        assert_eq!(found, None, "kernel {kernel}");
                        assert_eq!(search.tries(), max);
                    }
                }
            }
        }
    }

    /// Searching in small slices finds the same nonce as one long run, on
    /// every kernel (the wasm solver yields between slices).
    #[test]
    fn sliced_runs_agree_with_one_run() {
        let net = NetworkName::default_network().id();
        let k = key(9);
        let (first, tries) = solve(&net, &k, 11).unwrap();
        for kernel in Kernel::ALL {
            let mut search = PowSearch::new(&net, &k, 11, 0, 1).unwrap();
            let found = loop {
                if let Some(n) = search.run_with(kernel, 13) {
                    break n;
                }
            };
            assert_eq!((found, search.tries()), (first, tries), "kernel {kernel}");
        }
    }
}
