//! Resource use of a `torpeer run` process, idle and with 1,000 known peers.
//! A measurement, not a pass/fail check: run explicitly and read the figures
//! (BENCHMARKS.md, "Node resource use"):
//!
//! ```text
//! cargo test -p torpeer-node --release --test resource_use -- --ignored --nocapture
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use prost::Message;
use torpeer_core::{Identity, NetworkName, RecordBody, Role, pow, proto};

/// How long each measurement window lasts.
const WINDOW: Duration = Duration::from_secs(20);

/// (RSS KiB, CPU ticks user+system) of a process, from /proc.
fn usage(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name; utime, stime are 14, 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    (rss, ticks)
}

fn measure(label: &str, node: &NodeProc) {
    let pid = node.child.id();
    let (_, t0) = usage(pid);
    let start = Instant::now();
    std::thread::sleep(WINDOW);
    let (rss, t1) = usage(pid);
    let secs = start.elapsed().as_secs_f64();
    // Linux reports CPU time in clock ticks of 1/100 s.
    let cpu_pct = (t1 - t0) as f64 / 100.0 / secs * 100.0;
    let s = status(node.http);
    println!(
        "{label}: rss {:.1} MiB, cpu {cpu_pct:.2} % of one core over {secs:.0} s, known_peers {}, connections {}",
        rss as f64 / 1024.0,
        s["known_peers"],
        s["connections"]
    );
}

/// 1,000 signed records of peers that are not running (their endpoints
/// refuse connections), as a persisted table.
fn thousand_peers() -> proto::PeerList {
    let network = NetworkName::new(NETWORK).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let peers = (0..1000u32)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_le_bytes());
            seed[4] = 0xB0;
            let id = Identity::from_seed(&seed).unwrap();
            let (nonce, _) = pow::solve(&network.id(), &id.address(), 8).unwrap();
            let body = RecordBody {
                address: id.address(),
                network: network.clone(),
                role: Role::Participant,
                ports: vec![],
                issued_at: now,
                sequence: 1,
                pow_difficulty: 8,
                pow_nonce: nonce,
                tcp_endpoint: Some(([127, 0, 0, 1], 9).into()),
            };
            proto::PeerEntry {
                record: Some(body.sign(&id).unwrap().to_proto()),
                status: proto::PeerStatus::Unknown as i32,
                last_seen: 0,
                learned_from: String::new(),
            }
        })
        .collect();
    proto::PeerList {
        network: NETWORK.into(),
        source: String::new(),
        generated_at: now,
        peers,
    }
}

#[test]
#[ignore = "measurement; run with --ignored --nocapture"]
fn node_resource_use() {
    let dir = tempfile::tempdir().unwrap();
    let idle = start(&dir.path().join("idle"), "participant", &[]);
    measure("idle node", &idle);
    drop(idle);

    let d = dir.path().join("k");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("peers.bin"), thousand_peers().encode_to_vec()).unwrap();
    let busy = start(&d, "participant", &[]);
    wait_for("1,000 peers loaded", || {
        (status(busy.http)["known_peers"].as_u64().unwrap() >= 1000).then_some(())
    });
    measure("node with 1,000 known peers", &busy);
}
