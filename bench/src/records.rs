//! Record verification: a signed list checked one record at a time (the
//! baseline: `SignedRecord::verify`, i.e. ed25519-dalek `verify_strict` per
//! record) against `torpeer_core::verify::verify_batch`, on one thread and
//! split over two.

use torpeer_core::network::NetworkParams;
use torpeer_core::record::{RecordBody, RecordError, Role, SignedRecord};
use torpeer_core::verify::verify_batch;
use torpeer_core::{Identity, NetworkName, pow};

use crate::measure::{Step, rates, rates_wall};
use crate::report::Report;

/// Unix time the benchmark records are checked at.
pub(crate) const NOW: u64 = 1_800_000_000;
/// Difficulty of the generated records. Checking a PoW is one hash at any
/// difficulty; a low one keeps generation quick.
const DIFFICULTY: u8 = 8;

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BenchError {
    /// A generated record was refused, or the paths disagreed.
    #[error("record setup: {0}")]
    Record(#[from] RecordError),
    /// Key derivation failed.
    #[error("identity: {0}")]
    Identity(#[from] torpeer_core::identity::KeyError),
    /// Proof-of-work setup failed.
    #[error("proof-of-work: {0}")]
    Pow(#[from] torpeer_core::pow::PowError),
    /// Batch and one-at-a-time verification disagree: a bug.
    #[error("batch and one-at-a-time verdicts differ")]
    Disagree,
    /// A peer list did not survive a round trip.
    #[error("peer list: {0}")]
    List(String),
}

/// The network parameters the records are made for.
pub(crate) fn params() -> NetworkParams {
    NetworkParams::new(NetworkName::default_network()).with_min_difficulty(DIFFICULTY)
}

/// `n` distinct, valid signed records.
pub(crate) fn generate(n: usize) -> Result<Vec<SignedRecord>, BenchError> {
    let params = params();
    let net = params.name.id();
    (0..n)
        .map(|i| {
            let mut seed = [0x5au8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let id = Identity::from_seed(&seed)?;
            let (nonce, _) = pow::solve(&net, &id.address(), DIFFICULTY)?;
            let body = RecordBody {
                address: id.address(),
                network: params.name.clone(),
                role: if i % 5 == 0 {
                    Role::Router
                } else {
                    Role::Participant
                },
                ports: vec![80, 8080],
                issued_at: NOW - (i as u64 % 3600),
                sequence: i as u64,
                pow_difficulty: DIFFICULTY,
                pow_nonce: nonce,
                tcp_endpoint: None,
            };
            Ok(body.sign(&id)?)
        })
        .collect()
}

/// Verify `list` split into `threads` contiguous slices, one thread each.
fn parallel(list: &[SignedRecord], threads: usize) -> Vec<Result<(), RecordError>> {
    let params = params();
    let per = list.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = list
            .chunks(per)
            .map(|part| {
                let params = &params;
                scope.spawn(move || verify_batch(part, params, NOW))
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| {
                p.join()
                    .unwrap_or_else(|_| vec![Err(RecordError::BadSignature)])
            })
            .collect()
    })
}

pub(crate) fn bench_verify(
    list: &[SignedRecord],
    seconds: f64,
    report: &mut Report,
) -> Result<(), BenchError> {
    let params = params();
    // Same verdicts first (all valid here), then speed.
    let single: Vec<_> = list.iter().map(|r| r.verify(&params, NOW)).collect();
    if single.iter().any(Result::is_err)
        || verify_batch(list, &params, NOW) != single
        || parallel(list, 2) != single
    {
        return Err(BenchError::Disagree);
    }
    // The same list with 1 % of its signatures broken: the cost of finding
    // the bad ones.
    let mut dirty = list.to_vec();
    for r in dirty.iter_mut().step_by(100) {
        r.signature[10] ^= 1;
    }
    let n = list.len() as u64;
    let mut steps: Vec<Step<'_>> = vec![
        Box::new(|| {
            for r in list {
                std::hint::black_box(r.verify(&params, NOW).is_ok());
            }
            n
        }),
        Box::new(|| {
            std::hint::black_box(verify_batch(list, &params, NOW));
            n
        }),
        Box::new(|| {
            std::hint::black_box(verify_batch(&dirty, &params, NOW));
            n
        }),
    ];
    let measured = rates(seconds, &mut steps);
    drop(steps);
    let [base, batch, dirty_batch] = [0, 1, 2].map(|i| measured.get(i).copied().unwrap_or(0.0));
    // Two threads against the baseline, both per wall second.
    let mut steps: Vec<Step<'_>> = vec![
        Box::new(|| {
            for r in list {
                std::hint::black_box(r.verify(&params, NOW).is_ok());
            }
            n
        }),
        Box::new(|| {
            std::hint::black_box(parallel(list, 2));
            n
        }),
    ];
    let wall = rates_wall(seconds, &mut steps);
    drop(steps);
    let [base_wall, par] = [0, 1].map(|i| wall.get(i).copied().unwrap_or(0.0));
    let label = format!("{} records", list.len());
    report.verify(
        &format!(
            "one at a time (`SignedRecord::verify`, dalek `verify_strict`), {label} (baseline)"
        ),
        base,
        base,
    );
    report.verify(
        &format!("ours: `verify_batch`, 1 thread, {label}"),
        batch,
        base,
    );
    report.verify(
        &format!("ours: `verify_batch`, 1 thread, {label}, 1 % bad signatures"),
        dirty_batch,
        base,
    );
    report.verify(
        &format!(
            "ours: `verify_batch` split over 2 threads, {label} (per wall second, against the baseline per wall second)"
        ),
        par,
        base_wall,
    );
    Ok(())
}
