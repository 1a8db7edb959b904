//! Handler tests for the sorted set commands (most behaviour is checked against
//! Redis by the differential corpus, tests/corpus/zsets.txt).

use crate::testing::TestDb;
use shoal_resp::Frame;

fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn zadd_and_range() {
    let mut db = TestDb::default();
    assert_eq!(
        db.cmd(&["ZADD", "z", "1", "a", "2", "b", "1.5", "c"]),
        Frame::Integer(3)
    );
    assert_eq!(db.last_dirty, 3);
    assert_eq!(
        db.cmd(&["ZRANGE", "z", "0", "-1"]),
        Frame::Array(vec![bulk("a"), bulk("c"), bulk("b")])
    );
    assert_eq!(db.cmd(&["ZSCORE", "z", "c"]), bulk("1.5"));
    assert_eq!(db.cmd(&["OBJECT", "ENCODING", "z"]), bulk("listpack"));
}
