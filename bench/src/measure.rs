//! Timing: repeat a step until a time window is used up, report units/s.

use std::time::{Duration, Instant};

/// Run `step` (which returns how many units of work it did) repeatedly for
/// at least `seconds` (and at least twice, after one warm-up call), and
/// return units per second.
pub(crate) fn rate(seconds: f64, mut step: impl FnMut() -> u64) -> f64 {
    std::hint::black_box(step());
    let window = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut units = 0u64;
    let mut calls = 0u32;
    while calls < 2 || start.elapsed() < window {
        units += step();
        calls += 1;
    }
    units as f64 / start.elapsed().as_secs_f64()
}
