//! Persistence in the data directory: the peer table, our last record
//! sequence, and the bound HTTP address.
//!
//! Files (PROTOCOL.md §9):
//! - `peers.bin` — binary `PeerList` of every table entry (no cap);
//! - `sequence` — decimal sequence of the last record we signed, so a
//!   restart signs a newer one;
//! - `http.addr` — the HTTP API's bound address (tests and scripts find a
//!   `127.0.0.1:0` listener through it).
//!
//! Every write is atomic (temp file, fsync, rename, fsync of the directory):
//! a crash leaves the old file or the new one, never a torn one. A file that
//! does not parse is reported, renamed aside to `<name>.corrupt-<unix secs>`
//! and otherwise ignored: persisted state is a cache, never a reason not to
//! start.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use prost::Message;
use torpeer_core::proto;

/// Peer table file name.
pub const PEERS_FILE: &str = "peers.bin";
/// Record sequence file name.
pub const SEQUENCE_FILE: &str = "sequence";
/// Bound HTTP address file name.
pub const HTTP_ADDR_FILE: &str = "http.addr";
/// Largest peer file we read (a table of 10,000 records is ~3 MB).
pub const MAX_PEERS_FILE_LEN: u64 = 64 << 20;

/// Why a persistence operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// File system failure.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl StoreError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "store_io",
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The data directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// What loading a file found.
#[derive(Debug)]
pub enum Loaded<T> {
    /// No file yet.
    Missing,
    /// Parsed.
    Ok(T),
    /// Did not parse; moved to the given path.
    Corrupt {
        /// Where the bad file went.
        moved_to: PathBuf,
        /// Why it was refused.
        reason: String,
    },
}

impl Store {
    /// Use (and create) `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(Self { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Load the persisted peer table.
    pub fn load_peers(&self) -> Result<Loaded<proto::PeerList>, StoreError> {
        let path = self.dir.join(PEERS_FILE);
        let bytes = match read_bounded(&path, MAX_PEERS_FILE_LEN) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Loaded::Missing),
            Err(ReadError::TooLarge) => {
                return self.set_aside(&path, "file too large".into());
            }
            Err(ReadError::Io(e)) => return Err(io_err(&path)(e)),
        };
        match proto::PeerList::decode(bytes.as_slice()) {
            Ok(list) => Ok(Loaded::Ok(list)),
            Err(e) => self.set_aside(&path, e.to_string()),
        }
    }

    /// Write the peer table atomically.
    pub fn save_peers(&self, list: &proto::PeerList) -> Result<(), StoreError> {
        write_atomic(&self.dir.join(PEERS_FILE), &list.encode_to_vec())
    }

    /// The last record sequence we signed (0 if none or unreadable).
    pub fn load_sequence(&self) -> Result<Loaded<u64>, StoreError> {
        let path = self.dir.join(SEQUENCE_FILE);
        let bytes = match read_bounded(&path, 64) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Loaded::Missing),
            Err(ReadError::TooLarge) => return self.set_aside(&path, "file too large".into()),
            Err(ReadError::Io(e)) => return Err(io_err(&path)(e)),
        };
        match std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            Some(seq) => Ok(Loaded::Ok(seq)),
            None => self.set_aside(&path, "not a decimal number".into()),
        }
    }

    /// Remember the sequence of the record we now sign.
    pub fn save_sequence(&self, sequence: u64) -> Result<(), StoreError> {
        write_atomic(
            &self.dir.join(SEQUENCE_FILE),
            format!("{sequence}\n").as_bytes(),
        )
    }

    /// Publish the bound HTTP address.
    pub fn save_http_addr(&self, addr: std::net::SocketAddr) -> Result<(), StoreError> {
        write_atomic(
            &self.dir.join(HTTP_ADDR_FILE),
            format!("{addr}\n").as_bytes(),
        )
    }

    fn set_aside<T>(&self, path: &Path, reason: String) -> Result<Loaded<T>, StoreError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let moved_to = self.dir.join(format!("{name}.corrupt-{now}"));
        fs::rename(path, &moved_to).map_err(io_err(path))?;
        Ok(Loaded::Corrupt { moved_to, reason })
    }
}

enum ReadError {
    TooLarge,
    Io(io::Error),
}

fn read_bounded(path: &Path, max: u64) -> Result<Option<Vec<u8>>, ReadError> {
    match fs::metadata(path) {
        Ok(m) if m.len() > max => return Err(ReadError::TooLarge),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ReadError::Io(e)),
    }
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ReadError::Io(e)),
    }
}

/// Temp file in the same directory, fsync, rename over `path`, fsync the
/// directory so the rename itself is durable.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(dir) {
            // Not all platforms can fsync a directory; the rename is done.
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_round_trip_and_corrupt_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(matches!(store.load_peers().unwrap(), Loaded::Missing));
        let list = proto::PeerList {
            network: "t".into(),
            source: "s".into(),
            generated_at: 7,
            peers: vec![],
        };
        store.save_peers(&list).unwrap();
        match store.load_peers().unwrap() {
            Loaded::Ok(l) => assert_eq!(l, list),
            other => panic!("{other:?}"),
        }
        fs::write(dir.path().join(PEERS_FILE), b"\xff\xff\xff garbage").unwrap();
        match store.load_peers().unwrap() {
            Loaded::Corrupt { moved_to, .. } => {
                assert!(moved_to.exists());
                assert!(
                    moved_to
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("peers.bin.corrupt-")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(store.load_peers().unwrap(), Loaded::Missing));
    }

    #[test]
    fn sequence_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.save_sequence(41).unwrap();
        assert!(matches!(store.load_sequence().unwrap(), Loaded::Ok(41)));
        fs::write(dir.path().join(SEQUENCE_FILE), b"nope").unwrap();
        assert!(matches!(
            store.load_sequence().unwrap(),
            Loaded::Corrupt { .. }
        ));
    }
}
