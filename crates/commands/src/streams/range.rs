//! XRANGE XREVRANGE.

use super::{range_end, range_start, reply_entry, stream_and_out};
use crate::args::kw;
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::Access;

pub(super) fn xrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    range_generic(ctx, argv, false);
}

pub(super) fn xrevrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    range_generic(ctx, argv, true);
}

fn range_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], rev: bool) {
    let (start_arg, end_arg) = if rev {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    let start = match range_start(start_arg) {
        Ok(id) => id,
        Err(e) => return ctx.error(e),
    };
    let end = match range_end(end_arg) {
        Ok(id) => id,
        Err(e) => return ctx.error(e),
    };
    let mut count: Option<usize> = None;
    let mut j = 4;
    while j < argv.len() {
        if kw(&argv[j], "count") && j + 1 < argv.len() {
            match crate::args::int(&argv[j + 1]) {
                Ok(n) => count = Some(n.max(0) as usize),
                Err(e) => return ctx.error(e),
            }
            j += 2;
        } else {
            return ctx.error(errors::SYNTAX);
        }
    }
    let (s, out) = stream_and_out(ctx, &argv[1], Access::Read);
    match s {
        Err(WrongType) => ctx.wrong_type(),
        Ok(None) => out.array(0),
        Ok(Some(_)) if count == Some(0) => out.null_array(),
        Ok(Some(s)) => {
            let limit = count.unwrap_or(usize::MAX);
            let d = out.defer_len();
            let mut n = 0;
            for (id, e) in s.range(start, end, rev).take(limit) {
                reply_entry(out, id, e);
                n += 1;
            }
            out.set_deferred_array(d, n);
        }
    }
}
