//! INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT.
//!
//! Integer counters keep the key's TTL and store the result int-encoded. Overflow
//! is refused before anything changes. INCRBYFLOAT computes in x87 80-bit extended
//! precision, like Redis on x86-64 (`long double`), prints with `%.17Lf` minus
//! trailing zeros, stores the text (embstr/raw, never int) and is propagated as
//! `SET key value KEEPTTL` so that replicas store the same bytes.

use super::{plain_str, DECR_OVERFLOW};
use crate::args;
use crate::ctx::{Ctx, Propagate, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_ds::num::LongDouble;
use shoal_keyspace::{class, Str, Value};

/// Redis's `incrDecrCommand`.
fn incr_decr(ctx: &mut Ctx<'_>, key: &[u8], by: i64) {
    match ctx.write_str(key) {
        Err(WrongType) => ctx.wrong_type(),
        Ok(Some(s)) => {
            let Some(old) = s.as_int() else {
                return ctx.error(errors::NOT_INTEGER);
            };
            let Some(new) = old.checked_add(by) else {
                return ctx.error(errors::OVERFLOW);
            };
            // In place: the TTL stays, as with Redis's dbOverwrite.
            *s = Str::Int(new);
            ctx.dirty += 1;
            ctx.notify(class::STRING, "incrby", key);
            ctx.out.int(new);
        }
        Ok(None) => {
            ctx.set(key, Value::Str(Str::Int(by)), false);
            ctx.notify(class::STRING, "incrby", key);
            ctx.out.int(by);
        }
    }
}

pub(super) fn incr(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    incr_decr(ctx, &argv[1], 1);
}

pub(super) fn decr(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    incr_decr(ctx, &argv[1], -1);
}

pub(super) fn incrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    match args::int(&argv[2]) {
        Ok(by) => incr_decr(ctx, &argv[1], by),
        Err(e) => ctx.error(e),
    }
}

pub(super) fn decrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    match args::int(&argv[2]) {
        // Negating i64::MIN would overflow.
        Ok(i64::MIN) => ctx.error(DECR_OVERFLOW),
        Ok(by) => incr_decr(ctx, &argv[1], -by),
        Err(e) => ctx.error(e),
    }
}

/// The value of a stored string as Redis's `getLongDoubleFromObject` reads it.
fn long_double_of(s: &Str) -> Option<LongDouble> {
    match s {
        Str::Int(v) => Some(LongDouble::from_i64(*v)),
        _ => s.with_bytes(LongDouble::parse),
    }
}

pub(super) fn incrbyfloat(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let key = &argv[1];
    let mut text = Vec::with_capacity(32);
    let exists = match ctx.write_str(key) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(s) => {
            let value = match s.as_deref() {
                None => LongDouble::ZERO,
                Some(s) => match long_double_of(s) {
                    Some(v) => v,
                    None => return ctx.error(errors::NOT_FLOAT),
                },
            };
            let Some(by) = LongDouble::parse(&argv[2]) else {
                return ctx.error(errors::NOT_FLOAT);
            };
            let sum = value.add(by);
            if sum.is_nan() || sum.is_infinite() {
                return ctx.error(errors::NAN_OR_INF);
            }
            sum.write_human(&mut text);
            match s {
                Some(s) => {
                    *s = plain_str(&text);
                    true
                }
                None => false,
            }
        }
    };
    if exists {
        ctx.dirty += 1;
    } else {
        ctx.set(key, Value::Str(plain_str(&text)), false);
    }
    ctx.notify(class::STRING, "incrbyfloat", key);
    ctx.out.bulk(&text);
    ctx.propagate = Propagate::Rewritten(vec![vec![
        Bytes::from_static(b"SET"),
        key.clone(),
        Bytes::from(text),
        Bytes::from_static(b"KEEPTTL"),
    ]]);
}
