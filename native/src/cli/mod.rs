//! Command-line parsing and dispatch. Each subcommand family has its own
//! module; `main` maps their results to exit codes.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod sim;

/// TorPeer: peer discovery and messaging between Tor onion services.
#[derive(Debug, Parser)]
#[command(name = "torpeer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a network of nodes in memory: convergence, cost, attacks.
    Sim(sim::SimArgs),
}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim(args) => sim::run(args),
    }
}
