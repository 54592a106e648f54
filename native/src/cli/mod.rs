//! Command-line parsing and dispatch. Each subcommand family has its own
//! module; `main` maps their results to exit codes:
//! 0 ok, 1 invalid input or failed verification (reason on stderr),
//! 2 usage or I/O error (clap's own usage errors also exit 2).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod keys;
mod output;
mod pow;
mod record;
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
        Command::TorTestnet(cmd) => tornet::run(cmd),
    };
    output::finish(result)
}
