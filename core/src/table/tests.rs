use proptest::prelude::*;

use super::*;
use crate::record::Role;
use crate::testutil::{identity, params, record};

const T0: u64 = 1_800_000_000;

fn table(capacity: usize, max_per_source: usize) -> PeerTable {
    let limits = TableLimits {
        capacity,
        max_per_source,
        source_buckets: 64,
        ..TableLimits::default()
    };
    PeerTable::new(identity(0).address(), params(), limits, [7; 32])
}

fn now() -> Timestamp {
    Timestamp::from_secs(T0)
}

#[test]
fn newer_sequence_replaces_and_older_is_ignored() {
    let mut t = table(10, 10);
    let p = params();
    let a = identity(1);
    let src = Provenance::Heard(identity(2).address());
    assert_eq!(
        t.offer(now(), record(&p, &a, Role::Participant, 5, T0), src),
        Ok(Admitted::New)
    );
    assert_eq!(
        t.offer(now(), record(&p, &a, Role::Participant, 4, T0), src),
        Ok(Admitted::Unchanged)
    );
    assert_eq!(
        t.offer(now(), record(&p, &a, Role::Participant, 5, T0), src),
        Ok(Admitted::Unchanged)
    );
    assert_eq!(
        t.offer(now(), record(&p, &a, Role::Router, 6, T0), src),
        Ok(Admitted::Updated)
    );
    assert_eq!(t.get(&a.address()).unwrap().record().body.sequence, 6);
    assert_eq!(t.accepted(), 2);
}

#[test]
fn invalid_records_are_refused_with_codes() {
    let mut t = table(10, 10);
    let p = params();
    let src = Provenance::Bootstrap;
    let mut forged = record(&p, &identity(1), Role::Participant, 1, T0);
    forged.signature[0] ^= 1;
    assert_eq!(
        t.offer(now(), forged, src).unwrap_err().code(),
        "bad_signature"
    );
    let mut bad_pow = record(&p, &identity(2), Role::Participant, 1, T0);
    bad_pow.body.pow_difficulty = 40;
    let bad_pow = bad_pow.body.sign(&identity(2)).unwrap();
    assert_eq!(t.offer(now(), bad_pow, src).unwrap_err().code(), "bad_pow");
    let expired = record(
        &p,
        &identity(3),
        Role::Participant,
        1,
        T0 - p.record_ttl_secs - 1,
    );
    assert_eq!(t.offer(now(), expired, src).unwrap_err().code(), "expired");
    let future = record(&p, &identity(4), Role::Participant, 1, T0 + 601);
    assert_eq!(
        t.offer(now(), future, src).unwrap_err().code(),
        "from_future"
    );
    let mut ep = record(&p, &identity(5), Role::Participant, 1, T0);
    ep.body.tcp_endpoint = Some("127.0.0.1:9".parse().unwrap());
    let ep = ep.body.sign(&identity(5)).unwrap();
    assert_eq!(
        t.offer(now(), ep, src).unwrap_err().code(),
        "tcp_endpoint_on_tor"
    );
    let own = record(&p, &identity(0), Role::Participant, 1, T0);
    assert_eq!(t.offer(now(), own, src).unwrap_err().code(), "own_record");
    assert!(t.is_empty());
    assert_eq!(t.rejected().get("bad_signature"), Some(&1));
}

#[test]
fn a_held_record_is_not_verified_again() {
    let mut t = table(10, 10);
    let p = params();
    let a = identity(1);
    let good = record(&p, &a, Role::Participant, 3, T0);
    t.offer(now(), good.clone(), Provenance::Bootstrap).unwrap();
    // Same sequence, different (forged) signature: dropped as stale, so an
    // attacker replaying held records costs us no signature checks.
    let mut forged = good;
    forged.signature[5] ^= 0xff;
    assert_eq!(
        t.offer(now(), forged, Provenance::Bootstrap),
        Ok(Admitted::Unchanged)
    );
    assert!(t.rejected().is_empty());
}

#[test]
fn eviction_prefers_heard_of_entries() {
    let mut t = table(3, 10);
    let p = params();
    let direct = t
        .check(now(), record(&p, &identity(1), Role::Participant, 1, T0))
        .unwrap();
    t.insert_verified(now(), direct, Provenance::Direct)
        .unwrap();
    let src = Provenance::Heard(identity(9).address());
    for (i, n) in [2u32, 3, 4].iter().enumerate() {
        let at = now().plus_millis(i as u64 * 1000);
        t.offer(at, record(&p, &identity(*n), Role::Participant, 1, T0), src)
            .unwrap();
    }
    assert_eq!(t.len(), 3);
    assert!(t.get(&identity(1).address()).is_some(), "direct entry kept");
    assert!(
        t.get(&identity(2).address()).is_none(),
        "oldest heard-of evicted"
    );
}

#[test]
fn rate_limit_and_expiry() {
    let limits = TableLimits {
        source_burst: 2,
        source_refill_ms: 10_000,
        ..TableLimits::default()
    };
    let mut t = PeerTable::new(identity(0).address(), params(), limits, [1; 32]);
    let p = params();
    let src = Provenance::Heard(identity(9).address());
    t.offer(
        now(),
        record(&p, &identity(1), Role::Participant, 1, T0),
        src,
    )
    .unwrap();
    t.offer(
        now(),
        record(&p, &identity(2), Role::Participant, 1, T0),
        src,
    )
    .unwrap();
    assert_eq!(
        t.offer(
            now(),
            record(&p, &identity(3), Role::Participant, 1, T0),
            src
        ),
        Err(Rejected::RateLimited)
    );
    let later = now().plus_millis(10_000);
    t.offer(
        later,
        record(&p, &identity(3), Role::Participant, 1, T0),
        src,
    )
    .unwrap();
    assert_eq!(t.next_expiry(), Some(T0 + p.record_ttl_secs));
    let gone = t.expire(Timestamp::from_secs(T0 + p.record_ttl_secs + 1));
    assert_eq!(gone.len(), 3);
    assert!(t.is_empty() && t.per_source().is_empty());
}

#[derive(Debug, Clone)]
enum Op {
    Offer {
        who: u32,
        seq: u64,
        source: u32,
        corrupt: u8,
    },
    Direct {
        who: u32,
        seq: u64,
    },
    Advance {
        secs: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u32..40, 1u64..6, 0u32..6, 0u8..6)
            .prop_map(|(who, seq, source, corrupt)| Op::Offer { who, seq, source, corrupt }),
        1 => (1u32..40, 1u64..6).prop_map(|(who, seq)| Op::Direct { who, seq }),
        1 => (0u64..4000).prop_map(|secs| Op::Advance { secs }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn table_invariants(ops in proptest::collection::vec(op(), 1..60)) {
        let p = params();
        let capacity = 12;
        let max_per_source = 4;
        let mut t = table(capacity, max_per_source);
        let mut clock = now();
        // Highest valid sequence offered per identity.
        let mut best: BTreeMap<OnionAddress, u64> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Offer { who, seq, source, corrupt } => {
                    let id = identity(who);
                    // Issue times near the clock so nothing expires mid-test.
                    let mut r = record(&p, &id, Role::Participant, seq, clock.as_secs());
                    let valid = match corrupt {
                        1 => { r.signature[1] ^= 4; false }
                        2 => { r.body.pow_nonce ^= 1 << 40; r = r.body.sign(&id).unwrap(); crate::pow::verify(&p.name.id(), &id.address(), r.body.pow_nonce, r.body.pow_difficulty).is_ok() }
                        3 => { r = record(&p, &id, Role::Participant, seq, clock.as_secs() + 3600); false }
                        _ => true,
                    };
                    let src = Provenance::Heard(identity(100 + source).address());
                    let held = t.get(&id.address()).map(|e| e.record().body.sequence);
                    let res = t.offer(clock, r, src);
                    if matches!(res, Ok(Admitted::New | Admitted::Updated)) {
                        prop_assert!(valid, "invalid record admitted");
                        let b = best.entry(id.address()).or_default();
                        *b = (*b).max(seq);
                    }
                    if let (Some(h), Ok(Admitted::Updated)) = (held, &res) {
                        prop_assert!(seq > h, "older or equal sequence replaced a newer one");
                    }
                }
                Op::Direct { who, seq } => {
                    let r = record(&p, &identity(who), Role::Participant, seq, clock.as_secs());
                    let v = t.check(clock, r).unwrap();
                    if matches!(t.insert_verified(clock, v, Provenance::Direct), Ok(Admitted::New | Admitted::Updated)) {
                        let b = best.entry(identity(who).address()).or_default();
                        *b = (*b).max(seq);
                    }
                }
                Op::Advance { secs } => {
                    clock = clock.plus_millis(secs * 1000);
                    t.expire(clock);
                }
            }
            prop_assert!(t.len() <= capacity);
            if let Err(e) = t.check_indexes() {
                prop_assert!(false, "indexes disagree: {}", e);
            }
            let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
            for (o, e) in t.iter() {
                prop_assert!(e.record().verify(&p, e.record().body.issued_at).is_ok());
                // Newer sequence wins: an entry holds the best valid sequence
                // admitted since it (re-)entered.
                prop_assert!(e.record().body.sequence <= best[o]);
                if !e.direct() && let Some(s) = e.provenance().source() {
                    *counts.entry(t.source_bucket(&s)).or_default() += 1;
                }
            }
            prop_assert_eq!(&counts, t.per_source());
            prop_assert!(counts.values().all(|n| *n <= max_per_source));
        }
    }
}

#[derive(Debug, Default)]
struct CountingCache {
    set: std::sync::Mutex<BTreeSet<[u8; 32]>>,
    inserts: std::sync::atomic::AtomicUsize,
}

impl VerifyCache for CountingCache {
    fn contains(&self, digest: &[u8; 32]) -> bool {
        self.set.lock().unwrap().contains(digest)
    }
    fn insert(&self, digest: [u8; 32]) {
        self.inserts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.set.lock().unwrap().insert(digest);
    }
}

#[test]
fn a_shared_verify_cache_skips_only_the_crypto() {
    let p = params();
    let cache = std::sync::Arc::new(CountingCache::default());
    let mut one = table(10, 10);
    let mut two = PeerTable::new(
        identity(50).address(),
        p.clone(),
        TableLimits::default(),
        [3; 32],
    );
    one.set_verify_cache(Some(cache.clone()));
    two.set_verify_cache(Some(cache.clone()));
    let good = record(&p, &identity(1), Role::Participant, 1, T0);
    one.offer(now(), good.clone(), Provenance::Bootstrap)
        .unwrap();
    two.offer(now(), good.clone(), Provenance::Bootstrap)
        .unwrap();
    assert_eq!(cache.inserts.load(std::sync::atomic::Ordering::Relaxed), 1);
    // A forged twin has another digest: verified, and refused.
    let mut forged = record(&p, &identity(2), Role::Participant, 1, T0);
    forged.signature[0] ^= 1;
    assert_eq!(
        two.offer(now(), forged, Provenance::Bootstrap)
            .unwrap_err()
            .code(),
        "bad_signature"
    );
    // Time checks still run on a cached record.
    let mut three = table(10, 10);
    three.set_verify_cache(Some(cache.clone()));
    let late = Timestamp::from_secs(T0 + p.record_ttl_secs + 1);
    assert_eq!(
        three
            .offer(late, good, Provenance::Bootstrap)
            .unwrap_err()
            .code(),
        "expired"
    );
}

/// A [`VerifyCache`] that also interns, like the simulator's.
#[derive(Debug, Default)]
struct InterningCache(std::sync::Mutex<BTreeMap<[u8; 32], Option<Arc<SignedRecord>>>>);

impl VerifyCache for InterningCache {
    fn contains(&self, digest: &[u8; 32]) -> bool {
        self.0.lock().unwrap().contains_key(digest)
    }
    fn insert(&self, digest: [u8; 32]) {
        self.0.lock().unwrap().entry(digest).or_insert(None);
    }
    fn intern(&self, digest: [u8; 32], record: SignedRecord) -> Arc<SignedRecord> {
        self.0
            .lock()
            .unwrap()
            .entry(digest)
            .or_insert(None)
            .get_or_insert_with(|| Arc::new(record))
            .clone()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Tables sharing an interning cache hold one copy of each record:
    /// equal records in two tables are the same allocation, and every
    /// entry names the table's own network (one shared name).
    #[test]
    fn shared_tables_hold_one_copy_per_record(
        offers in proptest::collection::vec((0usize..2, 1u32..20, 1u64..4), 1..60)
    ) {
        let p = params();
        let cache: Arc<dyn VerifyCache> = Arc::new(InterningCache::default());
        let mut tables = [table(30, 30), table(30, 30)];
        for t in &mut tables {
            t.set_verify_cache(Some(cache.clone()));
        }
        for (which, who, seq) in offers {
            let r = record(&p, &identity(who), Role::Participant, seq, T0);
            let _ = tables[which].offer(now(), r, Provenance::Bootstrap);
            for (o, a) in tables[0].iter() {
                prop_assert_eq!(&a.record().body.network, &p.name);
                if let Some(b) = tables[1].get(o)
                    && a.record().body.sequence == b.record().body.sequence
                {
                    prop_assert!(std::ptr::eq(a.record(), b.record()), "two copies of one record");
                }
            }
        }
    }
}

#[test]
fn per_source_limits_scale_with_capacity_above_a_floor() {
    let small = TableLimits::for_capacity(100);
    assert_eq!(
        (
            small.max_per_source,
            small.source_burst,
            small.source_refill_ms
        ),
        (1_000, 1_000, 10_000)
    );
    let at_floor = TableLimits::for_capacity(4_000);
    assert_eq!(at_floor.max_per_source, 1_000);
    let default = TableLimits::default();
    assert_eq!(default.capacity, 10_000);
    assert_eq!(
        (
            default.max_per_source,
            default.source_burst,
            default.source_refill_ms
        ),
        (2_500, 2_500, 4_000)
    );
    let big = TableLimits::for_capacity(100_000);
    assert_eq!(
        (big.max_per_source, big.source_burst, big.source_refill_ms),
        (25_000, 25_000, 400)
    );
    // Four sources fill any table above the floor, and no fewer can.
    for limits in [default, big] {
        assert!(limits.max_per_source * SOURCES_TO_FILL >= limits.capacity);
        assert!(limits.max_per_source * (SOURCES_TO_FILL - 1) < limits.capacity);
    }
}

/// One source hands over its whole share of a big table in one burst (a
/// quarter of it) and then nothing new; a second source goes on.
#[test]
fn one_source_fills_a_quarter_of_a_big_table_and_no_more() {
    let limits = TableLimits::for_capacity(4_400);
    let share = limits.max_per_source;
    assert_eq!(share, 1_100);
    let mut t = PeerTable::new(identity(0).address(), params(), limits, [3; 32]);
    let p = params();
    let a = Provenance::Heard(identity(1_000_001).address());
    let b = Provenance::Heard(identity(1_000_002).address());
    let n = u32::try_from(share).unwrap();
    for i in 1..=n {
        let r = record(&p, &identity(i), Role::Participant, 1, T0);
        assert_eq!(t.offer(now(), r, a), Ok(Admitted::New), "record {i}");
    }
    let r = record(&p, &identity(n + 1), Role::Participant, 1, T0);
    assert_eq!(t.offer(now(), r.clone(), a), Err(Rejected::SourceFull));
    assert_eq!(t.offer(now(), r, b), Ok(Admitted::New));
    assert_eq!(t.len(), share + 1);
}
