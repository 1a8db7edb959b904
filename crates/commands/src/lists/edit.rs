//! LSET, LINSERT, LREM and LTRIM: the list commands that edit in place.
//!
//! LSET and LINSERT look the key up before parsing the rest (LSET on a missing key
//! is "no such key" whatever the index); LREM and LTRIM parse their integers first.
//! LREM and LTRIM delete the key when they remove its last element, and count one
//! change per removed element (an LTRIM that removes nothing is not propagated).
//! Events: "lset", "linsert" (only when the pivot was found), "lrem" (only when
//! something was removed), "ltrim" (whenever the key exists, even if nothing was
//! trimmed), each followed by "del" when the list emptied.

use super::{get_list, kw, resolve_index};
use crate::args;
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::{class, Access, Needle};

pub(super) fn lset(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let l = match get_list(ctx, &argv[1], Access::Write) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) => return ctx.error(errors::NO_SUCH_KEY),
        Ok(Some(l)) => l,
    };
    let i = match args::int(&argv[2]) {
        Ok(i) => i,
        Err(e) => return ctx.error(e),
    };
    match resolve_index(l.len(), i) {
        Some(i) => {
            l.set(i, &argv[3]);
            ctx.dirty += 1;
            ctx.notify(class::LIST, "lset", &argv[1]);
            ctx.out.ok();
        }
        None => ctx.error(errors::INDEX_OUT_OF_RANGE),
    }
}

pub(super) fn linsert(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let after = if kw(&argv[2], "after") {
        true
    } else if kw(&argv[2], "before") {
        false
    } else {
        return ctx.error(errors::SYNTAX);
    };
    let l = match get_list(ctx, &argv[1], Access::Write) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) => return ctx.out.int(0),
        Ok(Some(l)) => l,
    };
    let pivot = Needle::new(&argv[3]);
    let Some(at) = l.iter().position(|e| pivot.matches(e)) else {
        return ctx.out.int(-1);
    };
    l.insert(at + usize::from(after), &argv[4]);
    let len = l.len();
    ctx.dirty += 1;
    ctx.notify(class::LIST, "linsert", &argv[1]);
    ctx.out.int(i64::try_from(len).unwrap_or(i64::MAX));
}

pub(super) fn lrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let key = &argv[1];
    let count = match args::int(&argv[2]) {
        Ok(c) => c,
        Err(e) => return ctx.error(e),
    };
    let l = match get_list(ctx, key, Access::Write) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) => return ctx.out.int(0),
        Ok(Some(l)) => l,
    };
    let removed = l.remove(&argv[3], count);
    let emptied = l.is_empty();
    if emptied {
        ctx.db(key).remove(key);
    }
    ctx.dirty += removed as u64;
    if removed > 0 {
        ctx.notify(class::LIST, "lrem", key);
        if emptied {
            ctx.notify(class::GENERIC, "del", key);
        }
    }
    ctx.out.int(i64::try_from(removed).unwrap_or(i64::MAX));
}

pub(super) fn ltrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let key = &argv[1];
    let (start, end) = match (args::int(&argv[2]), args::int(&argv[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return ctx.error(e),
    };
    let l = match get_list(ctx, key, Access::Write) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) => return ctx.out.ok(),
        Ok(Some(l)) => l,
    };
    let len = l.len();
    let (front, back) = match super::resolve_range(len, start, end) {
        None => (len, 0),
        Some((first, n)) => (first, len - first - n),
    };
    l.trim(front, back);
    let emptied = l.is_empty();
    if emptied {
        ctx.db(key).remove(key);
    }
    ctx.dirty += (front + back) as u64;
    // Reported even when nothing was trimmed, as Redis does.
    ctx.notify(class::LIST, "ltrim", key);
    if emptied {
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.out.ok();
}
