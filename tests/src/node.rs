//! A `torpeer run` process driven by a test: started with a transport and
//! directories, found through the `http.addr` file it writes, stopped with
//! SIGTERM (the node's graceful path), and stopped for good on drop even
//! while a failing test unwinds.
//!
//! Its stderr goes to a log file that is appended to across restarts, with
//! a marker line per start, so the artifact shows the node's whole life.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

/// How long a node gets to exit after SIGTERM on drop before SIGKILL.
const DROP_GRACE: Duration = Duration::from_secs(5);

/// How a node reaches Tor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeTransport {
    /// Embedded arti joining the private network described in
    /// `<tor_network>/net.json` (`--transport arti --tor-network DIR`).
    Arti {
        /// The network's directory.
        tor_network: PathBuf,
    },
    /// An external C tor: SOCKS out at `socks`, its `HiddenServicePort`
    /// forwarding to `listen` (`--transport tor --socks --listen`).
    Tor {
        /// The tor's SocksPort.
        socks: SocketAddr,
        /// The node's protocol listener (the HiddenServicePort target).
        listen: SocketAddr,
    },
}

impl NodeTransport {
    /// `arti` or `tor`, as `/v1/status` reports it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Arti { .. } => "arti",
            Self::Tor { .. } => "tor",
        }
    }
}

/// Everything needed to (re)start one node.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Short name for logs and messages.
    pub name: String,
    /// `participant` or `router`.
    pub role: String,
    /// How it reaches Tor.
    pub transport: NodeTransport,
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// `--hs-dir` (made by `torpeer keygen`).
    pub hs_dir: PathBuf,
    /// `--network`.
    pub network: String,
    /// `--difficulty`.
    pub difficulty: u8,
    /// `--bootstrap` values.
    pub bootstrap: Vec<String>,
    /// Log file (stderr of every start, appended).
    pub log: PathBuf,
    /// `RUST_LOG` for the node.
    pub rust_log: String,
}

/// A running (or stopped) node.
#[derive(Debug)]
pub struct NodeProc {
    /// How it was started.
    pub spec: NodeSpec,
    child: Option<Child>,
    /// Its HTTP API, once started.
    pub http: Option<SocketAddr>,
    /// When the current process was spawned.
    pub started: Instant,
}

impl NodeProc {
    /// Spawns `torpeer run` for `spec` (does not wait for it; see
    /// [`NodeProc::wait_started`]).
    pub fn spawn(bin: &Path, spec: NodeSpec) -> Result<Self, String> {
        let mut me = NodeProc {
            spec,
            child: None,
            http: None,
            started: Instant::now(),
        };
        me.respawn(bin)?;
        Ok(me)
    }

    /// Starts the node again with the same spec (after a stop).
    pub fn respawn(&mut self, bin: &Path) -> Result<(), String> {
        if self.is_running() {
            return Err(format!("{} is still running", self.spec.name));
        }
        let s = &self.spec;
        let addr_file = s.data_dir.join("http.addr");
        let _ = fs::remove_file(&addr_file);
        fs::create_dir_all(&s.data_dir).map_err(|e| format!("{}: {e}", s.data_dir.display()))?;
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&s.log)
            .map_err(|e| format!("{}: {e}", s.log.display()))?;
        let mut cmd = Command::new(bin);
        cmd.arg("run")
            .args(["--transport", s.transport.name()])
            .arg("--data-dir")
            .arg(&s.data_dir)
            .arg("--hs-dir")
            .arg(&s.hs_dir)
            .args(["--http", "127.0.0.1:0"])
            .args(["--network", &s.network])
            .args(["--difficulty", &s.difficulty.to_string()])
            .args(["--role", &s.role]);
        match &s.transport {
            NodeTransport::Arti { tor_network } => {
                cmd.arg("--tor-network").arg(tor_network);
            }
            NodeTransport::Tor { socks, listen } => {
                cmd.args(["--socks", &socks.to_string()])
                    .args(["--listen", &listen.to_string()]);
            }
        }
        for b in &s.bootstrap {
            cmd.args(["--bootstrap", b]);
        }
        let _ = writeln!(log, "===== test harness: {cmd:?}");
        cmd.env("RUST_LOG", &s.rust_log)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        let child = cmd
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", bin.display()))?;
        self.child = Some(child);
        self.http = None;
        self.started = Instant::now();
        Ok(())
    }

    /// Waits until the node has written `http.addr` and its `/v1/status`
    /// answers 200, at most `budget`. Fails at once if it exits.
    pub fn wait_started(&mut self, budget: Duration) -> Result<SocketAddr, String> {
        let addr_file = self.spec.data_dir.join("http.addr");
        let start = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return Err(format!(
                    "{} exited during start-up ({status})",
                    self.spec.name
                ));
            }
            if let Some(addr) = fs::read_to_string(&addr_file)
                .ok()
                .and_then(|s| s.trim().parse::<SocketAddr>().ok())
                && crate::http::get(addr, "/v1/status", None).is_ok_and(|r| r.status == 200)
            {
                self.http = Some(addr);
                return Ok(addr);
            }
            if start.elapsed() >= budget {
                return Err(format!(
                    "{} did not serve /v1/status within {budget:?}",
                    self.spec.name
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process runs.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// `Some(status)` if the process has exited (it is then forgotten).
    pub fn exited(&mut self) -> Option<String> {
        let c = self.child.as_mut()?;
        match c.try_wait() {
            Ok(Some(status)) => {
                self.child = None;
                Some(status.to_string())
            }
            Ok(None) => None,
            Err(e) => Some(format!("wait failed: {e}")),
        }
    }

    /// Sends SIGTERM and waits up to `budget` for the exit status.
    pub fn terminate(&mut self, budget: Duration) -> Result<ExitStatus, String> {
        let Some(child) = self.child.as_mut() else {
            return Err(format!("{} is not running", self.spec.name));
        };
        signal(child.id(), Signal::TERM)?;
        let start = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    return Ok(status);
                }
                Ok(None) if start.elapsed() < budget => thread::sleep(Duration::from_millis(50)),
                Ok(None) => {
                    return Err(format!(
                        "{} still running {budget:?} after SIGTERM",
                        self.spec.name
                    ));
                }
                Err(e) => return Err(format!("wait: {e}")),
            }
        }
    }

    /// The last `lines` lines of the node's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.spec.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = signal(child.id(), Signal::TERM);
        let deadline = Instant::now() + DROP_GRACE;
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn signal(pid: u32, sig: Signal) -> Result<(), String> {
    let raw = i32::try_from(pid).map_err(|_| format!("pid {pid} out of range"))?;
    let pid = Pid::from_raw(raw).ok_or("pid 0")?;
    rustix::process::kill_process(pid, sig).map_err(|e| format!("kill({pid:?}, {sig:?}): {e}"))
}
