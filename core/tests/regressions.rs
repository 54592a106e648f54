//! Regression tests for bugs found by the property tests and fuzzers.

// Test code: a panic is a test failure, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prost::Message;
use torpeer_core::codec::{Encoding, MessageError, decode_message};
use torpeer_core::proto;

/// Found by `proto_records_round_trip_binary_and_json`: a binary message
/// whose first field is a string of length 9, 10, 13 or 32 (a whitespace
/// byte) starting with '{' was taken for JSON and refused.
#[test]
fn binary_that_looks_like_indented_json_still_decodes() {
    let record = proto::PeerRecord {
        onion: "{\u{10000}0\u{b} a".into(),
        ..Default::default()
    };
    let bin = record.encode_to_vec();
    assert_eq!(&bin[..3], b"\n\t{", "the input does look like JSON");
    assert_eq!(
        decode_message::<proto::PeerRecord>(&bin, 1 << 16),
        Ok((record, Encoding::Binary))
    );
    // Genuine JSON with leading whitespace is still JSON, and bad JSON that
    // is not binary either still reports the JSON error.
    let ping = proto::Ping { nonce: 5 };
    assert_eq!(
        decode_message::<proto::Ping>(b" \n{\"nonce\":\"5\"}", 64),
        Ok((ping, Encoding::Json))
    );
    assert!(matches!(
        decode_message::<proto::Ping>(b"\n{nope", 64),
        Err(MessageError::Json(_))
    ));
    assert!(matches!(
        decode_message::<proto::Ping>(b"{nope", 64),
        Err(MessageError::Json(_))
    ));
}
