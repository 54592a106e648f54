//! C-tor `HiddenServiceDir` file formats, as bytes (the I/O lives in the
//! native crate).
//!
//! A v3 onion service directory holds:
//! - `hs_ed25519_secret_key`: a 32-byte header `== ed25519v1-secret: type0 ==`
//!   padded with NULs, then the 64-byte *expanded* secret key
//!   (clamped scalar ‖ hash prefix);
//! - `hs_ed25519_public_key`: header `== ed25519v1-public: type0 ==` padded
//!   to 32 bytes, then the 32-byte public key;
//! - `hostname`: `<address>.onion` and a newline.
//!
//! This is tor's "tagged contents" format (`crypto_read_tagged_contents_from_file`
//! in tor's `src/lib/crypt_ops/crypto_format.c`). The secret key file is the
//! source of truth; the other two are derived from it and, when present, must
//! agree with it.

use zeroize::Zeroizing;

use crate::identity::{Identity, KeyError};
use crate::onion::{OnionAddress, OnionError};

/// File name of the secret key inside a HiddenServiceDir.
pub const SECRET_KEY_FILE: &str = "hs_ed25519_secret_key";
/// File name of the public key inside a HiddenServiceDir.
pub const PUBLIC_KEY_FILE: &str = "hs_ed25519_public_key";
/// File name of the address inside a HiddenServiceDir.
pub const HOSTNAME_FILE: &str = "hostname";

const HEADER_LEN: usize = 32;
const SECRET_TAG: &[u8] = b"== ed25519v1-secret: type0 ==";
const PUBLIC_TAG: &[u8] = b"== ed25519v1-public: type0 ==";

/// Length of a valid `hs_ed25519_secret_key` file.
pub const SECRET_KEY_FILE_LEN: usize = HEADER_LEN + 64;
/// Length of a valid `hs_ed25519_public_key` file.
pub const PUBLIC_KEY_FILE_LEN: usize = HEADER_LEN + 32;

/// Which file of a HiddenServiceDir an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HsFile {
    /// `hs_ed25519_secret_key`
    SecretKey,
    /// `hs_ed25519_public_key`
    PublicKey,
    /// `hostname`
    Hostname,
}

impl HsFile {
    /// The file's name inside the directory.
    pub fn name(self) -> &'static str {
        match self {
            Self::SecretKey => SECRET_KEY_FILE,
            Self::PublicKey => PUBLIC_KEY_FILE,
            Self::Hostname => HOSTNAME_FILE,
        }
    }
}

/// Why HiddenServiceDir contents are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HsDirError {
    /// Wrong file length.
    #[error("{}: expected {expected} bytes, found {found}", file.name())]
    Length {
        /// The file.
        file: HsFile,
        /// Expected length.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// The 32-byte header is not the one tor writes for this file.
    #[error("{}: unrecognised header (not a tor v3 ed25519 key file)", file.name())]
    Header {
        /// The file.
        file: HsFile,
    },
    /// The key material is not a usable ed25519 key.
    #[error("{}: key is not a usable ed25519 key", file.name())]
    Key {
        /// The file.
        file: HsFile,
    },
    /// `hostname` does not hold a valid address.
    #[error("hostname: {0}")]
    Hostname(OnionError),
    /// A derived file disagrees with the secret key.
    #[error("{} does not match hs_ed25519_secret_key (it names {found})", file.name())]
    Mismatch {
        /// The disagreeing file.
        file: HsFile,
        /// The address that file gives.
        found: OnionAddress,
    },
}

impl HsDirError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Length { .. } => "hsdir_length",
            Self::Header { .. } => "hsdir_header",
            Self::Key { .. } => "hsdir_key",
            Self::Hostname(_) => "hsdir_hostname",
            Self::Mismatch { .. } => "hsdir_mismatch",
        }
    }
}

fn header(tag: &[u8]) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..tag.len()].copy_from_slice(tag);
    h
}

fn split_tagged<'a>(
    bytes: &'a [u8],
    tag: &[u8],
    file: HsFile,
    body_len: usize,
) -> Result<&'a [u8], HsDirError> {
    let expected = HEADER_LEN + body_len;
    if bytes.len() != expected {
        return Err(HsDirError::Length {
            file,
            expected,
            found: bytes.len(),
        });
    }
    let (head, body) = bytes.split_at(HEADER_LEN);
    if head != header(tag) {
        return Err(HsDirError::Header { file });
    }
    Ok(body)
}

/// Parse `hs_ed25519_secret_key`.
pub fn parse_secret_key_file(bytes: &[u8]) -> Result<Identity, HsDirError> {
    let file = HsFile::SecretKey;
    let body = split_tagged(bytes, SECRET_TAG, file, 64)?;
    let mut expanded = Zeroizing::new([0u8; 64]);
    expanded.copy_from_slice(body);
    Identity::from_expanded(&expanded)
        .map_err(|KeyError::InvalidPublicKey| HsDirError::Key { file })
}

/// Encode `hs_ed25519_secret_key`.
pub fn encode_secret_key_file(identity: &Identity) -> Zeroizing<[u8; SECRET_KEY_FILE_LEN]> {
    let mut out = Zeroizing::new([0u8; SECRET_KEY_FILE_LEN]);
    out[..HEADER_LEN].copy_from_slice(&header(SECRET_TAG));
    out[HEADER_LEN..].copy_from_slice(identity.expanded_secret());
    out
}

/// Parse `hs_ed25519_public_key`.
pub fn parse_public_key_file(bytes: &[u8]) -> Result<OnionAddress, HsDirError> {
    let file = HsFile::PublicKey;
    let body = split_tagged(bytes, PUBLIC_TAG, file, 32)?;
    let mut key = [0u8; 32];
    key.copy_from_slice(body);
    OnionAddress::from_public_key(key).map_err(|_| HsDirError::Key { file })
}

/// Encode `hs_ed25519_public_key`.
pub fn encode_public_key_file(address: &OnionAddress) -> Vec<u8> {
    let mut out = Vec::with_capacity(PUBLIC_KEY_FILE_LEN);
    out.extend_from_slice(&header(PUBLIC_TAG));
    out.extend_from_slice(address.public_key());
    out
}

/// Parse `hostname` (`<address>.onion`, trailing whitespace allowed).
pub fn parse_hostname_file(bytes: &[u8]) -> Result<OnionAddress, HsDirError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        HsDirError::Hostname(OnionError::InvalidCharacter {
            found: char::REPLACEMENT_CHARACTER,
            position: 0,
        })
    })?;
    OnionAddress::parse(text.trim_end()).map_err(HsDirError::Hostname)
}

/// Encode `hostname` exactly as tor writes it.
pub fn encode_hostname_file(address: &OnionAddress) -> String {
    format!("{address}\n")
}

/// The contents of a HiddenServiceDir, parsed and cross-checked.
#[derive(Debug)]
pub struct HsDirKeys {
    /// The identity from the secret key.
    pub identity: Identity,
}

impl HsDirKeys {
    /// Parse a directory's files. `public_key` and `hostname` are optional
    /// (tor recreates them), but when present they must name the same
    /// identity as the secret key.
    pub fn parse(
        secret_key: &[u8],
        public_key: Option<&[u8]>,
        hostname: Option<&[u8]>,
    ) -> Result<Self, HsDirError> {
        let identity = parse_secret_key_file(secret_key)?;
        if let Some(bytes) = public_key {
            let found = parse_public_key_file(bytes)?;
            if found != identity.address() {
                return Err(HsDirError::Mismatch {
                    file: HsFile::PublicKey,
                    found,
                });
            }
        }
        if let Some(bytes) = hostname {
            let found = parse_hostname_file(bytes)?;
            if found != identity.address() {
                return Err(HsDirError::Mismatch {
                    file: HsFile::Hostname,
                    found,
                });
            }
        }
        Ok(Self { identity })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_three_files() {
        let id = Identity::from_seed(&[3u8; 32]).unwrap();
        let sk = encode_secret_key_file(&id);
        let pk = encode_public_key_file(&id.address());
        let host = encode_hostname_file(&id.address());
        assert_eq!(sk.len(), SECRET_KEY_FILE_LEN);
        assert_eq!(&sk[..29], SECRET_TAG);
        assert_eq!(&sk[29..32], &[0, 0, 0]);
        let keys = HsDirKeys::parse(&sk[..], Some(&pk), Some(host.as_bytes())).unwrap();
        assert_eq!(keys.identity.address(), id.address());
        assert_eq!(keys.identity.expanded_secret(), id.expanded_secret());
    }

    #[test]
    fn mismatched_files_are_refused() {
        let a = Identity::from_seed(&[1u8; 32]).unwrap();
        let b = Identity::from_seed(&[2u8; 32]).unwrap();
        let sk = encode_secret_key_file(&a);
        let pk = encode_public_key_file(&b.address());
        assert!(matches!(
            HsDirKeys::parse(&sk[..], Some(&pk), None),
            Err(HsDirError::Mismatch {
                file: HsFile::PublicKey,
                ..
            })
        ));
        let host = encode_hostname_file(&b.address());
        assert!(matches!(
            HsDirKeys::parse(&sk[..], None, Some(host.as_bytes())),
            Err(HsDirError::Mismatch {
                file: HsFile::Hostname,
                ..
            })
        ));
    }

    #[test]
    fn bad_headers_and_lengths_are_typed() {
        let id = Identity::from_seed(&[3u8; 32]).unwrap();
        let mut sk = encode_secret_key_file(&id).to_vec();
        sk[5] ^= 1;
        assert_eq!(
            parse_secret_key_file(&sk).unwrap_err(),
            HsDirError::Header {
                file: HsFile::SecretKey
            }
        );
        assert!(matches!(
            parse_secret_key_file(&sk[..95]),
            Err(HsDirError::Length {
                expected: 96,
                found: 95,
                ..
            })
        ));
        // A public key file is not a secret key file.
        let pk = encode_public_key_file(&id.address());
        assert!(parse_secret_key_file(&pk).is_err());
        assert!(parse_hostname_file(b"\xff\xfe").is_err());
    }
}
