//! HSET HMSET HSETNX HDEL HINCRBY HINCRBYFLOAT.
//!
//! HSET/HMSET check the argument count (odd pairs: an arity error naming the
//! command) before the key; HINCRBY and HINCRBYFLOAT parse the increment before
//! the key. Multi-pair writes call `Hash::prepare` with every argument first, as
//! Redis's `hashTypeTryConversion`, so that a long field or value converts the
//! hash even when it replaces an existing one.

use super::{get_hash, hash_or_create, len_i64, limits};
use crate::ctx::{Ctx, Propagate, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_ds::num::LongDouble;
use shoal_keyspace::{class, Access};

pub(super) fn hset(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    hset_generic(ctx, argv, "hset");
}

pub(super) fn hmset(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    hset_generic(ctx, argv, "hmset");
}

/// HSET answers the number of new fields, HMSET `OK`.
fn hset_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], name: &str) {
    if argv.len() % 2 == 1 {
        return ctx.error(&errors::wrong_arity(name));
    }
    let key = &argv[1];
    let pairs = &argv[2..];
    let lim = limits(ctx.settings);
    let created = match hash_or_create(ctx, key) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(h) => {
            h.prepare(pairs.iter().map(|a| a.len()), &lim);
            h.set_many(pairs.chunks_exact(2).map(|p| (&p[0][..], &p[1][..])), &lim)
        }
    };
    if name == "hset" {
        ctx.out.int(len_i64(created));
    } else {
        ctx.out.ok();
    }
    ctx.notify(class::HASH, "hset", key);
    ctx.dirty += (pairs.len() / 2) as u64;
}

pub(super) fn hsetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (key, field, value) = (&argv[1], &argv[2], &argv[3]);
    let lim = limits(ctx.settings);
    match hash_or_create(ctx, key) {
        Err(WrongType) => ctx.wrong_type(),
        Ok(h) if h.contains(field) => ctx.out.int(0),
        Ok(h) => {
            h.prepare([field.len(), value.len()], &lim);
            h.set(field, value, &lim);
            ctx.out.int(1);
            ctx.notify(class::HASH, "hset", key);
            ctx.dirty += 1;
        }
    }
}

pub(super) fn hdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let key = &argv[1];
    let (deleted, emptied) = match get_hash(ctx, key, Access::Write) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) => (0, false),
        Ok(Some(h)) => {
            let mut n = 0usize;
            for f in &argv[2..] {
                if h.remove(f) {
                    n += 1;
                    if h.is_empty() {
                        break;
                    }
                }
            }
            (n, h.is_empty())
        }
    };
    if deleted > 0 {
        if emptied {
            ctx.db(key).remove(key);
        }
        ctx.notify(class::HASH, "hdel", key);
        if emptied {
            ctx.notify(class::GENERIC, "del", key);
        }
        ctx.dirty += deleted as u64;
    }
    ctx.out.int(len_i64(deleted));
}

pub(super) fn hincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (key, field) = (&argv[1], &argv[2]);
    let incr = match crate::args::int(&argv[3]) {
        Ok(v) => v,
        Err(e) => return ctx.error(e),
    };
    let lim = limits(ctx.settings);
    let h = match hash_or_create(ctx, key) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(h) => h,
    };
    let old = match h.get(field) {
        None => 0,
        Some(b) => match shoal_ds::num::parse_i64(b) {
            Some(v) => v,
            None => return ctx.error(errors::HASH_NOT_INTEGER),
        },
    };
    let Some(new) = old.checked_add(incr) else {
        return ctx.error(errors::OVERFLOW);
    };
    let mut buf = [0u8; 20];
    h.set(field, shoal_ds::num::format_i64(new, &mut buf), &lim);
    ctx.out.int(new);
    ctx.notify(class::HASH, "hincrby", key);
    ctx.dirty += 1;
}

pub(super) fn hincrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (key, field) = (&argv[1], &argv[2]);
    let Some(incr) = LongDouble::parse(&argv[3]) else {
        return ctx.error(errors::NOT_FLOAT);
    };
    if incr.is_nan() || incr.is_infinite() {
        return ctx.error(errors::VALUE_NAN_OR_INF);
    }
    let lim = limits(ctx.settings);
    let h = match hash_or_create(ctx, key) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(h) => h,
    };
    let old = match h.get(field) {
        None => LongDouble::ZERO,
        Some(b) => match LongDouble::parse(b) {
            Some(v) => v,
            None => return ctx.error(errors::HASH_NOT_FLOAT),
        },
    };
    let sum = old.add(incr);
    if sum.is_nan() || sum.is_infinite() {
        return ctx.error(errors::NAN_OR_INF);
    }
    let mut text = Vec::with_capacity(32);
    sum.write_human(&mut text);
    h.set(field, &text, &lim);
    ctx.out.bulk(&text);
    ctx.notify(class::HASH, "hincrbyfloat", key);
    ctx.dirty += 1;
    // Replicas and the AOF get the result, not the arithmetic, so that float
    // formatting can never make them diverge.
    ctx.propagate = Propagate::Rewritten(vec![vec![
        Bytes::from_static(b"HSET"),
        key.clone(),
        field.clone(),
        Bytes::from(text),
    ]]);
}
