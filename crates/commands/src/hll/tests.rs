//! Tests of the HyperLogLog commands: bytes and estimates captured from Redis
//! 7.0.15, promotion to dense, corrupted values, `dirty` counts, the events each
//! command reports, and a no-panic sweep over mangled values.

use super::format::{self, Hll};
use crate::ctx::Propagate;
use crate::testing::{bulk, err, int, ok, TestDb};
use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use shoal_keyspace::{class, Want};
use shoal_resp::Frame;

fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h = (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn get(t: &mut TestDb, key: &str) -> Vec<u8> {
    match t.cmd(&["GET", key]) {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("GET {key}: {other:?}"),
    }
}

fn set(t: &mut TestDb, key: &str, v: &[u8]) {
    assert_eq!(t.call(&[b"SET", key.as_bytes(), v]), ok());
}

/// PFADD of `e0`..`e{n-1}` in calls of at most 10000 elements.
fn add_range(t: &mut TestDb, key: &str, n: usize) {
    let elems: Vec<String> = (0..n).map(|i| format!("e{i}")).collect();
    for chunk in elems.chunks(10_000) {
        let mut argv: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
        argv.extend(chunk.iter().map(|e| e.as_bytes()));
        t.call(&argv);
    }
}

/// `(elements, PFCOUNT, length of the string, FNV-1a of the string before the
/// PFCOUNT, encoding)` as Redis 7.0.15 gave them for PFADD of `e0`..`e{n-1}`.
const REDIS_ESTIMATES: &[(usize, i64, usize, u64, &str)] = &[
    (1, 1, 21, 0xfffb6faeff77f7cd, "sparse"),
    (2, 2, 24, 0x4f94c0275f897b7d, "sparse"),
    (3, 3, 27, 0x638d7413c56e0c58, "sparse"),
    (10, 10, 48, 0x4afcb65d27f7d346, "sparse"),
    (100, 100, 285, 0xb8de76dab4a4065e, "sparse"),
    (1000, 1008, 1906, 0x5935de0232806824, "sparse"),
    (5000, 4968, 12304, 0x805246753a1cdada, "dense"),
    (10000, 9973, 12304, 0x7378cbab5ab5c44b, "dense"),
    (50000, 49978, 12304, 0x0c8870be94c9ce2c, "dense"),
];

#[test]
fn bytes_and_estimates_match_redis() {
    for &(n, card, len, hash, enc) in REDIS_ESTIMATES {
        let mut t = TestDb::default();
        add_range(&mut t, "h", n);
        let v = get(&mut t, "h");
        assert_eq!((v.len(), fnv(&v)), (len, hash), "{n} elements");
        assert_eq!(
            t.cmd(&["PFDEBUG", "ENCODING", "h"]),
            Frame::Simple(enc.into())
        );
        assert_eq!(t.cmd(&["PFCOUNT", "h"]), int(card), "{n} elements");
    }
}

#[test]
fn small_sparse_value_and_decode() {
    let mut t = TestDb::default();
    assert_eq!(t.cmd(&["PFADD", "h", "a", "b", "c"]), int(1));
    assert_eq!(
        get(&mut t, "h"),
        b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ"
    );
    assert_eq!(
        t.cmd(&["PFDEBUG", "DECODE", "h"]),
        bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603")
    );
    assert_eq!(t.cmd(&["PFCOUNT", "h"]), int(3));
    // The count is cached in the header, little-endian, valid.
    assert_eq!(&get(&mut t, "h")[8..16], &[3, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(t.cmd(&["OBJECT", "ENCODING", "h"]), bulk("raw"));
}

#[test]
fn new_key_without_elements() {
    let mut t = TestDb::default();
    assert_eq!(t.cmd(&["PFADD", "h"]), int(1));
    assert_eq!(
        get(&mut t, "h"),
        b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff"
    );
    assert_eq!(t.cmd(&["PFADD", "h"]), int(0));
    assert_eq!(t.cmd(&["PFCOUNT", "h"]), int(0));
    assert_eq!(t.cmd(&["PFCOUNT", "nokey"]), int(0));
    assert_eq!(t.cmd(&["PFMERGE", "m"]), ok());
    assert_eq!(
        get(&mut t, "m"),
        b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff"
    );
}

#[test]
fn promotion_at_sparse_max_bytes() {
    let mut t = TestDb::default();
    t.settings.hll_sparse_max_bytes = 30;
    // Redis: lengths 21, 24, 27, 30, then dense.
    for (i, len) in [21, 24, 27, 30, 12304].into_iter().enumerate() {
        t.cmd(&["PFADD", "s", &format!("x{i}")]);
        assert_eq!(get(&mut t, "s").len(), len, "element {i}");
    }
    assert_eq!(t.cmd(&["PFCOUNT", "s"]), int(5));
}

#[test]
fn register_over_32_turns_dense() {
    let mut buf = format::new_sparse();
    let mut h = Hll::new(&mut buf);
    assert_eq!(h.raise(5, 32, 3000), Ok(true));
    assert!(h.is_sparse());
    assert_eq!(h.raise(6, 33, 3000), Ok(true));
    assert!(!h.is_sparse());
    let regs = h.registers();
    assert_eq!((regs[5], regs[6], regs[7]), (32, 33, 0));
    assert_eq!(buf.len(), format::DENSE_SIZE);
}

#[test]
fn sparse_edits_fuse_neighbours() {
    let mut buf = format::new_sparse();
    let mut h = Hll::new(&mut buf);
    for i in [10, 12, 11, 13] {
        h.raise(i, 3, 3000).unwrap();
    }
    // Four registers at 3 in a row become one VAL of length 4.
    assert_eq!(h.decode(), "z:10 v:3,4 Z:16370");
    h.raise(14, 3, 3000).unwrap();
    assert_eq!(h.decode(), "z:10 v:3,4 v:3,1 Z:16369");
    h.raise(11, 5, 3000).unwrap();
    // As Redis 7.0.15 gave it: the split run fuses with its right neighbour.
    assert_eq!(h.decode(), "z:10 v:3,1 v:5,1 v:3,3 Z:16369");
}

#[test]
fn last_register_of_a_dense_value() {
    let mut buf = format::new_sparse();
    let mut h = Hll::new(&mut buf);
    h.make_dense().unwrap();
    assert_eq!(h.raise(16383, 63, 0), Ok(true));
    assert_eq!(h.raise(16382, 1, 0), Ok(true));
    let regs = h.registers();
    assert_eq!((regs[16381], regs[16382], regs[16383]), (0, 1, 63));
    assert_eq!(buf[format::DENSE_SIZE - 1], 63 << 2);
}

#[test]
fn invalid_and_corrupted_values() {
    let mut t = TestDb::default();
    let not_hll = err("WRONGTYPE Key is not a valid HyperLogLog string value.");
    let corrupt = err("INVALIDOBJ Corrupted HLL object detected");
    set(&mut t, "s", b"foo");
    assert_eq!(t.cmd(&["PFADD", "s", "a"]), not_hll);
    assert_eq!(t.cmd(&["PFCOUNT", "s"]), not_hll);
    assert_eq!(t.cmd(&["PFCOUNT", "s", "x"]), not_hll);
    assert_eq!(t.cmd(&["PFMERGE", "d", "s"]), not_hll);
    assert_eq!(t.cmd(&["PFDEBUG", "GETREG", "s"]), not_hll);
    assert_eq!(t.cmd(&["EXISTS", "d"]), int(0));
    set(&mut t, "i", b"12345678901234567890");
    assert_eq!(t.cmd(&["PFCOUNT", "i"]), not_hll);
    // Dense must have the exact length; encodings beyond 1 are invalid.
    let mut dense = format::new_sparse();
    dense[4] = 0;
    set(&mut t, "d", &dense);
    assert_eq!(t.cmd(&["PFCOUNT", "d"]), not_hll);
    dense[4] = 2;
    set(&mut t, "d", &dense);
    assert_eq!(t.cmd(&["PFCOUNT", "d"]), not_hll);
    t.cmd(&["RPUSH", "l", "a"]);
    assert_eq!(
        t.cmd(&["PFADD", "l", "a"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );

    // One opcode too many: corrupt for every walk.
    t.cmd(&["PFADD", "h", "a", "b", "c"]);
    t.cmd(&["APPEND", "h", "\u{0}"]);
    assert_eq!(t.cmd(&["PFCOUNT", "h"]), corrupt);
    assert_eq!(t.cmd(&["PFCOUNT", "h", "x"]), corrupt);
    assert_eq!(t.cmd(&["PFMERGE", "m", "h"]), corrupt);
    assert_eq!(t.cmd(&["PFDEBUG", "TODENSE", "h"]), corrupt);
    assert_eq!(t.cmd(&["PFDEBUG", "GETREG", "h"]), corrupt);
    assert_eq!(
        t.cmd(&["PFDEBUG", "DECODE", "h"]),
        bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603 z:1")
    );
    // Registers before the garbage can still be set.
    assert_eq!(t.cmd(&["PFADD", "h", "x"]), int(1));
    // A header alone covers no register.
    set(&mut t, "e", &format::new_sparse()[..16]);
    assert_eq!(t.cmd(&["PFADD", "e", "x"]), corrupt);
    assert_eq!(t.cmd(&["PFDEBUG", "DECODE", "e"]), bulk(""));
}

#[test]
fn all_registers_saturated() {
    let mut t = TestDb::default();
    let mut v = format::new_sparse()[..16].to_vec();
    v[4] = 0;
    v.resize(format::DENSE_SIZE, 0xff);
    set(&mut t, "d", &v);
    // The cache (0, valid) answers for one key; the union recomputes and the
    // estimate overflows to 2^63, which Redis replies as a signed integer.
    assert_eq!(t.cmd(&["PFCOUNT", "d"]), int(0));
    assert_eq!(t.cmd(&["PFCOUNT", "d", "nokey"]), int(i64::MIN));
}

#[test]
fn pfdebug() {
    let mut t = TestDb::default();
    assert_eq!(
        t.cmd(&["PFDEBUG", "GETREG", "nokey"]),
        err("ERR The specified key does not exist")
    );
    t.cmd(&["PFADD", "h", "a"]);
    assert_eq!(
        t.cmd(&["PFDEBUG", "nope", "h"]),
        err("ERR Unknown PFDEBUG subcommand 'nope'")
    );
    assert_eq!(
        t.call(&[b"PFDEBUG", b"encoding\0x", b"h"]),
        Frame::Simple("sparse".into())
    );
    assert_eq!(t.cmd(&["PFDEBUG", "TODENSE", "h"]), int(1));
    assert_eq!(t.last_dirty, 1);
    assert_eq!(t.cmd(&["PFDEBUG", "TODENSE", "h"]), int(0));
    assert_eq!(t.last_dirty, 0);
    assert_eq!(
        t.cmd(&["PFDEBUG", "DECODE", "h"]),
        err("ERR HLL encoding is not sparse")
    );
    match t.cmd(&["PFDEBUG", "GETREG", "h"]) {
        Frame::Array(regs) => {
            assert_eq!(regs.len(), 16384);
            assert_eq!(regs.iter().filter(|r| **r != int(0)).count(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.cmd(&["PFCOUNT", "h"]), int(1));
    assert_eq!(t.cmd(&["PFSELFTEST"]), ok());
}

/// `(command, reply, dirty, propagated)` as Redis 7.0.15 showed them (INFO
/// `rdb_changes_since_last_save`), in sequence.
const PROPAGATION: &[(&str, &str, u64, &str)] = &[
    ("PFADD a", ":1", 1, "PFADD a"),
    ("PFADD a", ":0", 0, ""),
    ("PFADD a x y z", ":1", 3, "PFADD a x y z"),
    ("PFADD a x", ":0", 0, ""),
    ("PFADD b x y", ":1", 3, "PFADD b x y"),
    ("PFCOUNT a", ":3", 1, "PFCOUNT a"),
    ("PFCOUNT a", ":3", 0, ""),
    ("PFCOUNT a b", ":3", 0, ""),
    ("PFCOUNT nokey", ":0", 0, ""),
    ("PFMERGE c a b", "+OK", 1, "PFMERGE c a b"),
    ("PFMERGE c", "+OK", 1, "PFMERGE c"),
    ("PFCOUNT c", ":3", 1, "PFCOUNT c"),
    ("PFDEBUG GETREG c", "*16384", 1, "PFDEBUG GETREG c"),
    ("PFDEBUG GETREG c", "*16384", 0, ""),
    ("PFDEBUG TODENSE a", ":1", 1, "PFDEBUG TODENSE a"),
    ("PFADD a q w e r t", ":1", 5, "PFADD a q w e r t"),
    ("PFCOUNT a", ":8", 1, "PFCOUNT a"),
    ("PFSELFTEST", "+OK", 0, ""),
    ("PFADD new 1 2 3", ":1", 4, "PFADD new 1 2 3"),
];

#[test]
fn dirty_like_redis() {
    let mut t = TestDb::default();
    for &(line, reply, dirty, _) in PROPAGATION {
        let args: Vec<&str> = line.split(' ').collect();
        let got = t.cmd(&args);
        let shown = match &got {
            Frame::Integer(v) => format!(":{v}"),
            Frame::Simple(s) => format!("+{}", String::from_utf8_lossy(s)),
            Frame::Array(a) => format!("*{}", a.len()),
            other => format!("{other:?}"),
        };
        assert_eq!(shown, reply, "{line}");
        assert_eq!(t.last_dirty, dirty, "{line}");
        assert!(matches!(t.last_propagate, Propagate::AsIs), "{line}");
    }
}

/// Runs one command with every event recorded: `(reply, notices, touched keys)`.
fn call_with_events(t: &mut TestDb, args: &[&str]) -> (Vec<u8>, Vec<String>, Vec<String>) {
    let argv: Vec<Bytes> = args.iter().map(|a| Bytes::from(a.to_string())).collect();
    t.ev.want = Want {
        touched: true,
        classes: class::ALL,
    };
    let raw = t.call_raw(&argv);
    let notices = t
        .last_notices
        .iter()
        .map(|n| format!("{}:{}", n.event, String::from_utf8_lossy(&n.key)))
        .collect();
    let touched = t
        .last_touched
        .iter()
        .map(|(_, k)| String::from_utf8_lossy(k).into_owned())
        .collect();
    (raw.to_vec(), notices, touched)
}

#[test]
fn events_like_redis() {
    let mut t = TestDb::default();
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (&["PFADD", "a", "x"], &["pfadd:a"], &["a"]),
        (&["PFADD", "a", "x"], &[], &[]),
        // Refreshing the cache touches the key without an event.
        (&["PFCOUNT", "a"], &[], &["a"]),
        (&["PFCOUNT", "a"], &[], &[]),
        (&["PFCOUNT", "a", "b"], &[], &[]),
        // PFMERGE reports itself as a PFADD of its destination.
        (&["PFMERGE", "c", "a"], &["pfadd:c"], &["c"]),
        (&["PFMERGE", "c"], &["pfadd:c"], &["c"]),
        // PFDEBUG's conversions signal nothing.
        (&["PFDEBUG", "TODENSE", "a"], &[], &[]),
        (&["PFDEBUG", "GETREG", "c"], &[], &[]),
    ];
    for (args, notices, touched) in cases {
        let (_, n, tc) = call_with_events(&mut t, args);
        assert_eq!(n, *notices, "{args:?}");
        assert_eq!(tc, *touched, "{args:?}");
    }
}

#[test]
fn union_of_sparse_and_dense_matches_redis_rules() {
    let mut t = TestDb::default();
    add_range(&mut t, "big", 5000);
    t.cmd(&["PFADD", "small", "a", "b"]);
    // A dense source makes the destination dense.
    assert_eq!(t.cmd(&["PFMERGE", "m", "small", "big"]), ok());
    assert_eq!(
        t.cmd(&["PFDEBUG", "ENCODING", "m"]),
        Frame::Simple("dense".into())
    );
    assert_eq!(t.cmd(&["PFMERGE", "m2", "small"]), ok());
    assert_eq!(
        t.cmd(&["PFDEBUG", "ENCODING", "m2"]),
        Frame::Simple("sparse".into())
    );
    assert_eq!(get(&mut t, "m2")[16..], get(&mut t, "small")[16..]);
    let union = t.cmd(&["PFCOUNT", "small", "big"]);
    assert_eq!(t.cmd(&["PFCOUNT", "m"]), union);
}

#[test]
fn selftest_passes() {
    assert_eq!(super::selftest(), Ok(()));
}

/// Mangled values (bytes overwritten, truncated, extended) never panic, and every
/// reply is well formed.
#[test]
fn mangled_values_never_panic() {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut t = TestDb::default();
    for round in 0..300 {
        if round % 20 == 0 {
            t.cmd(&["DEL", "h"]);
            let n = rng.gen_range(0..3000);
            add_range(&mut t, "h", n);
        }
        let mut v = get(&mut t, "h");
        match rng.gen_range(0..3) {
            0 => {
                let i = rng.gen_range(16..v.len().max(17));
                if i < v.len() {
                    v[i] = rng.gen();
                }
            }
            1 => v.truncate(rng.gen_range(16..=v.len())),
            _ => v.extend((0..rng.gen_range(1..4)).map(|_| rng.gen::<u8>())),
        }
        set(&mut t, "h", &v);
        let e = format!("{}", rng.gen::<u32>());
        for args in [
            vec!["PFADD", "h", &e, "a", "b"],
            vec!["PFCOUNT", "h"],
            vec!["PFCOUNT", "h", "x"],
            vec!["PFMERGE", "m", "h"],
            vec!["PFDEBUG", "DECODE", "h"],
            vec!["PFDEBUG", "GETREG", "h"],
        ] {
            t.cmd(&args);
        }
    }
}
