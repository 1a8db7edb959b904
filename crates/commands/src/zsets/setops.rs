//! ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD: Redis's
//! `zunionInterDiffGenericCommand`.
//!
//! Order of checks, as in Redis: `numkeys`, then every input key's type (sorted sets
//! and plain sets are accepted; a set member counts with score 1), then the options
//! (WEIGHTS, AGGREGATE, WITHSCORES, LIMIT, depending on the command). Union and
//! intersection visit the inputs from the smallest to the largest (a stable sort,
//! as glibc's `qsort` is for these sizes), which fixes the order in which weighted
//! scores are aggregated. A sum of +inf and -inf is 0, as in Redis.
//!
//! Inputs are read through the context one at a time: the smallest input is
//! copied out and the others are probed member by member, so an intersection
//! with a small set costs little however large the other inputs are.

use super::{count_i64, limits, reply_pair, resp3};
use crate::args::{self, kw};
use crate::ctx::Ctx;
use crate::errors;
use bytes::Bytes;
use shoal_ds::smallbytes::SmallBytes;
use shoal_keyspace::{class, Access, Set, Value, ZSet};
use std::collections::HashMap;

const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

/// The members of a plain set, for sorted set operations (each scores 1).
pub fn set_members(s: &Set) -> Vec<SmallBytes> {
    s.iter()
        .map(|e| e.with_bytes(|b| SmallBytes::from(b)))
        .collect()
}

/// Whether a plain set holds `m`.
pub fn set_contains(s: &Set, m: &[u8]) -> bool {
    s.contains(m)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, val: f64, a: Aggregate) {
    match a {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// One input: its key (None when missing), size and weight.
struct Src {
    key: Option<Bytes>,
    len: usize,
    weight: f64,
}

pub(super) fn zunion(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    generic(ctx, argv, None, 1, Op::Union, false, "zunion");
}

pub(super) fn zinter(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    generic(ctx, argv, None, 1, Op::Inter, false, "zinter");
}

pub(super) fn zdiff(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    generic(ctx, argv, None, 1, Op::Diff, false, "zdiff");
}

pub(super) fn zunionstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let dst = argv[1].clone();
    generic(ctx, argv, Some(dst), 2, Op::Union, false, "zunionstore");
}

pub(super) fn zinterstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let dst = argv[1].clone();
    generic(ctx, argv, Some(dst), 2, Op::Inter, false, "zinterstore");
}

pub(super) fn zdiffstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let dst = argv[1].clone();
    generic(ctx, argv, Some(dst), 2, Op::Diff, false, "zdiffstore");
}

pub(super) fn zintercard(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    generic(ctx, argv, None, 1, Op::Inter, true, "zintercard");
}

/// Every member of an input with its (unweighted) score.
fn items_of(ctx: &mut Ctx<'_>, key: &[u8]) -> Vec<(SmallBytes, f64)> {
    let Some(e) = ctx.lookup(key, Access::NoTouch) else {
        return Vec::new();
    };
    match &e.value {
        Value::ZSet(z) => {
            let mut v = Vec::with_capacity(z.len());
            z.for_each(&mut |m, s| v.push((SmallBytes::from(m), s)));
            v
        }
        Value::Set(s) => set_members(s).into_iter().map(|m| (m, 1.0)).collect(),
        _ => Vec::new(),
    }
}

/// The (unweighted) score of `m` in an input.
fn probe(ctx: &mut Ctx<'_>, key: &[u8], m: &[u8]) -> Option<f64> {
    let e = ctx.lookup(key, Access::NoTouch)?;
    match &e.value {
        Value::ZSet(z) => z.score(m),
        Value::Set(s) => set_contains(s, m).then_some(1.0),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    dst: Option<Bytes>,
    numkeys_idx: usize,
    op: Op,
    card_only: bool,
    name: &str,
) {
    let setnum = match args::int(&argv[numkeys_idx]) {
        Ok(n) => n,
        Err(e) => return ctx.error(e),
    };
    if setnum < 1 {
        return ctx.error(&format!(
            "ERR at least 1 input key is needed for '{name}' command"
        ));
    }
    let avail = argv.len() - (numkeys_idx + 1);
    if setnum > count_i64(avail) {
        return ctx.error(errors::SYNTAX);
    }
    let setnum = setnum as usize;
    let access = if dst.is_some() {
        Access::Write
    } else {
        Access::Read
    };
    let mut srcs = Vec::with_capacity(setnum);
    for key in &argv[numkeys_idx + 1..numkeys_idx + 1 + setnum] {
        let len = match ctx.lookup(key, access).map(|e| &e.value) {
            None => None,
            Some(Value::ZSet(z)) => Some(z.len()),
            Some(Value::Set(s)) => Some(s.len()),
            Some(_) => return ctx.wrong_type(),
        };
        srcs.push(Src {
            key: len.map(|_| key.clone()),
            len: len.unwrap_or(0),
            weight: 1.0,
        });
    }
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: usize = 0;
    let mut j = numkeys_idx + 1 + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        if op != Op::Diff && !card_only && remaining > setnum && kw(&argv[j], "weights") {
            j += 1;
            for src in srcs.iter_mut() {
                match args::float(&argv[j]) {
                    Ok(w) => src.weight = w,
                    Err(_) => return ctx.error(WEIGHT_NOT_FLOAT),
                }
                j += 1;
            }
        } else if op != Op::Diff && !card_only && remaining >= 2 && kw(&argv[j], "aggregate") {
            let a = &argv[j + 1];
            agg = if kw(a, "sum") {
                Aggregate::Sum
            } else if kw(a, "min") {
                Aggregate::Min
            } else if kw(a, "max") {
                Aggregate::Max
            } else {
                return ctx.error(errors::SYNTAX);
            };
            j += 2;
        } else if dst.is_none() && !card_only && kw(&argv[j], "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && kw(&argv[j], "limit") {
            match args::int(&argv[j + 1]) {
                Ok(l) if l >= 0 => limit = usize::try_from(l).unwrap_or(usize::MAX),
                _ => return ctx.error(LIMIT_NEGATIVE),
            }
            j += 2;
        } else {
            return ctx.error(errors::SYNTAX);
        }
    }
    if op != Op::Diff {
        srcs.sort_by_key(|s| s.len);
    }
    let mut result: Vec<(f64, SmallBytes)> = Vec::new();
    let mut card = 0usize;
    match op {
        Op::Inter => {
            if srcs[0].len > 0 {
                let first = srcs[0].key.clone().unwrap_or_default();
                'outer: for (m, s) in items_of(ctx, &first) {
                    let mut score = srcs[0].weight * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for src in &srcs[1..] {
                        let Some(k) = &src.key else {
                            continue 'outer;
                        };
                        match probe(ctx, k, &m) {
                            Some(v) => aggregate(&mut score, v * src.weight, agg),
                            None => continue 'outer,
                        }
                    }
                    if card_only {
                        card += 1;
                        if limit > 0 && card >= limit {
                            break;
                        }
                    } else {
                        result.push((score, m));
                    }
                }
            }
        }
        Op::Union => {
            let mut acc: HashMap<SmallBytes, f64> = HashMap::new();
            for src in &srcs {
                let Some(k) = &src.key else {
                    continue;
                };
                for (m, s) in items_of(ctx, k) {
                    let mut score = src.weight * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m.as_bytes()) {
                        Some(t) => aggregate(t, score, agg),
                        None => {
                            acc.insert(m, score);
                        }
                    }
                }
            }
            result = acc.into_iter().map(|(m, s)| (s, m)).collect();
        }
        Op::Diff => {
            if let Some(first) = srcs[0].key.clone() {
                'next: for (m, s) in items_of(ctx, &first) {
                    for src in &srcs[1..] {
                        if let Some(k) = &src.key {
                            if probe(ctx, k, &m).is_some() {
                                continue 'next;
                            }
                        }
                    }
                    result.push((s, m));
                }
            }
        }
    }
    if card_only {
        return ctx.out.int(count_i64(card));
    }
    match dst {
        Some(dst) => {
            let n = result.len();
            if n > 0 {
                let lim = limits(ctx.settings);
                ctx.set(&dst, Value::ZSet(ZSet::from_entries(result, lim)), false);
                ctx.out.int(count_i64(n));
                let event = match op {
                    Op::Union => "zunionstore",
                    Op::Inter => "zinterstore",
                    Op::Diff => "zdiffstore",
                };
                ctx.notify(class::ZSET, event, &dst);
            } else {
                ctx.out.int(0);
                if ctx.delete(&dst) {
                    ctx.notify(class::GENERIC, "del", &dst);
                }
            }
        }
        None => {
            result.sort_by(|a, b| shoal_keyspace::zset::cmp_entry(a.0, &a.1, b.0, &b.1));
            let out = &mut *ctx.out;
            let nested = withscores && resp3(out);
            let n = result.len();
            out.array(if withscores && !nested { n * 2 } else { n });
            for (s, m) in &result {
                if withscores {
                    reply_pair(out, nested, m, *s);
                } else {
                    out.bulk(m);
                }
            }
        }
    }
}
