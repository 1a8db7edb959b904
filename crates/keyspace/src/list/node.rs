//! A node of a list: a byte buffer of packed entries (see [`super::entry`]), with
//! a gap at the front so that both ends take pushes and pops in O(1) amortised.
//!
//! Invariants: the live bytes are `buf[head..]` and are exactly `count` well-formed
//! entries; capacity grows by powers of two but not past the node's byte cap while
//! the entries fit under it.

use super::entry::{len_before, read_at, Enc};

/// Redis's `SIZE_SAFETY_LIMIT`: the byte cap of a node under a positive fill.
const SAFETY_LIMIT: usize = 8192;

/// How full a node may get.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    pub(super) bytes: usize,
    pub(super) count: usize,
}

impl Limits {
    pub(super) fn of(fill: i16) -> Limits {
        if fill < 0 {
            let k = usize::from((-fill) as u16).min(5);
            Limits {
                bytes: 4096 << (k - 1),
                count: usize::MAX,
            }
        } else {
            Limits {
                bytes: SAFETY_LIMIT,
                count: usize::from(fill as u16),
            }
        }
    }
}

/// A run of packed entries; the live bytes are `buf[head..]`.
#[derive(Clone, Default)]
pub(super) struct Node {
    pub(super) buf: Vec<u8>,
    pub(super) head: usize,
    pub(super) count: u32,
}

impl Node {
    pub(super) fn bytes(&self) -> usize {
        self.buf.len() - self.head
    }

    pub(super) fn count(&self) -> usize {
        self.count as usize
    }

    /// Whether one more entry of `n` bytes may join this node.
    pub(super) fn accepts(&self, n: usize, lim: Limits) -> bool {
        self.count == 0 || (self.bytes() + n <= lim.bytes && self.count() < lim.count)
    }

    /// The offset in `buf` of local entry `k` (`k == count` gives the end).
    pub(super) fn offset_of(&self, k: usize) -> usize {
        if k <= self.count() / 2 {
            let mut p = self.head;
            for _ in 0..k {
                p += read_at(&self.buf, p).1;
            }
            p
        } else {
            let mut p = self.buf.len();
            for _ in k..self.count() {
                p -= len_before(&self.buf, p);
            }
            p
        }
    }

    pub(super) fn push_back(&mut self, enc: &Enc<'_>, lim: Limits) {
        let n = enc.entry_len();
        let live = self.bytes();
        if self.buf.len() + n > self.buf.capacity() {
            // Reclaim the front gap before growing, when the gap is at least as large
            // as what has to move (amortised O(1) per byte).
            if self.head > 0 && self.head >= live {
                self.buf.drain(..self.head);
                self.head = 0;
            }
            // Grow by powers of two, but never past the node's byte cap when the
            // entry fits under it: a full node then wastes nothing.
            let need = self.buf.len() + n;
            let cap = need.next_power_of_two().min(lim.bytes.max(need));
            self.buf.reserve_exact(cap - self.buf.len());
        }
        let at = self.buf.len();
        self.buf.resize(at + n, 0);
        enc.write(&mut self.buf[at..]);
        self.count += 1;
    }

    pub(super) fn push_front(&mut self, enc: &Enc<'_>, lim: Limits) {
        let n = enc.entry_len();
        if self.head < n {
            let live = self.bytes();
            // Double the room (like a Vec), without going past the node's byte cap
            // when the entry fits under it.
            let want = live.max(16).min(lim.bytes.saturating_sub(live));
            let gap = n.max(want);
            let mut nb = Vec::with_capacity(gap + live);
            nb.resize(gap, 0);
            nb.extend_from_slice(&self.buf[self.head..]);
            self.buf = nb;
            self.head = gap;
        }
        self.head -= n;
        enc.write(&mut self.buf[self.head..self.head + n]);
        self.count += 1;
    }

    /// Inserts an entry at byte offset `at` (an entry boundary).
    pub(super) fn insert_at(&mut self, at: usize, enc: &Enc<'_>) {
        let n = enc.entry_len();
        self.buf.splice(at..at, std::iter::repeat_n(0u8, n));
        enc.write(&mut self.buf[at..at + n]);
        self.count += 1;
    }

    /// Replaces the entry of `old` bytes at `at` with `enc`.
    pub(super) fn replace_at(&mut self, at: usize, old: usize, enc: &Enc<'_>) {
        let n = enc.entry_len();
        self.buf.splice(at..at + old, std::iter::repeat_n(0u8, n));
        enc.write(&mut self.buf[at..at + n]);
    }

    /// Drops the first `k` entries (fewer than `count`).
    pub(super) fn drop_front(&mut self, k: usize) {
        self.head = self.offset_of(k);
        self.count -= k as u32;
        self.shrink_gap();
    }

    /// Drops the last `k` entries (fewer than `count`).
    pub(super) fn drop_back(&mut self, k: usize) {
        let end = self.offset_of(self.count() - k);
        self.buf.truncate(end);
        self.count -= k as u32;
    }

    /// Moves the live bytes down when the front gap outgrows them.
    pub(super) fn shrink_gap(&mut self) {
        if self.head > 64 && self.head > self.bytes() {
            self.buf.drain(..self.head);
            self.head = 0;
        }
    }

    /// Splits off local entries `k..` into a new node.
    pub(super) fn split_off(&mut self, k: usize) -> Node {
        let at = self.offset_of(k);
        let tail = Node {
            buf: self.buf[at..].to_vec(),
            head: 0,
            count: self.count - k as u32,
        };
        self.buf.truncate(at);
        self.buf.drain(..self.head);
        self.buf.shrink_to_fit();
        self.head = 0;
        self.count = k as u32;
        tail
    }

    /// Keeps the live bytes minus the given sorted, disjoint byte ranges.
    pub(super) fn remove_ranges(&mut self, ranges: &[(usize, usize)]) {
        let removed: usize = ranges.iter().map(|(a, b)| b - a).sum();
        let mut nb = Vec::with_capacity(self.bytes() - removed);
        let mut p = self.head;
        for &(a, b) in ranges {
            nb.extend_from_slice(&self.buf[p..a]);
            p = b;
        }
        nb.extend_from_slice(&self.buf[p..]);
        self.buf = nb;
        self.head = 0;
        self.count -= ranges.len() as u32;
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }
}
