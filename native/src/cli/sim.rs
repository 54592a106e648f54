//! `torpeer sim`: run the deterministic network simulator and print what it
//! measured. Exit 0 when the honest nodes converged and no invalid record
//! got into any table, 1 otherwise, 2 on a bad configuration.

use super::output::say;
use std::process::ExitCode;

use clap::Args;
use torpeer_sim::{Adversaries, SimConfig};

/// Simulate a TorPeer network in memory (virtual time, seeded, reproducible).
#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    /// Honest nodes.
    #[arg(long, default_value_t = 1_000)]
    nodes: usize,
    /// Seed of every random choice; the same seed gives the same output.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Probability that a segment is lost (retransmitted; four losses in a
    /// row break the stream) and that a dial fails.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Offline episodes per node per virtual hour (each 1-10 min; half the
    /// nodes come back with their table, half empty).
    #[arg(long, default_value_t = 0.0)]
    churn: f64,
    /// Sybil identities an adversary pushes: this many at the network's
    /// minimum difficulty (bounded by the per-source cap) and as many below
    /// it (must all be rejected).
    #[arg(long, default_value_t = 0)]
    sybils: usize,
    /// Records with bad signatures and as many with bad PoW the adversary
    /// floods.
    #[arg(long, default_value_t = 0)]
    flood: usize,
    /// Honest identities whose old (expired / lower-sequence) records the
    /// adversary replays.
    #[arg(long, default_value_t = 0)]
    replays: usize,
    /// Valid Sybil records pushed at node 0 to try to fill its table.
    #[arg(long, default_value_t = 0)]
    fill: usize,
    /// Virtual seconds to simulate.
    #[arg(long, default_value_t = 3_600)]
    duration: u64,
    /// Print one JSON object instead of the human summary.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: SimArgs) -> ExitCode {
    let mut config = SimConfig::new(args.nodes, args.seed);
    config.loss = args.loss;
    config.churn = args.churn;
    config.duration_s = args.duration;
    config.adversaries = Adversaries {
        bad_signature: args.flood,
        bad_pow: args.flood,
        replays: args.replays,
        sybils: args.sybils,
        weak_sybils: args.sybils,
        fill_victim: args.fill,
    };
    let report = match torpeer_sim::run(config) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("torpeer sim: {e} ({})", e.code());
            return ExitCode::from(2);
        }
    };
    if args.json {
        say!("{}", report.to_json());
    } else {
        say!("{report}");
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::SimArgs;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: SimArgs,
    }

    #[test]
    fn flags_of_the_issue_parse() {
        let w = Wrapper::try_parse_from([
            "sim",
            "--nodes",
            "1000",
            "--seed",
            "7",
            "--loss",
            "0.1",
            "--churn",
            "2",
            "--sybils",
            "50",
            "--duration",
            "600",
            "--json",
        ])
        .unwrap();
        assert_eq!(w.args.nodes, 1000);
        assert_eq!(w.args.seed, 7);
        assert_eq!(w.args.loss, 0.1);
        assert_eq!(w.args.churn, 2.0);
        assert_eq!(w.args.sybils, 50);
        assert_eq!(w.args.duration, 600);
        assert!(w.args.json);
        assert!(Wrapper::try_parse_from(["sim", "--nodes", "many"]).is_err());
    }

    #[test]
    fn a_bad_configuration_exits_2() {
        let w = Wrapper::try_parse_from(["sim", "--nodes", "1", "--json"]).unwrap();
        assert_eq!(super::run(w.args), std::process::ExitCode::from(2));
    }
}
