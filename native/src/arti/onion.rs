//! `ArtiOnion`: one arti `TorClient` that hosts the node's onion service and
//! dials other onions.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arti_client::{DataStream, TorClient};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tor_cell::relaycell::msg::Connected;
use tor_hsservice::config::OnionServiceConfigBuilder;
use tor_hsservice::status::{OnionServiceStatus, Problem, State};
use tor_hsservice::{OnionServiceConfig, RunningOnionService, StreamRequest};
use tor_proto::stream::IncomingStreamRequest;
use tor_rtcompat::PreferredRuntime;
use torpeer_core::onion::OnionAddress;

use super::supervise::{Decision, Health, Reason, RestartPolicy, Supervisor};
use super::{ArtiConfig, ArtiError};
use crate::hsdir_fs;
use crate::transport::OnionServiceReport;

/// Incoming streams wait here until the node takes them; beyond this the
/// rendezvous side is back-pressured.
const INCOMING_QUEUE: usize = 64;

/// The supervisor re-evaluates at least this often.
const SUPERVISE_TICK: Duration = Duration::from_secs(5);

/// Longest `problem` text in the status report.
const PROBLEM_MAX_CHARS: usize = 300;

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
    address: OnionAddress,
    /// Written by the supervisor, read by status output.
    report: Arc<Mutex<OnionServiceReport>>,
    /// Asks the supervisor for a restart ([`ArtiOnion::restart_service`]).
    restart: Arc<Notify>,
    /// Owns the running service: launches it again when it breaks, and
    /// feeds accepted streams into the receiver `start` returned.
    supervisor: tokio::task::JoinHandle<()>,
}

impl ArtiOnion {
    /// Bootstraps arti with `cfg`, launches the onion service of the key in
    /// `hs_dir`, and accepts rendezvous streams to `virtual_port` (streams to
    /// other ports are refused). Accepted streams arrive on the returned
    /// receiver; dropping it makes the service refuse new streams.
    ///
    /// The service is supervised ([`super::supervise`]): if it stays
    /// `Broken`, or stops delivering rendezvous requests, it is dropped and
    /// launched again with the same key and nickname (with back-off), and
    /// its streams keep arriving on the same receiver.
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
        let launcher = Launcher {
            client: Arc::clone(&client),
            config: svc_cfg,
            expected,
            hs_dir: hs_dir.to_path_buf(),
        };
        let (service, requests) = launcher.launch()?;
        let report = Arc::new(Mutex::new(report_of(&service.status(), 0)));
        let restart = Arc::new(Notify::new());

        let (tx, rx) = mpsc::channel(INCOMING_QUEUE);
        let supervisor = tokio::spawn(supervise(
            launcher,
            Generation { service, requests },
            virtual_port,
            tx,
            Arc::clone(&report),
            Arc::clone(&restart),
            RestartPolicy::default(),
        ));
        Ok((
            ArtiOnion {
                client,
                address: expected,
                report,
                restart,
                supervisor,
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
        self.service_report().state
    }

    /// The service's state, current problem and restart count.
    pub fn service_report(&self) -> OnionServiceReport {
        lock(&self.report).clone()
    }

    /// Asks the supervisor to drop and relaunch the service now (subject to
    /// its back-off), as it does by itself when the service breaks. For
    /// tests and operators; streams keep arriving on the same receiver.
    pub fn restart_service(&self) {
        self.restart.notify_one();
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

    /// Stops the onion service and its supervisor. Open streams stay open
    /// until their owners drop them; the client shuts down when the last
    /// stream is gone.
    pub async fn shutdown(mut self) {
        // The supervisor owns the RunningOnionService; dropping it (with the
        // task) stops the service.
        self.supervisor.abort();
        let _ = (&mut self.supervisor).await;
    }
}

// arti's client and service types are not `Debug`.
impl std::fmt::Debug for ArtiOnion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtiOnion")
            .field("address", &self.address)
            .field("service", &self.service_report())
            .finish_non_exhaustive()
    }
}

impl Drop for ArtiOnion {
    fn drop(&mut self) {
        self.supervisor.abort();
    }
}

/// The report mutex only guards plain data: a panic while holding it
/// leaves nothing inconsistent, so a poisoned lock is used as is.
fn lock(report: &Mutex<OnionServiceReport>) -> std::sync::MutexGuard<'_, OnionServiceReport> {
    report
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Everything needed to launch the service again, the same way.
struct Launcher {
    client: Arc<TorClient<PreferredRuntime>>,
    config: OnionServiceConfig,
    expected: OnionAddress,
    hs_dir: PathBuf,
}

/// One launch of the service: dropping `service` stops it.
struct Generation {
    service: Arc<RunningOnionService>,
    requests: BoxStream<'static, StreamRequest>,
}

impl Launcher {
    /// Launches the service (same nickname, so the same keys from the
    /// C-tor keystore and the same state under arti's state dir) and checks
    /// that it serves the HiddenServiceDir's address.
    fn launch(
        &self,
    ) -> Result<(Arc<RunningOnionService>, BoxStream<'static, StreamRequest>), ArtiError> {
        let (service, rend_requests) = self
            .client
            .launch_onion_service(self.config.clone())
            .map_err(|e| ArtiError::Launch(e.to_string()))?
            .ok_or_else(|| ArtiError::Launch("onion service is disabled".into()))?;
        let served = service
            .onion_address()
            .ok_or_else(|| ArtiError::Launch("arti found no identity key".into()))?;
        let served_bytes: &[u8; 32] = served.as_ref();
        let served = OnionAddress::from_public_key(*served_bytes)
            .map_err(|e| ArtiError::Launch(format!("arti serves an invalid key: {e}")))?;
        if served != self.expected {
            return Err(ArtiError::KeyMismatch {
                dir: self.hs_dir.clone(),
                expected: self.expected.to_string(),
                served: served.to_string(),
            });
        }
        Ok((
            service,
            tor_hsservice::handle_rend_requests(rend_requests).boxed(),
        ))
    }
}

/// What the decision type needs of arti's status.
fn health(status: &OnionServiceStatus) -> Health {
    match status.state() {
        State::Broken => Health::Broken {
            problem: status.current_problem().is_some(),
        },
        State::Recovering => Health::Recovering,
        _ => Health::Other,
    }
}

/// `status` as `/v1/status` shows it.
fn report_of(status: &OnionServiceStatus, restarts: u64) -> OnionServiceReport {
    OnionServiceReport {
        state: format!("{:?}", status.state()),
        problem: status.current_problem().map(problem_text),
        restarts,
    }
}

/// One line for arti's problem: the kind, then each error with its causes.
fn problem_text(problem: &Problem) -> String {
    fn chain(e: &dyn std::error::Error) -> String {
        let mut out = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }
    fn all<E: std::error::Error>(errors: &[E]) -> String {
        errors
            .iter()
            .map(|e| chain(e))
            .collect::<Vec<_>>()
            .join("; ")
    }
    // arti sometimes reports a kind with an empty error list.
    let kind = |kind: &str, detail: String| {
        if detail.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}: {detail}")
        }
    };
    let text = match problem {
        Problem::Runtime(e) => kind("runtime", chain(e)),
        Problem::DescriptorUpload(errors) => kind("descriptor upload", all(errors)),
        Problem::Ipt(errors) => kind("introduction points", all(errors)),
        other => format!("{other:?}"),
    };
    let text = text.replace('\n', " ");
    match text.char_indices().nth(PROBLEM_MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Runs the service: accepts its streams into `tx`, watches its status, and
/// when the [`Supervisor`] says so drops it and launches it again. Returns
/// when the node drops the receiver.
async fn supervise(
    launcher: Launcher,
    mut current: Generation,
    virtual_port: u16,
    tx: mpsc::Sender<IncomingStream>,
    report: Arc<Mutex<OnionServiceReport>>,
    restart: Arc<Notify>,
    policy: RestartPolicy,
) {
    let mut sup = Supervisor::new(policy, Instant::now());
    loop {
        let reason =
            run_generation(&mut current, &mut sup, virtual_port, &tx, &report, &restart).await;
        let Some(reason) = reason else { return };
        let before = lock(&report).clone();
        tracing::warn!(
            reason = reason.as_str(),
            state = %before.state,
            problem = before.problem.as_deref().unwrap_or("-"),
            restarts = before.restarts,
            "restarting the onion service"
        );
        // Drop the old service first: it holds the lock on its state dir,
        // which the new launch takes.
        let Generation { service, requests } = current;
        drop(requests);
        drop(service);
        current = loop {
            // Let the old service's tasks wind down and release the lock.
            tokio::time::sleep(Duration::from_millis(500)).await;
            sup.restarted(Instant::now());
            lock(&report).restarts = sup.restarts();
            match launcher.launch() {
                Ok((service, requests)) => {
                    let status = service.status();
                    *lock(&report) = report_of(&status, sup.restarts());
                    tracing::info!(
                        restarts = sup.restarts(),
                        state = ?status.state(),
                        "onion service relaunched"
                    );
                    break Generation { service, requests };
                }
                Err(e) => {
                    sup.launch_failed();
                    {
                        let mut r = lock(&report);
                        r.state = "Shutdown".to_owned();
                        r.problem = Some(format!("relaunch failed: {e}"));
                    }
                    tracing::warn!(error = %e, code = e.code(), restarts = sup.restarts(), "onion service relaunch failed");
                    while let Decision::Wait(_, at) = sup.decide(Instant::now()) {
                        tokio::select! {
                            () = tokio::time::sleep_until(at) => {}
                            () = tx.closed() => return,
                        }
                    }
                }
            }
        };
    }
}

/// Serves one launch of the service until the supervisor wants a restart
/// (`Some(reason)`) or the node dropped the receiver (`None`).
async fn run_generation(
    current: &mut Generation,
    sup: &mut Supervisor,
    virtual_port: u16,
    tx: &mpsc::Sender<IncomingStream>,
    report: &Mutex<OnionServiceReport>,
    restart: &Notify,
) -> Option<Reason> {
    let mut status = current.service.status_events();
    let (mut status_open, mut requests_open) = (true, true);
    let mut last_state = None;
    loop {
        let now = Instant::now();
        let wake = match sup.decide(now) {
            Decision::Restart(reason) => return Some(reason),
            Decision::Wait(_, at) => at.min(now + SUPERVISE_TICK),
            Decision::Keep => now + SUPERVISE_TICK,
        };
        tokio::select! {
            event = status.next(), if status_open => match event {
                Some(st) => {
                    let new = report_of(&st, sup.restarts());
                    let state = st.state();
                    if last_state != Some(state) {
                        last_state = Some(state);
                        let problem = new.problem.as_deref().unwrap_or("-");
                        if matches!(state, State::Broken | State::Recovering) {
                            tracing::warn!(state = ?state, problem, "onion service state");
                        } else {
                            tracing::info!(state = ?state, problem, "onion service state");
                        }
                    }
                    *lock(report) = new;
                    sup.observe(Instant::now(), health(&st));
                }
                None => {
                    status_open = false;
                    tracing::error!("the onion service's status stream ended");
                    sup.stream_ended(Instant::now());
                }
            },
            req = current.requests.next(), if requests_open => match req {
                Some(req) => {
                    if !accept(req, virtual_port, tx) {
                        return None;
                    }
                }
                None => {
                    // arti ended the request stream: the service can no
                    // longer be reached until it is launched again.
                    requests_open = false;
                    tracing::error!("the onion service stopped delivering streams");
                    sup.stream_ended(Instant::now());
                }
            },
            () = restart.notified() => sup.request(Instant::now()),
            () = tx.closed() => return None,
            () = tokio::time::sleep_until(wake) => {}
        }
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

/// Accepts a BEGIN to `virtual_port` and hands the stream over; refuses
/// anything else by closing that circuit. `false` once the node has dropped
/// the receiver.
fn accept(req: StreamRequest, virtual_port: u16, tx: &mpsc::Sender<IncomingStream>) -> bool {
    let wanted =
        matches!(req.request(), IncomingStreamRequest::Begin(b) if b.port() == virtual_port);
    if !wanted {
        let _ = req.shutdown_circuit();
        return true;
    }
    if tx.is_closed() {
        return false;
    }
    let tx = tx.clone();
    // Accepting sends CONNECTED over the circuit: don't let one slow
    // rendezvous hold up the others.
    tokio::spawn(async move {
        if let Ok(stream) = req.accept(Connected::new_empty()).await {
            let _ = tx.send(IncomingStream { stream }).await;
        }
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_text_names_the_kind_without_an_empty_tail() {
        assert_eq!(
            problem_text(&Problem::Ipt(Vec::new())),
            "introduction points"
        );
        assert_eq!(
            problem_text(&Problem::DescriptorUpload(Vec::new())),
            "descriptor upload"
        );
    }
}
