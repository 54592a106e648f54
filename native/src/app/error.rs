//! Typed errors of the embedding API, each with a stable [`code`]
//! (the same strings the HTTP API and the wasm package use).
//!
//! [`code`]: SendError::code

use torpeer_core::node::SendError as CoreSendError;

use super::launch::LaunchError;
use crate::config::ConfigError;
use crate::driver::HandleError;

/// Why [`TorPeer::send`](super::TorPeer::send) refused a message. Nothing
/// was sent when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The destination is not in the peer table (not discovered yet, or
    /// not a TorPeer node at all).
    #[error("unknown peer")]
    UnknownPeer,
    /// The destination is known but has no live connection and cannot be
    /// dialled now (it failed recently; the node retries with back-off).
    #[error("peer is offline")]
    PeerOffline,
    /// The destination is a router; routers refuse application data.
    #[error("peer is a router and refuses application data")]
    RouterRefuses,
    /// This node is a router and does not send application data.
    #[error("this node is a router and does not send application data")]
    LocalIsRouter,
    /// Larger than the node's `max_message_len`.
    #[error("message of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Message length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Too many messages are waiting for this peer (being dialled, or not
    /// reading fast enough). Back off and retry.
    #[error("send queue for this peer is full")]
    QueueFull,
    /// The node has shut down.
    #[error("node is shut down")]
    ShutDown,
}

impl SendError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownPeer => "unknown_peer",
            Self::PeerOffline => "peer_offline",
            Self::RouterRefuses => "router_refuses",
            Self::LocalIsRouter => "local_is_router",
            Self::TooLarge { .. } => "too_large",
            Self::QueueFull => "queue_full",
            Self::ShutDown => "shut_down",
        }
    }
}

impl From<HandleError> for SendError {
    fn from(e: HandleError) -> Self {
        match e {
            HandleError::Stopped => Self::ShutDown,
            HandleError::Send(e) => match e {
                CoreSendError::UnknownPeer => Self::UnknownPeer,
                CoreSendError::PeerOffline => Self::PeerOffline,
                CoreSendError::RouterRefuses => Self::RouterRefuses,
                CoreSendError::LocalIsRouter => Self::LocalIsRouter,
                CoreSendError::TooLarge { len, max } => Self::TooLarge { len, max },
                CoreSendError::QueueFull => Self::QueueFull,
                CoreSendError::ShutDown => Self::ShutDown,
            },
        }
    }
}

/// The node has shut down (a query could not be answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("node is shut down")]
pub struct ShutDown;

impl ShutDown {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        "shut_down"
    }
}

impl From<HandleError> for ShutDown {
    fn from(_: HandleError) -> Self {
        Self
    }
}

/// Why [`Builder::start`](super::Builder::start) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is unreadable or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The node could not be started from it.
    #[error(transparent)]
    Launch(#[from] LaunchError),
}

impl StartError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config(e) => e.code(),
            Self::Launch(e) => e.code(),
        }
    }
}

/// The node task did not end cleanly (it panicked); the peer table may not
/// have been saved.
#[derive(Debug, thiserror::Error)]
#[error("node task failed: {0}")]
pub struct ShutdownError(pub(crate) String);
