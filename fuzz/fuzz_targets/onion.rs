//! Onion address parsing.
//!
//! Invariants: no panic; an accepted string re-encodes to itself (with
//! `.onion` added if it was bare) and parses back to the same address; the
//! address equals the one built from its public key. Every refusal has a
//! stable code. The first 32 bytes are also tried as a raw public key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torpeer_core::onion::OnionAddress;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match OnionAddress::parse(text) {
            Ok(address) => {
                let canonical = address.to_string();
                let expected = if text.ends_with(".onion") {
                    text.to_owned()
                } else {
                    format!("{text}.onion")
                };
                assert_eq!(canonical, expected, "accepted a non-canonical spelling");
                assert_eq!(address.base32().len(), 56);
                assert_eq!(OnionAddress::parse(&canonical), Ok(address));
                assert_eq!(
                    OnionAddress::from_public_key(*address.public_key()),
                    Ok(address)
                );
                assert!(address.verifying_key().is_some());
            }
            Err(e) => assert!(e.code().starts_with("onion_")),
        }
    }
    if let Some(key) = data.get(..32) {
        let mut raw = [0u8; 32];
        raw.copy_from_slice(key);
        if let Ok(address) = OnionAddress::from_public_key(raw) {
            assert_eq!(address.public_key(), &raw);
            assert_eq!(OnionAddress::parse(&address.to_string()), Ok(address));
            assert_eq!(OnionAddress::parse(&address.base32()), Ok(address));
        }
    }
});
