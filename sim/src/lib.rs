//! `torpeer-sim`: a deterministic discrete-event simulator that drives many
//! sans-IO [`torpeer_core::Node`]s over an in-memory network of simulated
//! Tor streams, with latency, loss, partitions, churn and adversaries, and
//! measures whether (and how fast) discovery converges and whether anything
//! invalid gets into a table.
//!
//! ```no_run
//! let mut config = torpeer_sim::SimConfig::new(100, 7);
//! config.loss = 0.1;
//! let report = torpeer_sim::run(config).unwrap();
//! println!("{}", report.to_json());
//! ```
//!
//! Modules: [`config`] (what a run is made of), [`world`] (the network and
//! the event loop), [`adversary`] (poisoned records and the lying node),
//! [`report`] (what a run measured). Same configuration → byte-identical
//! [`Report::to_json`].

pub mod adversary;
pub mod config;
pub mod driven;
mod queue;
pub mod report;
pub mod world;

pub use config::{Adversaries, LatencyDist, NodeTuning, Partition, SimConfig};
pub use driven::SimNode;
pub use report::Report;
pub use world::{SimError, World};

/// Set up and run one simulation of real [`torpeer_core::Node`]s.
pub fn run(config: SimConfig) -> Result<Report, SimError> {
    Ok(World::<torpeer_core::Node>::new(config)?.run())
}
