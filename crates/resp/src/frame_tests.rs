//! Tests of the reply parser and the command encoder.

use super::*;
use crate::reply::{Proto, ReplyWriter};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn parse_one(input: &[u8]) -> Frame {
    let (f, used) = parse_frame(input).unwrap().unwrap();
    assert_eq!(used, input.len());
    f
}

/// Parses with `parse_frame` and with `FrameDecoder` fed byte by byte and in one go;
/// all must agree.
fn parse_everywhere(input: &[u8]) -> Result<Option<Frame>, FrameError> {
    let stateless = parse_frame(input).map(|o| o.map(|(f, _)| f));
    for step in [1, 2, 7, input.len().max(1)] {
        let mut d = FrameDecoder::new();
        let mut buf = BytesMut::new();
        let mut got = Ok(None);
        for chunk in input.chunks(step) {
            buf.extend_from_slice(chunk);
            got = d.decode(&mut buf);
            if !matches!(got, Ok(None)) {
                break;
            }
        }
        match (&stateless, &got) {
            (Err(_), Err(_)) => {}
            _ => assert_eq!(got, stateless, "step {step}"),
        }
    }
    stateless
}

#[test]
fn resp2_types() {
    assert_eq!(parse_one(b"+OK\r\n"), Frame::Simple(b("OK")));
    assert_eq!(parse_one(b"-ERR bad\r\n"), Frame::Error(b("ERR bad")));
    assert_eq!(parse_one(b":-12\r\n"), Frame::Integer(-12));
    assert_eq!(parse_one(b"$3\r\na\r\n\r\n"), Frame::Bulk(b("a\r\n")));
    assert_eq!(parse_one(b"$0\r\n\r\n"), Frame::Bulk(b("")));
    assert_eq!(parse_one(b"$-1\r\n"), Frame::Null);
    assert_eq!(parse_one(b"*-1\r\n"), Frame::NullArray);
    assert_eq!(parse_one(b"*0\r\n"), Frame::Array(vec![]));
    assert_eq!(
        parse_one(b"*2\r\n$1\r\na\r\n*1\r\n:1\r\n"),
        Frame::Array(vec![
            Frame::Bulk(b("a")),
            Frame::Array(vec![Frame::Integer(1)])
        ])
    );
}

#[test]
fn resp3_types() {
    assert_eq!(parse_one(b"_\r\n"), Frame::Null);
    assert_eq!(parse_one(b",1.5\r\n"), Frame::Double(b("1.5")));
    assert_eq!(parse_one(b",-inf\r\n"), Frame::Double(b("-inf")));
    assert_eq!(parse_one(b"#t\r\n"), Frame::Boolean(true));
    assert_eq!(parse_one(b"#f\r\n"), Frame::Boolean(false));
    assert_eq!(
        parse_one(b"(123456789012345678901234\r\n"),
        Frame::BigNumber(b("123456789012345678901234"))
    );
    assert_eq!(parse_one(b"!5\r\nERR x\r\n"), Frame::Error(b("ERR x")));
    assert_eq!(
        parse_one(b"=15\r\ntxt:Some string\r\n"),
        Frame::Verbatim {
            format: b("txt"),
            text: b("Some string")
        }
    );
    assert_eq!(
        parse_one(b"%2\r\n+a\r\n:1\r\n+b\r\n_\r\n"),
        Frame::Map(vec![
            (Frame::Simple(b("a")), Frame::Integer(1)),
            (Frame::Simple(b("b")), Frame::Null)
        ])
    );
    assert_eq!(
        parse_one(b"~1\r\n:1\r\n"),
        Frame::Set(vec![Frame::Integer(1)])
    );
    assert_eq!(
        parse_one(b">2\r\n+message\r\n$1\r\nx\r\n"),
        Frame::Push(vec![Frame::Simple(b("message")), Frame::Bulk(b("x"))])
    );
    assert_eq!(
        parse_one(b"|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n"),
        Frame::Attribute(
            vec![(Frame::Simple(b("ttl")), Frame::Integer(3))],
            Box::new(Frame::Bulk(b("v")))
        )
    );
    // An attribute inside an aggregate annotates one element and is not counted.
    assert_eq!(
        parse_one(b"*2\r\n|0\r\n:1\r\n:2\r\n"),
        Frame::Array(vec![
            Frame::Attribute(vec![], Box::new(Frame::Integer(1))),
            Frame::Integer(2)
        ])
    );
}

#[test]
fn incomplete_and_consumed() {
    let input = b"*2\r\n$3\r\nfoo\r\n:7\r\n+next\r\n";
    for cut in 0..17 {
        assert_eq!(parse_frame(&input[..cut]), Ok(None), "cut {cut}");
    }
    let (f, used) = parse_frame(input).unwrap().unwrap();
    assert_eq!(used, 17);
    assert_eq!(
        f,
        Frame::Array(vec![Frame::Bulk(b("foo")), Frame::Integer(7)])
    );
    assert_eq!(parse_everywhere(input).unwrap().unwrap(), f);
    assert_eq!(parse_frame(b"|1\r\n+a\r\n+b\r\n"), Ok(None));
}

#[test]
fn malformed() {
    for input in [
        &b"?\r\n"[..],
        b"+OK\rX",
        b":abc\r\n",
        b":\r\n",
        b"$x\r\n",
        b"$-2\r\n",
        b"$3\r\nabcXY",
        b"*-2\r\n",
        b"%-1\r\n",
        b"#x\r\n",
        b"_x\r\n",
        b"=3\r\ntxt\r\n",
        b"=5\r\ntxt-x\r\n",
        b"$?\r\n",
        b"*?\r\n",
    ] {
        assert!(parse_everywhere(input).is_err(), "{input:?}");
    }
}

#[test]
fn depth_is_bounded() {
    let deep = |n: usize| {
        let mut v = b"*1\r\n".repeat(n);
        v.extend_from_slice(b":1\r\n");
        v
    };
    assert!(matches!(parse_frame(&deep(MAX_FRAME_DEPTH)), Ok(Some(_))));
    assert_eq!(
        parse_frame(&deep(MAX_FRAME_DEPTH + 1)),
        Err(FrameError("nesting too deep".into()))
    );
    // Without the leaf, a very deep prefix is an error too, not a stack overflow.
    assert!(parse_frame(&b"*1\r\n".repeat(100_000)).is_err());
}

#[test]
fn huge_counts_do_not_preallocate() {
    assert_eq!(parse_frame(b"*9223372036854775807\r\n:1\r\n"), Ok(None));
    assert_eq!(parse_frame(b"%9223372036854775807\r\n"), Ok(None));
    let mut d = FrameDecoder::new();
    let mut buf = BytesMut::from(&b"%4611686018427387903\r\n"[..]);
    assert_eq!(d.decode(&mut buf), Ok(None));
    assert!(d.in_progress());
    assert!(d.builder.stack[0].items.capacity() <= PREALLOC_MAX);
}

#[test]
fn decoder_consumes_and_shares() {
    let mut d = FrameDecoder::new();
    let mut buf = BytesMut::from(&b"+a\r\n*2\r\n$3\r\nfoo\r\n"[..]);
    assert_eq!(d.decode(&mut buf), Ok(Some(Frame::Simple(b("a")))));
    assert_eq!(d.decode(&mut buf), Ok(None));
    // The first element was consumed already.
    assert!(buf.is_empty());
    buf.extend_from_slice(b"$3\r\nba");
    assert_eq!(d.decode(&mut buf), Ok(None));
    buf.extend_from_slice(b"r\r\n:5\r\n");
    assert_eq!(
        d.decode(&mut buf),
        Ok(Some(Frame::Array(vec![
            Frame::Bulk(b("foo")),
            Frame::Bulk(b("bar"))
        ])))
    );
    assert_eq!(d.decode(&mut buf), Ok(Some(Frame::Integer(5))));
    assert!(!d.in_progress());
}

#[test]
fn encode_command_round_trip() {
    let mut out = BytesMut::new();
    encode_command(&["SET", "key", "a\r\nb"], &mut out);
    assert_eq!(
        out.as_ref(),
        b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$4\r\na\r\nb\r\n"
    );
    let mut p = crate::RequestParser::default();
    let argv = p.parse(&mut out).unwrap().unwrap();
    assert_eq!(argv, vec![b("SET"), b("key"), b("a\r\nb")]);
    let mut out = BytesMut::new();
    encode_command::<&[u8]>(&[], &mut out);
    assert_eq!(out.as_ref(), b"*0\r\n");
}

fn sample_frame() -> Frame {
    Frame::Array(vec![
        Frame::Simple(b("OK")),
        Frame::Error(b("ERR x")),
        Frame::Error(b("ERR multi\r\nline")),
        Frame::Integer(i64::MIN),
        Frame::Bulk(b("\0\r\n")),
        Frame::Null,
        Frame::NullArray,
        Frame::Map(vec![(
            Frame::Bulk(b("k")),
            Frame::Set(vec![Frame::Boolean(true)]),
        )]),
        Frame::Push(vec![]),
        Frame::Double(b("1.5")),
        Frame::BigNumber(b("-1")),
        Frame::Verbatim {
            format: b("txt"),
            text: b("hi"),
        },
        Frame::Attribute(
            vec![(Frame::Simple(b("a")), Frame::Integer(1))],
            Box::new(Frame::Array(vec![])),
        ),
    ])
}

#[test]
fn encode_frame_round_trip() {
    let f = sample_frame();
    let mut out = BytesMut::new();
    encode_frame(&f, &mut out);
    assert_eq!(parse_one(&out), f);
    assert_eq!(parse_everywhere(&out).unwrap().unwrap(), f);
}

#[test]
fn writer_output_parses_back() {
    for proto in [Proto::Resp2, Proto::Resp3] {
        let mut w = ReplyWriter::new(proto);
        w.array(9);
        w.ok();
        w.error("ERR boom");
        w.int(3);
        w.bulk(b"x");
        w.null();
        w.null_array();
        w.map(1);
        w.bulk(b"k");
        w.double(2.5);
        w.boolean(true);
        w.verbatim("txt", b"v");
        let f = parse_one(&w.buf);
        let expect = match proto {
            Proto::Resp2 => Frame::Array(vec![
                Frame::Simple(b("OK")),
                Frame::Error(b("ERR boom")),
                Frame::Integer(3),
                Frame::Bulk(b("x")),
                Frame::Null,
                Frame::NullArray,
                Frame::Array(vec![Frame::Bulk(b("k")), Frame::Bulk(b("2.5"))]),
                Frame::Integer(1),
                Frame::Bulk(b("v")),
            ]),
            Proto::Resp3 => Frame::Array(vec![
                Frame::Simple(b("OK")),
                Frame::Error(b("ERR boom")),
                Frame::Integer(3),
                Frame::Bulk(b("x")),
                Frame::Null,
                Frame::Null,
                Frame::Map(vec![(Frame::Bulk(b("k")), Frame::Double(b("2.5")))]),
                Frame::Boolean(true),
                Frame::Verbatim {
                    format: b("txt"),
                    text: b("v"),
                },
            ]),
        };
        assert_eq!(f, expect, "{proto:?}");
    }
}

#[test]
fn deep_frames_encode_without_recursion() {
    let mut f = Frame::Integer(1);
    for _ in 0..100_000 {
        f = Frame::Array(vec![f]);
    }
    let mut out = BytesMut::new();
    encode_frame(&f, &mut out);
    assert_eq!(out.len(), 100_000 * 4 + 4);
    // Dropping a deep frame recurses in the compiler's drop glue; unwind it by hand.
    let mut cur = f;
    while let Frame::Array(mut v) = cur {
        cur = v.pop().unwrap_or(Frame::Null);
    }
}
