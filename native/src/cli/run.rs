//! `torpeer run`: load the config, start the node and its HTTP API the way
//! the library does ([`torpeer_node::app::launch`]), and run until
//! SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use torpeer_node::app::launch;
use torpeer_node::config::{self, FileConfig, RunConfig, TransportKind};

/// Flags of `torpeer run` (override the config file).
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// TOML configuration file (see native/torpeer.example.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for persisted state.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// HiddenServiceDir holding the onion key (created if empty).
    #[arg(long, value_name = "DIR")]
    hs_dir: Option<PathBuf>,
    /// arti (embedded Tor, the default) | tor (external tor) | tcp (loopback).
    #[arg(long)]
    transport: Option<TransportKind>,
    /// Join the private Tor network `torpeer tor-testnet up --dir DIR`
    /// launched (reads DIR/net.json; arti transport).
    #[arg(long, value_name = "DIR")]
    tor_network: Option<PathBuf>,
    /// Protocol listener (tcp transport; tor's HiddenServicePort target).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// HTTP API address (port 0: any free port).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// The built dashboard (a directory with index.html, e.g. web/dist)
    /// served at `/` of the HTTP API; must exist. Default: the source
    /// tree's web/dist if present, else a placeholder page.
    #[arg(long, value_name = "DIR")]
    web_dir: Option<PathBuf>,
    /// tor's SOCKS5 port (tor transport).
    #[arg(long, value_name = "ADDR")]
    socks: Option<SocketAddr>,
    /// Network name.
    #[arg(long)]
    network: Option<String>,
    /// Minimum (and our) proof-of-work difficulty.
    #[arg(long)]
    difficulty: Option<u8>,
    /// participant | router.
    #[arg(long)]
    role: Option<String>,
    /// Contact: onion, http:// URL of /v1/peers, or ONION@HOST:PORT (tcp).
    #[arg(long, value_name = "PEER")]
    bootstrap: Vec<String>,
    /// More logging (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

pub(crate) fn main(args: RunArgs) -> ExitCode {
    super::init_logging(args.verbose);
    let rt = match super::node_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(code)
        }
    }
}

fn overlay(args: &RunArgs) -> Result<FileConfig, config::ConfigError> {
    let mut file = match &args.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    macro_rules! set {
        ($($f:ident),*) => { $( if let Some(v) = args.$f.clone() { file.$f = Some(v); } )* };
    }
    set!(
        data_dir,
        hs_dir,
        transport,
        listen,
        http,
        web_dir,
        socks,
        network,
        difficulty,
        role,
        tor_network
    );
    file.bootstrap.extend(args.bootstrap.iter().cloned());
    Ok(file)
}

async fn run(args: RunArgs) -> Result<(), (u8, String)> {
    let usage = |e: &dyn std::fmt::Display| (2u8, e.to_string());
    let file = overlay(&args).map_err(|e| usage(&e))?;
    let rc = RunConfig::resolve(file).map_err(|e| (2u8, format!("{e} ({})", e.code())))?;
    let failed = |e: launch::LaunchError| (2u8, format!("{e} ({})", e.code()));
    let launched = launch::launch(&rc).await.map_err(failed)?;
    let (_http_addr, http_task) = launch::serve_api(&launched, rc.http)
        .await
        .map_err(failed)?;
    let drv = launched.driver;

    let mut task = drv.task;
    tokio::select! {
        () = super::shutdown_signal() => {
            tracing::info!("signal received");
            drv.handle.shutdown().await;
            let _ = (&mut task).await;
        }
        _ = &mut task => {
            tracing::warn!("node task ended");
        }
    }
    http_task.abort();
    Ok(())
}
