//! The outcome of a run. Everything in it is a pure function of the
//! configuration (no wall-clock figure), so the same seed gives
//! byte-identical JSON.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// What a run measured. Field meanings are part of the `torpeer sim --json`
/// interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Honest nodes.
    pub nodes: usize,
    /// The seed.
    pub seed: u64,
    /// Virtual length of the run, seconds.
    pub duration_s: u64,
    /// Segment / dial loss probability.
    pub loss: f64,
    /// Churn rate (offline episodes per node per hour).
    pub churn: f64,
    /// Valid Sybil identities pushed by the adversary.
    pub sybils: usize,
    /// Gossip interval of the nodes, seconds (the unit of `rounds`).
    pub gossip_interval_s: f64,
    /// Virtual seconds until, for the first time, every honest online node
    /// (online for at least the settle time) knew at least 99 % of the
    /// honest online nodes; `None` (JSON null) if that never happened.
    pub converged_at_s: Option<f64>,
    /// `converged_at_s / gossip_interval_s`: how many gossip periods it
    /// took (each node starts one get-peers per period).
    pub rounds: Option<f64>,
    /// `log3(N) + ln ln N`, the push-pull gossip figure to compare with.
    pub expected_rounds: f64,
    /// Whether the criterion also held at the last sample.
    pub converged_at_end: bool,
    /// Lowest fraction of honest online nodes known by an observer at the
    /// last sample.
    pub min_known_fraction_at_end: f64,
    /// Frames sent per honest node over the run.
    pub messages_per_node: f64,
    /// Frames sent by all honest nodes over the run, by frame kind
    /// (`hello`, `get_peers`, `peer_event`, …; their sum over the node
    /// count is `messages_per_node`).
    pub messages_by_kind: BTreeMap<String, u64>,
    /// Bytes sent per honest node over the run.
    pub bytes_per_node: f64,
    /// Largest peer table of any honest node at any sample.
    pub peak_table_size: usize,
    /// Table entries of all honest nodes (running or keeping state while
    /// offline) at the end: what the process's memory holds tables of.
    pub table_entries_at_end: u64,
    /// Records refused by honest nodes, by the node's reason code; handshake
    /// failures appear as `handshake:<code>`.
    pub rejected: BTreeMap<String, u64>,
    /// Table admissions of records that are invalid (bad signature, bad or
    /// too weak PoW, expired): must be 0.
    pub invalid_admitted: u64,
    /// Most entries any honest node holds that one single source inserted
    /// among the adversary's valid Sybils (bounded by the per-source cap).
    pub max_sybils_per_source: usize,
    /// Most valid Sybil entries any honest node holds in total.
    pub max_sybils_per_node: usize,
    /// The per-source cap the nodes ran with.
    pub max_per_source: usize,
    /// Honest entries (other honest nodes) the fill victim (node 0) knew at
    /// the end, when the fill attack ran.
    pub victim_honest_known: Option<usize>,
    /// Table entries at the end holding a replayed lower-sequence record
    /// (stale but validly signed; should be superseded).
    pub stale_replays_at_end: u64,
    /// Honest nodes online at the end.
    pub honest_online_at_end: usize,
    /// Dials asked for by honest nodes.
    pub dials: u64,
    /// Dials that failed (offline target, partition, circuit failure).
    pub dial_failures: u64,
    /// Streams broken by loss, churn or partitions.
    pub streams_broken: u64,
    /// Offline episodes that happened.
    pub churn_events: u64,
    /// Simulator events processed (a measure of work).
    pub events: u64,
}

impl Report {
    /// The run's verdict: converged and nothing invalid got in.
    pub fn passed(&self) -> bool {
        self.converged_at_s.is_some() && self.invalid_admitted == 0
    }

    /// One JSON object (stable key order: field order above).
    pub fn to_json(&self) -> String {
        // Serializing plain numbers, strings and maps cannot fail.
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "simulated {} honest nodes for {} s (seed {}, loss {}, churn {}/h, sybils {})",
            self.nodes, self.duration_s, self.seed, self.loss, self.churn, self.sybils
        )?;
        match (self.converged_at_s, self.rounds) {
            (Some(t), Some(r)) => writeln!(
                f,
                "converged after {t:.1} s = {r:.2} gossip rounds (log3 N + ln ln N = {:.2})",
                self.expected_rounds
            )?,
            _ => writeln!(
                f,
                "did NOT converge (lowest known fraction at end {:.3})",
                self.min_known_fraction_at_end
            )?,
        }
        writeln!(
            f,
            "per node: {:.0} messages, {:.0} bytes; peak table size {}",
            self.messages_per_node, self.bytes_per_node, self.peak_table_size
        )?;
        let kinds: Vec<String> = self
            .messages_by_kind
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(f, "frames by kind: {}", kinds.join(", "))?;
        writeln!(
            f,
            "dials {} (failed {}), streams broken {}, churn episodes {}, honest online at end {}",
            self.dials,
            self.dial_failures,
            self.streams_broken,
            self.churn_events,
            self.honest_online_at_end
        )?;
        if self.rejected.is_empty() {
            writeln!(f, "rejected: none")?;
        } else {
            writeln!(f, "rejected:")?;
            for (reason, count) in &self.rejected {
                writeln!(f, "  {reason}: {count}")?;
            }
        }
        writeln!(
            f,
            "invalid admitted: {}; sybils per source max {} (cap {}), per node max {}",
            self.invalid_admitted,
            self.max_sybils_per_source,
            self.max_per_source,
            self.max_sybils_per_node
        )?;
        if let Some(known) = self.victim_honest_known {
            writeln!(f, "fill victim still knows {known} honest nodes")?;
        }
        write!(
            f,
            "stale replays held at end: {}",
            self.stale_replays_at_end
        )
    }
}
