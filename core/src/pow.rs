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

use crate::network::NetworkId;
use crate::onion::OnionAddress;

/// Highest difficulty accepted. 2^64 tries is far beyond any honest solver;
/// refusing more keeps every check on lane 0 of the state.
pub const MAX_DIFFICULTY: u8 = 64;
/// The domain-separation prefix (16 bytes).
pub const POW_DOMAIN: &[u8; 16] = b"torpeer pow v1\0\0";
/// Length of the hashed input.
pub const POW_INPUT_LEN: usize = 16 + 32 + 32 + 8;
/// Keccak state lane that holds the nonce.
const NONCE_LANE: usize = 10;
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
    /// if any.
    pub fn run(&mut self, max_tries: u64) -> Option<u64> {
        // With difficulty <= 64 only the first 8 hash bytes matter: lane 0,
        // whose little-endian bytes are hash[0..8].
        let mask = if self.difficulty == 0 {
            0
        } else {
            u64::MAX << (64 - u32::from(self.difficulty))
        };
        for _ in 0..max_tries {
            let nonce = self.next;
            self.next = self.next.wrapping_add(self.stride);
            self.tries += 1;
            let mut state = self.template;
            state[NONCE_LANE] = nonce;
            keccak::f1600(&mut state);
            if u64::from_be_bytes(state[0].to_le_bytes()) & mask == 0 {
                return Some(nonce);
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
    use crate::identity::Identity;
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
            keccak::f1600(&mut state);
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
