//! Set commands.
//!
//! | module | commands |
//! |---|---|
//! | [`members`] | SADD SREM SISMEMBER SMISMEMBER SCARD SMOVE |
//! | [`random`] | SPOP SRANDMEMBER |
//! | [`algebra`] | SMEMBERS SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE |
//! | [`scan`] | SSCAN |
//!
//! Behaviour is Redis 7.0.15's: order of argument and type checks, reply types
//! (SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count reply a RESP3 set `~`;
//! SRANDMEMBER with a count an array), error texts, `server.dirty` increments,
//! keyspace events, and the encoding a result gets (a fresh set starts as an intset
//! and converts by the rules of `Set::add`, as Redis's `setTypeAdd` does; so does
//! the temporary set Redis builds to reply SUNION/SDIFF, which makes their replies
//! sorted exactly when Redis's are).
//!
//! Propagation: SPOP is rewritten as `SREM key member` (one command per popped
//! member), or `DEL key` when a count pops the whole set, as Redis 7.0 does.
//!
//! Invariants:
//! - a set key never exists empty: whatever removes the last member deletes the
//!   key in the same command;
//! - a handler touches only the keys dispatch locked for it; SINTERCARD checks
//!   `numkeys` before reading any key, because only a well-formed call has its keys
//!   extracted and locked.

mod algebra;
mod members;
mod random;
mod scan;

#[cfg(test)]
mod tests;

use crate::ctx::{Ctx, WrongType};
use crate::settings::Settings;
use crate::Handler;
use shoal_keyspace::{Access, Elem, Set, Value};
use shoal_resp::ReplyWriter;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("sadd", members::sadd),
    ("srem", members::srem),
    ("sismember", members::sismember),
    ("smismember", members::smismember),
    ("scard", members::scard),
    ("smove", members::smove),
    ("spop", random::spop),
    ("srandmember", random::srandmember),
    ("smembers", algebra::smembers),
    ("sinter", algebra::sinter),
    ("sintercard", algebra::sintercard),
    ("sinterstore", algebra::sinterstore),
    ("sunion", algebra::sunion),
    ("sunionstore", algebra::sunionstore),
    ("sdiff", algebra::sdiff),
    ("sdiffstore", algebra::sdiffstore),
    ("sscan", scan::sscan),
];

/// `set-max-intset-entries` as a member count.
pub(crate) fn max_intset(settings: &Settings) -> usize {
    usize::try_from(settings.set_max_intset_entries).unwrap_or(0)
}

/// Replies one member as a bulk string.
pub(crate) fn reply_elem(out: &mut ReplyWriter, e: Elem<'_>) {
    match e {
        Elem::Bytes(b) => out.bulk(b),
        Elem::Int(v) => out.bulk_int(v),
    }
}

/// Looks `key` up and hands back its set together with the reply writer.
pub(crate) fn set_and_out<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    access: Access,
) -> (Result<Option<&'c mut Set>, WrongType>, &'c mut ReplyWriter) {
    ctx.typed_and_out(key, access, Value::as_set_mut)
}

/// The set at `key`: `Ok(None)` if absent, `Err` if another type.
pub(crate) fn get_set<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    access: Access,
) -> Result<Option<&'c mut Set>, WrongType> {
    set_and_out(ctx, key, access).0
}
