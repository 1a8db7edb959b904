//! `decode::value_from_bytes` (a DUMP payload's value part) for every type byte.
//!
//! Input layout: a type byte (taken modulo 23, so every value type and a few
//! unknown ones come up), an options byte (see `rdb_common::options`), then
//! the body.
//!
//! Checks: no panic; a value read keeps the keyspace's invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_rdb::decode::value_from_bytes;

mod rdb_common;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let t = data[0] % 23;
    let opts = rdb_common::options(data[1]);
    if let Ok(v) = value_from_bytes(t, &data[2..], &opts) {
        rdb_common::check(&v);
    }
});
