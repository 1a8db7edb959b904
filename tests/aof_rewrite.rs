//! Process tests of the AOF rewrite: BGREWRITEAOF under write load (no
//! acknowledged write lost, none applied twice, old files gone), the automatic
//! rewrite at the configured growth, `CONFIG SET appendonly yes` at run time, a
//! rewritten directory loaded by Debian's redis-server 7.0.15 (skipped when it is
//! not installed), and failed rewrites that leave a loadable AOF.
//!
//! Each test runs servers on ephemeral loopback ports in a temporary directory
//! kept across restarts, and kills every process it starts (on drop). Every loop
//! is bounded.

mod common;

use common::dir_server::{
    aof_dir, bulk, copy_aof_dir, digest, info, redis_or_skip, shoal, simple, wait_rewrite_done,
    DirServer,
};
use common::{Client, Frame};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Starts a server with this file's defaults (no save points) and `extra`.
fn start(bin: &Path, dir: &Path, extra: &[&str]) -> DirServer {
    DirServer::start(bin, dir, &[&["--save", ""], extra].concat())
}

fn info_num(c: &mut Client, field: &str) -> i64 {
    info(c, field).parse().unwrap()
}

/// The manifest's lines as (name, seq, type).
fn manifest(dir: &Path) -> Vec<(String, u64, String)> {
    let text = std::fs::read_to_string(aof_dir(dir).join("appendonly.aof.manifest")).unwrap();
    text.lines()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            assert_eq!((w[0], w[2], w[4]), ("file", "seq", "type"), "{l}");
            (w[1].to_string(), w[3].parse().unwrap(), w[5].to_string())
        })
        .collect()
}

/// The manifest is one base followed by incr files, and the directory holds
/// exactly those files and the manifest.
fn assert_clean_manifest(dir: &Path) -> Vec<(String, u64, String)> {
    let m = manifest(dir);
    assert_eq!(m[0].2, "b", "{m:?}");
    assert!(m[1..].iter().all(|f| f.2 == "i"), "{m:?}");
    assert!(m.len() >= 2, "{m:?}");
    let mut want: Vec<String> = m.iter().map(|f| f.0.clone()).collect();
    want.push("appendonly.aof.manifest".into());
    want.sort();
    let mut have: Vec<String> = std::fs::read_dir(aof_dir(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    have.sort();
    assert_eq!(have, want);
    m
}

/// Writers: each client alternates SET of a distinct key and INCR of its
/// counter until told to stop; returns the keys acknowledged and the last
/// counter value acknowledged.
fn write_load(
    port: u16,
    clients: usize,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<(Vec<String>, i64)>> {
    (0..clients)
        .map(|c| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let mut counter = 0;
                let Ok(mut cl) = Client::connect(port) else {
                    return (acked, counter);
                };
                for i in 0..100_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("k:{c}:{i}");
                    match cl.cmd(&["SET", &key, &key]) {
                        Ok(Frame::Simple(s)) if s == b"OK" => acked.push(key),
                        _ => break,
                    }
                    match cl.cmd(&["INCR", &format!("cnt:{c}")]) {
                        Ok(Frame::Integer(n)) => counter = n,
                        _ => break,
                    }
                }
                (acked, counter)
            })
        })
        .collect()
}

#[test]
fn bgrewriteaof_under_write_load_keeps_every_acknowledged_write_once() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--appendonly", "yes"];
    let p = start(shoal(), dir.path(), &args);
    let mut c = p.client();
    // Enough data for each rewrite to overlap with the writers.
    c.cmd(&["DEBUG", "POPULATE", "20000", "pre", "64"]).unwrap();
    // About half a second per rewrite, while the writers run.
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "25"])
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let handles = write_load(p.port, 3, stop.clone());
    sleep(Duration::from_millis(200));
    for _ in 0..3 {
        let r = simple(c.cmd(&["BGREWRITEAOF"]).unwrap());
        assert_eq!(r, "Background append only file rewriting started");
        wait_rewrite_done(&mut c);
        assert_eq!(info(&mut c, "aof_last_bgrewrite_status"), "ok");
        sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    let results: Vec<(Vec<String>, i64)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let total: usize = results.iter().map(|r| r.0.len()).sum();
    assert!(total > 100, "too few writes: {total}");
    assert_eq!(info_num(&mut c, "aof_rewrites"), 3);
    let m = assert_clean_manifest(dir.path());
    assert_eq!(m[0].0, "appendonly.aof.4.base.rdb", "{m:?}");
    assert_eq!(m[1].0, "appendonly.aof.4.incr.aof", "{m:?}");
    let log = p.log_text();
    for line in [
        "Background append only file rewriting started",
        "Successfully created the temporary AOF base file temp-rewriteaof-bg-",
        "Background AOF rewrite terminated with success",
        "Background AOF rewrite finished successfully",
        "Removing the history file appendonly.aof.3.incr.aof in the background",
        "Removing the history file appendonly.aof.3.base.rdb in the background",
    ] {
        assert!(log.contains(line), "missing {line:?} in\n{log}");
    }
    // A process crash after the replies: everything acknowledged is there, once.
    p.kill9();
    let p = start(shoal(), dir.path(), &args);
    let mut c = p.client();
    for (i, (keys, counter)) in results.iter().enumerate() {
        for k in keys {
            assert_eq!(
                bulk(&c.cmd(&["GET", k]).unwrap()).as_deref(),
                Some(k.as_bytes())
            );
        }
        let got = bulk(&c.cmd(&["GET", &format!("cnt:{i}")]).unwrap());
        let got: i64 = got.map_or(0, |v| String::from_utf8(v).unwrap().parse().unwrap());
        // The last INCR may have been applied without its reply read: at most one more.
        assert!(
            got == *counter || got == *counter + 1,
            "counter {i}: {got} after {counter} acknowledged"
        );
    }
    assert_eq!(info_num(&mut c, "aof_rewrites"), 0);
    p.stop();
}

/// Values that LZF does not shrink, so sizes follow the bytes written.
fn noise(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

#[test]
fn automatic_rewrite_triggers_at_the_configured_growth() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--appendonly",
        "yes",
        "--auto-aof-rewrite-percentage",
        "100",
        "--auto-aof-rewrite-min-size",
        "64kb",
    ];
    let p = start(shoal(), dir.path(), &args);
    let mut c = p.client();
    let mut n = 0u64;
    let mut put = |c: &mut Client| {
        n += 1;
        c.cmd(&["SET", &format!("key{n}"), &noise(n, 1000)])
            .unwrap();
    };
    // Below the minimum size: no rewrite, whatever the growth.
    for _ in 0..50 {
        put(&mut c);
    }
    assert!(info_num(&mut c, "aof_current_size") < 64 * 1024);
    sleep(Duration::from_millis(400));
    assert_eq!(info_num(&mut c, "aof_rewrites"), 0);
    // Past it: the first rewrite (the size after start-up was 0).
    for _ in 0..20 {
        put(&mut c);
    }
    assert!(info_num(&mut c, "aof_current_size") > 64 * 1024);
    let end = Instant::now() + Duration::from_secs(10);
    while info_num(&mut c, "aof_rewrites") < 1 {
        assert!(Instant::now() < end, "no automatic rewrite");
        sleep(Duration::from_millis(20));
    }
    wait_rewrite_done(&mut c);
    let base = info_num(&mut c, "aof_base_size");
    assert!(base > 64 * 1024, "base {base}");
    // Grows to ~60%: no rewrite yet.
    let mut guard = 0;
    while info_num(&mut c, "aof_current_size") * 100 / base < 160 {
        put(&mut c);
        guard += 1;
        assert!(guard < 1000);
    }
    sleep(Duration::from_millis(400));
    assert_eq!(info_num(&mut c, "aof_rewrites"), 1);
    // Past 100%: the second.
    while info_num(&mut c, "aof_current_size") * 100 / base < 205 {
        put(&mut c);
        guard += 1;
        assert!(guard < 1000);
    }
    let end = Instant::now() + Duration::from_secs(10);
    while info_num(&mut c, "aof_rewrites") < 2 {
        assert!(Instant::now() < end, "no second automatic rewrite");
        sleep(Duration::from_millis(20));
    }
    wait_rewrite_done(&mut c);
    let log = p.log_text();
    assert!(
        log.contains("Starting automatic rewriting of AOF on "),
        "{log}"
    );
    let m = assert_clean_manifest(dir.path());
    assert_eq!(m[0].0, "appendonly.aof.3.base.rdb");
    let d = digest(&mut c);
    p.stop();
    start(shoal(), dir.path(), &args).check_digest_and_stop(&d);
}

/// Every type, TTLs, a stream with a consumer group and pending entries, a
/// function library, two databases.
fn write_every_type(c: &mut Client) {
    for i in 0..200 {
        c.cmd(&["SET", &format!("s{i}"), &format!("v{i}")]).unwrap();
    }
    c.cmd(&["SET", "int", "12345"]).unwrap();
    c.cmd(&["SET", "ttl", "x", "EX", "1000"]).unwrap();
    c.cmd(&["RPUSH", "list", "a", "b", "c"]).unwrap();
    let big: Vec<String> = (0..300).map(|i| format!("item-{i}")).collect();
    let mut args = vec!["RPUSH", "biglist"];
    args.extend(big.iter().map(|s| s.as_str()));
    c.cmd(&args).unwrap();
    c.cmd(&["HSET", "hash", "f", "v", "g", "w"]).unwrap();
    c.cmd(&["PEXPIRE", "hash", "5000000"]).unwrap();
    let mut args = vec!["HSET", "bighash"];
    for s in &big {
        args.push(s);
        args.push(s);
    }
    c.cmd(&args).unwrap();
    c.cmd(&["SADD", "set", "1", "2", "x"]).unwrap();
    c.cmd(&["SADD", "intset", "1", "2", "3"]).unwrap();
    let mut args = vec!["SADD", "bigset"];
    args.extend(big.iter().map(|s| s.as_str()));
    c.cmd(&args).unwrap();
    c.cmd(&["ZADD", "zset", "1", "a", "2.5", "b"]).unwrap();
    let mut args = vec!["ZADD", "bigzset"];
    let scores: Vec<String> = (0..300).map(|i| format!("{i}.5")).collect();
    for (s, m) in scores.iter().zip(&big) {
        args.push(s);
        args.push(m);
    }
    c.cmd(&args).unwrap();
    c.cmd(&["XADD", "stream", "1-1", "f", "v"]).unwrap();
    c.cmd(&["XADD", "stream", "2-1", "f", "w"]).unwrap();
    c.cmd(&["XADD", "stream", "3-1", "g", "x"]).unwrap();
    c.cmd(&["XGROUP", "CREATE", "stream", "grp", "0"]).unwrap();
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "grp",
        "alice",
        "COUNT",
        "2",
        "STREAMS",
        "stream",
        ">",
    ])
    .unwrap();
    c.cmd(&["XGROUP", "CREATE", "stream", "other", "$"])
        .unwrap();
    c.cmd(&["XDEL", "stream", "3-1"]).unwrap();
    let lib =
        "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)";
    c.cmd(&["FUNCTION", "LOAD", lib]).unwrap();
    c.cmd(&["SELECT", "3"]).unwrap();
    c.cmd(&["SET", "db3", "three"]).unwrap();
    c.cmd(&["SELECT", "0"]).unwrap();
}

#[test]
fn redis_loads_the_directory_after_shoals_rewrite() {
    let Some(redis) = redis_or_skip("skipped") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let args = ["--appendonly", "yes"];
    let p = start(shoal(), dir.path(), &args);
    let mut c = p.client();
    write_every_type(&mut c);
    assert_eq!(
        simple(c.cmd(&["BGREWRITEAOF"]).unwrap()),
        "Background append only file rewriting started"
    );
    wait_rewrite_done(&mut c);
    // Everything is in the base: the new incr file is empty.
    let m = assert_clean_manifest(dir.path());
    assert_eq!(m[0].0, "appendonly.aof.2.base.rdb");
    let incr = aof_dir(dir.path()).join(&m[1].0);
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), 0);
    let base_only = digest(&mut c);
    // And something after the cut, in the incr file.
    c.cmd(&["SET", "after", "rewrite"]).unwrap();
    c.cmd(&["LPUSH", "list", "z"]).unwrap();
    let d = digest(&mut c);
    p.stop();

    // Redis loads a copy of the directory.
    let copy = tempfile::tempdir().unwrap();
    copy_aof_dir(dir.path(), copy.path());
    let r = start(redis, copy.path(), &args);
    let mut rc = r.client();
    assert_eq!(digest(&mut rc), d, "{}", r.log_text());
    assert_eq!(
        rc.cmd(&["FCALL", "myfunc", "0"]).unwrap(),
        Frame::Integer(1)
    );
    r.stop();

    // Only the base: Redis sees the dataset of the cut.
    std::fs::write(aof_dir(copy.path()).join(&m[1].0), b"").unwrap();
    start(redis, copy.path(), &args).check_digest_and_stop(&base_only);

    // And Shoal itself.
    start(shoal(), dir.path(), &args).check_digest_and_stop(&d);
}

#[test]
fn config_set_appendonly_yes_at_run_time_creates_the_aof() {
    let dir = tempfile::tempdir().unwrap();
    let p = start(shoal(), dir.path(), &[]);
    let mut c = p.client();
    write_every_type(&mut c);
    assert_eq!(info(&mut c, "aof_enabled"), "0");
    assert_eq!(
        simple(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]).unwrap()),
        "OK"
    );
    // On at once for INFO, while the rewrite creates it.
    assert_eq!(info(&mut c, "aof_enabled"), "1");
    c.cmd(&["SET", "during", "rewrite"]).unwrap();
    wait_rewrite_done(&mut c);
    c.cmd(&["SET", "after", "rewrite"]).unwrap();
    assert_eq!(info(&mut c, "aof_enabled"), "1");
    assert_eq!(info(&mut c, "aof_last_bgrewrite_status"), "ok");
    let m = assert_clean_manifest(dir.path());
    assert_eq!(
        m.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof"]
    );
    let log = p.log_text();
    for line in [
        "Creating AOF incr file temp-appendonly.aof.incr on background rewrite",
        "Successfully renamed the temporary AOF incr file temp-appendonly.aof.incr into appendonly.aof.1.incr.aof",
        "Background AOF rewrite finished successfully",
    ] {
        assert!(log.contains(line), "missing {line:?} in\n{log}");
    }
    let d = digest(&mut c);
    p.kill9();
    assert!(!dir.path().join("dump.rdb").exists());
    let p = start(shoal(), dir.path(), &["--appendonly", "yes"]);
    let mut c = p.client();
    assert_eq!(digest(&mut c), d);
    assert_eq!(
        bulk(&c.cmd(&["GET", "during"]).unwrap()).as_deref(),
        Some(&b"rewrite"[..])
    );
    p.stop();
}

#[test]
fn bgsave_and_bgrewriteaof_schedule_each_other_as_redis() {
    let dir = tempfile::tempdir().unwrap();
    let p = start(shoal(), dir.path(), &["--appendonly", "yes"]);
    let mut c = p.client();
    c.cmd(&["DEBUG", "POPULATE", "20000", "k", "10"]).unwrap();
    // 20000 keys at 50 µs: each snapshot lasts about a second.
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "50"])
        .unwrap();
    assert_eq!(
        simple(c.cmd(&["BGSAVE"]).unwrap()),
        "Background saving started"
    );
    assert_eq!(
        simple(c.cmd(&["BGREWRITEAOF"]).unwrap()),
        "Background append only file rewriting scheduled"
    );
    assert_eq!(
        simple(c.cmd(&["BGREWRITEAOF"]).unwrap()),
        "Background append only file rewriting scheduled"
    );
    assert_eq!(info(&mut c, "aof_rewrite_scheduled"), "1");
    assert_eq!(info(&mut c, "aof_rewrite_in_progress"), "0");
    // The persist cron starts it once the BGSAVE has ended.
    let end = Instant::now() + Duration::from_secs(30);
    while info(&mut c, "aof_rewrite_in_progress") != "1" {
        assert!(Instant::now() < end, "scheduled rewrite did not start");
        sleep(Duration::from_millis(10));
    }
    assert_eq!(info(&mut c, "rdb_bgsave_in_progress"), "0");
    assert_eq!(info(&mut c, "aof_rewrite_scheduled"), "0");
    // During the rewrite the manifest lists the new incr file after the old
    // ones, as Redis 7.0.15's does.
    let names: Vec<String> = manifest(dir.path()).into_iter().map(|f| f.0).collect();
    assert_eq!(
        names,
        [
            "appendonly.aof.1.base.rdb",
            "appendonly.aof.1.incr.aof",
            "appendonly.aof.2.incr.aof"
        ]
    );
    assert_ne!(info(&mut c, "aof_current_rewrite_time_sec"), "-1");
    assert_eq!(
        simple(c.cmd(&["BGREWRITEAOF"]).unwrap()),
        "ERR Background append only file rewriting already in progress"
    );
    let bgsave = simple(c.cmd(&["BGSAVE"]).unwrap());
    assert!(
        bgsave.starts_with("ERR Another child process is active (AOF?)"),
        "{bgsave}"
    );
    assert_eq!(
        simple(c.cmd(&["BGSAVE", "SCHEDULE"]).unwrap()),
        "Background saving scheduled"
    );
    let saves_before = p.log_text().matches("Background saving started").count();
    wait_rewrite_done(&mut c);
    assert_eq!(info_num(&mut c, "aof_rewrites"), 1);
    assert_eq!(info(&mut c, "aof_current_rewrite_time_sec"), "-1");
    // The scheduled BGSAVE runs after the rewrite.
    let end = Instant::now() + Duration::from_secs(30);
    while p
        .log_text()
        .matches("Background saving terminated with success")
        .count()
        < 2
    {
        assert!(Instant::now() < end, "no scheduled BGSAVE");
        sleep(Duration::from_millis(20));
    }
    assert_eq!(
        p.log_text().matches("Background saving started").count(),
        saves_before + 1
    );
    p.stop();
}

#[test]
fn failed_rewrites_leave_a_loadable_aof() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--appendonly", "yes"];
    let p = start(shoal(), dir.path(), &args);
    let mut c = p.client();
    for i in 0..100 {
        c.cmd(&["SET", &format!("a{i}"), "x"]).unwrap();
    }
    let ad = aof_dir(dir.path());

    // 1. The temp file cannot be created (a directory has its name).
    let blocker = ad.join(format!("temp-rewriteaof-bg-{}.aof", p.pid()));
    std::fs::create_dir(&blocker).unwrap();
    assert_eq!(
        simple(c.cmd(&["BGREWRITEAOF"]).unwrap()),
        "Background append only file rewriting started"
    );
    wait_rewrite_done(&mut c);
    assert_eq!(info(&mut c, "aof_last_bgrewrite_status"), "err");
    assert_eq!(info(&mut c, "aof_rewrites_consecutive_failures"), "1");
    std::fs::remove_dir(&blocker).unwrap();
    for i in 0..100 {
        c.cmd(&["SET", &format!("b{i}"), "y"]).unwrap();
    }

    // 2. The new base cannot be renamed into place (after the cut: the writer
    //    has switched to the new incr file).
    let blocker = ad.join("appendonly.aof.2.base.rdb");
    std::fs::create_dir(&blocker).unwrap();
    assert_eq!(
        simple(c.cmd(&["BGREWRITEAOF"]).unwrap()),
        "Background append only file rewriting started"
    );
    wait_rewrite_done(&mut c);
    assert_eq!(info(&mut c, "aof_last_bgrewrite_status"), "err");
    assert_eq!(info(&mut c, "aof_rewrites_consecutive_failures"), "2");
    let log = p.log_text();
    assert!(
        log.contains("Error trying to rename the temporary AOF base file"),
        "{log}"
    );
    for i in 0..100 {
        c.cmd(&["INCR", &format!("c{i}")]).unwrap();
    }
    // The old base and both incr files are listed; no temp file is left.
    let m = manifest(dir.path());
    assert_eq!(
        m.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        [
            "appendonly.aof.1.base.rdb",
            "appendonly.aof.1.incr.aof",
            "appendonly.aof.2.incr.aof"
        ]
    );
    assert!(std::fs::read_dir(&ad).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("temp-")));
    let d = digest(&mut c);
    p.kill9();
    std::fs::remove_dir(&blocker).unwrap();

    // Loadable, complete.
    let p = start(shoal(), dir.path(), &args);
    let mut c = p.client();
    assert_eq!(digest(&mut c), d);
    // And the next rewrite succeeds, removing every old file.
    assert_eq!(
        simple(c.cmd(&["BGREWRITEAOF"]).unwrap()),
        "Background append only file rewriting started"
    );
    wait_rewrite_done(&mut c);
    assert_eq!(info(&mut c, "aof_last_bgrewrite_status"), "ok");
    assert_eq!(info(&mut c, "aof_rewrites_consecutive_failures"), "0");
    let m = assert_clean_manifest(dir.path());
    assert_eq!(
        m.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["appendonly.aof.2.base.rdb", "appendonly.aof.3.incr.aof"]
    );
    c.cmd(&["SET", "last", "1"]).unwrap();
    let d = digest(&mut c);
    p.stop();
    start(shoal(), dir.path(), &args).check_digest_and_stop(&d);
}

#[test]
fn a_crash_in_the_middle_of_a_rewrite_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--appendonly", "yes"];
    let p = start(shoal(), dir.path(), &args);
    let mut c = p.client();
    // Real writes (DEBUG POPULATE is not propagated, in Redis either).
    for i in 0..2000 {
        c.cmd(&["SET", &format!("k:{i}"), "v"]).unwrap();
    }
    // About two seconds of rewrite.
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "1000"])
        .unwrap();
    assert_eq!(
        simple(c.cmd(&["BGREWRITEAOF"]).unwrap()),
        "Background append only file rewriting started"
    );
    // Writes after the cut go to the new incr file only.
    for i in 0..200 {
        c.cmd(&["INCR", "counter"]).unwrap();
        c.cmd(&["SET", &format!("k:{i}"), "changed"]).unwrap();
    }
    assert_eq!(info(&mut c, "aof_rewrite_in_progress"), "1");
    let d = digest(&mut c);
    p.kill9();
    let names: Vec<String> = manifest(dir.path()).into_iter().map(|f| f.0).collect();
    assert_eq!(
        names,
        [
            "appendonly.aof.1.base.rdb",
            "appendonly.aof.1.incr.aof",
            "appendonly.aof.2.incr.aof"
        ]
    );
    let p = start(shoal(), dir.path(), &args);
    let mut c = p.client();
    assert_eq!(digest(&mut c), d);
    assert_eq!(
        bulk(&c.cmd(&["GET", "counter"]).unwrap()).as_deref(),
        Some(&b"200"[..])
    );
    p.stop();
}

/// SAVE, DEBUG RELOAD and the shutdown save during an AOF rewrite succeed, as in
/// Redis 7.0.15 (whose rewrite is a child process, so it saves in the
/// foreground): Shoal's save waits for the rewrite's walk, then saves; the
/// rewrite ends normally. SHUTDOWN SAVE kills the rewrite as Redis does.
#[test]
fn save_and_debug_reload_during_a_rewrite_save_as_redis() {
    let dir = tempfile::tempdir().unwrap();
    let aof = ["--appendonly", "yes"];
    let p = start(shoal(), dir.path(), &aof);
    let mut c = p.client();
    c.cmd(&["DEBUG", "POPULATE", "4000", "k", "10"]).unwrap();
    // 4000 keys at 100 µs: each snapshot lasts about 0.4 s.
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100"])
        .unwrap();
    let rdb = dir.path().join("dump.rdb");
    for (round, cmd) in [&["SAVE"][..], &["DEBUG", "RELOAD"]].iter().enumerate() {
        assert_eq!(
            simple(c.cmd(&["BGREWRITEAOF"]).unwrap()),
            "Background append only file rewriting started"
        );
        assert_eq!(info(&mut c, "aof_rewrite_in_progress"), "1");
        let _ = std::fs::remove_file(&rdb);
        assert_eq!(simple(c.cmd(cmd).unwrap()), "OK", "{}", p.log_text());
        assert!(rdb.exists());
        wait_rewrite_done(&mut c);
        assert_eq!(info(&mut c, "aof_last_bgrewrite_status"), "ok");
        assert_eq!(info_num(&mut c, "aof_rewrites"), round as i64 + 1);
        assert_eq!(info(&mut c, "rdb_last_bgsave_status"), "ok");
    }
    c.cmd(&["SET", "last", "write"]).unwrap();
    let d = digest(&mut c);
    // A BGSAVE still makes SAVE fail, as in Redis.
    assert_eq!(
        simple(c.cmd(&["BGSAVE"]).unwrap()),
        "Background saving started"
    );
    assert_eq!(
        simple(c.cmd(&["SAVE"]).unwrap()),
        "ERR Background save already in progress"
    );
    common::dir_server::wait_bgsave(&mut c);
    // SHUTDOWN SAVE during a rewrite: the rewrite is killed, the RDB saved.
    assert_eq!(
        simple(c.cmd(&["BGREWRITEAOF"]).unwrap()),
        "Background append only file rewriting started"
    );
    let _ = std::fs::remove_file(&rdb);
    p.shutdown("SAVE");
    let log = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.extension().is_some_and(|e| e == "log"))
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<String>();
    assert!(
        log.contains("There is a child rewriting the AOF. Killing it!"),
        "{log}"
    );
    assert!(rdb.exists(), "{log}");
    // Both the RDB file and the AOF hold the dataset.
    start(shoal(), dir.path(), &[]).check_digest_and_stop(&d);
    start(shoal(), dir.path(), &aof).check_digest_and_stop(&d);
}
