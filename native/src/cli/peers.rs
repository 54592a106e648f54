//! `torpeer peers --from URL_OR_ONION [--json]`: fetch a bootstrap list and
//! verify every record in it. Exit 1 if any record fails (reasons on stderr).

use super::output::say;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;
use tokio::net::TcpStream;
use torpeer_core::network::DEFAULT_DIFFICULTY;
use torpeer_core::{NetworkName, NetworkParams, OnionAddress, record};
use torpeer_node::http::client::{self, HttpUrl};
use torpeer_node::transport::{BoxStream, DEFAULT_ONION_PORT, TransportError, socks};

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
    /// tor's SOCKS5 port, for onion addresses and .onion URLs.
    #[arg(long, default_value = torpeer_node::config::DEFAULT_SOCKS)]
    socks: SocketAddr,
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

async fn open(url: &HttpUrl, socks_addr: SocketAddr) -> Result<BoxStream, TransportError> {
    let tcp = if url.host.ends_with(".onion") {
        let s = TcpStream::connect(socks_addr).await?;
        Box::new(socks::connect(s, &url.host, url.port).await?) as BoxStream
    } else {
        Box::new(TcpStream::connect((url.host.as_str(), url.port)).await?) as BoxStream
    };
    Ok(tcp)
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
    let stream = match open(&parsed, args.socks).await {
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
