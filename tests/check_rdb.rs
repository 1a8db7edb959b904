//! `shoal-check-rdb` on files written by Debian's redis-server: a whole file reads
//! OK (exit 0, key counts), a truncated or bit-flipped one is refused (exit 1) with
//! the offset and the reason. Skipped, with a note, when redis-server is absent.

mod common;

use common::ServerProcess;
use std::path::{Path, PathBuf};
use std::process::Command;

fn redis_server() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/redis-server");
    p.exists().then_some(p)
}

fn check(file: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shoal-check-rdb"))
        .arg(file)
        .output()
        .expect("run shoal-check-rdb");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A dump.rdb written by redis-server, copied out of its directory.
fn reference_file(dir: &Path) -> Option<PathBuf> {
    let bin = redis_server()?;
    let srv = ServerProcess::start(&bin, &[]).expect("start redis-server");
    let mut c = srv.connect().expect("connect");
    for i in 0..200 {
        let k = format!("k{i}");
        let v = "value-".repeat(i % 7 + 1);
        c.cmd(&["SET", &k, &v]).unwrap();
        if i % 3 == 0 {
            c.cmd(&["PEXPIRE", &k, "1000000"]).unwrap();
        }
    }
    c.cmd(&["SET", "n", "12345"]).unwrap();
    for cmd in [
        &["RPUSH", "list", "a", "b", "c"][..],
        &["HSET", "hash", "f", "v", "g", "w"],
        &["SADD", "set", "1", "2", "3"],
        &["ZADD", "zset", "1", "a", "2.5", "b"],
        &["XADD", "stream", "1-1", "f", "v"],
    ] {
        c.cmd(cmd).unwrap();
    }
    c.cmd(&["SELECT", "3"]).unwrap();
    c.cmd(&["SET", "other", "db"]).unwrap();
    c.cmd(&["SAVE"]).unwrap();
    let out = dir.join("dump.rdb");
    std::fs::copy(srv.dir.path().join("dump.rdb"), &out).expect("copy dump.rdb");
    Some(out)
}

#[test]
fn check_rdb_reports_files() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(file) = reference_file(tmp.path()) else {
        eprintln!("skipped: /usr/bin/redis-server not found");
        return;
    };
    let (code, text) = check(&file);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("AUX FIELD redis-ver = '7.0"), "{text}");
    assert!(text.contains("Selecting DB ID 3"), "{text}");
    assert!(text.contains("\\o/ RDB looks OK! \\o/"), "{text}");
    assert!(text.contains("[info] 207 keys read"), "{text}");
    assert!(text.contains("[info] 67 expires"), "{text}");

    let bytes = std::fs::read(&file).unwrap();
    let cut = tmp.path().join("cut.rdb");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, text) = check(&cut);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("--- RDB ERROR DETECTED ---"), "{text}");
    assert!(text.contains("Unexpected EOF reading RDB file"), "{text}");

    // A flipped bit inside a value: the content still parses, the checksum does not
    // match.
    let mut flipped = bytes.clone();
    let at = bytes.windows(6).position(|w| w == b"value-").unwrap() + 2;
    flipped[at] ^= 0x01;
    let flip = tmp.path().join("flip.rdb");
    std::fs::write(&flip, &flipped).unwrap();
    let (code, text) = check(&flip);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("Wrong RDB checksum"), "{text}");

    let (code, text) = check(&tmp.path().join("missing.rdb"));
    assert_eq!(code, 1, "{text}");
}
