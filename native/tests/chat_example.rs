//! `examples/chat.rs` end to end: two chat processes, driven through their
//! stdin and stdout, meet through a `torpeer run` router on loopback and
//! exchange lines by onion address.
//!
//! The example binary is built by `cargo test` (which builds examples) or
//! `cargo build --example chat`; this test looks for it next to the test
//! binary and says so if it is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use common::*;

fn chat_bin() -> PathBuf {
    // target/<profile>/deps/chat_example-HASH → target/<profile>/examples/chat
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir
        .join("examples")
        .join(format!("chat{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build -p torpeer-node --example chat` \
         (a plain `cargo test` builds it too)",
        bin.display()
    );
    bin
}

/// A chat process: lines of its stdout arrive on `lines`.
struct Chat {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    name: &'static str,
}

impl Drop for Chat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Chat {
    fn start(name: &'static str, dir: &Path, bootstrap: &str) -> Self {
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
        let mut child = Command::new(chat_bin())
            .args(["--transport", "tcp", "--listen", "127.0.0.1:0"])
            .args(["--network", NETWORK, "--difficulty", DIFFICULTY])
            .arg("--data-dir")
            .arg(dir.join(name))
            .args(["--bootstrap", bootstrap])
            .env("RUST_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
            name,
        }
    }

    fn say(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The first output line for which `pick` returns `Some`, at most
    /// [`WAIT`] away; every line read is kept in `seen`.
    fn expect<T>(
        &mut self,
        what: &str,
        seen: &mut Vec<String>,
        mut pick: impl FnMut(&str) -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            let left = WAIT.checked_sub(start.elapsed()).unwrap_or_default();
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let got = pick(&line);
                    seen.push(line);
                    if let Some(v) = got {
                        return v;
                    }
                }
                Err(_) => panic!("{}: no {what}; output so far: {seen:#?}", self.name),
            }
        }
    }
}

#[test]
fn two_chats_find_each_other_through_a_router_and_exchange_lines() {
    let dir = tempfile::tempdir().unwrap();
    let router = start(&dir.path().join("router"), "router", &[]);
    let contact = tcp_contact(router.http);
    let mut alice = Chat::start("alice", dir.path(), &contact);
    let mut bob = Chat::start("bob", dir.path(), &contact);
    let (mut a_out, mut b_out) = (Vec::new(), Vec::new());
    let a = alice.expect("`me` line", &mut a_out, |l| {
        l.strip_prefix("me ").map(str::to_owned)
    });
    let b = bob.expect("`me` line", &mut b_out, |l| {
        l.strip_prefix("me ").map(str::to_owned)
    });
    assert_ne!(a, b);

    // Each learns of the other from the router and connects.
    alice.expect("bob online", &mut a_out, |l| {
        (l == format!("online {b}")).then_some(())
    });
    bob.expect("alice online", &mut b_out, |l| {
        (l == format!("online {a}")).then_some(())
    });

    // By address on the line.
    alice.say(&format!("{b} hello bob, it is alice"));
    bob.expect("alice's line", &mut b_out, |l| {
        (l == format!("{a}: hello bob, it is alice")).then_some(())
    });
    // With a default recipient; control characters do not reach the terminal.
    bob.say(&format!("/to {a}"));
    bob.say("hi alice \u{1b}[2J");
    alice.expect("bob's line", &mut a_out, |l| {
        (l == format!("{b}: hi alice \u{fffd}[2J")).then_some(())
    });
    alice.say("/peers");
    alice.expect("bob in /peers", &mut a_out, |l| {
        (l.starts_with(&format!("peer {b} participant"))).then_some(())
    });
    // Refusals are reported, not fatal.
    let router_onion = contact.split('@').next().unwrap().to_owned();
    alice.say(&format!("{router_onion} hi router"));
    alice.expect("router refusal", &mut a_out, |l| {
        (l.starts_with("! not sent") && l.ends_with("(router_refuses)")).then_some(())
    });
    alice.say("nobody to send this to");
    // Bob leaves; Alice sees it.
    bob.say("/quit");
    let status = bob.child.wait().unwrap();
    assert!(status.success(), "bob exited with {status}");
    alice.expect("bob offline", &mut a_out, |l| {
        (l == format!("offline {b}")).then_some(())
    });
    alice.say("/quit");
    let status = alice.child.wait().unwrap();
    assert!(status.success(), "alice exited with {status}");
    assert!(
        a_out.iter().any(|l| l.starts_with("! no recipient")) || {
            // The line may still be in the pipe when `offline` matched.
            alice
                .lines
                .try_iter()
                .any(|l| l.starts_with("! no recipient"))
        },
        "{a_out:#?}"
    );
}
