//! HRANDFIELD.
//!
//! Redis 7.0.15's rules: the count is parsed before the key (range
//! `-LONG_MAX..=LONG_MAX`, and `+-LONG_MAX/2` with WITHVALUES); a missing key
//! answers null without a count and an empty array with one. A negative count draws
//! with repetition, a positive one distinct fields: the whole hash (in its order)
//! when the count covers it. With WITHVALUES, RESP2 gets a flat field/value array,
//! RESP3 an array of `[field, value]` pairs.
//!
//! Departure: Redis answers a huge negative count by writing that many elements
//! until the client is dropped or memory runs out; Shoal refuses counts with
//! repetition beyond [`REPEAT_MAX`] with "value is out of range" instead.

use super::hash_and_out;
use crate::args::{self, kw};
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::Access;
use shoal_resp::{Proto, ReplyWriter};

/// Most elements a draw with repetition may return (16M: a reply of hundreds of MB).
const REPEAT_MAX: u64 = 1 << 24;

pub(super) fn hrandfield(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    if argv.len() < 3 {
        let mut rng = ctx.rng.clone();
        let (h, out) = hash_and_out(ctx, &argv[1], Access::Read);
        match h {
            Err(WrongType) => out.error(errors::WRONGTYPE),
            Ok(None) => out.null(),
            Ok(Some(h)) => match h.random_pair(&mut rng) {
                Some((k, _)) => out.bulk(k),
                None => out.null(),
            },
        }
        *ctx.rng = rng;
        return;
    }
    let l = match args::int(&argv[2]) {
        Ok(i64::MIN) => return ctx.error(errors::RANDOM_COUNT_RANGE),
        Ok(v) => v,
        Err(e) => return ctx.error(e),
    };
    if argv.len() > 4 || (argv.len() == 4 && !kw(&argv[3], "withvalues")) {
        return ctx.error(errors::SYNTAX);
    }
    let withvalues = argv.len() == 4;
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return ctx.error(errors::VALUE_OUT_OF_RANGE);
    }
    with_count(ctx, &argv[1], l, withvalues);
}

/// Replies one drawn pair in the shape of the call.
fn reply_pair(out: &mut ReplyWriter, withvalues: bool, k: &[u8], v: &[u8]) {
    if withvalues && out.proto == Proto::Resp3 {
        out.array(2);
    }
    out.bulk(k);
    if withvalues {
        out.bulk(v);
    }
}

/// The array header for `n` drawn pairs.
fn reply_header(out: &mut ReplyWriter, withvalues: bool, n: u64) {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if withvalues && out.proto == Proto::Resp2 {
        out.array(n.saturating_mul(2));
    } else {
        out.array(n);
    }
}

fn with_count(ctx: &mut Ctx<'_>, key: &[u8], l: i64, withvalues: bool) {
    let mut rng = ctx.rng.clone();
    let (h, out) = hash_and_out(ctx, key, Access::Read);
    let h = match h {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => return out.array(0),
        Ok(Some(h)) => h,
    };
    let size = h.len() as u64;
    let count = l.unsigned_abs();
    if count == 0 || size == 0 {
        return out.array(0);
    }
    if l < 0 || count == 1 {
        if count > REPEAT_MAX {
            return out.error(errors::VALUE_OUT_OF_RANGE);
        }
        reply_header(out, withvalues, count);
        h.random_pairs(&mut rng, count as usize, |k, v| {
            reply_pair(out, withvalues, k, v);
            true
        });
    } else if count >= size {
        reply_header(out, withvalues, size);
        for (k, v) in h.iter() {
            reply_pair(out, withvalues, k, v);
        }
    } else {
        reply_header(out, withvalues, count);
        // count < size, so it fits in usize.
        h.random_distinct(&mut rng, count as usize, |k, v| {
            reply_pair(out, withvalues, k, v)
        });
    }
    *ctx.rng = rng;
}
