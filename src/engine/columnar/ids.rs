//! Contact ids to contact indices for millions of event rows. Events arrive in time
//! order, so their contacts are in no order: one hash-table probe per event would miss
//! the cache every time (the table of a million contacts is tens of megabytes). Ids of
//! at most 15 bytes are packed into the table's slots, and a batch of ids is looked up
//! in the order of the slots it probes (a counting sort by slot range), so that the
//! table is read from one end to the other instead of at random.

use crate::engine::data::tables::Ids;
use std::hash::BuildHasher;

/// An id of at most 15 bytes packed into a key (bytes, then the length).
pub fn pack(id: &str) -> Option<[u8; 16]> {
    let bytes = id.as_bytes();
    let mut key = [0u8; 16];
    key.get_mut(..bytes.len())?.copy_from_slice(bytes);
    *key.get_mut(15)? = u8::try_from(bytes.len()).ok().filter(|&n| n < 16)?;
    Some(key)
}

/// No contact: an empty slot, or an id that is not in the table.
pub const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Slot {
    key: [u8; 16],
    index: u32,
}

/// An open-addressing table (linear probing) of the contact ids of at most 15 bytes;
/// a slot's place is given by the top bits of the id's hash.
#[derive(Debug)]
pub struct IdTable {
    slots: Vec<Slot>,
    /// 64 minus the number of bits of a place.
    shift: u32,
    hasher: foldhash::fast::FixedState,
}

/// Bits of the hash that pick a batch's bucket: ids are sorted into this many ranges
/// of slots before they are looked up.
const BUCKET_BITS: u32 = 12;

impl IdTable {
    /// The table of every id in `ids` that packs (longer ids are not in it).
    pub fn new(ids: &Ids) -> IdTable {
        let bits = (ids.len().max(1) * 2)
            .next_power_of_two()
            .trailing_zeros()
            .max(1);
        let mut table = IdTable {
            slots: vec![
                Slot {
                    key: [0; 16],
                    index: NONE,
                };
                1 << bits
            ],
            shift: 64 - bits,
            hasher: foldhash::fast::FixedState::default(),
        };
        for (id, &(index, _)) in ids {
            if let Some(key) = pack(id) {
                table.insert(key, index);
            }
        }
        table
    }

    fn hash(&self, key: &[u8; 16]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn insert(&mut self, key: [u8; 16], index: u32) {
        let mask = self.slots.len() - 1;
        let mut at = (self.hash(&key) >> self.shift) as usize;
        while let Some(slot) = self.slots.get_mut(at) {
            if slot.index == NONE || slot.key == key {
                *slot = Slot { key, index };
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// The index of `key` (with its hash), [`NONE`] if it is not in the table.
    fn probe(&self, key: &[u8; 16], hash: u64) -> u32 {
        let mask = self.slots.len() - 1;
        let mut at = (hash >> self.shift) as usize;
        while let Some(slot) = self.slots.get(at) {
            if slot.index == NONE || slot.key == *key {
                return slot.index;
            }
            at = (at + 1) & mask;
        }
        NONE
    }

    /// The index of one id ([`NONE`] if it is unknown or longer than 15 bytes).
    pub fn get(&self, id: &str) -> u32 {
        pack(id).map_or(NONE, |k| self.probe(&k, self.hash(&k)))
    }

    /// The index of each id of a batch (`None` for a cell that is not an id), in order;
    /// [`NONE`] where [`get`](IdTable::get) gives it. The ids are looked up in slot order.
    pub fn get_all<'a>(&self, ids: impl Iterator<Item = Option<&'a str>>) -> Vec<u32> {
        let keys: Vec<Option<([u8; 16], u64)>> = ids
            .map(|id| id.and_then(pack).map(|key| (key, self.hash(&key))))
            .collect();
        let bucket = |h: u64| (h >> (64 - BUCKET_BITS)) as usize;
        let mut start = vec![0u32; (1 << BUCKET_BITS) + 1];
        for (_, h) in keys.iter().flatten() {
            if let Some(n) = start.get_mut(bucket(*h) + 1) {
                *n += 1;
            }
        }
        for i in 1..start.len() {
            let prev = start.get(i - 1).copied().unwrap_or(0);
            if let Some(n) = start.get_mut(i) {
                *n += prev;
            }
        }
        let mut order = vec![0u32; keys.len()];
        for (row, key) in keys.iter().enumerate() {
            if let Some((_, h)) = key
                && let Some(next) = start.get_mut(bucket(*h))
                && let Some(slot) = order.get_mut(*next as usize)
            {
                *slot = row as u32;
                *next += 1;
            }
        }
        let mut out = vec![NONE; keys.len()];
        for &row in &order {
            if let Some(Some((key, h))) = keys.get(row as usize)
                && let Some(o) = out.get_mut(row as usize)
            {
                *o = self.probe(key, *h);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(list: &[String]) -> Ids {
        list.iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), (i as u32, i as u64 + 2)))
            .collect()
    }

    proptest! {
        /// Every packed id is found at its index, a batch gives what one look-up at a
        /// time gives, and ids not in the table (or too long) are `NONE`.
        #[test]
        fn batch_equals_one_by_one(
            known in prop::collection::hash_set("[a-z0-9]{0,18}", 0..300),
            asked in prop::collection::vec(prop::option::of("[a-z0-9]{0,18}"), 0..500),
        ) {
            let known: Vec<String> = known.into_iter().collect();
            let table = IdTable::new(&ids(&known));
            let map = ids(&known);
            let mut asked = asked;
            asked.extend(known.iter().cloned().map(Some));
            let got = table.get_all(asked.iter().map(|a| a.as_deref()));
            for (a, g) in asked.iter().zip(&got) {
                let want = a
                    .as_deref()
                    .filter(|id| id.len() < 16)
                    .and_then(|id| map.get(id))
                    .map_or(NONE, |&(i, _)| i);
                prop_assert_eq!(*g, want);
                prop_assert_eq!(a.as_deref().map_or(NONE, |id| table.get(id)), want);
            }
        }
    }

    #[test]
    fn empty_table_finds_nothing() {
        let table = IdTable::new(&Ids::default());
        assert_eq!(table.get("c1"), NONE);
        assert_eq!(
            table.get_all([Some("c1"), None].into_iter()),
            vec![NONE, NONE]
        );
    }
}
