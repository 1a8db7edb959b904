//! OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP.
//!
//! Lookups never disturb the key's access clock (the point of asking for its idle
//! time), but count a keyspace hit or miss as Redis does. A missing key answers a
//! null before any policy check.

use super::{LFU_NOT_SELECTED, LFU_SELECTED};
use crate::args;
use crate::ctx::Ctx;
use crate::errors;
use crate::settings::Settings;
use bytes::Bytes;
use shoal_keyspace::{Access, Entry, Str, Value};

/// What Redis reports as the reference count of a shared object (`INT_MAX`).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Integers in `0..SHARED_INTEGERS` are shared objects in Redis (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10_000;

const HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Tell which internal representation holds the value stored at <key>",
    "    (for example int, embstr, raw, listpack, hashtable).",
    "FREQ <key>",
    "    Tell the logarithmic access-frequency counter of <key>; it is only",
    "    maintained while an LFU maxmemory policy is in force.",
    "IDLETIME <key>",
    "    Tell roughly how many seconds went by since <key> was last read or",
    "    written; it is only maintained while no LFU policy is in force.",
    "REFCOUNT <key>",
    "    Tell how many references point to the value stored at <key>",
    "    (shared values report a very large number).",
    "HELP",
    "    Prints this help.",
];

pub(super) fn object(ctx: &mut Ctx, argv: &[Bytes]) {
    let sub = &argv[1];
    if args::is(sub, "help") && argv.len() == 2 {
        ctx.out.array(HELP.len());
        for line in HELP {
            ctx.out.simple(line);
        }
        return;
    }
    let known = ["encoding", "freq", "idletime", "refcount"];
    if argv.len() != 3 || !known.iter().any(|k| args::is(sub, k)) {
        // Dispatch has already refused unknown subcommands and wrong arities; this
        // keeps the handler total when called directly.
        return ctx.error(&errors::unknown_subcommand(sub, "OBJECT"));
    }
    let (now_ms, settings) = (ctx.now.ms, ctx.settings);
    let Some(entry) = ctx.lookup(&argv[2], Access::ReadQuiet) else {
        return ctx.out.null();
    };
    let reply = if args::is(sub, "encoding") {
        Reply::Text(entry.value.encoding())
    } else if args::is(sub, "refcount") {
        Reply::Int(refcount(&entry.value, settings))
    } else if args::is(sub, "idletime") {
        if settings.lfu_policy {
            Reply::Error(LFU_SELECTED)
        } else {
            Reply::Int(i64::try_from(entry.idle_seconds(now_ms)).unwrap_or(i64::MAX))
        }
    } else if settings.lfu_policy {
        Reply::Int(lfu_decayed_counter(entry, now_ms, settings.lfu_decay_time))
    } else {
        Reply::Error(LFU_NOT_SELECTED)
    };
    match reply {
        Reply::Text(s) => ctx.out.bulk_str(s),
        Reply::Int(v) => ctx.out.int(v),
        Reply::Error(e) => ctx.error(e),
    }
}

enum Reply {
    Text(&'static str),
    Int(i64),
    Error(&'static str),
}

/// Redis shares the objects of the integers 0..9999 between all keys holding them
/// and reports `INT_MAX` for their count; every other value has one reference.
///
/// Redis does not share integers when `maxmemory` is set with an LRU or LFU policy
/// (each key then needs its own access clock); `Settings` does not carry that yet, so
/// this assumes the default (sharing on). Values written by COPY are never shared in
/// Redis either; the keyspace does not record that.
fn refcount(v: &Value, _settings: &Settings) -> i64 {
    match v {
        Value::Str(Str::Int(i)) if (0..SHARED_INTEGERS).contains(i) => SHARED_REFCOUNT,
        _ => 1,
    }
}

/// The LFU counter with the decay of the minutes elapsed since its last update
/// applied (Redis's `LFUDecrAndReturn`), without storing it back.
///
/// The entry's 24-bit access clock holds, under an LFU policy, the last decrement
/// time in minutes (16 bits, wrapping) above an 8-bit logarithmic counter.
pub(crate) fn lfu_decayed_counter(e: &Entry, now_ms: i64, decay_time: i64) -> i64 {
    let lfu = shoal_keyspace::Lfu {
        log_factor: 0,
        decay_time: decay_time.clamp(0, u32::MAX as i64) as u32,
    };
    i64::from(shoal_keyspace::db::lfu_decayed(
        e.access_clock(),
        now_ms,
        lfu,
    ))
}
