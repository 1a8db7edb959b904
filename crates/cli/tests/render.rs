//! Reply rendering against the exact bytes redis-cli 7.0.15 printed for the same
//! replies (captured with `FAKETTY=1 redis-cli ...` for the terminal form, plain
//! `redis-cli ...` for raw and `redis-cli --csv ...` for CSV; the command behind
//! each case is in its comment).

use bytes::Bytes;
use shoal_cli_core::format::{format_reply, Delims, OutputMode};
use shoal_resp::Frame;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}
fn bulk(s: &str) -> Frame {
    Frame::Bulk(b(s))
}
fn int(i: i64) -> Frame {
    Frame::Integer(i)
}
fn err(s: &str) -> Frame {
    Frame::Error(b(s))
}
fn arr(v: Vec<Frame>) -> Frame {
    Frame::Array(v)
}

struct Case {
    name: &'static str,
    frame: Frame,
    tty: &'static [u8],
    raw: &'static [u8],
    csv: &'static [u8],
}

fn cases() -> Vec<Case> {
    vec![
        // lrange l 0 -1
        Case {
            name: "array",
            frame: arr(vec![bulk("a"), bulk("b"), bulk("c")]),
            tty: b"1) \"a\"\n2) \"b\"\n3) \"c\"\n",
            raw: b"a\nb\nc\n",
            csv: b"\"a\",\"b\",\"c\"\n",
        },
        // lrange big 0 -1
        Case {
            name: "wide_array",
            frame: arr((1..=12).map(|i| bulk(&i.to_string())).collect()),
            tty: b" 1) \"1\"\n 2) \"2\"\n 3) \"3\"\n 4) \"4\"\n 5) \"5\"\n 6) \"6\"\n 7) \"7\"\n 8) \"8\"\n 9) \"9\"\n10) \"10\"\n11) \"11\"\n12) \"12\"\n",
            raw: b"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
            csv: b"\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\"\n",
        },
        // get nokey
        Case {
            name: "nil",
            frame: Frame::Null,
            tty: b"(nil)\n",
            raw: b"\n",
            csv: b"NULL\n",
        },
        // get k
        Case {
            name: "quoted",
            frame: bulk("a\"b\\c\nd"),
            tty: b"\"a\\\"b\\\\c\\nd\"\n",
            raw: b"a\"b\\c\nd\n",
            csv: b"\"a\\\"b\\\\c\\nd\"\n",
        },
        // incr k
        Case {
            name: "error",
            frame: err("ERR value is not an integer or out of range"),
            tty: b"(error) ERR value is not an integer or out of range\n",
            raw: b"ERR value is not an integer or out of range\n\n",
            csv: b"ERROR,\"ERR value is not an integer or out of range\"\n",
        },
        // lrange none 0 -1
        Case {
            name: "empty_array",
            frame: arr(vec![]),
            tty: b"(empty array)\n",
            raw: b"\n",
            csv: b"\n",
        },
        // -3 hgetall h
        Case {
            name: "map",
            frame: Frame::Map(vec![(bulk("f"), bulk("v")), (bulk("g"), bulk("w"))]),
            tty: b"1# \"f\" => \"v\"\n2# \"g\" => \"w\"\n",
            raw: b"f v\ng w\n",
            csv: b"\"f\",\"v\",\"g\",\"w\"\n",
        },
        // -3 hgetall none
        Case {
            name: "empty_map",
            frame: Frame::Map(vec![]),
            tty: b"(empty hash)\n",
            raw: b"\n",
            csv: b"\n",
        },
        // -3 smembers none
        Case {
            name: "empty_set",
            frame: Frame::Set(vec![]),
            tty: b"(empty set)\n",
            raw: b"\n",
            csv: b"\n",
        },
        // -3 smembers s
        Case {
            name: "set",
            frame: Frame::Set(vec![bulk("a")]),
            tty: b"1~ \"a\"\n",
            raw: b"a\n",
            csv: b"\"a\"\n",
        },
        // eval "return {1,{2,{3,'x'}},'y',{}}" 0
        Case {
            name: "nested",
            frame: arr(vec![int(1), arr(vec![int(2), arr(vec![int(3), bulk("x")])]), bulk("y"), arr(vec![])]),
            tty: b"1) (integer) 1\n2) 1) (integer) 2\n   2) 1) (integer) 3\n      2) \"x\"\n3) \"y\"\n4) (empty array)\n",
            raw: b"1\n2\n3\nx\ny\n\n",
            csv: b"1,2,3,\"x\",\"y\",\n",
        },
        // -3 debug protocol double
        Case {
            name: "double",
            frame: Frame::Double(b("3.141")),
            tty: b"(double) 3.141\n",
            raw: b"3.141\n",
            csv: b"3.141\n",
        },
        // -3 debug protocol true
        Case {
            name: "true",
            frame: Frame::Boolean(true),
            tty: b"(true)\n",
            raw: b"(true)\n",
            csv: b"true\n",
        },
        // -3 debug protocol false
        Case {
            name: "false",
            frame: Frame::Boolean(false),
            tty: b"(false)\n",
            raw: b"(false)\n",
            csv: b"false\n",
        },
        // -3 debug protocol verbatim
        Case {
            name: "verbatim",
            frame: Frame::Verbatim { format: b("txt"), text: b("This is a verbatim\nstring") },
            tty: b"This is a verbatim\nstring\n",
            raw: b"This is a verbatim\nstring\n",
            csv: b"\"This is a verbatim\\nstring\"\n",
        },
        // -3 debug protocol map
        Case {
            name: "map_of_bools",
            frame: Frame::Map(vec![(int(0), Frame::Boolean(false)), (int(1), Frame::Boolean(true)), (int(2), Frame::Boolean(false))]),
            tty: b"1# (integer) 0 => (false)\n2# (integer) 1 => (true)\n3# (integer) 2 => (false)\n",
            raw: b"0 (false)\n1 (true)\n2 (false)\n",
            csv: b"0,false,1,true,2,false\n",
        },
        // -3 debug protocol set
        Case {
            name: "set_of_ints",
            frame: Frame::Set(vec![int(0), int(1), int(2)]),
            tty: b"1~ (integer) 0\n2~ (integer) 1\n3~ (integer) 2\n",
            raw: b"0\n1\n2\n",
            csv: b"0,1,2\n",
        },
        // -3 eval "return {map={a={1,2}}}" 0
        Case {
            name: "map_multiline_value",
            frame: Frame::Map(vec![(bulk("a"), arr(vec![int(1), int(2)]))]),
            tty: b"1# \"a\" => \n   1) (integer) 1\n   2) (integer) 2\n",
            raw: b"a 1\n2\n",
            csv: b"\"a\",1,2\n",
        },
        // -3 hgetall hh
        Case {
            name: "wide_map",
            frame: Frame::Map((1..=10).map(|i| (bulk(&format!("f{i}")), bulk(&i.to_string()))).collect()),
            tty: b" 1# \"f1\" => \"1\"\n 2# \"f2\" => \"2\"\n 3# \"f3\" => \"3\"\n 4# \"f4\" => \"4\"\n 5# \"f5\" => \"5\"\n 6# \"f6\" => \"6\"\n 7# \"f7\" => \"7\"\n 8# \"f8\" => \"8\"\n 9# \"f9\" => \"9\"\n10# \"f10\" => \"10\"\n",
            raw: b"f1 1\nf2 2\nf3 3\nf4 4\nf5 5\nf6 6\nf7 7\nf8 8\nf9 9\nf10 10\n",
            csv: b"\"f1\",\"1\",\"f2\",\"2\",\"f3\",\"3\",\"f4\",\"4\",\"f5\",\"5\",\"f6\",\"6\",\"f7\",\"7\",\"f8\",\"8\",\"f9\",\"9\",\"f10\",\"10\"\n",
        },
        // -3 eval "return {{map={a=1}},{map={b={1}}}}" 0
        Case {
            name: "maps_in_array",
            frame: arr(vec![Frame::Map(vec![(bulk("a"), int(1))]), Frame::Map(vec![(bulk("b"), arr(vec![int(1)]))])]),
            tty: b"1) 1# \"a\" => (integer) 1\n2) 1# \"b\" => 1) (integer) 1\n",
            raw: b"a 1\nb 1\n",
            csv: b"\"a\",1,\"b\",1\n",
        },
        // -3 eval "return {map={a={map={b={1,2}}}}}" 0
        Case {
            name: "map_in_map",
            frame: Frame::Map(vec![(bulk("a"), Frame::Map(vec![(bulk("b"), arr(vec![int(1), int(2)]))]))]),
            tty: b"1# \"a\" => \n   1# \"b\" => \n      1) (integer) 1\n      2) (integer) 2\n",
            raw: b"a b 1\n2\n",
            csv: b"\"a\",\"b\",1,2\n",
        },
        // -3 eval "return {map={a={map={b='c'}}}}" 0
        Case {
            name: "map_nested_one_line",
            frame: Frame::Map(vec![(bulk("a"), Frame::Map(vec![(bulk("b"), bulk("c"))]))]),
            tty: b"1# \"a\" => 1# \"b\" => \"c\"\n",
            raw: b"a b c\n",
            csv: b"\"a\",\"b\",\"c\"\n",
        },
        // eval "return {1,{err='x'}}" 0
        Case {
            name: "error_in_array",
            frame: arr(vec![int(1), err("x")]),
            tty: b"1) (integer) 1\n2) (error) x\n",
            raw: b"1\nx\n\n",
            csv: b"1,ERROR,\"x\"\n",
        },
        // unsubscribe
        Case {
            name: "null_in_array",
            frame: arr(vec![bulk("unsubscribe"), Frame::Null, int(0)]),
            tty: b"1) \"unsubscribe\"\n2) (nil)\n3) (integer) 0\n",
            raw: b"unsubscribe\n\n0\n",
            csv: b"\"unsubscribe\",NULL,0\n",
        },
        // get bin
        Case {
            name: "binary",
            frame: Frame::Bulk(Bytes::from_static(b"\x00\xff\x7f\t\x07\x08 \"\\")),
            tty: b"\"\\x00\\xff\\x7f\\t\\a\\b \\\"\\\\\"\n",
            raw: b"\x00\xff\x7f\x09\x07\x08 \"\\\n",
            csv: b"\"\\x00\\xff\\x7f\\t\\a\\b \\\"\\\\\"\n",
        },
        // ping
        Case {
            name: "status",
            frame: Frame::Simple(b("PONG")),
            tty: b"PONG\n",
            raw: b"PONG\n",
            csv: b"\"PONG\"\n",
        },
        // eval "return -7" 0
        Case {
            name: "negative",
            frame: int(-7),
            tty: b"(integer) -7\n",
            raw: b"-7\n",
            csv: b"-7\n",
        },
    ]
}

fn check(mode: OutputMode, pick: fn(&Case) -> &'static [u8]) {
    let mut failures = Vec::new();
    for c in cases() {
        let got = format_reply(&c.frame, mode, false, &Delims::default());
        if got != pick(&c) {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                c.name,
                String::from_utf8_lossy(pick(&c)),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn terminal_form_matches_redis_cli() {
    check(OutputMode::Standard, |c| c.tty);
}

#[test]
fn raw_form_matches_redis_cli() {
    check(OutputMode::Raw, |c| c.raw);
}

#[test]
fn csv_form_matches_redis_cli() {
    check(OutputMode::Csv, |c| c.csv);
}

#[test]
fn raw_delimiters_and_raw_string_commands() {
    let f = arr(vec![bulk("a"), bulk("b")]);
    let d = Delims {
        element: b",".to_vec(),
        reply: b";".to_vec(),
    };
    assert_eq!(format_reply(&f, OutputMode::Raw, false, &d), b"a,b;");
    // INFO-like replies print raw on a terminal too, without the reply delimiter.
    let info = bulk("# Server\r\nredis_version:7.0.15\r\n");
    assert_eq!(
        format_reply(&info, OutputMode::Standard, true, &Delims::default()),
        b"# Server\r\nredis_version:7.0.15\r\n"
    );
}

#[test]
fn resp3_types_redis_cli_7_0_cannot_show() {
    // redis-cli 7.0 aborts on these; Shoal prints what later versions print.
    let big = Frame::BigNumber(b("1234567999999999999999999999999999999"));
    assert_eq!(
        format_reply(&big, OutputMode::Standard, false, &Delims::default()),
        b"(big number) 1234567999999999999999999999999999999\n"
    );
    assert_eq!(
        format_reply(&big, OutputMode::Raw, false, &Delims::default()),
        b"1234567999999999999999999999999999999\n"
    );
    // Attributes are not shown; the value they annotate is.
    let attr = Frame::Attribute(vec![(bulk("key-popularity"), int(1))], Box::new(bulk("v")));
    assert_eq!(
        format_reply(&attr, OutputMode::Standard, false, &Delims::default()),
        b"\"v\"\n"
    );
    assert_eq!(
        format_reply(
            &Frame::Push(vec![]),
            OutputMode::Standard,
            false,
            &Delims::default()
        ),
        b"(empty push)\n"
    );
}
