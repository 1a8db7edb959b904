//! LPUSH RPUSH LPUSHX RPUSHX, LPOP RPOP LMPOP, LMOVE RPOPLPUSH.
//!
//! The steps that serve a pop or a move ([`try_pop_first`], [`pop_and_reply`],
//! [`move_element`]) write their reply and count their changes themselves, and
//! report when there was nothing to serve without replying, so that the blocking
//! commands can call them both when the command arrives and when a waiter is woken.

use super::{get_list, kw, list_and_out, new_list, parse_end, reply_elem};
use crate::args;
use crate::ctx::{Ctx, Propagate, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::{class, Access, End, List, Value};
use shoal_resp::ReplyWriter;

// ---- pushes -----------------------------------------------------------------------

/// The event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// The event of a pop from `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// Reports a pop from `end` of `key`, then "del" if it emptied (and so deleted)
/// the list, in Redis's order.
fn notify_pop(ctx: &mut Ctx<'_>, key: &[u8], end: End, deleted: bool) {
    ctx.notify(class::LIST, pop_event(end), key);
    if deleted {
        ctx.notify(class::GENERIC, "del", key);
    }
}

pub(super) fn lpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    push_generic(ctx, argv, End::Head, false);
}

pub(super) fn rpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    push_generic(ctx, argv, End::Tail, false);
}

pub(super) fn lpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    push_generic(ctx, argv, End::Head, true);
}

pub(super) fn rpushx(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    push_generic(ctx, argv, End::Tail, true);
}

/// Redis's `pushGenericCommand`: `existing_only` for the X variants.
fn push_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End, existing_only: bool) {
    let key = &argv[1];
    let elems = &argv[2..];
    let settings = ctx.settings;
    let len = match get_list(ctx, key, Access::Write) {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(Some(l)) => {
            for e in elems {
                l.push(end, e);
            }
            l.len()
        }
        Ok(None) if existing_only => return ctx.out.int(0),
        Ok(None) => {
            let mut l = new_list(settings);
            for e in elems {
                l.push(end, e);
            }
            let len = l.len();
            let ms = ctx.now;
            ctx.db(key).set(key, Value::List(l), false, ms);
            len
        }
    };
    ctx.dirty += elems.len() as u64;
    ctx.notify(class::LIST, push_event(end), key);
    ctx.out.int(i64::try_from(len).unwrap_or(i64::MAX));
}

/// Pushes one element at `end` of the list at `key`, creating the list if the key
/// is absent, and reports the push. The caller has checked that the key holds no
/// other type.
fn push_one(ctx: &mut Ctx<'_>, key: &[u8], end: End, elem: &[u8]) {
    let settings = ctx.settings;
    match get_list(ctx, key, Access::NoTouch) {
        Ok(Some(l)) => l.push(end, elem),
        Ok(None) => {
            let mut l = new_list(settings);
            l.push(end, elem);
            let ms = ctx.now;
            ctx.db(key).set(key, Value::List(l), false, ms);
        }
        // Unreachable: the caller checked the type under the same locks.
        Err(WrongType) => return,
    }
    ctx.notify(class::LIST, push_event(end), key);
}

// ---- pops -------------------------------------------------------------------------

/// The shape of a pop's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopShape {
    /// The element as a bulk string (LPOP without a count).
    Single,
    /// An array of the elements (LPOP with a count).
    Array,
    /// `[key, element]` (BLPOP, BRPOP).
    KeyAndSingle,
    /// `[key, [elements]]` (LMPOP, BLMPOP).
    KeyAndArray,
}

/// Pops up to `count` elements (exactly one for the single shapes) from `end` of
/// the list at `key`, replies them in `shape`, deletes the key once empty, counts
/// the changes and reports them ("lpop"/"rpop", then "del" if the list emptied).
/// The caller has found a non-empty list there. Returns how many
/// elements were popped (0, with nothing replied, if there was no list after all).
pub fn pop_and_reply(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    end: End,
    count: usize,
    shape: PopShape,
) -> usize {
    let (l, out) = list_and_out(ctx, key, Access::NoTouch);
    let Ok(Some(l)) = l else {
        return 0;
    };
    let n = pop_into(l, out, key, end, count, shape);
    let emptied = l.is_empty();
    if emptied {
        ctx.db(key).remove(key);
    }
    ctx.dirty += n as u64;
    if n > 0 {
        notify_pop(ctx, key, end, emptied);
    }
    n
}

/// The pop itself, on a list already looked up: replies and returns the count.
fn pop_into(
    l: &mut List,
    out: &mut ReplyWriter,
    key: &[u8],
    end: End,
    count: usize,
    shape: PopShape,
) -> usize {
    if l.is_empty() {
        return 0;
    }
    let n = match shape {
        PopShape::Single | PopShape::KeyAndSingle => 1,
        PopShape::Array | PopShape::KeyAndArray => count.min(l.len()),
    };
    match shape {
        PopShape::Single => {}
        PopShape::Array => out.array(n),
        PopShape::KeyAndSingle => {
            out.array(2);
            out.bulk(key);
        }
        PopShape::KeyAndArray => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    for _ in 0..n {
        l.pop_with(end, |e| reply_elem(out, e));
    }
    n
}

/// What [`try_pop_first`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopOutcome {
    /// Popped from a key and replied; `propagate` says `LPOP|RPOP key [count]`.
    Popped,
    /// No key held a list: nothing was replied (answer null, or block).
    Empty,
    /// A key held another type before any list was found: WRONGTYPE was replied.
    WrongType,
}

/// Pops from the first of `keys` holding a list (LMPOP, and BLPOP/BLMPOP when
/// served), replying in `shape` and rewriting the propagation as `LPOP key count`
/// (`LPOP key` for the single shapes).
pub fn try_pop_first(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    end: End,
    count: usize,
    shape: PopShape,
) -> PopOutcome {
    for key in keys {
        match get_list(ctx, key, Access::Write) {
            Err(WrongType) => {
                ctx.wrong_type();
                return PopOutcome::WrongType;
            }
            Ok(None) => continue,
            Ok(Some(l)) if l.is_empty() => continue,
            Ok(Some(_)) => {}
        }
        let n = pop_and_reply(ctx, key, end, count, shape);
        let name: &'static [u8] = match end {
            End::Head => b"LPOP",
            End::Tail => b"RPOP",
        };
        let mut cmd = vec![Bytes::from_static(name), key.clone()];
        if matches!(shape, PopShape::Array | PopShape::KeyAndArray) {
            cmd.push(Bytes::from(n.to_string()));
        }
        ctx.propagate = Propagate::Rewritten(vec![cmd]);
        return PopOutcome::Popped;
    }
    PopOutcome::Empty
}

pub(super) fn lpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    pop_generic(ctx, argv, End::Head, "lpop");
}

pub(super) fn rpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    pop_generic(ctx, argv, End::Tail, "rpop");
}

/// A count that must be a non-negative integer (`getPositiveLongFromObjectOrReply`):
/// any failure gives the one error.
fn non_negative(arg: &[u8], err: &'static str) -> Result<usize, &'static str> {
    match args::int(arg) {
        Ok(v) if v >= 0 => Ok(usize::try_from(v).unwrap_or(usize::MAX)),
        _ => Err(err),
    }
}

/// LPOP/RPOP `key [count]`.
fn pop_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End, name: &str) {
    if argv.len() > 3 {
        return ctx.error(&errors::wrong_arity(name));
    }
    let count = match argv.get(2) {
        None => None,
        Some(a) => match non_negative(a, errors::NOT_POSITIVE) {
            Ok(c) => Some(c),
            Err(e) => return ctx.error(e),
        },
    };
    let key = &argv[1];
    let (l, out) = list_and_out(ctx, key, Access::Write);
    let l = match l {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) if count.is_some() => return out.null_array(),
        Ok(None) => return out.null(),
        Ok(Some(l)) => l,
    };
    let n = match count {
        None => pop_into(l, out, key, end, 1, PopShape::Single),
        Some(0) => {
            out.array(0);
            0
        }
        Some(c) => pop_into(l, out, key, end, c, PopShape::Array),
    };
    let emptied = l.is_empty();
    if emptied {
        ctx.db(key).remove(key);
    }
    ctx.dirty += n as u64;
    // LPOP key 0 changes nothing and reports nothing.
    if n > 0 {
        notify_pop(ctx, key, end, emptied);
    }
}

/// A count that must be at least 1 (`getRangeLongFromObjectOrReply(1, LONG_MAX)`).
fn positive(arg: &[u8], err: &'static str) -> Result<usize, &'static str> {
    match args::int(arg) {
        Ok(v) if v >= 1 => Ok(usize::try_from(v).unwrap_or(usize::MAX)),
        _ => Err(err),
    }
}

/// The arguments of LMPOP and BLMPOP from `numkeys` on.
#[derive(Debug)]
pub struct MpopArgs<'a> {
    pub keys: &'a [Bytes],
    pub end: End,
    pub count: usize,
}

/// Parses `numkeys key [key ...] LEFT|RIGHT [COUNT count]` (`args` starts at
/// numkeys), in Redis's order: numkeys, the direction, then the options.
pub fn parse_mpop(args: &[Bytes]) -> Result<MpopArgs<'_>, &'static str> {
    let numkeys = positive(&args[0], errors::NUMKEYS_NOT_POSITIVE)?;
    let where_idx = numkeys
        .checked_add(1)
        .filter(|&w| w < args.len())
        .ok_or(errors::SYNTAX)?;
    let end = parse_end(&args[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if count.is_none() && kw(&args[j], "count") && more > 0 {
            j += 1;
            count = Some(positive(&args[j], errors::COUNT_NOT_POSITIVE)?);
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    Ok(MpopArgs {
        keys: &args[1..where_idx],
        end,
        count: count.unwrap_or(1),
    })
}

pub(super) fn lmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let a = match parse_mpop(&argv[1..]) {
        Ok(a) => a,
        Err(e) => return ctx.error(e),
    };
    if try_pop_first(ctx, a.keys, a.end, a.count, PopShape::KeyAndArray) == PopOutcome::Empty {
        ctx.out.null_array();
    }
}

// ---- moves ------------------------------------------------------------------------

/// What [`move_element`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveOutcome {
    /// Moved one element and replied it.
    Moved,
    /// The source holds no list: nothing was replied (answer null, or block).
    NoSource,
    /// Source or destination holds another type: WRONGTYPE was replied.
    WrongType,
}

/// Redis's `lmoveGenericCommand`: pops from `from` of `src`, pushes at `to` of
/// `dst` (creating it), replies the element. Source and destination may be the same
/// key (a rotation). The destination's type is checked before anything changes.
/// Events come in Redis's order: the push on `dst` ("new" first if created), then
/// the pop on `src`, then "del" if that emptied it.
pub fn move_element(
    ctx: &mut Ctx<'_>,
    src: &Bytes,
    dst: &Bytes,
    from: End,
    to: End,
) -> MoveOutcome {
    match get_list(ctx, src, Access::Write) {
        Err(WrongType) => {
            ctx.wrong_type();
            return MoveOutcome::WrongType;
        }
        Ok(None) => return MoveOutcome::NoSource,
        Ok(Some(l)) if l.is_empty() => return MoveOutcome::NoSource,
        Ok(Some(_)) => {}
    }
    if src == dst {
        let (l, out) = list_and_out(ctx, src, Access::NoTouch);
        if let Ok(Some(l)) = l {
            if let Some(v) = l.pop(from) {
                l.push(to, &v);
                out.bulk(&v);
            }
        }
        ctx.dirty += 1;
        ctx.notify(class::LIST, push_event(to), src);
        ctx.notify(class::LIST, pop_event(from), src);
        return MoveOutcome::Moved;
    }
    if get_list(ctx, dst, Access::Write).is_err() {
        ctx.wrong_type();
        return MoveOutcome::WrongType;
    }
    let (v, emptied) = match get_list(ctx, src, Access::NoTouch) {
        Ok(Some(l)) => {
            let v = l.pop(from);
            let emptied = l.is_empty();
            if emptied {
                ctx.db(src).remove(src);
            }
            (v, emptied)
        }
        _ => (None, false),
    };
    let Some(v) = v else {
        // Unreachable: the source was found non-empty above, under the same locks.
        return MoveOutcome::NoSource;
    };
    push_one(ctx, dst, to, &v);
    notify_pop(ctx, src, from, emptied);
    ctx.out.bulk(&v);
    ctx.dirty += 1;
    MoveOutcome::Moved
}

pub(super) fn lmove(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (from, to) = match (parse_end(&argv[3]), parse_end(&argv[4])) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return ctx.error(e),
    };
    if move_element(ctx, &argv[1], &argv[2], from, to) == MoveOutcome::NoSource {
        ctx.out.null();
    }
}

pub(super) fn rpoplpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    if move_element(ctx, &argv[1], &argv[2], End::Tail, End::Head) == MoveOutcome::NoSource {
        ctx.out.null();
    }
}
