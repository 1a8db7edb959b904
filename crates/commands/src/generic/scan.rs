//! KEYS and SCAN.
//!
//! KEYS locks the whole keyspace and walks every shard of the selected database.
//!
//! SCAN walks one shard at a time, locking only that shard for the step. Its cursor
//! packs the position of the walk into one `u64`:
//!
//! ```text
//! cursor = (dict_cursor << shard_bits) | shard_index      shard_bits = log2(num_shards)
//! ```
//!
//! Shards are visited in index order; within a shard the dict's reverse-binary cursor
//! gives Redis's guarantees across resizes. A shard is done when its dict cursor
//! comes back to 0; the walk then moves to the next shard, and the cursor returned to
//! the client is 0 after the last one. So a key present for the whole iteration is
//! returned at least once, and cursor 0 both starts and ends it.
//!
//! Invariants: every `u64` decodes to a valid position (the shard index is masked to
//! `num_shards - 1`, and any dict cursor is valid for the dict); a dict cursor never
//! needs more than `64 - shard_bits` bits, as a shard's table never has 2^58 buckets
//! even with the largest shard count we use.

use super::{c_str, INVALID_CURSOR};
use crate::args;
use crate::ctx::Ctx;
use crate::errors;
use bytes::Bytes;
use shoal_ds::glob::glob_match;
use shoal_keyspace::Access;

/// Whether `b` is a C `isspace` byte.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Parses a SCAN cursor as Redis 7.0 does (`strtoul` in base 10 over the C string):
/// leading white space is refused, a sign is allowed (`-1` is `u64::MAX`), the whole
/// string must be consumed, and overflow is refused. The empty string is cursor 0.
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let s = c_str(arg);
    if s.is_empty() {
        return Some(0);
    }
    if c_space(s[0]) {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// SCAN's options.
struct ScanOpts {
    count: u64,
    /// None when absent or `*` (which matches everything, the empty key too).
    pattern: Option<Bytes>,
    /// The TYPE filter as given (compared case-insensitively with type names; an
    /// unknown name simply matches nothing, as in Redis 7.0).
    type_name: Option<Bytes>,
}

fn parse_opts(opts: &[Bytes]) -> Result<ScanOpts, &'static str> {
    let mut o = ScanOpts {
        count: 10,
        pattern: None,
        type_name: None,
    };
    let mut i = 0;
    while i < opts.len() {
        let more = opts.len() - i - 1;
        if args::is(&opts[i], "count") && more >= 1 {
            let n = args::int(&opts[i + 1])?;
            if n < 1 {
                return Err(errors::SYNTAX);
            }
            o.count = n as u64;
        } else if args::is(&opts[i], "match") && more >= 1 {
            let p = &opts[i + 1];
            o.pattern = (&p[..] != b"*").then(|| p.clone());
        } else if args::is(&opts[i], "type") && more >= 1 {
            o.type_name = Some(opts[i + 1].clone());
        } else {
            return Err(errors::SYNTAX);
        }
        i += 2;
    }
    Ok(o)
}

pub(super) fn scan(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(cursor) = parse_cursor(&argv[1]) else {
        return ctx.error(INVALID_CURSOR);
    };
    let opts = match parse_opts(&argv[2..]) {
        Ok(o) => o,
        Err(e) => return ctx.error(e),
    };
    let (next, keys) = scan_keys(ctx, cursor, &opts);
    ctx.out.array(2);
    let mut buf = [0u8; 20];
    ctx.out.bulk(shoal_ds::num::format_u64(next, &mut buf));
    ctx.out.array(keys.len());
    for k in &keys {
        ctx.out.bulk(k);
    }
}

/// Runs one SCAN call from `cursor`; returns the next cursor and the keys to reply.
///
/// Like Redis, the walk stops once it has seen `count` keys (before filtering) or
/// made `10 * count` dict steps; empty shards are skipped without using the budget.
fn scan_keys(ctx: &mut Ctx, cursor: u64, opts: &ScanOpts) -> (u64, Vec<Bytes>) {
    let n = ctx.ks.num_shards().max(1);
    let bits = n.trailing_zeros();
    let mask = (n - 1) as u64;
    let mut shard = (cursor & mask) as usize;
    let mut dc = cursor >> bits;
    let mut seen: u64 = 0;
    let mut budget = opts.count.saturating_mul(10);
    let mut out = Vec::new();
    let now_ms = ctx.now.ms;
    loop {
        let (dbi, now) = (ctx.db, ctx.now);
        let shard_done = ctx.with_shard(shard, |db, ev| {
            if db.is_empty() {
                return true;
            }
            // Keys matching the pattern whose TTL passed: expired after the step,
            // through the choke point, as Redis's SCAN does.
            let mut stale: Vec<Bytes> = Vec::new();
            let done = loop {
                dc = db.scan_with_expired(dc, now_ms, |k, e, expired| {
                    seen += 1;
                    if let Some(p) = &opts.pattern {
                        if !glob_match(p, k, false) {
                            return;
                        }
                    }
                    if expired {
                        stale.push(Bytes::copy_from_slice(k));
                        return;
                    }
                    if let Some(t) = &opts.type_name {
                        let name = e.value.kind().name().as_bytes();
                        if !c_str(t).eq_ignore_ascii_case(name) {
                            return;
                        }
                    }
                    out.push(Bytes::copy_from_slice(k));
                });
                if dc == 0 {
                    break true;
                }
                if budget == 0 || seen >= opts.count {
                    break false;
                }
                budget -= 1;
            };
            for k in stale {
                db.lookup(dbi, &k, now, Access::NoTouch, ev);
            }
            done
        });
        if !shard_done {
            return ((dc << bits) | shard as u64, out);
        }
        shard += 1;
        dc = 0;
        if shard >= n {
            return (0, out);
        }
        if budget == 0 || seen >= opts.count {
            return (shard as u64, out);
        }
    }
}

pub(super) fn keys(ctx: &mut Ctx, argv: &[Bytes]) {
    let pattern = &argv[1][..];
    let all = pattern == b"*";
    ctx.lock_all();
    let (db, now_ms) = (ctx.db, ctx.now.ms);
    let out = &mut *ctx.out;
    let len = out.defer_len();
    let mut n = 0usize;
    ctx.locked.for_each_shard(|_, shard| {
        shard.dbs[db].for_each(now_ms, |k, _, _| {
            if all || glob_match(pattern, k, false) {
                out.bulk(k);
                n += 1;
            }
        });
    });
    out.set_deferred_array(len, n);
}
