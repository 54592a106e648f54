//! Signed, timestamped peer records: the only way a peer enters anyone's
//! table.
//!
//! A record is a statement a node makes about itself (address, role, ports,
//! network, issue time, sequence number, proof-of-work) and signs with its
//! onion key. The signature covers a canonical byte layout built from the
//! fields ([`RecordBody::canonical_bytes`], PROTOCOL.md "Signed peer record"),
//! never the protobuf or JSON encoding, so a record stays verifiable after any
//! round trip through proto3 JSON.

use std::net::SocketAddr;

use crate::identity::{self, Identity, SIGNATURE_LEN, SignatureContext};
use crate::network::{NetworkName, NetworkParams};
use crate::onion::{OnionAddress, OnionError};
use crate::pow::{self, PowError};
use crate::proto;

/// Version byte at the start of the canonical layout.
pub const RECORD_LAYOUT_VERSION: u8 = 1;
/// Most virtual ports a record may list.
pub const MAX_PORTS: usize = 8;
/// Longest `tcp_endpoint` accepted, in bytes.
pub const MAX_ENDPOINT_LEN: usize = 64;

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Peering and application traffic.
    Participant,
    /// Peering only.
    Router,
}

impl Role {
    /// Byte used in the canonical layout (the proto enum value).
    pub fn as_byte(self) -> u8 {
        match self {
            Self::Participant => 1,
            Self::Router => 2,
        }
    }

    /// From the proto enum; `None` for unspecified or unknown values.
    pub fn from_proto(value: i32) -> Option<Self> {
        match proto::Role::try_from(value).ok()? {
            proto::Role::Participant => Some(Self::Participant),
            proto::Role::Router => Some(Self::Router),
            proto::Role::Unspecified => None,
        }
    }

    /// To the proto enum.
    pub fn to_proto(self) -> proto::Role {
        match self {
            Self::Participant => proto::Role::Participant,
            Self::Router => proto::Role::Router,
        }
    }

    /// Lower-case name, as used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Participant => "participant",
            Self::Router => "router",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "participant" => Ok(Self::Participant),
            "router" => Ok(Self::Router),
            other => Err(format!(
                "unknown role {other:?} (expected participant or router)"
            )),
        }
    }
}

/// Why a record is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The `onion` field is not a valid v3 address.
    #[error("malformed onion address: {0}")]
    MalformedAddress(#[from] OnionError),
    /// Some other field is out of range or missing.
    #[error("malformed record: {0}")]
    Malformed(&'static str),
    /// The record is for another network.
    #[error("record is for network {found:?}, expected {expected:?}")]
    WrongNetwork {
        /// The network the verifier is on.
        expected: String,
        /// The network the record names.
        found: String,
    },
    /// Older than the network's record TTL.
    #[error("record expired: issued at {issued_at}, valid until {expired_at}, now {now}")]
    Expired {
        /// The record's issue time.
        issued_at: u64,
        /// When it stopped being valid.
        expired_at: u64,
        /// The verifier's time.
        now: u64,
    },
    /// Dated further in the future than the allowed clock skew.
    #[error("record is from the future: issued at {issued_at}, now {now}, max skew {max_skew}s")]
    FromFuture {
        /// The record's issue time.
        issued_at: u64,
        /// The verifier's time.
        now: u64,
        /// Allowed skew in seconds.
        max_skew: u64,
    },
    /// The proof-of-work is missing, too weak, or below the network minimum.
    #[error("bad proof-of-work: {0}")]
    BadPow(PowError),
    /// The claimed difficulty is below what the network requires.
    #[error("proof-of-work difficulty {claimed} is below the network minimum of {minimum}")]
    DifficultyBelowMinimum {
        /// What the record claims.
        claimed: u32,
        /// What the network requires.
        minimum: u8,
    },
    /// The signature does not verify under the record's onion key.
    #[error("bad signature")]
    BadSignature,
}

impl RecordError {
    /// Stable machine-readable code (CLI JSON output, wasm, dashboard).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedAddress(_) => "malformed_address",
            Self::Malformed(_) => "malformed",
            Self::WrongNetwork { .. } => "wrong_network",
            Self::Expired { .. } => "expired",
            Self::FromFuture { .. } => "from_future",
            Self::BadPow(_) | Self::DifficultyBelowMinimum { .. } => "bad_pow",
            Self::BadSignature => "bad_signature",
        }
    }
}

/// The signed content of a record, typed and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBody {
    /// The node's onion address (its public key).
    pub address: OnionAddress,
    /// The network the record is for.
    pub network: NetworkName,
    /// The node's role.
    pub role: Role,
    /// Virtual ports served (at most [`MAX_PORTS`], each non-zero).
    pub ports: Vec<u16>,
    /// Issue time, Unix seconds.
    pub issued_at: u64,
    /// Sequence number: higher replaces lower.
    pub sequence: u64,
    /// Claimed proof-of-work difficulty.
    pub pow_difficulty: u8,
    /// Proof-of-work nonce.
    pub pow_nonce: u64,
    /// Loopback-transport endpoint, if any.
    pub tcp_endpoint: Option<SocketAddr>,
}

impl RecordBody {
    /// The bytes that are signed (after the context prefix). All integers
    /// big-endian:
    ///
    /// ```text
    /// u8  layout version (1)
    /// [32] network id
    /// [32] ed25519 public key
    /// u8  role (1 participant, 2 router)
    /// u64 issued_at
    /// u64 sequence
    /// u8  pow difficulty
    /// u64 pow nonce
    /// u8  port count n (0..=8), then n × u16 port
    /// u8  endpoint length m (0..=64), then m bytes of UTF-8 "IP:PORT"
    /// ```
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let endpoint = self.tcp_endpoint.map(|e| e.to_string()).unwrap_or_default();
        let mut out = Vec::with_capacity(1 + 32 + 32 + 1 + 8 + 8 + 1 + 8 + 1 + 16 + 1 + 64);
        out.push(RECORD_LAYOUT_VERSION);
        out.extend_from_slice(&self.network.id().0);
        out.extend_from_slice(self.address.public_key());
        out.push(self.role.as_byte());
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.push(self.pow_difficulty);
        out.extend_from_slice(&self.pow_nonce.to_be_bytes());
        // Lengths are bounded by validation (MAX_PORTS, MAX_ENDPOINT_LEN).
        out.push(self.ports.len().min(MAX_PORTS) as u8);
        for port in self.ports.iter().take(MAX_PORTS) {
            out.extend_from_slice(&port.to_be_bytes());
        }
        let endpoint = &endpoint.as_bytes()[..endpoint.len().min(MAX_ENDPOINT_LEN)];
        out.push(endpoint.len() as u8);
        out.extend_from_slice(endpoint);
        out
    }

    /// Check the body's own invariants (not time, PoW or signature).
    fn validate(&self) -> Result<(), RecordError> {
        if self.ports.len() > MAX_PORTS {
            return Err(RecordError::Malformed("more than 8 ports"));
        }
        if self.ports.contains(&0) {
            return Err(RecordError::Malformed("port 0"));
        }
        if self.pow_difficulty > pow::MAX_DIFFICULTY {
            return Err(RecordError::BadPow(PowError::DifficultyTooHigh(u32::from(
                self.pow_difficulty,
            ))));
        }
        if let Some(e) = self.tcp_endpoint
            && e.to_string().len() > MAX_ENDPOINT_LEN
        {
            return Err(RecordError::Malformed("tcp endpoint too long"));
        }
        Ok(())
    }

    /// Sign this body. Fails if the identity is not the body's address or
    /// the body is invalid; the PoW is not re-checked here (signing is
    /// cheap, the verifier checks it).
    pub fn sign(self, identity: &Identity) -> Result<SignedRecord, RecordError> {
        if identity.address() != self.address {
            return Err(RecordError::Malformed(
                "signing identity is not the record's address",
            ));
        }
        self.validate()?;
        let signature = identity.sign(SignatureContext::Record, &self.canonical_bytes());
        Ok(SignedRecord {
            body: self,
            signature,
        })
    }
}

/// A record with its signature. Holding one does not mean it verified: only
/// [`verify`] says that; a `SignedRecord` obtained from it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord {
    /// The signed content.
    pub body: RecordBody,
    /// Ed25519 signature over the context prefix and canonical bytes.
    pub signature: [u8; SIGNATURE_LEN],
}

impl SignedRecord {
    /// The protobuf message.
    pub fn to_proto(&self) -> proto::PeerRecord {
        let b = &self.body;
        proto::PeerRecord {
            onion: b.address.to_string(),
            network: b.network.to_string(),
            role: b.role.to_proto() as i32,
            ports: b.ports.iter().map(|p| u32::from(*p)).collect(),
            issued_at: b.issued_at,
            sequence: b.sequence,
            pow_difficulty: u32::from(b.pow_difficulty),
            pow_nonce: b.pow_nonce,
            tcp_endpoint: b.tcp_endpoint.map(|e| e.to_string()).unwrap_or_default(),
            signature: self.signature.to_vec(),
        }
    }

    /// Parse the protobuf message into typed fields, checking structure but
    /// not network, time, PoW or signature.
    pub fn from_proto(record: &proto::PeerRecord) -> Result<Self, RecordError> {
        let address = OnionAddress::parse(&record.onion)?;
        let network = NetworkName::new(&record.network)
            .map_err(|_| RecordError::Malformed("invalid network name"))?;
        let role = Role::from_proto(record.role)
            .ok_or(RecordError::Malformed("role must be participant or router"))?;
        if record.ports.len() > MAX_PORTS {
            return Err(RecordError::Malformed("more than 8 ports"));
        }
        let ports = record
            .ports
            .iter()
            .map(|p| u16::try_from(*p).ok().filter(|p| *p != 0))
            .collect::<Option<Vec<u16>>>()
            .ok_or(RecordError::Malformed("port out of range 1..=65535"))?;
        let pow_difficulty =
            pow::check_difficulty(record.pow_difficulty).map_err(RecordError::BadPow)?;
        let tcp_endpoint = if record.tcp_endpoint.is_empty() {
            None
        } else {
            if record.tcp_endpoint.len() > MAX_ENDPOINT_LEN {
                return Err(RecordError::Malformed("tcp endpoint too long"));
            }
            let parsed: SocketAddr = record
                .tcp_endpoint
                .parse()
                .map_err(|_| RecordError::Malformed("tcp endpoint is not IP:PORT"))?;
            // Only the canonical spelling, so the signed bytes are unambiguous.
            if parsed.to_string() != record.tcp_endpoint {
                return Err(RecordError::Malformed("tcp endpoint not in canonical form"));
            }
            Some(parsed)
        };
        let signature = <[u8; SIGNATURE_LEN]>::try_from(record.signature.as_slice())
            .map_err(|_| RecordError::BadSignature)?;
        let body = RecordBody {
            address,
            network,
            role,
            ports,
            issued_at: record.issued_at,
            sequence: record.sequence,
            pow_difficulty,
            pow_nonce: record.pow_nonce,
            tcp_endpoint,
        };
        body.validate()?;
        Ok(Self { body, signature })
    }

    /// Full verification: network, time window, proof-of-work, signature.
    pub fn verify(&self, params: &NetworkParams, now_unix: u64) -> Result<(), RecordError> {
        self.verify_except_signature(params, now_unix)?;
        let b = &self.body;
        if !identity::verify(
            &b.address,
            SignatureContext::Record,
            &b.canonical_bytes(),
            &self.signature,
        ) {
            return Err(RecordError::BadSignature);
        }
        Ok(())
    }

    /// Every check of [`verify`](Self::verify) but the signature, in the
    /// same order. Batch verification ([`crate::verify`]) runs this per
    /// record and batches only the signatures, so that both paths report
    /// the same first error.
    pub(crate) fn verify_except_signature(
        &self,
        params: &NetworkParams,
        now_unix: u64,
    ) -> Result<(), RecordError> {
        self.check_time_and_network(params, now_unix)?;
        let b = &self.body;
        pow::verify(&b.network.id(), &b.address, b.pow_nonce, b.pow_difficulty)
            .map_err(RecordError::BadPow)
    }

    /// The cheap checks, in [`verify`](Self::verify)'s order: network, time
    /// window, claimed difficulty against the network minimum. A table that
    /// already verified a record's PoW and signature runs only these.
    pub(crate) fn check_time_and_network(
        &self,
        params: &NetworkParams,
        now_unix: u64,
    ) -> Result<(), RecordError> {
        let b = &self.body;
        if b.network != params.name {
            return Err(RecordError::WrongNetwork {
                expected: params.name.to_string(),
                found: b.network.to_string(),
            });
        }
        let expired_at = b.issued_at.saturating_add(params.record_ttl_secs);
        if now_unix > expired_at {
            return Err(RecordError::Expired {
                issued_at: b.issued_at,
                expired_at,
                now: now_unix,
            });
        }
        if b.issued_at > now_unix.saturating_add(params.max_future_skew_secs) {
            return Err(RecordError::FromFuture {
                issued_at: b.issued_at,
                now: now_unix,
                max_skew: params.max_future_skew_secs,
            });
        }
        if b.pow_difficulty < params.min_difficulty {
            return Err(RecordError::DifficultyBelowMinimum {
                claimed: u32::from(b.pow_difficulty),
                minimum: params.min_difficulty,
            });
        }
        Ok(())
    }
}

/// Parse and fully verify a protobuf record.
pub fn verify(
    record: &proto::PeerRecord,
    params: &NetworkParams,
    now_unix: u64,
) -> Result<SignedRecord, RecordError> {
    let signed = SignedRecord::from_proto(record)?;
    signed.verify(params, now_unix)?;
    Ok(signed)
}
