//! The sorted set value: members (byte strings) with a double score each, kept in
//! `(score, member bytes)` order as Redis does.
//!
//! Two encodings, as in Redis 7.0:
//! - "listpack" ([`pack`]): one front-coded byte buffer, for sets of at most
//!   `zset-max-listpack-entries` members each at most `zset-max-listpack-value`
//!   bytes. Operations are O(n) walks of that buffer.
//! - "skiplist" ([`tree`]): a member -> score dict plus an order-statistic sequence
//!   of sorted chunks with a Fenwick tree over their sizes (O(log n) rank, select
//!   and search; see that module for why this and not a skiplist).
//!
//! A set turns from listpack into skiplist when an insertion would pass either
//! threshold ([`ZSet::insert`]), never back by itself; results built in one go
//! (ZUNIONSTORE, ZRANGESTORE, ...) pick their encoding from the final contents
//! ([`ZSet::from_entries`]), as Redis's `zsetConvertToListpackIfNeeded` does.
//!
//! Ordering: by score (`-0.0 == 0.0`), then member bytes (`memcmp`). Scores are
//! never NaN. A listpack-encoded set stores -0 as 0 (Redis 7.0 does, through its
//! textual score format); the skiplist keeps -0.
//!
//! Range queries ([`ZSet::find_range`]) follow Redis's per-encoding algorithms:
//! the listpack one is a linear scan (which matters for lexicographic ranges over
//! members of different scores, where "in range" is not monotonic), the skiplist
//! one a search.
//!
//! `ZSet` is 16 bytes (a boxed slice or a box), so `Value` stays 24 bytes.

mod pack;
mod tree;

pub use pack::cmp_entry;
use pack::{Pack, Writer};
use rand::Rng;
use shoal_ds::smallbytes::SmallBytes;
use tree::{Big, Item, Ordered};

/// The listpack thresholds (`zset-max-listpack-entries` / `-value`): the same
/// shape as a hash's.
pub use crate::hash::Limits;

#[derive(Clone, Debug)]
enum Repr {
    Pack(Pack),
    Big(Box<Big>),
}

/// A sorted set value.
#[derive(Clone, Debug)]
pub struct ZSet(Repr);

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

/// A predicate over an entry (score, member).
pub type EntryPred<'a> = &'a dyn Fn(f64, &[u8]) -> bool;

impl ZSet {
    /// An empty listpack-encoded set.
    pub fn new() -> ZSet {
        ZSet(Repr::Pack(Pack::default()))
    }

    /// A set holding `items` (members distinct, any order), encoded as Redis
    /// encodes a result it builds whole: listpack when it fits the limits.
    pub fn from_entries(mut items: Vec<(f64, SmallBytes)>, lim: Limits) -> ZSet {
        items.sort_by(|a, b| pack::cmp_entry(a.0, &a.1, b.0, &b.1));
        let fits =
            items.len() <= lim.max_entries && items.iter().all(|(_, m)| m.len() <= lim.max_value);
        if fits {
            let mut w = Writer::with_capacity(items.iter().map(|(_, m)| m.len() + 3).sum());
            for (s, m) in &items {
                w.push(*s, m);
            }
            return ZSet(Repr::Pack(w.finish()));
        }
        let mut big = Big::default();
        big.dict.reserve(items.len());
        for (s, m) in &items {
            big.dict.insert(m.clone(), *s);
        }
        big.order = Ordered::from_sorted(
            items
                .into_iter()
                .map(|(score, member)| Item { score, member })
                .collect(),
        );
        ZSet(Repr::Big(Box::new(big)))
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Pack(p) => p.len(),
            Repr::Big(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Redis's `OBJECT ENCODING` name for the current representation.
    pub fn encoding(&self) -> &'static str {
        match &self.0 {
            Repr::Pack(_) => "listpack",
            Repr::Big(_) => "skiplist",
        }
    }

    /// Heap bytes owned by the value.
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Pack(p) => p.heap_bytes(),
            Repr::Big(b) => {
                std::mem::size_of::<Big>()
                    + b.dict.heap_bytes()
                    + b.dict.keys().map(|k| k.heap_size()).sum::<usize>()
                    + b.order.heap_bytes()
            }
        }
    }

    /// How much work freeing the value is (Redis's `lazyfreeGetFreeEffort`: the
    /// skiplist's length, 1 for a listpack).
    pub fn free_effort(&self) -> usize {
        match &self.0 {
            Repr::Pack(_) => 1,
            Repr::Big(b) => b.len().max(1),
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.0 {
            Repr::Pack(p) => p.find(member).map(|(_, s)| s),
            Repr::Big(b) => b.dict.get(member).copied(),
        }
    }

    /// 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.0 {
            Repr::Pack(p) => p.find(member).map(|(r, _)| r),
            Repr::Big(b) => b.rank(member),
        }
    }

    /// Adds a member that is not in the set, converting to the skiplist encoding
    /// first when the listpack would exceed `lim` (Redis's `zsetAdd`).
    pub fn insert(&mut self, member: &[u8], score: f64, lim: Limits) {
        if let Repr::Pack(p) = &self.0 {
            if p.len() + 1 > lim.max_entries || member.len() > lim.max_value {
                self.convert_to_big();
            }
        }
        match &mut self.0 {
            Repr::Pack(p) => *p = p.rebuild(None, Some((score, member))),
            Repr::Big(b) => b.insert(member, score),
        }
    }

    /// Changes the score of a member in the set from `old` to `new`.
    pub fn update(&mut self, member: &[u8], old: f64, new: f64) {
        match &mut self.0 {
            Repr::Pack(p) => *p = p.rebuild(Some(member), Some((new, member))),
            Repr::Big(b) => b.update(member, old, new),
        }
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.0 {
            Repr::Pack(p) => {
                let (_, s) = p.find(member)?;
                *p = p.rebuild(Some(member), None);
                Some(s)
            }
            Repr::Big(b) => b.remove(member),
        }
    }

    /// Turns a listpack-encoded set into the skiplist encoding (SORT does this to
    /// the set it reads, as Redis does).
    pub fn convert_to_skiplist(&mut self) {
        self.convert_to_big();
    }

    fn convert_to_big(&mut self) {
        if let Repr::Pack(p) = &self.0 {
            let mut items = Vec::with_capacity(p.len());
            let mut big = Big::default();
            let mut c = p.cursor();
            while let Some((s, m)) = c.next() {
                let m = SmallBytes::from(m);
                big.dict.insert(m.clone(), s);
                items.push(Item {
                    score: s,
                    member: m,
                });
            }
            big.order = Ordered::from_sorted(items);
            self.0 = Repr::Big(Box::new(big));
        }
    }

    /// Calls `f(member, score)` for ranks `start..end` (clamped to the set), in
    /// ascending order, or descending (from `end - 1` down to `start`) when `rev`.
    pub fn range(&self, start: usize, end: usize, rev: bool, f: &mut dyn FnMut(&[u8], f64)) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match &self.0 {
            Repr::Pack(p) if !rev => {
                let mut c = p.cursor();
                c.skip(start);
                for _ in start..end {
                    match c.next() {
                        Some((s, m)) => f(m, s),
                        None => break,
                    }
                }
            }
            Repr::Pack(p) => {
                let d = p.decode();
                for i in (start..end.min(d.len())).rev() {
                    if let Some((s, m)) = d.get(i) {
                        f(m, s);
                    }
                }
            }
            Repr::Big(b) if !rev => {
                for it in b.order.iter_from(start).take(end - start) {
                    f(&it.member, it.score);
                }
            }
            Repr::Big(b) => {
                for it in b.order.iter_rev_from(end - 1).take(end - start) {
                    f(&it.member, it.score);
                }
            }
        }
    }

    /// Every member in ascending order.
    pub fn for_each(&self, f: &mut dyn FnMut(&[u8], f64)) {
        self.range(0, usize::MAX, false, f);
    }

    /// The member of rank `i`, with its score.
    pub fn nth(&self, i: usize) -> Option<(SmallBytes, f64)> {
        if let Repr::Big(b) = &self.0 {
            return b.order.get(i).map(|it| (it.member.clone(), it.score));
        }
        let mut r = None;
        self.range(i, i.saturating_add(1), false, &mut |m, s| {
            r = Some((SmallBytes::from(m), s))
        });
        r
    }

    /// Removes ranks `start..end` (clamped), handing each removed entry to `f` in
    /// ascending order.
    pub fn remove_range(&mut self, start: usize, end: usize, f: &mut dyn FnMut(&[u8], f64)) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match &mut self.0 {
            Repr::Pack(p) => p.remove_ranks(start, end, f),
            Repr::Big(b) => {
                let dict = &mut b.dict;
                b.order.remove_ranks(start, end, &mut |it| {
                    dict.remove(&it.member);
                    f(&it.member, it.score);
                });
            }
        }
    }

    /// The ranks `start..end` of the entries in a score or lex range, found the way
    /// Redis finds them for each encoding. `gte_min`/`lte_max` tell whether an
    /// entry is past the lower / before the upper bound; `sane` is false when the
    /// bounds themselves make the range empty (min > max, or equal with an
    /// exclusive end). `rev` scans from the top, as the reverse commands do.
    pub fn find_range(
        &self,
        sane: bool,
        gte_min: EntryPred<'_>,
        lte_max: EntryPred<'_>,
        rev: bool,
    ) -> (usize, usize) {
        let n = self.len();
        if !sane || n == 0 {
            return (0, 0);
        }
        // Redis first checks the set's extremes against the bounds.
        let (Some((first_m, first_s)), Some((last_m, last_s))) = (self.nth(0), self.nth(n - 1))
        else {
            return (0, 0);
        };
        if !gte_min(last_s, &last_m) || !lte_max(first_s, &first_m) {
            return (0, 0);
        }
        match &self.0 {
            Repr::Pack(p) if !rev => {
                let mut c = p.cursor();
                let mut i = 0;
                let mut start = None;
                while let Some((s, m)) = c.next() {
                    match start {
                        None if gte_min(s, m) => {
                            if !lte_max(s, m) {
                                return (0, 0);
                            }
                            start = Some(i);
                        }
                        None => {}
                        Some(st) if !lte_max(s, m) => return (st, i),
                        Some(_) => {}
                    }
                    i += 1;
                }
                match start {
                    Some(st) => (st, n),
                    None => (0, 0),
                }
            }
            Repr::Pack(p) => {
                let d = p.decode();
                let Some(last) = (0..d.len())
                    .rev()
                    .find(|&i| d.get(i).is_some_and(|(s, m)| lte_max(s, m)))
                else {
                    return (0, 0);
                };
                if !d.get(last).is_some_and(|(s, m)| gte_min(s, m)) {
                    return (0, 0);
                }
                let start = (0..last)
                    .rev()
                    .find(|&i| !d.get(i).is_some_and(|(s, m)| gte_min(s, m)))
                    .map_or(0, |i| i + 1);
                (start, last + 1)
            }
            Repr::Big(b) => {
                let start = b.order.partition_point(|it| !gte_min(it.score, &it.member));
                let end = b.order.partition_point(|it| lte_max(it.score, &it.member));
                if end <= start {
                    (0, 0)
                } else {
                    (start, end)
                }
            }
        }
    }

    /// One ZSCAN step: a listpack answers everything at once (cursor 0 next), a
    /// skiplist walks its dict with Redis's reverse-binary cursor.
    pub fn scan(&self, cursor: u64, f: &mut dyn FnMut(&[u8], f64)) -> u64 {
        match &self.0 {
            Repr::Pack(_) => {
                self.for_each(f);
                0
            }
            Repr::Big(b) => b.dict.scan(cursor, |k, v| f(k, *v)),
        }
    }

    /// A uniformly random member with its score (None when empty).
    pub fn random<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<(SmallBytes, f64)> {
        match &self.0 {
            Repr::Big(b) => b.dict.random_entry(rng).map(|(k, v)| (k.clone(), *v)),
            Repr::Pack(p) => {
                let n = p.len();
                if n == 0 {
                    return None;
                }
                self.nth(rng.gen_range(0..n))
            }
        }
    }

    /// Number of chunks of the skiplist encoding (0 for a listpack); for tests.
    #[doc(hidden)]
    pub fn chunk_count(&self) -> usize {
        match &self.0 {
            Repr::Pack(_) => 0,
            Repr::Big(b) => b.order.chunk_count(),
        }
    }
}

const _: () = assert!(std::mem::size_of::<ZSet>() <= 16);

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        max_entries: 4,
        max_value: 8,
    };

    fn members(z: &ZSet) -> Vec<(String, f64)> {
        let mut v = Vec::new();
        z.for_each(&mut |m, s| v.push((String::from_utf8_lossy(m).into_owned(), s)));
        v
    }

    #[test]
    fn converts_at_the_thresholds() {
        let mut z = ZSet::new();
        for (i, m) in ["d", "c", "b", "a"].iter().enumerate() {
            z.insert(m.as_bytes(), i as f64, LIM);
        }
        assert_eq!(z.encoding(), "listpack");
        let before = members(&z);
        z.insert(b"e", 0.5, LIM);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(members(&z).len(), 5);
        assert_eq!(&members(&z)[..1], &before[..1]);
        let mut y = ZSet::new();
        y.insert(b"123456789", 1.0, LIM);
        assert_eq!(y.encoding(), "skiplist");
    }

    #[test]
    fn both_encodings_agree() {
        let big = Limits {
            max_entries: 0,
            max_value: 0,
        };
        let small = Limits {
            max_entries: 1000,
            max_value: 1000,
        };
        let mut a = ZSet::new();
        let mut b = ZSet::new();
        for i in 0..300u32 {
            let m = format!("m{}", (i * 7919) % 211);
            let s = f64::from((i * 31) % 17) - 8.0;
            for (z, lim) in [(&mut a, small), (&mut b, big)] {
                match z.score(m.as_bytes()) {
                    Some(old) => z.update(m.as_bytes(), old, s),
                    None => z.insert(m.as_bytes(), s, lim),
                }
            }
            if i % 5 == 0 {
                let d = format!("m{}", (i * 13) % 211);
                assert_eq!(a.remove(d.as_bytes()), b.remove(d.as_bytes()));
            }
        }
        assert_eq!(a.encoding(), "listpack");
        assert_eq!(b.encoding(), "skiplist");
        assert_eq!(members(&a), members(&b));
        for m in ["m1", "m100", "zz"] {
            assert_eq!(a.rank(m.as_bytes()), b.rank(m.as_bytes()));
        }
        let gte = |s: f64, _: &[u8]| s >= -3.0;
        let lte = |s: f64, _: &[u8]| s <= 2.0;
        assert_eq!(
            a.find_range(true, &gte, &lte, false),
            b.find_range(true, &gte, &lte, false)
        );
        assert_eq!(
            a.find_range(true, &gte, &lte, true),
            b.find_range(true, &gte, &lte, true)
        );
        let mut ra = Vec::new();
        let mut rb = Vec::new();
        a.range(3, 40, true, &mut |m, s| ra.push((m.to_vec(), s)));
        b.range(3, 40, true, &mut |m, s| rb.push((m.to_vec(), s)));
        assert_eq!(ra, rb);
        let mut ga = Vec::new();
        let mut gb = Vec::new();
        a.remove_range(5, 20, &mut |m, _| ga.push(m.to_vec()));
        b.remove_range(5, 20, &mut |m, _| gb.push(m.to_vec()));
        assert_eq!(ga, gb);
        assert_eq!(members(&a), members(&b));
    }

    #[test]
    fn negative_zero_is_zero_in_a_listpack_only() {
        let mut a = ZSet::new();
        a.insert(b"x", -0.0, LIM);
        assert!(a.score(b"x").is_some_and(|s| s.is_sign_positive()));
        let mut b = ZSet::new();
        b.insert(b"long member", -0.0, LIM);
        assert!(b
            .score(b"long member")
            .is_some_and(|s| s.is_sign_negative()));
    }
}
