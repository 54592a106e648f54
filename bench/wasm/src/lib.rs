//! Probes for the wasm-vs-native comparison: the same Rust, compiled once
//! natively and once as a bare wasm32 module (`+simd128`, no bindings, no
//! imports), so Node can run the wasm solver on a chosen kernel, check the
//! `simd128` kernel bit for bit against the `sha3` crate *inside wasm*, and
//! time record verification.
//!
//! `run.mjs` drives the wasm module and the native binary (`src/main.rs`)
//! round-robin, so both sides see the same load. Work is done here;
//! timing is the caller's (wasm32-unknown-unknown has no clock).

// Exporting a symbol from the wasm module takes `#[unsafe(no_mangle)]`,
// which the `unsafe_code` lint counts; nothing here dereferences a pointer
// or calls foreign code.
#![allow(unsafe_code)]

use std::sync::{Mutex, PoisonError};

use torpeer_core::keccak::{Kernel, f1600_many};
use torpeer_core::network::NetworkParams;
use torpeer_core::record::{RecordBody, Role, SignedRecord};
use torpeer_core::{Identity, NetworkName, pow};

/// Unix time the probe records are issued and checked at.
const NOW: u64 = 1_800_000_000;
/// Difficulty of the probe records (checking costs one hash at any).
const DIFFICULTY: u8 = 8;

/// Kernel codes of the exports: the index in [`Kernel::ALL`].
fn kernel(code: u32) -> Option<Kernel> {
    Kernel::ALL.get(code as usize).copied()
}

/// The code of [`Kernel::best`] in this build (4 = `simd128` on wasm).
#[unsafe(no_mangle)]
pub extern "C" fn best_kernel() -> u32 {
    Kernel::ALL
        .iter()
        .position(|k| *k == Kernel::best())
        .unwrap_or(0) as u32
}

/// 1 if kernel `code` runs in this build on this machine.
#[unsafe(no_mangle)]
pub extern "C" fn kernel_available(code: u32) -> u32 {
    u32::from(kernel(code).is_some_and(Kernel::is_available))
}

/// Run `tries` proof-of-work tries from nonce `start · 2³²` on kernel
/// `code`, at a difficulty never met; returns the tries done (0 for an
/// unknown kernel), as the solver's `PowSearch::run_with` counts them.
#[unsafe(no_mangle)]
pub extern "C" fn pow_tries(code: u32, start: u32, tries: u32) -> u32 {
    let Some(kernel) = kernel(code) else {
        return 0;
    };
    let net = NetworkName::default_network().id();
    let Ok(key) = Identity::from_seed(&[7; 32]).map(|id| id.address()) else {
        return 0;
    };
    let Ok(mut search) =
        pow::PowSearch::new(&net, &key, pow::MAX_DIFFICULTY, u64::from(start) << 32, 1)
    else {
        return 0;
    };
    std::hint::black_box(search.run_with(kernel, u64::from(tries)));
    search.tries() as u32
}

/// Hash `count` nonces (spread over the whole u64 range, from `seed`)
/// through every kernel this build has, the solver way (padded template,
/// nonce in lane 10, `f1600_many`), and through the `sha3` crate
/// ([`pow::pow_hash`]); returns how many (kernel, nonce) pairs differ. Also
/// checks that each kernel's search finds the `sha3` crate's first
/// solution at difficulty 4. 0 means bit-identical.
#[unsafe(no_mangle)]
pub extern "C" fn selftest(seed: u32, count: u32) -> u32 {
    let net = NetworkName::new("wasm-selftest")
        .map(|n| n.id())
        .unwrap_or_else(|_| NetworkName::default_network().id());
    let Ok(key) = Identity::from_seed(&[seed as u8; 32]).map(|id| id.address()) else {
        return u32::MAX;
    };
    let mut x = u64::from(seed) | 1 << 40;
    let nonces: Vec<u64> = (0..count)
        .map(|_| {
            x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(23) ^ 0xD1B5_4A32_D192_ED03;
            x
        })
        .chain([0, 1, u64::MAX])
        .collect();
    let expected: Vec<[u8; 32]> = nonces
        .iter()
        .map(|n| pow::pow_hash(&net, &key, *n))
        .collect();
    let template: [u64; 25] = {
        let mut block = [0u8; 136];
        block[..pow::POW_INPUT_LEN].copy_from_slice(&pow::pow_input(&net, &key, 0));
        block[pow::POW_INPUT_LEN] = 0x06;
        block[135] |= 0x80;
        // The 17 rate lanes hold the padded block; the capacity starts 0.
        std::array::from_fn(|i| {
            let mut b = [0u8; 8];
            if let Some(bytes) = block.get(i * 8..i * 8 + 8) {
                b.copy_from_slice(bytes);
            }
            u64::from_le_bytes(b)
        })
    };
    let mut bad = 0u32;
    for kernel in Kernel::available() {
        let mut states: Vec<[u64; 25]> = nonces
            .iter()
            .map(|n| {
                let mut s = template;
                s[10] = *n;
                s
            })
            .collect();
        f1600_many(kernel, &mut states);
        for (state, want) in states.iter().zip(&expected) {
            let mut hash = [0u8; 32];
            for (i, lane) in state[..4].iter().enumerate() {
                hash[i * 8..i * 8 + 8].copy_from_slice(&lane.to_le_bytes());
            }
            bad += u32::from(hash != *want);
        }
        // The search path (first-round precomputation, lane-0 last round).
        let first = (0u64..).find(|n| pow::verify(&net, &key, *n, 4).is_ok());
        let Ok(mut search) = pow::PowSearch::new(&net, &key, 4, 0, 1) else {
            return u32::MAX;
        };
        bad += u32::from(search.run_with(kernel, 1 << 12) != first);
    }
    bad
}

/// Records signed by [`verify_setup`], checked by [`verify_run`].
static RECORDS: Mutex<Vec<SignedRecord>> = Mutex::new(Vec::new());

fn params() -> NetworkParams {
    NetworkParams::new(NetworkName::default_network()).with_min_difficulty(DIFFICULTY)
}

/// Sign `n` distinct records (difficulty 8) for [`verify_run`]; returns how
/// many were made.
#[unsafe(no_mangle)]
pub extern "C" fn verify_setup(n: u32) -> u32 {
    let params = params();
    let net = params.name.id();
    let records: Vec<SignedRecord> = (0..n)
        .filter_map(|i| {
            let mut seed = [0x3cu8; 32];
            seed[..4].copy_from_slice(&i.to_le_bytes());
            let id = Identity::from_seed(&seed).ok()?;
            let (nonce, _) = pow::solve(&net, &id.address(), DIFFICULTY).ok()?;
            RecordBody {
                address: id.address(),
                network: params.name.clone(),
                role: Role::Participant,
                ports: vec![80],
                issued_at: NOW,
                sequence: u64::from(i),
                pow_difficulty: DIFFICULTY,
                pow_nonce: nonce,
                tcp_endpoint: None,
            }
            .sign(&id)
            .ok()
        })
        .collect();
    let made = records.len() as u32;
    *RECORDS.lock().unwrap_or_else(PoisonError::into_inner) = records;
    made
}

/// Verify every record of [`verify_setup`] once, one at a time
/// (`SignedRecord::verify`: network, time, PoW, ed25519 `verify_strict`);
/// returns how many passed.
#[unsafe(no_mangle)]
pub extern "C" fn verify_run() -> u32 {
    let params = params();
    let records = RECORDS.lock().unwrap_or_else(PoisonError::into_inner);
    records
        .iter()
        .filter(|r| r.verify(&params, NOW).is_ok())
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_native_kernel_passes_the_selftest() {
        assert_eq!(selftest(3, 61), 0);
    }

    #[test]
    fn probes_do_the_work_they_report() {
        assert_eq!(pow_tries(0, 1, 1000), 1000);
        assert_eq!(pow_tries(best_kernel(), 2, 4096), 4096);
        assert_eq!(pow_tries(99, 0, 10), 0);
        assert_eq!(kernel_available(0), 1);
        assert_eq!(kernel_available(99), 0);
        assert_eq!(verify_setup(5), 5);
        assert_eq!(verify_run(), 5);
    }
}
