//! ZADD ZINCRBY ZREM ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX.

use super::range::{LexRange, ScoreRange};
use super::{count_i64, get_zset, limits, zset_and_out};
use crate::args::{self, kw};
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_ds::smallbytes::SmallBytes;
use shoal_keyspace::{class, Access, Value, ZLimits, ZSet};

pub(crate) const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
const XX_NX: &str = "ERR XX and NX options at the same time are not compatible";
const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
const INCR_PAIRS: &str = "ERR INCR option supports a single increment-element pair";
pub(crate) const MINMAX_NOT_FLOAT: &str = "ERR min or max is not a float";
pub(crate) const MINMAX_NOT_LEX: &str = "ERR min or max not valid string range item";

/// ZADD's flags (Redis's `ZADD_IN_*`).
#[derive(Clone, Copy, Debug, Default)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What [`zset_add`] did to one member (Redis's `ZADD_OUT_*`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// The member kept its score (same score, or the score after INCR).
    Unchanged(f64),
    /// Nothing done (NX on an existing member, XX on a new one, GT/LT refused).
    Nop,
}

/// Redis's `zsetAdd`: adds or updates one member under `flags`; `Err` when the
/// resulting score is NaN (INCR of inf by -inf).
pub fn zset_add(
    z: &mut ZSet,
    member: &[u8],
    score: f64,
    f: AddFlags,
    lim: ZLimits,
) -> Result<AddOutcome, ()> {
    if score.is_nan() {
        return Err(());
    }
    match z.score(member) {
        Some(cur) => {
            if f.nx {
                return Ok(AddOutcome::Nop);
            }
            let mut score = score;
            if f.incr {
                score += cur;
                if score.is_nan() {
                    return Err(());
                }
            }
            if (f.lt && score >= cur) || (f.gt && score <= cur) {
                return Ok(AddOutcome::Nop);
            }
            // C compares with !=: -0 and 0 are the same score.
            if score != cur {
                z.update(member, cur, score);
                Ok(AddOutcome::Updated(score))
            } else {
                Ok(AddOutcome::Unchanged(score))
            }
        }
        None if f.xx => Ok(AddOutcome::Nop),
        None => {
            z.insert(member, score, lim);
            Ok(AddOutcome::Added(score))
        }
    }
}

/// ZADD (also run by GEOADD with its computed scores).
pub(crate) fn zadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    zadd_generic(ctx, argv, false);
}

pub(super) fn zincrby(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    zadd_generic(ctx, argv, true);
}

/// Redis's `zaddGenericCommand` (ZINCRBY is ZADD with INCR set, and parses the
/// same option words).
fn zadd_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], incr: bool) {
    let key = &argv[1];
    let mut f = AddFlags {
        incr,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut idx = 2;
    while idx < argv.len() {
        let o = &argv[idx];
        if kw(o, "nx") {
            f.nx = true;
        } else if kw(o, "xx") {
            f.xx = true;
        } else if kw(o, "ch") {
            ch = true;
        } else if kw(o, "incr") {
            f.incr = true;
        } else if kw(o, "gt") {
            f.gt = true;
        } else if kw(o, "lt") {
            f.lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let elements = argv.len() - idx;
    if elements % 2 == 1 || elements == 0 {
        return ctx.error(errors::SYNTAX);
    }
    let pairs = elements / 2;
    if f.nx && f.xx {
        return ctx.error(XX_NX);
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return ctx.error(GT_LT_NX);
    }
    if f.incr && pairs > 1 {
        return ctx.error(INCR_PAIRS);
    }
    let mut scores = Vec::with_capacity(pairs);
    for j in 0..pairs {
        match args::float(&argv[idx + 2 * j]) {
            Ok(s) => scores.push(s),
            Err(e) => return ctx.error(e),
        }
    }
    let lim = limits(ctx.settings);
    if !f.incr && !f.xx && fresh_key_bulk(ctx, key, argv, idx, &scores, lim) {
        let n = pairs as u64;
        ctx.dirty += n;
        ctx.out.int(n as i64);
        return ctx.notify(class::ZSET, "zadd", key);
    }
    let mut fresh = None;
    let z = match get_zset(ctx, key, Access::Write) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(Some(z)) => z,
        Ok(None) if f.xx => {
            if f.incr {
                ctx.out.null();
            } else {
                ctx.out.int(0);
            }
            return;
        }
        Ok(None) => fresh.insert(ZSet::new()),
    };
    let (mut added, mut updated, mut processed) = (0u64, 0u64, 0u64);
    let mut last = 0.0;
    let mut nan = false;
    for (j, &score) in scores.iter().enumerate() {
        let member = &argv[idx + 2 * j + 1];
        match zset_add(z, member, score, f, lim) {
            Err(()) => {
                nan = true;
                break;
            }
            Ok(AddOutcome::Added(s)) => {
                added += 1;
                processed += 1;
                last = s;
            }
            Ok(AddOutcome::Updated(s)) => {
                updated += 1;
                processed += 1;
                last = s;
            }
            Ok(AddOutcome::Unchanged(s)) => {
                processed += 1;
                last = s;
            }
            Ok(AddOutcome::Nop) => {}
        }
    }
    if let Some(z) = fresh {
        if !z.is_empty() {
            let now = ctx.now;
            ctx.db(key).set(key, Value::ZSet(z), false, now);
        }
    }
    ctx.dirty += added + updated;
    if nan {
        ctx.error(NAN_SCORE);
    } else if f.incr {
        if processed > 0 {
            ctx.out.double(last);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out
            .int((if ch { added + updated } else { added }) as i64);
    }
    if added + updated > 0 {
        ctx.notify(class::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
}

/// ZADD creating its key with distinct members that all fit the compact encoding:
/// the set is built whole, in one allocation. Adding members one by one would
/// leave a trail of freed buffers behind every new key (measured: ~15 bytes of RSS
/// per 10-member set). The result is what the one-by-one path gives: Redis 7.0
/// starts a new set as a listpack and converts as it grows, so a set that ends up
/// in the skiplist encoding is left to that path (its -0 scores, for one, depend
/// on having passed through the listpack). Returns false, having done nothing, if
/// the key exists or holds another type, members repeat, or they do not fit.
fn fresh_key_bulk(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    argv: &[Bytes],
    idx: usize,
    scores: &[f64],
    lim: ZLimits,
) -> bool {
    let members = (0..scores.len()).map(|j| &argv[idx + 2 * j + 1]);
    if scores.len() > lim.max_entries || members.clone().any(|m| m.len() > lim.max_value) {
        return false;
    }
    if ctx.write(key).is_some() {
        return false;
    }
    let mut seen = std::collections::HashSet::with_capacity(scores.len());
    if !members.clone().all(|m| seen.insert(&m[..])) {
        return false;
    }
    let items = scores
        .iter()
        .zip(members)
        .map(|(&s, m)| (s, SmallBytes::from(&m[..])))
        .collect();
    let now = ctx.now;
    ctx.db(key)
        .set(key, Value::ZSet(ZSet::from_entries(items, lim)), false, now);
    true
}

pub(super) fn zrem(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let key = &argv[1];
    let z = match get_zset(ctx, key, Access::Write) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) => return ctx.out.int(0),
        Ok(Some(z)) => z,
    };
    let mut deleted = 0u64;
    for m in &argv[2..] {
        if z.remove(m).is_some() {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    let emptied = z.is_empty();
    if emptied {
        ctx.db(key).remove(key);
    }
    if deleted > 0 {
        ctx.notify(class::ZSET, "zrem", key);
        if emptied {
            ctx.notify(class::GENERIC, "del", key);
        }
        ctx.dirty += deleted;
    }
    ctx.out.int(deleted as i64);
}

/// The range a ZREMRANGEBY* command removes.
enum RemRange {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

pub(super) fn zremrangebyrank(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let r = match (args::int(&argv[2]), args::int(&argv[3])) {
        (Ok(a), Ok(b)) => RemRange::Rank(a, b),
        (Err(e), _) | (_, Err(e)) => return ctx.error(e),
    };
    zremrange(ctx, &argv[1], r, "zremrangebyrank");
}

pub(super) fn zremrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    match ScoreRange::parse(&argv[2], &argv[3]) {
        Some(r) => zremrange(ctx, &argv[1], RemRange::Score(r), "zremrangebyscore"),
        None => ctx.error(MINMAX_NOT_FLOAT),
    }
}

pub(super) fn zremrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    match LexRange::parse(&argv[2], &argv[3]) {
        Some(r) => zremrange(ctx, &argv[1], RemRange::Lex(r), "zremrangebylex"),
        None => ctx.error(MINMAX_NOT_LEX),
    }
}

/// Redis's `zremrangeGenericCommand`, after parsing.
fn zremrange(ctx: &mut Ctx<'_>, key: &[u8], r: RemRange, event: &'static str) {
    let (z, out) = zset_and_out(ctx, key, Access::Write);
    let z = match z {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => return out.int(0),
        Ok(Some(z)) => z,
    };
    let (start, end) = match r {
        RemRange::Rank(start, end) => {
            let llen = count_i64(z.len());
            let mut start = if start < 0 { llen + start } else { start };
            let end = if end < 0 { llen + end } else { end };
            if start < 0 {
                start = 0;
            }
            if start > end || start >= llen {
                return out.int(0);
            }
            let end = end.min(llen - 1);
            (start as usize, end as usize + 1)
        }
        RemRange::Score(r) => r.find(z, false),
        RemRange::Lex(r) => r.find(z, false),
    };
    let mut deleted = 0u64;
    z.remove_range(start, end, &mut |_, _| deleted += 1);
    let emptied = z.is_empty();
    if emptied {
        ctx.db(key).remove(key);
    }
    if deleted > 0 {
        ctx.notify(class::ZSET, event, key);
        if emptied {
            ctx.notify(class::GENERIC, "del", key);
        }
    }
    ctx.dirty += deleted;
    ctx.out.int(deleted as i64);
}
