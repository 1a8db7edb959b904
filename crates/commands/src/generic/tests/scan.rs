//! KEYS and SCAN.

use super::*;
use crate::generic::scan::parse_cursor;
use crate::testing::{err, TestDb};
use std::collections::HashSet;

/// Runs SCAN to completion; returns every key returned (with repeats) and the
/// number of calls.
fn full_scan(t: &mut TestDb, extra: &[&str]) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut all = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let r = t.cmd(&args);
        calls += 1;
        let Frame::Array(parts) = r else {
            panic!("bad reply {r:?}")
        };
        let Frame::Bulk(c) = &parts[0] else {
            panic!("bad cursor")
        };
        all.extend(sorted_strings(&parts[1]));
        cursor = String::from_utf8(c.to_vec()).unwrap();
        if cursor == "0" {
            return (all, calls);
        }
        assert!(calls < 100_000, "scan does not terminate");
    }
}

#[test]
fn cursor_parsing_follows_strtoul() {
    assert_eq!(parse_cursor(b"0"), Some(0));
    assert_eq!(parse_cursor(b""), Some(0));
    assert_eq!(parse_cursor(b"007"), Some(7));
    assert_eq!(parse_cursor(b"+5"), Some(5));
    assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
    assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
    assert_eq!(parse_cursor(b"18446744073709551616"), None);
    assert_eq!(parse_cursor(b"-18446744073709551615"), Some(1));
    assert_eq!(parse_cursor(b"5\0junk"), Some(5));
    for bad in [
        &b" 1"[..],
        b"1 ",
        b"abc",
        b"1.5",
        b"0x10",
        b"-",
        b"+",
        b"\t0",
    ] {
        assert_eq!(parse_cursor(bad), None, "{bad:?}");
    }
}

#[test]
fn scan_errors() {
    let mut t = TestDb::default();
    let inv = err("ERR invalid cursor");
    assert_eq!(t.cmd(&["SCAN", "abc"]), inv);
    assert_eq!(t.cmd(&["SCAN", "abc", "foo"]), inv);
    assert_eq!(t.cmd(&["SCAN", "1.5"]), inv);
    let syn = err("ERR syntax error");
    assert_eq!(t.cmd(&["SCAN", "0", "COUNT", "0"]), syn);
    assert_eq!(t.cmd(&["SCAN", "0", "COUNT", "-1"]), syn);
    assert_eq!(t.cmd(&["SCAN", "0", "MATCH"]), syn);
    assert_eq!(t.cmd(&["SCAN", "0", "TYPE"]), syn);
    assert_eq!(t.cmd(&["SCAN", "0", "foo", "bar"]), syn);
    assert_eq!(
        t.cmd(&["SCAN", "0", "COUNT", "abc"]),
        err("ERR value is not an integer or out of range")
    );
}

#[test]
fn scan_of_an_empty_db_ends_at_once() {
    let mut t = TestDb::default();
    assert_eq!(
        t.cmd(&["SCAN", "0"]),
        arr(&[crate::testing::bulk("0"), arr(&[])])
    );
    // Any cursor is accepted.
    assert_eq!(
        t.cmd(&["SCAN", "18446744073709551615"]),
        arr(&[crate::testing::bulk("0"), arr(&[])])
    );
}

#[test]
fn scan_returns_every_key_with_any_count() {
    let mut t = TestDb::default();
    let n = 1000;
    for i in 0..n {
        put(&mut t, 0, &format!("key:{i}"), "v");
    }
    let want: HashSet<String> = (0..n).map(|i| format!("key:{i}")).collect();
    for count in [1, 2, 3, 7, 10, 33, 100] {
        let c = count.to_string();
        let (got, calls) = full_scan(&mut t, &["COUNT", &c]);
        let set: HashSet<String> = got.iter().cloned().collect();
        assert_eq!(set, want, "COUNT {count}");
        // No repeats without resizes in between.
        assert_eq!(got.len(), n, "COUNT {count}");
        assert!(calls > 1, "COUNT {count}");
    }
}

#[test]
fn scan_works_with_any_shard_count() {
    for shards in [1, 2, 64] {
        let mut t = TestDb {
            ks: shoal_keyspace::Keyspace::new(16, shards),
            ..TestDb::default()
        };
        for i in 0..300 {
            put(&mut t, 0, &format!("k{i}"), "v");
        }
        for count in ["1", "10", "1000"] {
            let (got, _) = full_scan(&mut t, &["COUNT", count]);
            let set: HashSet<String> = got.into_iter().collect();
            assert_eq!(set.len(), 300, "{shards} shards, COUNT {count}");
        }
    }
}

#[test]
fn scan_guarantee_holds_while_keys_come_and_go() {
    let mut t = TestDb::default();
    for i in 0..500 {
        put(&mut t, 0, &format!("stay:{i}"), "v");
    }
    let mut cursor = "0".to_string();
    let mut seen = HashSet::new();
    let mut step = 0;
    loop {
        let r = t.cmd(&["SCAN", &cursor, "COUNT", "5"]);
        let Frame::Array(parts) = r else { panic!() };
        let Frame::Bulk(c) = &parts[0] else { panic!() };
        seen.extend(sorted_strings(&parts[1]));
        // Grow and shrink the tables under the iteration.
        step += 1;
        if step < 200 {
            for j in 0..20 {
                put(&mut t, 0, &format!("tmp:{step}:{j}"), "v");
            }
        } else if step < 400 {
            let keys: Vec<String> = (0..20).map(|j| format!("tmp:{}:{j}", step - 199)).collect();
            let mut args = vec!["DEL"];
            args.extend(keys.iter().map(|s| s.as_str()));
            t.cmd(&args);
        }
        cursor = String::from_utf8(c.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    for i in 0..500 {
        assert!(seen.contains(&format!("stay:{i}")), "stay:{i} missed");
    }
}

#[test]
fn scan_match_and_type() {
    let mut t = TestDb::default();
    for i in 0..50 {
        put(&mut t, 0, &format!("a{i}"), "v");
        put(&mut t, 0, &format!("b{i}"), "v");
    }
    put(&mut t, 0, "", "empty");
    let (got, _) = full_scan(&mut t, &["MATCH", "a*", "COUNT", "7"]);
    assert_eq!(got.len(), 50);
    assert!(got.iter().all(|k| k.starts_with('a')));
    let (got, _) = full_scan(&mut t, &["MATCH", "*"]);
    assert_eq!(got.len(), 101, "MATCH * includes the empty key");
    let (got, _) = full_scan(&mut t, &["TYPE", "String"]);
    assert_eq!(got.len(), 101);
    let (got, _) = full_scan(&mut t, &["TYPE", "list"]);
    assert!(got.is_empty());
    let (got, _) = full_scan(&mut t, &["TYPE", "nosuchtype"]);
    assert!(got.is_empty());
    // The last MATCH wins.
    let (got, _) = full_scan(&mut t, &["MATCH", "a*", "MATCH", "b1?"]);
    assert_eq!(got.len(), 10);
}

#[test]
fn scan_hides_expired_keys() {
    let mut t = TestDb::default();
    let now = t.now_ms;
    for i in 0..20 {
        put_at(
            &mut t,
            &format!("k{i}"),
            "v",
            if i % 2 == 0 { now } else { now + 10 },
        );
    }
    let (got, _) = full_scan(&mut t, &["COUNT", "3"]);
    assert_eq!(got.len(), 10);
}

#[test]
fn scan_count_bounds_the_work() {
    let mut t = TestDb::default();
    for i in 0..1000 {
        put(&mut t, 0, &format!("k{i}"), "v");
    }
    let r = t.cmd(&["SCAN", "0", "COUNT", "1"]);
    let Frame::Array(parts) = r else { panic!() };
    let n = sorted_strings(&parts[1]).len();
    // Bounded work: at most 10 dict steps. Zero keys is possible (as in Redis):
    // with the per-process random hash key, all 10 buckets may be empty.
    assert!(n <= 4, "COUNT 1 returned {n} keys");
    assert_ne!(parts[0], crate::testing::bulk("0"));
    // A huge COUNT finishes in one call.
    let r = t.cmd(&["SCAN", "0", "COUNT", "9223372036854775807"]);
    let Frame::Array(parts) = r else { panic!() };
    assert_eq!(parts[0], crate::testing::bulk("0"));
    assert_eq!(sorted_strings(&parts[1]).len(), 1000);
}

#[test]
fn keys_with_patterns() {
    let mut t = TestDb::default();
    for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", ""] {
        put(&mut t, 0, k, "v");
    }
    put(&mut t, 1, "other", "v");
    let now = t.now_ms;
    put_at(&mut t, "hexpired", "v", now);
    assert_eq!(
        sorted_strings(&t.cmd(&["KEYS", "h?llo"])),
        vec!["hallo", "hello", "hxllo"]
    );
    assert_eq!(
        sorted_strings(&t.cmd(&["KEYS", "h*llo"])),
        vec!["heeeello", "hallo", "hello", "hllo", "hxllo"]
            .into_iter()
            .map(String::from)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        sorted_strings(&t.cmd(&["KEYS", "h[ae]llo"])),
        vec!["hallo", "hello"]
    );
    assert_eq!(sorted_strings(&t.cmd(&["KEYS", "*"])).len(), 6);
    assert_eq!(t.cmd(&["KEYS", "zz*"]), arr(&[]));
    assert_eq!(
        t.cmd(&["KEYS"]),
        err("ERR wrong number of arguments for 'keys' command")
    );
}
