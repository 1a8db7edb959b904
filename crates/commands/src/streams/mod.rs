//! Stream commands.
//!
//! | module | commands |
//! |---|---|
//! | [`add`] | XADD XTRIM XDEL XLEN XSETID |
//! | [`range`] | XRANGE XREVRANGE |
//! | [`read`] | XREAD XREADGROUP (with BLOCK) |
//! | [`group`] | XGROUP XACK XPENDING XCLAIM XAUTOCLAIM |
//! | [`info`] | XINFO |
//!
//! Behaviour is Redis 7.0.15's: argument checks in Redis's order (several commands
//! parse all their IDs before touching anything, so that they run all or nothing),
//! error texts, reply shapes (RESP3 maps for XINFO and XREAD), keyspace events
//! ("xadd", "xtrim", "xdel", "xsetid", "xgroup-create", "xgroup-createconsumer",
//! "xgroup-delconsumer", "xgroup-destroy", "xgroup-setid") and `dirty` counts.
//!
//! Propagation (what replicas and the AOF get), as Redis 7.0 does it:
//! - XADD with `*` or `ms-*`: the command with the ID it generated; XADD/XTRIM with
//!   `~`: the command with `=` and the length (MAXLEN) or first ID (MINID) the
//!   stream was actually trimmed to, so that replicas trim exactly the same;
//! - XREADGROUP: not itself, but an `XCLAIM key group consumer 0 id TIME ms
//!   RETRYCOUNT n FORCE JUSTID LASTID last-id` per entry it added to the PEL, and
//!   with NOACK `XGROUP SETID key group last-id ENTRIESREAD n` when the group's
//!   last ID moved. Like Redis 7.0.15 (checked on its replication stream), a
//!   consumer it creates and re-deliveries from history are not propagated;
//! - XCLAIM and XAUTOCLAIM: the same XCLAIM form per entry claimed or dropped
//!   from the PEL (plus XGROUP SETID when XCLAIM's LASTID moved the group);
//! - everything else as received.
//!
//! Invariant: a handler touches only the keys dispatch locked. XREAD and
//! XREADGROUP check that their STREAMS list is balanced before reading any key
//! (only then are the keys extracted and locked).

mod add;
mod group;
mod info;
mod range;
mod read;

#[cfg(test)]
mod tests;

use crate::ctx::{Ctx, WrongType};
use crate::errors;
use crate::Handler;
use bytes::Bytes;
use shoal_keyspace::stream::{parse_id, EntryRef, Seq, StreamId};
use shoal_keyspace::{Access, Stream, Value};
use shoal_resp::ReplyWriter;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("xadd", add::xadd),
    ("xtrim", add::xtrim),
    ("xdel", add::xdel),
    ("xlen", add::xlen),
    ("xsetid", add::xsetid),
    ("xrange", range::xrange),
    ("xrevrange", range::xrevrange),
    ("xread", read::xread),
    ("xreadgroup", read::xreadgroup),
    ("xgroup", group::xgroup),
    ("xack", group::xack),
    ("xpending", group::xpending),
    ("xclaim", group::xclaim),
    ("xautoclaim", group::xautoclaim),
    ("xinfo", info::xinfo),
];

/// A strict ID (`-` and `+` refused): `ms-seq`, or `ms` with `missing_seq`.
pub(crate) fn strict_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
    let c = c_str(arg);
    if c == b"-" || c == b"+" {
        return Err(errors::STREAM_INVALID_ID);
    }
    any_id(arg, missing_seq)
}

/// An ID where `-` is the minimum and `+` the maximum.
pub(crate) fn any_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
    if arg.len() <= 127 {
        let c = c_str(arg);
        if c == b"-" {
            return Ok(StreamId::ZERO);
        }
        if c == b"+" {
            return Ok(StreamId::MAX);
        }
    }
    match parse_id(arg, false) {
        Some((ms, seq, Seq::Given)) => Ok(StreamId::new(ms, seq)),
        Some((ms, _, _)) => Ok(StreamId::new(ms, missing_seq)),
        None => Err(errors::STREAM_INVALID_ID),
    }
}

/// One end of a range: an ID as [`any_id`], or `(id` (strict) for an exclusive
/// end. Returns the ID and whether it is exclusive.
pub(crate) fn interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), &'static str> {
    if arg.len() > 1 && arg[0] == b'(' {
        return Ok((strict_id(&arg[1..], missing_seq)?, true));
    }
    Ok((any_id(arg, missing_seq)?, false))
}

/// The start of a range, with `(` moving it past the ID.
pub(crate) fn range_start(arg: &[u8]) -> Result<StreamId, &'static str> {
    match interval_id(arg, 0)? {
        (id, true) => id.incr().ok_or(errors::INVALID_START_ID),
        (id, false) => Ok(id),
    }
}

/// The end of a range, with `(` moving it before the ID.
pub(crate) fn range_end(arg: &[u8]) -> Result<StreamId, &'static str> {
    match interval_id(arg, u64::MAX)? {
        (id, true) => id.decr().ok_or(errors::INVALID_END_ID),
        (id, false) => Ok(id),
    }
}

/// The bytes of `arg` up to its first NUL (how Redis reads some arguments).
pub(crate) fn c_str(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&b| b == 0) {
        Some(n) => &arg[..n],
        None => arg,
    }
}

pub(crate) fn id_bytes(id: StreamId) -> Bytes {
    Bytes::from(id.to_bytes())
}

pub(crate) fn reply_id(out: &mut ReplyWriter, id: StreamId) {
    out.bulk(&id.to_bytes());
}

/// `[id, [field, value, ...]]`.
pub(crate) fn reply_entry(out: &mut ReplyWriter, id: StreamId, e: EntryRef<'_>) {
    out.array(2);
    reply_id(out, id);
    out.array(e.len() * 2);
    for (f, v) in e.pairs() {
        out.bulk(f);
        out.bulk(v);
    }
}

/// Looks `key` up and hands back its stream together with the reply writer.
pub(crate) fn stream_and_out<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    access: Access,
) -> (
    Result<Option<&'c mut Stream>, WrongType>,
    &'c mut ReplyWriter,
) {
    ctx.typed_and_out(key, access, Value::as_stream_mut)
}

/// An error text built from names (keys, groups) that may not be UTF-8; Redis
/// prints them as C strings, up to a NUL byte.
pub(crate) fn error_with(out: &mut ReplyWriter, parts: &[&[u8]]) {
    let mut msg = Vec::new();
    for p in parts {
        msg.extend_from_slice(p);
    }
    out.error_bytes(&msg);
}

/// `NOGROUP No such key 'k' or consumer group 'g'` (+ `suffix`).
pub(crate) fn no_key_or_group(out: &mut ReplyWriter, key: &[u8], group: &[u8], suffix: &str) {
    error_with(
        out,
        &[
            b"NOGROUP No such key '",
            c_str(key),
            b"' or consumer group '",
            c_str(group),
            b"'",
            suffix.as_bytes(),
        ],
    );
}

/// `NOGROUP No such consumer group 'g' for key name 'k'`.
pub(crate) fn no_group_for_key(out: &mut ReplyWriter, key: &[u8], group: &[u8]) {
    error_with(
        out,
        &[
            b"NOGROUP No such consumer group '",
            c_str(group),
            b"' for key name '",
            c_str(key),
            b"'",
        ],
    );
}

/// `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID last`:
/// how Redis propagates a change of one PEL entry.
pub(crate) fn xclaim_effect(
    key: &Bytes,
    group: &Bytes,
    consumer: &[u8],
    id: StreamId,
    delivery_time: i64,
    delivery_count: u64,
    last_id: StreamId,
) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        key.clone(),
        group.clone(),
        Bytes::copy_from_slice(consumer),
        Bytes::from_static(b"0"),
        id_bytes(id),
        Bytes::from_static(b"TIME"),
        Bytes::from(delivery_time.to_string()),
        Bytes::from_static(b"RETRYCOUNT"),
        Bytes::from(delivery_count.to_string()),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        id_bytes(last_id),
    ]
}

/// [`xclaim_effect`] of PEL entry `id` as it stands in `p`.
pub(crate) fn pending_effect(
    key: &Bytes,
    group: &Bytes,
    id: StreamId,
    p: &shoal_keyspace::stream::Pending,
    last_id: StreamId,
) -> Vec<Bytes> {
    xclaim_effect(
        key,
        group,
        &p.consumer,
        id,
        p.delivery_time,
        p.delivery_count,
        last_id,
    )
}

/// `XGROUP SETID key group last-id ENTRIESREAD n`.
pub(crate) fn setid_effect(
    key: &Bytes,
    group: &Bytes,
    last_id: StreamId,
    entries_read: i64,
) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        key.clone(),
        group.clone(),
        id_bytes(last_id),
        Bytes::from_static(b"ENTRIESREAD"),
        Bytes::from(entries_read.to_string()),
    ]
}
