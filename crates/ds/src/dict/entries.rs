//! Dense, segmented storage for the dict's `(key, value)` pairs.
//!
//! Owns: [`Entries`], a vector of pairs addressed by index `0..len` and held in
//! chunks that never move once allocated: the first chunks double in size (8, 8,
//! 16), then chunks of [`MID_CHUNK`] pairs up to [`BIG_CHUNK`] pairs in all,
//! then every chunk holds [`BIG_CHUNK`] pairs. Growing never copies existing pairs
//! (no latency spike, no transient 2x memory as with a `Vec`), and a table wastes
//! at most one partly filled chunk: at most 31 pairs while it is small or middling.
//! That bound matters because the keyspace is sharded: 100,000 keys over 256
//! shards are ~390 pairs per table, where doubling chunks would leave a quarter of
//! the pair storage empty.
//!
//! Invariants: pairs `0..len` are initialised and stored in order; chunk `c` has
//! capacity `chunk_cap(c)` and is full unless it is the last non-empty chunk; at
//! most one empty chunk is kept past the one the next push would use (hysteresis,
//! so push/pop at a chunk boundary does not allocate every time). No `unsafe`.

/// Capacity of every chunk after the first [`BIG_CHUNK`] pairs.
pub(crate) const BIG_CHUNK: usize = 4096;
/// Capacity of the chunks between the geometric ramp and [`BIG_CHUNK`] pairs.
const MID_CHUNK: usize = 32;
const FIRST: usize = 8;
/// Chunks of the geometric ramp (8, 8, 16: pairs 0..32).
const RAMP_CHUNKS: usize = 3;
/// Chunks before the big ones: the ramp, then (4096 - 32) / 32 middle chunks.
const SMALL_CHUNKS: usize = RAMP_CHUNKS + (BIG_CHUNK - MID_CHUNK) / MID_CHUNK;

/// Where pair `idx` lives: (chunk, offset).
#[inline]
fn locate(idx: usize) -> (usize, usize) {
    if idx < FIRST {
        (0, idx)
    } else if idx < MID_CHUNK {
        let b = (usize::BITS - 1 - idx.leading_zeros()) as usize; // 3..=4
        (b - 2, idx - (1 << b))
    } else if idx < BIG_CHUNK {
        let i = idx - MID_CHUNK;
        (RAMP_CHUNKS + i / MID_CHUNK, i % MID_CHUNK)
    } else {
        let i = idx - BIG_CHUNK;
        (SMALL_CHUNKS + i / BIG_CHUNK, i % BIG_CHUNK)
    }
}

#[inline]
fn chunk_cap(c: usize) -> usize {
    match c {
        0 => FIRST,
        1..=2 => FIRST << (c - 1),
        c if c < SMALL_CHUNKS => MID_CHUNK,
        _ => BIG_CHUNK,
    }
}

pub(crate) struct Entries<K, V> {
    chunks: Vec<Vec<(K, V)>>,
    len: usize,
}

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Entries {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<K: Clone, V: Clone> Clone for Entries<K, V> {
    fn clone(&self) -> Self {
        let chunks = self
            .chunks
            .iter()
            .enumerate()
            .map(|(c, ch)| {
                let mut n = Vec::with_capacity(chunk_cap(c));
                n.extend(ch.iter().cloned());
                n
            })
            .collect();
        Entries {
            chunks,
            len: self.len,
        }
    }
}

impl<K, V> Entries<K, V> {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn get(&self, idx: usize) -> Option<&(K, V)> {
        let (c, o) = locate(idx);
        self.chunks.get(c)?.get(o)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, idx: usize) -> Option<&mut (K, V)> {
        let (c, o) = locate(idx);
        self.chunks.get_mut(c)?.get_mut(o)
    }

    /// Appends a pair and returns its index.
    pub(crate) fn push(&mut self, pair: (K, V)) -> usize {
        let idx = self.len;
        let (c, _) = locate(idx);
        while self.chunks.len() <= c {
            let n = self.chunks.len();
            self.chunks.push(Vec::with_capacity(chunk_cap(n)));
        }
        // Chunk `c` has room: its capacity is chunk_cap(c) and it holds exactly
        // the pairs before `idx` that map to it.
        self.chunks[c].push(pair);
        self.len += 1;
        idx
    }

    /// Removes the last pair.
    pub(crate) fn pop(&mut self) -> Option<(K, V)> {
        if self.len == 0 {
            return None;
        }
        let (c, _) = locate(self.len - 1);
        let pair = self.chunks.get_mut(c)?.pop()?;
        self.len -= 1;
        if self.len == 0 {
            self.chunks = Vec::new();
        } else {
            let keep = locate(self.len).0 + 2;
            if self.chunks.len() > keep {
                self.chunks.truncate(keep);
            }
        }
        Some(pair)
    }

    /// Removes pair `idx`, moving the last pair into its place.
    pub(crate) fn swap_remove(&mut self, idx: usize) -> Option<(K, V)> {
        if idx >= self.len {
            return None;
        }
        let last = self.pop()?;
        if idx == self.len {
            return Some(last);
        }
        let slot = self.get_mut(idx)?;
        Some(std::mem::replace(slot, last))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &(K, V)> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    pub(crate) fn chunks(&self) -> &[Vec<(K, V)>] {
        &self.chunks
    }

    /// The chunks, for in-place mutation of pairs. Callers must not push to or
    /// pop from a chunk (that would break the layout invariant).
    pub(crate) fn chunks_mut(&mut self) -> &mut [Vec<(K, V)>] {
        &mut self.chunks
    }

    pub(crate) fn into_chunks(self) -> Vec<Vec<(K, V)>> {
        self.chunks
    }

    /// Bytes allocated by the storage itself (not by what keys/values own).
    pub(crate) fn heap_bytes(&self) -> usize {
        let pair = std::mem::size_of::<(K, V)>();
        self.chunks.capacity() * std::mem::size_of::<Vec<(K, V)>>()
            + self
                .chunks
                .iter()
                .map(|c| c.capacity() * pair)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_is_dense_and_consistent() {
        let mut expect = (0usize, 0usize);
        for idx in 0..20_000usize {
            assert_eq!(locate(idx), expect, "idx {idx}");
            expect.1 += 1;
            if expect.1 == chunk_cap(expect.0) {
                expect = (expect.0 + 1, 0);
            }
        }
    }

    #[test]
    fn push_pop_swap_remove() {
        let mut e: Entries<u32, u32> = Entries::default();
        for i in 0..10_000 {
            assert_eq!(e.push((i, i * 2)), i as usize);
        }
        assert_eq!(e.get(9_999), Some(&(9_999, 19_998)));
        assert_eq!(e.swap_remove(0), Some((0, 0)));
        assert_eq!(e.get(0), Some(&(9_999, 19_998)));
        assert_eq!(e.len(), 9_999);
        while e.pop().is_some() {}
        assert_eq!(e.len(), 0);
        assert_eq!(e.heap_bytes(), 0);
        assert_eq!(e.swap_remove(0), None);
    }
}
