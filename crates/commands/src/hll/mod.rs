//! HyperLogLog commands: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST.
//!
//! A HyperLogLog is a plain string (`Value::Str`) in Redis's byte format, which
//! [`format`] owns: GET, SET, DUMP/RESTORE and RDB files carry it unchanged between
//! Shoal and Redis. The commands here validate the string, edit it in place and keep
//! Redis 7.0.15's observable behaviour:
//!
//! - every command that looks at an existing HLL through a write path (PFADD,
//!   PFCOUNT of one key, PFDEBUG, the PFMERGE destination) first turns the string
//!   "raw", as Redis's `dbUnshareStringValue` does (OBJECT ENCODING shows it);
//! - the cached cardinality in the header is invalidated by any register change
//!   and rewritten by PFCOUNT of one key, which then counts as a change (`dirty`,
//!   WATCH) without a keyspace event;
//! - PFADD and PFMERGE fire the `pfadd` event (class string); PFDEBUG's
//!   conversions count as changes but signal nothing;
//! - `dirty`: PFADD adds one per changed register plus one for a created key;
//!   PFMERGE one; PFCOUNT one when it refreshes the cache; PFDEBUG GETREG/TODENSE
//!   one when they convert a sparse value.
//!
//! Errors: a string that is not an HLL answers [`errors::HLL_INVALID`]; one whose
//! sparse opcodes are inconsistent answers [`errors::HLL_CORRUPTED`] when a command
//! walks them (edits made before the walk failed stay, as in Redis).

mod format;

#[cfg(test)]
mod tests;

use crate::args::kw;
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use crate::Handler;
use bytes::Bytes;
use format::{Corrupt, Hll};
use shoal_keyspace::{class, Access, Str, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("pfadd", pfadd),
    ("pfcount", pfcount),
    ("pfmerge", pfmerge),
    ("pfdebug", pfdebug),
    ("pfselftest", pfselftest),
];

/// What a key holds, for a HyperLogLog command.
enum Found<'v> {
    Missing,
    /// A valid HLL string.
    Hll(Buf<'v>),
    /// Not an HLL: the reply has been written.
    Replied,
}

/// The bytes of a valid HLL string.
enum Buf<'v> {
    /// The stored buffer ("raw").
    Stored(&'v mut Vec<u8>),
    /// A copy of a string stored inline, for a read that must not convert it.
    Copied(Vec<u8>),
}

impl Buf<'_> {
    fn vec(&mut self) -> &mut Vec<u8> {
        match self {
            Buf::Stored(v) => v,
            Buf::Copied(v) => v,
        }
    }
}

/// Looks `key` up. With `unshare` (write paths, and PFCOUNT of one key, which may
/// rewrite the cache) the string is made raw, as Redis's `dbUnshareStringValue`.
fn find<'c>(ctx: &'c mut Ctx<'_>, key: &[u8], access: Access, unshare: bool) -> Found<'c> {
    let (v, out) = ctx.typed_and_out(key, access, Value::as_str_mut);
    match v {
        Err(WrongType) => {
            out.error(errors::WRONGTYPE);
            Found::Replied
        }
        Ok(None) => Found::Missing,
        Ok(Some(s)) => {
            // Integer-encoded strings are never HLLs (Redis checks the encoding first).
            let valid = match s {
                Str::Int(_) => false,
                Str::Emb(b) => format::is_valid(b),
                Str::Raw(b) => format::is_valid(b),
            };
            if !valid {
                out.error(errors::HLL_INVALID);
                return Found::Replied;
            }
            if unshare {
                return Found::Hll(Buf::Stored(s.make_raw()));
            }
            match s {
                Str::Raw(b) => Found::Hll(Buf::Stored(b)),
                other => Found::Hll(Buf::Copied(other.to_vec())),
            }
        }
    }
}

/// The configured `hll-sparse-max-bytes`.
fn sparse_max(ctx: &Ctx<'_>) -> usize {
    usize::try_from(ctx.settings.hll_sparse_max_bytes.max(0)).unwrap_or(usize::MAX)
}

/// PFADD key [element ...]
fn pfadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let key = &argv[1];
    let elems = &argv[2..];
    let max = sparse_max(ctx);
    let add_all = |buf: &mut Vec<u8>, updated: &mut u64| -> Result<(), Corrupt> {
        let mut hll = Hll::new(buf);
        for e in elems {
            if hll.add(e, max)? {
                *updated += 1;
            }
        }
        Ok(())
    };
    let mut updated = 0u64;
    match find(ctx, key, Access::Write, true) {
        Found::Replied => return,
        Found::Hll(mut buf) => {
            let buf = buf.vec();
            if add_all(buf, &mut updated).is_err() {
                return ctx.error(errors::HLL_CORRUPTED);
            }
            if updated > 0 {
                format::invalidate_cache(buf);
            }
        }
        Found::Missing => {
            let mut buf = format::new_sparse();
            // A new HLL is never corrupt.
            let _ = add_all(&mut buf, &mut updated);
            // Creating the key counts as an update (and so invalidates the cache).
            updated += 1;
            format::invalidate_cache(&mut buf);
            let now = ctx.now;
            ctx.db(key).set(key, Value::Str(Str::raw(buf)), false, now);
        }
    }
    if updated > 0 {
        ctx.notify(class::STRING, "pfadd", key);
        ctx.dirty += updated;
    }
    ctx.out.int(i64::from(updated > 0));
}

/// PFCOUNT key [key ...]
fn pfcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    if argv.len() > 2 {
        // The union of several HLLs, without touching any of them.
        let mut max = vec![0u8; format::REGISTERS];
        for key in &argv[1..] {
            match find(ctx, key, Access::Read, false) {
                Found::Replied => return,
                Found::Missing => {}
                Found::Hll(mut buf) => {
                    if Hll::new(buf.vec()).merge_into(&mut max).is_err() {
                        return ctx.error(errors::HLL_CORRUPTED);
                    }
                }
            }
        }
        let card = format::estimate(&format::raw_histogram(&max));
        return ctx.out.int(card as i64);
    }
    let key = &argv[1];
    let (card, refreshed) = match find(ctx, key, Access::Read, true) {
        Found::Replied => return,
        Found::Missing => return ctx.out.int(0),
        Found::Hll(mut buf) => match format::cached_card(buf.vec()) {
            Some(card) => (card, false),
            None => match format::count(&Hll::new(buf.vec())) {
                Err(Corrupt) => return ctx.error(errors::HLL_CORRUPTED),
                Ok(card) => {
                    format::set_cached_card(buf.vec(), card);
                    (card, true)
                }
            },
        },
    };
    if refreshed {
        // The cached value is part of the string: a change for WATCH, replicas and
        // persistence, but no keyspace event.
        let db = ctx.db;
        ctx.ev.touch(db, key);
        ctx.dirty += 1;
    }
    ctx.out.int(card as i64);
}

/// PFMERGE destkey [sourcekey ...]
fn pfmerge(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let dest = &argv[1];
    let max_bytes = sparse_max(ctx);
    let mut max = vec![0u8; format::REGISTERS];
    let mut use_dense = false;
    // The destination is one of the inputs.
    for key in &argv[1..] {
        match find(ctx, key, Access::Read, false) {
            Found::Replied => return,
            Found::Missing => {}
            Found::Hll(mut buf) => {
                let hll = Hll::new(buf.vec());
                use_dense |= !hll.is_sparse();
                if hll.merge_into(&mut max).is_err() {
                    return ctx.error(errors::HLL_CORRUPTED);
                }
            }
        }
    }
    let write = |buf: &mut Vec<u8>| -> Result<(), Corrupt> {
        let mut hll = Hll::new(buf);
        if use_dense {
            hll.make_dense()?;
        }
        for (i, &v) in max.iter().enumerate() {
            if v != 0 {
                // The destination was validated above: its walk cannot fail.
                let _ = hll.raise(i, v, max_bytes);
            }
        }
        format::invalidate_cache(hll.buf);
        Ok(())
    };
    let res = match find(ctx, dest, Access::Write, true) {
        Found::Replied => return,
        Found::Hll(mut buf) => write(buf.vec()),
        Found::Missing => {
            let mut buf = format::new_sparse();
            let res = write(&mut buf);
            let now = ctx.now;
            ctx.db(dest)
                .set(dest, Value::Str(Str::raw(buf)), false, now);
            res
        }
    };
    if res.is_err() {
        return ctx.error(errors::HLL_CORRUPTED);
    }
    ctx.notify(class::STRING, "pfadd", dest);
    ctx.dirty += 1;
    ctx.out.ok();
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
fn pfdebug(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (sub, key) = (&argv[1], &argv[2]);
    let buf = match find(ctx, key, Access::Write, true) {
        Found::Replied => return,
        Found::Missing => return ctx.error(errors::HLL_NO_KEY),
        Found::Hll(buf) => buf,
    };
    let mut buf = buf;
    let mut hll = Hll::new(buf.vec());
    if kw(sub, "getreg") {
        let converted = match hll.make_dense() {
            Err(Corrupt) => return ctx.error(errors::HLL_CORRUPTED),
            Ok(c) => c,
        };
        let regs = hll.registers();
        ctx.dirty += u64::from(converted);
        ctx.out.array(regs.len());
        for r in regs {
            ctx.out.int(i64::from(r));
        }
    } else if kw(sub, "decode") {
        if !hll.is_sparse() {
            return ctx.error(errors::HLL_NOT_SPARSE);
        }
        let s = hll.decode();
        ctx.out.bulk(s.as_bytes());
    } else if kw(sub, "encoding") {
        let name = if hll.is_sparse() { "sparse" } else { "dense" };
        ctx.out.simple(name);
    } else if kw(sub, "todense") {
        match hll.make_dense() {
            Err(Corrupt) => ctx.error(errors::HLL_CORRUPTED),
            Ok(converted) => {
                ctx.dirty += u64::from(converted);
                ctx.out.int(i64::from(converted));
            }
        }
    } else {
        ctx.out.error_bytes(&errors::pfdebug_unknown(sub));
    }
}

/// PFSELFTEST: checks the register packing, that the sparse and dense forms hold
/// the same registers and give the same estimate, and the estimator's error.
fn pfselftest(ctx: &mut Ctx<'_>, _argv: &[Bytes]) {
    match selftest() {
        Ok(()) => ctx.out.ok(),
        Err(msg) => ctx.error(&format!("ERR TESTFAILED {msg}")),
    }
}

fn selftest() -> Result<(), String> {
    format::dense_registers_roundtrip().map_err(|i| format!("Register error at {i}"))?;
    let mut sparse = format::new_sparse();
    let mut dense = format::new_sparse();
    Hll::new(&mut dense)
        .make_dense()
        .map_err(|_| "conversion".to_owned())?;
    // Elements are a counter's decimal form: deterministic and distinct. The
    // sparse copy stops early: its edits walk the whole string, and it would
    // soon turn dense under any sensible hll-sparse-max-bytes anyway.
    const SPARSE_N: u64 = 1_500;
    const N: u64 = 20_000;
    for i in 0..N {
        let e = i.to_string();
        if Hll::new(&mut dense).add(e.as_bytes(), 0).is_err() {
            return Err(format!("add failed at {i}"));
        }
        let n = i + 1;
        if n <= SPARSE_N {
            if Hll::new(&mut sparse).add(e.as_bytes(), usize::MAX).is_err() {
                return Err(format!("sparse add failed at {i}"));
            }
            if n % 500 == 0 {
                let cs = format::count(&Hll::new(&mut sparse)).map_err(|_| "sparse count")?;
                let cd = format::count(&Hll::new(&mut dense)).map_err(|_| "dense count")?;
                if cs != cd {
                    return Err(format!("Sparse and dense estimates differ at {n}"));
                }
            }
        }
        if n % 5_000 == 0 {
            let cd = format::count(&Hll::new(&mut dense)).map_err(|_| "dense count")?;
            // The standard error is 0.81%; 5% is far in the tail.
            let err = (cd as f64 - n as f64).abs() / n as f64;
            if err > 0.05 {
                return Err(format!("Estimate {cd} too far from {n}"));
            }
        }
    }
    let mut a = vec![0u8; format::REGISTERS];
    let mut b = vec![0u8; format::REGISTERS];
    let mut d = format::new_sparse();
    let mut hd = Hll::new(&mut d);
    for i in 0..SPARSE_N {
        let _ = hd.add(i.to_string().as_bytes(), 0);
    }
    let ok_a = Hll::new(&mut sparse).merge_into(&mut a);
    let ok_b = hd.merge_into(&mut b);
    if ok_a.is_err() || ok_b.is_err() || a != b {
        return Err("Sparse and dense registers differ".to_owned());
    }
    Ok(())
}
