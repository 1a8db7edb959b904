//! Feeds arbitrary bytes to `parse_frame` and `FrameDecoder`.
//!
//! Checks: no panic; the consumed length is within the input; a parsed frame encodes
//! back (`encode_frame`) to bytes that parse to the same frame; the resumable decoder,
//! fed in chunks, agrees with the stateless parser.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use shoal_resp::{encode_frame, parse_frame, Frame, FrameDecoder};

/// Drops a frame without deep recursion in drop glue.
fn drop_flat(f: Frame) {
    let mut todo = vec![f];
    while let Some(f) = todo.pop() {
        match f {
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => todo.extend(v),
            Frame::Map(kv) => {
                for (k, v) in kv {
                    todo.push(k);
                    todo.push(v);
                }
            }
            Frame::Attribute(kv, v) => {
                for (k, v) in kv {
                    todo.push(k);
                    todo.push(v);
                }
                todo.push(*v);
            }
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let stateless = parse_frame(data);
    if let Ok(Some((frame, used))) = &stateless {
        assert!(*used > 0 && *used <= data.len());
        let mut out = BytesMut::new();
        encode_frame(frame, &mut out);
        match parse_frame(&out) {
            Ok(Some((again, n))) => {
                assert_eq!(n, out.len(), "re-encoded frame not fully consumed");
                assert_eq!(&again, frame, "round trip changed the frame");
                drop_flat(again);
            }
            other => panic!("re-encoded frame does not parse: {other:?}"),
        }
    }

    // The decoder, fed in chunks of a size taken from the data, agrees.
    let step = data.first().map_or(1, |b| usize::from(b % 17) + 1);
    let mut decoder = FrameDecoder::new();
    let mut buf = BytesMut::new();
    let mut fed = 0;
    let mut got = Ok(None);
    while fed < data.len() {
        let end = (fed + step).min(data.len());
        buf.extend_from_slice(&data[fed..end]);
        fed = end;
        got = decoder.decode(&mut buf);
        if !matches!(got, Ok(None)) {
            break;
        }
    }
    match (stateless, got) {
        (Ok(Some((a, used))), Ok(Some(b))) => {
            assert_eq!(a, b);
            assert_eq!(fed - buf.len(), used, "decoder consumed a different length");
            drop_flat(a);
            drop_flat(b);
        }
        (Ok(None), Ok(None)) | (Err(_), Err(_)) => {}
        (a, b) => panic!("stateless {a:?} vs decoder {b:?}"),
    }
});
