//! Consumer groups: the last delivered ID, the logical read counter, the pending
//! entries list (PEL) and the consumers.
//!
//! Invariants: every ID in a consumer's `pel` is in the group's `pel` with that
//! consumer's name, and every group PEL entry is in its consumer's `pel`. Groups
//! and consumers are kept ordered by name, which is the order Redis lists them in
//! (its radix trees are ordered by bytes).

use super::id::StreamId;
use std::collections::{BTreeMap, BTreeSet};

/// `entries_read` of a group whose logical position is unknown.
pub const ENTRIES_READ_UNKNOWN: i64 = -1;

/// A delivered but not yet acknowledged entry.
#[derive(Clone, Debug)]
pub struct Pending {
    pub consumer: Box<[u8]>,
    /// Unix time in ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Consumer {
    /// Unix time in ms of the consumer's last attempted interaction.
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries the group has read, or [`ENTRIES_READ_UNKNOWN`].
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Pending>,
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Creates consumer `name` seen at `now_ms` unless it exists; returns whether
    /// it was created.
    pub fn create_consumer(&mut self, name: &[u8], now_ms: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(
            name.into(),
            Consumer {
                seen_time: now_ms,
                pel: BTreeSet::new(),
            },
        );
        true
    }

    /// Deletes consumer `name` and its pending entries; returns how many entries it
    /// had pending, or None if there was no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Removes `id` from the PEL (and from its consumer's); returns whether it was
    /// pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(p) => {
                if let Some(c) = self.consumers.get_mut(&p.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Records a delivery of `id` to `consumer` (which must exist) at `now_ms`:
    /// a new pending entry with count 1, or an existing one moved to `consumer`
    /// with its delivery count incremented when `incr`.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now_ms: i64, incr: bool) {
        match self.pel.get_mut(&id) {
            Some(p) => {
                if *p.consumer != *consumer {
                    if let Some(old) = self.consumers.get_mut(&p.consumer) {
                        old.pel.remove(&id);
                    }
                    p.consumer = consumer.into();
                }
                p.delivery_time = now_ms;
                if incr {
                    p.delivery_count += 1;
                }
            }
            None => {
                self.pel.insert(
                    id,
                    Pending {
                        consumer: consumer.into(),
                        delivery_time: now_ms,
                        delivery_count: 1,
                    },
                );
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}
