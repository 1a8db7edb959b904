//! Tests of the string commands: replays of replies captured from Redis 7.0.15, the
//! propagation and `dirty` counts Redis 7.0.15 showed in its AOF and INFO, and a
//! no-panic sweep over hostile arguments.

use super::golden;
use super::golden_corpus::CORPUS;
use super::golden_extra::{EXTRA, RANDOM_LCS};
use crate::testing::TestDb;

#[test]
fn redis_corpus() {
    golden::run(&mut TestDb::default(), CORPUS);
}

#[test]
fn redis_extra_edges() {
    golden::run(&mut TestDb::default(), EXTRA);
}

#[test]
fn redis_random_lcs() {
    golden::run(&mut TestDb::default(), RANDOM_LCS);
}

/// Which writes keep a key's TTL (captured from Redis).
const TTL: &str = r##"
## which writes keep the TTL
SET t 5 EX 100 => +OK
INCR t => :6
TTL t => :100
INCRBY t 5 => :11
DECR t => :10
DECRBY t 2 => :8
TTL t => :100
INCRBYFLOAT t 1.5 => "9.5"
TTL t => :100
APPEND t x => :4
TTL t => :100
SETRANGE t 0 y => :4
TTL t => :100
SETBIT t 0 1 => :0
TTL t => :100
BITFIELD t SET u8 0 1 => [:249]
TTL t => :100
SET t v KEEPTTL => +OK
TTL t => :100
GETEX t => "v"
TTL t => :100
GETSET t w => "v"
TTL t => :-1
SET t v EX 100 => +OK
MSET t w => +OK
TTL t => :-1
SET t v EX 100 => +OK
MSETNX t w => :0
TTL t => :100
SET t v EX 100 => +OK
SET t w => +OK
TTL t => :-1
SET t v EX 100 => +OK
BITOP NOT t t => :1
TTL t => :-1
SET t v EX 100 => +OK
SETEX t 50 w => +OK
TTL t => :50
SET t v EX 100 => +OK
SETNX t w => :0
TTL t => :100
GETDEL t => "v"
TTL t => :-2
"##;

#[test]
fn ttl_kept_or_dropped_like_redis() {
    golden::run(&mut TestDb::default(), TTL);
}

/// `(reply, dirty, propagated)` as Redis 7.0.15 showed them (AOF and
/// `rdb_changes_since_last_save`); `NOW` is replaced by the test clock.
const PROPAGATION: &[(&str, &str, u64, &str)] = &[
    ("SET k v PXAT 1", "+OK", 1, "SET k v PXAT 1"),
    ("GET k", "(nil)", 0, ""),
    ("SET k v EX 100", "+OK", 1, "SET k v PXAT NOW+100000"),
    ("SET k v EX 100 GET", "\"v\"", 1, "SET k v PXAT NOW+100000"),
    ("SET k v2 GET", "\"v\"", 1, "SET k v2"),
    ("SET k v GET get XX", "\"v2\"", 1, "SET k v XX"),
    (
        "SET k v PXAT 33177117420123 GET",
        "\"v\"",
        1,
        "SET k v PXAT 33177117420123",
    ),
    ("SET k v PXAT 33177117420123 NX", "(nil)", 0, ""),
    (
        "SET k v EXAT 33177117420 XX",
        "+OK",
        1,
        "SET k v PXAT 33177117420000",
    ),
    ("SET k v KEEPTTL", "+OK", 1, "SET k v KEEPTTL"),
    ("SET k v NX", "(nil)", 0, ""),
    ("SETNX k v", ":0", 0, ""),
    ("SETNX k2 v", ":1", 1, "SETNX k2 v"),
    ("SETEX k2 100 v", "+OK", 1, "SET k2 v PXAT NOW+100000"),
    ("PSETEX k2 100 v", "+OK", 1, "SET k2 v PXAT NOW+100"),
    ("GETEX k2", "\"v\"", 0, ""),
    ("GETEX k2 EX 100", "\"v\"", 1, "PEXPIREAT k2 NOW+100000"),
    ("GETEX k2 PX 100", "\"v\"", 1, "PEXPIREAT k2 NOW+100"),
    (
        "GETEX k2 PXAT 33177117420123",
        "\"v\"",
        1,
        "PEXPIREAT k2 33177117420123",
    ),
    ("GETEX k2 PERSIST", "\"v\"", 1, "PERSIST k2"),
    ("GETEX k2 PERSIST", "\"v\"", 0, ""),
    ("GETEX k2 EXAT 1", "\"v\"", 1, "DEL k2"),
    ("GETEX k2 EXAT 1", "(nil)", 0, ""),
    ("GETSET k3 x", "(nil)", 1, "SET k3 x"),
    ("SET f 1", "+OK", 1, "SET f 1"),
    ("INCRBYFLOAT f 1.5", "\"2.5\"", 1, "SET f 2.5 KEEPTTL"),
    ("INCRBYFLOAT f 0", "\"2.5\"", 1, "SET f 2.5 KEEPTTL"),
    ("INCRBYFLOAT f x", "-ERR value is not a valid float", 0, ""),
    ("GETDEL f", "\"2.5\"", 1, "DEL f"),
    ("GETDEL f", "(nil)", 0, ""),
    ("APPEND a \"\"", ":0", 1, "APPEND a "),
    ("APPEND a \"\"", ":0", 1, "APPEND a "),
    ("SETRANGE a 0 \"\"", ":0", 0, ""),
    ("SETRANGE s 0 \"\"", ":0", 0, ""),
    ("SETRANGE s 1 x", ":2", 1, "SETRANGE s 1 x"),
    ("SETRANGE s 1 x", ":2", 1, "SETRANGE s 1 x"),
    ("MSET a 1 a 2", "+OK", 2, "MSET a 1 a 2"),
    ("MSETNX a 1", ":0", 0, ""),
    ("MSETNX b 1 c 2", ":1", 2, "MSETNX b 1 c 2"),
    ("INCR n", ":1", 1, "INCR n"),
    ("INCRBY n 0", ":1", 1, "INCRBY n 0"),
    (
        "DECRBY n -9223372036854775808",
        "-ERR decrement would overflow",
        0,
        "",
    ),
    ("LCS a b", "\"\"", 0, ""),
];

#[test]
fn propagation_and_dirty_like_redis() {
    golden::check_propagation(&mut TestDb::default(), PROPAGATION);
}

#[test]
fn getdel_unlinks_under_lazyfree_user_del() {
    let mut t = TestDb::default();
    t.settings.lazyfree_lazy_user_del = true;
    golden::exec(&mut t, "SET k v");
    let (_, dirty, prop) = golden::exec_full(&mut t, "GETDEL k");
    assert_eq!((dirty, prop.as_str()), (1, "UNLINK k"));
}

#[test]
fn getex_in_the_past_only_sets_the_ttl_on_a_replica() {
    let mut t = TestDb::default();
    golden::exec(&mut t, "SET k v");
    t.settings.replica = true;
    let (reply, _, prop) = golden::exec_full(&mut t, "GETEX k PXAT 5");
    assert_eq!((reply.as_str(), prop.as_str()), ("\"v\"", "PEXPIREAT k 5"));
}

#[test]
fn expiry_follows_the_clock() {
    let mut t = TestDb::default();
    golden::run(
        &mut t,
        "SET k v PX 1000 => +OK
         PSETEX k2 1500 v => +OK
         GETEX k3 PX 10 => (nil)",
    );
    t.now_ms += 999;
    golden::run(&mut t, "GET k => \"v\"\nPTTL k => :1");
    t.now_ms += 1;
    golden::run(
        &mut t,
        "GET k => (nil)
         SET k v XX => (nil)
         MGET k k2 => [(nil), \"v\"]
         INCR k => :1
         TTL k => :-1",
    );
    t.now_ms += 500;
    golden::run(&mut t, "APPEND k2 x => :1\nGET k2 => \"x\"\nTTL k2 => :-1");
}

#[test]
fn string_length_limit_applies_before_allocating() {
    let mut t = TestDb::default();
    t.settings.proto_max_bulk_len = 10;
    golden::run(
        &mut t,
        r#"SET k 123456789 => +OK
           APPEND k 0 => :10
           APPEND k 1 => -ERR string exceeds maximum allowed size (proto-max-bulk-len)
           SETRANGE k 9 x => :10
           SETRANGE k 10 x => -ERR string exceeds maximum allowed size (proto-max-bulk-len)
           SETRANGE n 9 x => :10
           SETRANGE n 9 xy => -ERR string exceeds maximum allowed size (proto-max-bulk-len)
           SETRANGE m 9223372036854775807 x => -ERR string exceeds maximum allowed size (proto-max-bulk-len)
           LCS nokey nokey2 => ""
           LCS k n => -ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len
           SET a 12345678 => +OK
           LCS a a => -ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len
           LCS a a LEN => -ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"#,
    );
}

#[test]
fn resp3_replies() {
    let mut t = TestDb {
        proto: shoal_resp::Proto::Resp3,
        ..TestDb::default()
    };
    golden::run(
        &mut t,
        r#"GET nokey => (nil)
           MSET l1 ohmytext l2 mynewtext => +OK
           LCS l1 l2 IDX MINMATCHLEN 4 => {"matches": [[[:4, :7], [:5, :8]]], "len": :6}
           MGET l1 nokey => ["ohmytext", (nil)]
           SET l1 x NX => (nil)
           SET l1 x XX GET => "ohmytext"
           GETEX nokey => (nil)
           BITFIELD nokey OVERFLOW FAIL INCRBY u8 0 300 => [(nil)]"#,
    );
}

/// Hostile arguments of every kind must produce a reply, never a panic.
#[test]
fn no_panic_on_hostile_arguments() {
    use rand::{Rng, SeedableRng};
    let pool: &[&[u8]] = &[
        b"",
        b"0",
        b"1",
        b"-1",
        b"2",
        b"7",
        b"64",
        b"63",
        b"-0",
        b"+1",
        b"1.5",
        b"1e3",
        b"inf",
        b"-inf",
        b"nan",
        b"0x10",
        b"abc",
        b"\x00",
        b"#1",
        b"#-1",
        b"i8",
        b"u63",
        b"i64",
        b"u64",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"9223372036854775808",
        b"4294967295",
        b"536870911",
        b"#2305843009213693953",
        b"EX",
        b"PX",
        b"EXAT",
        b"PXAT",
        b"NX",
        b"XX",
        b"GET",
        b"KEEPTTL",
        b"PERSIST",
        b"IDX",
        b"LEN",
        b"MINMATCHLEN",
        b"WITHMATCHLEN",
        b"BIT",
        b"BYTE",
        b"SET",
        b"INCRBY",
        b"OVERFLOW",
        b"SAT",
        b"FAIL",
        b"WRAP",
        b"AND",
        b"NOT",
        b"k",
        b"k2",
        b"\xff\xfe",
    ];
    let cmds = [
        "get",
        "set",
        "setnx",
        "setex",
        "psetex",
        "getex",
        "getdel",
        "getset",
        "mget",
        "mset",
        "msetnx",
        "append",
        "strlen",
        "getrange",
        "substr",
        "setrange",
        "incr",
        "decr",
        "incrby",
        "decrby",
        "incrbyfloat",
        "lcs",
        "setbit",
        "getbit",
        "bitcount",
        "bitpos",
        "bitop",
        "bitfield",
        "bitfield_ro",
    ];
    let mut rng = rand::rngs::SmallRng::seed_from_u64(42);
    let mut t = TestDb::default();
    t.settings.proto_max_bulk_len = 4096;
    for _ in 0..20_000 {
        let mut argv: Vec<&[u8]> = vec![cmds[rng.gen_range(0..cmds.len())].as_bytes()];
        let n = rng.gen_range(0..7);
        for i in 0..n {
            // Keep keys in the small key set most of the time.
            let a = if i == 0 && rng.gen_bool(0.8) {
                [&b"k"[..], b"k2"][rng.gen_range(0..2)]
            } else {
                pool[rng.gen_range(0..pool.len())]
            };
            argv.push(a);
        }
        t.call(&argv);
    }
}

/// Replays a golden file named by `SHOAL_GOLDEN_FILE` (lines `command => reply`,
/// captured from a reference server): a quick differential check for larger
/// generated scripts. `cargo test -p shoal-commands replay_golden_file -- --ignored`
#[test]
#[ignore]
fn replay_golden_file() {
    let Ok(path) = std::env::var("SHOAL_GOLDEN_FILE") else {
        return;
    };
    let script = std::fs::read_to_string(path).expect("readable golden file");
    golden::run(&mut TestDb::default(), &script);
}
