//! Second implementations of what the vectors pin down, written from the
//! specification (rend-spec-v3 §6, PROTOCOL.md) rather than from
//! `torpeer-core`, so that a vector is checked by two unrelated code paths:
//! RFC 4648 base32, the onion checksum, the network id, the PoW input and
//! the canonical record bytes. Standard ed25519 comes from `ed25519-dalek`'s
//! seed-based `SigningKey`, not from core's expanded-key signer.

use sha3::{Digest, Sha3_256};
use torpeer_core::proto;

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Lower-case RFC 4648 base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decode lower-case base32 without padding; `None` on a bad character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// `SHA3-256(".onion checksum" ‖ key ‖ version)[..2]`.
pub fn onion_checksum(key: &[u8; 32], version: u8) -> [u8; 2] {
    let mut h = Sha3_256::new();
    h.update(b".onion checksum");
    h.update(key);
    h.update([version]);
    let d = h.finalize();
    [d[0], d[1]]
}

/// `base32(key ‖ checksum ‖ version)` with an explicit checksum and
/// version, so vectors can hold deliberately wrong ones.
pub fn onion_from_parts(key: &[u8; 32], checksum: [u8; 2], version: u8) -> String {
    let mut raw = key.to_vec();
    raw.extend_from_slice(&checksum);
    raw.push(version);
    format!("{}.onion", base32_encode(&raw))
}

/// The v3 address of a key.
pub fn onion_of(key: &[u8; 32]) -> String {
    onion_from_parts(key, onion_checksum(key, 3), 3)
}

/// The key inside a v3 address (no checks beyond the alphabet).
pub fn key_of_onion(onion: &str) -> Option<[u8; 32]> {
    let raw = base32_decode(onion.strip_suffix(".onion").unwrap_or(onion))?;
    raw.get(..32)?.try_into().ok()
}

/// Standard ed25519 public key of a 32-byte seed.
pub fn public_key_of_seed(seed: &[u8; 32]) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(seed)
        .verifying_key()
        .to_bytes()
}

/// Standard ed25519 signature by a seed over `prefix ‖ message`.
pub fn sign_with_seed(seed: &[u8; 32], prefix: &[u8], message: &[u8]) -> [u8; 64] {
    use ed25519_dalek::Signer;
    let mut m = prefix.to_vec();
    m.extend_from_slice(message);
    ed25519_dalek::SigningKey::from_bytes(seed)
        .sign(&m)
        .to_bytes()
}

/// `SHA3-256("torpeer network id v1\0" ‖ name)`.
pub fn network_id(name: &str) -> [u8; 32] {
    let mut h = Sha3_256::new();
    h.update(b"torpeer network id v1\0");
    h.update(name.as_bytes());
    h.finalize().into()
}

/// `SHA3-256("torpeer pow v1\0\0" ‖ network id ‖ key ‖ nonce LE)`.
pub fn pow_hash(network: &str, key: &[u8; 32], nonce: u64) -> [u8; 32] {
    let mut h = Sha3_256::new();
    h.update(b"torpeer pow v1\0\0");
    h.update(network_id(network));
    h.update(key);
    h.update(nonce.to_le_bytes());
    h.finalize().into()
}

/// Leading zero bits, big-endian.
pub fn leading_zeros(hash: &[u8]) -> u32 {
    let mut n = 0;
    for b in hash {
        n += b.leading_zeros();
        if *b != 0 {
            break;
        }
    }
    n
}

/// The canonical signed bytes of a record, built from its protobuf fields
/// as PROTOCOL.md lays them out.
pub fn canonical_bytes(r: &proto::PeerRecord) -> Option<Vec<u8>> {
    let mut out = vec![1u8];
    out.extend_from_slice(&network_id(&r.network));
    out.extend_from_slice(&key_of_onion(&r.onion)?);
    out.push(u8::try_from(r.role).ok()?);
    out.extend_from_slice(&r.issued_at.to_be_bytes());
    out.extend_from_slice(&r.sequence.to_be_bytes());
    out.push(u8::try_from(r.pow_difficulty).ok()?);
    out.extend_from_slice(&r.pow_nonce.to_be_bytes());
    out.push(u8::try_from(r.ports.len()).ok()?);
    for p in &r.ports {
        out.extend_from_slice(&u16::try_from(*p).ok()?.to_be_bytes());
    }
    out.push(u8::try_from(r.tcp_endpoint.len()).ok()?);
    out.extend_from_slice(r.tcp_endpoint.as_bytes());
    Some(out)
}
