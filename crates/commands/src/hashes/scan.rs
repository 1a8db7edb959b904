//! HSCAN.
//!
//! Redis 7.0.15's order of checks: the cursor (as SCAN parses it) before the key,
//! the options (COUNT, MATCH; TYPE is a syntax error here) after it, so a missing
//! key answers `["0", []]` whatever the options.
//!
//! A compact hash has no cursor: one call returns every pair and cursor 0, whatever
//! cursor was given (as Redis does for listpacks). A table is walked with the
//! dict's reverse-binary cursor, one bucket per step, until the step count reaches
//! `10 * COUNT` or the reply holds COUNT elements, fields and values counted alike
//! (Redis compares the length of its list of fields and values with COUNT). MATCH
//! filters fields after the walk, so it does not change how far a call goes.

use super::hash_and_out;
use crate::args::{self, kw};
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use crate::generic::parse_cursor;
use bytes::Bytes;
use shoal_ds::glob::glob_match;
use shoal_keyspace::Access;

struct Opts {
    count: u64,
    /// None when absent or `*`.
    pattern: Option<Bytes>,
}

fn parse_opts(opts: &[Bytes]) -> Result<Opts, &'static str> {
    let mut o = Opts {
        count: 10,
        pattern: None,
    };
    let mut i = 0;
    while i < opts.len() {
        let more = opts.len() - i - 1;
        if kw(&opts[i], "count") && more >= 1 {
            let n = args::int(&opts[i + 1])?;
            if n < 1 {
                return Err(errors::SYNTAX);
            }
            o.count = n as u64;
        } else if kw(&opts[i], "match") && more >= 1 {
            let p = &opts[i + 1];
            o.pattern = (&p[..] != b"*").then(|| p.clone());
        } else {
            return Err(errors::SYNTAX);
        }
        i += 2;
    }
    Ok(o)
}

pub(super) fn hscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let Some(cursor) = parse_cursor(&argv[2]) else {
        return ctx.error(errors::INVALID_CURSOR);
    };
    let (h, out) = hash_and_out(ctx, &argv[1], Access::Read);
    let h = match h {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => {
            out.array(2);
            out.bulk(b"0");
            return out.array(0);
        }
        Ok(Some(h)) => h,
    };
    let opts = match parse_opts(&argv[3..]) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let mut items: Vec<Vec<u8>> = Vec::new();
    let mut budget = opts.count.saturating_mul(10);
    let mut next = cursor;
    loop {
        next = h.scan_step(next, |k, v| {
            items.push(k.to_vec());
            items.push(v.to_vec());
        });
        if next == 0 || budget == 0 || items.len() as u64 >= opts.count {
            break;
        }
        budget -= 1;
    }
    let mut buf = [0u8; 20];
    out.array(2);
    out.bulk(shoal_ds::num::format_u64(next, &mut buf));
    let keep = |f: &[u8]| {
        opts.pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, f, false))
    };
    let n = items.chunks_exact(2).filter(|p| keep(&p[0])).count();
    out.array(2 * n);
    for p in items.chunks_exact(2).filter(|p| keep(&p[0])) {
        out.bulk(&p[0]);
        out.bulk(&p[1]);
    }
}
