//! `torpeer run`: load the config, the key and the PoW, start the transport,
//! the driver and the HTTP API, and run until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use torpeer_node::config::{self, FileConfig, RunConfig, TransportKind};
use torpeer_node::driver::{self, DriverConfig};
use torpeer_node::store::Store;
use torpeer_node::transport::Transport;
use torpeer_node::transport::tcp::TcpTransport;
use torpeer_node::transport::tor::TorTransport;

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
    let rc = RunConfig::resolve(file).map_err(|e| usage(&e))?;
    // Before the proof-of-work, which can take a while.
    #[cfg(not(feature = "arti"))]
    if rc.transport == TransportKind::Arti {
        return Err((2, NO_ARTI.into()));
    }
    let store = Store::open(&rc.data_dir).map_err(|e| usage(&e))?;

    let (hs_dir, network, difficulty) = (rc.hs_dir.clone(), rc.network.clone(), rc.difficulty);
    let keys = tokio::task::spawn_blocking(move || {
        torpeer_node::keys::load_or_create(&hs_dir, &network, difficulty)
    })
    .await
    .map_err(|e| usage(&e))?
    .map_err(|e| usage(&e))?;

    let transport: Arc<dyn Transport> = match rc.transport {
        TransportKind::Tcp => Arc::new(TcpTransport::bind(rc.listen).await.map_err(|e| usage(&e))?),
        TransportKind::Tor => Arc::new(
            TorTransport::bind(rc.listen, rc.socks, rc.onion_port)
                .await
                .map_err(|e| usage(&e))?,
        ),
        TransportKind::Arti => start_arti(&rc).await?,
    };
    tracing::info!(
        onion = %keys.identity.address(),
        transport = transport.name(),
        listen = ?transport.local_addr(),
        "starting node"
    );
    let node = rc.node_config(keys.pow_nonce, keys.pow_difficulty);
    let max_message_len = node.max_message_len;
    let drv = driver::spawn(
        DriverConfig {
            identity: keys.identity,
            node,
            data_dir: Some(rc.data_dir.clone()),
            bootstrap: rc.bootstrap.clone(),
        },
        transport,
    )
    .map_err(|e| usage(&e))?;
    let token = torpeer_node::http::app_api::ApiToken::load_or_create(&rc.data_dir)
        .map_err(|e| usage(&format!("{}: {e}", rc.data_dir.display())))?;
    let options = torpeer_node::http::server::ServeOptions {
        token: Some(token),
        max_message_len,
        ..Default::default()
    };
    let (http_addr, http_task) =
        torpeer_node::http::server::bind_with(rc.http, drv.handle.clone(), options)
            .await
            .map_err(|e| usage(&format!("http {}: {e}", rc.http)))?;
    tracing::info!(%http_addr, "http api listening on http://{http_addr}/");
    store.save_http_addr(http_addr).map_err(|e| usage(&e))?;

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

/// Bootstraps the embedded Tor client and launches the onion service of
/// the HiddenServiceDir key (already created by `keys::load_or_create`).
#[cfg(feature = "arti")]
async fn start_arti(rc: &RunConfig) -> Result<Arc<dyn Transport>, (u8, String)> {
    use torpeer_node::transport::arti::ArtiTransport;
    let started = std::time::Instant::now();
    tracing::info!(
        state_dir = %rc.arti.state_dir.display(),
        private_network = rc.arti.network.is_some(),
        "starting embedded Tor (arti)"
    );
    let transport = ArtiTransport::start(&rc.arti, &rc.hs_dir, rc.onion_port)
        .await
        .map_err(|e| (2, format!("{e} ({})", e.code())))?;
    tracing::info!(
        onion = %transport.onion_address(),
        port = rc.onion_port,
        secs = started.elapsed().as_secs_f64(),
        state = %transport.service_state(),
        "arti bootstrapped; onion service launched"
    );
    Ok(Arc::new(transport))
}

/// Built without the `arti` feature: say so and name the alternatives.
#[cfg(not(feature = "arti"))]
const NO_ARTI: &str = "this torpeer was built without the `arti` cargo feature (embedded \
    Tor, the default transport): rebuild with default features, or choose --transport tor \
    (an external tor) or --transport tcp (loopback, development only)";

#[cfg(not(feature = "arti"))]
async fn start_arti(_rc: &RunConfig) -> Result<Arc<dyn Transport>, (u8, String)> {
    Err((2, NO_ARTI.into()))
}
