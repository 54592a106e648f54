//! Helpers shared by the torpeer-tests integration tests.
//!
//! Each test binary uses only some of them.
#![allow(dead_code, unreachable_pub)]

pub mod independent;
pub mod tor;

use std::path::PathBuf;

/// Directory holding the committed JSON test vectors.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}
