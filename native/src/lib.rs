//! `torpeer-node`: the TorPeer node on tokio, and the building blocks of the
//! `torpeer` command line.
//!
//! The protocol lives in `torpeer-core`; this crate owns every side effect:
//! files (HiddenServiceDir, persisted state), threads (the PoW solver),
//! clocks, sockets and Tor.
//!
//! Applications embed a node through [`app`] ([`app::TorPeer`]); the other
//! modules are its parts, public for the CLI, tests and advanced use.

pub mod app;
pub mod arti;
pub mod clock;
pub mod config;
pub mod driver;
pub mod hsdir_fs;
pub mod http;
pub mod keys;
pub mod pow_solver;
pub mod store;
pub mod transport;
