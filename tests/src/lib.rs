//! Support for the cross-crate integration tests in `tests/tests/`.
//!
//! The end-to-end test on a private Tor network (`tests/tor_network.rs`)
//! drives real `torpeer` processes; what it needs lives here so each piece
//! is small and unit-tested on its own:
//! - [`torpeer_bin`]: finding (or building) the `torpeer` binary;
//! - [`node`]: starting, stopping and restarting a `torpeer run` process;
//! - [`http`]: a minimal HTTP/1.1 client for the node APIs (also over a
//!   SOCKS stream to an onion) and server-sent events;
//! - [`peers`]: a node's table from `/v1/peers`, every record verified;
//! - [`procnet`]: a process's TCP sockets from `/proc`, and the no-leak
//!   policy they are checked against.
//!
//! The older helpers compiled into single test binaries (independent
//! re-implementations for the vectors, an offline `tor` runner) stay in
//! `tests/tests/common`.

pub mod http;
pub mod node;
pub mod peers;
pub mod procnet;
pub mod torpeer_bin;
