//! The HTTP API (PROTOCOL.md §9): a small hyper 1.x server for the local
//! API and for routers' public bootstrap lists, and the client that fetches
//! bootstrap lists.

pub mod app_api;
pub mod client;
pub mod server;

/// Media type of binary protobuf bodies.
pub const PROTOBUF: &str = "application/x-protobuf";
