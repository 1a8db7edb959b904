//! List commands.
//!
//! | module | commands |
//! |---|---|
//! | [`pushpop`] | LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LMPOP LMOVE RPOPLPUSH |
//! | [`edit`] | LSET LINSERT LREM LTRIM |
//! | [`read`] | LLEN LRANGE LINDEX LPOS |
//! | [`blocking`] | BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH |
//!
//! Behaviour is Redis 7.0.15's: the order of argument checks and type checks (some
//! commands parse their integers before looking the key up, others after), reply
//! types (RESP2 `*-1` vs RESP3 `_` for a missing key with a count), error texts and
//! `server.dirty` increments (one per element pushed or removed; one per LSET,
//! LINSERT, LMOVE). LMPOP is propagated as `LPOP|RPOP key count` with the number of
//! elements actually popped; everything else as received.
//!
//! Events: "lpush"/"rpush" and "lpop"/"rpop" by the end touched (LMOVE reports
//! the push on the destination, then the pop on the source), each pop or removal
//! that empties a list followed by "del"; pops and pushes look keys up for writing,
//! so a missing key fires no "keymiss".
//!
//! Invariants:
//! - a list key never exists empty: whatever removes the last element deletes the
//!   key in the same command;
//! - a handler touches only the keys dispatch locked for it. LMPOP validates
//!   `numkeys` and the direction before reading any key, because only a well-formed
//!   call has its keys extracted (and locked);
//! - keywords (LEFT, RIGHT, BEFORE, AFTER, RANK, COUNT, MAXLEN) are compared like
//!   Redis's `strcasecmp`: case-insensitively, up to the argument's first NUL byte.
//!
//! The pop and move steps live in [`pushpop`] as functions over a key that is known
//! to hold a non-empty list, so that the blocking variants (BLPOP, BLMOVE, BLMPOP)
//! can serve a waiter with exactly the code the non-blocking commands run.

mod blocking;
mod edit;
#[cfg(test)]
mod golden_corpus;
mod pushpop;
mod read;

#[cfg(test)]
mod tests;

use crate::args::kw;
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use crate::settings::Settings;
use crate::Handler;
use shoal_keyspace::{Access, Elem, End, List, Value};
use shoal_resp::ReplyWriter;

pub use pushpop::{
    move_element, parse_mpop, pop_and_reply, try_pop_first, MoveOutcome, MpopArgs, PopOutcome,
    PopShape,
};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("lpush", pushpop::lpush),
    ("rpush", pushpop::rpush),
    ("lpushx", pushpop::lpushx),
    ("rpushx", pushpop::rpushx),
    ("lpop", pushpop::lpop),
    ("rpop", pushpop::rpop),
    ("lmpop", pushpop::lmpop),
    ("lmove", pushpop::lmove),
    ("rpoplpush", pushpop::rpoplpush),
    ("llen", read::llen),
    ("lrange", read::lrange),
    ("lindex", read::lindex),
    ("lpos", read::lpos),
    ("lset", edit::lset),
    ("linsert", edit::linsert),
    ("lrem", edit::lrem),
    ("ltrim", edit::ltrim),
    ("blpop", blocking::blpop),
    ("brpop", blocking::brpop),
    ("blmpop", blocking::blmpop),
    ("blmove", blocking::blmove),
    ("brpoplpush", blocking::brpoplpush),
];

/// A new, empty list shaped by the configuration (`list-max-listpack-size`).
pub fn new_list(settings: &Settings) -> List {
    List::new(settings.list_max_listpack_size)
}

/// Replies one element as a bulk string.
pub(crate) fn reply_elem(out: &mut ReplyWriter, e: Elem<'_>) {
    match e {
        Elem::Bytes(b) => out.bulk(b),
        Elem::Int(v) => out.bulk_int(v),
    }
}

/// LEFT or RIGHT (Redis's `getListPositionFromObjectOrReply`).
pub(crate) fn parse_end(arg: &[u8]) -> Result<End, &'static str> {
    if kw(arg, "left") {
        Ok(End::Head)
    } else if kw(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(errors::SYNTAX)
    }
}

/// Looks `key` up and hands back its list together with the reply writer, so a
/// handler can reply straight from the stored elements.
pub(crate) fn list_and_out<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    access: Access,
) -> (Result<Option<&'c mut List>, WrongType>, &'c mut ReplyWriter) {
    ctx.typed_and_out(key, access, Value::as_list_mut)
}

/// The list at `key`: `Ok(None)` if absent, `Err` if another type.
pub(crate) fn get_list<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    access: Access,
) -> Result<Option<&'c mut List>, WrongType> {
    list_and_out(ctx, key, access).0
}

/// Index `i` of a list of `len` elements, negative counting from the tail, if it
/// names an element.
pub(crate) fn resolve_index(len: usize, i: i64) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    // len >= 0 and i < 0, so the sum cannot overflow.
    let i = if i < 0 { len + i } else { i };
    (0..len).contains(&i).then_some(i as usize)
}

/// Redis's range clamping (LRANGE, LTRIM): `start..=end` with negative indexes from
/// the tail, as `(first, count)`; `None` when the range is empty.
pub(crate) fn resolve_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let llen = i64::try_from(len).ok()?;
    let start = if start < 0 { llen + start } else { start }.max(0);
    let end = if end < 0 { llen + end } else { end };
    if start > end || start >= llen {
        return None;
    }
    let end = end.min(llen - 1);
    Some((start as usize, (end - start + 1) as usize))
}
