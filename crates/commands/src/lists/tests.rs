//! Tests of the list commands: a replay of replies captured from Redis 7.0.15, the
//! `dirty` counts and propagation Redis 7.0.15 showed (INFO and its AOF), RESP3
//! nulls, the reusable pop/move steps, node fill from the settings, and a no-panic
//! sweep over hostile arguments.

use super::golden_corpus::CORPUS;
use crate::strings::golden;
use crate::testing::{bulk, err, int, TestDb};
use shoal_keyspace::Value;
use shoal_resp::{Frame, Proto};

#[test]
fn redis_corpus() {
    golden::run(&mut TestDb::default(), CORPUS);
}

/// `(command, reply, dirty, propagated)` as Redis 7.0.15 showed them, in sequence.
const PROPAGATION: &[(&str, &str, u64, &str)] = &[
    ("RPUSH l a b c", ":3", 3, "RPUSH l a b c"),
    ("LPUSH l x y", ":5", 2, "LPUSH l x y"),
    ("LPUSHX nokey a", ":0", 0, ""),
    ("RPUSHX l z", ":6", 1, "RPUSHX l z"),
    ("LPOP l", "\"y\"", 1, "LPOP l"),
    ("RPOP l 2", "[\"z\", \"c\"]", 2, "RPOP l 2"),
    ("LPOP l 0", "[]", 0, ""),
    ("LPOP nokey 2", "(nil)", 0, ""),
    ("LSET l 0 v", "+OK", 1, "LSET l 0 v"),
    ("LINSERT l BEFORE v w", ":4", 1, "LINSERT l BEFORE v w"),
    ("LINSERT l BEFORE nothere w", ":-1", 0, ""),
    ("LREM l 0 nothere", ":0", 0, ""),
    ("LREM l 1 w", ":1", 1, "LREM l 1 w"),
    ("LTRIM l 0 -1", "+OK", 0, ""),
    ("LTRIM l 1 -1", "+OK", 1, "LTRIM l 1 -1"),
    ("LMOVE l d LEFT RIGHT", "\"a\"", 1, "LMOVE l d LEFT RIGHT"),
    ("RPOPLPUSH d d", "\"a\"", 1, "RPOPLPUSH d d"),
    ("RPOPLPUSH nokey d", "(nil)", 0, ""),
    (
        "LMPOP 2 nokey d RIGHT COUNT 5",
        "[\"d\", [\"a\"]]",
        1,
        "RPOP d 1",
    ),
    ("LMPOP 1 l LEFT", "[\"l\", [\"b\"]]", 1, "LPOP l 1"),
    ("LMPOP 1 nokey LEFT", "(nil)", 0, ""),
    ("RPUSH m a b c", ":3", 3, "RPUSH m a b c"),
    ("LTRIM m 5 10", "+OK", 3, "LTRIM m 5 10"),
    ("RPUSH m a b c", ":3", 3, "RPUSH m a b c"),
    ("LPOP m 5", "[\"a\", \"b\", \"c\"]", 3, "LPOP m 5"),
    ("SORT nokey STORE dst", ":0", 0, ""),
    ("RPUSH so 3 1 2", ":3", 3, "RPUSH so 3 1 2"),
    ("SORT so STORE dst", ":3", 3, "SORT so STORE dst"),
];

#[test]
fn propagation_and_dirty_like_redis() {
    golden::check_propagation(&mut TestDb::default(), PROPAGATION);
}

#[test]
fn resp3_nulls() {
    let mut t = TestDb {
        proto: Proto::Resp3,
        ..TestDb::default()
    };
    for cmd in [
        &["LPOP", "nokey"][..],
        &["LPOP", "nokey", "1"],
        &["LPOP", "nokey", "0"],
        &["LMPOP", "1", "nokey", "LEFT"],
        &["LPOS", "nokey", "a"],
        &["LINDEX", "nokey", "0"],
        &["RPOPLPUSH", "nokey", "x"],
        &["LMOVE", "nokey", "x", "LEFT", "LEFT"],
    ] {
        assert_eq!(t.cmd(cmd), Frame::Null, "{cmd:?}");
    }
    t.cmd(&["RPUSH", "l", "a"]);
    assert_eq!(t.cmd(&["LPOP", "l", "0"]), Frame::Array(vec![]));
    assert_eq!(
        t.cmd(&["LPOS", "nokey", "a", "COUNT", "0"]),
        Frame::Array(vec![])
    );
    // RESP2 keeps the null bulk and the null array apart.
    let mut t = TestDb::default();
    assert_eq!(t.cmd(&["LPOP", "nokey"]), Frame::Null);
    assert_eq!(t.cmd(&["LPOP", "nokey", "1"]), Frame::NullArray);
    assert_eq!(t.cmd(&["LMPOP", "1", "nokey", "LEFT"]), Frame::NullArray);
}

fn list_of(t: &TestDb, key: &str) -> Option<(usize, i64)> {
    let idx = t.ks.shard_of(key.as_bytes());
    let mut l = t.ks.lock_one(idx);
    let e = l.shard(idx)?.dbs[t.db].peek(key.as_bytes(), t.now_ms)?;
    match &e.value {
        Value::List(l) => Some((l.node_count(), l.fill())),
        _ => None,
    }
}

#[test]
fn new_lists_take_their_fill_from_the_settings() {
    let mut t = TestDb::default();
    t.settings.list_max_listpack_size = 2;
    t.cmd(&["RPUSH", "a", "1", "2", "3", "4", "5"]);
    assert_eq!(list_of(&t, "a"), Some((3, 2)));
    t.cmd(&["SORT", "a", "STORE", "b"]);
    assert_eq!(list_of(&t, "b"), Some((3, 2)));
    t.settings.list_max_listpack_size = -2;
    // Existing lists keep the fill they were created with, as in Redis.
    t.cmd(&["RPUSH", "a", "6"]);
    assert_eq!(list_of(&t, "a"), Some((3, 2)));
    t.cmd(&["RPUSH", "c", "1", "2", "3", "4", "5"]);
    assert_eq!(list_of(&t, "c"), Some((1, -2)));
    assert_eq!(t.cmd(&["OBJECT", "ENCODING", "c"]), bulk("quicklist"));
}

#[test]
fn encoding_is_quicklist_for_any_size() {
    // Redis 7.0 has no listpack-encoded lists: small, large, trimmed back down.
    let mut t = TestDb::default();
    t.cmd(&["RPUSH", "l", "a"]);
    assert_eq!(t.cmd(&["OBJECT", "ENCODING", "l"]), bulk("quicklist"));
    let big = "x".repeat(20_000);
    t.cmd(&["LPUSH", "l", &big]);
    assert_eq!(t.cmd(&["OBJECT", "ENCODING", "l"]), bulk("quicklist"));
    t.cmd(&["LTRIM", "l", "1", "1"]);
    assert_eq!(t.cmd(&["OBJECT", "ENCODING", "l"]), bulk("quicklist"));
    assert_eq!(t.cmd(&["TYPE", "l"]), Frame::Simple("list".into()));
}

#[test]
fn large_lists_across_many_nodes() {
    let mut t = TestDb::default();
    for chunk in 0..20 {
        let mut argv: Vec<String> = vec!["RPUSH".into(), "l".into()];
        argv.extend((0..500).map(|i| format!("e{}", chunk * 500 + i)));
        let v: Vec<&str> = argv.iter().map(String::as_str).collect();
        t.cmd(&v);
    }
    assert_eq!(t.cmd(&["LLEN", "l"]), int(10_000));
    assert_eq!(t.cmd(&["LINDEX", "l", "7777"]), bulk("e7777"));
    assert_eq!(t.cmd(&["LINDEX", "l", "-2223"]), bulk("e7777"));
    assert_eq!(t.cmd(&["LPOS", "l", "e9999"]), int(9999));
    assert_eq!(t.cmd(&["LPOS", "l", "e0", "RANK", "-1"]), int(0));
    assert_eq!(
        t.cmd(&["LINSERT", "l", "AFTER", "e5000", "new"]),
        int(10_001)
    );
    assert_eq!(t.cmd(&["LINDEX", "l", "5001"]), bulk("new"));
    assert_eq!(
        t.cmd(&["LSET", "l", "5001", &"y".repeat(10_000)]),
        crate::testing::ok()
    );
    assert_eq!(t.cmd(&["LREM", "l", "0", &"y".repeat(10_000)]), int(1));
    assert_eq!(
        t.cmd(&["LRANGE", "l", "4999", "5001"]),
        Frame::Array(vec![bulk("e4999"), bulk("e5000"), bulk("e5001")])
    );
    assert_eq!(t.cmd(&["LTRIM", "l", "100", "-101"]), crate::testing::ok());
    assert_eq!(t.cmd(&["LLEN", "l"]), int(9_800));
    assert_eq!(t.cmd(&["LINDEX", "l", "0"]), bulk("e100"));
    assert_eq!(t.cmd(&["LINDEX", "l", "-1"]), bulk("e9899"));
}

#[test]
fn pushes_and_pops_count_changes() {
    let mut t = TestDb::default();
    t.cmd(&["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(t.dirty, 3);
    t.cmd(&["LPUSH", "str", "x"]);
    t.cmd(&["SET", "s", "v"]);
    let before = t.dirty;
    assert_eq!(
        t.cmd(&["LPUSH", "s", "x"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(t.dirty, before);
}

/// Hostile arguments of every kind must produce a reply, never a panic.
#[test]
fn no_panic_on_hostile_arguments() {
    use rand::{Rng, SeedableRng};
    let pool: &[&[u8]] = &[
        b"",
        b"0",
        b"1",
        b"-1",
        b"2",
        b"-2",
        b"3",
        b"100",
        b"-100",
        b"abc",
        b"\x00",
        b"LEFT",
        b"RIGHT",
        b"left\x00",
        b"BEFORE",
        b"AFTER",
        b"RANK",
        b"COUNT",
        b"MAXLEN",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"9223372036854775808",
        b"4294967297",
        b"l",
        b"m",
        b"s",
        b"nokey",
    ];
    let cmds = [
        "LPUSH",
        "RPUSH",
        "LPUSHX",
        "RPUSHX",
        "LPOP",
        "RPOP",
        "LLEN",
        "LRANGE",
        "LINDEX",
        "LSET",
        "LINSERT",
        "LREM",
        "LTRIM",
        "LPOS",
        "LMOVE",
        "RPOPLPUSH",
        "LMPOP",
        "SORT",
    ];
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    let mut t = TestDb::default();
    t.settings.list_max_listpack_size = 2;
    for _ in 0..20_000 {
        if rng.gen_range(0..20) == 0 {
            t.cmd(&["RPUSH", "l", "1", "2", "abc", "", "1", "x"]);
            t.cmd(&["RPUSH", "m", "a"]);
            t.cmd(&["SET", "s", "v"]);
        }
        let name = cmds[rng.gen_range(0..cmds.len())];
        let n = rng.gen_range(0..7);
        let mut argv: Vec<&[u8]> = vec![name.as_bytes()];
        argv.extend((0..n).map(|_| pool[rng.gen_range(0..pool.len())]));
        let spec = crate::table::lookup(name.to_ascii_lowercase().as_bytes()).unwrap();
        if !spec.arity_ok(argv.len()) {
            continue;
        }
        t.call(&argv);
        // A list key never exists empty.
        for key in ["l", "m"] {
            if let Some(r) =
                t.ks.lock_one(t.ks.shard_of(key.as_bytes()))
                    .shard(t.ks.shard_of(key.as_bytes()))
            {
                if let Some(e) = r.dbs[0].peek(key.as_bytes(), t.now_ms) {
                    if let Value::List(l) = &e.value {
                        assert!(!l.is_empty(), "{argv:?} left {key} empty");
                        l.check().unwrap();
                    }
                }
            }
        }
    }
}
