//! `torpeer peers --from URL_OR_ONION [--via arti|socks] [--json]`: fetch a
//! bootstrap list and verify every record in it. Exit 1 if any record fails
//! (reasons on stderr), 2 if the list could not be fetched.
//!
//! Onion addresses and `.onion` URLs go through Tor only: by default an
//! embedded arti client (as `torpeer run` uses; `--tor-network DIR` for a
//! private network), or `--via socks` through a running tor's SOCKS port.
//! Other hosts are fetched directly — those are local node APIs.

use super::output::say;
use std::net::SocketAddr;
use std::process::ExitCode;

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tokio::net::TcpStream;
use torpeer_core::network::DEFAULT_DIFFICULTY;
use torpeer_core::{NetworkName, NetworkParams, OnionAddress, record};
use torpeer_node::http::client::{self, HttpUrl};
use torpeer_node::transport::{BoxStream, DEFAULT_ONION_PORT, socks};

/// Flags of `torpeer peers`.
#[derive(Debug, Args)]
pub(crate) struct PeersArgs {
    /// http:// URL of a /v1/peers, or a router's onion address (fetched
    /// through tor's SOCKS port).
    #[arg(long, value_name = "URL_OR_ONION")]
    from: String,
    /// Print the list as proto3 JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Network the records must be for (default: the list's own).
    #[arg(long)]
    network: Option<String>,
    /// Minimum proof-of-work difficulty to accept.
    #[arg(long, default_value_t = DEFAULT_DIFFICULTY)]
    difficulty: u8,
    /// How to reach onion addresses and .onion URLs.
    #[arg(long, value_enum, default_value_t = Via::default())]
    via: Via,
    /// tor's SOCKS5 port, for `--via socks`.
    #[arg(long, default_value = torpeer_node::config::DEFAULT_SOCKS)]
    socks: SocketAddr,
    /// arti's state and cache (`--via arti`); kept between runs so later
    /// fetches skip most of the bootstrap. Default:
    /// `$HOME/.cache/torpeer/arti-client`.
    #[arg(long, value_name = "DIR")]
    arti_dir: Option<PathBuf>,
    /// Join the private Tor network of `torpeer tor-testnet` in DIR
    /// (`--via arti`) instead of the public one.
    #[arg(long, value_name = "DIR")]
    tor_network: Option<PathBuf>,
}

/// The way to Tor for onion addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Via {
    /// An embedded arti client (needs the `arti` feature).
    Arti,
    /// A running tor's SOCKS5 port (`--socks`).
    Socks,
}

impl Default for Via {
    fn default() -> Self {
        if cfg!(feature = "arti") {
            Via::Arti
        } else {
            Via::Socks
        }
    }
}

pub(crate) fn main(args: PeersArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(run(args))
}

async fn open(url: &HttpUrl, args: &PeersArgs) -> Result<BoxStream, String> {
    if !url.host.ends_with(".onion") {
        if args.tor_network.is_some() {
            return Err("--tor-network is for onion addresses".into());
        }
        let s = TcpStream::connect((url.host.as_str(), url.port))
            .await
            .map_err(|e| e.to_string())?;
        return Ok(Box::new(s));
    }
    match args.via {
        Via::Socks => {
            if args.tor_network.is_some() {
                return Err("--tor-network needs --via arti".into());
            }
            let s = TcpStream::connect(args.socks)
                .await
                .map_err(|e| format!("tor's SOCKS port {}: {e}", args.socks))?;
            let s = socks::connect(s, &url.host, url.port)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Box::new(s))
        }
        Via::Arti => open_arti(url, args).await,
    }
}

#[cfg(feature = "arti")]
async fn open_arti(url: &HttpUrl, args: &PeersArgs) -> Result<BoxStream, String> {
    use torpeer_node::arti::{ArtiClient, ArtiConfig};
    let dir = match &args.arti_dir {
        Some(d) => d.clone(),
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".cache/torpeer/arti-client"))
            .ok_or("HOME is not set: give --arti-dir")?,
    };
    let cfg = match &args.tor_network {
        Some(net_dir) => {
            let net = torpeer_tornet::NetInfo::load(net_dir)
                .map_err(|e| format!("--tor-network {}: {e}", net_dir.display()))?;
            // Its own state under the network's name: a private network's
            // consensus must not mix with the public one's cache.
            ArtiConfig::for_test_network(&net, &dir.join("testnet"))
        }
        None => ArtiConfig::public(dir.join("state"), dir.join("cache")),
    };
    let client = ArtiClient::bootstrap(&cfg)
        .await
        .map_err(|e| format!("arti: {}: {e}", e.code()))?;
    let connect = client.connect_host(&url.host, url.port);
    let stream = tokio::time::timeout(cfg.connect_timeout(), connect)
        .await
        .map_err(|_| format!("no stream within {} s", cfg.connect_timeout_secs))?
        .map_err(|e| format!("{}: {e}", e.code()))?;
    // The stream keeps the client's circuits alive; the client itself may go.
    Ok(Box::new(stream))
}

#[cfg(not(feature = "arti"))]
async fn open_arti(_url: &HttpUrl, _args: &PeersArgs) -> Result<BoxStream, String> {
    Err("this torpeer was built without the `arti` feature: use --via socks".into())
}

async fn run(args: PeersArgs) -> ExitCode {
    let url = if OnionAddress::parse(&args.from).is_ok() {
        format!("http://{}:{DEFAULT_ONION_PORT}/v1/peers", args.from)
    } else {
        args.from.clone()
    };
    let parsed = match HttpUrl::parse(&url) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let stream = match open(&parsed, &args).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: connect {url}: {e}");
            return ExitCode::from(2);
        }
    };
    let list = match client::fetch_over(stream, &parsed).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: fetch {url}: {e}");
            return ExitCode::from(2);
        }
    };
    let network = args.network.as_deref().unwrap_or(&list.network);
    let name = match NetworkName::new(network) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: network {network:?}: {e}");
            return ExitCode::from(1);
        }
    };
    let params = NetworkParams::new(name).with_min_difficulty(args.difficulty);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut failed = 0usize;
    for (i, entry) in list.peers.iter().enumerate() {
        let Some(rec) = &entry.record else {
            eprintln!("entry {i}: no record");
            failed += 1;
            continue;
        };
        if let Err(e) = record::verify(rec, &params, now) {
            eprintln!("entry {i} ({}): {}: {e}", rec.onion, e.code());
            failed += 1;
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&list) {
            Ok(s) => say!("{s}"),
            Err(e) => eprintln!("error: {e}"),
        }
    } else {
        say!(
            "network {} from {} ({} peers)",
            list.network,
            list.source,
            list.peers.len()
        );
        for e in &list.peers {
            if let Some(r) = &e.record {
                let role = torpeer_core::Role::from_proto(r.role).map_or("?", |r| r.as_str());
                say!(
                    "{} {:<11} seq {} {}",
                    r.onion,
                    role,
                    r.sequence,
                    r.tcp_endpoint
                );
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} records failed verification",
            list.peers.len()
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
