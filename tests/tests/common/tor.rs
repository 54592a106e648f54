//! Running Debian's `tor` offline on a HiddenServiceDir, to check that the
//! directories we write are the ones tor reads and writes.
//!
//! Tor loads (or creates) an onion service's keys and writes `hostname` at
//! start-up, before and regardless of any network activity, so
//! `--DisableNetwork 1` is enough: no network, no ports.
//!
//! This file is also compiled into `native/tests/tor_interop.rs` (by
//! `#[path]`), so it depends on nothing but `std`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Env var that turns "tor is not installed" from a skip into a failure
/// (CI sets it: the setup step installs tor before any stage runs).
pub const REQUIRE_TOR_ENV: &str = "TORPEER_REQUIRE_TOR";

/// How long tor may take to write `hostname`. It takes well under a second;
/// the bound only stops a broken tor from hanging the test run.
const TOR_DEADLINE: Duration = Duration::from_secs(120);

/// The `tor` binary, or `None` (after saying so on stderr) when it is not
/// installed and [`REQUIRE_TOR_ENV`] is unset, so the caller skips.
///
/// # Panics
/// When tor is missing but required.
pub fn tor_or_skip(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("tor"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let required = std::env::var(REQUIRE_TOR_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "{test}: `tor` is not installed but {REQUIRE_TOR_ENV} is set \
             (install it: apt-get install tor, or bash scripts/setup.sh)"
        );
        eprintln!(
            "SKIPPED {test}: `tor` is not installed (apt-get install tor); \
             set {REQUIRE_TOR_ENV}=1 to make this a failure"
        );
    }
    found
}

/// Make `dir` private (0700): tor refuses a HiddenServiceDir others can read.
pub fn make_private(dir: &Path) {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).unwrap();
}

/// Tor, started on one HiddenServiceDir; killed on drop.
pub struct TorProcess {
    child: Child,
    log: PathBuf,
}

impl TorProcess {
    /// Start tor with its own data directory under `work`, the onion
    /// service in `hs_dir`, no network, no SOCKS or control port.
    pub fn start(tor: &Path, work: &Path, hs_dir: &Path) -> Self {
        let data = work.join("tor-data");
        fs::create_dir_all(&data).unwrap();
        make_private(&data);
        let torrc = work.join("torrc");
        fs::write(&torrc, "").unwrap();
        let log = work.join("tor.log");
        let child = Command::new(tor)
            .arg("-f")
            .arg(&torrc)
            .arg("--defaults-torrc")
            .arg(&torrc)
            .args(["--RunAsDaemon", "0"])
            .args(["--DisableNetwork", "1"])
            .args(["--SocksPort", "0"])
            .args(["--ControlPort", "0"])
            .args(["--Log", "notice stdout"])
            .arg("--DataDirectory")
            .arg(&data)
            .arg("--HiddenServiceDir")
            .arg(hs_dir)
            .args(["--HiddenServicePort", "80 127.0.0.1:1"])
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Self { child, log }
    }

    /// What tor has logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until `path` exists and is non-empty (tor writes `hostname`
    /// after loading the keys), then return its contents.
    ///
    /// # Panics
    /// If tor exits first or does not write it within the deadline.
    pub fn wait_for_file(&mut self, path: &Path) -> Vec<u8> {
        let started = Instant::now();
        loop {
            if let Ok(bytes) = fs::read(path)
                && bytes.ends_with(b"\n")
            {
                return bytes;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "tor exited ({status}) before writing {}; its log:\n{}",
                    path.display(),
                    self.log()
                );
            }
            assert!(
                started.elapsed() < TOR_DEADLINE,
                "tor did not write {} within {TOR_DEADLINE:?}; its log:\n{}",
                path.display(),
                self.log()
            );
            sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run tor on `hs_dir` until it has written `hostname`, stop it, and return
/// that `hostname` and tor's log. Any `hostname` already there is removed
/// first, so the one returned is tor's own.
pub fn run_tor_on(tor: &Path, work: &Path, hs_dir: &Path) -> (String, String) {
    let hostname = hs_dir.join("hostname");
    if hostname.exists() {
        fs::remove_file(&hostname).unwrap();
    }
    let mut process = TorProcess::start(tor, work, hs_dir);
    let bytes = process.wait_for_file(&hostname);
    let log = process.log();
    drop(process);
    (String::from_utf8(bytes).unwrap(), log)
}
