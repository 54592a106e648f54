//! Shared helpers for unit tests: identities with solved proof-of-work and
//! signed records on a cheap test network.

use crate::identity::Identity;
use crate::network::{NetworkName, NetworkParams};
use crate::pow;
use crate::record::{RecordBody, Role, SignedRecord};

/// Difficulty of the test network: a handful of hashes per identity.
pub(crate) const TEST_DIFFICULTY: u8 = 2;

pub(crate) fn params() -> NetworkParams {
    NetworkParams::new(NetworkName::new("torpeer-test").unwrap())
        .with_min_difficulty(TEST_DIFFICULTY)
}

pub(crate) fn identity(n: u32) -> Identity {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&n.to_be_bytes());
    seed[31] = 0xa5;
    Identity::from_seed(&seed).unwrap()
}

pub(crate) fn pow_nonce(params: &NetworkParams, id: &Identity) -> u64 {
    pow::solve(&params.name.id(), &id.address(), params.min_difficulty)
        .unwrap()
        .0
}

pub(crate) fn record(
    params: &NetworkParams,
    id: &Identity,
    role: Role,
    sequence: u64,
    issued_at: u64,
) -> SignedRecord {
    RecordBody {
        address: id.address(),
        network: params.name.clone(),
        role,
        ports: vec![80],
        issued_at,
        sequence,
        pow_difficulty: params.min_difficulty,
        pow_nonce: pow_nonce(params, id),
        tcp_endpoint: None,
    }
    .sign(id)
    .unwrap()
}
