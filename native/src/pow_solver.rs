//! The multi-threaded proof-of-work solver.
//!
//! Each thread runs its own [`PowSearch`] over the nonces `i, i + n, i + 2n,
//! …` (thread `i` of `n`), so threads share nothing in the hot loop: between
//! batches a thread publishes its try count to its own counter and checks one
//! shared stop flag. The core's search picks the fastest Keccak kernel the
//! CPU has.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use torpeer_core::network::NetworkId;
use torpeer_core::onion::OnionAddress;
use torpeer_core::pow::{self, PowError, PowSearch};

/// Tries per batch between stop-flag checks: large enough that the check is
/// free, small enough that a stop is seen within a millisecond or so.
const BATCH: u64 = 1 << 14;
/// How often the progress callback runs.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Result of a solve or a benchmark run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveStats {
    /// The nonce found (`None` for a benchmark or a cancelled run).
    pub nonce: Option<u64>,
    /// Nonces tried, over all threads.
    pub hashes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl SolveStats {
    /// Tries per second over the whole run.
    pub fn hashes_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.hashes as f64 / secs
        } else {
            0.0
        }
    }
}

/// Number of threads to use when the caller says 0: every core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Search for a nonce meeting `difficulty` on `threads` threads (0 = all
/// cores), calling `progress(hashes_so_far, elapsed)` about ten times a
/// second. Stops when a nonce is found or when `deadline` passes (then the
/// result's nonce is `None`).
pub fn solve(
    network: &NetworkId,
    key: &OnionAddress,
    difficulty: u8,
    threads: usize,
    deadline: Option<Duration>,
    progress: &(dyn Fn(u64, Duration) + Sync),
) -> Result<SolveStats, PowError> {
    let threads = if threads == 0 {
        default_threads()
    } else {
        threads
    };
    let searches = (0..threads)
        .map(|i| PowSearch::new(network, key, difficulty, i as u64, threads as u64))
        .collect::<Result<Vec<_>, _>>()?;
    let stop = AtomicBool::new(false);
    let found = Mutex::new(None::<u64>);
    let counters: Vec<AtomicU64> = (0..threads).map(|_| AtomicU64::new(0)).collect();
    let start = Instant::now();

    std::thread::scope(|scope| {
        for (mut search, counter) in searches.into_iter().zip(&counters) {
            let stop = &stop;
            let found = &found;
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let hit = search.run(BATCH);
                    counter.store(search.tries(), Ordering::Relaxed);
                    if let Some(nonce) = hit {
                        let mut slot = found.lock().unwrap_or_else(PoisonError::into_inner);
                        // Several threads may hit in the same instant; keep
                        // the lowest nonce so results are reproducible when
                        // they do.
                        if slot.is_none_or(|n| nonce < n) {
                            *slot = Some(nonce);
                        }
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
        // The calling thread reports progress and enforces the deadline. It
        // wakes often so that a found nonce ends the run promptly.
        let mut last_report = Duration::ZERO;
        loop {
            std::thread::sleep(Duration::from_millis(10));
            let elapsed = start.elapsed();
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if elapsed >= last_report + PROGRESS_EVERY {
                last_report = elapsed;
                progress(
                    counters.iter().map(|c| c.load(Ordering::Relaxed)).sum(),
                    elapsed,
                );
            }
            if deadline.is_some_and(|d| elapsed >= d) {
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
    });

    let elapsed = start.elapsed();
    let hashes = counters.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    let nonce = *found.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(SolveStats {
        nonce,
        hashes,
        elapsed,
    })
}

/// Measure the solver's rate for `seconds` on `threads` threads, searching
/// at the maximum difficulty (which is never met in practice).
pub fn bench(
    key: &OnionAddress,
    seconds: f64,
    threads: usize,
    progress: &(dyn Fn(u64, Duration) + Sync),
) -> Result<SolveStats, PowError> {
    let network = torpeer_core::network::NetworkName::default_network().id();
    solve(
        &network,
        key,
        pow::MAX_DIFFICULTY,
        threads,
        Some(Duration::from_secs_f64(seconds.max(0.05))),
        progress,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use torpeer_core::Identity;
    use torpeer_core::network::NetworkName;

    #[test]
    fn threaded_solution_verifies() {
        let key = Identity::from_seed(&[11; 32]).unwrap().address();
        let net = NetworkName::new("solver-test").unwrap().id();
        for threads in [1, 2, 3] {
            let stats = solve(&net, &key, 12, threads, None, &|_, _| {}).unwrap();
            let nonce = stats.nonce.unwrap();
            pow::verify(&net, &key, nonce, 12).unwrap();
            assert!(stats.hashes >= 1);
        }
    }

    #[test]
    fn deadline_stops_an_impossible_search() {
        let key = Identity::from_seed(&[12; 32]).unwrap().address();
        let stats = bench(&key, 0.1, 2, &|_, _| {}).unwrap();
        assert_eq!(stats.nonce, None);
        assert!(stats.hashes > 0);
    }

    #[test]
    fn too_high_difficulty_is_an_error() {
        let key = Identity::from_seed(&[13; 32]).unwrap().address();
        let net = NetworkName::default_network().id();
        assert!(solve(&net, &key, 65, 1, None, &|_, _| {}).is_err());
    }
}
