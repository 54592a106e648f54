//! Embedded-Tor onion transport on arti (feature `arti`).
//!
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
mod error;
mod onion;

pub use config::{ArtiConfig, AuthorityConfig, CustomNetwork, FallbackConfig, TestingOverrides};
pub use error::ArtiError;
pub use onion::{ArtiOnion, IncomingStream};
