//! LCS: the longest common subsequence of two strings.
//!
//! The table is Redis's dynamic programme, and the walk back from the bottom-right
//! corner takes the same turns (on a tie, drop a byte of the second string), so the
//! subsequence and the order and bounds of the IDX matches are Redis's. The table
//! needs `4 * (len(a)+1) * (len(b)+1)` bytes, which is refused beyond
//! proto-max-bulk-len as Redis does.

use super::{kw, str_and_out};
use crate::args;
use crate::ctx::{Ctx, WrongType};
use crate::errors;
pub use crate::errors::{
    LCS_LEN_AND_IDX, LCS_MEM_ALLOC, LCS_MEM_LIMIT, LCS_TOO_LONG, LCS_WRONG_TYPE,
};
use bytes::Bytes;
use shoal_keyspace::Access;

// Error texts this command adds; they belong in errors.rs (kept here until moved).

#[derive(Default)]
struct LcsOpts {
    idx: bool,
    len: bool,
    with_match_len: bool,
    min_match_len: i64,
}

fn parse(opts: &[Bytes]) -> Result<LcsOpts, &'static str> {
    let mut o = LcsOpts::default();
    let mut j = 0;
    while j < opts.len() {
        let a = &opts[j][..];
        if kw(a, "idx") {
            o.idx = true;
        } else if kw(a, "len") {
            o.len = true;
        } else if kw(a, "withmatchlen") {
            o.with_match_len = true;
        } else if kw(a, "minmatchlen") && j + 1 < opts.len() {
            o.min_match_len = args::int(&opts[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    if o.idx && o.len {
        return Err(LCS_LEN_AND_IDX);
    }
    Ok(o)
}

/// The bytes of a string key (empty when missing).
fn read(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Vec<u8>, WrongType> {
    let (s, _) = str_and_out(ctx, key, Access::Read);
    Ok(s?.map(|s| s.to_vec()).unwrap_or_default())
}

pub(super) fn lcs(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    // Both keys are looked up before any check, as Redis does.
    let a = read(ctx, &argv[1]);
    let b = read(ctx, &argv[2]);
    let (Ok(a), Ok(b)) = (a, b) else {
        return ctx.error(LCS_WRONG_TYPE);
    };
    let o = match parse(&argv[3..]) {
        Ok(o) => o,
        Err(e) => return ctx.error(e),
    };
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return ctx.error(LCS_TOO_LONG);
    }
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    // Both lengths fit in 32 bits, so the product fits in 64.
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > ctx.settings.proto_max_bulk_len.max(0) as u64 {
        return ctx.error(LCS_MEM_LIMIT);
    }
    let mut table: Vec<u32> = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        return ctx.error(LCS_MEM_ALLOC);
    }
    table.resize(cells as usize, 0);
    // table[i * w + j] = LCS length of a[..i] and b[..j]; row and column 0 stay 0.
    for i in 1..=alen {
        let ai = a[i - 1];
        for j in 1..=blen {
            table[i * w + j] = if ai == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let total = table[alen * w + blen];

    if o.len && !o.idx {
        return ctx.out.int(i64::from(total));
    }

    // Walk back from the corner, building the subsequence from its end and emitting
    // the runs of consecutive matches (last first) as Redis does.
    let out = &mut *ctx.out;
    let mut result = vec![0u8; total as usize];
    let mut k = total as usize;
    let deferred = if o.idx {
        out.map(2);
        out.bulk(b"matches");
        Some(out.defer_len())
    } else {
        None
    };
    let mut ranges = 0usize;
    // A run is a_start..=a_end in `a` and b_start..=b_end in `b`; `None` when no run
    // is open.
    let mut run: Option<(usize, usize, usize, usize)> = None;
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[k - 1] = a[i - 1];
            run = match run {
                None => Some((i - 1, i - 1, j - 1, j - 1)),
                Some((as_, ae, bs, be)) if as_ == i && bs == j => Some((as_ - 1, ae, bs - 1, be)),
                Some(r) => {
                    // Not contiguous: close the open run (cannot happen after a
                    // diagonal step, kept for fidelity).
                    emit = true;
                    Some(r)
                }
            };
            if let Some((as_, _, bs, _)) = run {
                if as_ == 0 || bs == 0 {
                    emit = true;
                }
            }
            k -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if run.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some((as_, ae, bs, be)) = run.take() {
                let match_len = (ae - as_ + 1) as i64;
                if o.idx && (o.min_match_len == 0 || match_len >= o.min_match_len) {
                    out.array(2 + usize::from(o.with_match_len));
                    out.array(2);
                    out.int(as_ as i64);
                    out.int(ae as i64);
                    out.array(2);
                    out.int(bs as i64);
                    out.int(be as i64);
                    if o.with_match_len {
                        out.int(match_len);
                    }
                    ranges += 1;
                }
            }
        }
    }
    match deferred {
        Some(d) => {
            out.bulk(b"len");
            out.int(i64::from(total));
            out.set_deferred_array(d, ranges);
        }
        None => out.bulk(&result),
    }
}
