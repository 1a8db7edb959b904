//! The sharded keyspace: every database, split into shards by hash slot.
//!
//! `slot = CRC16(key or {tag}) mod 16384` and `shard = slot mod N` with N a power of
//! two, so a cluster slot's keys always live in one shard. A command locks the shards
//! of its keys in ascending index order (the only order anybody locks in, so there is
//! no deadlock), runs to completion, then releases them. Nothing awaits while holding
//! a shard.

use crate::db::DbShard;
use parking_lot::{Mutex, MutexGuard};
use shoal_ds::crc16::key_hash_slot;
use smallvec::SmallVec;

/// The databases' key tables that hash to one shard.
pub struct Shard {
    pub dbs: Vec<DbShard>,
}

impl Shard {
    fn new(num_dbs: usize) -> Shard {
        Shard {
            dbs: (0..num_dbs).map(|_| DbShard::default()).collect(),
        }
    }
}

pub struct Keyspace {
    shards: Box<[Mutex<Shard>]>,
    num_dbs: usize,
}

/// Default shard count: a power of two, several per core.
pub const DEFAULT_SHARDS: usize = 256;

impl Keyspace {
    /// `shards` is rounded up to a power of two.
    pub fn new(num_dbs: usize, shards: usize) -> Keyspace {
        let n = shards.max(1).next_power_of_two();
        Keyspace {
            shards: (0..n).map(|_| Mutex::new(Shard::new(num_dbs))).collect(),
            num_dbs,
        }
    }

    pub fn num_dbs(&self) -> usize {
        self.num_dbs
    }

    pub fn num_shards(&self) -> usize {
        self.shards.len()
    }

    /// The shard a key lives in.
    pub fn shard_of(&self, key: &[u8]) -> usize {
        key_hash_slot(key) as usize & (self.shards.len() - 1)
    }

    /// Runs `f` on shard `idx` under its lock, for work outside a command (INFO,
    /// the expiry cycle, DEBUG): the lock is held only for the call.
    pub fn with_shard<R>(&self, idx: usize, f: impl FnOnce(&mut Shard) -> R) -> R {
        f(&mut self.shards[idx].lock())
    }

    /// Runs `f` on the shard of `key` under its lock.
    pub fn with_key_shard<R>(&self, key: &[u8], f: impl FnOnce(&mut Shard) -> R) -> R {
        self.with_shard(self.shard_of(key), f)
    }

    /// Locks one shard.
    pub fn lock_one(&self, idx: usize) -> Locked<'_> {
        Locked {
            guards: Guards::One(idx, self.shards[idx].lock()),
        }
    }

    /// Locks the shards of `keys` in ascending order.
    pub fn lock_keys<K: AsRef<[u8]>>(&self, keys: impl Iterator<Item = K>) -> Locked<'_> {
        let mut idx: Vec<usize> = keys.map(|k| self.shard_of(k.as_ref())).collect();
        self.lock_shard_list(&mut idx)
    }

    /// Locks the shards listed in `idx` (any order, duplicates allowed; the list is
    /// sorted and deduplicated in place). A single shard takes no allocation.
    pub fn lock_shard_list(&self, idx: &mut Vec<usize>) -> Locked<'_> {
        if idx.is_empty() {
            return Locked::empty();
        }
        idx.sort_unstable();
        idx.dedup();
        self.lock_indexes(idx)
    }

    /// Locks the given shard indexes, which must be sorted and unique.
    pub fn lock_indexes(&self, idx: &[usize]) -> Locked<'_> {
        debug_assert!(idx.windows(2).all(|w| w[0] < w[1]));
        if idx.len() == 1 {
            return self.lock_one(idx[0]);
        }
        Locked {
            guards: Guards::Many(idx.iter().map(|&i| (i, self.shards[i].lock())).collect()),
        }
    }

    /// Locks every shard (commands that need the whole keyspace atomically).
    pub fn lock_all(&self) -> Locked<'_> {
        Locked {
            guards: Guards::Many(
                self.shards
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (i, m.lock()))
                    .collect(),
            ),
        }
    }
}

enum Guards<'a> {
    None,
    One(usize, MutexGuard<'a, Shard>),
    /// Up to 8 guards without a heap allocation (MSET-sized commands).
    Many(SmallVec<[(usize, MutexGuard<'a, Shard>); 8]>),
}

/// A set of locked shards. Handlers reach keys only through it.
pub struct Locked<'a> {
    guards: Guards<'a>,
}

impl<'a> Locked<'a> {
    /// A set holding no shard (keyless commands start with it).
    pub fn empty() -> Locked<'a> {
        Locked {
            guards: Guards::None,
        }
    }

    /// The locked shard with index `idx`, if this set holds it.
    pub fn shard(&mut self, idx: usize) -> Option<&mut Shard> {
        match &mut self.guards {
            Guards::None => None,
            Guards::One(i, g) => (*i == idx).then_some(&mut **g),
            Guards::Many(v) => v
                .binary_search_by_key(&idx, |(i, _)| *i)
                .ok()
                .map(|p| &mut *v[p].1),
        }
    }

    /// Shared access to the locked shard with index `idx`, if this set holds it
    /// (commands reading several keys at once, e.g. SINTER, hold one reference per key).
    pub fn shard_ref(&self, idx: usize) -> Option<&Shard> {
        match &self.guards {
            Guards::None => None,
            Guards::One(i, g) => (*i == idx).then_some(&**g),
            Guards::Many(v) => v
                .binary_search_by_key(&idx, |(i, _)| *i)
                .ok()
                .map(|p| &*v[p].1),
        }
    }

    /// Every locked shard, in index order.
    pub fn shards_mut(&mut self) -> Vec<&mut Shard> {
        match &mut self.guards {
            Guards::None => Vec::new(),
            Guards::One(_, g) => vec![&mut **g],
            Guards::Many(v) => v.iter_mut().map(|(_, g)| &mut **g).collect(),
        }
    }

    /// Calls `f` on every locked shard in index order.
    pub fn for_each_shard(&mut self, mut f: impl FnMut(usize, &mut Shard)) {
        match &mut self.guards {
            Guards::None => {}
            Guards::One(i, g) => f(*i, g),
            Guards::Many(v) => v.iter_mut().for_each(|(i, g)| f(*i, g)),
        }
    }

    /// Empties every database of the locked shards: cleared in place, or with
    /// `lazy` moved out and returned for the caller to free elsewhere (during a
    /// snapshot the tables go to the snapshot either way).
    pub fn empty_all(&mut self, lazy: bool) -> Vec<DbShard> {
        let mut taken = Vec::new();
        self.for_each_shard(|_, s| {
            for d in s.dbs.iter_mut() {
                if lazy {
                    taken.push(d.take());
                } else {
                    d.clear();
                }
            }
        });
        taken
    }

    pub fn count(&self) -> usize {
        match &self.guards {
            Guards::None => 0,
            Guards::One(..) => 1,
            Guards::Many(v) => v.len(),
        }
    }
}
