//! How a node is put together from a [`RunConfig`]: data dir, key and
//! proof-of-work, transport, driver, and (optionally) the local HTTP API.
//!
//! `torpeer run` and the embedding facade ([`TorPeer`](super::TorPeer)) both
//! go through these functions, so a TOML file starts the same node whether a
//! person runs the binary or an application links the library. Adding a
//! transport means adding one arm to [`build_transport`].

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::config::{RunConfig, TransportKind};
use crate::driver::{self, Driver, DriverConfig, DriverError};
use crate::http::app_api::ApiToken;
use crate::http::server::{self, ServeOptions};
use crate::keys::{self, KeysError, NodeKeys};
use crate::store::{Store, StoreError};
use crate::transport::tcp::TcpTransport;
use crate::transport::tor::TorTransport;
use crate::transport::{Transport, TransportError};

/// Why a node could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The data directory cannot be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HiddenServiceDir key or the proof-of-work.
    #[error(transparent)]
    Keys(#[from] KeysError),
    /// The transport could not bind or start.
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// The configured transport is not part of this build.
    #[error("{0}")]
    Unavailable(&'static str),
    /// The driver refused to start.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// `api.token` could not be read or written.
    #[error("api token in {dir}: {source}")]
    Token {
        /// The data directory.
        dir: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The HTTP API could not bind.
    #[error("http {addr}: {source}")]
    Http {
        /// The address asked for.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// A blocking task (key loading, PoW) panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
}

impl LaunchError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Store(e) => e.code(),
            Self::Keys(e) => e.code(),
            Self::Transport(e) => e.code(),
            Self::Unavailable(_) => "transport_unavailable",
            Self::Driver(e) => e.code(),
            Self::Token { .. } => "api_token",
            Self::Http { .. } => "http_bind",
            Self::Task(_) => "task_failed",
        }
    }
}

/// Load (or create) the node's key from `rc.hs_dir` and a proof-of-work for
/// its network and difficulty. Solving can take a while and uses every
/// core, so it runs on tokio's blocking pool.
pub async fn load_keys(rc: &RunConfig) -> Result<NodeKeys, LaunchError> {
    let (hs_dir, network, difficulty) = (rc.hs_dir.clone(), rc.network.clone(), rc.difficulty);
    tokio::task::spawn_blocking(move || keys::load_or_create(&hs_dir, &network, difficulty))
        .await
        .map_err(|e| LaunchError::Task(e.to_string()))?
        .map_err(LaunchError::from)
}

/// The transport `rc` asks for, bound and ready to accept.
pub async fn build_transport(
    rc: &RunConfig,
    _keys: &NodeKeys,
) -> Result<Arc<dyn Transport>, LaunchError> {
    Ok(match rc.transport {
        TransportKind::Tcp => Arc::new(TcpTransport::bind(rc.listen).await?),
        TransportKind::Tor => {
            Arc::new(TorTransport::bind(rc.listen, rc.socks, rc.onion_port).await?)
        }
        TransportKind::Arti => start_arti(rc).await?,
    })
}

/// Bootstraps the embedded Tor client and launches the onion service of
/// the HiddenServiceDir key (already created by [`load_keys`]).
#[cfg(feature = "arti")]
async fn start_arti(rc: &RunConfig) -> Result<Arc<dyn Transport>, LaunchError> {
    use crate::transport::arti::ArtiTransport;
    let started = std::time::Instant::now();
    tracing::info!(
        state_dir = %rc.arti.state_dir.display(),
        private_network = rc.arti.network.is_some(),
        "starting embedded Tor (arti)"
    );
    let transport = ArtiTransport::start(&rc.arti, &rc.hs_dir, rc.onion_port)
        .await
        .map_err(TransportError::from)?;
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
async fn start_arti(_rc: &RunConfig) -> Result<Arc<dyn Transport>, LaunchError> {
    Err(LaunchError::Unavailable(NO_ARTI))
}

/// A node started from a [`RunConfig`], before its HTTP API.
#[derive(Debug)]
pub struct Launched {
    /// The running driver.
    pub driver: Driver,
    /// The opened data directory.
    pub store: Store,
    /// The largest application message this node sends or accepts.
    pub max_message_len: usize,
    /// The dashboard [`serve_api`] serves at `/` (`RunConfig::web_dir`).
    pub web_dir: Option<std::path::PathBuf>,
}

/// Open the data dir, load the key and PoW, bind the transport and start
/// the driver (which loads the persisted table). Must run inside a tokio
/// runtime.
pub async fn launch(rc: &RunConfig) -> Result<Launched, LaunchError> {
    // Before the proof-of-work, which can take a while.
    #[cfg(not(feature = "arti"))]
    if rc.transport == TransportKind::Arti {
        return Err(LaunchError::Unavailable(NO_ARTI));
    }
    let store = Store::open(&rc.data_dir)?;
    let keys = load_keys(rc).await?;
    let transport = build_transport(rc, &keys).await?;
    tracing::info!(
        onion = %keys.identity.address(),
        transport = transport.name(),
        listen = ?transport.local_addr(),
        "starting node"
    );
    let node = rc.node_config(keys.pow_nonce, keys.pow_difficulty);
    let max_message_len = node.max_message_len;
    let driver = driver::spawn(
        DriverConfig {
            identity: keys.identity,
            node,
            data_dir: Some(rc.data_dir.clone()),
            bootstrap: rc.bootstrap.clone(),
        },
        transport,
    )?;
    Ok(Launched {
        driver,
        store,
        max_message_len,
        web_dir: rc.web_dir.clone(),
    })
}

/// Serve the local HTTP API of a launched node on `addr`, guarded by the
/// data dir's `api.token` (created on first start), with the dashboard of
/// [`Launched::web_dir`] at `/`, and record the bound
/// address in `<data-dir>/http.addr`. Returns the bound address and the
/// server task.
pub async fn serve_api(
    launched: &Launched,
    addr: SocketAddr,
) -> Result<(SocketAddr, JoinHandle<()>), LaunchError> {
    let dir = launched.store.dir().to_path_buf();
    let token = ApiToken::load_or_create(&dir).map_err(|source| LaunchError::Token {
        dir: dir.clone(),
        source,
    })?;
    let options = ServeOptions {
        token: Some(token),
        web_dir: launched.web_dir.clone(),
        max_message_len: launched.max_message_len,
    };
    let (bound, task) = server::bind_with(addr, launched.driver.handle.clone(), options)
        .await
        .map_err(|source| LaunchError::Http { addr, source })?;
    tracing::info!(http_addr = %bound, "http api listening on http://{bound}/");
    server::log_web_dir(launched.web_dir.as_deref());
    if let Err(e) = launched.store.save_http_addr(bound) {
        task.abort();
        return Err(e.into());
    }
    Ok((bound, task))
}
