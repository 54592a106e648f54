//! `ArtiOnion`: one arti `TorClient` that hosts the node's onion service and
//! dials other onions.

use std::path::Path;
use std::sync::Arc;

use arti_client::{DataStream, TorClient};
use futures::StreamExt as _;
use tokio::sync::mpsc;
use tor_cell::relaycell::msg::Connected;
use tor_hsservice::config::OnionServiceConfigBuilder;
use tor_hsservice::{RunningOnionService, StreamRequest};
use tor_proto::stream::IncomingStreamRequest;
use tor_rtcompat::PreferredRuntime;
use torpeer_core::onion::OnionAddress;

use super::{ArtiConfig, ArtiError};
use crate::hsdir_fs;

/// Incoming streams wait here until the node takes them; beyond this the
/// rendezvous side is back-pressured.
const INCOMING_QUEUE: usize = 64;

/// A stream a peer opened to our onion service.
#[derive(Debug)]
pub struct IncomingStream {
    /// The stream: tokio `AsyncRead + AsyncWrite`. When either side drops
    /// it, Tor sends END with reason MISC and the reader sees an error after
    /// the data, not a clean EOF — frame messages, don't rely on EOF.
    pub stream: DataStream,
}

/// The embedded Tor transport: a bootstrapped arti client running the
/// onion service whose key is in a C-tor HiddenServiceDir.
///
/// The key is read from the HiddenServiceDir through arti's read-only C-tor
/// keystore, so the identity that signs TorPeer records is exactly the one
/// Tor publishes — [`ArtiOnion::start`] checks that the two addresses agree.
pub struct ArtiOnion {
    client: Arc<TorClient<PreferredRuntime>>,
    service: Option<Arc<RunningOnionService>>,
    address: OnionAddress,
    accept_task: tokio::task::JoinHandle<()>,
}

impl ArtiOnion {
    /// Bootstraps arti with `cfg`, launches the onion service of the key in
    /// `hs_dir`, and accepts rendezvous streams to `virtual_port` (streams to
    /// other ports are refused). Accepted streams arrive on the returned
    /// receiver; dropping it makes the service refuse new streams.
    ///
    /// Must be called inside a tokio runtime.
    pub async fn start(
        cfg: &ArtiConfig,
        hs_dir: &Path,
        virtual_port: u16,
    ) -> Result<(ArtiOnion, mpsc::Receiver<IncomingStream>), ArtiError> {
        // arti's constructor panics outside a runtime; make that an error.
        tokio::runtime::Handle::try_current().map_err(|_| ArtiError::NoRuntime)?;
        let keys = hsdir_fs::read_hs_dir(hs_dir)?;
        let expected = keys.identity.address();

        let client = bootstrap(cfg, Some(hs_dir)).await?;

        let svc_cfg = OnionServiceConfigBuilder::default()
            .nickname(cfg.hs_nickname()?)
            .build()
            .map_err(|e| ArtiError::Config(e.to_string()))?;
        let (service, rend_requests) = client
            .launch_onion_service(svc_cfg)
            .map_err(|e| ArtiError::Launch(e.to_string()))?
            .ok_or_else(|| ArtiError::Launch("onion service is disabled".into()))?;

        let served = service
            .onion_address()
            .ok_or_else(|| ArtiError::Launch("arti found no identity key".into()))?;
        let served_bytes: &[u8; 32] = served.as_ref();
        let served = OnionAddress::from_public_key(*served_bytes)
            .map_err(|e| ArtiError::Launch(format!("arti serves an invalid key: {e}")))?;
        if served != expected {
            return Err(ArtiError::KeyMismatch {
                dir: hs_dir.to_path_buf(),
                expected: expected.to_string(),
                served: served.to_string(),
            });
        }

        let (tx, rx) = mpsc::channel(INCOMING_QUEUE);
        let accept_task = tokio::spawn(accept_loop(
            tor_hsservice::handle_rend_requests(rend_requests),
            virtual_port,
            tx,
        ));
        Ok((
            ArtiOnion {
                client,
                service: Some(service),
                address: served,
                accept_task,
            },
            rx,
        ))
    }

    /// The address arti serves (equal to the HiddenServiceDir's).
    pub fn onion_address(&self) -> &OnionAddress {
        &self.address
    }

    /// A short description of the service's state (`Running`,
    /// `DegradedUnreachable`, …), for status output. In young test networks
    /// it rarely says `Running` although the service is reachable.
    pub fn service_state(&self) -> String {
        self.service
            .as_ref()
            .map(|s| format!("{:?}", s.status().state()))
            .unwrap_or_else(|| "Shutdown".to_owned())
    }

    /// Opens a stream to `onion:port`. Validate-then-dial: a malformed
    /// address never reaches Tor.
    pub async fn dial(&self, onion: &str, port: u16) -> Result<DataStream, ArtiError> {
        let address = OnionAddress::parse(onion.trim())
            .map_err(|e| ArtiError::BadAddress(format!("{onion}: {e}")))?;
        let host = address.to_string();
        self.client
            .connect((host.as_str(), port))
            .await
            .map_err(|source| ArtiError::Connect {
                target: format!("{host}:{port}"),
                source,
            })
    }

    /// Opens a stream to `host:port` through Tor: an onion service, or any
    /// other host through an exit (arti resolves names at the exit; private
    /// addresses such as 127.0.0.1 only when `allow_local_addrs` is set).
    /// Never a direct connection.
    pub async fn connect_host(&self, host: &str, port: u16) -> Result<DataStream, ArtiError> {
        connect_host(&self.client, host, port).await
    }

    /// Stops the onion service and the accept loop. Open streams stay open
    /// until their owners drop them; the client shuts down when the last
    /// stream is gone.
    pub async fn shutdown(mut self) {
        self.accept_task.abort();
        let _ = (&mut self.accept_task).await;
        // Dropping the RunningOnionService stops the service.
        self.service = None;
    }
}

// arti's client and service types are not `Debug`.
impl std::fmt::Debug for ArtiOnion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtiOnion")
            .field("address", &self.address)
            .field("service_running", &self.service.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for ArtiOnion {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

/// A bootstrapped arti client for `cfg`, with the C-tor keystore of
/// `hs_dir` when there is one.
async fn bootstrap(
    cfg: &ArtiConfig,
    hs_dir: Option<&Path>,
) -> Result<Arc<TorClient<PreferredRuntime>>, ArtiError> {
    let tor_cfg = cfg.to_tor_client_config(hs_dir)?;
    let client = TorClient::builder()
        .config(tor_cfg)
        .create_unbootstrapped_async()
        .await
        .map_err(ArtiError::Create)?;
    // Bounded: without a network `bootstrap()` keeps retrying forever, and
    // a node that never starts must say why instead of hanging.
    let progress = tokio::spawn(log_bootstrap_progress(client.bootstrap_events()));
    let bootstrapped = tokio::time::timeout(cfg.bootstrap_timeout(), client.bootstrap()).await;
    progress.abort();
    match bootstrapped {
        Ok(Ok(())) => Ok(client),
        Ok(Err(e)) => Err(ArtiError::Bootstrap(e)),
        Err(_) => Err(ArtiError::BootstrapTimeout {
            secs: cfg.bootstrap_timeout_secs,
            status: client.bootstrap_status().to_string(),
        }),
    }
}

/// A dial-only arti client: no onion service, no keys. For tools that
/// fetch from onions without being a node (`torpeer peers --via arti`).
pub struct ArtiClient {
    client: Arc<TorClient<PreferredRuntime>>,
}

impl ArtiClient {
    /// Bootstraps arti with `cfg` (its state and cache directories; the
    /// nickname is unused). Must be called inside a tokio runtime.
    pub async fn bootstrap(cfg: &ArtiConfig) -> Result<ArtiClient, ArtiError> {
        tokio::runtime::Handle::try_current().map_err(|_| ArtiError::NoRuntime)?;
        Ok(ArtiClient {
            client: bootstrap(cfg, None).await?,
        })
    }

    /// Opens a stream to `host:port` through Tor, as
    /// [`ArtiOnion::connect_host`] does.
    pub async fn connect_host(&self, host: &str, port: u16) -> Result<DataStream, ArtiError> {
        connect_host(&self.client, host, port).await
    }
}

impl std::fmt::Debug for ArtiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtiClient").finish_non_exhaustive()
    }
}

/// `host:port` through Tor, never directly; an onion address is validated
/// before it reaches Tor.
async fn connect_host(
    client: &TorClient<PreferredRuntime>,
    host: &str,
    port: u16,
) -> Result<DataStream, ArtiError> {
    let host = host.trim();
    let host = if host.ends_with(".onion") {
        OnionAddress::parse(host)
            .map_err(|e| ArtiError::BadAddress(format!("{host}: {e}")))?
            .to_string()
    } else {
        host.to_owned()
    };
    client
        .connect((host.as_str(), port))
        .await
        .map_err(|source| ArtiError::Connect {
            target: format!("{host}:{port}"),
            source,
        })
}

/// Logs arti's bootstrap progress at every tenth, so a slow start shows
/// where it is stuck.
async fn log_bootstrap_progress(events: arti_client::status::BootstrapEvents) {
    let mut events = std::pin::pin!(events);
    let mut logged = -1i32;
    while let Some(status) = events.next().await {
        // as_frac() is in 0.0..=1.0; tenths fit an i32.
        #[allow(clippy::cast_possible_truncation)]
        let tenth = (status.as_frac() * 10.0).floor() as i32;
        if tenth > logged {
            logged = tenth;
            tracing::info!(%status, "arti bootstrap");
        }
    }
}

/// Accepts BEGIN requests to `virtual_port` and hands the streams over;
/// refuses anything else by closing that circuit.
async fn accept_loop(
    requests: impl futures::Stream<Item = StreamRequest>,
    virtual_port: u16,
    tx: mpsc::Sender<IncomingStream>,
) {
    let mut requests = std::pin::pin!(requests);
    while let Some(req) = requests.next().await {
        let wanted =
            matches!(req.request(), IncomingStreamRequest::Begin(b) if b.port() == virtual_port);
        if !wanted {
            let _ = req.shutdown_circuit();
            continue;
        }
        if tx.is_closed() {
            break;
        }
        let tx = tx.clone();
        // Accepting sends CONNECTED over the circuit: don't let one slow
        // rendezvous hold up the others.
        tokio::spawn(async move {
            if let Ok(stream) = req.accept(Connected::new_empty()).await {
                let _ = tx.send(IncomingStream { stream }).await;
            }
        });
    }
    if !tx.is_closed() {
        // arti ended the request stream: the service is gone and the node
        // can no longer be reached; say so once, loudly.
        tracing::error!("the onion service stopped delivering streams");
    }
}
