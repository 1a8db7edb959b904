//! Tests of the reply encoder; expected bytes observed on redis-server 7.0.15.

use super::*;

fn both(f: impl Fn(&mut ReplyWriter)) -> (Vec<u8>, Vec<u8>) {
    let mut w2 = ReplyWriter::new(Proto::Resp2);
    let mut w3 = ReplyWriter::new(Proto::Resp3);
    f(&mut w2);
    f(&mut w3);
    (w2.buf.to_vec(), w3.buf.to_vec())
}

fn check(f: impl Fn(&mut ReplyWriter), resp2: &[u8], resp3: &[u8]) {
    let (r2, r3) = both(f);
    assert_eq!(
        String::from_utf8_lossy(&r2),
        String::from_utf8_lossy(resp2),
        "RESP2"
    );
    assert_eq!(
        String::from_utf8_lossy(&r3),
        String::from_utf8_lossy(resp3),
        "RESP3"
    );
}

#[test]
fn scalars() {
    check(|w| w.ok(), b"+OK\r\n", b"+OK\r\n");
    check(|w| w.simple("PONG"), b"+PONG\r\n", b"+PONG\r\n");
    check(|w| w.simple("a\r\nb"), b"+a  b\r\n", b"+a  b\r\n");
    check(
        |w| w.simple_bytes(b"x\ny\xff"),
        b"+x y\xff\r\n",
        b"+x y\xff\r\n",
    );
    check(|w| w.int(-42), b":-42\r\n", b":-42\r\n");
    check(
        |w| w.int(i64::MIN),
        b":-9223372036854775808\r\n",
        b":-9223372036854775808\r\n",
    );
    check(
        |w| w.bulk(b"a\r\nb"),
        b"$4\r\na\r\nb\r\n",
        b"$4\r\na\r\nb\r\n",
    );
    check(|w| w.bulk(b""), b"$0\r\n\r\n", b"$0\r\n\r\n");
    check(
        |w| w.bulk_str("hé"),
        b"$3\r\nh\xc3\xa9\r\n",
        b"$3\r\nh\xc3\xa9\r\n",
    );
    check(|w| w.bulk_int(-17), b"$3\r\n-17\r\n", b"$3\r\n-17\r\n");
    check(|w| w.raw(b"+X\r\n"), b"+X\r\n", b"+X\r\n");
}

#[test]
fn nulls_and_booleans() {
    check(|w| w.null(), b"$-1\r\n", b"_\r\n");
    check(|w| w.null_array(), b"*-1\r\n", b"_\r\n");
    check(|w| w.boolean(true), b":1\r\n", b"#t\r\n");
    check(|w| w.boolean(false), b":0\r\n", b"#f\r\n");
}

#[test]
fn aggregates() {
    check(|w| w.array(3), b"*3\r\n", b"*3\r\n");
    check(|w| w.array(0), b"*0\r\n", b"*0\r\n");
    check(|w| w.map(2), b"*4\r\n", b"%2\r\n");
    check(|w| w.set(5), b"*5\r\n", b"~5\r\n");
    check(|w| w.push(3), b"*3\r\n", b">3\r\n");
}

#[test]
fn doubles() {
    // ZSCORE replies of redis 7.0.15.
    check(
        |w| w.double(0.1),
        b"$19\r\n0.10000000000000001\r\n",
        b",0.10000000000000001\r\n",
    );
    check(|w| w.double(3.0), b"$1\r\n3\r\n", b",3\r\n");
    check(|w| w.double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n");
    check(
        |w| w.double(f64::NEG_INFINITY),
        b"$4\r\n-inf\r\n",
        b",-inf\r\n",
    );
    check(
        |w| w.double(1e300),
        b"$23\r\n1.0000000000000001e+300\r\n",
        b",1.0000000000000001e+300\r\n",
    );
    check(
        |w| w.double(1.5e-7),
        b"$22\r\n1.4999999999999999e-07\r\n",
        b",1.4999999999999999e-07\r\n",
    );
}

#[test]
fn big_numbers_and_verbatim() {
    check(
        |w| w.big_number("1234567890123456789012"),
        b"$22\r\n1234567890123456789012\r\n",
        b"(1234567890123456789012\r\n",
    );
    check(
        |w| w.verbatim("txt", b"Some string"),
        b"$11\r\nSome string\r\n",
        b"=15\r\ntxt:Some string\r\n",
    );
    check(
        |w| w.verbatim("m", b"x"),
        b"$1\r\nx\r\n",
        b"=5\r\nm  :x\r\n",
    );
    check(
        |w| w.verbatim("mkdown", b""),
        b"$0\r\n\r\n",
        b"=4\r\nmkd:\r\n",
    );
}

#[test]
fn errors_and_codes() {
    let mut w = ReplyWriter::new(Proto::Resp2);
    w.error("ERR syntax error");
    w.error("WRONGTYPE Operation against a key holding the wrong kind of value");
    w.error("-NOAUTH Authentication required.");
    w.error("ERR a\r\nb\nc\rd");
    w.error("nospacehere_very_long_error_code_without_space");
    // Redis looks for the space within the first 32 bytes of "-CODE ...".
    w.error("abcdefghijklmnopqrstuvwxyz1234 x");
    w.error("abcdefghijklmnopqrstuvwxyz12345 x");
    w.error(" lead");
    w.error("\r\nERR x");
    assert_eq!(
        String::from_utf8_lossy(&w.buf),
        "-ERR syntax error\r\n\
         -WRONGTYPE Operation against a key holding the wrong kind of value\r\n\
         -NOAUTH Authentication required.\r\n\
         -ERR a  b c d\r\n\
         -nospacehere_very_long_error_code_without_space\r\n\
         -abcdefghijklmnopqrstuvwxyz1234 x\r\n\
         -abcdefghijklmnopqrstuvwxyz12345 x\r\n\
         - lead\r\n\
         -  ERR x\r\n"
    );
    assert_eq!(
        w.take_error_codes(),
        vec![
            "ERR",
            "WRONGTYPE",
            "NOAUTH",
            "ERR",
            "ERR",
            "abcdefghijklmnopqrstuvwxyz1234",
            "ERR",
            "",
            ""
        ]
    );
    assert!(w.take_error_codes().is_empty());
}

#[test]
fn protocol_errors_are_exact() {
    let mut w = ReplyWriter::new(Proto::Resp3);
    w.protocol_error(&ProtocolError::ExpectedDollar(0xff));
    w.protocol_error(&ProtocolError::InvalidBulkLength);
    assert_eq!(
        w.buf.as_ref(),
        b"-ERR Protocol error: expected '$', got '\xff'\r\n-ERR Protocol error: invalid bulk length\r\n"
    );
    assert_eq!(w.take_error_codes(), vec!["ERR", "ERR"]);
}

#[test]
fn deferred_lengths() {
    let (r2, r3) = both(|w| {
        w.simple("before");
        let d = w.defer_len();
        for i in 0..12 {
            w.bulk_int(i);
            w.int(i);
        }
        w.set_deferred_map(d, 12);
        let d = w.defer_len();
        w.set_deferred_array(d, 0);
        let d = w.defer_len();
        w.bulk(b"x");
        w.set_deferred_set(d, 1);
    });
    let mut want2 = b"+before\r\n*24\r\n".to_vec();
    let mut want3 = b"+before\r\n%12\r\n".to_vec();
    for i in 0..12 {
        let item = format!("${}\r\n{i}\r\n:{i}\r\n", i.to_string().len());
        want2.extend_from_slice(item.as_bytes());
        want3.extend_from_slice(item.as_bytes());
    }
    want2.extend_from_slice(b"*0\r\n*1\r\n$1\r\nx\r\n");
    want3.extend_from_slice(b"*0\r\n~1\r\n$1\r\nx\r\n");
    assert_eq!(r2, want2);
    assert_eq!(r3, want3);
}

#[test]
fn deferred_after_truncate_does_not_panic() {
    let mut w = ReplyWriter::new(Proto::Resp2);
    w.bulk(b"abc");
    let d = w.defer_len();
    w.truncate(2);
    w.set_deferred_array(d, 1);
    assert_eq!(w.buf.as_ref(), b"$3*1\r\n");
}

#[test]
fn len_and_truncate() {
    let mut w = ReplyWriter::new(Proto::Resp2);
    assert!(w.is_empty());
    w.ok();
    let mark = w.len();
    w.array(2);
    w.bulk(b"a");
    w.truncate(mark);
    assert_eq!(w.buf.as_ref(), b"+OK\r\n");
    assert_eq!(w.len(), 5);
    assert!(!w.is_empty());
}
