//! The one error type that crosses into JavaScript.
//!
//! Every failure becomes a JS `Error` whose `message` is for people and whose
//! `code` property is a stable string for programs: the core's own
//! `code()` strings (`onion_checksum`, `bad_pow`, `invalid_json`, …) plus the
//! few argument codes below. A failure is built in plain Rust so the rules
//! that pick a code are testable off the browser; only [`Failure::into_js`]
//! touches JS.

use std::fmt;

use wasm_bindgen::JsValue;

/// An argument has the wrong JS type or is out of range.
pub const INVALID_ARGUMENT: &str = "invalid_argument";
/// A `network` option is not a valid network name.
pub const INVALID_NETWORK: &str = "invalid_network";
/// `solvePow` tried `maxHashes` nonces without finding one.
pub const POW_NOT_FOUND: &str = "pow_not_found";

/// A failure with a stable code and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Stable, machine-readable code.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl Failure {
    /// A failure with this code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// An [`INVALID_ARGUMENT`] failure.
    pub fn argument(message: impl Into<String>) -> Self {
        Self::new(INVALID_ARGUMENT, message)
    }

    /// The JS `Error` with a `code` property.
    pub fn into_js(self) -> JsValue {
        let error = js_sys::Error::new(&self.message);
        // Setting a property on a fresh Error object cannot fail; if it ever
        // did, the Error still carries the message.
        let _ = js_sys::Reflect::set(&error, &JsValue::from_str("code"), &self.code.into());
        error.into()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<torpeer_core::onion::OnionError> for Failure {
    fn from(e: torpeer_core::onion::OnionError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<torpeer_core::pow::PowError> for Failure {
    fn from(e: torpeer_core::pow::PowError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<torpeer_core::codec::MessageError> for Failure {
    fn from(e: torpeer_core::codec::MessageError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<torpeer_core::record::RecordError> for Failure {
    fn from(e: torpeer_core::record::RecordError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<torpeer_core::network::NetworkNameError> for Failure {
    fn from(e: torpeer_core::network::NetworkNameError) -> Self {
        Self::new(INVALID_NETWORK, e.to_string())
    }
}
