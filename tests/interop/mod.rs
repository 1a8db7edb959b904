//! Support of the persistence interop tests (tests/persistence_interop.rs):
//! servers in directories the tests own, the dataset holding every type in
//! every encoding Redis 7.0 has, and the comparison of two servers' data.

#![allow(dead_code)]

pub use crate::common::dir_server::{
    cmd, copy_dir, redis_or_skip, shoal, tempdir_named, text, DirServer,
};
use crate::common::{Client, Frame};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
pub const CHECK_RDB: &str = "/usr/bin/redis-check-rdb";
/// The databases the dataset uses.
pub const DBS: [usize; 3] = [0, 3, 15];

pub fn redis() -> Option<&'static Path> {
    redis_or_skip("note: persistence interop test skipped")
}

/// This file's defaults: no save points.
const DEFAULTS: [&str; 2] = ["--save", ""];

/// Starts `bin` in `dir` with the defaults and `extra`; its clients wait up to
/// 30 s for a reply (a save or reload of the whole dataset).
pub fn start(bin: &Path, dir: &Path, extra: &[&str]) -> DirServer {
    let mut p = DirServer::start(bin, dir, &[&DEFAULTS[..], extra].concat());
    p.reply_timeout = Some(Duration::from_secs(30));
    p
}

/// Starts `bin` and reports whether it came up (true) or exited (false).
pub fn starts(bin: &Path, dir: &Path, extra: &[&str]) -> bool {
    DirServer::try_start(bin, dir, &[&DEFAULTS[..], extra].concat()).is_ok()
}

pub fn tempdir() -> tempfile::TempDir {
    tempdir_named("shoal-interop-")
}

pub fn call(c: &mut Client, args: &[&[u8]]) -> Frame {
    c.call(args).expect("reply")
}

// ---------------------------------------------------------------------------
// The dataset
// ---------------------------------------------------------------------------

pub type Cmd = Vec<Vec<u8>>;

pub fn c(parts: &[&[u8]]) -> Cmd {
    parts.iter().map(|p| p.to_vec()).collect()
}

pub fn cs(parts: &[String]) -> Cmd {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// A command made of a head and many generated arguments.
pub fn many(head: &[&str], items: impl IntoIterator<Item = String>) -> Cmd {
    let mut v: Cmd = head.iter().map(|s| s.as_bytes().to_vec()).collect();
    v.extend(items.into_iter().map(String::into_bytes));
    v
}

pub const LIB_A: &str = "#!lua name=liba\n\
redis.register_function('fa', function(keys, args) return 1 end)\n\
redis.register_function{function_name='fb', callback=function(keys, args) return args[1] end, flags={'no-writes'}, description='echo'}";
pub const LIB_B: &str = "#!lua name=libb\nredis.register_function('fc', function(keys, args) return redis.call('GET', keys[1]) end)";

/// The commands that build the dataset (writes only; SELECTs included).
pub fn dataset() -> Vec<Cmd> {
    let mut v: Vec<Cmd> = vec![c(&[b"SELECT", b"0"])];
    // Strings.
    v.push(c(&[b"SET", b"s:int", b"12345"]));
    v.push(c(&[b"SET", b"s:int-small", b"7"]));
    v.push(c(&[b"SET", b"s:int-neg", b"-9223372036854775808"]));
    v.push(c(&[b"SET", b"s:int-big", b"9223372036854775807"]));
    v.push(c(&[b"SET", b"s:int-lead0", b"0123"]));
    v.push(c(&[b"SET", b"s:embstr", b"hello world"]));
    v.push(cs(&["SET".into(), "s:raw".into(), "r".repeat(45) + "xyz"]));
    v.push(cs(&["SET".into(), "s:lzf".into(), "abcdefgh".repeat(500)]));
    v.push(c(&[b"SET", b"s:empty", b""]));
    let bin: Vec<u8> = (0..=255u8).collect();
    v.push(c(&[b"SET", b"s:binary", &bin]));
    v.push(c(&[b"SET", b"\x00bin\xffkey\r\n", b"\x00\x01\x02"]));
    v.push(c(&[b"SET", b"s:float", b"3.14"]));
    v.push(c(&[b"INCRBYFLOAT", b"s:incrfloat", b"1.5"]));
    v.push(c(&[b"APPEND", b"s:appended", b"abc"]));
    v.push(c(&[b"APPEND", b"s:appended", b"def"]));
    v.push(c(&[b"SETRANGE", b"s:setrange", b"100", b"z"]));
    // Lists.
    v.push(c(&[
        b"RPUSH",
        b"l:small",
        b"a",
        b"1",
        b"-2",
        b"",
        b"long-ish element",
    ]));
    v.push(cs(&[
        "RPUSH".into(),
        "l:bigelem".into(),
        "x".into(),
        "e".repeat(10 * 1024),
        "y".into(),
    ]));
    v.push(many(
        &["RPUSH", "l:long"],
        (0..5000).map(|i| format!("item-{i}")),
    ));
    v.push(many(
        &["RPUSH", "l:ints"],
        (0..3000).map(|i| (i * 7919).to_string()),
    ));
    v.push(c(&[b"LPUSH", b"l:bin", &bin, b"\x00"]));
    // Sets.
    v.push(c(&[b"SADD", b"set:i16", b"1", b"2", b"-3", b"32000"]));
    v.push(c(&[b"SADD", b"set:i32", b"1", b"100000", b"-2000000000"]));
    v.push(c(&[
        b"SADD",
        b"set:i64",
        b"1",
        b"5000000000",
        b"-9223372036854775808",
    ]));
    v.push(many(
        &["SADD", "set:intset-big"],
        (0..400).map(|i| (i * 3).to_string()),
    ));
    v.push(c(&[b"SADD", b"set:ht", b"a", b"b", b"c", b"1"]));
    v.push(many(
        &["SADD", "set:ht-big"],
        (0..2000).map(|i| format!("m{i}")),
    ));
    v.push(many(
        &["SADD", "set:ints-over"],
        (0..700).map(|i| i.to_string()),
    ));
    // Sorted sets.
    v.push(c(&[
        b"ZADD", b"z:lp", b"1", b"a", b"2.5", b"b", b"-3", b"c",
    ]));
    v.push(c(&[
        b"ZADD",
        b"z:lp-inf",
        b"inf",
        b"top",
        b"-inf",
        b"bottom",
        b"-0",
        b"negzero",
        b"0",
        b"zero",
    ]));
    let mut zbig = vec!["ZADD".to_string(), "z:skip".into()];
    for i in 0..300 {
        zbig.push(format!("{}", i as f64 / 7.0));
        zbig.push(format!("member-{i}"));
    }
    zbig.extend(["inf", "pinf", "-inf", "ninf", "-0", "nzero"].map(String::from));
    v.push(cs(&zbig));
    v.push(cs(&[
        "ZADD".into(),
        "z:skip-long".into(),
        "1".into(),
        "m".repeat(100),
        "2".into(),
        "b".into(),
    ]));
    v.push(c(&[b"ZADD", b"z:bin", b"1", &bin]));
    // Hashes.
    v.push(c(&[
        b"HSET", b"h:lp", b"f1", b"v1", b"f2", b"2", b"f3", b"",
    ]));
    // Past hash-max-listpack-entries (512 in Debian's build), in batches;
    // h:lp-big stays just below it: a large listpack.
    for b in 0..6 {
        let mut hbig = vec!["HSET".to_string(), "h:ht".into()];
        for i in b * 100..(b + 1) * 100 {
            hbig.push(format!("field-{i}"));
            hbig.push(format!("value-{i}"));
        }
        v.push(cs(&hbig));
    }
    let mut hbig = vec!["HSET".to_string(), "h:lp-big".into()];
    for i in 0..500 {
        hbig.push(format!("f{i}"));
        hbig.push(format!("v{i}"));
    }
    v.push(cs(&hbig));
    v.push(cs(&[
        "HSET".into(),
        "h:ht-long".into(),
        "f".into(),
        "v".repeat(100),
    ]));
    v.push(c(&[b"HSET", b"h:bin", &bin, b"\x00", b"n", b"-17"]));
    // HyperLogLog.
    v.push(many(
        &["PFADD", "hll:sparse"],
        (0..50).map(|i| format!("e{i}")),
    ));
    v.push(many(
        &["PFADD", "hll:dense"],
        (0..5000).map(|i| format!("e{i}")),
    ));
    v.push(c(&[b"PFADD", b"hll:empty"]));
    // Streams.
    let mut sx = Vec::new();
    for i in 1..=350 {
        sx.push(cs(&[
            "XADD".into(),
            "st:full".into(),
            format!("1-{i}"),
            "field".into(),
            format!("value-{i}"),
            "n".into(),
            i.to_string(),
        ]));
    }
    v.extend(sx);
    v.push(c(&[
        b"XADD", b"st:full", b"2-0", b"other", b"fields", b"x", b"y",
    ]));
    v.push(many(
        &["XDEL", "st:full"],
        (10..40).map(|i| format!("1-{i}")),
    ));
    v.push(c(&[b"XDEL", b"st:full", b"1-1", b"1-101", b"1-200"]));
    v.push(c(&[b"XGROUP", b"CREATE", b"st:full", b"g1", b"0"]));
    v.push(c(&[
        b"XGROUP",
        b"CREATE",
        b"st:full",
        b"g2",
        b"1-300",
        b"ENTRIESREAD",
        b"250",
    ]));
    v.push(c(&[
        b"XREADGROUP",
        b"GROUP",
        b"g1",
        b"alice",
        b"COUNT",
        b"10",
        b"STREAMS",
        b"st:full",
        b">",
    ]));
    v.push(c(&[
        b"XREADGROUP",
        b"GROUP",
        b"g1",
        b"bob",
        b"COUNT",
        b"5",
        b"STREAMS",
        b"st:full",
        b">",
    ]));
    v.push(c(&[b"XACK", b"st:full", b"g1", b"1-2", b"1-3", b"1-42"]));
    v.push(c(&[
        b"XGROUP",
        b"CREATECONSUMER",
        b"st:full",
        b"g2",
        b"carol",
    ]));
    v.push(c(&[
        b"XREADGROUP",
        b"GROUP",
        b"g2",
        b"dave",
        b"COUNT",
        b"3",
        b"STREAMS",
        b"st:full",
        b">",
    ]));
    v.push(c(&[
        b"XGROUP",
        b"CREATE",
        b"st:empty",
        b"g",
        b"$",
        b"MKSTREAM",
    ]));
    v.push(c(&[b"XADD", b"st:emptied", b"5-1", b"a", b"b"]));
    v.push(c(&[b"XDEL", b"st:emptied", b"5-1"]));
    v.push(c(&[b"XADD", b"st:trimmed", b"7-7", b"a", b"1"]));
    v.push(many(&["XADD", "st:small", "3-1"], ["k".into(), "v".into()]));
    v.push(c(&[
        b"XADD",
        b"st:small",
        b"3-2",
        b"k",
        b"v2",
        b"k2",
        b"\x00",
    ]));
    v.push(c(&[b"XTRIM", b"st:full", b"MINID", b"1-5"]));
    // Keys with TTLs, of several types.
    v.push(c(&[b"SET", b"ttl:str", b"v", b"EX", b"100000"]));
    v.push(c(&[b"RPUSH", b"ttl:list", b"a", b"b"]));
    v.push(c(&[b"PEXPIRE", b"ttl:list", b"500000000"]));
    v.push(c(&[b"HSET", b"ttl:hash", b"a", b"b"]));
    v.push(c(&[b"EXPIREAT", b"ttl:hash", b"4102444800"]));
    v.push(c(&[b"ZADD", b"ttl:zset", b"1", b"a"]));
    v.push(c(&[b"EXPIRE", b"ttl:zset", b"7200"]));
    // Other databases.
    v.push(c(&[b"SELECT", b"3"]));
    v.push(c(&[b"SET", b"db3:s", b"three"]));
    v.push(c(&[b"SET", b"s:int", b"3"]));
    v.push(c(&[b"SADD", b"db3:set", b"x", b"y"]));
    v.push(c(&[b"SET", b"db3:ttl", b"v", b"PX", b"86400000"]));
    v.push(c(&[b"SELECT", b"15"]));
    v.push(c(&[b"HSET", b"db15:h", b"a", b"1"]));
    v.push(c(&[b"SET", b"\xff\xfe", b"binary key in db 15"]));
    v.push(c(&[b"SELECT", b"0"]));
    // Function libraries.
    v.push(c(&[b"FUNCTION", b"LOAD", LIB_A.as_bytes()]));
    v.push(c(&[b"FUNCTION", b"LOAD", LIB_B.as_bytes()]));
    v
}

/// Sends the dataset in pipelined batches; every reply must be a non-error.
pub fn fill(cl: &mut Client) {
    for batch in dataset().chunks(64) {
        for cmd in batch {
            cl.send(cmd).expect("send");
        }
        for cmd in batch {
            let r = cl.read().expect("reply");
            assert!(
                !r.is_error(),
                "{:?} -> {r}",
                String::from_utf8_lossy(&cmd[0])
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

/// Every key of the current database, sorted.
pub fn keys(cl: &mut Client) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Frame::Array(Some(v)) = call(cl, &[b"KEYS", b"*"]) {
        for k in v {
            if let Some(b) = k.as_bytes() {
                out.push(b.to_vec());
            }
        }
    }
    out.sort();
    out
}

/// DEBUG RELOAD on the source server: the in-memory encodings a file does not
/// keep (embstr/raw) become what a load makes, so that OBJECT ENCODING can be
/// compared with the server that loaded the file; the digest must not change.
pub fn reload(cl: &mut Client, what: &str) {
    let before = cmd(cl, &["DEBUG", "DIGEST"]);
    assert_eq!(cmd(cl, &["DEBUG", "RELOAD"]), "OK", "{what}: DEBUG RELOAD");
    assert_eq!(
        cmd(cl, &["DEBUG", "DIGEST"]),
        before,
        "{what}: digest across DEBUG RELOAD"
    );
}

/// What `a` and `b` must agree on. `full` adds XINFO STREAM FULL (an RDB file
/// keeps delivery and seen times; an AOF replays commands, so it does not).
pub fn compare(a: &mut Client, b: &mut Client, what: &str, full: bool) {
    let da = cmd(a, &["DEBUG", "DIGEST"]);
    assert_ne!(da, "0".repeat(40), "{what}: empty dataset");
    let mut failures = Vec::new();
    for db in DBS {
        let sel = db.to_string();
        cmd(a, &["SELECT", &sel]);
        cmd(b, &["SELECT", &sel]);
        let ka = keys(a);
        let kb = keys(b);
        if ka != kb {
            failures.push(format!(
                "db {db}: key sets differ ({} vs {})",
                ka.len(),
                kb.len()
            ));
            continue;
        }
        for k in &ka {
            let kname = String::from_utf8_lossy(k).into_owned();
            let checks: [&[&[u8]]; 3] = [
                &[b"DEBUG", b"DIGEST-VALUE", k],
                &[b"OBJECT", b"ENCODING", k],
                &[b"TYPE", k],
            ];
            for args in checks {
                let (ra, rb) = (call(a, args), call(b, args));
                if ra != rb {
                    failures.push(format!(
                        "db {db} key {kname:?}: {} {}: {ra} vs {rb}",
                        String::from_utf8_lossy(args[0]),
                        String::from_utf8_lossy(args[1])
                    ));
                }
            }
            let (ta, tb) = (call(a, &[b"PTTL", k]), call(b, &[b"PTTL", k]));
            match (&ta, &tb) {
                (Frame::Integer(x), Frame::Integer(y))
                    if (*x < 0 && x == y) || (*x >= 0 && *y >= 0 && (x - y).abs() <= 1000) => {}
                _ => failures.push(format!("db {db} key {kname:?}: PTTL {ta} vs {tb}")),
            }
            if full && text(&call(a, &[b"TYPE", k])) == "stream" {
                let args: &[&[u8]] = &[b"XINFO", b"STREAM", k, b"FULL"];
                let (ra, rb) = (call(a, args), call(b, args));
                if ra != rb {
                    failures.push(format!("db {db} key {kname:?}: XINFO FULL\n  {ra}\n  {rb}"));
                }
            }
        }
    }
    cmd(a, &["SELECT", "0"]);
    cmd(b, &["SELECT", "0"]);
    // Functions are listed in hash-table order: compare as multisets.
    let fa = call(a, &[b"FUNCTION", b"LIST", b"WITHCODE"]).unordered(3);
    let fb = call(b, &[b"FUNCTION", b"LIST", b"WITHCODE"]).unordered(3);
    if fa != fb {
        failures.push(format!("FUNCTION LIST:\n  {fa}\n  {fb}"));
    }
    let db_ = cmd(b, &["DEBUG", "DIGEST"]);
    if da != db_ {
        failures.push(format!("DEBUG DIGEST {da} vs {db_}"));
    }
    assert!(failures.is_empty(), "{what}:\n{}", failures.join("\n"));
}

pub fn check_rdb(path: &Path) {
    if !Path::new(CHECK_RDB).exists() {
        eprintln!("note: {CHECK_RDB} absent, file check skipped");
        return;
    }
    let out = Command::new(CHECK_RDB)
        .arg(path)
        .output()
        .expect("run redis-check-rdb");
    assert!(
        out.status.success(),
        "redis-check-rdb {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Writes the dataset into `from` under `appendonly yes`, shuts it down, and
/// starts `to` and `from` each on a copy of the AOF directory: both must hold
/// the same data (digests, encodings, TTLs, functions). The written server's
/// own state is not the reference: replaying can legitimately differ from it
/// (Redis 7.0 loses the sign of a -0 score when a listpack holds it, and its
/// rewrite emits members in hash order, so whether it does varies by run).
/// What the dataset holds on Redis 7.0 (the claim "every type in every
/// encoding" checked on both servers).
pub const ENCODINGS: &[(&[u8], &str)] = &[
    (b"s:int", "int"),
    (b"s:int-neg", "int"),
    (b"s:embstr", "embstr"),
    (b"s:raw", "raw"),
    (b"s:lzf", "raw"),
    (b"s:empty", "embstr"),
    (b"l:small", "quicklist"),
    (b"l:long", "quicklist"),
    (b"set:i16", "intset"),
    (b"set:i32", "intset"),
    (b"set:i64", "intset"),
    (b"set:intset-big", "intset"),
    (b"set:ht", "hashtable"),
    (b"set:ints-over", "hashtable"),
    (b"z:lp", "listpack"),
    (b"z:lp-inf", "listpack"),
    (b"z:skip", "skiplist"),
    (b"z:skip-long", "skiplist"),
    (b"h:lp", "listpack"),
    (b"h:ht", "hashtable"),
    (b"h:lp-big", "listpack"),
    (b"h:ht-long", "hashtable"),
    (b"st:full", "stream"),
    (b"st:empty", "stream"),
];
