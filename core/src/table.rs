//! The peer table: at most one verified record per identity, with what this
//! node knows about the peer behind it.
//!
//! The table is the node's memory and the main target of an attacker who
//! wants to isolate a node (eclipse) or waste its CPU, so every way in is
//! bounded (PROTOCOL.md §8):
//!
//! - **Verification before admission.** [`PeerTable::offer`] verifies the
//!   record (signature, proof-of-work, network, TTL and future skew) before
//!   anything is stored. The one exception is cheap and safe: a record
//!   identical to the one held (same onion, sequence and signature), or an
//!   older/equal sequence, is dropped without verification, which is what
//!   keeps gossip affordable at scale.
//! - **Per-source caps.** Entries learned from a peer are counted per
//!   *source bucket*: `SHA3(salt ‖ source key) mod buckets`, where the salt
//!   is a secret from the node's seed (Bitcoin addrman's idea). A bucket
//!   holds at most `max_per_source` entries — a quarter of the capacity,
//!   at least 1,000 ([`TableLimits::for_capacity`]) — and an attacker
//!   cannot aim many identities at one of our buckets without knowing the
//!   salt.
//! - **Rate limits.** Each source bucket has a token bucket (burst of one
//!   share, refilled at one share per 10,000 s: 0.25 record/s for the
//!   default 10,000 entries) charged for every record it makes us verify.
//! - **Capacity with eviction.** When full, the oldest entry we only heard of
//!   and never contacted is evicted; peers we had a live, authenticated
//!   connection with are kept unless they are offline and nothing else can
//!   go.
//! - **Expiry.** Entries whose record passed its TTL are dropped
//!   ([`PeerTable::expire`]).
//!
//! Entries live in a slab found through a keyed hash index (`table/slots.rs`),
//! and the evict-first and expiry indexes are ordered sets of
//! `(time, slot)`: ~150 B per entry instead of ~340 with three maps keyed
//! by the 32-byte key. Nothing depends on a random or address-dependent
//! order: iteration follows slot order, which is a function of the table's
//! history, so every output is a function of the inputs only.

mod slots;

use std::collections::{BTreeMap, BTreeSet};

use slots::Slots;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use sha3::{Digest, Sha3_256};

use crate::network::NetworkParams;
use crate::node::{ConnectionId, PeerStatus, Timestamp};
use crate::onion::OnionAddress;
use crate::record::{RecordError, SignedRecord};

/// Milli-tokens per token in [`TokenBucket`].
const MILLI: u64 = 1_000;

/// A memo of records whose proof-of-work and signature already verified,
/// shared by many nodes in one process.
///
/// Verification is a pure function of the record, so a simulator running
/// thousands of nodes verifies each record once instead of once per node.
/// Keys are [`PeerTable::verify_digest`]s (they cover the signed bytes and
/// the signature); time, network and policy checks still run on every
/// offer. A real node has no use for it.
pub trait VerifyCache: fmt::Debug + Send + Sync {
    /// Whether a record with this digest passed proof-of-work and signature.
    fn contains(&self, digest: &[u8; 32]) -> bool;
    /// Remember that it did.
    fn insert(&self, digest: [u8; 32]);
    /// The one shared copy of a verified record with this digest: many
    /// tables of one process then hold one allocation per record instead of
    /// one each. The default shares nothing.
    fn intern(&self, digest: [u8; 32], record: SignedRecord) -> Arc<SignedRecord> {
        let _ = digest;
        Arc::new(record)
    }
}

/// How we came to know a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Provenance {
    /// We had an authenticated connection with it.
    Direct,
    /// A bootstrap list (HTTP or persisted state) with no known source.
    Bootstrap,
    /// Another peer told us, over gossip or a list it served.
    Heard(OnionAddress),
}

impl Provenance {
    /// The peer that told us, if any.
    pub fn source(&self) -> Option<OnionAddress> {
        match self {
            Self::Heard(s) => Some(*s),
            Self::Direct | Self::Bootstrap => None,
        }
    }
}

/// Limits of a [`PeerTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLimits {
    /// Most entries.
    pub capacity: usize,
    /// Most entries inserted by one source bucket.
    pub max_per_source: usize,
    /// Number of salted source buckets.
    pub source_buckets: u32,
    /// Token-bucket burst per source bucket (records).
    pub source_burst: u64,
    /// Token-bucket refill: one record every this many milliseconds.
    pub source_refill_ms: u64,
    /// Whether records may carry a `tcp_endpoint` (loopback transport only).
    pub allow_tcp_endpoints: bool,
}

/// Fewest entries one source bucket may insert, whatever the capacity.
pub const MIN_SOURCE_SHARE: usize = 1_000;
/// A table of `capacity` entries may take `capacity / SOURCES_TO_FILL`
/// entries from one source bucket (when that is above [`MIN_SOURCE_SHARE`]).
pub const SOURCES_TO_FILL: usize = 4;
/// A source bucket's token bucket refills one whole share in this time.
pub const SHARE_REFILL_MS: u64 = 10_000_000;

impl TableLimits {
    /// Limits for a table of `capacity` entries, with the per-source
    /// defences scaled to it.
    ///
    /// Why scaled: a node has to hear a network of `N ≤ capacity` nodes from
    /// at least `N / max_per_source` distinct sources. With a fixed share of
    /// 1,000 a 10,000-entry table needed ≥ 10 sources while a node keeps 8
    /// outbound connections, and it filled only as rotation brought new
    /// ones (35 gossip rounds at 10,000 nodes, BENCHMARKS.md). A share of a
    /// quarter lets half the outbound connections fill a table, while one
    /// source still holds at most a quarter of it, and an attacker must win
    /// four connections whose keys fall into different secret buckets to
    /// cover it with heard-of entries (which still never evict a peer we
    /// contacted). The burst equals the share, so a source can hand over
    /// its share in one go, and the refill gives back one share per
    /// [`SHARE_REFILL_MS`] (10,000 s): 0.1 record/s at the 1,000 floor,
    /// 0.25/s for a 10,000-entry table.
    pub fn for_capacity(capacity: usize) -> Self {
        let share = (capacity / SOURCES_TO_FILL).max(MIN_SOURCE_SHARE);
        let share_u64 = u64::try_from(share).unwrap_or(u64::MAX);
        Self {
            capacity,
            max_per_source: share,
            source_buckets: 1_024,
            source_burst: share_u64,
            source_refill_ms: (SHARE_REFILL_MS / share_u64).max(1),
            allow_tcp_endpoints: false,
        }
    }
}

impl Default for TableLimits {
    /// [`TableLimits::for_capacity`] of 10,000 entries.
    fn default() -> Self {
        Self::for_capacity(10_000)
    }
}

/// Why a record was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// The record failed verification.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// A record with an IP endpoint offered to a node on a Tor transport,
    /// where storing or dialling it would leak an address.
    #[error("record carries a tcp endpoint, refused on a Tor transport")]
    TcpEndpointOnTor,
    /// The source's token bucket is empty.
    #[error("source is over its record rate limit")]
    RateLimited,
    /// The source's bucket already holds its share of the table.
    #[error("source has inserted its maximum number of entries")]
    SourceFull,
    /// Table full and nothing may be evicted.
    #[error("peer table is full")]
    TableFull,
    /// Our own record.
    #[error("record is our own")]
    OwnRecord,
}

impl Rejected {
    /// Stable machine-readable code; record failures use
    /// [`RecordError::code`].
    pub fn code(&self) -> &'static str {
        match self {
            Self::Record(e) => e.code(),
            Self::TcpEndpointOnTor => "tcp_endpoint_on_tor",
            Self::RateLimited => "rate_limited",
            Self::SourceFull => "source_full",
            Self::TableFull => "table_full",
            Self::OwnRecord => "own_record",
        }
    }
}

/// What [`PeerTable::offer`] did with an acceptable record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    /// A new identity entered the table.
    New,
    /// A held record was replaced by one with a higher sequence.
    Updated,
    /// Same or older than what is held; dropped without verification.
    Unchanged,
}

/// A record that passed [`PeerTable::check`]; the only way to insert
/// without going through [`PeerTable::offer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified(SignedRecord, Option<[u8; 32]>);

impl Verified {
    /// The record.
    pub fn record(&self) -> &SignedRecord {
        &self.0
    }
}

/// A token bucket in milli-tokens, refilled lazily from timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    milli: u64,
    updated: Timestamp,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens at `now`.
    pub fn full(burst: u64, now: Timestamp) -> Self {
        Self {
            milli: burst.saturating_mul(MILLI),
            updated: now,
        }
    }

    /// Take one token if there is one, after refilling one token per
    /// `refill_ms` since the last update (capped at `burst`).
    pub fn take(&mut self, now: Timestamp, burst: u64, refill_ms: u64) -> bool {
        let elapsed = now.as_millis().saturating_sub(self.updated.as_millis());
        let refill = elapsed.saturating_mul(MILLI) / refill_ms.max(1);
        self.milli = self
            .milli
            .saturating_add(refill)
            .min(burst.saturating_mul(MILLI));
        self.updated = self.updated.max(now);
        if self.milli >= MILLI {
            self.milli -= MILLI;
            true
        } else {
            false
        }
    }
}

/// One peer as the table holds it.
///
/// The record is behind an [`Arc`]: a table interns it through its
/// [`VerifyCache`] when it has one (a simulator's nodes then share one copy
/// of every record), and cloning an entry never copies a record.
///
/// Provenance is stored in 9 bytes instead of a 33-byte [`Provenance`]:
/// `direct`, and for a heard-of entry the table's one shared copy of its
/// source's address (a source tells us about hundreds of peers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    record: Arc<SignedRecord>,
    /// The peer that told us (`None`: direct or bootstrap).
    source: Option<Arc<OnionAddress>>,
    direct: bool,
    added_at: Timestamp,
    /// Online / offline / unknown.
    pub status: PeerStatus,
    /// Last authenticated contact.
    pub last_seen: Option<Timestamp>,
    /// Consecutive failed dials.
    pub failures: u32,
    /// Do not dial before this time (backoff).
    pub next_retry: Timestamp,
    /// The live authenticated connection, if any.
    pub conn: Option<ConnectionId>,
    /// The table version at which this record was admitted or replaced.
    changed: u64,
}

impl Entry {
    /// The verified record.
    pub fn record(&self) -> &SignedRecord {
        &self.record
    }
    /// How we know the peer.
    pub fn provenance(&self) -> Provenance {
        match (&self.source, self.direct) {
            (_, true) => Provenance::Direct,
            (Some(source), false) => Provenance::Heard(**source),
            (None, false) => Provenance::Bootstrap,
        }
    }
    /// Whether we ever had an authenticated connection with it.
    pub fn direct(&self) -> bool {
        self.direct
    }
    /// When it entered the table.
    pub fn added_at(&self) -> Timestamp {
        self.added_at
    }
    /// The [`PeerTable::version`] at which its current record arrived.
    pub fn changed(&self) -> u64 {
        self.changed
    }
    /// The endpoint to dial on the tcp transport.
    pub fn tcp_endpoint(&self) -> Option<SocketAddr> {
        self.record.body.tcp_endpoint
    }
    fn expires_at(&self, params: &NetworkParams) -> u64 {
        self.record
            .body
            .issued_at
            .saturating_add(params.record_ttl_secs)
    }
}

/// The peer table. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct PeerTable {
    own: OnionAddress,
    limits: TableLimits,
    params: NetworkParams,
    salt: [u8; 32],
    /// The entries, found by public key.
    entries: Slots,
    /// `(added_at, slot)` of the entries that may be evicted first: never
    /// contacted, oldest first.
    evictable: BTreeSet<(Timestamp, u32)>,
    /// `(expires_at_secs, slot)` of every entry.
    expiry: BTreeSet<(u64, u32)>,
    /// Entries per source bucket (only `Heard` entries count).
    per_source: BTreeMap<u32, usize>,
    /// The shared address of every source that heard-of entries name, with
    /// how many do, and its salted bucket (hashed once per source, not once
    /// per entry).
    sources: BTreeMap<OnionAddress, (Arc<OnionAddress>, u32, usize)>,
    /// Token buckets per source bucket, created on first use.
    rate: BTreeMap<u32, TokenBucket>,
    rejected: BTreeMap<&'static str, u64>,
    accepted: u64,
    /// Bumped on every record admitted or replaced (the change log behind
    /// delta gossip, PROTOCOL.md §8.4).
    version: u64,
    cache: Option<Arc<dyn VerifyCache>>,
}

impl PeerTable {
    /// An empty table for the node `own` on the network `params`. `salt` is
    /// secret (derived from the node's seed).
    pub fn new(
        own: OnionAddress,
        params: NetworkParams,
        limits: TableLimits,
        salt: [u8; 32],
    ) -> Self {
        Self {
            own,
            limits,
            params,
            salt,
            entries: Slots::new(&salt),
            evictable: BTreeSet::new(),
            expiry: BTreeSet::new(),
            per_source: BTreeMap::new(),
            sources: BTreeMap::new(),
            rate: BTreeMap::new(),
            rejected: BTreeMap::new(),
            accepted: 0,
            version: 0,
            cache: None,
        }
    }

    /// Share a [`VerifyCache`] (simulators).
    pub fn set_verify_cache(&mut self, cache: Option<Arc<dyn VerifyCache>>) {
        self.cache = cache;
    }

    /// The [`VerifyCache`] key of a record:
    /// `SHA3-256("torpeer verify cache\0" ‖ canonical bytes ‖ signature)`.
    pub fn verify_digest(record: &SignedRecord) -> [u8; 32] {
        Sha3_256::new()
            .chain_update(b"torpeer verify cache\0")
            .chain_update(record.body.canonical_bytes())
            .chain_update(record.signature)
            .finalize()
            .into()
    }

    /// How many records the table admitted or replaced so far: every such
    /// change stamps its entry with the next version ([`Entry::changed`]).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The entries whose record changed after version `since`, in slot
    /// order. A scan of one integer per slot: answering "what changed since
    /// your last pull" costs a pass over the slab, not a hash per entry.
    pub fn changed_since(&self, since: u64) -> impl Iterator<Item = (&OnionAddress, &Entry)> {
        self.entries
            .iter()
            .filter(move |(_, e)| e.changed > since)
            .map(|(_, e)| (&e.record.body.address, e))
    }

    /// The limits.
    pub fn limits(&self) -> &TableLimits {
        &self.limits
    }

    /// Whether the table holds `capacity` entries: any new entry now
    /// evicts another.
    pub fn is_full(&self) -> bool {
        self.len() >= self.limits.capacity
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// One entry.
    pub fn get(&self, onion: &OnionAddress) -> Option<&Entry> {
        self.entries.get(onion.public_key())
    }

    /// One entry, for status updates (record and provenance stay private).
    pub fn get_mut(&mut self, onion: &OnionAddress) -> Option<&mut Entry> {
        self.entries.get_mut(onion.public_key())
    }

    /// All entries, in slot order (deterministic, not sorted: sort by
    /// address where an ordered listing is wanted).
    pub fn iter(&self) -> impl Iterator<Item = (&OnionAddress, &Entry)> {
        self.entries
            .iter()
            .map(|(_, e)| (&e.record.body.address, e))
    }

    /// The sequence held for a public key, without building an
    /// [`OnionAddress`] (which validates the curve point): the cheap
    /// duplicate check gossip runs before parsing a wire record.
    pub fn held_sequence(&self, public_key: &[u8; 32]) -> Option<u64> {
        self.entries.get(public_key).map(|e| e.record.body.sequence)
    }

    /// The salted bucket of a source.
    pub fn source_bucket(&self, source: &OnionAddress) -> u32 {
        let digest = Sha3_256::new()
            .chain_update(b"torpeer source bucket\0")
            .chain_update(self.salt)
            .chain_update(source.public_key())
            .finalize();
        let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        n % self.limits.source_buckets.max(1)
    }

    /// Entries per source bucket (for invariants and metrics).
    pub fn per_source(&self) -> &BTreeMap<u32, usize> {
        &self.per_source
    }

    /// Rejections so far, by [`Rejected::code`].
    pub fn rejected(&self) -> &BTreeMap<&'static str, u64> {
        &self.rejected
    }

    /// Records verified and admitted so far (new or updated).
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// Count a rejection made outside the table (e.g. a malformed proto).
    pub fn count_reject(&mut self, code: &'static str) {
        *self.rejected.entry(code).or_default() += 1;
    }

    /// Policy and full verification of a record at `now`, without
    /// inserting it.
    pub fn check(&self, now: Timestamp, record: SignedRecord) -> Result<Verified, Rejected> {
        if record.body.address == self.own {
            return Err(Rejected::OwnRecord);
        }
        if record.body.tcp_endpoint.is_some() && !self.limits.allow_tcp_endpoints {
            return Err(Rejected::TcpEndpointOnTor);
        }
        if let Some(cache) = &self.cache {
            let digest = Self::verify_digest(&record);
            if cache.contains(&digest) {
                record.check_time_and_network(&self.params, now.as_secs())?;
            } else {
                record.verify(&self.params, now.as_secs())?;
                cache.insert(digest);
            }
            Ok(Verified(record, Some(digest)))
        } else {
            record.verify(&self.params, now.as_secs())?;
            Ok(Verified(record, None))
        }
    }

    /// Offer a record learned by `provenance`. Cheap checks come first
    /// (duplicate, stale, rate, per-source cap); the signature and PoW are
    /// verified only when the record would change the table.
    pub fn offer(
        &mut self,
        now: Timestamp,
        record: SignedRecord,
        provenance: Provenance,
    ) -> Result<Admitted, Rejected> {
        let result = self.offer_inner(now, record, provenance);
        match &result {
            Ok(Admitted::New | Admitted::Updated) => self.accepted += 1,
            Ok(Admitted::Unchanged) => {}
            Err(e) => self.count_reject(e.code()),
        }
        result
    }

    fn offer_inner(
        &mut self,
        now: Timestamp,
        record: SignedRecord,
        provenance: Provenance,
    ) -> Result<Admitted, Rejected> {
        let onion = record.body.address;
        if onion == self.own {
            return Err(Rejected::OwnRecord);
        }
        if let Some(held) = self.entries.get(onion.public_key())
            && record.body.sequence <= held.record.body.sequence
        {
            return Ok(Admitted::Unchanged);
        }
        let is_new = self.entries.find(onion.public_key()).is_none();
        let bucket = provenance.source().map(|s| self.source_bucket(&s));
        if let Some(b) = bucket {
            if is_new && self.per_source.get(&b).copied().unwrap_or(0) >= self.limits.max_per_source
            {
                return Err(Rejected::SourceFull);
            }
            let (burst, refill) = (self.limits.source_burst, self.limits.source_refill_ms);
            let tokens = self
                .rate
                .entry(b)
                .or_insert_with(|| TokenBucket::full(burst, now));
            if !tokens.take(now, burst, refill) {
                return Err(Rejected::RateLimited);
            }
        }
        let verified = self.check(now, record)?;
        Ok(self.insert(now, verified, provenance))
    }

    /// Insert a record verified by [`PeerTable::check`] (the handshake
    /// path). A direct provenance upgrades an existing entry.
    pub fn insert_verified(
        &mut self,
        now: Timestamp,
        verified: Verified,
        provenance: Provenance,
    ) -> Result<Admitted, Rejected> {
        let onion = verified.0.body.address;
        if let Some(held) = self.entries.get(onion.public_key())
            && verified.0.body.sequence <= held.record.body.sequence
        {
            if provenance == Provenance::Direct {
                self.make_direct(&onion);
            }
            return Ok(Admitted::Unchanged);
        }
        if self.entries.find(onion.public_key()).is_none()
            && let Some(b) = provenance.source().map(|s| self.source_bucket(&s))
            && self.per_source.get(&b).copied().unwrap_or(0) >= self.limits.max_per_source
        {
            self.count_reject(Rejected::SourceFull.code());
            return Err(Rejected::SourceFull);
        }
        let admitted = self.insert(now, verified, provenance);
        if admitted == Admitted::Unchanged {
            self.count_reject(Rejected::TableFull.code());
            return Err(Rejected::TableFull);
        }
        self.accepted += 1;
        Ok(admitted)
    }

    /// Insert or replace; returns `Unchanged` only when full and nothing
    /// can be evicted (the caller turns that into [`Rejected::TableFull`]).
    fn insert(&mut self, now: Timestamp, verified: Verified, provenance: Provenance) -> Admitted {
        let Verified(mut record, digest) = verified;
        // Verification checked the names are equal; keep one allocation.
        record.body.network = self.params.name.clone();
        let record = match (&self.cache, digest) {
            (Some(cache), Some(digest)) => cache.intern(digest, record),
            _ => Arc::new(record),
        };
        let onion = record.body.address;
        let expires = record
            .body
            .issued_at
            .saturating_add(self.params.record_ttl_secs);
        if let Some(slot) = self.entries.find(onion.public_key()) {
            if let Some(entry) = self.entries.at_mut(slot) {
                let old_expiry = entry.expires_at(&self.params);
                self.version += 1;
                entry.record = record;
                entry.changed = self.version;
                self.expiry.remove(&(old_expiry, slot));
                self.expiry.insert((expires, slot));
            }
            if provenance == Provenance::Direct {
                self.make_direct(&onion);
            }
            return Admitted::Updated;
        }
        if self.entries.len() >= self.limits.capacity && !self.evict_one() {
            return Admitted::Unchanged;
        }
        let direct = provenance == Provenance::Direct;
        let source = provenance.source().map(|s| self.hold_source(s));
        self.version += 1;
        let slot = self.entries.insert(Entry {
            record,
            source,
            direct,
            added_at: now,
            status: PeerStatus::Unknown,
            last_seen: None,
            failures: 0,
            next_retry: now,
            conn: None,
            changed: self.version,
        });
        if !direct {
            self.evictable.insert((now, slot));
        }
        self.expiry.insert((expires, slot));
        Admitted::New
    }

    /// Mark an entry as directly contacted: it leaves its source bucket and
    /// the evict-first set.
    pub fn make_direct(&mut self, onion: &OnionAddress) {
        let Some(slot) = self.entries.find(onion.public_key()) else {
            return;
        };
        let Some(entry) = self.entries.at(slot) else {
            return;
        };
        if entry.direct {
            return;
        }
        let added = entry.added_at;
        self.evictable.remove(&(added, slot));
        let source = self.entries.at_mut(slot).and_then(|entry| {
            entry.direct = true;
            entry.source.take()
        });
        if let Some(s) = source {
            self.release_source(&s);
        }
    }

    /// One more heard-of entry names `source`: counted in its source bucket,
    /// and given the shared copy of its address.
    fn hold_source(&mut self, source: OnionAddress) -> Arc<OnionAddress> {
        let bucket = match self.sources.get(&source) {
            Some((_, b, _)) => *b,
            None => self.source_bucket(&source),
        };
        *self.per_source.entry(bucket).or_default() += 1;
        let (shared, _, count) = self
            .sources
            .entry(source)
            .or_insert_with(|| (Arc::new(source), bucket, 0));
        *count += 1;
        Arc::clone(shared)
    }

    /// One heard-of entry fewer names `source` (removed, or contacted
    /// directly): uncounted from its bucket; the last one frees the copy.
    fn release_source(&mut self, source: &OnionAddress) {
        let Some((_, bucket, count)) = self.sources.get_mut(source) else {
            return;
        };
        let bucket = *bucket;
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.sources.remove(source);
        }
        if let Some(n) = self.per_source.get_mut(&bucket) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_source.remove(&bucket);
            }
        }
    }

    /// Evict one entry to make room: the oldest never-contacted entry, else
    /// the offline, unconnected direct entry seen longest ago.
    fn evict_one(&mut self) -> bool {
        if let Some(&(_, slot)) = self.evictable.first() {
            return self.remove_slot(slot).is_some();
        }
        let victim = self
            .entries
            .iter()
            .filter(|(_, e)| e.conn.is_none() && e.status == PeerStatus::Offline)
            .min_by_key(|(_, e)| (e.last_seen, e.record.body.address))
            .map(|(slot, _)| slot);
        victim.is_some_and(|slot| self.remove_slot(slot).is_some())
    }

    /// Remove an entry and its index keys.
    pub fn remove(&mut self, onion: &OnionAddress) -> Option<Entry> {
        let slot = self.entries.find(onion.public_key())?;
        self.remove_slot(slot)
    }

    fn remove_slot(&mut self, slot: u32) -> Option<Entry> {
        let entry = self.entries.remove(slot)?;
        self.evictable.remove(&(entry.added_at, slot));
        self.expiry.remove(&(entry.expires_at(&self.params), slot));
        if !entry.direct
            && let Some(s) = &entry.source
        {
            self.release_source(s);
        }
        Some(entry)
    }

    /// Unix second at which the next entry expires.
    pub fn next_expiry(&self) -> Option<u64> {
        self.expiry.first().map(|(t, _)| *t)
    }

    /// Drop entries whose record expired before `now`; returns them.
    pub fn expire(&mut self, now: Timestamp) -> Vec<OnionAddress> {
        let mut gone = Vec::new();
        while let Some(&(t, slot)) = self.expiry.first() {
            if t >= now.as_secs() {
                break;
            }
            match self.remove_slot(slot) {
                Some(entry) => gone.push(entry.record.body.address),
                // Unreachable (the index holds occupied slots only), but
                // never loop on a stale key.
                None => {
                    self.expiry.remove(&(t, slot));
                }
            }
        }
        gone
    }
}

#[cfg(test)]
impl PeerTable {
    /// Every index agrees with the entries: each entry is found by its key,
    /// and the expiry and evict-first sets hold exactly one key per entry
    /// (per non-direct entry) pointing at its slot with its time.
    fn check_indexes(&self) -> Result<(), String> {
        let mut held = 0;
        for (slot, e) in self.entries.iter() {
            held += 1;
            let key = e.record.body.address.public_key();
            if self.entries.find(key) != Some(slot) {
                return Err(format!("entry in slot {slot} not found by its key"));
            }
            if !self.expiry.contains(&(e.expires_at(&self.params), slot)) {
                return Err(format!("entry in slot {slot} missing from expiry"));
            }
            if !e.direct && !self.evictable.contains(&(e.added_at, slot)) {
                return Err(format!("heard-of entry in slot {slot} not evictable"));
            }
        }
        let mut named: BTreeMap<OnionAddress, usize> = BTreeMap::new();
        for (_, e) in self.entries.iter() {
            if let Some(s) = &e.source {
                *named.entry(**s).or_default() += 1;
            }
        }
        let held_sources: BTreeMap<OnionAddress, usize> =
            self.sources.iter().map(|(o, (_, _, n))| (*o, *n)).collect();
        if named != held_sources {
            return Err(format!(
                "source counts {held_sources:?}, entries name {named:?}"
            ));
        }
        let mut versions: Vec<u64> = self.entries.iter().map(|(_, e)| e.changed).collect();
        versions.sort_unstable();
        if versions.windows(2).any(|w| w[0] == w[1])
            || versions.first().is_some_and(|v| *v == 0)
            || versions.last().is_some_and(|v| *v > self.version)
        {
            return Err(format!(
                "change versions not unique in 1..={}: {versions:?}",
                self.version
            ));
        }
        let heard = self.entries.iter().filter(|(_, e)| !e.direct).count();
        if held != self.len() || self.expiry.len() != held || self.evictable.len() != heard {
            return Err(format!(
                "len {} entries {held} expiry {} evictable {} heard {heard}",
                self.len(),
                self.expiry.len(),
                self.evictable.len()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
