//! SADD SREM SISMEMBER SMISMEMBER SCARD SMOVE.

use super::{get_set, max_intset, set_and_out};
use crate::ctx::{Ctx, WrongType};
use bytes::Bytes;
use shoal_keyspace::{class, Access, Set, Value};

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn sadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let key = &argv[1];
    let members = &argv[2..];
    let max = max_intset(ctx.settings);
    let added = match get_set(ctx, key, Access::Write) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(Some(s)) => members.iter().filter(|m| s.add(m, max)).count(),
        Ok(None) => {
            // Redis's `setTypeCreate`: the first member decides the starting encoding.
            let mut s = Set::for_member(&members[0]);
            let added = members.iter().filter(|m| s.add(m, max)).count();
            let now = ctx.now;
            ctx.db(key).set(key, Value::Set(s), false, now);
            added
        }
    };
    if added > 0 {
        ctx.notify(class::SET, "sadd", key);
    }
    ctx.dirty += added as u64;
    ctx.out.int(count(added));
}

pub(super) fn srem(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let key = &argv[1];
    let (s, out) = set_and_out(ctx, key, Access::Write);
    let s = match s {
        Err(WrongType) => return out.error(crate::errors::WRONGTYPE),
        Ok(None) => return out.int(0),
        Ok(Some(s)) => s,
    };
    let mut deleted = 0usize;
    for m in &argv[2..] {
        if s.remove(m) {
            deleted += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    let emptied = s.is_empty();
    out.int(count(deleted));
    if emptied {
        ctx.db(key).remove(key);
    }
    if deleted > 0 {
        ctx.notify(class::SET, "srem", key);
        if emptied {
            ctx.notify(class::GENERIC, "del", key);
        }
        ctx.dirty += deleted as u64;
    }
}

pub(super) fn sismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (s, out) = set_and_out(ctx, &argv[1], Access::Read);
    match s {
        Err(WrongType) => out.error(crate::errors::WRONGTYPE),
        Ok(None) => out.int(0),
        Ok(Some(s)) => out.int(i64::from(s.contains(&argv[2]))),
    }
}

pub(super) fn smismember(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (s, out) = set_and_out(ctx, &argv[1], Access::Read);
    let s = match s {
        Err(WrongType) => return out.error(crate::errors::WRONGTYPE),
        Ok(s) => s,
    };
    let members = &argv[2..];
    out.array(members.len());
    for m in members {
        out.int(i64::from(s.as_ref().is_some_and(|s| s.contains(m))));
    }
}

pub(super) fn scard(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (s, out) = set_and_out(ctx, &argv[1], Access::Read);
    match s {
        Err(WrongType) => out.error(crate::errors::WRONGTYPE),
        Ok(None) => out.int(0),
        Ok(Some(s)) => out.int(count(s.len())),
    }
}

/// SMOVE source destination member. Both keys are looked up before anything else;
/// a missing source answers 0 even when the destination has another type.
pub(super) fn smove(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (src, dst, m) = (&argv[1], &argv[2], &argv[3]);
    let max = max_intset(ctx.settings);
    let src_state = get_set(ctx, src, Access::Write).map(|s| s.is_some());
    let dst_state = get_set(ctx, dst, Access::Write).map(|s| s.is_some());
    match (src_state, dst_state) {
        (Ok(false), _) => return ctx.out.int(0),
        (Err(WrongType), _) | (_, Err(WrongType)) => return ctx.wrong_type(),
        _ => {}
    }
    if src == dst {
        let is = matches!(get_set(ctx, src, Access::NoTouch), Ok(Some(s)) if s.contains(m));
        return ctx.out.int(i64::from(is));
    }
    let (removed, emptied) = match get_set(ctx, src, Access::NoTouch) {
        Ok(Some(s)) => (s.remove(m), s.is_empty()),
        _ => (false, false),
    };
    if !removed {
        return ctx.out.int(0);
    }
    ctx.notify(class::SET, "srem", src);
    if emptied {
        ctx.db(src).remove(src);
        ctx.notify(class::GENERIC, "del", src);
    }
    ctx.dirty += 1;
    let added = match get_set(ctx, dst, Access::NoTouch) {
        Ok(Some(s)) => s.add(m, max),
        _ => {
            let mut s = Set::for_member(m);
            s.add(m, max);
            let now = ctx.now;
            ctx.db(dst).set(dst, Value::Set(s), false, now);
            true
        }
    };
    if added {
        ctx.dirty += 1;
        ctx.notify(class::SET, "sadd", dst);
    }
    ctx.out.int(1);
}
