//! Where a [`PeerTable`](super::PeerTable) keeps its entries: a slab of
//! slots and a hash index from public key to slot.
//!
//! A table of a large network is mostly bookkeeping, and a simulator holds
//! N tables of N entries, so the layout is chosen for bytes per entry. The
//! earlier layout (a `BTreeMap` keyed by the 32-byte key, plus two ordered
//! indexes that repeated the key) cost ~340 B per entry; here the key lives
//! only in the entry's record, the hash index holds 4-byte slot numbers
//! (hashbrown's `HashTable<u32>`: ~5–10 B per entry) and the ordered indexes
//! hold `(time, slot)` pairs of 16 B.
//!
//! The index hash is SipHash-1-3 under a key derived from the table's secret
//! salt: peers choose their public keys, and with a public hash they could
//! grind keys into one probe sequence and slow every lookup.
//!
//! Slots of removed entries are reused (last freed, first reused), so the
//! slab never grows past the most entries held at once, and iteration order
//! is a function of the table's history, hence of the node's inputs.

use std::hash::Hasher;

use hashbrown::HashTable;
use sha3::{Digest, Sha3_256};
use siphasher::sip::SipHasher13;

use super::Entry;

/// Entries in slots, found by public key.
#[derive(Clone)]
pub(super) struct Slots {
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    index: HashTable<u32>,
    key: (u64, u64),
    len: usize,
}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots")
            .field("len", &self.len)
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl Slots {
    /// Empty, with the index hash keyed from `salt`.
    pub(super) fn new(salt: &[u8; 32]) -> Self {
        let digest = Sha3_256::new()
            .chain_update(b"torpeer table index\0")
            .chain_update(salt)
            .finalize();
        let half = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&digest[i..i + 8]);
            u64::from_le_bytes(b)
        };
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashTable::new(),
            key: (half(0), half(8)),
            len: 0,
        }
    }

    fn hash(key: (u64, u64), public_key: &[u8; 32]) -> u64 {
        let mut h = SipHasher13::new_with_keys(key.0, key.1);
        h.write(public_key);
        h.finish()
    }

    fn key_of(&self, slot: u32) -> &[u8; 32] {
        match self.slots.get(slot as usize) {
            Some(Some(e)) => e.record.body.address.public_key(),
            // The index only holds occupied slots.
            _ => &[0; 32],
        }
    }

    /// Number of entries.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The slot holding `public_key`.
    pub(super) fn find(&self, public_key: &[u8; 32]) -> Option<u32> {
        let hash = Self::hash(self.key, public_key);
        self.index
            .find(hash, |&s| self.key_of(s) == public_key)
            .copied()
    }

    /// The entry in `slot`.
    pub(super) fn at(&self, slot: u32) -> Option<&Entry> {
        self.slots.get(slot as usize)?.as_ref()
    }

    /// The entry in `slot`, mutably.
    pub(super) fn at_mut(&mut self, slot: u32) -> Option<&mut Entry> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// The entry for `public_key`.
    pub(super) fn get(&self, public_key: &[u8; 32]) -> Option<&Entry> {
        self.at(self.find(public_key)?)
    }

    /// The entry for `public_key`, mutably.
    pub(super) fn get_mut(&mut self, public_key: &[u8; 32]) -> Option<&mut Entry> {
        let slot = self.find(public_key)?;
        self.at_mut(slot)
    }

    /// Store an entry whose key is not held yet; returns its slot.
    pub(super) fn insert(&mut self, entry: Entry) -> u32 {
        let hash = Self::hash(self.key, entry.record.body.address.public_key());
        let slot = match self.free.pop() {
            Some(s) => {
                if let Some(cell) = self.slots.get_mut(s as usize) {
                    *cell = Some(entry);
                }
                s
            }
            None => {
                // Grow by a quarter, not double: N tables of N entries
                // would otherwise carry up to N² unused slots.
                if self.slots.len() == self.slots.capacity() {
                    self.slots.reserve_exact((self.slots.len() / 4).max(4));
                }
                // A table's capacity is far below 2³² entries.
                let s = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(Some(entry));
                s
            }
        };
        let (key, slots) = (self.key, &self.slots);
        self.index
            .insert_unique(hash, slot, |&s| match slots.get(s as usize) {
                Some(Some(e)) => Self::hash(key, e.record.body.address.public_key()),
                _ => 0,
            });
        self.len += 1;
        slot
    }

    /// Take the entry out of `slot`, freeing the slot.
    pub(super) fn remove(&mut self, slot: u32) -> Option<Entry> {
        let public_key = *self.at(slot)?.record.body.address.public_key();
        let hash = Self::hash(self.key, &public_key);
        if let Ok(found) = self.index.find_entry(hash, |&s| s == slot) {
            found.remove();
        }
        let entry = self.slots.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        self.len -= 1;
        Some(entry)
    }

    /// Occupied slots and their entries, in slot order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u32, &Entry)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((u32::try_from(i).ok()?, e.as_ref()?)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::node::{PeerStatus, Timestamp};
    use crate::record::{Role, SignedRecord};
    use crate::testutil::{identity, params, record};

    fn entry(record: &Arc<SignedRecord>) -> Entry {
        Entry {
            record: Arc::clone(record),
            source: None,
            direct: false,
            added_at: Timestamp::from_secs(0),
            status: PeerStatus::Unknown,
            last_seen: None,
            failures: 0,
            next_retry: Timestamp::from_secs(0),
            conn: None,
            changed: 1,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Against a `BTreeMap` model: every held key is found in its slot,
        /// removed keys are gone, freed slots are reused before the slab
        /// grows, and iteration yields exactly the held entries.
        #[test]
        fn slots_agree_with_a_map(ops in proptest::collection::vec((0u32..24, any::<bool>()), 1..200)) {
            let p = params();
            let records: Vec<Arc<SignedRecord>> = (0..24)
                .map(|i| Arc::new(record(&p, &identity(i + 1), Role::Participant, 1, 1)))
                .collect();
            let mut slots = Slots::new(&[3; 32]);
            let mut model: BTreeMap<u32, u32> = BTreeMap::new();
            let mut most = 0;
            for (who, add) in ops {
                let key = *records[who as usize].body.address.public_key();
                match (add, model.get(&who).copied()) {
                    (true, None) => {
                        let slot = slots.insert(entry(&records[who as usize]));
                        model.insert(who, slot);
                    }
                    (false, Some(slot)) => {
                        let e = slots.remove(slot);
                        prop_assert_eq!(e.map(|e| *e.record.body.address.public_key()), Some(key));
                        model.remove(&who);
                    }
                    _ => {}
                }
                most = most.max(model.len());
                prop_assert_eq!(slots.len(), model.len());
                prop_assert!(slots.slots.len() <= most, "slab grew past the most held");
                for (w, r) in records.iter().enumerate() {
                    let found = slots.find(r.body.address.public_key());
                    prop_assert_eq!(found, model.get(&(w as u32)).copied());
                }
                prop_assert_eq!(slots.iter().count(), model.len());
            }
        }
    }
}

#[cfg(test)]
mod size {
    /// The slab holds `Option<Entry>`; keep it from growing back unnoticed
    /// (N tables of N entries multiply every byte by N²). 80 bytes: 72 for
    /// the entry and 8 for its change version (delta gossip).
    #[test]
    fn a_slot_stays_small() {
        let size = std::mem::size_of::<Option<super::Entry>>();
        assert!(size <= 80, "a slot is {size} bytes");
    }
}
