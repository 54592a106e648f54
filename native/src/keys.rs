//! The node's identity and proof-of-work from a HiddenServiceDir.
//!
//! The key is tor's own `hs_ed25519_secret_key`, so the key that signs our
//! records is the key tor (or arti) serves. The PoW nonce is stored beside
//! it as `torpeer-pow.json` (what `torpeer keygen` writes); it is reused
//! when it is for this key and network and meets the difficulty asked for,
//! and solved (and stored) otherwise.
//!
//! A missing key is generated (C-tor file formats, via `hsdir_fs`), so
//! `torpeer run --hs-dir DIR` works on a fresh machine.

use std::path::Path;

use torpeer_core::{Identity, NetworkName, pow};

use crate::hsdir_fs::{self, HsDirFsError, StoredPow};
use crate::pow_solver;

pub use crate::hsdir_fs::POW_FILE;

/// Why the identity could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// Reading or writing the HiddenServiceDir failed, or its files are bad.
    #[error(transparent)]
    HsDir(#[from] HsDirFsError),
    /// Bad difficulty.
    #[error(transparent)]
    Pow(#[from] pow::PowError),
    /// The solver stopped without a nonce (cannot happen without a deadline).
    #[error("proof-of-work search ended without a nonce")]
    NoNonce,
}

impl KeysError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::HsDir(e) if e.is_invalid_content() => "hs_dir_invalid",
            Self::HsDir(_) => "hs_dir_io",
            Self::Pow(e) => e.code(),
            Self::NoNonce => "no_nonce",
        }
    }
}

/// A loaded identity with a PoW that meets the requested difficulty.
#[derive(Debug)]
pub struct NodeKeys {
    /// The key.
    pub identity: Identity,
    /// The nonce.
    pub pow_nonce: u64,
    /// The difficulty to claim.
    pub pow_difficulty: u8,
    /// Whether a new key was generated.
    pub generated: bool,
    /// Whether the PoW was solved now.
    pub solved: bool,
}

/// Load (or create) the key in `dir` and a PoW for `network` at
/// `difficulty`. Solving blocks (all cores): call from `spawn_blocking`
/// or before starting the runtime.
pub fn load_or_create(
    dir: &Path,
    network: &NetworkName,
    difficulty: u8,
) -> Result<NodeKeys, KeysError> {
    let difficulty = pow::check_difficulty(u32::from(difficulty))?;
    let (identity, generated) = if hsdir_fs::has_key(dir) {
        (hsdir_fs::read_hs_dir(dir)?.identity, false)
    } else {
        let identity = hsdir_fs::generate_identity()?;
        hsdir_fs::write_hs_dir(dir, &identity, false)?;
        tracing::info!(address = %identity.address(), dir = %dir.display(), "generated a new onion key");
        (identity, true)
    };
    let address = identity.address();
    // A stored PoW that is bad or for another key is simply re-solved.
    let stored = match hsdir_fs::read_pow(dir, &address) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "ignoring stored proof-of-work");
            None
        }
    };
    if let Some(found) =
        stored.filter(|s| s.network == network.as_str() && s.difficulty >= difficulty)
    {
        return Ok(NodeKeys {
            identity,
            pow_nonce: found.nonce,
            pow_difficulty: found.difficulty,
            generated,
            solved: false,
        });
    }
    tracing::info!(%address, difficulty, network = %network, "solving proof-of-work");
    let stats = pow_solver::solve(&network.id(), &address, difficulty, 0, None, &|_, _| {})?;
    let nonce = stats.nonce.ok_or(KeysError::NoNonce)?;
    tracing::info!(nonce, hashes = stats.hashes, elapsed = ?stats.elapsed, "proof-of-work solved");
    hsdir_fs::write_pow(
        dir,
        &StoredPow {
            onion: address.to_string(),
            network: network.to_string(),
            difficulty,
            nonce,
        },
    )?;
    Ok(NodeKeys {
        identity,
        pow_nonce: nonce,
        pow_difficulty: difficulty,
        generated,
        solved: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use torpeer_core::hsdir;

    #[test]
    fn generates_then_reuses_key_and_pow() {
        let dir = tempfile::tempdir().unwrap();
        let hs = dir.path().join("hs");
        let net = NetworkName::new("keys-test").unwrap();
        let a = load_or_create(&hs, &net, 4).unwrap();
        assert!(a.generated && a.solved);
        let b = load_or_create(&hs, &net, 4).unwrap();
        assert!(!b.generated && !b.solved);
        assert_eq!(a.identity.address(), b.identity.address());
        assert_eq!(a.pow_nonce, b.pow_nonce);
        // Another network needs another PoW, same key.
        let other = NetworkName::new("keys-test-2").unwrap();
        let c = load_or_create(&hs, &other, 4).unwrap();
        assert!(!c.generated && c.solved);
        assert!(pow::verify(&other.id(), &c.identity.address(), c.pow_nonce, 4).is_ok());
    }

    #[test]
    fn mismatched_hostname_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let net = NetworkName::new("keys-test").unwrap();
        load_or_create(dir.path(), &net, 1).unwrap();
        let other = Identity::from_seed(&[9; 32]).unwrap().address();
        fs::write(
            dir.path().join(hsdir::HOSTNAME_FILE),
            hsdir::encode_hostname_file(&other),
        )
        .unwrap();
        let err = load_or_create(dir.path(), &net, 1).unwrap_err();
        assert_eq!(err.code(), "hs_dir_invalid");
    }
}
