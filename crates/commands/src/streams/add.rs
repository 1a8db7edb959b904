//! XADD XTRIM XDEL XLEN XSETID.

use super::{c_str, id_bytes, reply_id, stream_and_out, strict_id};
use crate::args::kw;
use crate::ctx::{Ctx, Propagate, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::stream::{parse_id, IdError, NewId, Seq, StreamId, Trim};
use shoal_keyspace::{class, Access, Stream, Value};

/// The options XADD and XTRIM share (Redis's `streamParseAddOrTrimArgsOrReply`).
#[derive(Debug, Default)]
struct TrimArgs {
    trim: Option<Trim>,
    approx: bool,
    /// Entries a `~` trim may remove (0: no limit).
    limit: u64,
    /// Index of the MAXLEN/MINID value (for rewriting it).
    value_idx: usize,
    nomkstream: bool,
    /// XADD: the ID and its index.
    id: Option<NewId>,
    id_idx: usize,
}

/// After MAXLEN or MINID at `argv[*i]`: refuses a second strategy, and reads an
/// optional `~` (approximate) or `=` before the threshold, moving `*i` past it.
/// `more` counts the arguments after `argv[*i]`.
fn trim_operator(
    a: &mut TrimArgs,
    argv: &[Bytes],
    i: &mut usize,
    more: usize,
) -> Result<(), &'static str> {
    if a.trim.is_some() {
        return Err(errors::MAXLEN_AND_MINID);
    }
    a.approx = false;
    let next = c_str(&argv[*i + 1]);
    if more >= 2 && next == b"~" {
        a.approx = true;
        *i += 1;
    } else if more >= 2 && next == b"=" {
        *i += 1;
    }
    Ok(())
}

/// Parses from argv[2]; for XADD stops at the ID (`*` or an explicit one).
fn parse_trim_args(ctx: &Ctx<'_>, argv: &[Bytes], xadd: bool) -> Result<TrimArgs, &'static str> {
    let mut a = TrimArgs::default();
    let mut limit_given = false;
    let mut i = 2;
    a.id_idx = argv.len();
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i];
        if xadd && c_str(opt) == b"*" {
            a.id = Some(NewId::Auto);
            a.id_idx = i;
            break;
        } else if kw(opt, "maxlen") && more > 0 {
            trim_operator(&mut a, argv, &mut i, more)?;
            let n = crate::args::int(&argv[i + 1])?;
            if n < 0 {
                return Err(errors::MAXLEN_NEGATIVE);
            }
            i += 1;
            a.trim = Some(Trim::MaxLen(n as u64));
            a.value_idx = i;
        } else if kw(opt, "minid") && more > 0 {
            trim_operator(&mut a, argv, &mut i, more)?;
            let id = strict_id(&argv[i + 1], 0)?;
            i += 1;
            a.trim = Some(Trim::MinId(id));
            a.value_idx = i;
        } else if kw(opt, "limit") && more > 0 {
            match crate::args::int(&argv[i + 1])? {
                n if n >= 0 => a.limit = n as u64,
                _ => return Err(errors::XLIMIT_NEGATIVE),
            }
            limit_given = true;
            i += 1;
        } else if xadd && kw(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            let (ms, seq, how) = parse_id(opt, true).ok_or(errors::STREAM_INVALID_ID)?;
            let c = c_str(opt);
            if c == b"-" || c == b"+" {
                return Err(errors::STREAM_INVALID_ID);
            }
            a.id = Some(match how {
                Seq::Auto => NewId::AutoSeq(ms),
                Seq::Given => NewId::Explicit(StreamId::new(ms, seq)),
                Seq::Missing => NewId::Explicit(StreamId::new(ms, 0)),
            });
            a.id_idx = i;
            break;
        } else {
            return Err(errors::SYNTAX);
        }
        i += 1;
    }
    if a.limit > 0 && a.trim.is_none() {
        return Err(errors::LIMIT_WITHOUT_STRATEGY);
    }
    if !xadd && a.trim.is_none() {
        return Err(errors::XTRIM_NO_STRATEGY);
    }
    if limit_given {
        if !a.approx {
            return Err(errors::LIMIT_WITHOUT_APPROX);
        }
    } else if a.approx {
        // Bound the work of an unbounded `~` trim, as Redis does.
        let n = ctx.settings.stream_node_max_entries.saturating_mul(100);
        a.limit = if n <= 0 || n > 1_000_000 {
            10_000
        } else {
            n as u64
        };
    }
    Ok(a)
}

/// Trims after XADD or for XTRIM; returns the count removed and rewrites the
/// trim arguments of a `~` trim in `argv` (for propagation) when asked.
fn trim_and_rewrite(s: &mut Stream, a: &TrimArgs, argv: &mut [Bytes]) -> u64 {
    let Some(how) = a.trim else {
        return 0;
    };
    let deleted = s.trim(how, a.approx, a.limit);
    if a.approx {
        argv[a.value_idx - 1] = Bytes::from_static(b"=");
        argv[a.value_idx] = match how {
            Trim::MaxLen(_) => Bytes::from(s.len().to_string()),
            // As Redis: the first stored ID, tombstones included (the last ID
            // possible when the stream is empty).
            Trim::MinId(_) => id_bytes(s.first_stored_id().unwrap_or(StreamId::MAX)),
        };
    }
    deleted
}

pub(super) fn xadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let a = match parse_trim_args(ctx, argv, true) {
        Ok(a) => a,
        Err(e) => return ctx.error(e),
    };
    let fields = argv.len().saturating_sub(a.id_idx + 1);
    if a.id.is_none() || fields < 2 || fields % 2 == 1 {
        return ctx.error(&errors::wrong_arity("xadd"));
    }
    let how = a.id.unwrap_or(NewId::Auto);
    if how == NewId::Explicit(StreamId::ZERO) {
        return ctx.error(errors::XADD_ID_ZERO);
    }
    let key = &argv[1];
    let settings = ctx.settings;
    let now_ms = ctx.now.ms.max(0) as u64;
    let pairs: Vec<&[u8]> = argv[a.id_idx + 1..].iter().map(|b| &b[..]).collect();
    let mut rewritten = argv.to_vec();
    let (s, out) = stream_and_out(ctx, key, Access::Write);
    let (id, trimmed) = match s {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) if a.nomkstream => return ctx.out.null(),
        Ok(None) => {
            let mut s = Stream::new();
            let Ok(id) = s.next_id(how, now_ms) else {
                return ctx.error(errors::XADD_ID_TOO_SMALL);
            };
            s.append(
                id,
                &pairs,
                settings.stream_node_max_bytes,
                settings.stream_node_max_entries,
            );
            let trimmed = trim_and_rewrite(&mut s, &a, &mut rewritten);
            reply_id(ctx.out, id);
            let ms = ctx.now;
            ctx.db(key).set(key, Value::Stream(s), false, ms);
            (id, trimmed)
        }
        Ok(Some(s)) => {
            if s.last_id == StreamId::MAX {
                return out.error(errors::STREAM_EXHAUSTED);
            }
            let id = match s.next_id(how, now_ms) {
                Ok(id) => id,
                Err(IdError::TooSmall) => return out.error(errors::XADD_ID_TOO_SMALL),
            };
            s.append(
                id,
                &pairs,
                settings.stream_node_max_bytes,
                settings.stream_node_max_entries,
            );
            let trimmed = trim_and_rewrite(s, &a, &mut rewritten);
            reply_id(out, id);
            (id, trimmed)
        }
    };
    ctx.dirty += 1;
    ctx.notify(class::STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.notify(class::STREAM, "xtrim", key);
    }
    let explicit = matches!(how, NewId::Explicit(_));
    if !explicit {
        rewritten[a.id_idx] = id_bytes(id);
    }
    if !explicit || (a.approx && a.trim.is_some()) {
        ctx.propagate = Propagate::Rewritten(vec![rewritten]);
    }
}

pub(super) fn xtrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let a = match parse_trim_args(ctx, argv, false) {
        Ok(a) => a,
        Err(e) => return ctx.error(e),
    };
    let key = &argv[1];
    let mut rewritten = argv.to_vec();
    let (s, out) = stream_and_out(ctx, key, Access::Write);
    let deleted = match s {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) => return out.int(0),
        Ok(Some(s)) => trim_and_rewrite(s, &a, &mut rewritten),
    };
    ctx.out.int(deleted as i64);
    if deleted > 0 {
        ctx.dirty += deleted;
        ctx.notify(class::STREAM, "xtrim", key);
        if a.approx {
            ctx.propagate = Propagate::Rewritten(vec![rewritten]);
        }
    }
}

pub(super) fn xdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let key = &argv[1];
    match stream_and_out(ctx, key, Access::Write).0 {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) => return ctx.out.int(0),
        Ok(Some(_)) => {}
    }
    // All IDs first: the command deletes all or nothing.
    let mut ids = Vec::with_capacity(argv.len() - 2);
    for a in &argv[2..] {
        match strict_id(a, 0) {
            Ok(id) => ids.push(id),
            Err(e) => return ctx.error(e),
        }
    }
    let deleted = match stream_and_out(ctx, key, Access::NoTouch).0 {
        Ok(Some(s)) => s.delete(&ids),
        _ => 0,
    };
    ctx.out.int(deleted as i64);
    if deleted > 0 {
        ctx.dirty += deleted;
        ctx.notify(class::STREAM, "xdel", key);
    }
}

pub(super) fn xlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (s, out) = stream_and_out(ctx, &argv[1], Access::Read);
    match s {
        Err(WrongType) => ctx.wrong_type(),
        Ok(None) => out.int(0),
        Ok(Some(s)) => out.int(s.len() as i64),
    }
}

pub(super) fn xsetid(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let id = match strict_id(&argv[2], 0) {
        Ok(id) => id,
        Err(e) => return ctx.error(e),
    };
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::ZERO;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if kw(&argv[i], "entriesadded") && more > 0 {
            match crate::args::int(&argv[i + 1]) {
                Err(e) => return ctx.error(e),
                Ok(n) if n < 0 => return ctx.error(errors::XSETID_ENTRIES_ADDED_NEGATIVE),
                Ok(n) => entries_added = Some(n as u64),
            }
        } else if kw(&argv[i], "maxdeletedid") && more > 0 {
            match strict_id(&argv[i + 1], 0) {
                Err(e) => return ctx.error(e),
                Ok(m) if id < m => return ctx.error(errors::XSETID_SMALLER_THAN_MAXDELETED_ARG),
                Ok(m) => max_deleted = m,
            }
        } else {
            return ctx.error(errors::SYNTAX);
        }
        i += 2;
    }
    let key = &argv[1];
    let (s, out) = stream_and_out(ctx, key, Access::Write);
    match s {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) => return out.error(errors::NO_SUCH_KEY),
        Ok(Some(s)) => {
            if let Some(top) = s.last_entry_id() {
                if id < top {
                    return out.error(errors::XSETID_SMALLER_THAN_TOP);
                }
                if entries_added.is_some_and(|n| (s.len() as u64) > n) {
                    return out.error(errors::XSETID_ENTRIES_ADDED_SMALL);
                }
            }
            s.last_id = id;
            if let Some(n) = entries_added {
                s.entries_added = n;
            }
            if !max_deleted.is_zero() {
                s.max_deleted_id = max_deleted;
            }
            out.ok();
        }
    }
    ctx.dirty += 1;
    ctx.notify(class::STREAM, "xsetid", key);
}
