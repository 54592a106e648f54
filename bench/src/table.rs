//! Peer table: insert, lookup and evict at 10k and 1M entries, and the heap
//! bytes one entry costs, through the public `torpeer_core::table` API only.
//!
//! What is timed is the table's own work. Verification (one ed25519 check
//! per new record, ~25 µs, far more than any table operation) happens before
//! the clock starts: the records are signed here, checked in full on a
//! sample, and admitted through [`PeerTable::check`] with a [`VerifyCache`]
//! holding their digests (the same mechanism the simulator uses to verify
//! each record once), so `check` still runs its policy, time and network
//! checks but not the signature.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use torpeer_core::network::NetworkParams;
use torpeer_core::record::{RecordBody, Role, SignedRecord};
use torpeer_core::table::{PeerTable, Provenance, TableLimits, Verified, VerifyCache};
use torpeer_core::{Identity, NetworkName, OnionAddress, Timestamp};

use crate::alloc_count;
use crate::measure::thread_cpu_ns;
use crate::records::{BenchError, NOW};
use crate::report::Report;

/// Records fully verified (signature included) before the cache is trusted.
const SAMPLE: usize = 1_000;
/// Distinct peers the entries are "heard" from.
const SOURCES: usize = 64;

/// The digests of records this benchmark signed itself.
#[derive(Debug, Default)]
struct KnownGood(Mutex<HashSet<[u8; 32]>>);

impl VerifyCache for KnownGood {
    fn contains(&self, digest: &[u8; 32]) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(digest)
    }
    fn insert(&self, digest: [u8; 32]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(digest);
    }
}

/// Table records need no proof-of-work to speak of: difficulty 0 keeps
/// generating a million of them to key derivation and signing.
fn params() -> NetworkParams {
    NetworkParams::new(NetworkName::default_network()).with_min_difficulty(0)
}

/// Records `range`, signed, on all cores (key derivation and signing are
/// ~25 µs each: a million take a while on one core).
fn generate(range: std::ops::Range<usize>) -> Result<Vec<SignedRecord>, BenchError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = range.len().div_ceil(threads).max(1);
    let name = params().name;
    let parts: Vec<Result<Vec<SignedRecord>, BenchError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let lo = (range.start + t * per).min(range.end);
                let hi = (lo + per).min(range.end);
                let name = name.clone();
                scope.spawn(move || {
                    (lo..hi)
                        .map(|i| {
                            let mut seed = [0xa5u8; 32];
                            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
                            let id = Identity::from_seed(&seed)?;
                            let body = RecordBody {
                                address: id.address(),
                                network: name.clone(),
                                role: Role::Participant,
                                ports: vec![80],
                                issued_at: NOW - (i as u64 % 3600),
                                sequence: 1,
                                pow_difficulty: 0,
                                pow_nonce: 0,
                                tcp_endpoint: None,
                            };
                            Ok(body.sign(&id)?)
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(BenchError::List("generator panicked".into())))
            })
            .collect()
    });
    let mut all = Vec::with_capacity(range.len());
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

/// `i ↦ i · k mod n` with `k` coprime to `n`: every index once, in an order
/// with no locality, without a random-number dependency.
fn scattered(n: usize) -> impl Iterator<Item = usize> {
    let mut k = (n as u64 * 2 / 3) | 1;
    while gcd(k, n as u64) != 1 {
        k += 2;
    }
    (0..n as u64).map(move |i| ((i * k) % n as u64) as usize)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Insert, lookup and evict on a table of `entries`, plus heap per entry.
pub(crate) fn bench(entries: usize, report: &mut Report) -> Result<(), BenchError> {
    // One eviction per new record once the table is full.
    let evictions = (entries / 10).clamp(1, 100_000);
    let started = Instant::now();
    let mut records = generate(0..entries + evictions)?;
    let generate_s = started.elapsed().as_secs_f64();
    let params = params();
    let own = Identity::from_seed(&[0xee; 32])?.address();
    let sources: Vec<OnionAddress> = (0..SOURCES)
        .map(|i| Identity::from_seed(&[i as u8 ^ 0x77; 32]).map(|id| id.address()))
        .collect::<Result<_, _>>()?;
    let limits = TableLimits {
        capacity: entries,
        max_per_source: entries,
        ..TableLimits::default()
    };
    let now = Timestamp::from_secs(NOW);
    let mut table = PeerTable::new(own, params.clone(), limits, [9; 32]);

    // The full check on a sample, then the cache for the rest.
    for r in records.iter().take(SAMPLE) {
        table.check(now, r.clone()).map_err(reject)?;
    }
    let cache = Arc::new(KnownGood::default());
    for r in &records {
        cache.insert(PeerTable::verify_digest(r));
    }
    table.set_verify_cache(Some(cache));
    let newcomers = records.split_off(entries);
    let addresses: Vec<OnionAddress> = records.iter().map(|r| r.body.address).collect();
    let entry_size = std::mem::size_of::<SignedRecord>();

    // Insert into an empty table (no eviction), counting the heap it grows
    // by: the records are cloned inside the window, so their own heap parts
    // count as the table's, as they would for records decoded off the wire.
    let heap_before = alloc_count::live_bytes();
    let verified = records
        .iter()
        .map(|r| table.check(now, r.clone()).map_err(reject))
        .collect::<Result<Vec<Verified>, _>>()?;
    let heap_records = alloc_count::live_bytes()
        .saturating_sub(heap_before)
        .saturating_sub(verified.capacity() * std::mem::size_of::<Verified>());
    let clock = Clock::start();
    for (i, v) in verified.into_iter().enumerate() {
        let provenance = Provenance::Heard(sources[i % SOURCES]);
        table
            .insert_verified(now.plus_millis(i as u64), v, provenance)
            .map_err(reject)?;
    }
    let insert = clock.rates(entries);
    let heap_after = alloc_count::live_bytes();
    if table.len() != entries {
        return Err(BenchError::List(format!(
            "table holds {} of {entries} entries",
            table.len()
        )));
    }
    let heap_per_entry = heap_after.saturating_sub(heap_before) as f64 / entries as f64;
    drop(records);

    // Lookups of every entry in scattered order.
    let clock = Clock::start();
    let mut found = 0usize;
    for i in scattered(entries) {
        found += usize::from(table.get(&addresses[i]).is_some());
    }
    let lookup = clock.rates(entries);
    if found != entries {
        return Err(BenchError::List(format!(
            "{found} of {entries} lookups hit"
        )));
    }

    // New records into the full table: each evicts the oldest heard entry.
    let verified = newcomers
        .into_iter()
        .map(|r| table.check(now, r).map_err(reject))
        .collect::<Result<Vec<Verified>, _>>()?;
    let clock = Clock::start();
    for (i, v) in verified.into_iter().enumerate() {
        let provenance = Provenance::Heard(sources[i % SOURCES]);
        table
            .insert_verified(now.plus_millis((entries + i) as u64), v, provenance)
            .map_err(reject)?;
    }
    let evict = clock.rates(evictions);
    // The oldest entries went first.
    if table.len() != entries
        || table.get(&addresses[0]).is_some()
        || table.get(&addresses[evictions - 1]).is_some()
        || table.get(&addresses[evictions]).is_none()
    {
        return Err(BenchError::List(
            "eviction did not remove the oldest entries".into(),
        ));
    }
    report.table(crate::report::TableRow {
        entries,
        generate_seconds: generate_s,
        insert_per_second: insert.0,
        insert_per_cpu_second: insert.1,
        lookup_per_second: lookup.0,
        lookup_per_cpu_second: lookup.1,
        evictions,
        evict_per_second: evict.0,
        evict_per_cpu_second: evict.1,
        heap_bytes_per_entry: heap_per_entry,
        record_heap_bytes_per_entry: heap_records as f64 / entries as f64,
        record_inline_bytes: entry_size,
    });
    Ok(())
}

/// A stopwatch for wall and on-CPU time.
struct Clock {
    wall: Instant,
    cpu: Option<u64>,
}

impl Clock {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: thread_cpu_ns(),
        }
    }
    /// `(units / wall second, units / CPU second)`.
    fn rates(&self, units: usize) -> (f64, Option<f64>) {
        let wall = units as f64 / self.wall.elapsed().as_secs_f64();
        let cpu = match (self.cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) if b > a => Some(units as f64 / ((b - a) as f64 / 1e9)),
            _ => None,
        };
        (wall, cpu)
    }
}

fn reject(e: torpeer_core::table::Rejected) -> BenchError {
    BenchError::List(format!("table refused a benchmark record: {e}"))
}
