//! Timing: units of work per second, with competing workloads measured in
//! alternation.
//!
//! The machines these run on are shared and their load drifts by a factor
//! of several within a minute. Measuring "ours" for one second and then the
//! baseline for one second would put that drift into the ratio, so every
//! figure that is compared is measured round-robin in short windows: each
//! workload sees the same mix of quiet and busy moments.

use std::time::{Duration, Instant};

/// One visit lasts at least this long (and at least one call).
const WINDOW: Duration = Duration::from_millis(100);

/// A workload: each call does some work and returns how many units.
pub(crate) type Step<'a> = Box<dyn FnMut() -> u64 + 'a>;

/// Units per second of each step, measured round-robin until every step has
/// run for at least `seconds` in total. Each step is called once first, as
/// a warm-up.
pub(crate) fn rates(seconds: f64, steps: &mut [Step<'_>]) -> Vec<f64> {
    for step in steps.iter_mut() {
        std::hint::black_box(step());
    }
    let target = Duration::from_secs_f64(seconds);
    let mut units = vec![0u64; steps.len()];
    let mut spent = vec![Duration::ZERO; steps.len()];
    while spent.iter().any(|s| *s < target) {
        for ((step, u), s) in steps.iter_mut().zip(&mut units).zip(&mut spent) {
            let start = Instant::now();
            loop {
                *u += step();
                if start.elapsed() >= WINDOW {
                    break;
                }
            }
            *s += start.elapsed();
        }
    }
    units
        .iter()
        .zip(&spent)
        .map(|(u, s)| *u as f64 / s.as_secs_f64())
        .collect()
}
