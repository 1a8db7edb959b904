//! WATCH: which clients watch which keys, and the `DIRTY_CAS` flag (`d` in CLIENT
//! LIST) a modification of a watched key raises on each of them, so that their
//! EXEC fails.
//!
//! Invariant: a client is in the registry under every `(db, key)` in its session's
//! watched list, and nowhere else; UNWATCH, EXEC, DISCARD, RESET and the end of the
//! connection remove it again.
//!
//! As in Redis 7.0, a key that had already expired (but was still stored) when it
//! was watched counts as missing: its deletion (by a lookup or the expiry cycle)
//! is no change, only a new value is. A FLUSHDB/FLUSHALL/SWAPDB changes only the
//! watched keys that existed in the emptied database or in the one swapped in.

use crate::client::{cflag, ClientInfo};
use crate::server::{unix_ms, Server};
use bytes::Bytes;
use parking_lot::Mutex;
use shoal_keyspace::Keyspace;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

struct Watcher {
    info: Arc<ClientInfo>,
    /// The key had expired (still stored) when watched: its deletion is no change.
    expired: bool,
}

/// `(db, key)` -> the clients watching it.
type WatchMap = HashMap<(usize, Bytes), Vec<Watcher>>;

#[derive(Default)]
pub struct Watches {
    map: Mutex<WatchMap>,
    /// Number of `(db, key)` entries with watchers: 0 lets commands skip recording
    /// the keys they modify.
    pub count: AtomicUsize,
}

/// Whether `key` is stored in `db` (expired or not).
fn stored(ks: &Keyspace, db: usize, key: &[u8]) -> bool {
    ks.with_key_shard(key, |sh| sh.dbs[db].contains(key))
}

/// Whether `key` exists in `db` and has not expired.
fn alive(ks: &Keyspace, db: usize, key: &[u8], now_ms: i64) -> bool {
    ks.with_key_shard(key, |sh| sh.dbs[db].peek(key, now_ms).is_some())
}

impl Watches {
    /// Adds `info` as a watcher of `key` (`expired`: the key is stored but its TTL
    /// has passed).
    pub fn watch(&self, db: usize, key: Bytes, info: &Arc<ClientInfo>, expired: bool) {
        let mut map = self.map.lock();
        let list = map.entry((db, key)).or_default();
        if !list.iter().any(|w| w.info.id == info.id) {
            list.push(Watcher {
                info: info.clone(),
                expired,
            });
        }
        self.count.store(map.len(), Relaxed);
    }

    /// Removes client `id` from every key in `keys`.
    pub fn unwatch(&self, keys: &[(usize, Bytes)], id: u64) {
        if keys.is_empty() {
            return;
        }
        let mut map = self.map.lock();
        for k in keys {
            if let Some(list) = map.get_mut(k) {
                list.retain(|w| w.info.id != id);
                if list.is_empty() {
                    map.remove(k);
                }
            }
        }
        self.count.store(map.len(), Relaxed);
    }

    /// A key was modified: every client watching it fails its next EXEC.
    pub fn touch(&self, ks: &Keyspace, db: usize, key: &Bytes) {
        let mut map = self.map.lock();
        let Some(list) = map.get_mut(&(db, key.clone())) else {
            return;
        };
        // Computed once, and only for a watcher of an already expired key.
        let mut gone = None;
        for w in list {
            if w.expired {
                // The deletion of an expired key is no change; from now on the key
                // is simply missing.
                if !*gone.get_or_insert_with(|| !stored(ks, db, key)) {
                    w.info.set_flag(cflag::DIRTY_CAS, true);
                }
                w.expired = false;
                continue;
            }
            w.info.set_flag(cflag::DIRTY_CAS, true);
        }
    }

    /// Before a command that may empty or swap whole databases (FLUSHDB,
    /// FLUSHALL, SWAPDB): the watched keys that exist now. None when nobody watches.
    pub fn before_flush(&self, ks: &Keyspace) -> Option<Vec<(usize, Bytes)>> {
        if self.count.load(Relaxed) == 0 {
            return None;
        }
        let keys: Vec<(usize, Bytes)> = self.map.lock().keys().cloned().collect();
        let now = unix_ms();
        Some(
            keys.into_iter()
                .filter(|(db, k)| alive(ks, *db, k, now))
                .collect(),
        )
    }

    /// After databases `flushed` were emptied or swapped: a watched key changed if
    /// it existed before (`before`, from [`Watches::before_flush`]) or exists now
    /// (the database swapped in has it).
    pub fn after_flush(&self, ks: &Keyspace, flushed: &[usize], before: &[(usize, Bytes)]) {
        if flushed.is_empty() {
            return;
        }
        let now = unix_ms();
        let map = self.map.lock();
        for ((db, key), list) in map.iter() {
            if !flushed.contains(db) {
                continue;
            }
            if before.iter().any(|(d, k)| d == db && k == key) || alive(ks, *db, key, now) {
                for w in list {
                    w.info.set_flag(cflag::DIRTY_CAS, true);
                }
            }
        }
    }
}

/// The snapshot [`Watches::before_flush`] takes when command `name` may empty or
/// swap databases. Must be called before the command locks its shards.
pub fn before_command(srv: &Server, name: &str) -> Option<Vec<(usize, Bytes)>> {
    if matches!(name, "flushdb" | "flushall" | "swapdb") {
        srv.watches.before_flush(&srv.ks)
    } else {
        None
    }
}
