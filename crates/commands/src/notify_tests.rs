//! The keyspace events of the string, bitmap, list and generic commands: names,
//! classes and order as Redis 7.0.15 publishes them with `notify-keyspace-events
//! KEAnm` (checked against the real server). "new" comes from the keyspace layer
//! when a key is created ([`crate::ctx::DbMut`]), "keymiss" and "expired" from
//! lookups; the handlers report the rest.

use crate::testing::TestDb;
use shoal_keyspace::class::{self, ALL, KEYEVENT, KEYSPACE, KEY_MISS, NEW};
use shoal_keyspace::Want;

/// A TestDb recording every notification class.
fn traced() -> TestDb {
    let mut t = TestDb::default();
    t.ev.want = Want {
        touched: true,
        classes: ALL | KEYSPACE | KEYEVENT | NEW | KEY_MISS,
    };
    t
}

/// Runs `cmd` and returns its events as "event key" ("event@db key" outside db 0).
fn ev(t: &mut TestDb, cmd: &str) -> Vec<String> {
    let args: Vec<&str> = cmd.split(' ').collect();
    t.cmd(&args);
    t.last_notices
        .iter()
        .map(|n| {
            let key = String::from_utf8_lossy(&n.key);
            if n.db == 0 {
                format!("{} {key}", n.event)
            } else {
                format!("{}@{} {key}", n.event, n.db)
            }
        })
        .collect()
}

/// The class of each event of `cmd`, in order.
fn classes(t: &mut TestDb, cmd: &str) -> Vec<u32> {
    let args: Vec<&str> = cmd.split(' ').collect();
    t.cmd(&args);
    t.last_notices.iter().map(|n| n.class).collect()
}

#[test]
fn set_family() {
    let mut t = traced();
    assert_eq!(ev(&mut t, "SET a 1"), ["new a", "set a"]);
    assert_eq!(ev(&mut t, "SET a 2"), ["set a"]);
    assert!(ev(&mut t, "SET a 2 NX").is_empty());
    assert!(ev(&mut t, "SET b 2 XX").is_empty());
    assert_eq!(ev(&mut t, "SET a 3 GET"), ["set a"]);
    assert_eq!(ev(&mut t, "SET a 4 KEEPTTL"), ["set a"]);
    assert_eq!(ev(&mut t, "SET a 5 EX 100"), ["set a", "expire a"]);
    assert_eq!(ev(&mut t, "SET a 5 PX 100000 GET"), ["set a", "expire a"]);
    assert_eq!(
        ev(&mut t, "SET c 1 NX GET"),
        ["keymiss c", "new c", "set c"]
    );
    assert!(ev(&mut t, "SET c 2 NX GET").is_empty());
    assert!(ev(&mut t, "SETNX a 1").is_empty());
    assert_eq!(ev(&mut t, "SETNX d 1"), ["new d", "set d"]);
    assert_eq!(ev(&mut t, "SETEX e 100 v"), ["new e", "set e", "expire e"]);
    assert_eq!(ev(&mut t, "PSETEX e 100000 v"), ["set e", "expire e"]);
    assert_eq!(
        classes(&mut t, "SET e 1 EX 10"),
        [class::STRING, class::GENERIC]
    );
    // A wrong type with GET changes nothing.
    t.cmd(&["RPUSH", "l", "x"]);
    assert!(ev(&mut t, "SET l 1 GET").is_empty());
}

#[test]
fn multi_key_and_get_variants() {
    let mut t = traced();
    assert_eq!(
        ev(&mut t, "MSET a 1 f 2 a 3"),
        ["new a", "set a", "new f", "set f", "set a"]
    );
    assert_eq!(
        ev(&mut t, "MSETNX g 1 h 2"),
        ["new g", "set g", "new h", "set h"]
    );
    assert!(ev(&mut t, "MSETNX g 1 i 2").is_empty());
    assert_eq!(ev(&mut t, "GETSET a 9"), ["set a"]);
    assert_eq!(ev(&mut t, "GETSET j 9"), ["keymiss j", "new j", "set j"]);
    assert_eq!(ev(&mut t, "GETDEL a"), ["del a"]);
    assert_eq!(ev(&mut t, "GETDEL a"), ["keymiss a"]);
    assert!(ev(&mut t, "GETEX j").is_empty());
    assert_eq!(ev(&mut t, "GETEX j EX 100"), ["expire j"]);
    assert_eq!(ev(&mut t, "GETEX j PERSIST"), ["persist j"]);
    assert!(ev(&mut t, "GETEX j PERSIST").is_empty());
    assert_eq!(ev(&mut t, "GETEX j PXAT 1"), ["del j"]);
    assert_eq!(ev(&mut t, "GETEX j"), ["keymiss j"]);
    assert_eq!(ev(&mut t, "MGET g x h y"), ["keymiss x", "keymiss y"]);
    assert_eq!(ev(&mut t, "STRLEN x"), ["keymiss x"]);
    assert_eq!(ev(&mut t, "GETRANGE x 0 1"), ["keymiss x"]);
    assert_eq!(ev(&mut t, "LCS g x"), ["keymiss x"]);
    assert!(ev(&mut t, "GET g").is_empty());
}

#[test]
fn append_setrange_counters() {
    let mut t = traced();
    assert_eq!(ev(&mut t, "APPEND k x"), ["new k", "append k"]);
    assert_eq!(ev(&mut t, "APPEND k y"), ["append k"]);
    // An empty APPEND still reports; an empty SETRANGE does not.
    assert_eq!(ev(&mut t, "APPEND k "), ["append k"]);
    assert!(ev(&mut t, "SETRANGE k 0 ").is_empty());
    assert_eq!(ev(&mut t, "SETRANGE k 0 z"), ["setrange k"]);
    assert_eq!(ev(&mut t, "SETRANGE m 1 z"), ["new m", "setrange m"]);
    assert!(ev(&mut t, "SETRANGE m2 1 ").is_empty());
    assert_eq!(ev(&mut t, "INCR n"), ["new n", "incrby n"]);
    for cmd in ["INCR n", "DECR n", "INCRBY n 5", "DECRBY n 5"] {
        assert_eq!(ev(&mut t, cmd), ["incrby n"], "{cmd}");
    }
    assert_eq!(ev(&mut t, "INCRBYFLOAT n 1.5"), ["incrbyfloat n"]);
    assert_eq!(ev(&mut t, "INCRBYFLOAT o 1.5"), ["new o", "incrbyfloat o"]);
    // Failures report nothing.
    assert!(ev(&mut t, "INCR k").is_empty());
    assert!(ev(&mut t, "INCRBYFLOAT k 1").is_empty());
}

#[test]
fn expired_keys_take_their_place_among_the_events() {
    let mut t = traced();
    t.cmd(&["SET", "a", "1"]);
    t.cmd(&["SET", "b", "1", "PX", "50"]);
    t.now_ms += 100;
    assert_eq!(ev(&mut t, "DEL a b"), ["del a", "expired b"]);
    t.cmd(&["SET", "b", "1", "PX", "50"]);
    t.now_ms += 100;
    assert_eq!(
        ev(&mut t, "MGET a b"),
        ["keymiss a", "expired b", "keymiss b"]
    );
    t.cmd(&["SET", "b", "1", "PX", "50"]);
    t.now_ms += 100;
    assert_eq!(ev(&mut t, "SET b 2"), ["expired b", "new b", "set b"]);
    t.cmd(&["SET", "a", "1"]);
    t.cmd(&["SET", "b", "1", "PX", "50"]);
    t.now_ms += 100;
    assert_eq!(
        ev(&mut t, "RENAME a b"),
        ["expired b", "new b", "rename_from a", "rename_to b"]
    );
    assert_eq!(t.last_notices[0].class, class::EXPIRED);
}

#[test]
fn bitmaps() {
    let mut t = traced();
    assert_eq!(ev(&mut t, "SETBIT a 7 1"), ["new a", "setbit a"]);
    assert!(ev(&mut t, "SETBIT a 7 1").is_empty(), "bit unchanged");
    assert_eq!(ev(&mut t, "SETBIT a 100 0"), ["setbit a"], "grew");
    assert_eq!(ev(&mut t, "GETBIT x 1"), ["keymiss x"]);
    assert_eq!(ev(&mut t, "BITCOUNT x"), ["keymiss x"]);
    assert_eq!(ev(&mut t, "BITPOS x 1"), ["keymiss x"]);
    assert_eq!(ev(&mut t, "BITFIELD b SET u8 0 1"), ["new b", "setbit b"]);
    assert!(ev(&mut t, "BITFIELD b GET u8 0").is_empty());
    assert_eq!(ev(&mut t, "BITFIELD x GET u8 0"), ["keymiss x"]);
    assert_eq!(ev(&mut t, "BITFIELD_RO x GET u8 0"), ["keymiss x"]);
    assert_eq!(
        ev(&mut t, "BITFIELD b INCRBY u8 0 1 SET u8 8 2"),
        ["setbit b"]
    );
    assert!(ev(&mut t, "BITFIELD b OVERFLOW FAIL INCRBY u8 0 300").is_empty());
    // Created, but no write succeeded: only "new".
    assert_eq!(
        ev(&mut t, "BITFIELD c OVERFLOW FAIL INCRBY u8 0 300"),
        ["new c"]
    );
    assert!(ev(&mut t, "BITFIELD c SET u8 0 0").is_empty());
    t.cmd(&["SET", "x", "abc"]);
    assert_eq!(
        ev(&mut t, "BITOP AND d x y"),
        ["keymiss y", "new d", "set d"]
    );
    assert_eq!(
        ev(&mut t, "BITOP OR d y z"),
        ["keymiss y", "keymiss z", "del d"]
    );
    assert_eq!(ev(&mut t, "BITOP OR e y z"), ["keymiss y", "keymiss z"]);
    assert_eq!(ev(&mut t, "BITOP NOT d x"), ["new d", "set d"]);
    assert_eq!(ev(&mut t, "BITOP XOR d x x"), ["set d"]);
}

#[test]
fn list_pushes_and_pops() {
    let mut t = traced();
    assert_eq!(ev(&mut t, "RPUSH l a b c d e"), ["new l", "rpush l"]);
    assert_eq!(ev(&mut t, "LPUSH l z"), ["lpush l"]);
    assert_eq!(ev(&mut t, "LPUSHX l y"), ["lpush l"]);
    assert_eq!(ev(&mut t, "RPUSHX l x"), ["rpush l"]);
    assert!(ev(&mut t, "LPUSHX nol a").is_empty());
    assert_eq!(ev(&mut t, "LPOP l"), ["lpop l"]);
    assert_eq!(ev(&mut t, "RPOP l 2"), ["rpop l"]);
    assert!(ev(&mut t, "LPOP l 0").is_empty());
    assert_eq!(ev(&mut t, "LPOP l 10"), ["lpop l", "del l"]);
    assert!(ev(&mut t, "LPOP l").is_empty(), "no keymiss for a pop");
    t.cmd(&["RPUSH", "l", "a", "b"]);
    assert_eq!(
        ev(&mut t, "LMPOP 2 no l RIGHT COUNT 5"),
        ["rpop l", "del l"]
    );
    t.cmd(&["RPUSH", "l", "a", "b"]);
    assert_eq!(ev(&mut t, "BLPOP no l 0"), ["lpop l"]);
    assert_eq!(ev(&mut t, "BRPOP l 0"), ["rpop l", "del l"]);
    assert!(ev(&mut t, "BLMPOP 0 1 l LEFT").is_empty());
    assert_eq!(classes(&mut t, "RPUSH m 1"), [class::NEW, class::LIST]);
    assert_eq!(classes(&mut t, "RPOP m"), [class::LIST, class::GENERIC]);
}

#[test]
fn list_moves() {
    let mut t = traced();
    t.cmd(&["RPUSH", "s", "a", "b"]);
    assert_eq!(
        ev(&mut t, "LMOVE s d LEFT RIGHT"),
        ["new d", "rpush d", "lpop s"]
    );
    assert_eq!(
        ev(&mut t, "LMOVE s d LEFT RIGHT"),
        ["rpush d", "lpop s", "del s"]
    );
    assert_eq!(ev(&mut t, "RPOPLPUSH d d"), ["lpush d", "rpop d"]);
    assert_eq!(ev(&mut t, "LMOVE d d LEFT LEFT"), ["lpush d", "lpop d"]);
    assert_eq!(
        ev(&mut t, "BLMOVE d e RIGHT LEFT 0"),
        ["new e", "lpush e", "rpop d"]
    );
    assert_eq!(
        ev(&mut t, "BRPOPLPUSH d e 0"),
        ["lpush e", "rpop d", "del d"]
    );
    assert!(ev(&mut t, "RPOPLPUSH d e").is_empty());
    t.cmd(&["SET", "str", "x"]);
    assert!(ev(&mut t, "LMOVE e str LEFT LEFT").is_empty());
}

#[test]
fn list_edits() {
    let mut t = traced();
    t.cmd(&["RPUSH", "e", "1", "2", "3"]);
    assert_eq!(ev(&mut t, "LSET e 0 x"), ["lset e"]);
    assert!(ev(&mut t, "LSET e 9 x").is_empty());
    assert_eq!(ev(&mut t, "LINSERT e BEFORE x y"), ["linsert e"]);
    assert!(ev(&mut t, "LINSERT e BEFORE nope y").is_empty());
    assert!(ev(&mut t, "LREM e 0 zz").is_empty());
    assert_eq!(ev(&mut t, "LREM e 1 y"), ["lrem e"]);
    assert_eq!(
        ev(&mut t, "LTRIM e 0 -1"),
        ["ltrim e"],
        "even if nothing goes"
    );
    assert_eq!(ev(&mut t, "LTRIM e 1 -1"), ["ltrim e"]);
    assert_eq!(ev(&mut t, "LTRIM e 5 10"), ["ltrim e", "del e"]);
    assert!(ev(&mut t, "LTRIM e 0 1").is_empty());
    t.cmd(&["RPUSH", "f", "1"]);
    assert_eq!(ev(&mut t, "LREM f 0 1"), ["lrem f", "del f"]);
    assert_eq!(ev(&mut t, "LINDEX f 0"), ["keymiss f"]);
    assert_eq!(ev(&mut t, "LRANGE f 0 1"), ["keymiss f"]);
    assert_eq!(ev(&mut t, "LLEN f"), ["keymiss f"]);
    assert_eq!(ev(&mut t, "LPOS f a"), ["keymiss f"]);
}

#[test]
fn generic_deletes_and_expiry() {
    let mut t = traced();
    t.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(ev(&mut t, "DEL a b x"), ["del a", "del b"]);
    assert_eq!(ev(&mut t, "UNLINK c"), ["del c"]);
    t.cmd(&["SET", "e", "1"]);
    for cmd in [
        "EXPIRE e 100",
        "PEXPIRE e 100000",
        "EXPIREAT e 9999999999",
        "PEXPIREAT e 9999999999000",
    ] {
        assert_eq!(ev(&mut t, cmd), ["expire e"], "{cmd}");
    }
    assert!(ev(&mut t, "EXPIRE e 100 NX").is_empty());
    assert!(ev(&mut t, "EXPIRE e 200 GT").is_empty());
    assert_eq!(ev(&mut t, "PERSIST e"), ["persist e"]);
    assert!(ev(&mut t, "PERSIST e").is_empty());
    assert_eq!(ev(&mut t, "EXPIRE e -1"), ["del e"]);
    assert!(ev(&mut t, "EXPIRE e 10").is_empty());
    t.cmd(&["SET", "e", "1"]);
    assert_eq!(ev(&mut t, "EXPIREAT e 1"), ["del e"]);
    t.cmd(&["SET", "e", "1"]);
    assert_eq!(ev(&mut t, "PEXPIRE e 0"), ["del e"]);
    assert_eq!(classes(&mut t, "SET e 1"), [class::NEW, class::STRING]);
    assert_eq!(classes(&mut t, "EXPIRE e 10"), [class::GENERIC]);
    assert_eq!(classes(&mut t, "PERSIST e"), [class::GENERIC]);
}

#[test]
fn generic_reads_miss() {
    let mut t = traced();
    for cmd in [
        "EXISTS k",
        "TYPE k",
        "TTL k",
        "PTTL k",
        "EXPIRETIME k",
        "TOUCH k",
    ] {
        assert_eq!(ev(&mut t, cmd), ["keymiss k"], "{cmd}");
    }
    assert!(ev(&mut t, "OBJECT ENCODING k").is_empty());
    assert!(ev(&mut t, "OBJECT FREQ k").is_empty());
    assert!(ev(&mut t, "DEL k").is_empty());
    assert!(ev(&mut t, "PERSIST k").is_empty());
    assert_eq!(classes(&mut t, "GET k"), [class::KEY_MISS]);
}

#[test]
fn rename_move_copy() {
    let mut t = traced();
    t.cmd(&["SET", "r", "1"]);
    assert!(ev(&mut t, "RENAME r r").is_empty());
    assert_eq!(
        ev(&mut t, "RENAME r s"),
        ["new s", "rename_from r", "rename_to s"]
    );
    t.cmd(&["SET", "t", "1"]);
    // An existing destination is deleted and added again: "new" all the same.
    assert_eq!(
        ev(&mut t, "RENAME s t"),
        ["new t", "rename_from s", "rename_to t"]
    );
    t.cmd(&["SET", "s", "1"]);
    assert!(ev(&mut t, "RENAMENX s t").is_empty());
    assert_eq!(
        ev(&mut t, "RENAMENX s u"),
        ["new u", "rename_from s", "rename_to u"]
    );
    assert!(ev(&mut t, "RENAME nokey x").is_empty(), "no keymiss");
    assert_eq!(
        ev(&mut t, "MOVE u 1"),
        ["new@1 u", "move_from u", "move_to@1 u"]
    );
    t.cmd(&["SET", "u", "2"]);
    assert!(ev(&mut t, "MOVE u 1").is_empty());
    assert_eq!(ev(&mut t, "COPY u v"), ["new v", "copy_to v"]);
    assert!(ev(&mut t, "COPY u v").is_empty());
    assert_eq!(ev(&mut t, "COPY u v DB 1"), ["new@1 v", "copy_to@1 v"]);
    assert_eq!(
        ev(&mut t, "COPY u v DB 1 REPLACE"),
        ["new@1 v", "copy_to@1 v"]
    );
    assert_eq!(ev(&mut t, "COPY nokey x"), ["keymiss nokey"]);
    let c = classes(&mut t, "RENAME u w");
    assert_eq!(c, [class::NEW, class::GENERIC, class::GENERIC]);
}

#[test]
fn sort_store() {
    let mut t = traced();
    t.cmd(&["RPUSH", "l", "3", "1", "2"]);
    assert_eq!(ev(&mut t, "SORT l STORE d"), ["new d", "sortstore d"]);
    assert_eq!(ev(&mut t, "SORT l STORE d"), ["sortstore d"]);
    assert_eq!(classes(&mut t, "SORT l STORE d"), [class::LIST]);
    assert_eq!(
        ev(&mut t, "SORT nolist STORE d"),
        ["keymiss nolist", "del d"]
    );
    assert_eq!(ev(&mut t, "SORT nolist STORE d"), ["keymiss nolist"]);
    t.cmd(&["SET", "w1", "1"]);
    // BY reads each element's weight in list order, GET each in sorted order.
    assert_eq!(
        ev(&mut t, "SORT l BY w* GET w* STORE z"),
        [
            "keymiss w3",
            "keymiss w2",
            "keymiss w2",
            "keymiss w3",
            "new z",
            "sortstore z"
        ]
    );
    assert_eq!(ev(&mut t, "SORT_RO nolist"), ["keymiss nolist"]);
}

#[test]
fn nothing_is_recorded_unless_wanted() {
    let mut t = TestDb::default();
    t.cmd(&["SET", "a", "1"]);
    t.cmd(&["GET", "zz"]);
    assert!(t.last_notices.is_empty());
    // Only the classes asked for.
    t.ev.want = Want {
        touched: false,
        classes: KEYEVENT | class::LIST,
    };
    assert_eq!(ev(&mut t, "RPUSH l a"), ["rpush l"]);
    assert_eq!(ev(&mut t, "LPOP l"), ["lpop l"]);
    assert!(ev(&mut t, "GET zz").is_empty());
}
