//! DEL UNLINK EXISTS TYPE TOUCH RENAME RENAMENX COPY MOVE.

use super::*;
use crate::testing::{err, int, ok, TestDb};

#[test]
fn del_counts_existing_keys_once() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    put(&mut t, 0, "b", "2");
    assert_eq!(t.cmd(&["DEL", "a", "a", "c"]), int(1));
    assert_eq!(t.dirty, 1);
    assert_eq!(t.cmd(&["UNLINK", "b", "a"]), int(1));
    assert_eq!(t.dirty, 2);
    assert_eq!(raw_len(&t, 0), 0);
    assert_eq!(
        t.cmd(&["DEL"]),
        err("ERR wrong number of arguments for 'del' command")
    );
}

#[test]
fn del_of_an_expired_key_counts_nothing() {
    let mut t = TestDb::default();
    let now = t.now_ms;
    put_at(&mut t, "a", "1", now - 1);
    assert_eq!(t.cmd(&["DEL", "a"]), int(0));
    assert_eq!(t.dirty, 0);
    assert_eq!(raw_len(&t, 0), 0);
}

#[test]
fn exists_counts_duplicates() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    put(&mut t, 0, "b", "1");
    assert_eq!(t.cmd(&["EXISTS", "a", "a", "b", "c"]), int(3));
    assert_eq!(t.cmd(&["EXISTS", "zz"]), int(0));
}

#[test]
fn exists_and_type_do_not_touch_the_clock() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    t.now_ms += 10_000;
    t.cmd(&["EXISTS", "a"]);
    t.cmd(&["TYPE", "a"]);
    t.cmd(&["TTL", "a"]);
    assert_eq!(t.cmd(&["OBJECT", "IDLETIME", "a"]), int(10));
    t.cmd(&["TOUCH", "a"]);
    assert_eq!(t.cmd(&["OBJECT", "IDLETIME", "a"]), int(0));
}

#[test]
fn type_names() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    assert_eq!(t.cmd(&["TYPE", "a"]), simple("string"));
    assert_eq!(t.cmd(&["TYPE", "nope"]), simple("none"));
    let now = t.now_ms;
    put_at(&mut t, "gone", "x", now);
    assert_eq!(t.cmd(&["TYPE", "gone"]), simple("none"));
}

#[test]
fn touch_counts_existing() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    assert_eq!(t.cmd(&["TOUCH", "a", "b", "a"]), int(2));
}

#[test]
fn rename_moves_value_and_ttl() {
    let mut t = TestDb::default();
    let at = t.now_ms + 5000;
    put_at(&mut t, "a", "1", at);
    put(&mut t, 0, "b", "old");
    assert_eq!(t.cmd(&["RENAME", "a", "b"]), ok());
    assert_eq!(get(&t, 0, "a"), None);
    assert_eq!(get(&t, 0, "b").as_deref(), Some("1"));
    assert_eq!(expire_of(&t, 0, "b"), Some(at));
    assert_eq!(t.dirty, 1);
    // A TTL on the overwritten destination does not survive.
    put(&mut t, 0, "c", "x");
    put_at(&mut t, "d", "y", at);
    assert_eq!(t.cmd(&["RENAME", "c", "d"]), ok());
    assert_eq!(expire_of(&t, 0, "d"), None);
    assert_eq!(t.cmd(&["TTL", "d"]), int(-1));
}

#[test]
fn rename_errors_and_same_key() {
    let mut t = TestDb::default();
    assert_eq!(t.cmd(&["RENAME", "nope", "x"]), err("ERR no such key"));
    assert_eq!(t.cmd(&["RENAME", "nope", "nope"]), err("ERR no such key"));
    assert_eq!(t.cmd(&["RENAMENX", "nope", "nope"]), err("ERR no such key"));
    put(&mut t, 0, "a", "1");
    assert_eq!(t.cmd(&["RENAME", "a", "a"]), ok());
    assert_eq!(t.cmd(&["RENAMENX", "a", "a"]), int(0));
    assert_eq!(t.dirty, 0);
    assert_eq!(get(&t, 0, "a").as_deref(), Some("1"));
    let now = t.now_ms;
    put_at(&mut t, "exp", "1", now - 1);
    assert_eq!(t.cmd(&["RENAME", "exp", "z"]), err("ERR no such key"));
}

#[test]
fn renamenx_refuses_existing_destination() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    put(&mut t, 0, "b", "2");
    assert_eq!(t.cmd(&["RENAMENX", "a", "b"]), int(0));
    assert_eq!(get(&t, 0, "b").as_deref(), Some("2"));
    assert_eq!(t.cmd(&["RENAMENX", "a", "c"]), int(1));
    assert_eq!(get(&t, 0, "c").as_deref(), Some("1"));
    assert_eq!(get(&t, 0, "a"), None);
    // An expired destination counts as absent.
    let now = t.now_ms;
    put_at(&mut t, "d", "x", now);
    assert_eq!(t.cmd(&["RENAMENX", "c", "d"]), int(1));
}

#[test]
fn copy_within_and_across_dbs() {
    let mut t = TestDb::default();
    let at = t.now_ms + 100_000;
    put_at(&mut t, "a", "1", at);
    put(&mut t, 0, "b", "2");
    assert_eq!(t.cmd(&["COPY", "a", "b"]), int(0));
    assert_eq!(t.cmd(&["COPY", "a", "b", "REPLACE"]), int(1));
    assert_eq!(get(&t, 0, "b").as_deref(), Some("1"));
    assert_eq!(expire_of(&t, 0, "b"), Some(at));
    assert_eq!(t.cmd(&["COPY", "a", "a", "DB", "1"]), int(1));
    assert_eq!(get(&t, 1, "a").as_deref(), Some("1"));
    assert_eq!(expire_of(&t, 1, "a"), Some(at));
    assert_eq!(t.cmd(&["COPY", "a", "a", "db", "1"]), int(0));
    assert_eq!(t.cmd(&["COPY", "a", "a", "db", "1", "replace"]), int(1));
    assert_eq!(t.cmd(&["COPY", "nope", "x"]), int(0));
    assert_eq!(t.cmd(&["COPY", "nope", "nope", "DB", "1"]), int(0));
    assert_eq!(get(&t, 0, "a").as_deref(), Some("1"));
    assert_eq!(t.dirty, 3);
}

#[test]
fn copy_errors() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    let same = err("ERR source and destination objects are the same");
    assert_eq!(t.cmd(&["COPY", "a", "a"]), same);
    assert_eq!(t.cmd(&["COPY", "nope", "nope"]), same);
    assert_eq!(t.cmd(&["COPY", "a", "a", "DB", "0"]), same);
    assert_eq!(
        t.cmd(&["COPY", "a", "b", "DB", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        t.cmd(&["COPY", "a", "b", "DB", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        t.cmd(&["COPY", "a", "b", "DB", "-1"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        t.cmd(&["COPY", "a", "b", "DB", "99999999999"]),
        err(crate::generic::INT_OUT_OF_RANGE)
    );
    assert_eq!(t.cmd(&["COPY", "a", "b", "DB"]), err("ERR syntax error"));
    assert_eq!(t.cmd(&["COPY", "a", "b", "foo"]), err("ERR syntax error"));
    assert_eq!(
        t.cmd(&["COPY", "a", "b", "REPLACE", "DB", "1", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(t.dirty, 0);
}

#[test]
fn move_between_dbs() {
    let mut t = TestDb::default();
    let at = t.now_ms + 100_000;
    put_at(&mut t, "a", "1", at);
    assert_eq!(t.cmd(&["MOVE", "a", "1"]), int(1));
    assert_eq!(get(&t, 0, "a"), None);
    assert_eq!(get(&t, 1, "a").as_deref(), Some("1"));
    assert_eq!(expire_of(&t, 1, "a"), Some(at));
    assert_eq!(t.cmd(&["MOVE", "a", "1"]), int(0));
    put(&mut t, 0, "a", "2");
    assert_eq!(t.cmd(&["MOVE", "a", "1"]), int(0));
    assert_eq!(get(&t, 0, "a").as_deref(), Some("2"));
    assert_eq!(get(&t, 1, "a").as_deref(), Some("1"));
    assert_eq!(t.cmd(&["MOVE", "nope", "1"]), int(0));
    assert_eq!(t.dirty, 1);
    t.db = 1;
    assert_eq!(t.cmd(&["MOVE", "a", "0"]), int(0));
    assert_eq!(t.cmd(&["MOVE", "a", "2"]), int(1));
    assert_eq!(get(&t, 2, "a").as_deref(), Some("1"));
}

#[test]
fn move_errors() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    assert_eq!(
        t.cmd(&["MOVE", "a", "0"]),
        err("ERR source and destination objects are the same")
    );
    assert_eq!(
        t.cmd(&["MOVE", "a", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        t.cmd(&["MOVE", "a", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        t.cmd(&["MOVE", "a", "-1"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        t.cmd(&["MOVE", "a", "99999999999"]),
        err(crate::generic::INT_OUT_OF_RANGE)
    );
    assert_eq!(
        t.cmd(&["MOVE", "a"]),
        err("ERR wrong number of arguments for 'move' command")
    );
}
