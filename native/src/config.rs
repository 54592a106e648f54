//! `torpeer run` configuration: a TOML file (`--config FILE`, see
//! `native/torpeer.example.toml`) with command-line flags on top.
//!
//! Every field is optional; [`RunConfig::resolve`] applies defaults and
//! checks what the node cannot check itself (a `ONION@HOST:PORT` bootstrap
//! is refused on Tor transports — no IP endpoints there).
//!
//! The default transport is the embedded Tor client (`arti`), configured by
//! the `[arti]` section ([`ArtiSection`]); its state lives under
//! `<data_dir>/arti/` unless set. `tor_network` (`--tor-network DIR`) joins
//! the private network `torpeer tor-testnet up --dir DIR` launched, from its
//! `net.json`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use torpeer_core::network::DEFAULT_DIFFICULTY;
use torpeer_core::{NetworkName, NetworkParams, NodeConfig, OnionAddress, Role};

use crate::arti::{ArtiConfig, CustomNetwork, TestingOverrides, VanguardsMode};
use crate::driver::Bootstrap;
use crate::transport::DEFAULT_ONION_PORT;

/// Default local HTTP API address.
pub const DEFAULT_HTTP: &str = "127.0.0.1:8686";
/// Default protocol listener (tcp transport; tor's HiddenServicePort target).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7447";
/// Default SOCKS port of an external tor.
pub const DEFAULT_SOCKS: &str = "127.0.0.1:9050";

/// Which transport carries the node's streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// Embedded Tor (arti-client, cargo feature `arti`): the default.
    Arti,
    /// External tor: SOCKS5 out, HiddenServicePort in.
    Tor,
    /// Loopback TCP (development, tests, demo).
    Tcp,
}

impl TransportKind {
    /// The name used by `--transport` and the config file.
    pub fn name(self) -> &'static str {
        match self {
            Self::Arti => "arti",
            Self::Tor => "tor",
            Self::Tcp => "tcp",
        }
    }
}

impl std::str::FromStr for TransportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "arti" => Ok(Self::Arti),
            "tor" => Ok(Self::Tor),
            "tcp" => Ok(Self::Tcp),
            other => Err(format!("unknown transport {other:?} (arti, tor or tcp)")),
        }
    }
}

/// Optional knobs of the core node.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeTuning {
    /// Outbound connections to keep.
    pub target_outbound: Option<usize>,
    /// Most connections.
    pub max_connections: Option<usize>,
    /// Peer-table capacity.
    pub table_capacity: Option<usize>,
    /// Gossip period, ms.
    pub gossip_interval_ms: Option<u64>,
    /// Ping period, ms.
    pub ping_interval_ms: Option<u64>,
    /// Idle timeout, ms.
    pub idle_timeout_ms: Option<u64>,
    /// Largest application message, bytes (default 1 MiB).
    pub max_message_len: Option<usize>,
    /// Messages queued per peer before `send` answers "queue full".
    pub send_queue_len: Option<usize>,
}

/// The TOML file. Field names match the flags.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--hs-dir`.
    pub hs_dir: Option<PathBuf>,
    /// `--transport`.
    pub transport: Option<TransportKind>,
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--http`.
    pub http: Option<SocketAddr>,
    /// `--web-dir`: the built dashboard (a directory with `index.html`,
    /// e.g. `web/dist`) served at `/` of the HTTP API. Unset: the
    /// dashboard of the source tree the binary was built from, if it is
    /// still there, else a placeholder page. Set but unusable: an error at
    /// start ([`ConfigError::WebDir`]).
    pub web_dir: Option<PathBuf>,
    /// `--socks` (tor transport).
    pub socks: Option<SocketAddr>,
    /// Virtual port of the protocol on onion services.
    pub onion_port: Option<u16>,
    /// `--network`.
    pub network: Option<String>,
    /// `--difficulty`.
    pub difficulty: Option<u8>,
    /// `--role`.
    pub role: Option<String>,
    /// `--bootstrap` (flags add to these).
    pub bootstrap: Vec<String>,
    /// Core tuning.
    pub node: NodeTuning,
    /// `--tor-network`: directory of a private Tor network launched by
    /// `torpeer tor-testnet up --dir DIR` (its `net.json`); arti joins it
    /// instead of the public network. Transport `arti` only.
    pub tor_network: Option<PathBuf>,
    /// The embedded Tor client (transport `arti`).
    pub arti: ArtiSection,
}

/// The `[arti]` section: every key optional (see
/// `native/torpeer.example.toml`). Resolved into an [`ArtiConfig`].
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArtiSection {
    /// arti's state (guards, derived onion keys). Default
    /// `<data_dir>/arti/state`. Locked while a node runs.
    pub state_dir: Option<PathBuf>,
    /// arti's directory cache. Default `<data_dir>/arti/cache`.
    pub cache_dir: Option<PathBuf>,
    /// Onion-service nickname inside arti (a label). Default `torpeer`.
    pub nickname: Option<String>,
    /// Give up starting after this many seconds without a bootstrap.
    pub bootstrap_timeout_secs: Option<u64>,
    /// Give up one outbound stream after this many seconds.
    pub connect_timeout_secs: Option<u64>,
    /// Allow streams to private addresses through exits (private networks).
    pub allow_local_addrs: Option<bool>,
    /// A private network (`[arti.network]`): authorities, fallbacks, time
    /// period. Prefer `tor_network` for one made by `torpeer tor-testnet`.
    pub network: Option<CustomNetwork>,
    /// Test-network-only overrides (`[arti.testing]`).
    pub testing: Option<TestingOverrides>,
    /// Vanguards on onion-service circuits: `lite` (default), `full` or
    /// `disabled`.
    pub vanguards: Option<VanguardsMode>,
}

/// Why a configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Could not read the file.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// TOML syntax or unknown key.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is invalid.
    #[error("{0}")]
    Invalid(String),
    /// `web_dir` (`--web-dir`) is not a directory holding `index.html`.
    #[error(
        "web_dir {}: {reason} (point --web-dir or web_dir at a built dashboard, \
         e.g. web/dist after `npm run build` in web/)",
        path.display()
    )]
    WebDir {
        /// The directory asked for.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl ConfigError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Read { .. } => "config_read",
            Self::Parse { .. } => "config_parse",
            Self::Invalid(_) => "config_invalid",
            Self::WebDir { .. } => "web_dir",
        }
    }
}

impl FileConfig {
    /// Read and parse a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

/// Everything `torpeer run` needs, defaults applied.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Persisted state.
    pub data_dir: PathBuf,
    /// The HiddenServiceDir with our key.
    pub hs_dir: PathBuf,
    /// Transport.
    pub transport: TransportKind,
    /// Protocol listener.
    pub listen: SocketAddr,
    /// HTTP API.
    pub http: SocketAddr,
    /// The dashboard served at `/` ([`resolve_web_dir`]); `None`: a
    /// placeholder page.
    pub web_dir: Option<PathBuf>,
    /// tor's SOCKS port.
    pub socks: SocketAddr,
    /// Protocol port on onion services.
    pub onion_port: u16,
    /// Network.
    pub network: NetworkName,
    /// PoW difficulty (the network minimum and what we solve for).
    pub difficulty: u8,
    /// Role.
    pub role: Role,
    /// Bootstrap contacts.
    pub bootstrap: Vec<Bootstrap>,
    /// Core tuning.
    pub tuning: NodeTuning,
    /// The embedded Tor client's configuration (used by transport `arti`).
    pub arti: ArtiConfig,
}

fn parse_addr(s: &str) -> Result<SocketAddr, ConfigError> {
    s.parse()
        .map_err(|_| ConfigError::Invalid(format!("bad address {s:?}")))
}

impl RunConfig {
    /// Apply defaults to a file config already overlaid with flags.
    pub fn resolve(file: FileConfig) -> Result<Self, ConfigError> {
        let data_dir = file
            .data_dir
            .unwrap_or_else(|| PathBuf::from("torpeer-data"));
        let hs_dir = file.hs_dir.unwrap_or_else(|| data_dir.join("hs"));
        let transport = file.transport.unwrap_or(TransportKind::Arti);
        let network = match &file.network {
            Some(n) => NetworkName::new(n).map_err(|e| ConfigError::Invalid(e.to_string()))?,
            None => NetworkName::default_network(),
        };
        let role = match &file.role {
            Some(r) => r.parse::<Role>().map_err(ConfigError::Invalid)?,
            None => Role::Participant,
        };
        let bootstrap = file
            .bootstrap
            .iter()
            .map(|b| parse_bootstrap(b, transport))
            .collect::<Result<Vec<_>, _>>()?;
        let arti = resolve_arti(file.arti, file.tor_network.as_deref(), transport, &data_dir)?;
        let web_dir = resolve_web_dir(file.web_dir.as_deref())?;
        Ok(Self {
            data_dir,
            hs_dir,
            transport,
            listen: match file.listen {
                Some(a) => a,
                None => parse_addr(DEFAULT_LISTEN)?,
            },
            http: match file.http {
                Some(a) => a,
                None => parse_addr(DEFAULT_HTTP)?,
            },
            web_dir,
            socks: match file.socks {
                Some(a) => a,
                None => parse_addr(DEFAULT_SOCKS)?,
            },
            onion_port: file.onion_port.unwrap_or(DEFAULT_ONION_PORT),
            network,
            difficulty: file.difficulty.unwrap_or(DEFAULT_DIFFICULTY),
            role,
            bootstrap,
            tuning: file.node,
            arti,
        })
    }

    /// The core's configuration for these settings.
    pub fn node_config(&self, pow_nonce: u64, pow_difficulty: u8) -> NodeConfig {
        let params = NetworkParams::new(self.network.clone()).with_min_difficulty(self.difficulty);
        let mut c = NodeConfig::new(params, self.role, pow_nonce, pow_difficulty);
        if self.transport != TransportKind::Tcp {
            c.ports = vec![self.onion_port];
        }
        let t = &self.tuning;
        if let Some(v) = t.target_outbound {
            c.target_outbound = v;
        }
        if let Some(v) = t.max_connections {
            c.max_connections = v;
        }
        if let Some(v) = t.table_capacity {
            c.set_table_capacity(v);
        }
        if let Some(v) = t.gossip_interval_ms {
            c.gossip_interval_ms = v;
        }
        if let Some(v) = t.ping_interval_ms {
            c.ping_interval_ms = v;
        }
        if let Some(v) = t.idle_timeout_ms {
            c.idle_timeout_ms = v;
        }
        if let Some(v) = t.max_message_len {
            c.max_message_len = v;
            // A frame must hold the largest message plus its framing.
            c.max_frame_len = c.max_frame_len.max(v.saturating_add(1024));
        }
        if let Some(v) = t.send_queue_len {
            c.send_queue_len = v;
        }
        c
    }
}

/// The arti configuration: the public network, or the private one in
/// `tor_network`, with the `[arti]` section's keys on top.
fn resolve_arti(
    section: ArtiSection,
    tor_network: Option<&Path>,
    transport: TransportKind,
    data_dir: &Path,
) -> Result<ArtiConfig, ConfigError> {
    let base = data_dir.join("arti");
    let mut arti = match tor_network {
        Some(dir) => {
            if transport != TransportKind::Arti {
                return Err(ConfigError::Invalid(format!(
                    "tor_network (--tor-network) is for the arti transport, not {}",
                    transport.name()
                )));
            }
            if section.network.is_some() {
                return Err(ConfigError::Invalid(
                    "both tor_network (--tor-network) and [arti.network] are set; choose one"
                        .into(),
                ));
            }
            let net = torpeer_tornet::NetInfo::load(dir)
                .map_err(|e| ConfigError::Invalid(format!("tor_network {}: {e}", dir.display())))?;
            ArtiConfig::for_test_network(&net, &base)
        }
        None => ArtiConfig::public(base.join("state"), base.join("cache")),
    };
    let ArtiSection {
        state_dir,
        cache_dir,
        nickname,
        bootstrap_timeout_secs,
        connect_timeout_secs,
        allow_local_addrs,
        network,
        testing,
        vanguards,
    } = section;
    if let Some(v) = state_dir {
        arti.state_dir = v;
    }
    if let Some(v) = cache_dir {
        arti.cache_dir = v;
    }
    if let Some(v) = nickname {
        arti.nickname = v;
    }
    for (name, v) in [
        ("bootstrap_timeout_secs", bootstrap_timeout_secs),
        ("connect_timeout_secs", connect_timeout_secs),
    ] {
        if v == Some(0) {
            return Err(ConfigError::Invalid(format!(
                "[arti] {name} must be at least 1"
            )));
        }
    }
    if let Some(v) = bootstrap_timeout_secs {
        arti.bootstrap_timeout_secs = v;
    }
    if let Some(v) = connect_timeout_secs {
        arti.connect_timeout_secs = v;
    }
    if let Some(v) = allow_local_addrs {
        arti.allow_local_addrs = v;
    }
    if let Some(v) = network {
        arti.network = Some(v);
    }
    if let Some(v) = testing {
        arti.testing = v;
    }
    if let Some(v) = vanguards {
        arti.vanguards = v;
    }
    Ok(arti)
}

/// The dashboard directory to serve at `/`: `configured` (`--web-dir`,
/// `web_dir`), which must be a directory holding `index.html`; unset, the
/// compiled-in `web/dist` of the source tree when it exists
/// ([`default_web_dir`](crate::http::server::default_web_dir)), else `None`
/// (the placeholder page).
pub fn resolve_web_dir(configured: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    let Some(dir) = configured else {
        return Ok(crate::http::server::default_web_dir());
    };
    let fail = |reason: String| ConfigError::WebDir {
        path: dir.to_path_buf(),
        reason,
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(fail("not a directory".into())),
        Err(e) => return Err(fail(e.to_string())),
    }
    if !dir.join("index.html").is_file() {
        return Err(fail("no index.html in it".into()));
    }
    Ok(Some(dir.to_path_buf()))
}

/// Parse one `--bootstrap` value: an onion address, an `http://` URL, or
/// (tcp transport only) `ONION@HOST:PORT`.
pub fn parse_bootstrap(s: &str, transport: TransportKind) -> Result<Bootstrap, ConfigError> {
    let s = s.trim();
    if s.starts_with("http://") || s.starts_with("https://") {
        crate::http::client::HttpUrl::parse(s).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        return Ok(Bootstrap::Url(s.to_owned()));
    }
    if let Some((onion, addr)) = s.split_once('@') {
        if transport != TransportKind::Tcp {
            return Err(ConfigError::Invalid(format!(
                "bootstrap {s:?}: ONION@HOST:PORT is only allowed on the tcp transport \
                 (a Tor transport never dials an IP endpoint)"
            )));
        }
        let onion = parse_onion(onion)?;
        return Ok(Bootstrap::Tcp(onion, parse_addr(addr)?));
    }
    Ok(Bootstrap::Onion(parse_onion(s)?))
}

fn parse_onion(s: &str) -> Result<OnionAddress, ConfigError> {
    OnionAddress::parse(s).map_err(|e| ConfigError::Invalid(format!("bad onion {s:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use torpeer_core::Identity;

    #[test]
    fn example_file_parses() {
        let text = include_str!("../torpeer.example.toml");
        let file: FileConfig = toml::from_str(text).unwrap();
        let rc = RunConfig::resolve(file).unwrap();
        assert_eq!(rc.transport, TransportKind::Arti);
        assert_eq!(rc.http, DEFAULT_HTTP.parse().unwrap());
        assert_eq!(rc.arti.state_dir, Path::new("torpeer-data/arti/state"));
        assert_eq!(rc.arti.nickname, "torpeer");
        assert!(rc.arti.network.is_none());
    }

    #[test]
    fn arti_is_the_default_transport_with_dirs_under_the_data_dir() {
        let file = FileConfig {
            data_dir: Some("/var/lib/tp".into()),
            ..FileConfig::default()
        };
        let rc = RunConfig::resolve(file).unwrap();
        assert_eq!(rc.transport, TransportKind::Arti);
        assert_eq!(rc.arti.state_dir, Path::new("/var/lib/tp/arti/state"));
        assert_eq!(rc.arti.cache_dir, Path::new("/var/lib/tp/arti/cache"));
        assert!(!rc.arti.allow_local_addrs);
        assert_eq!(rc.arti.testing, TestingOverrides::default());
        assert_eq!(rc.arti.vanguards, VanguardsMode::Lite);
        // The protocol is on the onion port, as for external tor.
        assert_eq!(rc.node_config(0, 8).ports, vec![DEFAULT_ONION_PORT]);
    }

    #[test]
    fn arti_section_overrides_defaults() {
        let file: FileConfig = toml::from_str(
            r#"
            data_dir = "/d"
            [arti]
            state_dir = "/s"
            bootstrap_timeout_secs = 30
            vanguards = "full"
            [arti.testing]
            trust_all_file_permissions = true
            "#,
        )
        .unwrap();
        let rc = RunConfig::resolve(file).unwrap();
        assert_eq!(rc.arti.state_dir, Path::new("/s"));
        assert_eq!(rc.arti.cache_dir, Path::new("/d/arti/cache"));
        assert_eq!(rc.arti.bootstrap_timeout_secs, 30);
        assert!(rc.arti.testing.trust_all_file_permissions);
        assert_eq!(rc.arti.vanguards, VanguardsMode::Full);
        assert!(toml::from_str::<FileConfig>("[arti]\nstate_dri = \"/s\"").is_err());
        assert!(toml::from_str::<FileConfig>("[arti]\nvanguards = \"on\"").is_err());
        let zero: FileConfig = toml::from_str("[arti]\nconnect_timeout_secs = 0").unwrap();
        assert!(RunConfig::resolve(zero).is_err());
    }

    fn write_net_json(dir: &Path) {
        use torpeer_tornet::{NET_FILE_FORMAT, NetInfo, NodeInfo, NodeRole};
        let node = |i: u16, role, v3ident: Option<String>| NodeInfo {
            nickname: format!("test{i:03}"),
            role,
            rsa_fingerprint: format!("{i:02X}").repeat(20),
            ed25519_identity: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            v3ident,
            orport: SocketAddr::from(([127, 0, 0, 1], 5000 + i)),
            dirport: SocketAddr::from(([127, 0, 0, 1], 7000 + i)),
            data_dir: dir.join(format!("n{i}")),
            pid: 0,
        };
        NetInfo {
            format: NET_FILE_FORMAT,
            dir: dir.to_path_buf(),
            voting_interval_secs: 15,
            hsdir_interval_minutes: 6,
            owned: false,
            nodes: vec![
                node(1, NodeRole::Authority, Some("AB".repeat(20))),
                node(2, NodeRole::Exit, None),
            ],
            extras: Vec::new(),
        }
        .save()
        .unwrap();
    }

    #[test]
    fn tor_network_joins_a_private_net() {
        let d = tempfile::tempdir().unwrap();
        write_net_json(d.path());
        let file = FileConfig {
            data_dir: Some("/d".into()),
            tor_network: Some(d.path().to_path_buf()),
            ..FileConfig::default()
        };
        let rc = RunConfig::resolve(file).unwrap();
        let net = rc.arti.network.as_ref().unwrap();
        assert_eq!(net.authorities.len(), 1);
        assert_eq!(net.fallbacks.len(), 2);
        assert_eq!(net.hsdir_interval_minutes, Some(6));
        assert!(rc.arti.allow_local_addrs);
        assert!(rc.arti.testing.disable_circuit_build_timeout_learning);
        assert_eq!(rc.arti.state_dir, Path::new("/d/arti/state"));
    }

    #[test]
    fn tor_network_misuse_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        // No net.json there.
        let missing = FileConfig {
            tor_network: Some(d.path().to_path_buf()),
            ..FileConfig::default()
        };
        let err = RunConfig::resolve(missing).unwrap_err().to_string();
        assert!(err.contains("net.json"), "{err}");
        write_net_json(d.path());
        let on_tor = FileConfig {
            transport: Some(TransportKind::Tor),
            tor_network: Some(d.path().to_path_buf()),
            ..FileConfig::default()
        };
        let err = RunConfig::resolve(on_tor).unwrap_err().to_string();
        assert!(err.contains("arti transport"), "{err}");
        let mut both: FileConfig = toml::from_str(
            r#"
            [arti.network]
            authorities = []
            fallbacks = []
            "#,
        )
        .unwrap();
        both.tor_network = Some(d.path().to_path_buf());
        let err = RunConfig::resolve(both).unwrap_err().to_string();
        assert!(err.contains("choose one"), "{err}");
    }

    #[test]
    fn web_dir_must_hold_an_index_html() {
        let d = tempfile::tempdir().unwrap();
        let with = |dir: &Path| FileConfig {
            web_dir: Some(dir.to_path_buf()),
            ..FileConfig::default()
        };
        // Missing, empty, a file: each a typed error naming the path.
        for bad in [d.path().join("absent"), d.path().to_path_buf()] {
            let err = RunConfig::resolve(with(&bad)).unwrap_err();
            assert_eq!(err.code(), "web_dir", "{err}");
            assert!(
                err.to_string().contains(&bad.display().to_string()),
                "{err}"
            );
        }
        let err = RunConfig::resolve(with(d.path())).unwrap_err().to_string();
        assert!(err.contains("no index.html"), "{err}");
        std::fs::write(d.path().join("index.html"), "<!doctype html>").unwrap();
        let err = RunConfig::resolve(with(&d.path().join("index.html")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a directory"), "{err}");
        let rc = RunConfig::resolve(with(d.path())).unwrap();
        assert_eq!(rc.web_dir.as_deref(), Some(d.path()));
        let file: FileConfig =
            toml::from_str(&format!("web_dir = {:?}", d.path().display().to_string())).unwrap();
        assert_eq!(file.web_dir.as_deref(), Some(d.path()));
        // Unset: the compiled-in fallback, only if it is really there.
        let rc = RunConfig::resolve(FileConfig::default()).unwrap();
        assert_eq!(rc.web_dir, crate::http::server::default_web_dir());
        if let Some(dir) = rc.web_dir {
            assert!(dir.join("index.html").is_file());
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("trasnport = \"tcp\"").is_err());
    }

    #[test]
    fn bootstrap_forms() {
        let onion = Identity::from_seed(&[1; 32]).unwrap().address();
        let o = onion.to_string();
        assert_eq!(
            parse_bootstrap(&o, TransportKind::Tor).unwrap(),
            Bootstrap::Onion(onion)
        );
        assert_eq!(
            parse_bootstrap(&format!("{o}@127.0.0.1:9"), TransportKind::Tcp).unwrap(),
            Bootstrap::Tcp(onion, "127.0.0.1:9".parse().unwrap())
        );
        assert!(parse_bootstrap(&format!("{o}@127.0.0.1:9"), TransportKind::Tor).is_err());
        assert!(matches!(
            parse_bootstrap("http://127.0.0.1:8686/v1/peers", TransportKind::Tor).unwrap(),
            Bootstrap::Url(_)
        ));
        assert!(parse_bootstrap("nonsense", TransportKind::Tcp).is_err());
    }
}
