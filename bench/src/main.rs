//! TorPeer benchmarks: every figure next to its baseline, measured in the
//! same run on the same machine, so the ratios mean something on a noisy
//! shared host.
//!
//! ```text
//! cargo run --release -p torpeer-bench                 # markdown table
//! cargo run --release -p torpeer-bench -- --json       # one JSON object
//! cargo run --release -p torpeer-bench -- --seconds 3  # longer windows
//! ```
//!
//! Default build on purpose (no `-C target-cpu=native`): the SIMD kernels
//! are picked at run time, and the `sha3` crate baseline is measured as
//! users get it.

mod lists;
mod measure;
mod pow;
mod records;
mod report;

use std::process::ExitCode;

use report::Report;

/// Command-line options.
#[derive(Debug)]
struct Options {
    json: bool,
    seconds: f64,
    records: usize,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        json: false,
        seconds: 1.0,
        records: 10_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => options.json = true,
            "--seconds" => {
                options.seconds = args
                    .next()
                    .and_then(|s| s.parse::<f64>().ok())
                    .filter(|s| *s > 0.0 && s.is_finite())
                    .ok_or("--seconds needs a positive number")?;
            }
            "--records" => {
                options.records = args
                    .next()
                    .and_then(|s| s.parse::<usize>().ok())
                    .filter(|n| *n >= 1000)
                    .ok_or("--records needs a number >= 1000")?;
            }
            "-h" | "--help" => {
                return Err(
                    "usage: torpeer-bench [--json] [--seconds S] [--records N (>= 1000)]".into(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(report) => {
            if options.json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_markdown());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<Report, records::BenchError> {
    let mut report = Report::new(options.seconds);
    eprintln!("proof-of-work solver…");
    pow::bench(options.seconds, &mut report);
    eprintln!("generating {} signed records…", options.records);
    let list = records::generate(options.records)?;
    eprintln!("record verification…");
    records::bench_verify(&list, options.seconds, &mut report)?;
    eprintln!("peer-list encode/decode…");
    lists::bench(&list, options.seconds, &mut report)?;
    Ok(report)
}
