//! SMEMBERS, SINTER SINTERCARD SINTERSTORE, SUNION SUNIONSTORE, SDIFF SDIFFSTORE.
//!
//! Every source key is looked up first, in argument order (lazy expiry, statistics,
//! and WRONGTYPE at the first key of another type, even after a missing key); then
//! the sets are read together through shared references to the locked shards, and
//! the result is computed before anything is written, so a destination may also be
//! a source.
//!
//! Redis's algorithms are kept where they decide something visible:
//! - SINTER walks the smallest set and replies in its order (sorted if it is an
//!   intset); a missing key makes the result empty at once;
//! - SUNION and SDIFF build the result as a new set (starting as an intset) and
//!   reply it in that set's order; SDIFF picks, as Redis does, between testing each
//!   member of the first set against the others and adding the first set then
//!   removing the others, which decides whether an SDIFFSTORE result that once held
//!   a non-integer (or too many members) comes out as an intset.
//! - the *STORE commands store a non-empty result (dropping the destination's TTL)
//!   with the event `sinterstore`/`sunionstore`/`sdiffstore`, or delete the
//!   destination (event `del`) when the result is empty.

use super::{max_intset, reply_elem};
use crate::args::{self, kw};
use crate::ctx::Ctx;
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::{class, Access, Locked, Set, Value};

const NUMKEYS: &str = "ERR numkeys should be greater than 0";
const TOO_MANY_KEYS: &str = "ERR Number of keys can't be greater than number of args";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

/// Looks every key up; `Err(())` (WRONGTYPE replied) at the first non-set.
/// Returns whether any key is missing.
fn check_sources(ctx: &mut Ctx<'_>, keys: &[Bytes], access: Access) -> Result<bool, ()> {
    let mut missing = false;
    for k in keys {
        match ctx.lookup(k, access) {
            None => missing = true,
            Some(e) if e.value.as_set().is_none() => {
                ctx.wrong_type();
                return Err(());
            }
            Some(_) => {}
        }
    }
    Ok(missing)
}

/// Shared references to the sets at `keys` (None where absent). The keys have been
/// looked up by [`check_sources`], so expired ones are gone or hidden alike.
fn sources<'l>(
    locked: &'l Locked<'_>,
    db: usize,
    now_ms: i64,
    keys: &[Bytes],
    shards: &[usize],
) -> Vec<Option<&'l Set>> {
    keys.iter()
        .zip(shards)
        .map(|(k, &i)| {
            locked
                .shard_ref(i)
                .and_then(|s| s.dbs[db].peek(k, now_ms))
                .and_then(|e| e.value.as_set())
        })
        .collect()
}

fn shard_indexes(ctx: &Ctx<'_>, keys: &[Bytes]) -> Vec<usize> {
    keys.iter().map(|k| ctx.shard_idx(k)).collect()
}

/// Stores `result` at `dst` (or deletes `dst` if empty) and replies its size.
fn store(ctx: &mut Ctx<'_>, dst: &[u8], result: Set, event: &'static str) {
    ctx.write(dst);
    let n = result.len();
    if n > 0 {
        ctx.set(dst, Value::Set(result), false);
        ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
        ctx.notify(class::SET, event, dst);
    } else {
        ctx.out.int(0);
        if ctx.delete(dst) {
            ctx.notify(class::GENERIC, "del", dst);
        }
    }
}

/// What an intersection produces.
#[derive(Clone, Copy)]
enum InterOut<'a> {
    Reply,
    Card { limit: usize },
    Store(&'a [u8]),
}

fn sinter_generic(ctx: &mut Ctx<'_>, keys: &[Bytes], mode: InterOut<'_>) {
    let access = match mode {
        InterOut::Store(_) => Access::Write,
        _ => Access::Read,
    };
    let Ok(missing) = check_sources(ctx, keys, access) else {
        return;
    };
    if missing {
        match mode {
            InterOut::Store(dst) => store(ctx, dst, Set::new_intset(), "sinterstore"),
            InterOut::Card { .. } => ctx.out.int(0),
            InterOut::Reply => ctx.out.set(0),
        }
        return;
    }
    let shards = shard_indexes(ctx, keys);
    let max = max_intset(ctx.settings);
    let (db, now_ms) = (ctx.db, ctx.now.ms);
    let mut sets: Vec<&Set> = sources(&ctx.locked, db, now_ms, keys, &shards)
        .into_iter()
        .flatten()
        .collect();
    // Smallest first: its members are the candidates.
    sets.sort_by_key(|s| s.len());
    let Some((&first, rest)) = sets.split_first() else {
        return ctx.out.set(0);
    };
    let in_all = |e| {
        rest.iter()
            .all(|s| std::ptr::eq(*s, first) || s.contains_elem(e))
    };
    match mode {
        InterOut::Reply => {
            let out = &mut *ctx.out;
            let len = out.defer_len();
            let mut n = 0;
            for e in first.iter().filter(|&e| in_all(e)) {
                reply_elem(out, e);
                n += 1;
            }
            out.set_deferred_set(len, n);
        }
        InterOut::Card { limit } => {
            let mut n = 0usize;
            for _ in first.iter().filter(|&e| in_all(e)) {
                n += 1;
                if limit != 0 && n >= limit {
                    break;
                }
            }
            ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
        }
        InterOut::Store(dst) => {
            let mut result = Set::new_intset();
            for e in first.iter().filter(|&e| in_all(e)) {
                result.add_elem(e, max);
            }
            store(ctx, dst, result, "sinterstore");
        }
    }
}

/// SMEMBERS is an intersection of one set, as in Redis 7.0.
pub(super) fn smembers(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    sinter_generic(ctx, &argv[1..2], InterOut::Reply);
}

pub(super) fn sinter(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    sinter_generic(ctx, &argv[1..], InterOut::Reply);
}

pub(super) fn sinterstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    sinter_generic(ctx, &argv[2..], InterOut::Store(&argv[1]));
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit].
pub(super) fn sintercard(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let numkeys = match args::int(&argv[1]) {
        Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => return ctx.error(NUMKEYS),
    };
    if numkeys > argv.len() - 2 {
        return ctx.error(TOO_MANY_KEYS);
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if kw(&argv[j], "limit") && more > 0 {
            j += 1;
            limit = match args::int(&argv[j]) {
                Ok(v) if v >= 0 => usize::try_from(v).unwrap_or(usize::MAX),
                _ => return ctx.error(LIMIT_NEGATIVE),
            };
        } else {
            return ctx.error(errors::SYNTAX);
        }
        j += 1;
    }
    sinter_generic(ctx, &argv[2..2 + numkeys], InterOut::Card { limit });
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

fn sunion_diff_generic(ctx: &mut Ctx<'_>, keys: &[Bytes], dst: Option<&[u8]>, op: Op) {
    let access = if dst.is_some() {
        Access::Write
    } else {
        Access::Read
    };
    if check_sources(ctx, keys, access).is_err() {
        return;
    }
    let shards = shard_indexes(ctx, keys);
    let max = max_intset(ctx.settings);
    let (db, now_ms) = (ctx.db, ctx.now.ms);
    let mut sets = sources(&ctx.locked, db, now_ms, keys, &shards);
    let mut result = Set::new_intset();
    match op {
        Op::Union => {
            for s in sets.iter().flatten() {
                for e in s.iter() {
                    result.add_elem(e, max);
                }
            }
        }
        Op::Diff => {
            if let Some(Some(first)) = sets.first().copied() {
                // Redis's choice: walk the first set testing the others (work
                // ~ |first| * sets / 2), or add the first set and remove the others
                // (work ~ the total size).
                let present = sets.iter().flatten().count();
                let one = (first.len() as u128 * present as u128) / 2;
                let two: u128 = sets.iter().flatten().map(|s| s.len() as u128).sum();
                if one <= two {
                    // Largest first, as Redis orders them: members are most likely
                    // found (and rejected) early.
                    sets[1..].sort_by_key(|s| std::cmp::Reverse(s.map_or(0, Set::len)));
                    for e in first.iter() {
                        let excluded = sets[1..]
                            .iter()
                            .flatten()
                            .any(|s| std::ptr::eq(*s, first) || s.contains_elem(e));
                        if !excluded {
                            result.add_elem(e, max);
                        }
                    }
                } else {
                    for (j, s) in sets.iter().enumerate() {
                        let Some(s) = s else { continue };
                        for e in s.iter() {
                            if j == 0 {
                                result.add_elem(e, max);
                            } else {
                                result.remove_elem(e);
                            }
                        }
                        if result.is_empty() {
                            break;
                        }
                    }
                }
            }
        }
    }
    drop(sets);
    match dst {
        None => {
            let out = &mut *ctx.out;
            out.set(result.len());
            result.iter().for_each(|e| reply_elem(out, e));
        }
        Some(dst) => {
            let event = match op {
                Op::Union => "sunionstore",
                Op::Diff => "sdiffstore",
            };
            store(ctx, dst, result, event);
        }
    }
}

pub(super) fn sunion(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    sunion_diff_generic(ctx, &argv[1..], None, Op::Union);
}

pub(super) fn sunionstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    sunion_diff_generic(ctx, &argv[2..], Some(&argv[1]), Op::Union);
}

pub(super) fn sdiff(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    sunion_diff_generic(ctx, &argv[1..], None, Op::Diff);
}

pub(super) fn sdiffstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    sunion_diff_generic(ctx, &argv[2..], Some(&argv[1]), Op::Diff);
}
