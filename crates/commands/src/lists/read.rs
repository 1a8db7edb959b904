//! LLEN, LRANGE, LINDEX and LPOS: the list commands that only read.
//!
//! LRANGE parses its indexes before looking the key up, LINDEX after (so LINDEX on
//! a missing key with a bad index answers null); LPOS validates all its options
//! first. Replies are written straight from the stored entries.

use super::{kw, list_and_out, reply_elem, resolve_index, resolve_range};
use crate::args;
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::{Access, Elem, Needle};

pub(super) fn llen(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (l, out) = list_and_out(ctx, &argv[1], Access::Read);
    match l {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.int(0),
        Ok(Some(l)) => out.int(i64::try_from(l.len()).unwrap_or(i64::MAX)),
    }
}

pub(super) fn lrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (start, end) = match (args::int(&argv[2]), args::int(&argv[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return ctx.error(e),
    };
    let (l, out) = list_and_out(ctx, &argv[1], Access::Read);
    match l {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.array(0),
        Ok(Some(l)) => match resolve_range(l.len(), start, end) {
            None => out.array(0),
            Some((first, n)) => {
                out.array(n);
                for e in l.iter_from(first).take(n) {
                    reply_elem(out, e);
                }
            }
        },
    }
}

pub(super) fn lindex(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (l, out) = list_and_out(ctx, &argv[1], Access::Read);
    let l = match l {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => return out.null(),
        Ok(Some(l)) => l,
    };
    let i = match args::int(&argv[2]) {
        Ok(i) => i,
        Err(e) => return out.error(e),
    };
    match resolve_index(l.len(), i).and_then(|i| l.get(i)) {
        Some(e) => reply_elem(out, e),
        None => out.null(),
    }
}

/// LPOS's options.
struct LposOpts {
    /// 1-based rank of the first match to report; negative searches from the tail.
    rank: i64,
    /// `None`: no COUNT (reply one index or null); `Some(0)`: every match.
    count: Option<i64>,
    /// 0: no limit.
    maxlen: i64,
}

fn parse_lpos(opts: &[Bytes]) -> Result<LposOpts, &'static str> {
    let mut o = LposOpts {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut j = 0;
    while j < opts.len() {
        let more = opts.len() - 1 - j;
        let a = &opts[j];
        if kw(a, "rank") && more > 0 {
            j += 1;
            o.rank = args::int(&opts[j])?;
            if o.rank == 0 {
                return Err(errors::LPOS_RANK_ZERO);
            }
        } else if kw(a, "count") && more > 0 {
            j += 1;
            let c = args::int(&opts[j]).map_err(|_| errors::LPOS_COUNT_NEGATIVE)?;
            if c < 0 {
                return Err(errors::LPOS_COUNT_NEGATIVE);
            }
            o.count = Some(c);
        } else if kw(a, "maxlen") && more > 0 {
            j += 1;
            let m = args::int(&opts[j]).map_err(|_| errors::LPOS_MAXLEN_NEGATIVE)?;
            if m < 0 {
                return Err(errors::LPOS_MAXLEN_NEGATIVE);
            }
            o.maxlen = m;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

pub(super) fn lpos(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let o = match parse_lpos(&argv[3..]) {
        Ok(o) => o,
        Err(e) => return ctx.error(e),
    };
    // Redis negates the rank in C: -LONG_MIN stays LONG_MIN, which then matches from
    // the first match on (and never reaches COUNT). Wrapping reproduces that.
    let (rank, from_tail) = if o.rank < 0 {
        (o.rank.wrapping_neg(), true)
    } else {
        (o.rank, false)
    };
    let (l, out) = list_and_out(ctx, &argv[1], Access::Read);
    let l = match l {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) if o.count.is_some() => return out.array(0),
        Ok(None) => return out.null(),
        Ok(Some(l)) => l,
    };
    let needle = Needle::new(&argv[2]);
    let llen = i64::try_from(l.len()).unwrap_or(i64::MAX);
    let mut iter: Box<dyn Iterator<Item = Elem<'_>>> = if from_tail {
        Box::new(l.rev_iter())
    } else {
        Box::new(l.iter())
    };
    let deferred = o.count.map(|_| out.defer_len());
    let mut found = 0usize;
    let mut single = None;
    let mut index: i64 = 0;
    let mut matches: i64 = 0;
    while o.maxlen == 0 || index < o.maxlen {
        let Some(e) = iter.next() else {
            break;
        };
        if needle.matches(e) {
            matches += 1;
            let at = if from_tail { llen - index - 1 } else { index };
            if matches >= rank {
                match o.count {
                    None => {
                        single = Some(at);
                        break;
                    }
                    Some(count) => {
                        out.int(at);
                        found += 1;
                        if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
                            break;
                        }
                    }
                }
            }
        }
        index += 1;
    }
    match (deferred, single) {
        (Some(d), _) => out.set_deferred_array(d, found),
        (None, Some(at)) => out.int(at),
        (None, None) => out.null(),
    }
}
