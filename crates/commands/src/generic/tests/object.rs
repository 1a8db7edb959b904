//! OBJECT.

use super::*;
use crate::testing::{bulk, err, int, TestDb};

#[test]
fn encodings() {
    let mut t = TestDb::default();
    put(&mut t, 0, "i", "123456");
    put(&mut t, 0, "e", "hello");
    put(&mut t, 0, "r", &"x".repeat(45));
    assert_eq!(t.cmd(&["OBJECT", "ENCODING", "i"]), bulk("int"));
    assert_eq!(t.cmd(&["OBJECT", "encoding", "e"]), bulk("embstr"));
    assert_eq!(t.cmd(&["OBJECT", "ENCODING", "r"]), bulk("raw"));
    assert_eq!(t.cmd(&["OBJECT", "ENCODING", "nope"]), Frame::Null);
}

#[test]
fn refcount_of_shared_integers() {
    let mut t = TestDb::default();
    for (v, want) in [
        ("0", 2147483647),
        ("9999", 2147483647),
        ("10000", 1),
        ("-1", 1),
        ("hello", 1),
    ] {
        put(&mut t, 0, "k", v);
        assert_eq!(t.cmd(&["OBJECT", "REFCOUNT", "k"]), int(want), "{v}");
    }
    assert_eq!(t.cmd(&["OBJECT", "REFCOUNT", "nope"]), Frame::Null);
}

#[test]
fn idletime_and_freq_depend_on_the_policy() {
    let mut t = TestDb::default();
    put(&mut t, 0, "k", "v");
    t.now_ms += 7_000;
    assert_eq!(t.cmd(&["OBJECT", "IDLETIME", "k"]), int(7));
    assert_eq!(t.cmd(&["OBJECT", "IDLETIME", "k"]), int(7));
    assert_eq!(
        t.cmd(&["OBJECT", "FREQ", "k"]),
        err(crate::generic::LFU_NOT_SELECTED)
    );
    // A missing key answers null before any policy check.
    assert_eq!(t.cmd(&["OBJECT", "FREQ", "nope"]), Frame::Null);
    t.settings.lfu_policy = true;
    assert_eq!(
        t.cmd(&["OBJECT", "IDLETIME", "k"]),
        err(crate::generic::LFU_SELECTED)
    );
    assert_eq!(t.cmd(&["OBJECT", "IDLETIME", "nope"]), Frame::Null);
    let Frame::Integer(f) = t.cmd(&["OBJECT", "FREQ", "k"]) else {
        panic!()
    };
    assert!((0..=255).contains(&f));
}

#[test]
fn lfu_counter_decays_per_period() {
    use crate::generic::object::lfu_decayed_counter;
    use shoal_keyspace::Entry;
    // Build an entry whose 24-bit clock reads (ldt minutes << 8 | counter): the
    // clock is written as seconds, so pick a time whose seconds give that pattern.
    let minutes: i64 = 100;
    let counter: i64 = 20;
    let clock = (minutes << 8) | counter;
    let e = Entry::new(Value::Str(Str::from_bytes(b"v")), clock * 1000);
    assert_eq!(i64::from(e.access_clock()), clock);
    let at = |min: i64| min * 60 * 1000;
    assert_eq!(lfu_decayed_counter(&e, at(minutes), 1), 20);
    assert_eq!(lfu_decayed_counter(&e, at(minutes + 5), 1), 15);
    assert_eq!(lfu_decayed_counter(&e, at(minutes + 10), 2), 15);
    assert_eq!(lfu_decayed_counter(&e, at(minutes + 500), 1), 0);
    assert_eq!(lfu_decayed_counter(&e, at(minutes + 500), 0), 20);
    // Minutes wrap at 16 bits.
    assert_eq!(lfu_decayed_counter(&e, at(minutes - 1), 1), 0);
}

#[test]
fn help_and_errors() {
    let mut t = TestDb::default();
    let Frame::Array(lines) = t.cmd(&["OBJECT", "HELP"]) else {
        panic!()
    };
    assert_eq!(lines.len(), 15);
    assert!(lines.iter().all(|l| matches!(l, Frame::Simple(_))));
    assert_eq!(
        lines[0],
        simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
    assert_eq!(
        t.cmd(&["OBJECT", "foo"]),
        err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
    );
    assert_eq!(
        t.cmd(&["OBJECT", "ENCODING"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert_eq!(
        t.cmd(&["OBJECT", "HELP", "x"]),
        err("ERR wrong number of arguments for 'object|help' command")
    );
    assert_eq!(
        t.cmd(&["OBJECT"]),
        err("ERR wrong number of arguments for 'object' command")
    );
}
