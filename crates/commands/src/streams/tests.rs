//! Handler tests through the in-process harness, and a stream-specific random
//! walk (IDs, special IDs and option words the generic robustness test does not
//! generate).

use crate::testing::TestDb;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
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
    let Frame::Array(items) = r else {
        panic!("{r:?}")
    };
    assert_eq!(items.len(), 2);
    let r = db.cmd(&["XADD", "s", "1-1", "a", "1"]);
    assert!(matches!(r, Frame::Error(_)));
}

#[test]
fn xadd_propagates_the_generated_id_and_exact_trim() {
    let mut db = TestDb::default();
    db.cmd(&["XADD", "s", "*", "a", "1"]);
    let id = format!("{}-0", db.now_ms);
    assert_eq!(db.rewritten(), vec![vec!["XADD", "s", &id, "a", "1"]]);
    db.cmd(&["XADD", "s", "MAXLEN", "~", "1", "9999999999999-1", "a", "1"]);
    // Nothing trimmed (a node is never cut with ~): the length is what replicas keep.
    assert_eq!(
        db.rewritten(),
        vec![vec![
            "XADD",
            "s",
            "MAXLEN",
            "=",
            "2",
            "9999999999999-1",
            "a",
            "1"
        ]]
    );
}

#[test]
fn xreadgroup_propagates_claims() {
    let mut db = TestDb::default();
    db.cmd(&["XADD", "s", "1-1", "a", "1"]);
    db.cmd(&["XGROUP", "CREATE", "s", "g", "0"]);
    db.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]);
    let t = db.now_ms.to_string();
    assert_eq!(
        db.rewritten(),
        vec![vec![
            "XCLAIM",
            "s",
            "g",
            "c",
            "0",
            "1-1",
            "TIME",
            &t,
            "RETRYCOUNT",
            "1",
            "FORCE",
            "JUSTID",
            "LASTID",
            "1-1"
        ]]
    );
    db.cmd(&["XADD", "s", "2-1", "a", "1"]);
    db.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(
        db.rewritten(),
        vec![vec!["XGROUP", "SETID", "s", "g", "2-1", "ENTRIESREAD", "2"]]
    );
}

const WORDS: &[&str] = &[
    "s",
    "t",
    "g",
    "g2",
    "c",
    "c2",
    "0",
    "1",
    "-1",
    "1-1",
    "2-1",
    "3-0",
    "1-*",
    "*",
    "$",
    ">",
    "-",
    "+",
    "(1-1",
    "(",
    "(-",
    "18446744073709551615-18446744073709551615",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "",
    "abc",
    "~",
    "=",
    "MAXLEN",
    "MINID",
    "LIMIT",
    "NOMKSTREAM",
    "COUNT",
    "BLOCK",
    "STREAMS",
    "GROUP",
    "NOACK",
    "IDLE",
    "TIME",
    "RETRYCOUNT",
    "FORCE",
    "JUSTID",
    "LASTID",
    "FULL",
    "MKSTREAM",
    "ENTRIESREAD",
    "ENTRIESADDED",
    "MAXDELETEDID",
    "CREATE",
    "SETID",
    "DESTROY",
    "CREATECONSUMER",
    "DELCONSUMER",
    "STREAM",
    "GROUPS",
    "CONSUMERS",
    "HELP",
    "\0",
];

const COMMANDS: &[&[&str]] = &[
    &["XADD", "s"],
    &["XADD", "s", "*", "f", "v"],
    &["XTRIM", "s"],
    &["XDEL", "s"],
    &["XLEN"],
    &["XSETID", "s"],
    &["XRANGE", "s"],
    &["XREVRANGE", "s"],
    &["XREAD"],
    &["XREAD", "STREAMS", "s"],
    &["XREADGROUP", "GROUP", "g", "c"],
    &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"],
    &["XGROUP"],
    &["XGROUP", "CREATE", "s", "g"],
    &["XACK", "s", "g"],
    &["XPENDING", "s", "g"],
    &["XCLAIM", "s", "g", "c"],
    &["XAUTOCLAIM", "s", "g", "c"],
    &["XINFO"],
    &["XINFO", "STREAM", "s"],
];

#[test]
fn random_stream_commands_never_panic() {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut db = TestDb::default();
    for round in 0..20_000 {
        let base = COMMANDS[rng.gen_range(0..COMMANDS.len())];
        let mut args: Vec<&str> = base.to_vec();
        for _ in 0..rng.gen_range(0..7) {
            args.push(WORDS[rng.gen_range(0..WORDS.len())]);
        }
        db.now_ms += rng.gen_range(0..3);
        db.settings.stream_node_max_entries = [0, 1, 3, 100][round % 4];
        db.settings.stream_node_max_bytes = [0, 50, 4096][round % 3];
        db.cmd(&args);
    }
}
