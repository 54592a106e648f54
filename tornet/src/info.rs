//! `net.json`: everything a node needs to join a launched network, and what
//! `torpeer tor-testnet down|status` needs to find its processes.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::TorNetError;

/// File name of the network description inside the base directory.
pub const NET_FILE: &str = "net.json";
/// Version of the `net.json` layout.
pub const NET_FILE_FORMAT: u32 = 1;

/// A launched private network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetInfo {
    /// [`NET_FILE_FORMAT`].
    pub format: u32,
    /// Base directory of the network (node data dirs, logs, `net.json`).
    pub dir: PathBuf,
    /// `V3AuthVotingInterval` of the authorities, seconds.
    pub voting_interval_secs: u32,
    /// Onion-service time period in minutes that C tor derives from the
    /// voting interval under `TestingTorNetwork` (24 intervals). arti must be
    /// told the same number (`hsdir_interval`), or arti and C-tor onion
    /// services cannot find each other's descriptors.
    pub hsdir_interval_minutes: u32,
    /// Whether the processes die with the launching process.
    pub owned: bool,
    /// Authorities and relays.
    pub nodes: Vec<NodeInfo>,
    /// Clients and onion services started on the network afterwards.
    pub extras: Vec<ExtraInfo>,
}

/// Role of a network node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// Directory authority (also a relay and the network's only guards).
    Authority,
    /// Relay that exits to 127.0.0.0/8 only (also middle and HSDir).
    Exit,
}

/// One authority or relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// tor nickname.
    pub nickname: String,
    /// Role in the network.
    pub role: NodeRole,
    /// RSA identity fingerprint, 40 upper-case hex digits.
    pub rsa_fingerprint: String,
    /// Ed25519 identity, unpadded base64.
    pub ed25519_identity: String,
    /// Authorities: v3 identity, 40 upper-case hex digits.
    pub v3ident: Option<String>,
    /// ORPort.
    pub orport: SocketAddr,
    /// DirPort.
    pub dirport: SocketAddr,
    /// Data directory (keys, torrc, notice.log).
    pub data_dir: PathBuf,
    /// Process id while running.
    pub pid: u32,
}

/// What kind of extra tor process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraKind {
    /// A client with a SocksPort.
    Client,
    /// An onion service (HiddenServiceDir + HiddenServicePort).
    OnionService,
}

/// A C-tor client or onion service started on the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtraInfo {
    /// Name given when it was started (also its directory name).
    pub name: String,
    /// What it is.
    pub kind: ExtraKind,
    /// Data directory.
    pub data_dir: PathBuf,
    /// SOCKS5 listener (every extra has one; onion services use it too).
    pub socks: SocketAddr,
    /// Onion services: the HiddenServiceDir.
    pub hs_dir: Option<PathBuf>,
    /// Process id while running.
    pub pid: u32,
}

/// A fallback directory for arti: any relay, reached over its ORPort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fallback {
    /// RSA identity, hex.
    pub rsa_identity: String,
    /// Ed25519 identity, base64.
    pub ed_identity: String,
    /// ORPort.
    pub orport: SocketAddr,
}

/// A directory authority as a client sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authority {
    /// v3 identity, hex: the key that must sign the consensus.
    pub v3ident: String,
    /// DirPort.
    pub dirport: SocketAddr,
}

impl NetInfo {
    /// The authorities, in launch order.
    pub fn authorities(&self) -> Vec<Authority> {
        self.nodes
            .iter()
            .filter_map(|n| {
                n.v3ident.as_ref().map(|v3| Authority {
                    v3ident: v3.clone(),
                    dirport: n.dirport,
                })
            })
            .collect()
    }

    /// Every node as a bootstrap source for arti (which does not use the
    /// authorities by itself once they are overridden).
    pub fn fallbacks(&self) -> Vec<Fallback> {
        self.nodes
            .iter()
            .map(|n| Fallback {
                rsa_identity: n.rsa_fingerprint.clone(),
                ed_identity: n.ed25519_identity.clone(),
                orport: n.orport,
            })
            .collect()
    }

    /// One `DirAuthority` torrc line per authority.
    pub fn dir_authority_lines(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter_map(|n| {
                let v3 = n.v3ident.as_ref()?;
                Some(format!(
                    "DirAuthority {} orport={} no-v2 v3ident={v3} {} {}",
                    n.nickname,
                    n.orport.port(),
                    n.dirport,
                    n.rsa_fingerprint
                ))
            })
            .collect()
    }

    /// torrc lines that make a C-tor client (or onion service) use this
    /// network. Add `DataDirectory`, `SocksPort` etc. yourself.
    pub fn client_torrc_fragment(&self) -> String {
        let mut t = String::from(
            "TestingTorNetwork 1\n\
             # Loopback exits need full descriptors: a microdescriptor's policy\n\
             # summary covers public addresses only.\n\
             UseMicrodescriptors 0\n\
             PathsNeededToBuildCircuits 0.67\n\
             GeoIPFile /dev/null\n\
             GeoIPv6File /dev/null\n\
             Sandbox 0\n\
             ShutdownWaitLength 0\n\
             SafeLogging 0\n\
             LogTimeGranularity 1\n",
        );
        for line in self.dir_authority_lines() {
            t.push_str(&line);
            t.push('\n');
        }
        t
    }

    /// Pids of every process of the network, extras included.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .map(|n| n.pid)
            .chain(self.extras.iter().map(|e| e.pid))
            .collect()
    }

    /// Writes `<dir>/net.json`.
    pub fn save(&self) -> Result<PathBuf, TorNetError> {
        let path = self.dir.join(NET_FILE);
        let json = serde_json::to_string_pretty(self).map_err(|e| TorNetError::BadNetFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let tmp = self.dir.join(format!("{NET_FILE}.tmp"));
        fs::write(&tmp, json).map_err(|e| TorNetError::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| TorNetError::io(&path, e))?;
        Ok(path)
    }

    /// Reads `<dir>/net.json`.
    pub fn load(dir: &Path) -> Result<NetInfo, TorNetError> {
        let path = dir.join(NET_FILE);
        let text = fs::read_to_string(&path).map_err(|e| TorNetError::io(&path, e))?;
        let info: NetInfo = serde_json::from_str(&text).map_err(|e| TorNetError::BadNetFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if info.format != NET_FILE_FORMAT {
            return Err(TorNetError::BadNetFile {
                path,
                reason: format!("format {} (expected {NET_FILE_FORMAT})", info.format),
            });
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> NetInfo {
        let node = |nick: &str, role, v3: Option<&str>, port: u16| NodeInfo {
            nickname: nick.into(),
            role,
            rsa_fingerprint: "A".repeat(40),
            ed25519_identity: "ed".into(),
            v3ident: v3.map(Into::into),
            orport: SocketAddr::from(([127, 0, 0, 1], port)),
            dirport: SocketAddr::from(([127, 0, 0, 1], port + 1)),
            data_dir: dir.join(nick),
            pid: 42,
        };
        NetInfo {
            format: NET_FILE_FORMAT,
            dir: dir.to_path_buf(),
            voting_interval_secs: 15,
            hsdir_interval_minutes: 6,
            owned: true,
            nodes: vec![
                node(
                    "test000a",
                    NodeRole::Authority,
                    Some(&"B".repeat(40)),
                    10000,
                ),
                node("test001r", NodeRole::Exit, None, 10002),
            ],
            extras: vec![],
        }
    }

    #[test]
    fn dir_authority_lines_only_for_authorities() {
        let info = sample(Path::new("/x"));
        let lines = info.dir_authority_lines();
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0],
            format!(
                "DirAuthority test000a orport=10000 no-v2 v3ident={} 127.0.0.1:10001 {}",
                "B".repeat(40),
                "A".repeat(40)
            )
        );
        assert!(info.client_torrc_fragment().contains(&lines[0]));
        assert_eq!(info.authorities().len(), 1);
        assert_eq!(info.fallbacks().len(), 2);
    }

    #[test]
    fn net_file_round_trips_and_rejects_other_formats() {
        let dir = tempfile::tempdir().unwrap();
        let mut info = sample(dir.path());
        info.save().unwrap();
        assert_eq!(NetInfo::load(dir.path()).unwrap(), info);
        info.format = 99;
        info.save().unwrap();
        assert!(matches!(
            NetInfo::load(dir.path()),
            Err(TorNetError::BadNetFile { .. })
        ));
    }
}
