//! Starting and stopping `tor` processes.
//!
//! Processes run in the foreground (`RunAsDaemon 0`) as our children, so the
//! launcher holds their handles and can reap them. When the network is owned
//! by this process, every tor also gets `__OwningControllerProcess <our
//! pid>`: if the test binary dies without unwinding (SIGKILL, abort), tor
//! notices and exits by itself instead of leaking.

use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::TorNetError;

/// How long tor gets to exit after SIGINT before it is killed.
const GRACE: Duration = Duration::from_secs(3);

/// One running `tor`.
#[derive(Debug)]
pub(crate) struct TorProcess {
    pub(crate) nickname: String,
    pub(crate) data_dir: PathBuf,
    pub(crate) pid: u32,
    child: Option<Child>,
}

/// Starts `tor -f <data_dir>/torrc`.
///
/// `owned`: tie the process's life to ours (see module docs). A detached
/// network runs in its own process group so a Ctrl-C in the launching
/// terminal does not reach it.
pub(crate) fn spawn(
    tor: &Path,
    nickname: &str,
    data_dir: &Path,
    owned: bool,
) -> Result<TorProcess, TorNetError> {
    let out_path = data_dir.join("stdout.log");
    let out = File::create(&out_path).map_err(|e| TorNetError::io(&out_path, e))?;
    let err = out.try_clone().map_err(|e| TorNetError::io(&out_path, e))?;
    let mut cmd = Command::new(tor);
    cmd.arg("-f")
        .arg(data_dir.join("torrc"))
        // One malloc arena: relays use ~56 instead of ~103 MiB RSS.
        .env("MALLOC_ARENA_MAX", "1")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    if owned {
        cmd.arg("__OwningControllerProcess")
            .arg(std::process::id().to_string());
    } else {
        cmd.process_group(0);
    }
    let child = cmd.spawn().map_err(|source| TorNetError::ToolMissing {
        program: tor.display().to_string(),
        source,
    })?;
    Ok(TorProcess {
        nickname: nickname.to_owned(),
        data_dir: data_dir.to_path_buf(),
        pid: child.id(),
        child: Some(child),
    })
}

impl TorProcess {
    /// `Some(status)` once the process has exited.
    pub(crate) fn exited(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("wait failed: {e}")),
        }
    }

    /// Sends SIGHUP (tor reloads its config and resets download back-off).
    pub(crate) fn hup(&self) {
        let _ = signal(self.pid, Signal::HUP);
    }

    /// Forgets the child so dropping us does not stop it (detached nets).
    pub(crate) fn release(&mut self) {
        self.child = None;
    }

    /// The last `lines` lines of this node's notice log.
    pub(crate) fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.data_dir, lines)
    }
}

/// The last `lines` lines of `<dir>/notice.log` (or of `stdout.log` when tor
/// died before opening its log).
pub(crate) fn log_tail(data_dir: &Path, lines: usize) -> String {
    let mut out = String::new();
    for name in ["notice.log", "stdout.log"] {
        let Ok(text) = fs::read_to_string(data_dir.join(name)) else {
            continue;
        };
        let all: Vec<&str> = text.lines().collect();
        let start = all.len().saturating_sub(lines);
        if !all.is_empty() {
            out.push_str(&format!("--- {}/{name}\n", data_dir.display()));
            out.push_str(&all[start..].join("\n"));
            out.push('\n');
        }
    }
    out
}

/// Stops every process: SIGINT to all, then SIGKILL whatever is still
/// alive after [`GRACE`]. Children are reaped.
pub(crate) fn stop_all(procs: &mut [TorProcess]) {
    for p in procs.iter() {
        if p.child.is_some() {
            let _ = signal(p.pid, Signal::INT);
        }
    }
    let deadline = Instant::now() + GRACE;
    loop {
        let mut running = 0;
        for p in procs.iter_mut() {
            if let Some(child) = p.child.as_mut() {
                match child.try_wait() {
                    Ok(None) => running += 1,
                    _ => p.child = None,
                }
            }
        }
        if running == 0 || Instant::now() >= deadline {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    for p in procs.iter_mut() {
        if let Some(mut child) = p.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Stops processes we did not start ourselves (a detached network, by the
/// pids in `net.json`). A pid is only signalled while it still runs `tor`,
/// so a recycled pid is never hit. Returns how many were running.
pub(crate) fn stop_pids(pids: &[u32]) -> usize {
    let live: Vec<u32> = pids.iter().copied().filter(|&p| is_tor(p)).collect();
    for &pid in &live {
        let _ = signal(pid, Signal::INT);
    }
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline && live.iter().any(|&p| is_tor(p)) {
        thread::sleep(Duration::from_millis(50));
    }
    for &pid in &live {
        if is_tor(pid) {
            let _ = signal(pid, Signal::KILL);
        }
    }
    live.len()
}

/// Whether `pid` is alive and its executable is a tor.
pub(crate) fn is_tor(pid: u32) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    // A zombie has an empty cmdline: it no longer counts as running.
    let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
    Path::new(std::str::from_utf8(argv0).unwrap_or_default())
        .file_name()
        .is_some_and(|n| n == "tor")
}

fn signal(pid: u32, sig: Signal) -> std::io::Result<()> {
    let raw = i32::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    let pid = Pid::from_raw(raw).ok_or_else(|| std::io::Error::other("pid 0"))?;
    rustix::process::kill_process(pid, sig).map_err(std::io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_pid_is_not_tor_and_missing_pid_is_not_running() {
        assert!(!is_tor(std::process::id()));
        assert!(!is_tor(u32::MAX - 1));
        assert_eq!(
            stop_pids(&[std::process::id()]),
            0,
            "must never signal a non-tor pid"
        );
    }

    #[test]
    fn log_tail_takes_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notice.log"), "a\nb\nc\nd\n").unwrap();
        let tail = log_tail(dir.path(), 2);
        assert!(tail.ends_with("c\nd\n"), "{tail}");
        assert!(!tail.contains("\nb\n"));
    }
}
