//! SPOP and SRANDMEMBER.
//!
//! Both follow Redis 7.0's strategies where they are observable:
//! - SPOP with a count of at least the set's size replies the whole set (through a
//!   freshly built set, as SUNION would, so an all-integer set replies sorted),
//!   deletes the key and is propagated as `DEL key`; a smaller count either pops
//!   random members one by one, or (when fewer than a fifth would remain) moves the
//!   members that stay into a new set, which starts as an intset if the first of
//!   them is an integer: a hashtable can come out of SPOP as an intset. Each popped
//!   member is propagated as its own `SREM key member`; `dirty` grows by the number
//!   of members popped.
//! - SRANDMEMBER with a count replies an array (not a RESP3 set), the whole set in
//!   iteration order when the count covers it; a negative count may repeat members.
//!
//! Random choices use the connection's generator; every member is equally likely.

use super::{max_intset, reply_elem, set_and_out};
use crate::args;
use crate::ctx::{Ctx, Propagate, WrongType};
use crate::errors;
use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::Rng;
use shoal_keyspace::{class, Access, Elem, Set};
use std::collections::HashSet;

/// Redis's `SPOP_MOVE_STRATEGY_MUL`.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;
/// Redis's `SRANDMEMBER_SUB_STRATEGY_MUL`.
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;
/// Most members a negative SRANDMEMBER count may ask for. Redis has no limit and
/// would exhaust memory building such a reply; a client must not be able to do that.
const SRANDMEMBER_MAX_REPEAT: u64 = 1 << 32;

/// `SRANDMEMBER key -count` with `count` below `-LONG_MAX`.
const SRANDMEMBER_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// A copy of the connection's generator, written back by [`put_rng`]: handlers hold
/// the set (borrowed from the context) while drawing numbers.
fn take_rng(ctx: &Ctx<'_>) -> SmallRng {
    ctx.rng.clone()
}

fn put_rng(ctx: &mut Ctx<'_>, rng: SmallRng) {
    *ctx.rng = rng;
}

fn srem_cmd(key: &Bytes, member: Vec<u8>) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"SREM"),
        key.clone(),
        Bytes::from(member),
    ]
}

pub(super) fn spop(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    match argv.len() {
        2 => {}
        3 => return spop_count(ctx, argv),
        _ => return ctx.error(errors::SYNTAX),
    }
    let key = &argv[1];
    let mut rng = take_rng(ctx);
    let (s, out) = set_and_out(ctx, key, Access::Write);
    let popped = match s {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => return out.null(),
        Ok(Some(s)) => s.pop_random(&mut rng).map(|m| {
            out.bulk(&m);
            (m, s.is_empty())
        }),
    };
    put_rng(ctx, rng);
    let Some((m, emptied)) = popped else {
        // Unreachable: a set in the keyspace is never empty.
        return ctx.out.null();
    };
    ctx.notify(class::SET, "spop", key);
    ctx.propagate = Propagate::Rewritten(vec![srem_cmd(key, m)]);
    if emptied {
        ctx.db(key).remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.dirty += 1;
}

/// SPOP key count.
fn spop_count(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let count = match args::int(&argv[2]) {
        Ok(v) if v >= 0 => usize::try_from(v).unwrap_or(usize::MAX),
        _ => return ctx.error(errors::NOT_POSITIVE),
    };
    let key = &argv[1];
    let max = max_intset(ctx.settings);
    let mut rng = take_rng(ctx);
    let (s, out) = set_and_out(ctx, key, Access::Write);
    let s = match s {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => return out.set(0),
        Ok(Some(s)) => s,
    };
    if count == 0 {
        return out.set(0);
    }
    let size = s.len();
    if count >= size {
        // The whole set, replied through a new set as Redis's SUNION builds it.
        if s.is_intset() {
            out.set(size);
            s.iter().for_each(|e| reply_elem(out, e));
        } else {
            let mut all = Set::new_intset();
            s.iter().for_each(|e| {
                all.add_elem(e, max);
            });
            out.set(all.len());
            all.iter().for_each(|e| reply_elem(out, e));
        }
        ctx.notify(class::SET, "spop", key);
        ctx.db(key).remove(key);
        ctx.notify(class::GENERIC, "del", key);
        ctx.propagate = Propagate::Rewritten(vec![vec![Bytes::from_static(b"DEL"), key.clone()]]);
        ctx.dirty += size as u64;
        return;
    }
    out.set(count);
    let remaining = size - count;
    let mut cmds = Vec::with_capacity(count);
    if remaining.saturating_mul(SPOP_MOVE_STRATEGY_MUL) > count {
        for _ in 0..count {
            if let Some(m) = s.pop_random(&mut rng) {
                out.bulk(&m);
                cmds.push(srem_cmd(key, m));
            }
        }
    } else {
        // Most of the set goes: move the members that stay into a new set, then
        // reply (and remove) whatever is left in the old one.
        let mut kept: Option<Set> = None;
        for _ in 0..remaining {
            let Some(m) = s.pop_random(&mut rng) else {
                break;
            };
            kept.get_or_insert_with(|| Set::for_member(&m)).add(&m, max);
        }
        for e in s.iter() {
            reply_elem(out, e);
            cmds.push(srem_cmd(key, e.to_vec()));
        }
        if let Some(kept) = kept {
            *s = kept;
        }
    }
    put_rng(ctx, rng);
    ctx.notify(class::SET, "spop", key);
    ctx.propagate = Propagate::Rewritten(cmds);
    ctx.dirty += count as u64;
}

pub(super) fn srandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    match argv.len() {
        2 => {}
        3 => return srandmember_count(ctx, argv),
        _ => return ctx.error(errors::SYNTAX),
    }
    let mut rng = take_rng(ctx);
    let (s, out) = set_and_out(ctx, &argv[1], Access::Read);
    match s {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.null(),
        Ok(Some(s)) => match s.random(&mut rng) {
            Some(e) => reply_elem(out, e),
            None => out.null(),
        },
    }
    put_rng(ctx, rng);
}

/// SRANDMEMBER key count.
fn srandmember_count(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (count, repeat) = match args::int(&argv[2]) {
        Err(e) => return ctx.error(e),
        Ok(i64::MIN) => return ctx.error(SRANDMEMBER_RANGE),
        Ok(v) => (v.unsigned_abs(), v < 0),
    };
    let mut rng = take_rng(ctx);
    let (s, out) = set_and_out(ctx, &argv[1], Access::Read);
    let s = match s {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => return out.array(0),
        Ok(Some(s)) => s,
    };
    if repeat && count > SRANDMEMBER_MAX_REPEAT {
        return out.error(errors::NOT_INTEGER);
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let size = s.len();
    if count == 0 || size == 0 {
        out.array(0);
    } else if repeat {
        out.array(count);
        for _ in 0..count {
            if let Some(e) = s.random(&mut rng) {
                reply_elem(out, e);
            }
        }
    } else if count >= size {
        out.array(size);
        s.iter().for_each(|e| reply_elem(out, e));
    } else if count.saturating_mul(SRANDMEMBER_SUB_STRATEGY_MUL) > size {
        // Close to the whole set: drop random members from a copy.
        let mut all: Vec<Elem<'_>> = s.iter().collect();
        while all.len() > count {
            let i = rng.gen_range(0..all.len());
            all.swap_remove(i);
        }
        out.array(count);
        all.into_iter().for_each(|e| reply_elem(out, e));
    } else {
        // Few members: draw until `count` distinct ones were seen.
        let mut seen: HashSet<Vec<u8>> = HashSet::with_capacity(count);
        let mut picked = Vec::with_capacity(count);
        while picked.len() < count {
            let Some(e) = s.random(&mut rng) else {
                break;
            };
            if seen.insert(e.to_vec()) {
                picked.push(e);
            }
        }
        out.array(picked.len());
        picked.into_iter().for_each(|e| reply_elem(out, e));
    }
    put_rng(ctx, rng);
}
