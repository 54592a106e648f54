//! What a simulation run is made of: network size, seed, link model, churn,
//! partitions and adversaries. Every field has a documented default so that
//! a scenario states only what it changes.

use serde::Serialize;

/// Unix time (ms) at which every run starts: 2026-01-01T00:00:00Z. Records
/// carry real-looking issue times; the value itself never matters.
pub const SIM_EPOCH_MS: u64 = 1_767_225_600_000;

/// Why a configuration is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// At least two honest nodes are needed for discovery to mean anything.
    #[error("need at least 2 nodes, got {0}")]
    TooFewNodes(usize),
    /// Loss is a probability.
    #[error("loss must be in [0, 1), got {0}")]
    BadLoss(f64),
    /// Churn is a rate and must be finite and non-negative.
    #[error("churn must be a finite rate >= 0, got {0}")]
    BadChurn(f64),
    /// The latency distribution is empty or inverted.
    #[error("bad latency distribution: {0}")]
    BadLatency(&'static str),
    /// A partition window or split is out of range.
    #[error("bad partition: {0}")]
    BadPartition(&'static str),
    /// Difficulty must be at least 1 so that a "below minimum" Sybil exists.
    #[error("sim difficulty must be in 1..=16, got {0}")]
    BadDifficulty(u8),
}

impl ConfigError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooFewNodes(_) => "too_few_nodes",
            Self::BadLoss(_) => "bad_loss",
            Self::BadChurn(_) => "bad_churn",
            Self::BadLatency(_) => "bad_latency",
            Self::BadPartition(_) => "bad_partition",
            Self::BadDifficulty(_) => "bad_difficulty",
        }
    }
}

/// One-way latency of a simulated Tor stream, drawn once per connection
/// (a circuit keeps its relays, so its latency is stable); each segment adds
/// up to a quarter of it as jitter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LatencyDist {
    /// Always this many milliseconds.
    Fixed {
        /// One-way latency.
        ms: u64,
    },
    /// Uniform in `[lo_ms, hi_ms]`.
    Uniform {
        /// Lowest latency.
        lo_ms: u64,
        /// Highest latency.
        hi_ms: u64,
    },
    /// Log-normal around `median_ms` with shape `sigma`, clamped to
    /// `[min_ms, max_ms]`: the long right tail of Tor circuits.
    LogNormal {
        /// Median latency.
        median_ms: u64,
        /// Shape (standard deviation of the log).
        sigma: f64,
        /// Clamp below.
        min_ms: u64,
        /// Clamp above.
        max_ms: u64,
    },
}

impl Default for LatencyDist {
    /// Onion-service streams cross six relays: ~400 ms one way is typical,
    /// with seconds in the tail.
    fn default() -> Self {
        Self::LogNormal {
            median_ms: 400,
            sigma: 0.5,
            min_ms: 80,
            max_ms: 4_000,
        }
    }
}

/// Two groups of nodes that cannot reach each other during a window: nodes
/// with index `< split` on one side, the rest on the other. Open streams
/// across break at `start_s`; dials across fail until `end_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// Virtual second the partition starts.
    pub start_s: u64,
    /// Virtual second it heals.
    pub end_s: u64,
    /// Node index dividing the two sides.
    pub split: usize,
}

/// Attacks run from one malicious node that holds a valid identity, completes
/// handshakes honestly and then lies: its `Peers` answers and the bootstrap
/// peer lists it serves carry the poison below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Adversaries {
    /// Records with a corrupted signature (fresh identities, valid PoW).
    pub bad_signature: usize,
    /// Records whose PoW nonce does not meet the claimed difficulty.
    pub bad_pow: usize,
    /// Correctly signed records of honest identities that are expired, or
    /// carry a lower sequence than the identity's live record.
    pub replays: usize,
    /// Valid identities at the network minimum difficulty, never online:
    /// admissible, so they must be bounded by the per-source cap.
    pub sybils: usize,
    /// Identities below the network minimum difficulty (correctly signed):
    /// must all be rejected.
    pub weak_sybils: usize,
    /// Extra valid Sybil records pushed at one victim (node 0) every gossip
    /// interval through bootstrap peer lists, to try to fill its table.
    pub fill_victim: usize,
}

impl Adversaries {
    /// Whether any attack runs (and so whether the malicious node exists).
    pub fn any(&self) -> bool {
        *self != Self::default()
    }
}

/// Overrides of the node's own defaults ([`torpeer_core::NodeConfig::new`]);
/// `None` keeps the node's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct NodeTuning {
    /// Period of get-peers gossip.
    pub gossip_interval_ms: Option<u64>,
    /// Peer-table capacity.
    pub table_capacity: Option<usize>,
    /// Per-source insertion cap.
    pub max_per_source: Option<usize>,
    /// Outbound connections to keep.
    pub target_outbound: Option<usize>,
    /// Most simultaneous connections.
    pub max_connections: Option<usize>,
    /// Outbound rotation period (`Some(0)` turns rotation off).
    pub rotate_interval_ms: Option<u64>,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimConfig {
    /// Honest nodes.
    pub nodes: usize,
    /// Seed of every random choice (identities, latencies, loss, churn).
    pub seed: u64,
    /// Virtual length of the run.
    pub duration_s: u64,
    /// Probability that one segment is lost (retransmitted later; four
    /// losses in a row break the stream) and that one dial fails.
    pub loss: f64,
    /// Offline episodes per honest node per virtual hour (Poisson).
    pub churn: f64,
    /// Probability that a node coming back keeps its state (table, own
    /// sequence); otherwise it restarts empty with a newer sequence.
    pub churn_keep_state: f64,
    /// Offline episodes last uniformly between these many seconds.
    pub churn_offline_s: (u64, u64),
    /// Per-connection latency.
    pub latency: LatencyDist,
    /// Partition windows.
    pub partitions: Vec<Partition>,
    /// Attacks.
    pub adversaries: Adversaries,
    /// Network minimum PoW difficulty (low, so that setup is cheap).
    pub difficulty: u8,
    /// Bootstrap contacts per node, drawn among nodes created before it.
    pub bootstrap_contacts: usize,
    /// Nodes start uniformly within this many seconds.
    pub start_spread_s: u64,
    /// Convergence is checked (and table sizes sampled) this often.
    pub sample_interval_ms: u64,
    /// A node must have been online this long to count as an observer in
    /// the convergence check (a node that just restarted empty cannot know
    /// everyone yet; it still counts as someone to be known).
    pub settle_ms: u64,
    /// Node configuration overrides.
    pub node: NodeTuning,
    /// Share one verification memo among all nodes (each valid record's
    /// PoW and signature checked once per run, not once per node). Changes
    /// only the simulator's CPU time, never an outcome: verification is a
    /// pure function of the record, and failures are never memoised.
    pub shared_verify_cache: bool,
    /// Print a progress line to stderr every this many virtual seconds (0:
    /// never). For long benchmark runs, so one stopped early still says
    /// how far it got; never part of the report.
    pub progress_every_s: u64,
}

impl SimConfig {
    /// Defaults for `nodes` honest nodes and `seed`: one virtual hour, no
    /// loss, no churn, no attack, difficulty 8.
    pub fn new(nodes: usize, seed: u64) -> Self {
        Self {
            nodes,
            seed,
            duration_s: 3_600,
            loss: 0.0,
            churn: 0.0,
            churn_keep_state: 0.5,
            churn_offline_s: (60, 600),
            latency: LatencyDist::default(),
            partitions: Vec::new(),
            adversaries: Adversaries::default(),
            difficulty: 8,
            bootstrap_contacts: 3,
            start_spread_s: 10,
            sample_interval_ms: 5_000,
            settle_ms: 120_000,
            node: NodeTuning::default(),
            shared_verify_cache: true,
            progress_every_s: 0,
        }
    }

    /// Refuse configurations the run cannot honour.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.nodes < 2 {
            return Err(ConfigError::TooFewNodes(self.nodes));
        }
        if !(0.0..1.0).contains(&self.loss) {
            return Err(ConfigError::BadLoss(self.loss));
        }
        if !self.churn.is_finite() || self.churn < 0.0 {
            return Err(ConfigError::BadChurn(self.churn));
        }
        if !(1..=16).contains(&self.difficulty) {
            return Err(ConfigError::BadDifficulty(self.difficulty));
        }
        match self.latency {
            LatencyDist::Fixed { .. } => {}
            LatencyDist::Uniform { lo_ms, hi_ms } if lo_ms > hi_ms => {
                return Err(ConfigError::BadLatency("lo_ms > hi_ms"));
            }
            LatencyDist::LogNormal {
                sigma,
                min_ms,
                max_ms,
                ..
            } if !sigma.is_finite() || sigma < 0.0 || min_ms > max_ms => {
                return Err(ConfigError::BadLatency(
                    "sigma must be finite and >= 0, min_ms <= max_ms",
                ));
            }
            _ => {}
        }
        if self.churn_offline_s.0 > self.churn_offline_s.1 {
            return Err(ConfigError::BadChurn(self.churn));
        }
        for p in &self.partitions {
            if p.start_s >= p.end_s {
                return Err(ConfigError::BadPartition("start_s must be before end_s"));
            }
            if p.split == 0 || p.split >= self.nodes {
                return Err(ConfigError::BadPartition("split must be in 1..nodes"));
            }
        }
        Ok(())
    }
}
