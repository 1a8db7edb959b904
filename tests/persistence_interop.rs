//! Files exchanged with Debian's redis-server 7.0.15, both ways, over a dataset
//! holding every type in every encoding Redis 7.0 has (strings int, embstr,
//! raw, LZF-compressible, binary, empty; lists with a 10 KB element and with
//! thousands of elements; sets intset 16/32/64-bit and hashtable; sorted sets
//! listpack and skiplist with inf, -inf and -0; hashes listpack and hashtable;
//! streams with deleted entries, groups, PEL and consumers, an empty stream
//! with a group; HyperLogLog sparse and dense; TTLs; several databases;
//! function libraries; binary keys), built in [`interop`]:
//!
//! - RDB: redis-server SAVE -> Shoal loads it, and Shoal SAVE -> redis-server
//!   loads it, with `rdbcompression` yes and no; after a DEBUG RELOAD of the
//!   writer (which must keep its digest), both sides must report the same
//!   DEBUG DIGEST, per-key DEBUG DIGEST-VALUE, OBJECT ENCODING, TTL (within a
//!   second), XINFO STREAM FULL and FUNCTION LIST; Shoal's files pass
//!   redis-check-rdb;
//! - AOF: a multi-part directory written by commands under `appendfsync
//!   always` (with a Redis rewrite midway, RDB preamble or not), then loaded
//!   by both servers: the same data;
//! - SAVE and BGSAVE of Shoal while a client writes load into redis-server as
//!   a consistent cut;
//! - IDLE and FREQ records under LRU and LFU policies, both ways;
//! - `sanitize-dump-payload` at load time, and the loading server's encoding
//!   thresholds, as in Redis.
//!
//! Every test is skipped with a printed note when redis-server is absent.

mod common;
mod interop;

use common::{Client, Frame};
use interop::*;
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

// ---------------------------------------------------------------------------
// RDB
// ---------------------------------------------------------------------------

fn redis_rdb_into_shoal(compression: bool) {
    let Some(redis) = redis() else { return };
    let dir = tempdir();
    let comp = yes_no(compression);
    let r = start(redis, dir.path(), &["--rdbcompression", comp]);
    let mut rc = r.client();
    fill(&mut rc);
    assert_eq!(cmd(&mut rc, &["SAVE"]), "OK");
    let s = start(shoal(), dir.path(), &["--rdbcompression", comp]);
    let mut sc = s.client();
    reload(&mut rc, "redis");
    compare(
        &mut rc,
        &mut sc,
        &format!("redis RDB (rdbcompression {comp}) into shoal"),
        true,
    );
}

fn shoal_rdb_into_redis(compression: bool) {
    let Some(redis) = redis() else { return };
    let dir = tempdir();
    let comp = yes_no(compression);
    let s = start(shoal(), dir.path(), &["--rdbcompression", comp]);
    let mut sc = s.client();
    fill(&mut sc);
    assert_eq!(cmd(&mut sc, &["SAVE"]), "OK");
    check_rdb(&dir.path().join("dump.rdb"));
    let r = start(redis, dir.path(), &["--rdbcompression", comp]);
    let mut rc = r.client();
    reload(&mut sc, "shoal");
    compare(
        &mut sc,
        &mut rc,
        &format!("shoal RDB (rdbcompression {comp}) into redis"),
        true,
    );
}

#[test]
fn redis_rdb_loads_into_shoal_compressed() {
    redis_rdb_into_shoal(true);
}

#[test]
fn redis_rdb_loads_into_shoal_uncompressed() {
    redis_rdb_into_shoal(false);
}

#[test]
fn shoal_rdb_loads_into_redis_compressed() {
    shoal_rdb_into_redis(true);
}

#[test]
fn shoal_rdb_loads_into_redis_uncompressed() {
    shoal_rdb_into_redis(false);
}

/// The same commands on both servers give the same data (the baseline the
/// file comparisons rely on).
#[test]
fn same_commands_same_data() {
    let Some(redis) = redis() else { return };
    let (d1, d2) = (tempdir(), tempdir());
    let r = start(redis, d1.path(), &[]);
    let s = start(shoal(), d2.path(), &[]);
    let (mut rc, mut sc) = (r.client(), s.client());
    fill(&mut rc);
    fill(&mut sc);
    compare(&mut rc, &mut sc, "same commands", false);
}

/// A BGSAVE taken while a client writes is a file redis-server loads, holding
/// at least what was there before and at most what was there after.
#[test]
fn shoal_bgsave_under_writes_loads_into_redis() {
    save_under_writes("BGSAVE");
}

/// SAVE serialises shards on every core while other clients keep writing.
#[test]
fn shoal_save_under_writes_loads_into_redis() {
    save_under_writes("SAVE");
}

fn save_under_writes(how: &str) {
    let Some(redis) = redis() else { return };
    let dir = tempdir();
    let s = start(shoal(), dir.path(), &[]);
    let mut sc = s.client();
    fill(&mut sc);
    let before: i64 = cmd(&mut sc, &["DBSIZE"]).parse().expect("dbsize");
    let port = s.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut w = Client::connect(port).expect("connect");
        let mut i = 0u64;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) && i < 2_000_000 {
            let k = format!("w:{i}");
            let _ = w.cmd(&["SET", &k, "value"]);
            let _ = w.cmd(&["RPUSH", "l:long", &k]);
            i += 1;
        }
        i
    });
    sleep(Duration::from_millis(100));
    let reply = cmd(&mut sc, &[how]);
    let want = if how == "SAVE" {
        "OK"
    } else {
        "Background saving started"
    };
    assert_eq!(reply, want);
    let mut done = false;
    for _ in 0..1000 {
        let info = cmd(&mut sc, &["INFO", "persistence"]);
        if info.contains("rdb_bgsave_in_progress:0") {
            assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
            done = true;
            break;
        }
        sleep(Duration::from_millis(10));
    }
    sleep(Duration::from_millis(50));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().expect("writer");
    assert!(done, "{how} did not finish");
    let after: i64 = cmd(&mut sc, &["DBSIZE"]).parse().expect("dbsize");
    assert!(written > 0);
    check_rdb(&dir.path().join("dump.rdb"));
    let rdir = tempdir();
    std::fs::copy(dir.path().join("dump.rdb"), rdir.path().join("dump.rdb")).expect("copy");
    let r = start(redis, rdir.path(), &[]);
    let mut rc = r.client();
    let n: i64 = cmd(&mut rc, &["DBSIZE"]).parse().expect("dbsize");
    assert!(before <= n && n <= after, "{before} <= {n} <= {after}");
    // The writer SETs then RPUSHes: the cut may fall between the two.
    let pushed: i64 = cmd(&mut rc, &["LLEN", "l:long"])
        .parse::<i64>()
        .expect("llen")
        - 5000;
    let set = n - before;
    assert!(
        pushed == set || pushed + 1 == set,
        "list and keys cut at the same point: {pushed} pushed, {set} set"
    );
}

// ---------------------------------------------------------------------------
// AOF
// ---------------------------------------------------------------------------

fn aof_both(from: &Path, to: &Path, rewrite_midway: bool, preamble: bool) {
    let aof_args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--aof-use-rdb-preamble",
        yes_no(preamble),
    ];
    let d1 = tempdir();
    {
        let p = start(from, d1.path(), &aof_args);
        let mut pc = p.client();
        if rewrite_midway {
            let all = dataset();
            let half = all.len() / 2;
            for c in &all[..half] {
                assert!(!pc.call(c).expect("reply").is_error());
            }
            assert!(!call(&mut pc, &[b"BGREWRITEAOF"]).is_error());
            for _ in 0..1000 {
                let info = cmd(&mut pc, &["INFO", "persistence"]);
                if info.contains("aof_rewrite_in_progress:0")
                    && !info.contains("aof_rewrite_scheduled:1")
                {
                    break;
                }
                sleep(Duration::from_millis(10));
            }
            // The rest goes on the database the first half ended on.
            for c in &all[half..] {
                let r = pc.call(c).expect("reply");
                assert!(!r.is_error(), "{r}");
            }
        } else {
            fill(&mut pc);
        }
        p.shutdown("NOSAVE");
    }
    let aof_dir = d1.path().join("appendonlydir");
    if rewrite_midway {
        // The rewrite put the first half into the base file.
        let base = std::fs::read_dir(&aof_dir)
            .expect("aof dir")
            .filter_map(|e| e.ok())
            .find(|e| e.file_name().to_string_lossy().contains(".base."))
            .expect("base file");
        let len = base.metadata().expect("metadata").len();
        assert!(len > 10_000, "base file of {len} bytes");
    }
    let (d2, d3) = (tempdir(), tempdir());
    copy_dir(&aof_dir, &d2.path().join("appendonlydir"));
    copy_dir(&aof_dir, &d3.path().join("appendonlydir"));
    let reference = start(from, d3.path(), &aof_args);
    let q = start(to, d2.path(), &aof_args);
    compare(
        &mut reference.client(),
        &mut q.client(),
        &format!("AOF of {} loaded by both", from.display()),
        false,
    );
}

#[test]
fn shoal_aof_dir_loads_into_redis() {
    let Some(redis) = redis() else { return };
    aof_both(shoal(), redis, false, true);
}

#[test]
fn redis_aof_dir_loads_into_shoal() {
    let Some(redis) = redis() else { return };
    aof_both(redis, shoal(), false, true);
}

/// Redis's rewrite makes an RDB-preamble base file plus an incremental file.
#[test]
fn redis_rewritten_aof_dir_loads_into_shoal() {
    let Some(redis) = redis() else { return };
    aof_both(redis, shoal(), true, true);
}

/// The same with `aof-use-rdb-preamble no`: the base file holds commands.
#[test]
fn redis_rewritten_aof_dir_without_preamble_loads_into_shoal() {
    let Some(redis) = redis() else { return };
    aof_both(redis, shoal(), true, false);
}

// ---------------------------------------------------------------------------
// IDLE and FREQ records
// ---------------------------------------------------------------------------

/// `src` saves under `save_policy` a key restored with an idle time of 5000 s
/// (LRU) or a counter of 100 (LFU); `dst` loads under `load_policy`. Returns
/// OBJECT IDLETIME or OBJECT FREQ of the key on `dst`.
fn access_after_load(src: &Path, dst: &Path, save_policy: &str, load_policy: &str) -> i64 {
    let dir = tempdir();
    let lfu_src = save_policy.ends_with("lfu");
    {
        let p = start(src, dir.path(), &["--maxmemory-policy", save_policy]);
        let mut c = p.client();
        cmd(&mut c, &["SET", "k", "v"]);
        let payload = match call(&mut c, &[b"DUMP", b"k"]) {
            Frame::Bulk(Some(b)) => b,
            other => panic!("DUMP: {other}"),
        };
        let (opt, val): (&[u8], &[u8]) = if lfu_src {
            (b"FREQ", b"100")
        } else {
            (b"IDLETIME", b"5000")
        };
        let r = call(&mut c, &[b"RESTORE", b"a", b"0", &payload, opt, val]);
        assert_eq!(text(&r), "OK");
        assert_eq!(cmd(&mut c, &["SAVE"]), "OK");
        p.shutdown("NOSAVE");
    }
    let q = start(dst, dir.path(), &["--maxmemory-policy", load_policy]);
    let mut c = q.client();
    let sub = if load_policy.ends_with("lfu") {
        "FREQ"
    } else {
        "IDLETIME"
    };
    match c.cmd(&["OBJECT", sub, "a"]).expect("reply") {
        Frame::Integer(i) => i,
        other => panic!("OBJECT {sub}: {other}"),
    }
}

#[test]
fn idle_and_freq_records_load_both_ways() {
    let Some(redis) = redis() else { return };
    for (src, dst) in [(redis, shoal()), (shoal(), redis)] {
        let what = format!("{} -> {}", src.display(), dst.display());
        // LRU: the idle time survives (seconds, give or take the test's own).
        let idle = access_after_load(src, dst, "allkeys-lru", "volatile-lru");
        assert!((5000..5010).contains(&idle), "{what}: idle {idle}");
        // LFU: the counter survives (a minute boundary may decay it by one).
        let freq = access_after_load(src, dst, "allkeys-lfu", "volatile-lfu");
        assert!((99..=100).contains(&freq), "{what}: freq {freq}");
        // Under other policies nothing is written: the key loads as fresh.
        let idle = access_after_load(src, dst, "noeviction", "allkeys-lru");
        assert!(idle < 5, "{what}: idle {idle} after noeviction");
        // An IDLE record applies under any non-LFU policy, as in Redis 7.0.
        let idle = access_after_load(src, dst, "allkeys-lru", "noeviction");
        assert!(
            (5000..5010).contains(&idle),
            "{what}: idle {idle} under noeviction"
        );
    }
}

/// `sanitize-dump-payload` decides the deep checks of a file's payloads at
/// load time as in Redis 7.0: `yes` refuses a hash listpack with duplicated
/// fields, `no` and `clients` (which exempts loading) accept it.
#[test]
fn sanitize_dump_payload_applies_to_loading() {
    let Some(redis) = redis() else { return };
    let dir = tempdir();
    {
        let r = start(
            redis,
            dir.path(),
            &["--rdbchecksum", "no", "--rdbcompression", "no"],
        );
        let mut c = r.client();
        cmd(&mut c, &["HSET", "h", "fieldaa", "v1", "fieldab", "v2"]);
        assert_eq!(cmd(&mut c, &["SAVE"]), "OK");
        r.shutdown("NOSAVE");
    }
    let good = std::fs::read(dir.path().join("dump.rdb")).expect("dump");
    let at = good
        .windows(7)
        .position(|w| w == b"fieldab")
        .expect("field in file");
    let mut bad = good.clone();
    bad[at..at + 7].copy_from_slice(b"fieldaa");
    std::fs::write(dir.path().join("dump.rdb"), &bad).expect("write");
    for (mode, loads) in [("yes", false), ("no", true), ("clients", true)] {
        for bin in [redis, shoal()] {
            let up = starts(bin, dir.path(), &["--sanitize-dump-payload", mode]);
            assert_eq!(
                up,
                loads,
                "{} with sanitize-dump-payload {mode}",
                bin.display()
            );
        }
    }
}

#[test]
fn dataset_covers_every_encoding() {
    let Some(redis) = redis() else { return };
    let (d1, d2) = (tempdir(), tempdir());
    for (bin, dir) in [(redis, &d1), (shoal(), &d2)] {
        let p = start(bin, dir.path(), &[]);
        let mut c = p.client();
        fill(&mut c);
        for (k, want) in ENCODINGS {
            let got = text(&call(&mut c, &[b"OBJECT", b"ENCODING", k]));
            assert_eq!(
                &got,
                want,
                "{} {:?}",
                bin.display(),
                String::from_utf8_lossy(k)
            );
        }
        for (k, want) in [("hll:sparse", "sparse"), ("hll:dense", "dense")] {
            assert_eq!(
                cmd(&mut c, &["PFDEBUG", "ENCODING", k]),
                want,
                "{}",
                bin.display()
            );
        }
    }
}

/// A file loads with the loading server's thresholds (`*-max-listpack-*`,
/// `set-max-intset-entries`): Shoal and Redis started on the same file with
/// small thresholds agree on every encoding and digest.
#[test]
fn loading_uses_the_configured_thresholds() {
    let Some(redis) = redis() else { return };
    let dir = tempdir();
    {
        let r = start(redis, dir.path(), &[]);
        let mut c = r.client();
        fill(&mut c);
        assert_eq!(cmd(&mut c, &["SAVE"]), "OK");
        r.shutdown("NOSAVE");
    }
    let small = [
        "--hash-max-listpack-entries",
        "2",
        "--hash-max-listpack-value",
        "4",
        "--zset-max-listpack-entries",
        "2",
        "--zset-max-listpack-value",
        "8",
        "--set-max-intset-entries",
        "3",
    ];
    let r = start(redis, dir.path(), &small);
    let s = start(shoal(), dir.path(), &small);
    let (mut rc, mut sc) = (r.client(), s.client());
    assert_eq!(
        text(&call(&mut rc, &[b"OBJECT", b"ENCODING", b"h:lp"])),
        "hashtable"
    );
    assert_eq!(
        text(&call(&mut rc, &[b"OBJECT", b"ENCODING", b"z:lp"])),
        "skiplist"
    );
    assert_eq!(
        text(&call(&mut rc, &[b"OBJECT", b"ENCODING", b"set:i16"])),
        "hashtable"
    );
    compare(&mut rc, &mut sc, "same file, small thresholds", true);
}
