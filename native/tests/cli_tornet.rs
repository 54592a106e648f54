//! `torpeer tor-testnet` without launching tor: argument handling and the
//! answers for a directory that holds no network.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::process::{Command, Output};

fn torpeer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_torpeer"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn status_and_down_without_a_network_fail_with_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for cmd in ["status", "down"] {
        let out = torpeer(&["tor-testnet", cmd, "--dir", d]);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("net.json"), "{cmd}: {err}");
    }
}

#[test]
fn malformed_net_file_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("net.json"), "{not json").unwrap();
    let out = torpeer(&[
        "tor-testnet",
        "status",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("tornet.bad_net_file"));
}

#[test]
fn up_rejects_too_few_relays_before_starting_anything() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    let out = torpeer(&[
        "tor-testnet",
        "up",
        "--dir",
        net.to_str().unwrap(),
        "--relays",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("tornet.invalid_option"));
    assert!(!net.join("nodes").exists(), "nothing may be created");
}

#[test]
fn status_reports_stopped_processes() {
    let dir = tempfile::tempdir().unwrap();
    // A net.json whose only process (pid of this test, not a tor) is "down".
    let info = serde_json::json!({
        "format": 1, "dir": dir.path(), "voting_interval_secs": 15,
        "hsdir_interval_minutes": 6, "owned": true, "extras": [],
        "nodes": [{"nickname": "test000a", "role": "authority",
                   "rsa_fingerprint": "A", "ed25519_identity": "B", "v3ident": "C",
                   "orport": "127.0.0.1:1", "dirport": "127.0.0.1:2",
                   "data_dir": dir.path(), "pid": std::process::id()}]
    });
    std::fs::write(dir.path().join("net.json"), info.to_string()).unwrap();
    let out = torpeer(&[
        "tor-testnet",
        "status",
        "--dir",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["running"], 0);
    assert_eq!(v["total"], 1);
    assert_eq!(v["processes"][0]["running"], false);
}
