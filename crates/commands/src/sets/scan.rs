//! SSCAN key cursor [MATCH pattern] [COUNT count].
//!
//! Redis's order of checks: the cursor first, then the key (a missing key answers
//! an empty scan whatever the options), then the options. An intset is returned
//! whole with cursor 0; a hashtable is walked bucket by bucket with the dict's
//! reverse-binary cursor (see `shoal_ds::dict`), which gives Redis's guarantee: a
//! member present for the whole iteration is returned at least once. A step stops
//! after `count` members were collected (before MATCH filters them) or `10 * count`
//! buckets were visited.

use super::set_and_out;
use crate::args::{self, kw};
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use crate::generic::{parse_cursor, INVALID_CURSOR};
use bytes::Bytes;
use shoal_ds::glob::glob_match;
use shoal_keyspace::Access;

pub(super) fn sscan(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let Some(cursor) = parse_cursor(&argv[2]) else {
        return ctx.error(INVALID_CURSOR);
    };
    let (s, out) = set_and_out(ctx, &argv[1], Access::Read);
    let s = match s {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => {
            out.array(2);
            out.bulk(b"0");
            return out.array(0);
        }
        Ok(Some(s)) => s,
    };
    let mut count: u64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let opts = &argv[3..];
    let mut i = 0;
    while i < opts.len() {
        let more = opts.len() - i - 1;
        if kw(&opts[i], "count") && more >= 1 {
            match args::int(&opts[i + 1]) {
                Err(e) => return out.error(e),
                Ok(n) if n < 1 => return out.error(errors::SYNTAX),
                Ok(n) => count = n as u64,
            }
        } else if kw(&opts[i], "match") && more >= 1 {
            let p = &opts[i + 1][..];
            pattern = (p != b"*").then_some(p);
        } else {
            return out.error(errors::SYNTAX);
        }
        i += 2;
    }
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut budget = count.saturating_mul(10);
    let mut c = cursor;
    loop {
        c = s.scan_step(c, |e| found.push(e.to_vec()));
        if c == 0 || budget == 0 || found.len() as u64 >= count {
            break;
        }
        budget -= 1;
    }
    if let Some(p) = pattern {
        found.retain(|m| glob_match(p, m, false));
    }
    out.array(2);
    let mut buf = [0u8; 20];
    out.bulk(shoal_ds::num::format_u64(c, &mut buf));
    out.array(found.len());
    for m in &found {
        out.bulk(m);
    }
}
