//! Collecting figures and printing them as a markdown table or JSON.

use serde::Serialize;

/// A throughput next to its baseline.
#[derive(Debug, Serialize)]
pub(crate) struct Row {
    name: String,
    per_second: f64,
    baseline_per_second: f64,
    ratio: f64,
}

/// Encode/decode figures of one list size and format.
#[derive(Debug, Serialize)]
pub(crate) struct ListRow {
    peers: usize,
    format: String,
    bytes: usize,
    encode_ms: f64,
    decode_ms: f64,
    encode_peers_per_second: f64,
    decode_peers_per_second: f64,
}

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    seconds_per_figure: f64,
    cpu: String,
    kernel_chosen: &'static str,
    pow_tries_per_second_per_core: Vec<Row>,
    pow_threads_1: f64,
    pow_threads_2: f64,
    pow_scaling_1_to_2: f64,
    records_verified_per_second: Vec<Row>,
    peer_lists: Vec<ListRow>,
    peer_table: &'static str,
    notes: Vec<String>,
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

impl Report {
    pub(crate) fn new(seconds: f64) -> Self {
        Self {
            seconds_per_figure: seconds,
            cpu: cpu_model(),
            kernel_chosen: torpeer_core::keccak::Kernel::best().name(),
            pow_tries_per_second_per_core: Vec::new(),
            pow_threads_1: 0.0,
            pow_threads_2: 0.0,
            pow_scaling_1_to_2: 0.0,
            records_verified_per_second: Vec::new(),
            peer_lists: Vec::new(),
            // Hook: the peer table lives on branch `node`; its
            // insert/lookup/evict figures at 10k and 1M entries go here
            // once that table is merged.
            peer_table: "not measured in this build (the peer table is on branch `node`)",
            notes: Vec::new(),
        }
    }

    fn row(name: &str, ours: f64, baseline: f64) -> Row {
        Row {
            name: name.to_string(),
            per_second: ours,
            baseline_per_second: baseline,
            ratio: if baseline > 0.0 { ours / baseline } else { 0.0 },
        }
    }

    pub(crate) fn pow(&mut self, name: &str, ours: f64, baseline: f64) {
        self.pow_tries_per_second_per_core
            .push(Self::row(name, ours, baseline));
    }

    pub(crate) fn scaling(&mut self, one: f64, two: f64) {
        self.pow_threads_1 = one;
        self.pow_threads_2 = two;
        self.pow_scaling_1_to_2 = if one > 0.0 { two / one } else { 0.0 };
    }

    pub(crate) fn verify(&mut self, name: &str, ours: f64, baseline: f64) {
        self.records_verified_per_second
            .push(Self::row(name, ours, baseline));
    }

    pub(crate) fn list(
        &mut self,
        peers: usize,
        format: &str,
        bytes: usize,
        encodes_per_second: f64,
        decodes_per_second: f64,
    ) {
        self.peer_lists.push(ListRow {
            peers,
            format: format.to_string(),
            bytes,
            encode_ms: 1000.0 / encodes_per_second,
            decode_ms: 1000.0 / decodes_per_second,
            encode_peers_per_second: encodes_per_second * peers as f64,
            decode_peers_per_second: decodes_per_second * peers as f64,
        });
    }

    pub(crate) fn note(&mut self, note: &str) {
        self.notes.push(note.to_string());
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    pub(crate) fn to_markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "CPU: {}; kernel chosen at run time: `{}`; {} s per figure.\n\n",
            self.cpu, self.kernel_chosen, self.seconds_per_figure
        ));
        out.push_str("### Proof-of-work tries per second, one core\n\n");
        out.push_str("| solver | tries/s | × `sha3` crate loop |\n|---|---:|---:|\n");
        for r in &self.pow_tries_per_second_per_core {
            out.push_str(&format!(
                "| {} | {} | {:.2}× |\n",
                r.name,
                si(r.per_second),
                r.ratio
            ));
        }
        out.push_str(&format!(
            "\nThreads (best kernel, stride layout): 1 thread {} tries/s, 2 threads {} tries/s: **{:.3}×**.\n\n",
            si(self.pow_threads_1),
            si(self.pow_threads_2),
            self.pow_scaling_1_to_2
        ));
        out.push_str("### Records verified per second\n\n");
        out.push_str("| verifier | records/s | × one at a time |\n|---|---:|---:|\n");
        for r in &self.records_verified_per_second {
            out.push_str(&format!(
                "| {} | {} | {:.2}× |\n",
                r.name,
                si(r.per_second),
                r.ratio
            ));
        }
        out.push_str("\n### Peer-list encode/decode\n\n");
        out.push_str("| peers | format | size | encode | decode | encode peers/s | decode peers/s |\n|---:|---|---:|---:|---:|---:|---:|\n");
        for l in &self.peer_lists {
            out.push_str(&format!(
                "| {} | {} | {:.1} KiB | {:.2} ms | {:.2} ms | {} | {} |\n",
                l.peers,
                l.format,
                l.bytes as f64 / 1024.0,
                l.encode_ms,
                l.decode_ms,
                si(l.encode_peers_per_second),
                si(l.decode_peers_per_second)
            ));
        }
        out.push_str(&format!("\nPeer table: {}.\n", self.peer_table));
        for n in &self.notes {
            out.push_str(&format!("\nNote: {n}\n"));
        }
        out
    }
}

/// 12.3 M, 456 k, 789.
fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}
