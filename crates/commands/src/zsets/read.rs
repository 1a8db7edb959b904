//! ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT ZRANDMEMBER ZSCAN.

use super::add::{MINMAX_NOT_FLOAT, MINMAX_NOT_LEX};
use super::range::{LexRange, ScoreRange};
use super::{count_i64, reply_pair, resp3, zset_and_out};
use crate::args::{self, kw};
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_ds::glob::glob_match;
use shoal_keyspace::Access;

const RANDMEMBER_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const RANDMEMBER_WITHSCORES_RANGE: &str = "ERR value is out of range";
/// Most members a negative ZRANDMEMBER count may ask for. Redis has no limit and
/// would exhaust memory building such a reply (the same cap as SRANDMEMBER's).
const RANDMEMBER_MAX_REPEAT: u64 = 1 << 32;

pub(super) fn zcard(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (z, out) = zset_and_out(ctx, &argv[1], Access::Read);
    match z {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.int(0),
        Ok(Some(z)) => out.int(count_i64(z.len())),
    }
}

pub(super) fn zscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (z, out) = zset_and_out(ctx, &argv[1], Access::Read);
    match z {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.null(),
        Ok(Some(z)) => match z.score(&argv[2]) {
            Some(s) => out.double(s),
            None => out.null(),
        },
    }
}

pub(super) fn zmscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    super::reply_member_scores(ctx, argv, |out, s| match s {
        Some(s) => out.double(s),
        None => out.null(),
    });
}

pub(super) fn zrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    rank_generic(ctx, argv, false);
}

pub(super) fn zrevrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    rank_generic(ctx, argv, true);
}

fn rank_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], rev: bool) {
    let (z, out) = zset_and_out(ctx, &argv[1], Access::Read);
    match z {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.null(),
        Ok(Some(z)) => match z.rank(&argv[2]) {
            Some(r) if rev => out.int(count_i64(z.len() - 1 - r)),
            Some(r) => out.int(count_i64(r)),
            None => out.null(),
        },
    }
}

pub(super) fn zcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let Some(r) = ScoreRange::parse(&argv[2], &argv[3]) else {
        return ctx.error(MINMAX_NOT_FLOAT);
    };
    let (z, out) = zset_and_out(ctx, &argv[1], Access::Read);
    match z {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.int(0),
        Ok(Some(z)) => {
            let (s, e) = r.find(z, false);
            out.int(count_i64(e - s));
        }
    }
}

pub(super) fn zlexcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let Some(r) = LexRange::parse(&argv[2], &argv[3]) else {
        return ctx.error(MINMAX_NOT_LEX);
    };
    let (z, out) = zset_and_out(ctx, &argv[1], Access::Read);
    match z {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.int(0),
        Ok(Some(z)) => {
            let (s, e) = r.find(z, false);
            out.int(count_i64(e - s));
        }
    }
}

pub(super) fn zrandmember(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    if argv.len() >= 3 {
        let l = match args::int(&argv[2]) {
            Ok(v) if v == i64::MIN => return ctx.error(RANDMEMBER_RANGE),
            Ok(v) => v,
            Err(e) => return ctx.error(e),
        };
        let withscores = match argv.len() {
            3 => false,
            4 if kw(&argv[3], "withscores") => true,
            _ => return ctx.error(errors::SYNTAX),
        };
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return ctx.error(RANDMEMBER_WITHSCORES_RANGE);
        }
        return randmember_count(ctx, &argv[1], l, withscores);
    }
    // The reply borrows the context: draw from a copy of the generator and
    // store its state back.
    let mut rng = ctx.rng.clone();
    let (z, out) = zset_and_out(ctx, &argv[1], Access::Read);
    match z {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.null(),
        Ok(Some(z)) => match z.random(&mut rng) {
            Some((m, _)) => out.bulk(&m),
            None => out.null(),
        },
    }
    *ctx.rng = rng;
}

/// ZRANDMEMBER with a count: a negative count may repeat members (and replies
/// exactly |count| of them); a positive one answers distinct members, the whole set
/// (highest first) when the count reaches its size.
fn randmember_count(ctx: &mut Ctx<'_>, key: &[u8], l: i64, withscores: bool) {
    let mut rng = ctx.rng.clone();
    randmember_reply(ctx, key, l, withscores, &mut rng);
    *ctx.rng = rng;
}

fn randmember_reply(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    l: i64,
    withscores: bool,
    rng: &mut rand::rngs::SmallRng,
) {
    let (z, out) = zset_and_out(ctx, key, Access::Read);
    let z = match z {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => return out.array(0),
        Ok(Some(z)) => &*z,
    };
    let uniq = l >= 0;
    let count = l.unsigned_abs();
    if count == 0 {
        return out.array(0);
    }
    if !uniq && count > RANDMEMBER_MAX_REPEAT {
        return out.error(errors::NOT_INTEGER);
    }
    let nested = withscores && resp3(out);
    let size = z.len();
    let header = |out: &mut shoal_resp::ReplyWriter, n: usize| {
        out.array(if withscores && !nested {
            n.saturating_mul(2)
        } else {
            n
        })
    };
    let emit = |out: &mut shoal_resp::ReplyWriter, m: &[u8], s: f64| {
        if withscores {
            reply_pair(out, nested, m, s);
        } else {
            out.bulk(m);
        }
    };
    if !uniq || count == 1 {
        let n = usize::try_from(count).unwrap_or(usize::MAX);
        header(out, n);
        for _ in 0..n {
            if let Some((m, s)) = z.random(rng) {
                emit(out, &m, s);
            }
        }
        return;
    }
    if count >= size as u64 {
        // The whole set, walked as Redis's set-operation iterator walks it: from
        // the highest member down.
        header(out, size);
        z.range(0, size, true, &mut |m, s| emit(out, m, s));
        return;
    }
    let n = count as usize;
    header(out, n);
    for i in rand::seq::index::sample(rng, size, n) {
        if let Some((m, s)) = z.nth(i) {
            emit(out, &m, s);
        }
    }
}

pub(super) fn zscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let Some(cursor) = crate::generic::parse_cursor(&argv[2]) else {
        return ctx.error(errors::INVALID_CURSOR);
    };
    let (z, out) = zset_and_out(ctx, &argv[1], Access::Read);
    let z = match z {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => {
            out.array(2);
            out.bulk(b"0");
            out.array(0);
            return;
        }
        Ok(Some(z)) => &*z,
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < argv.len() {
        let left = argv.len() - i;
        if kw(&argv[i], "count") && left >= 2 {
            match args::int(&argv[i + 1]) {
                Ok(c) if c >= 1 => count = c,
                Ok(_) => return out.error(errors::SYNTAX),
                Err(e) => return out.error(e),
            }
        } else if kw(&argv[i], "match") && left >= 2 {
            let p = &argv[i + 1][..];
            pattern = (p != b"*").then_some(p);
        } else {
            return out.error(errors::SYNTAX);
        }
        i += 2;
    }
    let mut items: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut cur = cursor;
    let mut budget = count.saturating_mul(10);
    let want = usize::try_from(count).unwrap_or(usize::MAX);
    loop {
        cur = z.scan(cur, &mut |m, s| items.push((m.to_vec(), s)));
        budget -= 1;
        if cur == 0 || budget <= 0 || items.len() >= want {
            break;
        }
    }
    if let Some(p) = pattern {
        items.retain(|(m, _)| glob_match(p, m, false));
    }
    out.array(2);
    out.bulk(cur.to_string().as_bytes());
    out.array(items.len() * 2);
    for (m, s) in &items {
        out.bulk(m);
        // Redis renders scores here as text in both protocols.
        let t = shoal_resp::double_text(*s);
        out.bulk(t.as_bytes());
    }
}
