//! The `torpeer` CLI against Debian's `tor` (issue 2, "Must show"):
//! - a directory from `torpeer keygen` is loaded by tor unchanged, and tor's
//!   `hostname` equals ours;
//! - for a directory tor creates, `torpeer identity --hs-dir DIR --json`
//!   prints tor's address and public key.
//!
//! Skipped with a message when `tor` is not installed, unless
//! `TORPEER_REQUIRE_TOR=1` (set by CI) makes that a failure. The tor helper
//! is shared with the torpeer-tests crate.

// Test code: a panic is a test failure, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../tests/tests/common/tor.rs"]
#[allow(dead_code, unreachable_pub)]
mod tor;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use torpeer_core::hsdir::{HOSTNAME_FILE, HsDirKeys, PUBLIC_KEY_FILE, SECRET_KEY_FILE};

const BIN: &str = env!("CARGO_BIN_EXE_torpeer");

fn torpeer(args: &[&str]) -> Output {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "torpeer {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn tor_accepts_a_directory_from_torpeer_keygen() {
    let Some(tor) = tor::tor_or_skip("tor_accepts_a_directory_from_torpeer_keygen") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let hs = work.path().join("hs");
    torpeer(&["keygen", "--hs-dir", path_str(&hs), "--difficulty", "8"]);
    // tor insists on a private directory; keygen should already make it so.
    tor::make_private(&hs);
    let ours = fs::read_to_string(hs.join(HOSTNAME_FILE)).unwrap();
    let secret = fs::read(hs.join(SECRET_KEY_FILE)).unwrap();
    let public = fs::read(hs.join(PUBLIC_KEY_FILE)).unwrap();
    let pow = fs::read(hs.join("torpeer-pow.json")).unwrap();
    let keys = HsDirKeys::parse(&secret, Some(&public), Some(ours.as_bytes())).unwrap();
    assert_eq!(ours, format!("{}\n", keys.identity.address()));

    let (theirs, log) = tor::run_tor_on(&tor, work.path(), &hs);
    assert_eq!(
        theirs, ours,
        "tor's hostname differs from torpeer's; tor log:\n{log}"
    );
    assert_eq!(
        fs::read(hs.join(SECRET_KEY_FILE)).unwrap(),
        secret,
        "tor rewrote the secret key"
    );
    assert_eq!(
        fs::read(hs.join(PUBLIC_KEY_FILE)).unwrap(),
        public,
        "tor rewrote the public key"
    );
    assert_eq!(fs::read(hs.join("torpeer-pow.json")).unwrap(), pow);
}

#[test]
fn torpeer_identity_reads_a_directory_tor_created() {
    let Some(tor) = tor::tor_or_skip("torpeer_identity_reads_a_directory_tor_created") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let hs = work.path().join("hs");
    fs::create_dir(&hs).unwrap();
    tor::make_private(&hs);
    let (hostname, _log) = tor::run_tor_on(&tor, work.path(), &hs);
    let onion = hostname.trim_end();
    let public = fs::read(hs.join(PUBLIC_KEY_FILE)).unwrap();
    let public_hex = hex::encode(&public[32..]);

    let out = torpeer(&["identity", "--hs-dir", path_str(&hs), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["onion"], onion, "{json}");
    assert_eq!(json["public_key"], public_hex.as_str(), "{json}");

    // And from the address alone.
    let out = torpeer(&["identity", "--onion", onion, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["onion"], onion, "{json}");
    assert_eq!(json["public_key"], public_hex.as_str(), "{json}");
}
