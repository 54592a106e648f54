//! Embedded Tor on arti (cargo feature `arti`, on by default).
//!
//! [`ArtiConfig`] — what the embedded client needs, the `[arti]` section of
//! the node's config — is compiled in every build, so a config file parses
//! the same with or without the feature. The rest needs the feature:
//! [`ArtiOnion`] bootstraps an in-process arti client, runs the node's
//! onion service from its C-tor HiddenServiceDir key, accepts streams on one
//! virtual port and dials other onions. Streams are tokio
//! `AsyncRead + AsyncWrite`. No `tor` process is needed; [`ArtiConfig`]
//! points arti at the public network or at a private one
//! ([`ArtiConfig::for_test_network`], from `torpeer-tornet`).
//!
//! Versions: every `tor-*` crate is pinned to arti-client's `=0.47.0`
//! (they move in lockstep; mixing versions gives incompatible types).

mod config;
#[cfg(feature = "arti")]
mod error;
#[cfg(feature = "arti")]
mod onion;
#[cfg(feature = "arti")]
pub mod supervise;

pub use config::{
    ArtiConfig, AuthorityConfig, CustomNetwork, DEFAULT_BOOTSTRAP_TIMEOUT_SECS,
    DEFAULT_CONNECT_TIMEOUT_SECS, FallbackConfig, TestingOverrides, VanguardsMode,
};
#[cfg(feature = "arti")]
pub use error::ArtiError;
#[cfg(feature = "arti")]
pub use onion::{ArtiClient, ArtiOnion, IncomingStream};
