//! One database's keys within one shard, and the write choke point.
//!
//! Every read and write of a key goes through [`DbShard`]: lookups expire keys
//! lazily (or only hide them when expiry is driven by a master), update the access
//! clock, and report what happened through [`Events`], which the call layer turns
//! into statistics, propagated DELs, notifications and WATCH invalidation.
//!
//! Invariants:
//! - a key has an entry in `expires` if and only if its `Entry` has the TTL bit set;
//! - the `expires` value is an absolute Unix time in milliseconds.

use crate::notify::{class, Notice, Want};
use crate::value::Value;
use bytes::Bytes;
use shoal_ds::dict::Dict;
use shoal_ds::smallbytes::SmallBytes;

const TTL_BIT: u32 = 1 << 31;
/// The snapshot parity of an entry: it is saved for the running snapshot iff this
/// bit equals its [`DbShard`]'s parity (see [`crate::snapshot`]).
const SNAP_BIT: u32 = 1 << 30;
const CLOCK_MASK: u32 = (1 << 24) - 1;

/// The 24-bit access clock Redis keeps per key: seconds, wrapping.
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms / 1000) as u32) & CLOCK_MASK
}

/// A stored value plus per-key metadata packed in 32 bits: the TTL flag, the
/// snapshot parity bit and the 24-bit access clock (LRU seconds, or the LFU
/// counter and minutes).
#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    meta: u32,
}

impl Entry {
    /// A new entry; under an LFU policy its counter starts at Redis's initial 5.
    pub fn new(value: Value, now: impl Into<Now>) -> Entry {
        let now = now.into();
        let meta = match now.lfu {
            None => lru_clock(now.ms),
            Some(_) => (lfu_minutes(now.ms) << 8) | LFU_INIT_VAL,
        };
        Entry { value, meta }
    }

    pub fn has_ttl(&self) -> bool {
        self.meta & TTL_BIT != 0
    }

    fn set_ttl_flag(&mut self, on: bool) {
        if on {
            self.meta |= TTL_BIT;
        } else {
            self.meta &= !TTL_BIT;
        }
    }

    #[inline]
    pub(crate) fn snap_bit(&self) -> bool {
        self.meta & SNAP_BIT != 0
    }

    #[inline]
    pub(crate) fn set_snap_bit(&mut self, on: bool) {
        if on {
            self.meta |= SNAP_BIT;
        } else {
            self.meta &= !SNAP_BIT;
        }
    }

    /// The 24-bit access clock (seconds) of the last access.
    pub fn access_clock(&self) -> u32 {
        self.meta & CLOCK_MASK
    }

    /// Records an access: the LRU clock, or under an LFU policy the decayed and
    /// logarithmically incremented counter with the current minute.
    pub fn touch(&mut self, now: impl Into<Now>) {
        let now = now.into();
        let clock = match now.lfu {
            None => lru_clock(now.ms),
            Some(lfu) => {
                let counter = lfu_log_incr(lfu_decayed(self.access_clock(), now.ms, lfu), lfu);
                (lfu_minutes(now.ms) << 8) | counter
            }
        };
        self.meta = (self.meta & !CLOCK_MASK) | clock;
    }

    /// Sets the LRU clock so that the key reads as idle for `idle_secs` (RESTORE's
    /// IDLETIME, an RDB file's IDLE): past the clock's start it wraps to half
    /// the clock's range back, as Redis does.
    pub fn set_idle_seconds(&mut self, idle_secs: u64, now_ms: i64) {
        let now = u64::from(lru_clock(now_ms));
        let clock = match now.checked_sub(idle_secs) {
            Some(c) => c,
            None => (now + u64::from(CLOCK_MASK) / 2) % u64::from(CLOCK_MASK),
        };
        self.meta = (self.meta & !CLOCK_MASK) | (clock as u32 & CLOCK_MASK);
    }

    /// Sets the LFU counter, accessed this minute (RESTORE's FREQ, an RDB file's
    /// FREQ).
    pub fn set_lfu_counter(&mut self, counter: u8, now_ms: i64) {
        let clock = (lfu_minutes(now_ms) << 8) | u32::from(counter);
        self.meta = (self.meta & !CLOCK_MASK) | clock;
    }

    /// Seconds since the last access, as OBJECT IDLETIME reports it.
    pub fn idle_seconds(&self, now_ms: i64) -> u64 {
        let now = lru_clock(now_ms);
        let then = self.access_clock();
        if now >= then {
            (now - then) as u64
        } else {
            (CLOCK_MASK - then + now) as u64
        }
    }
}

/// The counter a key starts with under an LFU policy (Redis's `LFU_INIT_VAL`).
pub const LFU_INIT_VAL: u32 = 5;

/// `lfu-log-factor` and `lfu-decay-time`, present while an LFU policy is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lfu {
    pub log_factor: u32,
    pub decay_time: u32,
}

/// Minutes, 16 bits wrapping: the LFU access time.
fn lfu_minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) as u32) & 0xffff
}

/// The counter of a 24-bit LFU clock after the decay of the minutes since its
/// last access (one per `lfu-decay-time` minutes).
pub fn lfu_decayed(clock: u32, now_ms: i64, lfu: Lfu) -> u32 {
    let ldt = clock >> 8;
    let counter = clock & 0xff;
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= ldt {
        now - ldt
    } else {
        0xffff - ldt + now
    };
    let periods = elapsed.checked_div(lfu.decay_time).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// Redis's logarithmic increment: the higher the counter, the less likely.
fn lfu_log_incr(counter: u32, lfu: Lfu) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * lfu.log_factor as f64 + 1.0);
    if random_unit() < p {
        counter + 1
    } else {
        counter
    }
}

/// A uniform number in [0, 1) from a per-thread xorshift generator (the counter
/// only needs cheap, not strong, randomness).
fn random_unit() -> f64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0x9e37_79b9_7f4a_7c15) };
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// Who decides that a key is gone when its time has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireMode {
    /// This node deletes expired keys (a master or a standalone server).
    Delete,
    /// A master drives expiry: hide logically expired keys from reads, keep them until
    /// the master's DEL arrives.
    HideOnly,
    /// The commands of a replica's master link: no key is expired, the master's
    /// stream says when (a key logically expired by this node's clock is still the
    /// master's to change or delete).
    Never,
}

/// The clock and expiry mode a command runs under. Redis reads the time once per
/// command so that a command sees one consistent "now".
#[derive(Clone, Copy, Debug)]
pub struct Now {
    pub ms: i64,
    pub expire: ExpireMode,
    /// Set while an LFU maxmemory policy is in force: accesses then maintain the
    /// frequency counter instead of the LRU clock.
    pub lfu: Option<Lfu>,
}

impl Now {
    pub fn new(ms: i64) -> Now {
        Now {
            ms,
            expire: ExpireMode::Delete,
            lfu: None,
        }
    }
}

impl From<i64> for Now {
    fn from(ms: i64) -> Now {
        Now::new(ms)
    }
}

/// What the keyspace and the handlers report back to the call layer.
#[derive(Default, Debug)]
pub struct Events {
    /// Keys deleted because their TTL passed: `(db, key)`. The call layer counts
    /// them and propagates a DEL for each; their "expired" notifications are in
    /// `notices`/`touched` already (see [`Events::expired_key`]).
    pub expired: Vec<(usize, SmallBytes)>,
    pub hits: u64,
    pub misses: u64,
    /// What to record; set by the call layer before each command.
    pub want: Want,
    /// Keys modified by the command, `(db, key)`, when `want.touched` (may repeat).
    pub touched: Vec<(usize, Bytes)>,
    /// Keyspace notifications of the classes in `want.classes`, in order.
    pub notices: Vec<Notice>,
    /// Databases emptied or swapped as a whole (FLUSHDB, FLUSHALL, SWAPDB): every
    /// key in them counts as modified.
    pub flushed: Vec<usize>,
}

impl Events {
    #[inline]
    pub fn clear(&mut self) {
        self.hits = 0;
        self.misses = 0;
        // Almost always empty: skip the drop loops then (this runs per command).
        if !self.expired.is_empty() {
            self.expired.clear();
        }
        if !self.touched.is_empty() {
            self.touched.clear();
        }
        if !self.notices.is_empty() {
            self.notices.clear();
        }
        if !self.flushed.is_empty() {
            self.flushed.clear();
        }
    }

    /// Reports that `key` in `db` changed, with Redis's event name and class
    /// (`notify::class::*`): Redis's `signalModifiedKey` plus
    /// `notifyKeyspaceEvent`.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, db: usize, key: &[u8]) {
        if self.want.touched {
            self.touched.push((db, Bytes::copy_from_slice(key)));
        }
        if self.want.classes & class != 0 {
            self.notices.push(Notice {
                class,
                event,
                db,
                key: Bytes::copy_from_slice(key),
            });
        }
    }

    /// Reports a keyspace notification without marking the key modified (Redis
    /// fires a few events, such as "new" and key misses, without touching the key).
    #[inline]
    pub fn notice_only(&mut self, class: u32, event: &'static str, db: usize, key: &[u8]) {
        if self.want.classes & class != 0 {
            self.notices.push(Notice {
                class,
                event,
                db,
                key: Bytes::copy_from_slice(key),
            });
        }
    }

    /// Records a key deleted because its TTL passed: counted and propagated by the
    /// call layer (`expired`), and reported at once as Redis's "expired" event, so
    /// that it takes its place among the command's other events (`MGET a b` with `b`
    /// expired: "keymiss a", "expired b", "keymiss b").
    pub fn expired_key(&mut self, db: usize, key: SmallBytes) {
        self.notify(class::EXPIRED, "expired", db, &key);
        self.expired.push((db, key));
    }

    /// Marks `key` modified without a notification (Redis's bare
    /// `signalModifiedKey`).
    #[inline]
    pub fn touch(&mut self, db: usize, key: &[u8]) {
        if self.want.touched {
            self.touched.push((db, Bytes::copy_from_slice(key)));
        }
    }
}

/// How a lookup should treat the access clock and the hit/miss counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A read on behalf of a command: counts a hit or miss and updates the clock.
    Read,
    /// A lookup before a write: updates the clock, no hit/miss statistics.
    Write,
    /// A look that must not disturb anything: no clock update, no statistics.
    NoTouch,
    /// A read that counts a hit or miss but leaves the access clock alone (Redis's
    /// `LOOKUP_NOTOUCH`: TYPE, EXISTS, TTL).
    ReadNoTouch,
    /// `ReadNoTouch` without the "keymiss" event (Redis's `LOOKUP_NOTOUCH |
    /// LOOKUP_NONOTIFY`: OBJECT).
    ReadQuiet,
}

impl Access {
    /// Whether this lookup counts a keyspace hit or miss.
    fn counts_stats(self) -> bool {
        matches!(self, Access::Read | Access::ReadNoTouch | Access::ReadQuiet)
    }

    /// Whether a miss fires the "keymiss" event (reads on behalf of a command;
    /// lookups before a write never do).
    fn notifies_miss(self) -> bool {
        matches!(self, Access::Read | Access::ReadNoTouch)
    }

    /// Whether this lookup updates the key's access clock.
    fn touches(self) -> bool {
        matches!(self, Access::Read | Access::Write)
    }
}

/// Invariants of the snapshot fields (see [`crate::snapshot`]): with no hook,
/// every entry's parity bit equals `parity`; with a hook, an entry whose bit
/// differs is part of the running snapshot's image and not yet saved, and every
/// such entry lies below `hook.cursor` in the key table's pair order.
#[derive(Default)]
pub struct DbShard {
    pub(crate) keys: Dict<SmallBytes, Entry>,
    pub(crate) expires: Dict<SmallBytes, i64>,
    /// Where the active expiry cycle resumes its walk of `expires`.
    expire_cursor: u64,
    pub(crate) parity: bool,
    /// Present while a snapshot has entries of this table left to save.
    pub(crate) snap: Option<Box<crate::snapshot::Hook>>,
}

impl DbShard {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `key` is stored (expired or not: no lookup side effects).
    pub fn contains(&self, key: &[u8]) -> bool {
        self.keys.get(key).is_some()
    }

    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// The absolute expiry time (ms) of `key`, if it has one (no expiry check).
    pub fn expire_time(&self, key: &[u8]) -> Option<i64> {
        self.expires.get(key).copied()
    }

    fn is_expired(&self, key: &[u8], entry: &Entry, now: i64) -> bool {
        entry.has_ttl() && self.expires.get(key).is_some_and(|&t| t <= now)
    }

    /// Removes `key` if its TTL passed (in `Delete` mode). Returns whether the key is
    /// logically absent because of expiry.
    fn expire_if_needed(&mut self, db: usize, key: &[u8], now: Now, ev: &mut Events) -> bool {
        if now.expire == ExpireMode::Never {
            return false;
        }
        let expired = match self.keys.get(key) {
            Some(e) => self.is_expired(key, e, now.ms),
            None => return false,
        };
        if expired && now.expire == ExpireMode::Delete {
            self.cow(key);
            if let Some((k, _)) = self.keys.remove(key) {
                self.expires.remove(key);
                ev.expired_key(db, k);
            }
        }
        expired
    }

    /// Looks a key up through the choke point: lazy expiry, access clock, stats.
    pub fn lookup(
        &mut self,
        db: usize,
        key: &[u8],
        now: Now,
        access: Access,
        ev: &mut Events,
    ) -> Option<&mut Entry> {
        if self.expire_if_needed(db, key, now, ev) {
            Self::missed(db, key, access, ev);
            return None;
        }
        // Every lookup may hand out `&mut Entry`, reads included (a read can
        // convert an encoding or update a clock): save the old entry first.
        self.cow(key);
        match self.keys.get_mut(key) {
            Some(e) => {
                if access.touches() {
                    e.touch(now);
                }
                if access.counts_stats() {
                    ev.hits += 1;
                }
                Some(e)
            }
            None => {
                Self::missed(db, key, access, ev);
                None
            }
        }
    }

    /// A lookup found nothing: counts the miss and fires "keymiss" (after
    /// "expired" when the key had just expired), as Redis's `lookupKey` does.
    fn missed(db: usize, key: &[u8], access: Access, ev: &mut Events) {
        if access.counts_stats() {
            ev.misses += 1;
        }
        if access.notifies_miss() {
            ev.notice_only(class::KEY_MISS, "keymiss", db, key);
        }
    }

    /// A side-effect-free look: hides expired keys without deleting them.
    pub fn peek(&self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        let e = self.keys.get(key)?;
        if self.is_expired(key, e, now_ms) {
            None
        } else {
            Some(e)
        }
    }

    /// Stores `value` under `key`. An existing TTL is dropped unless `keep_ttl`.
    /// The caller has already run a lookup (so an expired old value is gone).
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, now: impl Into<Now>) {
        let now = now.into();
        self.cow(key);
        if let Some(e) = self.keys.get_mut(key) {
            e.value = value;
            e.touch(now);
            if e.has_ttl() && !keep_ttl {
                e.set_ttl_flag(false);
                self.expires.remove(key);
            }
            return;
        }
        let mut e = Entry::new(value, now);
        e.set_snap_bit(self.parity);
        self.keys.insert(SmallBytes::from(key), e);
    }

    /// Inserts an entry that is known to be absent, with its TTL (used by MOVE,
    /// COPY, RENAME and loaders).
    pub fn insert_entry(&mut self, key: &[u8], mut entry: Entry, expire_at: Option<i64>) {
        entry.set_ttl_flag(expire_at.is_some());
        // A new key (or a moved entry) is not part of a running snapshot's image.
        entry.set_snap_bit(self.parity);
        self.cow(key);
        if let Some(old) = self.keys.insert(SmallBytes::from(key), entry) {
            if old.has_ttl() && expire_at.is_none() {
                self.expires.remove(key);
            }
        }
        if let Some(t) = expire_at {
            self.expires.insert(SmallBytes::from(key), t);
        }
    }

    /// Deletes `key`, returning its entry and expiry time. Does not check expiry.
    pub fn remove(&mut self, key: &[u8]) -> Option<(Entry, Option<i64>)> {
        self.cow(key);
        let (_, e) = self.keys.remove(key)?;
        let t = if e.has_ttl() {
            self.expires.remove(key).map(|(_, t)| t)
        } else {
            None
        };
        Some((e, t))
    }

    /// Sets an absolute expiry time on an existing key. Returns false if absent.
    pub fn set_expire(&mut self, key: &[u8], when_ms: i64) -> bool {
        self.cow(key);
        match self.keys.get_mut(key) {
            Some(e) => {
                e.set_ttl_flag(true);
                self.expires.insert(SmallBytes::from(key), when_ms);
                true
            }
            None => false,
        }
    }

    /// Removes the TTL of `key`. Returns whether it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        self.cow(key);
        match self.keys.get_mut(key) {
            Some(e) if e.has_ttl() => {
                e.set_ttl_flag(false);
                self.expires.remove(key);
                true
            }
            _ => false,
        }
    }

    /// Removes every key; returns how many there were. During a snapshot the old
    /// tables go to the snapshot, which saves what it has not yet and frees them.
    pub fn clear(&mut self) -> usize {
        let n = self.keys.len();
        if self.snap.is_some() {
            self.hand_over_tables();
        } else {
            self.keys = Dict::new();
            self.expires = Dict::new();
        }
        self.expire_cursor = 0;
        n
    }

    /// Moves the contents out (for FLUSH ASYNC: the caller frees them elsewhere).
    /// During a snapshot the tables go to the snapshot instead (which frees them
    /// once saved) and the result is empty.
    pub fn take(&mut self) -> DbShard {
        if self.snap.is_some() {
            self.hand_over_tables();
            self.expire_cursor = 0;
            return DbShard::default();
        }
        std::mem::take(self)
    }

    /// One SCAN step over this shard's keys: calls `f` for every live key in the next
    /// home bucket(s) and returns the next cursor (0 when done).
    pub fn scan(&self, cursor: u64, now_ms: i64, mut f: impl FnMut(&[u8], &Entry)) -> u64 {
        self.keys.scan(cursor, |k, e| {
            if !self.is_expired(k, e, now_ms) {
                f(k, e)
            }
        })
    }

    /// One SCAN step that also reports keys whose TTL has passed (`expired == true`)
    /// so the caller can expire them through `lookup`, as Redis's SCAN does.
    pub fn scan_with_expired(
        &self,
        cursor: u64,
        now_ms: i64,
        mut f: impl FnMut(&[u8], &Entry, bool),
    ) -> u64 {
        self.keys
            .scan(cursor, |k, e| f(k, e, self.is_expired(k, e, now_ms)))
    }

    /// Calls `f` for every live key (KEYS, DEBUG DIGEST, snapshots).
    pub fn for_each(&self, now_ms: i64, mut f: impl FnMut(&[u8], &Entry, Option<i64>)) {
        for (k, e) in self.keys.iter() {
            let ttl = if e.has_ttl() {
                self.expires.get(k.as_ref()).copied()
            } else {
                None
            };
            if ttl.is_some_and(|t| t <= now_ms) {
                continue;
            }
            f(k, e, ttl)
        }
    }

    /// A random live key, if any (tries a bounded number of times to skip expired ones).
    pub fn random_key(&self, rng: &mut impl rand::Rng, now_ms: i64) -> Option<SmallBytes> {
        let mut last = None;
        for _ in 0..100 {
            let (k, e) = self.keys.random_entry(rng)?;
            if !self.is_expired(k, e, now_ms) {
                return Some(k.clone());
            }
            last = Some(k.clone());
        }
        // Every key sampled had expired: Redis returns one of them anyway on replicas
        // and deletes on masters; returning the last keeps the loop bounded.
        last
    }

    /// One step of active expiry over this db shard: walks up to `max_buckets`
    /// buckets of the expires table from the saved cursor and deletes what passed.
    /// Returns `(sampled, expired)` so the caller can adapt its effort.
    pub fn active_expire_step(
        &mut self,
        db: usize,
        now_ms: i64,
        max_buckets: usize,
        ev: &mut Events,
    ) -> (usize, usize) {
        if self.expires.is_empty() {
            return (0, 0);
        }
        let mut due: Vec<SmallBytes> = Vec::new();
        let mut sampled = 0;
        let mut cursor = self.expire_cursor;
        for _ in 0..max_buckets {
            cursor = self.expires.scan(cursor, |k, &t| {
                sampled += 1;
                if t <= now_ms {
                    due.push(k.clone());
                }
            });
            if cursor == 0 {
                break;
            }
        }
        self.expire_cursor = cursor;
        let n = due.len();
        for k in due {
            self.cow(&k);
            self.keys.remove(&k[..]);
            self.expires.remove(&k[..]);
            ev.expired_key(db, k);
        }
        (sampled, n)
    }

    /// Draws up to `n` random keys for the eviction pool (with replacement: a key
    /// may come twice): from the whole table, or with `volatile` only from the keys
    /// that have a TTL. Calls `f(key, entry, expire_at)`. Expired keys are drawn
    /// too, as Redis's eviction sampling does not look at TTLs.
    pub fn sample(
        &self,
        rng: &mut impl rand::Rng,
        n: usize,
        volatile: bool,
        mut f: impl FnMut(&SmallBytes, &Entry, Option<i64>),
    ) {
        for _ in 0..n {
            if volatile {
                let Some((k, &t)) = self.expires.random_entry(rng) else {
                    return;
                };
                if let Some(e) = self.keys.get(k.as_ref()) {
                    f(k, e, Some(t));
                }
            } else {
                let Some((k, e)) = self.keys.random_entry(rng) else {
                    return;
                };
                let t = if e.has_ttl() {
                    self.expires.get(k.as_ref()).copied()
                } else {
                    None
                };
                f(k, e, t);
            }
        }
    }

    /// Approximate heap bytes used by this db shard's tables and values.
    pub fn heap_bytes(&self) -> usize {
        self.keys.heap_bytes() + self.expires.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Str, Value};

    fn sv(s: &str) -> Value {
        Value::Str(Str::from_bytes(s.as_bytes()))
    }

    #[test]
    fn lazy_expiry_deletes_and_reports() {
        let mut db = DbShard::default();
        let mut ev = Events::default();
        db.set(b"k", sv("v"), false, 0);
        db.set_expire(b"k", 100);
        assert!(db
            .lookup(0, b"k", Now::new(99), Access::Read, &mut ev)
            .is_some());
        assert!(db
            .lookup(0, b"k", Now::new(100), Access::Read, &mut ev)
            .is_none());
        assert_eq!(ev.expired.len(), 1);
        assert_eq!(db.len(), 0);
        assert_eq!(db.expires_len(), 0);
    }

    #[test]
    fn read_no_touch_counts_but_keeps_the_clock() {
        let mut db = DbShard::default();
        let mut ev = Events::default();
        db.set(b"k", sv("v"), false, 0);
        let now = Now::new(5_000);
        let e = db
            .lookup(0, b"k", now, Access::ReadNoTouch, &mut ev)
            .unwrap();
        assert_eq!(e.idle_seconds(5_000), 5);
        assert!(db
            .lookup(0, b"x", now, Access::ReadNoTouch, &mut ev)
            .is_none());
        assert_eq!((ev.hits, ev.misses), (1, 1));
        db.lookup(0, b"k", now, Access::NoTouch, &mut ev);
        assert_eq!((ev.hits, ev.misses), (1, 1));
        let e = db.lookup(0, b"k", now, Access::Read, &mut ev).unwrap();
        assert_eq!(e.idle_seconds(5_000), 0);
    }

    #[test]
    fn lfu_counter_starts_at_5_and_grows_logarithmically() {
        let lfu = Lfu {
            log_factor: 10,
            decay_time: 1,
        };
        let now = Now {
            lfu: Some(lfu),
            ..Now::new(60_000 * 100)
        };
        let mut e = Entry::new(sv("v"), now);
        assert_eq!(lfu_decayed(e.access_clock(), now.ms, lfu), 5);
        e.touch(now);
        assert_eq!(lfu_decayed(e.access_clock(), now.ms, lfu), 6);
        for _ in 0..10_000 {
            e.touch(now);
        }
        let c = lfu_decayed(e.access_clock(), now.ms, lfu);
        assert!((20..=60).contains(&c), "{c}");
        // Three idle minutes with a decay time of one minute take 3 off.
        assert_eq!(lfu_decayed(e.access_clock(), now.ms + 180_000, lfu), c - 3);
    }

    #[test]
    fn hide_only_mode_keeps_the_key() {
        let mut db = DbShard::default();
        let mut ev = Events::default();
        db.set(b"k", sv("v"), false, 0);
        db.set_expire(b"k", 100);
        let now = Now {
            expire: ExpireMode::HideOnly,
            ..Now::new(200)
        };
        assert!(db.lookup(0, b"k", now, Access::Read, &mut ev).is_none());
        assert_eq!(db.len(), 1);
        assert!(ev.expired.is_empty());
    }

    #[test]
    fn overwrite_drops_ttl_unless_kept() {
        let mut db = DbShard::default();
        db.set(b"k", sv("v"), false, 0);
        db.set_expire(b"k", 100);
        db.set(b"k", sv("w"), true, 0);
        assert_eq!(db.expire_time(b"k"), Some(100));
        db.set(b"k", sv("x"), false, 0);
        assert_eq!(db.expire_time(b"k"), None);
        assert_eq!(db.expires_len(), 0);
    }

    #[test]
    fn sample_draws_only_volatile_keys_when_asked() {
        let mut db = DbShard::default();
        let mut rng = rand::thread_rng();
        for i in 0..100 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), sv("v"), false, 0);
            if i % 10 == 0 {
                db.set_expire(k.as_bytes(), 1_000 + i);
            }
        }
        let mut seen = 0;
        db.sample(&mut rng, 50, true, |k, e, t| {
            seen += 1;
            assert!(e.has_ttl());
            assert_eq!(db.expire_time(k), t);
        });
        assert_eq!(seen, 50);
        let mut any = 0;
        db.sample(&mut rng, 5, false, |_, _, _| any += 1);
        assert_eq!(any, 5);
        let empty = DbShard::default();
        empty.sample(&mut rng, 5, false, |_, _, _| panic!("empty"));
    }

    #[test]
    fn active_expire_walks_everything() {
        let mut db = DbShard::default();
        let mut ev = Events::default();
        for i in 0..1000 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), sv("v"), false, 0);
            db.set_expire(k.as_bytes(), if i % 2 == 0 { 10 } else { 10_000 });
        }
        let mut total = 0;
        for _ in 0..10_000 {
            let (_, n) = db.active_expire_step(0, 50, 16, &mut ev);
            total += n;
            if db.len() == 500 {
                break;
            }
        }
        assert_eq!(total, 500);
        assert_eq!(db.expires_len(), 500);
    }
}
