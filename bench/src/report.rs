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

/// Peer-table figures at one size.
#[derive(Debug, Serialize)]
pub(crate) struct TableRow {
    pub(crate) entries: usize,
    /// Signing the records (not a table figure; says what the run cost).
    pub(crate) generate_seconds: f64,
    pub(crate) insert_per_second: f64,
    /// The same per second on the CPU (Linux), immune to time-sharing.
    pub(crate) insert_per_cpu_second: Option<f64>,
    pub(crate) lookup_per_second: f64,
    pub(crate) lookup_per_cpu_second: Option<f64>,
    /// New records inserted into the full table, one eviction each.
    pub(crate) evictions: usize,
    pub(crate) evict_per_second: f64,
    pub(crate) evict_per_cpu_second: Option<f64>,
    /// Live heap bytes the filled table holds per entry, all in.
    pub(crate) heap_bytes_per_entry: f64,
    /// Of which the record's own heap parts (network name, ports, …).
    pub(crate) record_heap_bytes_per_entry: f64,
    /// `size_of::<SignedRecord>()`, stored inline in the table's map node.
    pub(crate) record_inline_bytes: usize,
}

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    seconds_per_figure: f64,
    /// Whether round-robin rates are per CPU second of the measuring
    /// thread (Linux) rather than per wall second.
    rates_per_cpu_second: bool,
    cpu: String,
    kernel_chosen: &'static str,
    pow_tries_per_second_per_core: Vec<Row>,
    pow_threads_1: f64,
    pow_threads_2: f64,
    pow_scaling_1_to_2: f64,
    records_verified_per_second: Vec<Row>,
    peer_lists: Vec<ListRow>,
    peer_table: Vec<TableRow>,
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
            rates_per_cpu_second: crate::measure::per_cpu_second(),
            cpu: cpu_model(),
            kernel_chosen: torpeer_core::keccak::Kernel::best().name(),
            pow_tries_per_second_per_core: Vec::new(),
            pow_threads_1: 0.0,
            pow_threads_2: 0.0,
            pow_scaling_1_to_2: 0.0,
            records_verified_per_second: Vec::new(),
            peer_lists: Vec::new(),
            peer_table: Vec::new(),
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

    pub(crate) fn table(&mut self, row: TableRow) {
        self.peer_table.push(row);
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
            "CPU: {}; kernel chosen at run time: `{}`; {} s per figure; {}.\n\n",
            self.cpu,
            self.kernel_chosen,
            self.seconds_per_figure,
            if self.rates_per_cpu_second {
                "single-thread rates per second on the CPU (the thread's own CPU time), threads and openssl per wall second"
            } else {
                "rates per wall second"
            }
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
        if !self.peer_table.is_empty() {
            out.push_str("\n### Peer table\n\n");
            out.push_str("Rates per wall second, and per second on the CPU in brackets.\n\n");
            out.push_str("| entries | insert/s | lookup/s | evicting insert/s | heap per entry | of which record heap | record inline |\n|---:|---:|---:|---:|---:|---:|---:|\n");
            let cpu = |r: Option<f64>| r.map_or_else(|| "n/a".to_string(), si);
            for t in &self.peer_table {
                out.push_str(&format!(
                    "| {} | {} ({}) | {} ({}) | {} ({}) ({} evictions) | {:.0} B | {:.0} B | {} B |\n",
                    t.entries,
                    si(t.insert_per_second),
                    cpu(t.insert_per_cpu_second),
                    si(t.lookup_per_second),
                    cpu(t.lookup_per_cpu_second),
                    si(t.evict_per_second),
                    cpu(t.evict_per_cpu_second),
                    t.evictions,
                    t.heap_bytes_per_entry,
                    t.record_heap_bytes_per_entry,
                    t.record_inline_bytes,
                ));
            }
        }
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
