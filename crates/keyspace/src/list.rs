//! The list value: a deque of compact nodes, each a byte buffer of packed entries.
//!
//! Redis 7.0 keeps every list in a quicklist (a linked list of listpacks) and
//! `OBJECT ENCODING` always answers "quicklist", whatever the size; 7.2's small-list
//! "listpack" encoding does not exist in 7.0. [`ENCODING`] is therefore constant.
//!
//! Representation:
//! - [`List`] is one pointer wide (a `Box`), so adding lists does not grow `Value`;
//! - the nodes sit in a `VecDeque`, so pushing and popping at either end is O(1)
//!   (amortised), and reaching index `i` walks nodes from the nearer end, then
//!   entries within one node: O(N) like Redis, but with a small constant;
//! - a node's live bytes are `buf[head..]`: pops at the front advance `head`, pushes
//!   at the front write into the gap before it (growing the gap geometrically), so
//!   both ends of a node are O(1) amortised;
//! - entries are packed like Redis's listpack entries, integers as integers (layout
//!   in [`entry`]): a 10-byte string costs 12 bytes and the integer 123456 costs 5;
//! - how full a node may get follows `list-max-listpack-size` ([`List::new`]'s
//!   `fill`), with Redis's quicklist rules: a negative fill `-k` caps a node at
//!   `4096 << (k - 1)` bytes (`k` at most 5); a positive fill caps the number of
//!   entries, with a safety cap of 8192 bytes. A node always accepts its first entry,
//!   so a huge element gets a node of its own.
//!
//! Invariants:
//! - `len` is the sum of the nodes' `count`; no node is empty (`count > 0`);
//! - every node's live bytes are exactly `count` well-formed entries;
//! - an element that is a canonical decimal `i64` (what `shoal_ds::num::parse_i64`
//!   accepts, at most 20 bytes) is always stored as an integer entry, and an integer
//!   entry always renders back to the exact bytes it came from; so two elements are
//!   equal exactly when their entries are (see [`Needle`]);
//! - a list in the keyspace is never empty: commands delete the key with its last
//!   element (this module allows empty lists as transient values).

mod entry;
mod node;

pub use entry::{Elem, Needle};

use entry::{classify, len_before, read_at};
use node::{Limits, Node};
use std::collections::VecDeque;
use std::fmt;

/// What `OBJECT ENCODING` reports for every list in Redis 7.0.
pub const ENCODING: &str = "quicklist";

/// Redis's `FILL_MAX`: the largest entry count per node a fill may ask for.
const FILL_MAX: i64 = (1 << 15) - 1;

/// One end of a list: Redis's LEFT/HEAD and RIGHT/TAIL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

#[derive(Clone)]
struct Inner {
    nodes: VecDeque<Node>,
    len: usize,
    /// `list-max-listpack-size` when the list was created, clamped as Redis does.
    fill: i16,
}

/// A list value. See the module documentation for the representation.
#[derive(Clone)]
pub struct List(Box<Inner>);

impl Default for List {
    fn default() -> Self {
        List::new(-2)
    }
}

impl fmt::Debug for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|e| e.with_bytes(|b| String::from_utf8_lossy(b).into_owned())),
            )
            .finish()
    }
}

impl List {
    /// An empty list whose nodes follow `fill` (`list-max-listpack-size`).
    pub fn new(fill: i64) -> List {
        let fill = fill.clamp(-5, FILL_MAX) as i16;
        List(Box::new(Inner {
            nodes: VecDeque::new(),
            len: 0,
            fill,
        }))
    }

    /// A list holding `items` in order.
    pub fn from_items<I, B>(fill: i64, items: I) -> List
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut l = List::new(fill);
        for it in items {
            l.push(End::Tail, it.as_ref());
        }
        l
    }

    pub fn len(&self) -> usize {
        self.0.len
    }

    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    pub fn encoding(&self) -> &'static str {
        ENCODING
    }

    /// The node fill this list was created with (DEBUG OBJECT's `ql_listpack_max`).
    pub fn fill(&self) -> i64 {
        i64::from(self.0.fill)
    }

    /// Number of nodes (DEBUG OBJECT's `ql_nodes`; the lazy-free effort).
    pub fn node_count(&self) -> usize {
        self.0.nodes.len()
    }

    /// Bytes of the packed entries (DEBUG OBJECT's `ql_uncompressed_size`).
    pub fn packed_bytes(&self) -> usize {
        self.0.nodes.iter().map(Node::bytes).sum()
    }

    /// Heap bytes owned by the list.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Inner>()
            + self.0.nodes.capacity() * std::mem::size_of::<Node>()
            + self.0.nodes.iter().map(Node::heap_bytes).sum::<usize>()
    }

    fn limits(&self) -> Limits {
        Limits::of(self.0.fill)
    }

    /// Adds `elem` at `end`.
    pub fn push(&mut self, end: End, elem: &[u8]) {
        let enc = classify(elem);
        let n = enc.entry_len();
        let lim = self.limits();
        let inner = &mut *self.0;
        match end {
            End::Head => {
                if !inner.nodes.front().is_some_and(|nd| nd.accepts(n, lim)) {
                    inner.nodes.push_front(Node::default());
                }
                if let Some(nd) = inner.nodes.front_mut() {
                    nd.push_front(&enc, lim);
                }
            }
            End::Tail => {
                if !inner.nodes.back().is_some_and(|nd| nd.accepts(n, lim)) {
                    inner.nodes.push_back(Node::default());
                }
                if let Some(nd) = inner.nodes.back_mut() {
                    nd.push_back(&enc, lim);
                }
            }
        }
        inner.len += 1;
    }

    /// Removes the element at `end`, handing it to `f` before it goes.
    pub fn pop_with<R>(&mut self, end: End, f: impl FnOnce(Elem<'_>) -> R) -> Option<R> {
        let inner = &mut *self.0;
        let r = match end {
            End::Head => {
                let nd = inner.nodes.front_mut()?;
                let (e, n) = read_at(&nd.buf, nd.head);
                let r = f(e);
                nd.head += n;
                nd.count -= 1;
                if nd.count == 0 {
                    inner.nodes.pop_front();
                }
                r
            }
            End::Tail => {
                let nd = inner.nodes.back_mut()?;
                let at = nd.buf.len() - len_before(&nd.buf, nd.buf.len());
                let r = f(read_at(&nd.buf, at).0);
                nd.buf.truncate(at);
                nd.count -= 1;
                if nd.count == 0 {
                    inner.nodes.pop_back();
                }
                r
            }
        };
        inner.len -= 1;
        Some(r)
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        self.pop_with(end, |e| e.to_vec())
    }

    /// Node index and local index of element `i` (`i < len`), walking from the
    /// nearer end.
    fn locate(&self, i: usize) -> (usize, usize) {
        let nodes = &self.0.nodes;
        if i < self.0.len / 2 {
            let mut rest = i;
            for (ni, nd) in nodes.iter().enumerate() {
                if rest < nd.count() {
                    return (ni, rest);
                }
                rest -= nd.count();
            }
        } else {
            let mut from_end = self.0.len - i;
            for ni in (0..nodes.len()).rev() {
                let c = nodes[ni].count();
                if from_end <= c {
                    return (ni, c - from_end);
                }
                from_end -= c;
            }
        }
        // Invariant: `len` is the sum of the counts and `i < len`.
        unreachable!("index {i} within len {} found no node", self.0.len)
    }

    /// The element at index `i` (0-based from the head).
    pub fn get(&self, i: usize) -> Option<Elem<'_>> {
        if i >= self.0.len {
            return None;
        }
        let (ni, k) = self.locate(i);
        let nd = &self.0.nodes[ni];
        Some(read_at(&nd.buf, nd.offset_of(k)).0)
    }

    /// Replaces the element at index `i`. Returns false when out of range.
    pub fn set(&mut self, i: usize, elem: &[u8]) -> bool {
        if i >= self.0.len {
            return false;
        }
        let (ni, k) = self.locate(i);
        let enc = classify(elem);
        let nd = &mut self.0.nodes[ni];
        let at = nd.offset_of(k);
        let old = read_at(&nd.buf, at).1;
        nd.replace_at(at, old, &enc);
        self.split_if_oversized(ni);
        true
    }

    /// Inserts `elem` so that it becomes index `i` (`i == len` appends).
    pub fn insert(&mut self, i: usize, elem: &[u8]) {
        if i == 0 {
            return self.push(End::Head, elem);
        }
        if i >= self.0.len {
            return self.push(End::Tail, elem);
        }
        // Insert after element i - 1: at the end of its node when that is where it
        // sits, so that a full node spills into its neighbour instead of splitting.
        let (ni, k) = self.locate(i - 1);
        let enc = classify(elem);
        let n = enc.entry_len();
        let lim = self.limits();
        let inner = &mut *self.0;
        let at_end = k + 1 == inner.nodes[ni].count();
        if at_end && !inner.nodes[ni].accepts(n, lim) {
            match inner.nodes.get_mut(ni + 1) {
                Some(next) if next.accepts(n, lim) => next.push_front(&enc, lim),
                _ => {
                    let mut nd = Node::default();
                    nd.push_back(&enc, lim);
                    inner.nodes.insert(ni + 1, nd);
                }
            }
            inner.len += 1;
            return;
        }
        let nd = &mut inner.nodes[ni];
        let at = nd.offset_of(k + 1);
        nd.insert_at(at, &enc);
        inner.len += 1;
        self.split_if_oversized(ni);
    }

    /// Splits node `ni` in two halves when an edit took it past the byte cap.
    fn split_if_oversized(&mut self, ni: usize) {
        let lim = self.limits();
        let nodes = &mut self.0.nodes;
        let nd = &mut nodes[ni];
        if nd.count() > 1 && (nd.bytes() > lim.bytes || nd.count() > lim.count.max(1)) {
            let tail = nd.split_off(nd.count() / 2);
            nodes.insert(ni + 1, tail);
        }
    }

    /// Removes the first `front` and the last `back` elements (LTRIM); counts beyond
    /// the length just empty the list.
    pub fn trim(&mut self, front: usize, back: usize) {
        let inner = &mut *self.0;
        let mut rest = front.min(inner.len);
        inner.len -= rest;
        while rest > 0 {
            let Some(nd) = inner.nodes.front_mut() else {
                break;
            };
            if nd.count() <= rest {
                rest -= nd.count();
                inner.nodes.pop_front();
            } else {
                nd.drop_front(rest);
                rest = 0;
            }
        }
        let mut rest = back.min(inner.len);
        inner.len -= rest;
        while rest > 0 {
            let Some(nd) = inner.nodes.back_mut() else {
                break;
            };
            if nd.count() <= rest {
                rest -= nd.count();
                inner.nodes.pop_back();
            } else {
                nd.drop_back(rest);
                rest = 0;
            }
        }
    }

    /// Removes elements equal to `elem` (LREM): the first `count` from the head when
    /// `count > 0`, the last `-count` from the tail when negative, all when 0.
    /// Returns how many were removed.
    pub fn remove(&mut self, elem: &[u8], count: i64) -> usize {
        let needle = Needle::new(elem);
        let mut quota = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
        };
        let from_tail = count < 0;
        let inner = &mut *self.0;
        let mut removed = 0;
        let mut ranges = Vec::new();
        let n = inner.nodes.len();
        for step in 0..n {
            if quota == 0 {
                break;
            }
            let ni = if from_tail { n - 1 - step } else { step };
            let nd = &mut inner.nodes[ni];
            ranges.clear();
            if from_tail {
                let mut end = nd.buf.len();
                while end > nd.head && quota > 0 {
                    let l = len_before(&nd.buf, end);
                    if needle.matches(read_at(&nd.buf, end - l).0) {
                        ranges.push((end - l, end));
                        quota -= 1;
                    }
                    end -= l;
                }
                ranges.reverse();
            } else {
                let mut p = nd.head;
                while p < nd.buf.len() && quota > 0 {
                    let (e, l) = read_at(&nd.buf, p);
                    if needle.matches(e) {
                        ranges.push((p, p + l));
                        quota -= 1;
                    }
                    p += l;
                }
            }
            if !ranges.is_empty() {
                nd.remove_ranges(&ranges);
                removed += ranges.len();
            }
        }
        if removed > 0 {
            inner.len -= removed;
            inner.nodes.retain(|nd| nd.count > 0);
            self.coalesce();
        }
        removed
    }

    /// Merges neighbouring nodes that fit in one (after removals in the middle).
    fn coalesce(&mut self) {
        let lim = self.limits();
        let nodes = &mut self.0.nodes;
        let mut i = 0;
        while i + 1 < nodes.len() {
            let (a, b) = (&nodes[i], &nodes[i + 1]);
            let fits = a.bytes() + b.bytes() <= lim.bytes && a.count() + b.count() <= lim.count;
            if fits {
                let b = nodes.remove(i + 1).unwrap_or_default();
                let a = &mut nodes[i];
                a.buf.extend_from_slice(&b.buf[b.head..]);
                a.count += b.count;
            } else {
                i += 1;
            }
        }
    }

    /// Iterates from the head.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// Iterates towards the tail starting at index `i`.
    pub fn iter_from(&self, i: usize) -> Iter<'_> {
        if i >= self.0.len {
            return Iter {
                nodes: &self.0.nodes,
                node: self.0.nodes.len(),
                pos: 0,
                left: 0,
            };
        }
        let (ni, k) = self.locate(i);
        Iter {
            nodes: &self.0.nodes,
            node: ni,
            pos: self.0.nodes[ni].offset_of(k),
            left: self.0.len - i,
        }
    }

    /// Iterates towards the head starting at index `i` (inclusive).
    pub fn rev_iter_from(&self, i: usize) -> RevIter<'_> {
        if i >= self.0.len {
            return RevIter {
                nodes: &self.0.nodes,
                node: 0,
                end: 0,
                left: 0,
            };
        }
        let (ni, k) = self.locate(i);
        let nd = &self.0.nodes[ni];
        RevIter {
            nodes: &self.0.nodes,
            node: ni,
            end: nd.offset_of(k) + read_at(&nd.buf, nd.offset_of(k)).1,
            left: i + 1,
        }
    }

    /// Iterates from the tail towards the head.
    pub fn rev_iter(&self) -> RevIter<'_> {
        self.rev_iter_from(self.0.len.wrapping_sub(1))
    }

    /// Checks the representation's invariants (tests and debug builds).
    pub fn check(&self) -> Result<(), String> {
        let mut total = 0;
        for (i, nd) in self.0.nodes.iter().enumerate() {
            if nd.count == 0 {
                return Err(format!("node {i} is empty"));
            }
            let mut p = nd.head;
            let mut c = 0;
            while p < nd.buf.len() {
                let (_, l) = read_at(&nd.buf, p);
                if len_before(&nd.buf, p + l) != l {
                    return Err(format!("node {i}: trailer mismatch at {p}"));
                }
                p += l;
                c += 1;
            }
            if p != nd.buf.len() || c != nd.count() {
                return Err(format!("node {i}: {c} entries parsed, count {}", nd.count));
            }
            total += c;
        }
        if total != self.0.len {
            return Err(format!("len {} but nodes hold {total}", self.0.len));
        }
        Ok(())
    }
}

/// Iterator towards the tail.
pub struct Iter<'a> {
    nodes: &'a VecDeque<Node>,
    node: usize,
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        let mut nd = &self.nodes[self.node];
        if self.pos >= nd.buf.len() {
            self.node += 1;
            nd = &self.nodes[self.node];
            self.pos = nd.head;
        }
        let (e, l) = read_at(&nd.buf, self.pos);
        self.pos += l;
        self.left -= 1;
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Iterator towards the head.
pub struct RevIter<'a> {
    nodes: &'a VecDeque<Node>,
    node: usize,
    /// End (exclusive) of the next entry to yield in `nodes[node]`.
    end: usize,
    left: usize,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        let mut nd = &self.nodes[self.node];
        if self.end <= nd.head {
            self.node -= 1;
            nd = &self.nodes[self.node];
            self.end = nd.buf.len();
        }
        let l = len_before(&nd.buf, self.end);
        self.end -= l;
        self.left -= 1;
        Some(read_at(&nd.buf, self.end).0)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for RevIter<'_> {}

#[cfg(test)]
mod tests;
