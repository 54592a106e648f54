//! `torpeer-core`: the sans-IO heart of TorPeer.
//!
//! Everything here is pure computation over bytes and values: the proto3 wire
//! format ([`proto`], [`codec`]), v3 onion identities ([`onion`],
//! [`identity`], [`hsdir`]), the proof-of-work bound to an onion key
//! ([`pow`]) and signed peer records ([`record`]). The crate does no I/O,
//! reads no clock (time is always a parameter, in Unix seconds), spawns no
//! threads and builds for `wasm32-unknown-unknown`; the native node and the
//! wasm bindings supply sockets, files, clocks and threads.
//!
//! Nothing reachable from input panics: every decoder returns a typed error
//! with a stable [`code`](record::RecordError::code) string.

pub mod codec;
pub mod hsdir;
pub mod identity;
pub mod keccak;
pub mod network;
pub mod node;
pub mod onion;
pub mod pow;
pub mod record;
pub mod table;
pub mod verify;

#[cfg(test)]
mod testutil;

/// Generated protobuf types (prost) with canonical proto3 JSON (pbjson).
#[allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/torpeer.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/torpeer.v1.serde.rs"));
}

/// Version of the wire protocol spoken in `Hello`/`HelloAck`.
pub const PROTOCOL_VERSION: u32 = 1;

pub use identity::Identity;
pub use network::{NetworkName, NetworkParams};
pub use node::{Input, Node, NodeConfig, Output, Timestamp};
pub use onion::OnionAddress;
pub use record::{RecordBody, RecordError, Role, SignedRecord};
