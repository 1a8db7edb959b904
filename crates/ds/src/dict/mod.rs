//! The hash table behind the keyspace and the collection types, with Redis's SCAN
//! guarantee.
//!
//! Owns: [`Dict`], [`Entry`] and [`reverse_binary_next`].
//!
//! # Layout
//!
//! An index of `u64` slots (a power of two, linear probing) points into a dense,
//! segmented array of `(K, V)` pairs (`entries.rs`). A slot is 0 when empty,
//! otherwise `(hash as u32) << 32 | (index + 1)`. Keeping 32 hash bits in the slot
//! means probing compares keys only on a 32-bit hash match, and resizing, deletion
//! and SCAN never rehash a key; keeping pairs dense means no per-pair padding and
//! an exactly uniform [`Dict::random_entry`]. Removing a pair moves the last pair
//! into its place (the moved key is rehashed once to find its slot).
//!
//! Memory per entry: `size_of::<(K, V)>()` in the pair array (chunks are full but
//! for the last one) plus 8 bytes / load factor in the index (load stays between
//! 0.4 and 0.8, so 10–20 bytes). With `SmallBytes` keys and 16-byte values that is
//! 50–60 bytes per key (57 measured at 1M keys), keys of up to 22 bytes included;
//! `std::collections::HashMap` needs about 86 for the same pairs.
//!
//! # Hash function
//!
//! SipHash-1-2 ([`crate::siphash`], the variant Redis uses) keyed with a per-process random key: the keys
//! are attacker-controlled bytes, so the hash must be secret-keyed to resist
//! collision flooding (Redis keys SipHash for the same reason).
//!
//! # Invariants
//!
//! - The index is empty (no allocation) iff the dict is empty; otherwise it has at
//!   least 4 slots, at most 80% of them used, so every probe meets an empty slot.
//! - Every pair's slot lies in the probe run that starts at its *home bucket*
//!   `hash & mask` (between the home and the first empty slot after it). Insertion
//!   places at the first empty slot from home; deletion shifts back the following
//!   slots that may move (backward-shift deletion), so no tombstones exist.
//! - The table doubles when an insertion would pass 80% load and shrinks (to a
//!   load near 40%) when fewer than 1/8 of the slots are used.
//! - `scan` visits one home bucket per call in reverse-binary cursor order. Since
//!   home buckets refine exactly as in Redis's chained table when the size doubles
//!   or halves, an element present for the whole of a full scan is returned at
//!   least once, even across resizes (it may be returned more than once).
//! - At most `u32::MAX - 1` entries (beyond any realistic memory size).
//!
//! Resizing rebuilds the index in one step (8 bytes per slot, no key hashing);
//! the pair array never moves. That step is not incremental as in Redis: about
//! 15 ms when a 1M-key table doubles (the keyspace is sharded, which keeps each
//! table, and so the pause, smaller).

mod entries;
#[cfg(test)]
mod tests;

use std::borrow::Borrow;
use std::fmt;

use entries::Entries;

const MIN_SLOTS: usize = 4;

/// The next SCAN cursor after `cursor` for a table whose mask is `mask`
/// (increment of the reversed cursor over the mask's bits). Returns 0 when the
/// scan is complete.
pub fn reverse_binary_next(cursor: u64, mask: u64) -> u64 {
    let v = cursor | !mask;
    v.reverse_bits().wrapping_add(1).reverse_bits()
}

#[inline]
fn slot_hash(s: u64) -> u32 {
    (s >> 32) as u32
}

#[inline]
fn slot_index(s: u64) -> usize {
    // Non-empty slots store index + 1 in the low half.
    (s as u32).wrapping_sub(1) as usize
}

#[inline]
fn make_slot(hash: u64, idx: usize) -> u64 {
    ((hash as u32 as u64) << 32) | (idx as u64 + 1)
}

/// Most pairs a table of `slots` slots may hold (80%).
#[inline]
fn max_fill(slots: usize) -> usize {
    slots / 5 * 4 + (slots % 5) * 4 / 5
}

/// A hash table from byte-string keys to values with Redis's SCAN guarantee.
pub struct Dict<K, V> {
    slots: Vec<u64>,
    entries: Entries<K, V>,
    k0: u64,
    k1: u64,
}

impl<K, V> Default for Dict<K, V> {
    fn default() -> Self {
        Dict::new()
    }
}

impl<K: Clone, V: Clone> Clone for Dict<K, V> {
    fn clone(&self) -> Self {
        Dict {
            slots: self.slots.clone(),
            entries: self.entries.clone(),
            k0: self.k0,
            k1: self.k1,
        }
    }
}

impl<K: Borrow<[u8]>, V: fmt::Debug> fmt::Debug for Dict<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.entries
                    .iter()
                    .map(|(k, v)| (k.borrow().escape_ascii().to_string(), v)),
            )
            .finish()
    }
}

impl<K, V> Dict<K, V> {
    /// An empty dict keyed with the per-process random hash key. Allocates nothing.
    pub fn new() -> Self {
        let (k0, k1) = crate::siphash::process_key();
        Dict::with_seed(k0, k1)
    }

    /// An empty dict with an explicit hash key (deterministic layouts for tests).
    pub fn with_seed(k0: u64, k1: u64) -> Self {
        Dict {
            slots: Vec::new(),
            entries: Entries::default(),
            k0,
            k1,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// Number of slots in the index (0 when empty; a power of two otherwise).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The hash the dict uses for `key`.
    #[inline]
    pub fn hash_of(&self, key: &[u8]) -> u64 {
        crate::siphash::siphash12(self.k0, self.k1, key)
    }

    /// Heap bytes owned by the table itself (index + pair storage), not counting
    /// what keys and values own.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8 + self.entries.heap_bytes()
    }

    /// Removes everything and frees the table.
    pub fn clear(&mut self) {
        self.slots = Vec::new();
        self.entries = Entries::default();
    }

    /// Takes every pair out, leaving the dict empty (and unallocated).
    pub fn drain(&mut self) -> Drain<K, V> {
        self.slots = Vec::new();
        let entries = std::mem::take(&mut self.entries);
        Drain {
            inner: entries.into_chunks().into_iter().flatten(),
        }
    }

    /// All pairs, in storage order (not related to SCAN order).
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            chunks: self.entries.chunks().iter(),
            cur: [].iter(),
            left: self.len(),
        }
    }

    /// All pairs with mutable values.
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        let left = self.len();
        IterMut {
            chunks: self.entries.chunks_mut().iter_mut(),
            cur: [].iter_mut(),
            left,
        }
    }

    /// The pair stored at pair index `idx` (`0..len()`). Indexes are stable
    /// except that removing a pair moves the last pair into the removed one's
    /// index; insertion appends at `len()`. A walk from the top index down to 0
    /// therefore never misses a pair present for the whole walk, whatever is
    /// inserted or removed meanwhile (the snapshot walker relies on it).
    #[inline]
    pub fn pair_at(&self, idx: usize) -> Option<(&K, &V)> {
        self.entries.get(idx).map(|(k, v)| (k, v))
    }

    /// [`Dict::pair_at`] with a mutable value.
    #[inline]
    pub fn pair_at_mut(&mut self, idx: usize) -> Option<(&K, &mut V)> {
        self.entries.get_mut(idx).map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    /// A uniformly random pair (every pair has probability exactly 1/len).
    pub fn random_entry<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Option<(&K, &V)> {
        if self.is_empty() {
            return None;
        }
        let idx = rng.gen_range(0..self.len());
        self.entries.get(idx).map(|(k, v)| (k, v))
    }

    /// One SCAN step: calls `f` for every pair whose home bucket is
    /// `cursor & mask`, and returns the next cursor (0 when the scan is complete).
    /// See the module documentation for the guarantee.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&K, &V)) -> u64 {
        if self.slots.is_empty() {
            return 0;
        }
        let mask = self.slots.len() - 1;
        let bucket = (cursor as usize) & mask;
        let mut i = bucket;
        loop {
            let s = self.slots[i];
            if s == 0 {
                break;
            }
            if slot_hash(s) as usize & mask == bucket {
                if let Some((k, v)) = self.entries.get(slot_index(s)) {
                    f(k, v);
                }
            }
            i = (i + 1) & mask;
            if i == bucket {
                break;
            }
        }
        reverse_binary_next(cursor, mask as u64)
    }

    /// Places pair index `idx` with hash `hash` in the first empty slot from its
    /// home. The index must have room.
    #[inline]
    fn place(&mut self, hash: u64, idx: usize) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = hash as u32 as usize & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = make_slot(hash, idx);
        i
    }

    /// Rebuilds the index with `n` slots (a power of two able to hold every pair).
    fn resize(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.slots, vec![0u64; n]);
        let mask = n - 1;
        for s in old {
            if s != 0 {
                let mut i = slot_hash(s) as usize & mask;
                while self.slots[i] != 0 {
                    i = (i + 1) & mask;
                }
                self.slots[i] = s;
            }
        }
    }

    /// Makes room for `additional` more pairs without further resizing. The
    /// request is a hint, capped at 2^24 pairs (a count read from a file cannot make
    /// it allocate absurdly); growth past it happens as pairs are inserted.
    pub fn reserve(&mut self, additional: usize) {
        let want = self.len().saturating_add(additional.min(1 << 24));
        let mut n = self.slots.len().max(MIN_SLOTS);
        while max_fill(n) < want {
            n *= 2;
        }
        if n != self.slots.len() {
            self.resize(n);
        }
    }

    /// Shrinks the index if it is less than 1/8 full.
    fn maybe_shrink(&mut self) {
        let len = self.len();
        if len == 0 {
            self.clear();
            return;
        }
        let n = self.slots.len();
        if n > MIN_SLOTS && len * 8 < n {
            let target = (len * 5 / 2).max(MIN_SLOTS).next_power_of_two();
            if target < n {
                self.resize(target);
            }
        }
    }

    /// Backward-shift deletion of the slot at `pos`.
    fn delete_slot(&mut self, pos: usize) {
        let mask = self.slots.len() - 1;
        let mut hole = pos;
        let mut j = pos;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s == 0 || j == pos {
                break;
            }
            let home = slot_hash(s) as usize & mask;
            // The pair at j may fill the hole unless its home lies in (hole, j].
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = 0;
    }

    /// Finds the slot holding pair index `idx` whose hash is `hash`.
    fn slot_of_index(&self, hash: u64, idx: usize) -> Option<usize> {
        let mask = self.slots.len().checked_sub(1)?;
        let want = make_slot(hash, idx);
        let mut i = hash as u32 as usize & mask;
        loop {
            let s = self.slots[i];
            if s == want {
                return Some(i);
            }
            if s == 0 {
                break;
            }
            i = (i + 1) & mask;
        }
        // Only reachable if a key's bytes changed after insertion (a logic error
        // in the caller): fall back to a full search rather than panic.
        self.slots
            .iter()
            .position(|&s| s != 0 && slot_index(s) == idx)
    }
}

impl<K: Borrow<[u8]>, V> Dict<K, V> {
    /// (slot position, pair index) of `key`, whose hash is `hash`.
    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Option<(usize, usize)> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = hash as u32;
        let mut i = tag as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if slot_hash(s) == tag {
                let idx = slot_index(s);
                if let Some((k, _)) = self.entries.get(idx) {
                    if k.borrow() == key {
                        return Some((i, idx));
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let (_, idx) = self.find(self.hash_of(key), key)?;
        self.entries.get(idx).map(|(_, v)| v)
    }

    #[inline]
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let (_, idx) = self.find(self.hash_of(key), key)?;
        self.entries.get_mut(idx).map(|(_, v)| v)
    }

    pub fn get_key_value(&self, key: &[u8]) -> Option<(&K, &V)> {
        let (_, idx) = self.find(self.hash_of(key), key)?;
        self.entries.get(idx).map(|(k, v)| (k, v))
    }

    #[inline]
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.find(self.hash_of(key), key).is_some()
    }

    /// Inserts a pair. If the key was present, its value is replaced and returned
    /// and the stored key is kept (the new `key` is dropped).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let hash = self.hash_of(key.borrow());
        if let Some((_, idx)) = self.find(hash, key.borrow()) {
            return self
                .entries
                .get_mut(idx)
                .map(|(_, v)| std::mem::replace(v, value));
        }
        self.insert_new(hash, key, value);
        None
    }

    /// Inserts a pair known to be absent; returns its pair index.
    fn insert_new(&mut self, hash: u64, key: K, value: V) -> usize {
        if self.len() + 1 > max_fill(self.slots.len()) {
            let n = (self.slots.len() * 2).max(MIN_SLOTS);
            self.resize(n);
        }
        let idx = self.entries.push((key, value));
        self.place(hash, idx);
        idx
    }

    /// Removes `key`, returning the stored pair.
    pub fn remove(&mut self, key: &[u8]) -> Option<(K, V)> {
        let (pos, idx) = self.find(self.hash_of(key), key)?;
        let pair = self.remove_at(pos, idx);
        self.maybe_shrink();
        pair
    }

    /// Removes the pair at pair index `idx`, whose slot is `pos`, without shrinking.
    fn remove_at(&mut self, pos: usize, idx: usize) -> Option<(K, V)> {
        self.delete_slot(pos);
        let last = self.len() - 1;
        if idx != last {
            // The last pair moves to `idx`: repoint its slot.
            let h = self
                .entries
                .get(last)
                .map(|(k, _)| self.hash_of(k.borrow()));
            if let Some(h) = h {
                if let Some(p) = self.slot_of_index(h, last) {
                    self.slots[p] = (self.slots[p] & !0xffff_ffff) | (idx as u64 + 1);
                }
            }
        }
        self.entries.swap_remove(idx)
    }

    /// Keeps only the pairs for which `f` returns true.
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        let mut i = 0;
        while i < self.len() {
            let keep = match self.entries.get_mut(i) {
                Some((k, v)) => f(k, v),
                None => break,
            };
            if keep {
                i += 1;
                continue;
            }
            let h = match self.entries.get(i) {
                Some((k, _)) => self.hash_of(k.borrow()),
                None => break,
            };
            match self.slot_of_index(h, i) {
                Some(pos) => {
                    self.remove_at(pos, i);
                }
                None => i += 1,
            }
        }
        self.maybe_shrink();
    }

    /// The value of `key`, inserted first if absent: `make` builds the pair from
    /// the key bytes (its key must equal them).
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce(&[u8]) -> (K, V)) -> &mut V {
        match self.entry(key) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let (k, val) = make(key);
                v.insert_with_key(k, val)
            }
        }
    }

    /// The entry for `key`, for in-place get-or-insert logic with one lookup.
    pub fn entry<'a, 'q>(&'a mut self, key: &'q [u8]) -> Entry<'a, 'q, K, V> {
        let hash = self.hash_of(key);
        match self.find(hash, key) {
            Some((pos, idx)) => Entry::Occupied(OccupiedEntry {
                dict: self,
                pos,
                idx,
            }),
            None => Entry::Vacant(VacantEntry {
                dict: self,
                hash,
                key,
            }),
        }
    }
}

/// A view into one key's place in a [`Dict`].
pub enum Entry<'a, 'q, K, V> {
    Occupied(OccupiedEntry<'a, K, V>),
    Vacant(VacantEntry<'a, 'q, K, V>),
}

pub struct OccupiedEntry<'a, K, V> {
    dict: &'a mut Dict<K, V>,
    pos: usize,
    idx: usize,
}

pub struct VacantEntry<'a, 'q, K, V> {
    dict: &'a mut Dict<K, V>,
    hash: u64,
    key: &'q [u8],
}

impl<'a, K: Borrow<[u8]>, V> OccupiedEntry<'a, K, V> {
    fn pair(&self) -> &(K, V) {
        // Invariant: `idx` was found by `find` and the dict is borrowed since.
        match self.dict.entries.get(self.idx) {
            Some(p) => p,
            None => unreachable!("occupied entry index is valid"),
        }
    }

    fn pair_mut(&mut self) -> &mut (K, V) {
        match self.dict.entries.get_mut(self.idx) {
            Some(p) => p,
            None => unreachable!("occupied entry index is valid"),
        }
    }

    pub fn key(&self) -> &K {
        &self.pair().0
    }

    pub fn get(&self) -> &V {
        &self.pair().1
    }

    pub fn get_mut(&mut self) -> &mut V {
        &mut self.pair_mut().1
    }

    pub fn into_mut(self) -> &'a mut V {
        match self.dict.entries.get_mut(self.idx) {
            Some((_, v)) => v,
            None => unreachable!("occupied entry index is valid"),
        }
    }

    /// Replaces the value, returning the old one.
    pub fn insert(&mut self, value: V) -> V {
        std::mem::replace(self.get_mut(), value)
    }

    /// Removes the pair from the dict.
    pub fn remove(self) -> (K, V) {
        let pair = self.dict.remove_at(self.pos, self.idx);
        self.dict.maybe_shrink();
        match pair {
            Some(p) => p,
            None => unreachable!("occupied entry index is valid"),
        }
    }
}

impl<'a, K: Borrow<[u8]>, V> VacantEntry<'a, '_, K, V> {
    /// The key bytes that were looked up.
    pub fn key(&self) -> &[u8] {
        self.key
    }

    /// Inserts with a key built from the looked-up bytes.
    pub fn insert(self, value: V) -> &'a mut V
    where
        K: for<'x> From<&'x [u8]>,
    {
        let k = K::from(self.key);
        self.insert_with_key(k, value)
    }

    /// Inserts with the given key, which should equal the looked-up bytes; if it
    /// does not, the pair is inserted under its own key (replacing any value).
    pub fn insert_with_key(self, key: K, value: V) -> &'a mut V {
        let dict = self.dict;
        let idx = if key.borrow() == self.key {
            dict.insert_new(self.hash, key, value)
        } else {
            let hash = dict.hash_of(key.borrow());
            match dict.find(hash, key.borrow()) {
                Some((_, idx)) => {
                    if let Some((_, v)) = dict.entries.get_mut(idx) {
                        *v = value;
                    }
                    idx
                }
                None => dict.insert_new(hash, key, value),
            }
        };
        match dict.entries.get_mut(idx) {
            Some((_, v)) => v,
            None => unreachable!("a pair was just stored at this index"),
        }
    }
}

/// Iterator over `(&K, &V)`.
pub struct Iter<'a, K, V> {
    chunks: std::slice::Iter<'a, Vec<(K, V)>>,
    cur: std::slice::Iter<'a, (K, V)>,
    left: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((k, v)) = self.cur.next() {
                self.left = self.left.saturating_sub(1);
                return Some((k, v));
            }
            self.cur = self.chunks.next()?.iter();
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

/// Iterator over `(&K, &mut V)`.
pub struct IterMut<'a, K, V> {
    chunks: std::slice::IterMut<'a, Vec<(K, V)>>,
    cur: std::slice::IterMut<'a, (K, V)>,
    left: usize,
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((k, v)) = self.cur.next() {
                self.left = self.left.saturating_sub(1);
                return Some((&*k, v));
            }
            self.cur = self.chunks.next()?.iter_mut();
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}

/// Owning iterator returned by [`Dict::drain`] and `into_iter`.
pub struct Drain<K, V> {
    inner: std::iter::Flatten<std::vec::IntoIter<Vec<(K, V)>>>,
}

impl<K, V> Iterator for Drain<K, V> {
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        self.inner.next()
    }
}

impl<K, V> IntoIterator for Dict<K, V> {
    type Item = (K, V);
    type IntoIter = Drain<K, V>;
    fn into_iter(mut self) -> Drain<K, V> {
        self.drain()
    }
}

impl<'a, K, V> IntoIterator for &'a Dict<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<K: Borrow<[u8]>, V> Extend<(K, V)> for Dict<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Borrow<[u8]>, V> FromIterator<(K, V)> for Dict<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut d = Dict::new();
        d.extend(iter);
        d
    }
}
