//! A terminal chat between TorPeer participants, on nothing but the
//! embedding API (`torpeer_node::app`).
//!
//! Two people start it on two terminals with the same bootstrap contact,
//! find each other through it and talk by onion address. The transport is a
//! setting, so the same program runs on loopback TCP or on Tor:
//!
//! ```sh
//! # a router to meet at (prints its contact as ONION@127.0.0.1:PORT in its log)
//! torpeer run --transport tcp --listen 127.0.0.1:7500 --http 127.0.0.1:0 \
//!     --role router --data-dir /tmp/r --network chat --difficulty 8
//! # terminal 1 and terminal 2
//! cargo run -p torpeer-node --example chat -- --transport tcp --listen 127.0.0.1:0 \
//!     --data-dir /tmp/alice --network chat --difficulty 8 --bootstrap ROUTER_ONION@127.0.0.1:7500
//! # on Tor: the same flags as `torpeer run` (or --config FILE), e.g.
//! #   --transport tor --hs-dir ./alice/hs --bootstrap ROUTER_ONION
//! ```
//!
//! Input lines: `ONION text` sends `text` to ONION; `/to ONION` makes ONION
//! the recipient of plain lines; `/peers` lists the peer table; `/quit` (or
//! end of input) leaves. Output lines: `me ONION`, `contact CONTACT`,
//! `discovered ONION`, `online ONION`, `offline ONION`, `ONION: text` for a
//! message, `! reason` when something was not sent. Messages are shown with
//! control characters replaced, so a peer cannot drive your terminal.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tokio::sync::mpsc;
use torpeer_node::app::{Builder, Event, OnionAddress, TorPeer, TransportKind};

/// Flags: the subset of `torpeer run`'s that a participant needs.
#[derive(Debug, Parser)]
#[command(
    name = "chat",
    about = "Chat with TorPeer participants by onion address"
)]
struct Args {
    /// TOML configuration in `torpeer run --config` format.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for persisted state.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// HiddenServiceDir holding the onion key (created if empty).
    #[arg(long, value_name = "DIR")]
    hs_dir: Option<PathBuf>,
    /// arti | tor | tcp.
    #[arg(long)]
    transport: Option<TransportKind>,
    /// Protocol listener.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// tor's SOCKS5 port (tor transport).
    #[arg(long, value_name = "ADDR")]
    socks: Option<SocketAddr>,
    /// Also serve the local HTTP API here.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Network name.
    #[arg(long)]
    network: Option<String>,
    /// Proof-of-work difficulty.
    #[arg(long)]
    difficulty: Option<u8>,
    /// Contact: onion, http:// URL of /v1/peers, or ONION@HOST:PORT (tcp).
    #[arg(long, value_name = "PEER")]
    bootstrap: Vec<String>,
}

fn builder(args: Args) -> Result<Builder, String> {
    let mut b = match &args.config {
        Some(path) => Builder::from_file(path).map_err(|e| e.to_string())?,
        None => TorPeer::builder(),
    };
    if let Some(v) = args.data_dir {
        b = b.data_dir(v);
    }
    if let Some(v) = args.hs_dir {
        b = b.hs_dir(v);
    }
    if let Some(v) = args.transport {
        b = b.transport(v);
    }
    if let Some(v) = args.listen {
        b = b.listen(v);
    }
    if let Some(v) = args.socks {
        b = b.socks(v);
    }
    if let Some(v) = args.http {
        b = b.http(v);
    }
    if let Some(v) = args.network {
        b = b.network(v);
    }
    if let Some(v) = args.difficulty {
        b = b.difficulty(v);
    }
    for contact in args.bootstrap {
        b = b.bootstrap(contact);
    }
    Ok(b)
}

/// A peer's bytes as one printable line.
fn printable(data: &[u8]) -> String {
    String::from_utf8_lossy(data)
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Lines from stdin, read on a thread (stdin is blocking everywhere).
fn stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

async fn command(node: &TorPeer, to: &mut Option<OnionAddress>, line: &str) -> bool {
    let line = line.trim();
    if line.is_empty() {
        return true;
    }
    if line == "/quit" {
        return false;
    }
    if line == "/peers" {
        match node.peers().await {
            Ok(peers) => {
                for p in peers {
                    println!("peer {} {} {:?}", p.onion, p.role.as_str(), p.status);
                }
            }
            Err(e) => println!("! {e}"),
        }
        return true;
    }
    if let Some(rest) = line.strip_prefix("/to ") {
        match rest.trim().parse::<OnionAddress>() {
            Ok(o) => *to = Some(o),
            Err(e) => println!("! bad address: {e}"),
        }
        return true;
    }
    let (dest, text) = match line.split_once(' ') {
        Some((first, text)) => match first.parse::<OnionAddress>() {
            Ok(o) => (Some(o), text),
            Err(_) => (*to, line),
        },
        None => (*to, line),
    };
    let Some(dest) = dest else {
        println!("! no recipient: write `ONION text` or `/to ONION` first");
        return true;
    };
    if let Err(e) = node.send(dest, text.as_bytes().to_vec()).await {
        println!("! not sent to {dest}: {e} ({})", e.code());
    }
    true
}

async fn run(args: Args) -> Result<(), String> {
    let node = builder(args)?.start().await.map_err(|e| e.to_string())?;
    let mut events = node.events();
    println!("me {}", node.onion());
    println!("contact {}", node.contact());
    let mut input = stdin_lines();
    let mut to = None;
    loop {
        tokio::select! {
            line = input.recv() => match line {
                Some(line) => if !command(&node, &mut to, &line).await { break },
                None => break,
            },
            ev = events.recv() => match ev {
                Some(Event::Message { from, data }) => println!("{from}: {}", printable(&data)),
                Some(Event::PeerDiscovered { onion, .. }) => println!("discovered {onion}"),
                Some(Event::PeerOnline { onion }) => println!("online {onion}"),
                Some(Event::PeerOffline { onion }) => println!("offline {onion}"),
                Some(Event::Lagged { missed }) => println!("! missed {missed} events"),
                Some(_) => {}
                None => break,
            },
        }
    }
    node.shutdown().await.map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Logs go to stderr (warnings only unless RUST_LOG says otherwise), so
    // stdout carries nothing but the chat.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
