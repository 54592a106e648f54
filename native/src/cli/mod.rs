//! Command-line parsing and dispatch. Each subcommand family has its own
//! module; `main` maps their results to exit codes.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo;
mod peers;
mod run;

/// TorPeer: peer discovery and messaging between Tor onion services.
#[derive(Debug, Parser)]
#[command(name = "torpeer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node.
    Run(run::RunArgs),
    /// Fetch a bootstrap list and verify every record.
    Peers(peers::PeersArgs),
    /// Run N local nodes on loopback TCP (one router) until Ctrl-C.
    Demo(demo::DemoArgs),
}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(a) => run::main(a),
        Command::Peers(a) => peers::main(a),
        Command::Demo(a) => demo::main(a),
    }
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
