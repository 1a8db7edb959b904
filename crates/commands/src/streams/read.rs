//! XREAD XREADGROUP, with BLOCK.
//!
//! Both parse everything and check every key (type, group) before serving any,
//! then serve each stream that has something for the caller. When nothing can be
//! served and BLOCK was given, the command asks to wait on its keys
//! ([`Ctx::block_on`]) and is run again on wake-up, with `$` resolved to the
//! stream's last ID at the time of the first call and a COUNT of 1000 when none
//! was given (Redis's default for a served blocked client). On such a re-run
//! (`ctx.woken`), a key of another type or a missing key means "keep waiting",
//! and a group that disappeared ends the wait with Redis's NOGROUP error.

use super::{id_bytes, xclaim_effect};
use super::{no_key_or_group, reply_entry, reply_id, setid_effect, stream_and_out, strict_id};
use crate::args::kw;
use crate::ctx::{Ctx, Propagate, TimeoutReply, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::stream::{Pending, StreamId, ENTRIES_READ_UNKNOWN};
use shoal_keyspace::{class, Access, Stream};
use shoal_resp::{Proto, ReplyWriter};

/// Entries a woken blocked reader gets when it gave no COUNT.
const BLOCKED_DEFAULT_COUNT: &str = "1000";

struct ReadArgs {
    /// 0: no limit.
    count: usize,
    count_given: bool,
    /// None: no BLOCK; Some(None): wait forever.
    block: Option<Option<i64>>,
    noack: bool,
    group: Option<(Bytes, Bytes)>,
    streams_arg: usize,
    n: usize,
}

fn parse(ctx: &Ctx<'_>, argv: &[Bytes], xreadgroup: bool) -> Result<ReadArgs, &'static str> {
    let mut a = ReadArgs {
        count: 0,
        count_given: false,
        block: None,
        noack: false,
        group: None,
        streams_arg: 0,
        n: 0,
    };
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = &argv[i];
        if kw(o, "block") && more > 0 {
            i += 1;
            a.block = Some(crate::args::timeout_ms(&argv[i], ctx.now.ms)?);
        } else if kw(o, "count") && more > 0 {
            i += 1;
            let n = crate::args::int(&argv[i])?;
            a.count = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
            a.count_given = true;
        } else if kw(o, "streams") && more > 0 {
            a.streams_arg = i + 1;
            let rest = argv.len() - a.streams_arg;
            if !rest.is_multiple_of(2) {
                return Err(errors::XREAD_UNBALANCED);
            }
            a.n = rest / 2;
            break;
        } else if kw(o, "group") && more >= 2 {
            if !xreadgroup {
                return Err(errors::XREAD_GROUP_ONLY_XREADGROUP);
            }
            a.group = Some((argv[i + 1].clone(), argv[i + 2].clone()));
            i += 2;
        } else if kw(o, "noack") {
            if !xreadgroup {
                return Err(errors::XREAD_NOACK_ONLY_XREADGROUP);
            }
            a.noack = true;
        } else {
            return Err(errors::SYNTAX);
        }
        i += 1;
    }
    if a.streams_arg == 0 {
        return Err(errors::SYNTAX);
    }
    if xreadgroup && a.group.is_none() {
        return Err(errors::XREADGROUP_MISSING_GROUP);
    }
    Ok(a)
}

/// Where to read a stream from.
#[derive(Clone, Copy)]
enum From {
    /// Entries after this ID (XREAD; `$` resolved).
    After(StreamId),
    /// `>`: entries never delivered to the group.
    New,
    /// The consumer's pending entries after this ID.
    History(StreamId),
}

pub(super) fn xread(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    read_generic(ctx, argv, false);
}

pub(super) fn xreadgroup(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    read_generic(ctx, argv, true);
}

/// Whether dispatch locked the shard of `key` (the STREAMS keys it extracted can
/// differ from the ones parsed here only for contrived calls, such as a consumer
/// named STREAMS).
fn locked(ctx: &mut Ctx<'_>, key: &[u8]) -> bool {
    let idx = ctx.shard_idx(key);
    ctx.locked.shard(idx).is_some()
}

fn read_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], xreadgroup: bool) {
    let a = match parse(ctx, argv, xreadgroup) {
        Ok(a) => a,
        Err(e) => return ctx.error(e),
    };
    let keys = &argv[a.streams_arg..a.streams_arg + a.n];
    let id_args = &argv[a.streams_arg + a.n..];
    if !keys.iter().all(|k| locked(ctx, k)) {
        return ctx.error(errors::SYNTAX);
    }
    let woken = ctx.woken;
    // Check every key and parse every ID before serving anything.
    let mut from = Vec::with_capacity(a.n);
    let mut keep_waiting = false;
    for (key, id_arg) in keys.iter().zip(id_args) {
        let (s, out) = stream_and_out(ctx, key, Access::Read);
        let s = match s {
            Err(WrongType) if woken => {
                keep_waiting = true;
                None
            }
            Err(WrongType) => return ctx.wrong_type(),
            Ok(s) => s,
        };
        if let Some((group, _)) = &a.group {
            match &s {
                Some(s) if s.groups.contains_key(&group[..]) => {}
                Some(_) if woken => return out.error(errors::XREADGROUP_GROUP_GONE),
                None if woken => keep_waiting = true,
                _ => return no_key_or_group(out, key, group, " in XREADGROUP with GROUP option"),
            }
        }
        let f = if &id_arg[..] == b"$" {
            if xreadgroup {
                return out.error(errors::XREADGROUP_DOLLAR);
            }
            From::After(s.map(|s| s.last_id).unwrap_or(StreamId::ZERO))
        } else if &id_arg[..] == b">" {
            if !xreadgroup {
                return out.error(errors::XREAD_GT_ONLY_XREADGROUP);
            }
            From::New
        } else {
            match strict_id(id_arg, 0) {
                Ok(id) if xreadgroup => From::History(id),
                Ok(id) => From::After(id),
                Err(e) => return out.error(e),
            }
        };
        from.push(f);
    }

    let resp3 = ctx.out.proto == Proto::Resp3;
    let d = ctx.out.defer_len();
    let mut served = 0;
    let mut effects = Vec::new();
    if !keep_waiting {
        for (key, f) in keys.iter().zip(&from) {
            if serve_one(ctx, key, *f, &a, resp3, &mut effects) {
                served += 1;
            }
        }
    }
    if served > 0 {
        if resp3 {
            ctx.out.set_deferred_map(d, served);
        } else {
            ctx.out.set_deferred_array(d, served);
        }
        if xreadgroup {
            ctx.propagate = if effects.is_empty() {
                Propagate::Nothing
            } else {
                Propagate::Rewritten(effects)
            };
        }
        return;
    }
    if xreadgroup {
        ctx.propagate = Propagate::Nothing;
    }
    match a.block {
        None => ctx.out.null_array(),
        Some(deadline) => {
            // Run again on wake-up with `$` resolved as of now.
            let mut again = Vec::with_capacity(argv.len() + 2);
            again.push(argv[0].clone());
            if !a.count_given {
                again.push(Bytes::from_static(b"COUNT"));
                again.push(Bytes::from_static(BLOCKED_DEFAULT_COUNT.as_bytes()));
            }
            again.extend(argv[1..a.streams_arg + a.n].iter().cloned());
            for (arg, f) in id_args.iter().zip(&from) {
                again.push(match f {
                    From::After(id) if &arg[..] == b"$" => id_bytes(*id),
                    _ => arg.clone(),
                });
            }
            ctx.block_on(
                keys.to_vec(),
                deadline,
                TimeoutReply::NullArray,
                Some(again),
            );
        }
    }
}

/// Serves one stream if it has something for the caller: replies `key, entries`
/// (as a map entry in RESP3, a pair in RESP2) and returns true.
fn serve_one(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    f: From,
    a: &ReadArgs,
    resp3: bool,
    effects: &mut Vec<Vec<Bytes>>,
) -> bool {
    let now = ctx.now.ms;
    let (s, out) = stream_and_out(ctx, key, Access::NoTouch);
    let Ok(Some(s)) = s else {
        return false;
    };
    let start = match f {
        From::After(id) => {
            if s.last_entry_id().is_none_or(|top| top <= id) {
                return false;
            }
            id
        }
        From::New => {
            let Some(g) = a.group.as_ref().and_then(|(g, _)| s.groups.get(&g[..])) else {
                return false;
            };
            if s.last_entry_id().is_none_or(|top| top <= g.last_id) {
                return false;
            }
            g.last_id
        }
        From::History(id) => id,
    };
    let Some(start) = start.incr() else {
        return false;
    };
    if !resp3 {
        out.array(2);
    }
    out.bulk(key);
    let Some((group, consumer)) = &a.group else {
        let d = out.defer_len();
        let mut n = 0;
        let limit = if a.count == 0 { usize::MAX } else { a.count };
        for (id, e) in s.range(start, StreamId::MAX, false).take(limit) {
            reply_entry(out, id, e);
            n += 1;
        }
        out.set_deferred_array(d, n);
        return true;
    };
    let created = match s.groups.get_mut(&group[..]) {
        Some(g) => {
            let created = g.create_consumer(consumer, now);
            if let Some(c) = g.consumers.get_mut(&consumer[..]) {
                c.seen_time = now;
            }
            created
        }
        None => false,
    };
    match f {
        From::History(_) => serve_history(s, out, group, consumer, start, a.count, now),
        _ => serve_new(s, out, key, group, consumer, start, a, now, effects),
    }
    ctx.dirty += 1;
    if created {
        ctx.dirty += 1;
        ctx.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    true
}

/// `>`: entries from `start` on, added to the group's and the consumer's PEL
/// (unless NOACK), moving the group's last ID and read counter.
#[allow(clippy::too_many_arguments)]
fn serve_new(
    s: &mut Stream,
    out: &mut ReplyWriter,
    key: &Bytes,
    group: &Bytes,
    consumer: &Bytes,
    start: StreamId,
    a: &ReadArgs,
    now: i64,
    effects: &mut Vec<Vec<Bytes>>,
) {
    let limit = if a.count == 0 { usize::MAX } else { a.count };
    let mut ids = Vec::new();
    let d = out.defer_len();
    for (id, e) in s.range(start, StreamId::MAX, false).take(limit) {
        reply_entry(out, id, e);
        ids.push(id);
    }
    out.set_deferred_array(d, ids.len());
    let mut moved = false;
    for id in ids {
        let (tombstones, estimate, added) = (
            s.range_has_tombstones(Some(id), None),
            s.estimate_distance(id),
            s.entries_added,
        );
        let Some(g) = s.groups.get_mut(&group[..]) else {
            return;
        };
        if id > g.last_id {
            if g.entries_read != ENTRIES_READ_UNKNOWN && !tombstones {
                g.entries_read += 1;
            } else if added > 0 {
                g.entries_read = estimate.map(|v| v as i64).unwrap_or(ENTRIES_READ_UNKNOWN);
            }
            g.last_id = id;
            moved = true;
        }
        if !a.noack {
            if let Some(old) = g.pel.get(&id).map(|p| p.consumer.clone()) {
                if let Some(c) = g.consumers.get_mut(&old) {
                    c.pel.remove(&id);
                }
            }
            g.pel.insert(
                id,
                Pending {
                    consumer: consumer[..].into(),
                    delivery_time: now,
                    delivery_count: 1,
                },
            );
            if let Some(c) = g.consumers.get_mut(&consumer[..]) {
                c.pel.insert(id);
            }
            effects.push(xclaim_effect(key, group, consumer, id, now, 1, g.last_id));
        }
    }
    if moved && a.noack {
        if let Some(g) = s.groups.get(&group[..]) {
            effects.push(setid_effect(key, group, g.last_id, g.entries_read));
        }
    }
}

/// An explicit ID: the consumer's pending entries after it, each delivered again
/// (`[id, nil]` for an entry deleted since).
#[allow(clippy::too_many_arguments)]
fn serve_history(
    s: &mut Stream,
    out: &mut ReplyWriter,
    group: &Bytes,
    consumer: &Bytes,
    start: StreamId,
    count: usize,
    now: i64,
) {
    let limit = if count == 0 { usize::MAX } else { count };
    let ids: Vec<StreamId> = match s
        .groups
        .get(&group[..])
        .and_then(|g| g.consumers.get(&consumer[..]))
    {
        Some(c) => c.pel.range(start..).take(limit).copied().collect(),
        None => Vec::new(),
    };
    out.array(ids.len());
    for id in ids {
        match s.get(id) {
            Some(e) => reply_entry(out, id, e),
            None => {
                out.array(2);
                reply_id(out, id);
                out.null_array();
                continue;
            }
        }
        // Redis 7.0 does not propagate a re-delivery from history.
        if let Some(p) = s
            .groups
            .get_mut(&group[..])
            .and_then(|g| g.pel.get_mut(&id))
        {
            p.delivery_time = now;
            p.delivery_count += 1;
        }
    }
}
