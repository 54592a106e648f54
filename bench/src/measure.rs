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

/// On-CPU nanoseconds of the calling thread (Linux `schedstat`).
///
/// On a host whose load average is several times its core count, a window's
/// wall time includes however long the scheduler ran other processes, at
/// random, so even round-robin ratios wobble; the thread's own CPU time
/// does not.
pub(crate) fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Units per second of each step, measured round-robin until every step has
/// run for at least `seconds` in total. Each step is called once first, as
/// a warm-up.
///
/// The seconds are the thread's own CPU seconds where the OS reports them
/// (Linux), else wall seconds; [`per_cpu_second`] says which.
pub(crate) fn rates(seconds: f64, steps: &mut [Step<'_>]) -> Vec<f64> {
    rates_by(seconds, steps, per_cpu_second())
}

/// [`rates`] per wall second, for steps that run on several threads (the
/// calling thread's CPU time would miss the workers').
pub(crate) fn rates_wall(seconds: f64, steps: &mut [Step<'_>]) -> Vec<f64> {
    rates_by(seconds, steps, false)
}

fn rates_by(seconds: f64, steps: &mut [Step<'_>], use_cpu: bool) -> Vec<f64> {
    for step in steps.iter_mut() {
        std::hint::black_box(step());
    }
    let target = Duration::from_secs_f64(seconds);
    let mut units = vec![0u64; steps.len()];
    let mut spent = vec![Duration::ZERO; steps.len()];
    let mut on_cpu = vec![0u64; steps.len()];
    let mut cpu_known = use_cpu;
    while spent.iter().any(|s| *s < target) {
        for (((step, u), s), c) in steps
            .iter_mut()
            .zip(&mut units)
            .zip(&mut spent)
            .zip(&mut on_cpu)
        {
            let start = Instant::now();
            let cpu_start = thread_cpu_ns();
            loop {
                *u += step();
                if start.elapsed() >= WINDOW {
                    break;
                }
            }
            match (cpu_start, thread_cpu_ns()) {
                (Some(a), Some(b)) if b >= a => *c += b - a,
                _ => cpu_known = false,
            }
            *s += start.elapsed();
        }
    }
    units
        .iter()
        .zip(&spent)
        .zip(&on_cpu)
        .map(|((u, s), c)| {
            if cpu_known && *c > 0 {
                *u as f64 / (*c as f64 / 1e9)
            } else {
                *u as f64 / s.as_secs_f64()
            }
        })
        .collect()
}

/// Whether [`rates`] counts CPU seconds (else wall seconds).
pub(crate) fn per_cpu_second() -> bool {
    thread_cpu_ns().is_some()
}
