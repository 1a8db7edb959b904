//! DEBUG: introspection and test helpers, allowed only as `enable-debug-command`
//! says (no, yes, or local connections only).

use super::{help_reply, lossy, SCtx, ServerHandler};
use crate::server::unix_ms;
use bytes::Bytes;
use shoal_commands::digest::{hex, value_digest, DatasetDigest};
use shoal_commands::errors;
use shoal_keyspace::Access;
use std::sync::atomic::Ordering::Relaxed;

pub const HANDLERS: &[(&str, ServerHandler)] = &[("debug", debug)];

const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

fn allowed(c: &SCtx) -> bool {
    let mode = c.srv.config.read().string("enable-debug-command");
    match mode.as_str() {
        "yes" => true,
        "local" => c.s.info.is_local(),
        _ => false,
    }
}

fn debug(c: &mut SCtx, argv: &[Bytes]) {
    if !allowed(c) {
        return c.out.error(NOT_ALLOWED);
    }
    let sub = lossy(&argv[1]).to_ascii_lowercase();
    match (sub.as_str(), argv.len()) {
        ("sleep", 3) => sleep(c, &argv[2]),
        ("set-active-expire", 3) => {
            c.srv
                .hot
                .active_expire
                .store(shoal_ds::num::parse_i64(&argv[2]).unwrap_or(0) != 0, Relaxed);
            c.out.ok();
        }
        ("object", 3) => object(c, &argv[2]),
        ("digest", 2) => digest(c),
        ("reload", _) => reload(c, &argv[2..]),
        ("digest-value", _) => digest_value(c, &argv[2..]),
        ("protocol", 3) => protocol(c, &argv[2]),
        ("populate", 3..=5) => populate(c, &argv[2..]),
        ("log", 3) => {
            crate::warning!("DEBUG LOG: {}", lossy(&argv[2]));
            c.out.ok();
        }
        ("error", 3) => c.out.error(&lossy(&argv[2])),
        ("help", 2) => help_reply(
            c.out,
            "DEBUG",
            &[
                "SLEEP <seconds>",
                "    Stall the keyspace for <seconds> (fractions allowed).",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Turn the background expiry of keys off (0) or on (1).",
                "OBJECT <key>",
                "    Low-level facts about the value at <key>.",
                "DIGEST",
                "    A signature of the whole dataset, equal to Redis's for equal data.",
                "DIGEST-VALUE <key> [<key> ...]",
                "    A signature of each value.",
                "POPULATE <count> [<prefix>] [<size>]",
                "    Create <count> keys <prefix>:<n> (default prefix \"key\") holding \"value:<n>\",",
                "    cut or zero-padded to <size> bytes; existing keys are left alone.",
                "PROTOCOL <type>",
                "    Reply with a sample of a reply type: string, integer, double, bignum,",
                "    null, array, set, map, attrib, push, verbatim, true, false.",
                "LOG <message>",
                "    Write <message> to the server log.",
                "ERROR <string>",
                "    Reply with <string> as an error.",
            ],
        ),
        _ => c.out.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            lossy(&argv[1])
        )),
    }
}

/// Stalls the whole keyspace like Redis's single thread would stall.
fn sleep(c: &mut SCtx, secs: &[u8]) {
    let secs = shoal_ds::num::parse_f64(secs).unwrap_or(0.0).max(0.0);
    let d = std::time::Duration::from_secs_f64(secs.min(1e9));
    {
        let _all = c.srv.ks.lock_all();
        // Stalling this worker thread is the point: DEBUG SLEEP emulates a busy server.
        std::thread::sleep(d);
    }
    c.out.ok();
}

fn object(c: &mut SCtx, key: &[u8]) {
    let now = unix_ms();
    let db = c.s.db;
    // A look without side effects: DEBUG OBJECT neither expires nor touches.
    let line = c.srv.ks.with_key_shard(key, |shard| {
        shard.dbs[db].peek(key, now).map(|e| {
            let len = e.value.as_str().map(|s| s.len()).unwrap_or(0);
            format!(
                "Value at:{:p} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                e as *const _,
                e.value.encoding(),
                len + 1,
                e.access_clock(),
                e.idle_seconds(now)
            )
        })
    });
    match line {
        Some(l) => c.out.simple(&l),
        None => c.out.error(errors::NO_SUCH_KEY),
    }
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the dataset (functions
/// included), load the file back.
fn reload(c: &mut SCtx, opts: &[Bytes]) {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for o in opts {
        match lossy(o).to_ascii_lowercase().as_str() {
            "merge" => merge = true,
            "noflush" => flush = false,
            "nosave" => save = false,
            _ => {
                return c
                    .out
                    .error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
            }
        }
    }
    if save && crate::persist::save_blocking(c.srv).is_err() {
        return c.out.error("ERR");
    }
    if flush {
        c.srv.ks.lock_all().empty_all(false);
        c.srv.scripting.change_functions(|fe| fe.flush());
    }
    let path = crate::persist::rdb_path(c.srv);
    // Redis 7.0 panics on a duplicated key under NOFLUSH without MERGE; Shoal
    // refuses the load with the error reply instead (what was read stays, as
    // in Redis after a failed library load).
    match crate::persist::load::load_rdb_with(c.srv, &path, merge) {
        Ok(_) => {
            crate::warning!("DB reloaded by DEBUG RELOAD");
            c.out.ok();
        }
        Err(e) => {
            crate::warning!("Error loading the RDB file {path}: {e}");
            c.out.error("ERR Error trying to load the RDB dump");
        }
    }
}

fn digest(c: &mut SCtx) {
    let now = unix_ms();
    let mut all = c.srv.ks.lock_all();
    let shards = all.shards_mut();
    let mut dd = DatasetDigest::default();
    for db in 0..c.srv.ks.num_dbs() {
        dd.add_db(db, shards.iter().map(|s| &s.dbs[db]), now);
    }
    drop(all);
    c.out.simple(&hex(&dd.result));
}

fn digest_value(c: &mut SCtx, keys: &[Bytes]) {
    let now = unix_ms();
    let db = c.s.db;
    c.out.array(keys.len());
    for k in keys {
        let d = c.srv.ks.with_key_shard(k, |s| {
            let ttl = s.dbs[db].expire_time(k).is_some();
            s.dbs[db]
                .peek(k, now)
                .map(|e| value_digest(&e.value, ttl))
                .unwrap_or([0u8; 20])
        });
        c.out.simple(&hex(&d));
    }
}

fn protocol(c: &mut SCtx, kind: &[u8]) {
    let o = &mut *c.out;
    let k = lossy(kind).to_ascii_lowercase();
    match k.as_str() {
        "string" => o.bulk_str("Hello World"),
        "integer" => o.int(12345),
        // The sample value Redis sends (not π).
        #[allow(clippy::approx_constant)]
        "double" => o.double(3.141),
        "bignum" => o.big_number("1234567999999999999999999999999999999"),
        "null" => o.null(),
        "array" => {
            o.array(3);
            (0..3).for_each(|i| o.int(i));
        }
        "set" => {
            o.set(3);
            (0..3).for_each(|i| o.int(i));
        }
        "map" => {
            o.map(3);
            for i in 0..3 {
                o.int(i);
                o.boolean(i == 1);
            }
        }
        "attrib" => {
            if o.proto == shoal_resp::Proto::Resp3 {
                o.raw(b"|1\r\n");
                o.bulk_str("key-popularity");
                o.array(2);
                o.bulk_str("key:123");
                o.int(90);
            }
            o.bulk_str("Some real reply following the attribute");
        }
        "push" => {
            if o.proto != shoal_resp::Proto::Resp3 {
                return o.error("ERR RESP2 is not supported by this command");
            }
            o.push(2);
            o.bulk_str("server-cpu-usage");
            o.int(42);
            o.bulk_str("Some real reply following the push reply");
        }
        "true" => o.boolean(true),
        "false" => o.boolean(false),
        "verbatim" => o.verbatim("txt", b"This is a verbatim\nstring"),
        _ => o.error(
            "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ),
    }
}

/// DEBUG POPULATE count [prefix] [size]: bulk-creates test keys in the selected db
/// (not propagated, as in Redis).
fn populate(c: &mut SCtx, argv: &[Bytes]) {
    let positive = |b: &[u8]| match shoal_ds::num::parse_i64(b) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(errors::NOT_POSITIVE),
    };
    let count = match positive(&argv[0]) {
        Ok(v) => v,
        Err(e) => return c.out.error(e),
    };
    let prefix: &[u8] = argv.get(1).map(|b| &b[..]).unwrap_or(b"key");
    let size = match argv.get(2).map(|b| positive(b)) {
        None => 0,
        Some(Ok(v)) => v as usize,
        Some(Err(e)) => return c.out.error(e),
    };
    let now = unix_ms();
    let db = c.s.db;
    let mut all = c.srv.ks.lock_all();
    let mut key = Vec::with_capacity(prefix.len() + 21);
    for i in 0..count {
        key.clear();
        key.extend_from_slice(prefix);
        key.extend_from_slice(format!(":{i}").as_bytes());
        let idx = c.srv.ks.shard_of(&key);
        let Some(shard) = all.shard(idx) else {
            continue;
        };
        let d = &mut shard.dbs[db];
        if d.lookup(
            db,
            &key,
            shoal_keyspace::Now::new(now),
            Access::Write,
            &mut c.s.ev,
        )
        .is_some()
        {
            continue;
        }
        let mut val = format!("value:{i}").into_bytes();
        if size > 0 {
            val.resize(size, 0);
        }
        let v = shoal_keyspace::Value::Str(shoal_keyspace::Str::from_bytes(&val));
        d.set(&key, v, false, now);
    }
    drop(all);
    c.out.ok();
}
