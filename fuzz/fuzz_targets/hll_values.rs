//! HyperLogLog commands on strings built from the input: mostly headers that pass
//! the "HYLL" check followed by arbitrary sparse opcodes or dense registers, so the
//! parsers of a corrupted HLL (PFADD, PFCOUNT, PFMERGE, PFDEBUG) do real work.
//!
//! Checks: no panic; every reply is exactly one well-formed RESP frame.
//!
//! Input layout: a mode byte (how the value is built, protocol, sparse size limit),
//! the value, then operations until the input runs out.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use shoal_commands::testing::TestDb;
use shoal_resp::{parse_frame, Proto};
use std::sync::OnceLock;

mod common;
use common::Reader;

/// Size of a dense HLL's registers (16384 registers of 6 bits).
const DENSE_REGS: usize = 12288;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHOAL_FUZZ_TRACE=1 prints each command and its raw reply in hex on stderr
/// (`@@> args...` / `@@< reply`), for tools/hll_diff.py to replay them against
/// a reference server.
fn trace() -> bool {
    static T: OnceLock<bool> = OnceLock::new();
    *T.get_or_init(|| std::env::var_os("SHOAL_FUZZ_TRACE").is_some())
}

fn run(db: &mut TestDb, argv: &[&[u8]]) {
    let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    let raw = db.call_raw(&argv);
    if trace() {
        let args: Vec<String> = argv.iter().map(|a| hex(a)).collect();
        eprintln!("@@> {}", args.join(" "));
        eprintln!("@@< {}", hex(&raw));
    }
    match parse_frame(&raw) {
        Ok(Some((_, n))) if n == raw.len() => {}
        other => panic!("malformed reply to {argv:?}: {other:?} {raw:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let mut db = TestDb::default();
    let mode = r.byte();
    if mode & 0x10 != 0 {
        db.proto = Proto::Resp3;
    }
    db.settings.hll_sparse_max_bytes = [3000, 0, 20, 100_000][usize::from(mode >> 6)];
    if trace() {
        eprintln!(
            "@@# {} {}",
            if db.proto == Proto::Resp3 { 3 } else { 2 },
            db.settings.hll_sparse_max_bytes
        );
    }

    let mut value = Vec::new();
    match mode & 3 {
        // Raw bytes, maybe behind the magic.
        0 => {
            if mode & 4 != 0 {
                value.extend_from_slice(b"HYLL");
            }
            value.extend_from_slice(r.bytes_len());
        }
        // A sparse header, then opcodes.
        1 => {
            value.extend_from_slice(b"HYLL\x01\0\0\0");
            value.extend_from_slice(&r.u64().to_le_bytes());
            value.extend_from_slice(r.bytes_len());
        }
        // A dense header, then registers from the input, repeated to the full size
        // (or cut short / left long by one byte).
        2 => {
            value.extend_from_slice(b"HYLL\x00\0\0\0");
            value.extend_from_slice(&r.u64().to_le_bytes());
            let pattern = r.bytes_len();
            let len = match mode & 0x0c {
                0x04 => DENSE_REGS - 1,
                0x08 => DENSE_REGS + 1,
                _ => DENSE_REGS,
            };
            if pattern.is_empty() {
                value.resize(16 + len, 0);
            } else {
                value.extend(pattern.iter().cycle().take(len));
            }
        }
        // A header with any encoding byte.
        _ => {
            value.extend_from_slice(b"HYLL");
            value.extend_from_slice(r.bytes(12));
            value.extend_from_slice(r.bytes_len());
        }
    }
    run(&mut db, &[b"SET", b"h", &value]);
    // A valid HLL to merge with.
    run(&mut db, &[b"PFADD", b"v", b"x", b"y", b"z"]);

    let mut n = 0;
    while !r.is_empty() && n < 24 {
        n += 1;
        let op = r.byte();
        let k: &[u8] = if op & 0x80 != 0 { b"v" } else { b"h" };
        match op % 14 {
            0 => {
                let mut argv: Vec<Vec<u8>> = vec![b"PFADD".to_vec(), k.to_vec()];
                for _ in 0..r.byte() % 6 {
                    argv.push(r.bytes_len().to_vec());
                }
                let args: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
                run(&mut db, &args);
            }
            1 => {
                // Elements that land in many registers: numbers.
                let base = r.u64();
                let mut argv: Vec<Vec<u8>> = vec![b"PFADD".to_vec(), k.to_vec()];
                for i in 0..u64::from(r.byte() % 64) {
                    argv.push(base.wrapping_add(i).to_string().into_bytes());
                }
                let args: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
                run(&mut db, &args);
            }
            2 => run(&mut db, &[b"PFCOUNT", k]),
            3 => run(&mut db, &[b"PFCOUNT", b"h", b"v"]),
            4 => run(&mut db, &[b"PFMERGE", b"h", b"v"]),
            5 => run(&mut db, &[b"PFMERGE", b"v", b"h"]),
            6 => run(&mut db, &[b"PFMERGE", k]),
            7 => run(&mut db, &[b"PFDEBUG", b"GETREG", k]),
            8 => run(&mut db, &[b"PFDEBUG", b"DECODE", k]),
            9 => run(&mut db, &[b"PFDEBUG", b"ENCODING", k]),
            10 => run(&mut db, &[b"PFDEBUG", b"TODENSE", k]),
            11 => {
                // Corrupt part of the value in place.
                let off = (u32::from(r.byte()) | u32::from(r.byte()) << 8) % 12400;
                let bytes = r.bytes_len();
                run(
                    &mut db,
                    &[b"SETRANGE", k, off.to_string().as_bytes(), bytes],
                );
            }
            12 => {
                let bytes = r.bytes_len();
                run(&mut db, &[b"APPEND", k, bytes]);
            }
            _ => run(&mut db, &[b"PFMERGE", b"m", b"h", b"v"]),
        }
    }
});
