//! WATCH: which clients watch which keys, and the "dirty" flag a modification of a
//! watched key raises on each of them, so that their EXEC fails.
//!
//! Invariant: a client's flag is in the registry under every `(db, key)` in its
//! session's watched list, and nowhere else; UNWATCH, EXEC, DISCARD, RESET and the
//! end of the connection remove it again.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// Raised when a key the client watches is modified.
#[derive(Debug)]
pub struct WatchFlag {
    pub client_id: u64,
    pub dirty: AtomicBool,
}

/// `(db, key)` -> the flags of the clients watching it.
type WatchMap = HashMap<(usize, Bytes), Vec<Arc<WatchFlag>>>;

#[derive(Default)]
pub struct Watches {
    map: Mutex<WatchMap>,
    /// Number of `(db, key)` entries with watchers: 0 lets commands skip recording
    /// the keys they modify.
    pub count: AtomicUsize,
}

impl Watches {
    pub fn watch(&self, db: usize, key: Bytes, flag: &Arc<WatchFlag>) {
        let mut map = self.map.lock();
        let list = map.entry((db, key)).or_default();
        if !list.iter().any(|f| Arc::ptr_eq(f, flag)) {
            list.push(flag.clone());
        }
        self.count.store(map.len(), Relaxed);
    }

    /// Removes `flag` from every key in `keys`.
    pub fn unwatch(&self, keys: &[(usize, Bytes)], flag: &Arc<WatchFlag>) {
        if keys.is_empty() {
            return;
        }
        let mut map = self.map.lock();
        for k in keys {
            if let Some(list) = map.get_mut(k) {
                list.retain(|f| !Arc::ptr_eq(f, flag));
                if list.is_empty() {
                    map.remove(k);
                }
            }
        }
        self.count.store(map.len(), Relaxed);
    }

    /// A key was modified: every client watching it fails its next EXEC.
    pub fn touch(&self, db: usize, key: &Bytes) {
        let map = self.map.lock();
        if let Some(list) = map.get(&(db, key.clone())) {
            for f in list {
                f.dirty.store(true, Relaxed);
            }
        }
    }

    /// A whole database was emptied or swapped (FLUSHDB, FLUSHALL, SWAPDB).
    pub fn touch_db(&self, db: usize) {
        let map = self.map.lock();
        for ((d, _), list) in map.iter() {
            if *d == db {
                for f in list {
                    f.dirty.store(true, Relaxed);
                }
            }
        }
    }
}
