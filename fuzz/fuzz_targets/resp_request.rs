//! Feeds arbitrary bytes, in arbitrary chunkings, to `RequestParser`.
//!
//! Input layout: byte 0 chooses the options (bit 0: authentication required, bit 1:
//! small limits, bit 7: pad past 64 KiB), byte 1 seeds the chunk sizes, the rest is the
//! client's byte stream.
//!
//! Checks: no panic; consumed bytes never exceed what was fed and never go backwards;
//! every request is non-empty and carries no more argument bytes than were consumed;
//! and the outcome (requests, error, and without an error the bytes left over) is the
//! same whatever the chunking.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use shoal_resp::{Limits, ProtocolError, RequestParser};

type Outcome = (Vec<Vec<Vec<u8>>>, Option<ProtocolError>, usize);

fn parser(opts: u8) -> RequestParser {
    let limits = if opts & 2 != 0 {
        Limits {
            max_bulk_len: usize::from(opts >> 2) * 3,
            max_query_buf: 1 << 20,
        }
    } else {
        // Big enough to exercise the reservation for big arguments, small enough to
        // keep memory low.
        Limits {
            max_bulk_len: 1 << 20,
            max_query_buf: 1 << 20,
        }
    };
    let mut p = RequestParser::new(limits);
    p.set_auth_required(opts & 1 != 0);
    p
}

fn run(opts: u8, input: &[u8], mut next_chunk: impl FnMut() -> usize) -> Outcome {
    let mut p = parser(opts);
    let mut buf = BytesMut::new();
    let mut fed = 0usize;
    let mut consumed = 0usize;
    let mut arg_bytes = 0usize;
    let mut reqs = Vec::new();
    loop {
        let end = (fed + next_chunk().max(1)).min(input.len());
        buf.extend_from_slice(&input[fed..end]);
        fed = end;
        loop {
            let before = buf.len();
            let r = p.parse(&mut buf);
            assert!(buf.len() <= before, "parse grew the buffer");
            let now_consumed = fed - buf.len();
            assert!(now_consumed >= consumed && now_consumed <= fed);
            consumed = now_consumed;
            match r {
                Ok(Some(argv)) => {
                    assert!(!argv.is_empty(), "empty request returned");
                    arg_bytes += argv.iter().map(|a| a.len()).sum::<usize>();
                    assert!(arg_bytes <= consumed, "more argument bytes than consumed");
                    reqs.push(argv.iter().map(|a| a.to_vec()).collect());
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(e.reply_text().starts_with("ERR Protocol error: "));
                    // Poisoned: the same error again.
                    assert_eq!(p.parse(&mut buf), Err(e.clone()));
                    // What is left unread after an error depends on when the error
                    // struck; the connection is closed, so it is not compared.
                    return (reqs, Some(e), 0);
                }
            }
        }
        if fed == input.len() {
            return (reqs, None, buf.len());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (opts, seed, mut input) = (data[0], data[1], &data[2..]);
    // Option bit 7: insert a run of one byte long enough to cross the 64 KiB line
    // limits, which the fuzzer's input sizes would not reach by themselves.
    let padded;
    if opts & 0x80 != 0 && !input.is_empty() {
        let at = usize::from(seed) % input.len();
        let run = 65_530 + usize::from(seed % 16);
        padded = [&input[..at], &vec![input[at]; run][..], &input[at..]].concat();
        input = &padded;
    }
    let whole = run(opts, input, || input.len());
    let mut state = u32::from(seed) | 0x100;
    let chunked = run(opts, input, || {
        // xorshift: chunk sizes from 1 to 64, now and then larger.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        if state % 16 == 0 {
            (state % 4096) as usize + 1
        } else {
            (state % 64) as usize + 1
        }
    });
    assert_eq!(whole, chunked, "outcome depends on chunking");
    let bytewise = run(opts, input, || 1);
    assert_eq!(whole, bytewise, "outcome depends on chunking");
});
