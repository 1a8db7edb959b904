//! The large encoding of sorted sets (reported as "skiplist"): a member -> score
//! [`Dict`] for O(1) lookups and SCAN, plus [`Ordered`], the members in
//! `(score, member)` order with O(log n) rank, select and search.
//!
//! `Ordered` is a sequence of sorted chunks (at most [`CHUNK_MAX`] items each) with a
//! Fenwick tree over the chunk sizes. Finding a position is a binary search over the
//! chunks' last items then within one chunk; a rank is a Fenwick prefix sum plus
//! the position in the chunk; selecting rank r is a Fenwick descent. Inserting or
//! removing moves at most a chunk's items (a short memmove) and updates the
//! Fenwick tree in O(log n); a split, merge or dropped chunk rebuilds the Fenwick
//! tree in O(n / CHUNK_MAX), which happens at most once per CHUNK_MAX / 4 updates.
//! Why not a skiplist as in Redis: it needs a node allocation and several
//! pointers per member and unsafe code for its back links; chunks keep items
//! contiguous (fast range walks, no per-item allocation beyond long members) in safe
//! Rust, with the same O(log n) bounds for rank and range queries.
//!
//! Invariants: no chunk is empty; the concatenation of the chunks is strictly
//! increasing by (score, member); `fen` is the Fenwick tree of the chunk lengths;
//! `len` is their sum; the dict holds exactly the items' members with their scores;
//! no score is NaN.

use super::pack::cmp_entry;
use shoal_ds::dict::Dict;
use shoal_ds::smallbytes::SmallBytes;
use std::cmp::Ordering;

/// A chunk splits in two when it would exceed this many items.
pub(crate) const CHUNK_MAX: usize = 256;
/// A chunk this small merges with a neighbour when both fit in one chunk.
const CHUNK_MIN: usize = CHUNK_MAX / 4;

#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub(crate) score: f64,
    pub(crate) member: SmallBytes,
}

impl Item {
    fn cmp_key(&self, score: f64, member: &[u8]) -> Ordering {
        cmp_entry(self.score, &self.member, score, member)
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Ordered {
    chunks: Vec<Vec<Item>>,
    /// 1-based Fenwick tree over `chunks[i].len()`.
    fen: Vec<usize>,
    len: usize,
}

impl Ordered {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Builds from items already in order.
    pub(crate) fn from_sorted(items: Vec<Item>) -> Ordered {
        let len = items.len();
        let half = CHUNK_MAX / 2;
        let mut chunks = Vec::with_capacity(len.div_ceil(half));
        let mut it = items.into_iter().peekable();
        while it.peek().is_some() {
            let c: Vec<Item> = it.by_ref().take(half).collect();
            chunks.push(c);
        }
        let mut o = Ordered {
            chunks,
            fen: Vec::new(),
            len,
        };
        o.rebuild_fen();
        o
    }

    fn rebuild_fen(&mut self) {
        let n = self.chunks.len();
        self.fen.clear();
        self.fen.resize(n + 1, 0);
        for i in 1..=n {
            self.fen[i] += self.chunks[i - 1].len();
            let j = i + (i & i.wrapping_neg());
            if j <= n {
                let v = self.fen[i];
                self.fen[j] += v;
            }
        }
    }

    fn fen_add(&mut self, chunk: usize, delta: isize) {
        let mut i = chunk + 1;
        while i < self.fen.len() {
            self.fen[i] = self.fen[i].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Number of items in the chunks before `chunk`.
    fn prefix(&self, chunk: usize) -> usize {
        let mut i = chunk.min(self.fen.len().saturating_sub(1));
        let mut s = 0;
        while i > 0 {
            s += self.fen[i];
            i &= i - 1;
        }
        s
    }

    /// `(chunk, pos)` of rank `r` (which must be < len).
    fn select(&self, mut r: usize) -> (usize, usize) {
        let n = self.chunks.len();
        let mut pos = 0;
        let mut step = n.checked_next_power_of_two().unwrap_or(0);
        if step > n {
            step >>= 1;
        }
        while step > 0 {
            let next = pos + step;
            if next <= n && self.fen[next] <= r {
                pos = next;
                r -= self.fen[next];
            }
            step >>= 1;
        }
        (pos, r)
    }

    /// The first rank whose item does not satisfy `before` (which must hold for a
    /// prefix of the order and not after it).
    pub(crate) fn partition_point(&self, before: impl Fn(&Item) -> bool) -> usize {
        let ci = self
            .chunks
            .partition_point(|c| c.last().is_some_and(&before));
        if ci == self.chunks.len() {
            return self.len;
        }
        self.prefix(ci) + self.chunks[ci].partition_point(&before)
    }

    /// Where `(score, member)` is or would go: `(chunk, pos, found)`.
    fn locate(&self, score: f64, member: &[u8]) -> (usize, usize, bool) {
        let ci = self.chunks.partition_point(|c| {
            c.last()
                .is_some_and(|it| it.cmp_key(score, member) == Ordering::Less)
        });
        if ci == self.chunks.len() {
            return match self.chunks.last() {
                Some(c) => (ci - 1, c.len(), false),
                None => (0, 0, false),
            };
        }
        match self.chunks[ci].binary_search_by(|it| it.cmp_key(score, member)) {
            Ok(p) => (ci, p, true),
            Err(p) => (ci, p, false),
        }
    }

    pub(crate) fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let (ci, p, found) = self.locate(score, member);
        found.then(|| self.prefix(ci) + p)
    }

    pub(crate) fn get(&self, rank: usize) -> Option<&Item> {
        if rank >= self.len {
            return None;
        }
        let (ci, p) = self.select(rank);
        self.chunks.get(ci)?.get(p)
    }

    pub(crate) fn insert(&mut self, item: Item) {
        let (ci, p, found) = self.locate(item.score, &item.member);
        debug_assert!(!found);
        if self.chunks.is_empty() {
            self.chunks.push(vec![item]);
            self.len = 1;
            self.rebuild_fen();
            return;
        }
        let chunk = &mut self.chunks[ci];
        chunk.insert(p, item);
        self.len += 1;
        if chunk.len() > CHUNK_MAX {
            let tail = chunk.split_off(chunk.len() / 2);
            self.chunks.insert(ci + 1, tail);
            self.rebuild_fen();
        } else {
            self.fen_add(ci, 1);
        }
    }

    pub(crate) fn remove(&mut self, score: f64, member: &[u8]) -> Option<Item> {
        let (ci, p, found) = self.locate(score, member);
        if !found {
            return None;
        }
        let it = self.chunks[ci].remove(p);
        self.len -= 1;
        if !self.settle(ci) {
            self.fen_add(ci, -1);
        }
        Some(it)
    }

    /// Drops or merges chunk `ci` if it became empty or small. Returns whether the
    /// layout changed (and the Fenwick tree was rebuilt).
    fn settle(&mut self, ci: usize) -> bool {
        let n = self.chunks[ci].len();
        if n == 0 {
            self.chunks.remove(ci);
            self.rebuild_fen();
            return true;
        }
        if n < CHUNK_MIN {
            if ci + 1 < self.chunks.len() && n + self.chunks[ci + 1].len() <= CHUNK_MAX / 2 {
                let next = self.chunks.remove(ci + 1);
                self.chunks[ci].extend(next);
                self.rebuild_fen();
                return true;
            }
            if ci > 0 && n + self.chunks[ci - 1].len() <= CHUNK_MAX / 2 {
                let cur = self.chunks.remove(ci);
                self.chunks[ci - 1].extend(cur);
                self.rebuild_fen();
                return true;
            }
        }
        false
    }

    /// Removes the items of ranks `start..end`, handing each to `f` in order.
    pub(crate) fn remove_ranks(&mut self, start: usize, end: usize, f: &mut dyn FnMut(Item)) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        let (ci, p) = self.select(start);
        let mut left = end - start;
        let mut c = ci;
        let mut pos = p;
        while left > 0 && c < self.chunks.len() {
            let chunk = &mut self.chunks[c];
            let take = left.min(chunk.len() - pos);
            for it in chunk.drain(pos..pos + take) {
                f(it);
            }
            left -= take;
            c += 1;
            pos = 0;
        }
        self.len -= end - start;
        self.chunks.retain(|c| !c.is_empty());
        // The chunk at the cut may have become small: merge it with its successor.
        if let Some(i) = self.chunks.iter().position(|c| c.len() < CHUNK_MIN) {
            if i + 1 < self.chunks.len()
                && self.chunks[i].len() + self.chunks[i + 1].len() <= CHUNK_MAX
            {
                let next = self.chunks.remove(i + 1);
                self.chunks[i].extend(next);
            }
        }
        self.rebuild_fen();
    }

    /// Items from rank `start` on, in order.
    pub(crate) fn iter_from(&self, start: usize) -> impl Iterator<Item = &Item> + '_ {
        let (ci, p) = if start < self.len {
            self.select(start)
        } else {
            (self.chunks.len(), 0)
        };
        let first: &[Item] = self.chunks.get(ci).map_or(&[], |c| &c[p..]);
        first
            .iter()
            .chain(self.chunks.get(ci + 1..).unwrap_or(&[]).iter().flatten())
    }

    /// Items from rank `last` down to rank 0.
    pub(crate) fn iter_rev_from(&self, last: usize) -> impl Iterator<Item = &Item> + '_ {
        let (ci, p) = if last < self.len {
            self.select(last)
        } else {
            (0, 0)
        };
        let first: &[Item] = if last < self.len {
            &self.chunks[ci][..=p]
        } else {
            &[]
        };
        let before: &[Vec<Item>] = if last < self.len {
            &self.chunks[..ci]
        } else {
            &[]
        };
        first
            .iter()
            .rev()
            .chain(before.iter().rev().flat_map(|c| c.iter().rev()))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Vec<Item>>()
            + self.fen.capacity() * 8
            + self
                .chunks
                .iter()
                .map(|c| {
                    c.capacity() * std::mem::size_of::<Item>()
                        + c.iter().map(|i| i.member.heap_size()).sum::<usize>()
                })
                .sum::<usize>()
    }

    pub(crate) fn chunk_count(&self) -> usize {
        self.chunks.len()
    }
}

/// The large encoding: the order plus a member -> score dict.
#[derive(Clone, Debug, Default)]
pub(crate) struct Big {
    pub(crate) dict: Dict<SmallBytes, f64>,
    pub(crate) order: Ordered,
}

impl Big {
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    pub(crate) fn insert(&mut self, member: &[u8], score: f64) {
        let m = SmallBytes::from(member);
        self.dict.insert(m.clone(), score);
        self.order.insert(Item { score, member: m });
    }

    pub(crate) fn update(&mut self, member: &[u8], old: f64, new: f64) {
        if let Some(mut it) = self.order.remove(old, member) {
            it.score = new;
            if let Some(s) = self.dict.get_mut(member) {
                *s = new;
            }
            self.order.insert(it);
        }
    }

    pub(crate) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (_, score) = self.dict.remove(member)?;
        self.order.remove(score, member);
        Some(score)
    }

    pub(crate) fn rank(&self, member: &[u8]) -> Option<usize> {
        let s = *self.dict.get(member)?;
        self.order.rank(s, member)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn check(o: &Ordered) {
        let all: Vec<&Item> = o.iter_from(0).collect();
        assert_eq!(all.len(), o.len);
        for w in all.windows(2) {
            assert_eq!(w[0].cmp_key(w[1].score, &w[1].member), Ordering::Less);
        }
        assert!(o.chunks.iter().all(|c| !c.is_empty()));
        for (i, it) in all.iter().enumerate() {
            assert_eq!(o.rank(it.score, &it.member), Some(i));
            assert_eq!(o.get(i).map(|x| x.member.clone()), Some(it.member.clone()));
        }
    }

    #[test]
    fn random_operations_keep_the_order() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut big = Big::default();
        let mut model: std::collections::BTreeMap<Vec<u8>, i64> = Default::default();
        for round in 0..6000 {
            let m = format!("m{}", rng.gen_range(0..1500)).into_bytes();
            let s = rng.gen_range(-50..50);
            match rng.gen_range(0..4) {
                0 | 1 => match model.get(&m) {
                    Some(&old) => {
                        big.update(&m, old as f64, s as f64);
                        model.insert(m, s);
                    }
                    None => {
                        big.insert(&m, s as f64);
                        model.insert(m, s);
                    }
                },
                2 => {
                    assert_eq!(big.remove(&m).map(|x| x as i64), model.remove(&m));
                }
                _ => {
                    let len = big.len();
                    if len > 0 {
                        let a = rng.gen_range(0..len);
                        let b = (a + rng.gen_range(0..40)).min(len);
                        let mut gone = Vec::new();
                        big.order.remove_ranks(a, b, &mut |it| gone.push(it));
                        for it in gone {
                            big.dict.remove(&it.member);
                            model.remove(it.member.as_bytes());
                        }
                    }
                }
            }
            assert_eq!(big.len(), model.len());
            if round % 500 == 0 {
                check(&big.order);
            }
        }
        check(&big.order);
        let rev: Vec<Vec<u8>> = big
            .order
            .iter_rev_from(big.len() - 1)
            .map(|i| i.member.to_vec())
            .collect();
        let mut fwd: Vec<Vec<u8>> = big.order.iter_from(0).map(|i| i.member.to_vec()).collect();
        fwd.reverse();
        assert_eq!(rev, fwd);
    }
}
