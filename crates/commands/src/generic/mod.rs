//! The generic keyspace commands: the ones that work on keys whatever their type.
//!
//! | module | commands |
//! |---|---|
//! | here | DEL UNLINK EXISTS TYPE TOUCH RENAME RENAMENX COPY MOVE WAIT |
//! | [`dbs`] | RANDOMKEY DBSIZE FLUSHDB FLUSHALL SWAPDB |
//! | [`expire`] | EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST |
//! | [`scan`] | KEYS SCAN |
//! | [`object`] | OBJECT ENCODING/FREQ/IDLETIME/REFCOUNT/HELP |
//! | [`sort`] | SORT SORT_RO |
//! | [`dump`] | DUMP RESTORE |
//!
//! Behaviour is Redis 7.0.15's: argument order of checks, reply types, error texts and
//! `server.dirty` increments. Lookups follow Redis's flags: TYPE, EXISTS, TTL and
//! OBJECT count a hit or miss without touching the access clock
//! ([`Access::ReadNoTouch`]); TOUCH and COPY's source read it; writes look up with
//! [`Access::Write`]. OBJECT fires no "keymiss" ([`Access::ReadQuiet`]).
//!
//! Events are Redis's: "del" per deleted key (DEL and UNLINK alike); "new" for the
//! destination (even one that existed: it is deleted, then added), then
//! "rename_from"/"rename_to", "move_from"/"move_to" (each in its own database), or
//! "copy_to"; SORT ... STORE reports "sortstore", or "del" when an empty result
//! deleted the destination.
//!
//! Invariants: a handler touches only the keys dispatch locked for it (its declared
//! keys), or first calls [`Ctx::lock_all`] before reading anything (KEYS, DBSIZE,
//! RANDOMKEY, FLUSH*, SWAPDB, SORT with BY/GET patterns); database indexes from a
//! client are validated against `Keyspace::num_dbs` before use.

mod dbs;
mod dump;
mod expire;
mod object;
mod scan;
mod sort;

#[cfg(test)]
mod tests;

use crate::args;
use crate::ctx::Ctx;
use crate::errors;
use crate::Handler;
use bytes::Bytes;
use shoal_keyspace::{class, Access, Entry};

pub use crate::errors::{
    EXPIRE_GT_LT_CONFLICT, EXPIRE_NX_CONFLICT, INT_OUT_OF_RANGE, INVALID_CURSOR, INVALID_FIRST_DB,
    INVALID_SECOND_DB, LFU_NOT_SELECTED, LFU_SELECTED, SORT_NOT_DOUBLE, WAIT_ON_REPLICA,
    WAIT_TIMEOUT_NOT_INT,
};

pub use scan::parse_cursor;
pub use sort::{
    parse_opts as parse_sort_opts, resolve_pattern, sort_rows, SortInput, SortOpts, SortOrder,
};

/// `ERR Unsupported option foo` (EXPIRE family). The option is read as a C string.
pub fn unsupported_option(opt: &[u8]) -> String {
    format!(
        "ERR Unsupported option {}",
        String::from_utf8_lossy(c_str(opt))
    )
}

pub const HANDLERS: &[(&str, Handler)] = &[
    ("del", del),
    ("unlink", unlink),
    ("exists", exists),
    ("type", type_cmd),
    ("touch", touch),
    ("rename", rename),
    ("renamenx", renamenx),
    ("copy", copy),
    ("move", move_cmd),
    ("randomkey", dbs::randomkey),
    ("dbsize", dbs::dbsize),
    ("flushdb", dbs::flushdb),
    ("flushall", dbs::flushall),
    ("swapdb", dbs::swapdb),
    ("expire", expire::expire),
    ("pexpire", expire::pexpire),
    ("expireat", expire::expireat),
    ("pexpireat", expire::pexpireat),
    ("ttl", expire::ttl),
    ("pttl", expire::pttl),
    ("expiretime", expire::expiretime),
    ("pexpiretime", expire::pexpiretime),
    ("persist", expire::persist),
    ("keys", scan::keys),
    ("scan", scan::scan),
    ("object", object::object),
    ("sort", sort::sort),
    ("sort_ro", sort::sort_ro),
    ("dump", dump::dump),
    ("restore", dump::restore),
];

/// The bytes of `arg` up to its first NUL, as Redis's C string functions see them.
pub(crate) fn c_str(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&b| b == 0) {
        Some(n) => &arg[..n],
        None => arg,
    }
}

/// Redis `getIntFromObjectOrReply` with its default messages.
pub(crate) fn parse_i32(arg: &[u8]) -> Result<i32, &'static str> {
    let v = args::int(arg)?;
    i32::try_from(v).map_err(|_| INT_OUT_OF_RANGE)
}

/// A database index as MOVE and COPY take it: an `i32`, then in range.
pub(crate) fn parse_db(ctx: &Ctx, arg: &[u8]) -> Result<usize, &'static str> {
    let v = parse_i32(arg)?;
    usize::try_from(v)
        .ok()
        .filter(|&d| d < ctx.ks.num_dbs())
        .ok_or(errors::DB_OUT_OF_RANGE)
}

/// Looks `key` up in database `db`, which may differ from the selected one.
///
/// Invariant: `key` is one of the command's declared keys (dispatch locked its shard)
/// or the command called `lock_all`; `db < num_dbs`.
pub(crate) fn lookup_in<'c>(
    ctx: &'c mut Ctx<'_>,
    db: usize,
    key: &[u8],
    access: Access,
) -> Option<&'c mut Entry> {
    ctx.entry_and_out(db, key, access).0
}

/// Values whose freeing costs more than this many allocations go to a background
/// thread when the deletion is lazy (Redis's `LAZYFREE_THRESHOLD`).
const LAZYFREE_THRESHOLD: usize = 64;

/// Frees a deleted entry, on another thread when `lazy` and it is expensive.
pub(crate) fn free_entry(entry: Entry, lazy: bool) {
    if lazy && entry.value.free_effort() > LAZYFREE_THRESHOLD {
        shoal_keyspace::lazyfree::free_later(entry);
    }
}

// ---- DEL, UNLINK -------------------------------------------------------------------

fn del(ctx: &mut Ctx, argv: &[Bytes]) {
    let lazy = ctx.settings.lazyfree_lazy_user_del;
    del_generic(ctx, argv, lazy);
}

fn unlink(ctx: &mut Ctx, argv: &[Bytes]) {
    del_generic(ctx, argv, true);
}

fn del_generic(ctx: &mut Ctx, argv: &[Bytes], lazy: bool) {
    let mut n = 0;
    for key in &argv[1..] {
        // The write lookup expires the key first: an expired key is not counted.
        if ctx.write(key).is_none() {
            continue;
        }
        if let Some((entry, _)) = ctx.db(key).remove(key) {
            free_entry(entry, lazy);
            ctx.dirty += 1;
            ctx.notify(class::GENERIC, "del", key);
            n += 1;
        }
    }
    ctx.out.int(n);
}

// ---- EXISTS, TYPE, TOUCH ----------------------------------------------------------

fn exists(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut n = 0;
    for key in &argv[1..] {
        if ctx.lookup(key, Access::ReadNoTouch).is_some() {
            n += 1;
        }
    }
    ctx.out.int(n);
}

fn type_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let name = match ctx.lookup(&argv[1], Access::ReadNoTouch) {
        Some(e) => e.value.kind().name(),
        None => "none",
    };
    ctx.out.simple(name);
}

fn touch(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut n = 0;
    for key in &argv[1..] {
        if ctx.read(key).is_some() {
            n += 1;
        }
    }
    ctx.out.int(n);
}

// ---- RENAME, RENAMENX -------------------------------------------------------------

fn rename(ctx: &mut Ctx, argv: &[Bytes]) {
    rename_generic(ctx, argv, false);
}

fn renamenx(ctx: &mut Ctx, argv: &[Bytes]) {
    rename_generic(ctx, argv, true);
}

fn rename_generic(ctx: &mut Ctx, argv: &[Bytes], nx: bool) {
    let (src, dst) = (&argv[1], &argv[2]);
    if ctx.write(src).is_none() {
        ctx.error(errors::NO_SUCH_KEY);
        return;
    }
    // Same key: nothing to do, but the key had to exist.
    if src == dst {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return;
    }
    if ctx.write(dst).is_some() {
        if nx {
            ctx.out.int(0);
            return;
        }
        if let Some((old, _)) = ctx.db(dst).remove(dst) {
            free_entry(old, ctx.settings.lazyfree_lazy_server_del);
        }
    }
    let Some((entry, expire_at)) = ctx.db(src).remove(src) else {
        // Unreachable: the lookup above found `src` and nothing ran in between.
        ctx.error(errors::NO_SUCH_KEY);
        return;
    };
    // "new" for `dst` (even if it existed: its old value was deleted first), then
    // "rename_from", "rename_to", as Redis reports them.
    ctx.db(dst).insert_entry(dst, entry, expire_at);
    ctx.dirty += 1;
    ctx.notify(class::GENERIC, "rename_from", src);
    ctx.notify(class::GENERIC, "rename_to", dst);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
}

// ---- COPY, MOVE -------------------------------------------------------------------

fn copy(ctx: &mut Ctx, argv: &[Bytes]) {
    let (src, dst) = (&argv[1], &argv[2]);
    let src_db = ctx.db;
    let mut dst_db = ctx.db;
    let mut replace = false;
    let mut j = 3;
    while j < argv.len() {
        let more = argv.len() - j - 1;
        if args::is(&argv[j], "replace") {
            replace = true;
        } else if args::is(&argv[j], "db") && more >= 1 {
            match parse_db(ctx, &argv[j + 1]) {
                Ok(d) => dst_db = d,
                Err(e) => return ctx.error(e),
            }
            j += 1;
        } else {
            return ctx.error(errors::SYNTAX);
        }
        j += 1;
    }
    if src_db == dst_db && src == dst {
        return ctx.error(errors::SAME_OBJECT);
    }
    let now = ctx.now;
    let value = match lookup_in(ctx, src_db, src, Access::Read) {
        Some(e) => e.value.clone(),
        None => return ctx.out.int(0),
    };
    let expire_at = ctx.db_of(src_db, src).expire_time(src);
    if lookup_in(ctx, dst_db, dst, Access::Write).is_some() {
        if !replace {
            return ctx.out.int(0);
        }
        if let Some((old, _)) = ctx.db_of(dst_db, dst).remove(dst) {
            free_entry(old, ctx.settings.lazyfree_lazy_server_del);
        }
    }
    ctx.db_of(dst_db, dst)
        .insert_entry(dst, Entry::new(value, now), expire_at);
    ctx.dirty += 1;
    ctx.ev.notify(class::GENERIC, "copy_to", dst_db, dst);
    ctx.out.int(1);
}

fn move_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    let src_db = ctx.db;
    let dst_db = match parse_db(ctx, &argv[2]) {
        Ok(d) => d,
        Err(e) => return ctx.error(e),
    };
    if dst_db == src_db {
        return ctx.error(errors::SAME_OBJECT);
    }
    if lookup_in(ctx, src_db, key, Access::Write).is_none() {
        return ctx.out.int(0);
    }
    if lookup_in(ctx, dst_db, key, Access::Write).is_some() {
        return ctx.out.int(0);
    }
    let Some((entry, expire_at)) = ctx.db_of(src_db, key).remove(key) else {
        // Unreachable: the lookup above found the key and nothing ran in between.
        return ctx.out.int(0);
    };
    ctx.db_of(dst_db, key).insert_entry(key, entry, expire_at);
    ctx.dirty += 1;
    ctx.ev.notify(class::GENERIC, "move_from", src_db, key);
    ctx.ev.notify(class::GENERIC, "move_to", dst_db, key);
    ctx.out.int(1);
}
