//! The node's identity and proof-of-work from a HiddenServiceDir.
//!
//! The key is tor's own `hs_ed25519_secret_key`, so the key that signs our
//! records is the key tor (or arti) serves. The PoW nonce is stored beside
//! it as `torpeer-pow.json` (what `torpeer keygen` writes); it is reused
//! when it is for this key and network and meets the difficulty asked for,
//! and solved (and stored) otherwise.
//!
//! A missing key is generated (C-tor file formats, mode 0600 in a 0700
//! directory), so `torpeer run --hs-dir DIR` works on a fresh machine.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use torpeer_core::hsdir::{self, HsDirKeys};
use torpeer_core::{Identity, NetworkName, OnionAddress, pow};

/// PoW file name inside the HiddenServiceDir.
pub const POW_FILE: &str = "torpeer-pow.json";

/// Why the identity could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// File system failure.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The key files are malformed or disagree.
    #[error("{path}: {source}")]
    HsDir {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: hsdir::HsDirError,
    },
    /// Bad difficulty.
    #[error(transparent)]
    Pow(#[from] pow::PowError),
    /// No randomness for a new key.
    #[error("no OS randomness to generate a key")]
    Random,
}

impl KeysError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::HsDir { source, .. } => source.code(),
            Self::Pow(e) => e.code(),
            Self::Random => "no_randomness",
        }
    }
}

/// The PoW file's contents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PowFile {
    /// The onion address the nonce is for.
    pub onion: String,
    /// The network name.
    pub network: String,
    /// Leading zero bits the nonce achieves (at least).
    pub difficulty: u8,
    /// The nonce.
    pub nonce: u64,
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

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> KeysError + '_ {
    move |source| KeysError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Load (or create) the key in `dir` and a PoW for `network` at
/// `difficulty`. Solving runs on the calling thread: call from
/// `spawn_blocking` or before starting the runtime.
pub fn load_or_create(
    dir: &Path,
    network: &NetworkName,
    difficulty: u8,
) -> Result<NodeKeys, KeysError> {
    let difficulty = pow::check_difficulty(u32::from(difficulty))?;
    let secret_path = dir.join(hsdir::SECRET_KEY_FILE);
    let (identity, generated) = match fs::read(&secret_path) {
        Ok(secret) => {
            let public = read_optional(&dir.join(hsdir::PUBLIC_KEY_FILE))?;
            let host = read_optional(&dir.join(hsdir::HOSTNAME_FILE))?;
            let keys = HsDirKeys::parse(&secret, public.as_deref(), host.as_deref()).map_err(
                |source| KeysError::HsDir {
                    path: dir.to_path_buf(),
                    source,
                },
            )?;
            (keys.identity, false)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => (generate(dir)?, true),
        Err(e) => return Err(io_err(&secret_path)(e)),
    };
    let address = identity.address();
    let pow_path = dir.join(POW_FILE);
    if let Some(found) = read_pow(&pow_path, &address, network, difficulty) {
        return Ok(NodeKeys {
            identity,
            pow_nonce: found.nonce,
            pow_difficulty: found.difficulty,
            generated,
            solved: false,
        });
    }
    tracing::info!(%address, difficulty, network = %network, "solving proof-of-work");
    let (nonce, _tries) = pow::solve(&network.id(), &address, difficulty)?;
    let file = PowFile {
        onion: address.to_string(),
        network: network.to_string(),
        difficulty,
        nonce,
    };
    let json = serde_json::to_vec_pretty(&file).unwrap_or_default();
    write_private(&pow_path, &json)?;
    Ok(NodeKeys {
        identity,
        pow_nonce: nonce,
        pow_difficulty: difficulty,
        generated,
        solved: true,
    })
}

/// A stored PoW that is for this key and network and meets `difficulty`.
fn read_pow(
    path: &Path,
    address: &OnionAddress,
    network: &NetworkName,
    difficulty: u8,
) -> Option<PowFile> {
    let bytes = fs::read(path).ok()?;
    let file: PowFile = serde_json::from_slice(&bytes).ok()?;
    let fits = file.onion == address.to_string()
        && file.network == network.as_str()
        && file.difficulty >= difficulty
        && pow::verify(&network.id(), address, file.nonce, file.difficulty).is_ok();
    fits.then_some(file)
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, KeysError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

fn generate(dir: &Path) -> Result<Identity, KeysError> {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut seed[..]).map_err(|_| KeysError::Random)?;
    let identity = Identity::from_seed(&seed).map_err(|_| KeysError::Random)?;
    create_private_dir(dir)?;
    let address = identity.address();
    write_private(
        &dir.join(hsdir::SECRET_KEY_FILE),
        &hsdir::encode_secret_key_file(&identity)[..],
    )?;
    write_private(
        &dir.join(hsdir::PUBLIC_KEY_FILE),
        &hsdir::encode_public_key_file(&address),
    )?;
    write_private(
        &dir.join(hsdir::HOSTNAME_FILE),
        hsdir::encode_hostname_file(&address).as_bytes(),
    )?;
    tracing::info!(%address, dir = %dir.display(), "generated a new onion key");
    Ok(identity)
}

fn create_private_dir(dir: &Path) -> Result<(), KeysError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tor refuses a HiddenServiceDir readable by others.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    Ok(())
}

/// Write a file readable only by us (temp file + rename).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeysError> {
    let tmp = path.with_extension("tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(matches!(err, KeysError::HsDir { .. }));
    }
}
