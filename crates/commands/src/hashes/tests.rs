//! Tests of the hash commands: replies and `dirty` counts captured from Redis
//! 7.0.15, propagation, notifications, encodings at the thresholds, RESP3 shapes,
//! HRANDFIELD and HSCAN properties, and a no-panic sweep over hostile arguments.

use crate::strings::golden;
use crate::testing::{bulk, err, int, TestDb};
use crate::Propagate;
use bytes::Bytes;
use shoal_keyspace::class;
use shoal_resp::{Frame, Proto};
use std::collections::BTreeMap;

const CORPUS: &str = r#"
HSET h a 1 b 2 => :2
HSET h a 1 c 3 => :1
HMSET h a 1 => +OK
HSET h a => -ERR wrong number of arguments for 'hset' command
HSET h a 1 b => -ERR wrong number of arguments for 'hset' command
HMSET h a 1 b => -ERR wrong number of arguments for 'hmset' command
HGETALL h => ["a", "1", "b", "2", "c", "3"]
HKEYS h => ["a", "b", "c"]
HVALS h => ["1", "2", "3"]
HLEN h => :3
HLEN nokey => :0
HGET h a => "1"
HGET h zz => (nil)
HGET nokey a => (nil)
HMGET h a zz c => ["1", (nil), "3"]
HMGET nokey a b => [(nil), (nil)]
HEXISTS h a => :1
HEXISTS h zz => :0
HEXISTS nokey a => :0
HSTRLEN h a => :1
HSTRLEN h zz => :0
HSTRLEN nokey a => :0
HSETNX h a 2 => :0
HSETNX h z 2 => :1
HGETALL h => ["a", "1", "b", "2", "c", "3", "z", "2"]
HDEL h nope => :0
HDEL h a b nope => :2
HGETALL h => ["c", "3", "z", "2"]
HSET h a 5 => :1
HKEYS h => ["c", "z", "a"]
HINCRBY h c 5 => :8
HINCRBYFLOAT h c 0.5 => "8.5"
HINCRBY h c 1 => -ERR hash value is not an integer
HINCRBY h new -7 => :-7
HINCRBY h new abc => -ERR value is not an integer or out of range
HSET h s abc big 9223372036854775807 neg -9223372036854775808 => :3
HINCRBY h s 1 => -ERR hash value is not an integer
HINCRBYFLOAT h s 1 => -ERR hash value is not a float
HINCRBY h big 1 => -ERR increment or decrement would overflow
HINCRBY h neg -1 => -ERR increment or decrement would overflow
HINCRBY h big 0 => :9223372036854775807
HINCRBY h neg 0 => :-9223372036854775808
HINCRBYFLOAT h big 1 => "9223372036854775808"
HINCRBYFLOAT h c inf => -ERR value is NaN or Infinity
HINCRBYFLOAT h c -inf => -ERR value is NaN or Infinity
HINCRBYFLOAT h c nan => -ERR value is not a valid float
HINCRBYFLOAT h c abc => -ERR value is not a valid float
HINCRBYFLOAT h c 1e5000 => -ERR value is not a valid float
HINCRBYFLOAT h f 1.5e3 => "1500"
HINCRBYFLOAT h f -0.25 => "1499.75"
HSET h inf inf => :1
HINCRBYFLOAT h inf 1 => -ERR increment would produce NaN or Infinity
HSET str x 1 => :1
DEL h str => :2
HDEL h a => :0
HSET h a 1 => :1
HDEL h a => :1
EXISTS h => :0
"#;

#[test]
fn redis_corpus() {
    golden::run(&mut TestDb::default(), CORPUS);
}

#[test]
fn wrong_type() {
    let mut t = TestDb::default();
    t.cmd(&["SET", "s", "x"]);
    let wt = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        &["HSET", "s", "a", "1"][..],
        &["HMSET", "s", "a", "1"],
        &["HSETNX", "s", "a", "1"],
        &["HGET", "s", "a"],
        &["HMGET", "s", "a"],
        &["HGETALL", "s"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HLEN", "s"],
        &["HSTRLEN", "s", "a"],
        &["HEXISTS", "s", "a"],
        &["HDEL", "s", "a"],
        &["HINCRBY", "s", "a", "1"],
        &["HINCRBYFLOAT", "s", "a", "1"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "0"],
        &["HSCAN", "s", "0"],
        &["HSCAN", "s", "0", "COUNT", "0"],
    ] {
        assert_eq!(t.cmd(cmd), wt, "{cmd:?}");
    }
    // Arguments parsed before the key win over the type.
    assert_eq!(
        t.cmd(&["HINCRBY", "s", "a", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(t.cmd(&["HSCAN", "s", "x"]), err("ERR invalid cursor"));
    assert_eq!(
        t.cmd(&["HRANDFIELD", "s", "1", "x"]),
        err("ERR syntax error")
    );
}

/// `(command, reply, dirty, propagated)` as Redis 7.0.15 showed them, in sequence.
const PROPAGATION: &[(&str, &str, u64, &str)] = &[
    ("HSET h a 1 b 2", ":2", 2, "HSET h a 1 b 2"),
    ("HSET h a 1 c 3", ":1", 2, "HSET h a 1 c 3"),
    ("HMSET h a 1", "+OK", 1, "HMSET h a 1"),
    ("HSETNX h a 2", ":0", 0, ""),
    ("HSETNX h z 2", ":1", 1, "HSETNX h z 2"),
    ("HDEL h nope", ":0", 0, ""),
    ("HDEL h a b nope", ":2", 2, "HDEL h a b nope"),
    ("HINCRBY h c 5", ":8", 1, "HINCRBY h c 5"),
    ("HINCRBYFLOAT h c 0.5", "\"8.5\"", 1, "HSET h c 8.5"),
    (
        "HINCRBYFLOAT h c abc",
        "-ERR value is not a valid float",
        0,
        "",
    ),
    ("HDEL h c z", ":2", 2, "HDEL h c z"),
];

#[test]
fn propagation_and_dirty_like_redis() {
    golden::check_propagation(&mut TestDb::default(), PROPAGATION);
}

#[test]
fn incrbyfloat_propagates_the_result() {
    let mut t = TestDb::default();
    t.cmd(&["HINCRBYFLOAT", "h", "f", "1.1"]);
    match &t.last_propagate {
        Propagate::Rewritten(cmds) => {
            let want: Vec<Bytes> = ["HSET", "h", "f", "1.1"]
                .iter()
                .map(|s| Bytes::from(s.as_bytes().to_vec()))
                .collect();
            assert_eq!(cmds, &vec![want]);
        }
        other => panic!("{other:?}"),
    }
}

fn events(t: &TestDb) -> Vec<(u32, &'static str)> {
    t.last_notices.iter().map(|n| (n.class, n.event)).collect()
}

#[test]
fn notifications() {
    let mut t = TestDb::default();
    t.ev.want.classes = class::ALL;
    t.cmd(&["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(events(&t), vec![(class::HASH, "hset")]);
    t.cmd(&["HSET", "h", "a", "1"]);
    assert_eq!(events(&t), vec![(class::HASH, "hset")]);
    t.cmd(&["HSETNX", "h", "a", "1"]);
    assert_eq!(events(&t), vec![]);
    t.cmd(&["HSETNX", "h", "c", "1"]);
    assert_eq!(events(&t), vec![(class::HASH, "hset")]);
    t.cmd(&["HINCRBY", "h", "c", "1"]);
    assert_eq!(events(&t), vec![(class::HASH, "hincrby")]);
    t.cmd(&["HINCRBYFLOAT", "h", "c", "1"]);
    assert_eq!(events(&t), vec![(class::HASH, "hincrbyfloat")]);
    t.cmd(&["HINCRBY", "h", "c", "x"]);
    assert_eq!(events(&t), vec![]);
    t.cmd(&["HDEL", "h", "zz"]);
    assert_eq!(events(&t), vec![]);
    t.cmd(&["HDEL", "h", "a"]);
    assert_eq!(events(&t), vec![(class::HASH, "hdel")]);
    t.cmd(&["HDEL", "h", "b", "c", "zz"]);
    assert_eq!(
        events(&t),
        vec![(class::HASH, "hdel"), (class::GENERIC, "del")]
    );
    assert_eq!(t.cmd(&["EXISTS", "h"]), int(0));
}

fn encoding(t: &mut TestDb, key: &str) -> Frame {
    t.cmd(&["OBJECT", "ENCODING", key])
}

#[test]
fn encodings_at_the_thresholds() {
    let mut t = TestDb::default();
    t.settings.hash_max_listpack_entries = 4;
    t.settings.hash_max_listpack_value = 8;
    t.cmd(&["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"]);
    assert_eq!(encoding(&mut t, "h"), bulk("listpack"));
    t.cmd(&["HSET", "h", "a", "12345678"]);
    assert_eq!(encoding(&mut t, "h"), bulk("listpack"));
    t.cmd(&["HSET", "h", "e", "5"]);
    assert_eq!(encoding(&mut t, "h"), bulk("hashtable"));
    t.cmd(&["HDEL", "h", "a", "b", "c"]);
    assert_eq!(encoding(&mut t, "h"), bulk("hashtable"));

    // A long value converts even when it replaces an existing one.
    t.cmd(&["HSET", "v", "a", "1"]);
    t.cmd(&["HSET", "v", "a", "1", "a", "123456789"]);
    assert_eq!(encoding(&mut t, "v"), bulk("hashtable"));
    // HSETNX of an existing field changes nothing.
    t.cmd(&["HSET", "n", "a", "1"]);
    t.cmd(&["HSETNX", "n", "a", "123456789"]);
    assert_eq!(encoding(&mut t, "n"), bulk("listpack"));
    t.cmd(&["HSETNX", "n", "b", "123456789"]);
    assert_eq!(encoding(&mut t, "n"), bulk("hashtable"));
    // HINCRBY with a long field name.
    t.cmd(&["HSET", "i", "a", "1"]);
    t.cmd(&["HINCRBY", "i", "longfieldname", "1"]);
    assert_eq!(encoding(&mut t, "i"), bulk("hashtable"));
    t.cmd(&["HSET", "j", "a", "1"]);
    t.cmd(&["HINCRBYFLOAT", "j", "a", "0.000001"]);
    assert_eq!(encoding(&mut t, "j"), bulk("listpack"));
    t.cmd(&["HINCRBYFLOAT", "j", "a", "0.0000001"]);
    assert_eq!(encoding(&mut t, "j"), bulk("hashtable"));

    // Limits lowered under an existing hash: its next write converts it, even an
    // update of an existing field.
    t.cmd(&["HSET", "u", "a", "1", "b", "2", "c", "3"]);
    t.settings.hash_max_listpack_entries = 2;
    assert_eq!(encoding(&mut t, "u"), bulk("listpack"));
    t.cmd(&["HSET", "u", "a", "2"]);
    assert_eq!(encoding(&mut t, "u"), bulk("hashtable"));

    t.settings.hash_max_listpack_entries = 0;
    t.cmd(&["HSET", "z", "a", "1"]);
    assert_eq!(encoding(&mut t, "z"), bulk("hashtable"));
    t.settings.hash_max_listpack_entries = 4;
    t.settings.hash_max_listpack_value = 0;
    t.cmd(&["HSET", "e", "", ""]);
    assert_eq!(encoding(&mut t, "e"), bulk("listpack"));
    t.cmd(&["HSET", "e", "", "x"]);
    assert_eq!(encoding(&mut t, "e"), bulk("hashtable"));
}

fn flat_pairs(f: &Frame) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let Frame::Array(items) = f else {
        panic!("{f:?}")
    };
    items
        .chunks(2)
        .map(|p| match p {
            [Frame::Bulk(k), Frame::Bulk(v)] => (k.to_vec(), v.to_vec()),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn resp3_shapes() {
    let mut t = TestDb {
        proto: Proto::Resp3,
        ..TestDb::default()
    };
    assert_eq!(t.cmd(&["HGET", "nokey", "a"]), Frame::Null);
    assert_eq!(t.cmd(&["HRANDFIELD", "nokey"]), Frame::Null);
    assert_eq!(t.cmd(&["HGETALL", "nokey"]), Frame::Map(vec![]));
    assert_eq!(t.cmd(&["HKEYS", "nokey"]), Frame::Array(vec![]));
    assert_eq!(t.cmd(&["HRANDFIELD", "nokey", "3"]), Frame::Array(vec![]));
    t.cmd(&["HSET", "h", "a", "1", "b", "x"]);
    assert_eq!(
        t.cmd(&["HGETALL", "h"]),
        Frame::Map(vec![(bulk("a"), bulk("1")), (bulk("b"), bulk("x"))])
    );
    assert_eq!(
        t.cmd(&["HRANDFIELD", "h", "5", "WITHVALUES"]),
        Frame::Array(vec![
            Frame::Array(vec![bulk("a"), bulk("1")]),
            Frame::Array(vec![bulk("b"), bulk("x")]),
        ])
    );
    let Frame::Array(v) = t.cmd(&["HRANDFIELD", "h", "-3", "WITHVALUES"]) else {
        panic!()
    };
    assert_eq!(v.len(), 3);
    assert!(v
        .iter()
        .all(|p| matches!(p, Frame::Array(x) if x.len() == 2)));
    let Frame::Array(v) = t.cmd(&["HRANDFIELD", "h", "1", "WITHVALUES"]) else {
        panic!()
    };
    assert!(matches!(&v[..], [Frame::Array(x)] if x.len() == 2));
    // RESP2: a flat array.
    let mut t = TestDb::default();
    t.cmd(&["HSET", "h", "a", "1", "b", "x"]);
    let pair = t.cmd(&["HRANDFIELD", "h", "1", "WITHVALUES"]);
    assert!(matches!(&pair, Frame::Array(v) if v.len() == 2), "{pair:?}");
    assert_eq!(flat_pairs(&pair).len(), 1);
    assert_eq!(t.cmd(&["HGET", "nokey", "a"]), Frame::Null);
    assert_eq!(t.cmd(&["HGETALL", "nokey"]), Frame::Array(vec![]));
}

#[test]
fn hrandfield_counts() {
    for big in [false, true] {
        let mut t = TestDb::default();
        if big {
            t.settings.hash_max_listpack_entries = 4;
        }
        for i in 0..20 {
            t.cmd(&["HSET", "h", &format!("f{i}"), &format!("v{i}")]);
        }
        let all = flat_pairs(&t.cmd(&["HGETALL", "h"]));
        assert_eq!(all.len(), 20);
        for n in [1i64, 2, 5, 7, 15, 19, 20, 21, 1000] {
            let got = t.cmd(&["HRANDFIELD", "h", &n.to_string(), "WITHVALUES"]);
            let Frame::Array(items) = &got else { panic!() };
            let want = n.min(20) as usize;
            assert_eq!(items.len(), 2 * want, "count {n}");
            let pairs = flat_pairs(&got);
            assert_eq!(pairs.len(), want, "distinct for count {n}");
            assert!(pairs.iter().all(|(k, v)| all.get(k) == Some(v)));
        }
        for n in [-1i64, -5, -100] {
            let Frame::Array(items) = t.cmd(&["HRANDFIELD", "h", &n.to_string()]) else {
                panic!()
            };
            assert_eq!(items.len(), n.unsigned_abs() as usize);
        }
        assert_eq!(t.cmd(&["HRANDFIELD", "h", "0"]), Frame::Array(vec![]));
        assert_eq!(
            t.cmd(&["HRANDFIELD", "h", "0", "WITHVALUES"]),
            Frame::Array(vec![])
        );
        let Frame::Bulk(f) = t.cmd(&["HRANDFIELD", "h"]) else {
            panic!()
        };
        assert!(all.contains_key(&f.to_vec()));
        // Both fields of a two-field hash turn up over a few draws.
        t.cmd(&["HSET", "two", "x", "1", "y", "2"]);
        let Frame::Array(items) = t.cmd(&["HRANDFIELD", "two", "-200"]) else {
            panic!()
        };
        assert!(items.contains(&bulk("x")) && items.contains(&bulk("y")));
    }
    let mut t = TestDb::default();
    t.cmd(&["HSET", "h", "a", "1"]);
    assert_eq!(
        t.cmd(&["HRANDFIELD", "h", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        t.cmd(&["HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"]),
        err("ERR value is out of range")
    );
    assert_eq!(
        t.cmd(&["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"]),
        err("ERR value is out of range")
    );
    assert_eq!(
        t.cmd(&["HRANDFIELD", "h", "9223372036854775807"]),
        Frame::Array(vec![bulk("a")])
    );
    // Too many repeats for one reply: refused rather than filling memory.
    assert_eq!(
        t.cmd(&["HRANDFIELD", "h", "-9223372036854775807"]),
        err("ERR value is out of range")
    );
    assert_eq!(
        t.cmd(&["HRANDFIELD", "nokey", "-9223372036854775807"]),
        Frame::Array(vec![])
    );
    assert_eq!(
        t.cmd(&["HRANDFIELD", "h", "1", "WITHVALUE"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.cmd(&["HRANDFIELD", "h", "1", "withvalues", "x"]),
        err("ERR syntax error")
    );
}

fn scan_all(t: &mut TestDb, key: &str, extra: &[&str]) -> (BTreeMap<Vec<u8>, Vec<u8>>, usize) {
    let mut cursor = "0".to_string();
    let mut seen = BTreeMap::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["HSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let Frame::Array(r) = t.cmd(&args) else {
            panic!()
        };
        calls += 1;
        let [Frame::Bulk(c), items] = &r[..] else {
            panic!("{r:?}")
        };
        seen.extend(flat_pairs(items));
        cursor = String::from_utf8(c.to_vec()).unwrap();
        if cursor == "0" || calls > 10_000 {
            return (seen, calls);
        }
    }
}

#[test]
fn hscan() {
    let mut t = TestDb::default();
    assert_eq!(
        t.cmd(&["HSCAN", "nokey", "0", "COUNT", "0"]),
        Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
    );
    t.cmd(&["HSET", "h", "b", "1", "a", "2", "c", "3"]);
    // A compact hash: everything, in order, cursor 0, whatever the cursor.
    let all = Frame::Array(vec![
        bulk("0"),
        Frame::Array(vec![
            bulk("b"),
            bulk("1"),
            bulk("a"),
            bulk("2"),
            bulk("c"),
            bulk("3"),
        ]),
    ]);
    assert_eq!(t.cmd(&["HSCAN", "h", "0"]), all);
    assert_eq!(t.cmd(&["HSCAN", "h", "17", "COUNT", "1"]), all);
    assert_eq!(
        t.cmd(&["HSCAN", "h", "0", "MATCH", "[ab]", "count", "1"]),
        Frame::Array(vec![
            bulk("0"),
            Frame::Array(vec![bulk("b"), bulk("1"), bulk("a"), bulk("2")])
        ])
    );
    assert_eq!(
        t.cmd(&["HSCAN", "h", "0", "COUNT", "0"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.cmd(&["HSCAN", "h", "0", "COUNT", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        t.cmd(&["HSCAN", "h", "0", "TYPE", "string"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.cmd(&["HSCAN", "h", "0", "MATCH"]),
        err("ERR syntax error")
    );
    assert_eq!(t.cmd(&["HSCAN", "h", "-"]), err("ERR invalid cursor"));

    // A table: a full iteration sees every pair, in several calls with COUNT 10.
    for i in 0..1000 {
        t.cmd(&["HSET", "big", &format!("f{i}"), &format!("{i}")]);
    }
    assert_eq!(encoding(&mut t, "big"), bulk("hashtable"));
    let (seen, calls) = scan_all(&mut t, "big", &[]);
    assert_eq!(seen.len(), 1000);
    assert!(calls > 10, "{calls}");
    let (seen, calls) = scan_all(&mut t, "big", &["COUNT", "100000"]);
    assert_eq!((seen.len(), calls), (1000, 1));
    let (seen, _) = scan_all(&mut t, "big", &["MATCH", "f1*"]);
    assert_eq!(seen.len(), 111);
    assert!(seen.iter().all(|(k, v)| k[1..] == v[..]));
    // Any cursor is valid.
    let Frame::Array(r) = t.cmd(&["HSCAN", "big", "18446744073709551615"]) else {
        panic!()
    };
    assert_eq!(r.len(), 2);
}

#[test]
fn sort_by_and_get_hash_fields() {
    let mut t = TestDb::default();
    t.cmd(&["RPUSH", "l", "1", "2", "3"]);
    t.cmd(&["HSET", "w_1", "w", "30", "n", "one"]);
    t.cmd(&["HSET", "w_2", "w", "10", "n", "two"]);
    t.cmd(&["HSET", "w_3", "w", "20"]);
    t.cmd(&["SET", "s_1", "x"]);
    assert_eq!(
        t.cmd(&["SORT", "l", "BY", "w_*->w", "GET", "#", "GET", "w_*->n"]),
        Frame::Array(vec![
            bulk("2"),
            bulk("two"),
            bulk("3"),
            Frame::Null,
            bulk("1"),
            bulk("one"),
        ])
    );
    // A field pattern on a string key, or a string pattern on a hash: missing.
    assert_eq!(
        t.cmd(&["SORT", "l", "GET", "s_*->w", "GET", "w_*"]),
        Frame::Array(vec![
            Frame::Null,
            Frame::Null,
            Frame::Null,
            Frame::Null,
            Frame::Null,
            Frame::Null,
        ])
    );
}

#[test]
fn copies_are_independent() {
    let mut t = TestDb::default();
    t.cmd(&["HSET", "h", "a", "1"]);
    assert_eq!(t.cmd(&["COPY", "h", "h2"]), int(1));
    t.cmd(&["HSET", "h2", "b", "2"]);
    assert_eq!(t.cmd(&["HLEN", "h"]), int(1));
    assert_eq!(t.cmd(&["HLEN", "h2"]), int(2));
    assert_eq!(t.cmd(&["RENAME", "h2", "h3"]), Frame::Simple("OK".into()));
    assert_eq!(t.cmd(&["HGET", "h3", "b"]), bulk("2"));
    assert_eq!(t.cmd(&["TYPE", "h3"]), Frame::Simple("hash".into()));
}

#[test]
fn hostile_arguments_do_not_panic() {
    let mut t = TestDb::default();
    t.settings.hash_max_listpack_entries = 3;
    let values = [
        "",
        "0",
        "-1",
        "1",
        "9223372036854775807",
        "-9223372036854775808",
        "inf",
        "-inf",
        "nan",
        "1e308",
        "-1e308",
        "abc",
        "\0",
        "WITHVALUES",
        "COUNT",
        "MATCH",
        "*",
    ];
    let cmds = [
        "HSET",
        "HSETNX",
        "HGET",
        "HMGET",
        "HDEL",
        "HINCRBY",
        "HINCRBYFLOAT",
        "HRANDFIELD",
        "HSCAN",
        "HSTRLEN",
        "HEXISTS",
    ];
    let mut n = 0usize;
    for c in cmds {
        for a in values {
            for b in values {
                for key in ["h", "g"] {
                    t.cmd(&["HSET", "g", "x", "1", "y", "2", "z", "3", "w", "4"]);
                    let _ = t.cmd(&[c, key, a, b]);
                    let _ = t.cmd(&[c, key, a]);
                    let _ = t.cmd(&[c, key, a, b, a]);
                    n += 1;
                }
            }
        }
    }
    assert!(n > 0);
}
