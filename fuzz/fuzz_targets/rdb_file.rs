//! `FileReader` over arbitrary bytes.
//!
//! Input layout: an options byte (see `rdb_common::options`; bits 3-4 pick the
//! header: none added, `REDIS0009`, `REDIS0010` or `REDIS0011`), then the file
//! (after the header, when one is added, so the fuzzer works on the body).
//!
//! Checks: no panic; offsets only grow and stay within the input; every value
//! read keeps the keyspace's invariants; after `Ok(None)` the reader stays done.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_rdb::{FileReader, Item};

mod rdb_common;

fuzz_target!(|data: &[u8]| {
    let Some((&opt, body)) = data.split_first() else {
        return;
    };
    let opts = rdb_common::options(opt);
    let mut file = match (opt >> 3) & 3 {
        0 => Vec::new(),
        v => format!("REDIS00{:02}", 8 + v).into_bytes(),
    };
    file.extend_from_slice(body);
    let Ok(mut r) = FileReader::new(&file[..], opts) else {
        return;
    };
    let mut last = r.offset();
    // Each item consumes at least one byte: bounded by the input size.
    for _ in 0..=file.len() {
        match r.next_item() {
            Ok(Some(item)) => {
                if let Item::Entry { value, .. } = &item {
                    rdb_common::check(value);
                }
            }
            Ok(None) => {
                assert!(matches!(r.next_item(), Ok(None)));
                break;
            }
            Err(_) => break,
        }
        assert!(r.offset() > last && r.offset() <= file.len() as u64);
        last = r.offset();
    }
});
