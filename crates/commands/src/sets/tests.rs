//! Tests of the set commands: `dirty` counts and propagation as Redis 7.0.15 showed
//! them (INFO and its AOF), keyspace events, random pops and their propagation,
//! encodings, and a no-panic sweep over hostile arguments. Replies are checked
//! against the real server by `tests/corpus/sets.txt`.

use crate::ctx::Propagate;
use crate::strings::golden;
use crate::testing::{bulk, int, TestDb};
use bytes::Bytes;
use shoal_keyspace::class;
use shoal_resp::{Frame, Proto};
use std::collections::BTreeSet;

/// `(command, reply, dirty, propagated)` as Redis 7.0.15 showed them, in sequence.
const PROPAGATION: &[(&str, &str, u64, &str)] = &[
    ("SADD s 1 2 3", ":3", 3, "SADD s 1 2 3"),
    ("SADD s 3 4", ":1", 1, "SADD s 3 4"),
    ("SADD s 4", ":0", 0, ""),
    ("SREM s 1 9", ":1", 1, "SREM s 1 9"),
    ("SREM s 9", ":0", 0, ""),
    ("SREM nokey a", ":0", 0, ""),
    ("SMOVE s d 2", ":1", 2, "SMOVE s d 2"),
    ("SMOVE s d 9", ":0", 0, ""),
    ("SADD d 3", ":1", 1, "SADD d 3"),
    ("SMOVE s d 3", ":1", 1, "SMOVE s d 3"),
    ("SMOVE s s 4", ":1", 0, ""),
    ("SPOP s", "\"4\"", 1, "SREM s 4"),
    ("SADD p a", ":1", 1, "SADD p a"),
    ("SPOP p 5", "[\"a\"]", 1, "DEL p"),
    ("SPOP p 0", "[]", 0, ""),
    ("SADD p a b c", ":3", 3, "SADD p a b c"),
    ("SPOP p 0", "[]", 0, ""),
    ("SPOP nokey", "(nil)", 0, ""),
    ("SPOP nokey 3", "[]", 0, ""),
    ("SINTERSTORE x d d", ":2", 1, "SINTERSTORE x d d"),
    ("SINTERSTORE x nokey", ":0", 1, "SINTERSTORE x nokey"),
    ("SINTERSTORE x nokey", ":0", 0, ""),
    ("SUNIONSTORE x d", ":2", 1, "SUNIONSTORE x d"),
    ("SDIFFSTORE x d d", ":0", 1, "SDIFFSTORE x d d"),
    ("SUNIONSTORE x nokey", ":0", 0, ""),
    ("SADD q 7 8", ":2", 2, "SADD q 7 8"),
    ("SPOP q 2", "[\"7\", \"8\"]", 2, "DEL q"),
    ("SREM p a b c", ":3", 3, "SREM p a b c"),
];

#[test]
fn propagation_and_dirty_like_redis() {
    golden::check_propagation(&mut TestDb::default(), PROPAGATION);
}

fn members(f: Frame) -> Vec<Vec<u8>> {
    match f {
        Frame::Array(v) | Frame::Set(v) => v
            .into_iter()
            .map(|e| match e {
                Frame::Bulk(b) => b.to_vec(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an aggregate: {other:?}"),
    }
}

fn encoding(t: &mut TestDb, key: &str) -> String {
    match t.cmd(&["OBJECT", "ENCODING", key]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => format!("{other:?}"),
    }
}

/// Each popped member is propagated as its own SREM, whichever strategy SPOP uses.
#[test]
fn spop_with_count_propagates_one_srem_per_member() {
    for (size, count) in [(10usize, 3usize), (10, 9), (600, 590), (600, 5)] {
        for strings in [false, true] {
            let mut t = TestDb::default();
            let all: Vec<String> = (0..size)
                .map(|i| {
                    if strings {
                        format!("m{i}")
                    } else {
                        i.to_string()
                    }
                })
                .collect();
            let mut args = vec!["SADD", "s"];
            args.extend(all.iter().map(String::as_str));
            t.cmd(&args);
            let n = count.to_string();
            let popped = members(t.cmd(&["SPOP", "s", &n]));
            assert_eq!(popped.len(), count);
            assert_eq!(t.last_dirty, count as u64);
            let Propagate::Rewritten(cmds) = std::mem::take(&mut t.last_propagate) else {
                panic!("SPOP with a count must be rewritten");
            };
            let mut from_cmds = Vec::new();
            for c in &cmds {
                assert_eq!(c.len(), 3);
                assert_eq!(&c[0][..], b"SREM");
                assert_eq!(&c[1][..], b"s");
                from_cmds.push(c[2].to_vec());
            }
            assert_eq!(from_cmds, popped, "propagated in reply order");
            let distinct: BTreeSet<_> = popped.iter().cloned().collect();
            assert_eq!(distinct.len(), count);
            let left: BTreeSet<_> = members(t.cmd(&["SMEMBERS", "s"])).into_iter().collect();
            assert_eq!(left.len(), size - count);
            assert!(left.is_disjoint(&distinct));
            let union: BTreeSet<Vec<u8>> = left.union(&distinct).cloned().collect();
            let want: BTreeSet<Vec<u8>> = all.iter().map(|s| s.clone().into_bytes()).collect();
            assert_eq!(union, want);
            // Integers that stay form an intset when most of the set was popped.
            let enc = encoding(&mut t, "s");
            let kept_in_new_set = (size - count) * 5 <= count;
            let want_enc = if strings || !kept_in_new_set && size > 512 {
                "hashtable"
            } else {
                "intset"
            };
            assert_eq!(enc, want_enc, "size {size} count {count} strings {strings}");
        }
    }
}

#[test]
fn events_as_redis_names_them() {
    let mut t = TestDb::default();
    t.ev.want.classes = class::ALL;
    let ev = |t: &TestDb| -> Vec<String> {
        t.last_notices
            .iter()
            .map(|n| format!("{} {}", n.event, String::from_utf8_lossy(&n.key)))
            .collect()
    };
    t.cmd(&["SADD", "a", "1", "2"]);
    assert_eq!(ev(&t), ["sadd a"]);
    t.cmd(&["SADD", "a", "1"]);
    assert!(ev(&t).is_empty());
    t.cmd(&["SREM", "a", "1", "9"]);
    assert_eq!(ev(&t), ["srem a"]);
    t.cmd(&["SMOVE", "a", "b", "2"]);
    assert_eq!(ev(&t), ["srem a", "del a", "sadd b"]);
    t.cmd(&["SADD", "a", "2", "3"]);
    t.cmd(&["SMOVE", "a", "b", "2"]);
    assert_eq!(ev(&t), ["srem a"]);
    t.cmd(&["SMOVE", "a", "a", "3"]);
    assert!(ev(&t).is_empty());
    t.cmd(&["SPOP", "a"]);
    assert_eq!(ev(&t), ["spop a", "del a"]);
    t.cmd(&["SADD", "a", "1", "2", "3"]);
    t.cmd(&["SPOP", "a", "1"]);
    assert_eq!(ev(&t), ["spop a"]);
    t.cmd(&["SPOP", "a", "0"]);
    assert!(ev(&t).is_empty());
    t.cmd(&["SPOP", "a", "5"]);
    assert_eq!(ev(&t), ["spop a", "del a"]);
    t.cmd(&["SADD", "a", "1", "2", "3"]);
    t.cmd(&["SINTERSTORE", "d", "a", "b"]);
    assert_eq!(ev(&t), ["sinterstore d"]);
    t.cmd(&["SUNIONSTORE", "d", "a", "b"]);
    assert_eq!(ev(&t), ["sunionstore d"]);
    t.cmd(&["SDIFFSTORE", "d", "a", "b"]);
    assert_eq!(ev(&t), ["sdiffstore d"]);
    t.cmd(&["SDIFFSTORE", "d", "a", "a"]);
    assert_eq!(ev(&t), ["del d"]);
    t.cmd(&["SINTERSTORE", "d", "a", "nokey"]);
    assert!(ev(&t).is_empty());
    t.cmd(&["SREM", "a", "1", "2", "3"]);
    assert_eq!(ev(&t), ["srem a", "del a"]);
}

#[test]
fn resp3_reply_types() {
    let mut t = TestDb {
        proto: Proto::Resp3,
        ..TestDb::default()
    };
    t.cmd(&["SADD", "s", "3", "1", "2"]);
    assert_eq!(
        t.cmd(&["SMEMBERS", "s"]),
        Frame::Set(vec![bulk("1"), bulk("2"), bulk("3")])
    );
    assert_eq!(t.cmd(&["SMEMBERS", "nokey"]), Frame::Set(vec![]));
    assert_eq!(
        t.cmd(&["SRANDMEMBER", "s", "5"]),
        Frame::Array(vec![bulk("1"), bulk("2"), bulk("3")])
    );
    assert_eq!(t.cmd(&["SRANDMEMBER", "nokey", "5"]), Frame::Array(vec![]));
    assert_eq!(t.cmd(&["SRANDMEMBER", "nokey"]), Frame::Null);
    assert_eq!(t.cmd(&["SPOP", "nokey"]), Frame::Null);
    assert_eq!(t.cmd(&["SPOP", "nokey", "1"]), Frame::Set(vec![]));
    assert_eq!(t.cmd(&["SINTERCARD", "1", "s"]), int(3));
    assert_eq!(
        t.cmd(&["SPOP", "s", "3"]),
        Frame::Set(vec![bulk("1"), bulk("2"), bulk("3")])
    );
}

#[test]
fn encodings_follow_the_threshold() {
    let mut t = TestDb::default();
    t.settings.set_max_intset_entries = 2;
    t.cmd(&["SADD", "s", "1", "2"]);
    assert_eq!(encoding(&mut t, "s"), "intset");
    t.cmd(&["SADD", "s", "3"]);
    assert_eq!(encoding(&mut t, "s"), "hashtable");
    t.settings.set_max_intset_entries = 512;
    t.cmd(&["SINTERSTORE", "d", "s"]);
    assert_eq!(encoding(&mut t, "d"), "intset");
    assert_eq!(
        t.cmd(&["SUNION", "s"]),
        Frame::Array(vec![bulk("1"), bulk("2"), bulk("3")])
    );
    t.settings.set_max_intset_entries = -5;
    t.cmd(&["SADD", "n", "1"]);
    assert_eq!(encoding(&mut t, "n"), "hashtable");
}

#[test]
fn srandmember_counts() {
    let mut t = TestDb::default();
    t.cmd(&[
        "SADD", "s", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
    ]);
    for n in [1usize, 2, 3, 4, 5, 8, 9] {
        let got = members(t.cmd(&["SRANDMEMBER", "s", &n.to_string()]));
        assert_eq!(got.len(), n);
        let distinct: BTreeSet<_> = got.into_iter().collect();
        assert_eq!(distinct.len(), n, "distinct members for count {n}");
    }
    let got = members(t.cmd(&["SRANDMEMBER", "s", "-50"]));
    assert_eq!(got.len(), 50);
    assert_eq!(t.cmd(&["SCARD", "s"]), int(10));
    assert_eq!(t.last_dirty, 0);
    // Every member shows up eventually.
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        if let Frame::Bulk(b) = t.cmd(&["SRANDMEMBER", "s"]) {
            seen.insert(b.to_vec());
        }
    }
    assert_eq!(seen.len(), 10);
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
        b"LIMIT",
        b"limit\x00",
        b"COUNT",
        b"MATCH",
        b"TYPE",
        b"*",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"-9223372036854775807",
        b"9223372036854775808",
        b"18446744073709551615",
        b"4294967297",
        b"s",
        b"t",
        b"h",
        b"str",
        b"nokey",
    ];
    let cmds = [
        "SADD",
        "SREM",
        "SISMEMBER",
        "SMISMEMBER",
        "SCARD",
        "SMEMBERS",
        "SMOVE",
        "SPOP",
        "SRANDMEMBER",
        "SINTER",
        "SINTERCARD",
        "SINTERSTORE",
        "SUNION",
        "SUNIONSTORE",
        "SDIFF",
        "SDIFFSTORE",
        "SSCAN",
        "SORT",
    ];
    let mut rng = rand::rngs::SmallRng::seed_from_u64(11);
    let mut t = TestDb::default();
    t.settings.set_max_intset_entries = 3;
    for _ in 0..20_000 {
        if rng.gen_range(0..20) == 0 {
            t.cmd(&["SADD", "s", "1", "2", "3", "-5"]);
            t.cmd(&["SADD", "h", "a", "1", "", "b"]);
            t.cmd(&["SADD", "t", "7"]);
            t.cmd(&["SET", "str", "v"]);
        }
        let name = cmds[rng.gen_range(0..cmds.len())];
        let mut argv: Vec<Bytes> = vec![Bytes::from(name)];
        for _ in 0..rng.gen_range(0..6) {
            argv.push(Bytes::from_static(pool[rng.gen_range(0..pool.len())]));
        }
        let raw = t.call_raw(&argv);
        assert!(!raw.is_empty(), "{argv:?} replied nothing");
    }
}
