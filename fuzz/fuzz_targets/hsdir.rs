//! C-tor HiddenServiceDir files: `HsDirKeys::parse` on three arbitrary
//! inputs.
//!
//! Input layout (easy to build seeds for by hand):
//! `flags u8 | sk_len u8 | sk | pk_len u8 | pk | hostname (the rest)`;
//! flag bit 0 passes the public key file, bit 1 the hostname file.
//! Missing length bytes mean empty parts.
//!
//! Invariants: no panic; when the files are accepted, encoding them again
//! gives back the secret and public key files byte for byte and a hostname
//! that parses to the same address; each file parses on its own to the same
//! address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torpeer_core::hsdir::{
    HsDirKeys, encode_hostname_file, encode_public_key_file, encode_secret_key_file,
    parse_hostname_file, parse_public_key_file, parse_secret_key_file,
};

/// Split `len u8 | bytes` off the front.
fn take(data: &[u8]) -> (&[u8], &[u8]) {
    match data.split_first() {
        Some((&len, rest)) => rest.split_at(usize::from(len).min(rest.len())),
        None => (&[], &[]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (secret, rest) = take(rest);
    let (public, hostname) = take(rest);
    let public = (flags & 1 != 0).then_some(public);
    let hostname = (flags & 2 != 0).then_some(hostname);
    match HsDirKeys::parse(secret, public, hostname) {
        Ok(keys) => {
            let address = keys.identity.address();
            assert_eq!(&encode_secret_key_file(&keys.identity)[..], secret);
            if let Some(public) = public {
                assert_eq!(encode_public_key_file(&address), public);
            }
            if let Some(hostname) = hostname {
                assert_eq!(parse_hostname_file(hostname).ok(), Some(address));
            }
            let host = encode_hostname_file(&address);
            assert_eq!(parse_hostname_file(host.as_bytes()).ok(), Some(address));
            assert_eq!(
                parse_secret_key_file(secret).map(|i| i.address()).ok(),
                Some(address)
            );
        }
        Err(e) => assert!(e.code().starts_with("hsdir_")),
    }
    // Each parser alone, on every part, must not panic either.
    let _ = parse_public_key_file(secret);
    let _ = parse_hostname_file(secret);
    if let Some(public) = public {
        let _ = parse_secret_key_file(public);
    }
});
