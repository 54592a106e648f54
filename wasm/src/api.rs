//! The functions JavaScript sees. Each one converts its arguments
//! ([`crate::args`]), calls [`crate::checks`] (which calls torpeer-core) and
//! converts the answer back; no rule lives here.
//!
//! Outputs are built with serde-wasm-bindgen's JSON-compatible serializer
//! from the pbjson `Serialize` impls, so every object has exactly the
//! canonical proto3 JSON shape (camelCase names, 64-bit integers as strings,
//! bytes as base64, enums by name).

use prost::Message;
use serde::Serialize;
use torpeer_core::network::{
    DEFAULT_DIFFICULTY, DEFAULT_MAX_FUTURE_SKEW_SECS, DEFAULT_NETWORK, DEFAULT_RECORD_TTL_SECS,
    NetworkParams,
};
use torpeer_core::onion::OnionAddress;
use torpeer_core::proto::PeerRecord;
use wasm_bindgen::prelude::*;

use crate::args::{self, given, property};
use crate::checks::{self, Verdict};
use crate::error::Failure;

#[wasm_bindgen(typescript_custom_section)]
const TYPINGS: &'static str = include_str!("typings.d.ts");

#[wasm_bindgen]
extern "C" {
    /// The options object of the verify functions, typed in typings.d.ts.
    #[wasm_bindgen(typescript_type = "VerifyOptions")]
    pub type VerifyOptions;
}

type JsResult = Result<JsValue, JsValue>;

/// Plain JS objects from serde values.
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, Failure> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| Failure::new("internal", format!("cannot build result object: {e}")))
}

#[derive(Serialize)]
struct VerdictJs<'a> {
    ok: bool,
    code: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct PeerVerdictJs<'a> {
    ok: bool,
    code: &'a str,
    message: &'a str,
    record: Option<&'a PeerRecord>,
}

impl<'a> From<&'a Verdict> for VerdictJs<'a> {
    fn from(v: &'a Verdict) -> Self {
        Self {
            ok: v.ok,
            code: v.code,
            message: &v.message,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParsedOnionJs {
    onion: String,
    public_key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkDefaultsJs {
    network: &'static str,
    min_difficulty: u8,
    record_ttl_secs: u64,
    max_future_skew_secs: u64,
}

#[derive(Serialize)]
struct PowSolutionJs {
    nonce: String,
    hashes: f64,
}

fn onion_arg(value: &JsValue, what: &str) -> Result<OnionAddress, Failure> {
    Ok(OnionAddress::parse(&args::string(value, what)?)?)
}

/// Every export runs through here: it installs the panic hook (once; a
/// `start` function would show up in the package's API) and turns a
/// [`Failure`] into a coded JS `Error`.
fn guard<T>(body: impl FnOnce() -> Result<T, Failure>) -> Result<T, JsValue> {
    console_error_panic_hook::set_once();
    body().map_err(Failure::into_js)
}

/// Parse a v3 onion address (with or without ".onion"). Throws a
/// TorpeerError with an `onion_*` code if it is not valid.
#[wasm_bindgen(js_name = parseOnion, unchecked_return_type = "ParsedOnion")]
pub fn parse_onion(#[wasm_bindgen(unchecked_param_type = "string")] address: JsValue) -> JsResult {
    guard(|| {
        let onion = onion_arg(&address, "address")?;
        to_js(&ParsedOnionJs {
            onion: onion.to_string(),
            public_key: hex::encode(onion.public_key()),
        })
    })
}

/// Check a proof-of-work nonce: true when it meets `difficulty` for this
/// onion key on this network. Throws on a bad address or a difficulty above
/// 64.
#[wasm_bindgen(js_name = verifyPow)]
pub fn verify_pow(
    #[wasm_bindgen(unchecked_param_type = "PowQuery")] query: JsValue,
) -> Result<bool, JsValue> {
    guard(|| {
        let onion = onion_arg(&property(&query, "onion")?, "onion")?;
        let nonce = args::u64_value(&property(&query, "nonce")?, "nonce")?;
        let difficulty = args::u32_value(&property(&query, "difficulty")?, "difficulty")?;
        let params = args::network_params(&query)?;
        checks::verify_pow(&params, &onion, nonce, difficulty)
    })
}

/// Find a proof-of-work nonce on this thread (blocks: for demos, tests and
/// small difficulties; each bit doubles the work). The nonce is returned as
/// a decimal string because it is a u64.
#[wasm_bindgen(js_name = solvePow, unchecked_return_type = "PowSolution")]
pub fn solve_pow(#[wasm_bindgen(unchecked_param_type = "PowTask")] task: JsValue) -> JsResult {
    guard(|| {
        let onion = onion_arg(&property(&task, "onion")?, "onion")?;
        let difficulty = args::u32_value(&property(&task, "difficulty")?, "difficulty")?;
        let params = args::network_params(&task)?;
        let max_hashes = given(property(&task, "maxHashes")?)
            .map(|v| args::u64_value(&v, "maxHashes"))
            .transpose()?;
        let (nonce, hashes) = checks::solve_pow(&params, &onion, difficulty, max_hashes)?;
        to_js(&PowSolutionJs {
            nonce: nonce.to_string(),
            // Hash counts a browser can reach stay far below 2^53.
            hashes: hashes as f64,
        })
    })
}

/// Verify a signed peer record given as proto3 JSON (string or object) or
/// binary protobuf. Never throws for a bad record: the result says why it
/// is refused (`code`). Throws only for bad options.
#[wasm_bindgen(js_name = verifyRecord, unchecked_return_type = "VerifyResult")]
pub fn verify_record(
    #[wasm_bindgen(unchecked_param_type = "MessageInput<PeerRecord>")] record: JsValue,
    options: Option<VerifyOptions>,
) -> JsResult {
    guard(|| {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let params = args::network_params(&options)?;
        let now = args::now_unix(&options)?;
        let verdict = match args::message_bytes(&record, "record") {
            Ok(bytes) => checks::verify_record_bytes(&bytes, &params, now),
            Err(failure) if failure.code == "invalid_json" => Verdict {
                ok: false,
                code: failure.code,
                message: failure.message,
            },
            Err(failure) => return Err(failure),
        };
        to_js(&VerdictJs::from(&verdict))
    })
}

/// Verify every record of a peer list (proto3 JSON or binary protobuf).
/// Returns one verdict per entry, in order, with the entry's decoded record.
/// Throws if the list itself cannot be decoded.
#[wasm_bindgen(js_name = verifyPeerList, unchecked_return_type = "PeerVerdict[]")]
pub fn verify_peer_list(
    #[wasm_bindgen(unchecked_param_type = "MessageInput<PeerList>")] list: JsValue,
    options: Option<VerifyOptions>,
) -> JsResult {
    guard(|| {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let params = args::network_params(&options)?;
        let now = args::now_unix(&options)?;
        let (list, _) = checks::decode_peer_list(&args::message_bytes(&list, "peer list")?)?;
        let results = checks::verify_peer_list(&list, &params, now);
        let verdicts: Vec<PeerVerdictJs<'_>> = results
            .iter()
            .map(|(v, record)| PeerVerdictJs {
                ok: v.ok,
                code: v.code,
                message: &v.message,
                record: *record,
            })
            .collect();
        to_js(&verdicts)
    })
}

/// Decode a peer list (proto3 JSON or binary protobuf) into plain objects in
/// the proto3 JSON shape. Does not verify anything.
#[wasm_bindgen(js_name = decodePeerList, unchecked_return_type = "PeerList")]
pub fn decode_peer_list(
    #[wasm_bindgen(unchecked_param_type = "MessageInput<PeerList>")] list: JsValue,
) -> JsResult {
    guard(|| {
        let (list, _) = checks::decode_peer_list(&args::message_bytes(&list, "peer list")?)?;
        to_js(&list)
    })
}

/// Encode a peer list (proto3 JSON or binary) as binary protobuf.
#[wasm_bindgen(js_name = encodePeerList, unchecked_return_type = "Uint8Array")]
pub fn encode_peer_list(
    #[wasm_bindgen(unchecked_param_type = "MessageInput<PeerList>")] list: JsValue,
) -> JsResult {
    guard(|| {
        let (list, _) = checks::decode_peer_list(&args::message_bytes(&list, "peer list")?)?;
        Ok(js_sys::Uint8Array::from(list.encode_to_vec().as_slice()).into())
    })
}

/// Decode a peer record (proto3 JSON or binary) into a plain object in the
/// proto3 JSON shape. Does not verify anything.
#[wasm_bindgen(js_name = decodeRecord, unchecked_return_type = "PeerRecord")]
pub fn decode_record(
    #[wasm_bindgen(unchecked_param_type = "MessageInput<PeerRecord>")] record: JsValue,
) -> JsResult {
    guard(|| {
        let (record, _) = checks::decode_record(&args::message_bytes(&record, "record")?)?;
        to_js(&record)
    })
}

/// Encode a peer record (proto3 JSON or binary) as binary protobuf.
#[wasm_bindgen(js_name = encodeRecord, unchecked_return_type = "Uint8Array")]
pub fn encode_record(
    #[wasm_bindgen(unchecked_param_type = "MessageInput<PeerRecord>")] record: JsValue,
) -> JsResult {
    guard(|| {
        let (record, _) = checks::decode_record(&args::message_bytes(&record, "record")?)?;
        Ok(js_sys::Uint8Array::from(record.encode_to_vec().as_slice()).into())
    })
}

/// The default network and its parameters (what `network`/`minDifficulty`
/// mean when left out).
#[wasm_bindgen(js_name = networkDefaults, unchecked_return_type = "NetworkDefaults")]
pub fn network_defaults() -> JsResult {
    let params = NetworkParams::default();
    debug_assert_eq!(params.min_difficulty, DEFAULT_DIFFICULTY);
    guard(|| {
        to_js(&NetworkDefaultsJs {
            network: DEFAULT_NETWORK,
            min_difficulty: params.min_difficulty,
            record_ttl_secs: DEFAULT_RECORD_TTL_SECS,
            max_future_skew_secs: DEFAULT_MAX_FUTURE_SKEW_SECS,
        })
    })
}
