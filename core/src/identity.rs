//! A node's identity: the onion service's ed25519 key, and signatures made
//! with it under TorPeer's own domain-separation prefixes.
//!
//! C-tor stores onion service keys *expanded* (the 64-byte `SHA-512(seed)`
//! with the scalar clamped), not as a 32-byte seed, so the identity keeps the
//! expanded form and signs with it directly (`ed25519_dalek::hazmat`). Keys
//! generated here follow the same derivation, so a directory we write is the
//! one tor would have written for the same seed.
//!
//! Every signature is made over `context ‖ message`, where the context is one
//! of [`SignatureContext`]'s ASCII prefixes, all starting with `torpeer`. Tor
//! never signs a message starting with those bytes with an identity key (its
//! certificates start with a version byte 0x01), so a TorPeer signature can
//! never be replayed as a Tor one or the other way round, nor one TorPeer
//! purpose as another.

use std::fmt;

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::onion::OnionAddress;

/// Length of an ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// What a signature is for; each purpose has its own prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureContext {
    /// A signed peer record.
    Record,
    /// A handshake transcript.
    Handshake,
}

impl SignatureContext {
    /// The prefix signed before the message (NUL-terminated ASCII).
    pub const fn prefix(self) -> &'static [u8] {
        match self {
            Self::Record => b"torpeer record signature v1\0",
            Self::Handshake => b"torpeer handshake signature v1\0",
        }
    }
}

/// Why an identity key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The secret key's public key is not a valid onion identity.
    #[error("secret key yields an unusable public key")]
    InvalidPublicKey,
}

/// An onion service identity key pair.
pub struct Identity {
    /// `scalar ‖ prefix` exactly as C-tor stores it (scalar clamped, not
    /// reduced), kept so that we write back the bytes we read.
    expanded: Zeroizing<[u8; 64]>,
    secret: ExpandedSecretKey,
    public: VerifyingKey,
    address: OnionAddress,
}

impl Identity {
    /// Derive an identity from a 32-byte seed the way ed25519 (and tor)
    /// does: `SHA-512(seed)`, lower half clamped.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        let mut expanded = Zeroizing::new([0u8; 64]);
        expanded.copy_from_slice(&Sha512::digest(seed));
        expanded[0] &= 248;
        expanded[31] &= 63;
        expanded[31] |= 64;
        Self::from_expanded(&expanded)
    }

    /// An identity from C-tor's 64-byte expanded secret key.
    pub fn from_expanded(expanded: &[u8; 64]) -> Result<Self, KeyError> {
        let secret = ExpandedSecretKey::from_bytes(expanded);
        let public = VerifyingKey::from(&secret);
        let address = OnionAddress::from_public_key(public.to_bytes())
            .map_err(|_| KeyError::InvalidPublicKey)?;
        Ok(Self {
            expanded: Zeroizing::new(*expanded),
            secret,
            public,
            address,
        })
    }

    /// The 64-byte expanded secret key, as C-tor stores it.
    pub fn expanded_secret(&self) -> &[u8; 64] {
        &self.expanded
    }

    /// The onion address (and public key) of this identity.
    pub fn address(&self) -> OnionAddress {
        self.address
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> &[u8; 32] {
        self.address.public_key()
    }

    /// Sign `context.prefix() ‖ message`.
    pub fn sign(&self, context: SignatureContext, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut buf = Vec::with_capacity(context.prefix().len() + message.len());
        buf.extend_from_slice(context.prefix());
        buf.extend_from_slice(message);
        raw_sign::<Sha512>(&self.secret, &buf, &self.public).to_bytes()
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secret material.
        f.debug_struct("Identity")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Check a signature made by [`Identity::sign`]. Uses ed25519's strict
/// verification (no malleable or small-order signatures).
pub fn verify(
    signer: &OnionAddress,
    context: SignatureContext,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Ok(signature) = <[u8; SIGNATURE_LEN]>::try_from(signature) else {
        return false;
    };
    let signature = Signature::from_bytes(&signature);
    let mut buf = Vec::with_capacity(context.prefix().len() + message.len());
    buf.extend_from_slice(context.prefix());
    buf.extend_from_slice(message);
    signer
        .verifying_key()
        .is_some_and(|key| key.verify_strict(&buf, &signature).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_and_expanded_agree() {
        let id = Identity::from_seed(&[7u8; 32]).unwrap();
        let again = Identity::from_expanded(id.expanded_secret()).unwrap();
        assert_eq!(id.address(), again.address());
        // Our derivation matches ed25519-dalek's standard keypair.
        let standard = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        assert_eq!(standard.verifying_key().as_bytes(), id.public_key());
    }

    #[test]
    fn signatures_are_standard_ed25519_and_context_bound() {
        let id = Identity::from_seed(&[9u8; 32]).unwrap();
        let sig = id.sign(SignatureContext::Record, b"hello");
        assert!(verify(
            &id.address(),
            SignatureContext::Record,
            b"hello",
            &sig
        ));
        assert!(!verify(
            &id.address(),
            SignatureContext::Handshake,
            b"hello",
            &sig
        ));
        assert!(!verify(
            &id.address(),
            SignatureContext::Record,
            b"hellp",
            &sig
        ));
        assert!(!verify(
            &id.address(),
            SignatureContext::Record,
            b"hello",
            &sig[..63]
        ));
        // Same as a seed-based standard signature over the prefixed message.
        let standard = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let mut msg = SignatureContext::Record.prefix().to_vec();
        msg.extend_from_slice(b"hello");
        use ed25519_dalek::Signer;
        assert_eq!(standard.sign(&msg).to_bytes(), sig);
    }
}
