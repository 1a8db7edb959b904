//! The context a command handler runs in.
//!
//! A handler gets the locked shards of its keys, the selected database, the time of
//! the command, the reply writer and an events sink. It never sees a socket, the
//! configuration store or another client. Keyless commands that need the whole
//! keyspace (KEYS, DBSIZE, FLUSHALL, ...) call [`Ctx::lock_all`], which is a no-op
//! when the caller (MULTI/EXEC, scripts) already holds every shard.

use crate::errors;
use crate::settings::Settings;
use bytes::Bytes;
use rand::rngs::SmallRng;
use shoal_keyspace::{class, Access, DbShard, Entry, Events, Keyspace, Locked, Now, Str, Value};
use shoal_resp::ReplyWriter;

/// What the call layer should send to replicas and the AOF for this command.
#[derive(Debug, Default)]
pub enum Propagate {
    /// The command as received, if it changed anything (`dirty > 0`).
    #[default]
    AsIs,
    /// These commands instead (relative times made absolute, random choices resolved).
    Rewritten(Vec<Vec<Bytes>>),
    /// Nothing.
    Nothing,
}

pub struct Ctx<'a> {
    pub ks: &'a Keyspace,
    pub locked: Locked<'a>,
    /// The selected database.
    pub db: usize,
    pub now: Now,
    pub out: &'a mut ReplyWriter,
    pub ev: &'a mut Events,
    pub settings: &'a Settings,
    pub rng: &'a mut SmallRng,
    /// Number of changes this command made (Redis's `server.dirty` increment).
    pub dirty: u64,
    pub propagate: Propagate,
    /// Shards of the command's declared keys, found by dispatch: `(address, length,
    /// shard)` of each key argument, so handlers do not hash a key twice.
    pub key_shards: &'a [(usize, usize, usize)],
    /// Set by a blocking command that must wait (see [`Ctx::block_on`]).
    pub block: Option<BlockOn>,
    /// The command may block: false inside MULTI and scripts, where blocking
    /// commands answer at once as if their timeout had passed.
    pub may_block: bool,
    /// The command runs again for a client that was blocked on its keys: a key of
    /// the wrong type then means "keep waiting" rather than WRONGTYPE (Redis 7.0
    /// leaves such a client blocked).
    pub woken: bool,
}

/// A blocking command that found nothing to serve asks to wait (see
/// [`Ctx::block_on`]).
#[derive(Debug)]
pub struct BlockOn {
    /// Keys whose modification wakes the client; the command then runs again.
    pub keys: Vec<Bytes>,
    /// Unix time in ms when the wait ends with `on_timeout`; None waits forever.
    pub deadline_ms: Option<i64>,
    pub on_timeout: TimeoutReply,
    /// The command to run on wake-up instead of the original (XREAD's `$`
    /// resolved to the last ID at the time of the call).
    pub argv: Option<Vec<Bytes>>,
}

/// What a blocking command answers when its wait ends without data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` (RESP3 `_`): BLPOP, BRPOP, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, XREAD.
    NullArray,
    /// `$-1` (RESP3 `_`): BLMOVE, BRPOPLPUSH.
    NullBulk,
}

impl TimeoutReply {
    pub fn write(self, out: &mut ReplyWriter) {
        match self {
            TimeoutReply::NullArray => out.null_array(),
            TimeoutReply::NullBulk => out.null(),
        }
    }
}

/// A key holds a value of another type than the command expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongType;

impl<'a> Ctx<'a> {
    /// Makes sure every shard is locked. Only keyless commands call this, before
    /// touching anything, so dropping the (empty) current set first is safe.
    pub fn lock_all(&mut self) {
        if self.locked.count() != self.ks.num_shards() {
            self.locked = Locked::empty();
            self.locked = self.ks.lock_all();
        }
    }

    /// Runs `f` on shard `idx`, locking it for the call if the command does not
    /// already hold it (keyless commands such as SCAN walk shards one at a time).
    pub fn with_shard<R>(
        &mut self,
        idx: usize,
        f: impl FnOnce(&mut DbShard, &mut Events) -> R,
    ) -> R {
        let db = self.db;
        if let Some(shard) = self.locked.shard(idx) {
            return f(&mut shard.dbs[db], self.ev);
        }
        let ev = &mut *self.ev;
        self.ks.with_shard(idx, |shard| f(&mut shard.dbs[db], ev))
    }

    /// The shard of `key` in database `db`, for modifying it (see [`DbMut`]).
    ///
    /// Invariant: dispatch locked the shards of every key the command table lists for
    /// this command, and handlers only touch those keys (or call `lock_all`).
    pub fn db_of(&mut self, db: usize, key: &[u8]) -> DbMut<'_> {
        let idx = self.shard_idx(key);
        DbMut {
            shard: locked_db(&mut self.locked, idx, db),
            ev: &mut *self.ev,
            db,
        }
    }

    /// The shard of `key` in the selected database.
    pub fn db(&mut self, key: &[u8]) -> DbMut<'_> {
        let db = self.db;
        self.db_of(db, key)
    }

    /// Looks `key` up for reading (lazy expiry, hit/miss statistics, "keymiss").
    pub fn read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(key, Access::Read)
    }

    /// Looks `key` up before modifying it (lazy expiry, no statistics).
    pub fn write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(key, Access::Write)
    }

    /// The shard index of `key`: from dispatch's list when `key` is one of the
    /// declared key arguments (same bytes in memory), else computed.
    pub fn shard_idx(&self, key: &[u8]) -> usize {
        let addr = key.as_ptr() as usize;
        for &(a, len, shard) in self.key_shards {
            if a == addr && len == key.len() {
                return shard;
            }
        }
        self.ks.shard_of(key)
    }

    pub fn lookup(&mut self, key: &[u8], access: Access) -> Option<&mut Entry> {
        let db = self.db;
        self.entry_and_out(db, key, access).0
    }

    /// Looks `key` up in database `db` and also hands back the reply writer, so a
    /// handler can reply straight from the stored value without copying it out.
    pub fn entry_and_out(
        &mut self,
        db: usize,
        key: &[u8],
        access: Access,
    ) -> (Option<&mut Entry>, &mut ReplyWriter) {
        let idx = self.shard_idx(key);
        let now = self.now;
        let entry = locked_db(&mut self.locked, idx, db).lookup(db, key, now, access, self.ev);
        (entry, &mut *self.out)
    }

    /// Looks `key` up in the selected database and narrows it to one type with
    /// `pick` (e.g. `Value::as_list_mut`), handing back the reply writer too:
    /// `Ok(None)` if absent, `Err(WrongType)` if the key holds another type.
    pub fn typed_and_out<T: ?Sized>(
        &mut self,
        key: &[u8],
        access: Access,
        pick: for<'v> fn(&'v mut Value) -> Option<&'v mut T>,
    ) -> (Result<Option<&mut T>, WrongType>, &mut ReplyWriter) {
        let db = self.db;
        let (entry, out) = self.entry_and_out(db, key, access);
        let v = match entry {
            None => Ok(None),
            Some(e) => pick(&mut e.value).map(Some).ok_or(WrongType),
        };
        (v, out)
    }

    /// The string at `key` for reading: `Ok(None)` if absent, `Err` if another type.
    pub fn read_str(&mut self, key: &[u8]) -> Result<Option<&mut Str>, WrongType> {
        match self.read(key) {
            None => Ok(None),
            Some(e) => e.value.as_str_mut().map(Some).ok_or(WrongType),
        }
    }

    /// The string at `key` before a write: `Ok(None)` if absent, `Err` if another type.
    pub fn write_str(&mut self, key: &[u8]) -> Result<Option<&mut Str>, WrongType> {
        match self.write(key) {
            None => Ok(None),
            Some(e) => e.value.as_str_mut().map(Some).ok_or(WrongType),
        }
    }

    /// Stores a value (dropping the TTL unless `keep_ttl`) and counts one change.
    /// Reports "new" if the key was absent; the caller reports its own event.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        let now = self.now;
        self.db(key).set(key, value, keep_ttl, now);
        self.dirty += 1;
    }

    /// Deletes `key` if it exists (after lazy expiry). Returns whether it did; the
    /// caller reports the deletion ("del") if Redis does.
    pub fn delete(&mut self, key: &[u8]) -> bool {
        if self.write(key).is_none() {
            return false;
        }
        self.db(key).remove(key);
        self.dirty += 1;
        true
    }

    /// Reports a change of `key` in the selected database: Redis's
    /// `signalModifiedKey` and `notifyKeyspaceEvent(class, event, key)` in one call.
    /// `class` is one of [`shoal_keyspace::class`].
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        self.ev.notify(class, event, self.db, key);
    }

    /// Asks to wait for `keys` until `deadline_ms` (None: forever), then run again.
    /// Where blocking is not allowed (MULTI, scripts) this answers `on_timeout`
    /// at once instead, as Redis does.
    pub fn block_on(
        &mut self,
        keys: Vec<Bytes>,
        deadline_ms: Option<i64>,
        on_timeout: TimeoutReply,
        argv: Option<Vec<Bytes>>,
    ) {
        if !self.may_block {
            on_timeout.write(self.out);
            return;
        }
        self.block = Some(BlockOn {
            keys,
            deadline_ms,
            on_timeout,
            argv,
        });
    }

    /// Replies WRONGTYPE.
    pub fn wrong_type(&mut self) {
        self.out.error(errors::WRONGTYPE);
    }

    pub fn error(&mut self, msg: &str) {
        self.out.error(msg);
    }
}

/// One database of a locked shard, as a handler modifies it. It derefs to
/// [`DbShard`]; its `set` and `insert_entry` also report Redis's "new" event (class
/// NEW, no key modification) when they create a key, as Redis's `dbAdd` does: at
/// the moment of creation, so before the event of the command that created it
/// ("new" then "lpush"; "new" then "rename_from", "rename_to").
pub struct DbMut<'c> {
    shard: &'c mut DbShard,
    ev: &'c mut Events,
    db: usize,
}

impl DbMut<'_> {
    /// [`DbShard::set`], reporting "new" if `key` was absent.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, now: impl Into<Now>) {
        // Only look twice when someone listens for "new".
        let created = self.ev.want.classes & class::NEW != 0 && !self.shard.contains(key);
        self.shard.set(key, value, keep_ttl, now);
        if created {
            self.ev.notice_only(class::NEW, "new", self.db, key);
        }
    }

    /// [`DbShard::insert_entry`] (the key is absent: its old value, if any, was
    /// deleted first), reporting "new".
    pub fn insert_entry(&mut self, key: &[u8], entry: Entry, expire_at: Option<i64>) {
        self.shard.insert_entry(key, entry, expire_at);
        self.ev.notice_only(class::NEW, "new", self.db, key);
    }
}

impl std::ops::Deref for DbMut<'_> {
    type Target = DbShard;
    fn deref(&self) -> &DbShard {
        self.shard
    }
}

impl std::ops::DerefMut for DbMut<'_> {
    fn deref_mut(&mut self) -> &mut DbShard {
        self.shard
    }
}

/// Database `db` of the locked shard `idx`.
///
/// Invariant: dispatch locked the shards of every key the command table lists for
/// the command, handlers only touch those keys (or call `lock_all`), and `db` is
/// a valid index (SELECT, MOVE, COPY and SWAPDB check it).
fn locked_db<'l>(locked: &'l mut Locked<'_>, idx: usize, db: usize) -> &'l mut DbShard {
    let shard = locked
        .shard(idx)
        .expect("dispatch locks the shard of every key the command declares");
    &mut shard.dbs[db]
}
