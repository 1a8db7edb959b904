//! Hash commands.
//!
//! | module | commands |
//! |---|---|
//! | [`write`] | HSET HMSET HSETNX HDEL HINCRBY HINCRBYFLOAT |
//! | [`read`] | HGET HMGET HGETALL HKEYS HVALS HLEN HSTRLEN HEXISTS |
//! | [`random`] | HRANDFIELD |
//! | [`scan`] | HSCAN |
//!
//! Behaviour is Redis 7.0.15's: the order of argument checks and type checks,
//! reply types (HGETALL is a map in RESP3, HRANDFIELD WITHVALUES pairs up in RESP3),
//! error texts, `dirty` counts (one per pair written by HSET/HMSET, one per field
//! deleted), keyspace events ("hset", "hdel", "hincrby", "hincrbyfloat", then "del"
//! when HDEL removes the last field) and encodings: a write converts a compact hash
//! with exactly the checks Redis makes (see `shoal_keyspace::hash`). HINCRBYFLOAT is
//! propagated as `HSET key field <result>`; everything else as received.
//!
//! Invariant: a hash key never exists empty: whatever removes the last field
//! deletes the key in the same command.

mod random;
mod read;
mod scan;
mod write;

#[cfg(test)]
mod tests;

use crate::ctx::{Ctx, WrongType};
use crate::settings::Settings;
use crate::Handler;
use shoal_keyspace::hash::Limits;
use shoal_keyspace::{Access, Hash, Value};
use shoal_resp::ReplyWriter;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("hset", write::hset),
    ("hmset", write::hmset),
    ("hsetnx", write::hsetnx),
    ("hdel", write::hdel),
    ("hincrby", write::hincrby),
    ("hincrbyfloat", write::hincrbyfloat),
    ("hget", read::hget),
    ("hmget", read::hmget),
    ("hgetall", read::hgetall),
    ("hkeys", read::hkeys),
    ("hvals", read::hvals),
    ("hlen", read::hlen),
    ("hstrlen", read::hstrlen),
    ("hexists", read::hexists),
    ("hrandfield", random::hrandfield),
    ("hscan", scan::hscan),
];

/// The compact-form limits of the configuration (`hash-max-listpack-*`).
pub fn limits(settings: &Settings) -> Limits {
    Limits::new(
        settings.hash_max_listpack_entries,
        settings.hash_max_listpack_value,
    )
}

/// Looks `key` up and hands back its hash together with the reply writer.
pub(crate) fn hash_and_out<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    access: Access,
) -> (Result<Option<&'c mut Hash>, WrongType>, &'c mut ReplyWriter) {
    ctx.typed_and_out(key, access, Value::as_hash_mut)
}

/// The hash at `key`: `Ok(None)` if absent, `Err` if another type.
pub(crate) fn get_hash<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    access: Access,
) -> Result<Option<&'c mut Hash>, WrongType> {
    hash_and_out(ctx, key, access).0
}

/// The hash at `key` before a write, created empty (and stored) if the key is
/// absent, as Redis's `hashTypeLookupWriteOrCreate`. The caller must leave it
/// non-empty.
pub(crate) fn hash_or_create<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
) -> Result<&'c mut Hash, WrongType> {
    if get_hash(ctx, key, Access::Write)?.is_none() {
        let now = ctx.now;
        ctx.db(key).set(key, Value::Hash(Hash::new()), false, now);
    }
    match get_hash(ctx, key, Access::NoTouch) {
        Ok(Some(h)) => Ok(h),
        // Invariant: the key was just stored as a hash under the same locks.
        _ => unreachable!("a hash was just stored at the key"),
    }
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
