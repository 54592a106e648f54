//! Native side of `run.mjs`: one timed window of a probe from `lib.rs`,
//! printed as one JSON line `{"per_second": …}`.
//!
//! ```text
//! torpeer-bench-wasm-native pow KERNEL_CODE SECONDS   # tries/s on that kernel
//! torpeer-bench-wasm-native verify RECORDS SECONDS    # records verified/s
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use torpeer_bench_wasm::{pow_tries, verify_run, verify_setup};

/// Tries per probe call: the size of the wasm side's calls too.
const SLICE: u32 = 1 << 14;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [what, n, secs] => match (n.parse::<u32>(), secs.parse::<f64>()) {
            (Ok(n), Ok(s)) if s > 0.0 && s.is_finite() => Some((what.as_str(), n, s)),
            _ => None,
        },
        _ => None,
    };
    let Some((what, n, seconds)) = parsed else {
        eprintln!("usage: torpeer-bench-wasm-native (pow KERNEL_CODE | verify RECORDS) SECONDS");
        return ExitCode::from(2);
    };
    let window = Duration::from_secs_f64(seconds);
    let (units, elapsed) = match what {
        "pow" => {
            if pow_tries(n, 0, 1) != 1 {
                eprintln!("unknown kernel code {n}");
                return ExitCode::from(2);
            }
            let start = Instant::now();
            let mut done = 0u64;
            let mut call = 0u32;
            while start.elapsed() < window {
                done += u64::from(pow_tries(n, call, SLICE));
                call += 1;
            }
            (done, start.elapsed())
        }
        "verify" => {
            if verify_setup(n) != n || verify_run() != n {
                eprintln!("probe records did not verify");
                return ExitCode::FAILURE;
            }
            let start = Instant::now();
            let mut done = 0u64;
            while start.elapsed() < window {
                done += u64::from(verify_run());
            }
            (done, start.elapsed())
        }
        other => {
            eprintln!("unknown probe {other:?}");
            return ExitCode::from(2);
        }
    };
    println!(
        "{{\"per_second\": {:.1}}}",
        units as f64 / elapsed.as_secs_f64()
    );
    ExitCode::SUCCESS
}
