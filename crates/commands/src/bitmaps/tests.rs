//! Tests of the bitmap commands: replays of replies captured from Redis 7.0.15,
//! `dirty` counts as Redis 7.0.15 reported them, and offset limits.

use super::golden_corpus::{CORPUS, RANDOM_BITFIELD};
use super::golden_ranges::RANDOM_RANGES;
use super::{bit_offset, first_bit, popcount};
use crate::strings::golden;
use crate::testing::TestDb;

#[test]
fn redis_corpus() {
    golden::run(&mut TestDb::default(), CORPUS);
}

#[test]
fn redis_random_ranges() {
    golden::run(&mut TestDb::default(), RANDOM_RANGES);
}

#[test]
fn redis_random_bitfield() {
    golden::run(&mut TestDb::default(), RANDOM_BITFIELD);
}

/// `(command, reply, dirty)` as Redis 7.0.15 reported them: a bit write counts only
/// when the key was created or grew or a value changed.
const DIRTY: &[(&str, &str, u64)] = &[
    ("SETBIT b 0 0", ":0", 1),
    ("SETBIT b 0 0", ":0", 0),
    ("SETBIT b 0 1", ":0", 1),
    ("SETBIT b 0 1", ":1", 0),
    ("SETBIT b 9 0", ":0", 1),
    ("BITFIELD bf OVERFLOW FAIL INCRBY u8 0 300", "[(nil)]", 0),
    ("STRLEN bf", ":1", 0),
    (
        "BITFIELD bf SET u8 0 1 SET u8 0 1 GET u8 0",
        "[:0, :1, :1]",
        1,
    ),
    ("BITFIELD new SET u8 0 0 SET u8 0 0", "[:0, :0]", 2),
    ("BITFIELD new SET u8 0 0 SET u8 0 0", "[:0, :0]", 0),
    ("BITFIELD new SET u8 8 0 SET u8 0 0", "[:0, :0]", 2),
    ("BITFIELD new2 GET u8 0", "[:0]", 0),
    ("BITFIELD_RO new GET u8 0", "[:0]", 0),
    ("BITOP AND dest missing", ":0", 0),
    ("BITOP OR dest b", ":2", 1),
    ("BITOP AND dest missing", ":0", 1),
    ("BITCOUNT b", ":1", 0),
];

#[test]
fn dirty_like_redis() {
    let mut t = TestDb::default();
    for &(cmd, reply, dirty) in DIRTY {
        let (got, got_dirty, _) = golden::exec_full(&mut t, cmd);
        assert_eq!((got.as_str(), got_dirty), (reply, dirty), "{cmd}");
    }
}

#[test]
fn offsets_respect_proto_max_bulk_len() {
    let mut t = TestDb::default();
    t.settings.proto_max_bulk_len = 4;
    golden::run(
        &mut t,
        r#"SETBIT b 32 1 => -ERR bit offset is not an integer or out of range
           SETBIT b 31 1 => :0
           STRLEN b => :4
           GETBIT b 32 => -ERR bit offset is not an integer or out of range
           BITFIELD b GET u8 32 => -ERR bit offset is not an integer or out of range
           BITFIELD b SET u8 24 255 => [:1]
           BITFIELD b SET u16 24 1 => [:65280]
           STRLEN b => :5
           BITFIELD b GET u8 #4 => -ERR bit offset is not an integer or out of range
           BITFIELD b GET u8 #3 => [:0]"#,
    );
}

#[test]
fn hash_offsets_wrap_like_c() {
    // 2305843009213693953 * 8 wraps to 8 in Redis's signed 64-bit multiplication.
    golden::run(
        &mut TestDb::default(),
        r#"SET k "\x00\xff" => +OK
           BITFIELD k GET u8 #2305843009213693953 => [:255]
           BITFIELD k GET u8 #9223372036854775807 => -ERR bit offset is not an integer or out of range"#,
    );
    assert_eq!(bit_offset(b"#", 8, 1 << 29), Err(crate::errors::BIT_OFFSET));
    assert_eq!(
        bit_offset(b"#3", 0, 1 << 29),
        Err(crate::errors::BIT_OFFSET)
    );
    assert_eq!(bit_offset(b"#3", 5, 1 << 29), Ok(15));
}

#[test]
fn int_encoded_values_are_read_as_text() {
    golden::run(
        &mut TestDb::default(),
        r#"SET n 12345 => +OK
           GETBIT n 2 => :1
           GETBIT n 40 => :0
           BITPOS n 0 => :0
           BITPOS n 1 2 => :18
           BITFIELD_RO n GET u8 0 GET i16 #2 => [:49, :13568]
           BITOP NOT d n => :5
           GET d => "\xce\xcd\xcc\xcb\xca"
           OBJECT ENCODING n => "int""#,
    );
}

#[test]
fn helpers() {
    assert_eq!(popcount(&[0xff; 17]), 136);
    assert_eq!(popcount(&[]), 0);
    assert_eq!(first_bit(&[0, 0, 0x10], true), 19);
    assert_eq!(first_bit(&[0xff, 0xfe], false), 15);
    assert_eq!(first_bit(&[0xff], false), 8);
    assert_eq!(first_bit(&[0], true), -1);
    assert_eq!(first_bit(&[], false), 0);
}
