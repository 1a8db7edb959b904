//! Handler tests through the in-process harness.

use crate::testing::TestDb;
use shoal_resp::Frame;

fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.as_bytes().to_vec().into())
}

#[test]
fn add_range_and_len() {
    let mut db = TestDb::default();
    assert_eq!(db.cmd(&["XADD", "s", "1-1", "a", "1"]), bulk("1-1"));
    assert_eq!(db.cmd(&["XADD", "s", "1-*", "b", "2"]), bulk("1-2"));
    assert_eq!(db.cmd(&["XLEN", "s"]), Frame::Integer(2));
    let r = db.cmd(&["XRANGE", "s", "-", "+"]);
    let Frame::Array(items) = r else { panic!("{r:?}") };
    assert_eq!(items.len(), 2);
    let r = db.cmd(&["XADD", "s", "1-1", "a", "1"]);
    assert!(matches!(r, Frame::Error(_)));
}
