//! Property tests: a signed record with any single byte changed does not
//! verify.
//!
//! On the binary protobuf encoding, a changed byte is one of:
//! - inside a field value: the onion (base32 has no spare bits and carries a
//!   checksum; a different valid address is a different key), the network
//!   name (another network or an invalid name), an integer (a different
//!   value: minimal varints have no redundant bits, and a changed
//!   continuation bit re-frames the rest), the endpoint (only the canonical
//!   spelling is accepted), or the signature (strict ed25519 refuses
//!   non-canonical `S`, and `R` is compared as bytes);
//! - a tag or length byte: the message fails to decode, or a field moves to
//!   an unknown number (dropped, so that field reverts to its default, and
//!   proto3 only encodes non-default values) or onto another field (which
//!   changes both).
//!
//! So every change alters the decoded record, and the signed bytes with it
//! (or fails before that); no change can give back an equal record. The
//! tests check each position of the encoding, and the same on the canonical
//! bytes and the signature directly.

// Test code: a panic is a test failure, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use prost::Message;
use torpeer_core::identity::{self, SignatureContext};
use torpeer_core::proto;
use torpeer_core::record;

use common::signed_record;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_changed_byte_of_the_encoding_fails(
        (signed, params) in signed_record(),
        replacement in any::<u8>(),
    ) {
        let now = signed.body.issued_at;
        let bytes = signed.to_proto().encode_to_vec();
        prop_assert!(record::verify(&signed.to_proto(), &params, now).is_ok());
        // Changes that still decode and so reach verification (at least
        // every signature byte): the check below is not vacuous.
        let mut verified = 0;
        for position in 0..bytes.len() {
            // A bit flip in the low and the high bit, and an arbitrary value.
            for new in [bytes[position] ^ 0x01, bytes[position] ^ 0x80, replacement] {
                if new == bytes[position] {
                    continue;
                }
                let mut changed = bytes.clone();
                changed[position] = new;
                if let Ok(decoded) = proto::PeerRecord::decode(changed.as_slice()) {
                    verified += 1;
                    let verdict = record::verify(&decoded, &params, now);
                    prop_assert!(
                        verdict.is_err(),
                        "byte {position} changed {:#04x} -> {new:#04x} still verifies",
                        bytes[position]
                    );
                }
            }
        }
        prop_assert!(verified >= 64, "only {verified} changed encodings decoded");
    }

    #[test]
    fn any_changed_byte_of_the_signed_bytes_or_signature_fails(
        (signed, _params) in signed_record(),
        position in any::<prop::sample::Index>(),
        delta in 1u8..,
    ) {
        let canonical = signed.body.canonical_bytes();
        let address = signed.body.address;
        prop_assert!(identity::verify(&address, SignatureContext::Record, &canonical, &signed.signature));

        let mut message = canonical.clone();
        let i = position.index(message.len());
        message[i] = message[i].wrapping_add(delta);
        prop_assert!(!identity::verify(&address, SignatureContext::Record, &message, &signed.signature));

        let mut signature = signed.signature;
        let j = position.index(signature.len());
        signature[j] = signature[j].wrapping_add(delta);
        prop_assert!(!identity::verify(&address, SignatureContext::Record, &canonical, &signature));

        // Nor is the record signature good for any other purpose.
        prop_assert!(!identity::verify(&address, SignatureContext::Handshake, &canonical, &signed.signature));
    }
}
