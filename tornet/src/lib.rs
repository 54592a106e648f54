//! `torpeer-tornet`: a private Tor network on 127.0.0.1, made of Debian's
//! `tor` processes, for integration tests and local demos.
//!
//! [`TorNet::launch`] keys and starts 3 directory authorities and N exit
//! relays, then waits — by polling what the processes serve and write, never
//! by sleeping a fixed time — until every authority serves a consensus that
//! lists every node and every relay has cached it. A network on a 2-core
//! machine is ready in 10–20 s (see BENCHMARKS.md "Private Tor network").
//!
//! Shape of the network, and why (details in `torrc.rs`):
//! - the authorities are the only guards and the relays the only exits, so a
//!   three-hop path always exists in a tiny network (when everyone is a
//!   guard, clients pick their guard again as middle and extends fail);
//! - every node is an HSDir, exits accept 127.0.0.0/8 only;
//! - voting every 15 s, so onion time periods are 6 minutes, which arti can
//!   be told (`hsdir_interval = 6`).
//!
//! Joining: [`NetInfo`] (also written to `<dir>/net.json`) gives the
//! authorities and fallbacks for arti, and a torrc fragment for C tor.
//! [`TorNet::start_client`] and [`TorNet::start_onion_service`] start extra
//! C-tor processes on the network.
//!
//! Teardown: dropping a [`TorNet`] sends SIGINT to every process and SIGKILL
//! to the stragglers, also while a panicking test unwinds. Processes of an
//! owned network also exit on their own when the launching process dies.

mod dirhttp;
mod error;
mod info;
mod keys;
mod ports;
mod process;
mod socks;
mod torrc;

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use error::TorNetError;
pub use info::{
    Authority, ExtraInfo, ExtraKind, Fallback, NET_FILE, NET_FILE_FORMAT, NetInfo, NodeInfo,
    NodeRole,
};
pub use socks::{reply_name, socks5_connect};

use ports::PortBlock;
use process::TorProcess;

/// Directory authorities per network: enough for a majority to survive one
/// slow voter, few enough to stay small.
pub const AUTHORITIES: usize = 3;
/// Ports reserved per network beyond the nodes' own (extras, test servers).
const SPARE_PORTS: u16 = 40;
/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(200);
/// Lines of log shown in errors.
const TAIL_LINES: usize = 25;

/// How to launch a network.
#[derive(Debug, Clone)]
pub struct TorNetOptions {
    /// Exit relays besides the authorities (at least 2: a client needs an
    /// exit besides the HSDirs and intro points to be useful; default 3).
    pub relays: usize,
    /// Upper bound for the whole launch, and for each later wait.
    pub timeout: Duration,
    /// The `tor` binary.
    pub tor: PathBuf,
    /// The `tor-gencert` binary.
    pub tor_gencert: PathBuf,
    /// Tie the processes' life to this process (tests). `false` for a
    /// network that outlives its launcher (`torpeer tor-testnet up --detach`).
    pub owned: bool,
    /// Where to copy every node's logs and torrc when the network is dropped
    /// (tests point this at `$TORPEER_ARTIFACTS`).
    pub artifacts_dir: Option<PathBuf>,
}

impl Default for TorNetOptions {
    fn default() -> Self {
        TorNetOptions {
            relays: 3,
            timeout: Duration::from_secs(120),
            tor: PathBuf::from("tor"),
            tor_gencert: PathBuf::from("tor-gencert"),
            owned: true,
            artifacts_dir: None,
        }
    }
}

/// How long each launch stage took, measured from the start of
/// [`TorNet::launch`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LaunchTimings {
    /// Keys generated and torrcs written.
    pub keys: Duration,
    /// Every authority serves a consensus.
    pub consensus: Duration,
    /// Every authority's consensus lists every node.
    pub all_in_consensus: Duration,
    /// Every relay bootstrapped and cached the full consensus: ready.
    pub ready: Duration,
}

/// A running private Tor network. Dropping it stops every process.
#[derive(Debug)]
pub struct TorNet {
    info: NetInfo,
    procs: Vec<TorProcess>,
    ports: PortBlock,
    opts: TorNetOptions,
    timings: LaunchTimings,
    detached: bool,
}

/// Whether `tor` can be run (`tor --version` succeeds).
pub fn tor_available(tor: &Path) -> bool {
    Command::new(tor)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl TorNet {
    /// Launches a network in `base_dir` (created if missing; node
    /// directories of an earlier, stopped network there are replaced) and
    /// waits until it is ready to be joined.
    pub fn launch(base_dir: &Path, opts: TorNetOptions) -> Result<TorNet, TorNetError> {
        let start = Instant::now();
        if opts.relays < 2 {
            return Err(TorNetError::InvalidOption(format!(
                "relays must be at least 2 (got {})",
                opts.relays
            )));
        }
        if !tor_available(&opts.tor) {
            return Err(TorNetError::ToolMissing {
                program: opts.tor.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "tor --version failed"),
            });
        }
        if let Ok(old) = NetInfo::load(base_dir)
            && old.pids().into_iter().any(process::is_tor)
        {
            return Err(TorNetError::InvalidOption(format!(
                "a network is still running in {} (stop it first)",
                base_dir.display()
            )));
        }
        let base_dir = keys::create_private(base_dir)?;
        let base_dir = fs::canonicalize(&base_dir).map_err(|e| TorNetError::io(&base_dir, e))?;
        for sub in ["nodes", "extras"] {
            let d = base_dir.join(sub);
            if d.exists() {
                fs::remove_dir_all(&d).map_err(|e| TorNetError::io(&d, e))?;
            }
        }

        let n = AUTHORITIES + opts.relays;
        let needed = u16::try_from(2 * n)
            .ok()
            .and_then(|p| p.checked_add(SPARE_PORTS))
            .ok_or(TorNetError::NoPorts { needed: u16::MAX })?;
        let seed = u64::from(std::process::id()).wrapping_mul(7919)
            ^ SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::from(d.subsec_nanos()))
                .unwrap_or(0);
        let mut ports = PortBlock::reserve(needed, seed)?;

        // Nicknames, directories and ports.
        struct Plan {
            nickname: String,
            role: NodeRole,
            dir: PathBuf,
            orport: u16,
            dirport: u16,
        }
        let mut plans = Vec::with_capacity(n);
        for i in 0..n {
            let role = if i < AUTHORITIES {
                NodeRole::Authority
            } else {
                NodeRole::Exit
            };
            let tag = if role == NodeRole::Authority {
                'a'
            } else {
                'r'
            };
            let nickname = format!("test{i:03}{tag}");
            plans.push(Plan {
                dir: keys::create_private(&base_dir.join("nodes").join(&nickname))?,
                nickname,
                role,
                orport: ports.take()?,
                dirport: ports.take()?,
            });
        }

        let jobs: Vec<keys::KeyJob<'_>> = plans
            .iter()
            .map(|p| keys::KeyJob {
                nickname: &p.nickname,
                data_dir: &p.dir,
                authority_dirport: (p.role == NodeRole::Authority).then_some(p.dirport),
            })
            .collect();
        let node_keys = keys::generate(&opts.tor, &opts.tor_gencert, &jobs)?;

        let nodes: Vec<NodeInfo> = plans
            .iter()
            .zip(&node_keys)
            .map(|(p, k)| NodeInfo {
                nickname: p.nickname.clone(),
                role: p.role,
                rsa_fingerprint: k.rsa_fingerprint.clone(),
                ed25519_identity: k.ed25519_identity.clone(),
                v3ident: k.v3ident.clone(),
                orport: ports::local(p.orport),
                dirport: ports::local(p.dirport),
                data_dir: p.dir.clone(),
                pid: 0,
            })
            .collect();
        let info = NetInfo {
            format: NET_FILE_FORMAT,
            dir: base_dir.clone(),
            voting_interval_secs: torrc::VOTING_INTERVAL_SECS,
            hsdir_interval_minutes: torrc::hsdir_interval_minutes(),
            owned: opts.owned,
            nodes,
            extras: Vec::new(),
        };

        // torrcs.
        let dir_auth_lines = info.dir_authority_lines();
        let common = torrc::Common {
            dir_authority_lines: &dir_auth_lines,
        };
        let fps_of = |role| -> Vec<String> {
            info.nodes
                .iter()
                .filter(|n| n.role == role)
                .map(|n| n.rsa_fingerprint.clone())
                .collect()
        };
        let guard_fps = fps_of(NodeRole::Authority);
        let exit_fps = fps_of(NodeRole::Exit);
        let all_fps: Vec<String> = info
            .nodes
            .iter()
            .map(|n| n.rsa_fingerprint.clone())
            .collect();
        let now_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let bw_path = base_dir.join("nodes").join("bandwidths");
        write(&bw_path, &torrc::bandwidth_file(now_unix, &all_fps))?;
        let offset = torrc::voting_start_offset(now_unix);
        for node in &info.nodes {
            let text = match node.role {
                NodeRole::Authority => torrc::authority(
                    &common,
                    &node.nickname,
                    &node.data_dir,
                    node.orport.port(),
                    node.dirport.port(),
                    offset,
                    &guard_fps,
                    &exit_fps,
                    &bw_path,
                ),
                NodeRole::Exit => torrc::exit_relay(
                    &common,
                    &node.nickname,
                    &node.data_dir,
                    node.orport.port(),
                    node.dirport.port(),
                ),
            };
            write(&node.data_dir.join("torrc"), &text)?;
        }
        let keys_done = start.elapsed();

        let mut net = TorNet {
            info,
            procs: Vec::with_capacity(n),
            ports,
            opts,
            timings: LaunchTimings {
                keys: keys_done,
                ..LaunchTimings::default()
            },
            detached: false,
        };
        for node in &mut net.info.nodes {
            // Pushed at once, so a later failure still stops this one on drop.
            let p = process::spawn(
                &net.opts.tor,
                &node.nickname,
                &node.data_dir,
                net.opts.owned,
            )?;
            node.pid = p.pid;
            net.procs.push(p);
        }
        net.info.save()?;

        let deadline = start + net.opts.timeout;
        net.wait_stage("consensus", start, deadline, |net| {
            net.late_authority(|_, status, _| status == 200)
        })?;
        net.timings.consensus = start.elapsed();
        // Relays that asked too early back off; a HUP resets that.
        for p in &net.procs[AUTHORITIES..] {
            p.hup();
        }
        let all: Vec<String> = net.info.nodes.iter().map(|x| x.nickname.clone()).collect();
        net.wait_stage("relays-in-consensus", start, deadline, |net| {
            net.late_authority(|_, status, body| {
                status == 200 && lists_all(&dirhttp::consensus_nicknames(body), &all)
            })
        })?;
        net.timings.all_in_consensus = start.elapsed();
        net.wait_stage("relay-caches", start, deadline, |net| {
            net.procs[AUTHORITIES..]
                .iter()
                .find(|p| {
                    let bootstrapped = log_contains(&p.data_dir, "notice.log", "Bootstrapped 100%");
                    let cached = fs::read_to_string(p.data_dir.join("cached-microdesc-consensus"))
                        .is_ok_and(|c| lists_all(&dirhttp::consensus_nicknames(&c), &all));
                    !(bootstrapped && cached)
                })
                .map(|p| p.data_dir.clone())
        })?;
        net.timings.ready = start.elapsed();
        Ok(net)
    }

    /// The network's description (also in `<dir>/net.json`).
    pub fn info(&self) -> &NetInfo {
        &self.info
    }

    /// How long the launch stages took.
    pub fn timings(&self) -> LaunchTimings {
        self.timings
    }

    /// A free loopback port from the network's block (for test servers or
    /// arti listeners), so concurrent networks never hand out the same one.
    pub fn take_port(&mut self) -> Result<u16, TorNetError> {
        self.ports.take()
    }

    /// Starts a C-tor client with a SocksPort and waits until it has
    /// bootstrapped.
    pub fn start_client(&mut self, name: &str) -> Result<ExtraInfo, TorNetError> {
        self.start_extra(name, None)
    }

    /// Starts a C-tor onion service serving `hs_dir`'s key, forwarding
    /// `virtual_port` to `target`, and waits until it has bootstrapped. Its
    /// descriptor upload comes a few seconds later: wait for it with
    /// [`TorNet::wait_for_descriptor_upload`] or retry connects.
    pub fn start_onion_service(
        &mut self,
        name: &str,
        hs_dir: &Path,
        virtual_port: u16,
        target: SocketAddr,
    ) -> Result<ExtraInfo, TorNetError> {
        self.start_extra(name, Some((hs_dir, virtual_port, target)))
    }

    fn start_extra(
        &mut self,
        name: &str,
        hs: Option<(&Path, u16, SocketAddr)>,
    ) -> Result<ExtraInfo, TorNetError> {
        if name.is_empty()
            || name.len() > 19
            || !name.bytes().all(|b| b.is_ascii_alphanumeric())
            || self.info.extras.iter().any(|e| e.name == name)
        {
            return Err(TorNetError::InvalidOption(format!(
                "extra name {name:?} must be 1-19 ASCII letters/digits and unique"
            )));
        }
        let dir = keys::create_private(&self.info.dir.join("extras").join(name))?;
        let socks = ports::local(self.ports.take()?);
        let hs_abs = match hs {
            Some((d, vport, target)) => {
                let abs = fs::canonicalize(d).map_err(|e| TorNetError::io(d, e))?;
                Some((abs, vport, target))
            }
            None => None,
        };
        let dir_auth_lines = self.info.dir_authority_lines();
        let common = torrc::Common {
            dir_authority_lines: &dir_auth_lines,
        };
        let text = torrc::client(
            &common,
            name,
            &dir,
            socks,
            hs_abs.as_ref().map(|(d, v, t)| (d.as_path(), *v, *t)),
        );
        write(&dir.join("torrc"), &text)?;
        let p = process::spawn(&self.opts.tor, name, &dir, self.opts.owned)?;
        let extra = ExtraInfo {
            name: name.to_owned(),
            kind: if hs.is_some() {
                ExtraKind::OnionService
            } else {
                ExtraKind::Client
            },
            data_dir: dir.clone(),
            socks,
            hs_dir: hs_abs.map(|(d, _, _)| d),
            pid: p.pid,
        };
        self.procs.push(p);
        self.info.extras.push(extra.clone());
        self.info.save()?;
        let start = Instant::now();
        self.wait_stage("client-bootstrap", start, start + self.opts.timeout, |_| {
            (!log_contains(&dir, "notice.log", "Bootstrapped 100%")).then(|| dir.clone())
        })?;
        Ok(extra)
    }

    /// Waits until the C-tor onion service `name` has uploaded its
    /// descriptor to at least one HSDir. Returns how long that took.
    pub fn wait_for_descriptor_upload(&mut self, name: &str) -> Result<Duration, TorNetError> {
        let dir = self
            .info
            .extras
            .iter()
            .find(|e| e.name == name && e.kind == ExtraKind::OnionService)
            .map(|e| e.data_dir.clone())
            .ok_or_else(|| TorNetError::InvalidOption(format!("no onion service named {name}")))?;
        let start = Instant::now();
        self.wait_stage(
            "descriptor-upload",
            start,
            start + self.opts.timeout,
            |_| {
                let uploaded = log_contains(
                    &dir,
                    "info.log",
                    "Uploading hidden service descriptor: finished with status 200",
                );
                (!uploaded).then(|| dir.clone())
            },
        )?;
        Ok(start.elapsed())
    }

    /// Copies every node's and extra's logs and torrc into `dest/<name>/`.
    pub fn collect_logs(&self, dest: &Path) -> Result<(), TorNetError> {
        for p in &self.procs {
            copy_logs(&p.data_dir, &dest.join(&p.nickname))?;
        }
        Ok(())
    }

    /// Leaves the network running after `self` is gone (its processes must
    /// have been launched with `owned = false`) and returns its description.
    pub fn detach(mut self) -> Result<NetInfo, TorNetError> {
        if self.opts.owned {
            return Err(TorNetError::InvalidOption(
                "an owned network dies with its launcher; launch with owned = false to detach"
                    .into(),
            ));
        }
        for p in &mut self.procs {
            p.release();
        }
        self.detached = true;
        Ok(self.info.clone())
    }

    /// Stops every process now (same as dropping the network).
    pub fn stop(self) {}

    /// Name of a process that has exited, with its status, if any.
    pub fn exited_process(&mut self) -> Option<(String, String)> {
        self.procs
            .iter_mut()
            .find_map(|p| p.exited().map(|s| (p.nickname.clone(), s)))
    }

    /// Polls `late` until it returns `None` (nobody late) or `deadline`
    /// passes; fails early when a process exits.
    fn wait_stage(
        &mut self,
        stage: &'static str,
        start: Instant,
        deadline: Instant,
        mut late: impl FnMut(&TorNet) -> Option<PathBuf>,
    ) -> Result<(), TorNetError> {
        loop {
            for p in &mut self.procs {
                if let Some(status) = p.exited() {
                    return Err(TorNetError::Exited {
                        node: p.nickname.clone(),
                        stage,
                        status,
                        log_tail: p.log_tail(TAIL_LINES),
                    });
                }
            }
            let Some(dir) = late(self) else {
                return Ok(());
            };
            if Instant::now() >= deadline {
                return Err(TorNetError::Stage {
                    stage,
                    waited: start.elapsed(),
                    log_tail: process::log_tail(&dir, TAIL_LINES),
                });
            }
            thread::sleep(POLL);
        }
    }

    /// The data dir of the first authority whose consensus fails `ok`.
    fn late_authority(&self, ok: impl Fn(&NodeInfo, u16, &str) -> bool) -> Option<PathBuf> {
        self.info
            .nodes
            .iter()
            .filter(|n| n.role == NodeRole::Authority)
            .find(|n| {
                match dirhttp::get(n.dirport, "/tor/status-vote/current/consensus-microdesc") {
                    Ok((status, body)) => !ok(n, status, &body),
                    Err(_) => true,
                }
            })
            .map(|n| n.data_dir.clone())
    }
}

impl Drop for TorNet {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        process::stop_all(&mut self.procs);
        if let Some(dest) = &self.opts.artifacts_dir {
            let _ = self.collect_logs(dest);
        }
    }
}

/// Whether one process of a network still runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProcessStatus {
    /// Nickname of the node or name of the extra.
    pub name: String,
    /// Its pid.
    pub pid: u32,
    /// Whether that pid still runs tor.
    pub running: bool,
}

/// State of a network found in `dir`: its description and, per process,
/// whether it still runs.
pub fn status(dir: &Path) -> Result<(NetInfo, Vec<ProcessStatus>), TorNetError> {
    let info = NetInfo::load(dir)?;
    let procs = info
        .nodes
        .iter()
        .map(|n| (n.nickname.clone(), n.pid))
        .chain(info.extras.iter().map(|e| (e.name.clone(), e.pid)))
        .map(|(name, pid)| ProcessStatus {
            name,
            pid,
            running: process::is_tor(pid),
        })
        .collect();
    Ok((info, procs))
}

/// Stops the network described in `<dir>/net.json` (a detached one, or one
/// whose launcher is gone). Returns how many processes were still running.
pub fn stop_network(dir: &Path) -> Result<usize, TorNetError> {
    let info = NetInfo::load(dir)?;
    Ok(process::stop_pids(&info.pids()))
}

fn lists_all(listed: &[&str], all: &[String]) -> bool {
    all.iter().all(|n| listed.contains(&n.as_str()))
}

fn log_contains(dir: &Path, file: &str, needle: &str) -> bool {
    fs::read_to_string(dir.join(file)).is_ok_and(|t| t.contains(needle))
}

fn write(path: &Path, text: &str) -> Result<(), TorNetError> {
    fs::write(path, text).map_err(|e| TorNetError::io(path, e))
}

fn copy_logs(from: &Path, to: &Path) -> Result<(), TorNetError> {
    fs::create_dir_all(to).map_err(|e| TorNetError::io(to, e))?;
    for name in ["torrc", "notice.log", "info.log", "stdout.log"] {
        let src = from.join(name);
        if src.exists() {
            fs::copy(&src, to.join(name)).map_err(|e| TorNetError::io(&src, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_few_relays_is_refused_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let err = TorNet::launch(
            dir.path(),
            TorNetOptions {
                relays: 1,
                ..TorNetOptions::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.code(), "tornet.invalid_option");
    }

    #[test]
    fn missing_tor_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = TorNet::launch(
            dir.path(),
            TorNetOptions {
                tor: PathBuf::from("/nonexistent/tor"),
                ..TorNetOptions::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.code(), "tornet.tool_missing");
    }

    #[test]
    fn lists_all_needs_every_name() {
        assert!(lists_all(&["a", "b", "c"], &["a".into(), "c".into()]));
        assert!(!lists_all(&["a"], &["a".into(), "b".into()]));
    }
}
