//! `torpeer tor-testnet up | down | status`: a private Tor network on
//! 127.0.0.1 for trying nodes locally (see README "Running on the real Tor network").

use std::fs;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde::Serialize;
use torpeer_tornet::{NetInfo, TorNet, TorNetError, TorNetOptions};

use super::{CliError, CliResult, output};

/// File written beside net.json with the torrc lines a C-tor node needs.
const CLIENT_TORRC: &str = "client.torrc";

#[derive(Debug, Subcommand)]
pub(crate) enum TorTestnetCommand {
    /// Launch a network (3 authorities + N exit relays) and keep it running
    /// until Ctrl-C, or detach and leave it running.
    Up(UpArgs),
    /// Stop a network started with `up --detach`.
    Down(DirArgs),
    /// Show whether a network's processes are running.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// Directory for keys, logs and net.json.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Exit relays besides the 3 authorities.
    #[arg(long, value_name = "N", default_value_t = 3)]
    relays: usize,
    /// Give up if the network is not ready after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    timeout: u64,
    /// Return once ready and leave the network running (stop it with
    /// `tor-testnet down`).
    #[arg(long)]
    detach: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DirArgs {
    /// Directory of the network (holds net.json).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Directory of the network (holds net.json).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cmd: TorTestnetCommand) -> CliResult {
    match cmd {
        TorTestnetCommand::Up(args) => up(args),
        TorTestnetCommand::Down(args) => down(args),
        TorTestnetCommand::Status(args) => status(args),
    }
}

impl From<TorNetError> for CliError {
    fn from(e: TorNetError) -> Self {
        match e {
            TorNetError::InvalidOption(_) | TorNetError::BadNetFile { .. } => {
                CliError::invalid(e.code(), &e)
            }
            _ => CliError::fatal(format!("{} ({})", e, e.code())),
        }
    }
}

#[derive(Debug, Serialize)]
struct UpReport<'a> {
    net_file: PathBuf,
    client_torrc: PathBuf,
    ready_secs: f64,
    detached: bool,
    net: &'a NetInfo,
}

fn up(args: UpArgs) -> CliResult {
    let opts = TorNetOptions {
        relays: args.relays,
        timeout: Duration::from_secs(args.timeout),
        owned: !args.detach,
        ..TorNetOptions::default()
    };
    if !args.json {
        eprintln!(
            "launching 3 authorities + {} relays in {} …",
            args.relays,
            args.dir.display()
        );
    }
    let mut net = TorNet::launch(&args.dir, opts)?;
    let info = net.info().clone();
    let client_torrc = info.dir.join(CLIENT_TORRC);
    fs::write(&client_torrc, info.client_torrc_fragment())
        .map_err(|e| CliError::fatal(format!("{}: {e}", client_torrc.display())))?;
    let report = UpReport {
        net_file: info.dir.join(torpeer_tornet::NET_FILE),
        client_torrc: client_torrc.clone(),
        ready_secs: net.timings().ready.as_secs_f64(),
        detached: args.detach,
        net: &info,
    };
    if args.json {
        output::print_json(&report)?;
    } else {
        print_summary(&report);
    }
    if args.detach {
        net.detach()?;
        return Ok(());
    }
    if !args.json {
        println!("running; Ctrl-C stops every tor process");
    }
    loop {
        thread::sleep(Duration::from_secs(1));
        if let Some((node, status)) = net.exited_process() {
            return Err(CliError::fatal(format!(
                "tor node {node} exited ({status}); logs in {}",
                info.dir.display()
            )));
        }
    }
}

fn print_summary(r: &UpReport<'_>) {
    println!("private Tor network ready in {:.1} s", r.ready_secs);
    for n in &r.net.nodes {
        println!(
            "  {:<10} {:<9} or {} dir {} pid {}",
            n.nickname,
            format!("{:?}", n.role).to_lowercase(),
            n.orport,
            n.dirport,
            n.pid
        );
    }
    println!("network description: {}", r.net_file.display());
    println!(
        "C tor nodes: add the lines of {} to their torrc",
        r.client_torrc.display()
    );
    println!(
        "arti nodes: torpeer run --tor-network {} (hsdir_interval = {} min)",
        r.net.dir.display(),
        r.net.hsdir_interval_minutes
    );
    if r.detached {
        println!(
            "detached; stop with: torpeer tor-testnet down --dir {}",
            r.net.dir.display()
        );
    }
}

fn down(args: DirArgs) -> CliResult {
    let stopped = torpeer_tornet::stop_network(&args.dir)?;
    println!("stopped {stopped} tor processes");
    Ok(())
}

fn status(args: StatusArgs) -> CliResult {
    let (info, procs) = torpeer_tornet::status(&args.dir)?;
    let running = procs.iter().filter(|p| p.running).count();
    if args.json {
        output::print_json(&serde_json::json!({
            "dir": info.dir,
            "running": running,
            "total": procs.len(),
            "processes": procs,
        }))?;
    } else {
        for p in &procs {
            let state = if p.running { "running" } else { "stopped" };
            println!("  {:<10} pid {:<7} {state}", p.name, p.pid);
        }
        println!("{running}/{} tor processes running", procs.len());
    }
    if running == procs.len() {
        Ok(())
    } else {
        Err(CliError::invalid(
            "testnet_not_running",
            format!(
                "{} of {} processes are not running",
                procs.len() - running,
                procs.len()
            ),
        ))
    }
}
