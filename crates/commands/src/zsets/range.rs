//! ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX
//! ZREVRANGEBYLEX, and the score and lex range specifications they share with
//! ZCOUNT, ZLEXCOUNT and ZREMRANGEBY*.
//!
//! All seven commands run Redis's `zrangeGenericCommand`: options are parsed first
//! (which ones a command accepts depends on whether its range type and direction
//! are fixed), then the range, then the key is read. ZRANGESTORE writes the result
//! as a new sorted set (encoded as a fresh set of that size would be) or deletes the
//! destination when the result is empty.

use super::add::{MINMAX_NOT_FLOAT, MINMAX_NOT_LEX};
use super::{count_i64, limits, reply_pair, resp3, zset_and_out};
use crate::args::{self, kw};
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_ds::smallbytes::SmallBytes;
use shoal_keyspace::{class, Access, Value, ZSet};
use std::cmp::Ordering;

const LIMIT_NEEDS_BY: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
const WITHSCORES_BYLEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";

/// A score interval (Redis's `zrangespec`).
#[derive(Clone, Copy, Debug)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

/// One bound: `(` makes it exclusive; the number is read by C `strtod` over the
/// rest (leading blanks, overflow to inf allowed; NaN and trailing bytes refused).
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (ex, text) = match arg.first() {
        Some(b'(') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let v = shoal_ds::num::parse_f64_lenient(text)?;
    (!v.is_nan()).then_some((v, ex))
}

impl ScoreRange {
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, minex) = parse_score_bound(min)?;
        let (max, maxex) = parse_score_bound(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    pub fn gte_min(&self, s: f64) -> bool {
        if self.minex {
            s > self.min
        } else {
            s >= self.min
        }
    }

    pub fn lte_max(&self, s: f64) -> bool {
        if self.maxex {
            s < self.max
        } else {
            s <= self.max
        }
    }

    /// False when the bounds alone make the range empty.
    pub fn sane(&self) -> bool {
        !(self.min > self.max || (self.min == self.max && (self.minex || self.maxex)))
    }

    /// Ranks `start..end` of the members in range.
    pub fn find(&self, z: &ZSet, rev: bool) -> (usize, usize) {
        z.find_range(
            self.sane(),
            &|s, _| self.gte_min(s),
            &|s, _| self.lte_max(s),
            rev,
        )
    }
}

/// A bound of a lex range: `-`, `+`, or a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    Min,
    Max,
    Val(Bytes),
}

/// A lexicographic interval (Redis's `zlexrangespec`).
#[derive(Clone, Debug)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
    pub minex: bool,
    pub maxex: bool,
}

/// `-` / `+` (alone, or followed by a NUL byte, as C reads it), `(x` or `[x`.
fn parse_lex_bound(arg: &[u8]) -> Option<(LexBound, bool)> {
    match arg.first()? {
        b'+' if arg.get(1).is_none_or(|&b| b == 0) => Some((LexBound::Max, true)),
        b'-' if arg.get(1).is_none_or(|&b| b == 0) => Some((LexBound::Min, true)),
        b'(' => Some((LexBound::Val(Bytes::copy_from_slice(&arg[1..])), true)),
        b'[' => Some((LexBound::Val(Bytes::copy_from_slice(&arg[1..])), false)),
        _ => None,
    }
}

/// Redis's `sdscmplex`: `-` sorts before and `+` after every string; two bounds
/// of the same kind are equal.
fn cmp_lex(a: &LexBound, b: &LexBound) -> Ordering {
    match (a, b) {
        (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
        (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
        (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
        (LexBound::Val(x), LexBound::Val(y)) => x.cmp(y),
    }
}

/// A member against a bound.
fn cmp_member(m: &[u8], b: &LexBound) -> Ordering {
    match b {
        LexBound::Min => Ordering::Greater,
        LexBound::Max => Ordering::Less,
        LexBound::Val(v) => m.cmp(v),
    }
}

impl LexRange {
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        let (min, minex) = parse_lex_bound(min)?;
        let (max, maxex) = parse_lex_bound(max)?;
        Some(LexRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    pub fn gte_min(&self, m: &[u8]) -> bool {
        let c = cmp_member(m, &self.min);
        if self.minex {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    pub fn lte_max(&self, m: &[u8]) -> bool {
        let c = cmp_member(m, &self.max);
        if self.maxex {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }

    pub fn sane(&self) -> bool {
        let c = cmp_lex(&self.min, &self.max);
        !(c == Ordering::Greater || (c == Ordering::Equal && (self.minex || self.maxex)))
    }

    pub fn find(&self, z: &ZSet, rev: bool) -> (usize, usize) {
        z.find_range(
            self.sane(),
            &|_, m| self.gte_min(m),
            &|_, m| self.lte_max(m),
            rev,
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

pub(super) fn zrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, None, RangeType::Auto, Direction::Auto);
}

pub(super) fn zrangestore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let dst = argv[1].clone();
    zrange_generic(ctx, argv, 2, Some(dst), RangeType::Auto, Direction::Auto);
}

pub(super) fn zrevrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, None, RangeType::Rank, Direction::Reverse);
}

pub(super) fn zrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, None, RangeType::Score, Direction::Forward);
}

pub(super) fn zrevrangebyscore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, None, RangeType::Score, Direction::Reverse);
}

pub(super) fn zrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, None, RangeType::Lex, Direction::Forward);
}

pub(super) fn zrevrangebylex(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, None, RangeType::Lex, Direction::Reverse);
}

/// The parsed range.
enum Spec {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Redis's `zrangeGenericCommand`.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    start_idx: usize,
    store: Option<Bytes>,
    mut rtype: RangeType,
    mut dir: Direction,
) {
    let key = &argv[start_idx];
    let mut minidx = start_idx + 1;
    let mut maxidx = start_idx + 2;
    let mut withscores = false;
    let mut offset: i64 = 0;
    let mut limit: i64 = -1;
    let mut j = start_idx + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j];
        if store.is_none() && kw(a, "withscores") {
            withscores = true;
        } else if kw(a, "limit") && left >= 2 {
            match (args::int(&argv[j + 1]), args::int(&argv[j + 2])) {
                (Ok(o), Ok(l)) => {
                    offset = o;
                    limit = l;
                }
                (Err(e), _) | (_, Err(e)) => return ctx.error(e),
            }
            j += 2;
        } else if dir == Direction::Auto && kw(a, "rev") {
            dir = Direction::Reverse;
        } else if rtype == RangeType::Auto && kw(a, "bylex") {
            rtype = RangeType::Lex;
        } else if rtype == RangeType::Auto && kw(a, "byscore") {
            rtype = RangeType::Score;
        } else {
            return ctx.error(errors::SYNTAX);
        }
        j += 1;
    }
    if dir == Direction::Auto {
        dir = Direction::Forward;
    }
    if rtype == RangeType::Auto {
        rtype = RangeType::Rank;
    }
    if limit != -1 && rtype == RangeType::Rank {
        return ctx.error(LIMIT_NEEDS_BY);
    }
    if withscores && rtype == RangeType::Lex {
        return ctx.error(WITHSCORES_BYLEX);
    }
    let rev = dir == Direction::Reverse;
    if rev && rtype != RangeType::Rank {
        // The range is given as max, min.
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let spec = match rtype {
        RangeType::Score => match ScoreRange::parse(&argv[minidx], &argv[maxidx]) {
            Some(r) => Spec::Score(r),
            None => return ctx.error(MINMAX_NOT_FLOAT),
        },
        RangeType::Lex => match LexRange::parse(&argv[minidx], &argv[maxidx]) {
            Some(r) => Spec::Lex(r),
            None => return ctx.error(MINMAX_NOT_LEX),
        },
        _ => match (args::int(&argv[minidx]), args::int(&argv[maxidx])) {
            (Ok(a), Ok(b)) => Spec::Rank(a, b),
            (Err(e), _) | (_, Err(e)) => return ctx.error(e),
        },
    };
    let lim = limits(ctx.settings);
    let (z, out) = zset_and_out(ctx, key, Access::Read);
    let z = match z {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => {
            match store {
                Some(dst) => finish_store(ctx, &dst, Vec::new(), lim),
                None => ctx.out.array(0),
            }
            return;
        }
        Ok(Some(z)) => &*z,
    };
    // Ranks start..end (ascending) of the result, emitted in direction order.
    let (start, end) = match spec {
        Spec::Rank(s, e) => rank_window(z.len(), s, e, rev),
        Spec::Score(r) => limit_window(r.find(z, rev), offset, limit, rev),
        Spec::Lex(r) => limit_window(r.find(z, rev), offset, limit, rev),
    };
    match store {
        None => {
            let n = end.saturating_sub(start);
            let nested = withscores && resp3(out);
            out.array(if withscores && !nested { n * 2 } else { n });
            z.range(start, end, rev, &mut |m, s| {
                if withscores {
                    reply_pair(out, nested, m, s);
                } else {
                    out.bulk(m);
                }
            });
        }
        Some(dst) => {
            let mut items = Vec::with_capacity(end.saturating_sub(start));
            z.range(start, end, rev, &mut |m, s| {
                items.push((s, SmallBytes::from(m)))
            });
            finish_store(ctx, &dst, items, lim);
        }
    }
}

/// Redis's index sanitizing for rank ranges; `rev` counts from the top.
fn rank_window(len: usize, start: i64, end: i64, rev: bool) -> (usize, usize) {
    let llen = count_i64(len);
    let mut start = if start < 0 { llen + start } else { start };
    let end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return (0, 0);
    }
    let end = end.min(llen - 1);
    let (s, e) = (start as usize, end as usize);
    if rev {
        (len - 1 - e, len - s)
    } else {
        (s, e + 1)
    }
}

/// Applies LIMIT to the ranks `range` (in direction order): a negative offset
/// selects nothing, a negative count everything after the offset.
fn limit_window(range: (usize, usize), offset: i64, limit: i64, rev: bool) -> (usize, usize) {
    let (s, e) = range;
    if offset < 0 || s >= e {
        return (0, 0);
    }
    let off = usize::try_from(offset).unwrap_or(usize::MAX);
    let n = e - s;
    if off >= n {
        return (0, 0);
    }
    let avail = n - off;
    let take = if limit < 0 {
        avail
    } else {
        avail.min(usize::try_from(limit).unwrap_or(usize::MAX))
    };
    if rev {
        (e - off - take, e - off)
    } else {
        (s + off, s + off + take)
    }
}

/// Stores a range result at `dst` (or deletes `dst` when empty) and replies the
/// count, as ZRANGESTORE does.
fn finish_store(
    ctx: &mut Ctx<'_>,
    dst: &[u8],
    items: Vec<(f64, SmallBytes)>,
    lim: shoal_keyspace::ZLimits,
) {
    let n = items.len();
    if n > 0 {
        let z = ZSet::from_entries(items, lim);
        ctx.set(dst, Value::ZSet(z), false);
        ctx.out.int(count_i64(n));
        ctx.notify(class::ZSET, "zrangestore", dst);
    } else {
        ctx.out.int(0);
        if ctx.delete(dst) {
            ctx.notify(class::GENERIC, "del", dst);
        }
    }
}
