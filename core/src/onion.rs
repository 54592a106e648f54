//! Tor v3 onion addresses.
//!
//! An address is `base32(pubkey ‖ checksum ‖ version)` + `.onion`, where
//! `checksum = SHA3-256(".onion checksum" ‖ pubkey ‖ version)[..2]` and
//! `version = 0x03` (rend-spec-v3 §6). The public key is the onion service's
//! ed25519 identity key, which is also the key that signs TorPeer records.
//!
//! Parsing is strict: the 56 base32 characters must be lowercase (the form Tor
//! writes to `hostname`), the checksum and version must match, and the key
//! must be a valid, non-weak ed25519 point — an address whose key can never
//! sign anything is useless as a peer identity and is refused here, once.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::VerifyingKey;
use sha3::{Digest, Sha3_256};

/// Length of the base32 part of a v3 address.
pub const ONION_BASE32_LEN: usize = 56;
/// The only address version this crate knows.
pub const ONION_VERSION: u8 = 0x03;
const CHECKSUM_PREFIX: &[u8] = b".onion checksum";
const SUFFIX: &str = ".onion";

/// Why a string is not a valid v3 onion address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnionError {
    /// The base32 part does not have exactly 56 characters.
    #[error("onion address must have 56 base32 characters before \".onion\", found {found}")]
    Length {
        /// Number of characters found.
        found: usize,
    },
    /// Upper-case letters: Tor writes v3 addresses in lower case, and we
    /// accept exactly that form so an identity has one spelling.
    #[error("onion address must be lower case (found {found:?} at position {position})")]
    NotLowercase {
        /// The offending character.
        found: char,
        /// Its position in the base32 part.
        position: usize,
    },
    /// A character outside the base32 alphabet `a-z2-7`.
    #[error("invalid base32 character {found:?} at position {position}")]
    InvalidCharacter {
        /// The offending character.
        found: char,
        /// Its position in the base32 part.
        position: usize,
    },
    /// The version byte is not 3.
    #[error("unsupported onion address version {found} (only v3 is supported)")]
    Version {
        /// The version byte found.
        found: u8,
    },
    /// The two checksum bytes do not match the key.
    #[error("onion address checksum mismatch (typo?)")]
    Checksum,
    /// The embedded key is not a usable ed25519 public key.
    #[error("onion address key is not a valid ed25519 public key")]
    InvalidKey,
}

impl OnionError {
    /// A stable, machine-readable code for this error (used by the CLI's JSON
    /// output and the wasm bindings).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Length { .. } => "onion_length",
            Self::NotLowercase { .. } => "onion_not_lowercase",
            Self::InvalidCharacter { .. } => "onion_invalid_character",
            Self::Version { .. } => "onion_version",
            Self::Checksum => "onion_checksum",
            Self::InvalidKey => "onion_invalid_key",
        }
    }
}

/// A validated v3 onion address; equivalent to its ed25519 public key.
///
/// Holds only the 32 compressed key bytes (validated once, at construction),
/// so that tables of millions of peers stay small; signature checks
/// decompress the point when they need it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OnionAddress {
    key: [u8; 32],
}

impl PartialOrd for OnionAddress {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OnionAddress {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.public_key().cmp(other.public_key())
    }
}

impl OnionAddress {
    /// The address of a public key. Fails if the bytes are not a valid,
    /// non-weak ed25519 point.
    pub fn from_public_key(public_key: [u8; 32]) -> Result<Self, OnionError> {
        let key = VerifyingKey::from_bytes(&public_key).map_err(|_| OnionError::InvalidKey)?;
        if key.is_weak() {
            return Err(OnionError::InvalidKey);
        }
        Ok(Self { key: public_key })
    }

    /// Strict parse of `<56 lowercase base32 chars>` with an optional
    /// `.onion` suffix.
    pub fn parse(s: &str) -> Result<Self, OnionError> {
        let body = s.strip_suffix(SUFFIX).unwrap_or(s);
        let chars = body.chars().count();
        if chars != ONION_BASE32_LEN || body.len() != ONION_BASE32_LEN {
            return Err(OnionError::Length { found: chars });
        }
        for (position, c) in body.chars().enumerate() {
            match c {
                'a'..='z' | '2'..='7' => {}
                'A'..='Z' => return Err(OnionError::NotLowercase { found: c, position }),
                _ => return Err(OnionError::InvalidCharacter { found: c, position }),
            }
        }
        let upper = body.to_ascii_uppercase();
        let raw = data_encoding::BASE32_NOPAD
            .decode(upper.as_bytes())
            // 56 characters of the alphabet always decode to 35 bytes; keep the
            // error typed anyway rather than trusting that.
            .map_err(|e| OnionError::InvalidCharacter {
                found: body.chars().nth(e.position).unwrap_or('?'),
                position: e.position,
            })?;
        let raw: [u8; 35] = raw
            .try_into()
            .map_err(|_| OnionError::Length { found: chars })?;
        let mut public_key = [0u8; 32];
        public_key.copy_from_slice(&raw[..32]);
        if raw[34] != ONION_VERSION {
            return Err(OnionError::Version { found: raw[34] });
        }
        if raw[32..34] != checksum(&public_key) {
            return Err(OnionError::Checksum);
        }
        Self::from_public_key(public_key)
    }

    /// The ed25519 public key (the onion service's identity key).
    pub fn public_key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The verifying key (decompresses the point). `None` is unreachable for
    /// an address built by this module, which validated the point.
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(&self.key).ok()
    }

    /// The 56-character base32 part, without `.onion`.
    pub fn base32(&self) -> String {
        let mut raw = [0u8; 35];
        raw[..32].copy_from_slice(self.public_key());
        raw[32..34].copy_from_slice(&checksum(self.public_key()));
        raw[34] = ONION_VERSION;
        data_encoding::BASE32_NOPAD
            .encode(&raw)
            .to_ascii_lowercase()
    }
}

/// `SHA3-256(".onion checksum" ‖ pubkey ‖ 0x03)[..2]`.
fn checksum(public_key: &[u8; 32]) -> [u8; 2] {
    let digest = Sha3_256::new()
        .chain_update(CHECKSUM_PREFIX)
        .chain_update(public_key)
        .chain_update([ONION_VERSION])
        .finalize();
    [digest[0], digest[1]]
}

impl fmt::Display for OnionAddress {
    /// The canonical spelling: `<56 lowercase chars>.onion`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{SUFFIX}", self.base32())
    }
}

impl fmt::Debug for OnionAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OnionAddress({self})")
    }
}

impl FromStr for OnionAddress {
    type Err = OnionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A well-known, long-lived public v3 address.
    const KNOWN: &str = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion";

    #[test]
    fn parses_and_reencodes_known_address() {
        let a = OnionAddress::parse(KNOWN).unwrap();
        assert_eq!(a.to_string(), KNOWN);
        let bare = KNOWN.strip_suffix(".onion").unwrap();
        assert_eq!(OnionAddress::parse(bare).unwrap(), a);
    }

    #[test]
    fn rejects_upper_case() {
        let upper = KNOWN.replacen('d', "D", 1);
        assert_eq!(
            OnionAddress::parse(&upper),
            Err(OnionError::NotLowercase {
                found: 'D',
                position: 0
            })
        );
    }

    #[test]
    fn rejects_checksum_typo() {
        // Change one character of the key part: checksum no longer matches
        // (or the key is no longer a point; either is a rejection).
        let typo = KNOWN.replacen("duck", "duca", 1);
        assert!(OnionAddress::parse(&typo).is_err());
    }

    #[test]
    fn rejects_wrong_lengths_and_characters() {
        assert_eq!(
            OnionAddress::parse(""),
            Err(OnionError::Length { found: 0 })
        );
        assert!(matches!(
            OnionAddress::parse(&KNOWN[1..]),
            Err(OnionError::Length { .. })
        ));
        let bad = KNOWN.replacen('d', "1", 1);
        assert_eq!(
            OnionAddress::parse(&bad),
            Err(OnionError::InvalidCharacter {
                found: '1',
                position: 0
            })
        );
        // Multi-byte characters must not confuse the length check.
        let multi = format!("é{}", &KNOWN[2..56]);
        assert!(OnionAddress::parse(&multi).is_err());
    }
}
