//! Command-line parsing and dispatch. Each subcommand family has its own
//! module; `main` maps their results to exit codes:
//! 0 ok, 1 invalid input or failed verification (reason on stderr),
//! 2 usage or I/O error (clap's own usage errors also exit 2).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo;
mod keys;
mod output;
mod peers;
mod pow;
mod record;
mod run;
mod sim;
mod tornet;

pub(crate) use output::{CliError, CliResult};

/// TorPeer: peer discovery and messaging between Tor onion services.
#[derive(Debug, Parser)]
#[command(name = "torpeer", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a HiddenServiceDir tor accepts, and solve its proof-of-work.
    Keygen(keys::KeygenArgs),
    /// Validate and print an onion identity.
    Identity(keys::IdentityArgs),
    /// Solve, verify or benchmark the proof-of-work.
    #[command(subcommand)]
    Pow(pow::PowCommand),
    /// Sign or verify peer records.
    #[command(subcommand)]
    Record(record::RecordCommand),
    /// Run a node.
    Run(run::RunArgs),
    /// Fetch a bootstrap list and verify every record.
    Peers(peers::PeersArgs),
    /// Run N local nodes on loopback TCP (one router) until Ctrl-C.
    Demo(demo::DemoArgs),
    /// Simulate a network of nodes in memory: convergence, cost, attacks.
    Sim(sim::SimArgs),
    /// Run a private Tor network on 127.0.0.1 (needs Debian's `tor`).
    #[command(subcommand, name = "tor-testnet")]
    TorTestnet(tornet::TorTestnetCommand),
}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => keys::keygen(args),
        Command::Identity(args) => keys::identity(args),
        Command::Pow(cmd) => pow::run(cmd),
        Command::Record(cmd) => record::run(cmd),
        Command::Run(a) => return run::main(a),
        Command::Peers(a) => return peers::main(a),
        Command::Demo(a) => return demo::main(a),
        Command::Sim(args) => return sim::run(args),
        Command::TorTestnet(cmd) => tornet::run(cmd),
    };
    output::finish(result)
}

/// The runtime of the subcommands that run nodes (`run`, `demo`): two
/// worker threads, I/O and timers. Exit code 2 when it cannot start.
fn node_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start runtime: {e}");
            ExitCode::from(2)
        })
}

/// Logs to stderr: `RUST_LOG` if set, else info (-v debug, -vv trace).
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
