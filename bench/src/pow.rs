//! Proof-of-work solver: tries per second per core for every kernel, next to
//! the `sha3` crate's one-at-a-time loop and `openssl speed`, and the 1 → 2
//! thread scaling of the best kernel.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha3::{Digest, Sha3_256};
use torpeer_core::keccak::Kernel;
use torpeer_core::pow::{self, PowSearch};
use torpeer_core::{Identity, NetworkName};

use crate::measure::{Step, rates};
use crate::report::Report;

/// Tries per `run` call: long enough to amortise the call, short enough to
/// stop promptly (what a threaded solver between stop-flag checks does).
const SLICE: u64 = 1 << 14;
/// Difficulty that (practically) never solves, so every try is counted.
const NEVER: u8 = 64;

pub(crate) fn bench(seconds: f64, report: &mut Report) {
    let net = NetworkName::default_network().id();
    let key = match Identity::from_seed(&[7; 32]) {
        Ok(id) => id.address(),
        Err(_) => return,
    };

    // The keccak crate's permutation on the prepared block, one nonce at a
    // time: the solver before the SIMD kernels.
    let mut block = [0u8; 136];
    block[..pow::POW_INPUT_LEN].copy_from_slice(&pow::pow_input(&net, &key, 0));
    block[pow::POW_INPUT_LEN] = 0x06;
    block[135] |= 0x80;
    let mut template = [0u64; 25];
    for (lane, chunk) in template.iter_mut().zip(block.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *lane = u64::from_le_bytes(b);
    }

    let mut names = vec![
        "sha3 crate, one nonce per hash (baseline)".to_string(),
        "keccak crate f1600 on the prepared block, one nonce per call".to_string(),
    ];
    let mut steps: Vec<Step<'_>> = Vec::new();
    // Baseline: the sha3 crate, one nonce at a time, as a naive solver.
    let mut sha3_nonce = 0u64;
    steps.push(Box::new(|| {
        for _ in 0..SLICE {
            let hash: [u8; 32] = Sha3_256::digest(pow::pow_input(&net, &key, sha3_nonce)).into();
            if pow::leading_zero_bits(&hash) >= u32::from(NEVER) {
                std::hint::black_box(sha3_nonce);
            }
            sha3_nonce = sha3_nonce.wrapping_add(1);
        }
        SLICE
    }));
    let mut keccak_nonce = 0u64;
    steps.push(Box::new(move || {
        for _ in 0..SLICE {
            let mut state = template;
            state[10] = keccak_nonce;
            keccak::f1600(&mut state);
            if state[0] == 0 {
                std::hint::black_box(keccak_nonce);
            }
            keccak_nonce = keccak_nonce.wrapping_add(1);
        }
        SLICE
    }));
    for kernel in Kernel::available() {
        let Ok(mut search) = PowSearch::new(&net, &key, NEVER, 0, 1) else {
            continue;
        };
        let chosen = if kernel == Kernel::best() {
            " (chosen)"
        } else {
            ""
        };
        names.push(format!(
            "ours: `{}` kernel, {} lane(s){chosen}",
            kernel.name(),
            kernel.lanes()
        ));
        steps.push(Box::new(move || {
            let before = search.tries();
            std::hint::black_box(search.run_with(kernel, SLICE));
            search.tries() - before
        }));
    }
    let measured = rates(seconds, &mut steps);
    drop(steps);
    let sha3_rate = measured.first().copied().unwrap_or(0.0);
    for (name, r) in names.iter().zip(&measured) {
        report.pow(name, *r, sha3_rate);
    }

    match openssl_sha3_rate(seconds) {
        Some(r) => report.pow("`openssl speed -evp sha3-256 -bytes 64`", r, sha3_rate),
        None => report.note("openssl not found or its output not understood: no openssl row"),
    }

    // 1 and 2 threads in alternating quarter-second windows, for the same
    // reason as `measure::rates`.
    let rounds = (seconds / 0.25).ceil().max(2.0) as u32;
    let (mut one, mut two) = (0.0, 0.0);
    for _ in 0..rounds {
        one += threaded_rate(1, 0.25, &net, &key);
        two += threaded_rate(2, 0.25, &net, &key);
    }
    report.scaling(one / f64::from(rounds), two / f64::from(rounds));
}

/// `openssl speed -mr` prints `+F:<n>:sha3-256:<bytes per second>`; at 64
/// bytes one hash is one Keccak-f call, like one PoW try.
fn openssl_sha3_rate(seconds: f64) -> Option<f64> {
    let secs = format!("{}", seconds.ceil().max(1.0) as u64);
    let out = Command::new("openssl")
        .args([
            "speed", "-mr", "-seconds", &secs, "-evp", "sha3-256", "-bytes", "64",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let bytes_per_second: f64 = text
        .lines()
        .find(|l| l.starts_with("+F:") && l.contains("sha3-256"))?
        .rsplit(':')
        .next()?
        .trim()
        .parse()
        .ok()?;
    Some(bytes_per_second / 64.0)
}

/// Total tries/s of `threads` searches on the best kernel, laid out as the
/// native solver does: start = thread index, stride = thread count, a stop
/// flag checked between slices, nothing else shared.
fn threaded_rate(
    threads: u64,
    seconds: f64,
    net: &torpeer_core::network::NetworkId,
    key: &torpeer_core::OnionAddress,
) -> f64 {
    let stop = AtomicBool::new(false);
    let start = std::time::Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|i| {
                let stop = &stop;
                scope.spawn(move || {
                    let Ok(mut search) = PowSearch::new(net, key, NEVER, i, threads) else {
                        return 0;
                    };
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::black_box(search.run(SLICE));
                    }
                    search.tries()
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}
