//! Process tests of the append-only file: crash safety under SIGKILL with each
//! fsync policy, truncated and corrupted files at start-up, and AOF directories
//! exchanged with Debian's redis-server (skipped when it is not installed).
//!
//! Each test runs servers on ephemeral loopback ports in a temporary directory
//! kept across restarts, and kills every process it starts (on drop).

mod common;

use common::dir_server::{bulk, digest, redis_or_skip, shoal, DirServer};
use common::{Client, Frame};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// This file's defaults: no save points.
fn start(bin: &Path, dir: &Path, extra: &[&str]) -> Result<DirServer, (Option<i32>, String)> {
    DirServer::try_start(bin, dir, &[&["--save", ""], extra].concat())
}

fn incr_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join("appendonlydir")
        .join(format!("appendonly.aof.{seq}.incr.aof"))
}

/// Clients write distinct keys until told to stop; returns (key index, ack time)
/// of every acknowledged write.
fn write_load(
    port: u16,
    clients: usize,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<(String, Instant)>>> {
    (0..clients)
        .map(|c| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let Ok(mut cl) = Client::connect(port) else {
                    return acked;
                };
                // Bounded: at most this many writes per client.
                for i in 0..200_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("k:{c}:{i}");
                    match cl.cmd(&["SET", &key, &key]) {
                        Ok(Frame::Simple(s)) if s == b"OK" => acked.push((key, Instant::now())),
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect()
}

/// Writes under load, SIGKILL, restart; returns the acknowledged writes missing
/// after the restart, with how long before the kill each was acknowledged.
fn crash_and_count_missing(policy: &str) -> (usize, Vec<Duration>) {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--appendonly", "yes", "--appendfsync", policy];
    let p = start(shoal(), dir.path(), &args).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let handles = write_load(p.port, 3, stop.clone());
    sleep(Duration::from_millis(1500));
    let killed_at = Instant::now();
    p.kill9();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<(String, Instant)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert!(acked.len() > 50, "too few writes: {}", acked.len());
    let p = start(shoal(), dir.path(), &args).unwrap();
    let mut c = p.client();
    let mut missing = Vec::new();
    for (k, at) in &acked {
        let v = bulk(&c.cmd(&["GET", k]).unwrap());
        if v.as_deref() != Some(k.as_bytes()) {
            missing.push(killed_at.saturating_duration_since(*at));
        }
    }
    p.stop();
    (acked.len(), missing)
}

#[test]
fn always_keeps_every_acknowledged_write_through_sigkill() {
    let (n, missing) = crash_and_count_missing("always");
    assert!(
        missing.is_empty(),
        "{} of {n} acknowledged writes lost",
        missing.len()
    );
}

#[test]
fn everysec_loses_at_most_the_last_seconds_through_sigkill() {
    let (n, missing) = crash_and_count_missing("everysec");
    // Anything lost must have been acknowledged within ~2 s of the kill.
    for d in &missing {
        assert!(
            *d <= Duration::from_secs(2),
            "lost a write acknowledged {d:?} before the kill (of {n})"
        );
    }
}

/// Writes a few keys with the AOF on and shuts down cleanly.
fn make_aof(dir: &Path) {
    let p = start(shoal(), dir, &["--appendonly", "yes"]).unwrap();
    let mut c = p.client();
    for i in 0..20 {
        let k = format!("key{i}");
        c.cmd(&["SET", &k, "value"]).unwrap();
    }
    p.stop();
}

#[test]
fn truncated_aof_loads_only_with_aof_load_truncated() {
    let dir = tempfile::tempdir().unwrap();
    make_aof(dir.path());
    let incr = incr_path(dir.path(), 1);
    let good = std::fs::metadata(&incr).unwrap().len();
    // A crash in the middle of a unit.
    let mut bytes = std::fs::read(&incr).unwrap();
    bytes.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$5\r\nva");
    std::fs::write(&incr, &bytes).unwrap();

    let refused = start(
        shoal(),
        dir.path(),
        &["--appendonly", "yes", "--aof-load-truncated", "no"],
    );
    let Err((code, log)) = refused else {
        panic!("a truncated AOF was loaded with aof-load-truncated no")
    };
    assert_eq!(code, Some(1));
    assert!(
        log.contains(
            "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"
        ),
        "{log}"
    );

    let p = start(
        shoal(),
        dir.path(),
        &["--appendonly", "yes", "--aof-load-truncated", "yes"],
    )
    .unwrap();
    let log = p.log_text();
    assert!(
        log.contains(
            "!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!"
        ),
        "{log}"
    );
    assert!(
        log.contains(
            "AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled"
        ),
        "{log}"
    );
    let mut c = p.client();
    assert_eq!(
        bulk(&c.cmd(&["GET", "key19"]).unwrap()).as_deref(),
        Some(&b"value"[..])
    );
    assert_eq!(bulk(&c.cmd(&["GET", "lost"]).unwrap()), None);
    // Truncated to the last complete command, then appended to.
    c.cmd(&["SET", "after", "1"]).unwrap();
    p.stop();
    let after = std::fs::read(&incr).unwrap();
    assert!(after.len() as u64 > good);
    assert_eq!(&after[..good as usize], &bytes[..good as usize]);
    let p = start(
        shoal(),
        dir.path(),
        &["--appendonly", "yes", "--aof-load-truncated", "no"],
    )
    .unwrap();
    assert_eq!(
        bulk(&p.client().cmd(&["GET", "after"]).unwrap()).as_deref(),
        Some(&b"1"[..])
    );
    p.stop();
}

#[test]
fn bit_flip_in_the_middle_is_refused_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    make_aof(dir.path());
    let incr = incr_path(dir.path(), 1);
    let mut bytes = std::fs::read(&incr).unwrap();
    // The header of the 5th command ("*3") becomes "+3".
    let starts: Vec<usize> = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| w == b"*3\r\n")
        .map(|(i, _)| i)
        .collect();
    let at = starts[4];
    bytes[at] = b'+';
    std::fs::write(&incr, &bytes).unwrap();
    for truncated in ["yes", "no"] {
        let r = start(
            shoal(),
            dir.path(),
            &["--appendonly", "yes", "--aof-load-truncated", truncated],
        );
        let Err((code, log)) = r else {
            panic!("a corrupted AOF was loaded")
        };
        assert_eq!(code, Some(1));
        assert!(
            log.contains("Bad file format reading the append only file appendonly.aof.1.incr.aof")
                && log.contains(&format!("at offset {at}")),
            "{log}"
        );
    }
    // shoal-check-aof says the same and where.
    let out = Command::new(env!("CARGO_BIN_EXE_shoal-check-aof"))
        .arg(dir.path().join("appendonlydir/appendonly.aof.manifest"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("ok_up_to={at}")), "{text}");
}

/// Strings, expiries, several databases and a transaction: what both servers
/// write as commands today (collections wait for the RDB collection codecs of
/// the base file only; as commands they are replayed too).
fn write_dataset(c: &mut Client) {
    for i in 0..50 {
        c.cmd(&["SET", &format!("s{i}"), &format!("v{i}")]).unwrap();
    }
    c.cmd(&["SET", "with space", "a\r\nb"]).unwrap();
    c.cmd(&["SET", "int", "12345"]).unwrap();
    c.cmd(&["INCR", "int"]).unwrap();
    c.cmd(&["SET", "ttl", "x", "EX", "1000"]).unwrap();
    c.cmd(&["RPUSH", "list", "a", "b", "c"]).unwrap();
    c.cmd(&["HSET", "hash", "f", "v", "g", "w"]).unwrap();
    c.cmd(&["SADD", "set", "1", "2", "x"]).unwrap();
    c.cmd(&["ZADD", "zset", "1", "a", "2.5", "b"]).unwrap();
    c.cmd(&["XADD", "stream", "1-1", "f", "v"]).unwrap();
    c.cmd(&["MULTI"]).unwrap();
    c.cmd(&["SET", "tx1", "1"]).unwrap();
    c.cmd(&["SET", "tx2", "2"]).unwrap();
    c.cmd(&["EXEC"]).unwrap();
    c.cmd(&["SELECT", "5"]).unwrap();
    c.cmd(&["SET", "db5", "five"]).unwrap();
    c.cmd(&["SELECT", "0"]).unwrap();
}

#[test]
fn redis_loads_shoals_aof_directory_and_shoal_loads_redis() {
    let Some(redis) = redis_or_skip("skipped") else {
        return;
    };
    let aof = ["--appendonly", "yes"];
    // Shoal writes, Redis loads: same digest as Shoal's own after its restart.
    let dir = tempfile::tempdir().unwrap();
    let p = start(shoal(), dir.path(), &aof).unwrap();
    write_dataset(&mut p.client());
    let shoal_digest = digest(&mut p.client());
    p.stop();
    start(redis, dir.path(), &aof)
        .unwrap()
        .check_digest_and_stop(&shoal_digest);

    // Redis writes, Shoal loads.
    let dir = tempfile::tempdir().unwrap();
    let r = start(redis, dir.path(), &aof).unwrap();
    write_dataset(&mut r.client());
    let redis_digest = digest(&mut r.client());
    r.stop();
    let p = start(shoal(), dir.path(), &aof).unwrap();
    let mut c = p.client();
    assert_eq!(digest(&mut c), redis_digest, "{}", p.log_text());
    assert_eq!(
        bulk(&c.cmd(&["GET", "with space"]).unwrap()).as_deref(),
        Some(&b"a\r\nb"[..])
    );
    // And Shoal appends to Redis's incr file, which Redis loads again.
    c.cmd(&["SET", "added", "by shoal"]).unwrap();
    let d2 = digest(&mut c);
    p.stop();
    start(redis, dir.path(), &aof)
        .unwrap()
        .check_digest_and_stop(&d2);
}

#[test]
fn info_persistence_aof_fields() {
    let dir = tempfile::tempdir().unwrap();
    let p = start(shoal(), dir.path(), &["--appendonly", "yes"]).unwrap();
    let mut c = p.client();
    c.cmd(&["SET", "a", "b"]).unwrap();
    let info = bulk(&c.cmd(&["INFO", "persistence"]).unwrap()).unwrap();
    let info = String::from_utf8(info).unwrap();
    let names: Vec<&str> = info
        .lines()
        .filter_map(|l| l.split_once(':').map(|(k, _)| k))
        .filter(|k| k.starts_with("aof_"))
        .collect();
    assert_eq!(
        names,
        [
            "aof_enabled",
            "aof_rewrite_in_progress",
            "aof_rewrite_scheduled",
            "aof_last_rewrite_time_sec",
            "aof_current_rewrite_time_sec",
            "aof_last_bgrewrite_status",
            "aof_rewrites",
            "aof_rewrites_consecutive_failures",
            "aof_last_write_status",
            "aof_last_cow_size",
            "aof_current_size",
            "aof_base_size",
            "aof_pending_rewrite",
            "aof_buffer_length",
            "aof_pending_bio_fsync",
            "aof_delayed_fsync",
        ]
    );
    assert!(info.contains("aof_enabled:1\r\n"), "{info}");
    // The SET and its SELECT: 50 bytes, as Redis counts them.
    assert!(info.contains("aof_current_size:50\r\n"), "{info}");
    p.stop();
}

/// RESP commands, as a Redis 6 AOF holds them.
fn resp(cmds: &[&[&str]]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in cmds {
        out.extend_from_slice(format!("*{}\r\n", c.len()).as_bytes());
        for a in *c {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    out
}

const UPGRADED_MANIFEST: &str =
    "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";

/// Starts Shoal on `dir` holding an old-style `appendonly.aof` (`old`), checks
/// it was upgraded as Redis 7.0.15 upgrades it (the file moved unchanged into
/// the directory as base seq 1, the first incr created, the log line), then
/// writes, restarts, and has Redis load the directory.
fn check_upgrade(dir: &Path, old: &[u8], keys: &[(&str, &str)]) {
    let p = start(shoal(), dir, &["--appendonly", "yes"]).unwrap();
    let mut c = p.client();
    for (k, v) in keys {
        assert_eq!(
            bulk(&c.cmd(&["GET", k]).unwrap()).as_deref(),
            Some(v.as_bytes()),
            "{k}: {}",
            p.log_text()
        );
    }
    assert!(!dir.join("appendonly.aof").exists());
    let adir = dir.join("appendonlydir");
    assert_eq!(std::fs::read(adir.join("appendonly.aof")).unwrap(), old);
    assert_eq!(
        std::fs::read_to_string(adir.join("appendonly.aof.manifest")).unwrap(),
        UPGRADED_MANIFEST
    );
    assert!(p.log_text().contains(
        "Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir)."
    ));
    c.cmd(&["SET", "after", "upgrade"]).unwrap();
    let d = digest(&mut c);
    p.stop();
    // The data survives a restart, which loads the directory as it is.
    let p = start(shoal(), dir, &["--appendonly", "yes"]).unwrap();
    assert!(!p.log_text().contains("migrated"));
    assert_eq!(
        std::fs::read_to_string(adir.join("appendonly.aof.manifest")).unwrap(),
        UPGRADED_MANIFEST
    );
    p.check_digest_and_stop(&d);
    if let Some(redis) = redis_or_skip("Redis loading the upgraded directory skipped") {
        start(redis, dir, &["--appendonly", "yes"])
            .unwrap()
            .check_digest_and_stop(&d);
    }
}

#[test]
fn redis6_single_aof_is_upgraded_into_the_directory() {
    // Commands only.
    let dir = tempfile::tempdir().unwrap();
    let old = resp(&[
        &["SET", "a", "1"],
        &["RPUSH", "l", "x", "y"],
        &["SELECT", "3"],
        &["SET", "d3", "v"],
    ]);
    std::fs::write(dir.path().join("appendonly.aof"), &old).unwrap();
    check_upgrade(dir.path(), &old, &[("a", "1")]);

    // An RDB preamble (a SAVE of Shoal's) followed by commands.
    let src = tempfile::tempdir().unwrap();
    let p = start(shoal(), src.path(), &[]).unwrap();
    let mut c = p.client();
    c.cmd(&["SET", "from", "rdb"]).unwrap();
    c.cmd(&["HSET", "h", "f", "1"]).unwrap();
    c.cmd(&["SAVE"]).unwrap();
    p.stop();
    let mut old = std::fs::read(src.path().join("dump.rdb")).unwrap();
    old.extend_from_slice(&resp(&[&["SET", "from", "tail"], &["SET", "t", "2"]]));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("appendonly.aof"), &old).unwrap();
    check_upgrade(dir.path(), &old, &[("from", "tail"), ("t", "2")]);
    // Redis 7.0.15's log lines for a preamble in a non-.rdb base.
    let log: String = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        log.contains("Reading RDB preamble from AOF file..."),
        "{log}"
    );
    assert!(log.contains("Reading the remaining AOF tail..."), "{log}");

    // An upgrade cut between the manifest and the move is done again.
    let dir = tempfile::tempdir().unwrap();
    let old = resp(&[&["SET", "b", "2"]]);
    std::fs::write(dir.path().join("appendonly.aof"), &old).unwrap();
    std::fs::create_dir(dir.path().join("appendonlydir")).unwrap();
    std::fs::write(
        dir.path().join("appendonlydir/appendonly.aof.manifest"),
        "file appendonly.aof seq 1 type b\n",
    )
    .unwrap();
    check_upgrade(dir.path(), &old, &[("b", "2")]);
}

/// A crash during a rewrite leaves its temporary files; Redis 7.0.15 leaves
/// them at start-up (and after later rewrites), and so does Shoal: they are
/// neither loaded nor removed, and later rewrites are not disturbed.
#[test]
fn rewrite_leftovers_are_left_in_place_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let aof = ["--appendonly", "yes"];
    let p = start(shoal(), dir.path(), &aof).unwrap();
    p.client().cmd(&["SET", "a", "1"]).unwrap();
    p.stop();
    let adir = dir.path().join("appendonlydir");
    let leftovers = [
        dir.path().join("temp-rewriteaof-bg-4242.aof"),
        adir.join("temp-rewriteaof-bg-4243.aof"),
        adir.join("temp-appendonly.aof.incr"),
        adir.join("temp-rewriteaof-4244.aof"),
    ];
    for f in &leftovers {
        std::fs::write(f, resp(&[&["SET", "a", "leftover"]])).unwrap();
    }
    let p = start(shoal(), dir.path(), &aof).unwrap();
    let mut c = p.client();
    assert_eq!(
        bulk(&c.cmd(&["GET", "a"]).unwrap()).as_deref(),
        Some(&b"1"[..])
    );
    for f in &leftovers {
        assert!(f.exists(), "{} removed", f.display());
    }
    c.cmd(&["BGREWRITEAOF"]).unwrap();
    common::dir_server::wait_rewrite_done(&mut c);
    assert_eq!(
        std::fs::read_to_string(adir.join("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    c.cmd(&["SET", "b", "2"]).unwrap();
    let d = digest(&mut c);
    p.stop();
    start(shoal(), dir.path(), &aof)
        .unwrap()
        .check_digest_and_stop(&d);
}
