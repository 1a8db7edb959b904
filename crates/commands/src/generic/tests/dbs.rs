//! RANDOMKEY DBSIZE FLUSHDB FLUSHALL SWAPDB.

use super::*;
use crate::testing::rewritten;
use crate::testing::{err, int, ok, TestDb};
use std::collections::HashSet;

#[test]
fn dbsize_counts_the_selected_db() {
    let mut t = TestDb::default();
    assert_eq!(t.cmd(&["DBSIZE"]), int(0));
    for i in 0..100 {
        put(&mut t, 0, &format!("k{i}"), "v");
    }
    put(&mut t, 3, "x", "v");
    assert_eq!(t.cmd(&["DBSIZE"]), int(100));
    t.db = 3;
    assert_eq!(t.cmd(&["DBSIZE"]), int(1));
    assert_eq!(
        t.cmd(&["DBSIZE", "x"]),
        err("ERR wrong number of arguments for 'dbsize' command")
    );
}

#[test]
fn randomkey_picks_live_keys() {
    let mut t = TestDb::default();
    assert_eq!(t.cmd(&["RANDOMKEY"]), Frame::Null);
    for i in 0..50 {
        put(&mut t, 0, &format!("k{i}"), "v");
    }
    let mut seen = HashSet::new();
    for _ in 0..2000 {
        let Frame::Bulk(k) = t.cmd(&["RANDOMKEY"]) else {
            panic!()
        };
        seen.insert(k);
    }
    assert_eq!(seen.len(), 50, "every key comes up eventually");
}

#[test]
fn randomkey_deletes_expired_keys_it_meets() {
    let mut t = TestDb::default();
    let now = t.now_ms;
    for i in 0..20 {
        put_at(&mut t, &format!("gone{i}"), "v", now - 1);
    }
    put(&mut t, 0, "live", "v");
    for _ in 0..20 {
        assert_eq!(t.cmd(&["RANDOMKEY"]), crate::testing::bulk("live"));
    }
    let mut t = TestDb::default();
    put_at(&mut t, "gone", "v", now - 1);
    assert_eq!(t.cmd(&["RANDOMKEY"]), Frame::Null);
    assert_eq!(raw_len(&t, 0), 0);
}

#[test]
fn flushdb_and_flushall() {
    let mut t = TestDb::default();
    for i in 0..10 {
        put(&mut t, 0, &format!("k{i}"), "v");
        put(&mut t, 1, &format!("k{i}"), "v");
    }
    let (r, p) = call_prop(&mut t, &["FLUSHDB"]);
    assert_eq!(r, ok());
    assert_eq!(rewritten(&p), vec![vec!["FLUSHDB"]]);
    assert_eq!(t.dirty, 10);
    assert_eq!(raw_len(&t, 0), 0);
    assert_eq!(raw_len(&t, 1), 10);
    // Propagated even when there was nothing to remove.
    let (_, p) = call_prop(&mut t, &["FLUSHDB", "sync"]);
    assert_eq!(rewritten(&p), vec![vec!["FLUSHDB", "sync"]]);
    assert_eq!(t.dirty, 10);
    let (r, _) = call_prop(&mut t, &["FLUSHALL", "ASYNC"]);
    assert_eq!(r, ok());
    assert_eq!(t.dirty, 21, "keys removed plus one");
    assert_eq!(raw_len(&t, 1), 0);
    assert_eq!(t.cmd(&["FLUSHALL"]), ok());
    assert_eq!(t.dirty, 22);
}

#[test]
fn flush_async_frees_in_background() {
    let mut t = TestDb::default();
    for i in 0..1000 {
        put(&mut t, 2, &format!("k{i}"), "v");
    }
    t.db = 2;
    assert_eq!(t.cmd(&["FLUSHDB", "ASYNC"]), ok());
    assert_eq!(t.cmd(&["DBSIZE"]), int(0));
    t.settings.lazyfree_lazy_user_flush = true;
    put(&mut t, 2, "x", "v");
    assert_eq!(t.cmd(&["FLUSHDB"]), ok());
    assert_eq!(t.cmd(&["DBSIZE"]), int(0));
}

#[test]
fn flush_syntax_errors() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "v");
    let syn = err("ERR syntax error");
    assert_eq!(t.cmd(&["FLUSHDB", "foo"]), syn);
    assert_eq!(t.cmd(&["FLUSHDB", "async", "sync"]), syn);
    assert_eq!(t.cmd(&["FLUSHALL", "async", "x"]), syn);
    assert_eq!(t.cmd(&["FLUSHALL", "now"]), syn);
    assert_eq!(raw_len(&t, 0), 1);
}

#[test]
fn swapdb_swaps_contents() {
    let mut t = TestDb::default();
    let at = t.now_ms + 9000;
    put_at(&mut t, "a", "0", at);
    put(&mut t, 1, "b", "1");
    assert_eq!(t.cmd(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(get(&t, 0, "b").as_deref(), Some("1"));
    assert_eq!(get(&t, 1, "a").as_deref(), Some("0"));
    assert_eq!(expire_of(&t, 1, "a"), Some(at));
    assert_eq!(get(&t, 0, "a"), None);
    assert_eq!(t.cmd(&["EXISTS", "b"]), int(1));
    assert_eq!(t.cmd(&["SWAPDB", "1", "1"]), ok());
    assert_eq!(t.dirty, 2);
    assert_eq!(get(&t, 1, "a").as_deref(), Some("0"));
}

#[test]
fn swapdb_errors() {
    let mut t = TestDb::default();
    assert_eq!(
        t.cmd(&["SWAPDB", "a", "1"]),
        err(crate::generic::INVALID_FIRST_DB)
    );
    assert_eq!(
        t.cmd(&["SWAPDB", "1", "a"]),
        err(crate::generic::INVALID_SECOND_DB)
    );
    assert_eq!(
        t.cmd(&["SWAPDB", "99999999999", "0"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(
        t.cmd(&["SWAPDB", "a", "b"]),
        err("ERR invalid first DB index")
    );
    let range = err("ERR DB index is out of range");
    assert_eq!(t.cmd(&["SWAPDB", "0", "16"]), range);
    assert_eq!(t.cmd(&["SWAPDB", "-1", "0"]), range);
    assert_eq!(t.cmd(&["SWAPDB", "0", "-1"]), range);
    assert_eq!(t.dirty, 0);
}
