//! Tests of the request parser. Expected behaviour was observed on redis-server 7.0.15.

use super::*;

type Outcome = (Vec<Vec<Vec<u8>>>, Option<ProtocolError>, usize);

/// Feeds `input` split at the given chunk sizes (cycled) and collects every request,
/// the error if any, and the bytes left unconsumed at the end.
fn feed(parser: &mut RequestParser, input: &[u8], chunks: &[usize]) -> Outcome {
    let mut buf = BytesMut::new();
    let mut reqs = Vec::new();
    let mut off = 0;
    let mut i = 0;
    loop {
        let step = chunks[i % chunks.len()].max(1);
        i += 1;
        let end = (off + step).min(input.len());
        buf.extend_from_slice(&input[off..end]);
        off = end;
        loop {
            match parser.parse(&mut buf) {
                Ok(Some(argv)) => reqs.push(argv.iter().map(|a| a.to_vec()).collect()),
                Ok(None) => break,
                Err(e) => return (reqs, Some(e), buf.len()),
            }
        }
        if off == input.len() {
            return (reqs, None, buf.len());
        }
    }
}

fn parse_all(input: &[u8]) -> Outcome {
    feed(&mut RequestParser::default(), input, &[input.len().max(1)])
}

fn args(items: &[&[u8]]) -> Vec<Vec<u8>> {
    items.iter().map(|i| i.to_vec()).collect()
}

/// Parsing gives the same result whole, byte by byte and in assorted chunkings.
fn assert_chunking_invariant(input: &[u8]) -> Outcome {
    let whole = parse_all(input);
    for chunks in [&[1usize][..], &[2], &[3, 1, 7], &[5, 64, 2], &[4096]] {
        let got = feed(&mut RequestParser::default(), input, chunks);
        assert_eq!(
            (&got.0, &got.1),
            (&whole.0, &whole.1),
            "chunks {chunks:?} input {:?}",
            String::from_utf8_lossy(&input[..input.len().min(80)])
        );
    }
    whole
}

#[test]
fn multibulk_simple() {
    let (reqs, e, left) = assert_chunking_invariant(b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
    assert_eq!(reqs, vec![args(&[b"GET", b"key"])]);
    assert_eq!(e, None);
    assert_eq!(left, 0);
}

#[test]
fn pipelined_mixed() {
    let input = b"*1\r\n$4\r\nPING\r\nECHO hi\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\nPING\n*1\r\n$4\r\nPI";
    let (reqs, e, left) = assert_chunking_invariant(input);
    assert_eq!(
        reqs,
        vec![
            args(&[b"PING"]),
            args(&[b"ECHO", b"hi"]),
            args(&[b"SET", b"k", b""]),
            args(&[b"PING"]),
        ]
    );
    assert_eq!(e, None);
    // The partial request's header was consumed; its pending bulk is kept.
    assert_eq!(left, 2);
}

#[test]
fn binary_payloads() {
    let mut input = b"*2\r\n$4\r\n\r\n\0\xff\r\n$3\r\n*1\r\r\n".to_vec();
    input.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    let (reqs, e, _) = assert_chunking_invariant(&input);
    assert_eq!(
        reqs,
        vec![args(&[b"\r\n\0\xff", b"*1\r"]), args(&[b"PING"])]
    );
    assert_eq!(e, None);
}

#[test]
fn empty_requests_are_skipped() {
    let (reqs, e, left) =
        assert_chunking_invariant(b"*0\r\n*-1\r\n*-5\r\n\n\r\n   \t\r\n\x0b\r\nPING\r\n*0\r\n");
    assert_eq!(reqs, vec![args(&[b"PING"])]);
    assert_eq!(e, None);
    assert_eq!(left, 0);
}

#[test]
fn redis_skips_crlf_without_checking_it() {
    // Observed: `*1\rX$4\r\nPINGXY` is a valid PING for Redis.
    let (reqs, e, _) = assert_chunking_invariant(b"*1\rX$4\r\nPINGXY*1\r\n$4\r\nPING\r\n");
    assert_eq!(reqs, vec![args(&[b"PING"]), args(&[b"PING"])]);
    assert_eq!(e, None);
}

#[test]
fn a_header_needs_one_byte_after_cr() {
    let mut p = RequestParser::default();
    let mut buf = BytesMut::from(&b"*1\r"[..]);
    assert_eq!(p.parse(&mut buf), Ok(None));
    assert!(p.in_progress());
    buf.extend_from_slice(b"\n$4\r");
    assert_eq!(p.parse(&mut buf), Ok(None));
    buf.extend_from_slice(b"\nPING\r");
    assert_eq!(p.parse(&mut buf), Ok(None));
    buf.extend_from_slice(b"\n");
    assert_eq!(
        p.parse(&mut buf).unwrap().unwrap(),
        vec![Bytes::from("PING")]
    );
    assert!(!p.in_progress());
    assert!(buf.is_empty());
}

#[test]
fn inline_line_endings() {
    let (reqs, e, left) = assert_chunking_invariant(b"PING\nPING\r\nPING\r\r\nECHO a\r");
    assert_eq!(reqs, vec![args(&[b"PING"]); 3]);
    assert_eq!(e, None);
    assert_eq!(left, 7);
}

#[test]
fn inline_quoting() {
    let (reqs, e, _) = assert_chunking_invariant(
        b"ECHO \"a\\x41\\n\\q\\xZZ\"\r\nECHO 'a\\'b\\n'\r\nSET \"\" 'x y'\r\nECHO a\x0bb\r\n",
    );
    assert_eq!(
        reqs,
        vec![
            args(&[b"ECHO", b"aA\nqxZZ"]),
            args(&[b"ECHO", b"a'b\\n"]),
            args(&[b"SET", b"", b"x y"]),
            args(&[b"ECHO", b"a\x0bb"]),
        ]
    );
    assert_eq!(e, None);
}

#[test]
fn inline_unbalanced_quotes() {
    for input in [
        &b"ECHO \"ab\"c\r\n"[..],
        b"ECHO \"ab\r\n",
        b"ECHO 'ab\r\n",
        b"ECHO a\"b c\"d\r\n",
    ] {
        let (reqs, e, _) = assert_chunking_invariant(input);
        assert!(reqs.is_empty());
        assert_eq!(e, Some(ProtocolError::UnbalancedQuotes));
    }
}

#[test]
fn inline_args_share_the_line() {
    let mut p = RequestParser::default();
    let mut buf = BytesMut::from(&b"SET key value\r\n"[..]);
    let argv = p.parse(&mut buf).unwrap().unwrap();
    assert_eq!(
        argv,
        vec![Bytes::from("SET"), Bytes::from("key"), Bytes::from("value")]
    );
    // Zero copy: consecutive spans of the same line.
    let d = argv[1].as_ptr() as usize - argv[0].as_ptr() as usize;
    assert_eq!(d, 4);
}

#[test]
fn error_texts() {
    use ProtocolError::*;
    let cases: &[(ProtocolError, &str)] = &[
        (
            TooBigInlineRequest,
            "Protocol error: too big inline request",
        ),
        (
            UnbalancedQuotes,
            "Protocol error: unbalanced quotes in request",
        ),
        (
            InvalidMultibulkLength,
            "Protocol error: invalid multibulk length",
        ),
        (InvalidBulkLength, "Protocol error: invalid bulk length"),
        (
            ExpectedDollar(b'X'),
            "Protocol error: expected '$', got 'X'",
        ),
        (
            ExpectedDollar(b'\r'),
            "Protocol error: expected '$', got ' '",
        ),
        (
            ExpectedDollar(b'\n'),
            "Protocol error: expected '$', got ' '",
        ),
        (
            TooBigMbulkCount,
            "Protocol error: too big mbulk count string",
        ),
        (TooBigBulkCount, "Protocol error: too big bulk count string"),
        (
            UnauthenticatedMultibulkLength,
            "Protocol error: unauthenticated multibulk length",
        ),
        (
            UnauthenticatedBulkLength,
            "Protocol error: unauthenticated bulk length",
        ),
    ];
    for (e, text) in cases {
        assert_eq!(e.to_string(), *text);
        assert_eq!(e.reply_text(), format!("ERR {text}"));
        assert_eq!(e.reply_bytes(), format!("ERR {text}").into_bytes());
        assert!(!e.log_reason().is_empty());
    }
    assert_eq!(
        ExpectedDollar(0xff).reply_bytes(),
        b"ERR Protocol error: expected '$', got '\xff'".to_vec()
    );
}

fn first_error(input: &[u8]) -> Option<ProtocolError> {
    assert_chunking_invariant(input).1
}

#[test]
fn invalid_multibulk_length() {
    for input in [
        &b"*+1\r\n"[..],
        b"*01\r\n",
        b"*-0\r\n",
        b"*\r\n",
        b"*1x\r\n",
        b"* 1\r\n",
        b"*2147483648\r\n",
        b"*99999999999999999999\r\n",
        b"*1\n\r\n",
    ] {
        assert_eq!(
            first_error(input),
            Some(ProtocolError::InvalidMultibulkLength),
            "{input:?}"
        );
    }
}

#[test]
fn huge_multibulk_counts_wait_without_allocating() {
    for input in [&b"*2147483647\r\n"[..], b"*1048577\r\n"] {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(input);
        assert_eq!(p.parse(&mut buf), Ok(None));
        assert!(p.argv.capacity() <= ARGV_PREALLOC_MAX);
        assert!(p.in_progress());
    }
}

#[test]
fn invalid_bulk_length() {
    for input in [
        &b"*1\r\n$-1\r\n"[..],
        b"*1\r\n$04\r\nPING\r\n",
        b"*1\r\n$+4\r\nPING\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\n$4x\r\n",
        b"*1\r\n$536870913\r\n",
        b"*1\r\n$99999999999999999999999\r\n",
        b"*1\r\n$4\n\r\n",
    ] {
        assert_eq!(
            first_error(input),
            Some(ProtocolError::InvalidBulkLength),
            "{input:?}"
        );
    }
    // The limit itself is accepted (and waits for the payload).
    assert_eq!(first_error(b"*1\r\n$536870912\r\n"), None);
}

#[test]
fn configured_bulk_limit() {
    let limits = Limits {
        max_bulk_len: 10,
        max_query_buf: 100,
    };
    let mut p = RequestParser::new(limits);
    let (reqs, e, _) = feed(&mut p, b"*1\r\n$10\r\n0123456789\r\n*1\r\n$11\r\n", &[100]);
    assert_eq!(reqs, vec![args(&[b"0123456789"])]);
    assert_eq!(e, Some(ProtocolError::InvalidBulkLength));
    assert!(p.exceeds_query_limit(101));
    assert!(!p.exceeds_query_limit(100));
    assert_eq!(p.limits().max_bulk_len, 10);
}

#[test]
fn expected_dollar() {
    assert_eq!(
        first_error(b"*1\r\nX4\r\nPING\r\n"),
        Some(ProtocolError::ExpectedDollar(b'X'))
    );
    assert_eq!(
        first_error(b"*1\r\n\xff4\r\n"),
        Some(ProtocolError::ExpectedDollar(0xff))
    );
    assert_eq!(
        first_error(b"*1\r\n\r\n"),
        Some(ProtocolError::ExpectedDollar(b'\r'))
    );
    assert_eq!(
        first_error(b"*1\r\n\n\r\n"),
        Some(ProtocolError::ExpectedDollar(b'\n'))
    );
    // No line yet: Redis waits before looking at the first byte.
    assert_eq!(first_error(b"*1\r\nX4"), None);
}

#[test]
fn errors_come_after_the_requests_before_them() {
    let (reqs, e, _) = assert_chunking_invariant(b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n");
    assert_eq!(reqs, vec![args(&[b"PING"]), args(&[b"PING"])]);
    assert_eq!(e, Some(ProtocolError::InvalidMultibulkLength));
}

#[test]
fn parser_is_poisoned_after_an_error() {
    let mut p = RequestParser::default();
    let mut buf = BytesMut::from(&b"*x\r\n"[..]);
    assert_eq!(
        p.parse(&mut buf),
        Err(ProtocolError::InvalidMultibulkLength)
    );
    let mut buf = BytesMut::from(&b"PING\r\n"[..]);
    assert_eq!(
        p.parse(&mut buf),
        Err(ProtocolError::InvalidMultibulkLength)
    );
}

const K: usize = INLINE_MAX_SIZE;

#[test]
fn inline_size_limit() {
    // 64 KiB without a newline still waits; one more byte fails.
    let line = vec![b'A'; K];
    assert_eq!(assert_chunking_invariant(&line).1, None);
    let line = vec![b'A'; K + 1];
    assert_eq!(
        assert_chunking_invariant(&line).1,
        Some(ProtocolError::TooBigInlineRequest)
    );
    // A newline at offset 64 KiB is fine; beyond, the line is too big whatever the
    // chunking (Redis errs when it reads such a line in pieces, as it does).
    let mut line = b"ECHO ".to_vec();
    line.resize(K, b'a');
    line.push(b'\n');
    let (reqs, e, _) = assert_chunking_invariant(&line);
    assert_eq!((reqs.len(), e), (1, None));
    assert_eq!(reqs[0][1].len(), K - 5);
    let mut line = b"ECHO ".to_vec();
    line.resize(K + 1, b'a');
    line.push(b'\n');
    assert_eq!(
        assert_chunking_invariant(&line).1,
        Some(ProtocolError::TooBigInlineRequest)
    );
}

#[test]
fn header_size_limits() {
    let mut mb = b"*1".to_vec();
    mb.resize(K, b'1');
    assert_eq!(assert_chunking_invariant(&mb).1, None);
    mb.push(b'1');
    assert_eq!(
        assert_chunking_invariant(&mb).1,
        Some(ProtocolError::TooBigMbulkCount)
    );
    let mut b = b"*1\r\n$".to_vec();
    b.resize(4 + K, b'1');
    assert_eq!(assert_chunking_invariant(&b).1, None);
    b.push(b'1');
    assert_eq!(
        assert_chunking_invariant(&b).1,
        Some(ProtocolError::TooBigBulkCount)
    );
    // A terminator that arrives too late does not rescue the line.
    b.extend_from_slice(b"\r\n");
    assert_eq!(
        assert_chunking_invariant(&b).1,
        Some(ProtocolError::TooBigBulkCount)
    );
}

#[test]
fn nul_hides_the_terminator() {
    // Redis searches lines with strchr: a NUL before the terminator hides it.
    for (input, err) in [
        (&b"PING\0\n"[..], ProtocolError::TooBigInlineRequest),
        (b"\0PING\r\n", ProtocolError::TooBigInlineRequest),
        (b"*1\0\r\n", ProtocolError::TooBigMbulkCount),
        (b"*1\r\n$4\0\r\nPING\r\n", ProtocolError::TooBigBulkCount),
    ] {
        let (reqs, e, _) = assert_chunking_invariant(input);
        assert_eq!((reqs.len(), e), (0, None), "{input:?}");
        let mut padded = input.to_vec();
        padded.resize(K + 8, b'x');
        let (_, e, _) = assert_chunking_invariant(&padded);
        assert_eq!(e, Some(err), "{input:?}");
    }
}

#[test]
fn unauthenticated_limits() {
    let run = |input: &[u8]| {
        let mut p = RequestParser::default();
        p.set_auth_required(true);
        assert!(p.auth_required());
        feed(&mut p, input, &[input.len()])
    };
    assert_eq!(run(b"*10\r\n").1, None);
    assert_eq!(
        run(b"*11\r\n").1,
        Some(ProtocolError::UnauthenticatedMultibulkLength)
    );
    assert_eq!(run(b"*1\r\n$16384\r\n").1, None);
    assert_eq!(
        run(b"*1\r\n$16385\r\n").1,
        Some(ProtocolError::UnauthenticatedBulkLength)
    );
    // Validity is checked before authentication.
    assert_eq!(
        run(b"*2147483648\r\n").1,
        Some(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(
        run(b"*1\r\n$-1\r\n").1,
        Some(ProtocolError::InvalidBulkLength)
    );
    assert_eq!(
        run(b"*1\r\n$536870913\r\n").1,
        Some(ProtocolError::InvalidBulkLength)
    );
    // Negative counts are empty requests, not errors; inline has no limit.
    let inline = [b"A ".repeat(100), b"\r\n*-100\r\n".to_vec()].concat();
    let (reqs, e, _) = run(&inline);
    assert_eq!((reqs.len(), reqs[0].len(), e), (1, 100, None));
}

#[test]
fn authentication_applies_to_the_next_request() {
    let mut p = RequestParser::default();
    p.set_auth_required(true);
    let mut buf = BytesMut::from(&b"AUTH pw\r\n*11\r\n"[..]);
    assert_eq!(p.parse(&mut buf).unwrap().unwrap().len(), 2);
    p.set_auth_required(false);
    assert_eq!(p.parse(&mut buf), Ok(None));
}

#[test]
fn big_bulk_in_pieces() {
    let n = 1_000_000;
    let payload: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
    let mut input = format!("*2\r\n$3\r\nSET\r\n${n}\r\n").into_bytes();
    input.extend_from_slice(&payload);
    input.extend_from_slice(b"\r\n");

    let mut p = RequestParser::default();
    let mut buf = BytesMut::new();
    let mut fed = 0;
    let mut result = None;
    while fed < input.len() {
        let end = (fed + 16 * 1024).min(input.len());
        buf.extend_from_slice(&input[fed..end]);
        fed = end;
        if let Some(argv) = p.parse(&mut buf).unwrap() {
            result = Some(argv);
            break;
        }
        // Headers are consumed; what remains is the pending payload only.
        assert_eq!(p.pending_bulk_len(), Some(n));
        assert!(
            buf.capacity() >= n + 2,
            "room reserved for the big argument"
        );
        assert!(buf.len() <= n + 2);
        assert!(p.in_progress());
    }
    let argv = result.expect("complete");
    assert_eq!(argv[0], Bytes::from("SET"));
    assert_eq!(argv[1].as_ref(), &payload[..]);
    assert!(buf.is_empty());
}

#[test]
fn small_bulks_do_not_reserve() {
    let mut p = RequestParser::default();
    let mut buf = BytesMut::from(&b"*1\r\n$32767\r\n"[..]);
    assert_eq!(p.parse(&mut buf), Ok(None));
    assert!(buf.capacity() < 32767);
}

#[test]
fn chunking_invariance_over_a_corpus() {
    let corpus: &[&[u8]] = &[
        b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\nGET a\n",
        b"*1\r\n$4\r\nPING\r\n*1\r\n$-3\r\n",
        b"PING\r\n\"unclosed\r\n",
        b"*2\r\n$1\r\na\r\nX\r\n",
        b"*1\r\n$3\r\nabc\r\n*",
        b"\r\n\r\n\n*0\r\n",
        b"'a' \"b\" c\r\n*1\r\n$1\r\nz\r\n",
        b"*3\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n",
    ];
    for input in corpus {
        assert_chunking_invariant(input);
    }
}
