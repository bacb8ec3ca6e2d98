//! Ids of a table → row indices, looked up once per row of the tables that refer to
//! it (millions of events and changes). Ids of at most 15 bytes — most ids — are packed
//! into the slots of an open-addressing table, so a look-up reads one slot and follows
//! no pointer (a table of pointers to strings misses the cache twice a look-up); longer
//! ids go to a map. Events arrive in time order, so their contacts are in no order: a
//! batch of ids is looked up in the order of the slots it probes (a counting sort by
//! slot range), so that the table is read from one end to the other instead of at
//! random.

use super::tables::FastMap;
use std::hash::BuildHasher;

/// An id of at most 15 bytes packed into a key (bytes, then the length).
fn pack(id: &str) -> Option<[u8; 16]> {
    let bytes = id.as_bytes();
    let mut key = [0u8; 16];
    key.get_mut(..bytes.len())?.copy_from_slice(bytes);
    *key.get_mut(15)? = u8::try_from(bytes.len()).ok().filter(|&n| n < 16)?;
    Some(key)
}

/// No row: an empty slot, or an id that is not in the table.
pub(crate) const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Slot {
    key: [u8; 16],
    index: u32,
}

const EMPTY: Slot = Slot {
    key: [0; 16],
    index: NONE,
};

/// The ids of a table and their row indices.
#[derive(Debug)]
pub(crate) struct Ids {
    /// Ids of at most 15 bytes, by linear probing from the top bits of their hash; at
    /// most half full.
    slots: Vec<Slot>,
    /// 64 minus the number of bits of a place.
    shift: u32,
    /// The number of ids in `slots`.
    packed: usize,
    /// Longer ids.
    long: FastMap<Box<str>, u32>,
    hasher: foldhash::fast::FixedState,
}

impl Default for Ids {
    fn default() -> Ids {
        Ids {
            slots: vec![EMPTY; 16],
            shift: 64 - 4,
            packed: 0,
            long: FastMap::default(),
            hasher: foldhash::fast::FixedState::default(),
        }
    }
}

/// Bits of the hash that pick a batch's bucket: ids are sorted into this many ranges
/// of slots before they are looked up.
const BUCKET_BITS: u32 = 12;

impl Ids {
    /// Makes room for `more` ids without growing again.
    pub fn reserve(&mut self, more: usize) {
        let want = ((self.packed + more) * 2).next_power_of_two().max(16);
        if want > self.slots.len() {
            self.regrow(want);
        }
    }

    fn regrow(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        self.shift = 64 - size.trailing_zeros();
        for slot in old.into_iter().filter(|s| s.index != NONE) {
            let at = self.place(&slot.key, self.hash(&slot.key));
            if let Some(s) = self.slots.get_mut(at) {
                *s = slot;
            }
        }
    }

    fn hash(&self, key: &[u8; 16]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The slot that holds `key`, or the empty slot where it would go.
    fn place(&self, key: &[u8; 16], hash: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = (hash >> self.shift) as usize;
        while let Some(slot) = self.slots.get(at) {
            if slot.index == NONE || slot.key == *key {
                return at;
            }
            at = (at + 1) & mask;
        }
        at
    }

    /// The index of `key` (with its hash), [`NONE`] if it is not in the table.
    fn probe(&self, key: &[u8; 16], hash: u64) -> u32 {
        self.slots
            .get(self.place(key, hash))
            .map_or(NONE, |s| s.index)
    }

    /// Adds `id` at row `index`, unless it is there already: then the index it has.
    pub fn insert(&mut self, id: &str, index: u32) -> Result<(), u32> {
        let Some(key) = pack(id) else {
            return match self.long.entry(id.into()) {
                std::collections::hash_map::Entry::Occupied(e) => Err(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(index);
                    Ok(())
                }
            };
        };
        if (self.packed + 1) * 2 > self.slots.len() {
            self.regrow(self.slots.len() * 2);
        }
        let at = self.place(&key, self.hash(&key));
        match self.slots.get_mut(at) {
            Some(slot) if slot.index != NONE => Err(slot.index),
            Some(slot) => {
                *slot = Slot { key, index };
                self.packed += 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The index of `id`.
    pub fn get(&self, id: &str) -> Option<u32> {
        let index = match pack(id) {
            Some(k) => self.probe(&k, self.hash(&k)),
            None => self.long.get(id).copied().unwrap_or(NONE),
        };
        (index != NONE).then_some(index)
    }

    /// Whether `id` is here.
    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// The index of each id of a batch (`None` for a cell that is not an id), in order;
    /// [`NONE`] where [`get`](Ids::get) gives `None`. Packed ids are looked up in slot
    /// order.
    pub fn get_all<'a>(&self, ids: impl Iterator<Item = Option<&'a str>>) -> Vec<u32> {
        let mut long = Vec::new();
        let keys: Vec<Option<([u8; 16], u64)>> = ids
            .enumerate()
            .map(|(row, id)| {
                let key = id.and_then(pack).map(|key| (key, self.hash(&key)));
                if let (None, Some(id)) = (key, id) {
                    long.push((row, self.long.get(id).copied().unwrap_or(NONE)));
                }
                key
            })
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
        for (row, index) in long {
            if let Some(o) = out.get_mut(row) {
                *o = index;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every id is found at its index, however the table grew; a second insert
        /// gives the first index; a batch gives what one look-up at a time gives, and
        /// ids not in the table are `NONE`.
        #[test]
        fn batch_equals_one_by_one(
            known in prop::collection::vec("[a-z0-9]{0,18}", 0..300),
            asked in prop::collection::vec(prop::option::of("[a-z0-9]{0,18}"), 0..500),
            reserve in 0usize..400,
        ) {
            let mut table = Ids::default();
            table.reserve(reserve);
            let mut first: std::collections::HashMap<&str, u32> = Default::default();
            for (i, id) in known.iter().enumerate() {
                let want = match first.get(id.as_str()) {
                    Some(&f) => Err(f),
                    None => {
                        first.insert(id, i as u32);
                        Ok(())
                    }
                };
                prop_assert_eq!(table.insert(id, i as u32), want);
            }
            let mut asked = asked;
            asked.extend(known.iter().cloned().map(Some));
            let got = table.get_all(asked.iter().map(|a| a.as_deref()));
            for (a, g) in asked.iter().zip(&got) {
                let want = a.as_deref().and_then(|id| first.get(id).copied());
                prop_assert_eq!(*g, want.unwrap_or(NONE));
                prop_assert_eq!(a.as_deref().and_then(|id| table.get(id)), want);
            }
        }
    }

    #[test]
    fn empty_table_finds_nothing() {
        let table = Ids::default();
        assert_eq!(table.get("c1"), None);
        assert!(!table.contains("a-contact-id-longer-than-15-bytes"));
        assert_eq!(
            table.get_all([Some("c1"), None].into_iter()),
            vec![NONE, NONE]
        );
    }
}
