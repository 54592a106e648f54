//! The exported functions, called from Rust inside a real JS engine
//! (wasm-bindgen-test-runner on Node): argument conversion, result shapes and
//! coded errors. Run with
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! cargo test -p torpeer-wasm --target wasm32-unknown-unknown`.
#![cfg(target_arch = "wasm32")]
// clippy's allow-unwrap-in-tests knows `#[test]`, not `#[wasm_bindgen_test]`.
#![allow(clippy::unwrap_used)]

use js_sys::{BigInt, JSON, Reflect, Uint8Array};
use prost::Message;
use torpeer_core::Identity;
use torpeer_core::network::NetworkParams;
use torpeer_core::proto::PeerRecord;
use torpeer_core::record::{RecordBody, Role};
use torpeer_wasm::api;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const NOW: u64 = 1_800_000_000;
const KNOWN: &str = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion";

fn record(seed: u8) -> PeerRecord {
    let identity = Identity::from_seed(&[seed; 32]).unwrap();
    let address = identity.address();
    let params = NetworkParams::default();
    let (nonce, _) = torpeer_core::pow::solve(&params.name.id(), &address, 8).unwrap();
    RecordBody {
        address,
        network: params.name,
        role: Role::Router,
        ports: vec![443],
        issued_at: NOW,
        sequence: 9,
        pow_difficulty: 8,
        pow_nonce: nonce,
        tcp_endpoint: None,
    }
    .sign(&identity)
    .unwrap()
    .to_proto()
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap()
}

fn obj(json: &str) -> JsValue {
    JSON::parse(json).unwrap()
}

fn opts(json: &str) -> api::VerifyOptions {
    obj(json).unchecked_into()
}

fn options(now: u64) -> api::VerifyOptions {
    opts(&format!(r#"{{"minDifficulty": 8, "nowUnix": "{now}"}}"#))
}

fn code_of_error(result: Result<JsValue, JsValue>) -> String {
    let error = result.unwrap_err();
    assert!(error.is_instance_of::<js_sys::Error>());
    get(&error, "code").as_string().unwrap()
}

#[wasm_bindgen_test]
fn parse_onion_returns_address_and_hex_key() {
    let parsed = api::parse_onion(KNOWN.into()).unwrap();
    assert_eq!(get(&parsed, "onion").as_string().unwrap(), KNOWN);
    let key = get(&parsed, "publicKey").as_string().unwrap();
    let expected = torpeer_core::OnionAddress::parse(KNOWN).unwrap();
    assert_eq!(key, hex::encode(expected.public_key()));
    // base32 "duck" = 00011 10100 00010 01010: the key starts 0x1d 0x04.
    assert!(key.starts_with("1d04"));
    assert_eq!(code_of_error(api::parse_onion("x".into())), "onion_length");
    assert_eq!(
        code_of_error(api::parse_onion(JsValue::from(3))),
        "invalid_argument"
    );
}

#[wasm_bindgen_test]
fn verify_record_accepts_every_input_form() {
    let r = record(1);
    let json = serde_json::to_string(&r).unwrap();
    let inputs = [
        JsValue::from_str(&json),
        obj(&json),
        Uint8Array::from(r.encode_to_vec().as_slice()).into(),
    ];
    for input in inputs {
        let verdict = api::verify_record(input, Some(options(NOW))).unwrap();
        assert_eq!(get(&verdict, "ok"), JsValue::TRUE);
        assert_eq!(get(&verdict, "code").as_string().unwrap(), "ok");
    }
    // Without minDifficulty the default network's 20 bits apply.
    let verdict = api::verify_record(
        json.clone().into(),
        Some(opts(r#"{"nowUnix": 1800000000}"#)),
    );
    assert_eq!(
        get(&verdict.unwrap(), "code").as_string().unwrap(),
        "bad_pow"
    );
    let expired = api::verify_record(json.into(), Some(options(NOW + 86_401))).unwrap();
    assert_eq!(get(&expired, "ok"), JsValue::FALSE);
    assert_eq!(get(&expired, "code").as_string().unwrap(), "expired");
}

#[wasm_bindgen_test]
fn outputs_have_the_proto3_json_shape() {
    let r = record(2);
    let json = serde_json::to_string(&r).unwrap();
    let decoded = api::decode_record(json.clone().into()).unwrap();
    // Exactly what serde_json (pbjson) writes, read back by JSON.parse.
    assert_eq!(
        String::from(JSON::stringify(&decoded).unwrap()),
        String::from(JSON::stringify(&obj(&json)).unwrap())
    );
    assert_eq!(get(&decoded, "role").as_string().unwrap(), "ROLE_ROUTER");
    assert_eq!(
        get(&decoded, "issuedAt").as_string().unwrap(),
        NOW.to_string()
    );
}

#[wasm_bindgen_test]
fn peer_lists_round_trip_and_verify_per_entry() {
    let good = serde_json::to_string(&record(3)).unwrap();
    let list =
        format!(r#"{{"network":"torpeer","peers":[{{"record":{good}}},{{"lastSeen":"5"}}]}}"#);
    let binary = api::encode_peer_list(list.clone().into()).unwrap();
    let from_binary = api::decode_peer_list(binary.clone()).unwrap();
    let from_json = api::decode_peer_list(list.into()).unwrap();
    assert_eq!(
        String::from(JSON::stringify(&from_binary).unwrap()),
        String::from(JSON::stringify(&from_json).unwrap())
    );
    let verdicts = js_sys::Array::from(&api::verify_peer_list(binary, Some(options(NOW))).unwrap());
    assert_eq!(verdicts.length(), 2);
    assert_eq!(get(&verdicts.get(0), "code").as_string().unwrap(), "ok");
    assert!(get(&verdicts.get(0), "record").is_object());
    assert_eq!(
        get(&verdicts.get(1), "code").as_string().unwrap(),
        "malformed"
    );
    assert!(get(&verdicts.get(1), "record").is_null());
}

#[wasm_bindgen_test]
fn pow_takes_nonces_as_number_string_or_bigint() {
    let solved = api::solve_pow(obj(&format!(r#"{{"onion":"{KNOWN}","difficulty":6}}"#))).unwrap();
    let nonce = get(&solved, "nonce").as_string().unwrap();
    let n: u64 = nonce.parse().unwrap();
    assert_eq!(get(&solved, "hashes").as_f64().unwrap(), (n + 1) as f64);
    let forms = [
        JsValue::from_str(&nonce),
        JsValue::from_f64(n as f64),
        BigInt::from(n).into(),
    ];
    for form in forms {
        let query = obj(&format!(r#"{{"onion":"{KNOWN}","difficulty":6}}"#));
        Reflect::set(&query, &"nonce".into(), &form).unwrap();
        assert_eq!(api::verify_pow(query), Ok(true));
    }
    let too_hard = obj(&format!(
        r#"{{"onion":"{KNOWN}","difficulty":65,"nonce":1}}"#
    ));
    let error = api::verify_pow(too_hard).unwrap_err();
    assert_eq!(
        get(&error, "code").as_string().unwrap(),
        "pow_difficulty_too_high"
    );
    let bounded = obj(&format!(
        r#"{{"onion":"{KNOWN}","difficulty":48,"maxHashes":100}}"#
    ));
    assert_eq!(code_of_error(api::solve_pow(bounded)), "pow_not_found");
}

#[wasm_bindgen_test]
fn bad_arguments_are_coded_errors() {
    let r = serde_json::to_string(&record(4)).unwrap();
    assert_eq!(
        code_of_error(api::verify_record(
            r.clone().into(),
            Some(opts(r#"{"network":"X"}"#))
        )),
        "invalid_network"
    );
    assert_eq!(
        code_of_error(api::verify_record(
            r.into(),
            Some(opts(r#"{"nowUnix":1.5}"#))
        )),
        "invalid_argument"
    );
    assert_eq!(
        code_of_error(api::verify_record(JsValue::NULL, None)),
        "invalid_argument"
    );
    assert_eq!(
        code_of_error(api::decode_peer_list("{x".into())),
        "invalid_json"
    );
    let verdict = api::verify_record("[1]".into(), None).unwrap();
    assert_eq!(
        get(&verdict, "code").as_string().unwrap(),
        "invalid_protobuf"
    );
}
