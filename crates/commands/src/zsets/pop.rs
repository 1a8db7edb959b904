//! ZPOPMIN ZPOPMAX ZMPOP BZPOPMIN BZPOPMAX BZMPOP.
//!
//! All run Redis's `genericZpopCommand` over one key ([`pop_from`]); the blocking
//! ones first look for a non-empty key and otherwise ask to wait on their keys
//! ([`Ctx::block_on`]). When re-run for a woken client (`ctx.woken`) a key of
//! another type is passed over instead of answering WRONGTYPE, as Redis 7.0 leaves
//! such a client blocked. Served blocking pops and ZMPOP propagate as
//! `ZPOPMIN|ZPOPMAX key [count]`.

use super::{get_zset, reply_pair, resp3, zset_and_out};
use crate::args::{self, kw};
use crate::ctx::{Ctx, Propagate, TimeoutReply, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::{class, Access};

/// The shape of a pop's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// `member score ...` (ZPOPMIN in RESP2, or without a count).
    Flat,
    /// `[member, score] ...` (ZPOPMIN with a count in RESP3).
    Nested,
    /// `key member score` (BZPOPMIN, BZPOPMAX).
    KeyFlat,
    /// `key [[member, score] ...]` (ZMPOP, BZMPOP).
    KeyNested,
}

/// Pops up to `count` members (at least one) from the low (`min`) or high end of
/// the non-empty sorted set at `key`, replies them in `shape`, reports the events,
/// deletes the key once empty and counts the changes.
/// Pops up to `count` members and returns how many it popped.
fn pop_from(ctx: &mut Ctx<'_>, key: &[u8], min: bool, count: usize, shape: Shape) -> usize {
    let (z, out) = zset_and_out(ctx, key, Access::NoTouch);
    let Ok(Some(z)) = z else {
        return 0;
    };
    let len = z.len();
    let n = count.min(len);
    match shape {
        Shape::Flat => out.array(n * 2),
        Shape::Nested => out.array(n),
        Shape::KeyFlat => {
            out.array(n * 2 + 1);
            out.bulk(key);
        }
        Shape::KeyNested => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    let nested = matches!(shape, Shape::Nested | Shape::KeyNested);
    if min {
        z.remove_range(0, n, &mut |m, s| reply_pair(out, nested, m, s));
    } else {
        let mut popped = Vec::with_capacity(n);
        z.remove_range(len - n, len, &mut |m, s| popped.push((m.to_vec(), s)));
        for (m, s) in popped.iter().rev() {
            reply_pair(out, nested, m, *s);
        }
    }
    let emptied = z.is_empty();
    ctx.dirty += n as u64;
    ctx.notify(class::ZSET, if min { "zpopmin" } else { "zpopmax" }, key);
    if emptied {
        ctx.db(key).remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    n
}

fn pop_command(min: bool, key: &Bytes, count: Option<usize>) -> Vec<Bytes> {
    let mut cmd = vec![
        Bytes::from_static(if min { b"ZPOPMIN" } else { b"ZPOPMAX" }),
        key.clone(),
    ];
    if let Some(c) = count {
        cmd.push(Bytes::from(c.to_string()));
    }
    cmd
}

/// The first of `keys` holding a sorted set: `Err` (WRONGTYPE replied) when a key
/// of another type comes first, unless `skip_wrong` (a woken blocked client).
fn first_zset(ctx: &mut Ctx<'_>, keys: &[Bytes], skip_wrong: bool) -> Result<Option<Bytes>, ()> {
    for key in keys {
        match get_zset(ctx, key, Access::Write) {
            Err(WrongType) if skip_wrong => continue,
            Err(WrongType) => {
                ctx.wrong_type();
                return Err(());
            }
            Ok(Some(z)) if !z.is_empty() => return Ok(Some(key.clone())),
            Ok(_) => continue,
        }
    }
    Ok(None)
}

pub(super) fn zpopmin(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    zpop_minmax(ctx, argv, true);
}

pub(super) fn zpopmax(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    zpop_minmax(ctx, argv, false);
}

fn zpop_minmax(ctx: &mut Ctx<'_>, argv: &[Bytes], min: bool) {
    if argv.len() > 3 {
        return ctx.error(errors::SYNTAX);
    }
    let count = match argv.get(2) {
        None => None,
        Some(a) => match args::int(a) {
            Ok(c) if c >= 0 => Some(usize::try_from(c).unwrap_or(usize::MAX)),
            _ => return ctx.error(errors::NOT_POSITIVE),
        },
    };
    let key = &argv[1];
    match first_zset(ctx, std::slice::from_ref(key), false) {
        Err(()) => {}
        Ok(None) => ctx.out.array(0),
        Ok(Some(_)) if count == Some(0) => ctx.out.array(0),
        Ok(Some(k)) => {
            let shape = if count.is_some() && resp3(ctx.out) {
                Shape::Nested
            } else {
                Shape::Flat
            };
            pop_from(ctx, &k, min, count.unwrap_or(1), shape);
        }
    }
}

/// The arguments of ZMPOP and BZMPOP from `numkeys` on.
struct MpopArgs<'a> {
    keys: &'a [Bytes],
    min: bool,
    count: usize,
}

fn parse_mpop(a: &[Bytes]) -> Result<MpopArgs<'_>, &'static str> {
    let numkeys = match args::int(&a[0]) {
        Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => return Err(errors::NUMKEYS_NOT_POSITIVE),
    };
    let where_idx = numkeys
        .checked_add(1)
        .filter(|&w| w < a.len())
        .ok_or(errors::SYNTAX)?;
    let min = if kw(&a[where_idx], "min") {
        true
    } else if kw(&a[where_idx], "max") {
        false
    } else {
        return Err(errors::SYNTAX);
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if count.is_none() && kw(&a[j], "count") && more > 0 {
            j += 1;
            count = Some(match args::int(&a[j]) {
                Ok(c) if c >= 1 => usize::try_from(c).unwrap_or(usize::MAX),
                _ => return Err(errors::COUNT_NOT_POSITIVE),
            });
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    Ok(MpopArgs {
        keys: &a[1..where_idx],
        min,
        count: count.unwrap_or(1),
    })
}

pub(super) fn zmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let a = match parse_mpop(&argv[1..]) {
        Ok(a) => a,
        Err(e) => return ctx.error(e),
    };
    match first_zset(ctx, a.keys, false) {
        Err(()) => {}
        Ok(None) => ctx.out.null_array(),
        Ok(Some(k)) => {
            // Redis sends the number actually popped (ZMPOP 1 z MIN COUNT 5 on
            // two members: ZPOPMIN z 2).
            let n = pop_from(ctx, &k, a.min, a.count, Shape::KeyNested);
            ctx.propagate = Propagate::Rewritten(vec![pop_command(a.min, &k, Some(n))]);
        }
    }
}

pub(super) fn bzpopmin(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    bzpop_minmax(ctx, argv, true);
}

pub(super) fn bzpopmax(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    bzpop_minmax(ctx, argv, false);
}

fn bzpop_minmax(ctx: &mut Ctx<'_>, argv: &[Bytes], min: bool) {
    let deadline = match args::timeout_secs(&argv[argv.len() - 1], ctx.now.ms) {
        Ok(d) => d,
        Err(e) => return ctx.error(e),
    };
    let keys = &argv[1..argv.len() - 1];
    let woken = ctx.woken;
    match first_zset(ctx, keys, woken) {
        Err(()) => {}
        Ok(Some(k)) => {
            pop_from(ctx, &k, min, 1, Shape::KeyFlat);
            ctx.propagate = Propagate::Rewritten(vec![pop_command(min, &k, None)]);
        }
        Ok(None) => ctx.block_on(keys.to_vec(), deadline, TimeoutReply::NullArray, None),
    }
}

pub(super) fn bzmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let a = match parse_mpop(&argv[2..]) {
        Ok(a) => a,
        Err(e) => return ctx.error(e),
    };
    let deadline = match args::timeout_secs(&argv[1], ctx.now.ms) {
        Ok(d) => d,
        Err(e) => return ctx.error(e),
    };
    let woken = ctx.woken;
    match first_zset(ctx, a.keys, woken) {
        Err(()) => {}
        Ok(Some(k)) => {
            // Redis sends the number actually popped (ZMPOP 1 z MIN COUNT 5 on
            // two members: ZPOPMIN z 2).
            let n = pop_from(ctx, &k, a.min, a.count, Shape::KeyNested);
            ctx.propagate = Propagate::Rewritten(vec![pop_command(a.min, &k, Some(n))]);
        }
        Ok(None) => ctx.block_on(a.keys.to_vec(), deadline, TimeoutReply::NullArray, None),
    }
}
