//! Why the embedded Tor transport failed.

use std::path::PathBuf;

use crate::hsdir_fs::HsDirFsError;

/// Errors of [`super::ArtiOnion`]. `code()` strings are stable.
#[derive(Debug, thiserror::Error)]
pub enum ArtiError {
    /// The configuration is invalid (a malformed fingerprint, a value out of
    /// range, or arti's own validation refused it).
    #[error("invalid arti configuration: {0}")]
    Config(String),
    /// The HiddenServiceDir could not be read.
    #[error("HiddenServiceDir: {0}")]
    HsDir(#[from] HsDirFsError),
    /// Not called from inside a tokio runtime.
    #[error("the arti transport must be started inside a tokio runtime")]
    NoRuntime,
    /// arti could not bootstrap (no directory reachable, bad network config).
    #[error("arti bootstrap failed: {0}")]
    Bootstrap(#[source] arti_client::Error),
    /// The onion service could not be launched.
    #[error("launching the onion service failed: {0}")]
    Launch(String),
    /// arti serves a different onion address than the HiddenServiceDir's key:
    /// records signed with the key would not match the address peers reach.
    #[error("arti serves {served} but {dir} holds the key of {expected}")]
    KeyMismatch {
        /// The HiddenServiceDir.
        dir: PathBuf,
        /// Address of the key in the directory.
        expected: String,
        /// Address arti reports for the running service.
        served: String,
    },
    /// The address to dial is not a valid v3 onion address.
    #[error("not a v3 onion address: {0}")]
    BadAddress(String),
    /// Connecting through Tor failed (descriptor not found, intro or
    /// rendezvous failure, timeout …). Young networks need retries.
    #[error("connecting to {target} failed: {source}")]
    Connect {
        /// `onion:port`.
        target: String,
        /// arti's error.
        #[source]
        source: arti_client::Error,
    },
}

impl ArtiError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ArtiError::Config(_) => "arti.config",
            ArtiError::HsDir(_) => "arti.hs_dir",
            ArtiError::NoRuntime => "arti.no_runtime",
            ArtiError::Bootstrap(_) => "arti.bootstrap",
            ArtiError::Launch(_) => "arti.launch",
            ArtiError::KeyMismatch { .. } => "arti.key_mismatch",
            ArtiError::BadAddress(_) => "arti.bad_address",
            ArtiError::Connect { .. } => "arti.connect",
        }
    }
}
