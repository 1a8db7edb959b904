//! Handler tests for the sorted set commands: events, `dirty`, propagation and the
//! blocking side, which the differential corpus (tests/corpus/zsets.txt) cannot
//! see. Replies are checked against Redis by the corpus.

use crate::testing::TestDb;
use shoal_keyspace::class;
use shoal_resp::Frame;

fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

fn events(db: &TestDb) -> Vec<&'static str> {
    db.last_notices.iter().map(|n| n.event).collect()
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

#[test]
fn events_and_dirty_follow_redis() {
    let mut db = TestDb::default();
    db.ev.want.classes = class::ALL;
    db.cmd(&[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
    ]);
    assert_eq!(events(&db), ["zadd"]);
    db.cmd(&["ZADD", "z", "1", "a"]);
    assert_eq!((events(&db).len(), db.last_dirty), (0, 0));
    db.cmd(&["ZADD", "z", "CH", "9", "a", "9", "b", "1", "x"]);
    assert_eq!(db.last_dirty, 3);
    db.cmd(&["ZINCRBY", "z", "1", "a"]);
    assert_eq!((events(&db), db.last_dirty), (vec!["zincr"], 1));
    db.cmd(&["ZREM", "z", "x", "nosuch"]);
    assert_eq!((events(&db), db.last_dirty), (vec!["zrem"], 1));
    db.cmd(&["ZREMRANGEBYRANK", "z", "0", "0"]);
    assert_eq!(events(&db), ["zremrangebyrank"]);
    db.cmd(&["ZREMRANGEBYSCORE", "z", "4", "4"]);
    assert_eq!(events(&db), ["zremrangebyscore"]);
    db.cmd(&["ZADD", "lx", "0", "a", "0", "b"]);
    db.cmd(&["ZREMRANGEBYLEX", "lx", "[a", "[a"]);
    assert_eq!(events(&db), ["zremrangebylex"]);
    db.cmd(&["ZUNIONSTORE", "d", "1", "z"]);
    assert_eq!((events(&db), db.last_dirty), (vec!["zunionstore"], 1));
    db.cmd(&["ZINTERSTORE", "d", "1", "z"]);
    assert_eq!(events(&db), ["zinterstore"]);
    db.cmd(&["ZDIFFSTORE", "d", "1", "z"]);
    assert_eq!(events(&db), ["zdiffstore"]);
    db.cmd(&["ZRANGESTORE", "d", "z", "0", "-1"]);
    assert_eq!(events(&db), ["zrangestore"]);
    db.cmd(&["ZRANGESTORE", "d", "z", "10", "20"]);
    assert_eq!((events(&db), db.last_dirty), (vec!["del"], 1));
    db.cmd(&["ZPOPMIN", "z"]);
    assert_eq!((events(&db), db.last_dirty), (vec!["zpopmin"], 1));
    db.cmd(&["ZPOPMAX", "z", "10"]);
    assert_eq!((events(&db), db.last_dirty), (vec!["zpopmax", "del"], 2));
    db.cmd(&["ZADD", "z", "1", "a", "2", "b"]);
    db.cmd(&["ZREM", "z", "a", "b"]);
    assert_eq!(events(&db), ["zrem", "del"]);
}

#[test]
fn pops_propagate_as_zpop() {
    let mut db = TestDb::default();
    db.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(
        db.cmd(&["ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "5"]),
        Frame::Array(vec![
            bulk("z"),
            Frame::Array(vec![
                Frame::Array(vec![bulk("c"), bulk("3")]),
                Frame::Array(vec![bulk("b"), bulk("2")]),
                Frame::Array(vec![bulk("a"), bulk("1")]),
            ]),
        ])
    );
    // The count actually popped, as Redis sends it.
    assert_eq!(db.rewritten(), [["ZPOPMAX", "z", "3"]]);
    assert_eq!(db.last_dirty, 3);
    db.cmd(&["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(
        db.cmd(&["BZPOPMIN", "nokey", "z", "0"]),
        Frame::Array(vec![bulk("z"), bulk("a"), bulk("1")])
    );
    assert_eq!(db.rewritten(), [["ZPOPMIN", "z"]]);
    db.cmd(&["BZMPOP", "0", "1", "z", "MIN", "COUNT", "3"]);
    assert_eq!(db.rewritten(), [["ZPOPMIN", "z", "1"]]);
    // Outside a context that may block, an empty wait answers the timeout reply.
    assert_eq!(db.cmd(&["BZPOPMAX", "z", "0"]), Frame::NullArray);
    assert_eq!(db.cmd(&["BZMPOP", "0", "1", "z", "MIN"]), Frame::NullArray);
}

#[test]
fn big_sets_behave_like_small_ones() {
    let mut small = TestDb::default();
    let mut big = TestDb::default();
    big.settings.zset_max_listpack_entries = 0;
    small.settings.zset_max_listpack_entries = 1000;
    for db in [&mut small, &mut big] {
        for i in 0..200 {
            let s = ((i * 37) % 50).to_string();
            let m = format!("m{}", (i * 11) % 160);
            db.cmd(&["ZADD", "z", &s, &m]);
        }
        db.cmd(&["ZREM", "z", "m3", "m5", "m150"]);
        db.cmd(&["ZINCRBY", "z", "7", "m9"]);
    }
    assert_eq!(small.cmd(&["OBJECT", "ENCODING", "z"]), bulk("listpack"));
    assert_eq!(big.cmd(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    let cmds: &[&[&str]] = &[
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["ZRANGE", "z", "5", "30", "REV"],
        &["ZRANGEBYSCORE", "z", "(10", "40", "LIMIT", "3", "7"],
        &["ZREVRANGEBYSCORE", "z", "40", "(10", "WITHSCORES"],
        &["ZCOUNT", "z", "10", "(20"],
        &["ZRANK", "z", "m100"],
        &["ZREVRANK", "z", "m100"],
        &["ZRANGEBYLEX", "z", "-", "+"],
        &["ZRANDMEMBER", "z", "1000"],
        &["DEBUG", "DIGEST-VALUE", "z"],
        &["ZPOPMAX", "z", "3"],
        &["ZREMRANGEBYRANK", "z", "10", "20"],
        &["ZREMRANGEBYSCORE", "z", "30", "35"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ];
    for c in cmds {
        if c[0] == "DEBUG" {
            continue;
        }
        assert_eq!(small.cmd(c), big.cmd(c), "{c:?}");
    }
}
