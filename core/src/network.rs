//! Networks: a name, the id derived from it, and the parameters every node of
//! the network must agree on.
//!
//! The id is a hash of the name rather than the name itself so that it has a
//! fixed size inside the proof-of-work block and the signed layouts
//! (PROTOCOL.md, "Network id").

use std::fmt;

use sha3::{Digest, Sha3_256};

/// Name of the network the CLI and the wasm bindings use when none is given.
pub const DEFAULT_NETWORK: &str = "torpeer";
/// Proof-of-work difficulty of the default network, in leading zero bits.
/// About a million SHA3 tries: a second or so on one core, and 2^20 times the
/// cost of verifying.
pub const DEFAULT_DIFFICULTY: u8 = 20;
/// Records older than this are expired (seconds). Nodes re-sign well before.
pub const DEFAULT_RECORD_TTL_SECS: u64 = 24 * 60 * 60;
/// Records dated further than this in the future are refused (seconds); the
/// same bound Bitcoin's addrman uses for timestamps.
pub const DEFAULT_MAX_FUTURE_SKEW_SECS: u64 = 10 * 60;
/// Longest network name accepted.
pub const MAX_NETWORK_NAME_LEN: usize = 64;

const NETWORK_ID_DOMAIN: &[u8] = b"torpeer network id v1\0";

/// Why a network name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkNameError {
    /// Empty name.
    #[error("network name must not be empty")]
    Empty,
    /// Longer than [`MAX_NETWORK_NAME_LEN`] bytes.
    #[error("network name is {len} bytes long; at most {MAX_NETWORK_NAME_LEN} allowed")]
    TooLong {
        /// Length found.
        len: usize,
    },
    /// A character outside `a-z 0-9 . _ -`.
    #[error("network name may only hold a-z, 0-9, '.', '_' and '-' (found {found:?})")]
    InvalidCharacter {
        /// The offending character.
        found: char,
    },
}

/// A validated network name: 1..=64 characters of `a-z 0-9 . _ -`, so that
/// every name has exactly one spelling.
///
/// Shared, not owned: every record names its network, and a peer table
/// replaces each admitted record's copy with its own (equal) name, so ten
/// thousand entries hold one allocation instead of ten thousand.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetworkName(std::sync::Arc<str>);

impl NetworkName {
    /// Validate a name.
    pub fn new(name: &str) -> Result<Self, NetworkNameError> {
        if name.is_empty() {
            return Err(NetworkNameError::Empty);
        }
        if name.len() > MAX_NETWORK_NAME_LEN {
            return Err(NetworkNameError::TooLong { len: name.len() });
        }
        if let Some(found) = name
            .chars()
            .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-'))
        {
            return Err(NetworkNameError::InvalidCharacter { found });
        }
        Ok(Self(name.into()))
    }

    /// The default network, [`DEFAULT_NETWORK`].
    pub fn default_network() -> Self {
        Self(DEFAULT_NETWORK.into())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `SHA3-256("torpeer network id v1\0" ‖ name)`.
    pub fn id(&self) -> NetworkId {
        let digest = Sha3_256::new()
            .chain_update(NETWORK_ID_DOMAIN)
            .chain_update(self.0.as_bytes())
            .finalize();
        NetworkId(digest.into())
    }
}

impl Default for NetworkName {
    fn default() -> Self {
        Self::default_network()
    }
}

impl fmt::Display for NetworkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NetworkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetworkName({:?})", self.0)
    }
}

impl std::str::FromStr for NetworkName {
    type Err = NetworkNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// The 32-byte id of a network, as it appears in hashed and signed layouts.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct NetworkId(pub [u8; 32]);

/// Parameters every node of one network must agree on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkParams {
    /// The network's name (its id is derived from it).
    pub name: NetworkName,
    /// Minimum proof-of-work difficulty a record must claim and meet.
    pub min_difficulty: u8,
    /// Records older than this many seconds are expired.
    pub record_ttl_secs: u64,
    /// Records dated more than this many seconds ahead are refused.
    pub max_future_skew_secs: u64,
}

impl NetworkParams {
    /// Parameters of a named network with the default difficulty and times.
    pub fn new(name: NetworkName) -> Self {
        Self {
            name,
            min_difficulty: DEFAULT_DIFFICULTY,
            record_ttl_secs: DEFAULT_RECORD_TTL_SECS,
            max_future_skew_secs: DEFAULT_MAX_FUTURE_SKEW_SECS,
        }
    }

    /// Same parameters with another minimum difficulty.
    pub fn with_min_difficulty(mut self, difficulty: u8) -> Self {
        self.min_difficulty = difficulty;
        self
    }
}

impl Default for NetworkParams {
    fn default() -> Self {
        Self::new(NetworkName::default_network())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(NetworkName::new("torpeer").is_ok());
        assert!(NetworkName::new("test-net_1.b").is_ok());
        assert_eq!(NetworkName::new(""), Err(NetworkNameError::Empty));
        assert_eq!(
            NetworkName::new("Main"),
            Err(NetworkNameError::InvalidCharacter { found: 'M' })
        );
        assert_eq!(
            NetworkName::new(&"a".repeat(65)),
            Err(NetworkNameError::TooLong { len: 65 })
        );
        assert!(NetworkName::new(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn ids_differ_by_name() {
        let a = NetworkName::new("a").unwrap().id();
        let b = NetworkName::new("b").unwrap().id();
        assert_ne!(a, b);
    }
}
