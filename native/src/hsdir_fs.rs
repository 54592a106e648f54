//! Reading and writing C-tor `HiddenServiceDir`s on disk, and the solved
//! proof-of-work stored beside the keys.
//!
//! The byte formats live in [`torpeer_core::hsdir`]; this module adds the
//! file-system rules tor enforces: the directory is mode 0700 and the secret
//! key 0600, and files are replaced atomically (temp file, fsync, rename) so
//! a crash never leaves a half-written key.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use torpeer_core::hsdir::{self, HsDirError, HsDirKeys};
use torpeer_core::network::NetworkName;
use torpeer_core::onion::OnionAddress;
use torpeer_core::{Identity, pow};

/// File beside the keys that records the solved proof-of-work.
pub const POW_FILE: &str = "torpeer-pow.json";
/// Largest file we read from a HiddenServiceDir (the biggest valid one is
/// the 96-byte secret key; the PoW file is a few hundred bytes).
const MAX_FILE_LEN: u64 = 64 * 1024;

/// Why a HiddenServiceDir could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HsDirFsError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A file's contents are invalid.
    #[error("{path}: {source}")]
    Invalid {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        source: HsDirError,
    },
    /// The directory already holds a key and overwriting was not asked for.
    #[error("{0} already holds a secret key (refusing to overwrite it)")]
    KeyExists(PathBuf),
    /// The PoW file is malformed or for another key.
    #[error("{path}: {reason}")]
    BadPowFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file is larger than any valid one.
    #[error("{0}: file too large")]
    TooLarge(PathBuf),
}

impl HsDirFsError {
    /// Whether this is bad content (exit code 1) rather than I/O (exit 2).
    pub fn is_invalid_content(&self) -> bool {
        matches!(
            self,
            Self::Invalid { .. } | Self::BadPowFile { .. } | Self::TooLarge(_)
        )
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> HsDirFsError + '_ {
    move |source| HsDirFsError::Io {
        path: path.to_owned(),
        source,
    }
}

fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>, HsDirFsError> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(&file, MAX_FILE_LEN + 1), &mut bytes)
        .map_err(io_err(path))?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(HsDirFsError::TooLarge(path.to_owned()));
    }
    Ok(Some(bytes))
}

/// Read and cross-check a HiddenServiceDir (the secret key is required; the
/// public key and hostname, when present, must agree with it).
pub fn read_hs_dir(dir: &Path) -> Result<HsDirKeys, HsDirFsError> {
    let secret_path = dir.join(hsdir::SECRET_KEY_FILE);
    let secret = read_bounded(&secret_path)?.ok_or_else(|| HsDirFsError::Io {
        path: secret_path.clone(),
        source: io::Error::new(io::ErrorKind::NotFound, "no secret key in this directory"),
    })?;
    let public = read_bounded(&dir.join(hsdir::PUBLIC_KEY_FILE))?;
    let hostname = read_bounded(&dir.join(hsdir::HOSTNAME_FILE))?;
    HsDirKeys::parse(&secret, public.as_deref(), hostname.as_deref()).map_err(|source| {
        HsDirFsError::Invalid {
            path: dir.to_owned(),
            source,
        }
    })
}

/// Whether `dir` already holds a secret key.
pub fn has_key(dir: &Path) -> bool {
    dir.join(hsdir::SECRET_KEY_FILE).exists()
}

/// A fresh identity from the operating system's random generator.
pub fn generate_identity() -> Result<Identity, HsDirFsError> {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut seed[..]).map_err(|e| HsDirFsError::Io {
        path: PathBuf::from("<os random>"),
        source: io::Error::other(e.to_string()),
    })?;
    // A seed yields an unusable key with negligible probability; treat it as
    // an error rather than looping.
    Identity::from_seed(&seed).map_err(|_| HsDirFsError::Io {
        path: PathBuf::from("<os random>"),
        source: io::Error::other("generated key is unusable"),
    })
}

/// Write `identity` as a HiddenServiceDir tor accepts: the directory is
/// created with mode 0700, `hs_ed25519_secret_key` is written 0600, and
/// `hs_ed25519_public_key` and `hostname` beside it. Refuses to replace an
/// existing secret key unless `overwrite`.
pub fn write_hs_dir(dir: &Path, identity: &Identity, overwrite: bool) -> Result<(), HsDirFsError> {
    if has_key(dir) && !overwrite {
        return Err(HsDirFsError::KeyExists(dir.to_owned()));
    }
    create_private_dir(dir)?;
    write_atomic(
        &dir.join(hsdir::SECRET_KEY_FILE),
        &hsdir::encode_secret_key_file(identity)[..],
    )?;
    write_atomic(
        &dir.join(hsdir::PUBLIC_KEY_FILE),
        &hsdir::encode_public_key_file(&identity.address()),
    )?;
    write_atomic(
        &dir.join(hsdir::HOSTNAME_FILE),
        hsdir::encode_hostname_file(&identity.address()).as_bytes(),
    )?;
    Ok(())
}

/// Create `dir` (and parents) and make it private (0700), as tor requires
/// of a HiddenServiceDir.
pub fn create_private_dir(dir: &Path) -> Result<(), HsDirFsError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    Ok(())
}

/// Replace `path` atomically with `bytes`, readable only by the owner:
/// write a temp file in the same directory, fsync it, rename it over the
/// target, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), HsDirFsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io_err(&tmp))?;
        file.write_all(bytes).map_err(io_err(&tmp))?;
        file.sync_all().map_err(io_err(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Ok(d) = fs::File::open(dir) {
        // Best effort: not every platform can fsync a directory.
        let _ = d.sync_all();
    }
    Ok(())
}

/// The solved proof-of-work stored beside the keys (`torpeer-pow.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPow {
    /// The onion the nonce is for.
    pub onion: String,
    /// The network the nonce is for.
    pub network: String,
    /// Difficulty the nonce meets.
    pub difficulty: u8,
    /// The nonce (a string in JSON, like proto3 JSON's uint64).
    #[serde(with = "u64_string")]
    pub nonce: u64,
}

mod u64_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Either {
            S(String),
            N(u64),
        }
        match Either::deserialize(d)? {
            Either::S(s) => s.parse().map_err(serde::de::Error::custom),
            Either::N(n) => Ok(n),
        }
    }
}

impl StoredPow {
    /// Check the stored nonce really solves the PoW for `address` on its
    /// network at its difficulty (one hash).
    pub fn check(&self, address: &OnionAddress) -> Result<NetworkName, String> {
        let stored = OnionAddress::parse(&self.onion).map_err(|e| e.to_string())?;
        if stored != *address {
            return Err(format!("PoW is for {stored}, not {address}"));
        }
        let network = NetworkName::new(&self.network).map_err(|e| e.to_string())?;
        pow::verify(&network.id(), address, self.nonce, self.difficulty)
            .map_err(|e| e.to_string())?;
        Ok(network)
    }
}

/// Read `torpeer-pow.json` from `dir`, if present, checking it against the
/// directory's key.
pub fn read_pow(dir: &Path, address: &OnionAddress) -> Result<Option<StoredPow>, HsDirFsError> {
    let path = dir.join(POW_FILE);
    let Some(bytes) = read_bounded(&path)? else {
        return Ok(None);
    };
    let stored: StoredPow =
        serde_json::from_slice(&bytes).map_err(|e| HsDirFsError::BadPowFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    stored
        .check(address)
        .map_err(|reason| HsDirFsError::BadPowFile { path, reason })?;
    Ok(Some(stored))
}

/// Write `torpeer-pow.json` into `dir` atomically.
pub fn write_pow(dir: &Path, stored: &StoredPow) -> Result<(), HsDirFsError> {
    let path = dir.join(POW_FILE);
    let mut json = serde_json::to_vec_pretty(stored).map_err(|e| HsDirFsError::BadPowFile {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    json.push(b'\n');
    write_atomic(&path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_round_trips_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("hs");
        let id = Identity::from_seed(&[5; 32]).unwrap();
        write_hs_dir(&dir, &id, false).unwrap();
        let keys = read_hs_dir(&dir).unwrap();
        assert_eq!(keys.identity.address(), id.address());
        assert!(matches!(
            write_hs_dir(&dir, &id, false),
            Err(HsDirFsError::KeyExists(_))
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join(hsdir::SECRET_KEY_FILE)), 0o600);
        }
    }

    #[test]
    fn pow_file_is_checked_against_the_key() {
        let tmp = tempfile::tempdir().unwrap();
        let id = Identity::from_seed(&[6; 32]).unwrap();
        let other = Identity::from_seed(&[7; 32]).unwrap();
        let net = NetworkName::new("t").unwrap();
        let (nonce, _) = pow::solve(&net.id(), &id.address(), 6).unwrap();
        let stored = StoredPow {
            onion: id.address().to_string(),
            network: net.to_string(),
            difficulty: 6,
            nonce,
        };
        write_pow(tmp.path(), &stored).unwrap();
        assert_eq!(read_pow(tmp.path(), &id.address()).unwrap(), Some(stored));
        assert!(matches!(
            read_pow(tmp.path(), &other.address()),
            Err(HsDirFsError::BadPowFile { .. })
        ));
        fs::write(tmp.path().join(POW_FILE), b"{not json").unwrap();
        assert!(read_pow(tmp.path(), &id.address()).is_err());
    }

    #[test]
    fn missing_and_corrupt_keys_are_typed_errors() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_hs_dir(tmp.path()),
            Err(HsDirFsError::Io { .. })
        ));
        fs::write(tmp.path().join(hsdir::SECRET_KEY_FILE), b"garbage").unwrap();
        let err = read_hs_dir(tmp.path()).unwrap_err();
        assert!(err.is_invalid_content(), "{err}");
    }
}
