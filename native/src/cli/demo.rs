//! `torpeer demo [--nodes N] [--http ADDR] [--web-dir DIR]`: N nodes on
//! loopback TCP in this process (node 0 a router, the rest participants)
//! that find each other through the router; prints `dashboard: http://…/`
//! and runs until Ctrl-C. Every node serves the dashboard of `--web-dir`
//! (else the source tree's `web/dist`, else a placeholder) at `/`.

use super::output::say;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use torpeer_core::{Identity, NetworkName, NetworkParams, NodeConfig, Role, pow};
use torpeer_node::driver::{self, Bootstrap, DriverConfig};
use torpeer_node::transport::Transport;
use torpeer_node::transport::tcp::TcpTransport;

/// Demo network name and difficulty: low so start-up is instant.
const DEMO_NETWORK: &str = "torpeer-demo";
const DEMO_DIFFICULTY: u8 = 8;

/// Flags of `torpeer demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Number of nodes (the first is a router).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=200))]
    nodes: u16,
    /// HTTP API (and dashboard) address of the first node.
    #[arg(long, default_value = torpeer_node::config::DEFAULT_HTTP)]
    http: SocketAddr,
    /// The built dashboard (a directory with index.html, e.g. web/dist);
    /// must exist. Default: the source tree's web/dist if present, else a
    /// placeholder page.
    #[arg(long, value_name = "DIR")]
    web_dir: Option<PathBuf>,
    /// More logging.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

pub(crate) fn main(args: DemoArgs) -> ExitCode {
    super::init_logging(args.verbose);
    let rt = match super::node_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: DemoArgs) -> Result<(), String> {
    // Before any proof-of-work: a wrong --web-dir fails at once.
    let web_dir = torpeer_node::config::resolve_web_dir(args.web_dir.as_deref())
        .map_err(|e| format!("{e} ({})", e.code()))?;
    torpeer_node::http::server::log_web_dir(web_dir.as_deref());
    let network = NetworkName::new(DEMO_NETWORK).map_err(|e| e.to_string())?;
    let params = NetworkParams::new(network.clone()).with_min_difficulty(DEMO_DIFFICULTY);
    let mut drivers = Vec::new();
    let mut router: Option<Bootstrap> = None;
    // One token for every demo node's application API (nothing is kept on
    // disk in a demo); printed so a local application can use it.
    let token = torpeer_node::http::app_api::ApiToken::generate().map_err(|e| e.to_string())?;
    say!("api token: {}", token.expose());
    let mut dashboard = None;
    for i in 0..args.nodes {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
        let identity = Identity::from_seed(&seed).map_err(|e| e.to_string())?;
        let (nonce, _) = pow::solve(&network.id(), &identity.address(), DEMO_DIFFICULTY)
            .map_err(|e| e.to_string())?;
        let role = if i == 0 {
            Role::Router
        } else {
            Role::Participant
        };
        let config = NodeConfig::new(params.clone(), role, nonce, DEMO_DIFFICULTY);
        let transport = TcpTransport::bind(([127, 0, 0, 1], 0).into())
            .await
            .map_err(|e| e.to_string())?;
        let listen = transport.local_addr();
        let onion = identity.address();
        let drv = driver::spawn(
            DriverConfig {
                identity,
                node: config,
                data_dir: None,
                bootstrap: router.iter().cloned().collect(),
            },
            Arc::new(transport),
        )
        .map_err(|e| e.to_string())?;
        let http = if i == 0 {
            args.http
        } else {
            ([127, 0, 0, 1], 0).into()
        };
        let options = torpeer_node::http::server::ServeOptions {
            token: Some(token.clone()),
            web_dir: web_dir.clone(),
            ..Default::default()
        };
        let (addr, _task) =
            torpeer_node::http::server::bind_with(http, drv.handle.clone(), options)
                .await
                .map_err(|e| format!("http {http}: {e}"))?;
        say!(
            "node {i}: {onion} {} tcp {listen:?} http http://{addr}/",
            role.as_str()
        );
        if i == 0 {
            if let Some(l) = listen {
                router = Some(Bootstrap::Tcp(onion, l));
            }
            dashboard = Some(addr);
        }
        drivers.push(drv);
    }
    if let Some(addr) = dashboard {
        say!("dashboard: http://{addr}/");
    }
    super::shutdown_signal().await;
    for d in &drivers {
        d.handle.shutdown().await;
    }
    for d in drivers {
        let _ = d.task.await;
    }
    Ok(())
}
