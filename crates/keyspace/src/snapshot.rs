//! The keyspace side of a point-in-time snapshot without fork() and without a
//! copy of the dataset: a parity bit per entry and a copy-on-write hook per
//! [`DbShard`].
//!
//! # How a snapshot sees the state at its cut
//!
//! Every [`Entry`] carries one parity bit, every `DbShard` a parity. An entry is
//! *saved* for the running snapshot iff its bit equals its table's parity. With no
//! snapshot running every bit equals the parity. The cut (every shard locked)
//! calls [`DbShard::begin_snapshot`] on every table: it flips the parity, so every
//! existing entry becomes unsaved, and installs a [`Hook`]. From then on:
//!
//! - entries created after the cut get the new parity: they are not in the image;
//! - before the choke point mutates or removes an unsaved entry it hands the old
//!   entry to the hook's [`SnapshotSink`] and marks it saved (copy on write);
//! - FLUSHDB/FLUSHALL empty a table by handing its whole old dictionaries to the
//!   sink ([`Tables`]): nothing is copied, the snapshot saves their unsaved entries
//!   later and frees them;
//! - SWAPDB swaps `DbShard` structs, hooks included: the hook keeps the database
//!   index of the cut, so the image is the view before the swap;
//! - the walker ([`DbShard::snapshot_step`]), under the shard lock for a bounded
//!   batch at a time, saves the unsaved entries and marks them.
//!
//! The walker goes down the key table's pair indexes from the top (the length at
//! the cut) to 0. The dict moves its *last* pair into a removed pair's index and
//! appends new pairs at the end, so a pair at an index below the cursor can only
//! move to another index below the cursor or stay: an unsaved pair (all of which
//! lie below the cursor) is never moved past it and never skipped. Pairs above the
//! cursor are saved or new.
//!
//! When the walk of a table ends its hook is removed; with no hook the only cost
//! on the write path is one predictable branch (`snap.is_some()`).
//!
//! An aborted snapshot must still finish its walk (the sink then discards what it
//! is given), so that every bit equals the parity again before the next cut.

use crate::db::{DbShard, Entry};
use shoal_ds::dict::Dict;
use shoal_ds::smallbytes::SmallBytes;
use std::sync::Arc;

/// Receives the entries a running snapshot must save before the keyspace changes
/// them. Called under the shard lock: implementations serialise quickly into a
/// buffer and return.
pub trait SnapshotSink: Send + Sync {
    /// `entry` (of `key`, expiring at `expire_ms`) as it was at the cut, about to
    /// change or go. `db` is the entry's database index at the cut.
    fn save_entry(&self, db: usize, key: &[u8], entry: &Entry, expire_ms: Option<i64>);
    /// Tables emptied as a whole during the snapshot (FLUSHDB, FLUSHALL): the sink
    /// saves their unsaved entries ([`Tables::for_each_unsaved`]) and frees them.
    fn hand_over(&self, tables: Tables);
}

/// A running snapshot's state in one `DbShard`.
pub struct Hook {
    pub id: u64,
    /// The database index at the cut (stays with the table across SWAPDB).
    pub db: usize,
    pub sink: Arc<dyn SnapshotSink>,
    /// Pair indexes `>= cursor` of the key table are saved or new.
    pub(crate) cursor: usize,
}

/// The key and expiry tables of a database shard emptied during a snapshot.
pub struct Tables {
    /// The database index at the cut.
    pub db: usize,
    keys: Dict<SmallBytes, Entry>,
    expires: Dict<SmallBytes, i64>,
    parity: bool,
}

impl Tables {
    /// Calls `f` for every entry of the image not saved yet.
    pub fn for_each_unsaved(&self, mut f: impl FnMut(&[u8], &Entry, Option<i64>)) {
        for (k, e) in self.keys.iter() {
            if e.snap_bit() != self.parity {
                let exp = if e.has_ttl() {
                    self.expires.get(k).copied()
                } else {
                    None
                };
                f(k, e, exp);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What the walker calls for each entry to save: key, entry, expiry time.
pub type SaveFn<'a> = dyn FnMut(&[u8], &Entry, Option<i64>) + 'a;

/// What one walker step found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// This table holds no hook of that snapshot (done, or never part of it).
    NotMine,
    /// More entries to walk.
    More,
    /// The walk of this table ended; its hook is gone.
    Done,
}

impl DbShard {
    /// Copy on write: before `key`'s entry changes or goes, hands it to the
    /// running snapshot unless it is saved already. One branch when no snapshot
    /// runs.
    #[inline]
    pub(crate) fn cow(&mut self, key: &[u8]) {
        if self.snap.is_some() {
            self.cow_slow(key);
        }
    }

    #[cold]
    #[inline(never)]
    fn cow_slow(&mut self, key: &[u8]) {
        let Some(h) = self.snap.as_deref() else {
            return;
        };
        if let Some(e) = self.keys.get_mut(key) {
            if e.snap_bit() != self.parity {
                let exp = if e.has_ttl() {
                    self.expires.get(key).copied()
                } else {
                    None
                };
                h.sink.save_entry(h.db, key, e, exp);
                e.set_snap_bit(self.parity);
            }
        }
    }

    /// Gives the key and expiry tables to the running snapshot and leaves this
    /// table empty, the hook kept (new keys get the new parity).
    pub(crate) fn hand_over_tables(&mut self) {
        let keys = std::mem::take(&mut self.keys);
        let expires = std::mem::take(&mut self.expires);
        if let Some(h) = self.snap.as_deref_mut() {
            h.cursor = 0;
            if !keys.is_empty() {
                h.sink.hand_over(Tables {
                    db: h.db,
                    keys,
                    expires,
                    parity: self.parity,
                });
            }
        }
    }

    /// The cut, for this table (the caller holds every shard): flips the parity so
    /// that every existing entry becomes unsaved and installs the hook of snapshot
    /// `id`, which knows this table as database `db`. Returns the key and expiry
    /// counts at the cut. A table with no keys gets no hook.
    pub fn begin_snapshot(
        &mut self,
        id: u64,
        db: usize,
        sink: &Arc<dyn SnapshotSink>,
    ) -> (usize, usize) {
        debug_assert!(self.snap.is_none(), "one snapshot at a time");
        self.parity = !self.parity;
        let n = self.keys.len();
        if n > 0 {
            self.snap = Some(Box::new(Hook {
                id,
                db,
                sink: sink.clone(),
                cursor: n,
            }));
        }
        (n, self.expires.len())
    }

    /// The database index at the cut of the snapshot `id`, if this table still
    /// has entries of it to walk.
    pub fn snapshot_db(&self, id: u64) -> Option<usize> {
        self.snap.as_deref().filter(|h| h.id == id).map(|h| h.db)
    }

    /// One walker step: saves up to `budget` pairs of the walk of snapshot `id`
    /// (calling `f` for each unsaved one, then marking it saved), going down from
    /// the hook's cursor. Removes the hook when the walk reaches index 0.
    pub fn snapshot_step(&mut self, id: u64, budget: usize, f: &mut SaveFn<'_>) -> Step {
        let parity = self.parity;
        let Some(h) = self.snap.as_deref_mut().filter(|h| h.id == id) else {
            return Step::NotMine;
        };
        let mut i = h.cursor.min(self.keys.len());
        let stop = i.saturating_sub(budget.max(1));
        while i > stop {
            i -= 1;
            if let Some((k, e)) = self.keys.pair_at_mut(i) {
                if e.snap_bit() != parity {
                    let exp = if e.has_ttl() {
                        self.expires.get(k).copied()
                    } else {
                        None
                    };
                    f(k, e, exp);
                    e.set_snap_bit(parity);
                }
            }
        }
        h.cursor = i;
        if i == 0 {
            self.snap = None;
            Step::Done
        } else {
            Step::More
        }
    }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
