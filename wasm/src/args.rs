//! JS arguments into Rust values, refusing anything else with a coded error
//! rather than letting wasm-bindgen coerce it (a number passed where a string
//! is expected would otherwise be stringified silently).

use js_sys::{Array, ArrayBuffer, BigInt, Reflect, Uint8Array};
use torpeer_core::network::{NetworkName, NetworkParams};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::Failure;

/// `Number.MAX_SAFE_INTEGER`: above it a JS number no longer holds every
/// integer, so a nonce given as a number must stay at or below it.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A message given as proto3 JSON text, a JSON-shaped object, a `Uint8Array`
/// or an `ArrayBuffer` of binary protobuf, as the bytes
/// `codec::decode_message` expects. Objects go through `JSON.stringify`, so
/// they are read by exactly the same proto3 JSON parser as text.
pub fn message_bytes(value: &JsValue, what: &str) -> Result<Vec<u8>, Failure> {
    if let Some(text) = value.as_string() {
        return Ok(text.into_bytes());
    }
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return Ok(bytes.to_vec());
    }
    if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
        return Ok(Uint8Array::new(buffer).to_vec());
    }
    if value.is_object() && !Array::is_array(value) && !value.is_function() {
        let text = js_sys::JSON::stringify(value).map_err(|e| {
            Failure::new(
                "invalid_json",
                format!("{what} cannot be turned into JSON: {}", describe(&e)),
            )
        })?;
        return Ok(String::from(text).into_bytes());
    }
    Err(Failure::argument(format!(
        "{what} must be proto3 JSON (string or object) or binary protobuf (Uint8Array)"
    )))
}

/// A string argument.
pub fn string(value: &JsValue, what: &str) -> Result<String, Failure> {
    value
        .as_string()
        .ok_or_else(|| Failure::argument(format!("{what} must be a string")))
}

/// A property of an options object; `undefined` for a missing object.
pub fn property(object: &JsValue, name: &str) -> Result<JsValue, Failure> {
    if object.is_undefined() || object.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    if !object.is_object() {
        return Err(Failure::argument(format!(
            "expected an object with a {name:?} property"
        )));
    }
    Reflect::get(object, &JsValue::from_str(name))
        .map_err(|e| Failure::argument(format!("cannot read {name:?}: {}", describe(&e))))
}

/// `undefined` and `null` both mean "not given".
pub fn given(value: JsValue) -> Option<JsValue> {
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

/// A u64 given as a safe-integer number, a decimal string (the proto3 JSON
/// form of 64-bit integers) or a bigint.
pub fn u64_value(value: &JsValue, what: &str) -> Result<u64, Failure> {
    let out_of_range = || Failure::argument(format!("{what} must be an integer in 0..=2^64-1"));
    if let Some(n) = value.as_f64() {
        if n.fract() != 0.0 || !(0.0..=MAX_SAFE_INTEGER).contains(&n) {
            return Err(Failure::argument(format!(
                "{what} must be a non-negative safe integer when given as a number \
                 (pass larger values as a string or bigint)"
            )));
        }
        // In 0..=2^53-1 and integral: exact.
        return Ok(n as u64);
    }
    let text = if let Some(text) = value.as_string() {
        text
    } else if let Some(big) = value.dyn_ref::<BigInt>() {
        String::from(big.to_string(10).map_err(|_| out_of_range())?)
    } else {
        return Err(Failure::argument(format!(
            "{what} must be a number, a decimal string or a bigint"
        )));
    };
    text.trim().parse::<u64>().map_err(|_| out_of_range())
}

/// A u32 given as a number (difficulties, limits).
pub fn u32_value(value: &JsValue, what: &str) -> Result<u32, Failure> {
    let n = value
        .as_f64()
        .ok_or_else(|| Failure::argument(format!("{what} must be a number")))?;
    if n.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&n) {
        return Err(Failure::argument(format!(
            "{what} must be a non-negative integer"
        )));
    }
    Ok(n as u32)
}

/// Network parameters from an options object's `network` and
/// `minDifficulty`: the core's default network and its minimum difficulty
/// when not given.
pub fn network_params(options: &JsValue) -> Result<NetworkParams, Failure> {
    let name = match given(property(options, "network")?) {
        Some(v) => NetworkName::new(&string(&v, "network")?)?,
        None => NetworkName::default_network(),
    };
    let mut params = NetworkParams::new(name);
    if let Some(v) = given(property(options, "minDifficulty")?) {
        let min = u32_value(&v, "minDifficulty")?;
        params = params.with_min_difficulty(torpeer_core::pow::check_difficulty(min)?);
    }
    Ok(params)
}

/// `nowUnix` from an options object, else the current time from `Date.now()`.
pub fn now_unix(options: &JsValue) -> Result<u64, Failure> {
    match given(property(options, "nowUnix")?) {
        Some(v) => u64_value(&v, "nowUnix"),
        // Date.now() is milliseconds since the epoch, always positive on any
        // clock a verifier can use; `as` saturates anything odd to 0.
        None => Ok((js_sys::Date::now() / 1000.0).floor() as u64),
    }
}

/// A thrown JS value as text, for messages.
pub fn describe(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
