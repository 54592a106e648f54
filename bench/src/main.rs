//! TorPeer benchmarks: every figure next to its baseline, measured in the
//! same run on the same machine, so the ratios mean something on a noisy
//! shared host.
//!
//! ```text
//! cargo run --release -p torpeer-bench                 # markdown table
//! cargo run --release -p torpeer-bench -- --json       # one JSON object
//! cargo run --release -p torpeer-bench -- --seconds 3  # longer windows
//! cargo run --release -p torpeer-bench -- --only pow,table --table-sizes 10000
//! ```
//!
//! Default build on purpose (no `-C target-cpu=native`): the SIMD kernels
//! are picked at run time, and the `sha3` crate baseline is measured as
//! users get it.

mod alloc_count;
mod lists;
mod measure;
mod pow;
mod records;
mod report;
mod table;

use std::process::ExitCode;

use report::Report;

/// Counts live heap bytes for the peer table's bytes-per-entry figure.
#[global_allocator]
static ALLOCATOR: alloc_count::Counting = alloc_count::Counting;

/// The sections of a run, in order.
const SECTIONS: [&str; 4] = ["pow", "verify", "lists", "table"];

/// Command-line options.
#[derive(Debug)]
struct Options {
    json: bool,
    seconds: f64,
    records: usize,
    table_sizes: Vec<usize>,
    only: Vec<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        json: false,
        seconds: 1.0,
        records: 10_000,
        table_sizes: vec![10_000, 1_000_000],
        only: SECTIONS.iter().map(|s| s.to_string()).collect(),
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
            "--table-sizes" => {
                options.table_sizes = args
                    .next()
                    .and_then(|s| {
                        s.split(',')
                            .map(|n| n.trim().parse::<usize>().ok().filter(|n| *n >= 100))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or("--table-sizes needs a comma-separated list of sizes >= 100")?;
            }
            "--only" => {
                let list = args.next().ok_or("--only needs a list of sections")?;
                options.only = list.split(',').map(|s| s.trim().to_string()).collect();
                if let Some(bad) = options
                    .only
                    .iter()
                    .find(|s| !SECTIONS.contains(&s.as_str()))
                {
                    return Err(format!(
                        "unknown section {bad:?}; sections: {}",
                        SECTIONS.join(",")
                    ));
                }
            }
            "-h" | "--help" => {
                return Err(format!(
                    "usage: torpeer-bench [--json] [--seconds S] [--records N (>= 1000)] \
                     [--table-sizes N,N,…] [--only {}]",
                    SECTIONS.join(",")
                ));
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
    let wants = |section: &str| options.only.iter().any(|s| s == section);
    if wants("pow") {
        eprintln!("proof-of-work solver…");
        pow::bench(options.seconds, &mut report);
    }
    if wants("verify") || wants("lists") {
        eprintln!("generating {} signed records…", options.records);
        let list = records::generate(options.records)?;
        if wants("verify") {
            eprintln!("record verification…");
            records::bench_verify(&list, options.seconds, &mut report)?;
        }
        if wants("lists") {
            eprintln!("peer-list encode/decode…");
            lists::bench(&list, options.seconds, &mut report)?;
        }
    }
    if wants("table") {
        for &entries in &options.table_sizes {
            eprintln!("peer table, {entries} entries…");
            table::bench(entries, &mut report)?;
        }
    }
    Ok(report)
}
