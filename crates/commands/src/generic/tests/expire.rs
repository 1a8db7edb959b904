//! EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST.

use super::*;
use crate::testing::rewritten;
use crate::testing::{err, int, TestDb};
use crate::Propagate;

#[test]
fn ttl_of_missing_and_persistent_keys() {
    let mut t = TestDb::default();
    for c in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(t.cmd(&[c, "nope"]), int(-2), "{c}");
    }
    put(&mut t, 0, "a", "1");
    for c in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(t.cmd(&[c, "a"]), int(-1), "{c}");
    }
}

#[test]
fn ttl_values_and_rounding() {
    let mut t = TestDb::default();
    let now = t.now_ms;
    put_at(&mut t, "a", "1", now + 1499);
    assert_eq!(t.cmd(&["TTL", "a"]), int(1));
    assert_eq!(t.cmd(&["PTTL", "a"]), int(1499));
    assert_eq!(t.cmd(&["PEXPIRETIME", "a"]), int(now + 1499));
    assert_eq!(t.cmd(&["EXPIRETIME", "a"]), int((now + 1499 + 500) / 1000));
    put_at(&mut t, "b", "1", now + 1500);
    assert_eq!(t.cmd(&["TTL", "b"]), int(2));
    // The last millisecond before expiry.
    t.now_ms = now + 1498;
    assert_eq!(t.cmd(&["PTTL", "a"]), int(1));
    assert_eq!(t.cmd(&["TTL", "a"]), int(0));
    t.now_ms = now + 1499;
    assert_eq!(t.cmd(&["TTL", "a"]), int(-2));
    assert_eq!(raw_len(&t, 0), 1);
}

#[test]
fn expiretime_near_the_limit_rounds_up() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    assert_eq!(t.cmd(&["PEXPIREAT", "a", "9223372036854775807"]), int(1));
    assert_eq!(t.cmd(&["EXPIRETIME", "a"]), int(9223372036854776));
    assert_eq!(t.cmd(&["PEXPIRETIME", "a"]), int(9223372036854775807));
}

#[test]
fn expire_sets_and_propagates_absolute_time() {
    let mut t = TestDb::default();
    let now = t.now_ms;
    put(&mut t, 0, "a", "1");
    let (r, p) = call_prop(&mut t, &["EXPIRE", "a", "100"]);
    assert_eq!(r, int(1));
    assert_eq!(expire_of(&t, 0, "a"), Some(now + 100_000));
    let at = (now + 100_000).to_string();
    assert_eq!(rewritten(&p), vec![vec!["PEXPIREAT", "a", at.as_str()]]);
    let (_, p) = call_prop(&mut t, &["PEXPIRE", "a", "5", "XX"]);
    let at = (now + 5).to_string();
    assert_eq!(
        rewritten(&p),
        vec![vec!["PEXPIREAT", "a", at.as_str(), "XX"]]
    );
    let secs = (now / 1000 + 50).to_string();
    let (_, p) = call_prop(&mut t, &["EXPIREAT", "a", &secs]);
    let at = ((now / 1000 + 50) * 1000).to_string();
    assert_eq!(rewritten(&p), vec![vec!["PEXPIREAT", "a", at.as_str()]]);
    let ms = (now + 7000).to_string();
    let (_, p) = call_prop(&mut t, &["PEXPIREAT", "a", &ms]);
    assert!(matches!(p, Propagate::AsIs));
    assert_eq!(t.cmd(&["PTTL", "a"]), int(7000));
    assert_eq!(t.dirty, 4);
}

#[test]
fn expire_in_the_past_deletes_and_propagates_del() {
    let mut t = TestDb::default();
    for (cmd, arg) in [
        ("EXPIRE", "0"),
        ("EXPIRE", "-5"),
        ("PEXPIRE", "-9223372036854775808"),
        ("EXPIREAT", "1"),
        ("PEXPIREAT", "0"),
    ] {
        put(&mut t, 0, "a", "1");
        let (r, p) = call_prop(&mut t, &[cmd, "a", arg]);
        assert_eq!(r, int(1), "{cmd} {arg}");
        assert_eq!(get(&t, 0, "a"), None, "{cmd} {arg}");
        assert_eq!(rewritten(&p), vec![vec!["DEL", "a"]]);
    }
    assert_eq!(t.dirty, 5);
    // The current millisecond is already the past.
    put(&mut t, 0, "a", "1");
    let now = t.now_ms.to_string();
    assert_eq!(t.cmd(&["PEXPIREAT", "a", &now]), int(1));
    assert_eq!(get(&t, 0, "a"), None);
}

#[test]
fn replica_keeps_keys_with_past_expire() {
    let mut t = TestDb::default();
    t.settings.replica = true;
    put(&mut t, 0, "a", "1");
    assert_eq!(t.cmd(&["PEXPIREAT", "a", "1"]), int(1));
    assert_eq!(expire_of(&t, 0, "a"), Some(1));
    assert_eq!(raw_len(&t, 0), 1);
}

#[test]
fn expire_on_missing_key() {
    let mut t = TestDb::default();
    assert_eq!(t.cmd(&["EXPIRE", "nope", "100"]), int(0));
    assert_eq!(t.cmd(&["EXPIRE", "nope", "-1"]), int(0));
    assert_eq!(t.dirty, 0);
}

#[test]
fn expire_option_errors() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    let nx = err(crate::generic::EXPIRE_NX_CONFLICT);
    assert_eq!(t.cmd(&["EXPIRE", "a", "100", "NX", "XX"]), nx);
    assert_eq!(t.cmd(&["EXPIRE", "a", "100", "nx", "gt"]), nx);
    assert_eq!(t.cmd(&["EXPIRE", "a", "100", "lt", "nx"]), nx);
    assert_eq!(
        t.cmd(&["EXPIRE", "a", "100", "GT", "LT"]),
        err(crate::generic::EXPIRE_GT_LT_CONFLICT)
    );
    assert_eq!(
        t.cmd(&["EXPIRE", "a", "100", "foo"]),
        err("ERR Unsupported option foo")
    );
    // Options are checked before the time.
    assert_eq!(
        t.cmd(&["EXPIRE", "a", "abc", "foo"]),
        err("ERR Unsupported option foo")
    );
    assert_eq!(
        t.call(&[b"EXPIRE", b"a", b"1", b"x\0y"]),
        err("ERR Unsupported option x")
    );
    assert_eq!(
        t.cmd(&["EXPIRE", "a", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        t.cmd(&["EXPIRE", "a", "1.5"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        t.cmd(&["EXPIRE", "a"]),
        err("ERR wrong number of arguments for 'expire' command")
    );
    assert_eq!(t.cmd(&["EXPIRE", "a", "100", "NX", "NX"]), int(1));
    assert_eq!(t.cmd(&["EXPIRE", "a", "100", "XX", "GT"]), int(0));
}

#[test]
fn expire_overflow() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    let cases = [
        ("EXPIRE", "9223372036854775807", "expire"),
        ("EXPIRE", "9223372036854775", "expire"),
        ("EXPIRE", "9223372036854774", "expire"),
        ("EXPIRE", "-9223372036854775808", "expire"),
        ("PEXPIRE", "9223372036854775807", "pexpire"),
        ("EXPIREAT", "9223372036854775806", "expireat"),
    ];
    for (cmd, arg, name) in cases {
        assert_eq!(
            t.cmd(&[cmd, "a", arg]),
            err(&format!("ERR invalid expire time in '{name}' command")),
            "{cmd} {arg}"
        );
    }
    // Overflow is checked even for a missing key.
    assert_eq!(
        t.cmd(&["EXPIRE", "nope", "9223372036854775807"]),
        err("ERR invalid expire time in 'expire' command")
    );
    assert_eq!(t.cmd(&["EXPIREAT", "a", "9223372036854775"]), int(1));
    assert_eq!(t.cmd(&["PEXPIREAT", "a", "9223372036854775807"]), int(1));
    assert_eq!(get(&t, 0, "a").as_deref(), Some("1"));
}

#[test]
fn nx_xx_gt_lt_conditions() {
    let mut t = TestDb::default();
    put(&mut t, 0, "a", "1");
    // No TTL: XX fails, GT fails (no TTL is infinite), LT succeeds.
    assert_eq!(t.cmd(&["EXPIRE", "a", "100", "XX"]), int(0));
    assert_eq!(t.cmd(&["EXPIRE", "a", "100", "GT"]), int(0));
    assert_eq!(t.cmd(&["TTL", "a"]), int(-1));
    assert_eq!(t.cmd(&["EXPIRE", "a", "100", "LT"]), int(1));
    assert_eq!(t.cmd(&["TTL", "a"]), int(100));
    // NX only without a TTL.
    assert_eq!(t.cmd(&["EXPIRE", "a", "200", "NX"]), int(0));
    // Equal times pass neither GT nor LT.
    assert_eq!(t.cmd(&["EXPIRE", "a", "100", "GT"]), int(0));
    assert_eq!(t.cmd(&["EXPIRE", "a", "100", "LT"]), int(0));
    assert_eq!(t.cmd(&["EXPIRE", "a", "200", "GT"]), int(1));
    assert_eq!(t.cmd(&["EXPIRE", "a", "150", "GT"]), int(0));
    assert_eq!(t.cmd(&["EXPIRE", "a", "150", "LT"]), int(1));
    assert_eq!(t.cmd(&["TTL", "a"]), int(150));
    assert_eq!(t.cmd(&["EXPIRE", "a", "300", "XX", "GT"]), int(1));
    assert_eq!(t.cmd(&["TTL", "a"]), int(300));
    // A past time through LT deletes; through GT it is refused.
    assert_eq!(t.cmd(&["EXPIRE", "a", "-5", "GT"]), int(0));
    assert_eq!(t.cmd(&["EXPIRE", "a", "-5", "LT"]), int(1));
    assert_eq!(t.cmd(&["EXISTS", "a"]), int(0));
    put(&mut t, 0, "b", "1");
    assert_eq!(t.cmd(&["EXPIRE", "b", "-5", "XX"]), int(0));
    assert_eq!(t.cmd(&["EXPIRE", "b", "-5", "NX"]), int(1));
    assert_eq!(t.cmd(&["EXISTS", "b"]), int(0));
}

#[test]
fn expire_on_expired_key_is_zero() {
    let mut t = TestDb::default();
    let now = t.now_ms;
    put_at(&mut t, "a", "1", now - 1);
    assert_eq!(t.cmd(&["EXPIRE", "a", "100"]), int(0));
    assert_eq!(t.cmd(&["PERSIST", "a"]), int(0));
    assert_eq!(raw_len(&t, 0), 0);
}

#[test]
fn persist_removes_ttl() {
    let mut t = TestDb::default();
    let now = t.now_ms;
    put_at(&mut t, "a", "1", now + 1000);
    put(&mut t, 0, "b", "1");
    assert_eq!(t.cmd(&["PERSIST", "a"]), int(1));
    assert_eq!(t.cmd(&["TTL", "a"]), int(-1));
    assert_eq!(t.cmd(&["PERSIST", "a"]), int(0));
    assert_eq!(t.cmd(&["PERSIST", "b"]), int(0));
    assert_eq!(t.cmd(&["PERSIST", "nope"]), int(0));
    assert_eq!(t.dirty, 1);
    t.now_ms += 5000;
    assert_eq!(t.cmd(&["EXISTS", "a"]), int(1));
}
