//! Process tests of RDB persistence: SAVE and restart, a consistent BGSAVE cut
//! under concurrent writers, a failed save (MISCONF, previous file intact),
//! saving on SHUTDOWN and SIGTERM, and files exchanged with Debian's
//! redis-server both ways (skipped with a note when it is absent).

mod common;

use common::dir_server::{cmd, info, redis_or_skip, shoal, tempdir_named, wait_bgsave, DirServer};
use common::{Client, Frame};
use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

/// Starts a server with this file's defaults (no AOF) and `extra`.
fn start(bin: &Path, dir: &Path, extra: &[&str]) -> DirServer {
    DirServer::start(bin, dir, &[&["--appendonly", "no"], extra].concat())
}

fn tempdir() -> tempfile::TempDir {
    tempdir_named("shoal-rdb-")
}

fn fill(c: &mut Client, prefix: &str, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut args: Vec<String> = vec!["MSET".into()];
        for i in chunk {
            args.push(format!("{prefix}{i}"));
            args.push(format!("value-{i}-{}", "x".repeat(i % 40)));
        }
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        assert_eq!(cmd(c, &refs), "OK");
    }
}

#[test]
fn save_then_restart_loads_the_data() {
    let dir = tempdir();
    let digest;
    {
        let s = start(shoal(), dir.path(), &["--save", ""]);
        let mut c = s.client();
        fill(&mut c, "k", 3000);
        cmd(&mut c, &["SET", "int", "12345"]);
        cmd(&mut c, &["SET", "ttl", "v", "EX", "1000"]);
        cmd(&mut c, &["SET", "gone", "v", "PX", "1"]);
        cmd(&mut c, &["SELECT", "3"]);
        cmd(&mut c, &["SET", "in-db3", "v"]);
        sleep(Duration::from_millis(5));
        assert_eq!(cmd(&mut c, &["SAVE"]), "OK");
        assert_eq!(info(&mut c, "rdb_changes_since_last_save"), "0");
        digest = cmd(&mut c, &["DEBUG", "DIGEST"]);
    }
    let s = start(shoal(), dir.path(), &["--save", ""]);
    let mut c = s.client();
    assert_eq!(cmd(&mut c, &["DEBUG", "DIGEST"]), digest);
    assert_eq!(cmd(&mut c, &["DBSIZE"]), "3002");
    let ttl: i64 = cmd(&mut c, &["TTL", "ttl"]).parse().expect("ttl");
    assert!((900..=1000).contains(&ttl), "{ttl}");
    let log = s.log_text();
    assert!(
        log.contains("Loading RDB produced by version 7.0.15"),
        "{log}"
    );
    assert!(log.contains("DB loaded from disk: "), "{log}");
    // The key that expired before the save may or may not have been written;
    // every other key is loaded.
    assert!(log.contains("Done loading RDB, keys loaded: 3003"), "{log}");
    assert_eq!(info(&mut c, "rdb_last_load_keys_loaded"), "3003");
}

#[test]
fn bgsave_is_a_consistent_cut_under_writers() {
    let dir = tempdir();
    let s = start(shoal(), dir.path(), &["--save", ""]);
    let mut c = s.client();
    fill(&mut c, "base:", 20_000);
    for i in 0..200 {
        let (x, y) = (format!("p:{i}:x"), format!("p:{i}:y"));
        cmd(&mut c, &["MSET", &x, "0", &y, "0"]);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|t| {
            let port = s.port;
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut w = Client::connect(port).expect("connect");
                // Bounded: at most 20,000 transactions per writer.
                for n in 0..20_000u32 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) && n > 50 {
                        break;
                    }
                    let i = (n * 7 + t * 13) % 200;
                    let (x, y) = (format!("p:{i}:x"), format!("p:{i}:y"));
                    let v = format!("{t}-{n}");
                    w.cmd(&["MULTI"]).expect("multi");
                    if n % 5 == 0 {
                        w.cmd(&["DEL", &x, &y]).expect("del");
                    } else {
                        w.cmd(&["SET", &x, &v]).expect("set");
                        w.cmd(&["SET", &y, &v]).expect("set");
                    }
                    let r = w.cmd(&["EXEC"]).expect("exec");
                    assert!(matches!(r, Frame::Array(Some(_))), "{r:?}");
                    w.cmd(&["SET", &format!("new:{t}:{n}"), "v"]).expect("set");
                }
            })
        })
        .collect();
    sleep(Duration::from_millis(30));
    assert_eq!(cmd(&mut c, &["BGSAVE"]), "Background saving started");
    assert_eq!(
        cmd(&mut c, &["BGSAVE"]),
        "ERR Background save already in progress"
    );
    wait_bgsave(&mut c);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.join().expect("writer");
    }
    assert_eq!(info(&mut c, "rdb_last_bgsave_status"), "ok");
    drop(c);
    drop(s);

    // Load the image alone.
    let dir2 = tempdir();
    std::fs::copy(dir.path().join("dump.rdb"), dir2.path().join("dump.rdb")).expect("copy");
    let s2 = start(shoal(), dir2.path(), &["--save", ""]);
    let mut c = s2.client();
    for i in (0..20_000).step_by(97) {
        let k = format!("base:{i}");
        assert_eq!(
            cmd(&mut c, &["GET", &k]),
            format!("value-{i}-{}", "x".repeat(i % 40))
        );
    }
    let base = cmd(
        &mut c,
        &["EVAL", "return #redis.call('keys','base:*')", "0"],
    );
    assert_eq!(base, "20000");
    for i in 0..200 {
        let (x, y) = (format!("p:{i}:x"), format!("p:{i}:y"));
        let (vx, vy) = (cmd(&mut c, &["GET", &x]), cmd(&mut c, &["GET", &y]));
        assert_eq!(vx, vy, "pair {i} torn in the image");
    }
}

#[test]
fn failed_save_sets_misconf_and_keeps_the_previous_file() {
    let dir = tempdir();
    let s = start(
        shoal(),
        dir.path(),
        &["--save", "3600 1", "--enable-protected-configs", "yes"],
    );
    let mut c = s.client();
    fill(&mut c, "k", 100);
    assert_eq!(cmd(&mut c, &["SAVE"]), "OK");
    let before = std::fs::read(dir.path().join("dump.rdb")).expect("file");
    // A target the rename cannot replace (root can write anywhere, so a
    // permission trick would not fail): a non-empty directory.
    std::fs::create_dir(dir.path().join("victim")).expect("mkdir");
    std::fs::write(dir.path().join("victim/f"), b"x").expect("write");
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "dbfilename", "victim"]),
        "OK"
    );
    cmd(&mut c, &["SET", "more", "1"]);
    assert_eq!(cmd(&mut c, &["BGSAVE"]), "Background saving started");
    wait_bgsave(&mut c);
    assert_eq!(info(&mut c, "rdb_last_bgsave_status"), "err");
    let r = cmd(&mut c, &["SET", "x", "1"]);
    assert!(r.starts_with("MISCONF "), "{r}");
    assert_eq!(cmd(&mut c, &["GET", "k1"]), "value-1-x");
    assert_eq!(cmd(&mut c, &["SAVE"]), "ERR");
    assert_eq!(
        cmd(&mut c, &["SHUTDOWN"]),
        "ERR Errors trying to SHUTDOWN. Check logs."
    );
    // No temporary file left, the previous file untouched.
    let temps: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("temp-"))
        .collect();
    assert!(temps.is_empty());
    assert_eq!(
        std::fs::read(dir.path().join("dump.rdb")).expect("file"),
        before
    );
    // A good save clears the condition.
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "dbfilename", "dump.rdb"]),
        "OK"
    );
    assert_eq!(cmd(&mut c, &["SAVE"]), "OK");
    assert_eq!(cmd(&mut c, &["SET", "x", "1"]), "OK");
    assert!(s.log_text().contains("Background saving error"));
}

#[test]
fn shutdown_and_sigterm_save_with_save_points() {
    let dir = tempdir();
    {
        let mut s = start(shoal(), dir.path(), &["--save", "3600 1"]);
        let mut c = s.client();
        cmd(&mut c, &["SET", "a", "1"]);
        let _ = c.cmd(&["SHUTDOWN"]);
        assert!(s.wait_exit());
        assert!(s
            .log_text()
            .contains("Saving the final RDB snapshot before exiting."));
    }
    {
        let mut s = start(shoal(), dir.path(), &["--save", "3600 1"]);
        let mut c = s.client();
        assert_eq!(cmd(&mut c, &["GET", "a"]), "1");
        cmd(&mut c, &["SET", "b", "2"]);
        let pid = s.pid().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(s.wait_exit());
    }
    let s = start(shoal(), dir.path(), &["--save", ""]);
    let mut c = s.client();
    assert_eq!(cmd(&mut c, &["GET", "b"]), "2");
    // SHUTDOWN NOSAVE does not save.
    cmd(&mut c, &["SET", "c", "3"]);
    let _ = c.cmd(&["SHUTDOWN", "NOSAVE"]);
    drop(s);
    let s = start(shoal(), dir.path(), &["--save", ""]);
    assert_eq!(cmd(&mut s.client(), &["EXISTS", "c"]), "0");
}

#[test]
fn files_load_both_ways_with_redis() {
    let Some(redis) = redis_or_skip("note: interop test skipped") else {
        return;
    };
    // Shoal -> Redis.
    let dir = tempdir();
    let digest;
    {
        let s = start(shoal(), dir.path(), &["--save", ""]);
        let mut c = s.client();
        fill(&mut c, "k", 2000);
        cmd(&mut c, &["SET", "n", "-42"]);
        cmd(&mut c, &["SET", "big", &"abc".repeat(1000)]);
        cmd(&mut c, &["SET", "t", "v", "EX", "5000"]);
        cmd(&mut c, &["SELECT", "5"]);
        cmd(&mut c, &["SET", "db5", "v"]);
        assert_eq!(cmd(&mut c, &["SAVE"]), "OK");
        digest = cmd(&mut c, &["DEBUG", "DIGEST"]);
    }
    {
        let r = start(redis, dir.path(), &["--save", ""]);
        assert_eq!(cmd(&mut r.client(), &["DEBUG", "DIGEST"]), digest);
    }
    // Redis -> Shoal.
    let dir = tempdir();
    let digest;
    {
        let r = start(redis, dir.path(), &["--save", ""]);
        let mut c = r.client();
        fill(&mut c, "r", 1500);
        cmd(&mut c, &["SET", "big", &"xyz".repeat(2000)]);
        cmd(&mut c, &["SET", "t", "v", "PX", "9000000"]);
        cmd(&mut c, &["SELECT", "2"]);
        cmd(&mut c, &["SET", "n", "7"]);
        assert_eq!(cmd(&mut c, &["SAVE"]), "OK");
        digest = cmd(&mut c, &["DEBUG", "DIGEST"]);
    }
    let s = start(shoal(), dir.path(), &["--save", ""]);
    assert_eq!(cmd(&mut s.client(), &["DEBUG", "DIGEST"]), digest);
}
