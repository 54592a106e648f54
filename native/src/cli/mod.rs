//! Command-line parsing and dispatch. Each subcommand family has its own
//! module; `main` maps their results to exit codes.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// TorPeer: peer discovery and messaging between Tor onion services.
#[derive(Debug, Parser)]
#[command(name = "torpeer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {}
}
