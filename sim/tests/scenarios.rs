//! Simulator scenarios: determinism, convergence under loss and churn, a
//! healing partition, and each adversary contained. Heavy scenarios (1,000
//! nodes) are `#[ignore]`d here and run in release by scripts/ci/25-sim.sh.

// Test helpers may panic: a bad configuration here is a bug in the test.
#![allow(clippy::expect_used)]

use torpeer_sim::{Adversaries, NodeTuning, Partition, Report, SimConfig};

fn config(nodes: usize, seed: u64, duration_s: u64) -> SimConfig {
    let mut c = SimConfig::new(nodes, seed);
    c.duration_s = duration_s;
    c
}

fn run(c: SimConfig) -> Report {
    torpeer_sim::run(c).expect("valid configuration")
}

fn assert_converged(r: &Report) {
    assert!(r.converged_at_s.is_some(), "did not converge:\n{r}");
    assert_eq!(r.invalid_admitted, 0, "invalid records admitted:\n{r}");
}

#[test]
fn same_seed_gives_byte_identical_json() {
    let make = |seed| {
        let mut c = config(40, seed, 600);
        c.loss = 0.05;
        c.churn = 2.0;
        c.adversaries = Adversaries {
            bad_signature: 5,
            bad_pow: 5,
            replays: 3,
            sybils: 10,
            weak_sybils: 5,
            fill_victim: 0,
        };
        c
    };
    let a = run(make(11)).to_json();
    let b = run(make(11)).to_json();
    assert_eq!(a, b);
    // Another seed gives another run (not just another "seed" field).
    let mut other = run(make(12));
    other.seed = 11;
    assert_ne!(
        a,
        other.to_json(),
        "a different seed must give a different run"
    );
    // The JSON carries the interface's keys.
    for key in [
        "\"converged_at_s\"",
        "\"rounds\"",
        "\"messages_per_node\"",
        "\"bytes_per_node\"",
        "\"peak_table_size\"",
        "\"rejected\"",
        "\"invalid_admitted\"",
    ] {
        assert!(a.contains(key), "missing {key} in {a}");
    }
}

#[test]
fn the_shared_verify_cache_changes_no_outcome() {
    let make = |cache| {
        let mut c = config(30, 21, 300);
        c.loss = 0.05;
        c.adversaries = Adversaries {
            bad_signature: 5,
            bad_pow: 5,
            replays: 2,
            sybils: 10,
            ..Adversaries::default()
        };
        c.shared_verify_cache = cache;
        c
    };
    assert_eq!(run(make(true)).to_json(), run(make(false)).to_json());
}

#[test]
fn converges_without_faults() {
    let r = run(config(60, 1, 600));
    assert_converged(&r);
    assert!(r.messages_per_node > 0.0 && r.bytes_per_node > 0.0);
    assert!(r.peak_table_size >= 59, "{r}");
}

#[test]
fn convergence_is_timed_from_the_start_not_from_the_settle_time() {
    // The settle time keeps nodes that just came back out of the check;
    // a first start must count at once, or every run reports at least it.
    let c = config(60, 1, 600);
    let settle_s = c.settle_ms as f64 / 1000.0;
    let spread_s = c.start_spread_s as f64;
    let r = run(c);
    let t = r.converged_at_s.unwrap_or(f64::INFINITY);
    assert!(
        t < settle_s,
        "converged at {t} s, not before the settle time:\n{r}"
    );
    assert!(
        t >= spread_s,
        "converged at {t} s, before all nodes started:\n{r}"
    );
}

#[test]
fn converges_with_loss_and_churn() {
    let mut c = config(60, 2, 1_200);
    c.loss = 0.1;
    c.churn = 2.0;
    let r = run(c);
    assert_converged(&r);
    assert!(r.churn_events > 0 && r.dial_failures > 0, "{r}");
}

/// The scenario: 1,000 nodes, 10 % loss and churn. A node that
/// comes back empty pulls about a quarter of a table per new connection and
/// then what it lacks each gossip round; it counts as an observer after 20
/// minutes online (kept from the days of random 64-record pulls).
#[test]
#[ignore = "heavy: runs in release from scripts/ci/25-sim.sh"]
fn converges_1000_nodes_with_10_percent_loss_and_churn() {
    let mut c = config(1_000, 3, 3_600);
    c.loss = 0.1;
    c.churn = 1.0;
    c.settle_ms = 1_200_000;
    let r = run(c);
    println!("{r}");
    assert_converged(&r);
    assert!(r.churn_events > 0 && r.dial_failures > 0, "{r}");
}

/// Two halves that cannot reach each other from the start, with more
/// outbound slots than a half has peers, so nodes keep retrying their
/// (cross-partition) bootstrap contacts with backoff; once the partition
/// ends those dials succeed and the halves merge.
#[test]
fn partition_heals_while_below_target() {
    let mut c = config(24, 4, 1_500);
    c.node = NodeTuning {
        target_outbound: Some(16),
        ..NodeTuning::default()
    };
    c.partitions = vec![Partition {
        start_s: 0,
        end_s: 400,
        split: 12,
    }];
    let r = run(c);
    assert_converged(&r);
    let t = r.converged_at_s.unwrap_or(0.0);
    assert!(
        t > 400.0,
        "converged at {t} s, before the partition healed:\n{r}"
    );
    assert!(r.dial_failures > 0, "{r}");
}

/// The hard case: halves of 20 nodes with the default 8 outbound slots, so
/// every node fills its slots inside its own half during the partition and
/// the dialler has no reason to dial again. The only cross links are the
/// bootstrap contacts some upper-half nodes have in the lower half. Outbound
/// rotation (one slot re-dialled to a random known-but-unconnected peer
/// every ~5 min) finds them after the partition ends, in every seed;
/// without it, merging is left to chance (see the next test).
fn filled_partition(seed: u64) -> Report {
    let mut c = config(40, seed, 2_400);
    c.partitions = vec![Partition {
        start_s: 0,
        end_s: 600,
        split: 20,
    }];
    run(c)
}

/// Seeds of the filled-partition scenario: different topologies and dial
/// orders.
const FILLED_SEEDS: std::ops::RangeInclusive<u64> = 1..=8;

#[test]
fn partition_heals_with_outbound_slots_filled() {
    for seed in FILLED_SEEDS {
        let r = filled_partition(seed);
        assert_converged(&r);
        let t = r.converged_at_s.unwrap_or(0.0);
        assert!(
            t > 600.0,
            "seed {seed}: converged at {t} s, before the partition healed:\n{r}"
        );
        assert!(r.converged_at_end, "seed {seed}: {r}");
    }
}

/// The check that the test above can fail: the same halves kept apart
/// until the end of the run are reported as never converged, each node
/// knowing its own half only.
///
/// (This used to compare against rotation turned off, where most seeds
/// stayed split. With delta gossip most of them merge anyway: once inbound
/// slots in a half are full, refused dials leave outbound slots free, and
/// the retried cross-half bootstrap contacts get through. Which seeds merge
/// is chance, so that comparison asserted seed luck, not the design.)
#[test]
fn a_partition_that_never_ends_is_reported_split() {
    for seed in FILLED_SEEDS.take(3) {
        let mut c = config(40, seed, 2_400);
        c.partitions = vec![Partition {
            start_s: 0,
            end_s: 2_400,
            split: 20,
        }];
        let r = run(c);
        assert_eq!(r.converged_at_s, None, "seed {seed}: {r}");
        assert!(!r.converged_at_end, "seed {seed}: {r}");
        assert!(r.min_known_fraction_at_end < 0.6, "seed {seed}: {r}");
        assert_eq!(r.invalid_admitted, 0, "seed {seed}: {r}");
    }
}

#[test]
fn flood_of_bad_signatures_and_bad_pow_is_rejected() {
    let mut c = config(40, 5, 600);
    c.adversaries = Adversaries {
        bad_signature: 300,
        bad_pow: 300,
        ..Adversaries::default()
    };
    let r = run(c);
    assert_converged(&r);
    assert!(
        r.rejected.get("bad_signature").copied().unwrap_or(0) > 0,
        "{r}"
    );
    assert!(r.rejected.get("bad_pow").copied().unwrap_or(0) > 0, "{r}");
}

#[test]
fn replays_are_rejected_or_superseded() {
    let mut c = config(40, 6, 600);
    c.adversaries = Adversaries {
        replays: 30,
        ..Adversaries::default()
    };
    let r = run(c);
    assert_converged(&r);
    assert!(r.rejected.get("expired").copied().unwrap_or(0) > 0, "{r}");
    // A lower-sequence record never replaces the live one a node holds;
    // by the end every replayed identity has been heard first-hand.
    assert_eq!(r.stale_replays_at_end, 0, "{r}");
}

#[test]
fn sybils_below_minimum_are_rejected_and_at_minimum_are_capped_per_source() {
    let mut c = config(40, 7, 900);
    c.node = NodeTuning {
        max_per_source: Some(100),
        ..NodeTuning::default()
    };
    c.adversaries = Adversaries {
        sybils: 300,
        weak_sybils: 100,
        ..Adversaries::default()
    };
    let r = run(c);
    assert_converged(&r);
    assert!(r.rejected.get("bad_pow").copied().unwrap_or(0) > 0, "{r}");
    assert!(r.max_sybils_per_source > 0, "no Sybil got anywhere:\n{r}");
    assert!(
        r.max_sybils_per_source <= 100,
        "one source inserted {} Sybils, cap 100:\n{r}",
        r.max_sybils_per_source
    );
}

#[test]
fn a_source_cannot_fill_a_victims_table() {
    let mut c = config(40, 8, 600);
    c.node = NodeTuning {
        table_capacity: Some(100),
        max_per_source: Some(20),
        ..NodeTuning::default()
    };
    c.adversaries = Adversaries {
        fill_victim: 2_000,
        ..Adversaries::default()
    };
    let r = run(c);
    assert_converged(&r);
    assert!(r.max_sybils_per_source <= 20, "{r}");
    let known = r.victim_honest_known.unwrap_or(0);
    assert!(
        known >= 38,
        "victim lost honest peers: knows {known} of 39\n{r}"
    );
}
