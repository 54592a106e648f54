//! C-tor interop of `torpeer_core::hsdir`, against Debian's `tor`:
//! a HiddenServiceDir we encode is one tor loads unchanged (and tor's
//! `hostname` is ours), and one tor creates parses through us to tor's
//! address, re-encodes byte for byte, and signs records that verify.
//!
//! The same checks through the `torpeer` CLI (`keygen`, `identity`) live in
//! `native/tests/tor_interop.rs`, which can reach the binary.
//!
//! Skipped with a message when `tor` is not installed, unless
//! `TORPEER_REQUIRE_TOR=1` (set by CI) makes that a failure.

// Test code: a panic is a test failure, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use torpeer_core::hsdir::{
    self, HOSTNAME_FILE, HsDirKeys, PUBLIC_KEY_FILE, SECRET_KEY_FILE, encode_hostname_file,
    encode_public_key_file, encode_secret_key_file,
};
use torpeer_core::network::{NetworkName, NetworkParams};
use torpeer_core::record::{RecordBody, Role};
use torpeer_core::{Identity, pow};

use common::tor::{make_private, run_tor_on, tor_or_skip};

fn write_private(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn tor_loads_a_directory_we_encode_unchanged() {
    let Some(tor) = tor_or_skip("tor_loads_a_directory_we_encode_unchanged") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let hs = work.path().join("hs");
    fs::create_dir(&hs).unwrap();
    make_private(&hs);
    let id = Identity::from_seed(&[0x5a; 32]).unwrap();
    let secret = encode_secret_key_file(&id);
    let public = encode_public_key_file(&id.address());
    let ours = encode_hostname_file(&id.address());
    write_private(&hs.join(SECRET_KEY_FILE), &secret[..]);
    write_private(&hs.join(PUBLIC_KEY_FILE), &public);
    write_private(&hs.join(HOSTNAME_FILE), ours.as_bytes());

    let (theirs, log) = run_tor_on(&tor, work.path(), &hs);
    assert_eq!(
        theirs, ours,
        "tor's hostname differs from ours; tor log:\n{log}"
    );
    assert_eq!(fs::read(hs.join(SECRET_KEY_FILE)).unwrap(), &secret[..]);
    assert_eq!(fs::read(hs.join(PUBLIC_KEY_FILE)).unwrap(), public);
}

#[test]
fn a_directory_tor_creates_is_the_same_identity_through_us() {
    let Some(tor) = tor_or_skip("a_directory_tor_creates_is_the_same_identity_through_us") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let hs = work.path().join("hs");
    fs::create_dir(&hs).unwrap();
    make_private(&hs);
    let (hostname, log) = run_tor_on(&tor, work.path(), &hs);

    let secret = fs::read(hs.join(SECRET_KEY_FILE)).unwrap();
    let public = fs::read(hs.join(PUBLIC_KEY_FILE)).unwrap();
    let keys = HsDirKeys::parse(&secret, Some(&public), Some(hostname.as_bytes()))
        .unwrap_or_else(|e| panic!("{e} ({}); tor log:\n{log}", e.code()));
    let address = keys.identity.address();
    assert_eq!(format!("{address}\n"), hostname);
    assert_eq!(hsdir::parse_hostname_file(hostname.as_bytes()), Ok(address));
    // Our encoders write back exactly tor's bytes.
    assert_eq!(
        &encode_secret_key_file(&keys.identity)[..],
        secret.as_slice()
    );
    assert_eq!(encode_public_key_file(&address), public);
    assert_eq!(encode_hostname_file(&address), hostname);

    // Tor's (random-seed, expanded) key signs records that verify.
    let network = NetworkName::default_network();
    let (nonce, _) = pow::solve(&network.id(), &address, 4).unwrap();
    let body = RecordBody {
        address,
        network: network.clone(),
        role: Role::Participant,
        ports: vec![80],
        issued_at: 1_000,
        sequence: 1,
        pow_difficulty: 4,
        pow_nonce: nonce,
        tcp_endpoint: None,
    };
    let record = body.sign(&keys.identity).unwrap();
    let params = NetworkParams::new(network).with_min_difficulty(4);
    torpeer_core::record::verify(&record.to_proto(), &params, 1_000).unwrap();
}

/// Tor itself confirms the address of every seeded vector in
/// `vectors/onion.json`: the key from the seed, in a directory tor loads,
/// makes tor write that address.
#[test]
fn tor_confirms_the_onion_vectors() {
    let Some(tor) = tor_or_skip("tor_confirms_the_onion_vectors") else {
        return;
    };
    let path = common::vectors_dir().join("onion.json");
    let vectors: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let mut confirmed = 0;
    for case in vectors["valid"].as_array().unwrap() {
        let Some(seed) = case["seed"].as_str() else {
            continue;
        };
        let seed: [u8; 32] = hex::decode(seed).unwrap().try_into().unwrap();
        let id = Identity::from_seed(&seed).unwrap();
        let work = tempfile::tempdir().unwrap();
        let hs = work.path().join("hs");
        fs::create_dir(&hs).unwrap();
        make_private(&hs);
        write_private(&hs.join(SECRET_KEY_FILE), &encode_secret_key_file(&id)[..]);
        let (hostname, log) = run_tor_on(&tor, work.path(), &hs);
        assert_eq!(
            hostname.trim_end(),
            case["onion"].as_str().unwrap(),
            "tor log:\n{log}"
        );
        confirmed += 1;
    }
    assert!(confirmed >= 4);
}
