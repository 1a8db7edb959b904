//! BITFIELD and BITFIELD_RO: arbitrary-width integers at arbitrary bit offsets.
//!
//! Every operation is parsed (and every argument checked) before anything runs;
//! then the string is grown once to the farthest bit any SET or INCRBY touches, and
//! the operations run in order. Signed fields are `i1`..`i64`, unsigned `u1`..`u63`.
//! OVERFLOW applies to the operations after it: WRAP (two's complement modulo the
//! width), SAT (clamp to the type's range) or FAIL (skip the write, reply null).
//! An operation counts as a change when the key was created or grew, or when the
//! field's value changed, as in Redis 7.0.

use super::{bit_offset, edit_bits};
use crate::args;
use crate::args::kw;
use crate::ctx::{Ctx, WrongType};
use crate::errors;
pub use crate::errors::{BITFIELD_OVERFLOW_TYPE, BITFIELD_RO_GET_ONLY, BITFIELD_TYPE};
use crate::strings::str_and_out;
use bytes::Bytes;
use shoal_keyspace::{class, Access};

// Error texts this command adds; they belong in errors.rs (kept here until moved).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Get,
    Set,
    IncrBy,
}

#[derive(Clone, Copy, Debug)]
struct Op {
    kind: Kind,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

/// A parsed BITFIELD command.
struct Ops {
    ops: Vec<Op>,
    /// Only GETs: the key is read, never created.
    readonly: bool,
    /// The last bit any SET or INCRBY touches.
    highest_bit: u64,
}

/// `i<bits>` or `u<bits>`, as Redis reads it (the width stops at a NUL byte).
fn parse_type(arg: &[u8]) -> Result<(bool, u32), &'static str> {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    let signed = match arg[..end].first() {
        Some(b'i' | b'I') => true,
        Some(b'u' | b'U') => false,
        _ => return Err(BITFIELD_TYPE),
    };
    match shoal_ds::num::parse_i64(&arg[1..end]) {
        Some(b) if b >= 1 && b <= if signed { 64 } else { 63 } => Ok((signed, b as u32)),
        _ => Err(BITFIELD_TYPE),
    }
}

fn parse(argv: &[Bytes], max_bulk: i64) -> Result<Ops, &'static str> {
    let mut p = Ops {
        ops: Vec::new(),
        readonly: true,
        highest_bit: 0,
    };
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < argv.len() {
        let rest = argv.len() - j - 1;
        let sub = &argv[j][..];
        let kind = if kw(sub, "get") && rest >= 2 {
            Kind::Get
        } else if kw(sub, "set") && rest >= 3 {
            Kind::Set
        } else if kw(sub, "incrby") && rest >= 3 {
            Kind::IncrBy
        } else if kw(sub, "overflow") && rest >= 1 {
            let t = &argv[j + 1];
            overflow = if kw(t, "wrap") {
                Overflow::Wrap
            } else if kw(t, "sat") {
                Overflow::Sat
            } else if kw(t, "fail") {
                Overflow::Fail
            } else {
                return Err(BITFIELD_OVERFLOW_TYPE);
            };
            j += 2;
            continue;
        } else {
            return Err(errors::SYNTAX);
        };
        let (signed, bits) = parse_type(&argv[j + 1])?;
        let offset = bit_offset(&argv[j + 2], bits, max_bulk)?;
        let mut value = 0;
        if kind != Kind::Get {
            p.readonly = false;
            p.highest_bit = p.highest_bit.max(offset + u64::from(bits) - 1);
            value = args::int(&argv[j + 3])?;
        }
        p.ops.push(Op {
            kind,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok(p)
}

/// The `bits`-wide unsigned field at bit `offset`; bits past the end read as 0.
fn get_unsigned(buf: &[u8], offset: u64, bits: u32) -> u64 {
    (offset..offset + u64::from(bits)).fold(0u64, |v, o| {
        let bit = buf
            .get((o >> 3) as usize)
            .map_or(0, |&b| (b >> (7 - (o & 7))) & 1);
        (v << 1) | u64::from(bit)
    })
}

/// The field read as two's complement.
fn get_signed(buf: &[u8], offset: u64, bits: u32) -> i64 {
    let mut v = get_unsigned(buf, offset, bits);
    if bits < 64 && (v >> (bits - 1)) & 1 == 1 {
        v |= u64::MAX << bits;
    }
    v as i64
}

/// Writes the low `bits` bits of `value` at bit `offset` (the buffer covers them).
fn set_field(buf: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..u64::from(bits) {
        let bit = (value >> (u64::from(bits) - 1 - i)) & 1;
        let o = offset + i;
        let byte = &mut buf[(o >> 3) as usize];
        let mask = 1u8 << (7 - (o & 7));
        if bit == 1 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// Redis's `checkSignedBitfieldOverflow`: whether `value + incr` leaves the range of
/// an `i<bits>`, and then the value to store instead (WRAP and SAT).
fn check_signed(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    // Only used once `value` is known to be in range, when they cannot overflow.
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        Some(if ow == Overflow::Wrap { wrapped() } else { max })
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        Some(if ow == Overflow::Wrap { wrapped() } else { min })
    } else {
        None
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`, for a `u<bits>` (bits <= 63).
fn check_unsigned(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = || value.wrapping_add(incr as u64) & max;
    if value > max || (incr > 0 && incr > max_incr) {
        Some(if ow == Overflow::Wrap { wrapped() } else { max })
    } else if incr < 0 && incr < min_incr {
        Some(if ow == Overflow::Wrap { wrapped() } else { 0 })
    } else {
        None
    }
}

/// Runs one SET or INCRBY. Returns the reply (`None` when FAIL refused the write)
/// and whether the field's value changed.
fn write_op(buf: &mut [u8], op: &Op) -> (Option<i64>, bool) {
    let (old, new, overflowed, reply) = if op.signed {
        let old = get_signed(buf, op.offset, op.bits);
        let (new, ovf, reply) = match op.kind {
            Kind::IncrBy => match check_signed(old, op.value, op.bits, op.overflow) {
                Some(lim) => (lim, true, lim),
                None => {
                    let n = old.wrapping_add(op.value);
                    (n, false, n)
                }
            },
            _ => match check_signed(op.value, 0, op.bits, op.overflow) {
                Some(lim) => (lim, true, old),
                None => (op.value, false, old),
            },
        };
        (old as u64, new as u64, ovf, reply)
    } else {
        let old = get_unsigned(buf, op.offset, op.bits);
        let (new, ovf, reply) = match op.kind {
            Kind::IncrBy => match check_unsigned(old, op.value, op.bits, op.overflow) {
                Some(lim) => (lim, true, lim),
                None => {
                    let n = old.wrapping_add(op.value as u64);
                    (n, false, n)
                }
            },
            _ => match check_unsigned(op.value as u64, 0, op.bits, op.overflow) {
                Some(lim) => (lim, true, old),
                None => (op.value as u64, false, old),
            },
        };
        (old, new, ovf, reply as i64)
    };
    if overflowed && op.overflow == Overflow::Fail {
        return (None, false);
    }
    set_field(buf, op.offset, op.bits, new);
    (Some(reply), old != new)
}

fn read_op(buf: &[u8], op: &Op) -> i64 {
    if op.signed {
        get_signed(buf, op.offset, op.bits)
    } else {
        get_unsigned(buf, op.offset, op.bits) as i64
    }
}

fn bitfield_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], ro_command: bool) {
    let p = match parse(argv, ctx.settings.proto_max_bulk_len) {
        Ok(p) => p,
        Err(e) => return ctx.error(e),
    };
    let key = &argv[1];
    if p.readonly {
        let (s, out) = str_and_out(ctx, key, Access::Read);
        let s = match s {
            Err(WrongType) => return out.error(errors::WRONGTYPE),
            Ok(s) => s,
        };
        out.array(p.ops.len());
        for op in &p.ops {
            let v = match &s {
                Some(s) => s.with_bytes(|b| read_op(b, op)),
                None => 0,
            };
            out.int(v);
        }
        return;
    }
    if ro_command {
        return ctx.error(BITFIELD_RO_GET_ONLY);
    }
    // The byte of the highest bit is below proto-max-bulk-len (offsets were checked,
    // and a field is at most 64 bits wide).
    let r = edit_bits(ctx, key, p.highest_bit >> 3, |buf, grew| {
        let mut changes = 0u64;
        let replies: Vec<Option<i64>> = p
            .ops
            .iter()
            .map(|op| {
                if op.kind == Kind::Get {
                    return Some(read_op(buf, op));
                }
                let (reply, changed) = write_op(buf, op);
                if reply.is_some() && (grew || changed) {
                    changes += 1;
                }
                reply
            })
            .collect();
        (replies, changes)
    });
    match r {
        Err(WrongType) => ctx.wrong_type(),
        Ok((replies, changes)) => {
            ctx.dirty += changes;
            if changes > 0 {
                ctx.notify(class::STRING, "setbit", key);
            }
            ctx.out.array(replies.len());
            for r in replies {
                match r {
                    Some(v) => ctx.out.int(v),
                    None => ctx.out.null(),
                }
            }
        }
    }
}

pub(super) fn bitfield(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    bitfield_generic(ctx, argv, false);
}

pub(super) fn bitfield_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    bitfield_generic(ctx, argv, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_checks_match_redis() {
        // i8: 127 + 1
        assert_eq!(check_signed(127, 1, 8, Overflow::Wrap), Some(-128));
        assert_eq!(check_signed(127, 1, 8, Overflow::Sat), Some(127));
        assert_eq!(check_signed(-128, -1, 8, Overflow::Wrap), Some(127));
        assert_eq!(check_signed(-128, -1, 8, Overflow::Sat), Some(-128));
        assert_eq!(check_signed(100, 27, 8, Overflow::Wrap), None);
        // SET of an out-of-range value
        assert_eq!(check_signed(1000, 0, 8, Overflow::Wrap), Some(-24));
        assert_eq!(
            check_signed(i64::MAX, 1, 64, Overflow::Wrap),
            Some(i64::MIN)
        );
        assert_eq!(
            check_signed(i64::MIN, -1, 64, Overflow::Sat),
            Some(i64::MIN)
        );
        assert_eq!(check_signed(i64::MIN, i64::MAX, 64, Overflow::Sat), None);
        assert_eq!(check_signed(i64::MAX, i64::MIN, 64, Overflow::Sat), None);
        assert_eq!(check_unsigned(255, 1, 8, Overflow::Wrap), Some(0));
        assert_eq!(check_unsigned(0, -1, 8, Overflow::Wrap), Some(255));
        assert_eq!(check_unsigned(0, -1, 8, Overflow::Sat), Some(0));
        assert_eq!(
            check_unsigned(-5i64 as u64, 0, 8, Overflow::Wrap),
            Some(251)
        );
        assert_eq!(check_unsigned(-5i64 as u64, 0, 8, Overflow::Sat), Some(255));
        assert_eq!(check_unsigned(0, i64::MIN, 63, Overflow::Wrap), Some(0));
        assert_eq!(
            check_unsigned((1 << 63) - 1, 1, 63, Overflow::Wrap),
            Some(0)
        );
    }

    #[test]
    fn field_bits_round_trip() {
        let mut buf = [0u8; 10];
        set_field(&mut buf, 3, 64, 0xdead_beef_0123_4567);
        assert_eq!(get_unsigned(&buf, 3, 64), 0xdead_beef_0123_4567);
        assert_eq!(get_signed(&buf, 3, 4), 0xd_i64 - 16);
        buf[9] = 0xff;
        assert_eq!(
            get_unsigned(&buf, 76, 8),
            0b1111_0000,
            "past the end reads zeros"
        );
        assert_eq!(parse_type(b"u63"), Ok((false, 63)));
        assert_eq!(parse_type(b"I64"), Ok((true, 64)));
        assert_eq!(parse_type(b"i8\0junk"), Ok((true, 8)));
        for bad in [&b"u64"[..], b"i65", b"u0", b"i", b"", b"x8", b"u+8", b"u08"] {
            assert_eq!(parse_type(bad), Err(BITFIELD_TYPE), "{bad:?}");
        }
    }
}
