//! `torpeer-wasm`: torpeer-core for browsers and Node, as the `torpeer` npm
//! package (built by `cargo xtask npm`).
//!
//! The crate is deliberately thin: every rule (address syntax, proof-of-work,
//! record layout and verification, proto3 JSON) is torpeer-core's. Here we
//! only
//! - convert JS arguments, refusing wrong types with a coded error
//!   ([`args`]),
//! - pick the core call for each question on plain Rust values, so the
//!   behaviour is testable natively ([`checks`]),
//! - turn results into plain proto3-JSON-shaped objects and failures into JS
//!   `Error`s with a stable `code` ([`api`], [`error`]).
//!
//! Nothing reachable from JS input panics; the panic hook every export
//! installs only makes a bug readable in the console instead of an opaque
//! `unreachable` trap. The crate needs no randomness, so it does not depend
//! on `getrandom`.

pub mod api;
pub mod args;
pub mod checks;
pub mod error;
