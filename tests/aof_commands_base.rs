//! Process tests of the AOF base as commands (`aof-use-rdb-preamble no`): the
//! rewrite and the start-up path write `<appendfilename>.<seq>.base.aof`, a file
//! of commands (no RDB image), in batches of at most 64 items as Redis 7.0.15's
//! rewrite; every type round-trips (DEBUG DIGEST) through Shoal and through
//! Debian's redis-server 7.0.15 (skipped when it is not installed); and Shoal
//! loads the command base Redis writes.
//!
//! Each test runs servers on ephemeral loopback ports in a temporary directory
//! and kills every process it starts (on drop). Every loop is bounded.

mod common;

use common::dir_server::{
    aof_dir, copy_aof_dir, digest, info, redis_or_skip, shoal, wait_rewrite_done, DirServer,
};
use common::{read_frame, Client, Frame};
use std::path::Path;

const AOF_NO_PREAMBLE: [&str; 4] = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];

/// Starts a server with this file's defaults (no save points) and `extra`.
fn start(bin: &Path, dir: &Path, extra: &[&str]) -> DirServer {
    DirServer::start(bin, dir, &[&["--save", ""], extra].concat())
}

/// Starts `bin` in `dir` (AOF, no preamble) and checks it holds the data of
/// digest `d` with streams `xs`; returns it and a client for further checks.
fn start_holding(bin: &Path, dir: &Path, d: &[u8], xs: &[Frame]) -> (DirServer, Client) {
    let p = start(bin, dir, &AOF_NO_PREAMBLE);
    let mut c = p.client();
    assert_eq!(digest(&mut c), d, "{}", p.log_text());
    assert_eq!(streams(&mut c), xs);
    (p, c)
}

/// A new directory holding a copy of `dir`'s AOF directory.
fn copy_of(dir: &Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_aof_dir(dir, copy.path());
    copy
}

fn redis() -> Option<&'static Path> {
    redis_or_skip("skipped the redis-server part")
}

fn ok(c: &mut Client, args: &[&str]) -> Frame {
    let r = c.cmd(args).unwrap();
    assert!(!r.is_error(), "{args:?}: {r:?}");
    r
}

fn rewrite(c: &mut Client) {
    ok(c, &["BGREWRITEAOF"]);
    wait_rewrite_done(c);
    assert_eq!(info(c, "aof_last_bgrewrite_status"), "ok");
}

/// XINFO STREAM FULL of the test's streams, consumers' seen times blanked (a
/// load sets them to the load time, in Redis as in Shoal).
fn streams(c: &mut Client) -> Vec<Frame> {
    fn blank(f: &mut Frame) {
        if let Frame::Array(Some(items)) = f {
            for i in 1..items.len() {
                if matches!(&items[i - 1], Frame::Bulk(Some(k)) if k == b"seen-time") {
                    items[i] = Frame::Null;
                }
            }
            items.iter_mut().for_each(blank);
        }
    }
    ["st", "es", "mk", "bigst"]
        .iter()
        .map(|k| {
            let mut f = ok(c, &["XINFO", "STREAM", k, "FULL"]);
            blank(&mut f);
            f
        })
        .collect()
}

/// The base file the manifest names.
fn base_name(dir: &Path) -> String {
    let text = std::fs::read_to_string(aof_dir(dir).join("appendonly.aof.manifest")).unwrap();
    text.lines()
        .find(|l| l.ends_with(" type b"))
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or_else(|| panic!("no base in {text}"))
        .to_string()
}

/// The commands of a command file.
fn commands(path: &Path) -> Vec<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).unwrap();
    assert!(!bytes.starts_with(b"REDIS"), "an RDB image: {path:?}");
    let mut r = &bytes[..];
    let mut out = Vec::new();
    while !r.is_empty() && out.len() < 100_000 {
        let Frame::Array(Some(args)) = read_frame(&mut r).unwrap() else {
            panic!("not a command in {path:?}")
        };
        out.push(
            args.into_iter()
                .map(|a| match a {
                    Frame::Bulk(Some(b)) => b,
                    other => panic!("argument {other:?}"),
                })
                .collect(),
        );
    }
    out
}

fn push(c: &mut Client, cmd: &str, key: &str, items: &[String]) {
    let mut args = vec![cmd, key];
    args.extend(items.iter().map(|s| s.as_str()));
    ok(c, &args);
}

/// Every type, in the encodings that matter, with TTLs, streams with deletions,
/// groups, PELs and consumers, a second database and a function library.
fn fill_every_type(c: &mut Client) {
    ok(c, &["SET", "str", "hello"]);
    ok(c, &["SET", "int", "12345"]);
    ok(c, &["SET", "neg", "-7"]);
    let r = c
        .call(&[&b"SET"[..], b"bin\r\n\0key", b"\0\r\n\xffvalue"])
        .unwrap();
    assert!(!r.is_error());
    ok(c, &["SET", "ttl", "x", "EX", "100000"]);
    ok(c, &["PFADD", "hll", "a", "b", "c"]);

    let big: Vec<String> = (0..150).map(|i| format!("item-{i}")).collect();
    ok(c, &["RPUSH", "list", "a", "1", "b"]);
    push(c, "RPUSH", "biglist", &big);
    ok(c, &["HSET", "hash", "f", "v", "g", "w"]);
    ok(c, &["PEXPIRE", "hash", "50000000"]);
    let pairs: Vec<String> = big.iter().flat_map(|s| [s.clone(), s.clone()]).collect();
    push(c, "HSET", "bighash", &pairs);
    ok(c, &["SADD", "set", "x", "y"]);
    ok(c, &["SADD", "intset", "1", "-2", "300000"]);
    push(c, "SADD", "bigset", &big);
    let ints: Vec<String> = (0..150).map(|i| i.to_string()).collect();
    push(c, "SADD", "bigintset", &ints);
    ok(
        c,
        &[
            "ZADD", "zset", "1.5", "a", "-inf", "b", "inf", "c", "0.1", "d", "3", "e", "-0", "f",
            "1e20", "g",
        ],
    );
    let sm: Vec<String> = big
        .iter()
        .enumerate()
        .flat_map(|(i, m)| [format!("{i}.25"), m.clone()])
        .collect();
    push(c, "ZADD", "bigzset", &sm);
    ok(c, &["ZADD", "bigzset", "inf", "top", "-inf", "bottom"]);

    // A stream: deleted entries (in the middle and at the end), a group with
    // pending entries of two consumers and a consumer with none, a second group.
    for i in 1..=6 {
        ok(c, &["XADD", "st", &format!("{i}-1"), "f", &i.to_string()]);
    }
    ok(c, &["XADD", "st", "7-1", "other", "fields", "and", "more"]);
    ok(c, &["XGROUP", "CREATE", "st", "g1", "0"]);
    ok(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "st",
            ">",
        ],
    );
    ok(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "bob",
            "COUNT",
            "1",
            "STREAMS",
            "st",
            ">",
        ],
    );
    ok(c, &["XGROUP", "CREATECONSUMER", "st", "g1", "carol"]);
    ok(c, &["XGROUP", "CREATE", "st", "g2", "$"]);
    ok(c, &["XDEL", "st", "5-1", "7-1"]);
    ok(c, &["PEXPIRE", "st", "60000000"]);
    // A big stream (several nodes).
    for i in 1..=250 {
        ok(
            c,
            &["XADD", "bigst", &format!("{i}-0"), "n", &i.to_string()],
        );
    }
    // Empty streams: every entry deleted, with a group; created by MKSTREAM.
    ok(c, &["XADD", "es", "5-5", "a", "1"]);
    ok(c, &["XDEL", "es", "5-5"]);
    ok(c, &["XGROUP", "CREATE", "es", "eg", "0"]);
    ok(c, &["XGROUP", "CREATE", "mk", "g", "$", "MKSTREAM"]);

    let lib =
        "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)";
    ok(c, &["FUNCTION", "LOAD", lib]);
    ok(c, &["SELECT", "3"]);
    ok(c, &["SET", "db3", "three"]);
    ok(c, &["RPUSH", "db3list", "x"]);
    ok(c, &["SELECT", "0"]);
}

/// The base is commands, batched as Redis batches them.
fn check_command_base(dir: &Path, name: &str) {
    assert!(name.ends_with(".base.aof"), "{name}");
    let cmds = commands(&aof_dir(dir).join(name));
    let named = |n: &[u8], key: &[u8]| {
        cmds.iter()
            .filter(|c| c[0].eq_ignore_ascii_case(n) && c.get(1).map(|k| &k[..]) == Some(key))
            .map(|c| c.len())
            .collect::<Vec<_>>()
    };
    assert_eq!(named(b"RPUSH", b"biglist"), [66, 66, 24]);
    assert_eq!(named(b"SADD", b"bigset"), [66, 66, 24]);
    assert_eq!(named(b"HMSET", b"bighash"), [130, 130, 46]);
    assert_eq!(named(b"ZADD", b"bigzset"), [130, 130, 50]);
    assert_eq!(named(b"XADD", b"bigst").len(), 250);
    assert!(cmds.iter().any(|c| c[0] == b"FUNCTION"));
    assert!(cmds.iter().any(|c| c[0] == b"XCLAIM"));
    assert!(cmds.iter().any(|c| c[0] == b"SELECT" && c[1] == b"3"));
}

#[test]
fn rewrite_without_preamble_writes_commands_that_both_servers_load() {
    let dir = tempfile::tempdir().unwrap();
    let p = start(shoal(), dir.path(), &AOF_NO_PREAMBLE);
    let mut c = p.client();
    assert_eq!(base_name(dir.path()), "appendonly.aof.1.base.aof");
    fill_every_type(&mut c);
    rewrite(&mut c);
    let name = base_name(dir.path());
    assert_eq!(name, "appendonly.aof.2.base.aof");
    check_command_base(dir.path(), &name);
    assert!(
        !aof_dir(dir.path())
            .join("appendonly.aof.1.base.aof")
            .exists(),
        "old base kept"
    );
    let d = digest(&mut c);
    let xs = streams(&mut c);
    p.stop();

    let (p, mut c) = start_holding(shoal(), dir.path(), &d, &xs);
    assert_eq!(ok(&mut c, &["FCALL", "myfunc", "0"]), Frame::Integer(1));
    p.stop();

    let Some(redis) = redis() else { return };
    let copy = copy_of(dir.path());
    let (r, mut rc) = start_holding(redis, copy.path(), &d, &xs);
    assert_eq!(ok(&mut rc, &["FCALL", "myfunc", "0"]), Frame::Integer(1));
    r.stop();
}

/// At start-up with no AOF directory the base is `.1.base.aof`, empty as Redis
/// 7.0.15 writes it (with `appendonly yes` a dump.rdb is not loaded, so the
/// dataset is empty); the writes then go to the incr file.
#[test]
fn startup_base_without_preamble_is_a_command_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = start(shoal(), dir.path(), &AOF_NO_PREAMBLE);
    let name = base_name(dir.path());
    assert_eq!(name, "appendonly.aof.1.base.aof");
    assert_eq!(commands(&aof_dir(dir.path()).join(&name)).len(), 0);
    let mut c = p.client();
    fill_every_type(&mut c);
    let d = digest(&mut c);
    p.stop();
    let p = start(shoal(), dir.path(), &AOF_NO_PREAMBLE);
    let mut c = p.client();
    assert_eq!(digest(&mut c), d, "{}", p.log_text());
    // Not compared with the streams before the restart: the incr file holds
    // XREADGROUP as Redis propagates it (XCLAIM ... LASTID), which does not
    // carry the group's entries-read; Redis reloads the same (below).
    let xs = streams(&mut c);
    p.stop();

    let Some(redis) = redis() else { return };
    let copy = copy_of(dir.path());
    start_holding(redis, copy.path(), &d, &xs).0.stop();
}

#[test]
fn shoal_loads_the_command_base_redis_writes() {
    let Some(redis) = redis() else { return };
    let dir = tempfile::tempdir().unwrap();
    let r = start(redis, dir.path(), &AOF_NO_PREAMBLE);
    let mut rc = r.client();
    fill_every_type(&mut rc);
    rewrite(&mut rc);
    let name = base_name(dir.path());
    check_command_base(dir.path(), &name);
    let d = digest(&mut rc);
    let xs = streams(&mut rc);
    r.stop();

    let (p, mut c) = start_holding(shoal(), dir.path(), &d, &xs);
    assert_eq!(ok(&mut c, &["FCALL", "myfunc", "0"]), Frame::Integer(1));
    // And Shoal's own rewrite of what it loaded, read back by Redis.
    rewrite(&mut c);
    assert_eq!(digest(&mut c), d);
    assert_eq!(streams(&mut c), xs);
    p.stop();
    let copy = copy_of(dir.path());
    start_holding(redis, copy.path(), &d, &xs).0.stop();
}
