//! Keyspace notification classes and the record of what a command changed.
//!
//! Handlers report each change with [`Events::notify`](crate::Events::notify),
//! naming the event as Redis names it ("lpush", "del", "expired", ...). One call
//! feeds everything that reacts to modified keys: WATCH, client-side caching
//! invalidation, clients blocked on the key, and `notify-keyspace-events`. The call
//! layer decides per command what it needs ([`Want`]); when nothing is listening a
//! notification costs one branch.
//!
//! Three events come from the keyspace layer rather than from handlers, at the
//! moment Redis fires them: "expired" when a lookup or the active cycle deletes a
//! key whose TTL passed ([`Events::expired_key`](crate::Events::expired_key)),
//! "keymiss" when a read misses ([`Access`](crate::Access)), and "new" when a key
//! is created (the commands crate's `DbMut`).

/// Bits of `notify-keyspace-events`, with the values Redis gives them (the module
/// API exposes them, so they are part of the contract).
pub mod class {
    /// `K`: publish on `__keyspace@<db>__`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish on `__keyevent@<db>__`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expirations.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evictions.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key misses (not part of `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// Loaded keys (modules only, no letter).
    pub const LOADED: u32 = 1 << 12;
    /// `d`: module key types.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: new keys (not part of `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: alias for `g$lshzxetd`.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// What the call layer wants recorded for the current command.
#[derive(Clone, Copy, Debug, Default)]
pub struct Want {
    /// Record modified keys (someone WATCHes, tracks, or blocks on keys).
    pub touched: bool,
    /// `notify-keyspace-events` classes to record (0: none).
    pub classes: u32,
}

/// One keyspace notification to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub class: u32,
    pub event: &'static str,
    pub db: usize,
    pub key: bytes::Bytes,
}
