//! String commands: GET, SET and its relatives (SETNX, SETEX, PSETEX, GETEX, GETDEL,
//! GETSET), MGET, MSET, MSETNX, APPEND, STRLEN, GETRANGE/SUBSTR and SETRANGE. The
//! counters (INCR ... INCRBYFLOAT) live in [`counter`], LCS in [`lcs`].
//!
//! Behaviour is Redis 7.0.15's, including what gets propagated:
//! - SET/SETEX/PSETEX with any expiry (even PXAT) become `SET key value PXAT <ms>`;
//!   SET ... GET without expiry is propagated with its GET tokens removed;
//! - GETEX becomes `PEXPIREAT`, `PERSIST` or `DEL` (an EXAT/PXAT already in the past
//!   deletes the key), GETDEL `DEL`/`UNLINK`, GETSET `SET`;
//! - INCRBYFLOAT becomes `SET key value KEEPTTL` (see [`counter`]).
//!
//! A time in the past given to SET (`SET k v PXAT 1`) is accepted: the key is stored
//! already expired and disappears at its next access, exactly as Redis 7.0 does.
//!
//! Events are Redis's: "set" (then "expire" when SET/SETEX/PSETEX set a TTL),
//! "append" (even of nothing), "setrange" (not when the value is empty), "incrby"
//! for every integer counter, "incrbyfloat"; GETDEL and a past GETEX EXAT/PXAT
//! report "del", GETEX "expire"/"persist". "new" comes from the key's creation, and
//! reads of a missing key ("keymiss") from the lookup.
//!
//! Encodings follow `OBJECT ENCODING` in Redis: a fresh value gets int/embstr/raw
//! from [`Str::from_bytes`]; APPEND to an existing value and SETRANGE make it raw;
//! INCR stores an int.

mod counter;
mod lcs;

#[cfg(test)]
pub(crate) mod golden;
#[cfg(test)]
mod golden_corpus;
#[cfg(test)]
mod golden_extra;
#[cfg(test)]
mod tests;

use crate::args::{self, kw};
use crate::ctx::{Ctx, Propagate, WrongType};
use crate::errors;
pub use crate::errors::DECR_OVERFLOW;
use crate::Handler;
use bytes::Bytes;
use shoal_keyspace::{class, Access, Str, Value};
use shoal_resp::ReplyWriter;
use std::borrow::Cow;

// Error texts this family adds; they belong in errors.rs (kept here until moved).

pub const HANDLERS: &[(&str, Handler)] = &[
    ("get", get),
    ("set", set),
    ("setnx", setnx),
    ("setex", setex),
    ("psetex", psetex),
    ("getex", getex),
    ("getdel", getdel),
    ("getset", getset),
    ("mget", mget),
    ("mset", mset),
    ("msetnx", msetnx),
    ("append", append),
    ("strlen", strlen),
    ("getrange", getrange),
    ("substr", getrange),
    ("setrange", setrange),
    ("incr", counter::incr),
    ("decr", counter::decr),
    ("incrby", counter::incrby),
    ("decrby", counter::decrby),
    ("incrbyfloat", counter::incrbyfloat),
    ("lcs", lcs::lcs),
];

// ---------------------------------------------------------------------------------
// Helpers shared with the bitmap commands.

/// Looks `key` up and hands back the string together with the reply writer, so a
/// handler can reply straight from the stored bytes without copying them out.
pub(crate) fn str_and_out<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    access: Access,
) -> (Result<Option<&'c mut Str>, WrongType>, &'c mut ReplyWriter) {
    ctx.typed_and_out(key, access, Value::as_str_mut)
}

/// A string value stored as Redis's `createStringObject` would (never int-encoded):
/// embstr up to 44 bytes, raw beyond.
pub(crate) fn plain_str(b: &[u8]) -> Str {
    if b.len() <= shoal_keyspace::value::EMBSTR_MAX {
        Str::Emb(b.into())
    } else {
        Str::raw(b.to_vec())
    }
}

fn bulk_of(out: &mut ReplyWriter, s: &Str) {
    s.with_bytes(|b| out.bulk(b));
}

/// Redis's `checkStringLength`: may a string grow to `size + append` bytes?
pub(crate) fn check_len(ctx: &Ctx<'_>, size: i64, append: i64) -> Result<(), &'static str> {
    match size.checked_add(append) {
        Some(total) if total <= ctx.settings.proto_max_bulk_len => Ok(()),
        _ => Err(errors::STRING_TOO_LONG),
    }
}

// ---------------------------------------------------------------------------------
// GET / SET family.

fn get(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (s, out) = str_and_out(ctx, &argv[1], Access::Read);
    match s {
        Ok(Some(s)) => bulk_of(out, s),
        Ok(None) => out.null(),
        Err(WrongType) => out.error(errors::WRONGTYPE),
    }
}

/// How an expiry argument is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl Unit {
    fn parse(arg: &[u8]) -> Option<Unit> {
        [
            ("ex", Unit::Ex),
            ("px", Unit::Px),
            ("exat", Unit::ExAt),
            ("pxat", Unit::PxAt),
        ]
        .into_iter()
        .find(|(w, _)| kw(arg, w))
        .map(|(_, u)| u)
    }
}

/// The options of SET (and GETEX, which shares Redis's parser).
#[derive(Default, Debug)]
struct SetOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(Unit, &'a [u8])>,
}

/// Parses SET's options (`for_set`) or GETEX's, accepting exactly what Redis's
/// `parseExtendedStringArgumentsOrReply` accepts: a repeated option is fine, a
/// conflicting one (NX with XX, two different expiry forms, KEEPTTL or PERSIST with
/// an expiry) is a syntax error.
fn parse_set_opts(opts: &[Bytes], for_set: bool) -> Result<SetOpts<'_>, &'static str> {
    let mut o = SetOpts::default();
    let mut j = 0;
    while j < opts.len() {
        let a = &opts[j][..];
        if for_set && !o.xx && kw(a, "nx") {
            o.nx = true;
        } else if for_set && !o.nx && kw(a, "xx") {
            o.xx = true;
        } else if for_set && kw(a, "get") {
            o.get = true;
        } else if for_set && !o.persist && o.expire.is_none() && kw(a, "keepttl") {
            o.keepttl = true;
        } else if !for_set && !o.keepttl && o.expire.is_none() && kw(a, "persist") {
            o.persist = true;
        } else {
            let unit = Unit::parse(a).ok_or(errors::SYNTAX)?;
            let same_or_none = o.expire.is_none_or(|(u, _)| u == unit);
            match opts.get(j + 1) {
                Some(next) if same_or_none && !o.keepttl && !o.persist => {
                    o.expire = Some((unit, &next[..]));
                    j += 1;
                }
                _ => return Err(errors::SYNTAX),
            }
        }
        j += 1;
    }
    Ok(o)
}

/// The absolute expiry time (ms) an expiry argument stands for, with Redis's checks
/// (`getExpireMillisecondsOrReply`): positive, no overflow when scaled or added to
/// the current time. `cmd` names the command in the error.
fn expire_at(arg: &[u8], unit: Unit, now_ms: i64, cmd: &str) -> Result<i64, Cow<'static, str>> {
    let v = args::int(arg).map_err(Cow::Borrowed)?;
    let seconds = matches!(unit, Unit::Ex | Unit::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(Cow::Owned(errors::invalid_expire(cmd)));
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if matches!(unit, Unit::Ex | Unit::Px) {
        // Redis adds in C and checks the sign afterwards: an overflow wraps negative.
        ms = ms.wrapping_add(now_ms);
    }
    if ms <= 0 {
        return Err(Cow::Owned(errors::invalid_expire(cmd)));
    }
    Ok(ms)
}

/// One resolved SET request.
struct SetReq<'a> {
    key: &'a Bytes,
    val: &'a Bytes,
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    expire: Option<i64>,
    /// SETNX replies 1/0 instead of OK/null.
    int_reply: bool,
}

/// Redis's `setGenericCommand`. Returns whether the value was stored.
fn set_generic(ctx: &mut Ctx<'_>, r: &SetReq<'_>) -> bool {
    if r.get {
        let (s, out) = str_and_out(ctx, r.key, Access::Read);
        match s {
            Ok(Some(s)) => bulk_of(out, s),
            Ok(None) => out.null(),
            Err(WrongType) => {
                out.error(errors::WRONGTYPE);
                return false;
            }
        }
    }
    let found = ctx.write(r.key).is_some();
    if (r.nx && found) || (r.xx && !found) {
        if !r.get {
            if r.int_reply {
                ctx.out.int(0);
            } else {
                ctx.out.null();
            }
        }
        return false;
    }
    ctx.set(r.key, Value::Str(Str::from_bytes(r.val)), r.keepttl);
    ctx.notify(class::STRING, "set", r.key);
    if let Some(ms) = r.expire {
        ctx.db(r.key).set_expire(r.key, ms);
        ctx.notify(class::GENERIC, "expire", r.key);
        ctx.propagate = Propagate::Rewritten(vec![vec![
            Bytes::from_static(b"SET"),
            r.key.clone(),
            r.val.clone(),
            Bytes::from_static(b"PXAT"),
            Bytes::from(ms.to_string()),
        ]]);
    }
    if !r.get {
        if r.int_reply {
            ctx.out.int(1);
        } else {
            ctx.out.ok();
        }
    }
    true
}

fn set(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let o = match parse_set_opts(&argv[3..], true) {
        Ok(o) => o,
        Err(e) => return ctx.error(e),
    };
    let expire = match o.expire {
        None => None,
        Some((unit, arg)) => match expire_at(arg, unit, ctx.now.ms, "set") {
            Ok(ms) => Some(ms),
            Err(e) => return ctx.error(&e),
        },
    };
    let req = SetReq {
        key: &argv[1],
        val: &argv[2],
        nx: o.nx,
        xx: o.xx,
        get: o.get,
        keepttl: o.keepttl,
        expire,
        int_reply: false,
    };
    if set_generic(ctx, &req) && o.get && expire.is_none() {
        // Replicas must not see GET (it would only waste a reply nobody reads).
        let v = argv
            .iter()
            .enumerate()
            .filter(|(j, a)| *j < 3 || !kw(a, "get"))
            .map(|(_, a)| a.clone())
            .collect();
        ctx.propagate = Propagate::Rewritten(vec![v]);
    }
}

fn setnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let req = SetReq {
        key: &argv[1],
        val: &argv[2],
        nx: true,
        xx: false,
        get: false,
        keepttl: false,
        expire: None,
        int_reply: true,
    };
    set_generic(ctx, &req);
}

/// SETEX / PSETEX: `key ttl value`.
fn set_with_ttl(ctx: &mut Ctx<'_>, argv: &[Bytes], unit: Unit, cmd: &str) {
    let ms = match expire_at(&argv[2], unit, ctx.now.ms, cmd) {
        Ok(ms) => ms,
        Err(e) => return ctx.error(&e),
    };
    let req = SetReq {
        key: &argv[1],
        val: &argv[3],
        nx: false,
        xx: false,
        get: false,
        keepttl: false,
        expire: Some(ms),
        int_reply: false,
    };
    set_generic(ctx, &req);
}

fn setex(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    set_with_ttl(ctx, argv, Unit::Ex, "setex");
}

fn psetex(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    set_with_ttl(ctx, argv, Unit::Px, "psetex");
}

fn getex(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let o = match parse_set_opts(&argv[2..], false) {
        Ok(o) => o,
        Err(e) => return ctx.error(e),
    };
    let key = &argv[1];
    let now = ctx.now.ms;
    let (s, out) = str_and_out(ctx, key, Access::Read);
    let s = match s {
        Ok(Some(s)) => s,
        Ok(None) => return out.null(),
        Err(WrongType) => return out.error(errors::WRONGTYPE),
    };
    // The expiry is validated only once the key is known to hold a string.
    let expire = match o.expire {
        None => None,
        Some((unit, arg)) => match expire_at(arg, unit, now, "getex") {
            Ok(ms) => Some((unit, ms)),
            Err(e) => return out.error(&e),
        },
    };
    bulk_of(out, s);
    if let Some((unit, ms)) = expire {
        let absolute = matches!(unit, Unit::ExAt | Unit::PxAt);
        ctx.dirty += 1;
        let cmd = if absolute && ms <= now && !ctx.settings.replica {
            ctx.db(key).remove(key);
            ctx.notify(class::GENERIC, "del", key);
            vec![Bytes::from_static(b"DEL"), key.clone()]
        } else {
            ctx.db(key).set_expire(key, ms);
            ctx.notify(class::GENERIC, "expire", key);
            vec![
                Bytes::from_static(b"PEXPIREAT"),
                key.clone(),
                Bytes::from(ms.to_string()),
            ]
        };
        ctx.propagate = Propagate::Rewritten(vec![cmd]);
    } else if o.persist && ctx.db(key).persist(key) {
        ctx.dirty += 1;
        ctx.notify(class::GENERIC, "persist", key);
        ctx.propagate =
            Propagate::Rewritten(vec![vec![Bytes::from_static(b"PERSIST"), key.clone()]]);
    }
}

fn getdel(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let key = &argv[1];
    let (s, out) = str_and_out(ctx, key, Access::Read);
    match s {
        Ok(Some(s)) => bulk_of(out, s),
        Ok(None) => return out.null(),
        Err(WrongType) => return out.error(errors::WRONGTYPE),
    }
    ctx.db(key).remove(key);
    ctx.dirty += 1;
    ctx.notify(class::GENERIC, "del", key);
    let del: &'static [u8] = if ctx.settings.lazyfree_lazy_user_del {
        b"UNLINK"
    } else {
        b"DEL"
    };
    ctx.propagate = Propagate::Rewritten(vec![vec![Bytes::from_static(del), key.clone()]]);
}

fn getset(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (key, val) = (&argv[1], &argv[2]);
    let (s, out) = str_and_out(ctx, key, Access::Read);
    match s {
        Ok(Some(s)) => bulk_of(out, s),
        Ok(None) => out.null(),
        Err(WrongType) => return out.error(errors::WRONGTYPE),
    }
    ctx.set(key, Value::Str(Str::from_bytes(val)), false);
    ctx.notify(class::STRING, "set", key);
    ctx.propagate = Propagate::Rewritten(vec![vec![
        Bytes::from_static(b"SET"),
        key.clone(),
        val.clone(),
    ]]);
}

// ---------------------------------------------------------------------------------
// Multi-key commands.

fn mget(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    ctx.out.array(argv.len() - 1);
    for key in &argv[1..] {
        let (s, out) = str_and_out(ctx, key, Access::Read);
        match s {
            Ok(Some(s)) => bulk_of(out, s),
            _ => out.null(),
        }
    }
}

fn mset_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], nx: bool) {
    if argv.len().is_multiple_of(2) {
        let name = if nx { "msetnx" } else { "mset" };
        return ctx.error(&errors::wrong_arity(name));
    }
    if nx {
        for pair in argv[1..].chunks_exact(2) {
            if ctx.write(&pair[0]).is_some() {
                return ctx.out.int(0);
            }
        }
    }
    for pair in argv[1..].chunks_exact(2) {
        // The lookup drops an expired old value before the overwrite.
        ctx.write(&pair[0]);
        ctx.set(&pair[0], Value::Str(Str::from_bytes(&pair[1])), false);
        ctx.notify(class::STRING, "set", &pair[0]);
    }
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
}

fn mset(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    mset_generic(ctx, argv, false);
}

fn msetnx(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    mset_generic(ctx, argv, true);
}

// ---------------------------------------------------------------------------------
// APPEND, STRLEN, GETRANGE, SETRANGE.

fn append(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (key, tail) = (&argv[1], &argv[2]);
    let max = ctx.settings.proto_max_bulk_len;
    match ctx.write_str(key) {
        Err(WrongType) => ctx.wrong_type(),
        Ok(Some(s)) => {
            let total = (s.len() as i64).checked_add(tail.len() as i64);
            if total.is_none_or(|t| t > max) {
                return ctx.error(errors::STRING_TOO_LONG);
            }
            let buf = s.make_raw();
            buf.extend_from_slice(tail);
            let len = buf.len() as i64;
            ctx.dirty += 1;
            ctx.notify(class::STRING, "append", key);
            ctx.out.int(len);
        }
        Ok(None) => {
            ctx.set(key, Value::Str(Str::from_bytes(tail)), false);
            ctx.notify(class::STRING, "append", key);
            ctx.out.int(tail.len() as i64);
        }
    }
}

fn strlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (s, out) = str_and_out(ctx, &argv[1], Access::Read);
    match s {
        Ok(Some(s)) => out.int(s.len() as i64),
        Ok(None) => out.int(0),
        Err(WrongType) => out.error(errors::WRONGTYPE),
    }
}

/// The inclusive byte range GETRANGE returns for `start..=end` over `len` bytes,
/// with Redis's clamping; `None` when the result is empty.
fn byte_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len = len as i64;
    // len >= 0 and the index < 0, so the sums cannot overflow.
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// GETRANGE and its old name SUBSTR.
fn getrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (start, end) = match (args::int(&argv[2]), args::int(&argv[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return ctx.error(e),
    };
    let (s, out) = str_and_out(ctx, &argv[1], Access::Read);
    match s {
        Ok(Some(s)) => s.with_bytes(|b| match byte_range(b.len(), start, end) {
            Some((a, z)) => out.bulk(&b[a..=z]),
            None => out.bulk(b""),
        }),
        Ok(None) => out.bulk(b""),
        Err(WrongType) => out.error(errors::WRONGTYPE),
    }
}

fn setrange(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (key, value) = (&argv[1], &argv[3]);
    let offset = match args::int(&argv[2]) {
        Ok(v) if v < 0 => return ctx.error(errors::OFFSET_RANGE),
        Ok(v) => v,
        Err(e) => return ctx.error(e),
    };
    let fits = check_len(ctx, offset, value.len() as i64);
    match ctx.write_str(key) {
        Err(WrongType) => ctx.wrong_type(),
        Ok(None) => {
            if value.is_empty() {
                return ctx.out.int(0);
            }
            if let Err(e) = fits {
                return ctx.error(e);
            }
            // offset + len <= proto-max-bulk-len, checked above.
            let off = offset as usize;
            let mut buf = vec![0u8; off + value.len()];
            buf[off..].copy_from_slice(value);
            let len = buf.len() as i64;
            ctx.set(key, Value::Str(Str::raw(buf)), false);
            ctx.notify(class::STRING, "setrange", key);
            ctx.out.int(len);
        }
        Ok(Some(s)) => {
            if value.is_empty() {
                let len = s.len() as i64;
                return ctx.out.int(len);
            }
            if let Err(e) = fits {
                return ctx.error(e);
            }
            let off = offset as usize;
            let buf = s.make_raw();
            if buf.len() < off + value.len() {
                buf.resize(off + value.len(), 0);
            }
            buf[off..off + value.len()].copy_from_slice(value);
            let len = buf.len() as i64;
            ctx.dirty += 1;
            ctx.notify(class::STRING, "setrange", key);
            ctx.out.int(len);
        }
    }
}
