//! Simulator benchmark: how the cost of one virtual hour grows with the
//! number of nodes, and how convergence compares with log3(N) + ln ln N.
//!
//! ```text
//! cargo run --release -p torpeer-sim --bin sim-bench                 # 1,000 and 10,000
//! cargo run --release -p torpeer-sim --bin sim-bench -- 1000 10000 100000
//! cargo run --release -p torpeer-sim --bin sim-bench -- --max-rss-mb 8000 100000
//! cargo run --release -p torpeer-sim --bin sim-bench -- --table-bytes 20000
//! cargo run --release -p torpeer-sim --bin sim-bench -- --table-capacity 1000 10000
//! ```
//!
//! `--table-capacity C` bounds every node's peer table (default: the
//! node's 10,000). With C below N nobody can know 99 % of the network, so
//! `converged_s` stays empty by design and the run measures cost only:
//! what gossip, eviction and verification of a network larger than any
//! table cost per node.
//!
//! `--max-per-source K` sets every node's cap on the table entries one
//! source bucket may insert (default: the node's, scaled with the table:
//! a quarter of C, at least 1,000); for measuring how much that defence
//! holds back convergence in networks larger than K × the node's peers
//! (the refusals are printed by reason).
//!
//! `--table-bytes N` measures what one peer-table entry costs: the growth
//! of resident memory while N verified records go into one table (a real
//! node: every entry owns its record), and while the same N records go into
//! 20 tables that intern them through one shared cache (the simulator:
//! entries share one copy of each record). Reported per entry.
//!
//! Each size runs in a child process (so peak RSS, read from
//! `/proc/<pid>/status` VmHWM, is that size's alone); the parent kills a
//! child whose resident memory exceeds `--max-rss-mb` (default 6,000) and
//! reports how far it got. Figures are printed, never asserted.

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use torpeer_core::identity::Identity;
use torpeer_core::table::{PeerTable, Provenance, TableLimits, VerifyCache};
use torpeer_core::{NetworkName, NetworkParams, RecordBody, Role, SignedRecord, Timestamp};
use torpeer_sim::SimConfig;

const DEFAULT_SIZES: [usize; 2] = [1_000, 10_000];

fn status_kb(pid: Option<u32>, key: &str) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds (user + system) this process used: on a shared machine the
/// honest cost figure, where wall time also counts other tenants' load.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields overall, in clock ticks (100 per second on Linux).
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / 100.0
}

/// An interning verification memo, like the simulator's.
#[derive(Debug, Default)]
struct Interner(Mutex<HashMap<[u8; 32], Option<Arc<SignedRecord>>>>);

impl VerifyCache for Interner {
    fn contains(&self, digest: &[u8; 32]) -> bool {
        self.0.lock().is_ok_and(|m| m.contains_key(digest))
    }
    fn insert(&self, digest: [u8; 32]) {
        if let Ok(mut m) = self.0.lock() {
            m.entry(digest).or_insert(None);
        }
    }
    fn intern(&self, digest: [u8; 32], record: SignedRecord) -> Arc<SignedRecord> {
        match self.0.lock() {
            Ok(mut m) => m
                .entry(digest)
                .or_insert(None)
                .get_or_insert_with(|| Arc::new(record))
                .clone(),
            Err(_) => Arc::new(record),
        }
    }
}

/// Resident memory now, in bytes.
fn rss_bytes() -> u64 {
    status_kb(None, "VmRSS:").unwrap_or(0) * 1024
}

/// `--table-bytes N`: bytes of resident memory per table entry, unshared
/// and shared. Records are built first (their memory is not counted), then
/// resident memory is read before and after filling the tables.
fn table_bytes(n: usize) -> ExitCode {
    const SHARED_TABLES: usize = 20;
    let Ok(name) = NetworkName::new("torpeer-sim") else {
        return ExitCode::from(2);
    };
    let params = NetworkParams::new(name).with_min_difficulty(0);
    let now = Timestamp::from_secs(1_800_000_000);
    let mut records = Vec::with_capacity(n);
    for i in 0..n {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        let Ok(identity) = Identity::from_seed(&seed) else {
            return ExitCode::from(2);
        };
        let body = RecordBody {
            address: identity.address(),
            network: params.name.clone(),
            role: Role::Participant,
            ports: Vec::new(),
            issued_at: now.as_secs(),
            sequence: 1,
            pow_difficulty: 0,
            pow_nonce: 0,
            tcp_endpoint: None,
        };
        match body.sign(&identity) {
            Ok(r) => records.push(r),
            Err(e) => {
                eprintln!("sim-bench: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let limits = TableLimits {
        capacity: n,
        max_per_source: n,
        ..TableLimits::default()
    };
    let own = match Identity::from_seed(&[0xee; 32]) {
        Ok(i) => i.address(),
        Err(_) => return ExitCode::from(2),
    };
    let fill = |table: &mut PeerTable| {
        records
            .iter()
            .filter(|r| {
                table
                    .offer(now, (*r).clone(), Provenance::Bootstrap)
                    .is_ok()
            })
            .count()
    };

    let before = rss_bytes();
    let mut one = PeerTable::new(own, params.clone(), limits.clone(), [1; 32]);
    let admitted = fill(&mut one);
    let unshared = rss_bytes().saturating_sub(before) as f64 / admitted.max(1) as f64;

    // A warm interner (it holds each record once, like the simulator's),
    // then many tables sharing it.
    let cache: Arc<dyn VerifyCache> = Arc::new(Interner::default());
    let mut tables = Vec::with_capacity(SHARED_TABLES);
    let before = rss_bytes();
    let mut shared_admitted = 0;
    for i in 0..SHARED_TABLES {
        let mut t = PeerTable::new(own, params.clone(), limits.clone(), [i as u8; 32]);
        t.set_verify_cache(Some(cache.clone()));
        shared_admitted += fill(&mut t);
        tables.push(t);
    }
    let shared = rss_bytes().saturating_sub(before) as f64 / shared_admitted.max(1) as f64;
    println!(
        "table entries: {admitted} in one table: {unshared:.0} B/entry (record owned); \
         {shared_admitted} in {SHARED_TABLES} tables sharing records: {shared:.0} B/entry \
         (incl. the one shared copy of each record)"
    );
    drop((one, tables));
    ExitCode::SUCCESS
}

/// Child mode: run one size, print one line of JSON with the figures.
fn child(
    nodes: usize,
    seed: u64,
    duration_s: u64,
    capacity: Option<usize>,
    per_source: Option<usize>,
) -> ExitCode {
    // The parent keeps our stdin open while it waits for us: end-of-file
    // means it is gone (Ctrl-C, kill), and a run of many minutes must not
    // go on as an orphan eating a core and gigabytes.
    std::thread::spawn(|| {
        let mut byte = [0u8; 1];
        while matches!(std::io::Read::read(&mut std::io::stdin(), &mut byte), Ok(n) if n > 0) {}
        eprintln!("sim-bench: parent gone, child exits");
        std::process::exit(130);
    });
    let mut config = SimConfig::new(nodes, seed);
    config.duration_s = duration_s;
    config.node.table_capacity = capacity;
    config.node.max_per_source = per_source;
    // Sampling copies tables once they are big enough: less often for big N.
    config.sample_interval_ms = if nodes > 5_000 { 10_000 } else { 5_000 };
    // Progress on stderr (the parent passes it through): a run stopped or
    // killed early still shows how far it got.
    config.progress_every_s = 300;
    let start = Instant::now();
    let report = match torpeer_sim::run(config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sim-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let wall = start.elapsed().as_secs_f64();
    let hwm = status_kb(None, "VmHWM:").unwrap_or(0);
    let cpu = cpu_seconds();
    println!(
        "{{\"wall_s\":{wall:.1},\"cpu_s\":{cpu:.1},\"vm_hwm_kb\":{hwm},\"report\":{}}}",
        report.to_json()
    );
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sizes = Vec::new();
    let mut seed = 1u64;
    let mut duration_s = 3_600u64;
    let mut max_rss_mb = 6_000u64;
    let mut capacity: Option<u64> = None;
    let mut per_source: Option<u64> = None;
    let mut child_mode = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> Option<u64> {
            let v = it.next().and_then(|v| v.parse().ok());
            if v.is_none() {
                eprintln!("sim-bench: {name} needs a number");
            }
            v
        };
        match a.as_str() {
            "--child" => child_mode = true,
            "--table-bytes" => match value("--table-bytes") {
                Some(v) => return table_bytes(v as usize),
                None => return ExitCode::from(2),
            },
            "--seed" => match value("--seed") {
                Some(v) => seed = v,
                None => return ExitCode::from(2),
            },
            "--duration" => match value("--duration") {
                Some(v) => duration_s = v,
                None => return ExitCode::from(2),
            },
            "--table-capacity" => match value("--table-capacity") {
                Some(v) => capacity = Some(v),
                None => return ExitCode::from(2),
            },
            "--max-per-source" => match value("--max-per-source") {
                Some(v) => per_source = Some(v),
                None => return ExitCode::from(2),
            },
            "--max-rss-mb" => match value("--max-rss-mb") {
                Some(v) => max_rss_mb = v,
                None => return ExitCode::from(2),
            },
            n => match n.parse() {
                Ok(n) => sizes.push(n),
                Err(_) => {
                    eprintln!("sim-bench: unknown argument {n:?}");
                    return ExitCode::from(2);
                }
            },
        }
    }
    if sizes.is_empty() {
        sizes = DEFAULT_SIZES.to_vec();
    }
    if child_mode {
        return child(
            sizes[0],
            seed,
            duration_s,
            capacity.and_then(|c| usize::try_from(c).ok()),
            per_source.and_then(|c| usize::try_from(c).ok()),
        );
    }
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("sim-bench: cannot find own executable");
        return ExitCode::from(2);
    };
    println!(
        "{:>7} {:>9} {:>9} {:>10} {:>12} {:>8} {:>9} {:>10} {:>12} {:>9} {:>11}",
        "nodes",
        "wall_s",
        "cpu_s",
        "peak_rss",
        "converged_s",
        "rounds",
        "log3N+lnlnN",
        "msgs/node",
        "bytes/node",
        "peak_tbl",
        "rss/entry"
    );
    for n in sizes {
        let start = Instant::now();
        let spawned = Command::new(&exe)
            .args([
                "--child",
                &n.to_string(),
                "--seed",
                &seed.to_string(),
                "--duration",
                &duration_s.to_string(),
            ])
            .args(
                capacity
                    .iter()
                    .flat_map(|c| ["--table-capacity".to_owned(), c.to_string()]),
            )
            .args(
                per_source
                    .iter()
                    .flat_map(|c| ["--max-per-source".to_owned(), c.to_string()]),
            )
            .stdout(Stdio::piped())
            // Held open until the child is reaped: the child exits when it
            // reads end-of-file, so a killed parent leaves no orphan behind.
            .stdin(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                eprintln!("sim-bench: spawn failed: {e}");
                return ExitCode::from(2);
            }
        };
        let pid = child.id();
        let mut peak_kb = 0;
        let mut killed = false;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) => {}
                Err(_) => break,
            }
            if let Some(rss) = status_kb(Some(pid), "VmRSS:") {
                peak_kb = peak_kb.max(rss);
                if rss / 1024 > max_rss_mb {
                    let _ = child.kill();
                    killed = true;
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let out = child
            .wait_with_output()
            .map(|o| o.stdout)
            .unwrap_or_default();
        let wall = start.elapsed().as_secs_f64();
        if killed {
            println!(
                "{n:>7} {wall:>9.1} {:>9}M  killed: resident memory passed --max-rss-mb {max_rss_mb}",
                peak_kb / 1024
            );
            continue;
        }
        let text = String::from_utf8_lossy(&out);
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text.trim()) else {
            println!("{n:>7} {wall:>9.1}  child failed: {}", text.trim());
            continue;
        };
        let r = &v["report"];
        let num = |x: &serde_json::Value| x.as_f64().map_or("-".to_owned(), |f| format!("{f:.1}"));
        println!(
            "{n:>7} {:>9} {:>9} {:>9}M {:>12} {:>8} {:>11} {:>10} {:>12} {:>9} {:>10}B",
            num(&v["wall_s"]),
            num(&v["cpu_s"]),
            v["vm_hwm_kb"].as_u64().unwrap_or(0) / 1024,
            num(&r["converged_at_s"]),
            r["rounds"]
                .as_f64()
                .map_or("-".to_owned(), |f| format!("{f:.2}")),
            r["expected_rounds"]
                .as_f64()
                .map_or("-".to_owned(), |f| format!("{f:.2}")),
            num(&r["messages_per_node"]),
            num(&r["bytes_per_node"]),
            r["peak_table_size"].as_u64().unwrap_or(0),
            // Peak resident memory over the entries held at the end: an
            // upper bound of what one entry costs in the simulator.
            (v["vm_hwm_kb"].as_u64().unwrap_or(0) * 1024)
                / r["table_entries_at_end"].as_u64().unwrap_or(0).max(1),
        );
        // Records refused by reason (a big network's convergence can be
        // held back by the per-source limits, which show up here).
        if let Some(rejected) = r["rejected"].as_object() {
            let reasons: Vec<String> = rejected.iter().map(|(k, c)| format!("{k} {c}")).collect();
            eprintln!(
                "sim-bench: {n} nodes, records rejected: {}",
                reasons.join(", ")
            );
        }
        // Where the messages went, per node (stderr: the table stays a table).
        if let Some(kinds) = r["messages_by_kind"].as_object() {
            let per_node: Vec<String> = kinds
                .iter()
                .map(|(k, c)| format!("{k} {:.1}", c.as_f64().unwrap_or(0.0) / n.max(1) as f64))
                .collect();
            eprintln!(
                "sim-bench: {n} nodes, frames per node by kind: {}",
                per_node.join(", ")
            );
        }
    }
    ExitCode::SUCCESS
}
