//! The offline `torpeer` commands through the real binary: output shapes,
//! exit codes (0 ok, 1 invalid, 2 usage or I/O) and cross-command agreement.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::path::Path;
use std::process::{Command, Output};

fn torpeer(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_torpeer"));
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn torpeer");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn keygen(dir: &Path, network: &str, difficulty: &str) -> serde_json::Value {
    let out = torpeer(
        &[
            "keygen",
            "--hs-dir",
            dir.to_str().unwrap(),
            "--network",
            network,
            "--difficulty",
            difficulty,
            "--json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    json(&out)
}

#[test]
fn keygen_identity_and_pow_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let hs = tmp.path().join("hs");
    let made = keygen(&hs, "cli-test", "10");
    let onion = made["onion"].as_str().unwrap();
    assert!(onion.ends_with(".onion") && onion.len() == 62);
    assert_eq!(made["difficulty"], 10);

    let out = torpeer(
        &["identity", "--hs-dir", hs.to_str().unwrap(), "--json"],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let id = json(&out);
    assert_eq!(id["onion"], onion);
    assert_eq!(id["public_key"], made["public_key"]);
    assert_eq!(
        std::fs::read_to_string(hs.join("hostname")).unwrap(),
        format!("{onion}\n")
    );

    let out = torpeer(&["identity", "--onion", onion, "--json"], None);
    assert_eq!(json(&out)["public_key"], made["public_key"]);

    let nonce = made["nonce"].as_str().unwrap();
    let verify = |nonce: &str, difficulty: &str| {
        torpeer(
            &[
                "pow",
                "verify",
                "--onion",
                onion,
                "--nonce",
                nonce,
                "--difficulty",
                difficulty,
                "--network",
                "cli-test",
            ],
            None,
        )
        .status
        .code()
    };
    assert_eq!(verify(nonce, "10"), Some(0));
    // The same nonce on another network is (almost surely) not a solution;
    // a much higher difficulty certainly is not met.
    assert_eq!(verify(nonce, "64"), Some(1));

    // Refuses to overwrite a key.
    let out = torpeer(
        &[
            "keygen",
            "--hs-dir",
            hs.to_str().unwrap(),
            "--difficulty",
            "1",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn pow_solve_reports_figures_and_stores_the_nonce() {
    let tmp = tempfile::tempdir().unwrap();
    let hs = tmp.path().join("hs");
    keygen(&hs, "torpeer", "4");
    let out = torpeer(
        &[
            "pow",
            "solve",
            "--hs-dir",
            hs.to_str().unwrap(),
            "--difficulty",
            "12",
            "--network",
            "other-net",
            "--threads",
            "2",
            "--json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = json(&out);
    for key in ["nonce", "difficulty", "hashes", "hashes_per_second"] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(hs.join("torpeer-pow.json")).unwrap()).unwrap();
    assert_eq!(stored["nonce"], v["nonce"]);
    assert_eq!(stored["network"], "other-net");
}

#[test]
fn signed_records_verify_and_tampering_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let hs = tmp.path().join("hs");
    keygen(&hs, "rec-net", "8");
    let hs = hs.to_str().unwrap();
    let sign = |extra: &[&str]| {
        let mut args = vec!["record", "sign", "--hs-dir", hs, "--network", "rec-net"];
        args.extend_from_slice(extra);
        let out = torpeer(&args, None);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        out.stdout
    };
    let verify = |input: &[u8], extra: &[&str]| {
        let mut args = vec![
            "record",
            "verify",
            "-",
            "--network",
            "rec-net",
            "--difficulty",
            "8",
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = torpeer(&args, Some(input));
        (out.status.code(), json(&out))
    };

    let record = sign(&["--role", "router", "--port", "80", "--port", "443"]);
    let parsed: serde_json::Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(parsed["role"], "ROLE_ROUTER");
    assert_eq!(parsed["ports"], serde_json::json!([80, 443]));
    let (code, v) = verify(&record, &[]);
    assert_eq!((code, v["ok"].as_bool()), (Some(0), Some(true)), "{v}");

    // Binary in, same verdict.
    let binary = sign(&["--binary"]);
    assert_eq!(verify(&binary, &[]).0, Some(0));

    // Each kind of failure has its own code.
    let mut tampered = parsed.clone();
    tampered["ports"] = serde_json::json!([81, 443]);
    let (code, v) = verify(tampered.to_string().as_bytes(), &[]);
    assert_eq!((code, v["code"].as_str()), (Some(1), Some("bad_signature")));

    let mut bad_pow = parsed.clone();
    bad_pow["powNonce"] = serde_json::json!("1");
    let (code, v) = verify(bad_pow.to_string().as_bytes(), &[]);
    assert_eq!(code, Some(1));
    assert!(
        ["bad_pow", "bad_signature"].contains(&v["code"].as_str().unwrap()),
        "{v}"
    );

    let mut bad_addr = parsed.clone();
    bad_addr["onion"] = serde_json::json!("not-an-onion");
    let (_, v) = verify(bad_addr.to_string().as_bytes(), &[]);
    assert_eq!(v["code"], "malformed_address");

    let out = torpeer(
        &[
            "record",
            "verify",
            "-",
            "--network",
            "other",
            "--difficulty",
            "8",
            "--json",
        ],
        Some(&record),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["code"], "wrong_network");
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong_network"));

    let issued: u64 = parsed["issuedAt"].as_str().unwrap().parse().unwrap();
    let later = (issued + 2 * 24 * 3600).to_string();
    let (_, v) = verify(&record, &["--now", &later]);
    assert_eq!(v["code"], "expired");
    let earlier = (issued - 3600).to_string();
    let (_, v) = verify(&record, &["--now", &earlier]);
    assert_eq!(v["code"], "from_future");

    // Garbage is an invalid input, not a crash.
    let (code, v) = verify(b"\xff\xff\xff\xff", &[]);
    assert_eq!(code, Some(1), "{v}");
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(
        torpeer(&["record", "verify", "/no/such/file"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        torpeer(&["pow", "verify", "--onion"], None).status.code(),
        Some(2)
    );
    assert_eq!(
        torpeer(&["identity", "--hs-dir", "/no/such/dir"], None)
            .status
            .code(),
        Some(2)
    );
    let bad = torpeer(&["identity", "--onion", "abc.onion"], None);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("onion_length"));
}

/// `torpeer … | head`: a reader that has gone away ends the command quietly
/// (exit 0, like ripgrep), never with println!'s "failed printing to
/// stdout" panic (exit 101).
#[test]
fn closed_stdout_is_a_quiet_exit_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let hs = tmp.path().join("hs");
    keygen(&hs, "cli-test", "4");
    let hs = hs.to_str().unwrap();
    for args in [
        vec!["identity", "--hs-dir", hs],
        vec!["identity", "--hs-dir", hs, "--json"],
    ] {
        // A pipe whose read end is already closed: every write is EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_torpeer"))
            .args(&args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
