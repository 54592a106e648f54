//! TorPeer as a library.
//!
//! [`launch`] puts a node together from a resolved `RunConfig`; `torpeer
//! run` goes through it, and so will the embedding facade.

pub mod launch;
