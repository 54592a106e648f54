//! Why a private network could not be launched, joined or stopped.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while launching or driving a [`crate::TorNet`].
///
/// Waiting errors name the stage that was not reached and carry the tail of
/// the relevant tor log, because "timed out" alone is useless when a CI run
/// on a loaded machine fails.
#[derive(Debug, thiserror::Error)]
pub enum TorNetError {
    /// `tor` or `tor-gencert` could not be run at all.
    #[error("cannot run {program}: {source}")]
    ToolMissing {
        /// The program that was looked for.
        program: String,
        /// The OS error from spawning it.
        source: io::Error,
    },
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Key generation for one node failed.
    #[error("key generation for {node} failed: {detail}")]
    KeyGen {
        /// Nickname of the node.
        node: String,
        /// What the tool said.
        detail: String,
    },
    /// No block of free loopback ports was found.
    #[error("no free block of {needed} ports on 127.0.0.1 below 32768")]
    NoPorts {
        /// How many consecutive ports were needed.
        needed: u16,
    },
    /// The network did not reach a stage within the time allowed.
    #[error("stage `{stage}` not reached after {waited:?}; log tail:\n{log_tail}")]
    Stage {
        /// The stage that was waited for (`consensus`, `relays-in-consensus`,
        /// `relay-caches`, `client-bootstrap`, `log-line`).
        stage: &'static str,
        /// How long we waited.
        waited: Duration,
        /// The last lines of the log of the node that was late.
        log_tail: String,
    },
    /// A tor process exited while we waited for it.
    #[error("tor node {node} exited during stage `{stage}` ({status}); log tail:\n{log_tail}")]
    Exited {
        /// Nickname of the node.
        node: String,
        /// The stage being waited for.
        stage: &'static str,
        /// Its exit status.
        status: String,
        /// The last lines of its log.
        log_tail: String,
    },
    /// `net.json` is missing or malformed.
    #[error("{path}: {reason}")]
    BadNetFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A SOCKS5 handshake through a tor client failed.
    #[error("SOCKS5 connect to {target} failed: {reason}")]
    Socks {
        /// `host:port` that was asked for.
        target: String,
        /// What went wrong (tor's extended error name when it sent one).
        reason: String,
    },
    /// An invalid option was given.
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

impl TorNetError {
    /// A stable machine-readable code, for logs and JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            TorNetError::ToolMissing { .. } => "tornet.tool_missing",
            TorNetError::Io { .. } => "tornet.io",
            TorNetError::KeyGen { .. } => "tornet.keygen",
            TorNetError::NoPorts { .. } => "tornet.no_ports",
            TorNetError::Stage { .. } => "tornet.stage_timeout",
            TorNetError::Exited { .. } => "tornet.process_exited",
            TorNetError::BadNetFile { .. } => "tornet.bad_net_file",
            TorNetError::Socks { .. } => "tornet.socks",
            TorNetError::InvalidOption(_) => "tornet.invalid_option",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        TorNetError::Io {
            path: path.into(),
            source,
        }
    }
}
