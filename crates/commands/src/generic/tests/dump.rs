//! DUMP and RESTORE: what is propagated and counted (replies and errors are in
//! the differential corpus, tests/corpus/dump.txt).

use super::*;
use crate::testing::{rewritten, TestDb};
use crate::Propagate;

fn payload(t: &mut TestDb, key: &str) -> Vec<u8> {
    match t.cmd(&["DUMP", key]) {
        Frame::Bulk(b) => b.to_vec(),
        f => panic!("{f:?}"),
    }
}

#[test]
fn relative_ttl_propagates_as_absttl() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "hello");
    let p = payload(&mut t, "a");
    t.call(&[b"RESTORE", b"b", b"5000", &p, b"REPLACE"]);
    assert_eq!(t.last_dirty, 1);
    let want = (t.now_ms + 5000).to_string();
    let got = rewritten(&t.last_propagate);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0][0], "RESTORE");
    assert_eq!(got[0][2], want);
    assert_eq!(got[0][4], "REPLACE");
    assert_eq!(got[0][5], "ABSTTL");
    // Absolute or no TTL: as received.
    t.call(&[b"RESTORE", b"c", b"0", &p]);
    assert!(matches!(t.last_propagate, Propagate::AsIs));
    t.call(&[b"RESTORE", b"d", want.as_bytes(), &p, b"ABSTTL"]);
    assert!(matches!(t.last_propagate, Propagate::AsIs));
}

#[test]
fn past_ttl_deletes_a_replaced_key_and_propagates_del() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "hello");
    let p = payload(&mut t, "a");
    t.call(&[b"RESTORE", b"a", b"1", &p, b"ABSTTL", b"REPLACE"]);
    assert_eq!(t.last_dirty, 1);
    assert_eq!(rewritten(&t.last_propagate), vec![vec!["DEL", "a"]]);
    assert_eq!(t.cmd(&["EXISTS", "a"]), crate::testing::int(0));
    // Nothing to delete: nothing changes.
    t.call(&[b"RESTORE", b"a", b"1", &p, b"ABSTTL"]);
    assert_eq!(t.last_dirty, 0);
}
