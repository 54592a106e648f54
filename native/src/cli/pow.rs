//! `torpeer pow solve | verify | bench`.

use super::output::say;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use torpeer_core::network::{DEFAULT_DIFFICULTY, DEFAULT_NETWORK, NetworkName};
use torpeer_core::onion::OnionAddress;
use torpeer_core::{Identity, pow};

use super::{CliError, CliResult, output};
use torpeer_node::hsdir_fs::{self, StoredPow};
use torpeer_node::pow_solver::{self, SolveStats};

#[derive(Debug, Subcommand)]
pub(crate) enum PowCommand {
    /// Solve the proof-of-work for a HiddenServiceDir's key and store it
    /// beside the key (torpeer-pow.json).
    Solve(SolveArgs),
    /// Check a nonce (one hash).
    Verify(VerifyArgs),
    /// Measure the solver's tries per second on this machine.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SolveArgs {
    /// HiddenServiceDir holding the key.
    #[arg(long, value_name = "DIR")]
    hs_dir: PathBuf,
    /// Difficulty in leading zero bits.
    #[arg(long, value_name = "D")]
    difficulty: u8,
    /// Network the proof is for.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_NETWORK)]
    network: NetworkName,
    /// Solver threads (0 = every core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Don't write torpeer-pow.json.
    #[arg(long)]
    no_save: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The onion address the proof is for.
    #[arg(long, value_name = "ADDR")]
    onion: String,
    /// The nonce.
    #[arg(long, value_name = "N")]
    nonce: u64,
    /// Difficulty to check, in leading zero bits.
    #[arg(long, value_name = "D", default_value_t = u32::from(DEFAULT_DIFFICULTY))]
    difficulty: u32,
    /// Network the proof is for.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_NETWORK)]
    network: NetworkName,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// How long to run.
    #[arg(long, value_name = "S", default_value_t = 3.0)]
    seconds: f64,
    /// Solver threads (0 = every core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cmd: PowCommand) -> CliResult {
    match cmd {
        PowCommand::Solve(args) => solve(args),
        PowCommand::Verify(args) => verify(args),
        PowCommand::Bench(args) => bench(args),
    }
}

fn progress_bar(show: bool, what: &str) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn rate_message(hashes: u64, elapsed: Duration, expected: Option<f64>) -> String {
    let rate = hashes as f64 / elapsed.as_secs_f64().max(1e-9);
    let mut msg = format!("{hashes} hashes, {:.2} MH/s", rate / 1e6);
    if let Some(expected) = expected {
        msg.push_str(&format!(
            ", {:.0}% of the expected {expected:.0} tries",
            100.0 * hashes as f64 / expected
        ));
    }
    msg
}

/// Solve with a progress bar on a terminal; returns the nonce and the run's
/// figures.
pub(super) fn solve_with_progress(
    network: &NetworkName,
    address: &OnionAddress,
    difficulty: u8,
    threads: usize,
    show_progress: bool,
) -> Result<(u64, SolveStats), CliError> {
    let bar = progress_bar(
        show_progress,
        &format!("solving proof-of-work at difficulty {difficulty}"),
    );
    let expected = 2f64.powi(i32::from(difficulty));
    let stats = pow_solver::solve(
        &network.id(),
        address,
        difficulty,
        threads,
        None,
        &|hashes, elapsed| bar.set_message(rate_message(hashes, elapsed, Some(expected))),
    )
    .map_err(|e| CliError::invalid(e.code(), e))?;
    bar.finish_and_clear();
    let nonce = stats
        .nonce
        .ok_or_else(|| CliError::fatal("solver stopped without a nonce"))?;
    Ok((nonce, stats))
}

#[derive(Serialize)]
struct SolveOutput {
    onion: String,
    network: String,
    nonce: String,
    difficulty: u8,
    hashes: u64,
    hashes_per_second: f64,
    seconds: f64,
}

fn solve(args: SolveArgs) -> CliResult {
    let keys = hsdir_fs::read_hs_dir(&args.hs_dir)?;
    let address = keys.identity.address();
    let (nonce, stats) = solve_with_progress(
        &args.network,
        &address,
        args.difficulty,
        args.threads,
        !args.json,
    )?;
    if !args.no_save {
        hsdir_fs::write_pow(
            &args.hs_dir,
            &StoredPow {
                onion: address.to_string(),
                network: args.network.to_string(),
                difficulty: args.difficulty,
                nonce,
            },
        )?;
    }
    let out = SolveOutput {
        onion: address.to_string(),
        network: args.network.to_string(),
        nonce: nonce.to_string(),
        difficulty: args.difficulty,
        hashes: stats.hashes,
        hashes_per_second: stats.hashes_per_second(),
        seconds: stats.elapsed.as_secs_f64(),
    };
    if args.json {
        output::print_json(&out)
    } else {
        say!(
            "nonce {} meets difficulty {} for {} on network {} ({} hashes in {:.2}s, {:.2} MH/s)",
            out.nonce,
            out.difficulty,
            out.onion,
            out.network,
            out.hashes,
            out.seconds,
            out.hashes_per_second / 1e6
        );
        Ok(())
    }
}

#[derive(Serialize)]
struct VerifyOutput {
    ok: bool,
    onion: String,
    network: String,
    nonce: String,
    difficulty: u32,
    achieved: u32,
}

fn verify(args: VerifyArgs) -> CliResult {
    let address = OnionAddress::parse(&args.onion).map_err(|e| CliError::invalid(e.code(), e))?;
    let difficulty =
        pow::check_difficulty(args.difficulty).map_err(|e| CliError::invalid(e.code(), e))?;
    let network_id = args.network.id();
    let achieved = pow::achieved_difficulty(&network_id, &address, args.nonce);
    let verdict = pow::verify(&network_id, &address, args.nonce, difficulty);
    if args.json {
        output::print_json(&VerifyOutput {
            ok: verdict.is_ok(),
            onion: address.to_string(),
            network: args.network.to_string(),
            nonce: args.nonce.to_string(),
            difficulty: args.difficulty,
            achieved,
        })?;
    }
    match verdict {
        Ok(()) => {
            if !args.json {
                say!(
                    "ok: nonce {} gives {achieved} leading zero bits (difficulty {difficulty})",
                    args.nonce
                );
            }
            Ok(())
        }
        Err(e) => Err(CliError::invalid(e.code(), e)),
    }
}

#[derive(Debug, Serialize)]
struct BenchOutput {
    threads: usize,
    /// The Keccak kernel the solver ran on (`avx512`, `avx2`, …).
    kernel: &'static str,
    seconds: f64,
    hashes: u64,
    hashes_per_second: f64,
    hashes_per_second_per_thread: f64,
}

/// Run the benchmark `args` asks for and collect its figures.
fn measure(args: &BenchArgs) -> Result<BenchOutput, CliError> {
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        return Err(CliError::fatal("--seconds must be a positive number"));
    }
    let threads = if args.threads == 0 {
        pow_solver::default_threads()
    } else {
        args.threads
    };
    // Any valid key will do; a fixed one keeps runs comparable.
    let key = Identity::from_seed(&[0x42; 32])
        .map_err(CliError::fatal)?
        .address();
    let bar = progress_bar(!args.json, "benchmarking");
    let stats = pow_solver::bench(&key, args.seconds, threads, &|hashes, elapsed| {
        bar.set_message(rate_message(hashes, elapsed, None));
    })
    .map_err(CliError::fatal)?;
    bar.finish_and_clear();
    Ok(BenchOutput {
        threads,
        kernel: torpeer_core::keccak::Kernel::best().name(),
        seconds: stats.elapsed.as_secs_f64(),
        hashes: stats.hashes,
        hashes_per_second: stats.hashes_per_second(),
        hashes_per_second_per_thread: stats.hashes_per_second() / threads as f64,
    })
}

fn bench(args: BenchArgs) -> CliResult {
    let out = measure(&args)?;
    if args.json {
        output::print_json(&out)
    } else {
        say!(
            "{:.2} M tries/s on {} thread(s), {} kernel ({:.2} M/s per thread; {} tries in {:.2}s)",
            out.hashes_per_second / 1e6,
            out.threads,
            out.kernel,
            out.hashes_per_second_per_thread / 1e6,
            out.hashes,
            out.seconds
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_reports_hashes_per_second_as_json() {
        let args = BenchArgs {
            seconds: 0.2,
            threads: 2,
            json: true,
        };
        let out = measure(&args).unwrap();
        assert_eq!(out.threads, 2);
        assert!(out.hashes > 0 && out.hashes_per_second > 0.0);
        assert!((out.hashes_per_second / 2.0 - out.hashes_per_second_per_thread).abs() < 1e-6);
        let json: serde_json::Value = serde_json::to_value(&out).unwrap();
        assert!(json["hashes_per_second"].as_f64().unwrap() > 0.0);
        assert_eq!(json["kernel"], torpeer_core::keccak::Kernel::best().name());
    }

    #[test]
    fn bench_refuses_a_bad_duration() {
        for seconds in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let args = BenchArgs {
                seconds,
                threads: 1,
                json: true,
            };
            assert!(measure(&args).is_err(), "{seconds}");
        }
    }
}
