//! DUMP and RESTORE: a value to Redis's serialized form and back
//! (payload format in `shoal_rdb::dump`).
//!
//! RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f] checks, in
//! Redis 7.0.15's order: the options (IDLETIME and FREQ exclude each other,
//! which shows as a syntax error), whether the key exists (BUSYKEY unless
//! REPLACE), the TTL, the payload's version and checksum, then decodes the
//! value (deeply validated under `sanitize-dump-payload yes|clients`).
//!
//! A TTL of 0 means no expiry; otherwise it is relative ms, or absolute with
//! ABSTTL. A time already past stores nothing: the reply is still OK, and a key
//! deleted by REPLACE is reported ("del") and propagated as DEL (UNLINK under
//! `lazyfree-lazy-server-del`). A relative TTL is propagated as absolute: the
//! TTL argument becomes the expiry time and ABSTTL is appended, so that every
//! copy expires the key at the same instant. IDLETIME applies under an LRU (or
//! no) policy and FREQ under an LFU one; the other is ignored, as in Redis.
//!
//! Events: "restore" (and "new" for the key). One change is counted per
//! restored key.

use super::{c_str, free_entry};
use crate::args;
use crate::ctx::{Ctx, Propagate};
use crate::errors;
use crate::settings::SanitizeDump;
use bytes::Bytes;
use shoal_keyspace::{class, Access, Entry, ExpireMode};
use shoal_rdb::dump::PayloadError;
use shoal_rdb::{Limits, ReadOptions};

pub const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
pub const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
pub const BAD_DATA: &str = "ERR Bad data format";
pub const INVALID_TTL: &str = "ERR Invalid TTL value, must be >= 0";
pub const INVALID_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
pub const INVALID_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";

pub(super) fn dump(ctx: &mut Ctx, argv: &[Bytes]) {
    let compress = ctx.settings.rdbcompression;
    match ctx.lookup(&argv[1], Access::Read) {
        Some(e) => {
            let payload = shoal_rdb::dump::dump(&e.value, compress);
            ctx.out.bulk(&payload);
        }
        None => ctx.out.null(),
    }
}

/// The options after the payload.
#[derive(Default)]
struct Opts {
    replace: bool,
    absttl: bool,
    idle: Option<i64>,
    freq: Option<i64>,
}

fn parse_opts(argv: &[Bytes]) -> Result<Opts, &'static str> {
    let mut o = Opts::default();
    let mut j = 4;
    while j < argv.len() {
        let more = argv.len() - j - 1;
        let a = c_str(&argv[j]);
        if args::is(a, "replace") {
            o.replace = true;
        } else if args::is(a, "absttl") {
            o.absttl = true;
        } else if args::is(a, "idletime") && more >= 1 && o.freq.is_none() {
            let v = args::int(&argv[j + 1])?;
            if v < 0 {
                return Err(INVALID_IDLETIME);
            }
            o.idle = Some(v);
            j += 1;
        } else if args::is(a, "freq") && more >= 1 && o.idle.is_none() {
            let v = args::int(&argv[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err(INVALID_FREQ);
            }
            o.freq = Some(v);
            j += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// How RESTORE decodes payloads under the current settings.
pub fn read_options(ctx: &Ctx) -> ReadOptions {
    let s = ctx.settings;
    ReadOptions {
        limits: Limits {
            hash: shoal_keyspace::hash::Limits::new(
                s.hash_max_listpack_entries,
                s.hash_max_listpack_value,
            ),
            zset: shoal_keyspace::ZLimits::new(
                s.zset_max_listpack_entries,
                s.zset_max_listpack_value,
            ),
            set_max_intset_entries: usize::try_from(s.set_max_intset_entries).unwrap_or(0),
            list_fill: s.list_max_listpack_size,
            stream_node_max_bytes: s.stream_node_max_bytes,
            stream_node_max_entries: s.stream_node_max_entries,
        },
        // `clients` sanitizes what clients send; commands applied from a master
        // or the AOF are not told apart here, so they are sanitized too.
        deep_sanitize: s.sanitize_dump_payload != SanitizeDump::No,
        ignore_checksum: false,
    }
}

pub(super) fn restore(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    let o = match parse_opts(argv) {
        Ok(o) => o,
        Err(e) => return ctx.error(e),
    };
    if !o.replace && ctx.write(key).is_some() {
        return ctx.error(BUSYKEY);
    }
    let ttl = match args::int(&argv[2]) {
        Ok(t) if t < 0 => return ctx.error(INVALID_TTL),
        Ok(t) => t,
        Err(e) => return ctx.error(e),
    };
    let opts = read_options(ctx);
    let value = match shoal_rdb::dump::restore(&argv[3], &opts) {
        Ok(v) => v,
        Err(PayloadError::VersionOrChecksum) => return ctx.error(BAD_PAYLOAD),
        Err(PayloadError::BadData(_)) => return ctx.error(BAD_DATA),
    };

    let mut deleted = false;
    if o.replace && ctx.write(key).is_some() {
        if let Some((old, _)) = ctx.db(key).remove(key) {
            free_entry(old, ctx.settings.lazyfree_lazy_server_del);
            deleted = true;
        }
    }
    let now = ctx.now;
    // Redis adds without an overflow check; a wrapped sum reads as past.
    let when = if ttl != 0 && !o.absttl {
        ttl.wrapping_add(now.ms)
    } else {
        ttl
    };
    let may_expire = !ctx.settings.replica && now.expire == ExpireMode::Delete;
    if when != 0 && when <= now.ms && may_expire {
        if deleted {
            let verb: &'static [u8] = if ctx.settings.lazyfree_lazy_server_del {
                b"UNLINK"
            } else {
                b"DEL"
            };
            ctx.propagate = Propagate::Rewritten(vec![vec![Bytes::from_static(verb), key.clone()]]);
            ctx.notify(class::GENERIC, "del", key);
            ctx.dirty += 1;
        }
        return ctx.out.ok();
    }

    let mut entry = Entry::new(value, now);
    match (now.lfu, o.freq, o.idle) {
        (Some(_), Some(f), _) => entry.set_lfu_counter(f as u8, now.ms),
        (None, _, Some(idle)) => entry.set_idle_seconds(idle as u64, now.ms),
        _ => {}
    }
    let expire_at = (when != 0).then_some(when);
    ctx.db(key).insert_entry(key, entry, expire_at);
    if when != 0 && !o.absttl {
        let mut cmd: Vec<Bytes> = argv.to_vec();
        let mut buf = [0u8; 20];
        cmd[2] = Bytes::copy_from_slice(shoal_ds::num::format_i64(when, &mut buf));
        cmd.push(Bytes::from_static(b"ABSTTL"));
        ctx.propagate = Propagate::Rewritten(vec![cmd]);
    }
    ctx.notify(class::GENERIC, "restore", key);
    ctx.dirty += 1;
    ctx.out.ok();
}
