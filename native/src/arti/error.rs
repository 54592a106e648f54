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
    /// The arti client could not be created (its state directory is locked
    /// by another process, or has unsafe permissions).
    #[error("creating the arti client failed: {}", chain(.0))]
    Create(#[source] arti_client::Error),
    /// arti could not bootstrap (no directory reachable, bad network config).
    #[error("arti bootstrap failed: {}", chain(.0))]
    Bootstrap(#[source] arti_client::Error),
    /// arti had not bootstrapped when the configured time ran out (no
    /// network, or the fallbacks of a private network are down).
    #[error("arti did not bootstrap within {secs} s (last status: {status})")]
    BootstrapTimeout {
        /// The limit (`bootstrap_timeout_secs`).
        secs: u64,
        /// arti's last bootstrap status line.
        status: String,
    },
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
    /// The onion service stopped handing over streams (it was shut down).
    #[error("the onion service has stopped")]
    ServiceStopped,
    /// Connecting through Tor failed (descriptor not found, intro or
    /// rendezvous failure, timeout …). Young networks need retries.
    #[error("connecting to {target} failed: {}", chain(source))]
    Connect {
        /// `host:port`.
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
            ArtiError::Create(_) => "arti.create",
            ArtiError::Bootstrap(_) => "arti.bootstrap",
            ArtiError::BootstrapTimeout { .. } => "arti.bootstrap_timeout",
            ArtiError::Launch(_) => "arti.launch",
            ArtiError::KeyMismatch { .. } => "arti.key_mismatch",
            ArtiError::BadAddress(_) => "arti.bad_address",
            ArtiError::ServiceStopped => "arti.service_stopped",
            ArtiError::Connect { .. } => "arti.connect",
        }
    }
}

/// arti's errors keep the cause (which circuit, which relay, which reason)
/// in their source chain and say little in `Display`; spell the chain out,
/// so a log line or an exit message names the real reason.
fn chain(e: &arti_client::Error) -> String {
    let mut out = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        let text = c.to_string();
        // Some layers repeat their cause's text; skip exact repeats.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = c.source();
    }
    out
}
