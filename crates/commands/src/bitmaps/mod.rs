//! Bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP;
//! BITFIELD and BITFIELD_RO live in [`bitfield`].
//!
//! Bits are numbered from the most significant bit of the first byte. Reads treat
//! a missing key, and bytes past the end, as zeros. Writes grow the string with zero
//! bytes, never past proto-max-bulk-len (offsets are checked before anything is
//! allocated), and leave it raw-encoded, as Redis does. A write counts as a change
//! (`dirty`, and the "setbit" event) only when the key was created, grew, or a bit
//! actually changed: Redis 7.0 propagates and reports nothing otherwise (a BITFIELD
//! that creates its key but whose writes all fail with OVERFLOW FAIL reports only
//! "new"). BITOP reports "set" on its destination, or "del" when an empty result
//! deleted it.

mod bitfield;

#[cfg(test)]
mod golden_corpus;
#[cfg(test)]
mod golden_ranges;
#[cfg(test)]
mod tests;

use crate::args;
use crate::args::kw;
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use crate::strings::str_and_out;
use crate::Handler;
use bytes::Bytes;
use shoal_keyspace::{class, Access, Str, Value};

// Error texts this family adds; they belong in errors.rs (kept here until moved).
pub use crate::errors::{BITOP_NOT_ONE_KEY, BITPOS_BIT};
pub use bitfield::{BITFIELD_OVERFLOW_TYPE, BITFIELD_RO_GET_ONLY, BITFIELD_TYPE};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("setbit", setbit),
    ("getbit", getbit),
    ("bitcount", bitcount),
    ("bitpos", bitpos),
    ("bitop", bitop),
    ("bitfield", bitfield::bitfield),
    ("bitfield_ro", bitfield::bitfield_ro),
];

/// A bit offset argument as Redis's `getBitOffsetFromArgument` reads it. With
/// `hash_bits > 0`, `#N` means `N * hash_bits` (BITFIELD). Offsets whose byte would
/// lie at or past proto-max-bulk-len are refused.
pub(crate) fn bit_offset(arg: &[u8], hash_bits: u32, max_bulk: i64) -> Result<u64, &'static str> {
    let (hash, digits) = match arg.split_first() {
        Some((b'#', rest)) if hash_bits > 0 => (true, rest),
        _ => (false, arg),
    };
    let mut v = shoal_ds::num::parse_i64(digits).ok_or(errors::BIT_OFFSET)?;
    if hash {
        // Redis multiplies in C; an overflow wraps (and is then usually negative).
        v = v.wrapping_mul(i64::from(hash_bits));
    }
    if v < 0 || (v >> 3) >= max_bulk {
        return Err(errors::BIT_OFFSET);
    }
    Ok(v as u64)
}

/// Redis's `lookupStringForBitCommand` followed by the edit: makes sure the string
/// at `key` has at least `byte + 1` bytes (creating it if missing) and runs `f` on
/// its raw buffer. `f` also learns whether the key was created or grew. The caller
/// has bounded `byte` by proto-max-bulk-len.
pub(crate) fn edit_bits<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    byte: u64,
    f: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<R, WrongType> {
    let need = byte as usize + 1;
    if let Some(s) = ctx.write_str(key)? {
        let buf = s.make_raw();
        let grew = buf.len() < need;
        if grew {
            buf.resize(need, 0);
        }
        return Ok(f(buf, grew));
    }
    let mut buf = vec![0u8; need];
    let r = f(&mut buf, true);
    let ms = ctx.now;
    ctx.db(key).set(key, Value::Str(Str::raw(buf)), false, ms);
    Ok(r)
}

fn setbit(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let offset = match bit_offset(&argv[2], 0, ctx.settings.proto_max_bulk_len) {
        Ok(v) => v,
        Err(e) => return ctx.error(e),
    };
    let on = match shoal_ds::num::parse_i64(&argv[3]) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return ctx.error(errors::BIT_VALUE),
    };
    let shift = 7 - (offset & 7) as u32;
    let r = edit_bits(ctx, &argv[1], offset >> 3, |buf, grew| {
        let byte = &mut buf[(offset >> 3) as usize];
        let old = (*byte >> shift) & 1 == 1;
        let changed = grew || old != on;
        if changed {
            *byte = (*byte & !(1 << shift)) | (u8::from(on) << shift);
        }
        (old, changed)
    });
    match r {
        Err(WrongType) => ctx.wrong_type(),
        Ok((old, changed)) => {
            if changed {
                ctx.dirty += 1;
                ctx.notify(class::STRING, "setbit", &argv[1]);
            }
            ctx.out.int(i64::from(old));
        }
    }
}

fn getbit(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let offset = match bit_offset(&argv[2], 0, ctx.settings.proto_max_bulk_len) {
        Ok(v) => v,
        Err(e) => return ctx.error(e),
    };
    let (s, out) = str_and_out(ctx, &argv[1], Access::Read);
    match s {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.int(0),
        Ok(Some(s)) => {
            let bit = s.with_bytes(|b| match b.get((offset >> 3) as usize) {
                Some(&v) => (v >> (7 - (offset & 7))) & 1,
                None => 0,
            });
            out.int(i64::from(bit));
        }
    }
}

/// The number of set bits in `b`.
fn popcount(b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from(u64::from_ne_bytes(w).count_ones());
    }
    n + chunks
        .remainder()
        .iter()
        .map(|&x| u64::from(x.count_ones()))
        .sum::<u64>()
}

/// Redis's `redisBitpos`: the position of the first bit equal to `bit` in `b`;
/// when absent, -1 for a set bit and `8 * len` (the first bit past the end) for a
/// clear bit.
fn first_bit(b: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0x00 } else { 0xff };
    match b.iter().position(|&x| x != skip) {
        Some(i) => {
            let x = if bit { b[i] } else { !b[i] };
            (i as i64) * 8 + i64::from(x.leading_zeros())
        }
        None if bit => -1,
        None => b.len() as i64 * 8,
    }
}

/// A resolved BITCOUNT/BITPOS range: inclusive byte bounds plus the masks of the
/// bits outside the range in the first and last byte (BIT ranges only).
struct Range {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

/// Clamps `start..=end` (in bytes or, with `bits`, in bits) over a string of `len`
/// bytes the way BITCOUNT and BITPOS do, converting a bit range to bytes + masks.
fn resolve_range(len: i64, mut start: i64, mut end: i64, bits: bool) -> Range {
    // len <= proto-max-bulk-len, so len * 8 fits.
    let total = if bits { len << 3 } else { len };
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if bits && start <= end {
        first_mask = !(0xffu8 >> (start & 7));
        last_mask = (1u8 << (7 - (end & 7))) - 1;
        start >>= 3;
        end >>= 3;
    }
    Range {
        start,
        end,
        first_mask,
        last_mask,
    }
}

/// An optional trailing BYTE | BIT unit.
fn parse_unit(arg: Option<&Bytes>) -> Result<bool, &'static str> {
    match arg {
        None => Ok(false),
        Some(a) if kw(a, "bit") => Ok(true),
        Some(a) if kw(a, "byte") => Ok(false),
        Some(_) => Err(errors::SYNTAX),
    }
}

fn bitcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (s, out) = str_and_out(ctx, &argv[1], Access::Read);
    let s = match s {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => return out.int(0),
        Ok(Some(s)) => s,
    };
    let r = s.with_bytes(|b| bitcount_of(b, &argv[2..]));
    match r {
        Ok(n) => out.int(n),
        Err(e) => out.error(e),
    }
}

fn bitcount_of(b: &[u8], opts: &[Bytes]) -> Result<i64, &'static str> {
    let r = match opts.len() {
        0 => Range {
            start: 0,
            end: b.len() as i64 - 1,
            first_mask: 0,
            last_mask: 0,
        },
        2 | 3 => {
            let start = args::int(&opts[0])?;
            let end = args::int(&opts[1])?;
            let bits = parse_unit(opts.get(2))?;
            if start < 0 && end < 0 && start > end {
                return Ok(0);
            }
            resolve_range(b.len() as i64, start, end, bits)
        }
        _ => return Err(errors::SYNTAX),
    };
    if r.start > r.end {
        return Ok(0);
    }
    let (start, end) = (r.start as usize, r.end as usize);
    let mut n = popcount(&b[start..=end]);
    // Discount the bits of the edge bytes that lie outside a BIT range.
    n -= u64::from((b[start] & r.first_mask).count_ones());
    n -= u64::from((b[end] & r.last_mask).count_ones());
    Ok(n as i64)
}

fn bitpos(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let bit = match args::int(&argv[2]) {
        Ok(0) => false,
        Ok(1) => true,
        Ok(_) => return ctx.error(BITPOS_BIT),
        Err(e) => return ctx.error(e),
    };
    let (s, out) = str_and_out(ctx, &argv[1], Access::Read);
    let s = match s {
        // A missing key is an endless run of zeros.
        Ok(None) => return out.int(if bit { -1 } else { 0 }),
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(Some(s)) => s,
    };
    match s.with_bytes(|b| bitpos_of(b, bit, &argv[3..])) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e),
    }
}

fn bitpos_of(b: &[u8], bit: bool, opts: &[Bytes]) -> Result<i64, &'static str> {
    let len = b.len() as i64;
    let mut end_given = false;
    let r = match opts.len() {
        0 => Range {
            start: 0,
            end: len - 1,
            first_mask: 0,
            last_mask: 0,
        },
        1..=3 => {
            let start = args::int(&opts[0])?;
            let bits = parse_unit(opts.get(2))?;
            let end = match opts.get(1) {
                Some(e) => {
                    end_given = true;
                    args::int(e)?
                }
                // Past the end: clamped to the last byte or bit.
                None => len.saturating_mul(8).saturating_add(7),
            };
            resolve_range(len, start, end, bits)
        }
        _ => return Err(errors::SYNTAX),
    };
    if r.start > r.end {
        return Ok(-1);
    }
    let (mut start, end) = (r.start as usize, r.end as usize);
    let mut bytes = end - start + 1;
    // Bits outside the range are forced to the opposite of what is searched.
    let edge = |x: u8, mask: u8| if bit { x & !mask } else { x | mask };
    let pos = 'found: {
        if r.first_mask != 0 {
            let mut c = edge(b[start], r.first_mask);
            if r.last_mask != 0 && bytes == 1 {
                c = edge(c, r.last_mask);
            }
            let pos = first_bit(&[c], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            bytes -= 1;
        }
        let middle = bytes - usize::from(r.last_mask != 0);
        if middle > 0 {
            let pos = first_bit(&b[start..start + middle], bit);
            if bytes == middle || (pos != -1 && pos != (middle as i64) * 8) {
                break 'found pos;
            }
            start += middle;
            bytes -= middle;
        }
        first_bit(&[edge(b[end], r.last_mask)], bit)
    };
    // With an explicit end, running off the range while looking for a 0 is "none".
    if end_given && !bit && pos == (bytes as i64) * 8 {
        return Ok(-1);
    }
    Ok(if pos == -1 {
        -1
    } else {
        pos + (start as i64) * 8
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn bitop(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let op = match &argv[1] {
        a if kw(a, "and") => BitOp::And,
        a if kw(a, "or") => BitOp::Or,
        a if kw(a, "xor") => BitOp::Xor,
        a if kw(a, "not") => BitOp::Not,
        _ => return ctx.error(errors::SYNTAX),
    };
    if op == BitOp::Not && argv.len() != 4 {
        return ctx.error(BITOP_NOT_ONE_KEY);
    }
    let dest = &argv[2];
    // Fold the sources into `res` one at a time; a missing key is an empty string
    // and shorter strings are zero-padded to the longest.
    let mut res: Vec<u8> = Vec::new();
    for (n, key) in argv[3..].iter().enumerate() {
        let (s, out) = str_and_out(ctx, key, Access::Read);
        match s {
            Err(WrongType) => return out.error(errors::WRONGTYPE),
            Ok(Some(s)) => s.with_bytes(|b| fold(op, n == 0, &mut res, b)),
            Ok(None) => fold(op, n == 0, &mut res, b""),
        }
    }
    let len = res.len() as i64;
    if res.is_empty() {
        if ctx.delete(dest) {
            ctx.notify(class::GENERIC, "del", dest);
        }
    } else {
        ctx.write(dest);
        ctx.set(dest, Value::Str(Str::raw(res)), false);
        ctx.notify(class::STRING, "set", dest);
    }
    ctx.out.int(len);
}

/// Combines one more BITOP source into `res` (the first source is copied).
fn fold(op: BitOp, first: bool, res: &mut Vec<u8>, b: &[u8]) {
    if first {
        res.extend_from_slice(b);
        if op == BitOp::Not {
            res.iter_mut().for_each(|x| *x = !*x);
        }
        return;
    }
    let common = res.len().min(b.len());
    match op {
        BitOp::And => {
            res[..common].iter_mut().zip(b).for_each(|(x, y)| *x &= y);
            res[common..].iter_mut().for_each(|x| *x = 0);
            res.resize(res.len().max(b.len()), 0);
        }
        BitOp::Or => {
            res[..common].iter_mut().zip(b).for_each(|(x, y)| *x |= y);
            res.extend_from_slice(&b[common..]);
        }
        BitOp::Xor => {
            res[..common].iter_mut().zip(b).for_each(|(x, y)| *x ^= y);
            res.extend_from_slice(&b[common..]);
        }
        // NOT takes exactly one source (checked before folding).
        BitOp::Not => {}
    }
}
