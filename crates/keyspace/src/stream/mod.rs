//! The stream value type: entries with 128-bit IDs in order, grouped into nodes as
//! Redis groups them into listpacks, plus the stream's counters and its consumer
//! groups.
//!
//! What this module owns and keeps true:
//! - entries are in strictly increasing ID order across `nodes` (keyed by each
//!   node's master ID), and every live entry's ID is <= `last_id`;
//! - `len` is the number of live entries; nodes without live entries are removed;
//! - nodes fill up exactly when Redis's listpacks would (`stream-node-max-bytes`,
//!   `stream-node-max-entries`), so that XINFO STREAM's `radix-tree-keys` and
//!   `radix-tree-nodes` match;
//! - `first_id` is the first live entry's ID (0-0 when empty), `max_deleted_id`
//!   the largest ID ever removed by XDEL, `entries_added` the count of entries
//!   ever added (all maintained here by the operations below, and settable by
//!   XSETID).
//!
//! The value is boxed so that [`crate::Value`] stays small: streams are rare and
//! large.

mod group;
mod id;
mod node;
mod rax;

pub use group::{Consumer, Group, Pending, ENTRIES_READ_UNKNOWN};
pub use id::{parse_id, parse_u64_loose, Seq, StreamId};
pub use node::EntryRef;

use node::Node;
use std::collections::btree_map;
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

/// Largest listpack Redis builds for a stream node, whatever the configuration.
const LISTPACK_MAX: usize = 1 << 30;

/// A streams value (boxed contents).
#[derive(Clone, Debug, Default)]
pub struct Stream(Box<StreamData>);

impl Deref for Stream {
    type Target = StreamData;
    fn deref(&self) -> &StreamData {
        &self.0
    }
}

impl DerefMut for Stream {
    fn deref_mut(&mut self) -> &mut StreamData {
        &mut self.0
    }
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }
}

#[derive(Clone, Debug, Default)]
pub struct StreamData {
    nodes: BTreeMap<StreamId, Node>,
    len: u64,
    /// The ID of the last entry ever added (or set by XSETID).
    pub last_id: StreamId,
    /// The first live entry's ID, 0-0 when the stream is empty.
    pub first_id: StreamId,
    /// The largest ID ever deleted with XDEL (or set by XSETID).
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Box<[u8]>, Group>,
}

/// A trimming strategy (XADD and XTRIM's MAXLEN and MINID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Drop entries with IDs below this one.
    MinId(StreamId),
}

/// Why an ID cannot be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdError {
    /// Equal to or smaller than the stream's last ID.
    TooSmall,
}

/// How an XADD names the new entry's ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewId {
    /// `*`: from the clock.
    Auto,
    /// `ms-*`: this ms, the next sequence.
    AutoSeq(u64),
    /// `ms-seq`.
    Explicit(StreamId),
}

impl StreamData {
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Redis's `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    pub fn heap_bytes(&self) -> usize {
        let nodes: usize = self.nodes.values().map(|n| n.heap_bytes() + 64).sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| name.len() + 64 + g.pel.len() * 64 + g.consumers.len() * 64)
            .sum();
        std::mem::size_of::<StreamData>() + nodes + groups
    }

    /// How much work freeing the value is (Redis counts radix-tree nodes and
    /// pending entries).
    pub fn free_effort(&self) -> usize {
        let mut effort = self.nodes.len();
        for g in self.groups.values() {
            effort += 1 + g.pel.len();
        }
        effort
    }

    /// XINFO STREAM's `radix-tree-keys`.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// XINFO STREAM's `radix-tree-nodes`.
    pub fn rax_node_count(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.to_be_bytes()).collect();
        rax::node_count(&keys)
    }

    /// The ID an XADD would give its entry at `now_ms`, or why it cannot. The
    /// caller has checked that `last_id` is not the maximum.
    pub fn next_id(&self, how: NewId, now_ms: u64) -> Result<StreamId, IdError> {
        let last = self.last_id;
        let id = match how {
            NewId::Auto => {
                if now_ms > last.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    last.incr().ok_or(IdError::TooSmall)?
                }
            }
            NewId::AutoSeq(ms) if ms == last.ms => {
                if last.seq == u64::MAX {
                    return Err(IdError::TooSmall);
                }
                StreamId::new(ms, last.seq + 1)
            }
            NewId::AutoSeq(ms) => StreamId::new(ms, 0),
            NewId::Explicit(id) => id,
        };
        if id <= last {
            return Err(IdError::TooSmall);
        }
        Ok(id)
    }

    /// Appends an entry with `pairs` (field, value, ...) under `id`, which must be
    /// above `last_id` (see [`StreamData::next_id`]). `max_bytes` and
    /// `max_entries` are `stream-node-max-bytes` / `-entries` (0: no limit).
    pub fn append(&mut self, id: StreamId, pairs: &[&[u8]], max_bytes: i64, max_entries: i64) {
        let max_bytes = match usize::try_from(max_bytes) {
            Ok(0) | Err(_) => LISTPACK_MAX,
            Ok(b) => b.min(LISTPACK_MAX),
        };
        let new_node = match self.nodes.values_mut().next_back() {
            None => true,
            Some(node) => {
                let payload: usize = pairs.iter().map(|p| p.len()).sum();
                if node.lp_bytes() + payload >= max_bytes {
                    true
                } else {
                    max_entries > 0 && node.live() + node.deleted >= max_entries as u64
                }
            }
        };
        if new_node {
            self.nodes.insert(id, Node::new(id, pairs));
        } else if let Some(node) = self.nodes.values_mut().next_back() {
            node.push(id, pairs);
        }
        if self.len == 0 {
            self.first_id = id;
        }
        self.len += 1;
        self.entries_added += 1;
        self.last_id = id;
    }

    /// The node that holds `id` if any entry does.
    fn node_of(&self, id: StreamId) -> Option<(&StreamId, &Node)> {
        self.nodes.range(..=id).next_back()
    }

    /// The entry with ID `id`.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        let (_, node) = self.node_of(id)?;
        let i = node.find(id).ok()?;
        Some(node.entry(i).1)
    }

    /// Deletes one entry (no counters besides the length); returns whether it existed.
    fn remove(&mut self, id: StreamId) -> bool {
        let Some((&key, _)) = self.node_of(id) else {
            return false;
        };
        let Some(node) = self.nodes.get_mut(&key) else {
            return false;
        };
        let Ok(i) = node.find(id) else {
            return false;
        };
        node.remove_at(i);
        if node.live() == 0 {
            self.nodes.remove(&key);
        }
        self.len -= 1;
        true
    }

    /// XDEL: deletes these entries, updating `max_deleted_id` and `first_id`;
    /// returns how many existed.
    pub fn delete(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_gone = false;
        for &id in ids {
            if self.remove(id) {
                if id == self.first_id {
                    first_gone = true;
                }
                if id > self.max_deleted_id {
                    self.max_deleted_id = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.len == 0 {
                self.first_id = StreamId::ZERO;
            } else if first_gone {
                self.first_id = self.first_entry_id().unwrap_or(StreamId::ZERO);
            }
        }
        deleted
    }

    /// Trims as XADD/XTRIM do: whole nodes from the head while they can go; then,
    /// unless `approx`, entries of the next node. `limit` (0: none) caps the
    /// entries removed, counted in whole nodes. Returns how many were removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted: u64 = 0;
        loop {
            if let Trim::MaxLen(max) = how {
                if self.len <= max {
                    break;
                }
            }
            let Some(mut entry) = self.nodes.first_entry() else {
                break;
            };
            let node = entry.get_mut();
            let live = node.live();
            if limit > 0 && deleted + live > limit {
                break;
            }
            let whole = match how {
                Trim::MaxLen(max) => self.len - live >= max,
                Trim::MinId(min) => node.last_appended < min,
            };
            if whole {
                entry.remove();
                self.len -= live;
                deleted += live;
                continue;
            }
            if approx {
                break;
            }
            let n = match how {
                Trim::MaxLen(max) => (self.len - max) as usize,
                Trim::MinId(min) => node.entries.partition_point(|e| e.id < min),
            };
            node.remove_first(n);
            self.len -= n as u64;
            deleted += n as u64;
            break;
        }
        if self.len == 0 {
            self.first_id = StreamId::ZERO;
        } else if deleted > 0 {
            self.first_id = self.first_entry_id().unwrap_or(StreamId::ZERO);
        }
        deleted
    }

    /// The first live entry's ID.
    pub fn first_entry_id(&self) -> Option<StreamId> {
        self.nodes.values().next().map(|n| n.entries[0].id)
    }

    /// The first ID still stored, deleted entries included: the first node's
    /// first entry (Redis's `streamGetEdgeID` without skipping tombstones, which
    /// XADD/XTRIM send as the MINID of an approximate trim).
    pub fn first_stored_id(&self) -> Option<StreamId> {
        self.nodes.keys().next().copied()
    }

    /// The last live entry's ID.
    pub fn last_entry_id(&self) -> Option<StreamId> {
        self.nodes
            .values()
            .next_back()
            .and_then(|n| n.entries.last())
            .map(|e| e.id)
    }

    /// Entries with IDs in `start..=end`, in order (or reversed).
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        let nodes = if start > end {
            self.nodes.range(StreamId::MAX..StreamId::MAX)
        } else {
            let from = self.node_of(start).map(|(k, _)| *k).unwrap_or(start);
            self.nodes.range(from..=end)
        };
        Range {
            nodes,
            cur: None,
            lo: 0,
            hi: 0,
            start,
            end,
            rev,
        }
    }

    /// Whether an entry between `start` and `end` (inclusive, None: unbounded) may
    /// have been deleted (Redis's `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.len == 0 || self.max_deleted_id.is_zero() {
            return false;
        }
        // Every deletion happened before the first entry.
        if self.first_id > self.max_deleted_id {
            return false;
        }
        let start = start.unwrap_or(StreamId::ZERO);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// The logical position (entries added up to it) of `id`, when it can be known
    /// (Redis's `streamEstimateDistanceFromFirstEverEntry`).
    pub fn estimate_distance(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.len == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return Some(self.entries_added),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => return Some(self.entries_added - self.len),
                std::cmp::Ordering::Equal => return Some(self.entries_added - self.len + 1),
                std::cmp::Ordering::Greater => {}
            }
        }
        None
    }

    /// A group's lag (entries not yet read by it), when it can be known.
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != ENTRIES_READ_UNKNOWN
            && !self.range_has_tombstones(Some(g.last_id), None)
        {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        self.estimate_distance(g.last_id)
            .map(|read| self.entries_added as i64 - read as i64)
    }
}

/// Iterator over a range of entries (see [`StreamData::range`]).
pub struct Range<'a> {
    nodes: btree_map::Range<'a, StreamId, Node>,
    cur: Option<&'a Node>,
    lo: usize,
    hi: usize,
    start: StreamId,
    end: StreamId,
    rev: bool,
}

impl<'a> Iterator for Range<'a> {
    type Item = (StreamId, EntryRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(node) = self.cur {
                if self.lo < self.hi {
                    let i = if self.rev {
                        self.hi -= 1;
                        self.hi
                    } else {
                        self.lo += 1;
                        self.lo - 1
                    };
                    return Some(node.entry(i));
                }
            }
            let node = if self.rev {
                self.nodes.next_back()?.1
            } else {
                self.nodes.next()?.1
            };
            let (start, end) = (self.start, self.end);
            self.lo = node.entries.partition_point(|e| e.id < start);
            self.hi = node.entries.partition_point(|e| e.id <= end);
            self.cur = Some(node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &StreamData, a: StreamId, b: StreamId, rev: bool) -> Vec<StreamId> {
        s.range(a, b, rev).map(|(id, _)| id).collect()
    }

    #[test]
    fn append_range_delete_trim() {
        let mut s = Stream::new();
        for i in 1..=250u64 {
            s.append(StreamId::new(i, 0), &[b"f", b"v"], 4096, 100);
        }
        assert_eq!(s.len(), 250);
        assert_eq!(s.node_count(), 3);
        let all = ids(&s, StreamId::ZERO, StreamId::MAX, false);
        assert_eq!(all.len(), 250);
        assert_eq!(all[0], StreamId::new(1, 0));
        let r = ids(&s, StreamId::new(99, 0), StreamId::new(102, 0), true);
        assert_eq!(
            r,
            (99..=102)
                .rev()
                .map(|i| StreamId::new(i, 0))
                .collect::<Vec<_>>()
        );
        assert_eq!(s.delete(&[StreamId::new(1, 0), StreamId::new(1000, 0)]), 1);
        assert_eq!(s.first_id, StreamId::new(2, 0));
        assert_eq!(s.max_deleted_id, StreamId::new(1, 0));
        assert_eq!(s.trim(Trim::MaxLen(120), true, 0), 99);
        assert_eq!(s.len(), 150);
        assert_eq!(s.trim(Trim::MaxLen(120), false, 0), 30);
        assert_eq!(s.first_id, StreamId::new(131, 0));
        assert_eq!(s.trim(Trim::MinId(StreamId::new(200, 0)), false, 0), 69);
        assert_eq!(s.first_entry_id(), Some(StreamId::new(200, 0)));
        assert!(s.get(StreamId::new(250, 0)).is_some());
        assert!(s.get(StreamId::new(199, 0)).is_none());
    }
}
