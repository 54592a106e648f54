//! [`Builder`]: the settings of `torpeer run`, set from a TOML file, a
//! [`FileConfig`] or method calls, then [`Builder::start`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use torpeer_core::Role;

use super::launch;
use super::{StartError, TorPeer};
use crate::config::{ConfigError, FileConfig, NodeTuning, RunConfig, TransportKind};

/// Settings for a node, the same ones `torpeer run` reads from its TOML
/// file (native/torpeer.example.toml) and flags. Unset fields take the
/// same defaults as `torpeer run`, with one difference: the local HTTP API
/// is served only if [`http`](Self::http) is set (in the file or here), so
/// an application that embeds the node opens no port it did not ask for.
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until start() is awaited"]
pub struct Builder {
    file: FileConfig,
}

impl Builder {
    /// Defaults, as `torpeer run` with no flags.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start from a parsed configuration.
    pub fn from_config(file: FileConfig) -> Self {
        Self { file }
    }

    /// Start from a TOML file (the format of `torpeer run --config`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, StartError> {
        Ok(Self::from_config(FileConfig::load(path.as_ref())?))
    }

    /// Start from TOML text (the format of `torpeer run --config`).
    pub fn from_toml(text: &str) -> Result<Self, StartError> {
        toml::from_str(text).map(Self::from_config).map_err(|e| {
            StartError::Config(ConfigError::Parse {
                path: PathBuf::from("<toml text>"),
                message: e.to_string(),
            })
        })
    }

    /// The configuration so far, to read or change any field.
    pub fn config_mut(&mut self) -> &mut FileConfig {
        &mut self.file
    }

    /// Directory for persisted state (peer table, record sequence,
    /// `api.token`). Default `torpeer-data`.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.file.data_dir = Some(dir.into());
        self
    }

    /// HiddenServiceDir holding the onion key (created if empty). Default
    /// `<data_dir>/hs`.
    pub fn hs_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.file.hs_dir = Some(dir.into());
        self
    }

    /// Which transport carries streams. Default [`TransportKind::Tor`].
    pub fn transport(mut self, kind: TransportKind) -> Self {
        self.file.transport = Some(kind);
        self
    }

    /// Protocol listener: the tcp transport's address, or where tor's
    /// `HiddenServicePort` points. Port 0 picks a free port.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.file.listen = Some(addr);
        self
    }

    /// tor's SOCKS5 port (tor transport).
    pub fn socks(mut self, addr: SocketAddr) -> Self {
        self.file.socks = Some(addr);
        self
    }

    /// Virtual port of the protocol on onion services (default 7447).
    pub fn onion_port(mut self, port: u16) -> Self {
        self.file.onion_port = Some(port);
        self
    }

    /// Serve the local HTTP API (and dashboard) here too, guarded by the
    /// data dir's `api.token`. Port 0 picks a free port
    /// ([`TorPeer::http_addr`] says which).
    pub fn http(mut self, addr: SocketAddr) -> Self {
        self.file.http = Some(addr);
        self
    }

    /// The built dashboard (a directory with `index.html`) the HTTP API
    /// serves at `/`; [`start`](Self::start) fails with a `web_dir` error
    /// if it is not one. Default: the source tree's `web/dist` if present,
    /// else a placeholder page.
    pub fn web_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.file.web_dir = Some(dir.into());
        self
    }

    /// Network name (checked at [`start`](Self::start)).
    pub fn network(mut self, name: impl Into<String>) -> Self {
        self.file.network = Some(name.into());
        self
    }

    /// Minimum proof-of-work difficulty of the network, and ours.
    pub fn difficulty(mut self, bits: u8) -> Self {
        self.file.difficulty = Some(bits);
        self
    }

    /// Participant (the default) or router.
    pub fn role(mut self, role: Role) -> Self {
        self.file.role = Some(role.as_str().to_owned());
        self
    }

    /// Add a bootstrap contact: an onion address, an `http://…/v1/peers`
    /// URL, or on the tcp transport `ONION@HOST:PORT`
    /// ([`TorPeer::contact`] gives a node's).
    pub fn bootstrap(mut self, contact: impl Into<String>) -> Self {
        self.file.bootstrap.push(contact.into());
        self
    }

    /// Largest application message sent or accepted (default 1 MiB).
    pub fn max_message_len(mut self, bytes: usize) -> Self {
        self.file.node.max_message_len = Some(bytes);
        self
    }

    /// Messages that may wait per peer before [`TorPeer::send`] answers
    /// [`SendError::QueueFull`](super::SendError::QueueFull) (default 64).
    pub fn send_queue_len(mut self, messages: usize) -> Self {
        self.file.node.send_queue_len = Some(messages);
        self
    }

    /// Replace the core tuning (`[node]` section) as a whole.
    pub fn tuning(mut self, tuning: NodeTuning) -> Self {
        self.file.node = tuning;
        self
    }

    /// Start the node: load or create the key and solve its proof-of-work
    /// (blocking work runs on tokio's blocking pool), bind the transport,
    /// start the driver and, if asked, the HTTP API. Must be awaited inside
    /// a tokio runtime with I/O and timers enabled.
    pub async fn start(self) -> Result<TorPeer, StartError> {
        let serve_http = self.file.http;
        let rc = RunConfig::resolve(self.file)?;
        let launched = launch::launch(&rc).await?;
        let http = match serve_http {
            Some(addr) => match launch::serve_api(&launched, addr).await {
                Ok(served) => Some(served),
                Err(e) => {
                    launched.driver.handle.shutdown().await;
                    let _ = launched.driver.task.await;
                    return Err(e.into());
                }
            },
            None => None,
        };
        Ok(TorPeer::new(launched, http))
    }
}
