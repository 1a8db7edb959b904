//! Number parsing and formatting exactly as Redis 7.0.15 does it.
//!
//! Owns:
//! - integers: [`parse_i64`] (Redis `string2ll`: the canonical decimal form only),
//!   [`parse_u64`] (the same rules, unsigned), [`parse_u64_strtoull`] (Redis
//!   `string2ull`, used for stream IDs, with `strtoull`'s leniency), and fast
//!   formatting ([`format_i64`], [`format_u64`], [`write_i64`]);
//! - doubles: [`parse_f64`] (Redis `getDoubleFromObject`: C `strtod` over the whole
//!   argument), [`parse_f64_lenient`] (the bare `strtod` of score range bounds) and
//!   the reply renderings ([`format_double_17g`] is `%.17g`, what
//!   Redis 7.0 uses for ZSCORE, ZINCRBY, WITHSCORES and RESP3 doubles);
//! - `long double`: [`LongDouble`], an exact software model of the x87 80-bit type
//!   behind INCRBYFLOAT, HINCRBYFLOAT and GEOPOS's reply formatting.
//!
//! Invariants: parsers accept exactly what Redis accepts (whole input, no leading
//! or trailing white space) and return `None` otherwise; formatters are
//! byte-for-byte what glibc's `printf` prints; nothing panics on any input.

mod big;
mod float;
mod longdouble;

pub use longdouble::{LongDouble, MAX_LONG_DOUBLE_CHARS};

use float::{Lexed, Rounded, F64};

/// Longest accepted integer argument: 20 characters (Redis `LONG_STR_SIZE` - 1).
const MAX_INT_CHARS: usize = 20;

/// Parses a canonical decimal `i64` as Redis `string2ll` does: an optional `-`,
/// no `+`, no white space, no leading zeros ("0" itself is fine, "-0" is not), at
/// most 20 characters, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        None => return None,
        Some((b'-', rest)) => (true, rest),
        Some(_) => (false, s),
    };
    if s.len() > MAX_INT_CHARS {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let v = parse_digits_no_leading_zero(digits)?;
    if neg {
        if v <= 1u64 << 63 {
            Some((v as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses a canonical decimal `u64`: the rules of [`parse_i64`] without the sign.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > MAX_INT_CHARS {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    parse_digits_no_leading_zero(s)
}

fn parse_digits_no_leading_zero(d: &[u8]) -> Option<u64> {
    match d.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// Parses a `u64` as Redis `string2ull` does (stream ID parts): first the strict
/// form of [`parse_i64`] (a negative value is rejected), then C `strtoull` in base
/// 10, which also takes leading white space, a `+`, leading zeros, and a `-` that
/// negates modulo 2^64 (" -5" is 18446744073709551611). The input is read as a C
/// string: it ends at the first NUL byte.
pub fn parse_u64_strtoull(s: &[u8]) -> Option<u64> {
    let s = match s.iter().position(|&c| c == 0) {
        Some(n) => &s[..n],
        None => s,
    };
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let ws = s
        .iter()
        .take_while(|&&c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    let rest = &s[ws..];
    let (neg, digits) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes the decimal form of `v` at the end of `buf`; returns the start index.
fn write_u64_tail(mut v: u64, buf: &mut [u8; 20]) -> usize {
    let mut i = buf.len();
    while v >= 100 {
        let r = (v % 100) as usize;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[2 * r..2 * r + 2]);
    }
    if v >= 10 {
        let r = v as usize;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[2 * r..2 * r + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    i
}

/// Formats `v` in decimal into `buf` (20 bytes hold any i64) and returns the text.
pub fn format_i64(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = write_u64_tail(v.unsigned_abs(), buf);
    if v < 0 {
        // i >= 1: at most 19 digits were written for |i64::MIN| = 2^63.
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Formats `v` in decimal into `buf` and returns the text.
pub fn format_u64(v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let i = write_u64_tail(v, buf);
    &buf[i..]
}

/// Appends the decimal form of `v` to `out`.
pub fn write_i64(v: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    out.extend_from_slice(format_i64(v, &mut buf));
}

/// Number of characters in the decimal form of `v`.
pub fn i64_len(v: i64) -> usize {
    let mut buf = [0u8; 20];
    format_i64(v, &mut buf).len()
}

/// Parses a double as Redis's `getDoubleFromObject` does: C `strtod` must consume
/// the whole input; leading white space is refused; `inf`, `infinity` (any case,
/// optionally signed) are accepted, NaN is refused; hexadecimal floats (`0x10`,
/// `0x1.8p3`) are accepted; a value that overflows, or a non-zero value that
/// underflows to zero, is refused (subnormal results are fine). No length limit.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    match float::lex(s)? {
        Lexed::Inf { neg } => Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        Lexed::Dec {
            neg,
            int,
            frac,
            exp,
        } => {
            // Rust's parser is correctly rounded, as glibc's strtod is, and the
            // lexer has already checked that the text is in strtod's grammar.
            let parsed = std::str::from_utf8(s)
                .ok()
                .and_then(|t| t.parse::<f64>().ok());
            match parsed {
                Some(v) if v != 0.0 && v.is_finite() => Some(v),
                Some(v) if v == 0.0 && significant_digits(int, frac) == 0 => Some(v),
                // Zero from non-zero digits or infinity: an underflow or overflow,
                // unless Rust's parser gave up on an absurd exponent adjustment
                // (millions of leading zeros). The exact path settles it when the
                // significant digits are few enough to keep it cheap.
                _ if significant_digits(int, frac) <= 1000 => {
                    rounded_to_f64(neg, float::dec_to_bin(F64, int, frac, exp))
                }
                _ => None,
            }
        }
        Lexed::Hex {
            neg,
            int,
            frac,
            exp,
        } => rounded_to_f64(neg, float::hex_to_bin(F64, int, frac, exp)),
    }
}

/// Parses a double as a bare C `strtod` call that only checks for trailing garbage
/// and NaN — how Redis reads ZRANGEBYSCORE / ZCOUNT / ZREMRANGEBYSCORE bounds
/// (after an optional `(`): the input is a C string (it ends at the first NUL),
/// leading white space is skipped, overflow gives ±inf and underflow ±0 instead
/// of an error, and an empty input is 0. (" 1" → 1, "" → 0, "1e400" → inf,
/// "1 " and "  " are refused; checked against redis-server.)
pub fn parse_f64_lenient(s: &[u8]) -> Option<f64> {
    let s = match s.iter().position(|&c| c == 0) {
        Some(n) => &s[..n],
        None => s,
    };
    if s.is_empty() {
        return Some(0.0);
    }
    let ws = s
        .iter()
        .take_while(|&&c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    let t = &s[ws..];
    match float::lex(t)? {
        Lexed::Inf { neg } => Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        Lexed::Dec {
            neg,
            int,
            frac,
            exp,
        } => {
            let parsed = std::str::from_utf8(t)
                .ok()
                .and_then(|x| x.parse::<f64>().ok());
            match parsed {
                Some(v) => Some(v),
                None => Some(saturate_f64(neg, float::dec_to_bin(F64, int, frac, exp))),
            }
        }
        Lexed::Hex {
            neg,
            int,
            frac,
            exp,
        } => Some(saturate_f64(neg, float::hex_to_bin(F64, int, frac, exp))),
    }
}

/// A rounding result as a double, overflow and underflow saturating.
fn saturate_f64(neg: bool, r: Rounded) -> f64 {
    let mag = match r {
        Rounded::Zero | Rounded::Underflow => 0.0,
        Rounded::Overflow => f64::INFINITY,
        Rounded::Finite(m, e) => f64_from_parts(m, e),
    };
    if neg {
        -mag
    } else {
        mag
    }
}

/// Digits between the first and the last non-zero digit of `int.frac`.
fn significant_digits(int: &[u8], frac: &[u8]) -> usize {
    let total = int.len() + frac.len();
    let lead = int
        .iter()
        .chain(frac.iter())
        .take_while(|&&c| c == b'0')
        .count();
    if lead == total {
        return 0;
    }
    let trail = frac
        .iter()
        .rev()
        .chain(int.iter().rev())
        .take_while(|&&c| c == b'0')
        .count();
    total - lead - trail
}

fn rounded_to_f64(neg: bool, r: Rounded) -> Option<f64> {
    let mag = match r {
        Rounded::Zero => 0.0,
        Rounded::Underflow | Rounded::Overflow => return None,
        Rounded::Finite(m, e) => f64_from_parts(m, e),
    };
    Some(if neg { -mag } else { mag })
}

/// Builds `m * 2^e` for a pair produced by rounding to [`F64`] (exact).
fn f64_from_parts(m: u64, e: i64) -> f64 {
    if m >= 1 << 52 {
        // Normal: m has 53 bits.
        let biased = (e + 52 + 1023) as u64;
        f64::from_bits((biased << 52) | (m & ((1 << 52) - 1)))
    } else {
        // Subnormal: e == -1074.
        f64::from_bits(m)
    }
}

/// Splits a finite double into `(negative, m, e)` with value `m * 2^e`
/// (`m == 0` for zeros).
pub(crate) fn decompose_f64(v: f64) -> (bool, u64, i64) {
    let bits = v.to_bits();
    let neg = bits >> 63 == 1;
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    if exp == 0 {
        (neg, frac, -1074)
    } else {
        (neg, frac | (1 << 52), exp - 1075)
    }
}

/// `printf("%.17g", d)` as glibc prints it, with "inf", "-inf", "nan" / "-nan".
/// Redis 7.0 renders doubles in replies this way (ZSCORE, ZINCRBY, WITHSCORES,
/// ZADD INCR, RESP3 `,` doubles): `0.1` is "0.10000000000000001", `1e17` is
/// "1e+17", `-0.0` is "-0". (A score of -0 in a listpack-encoded zset reads back
/// as 0 in Redis, so ZSCORE says "0" there and "-0" for a skiplist-encoded one.)
pub fn format_double_17g(d: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_double_17g(d, &mut out);
    // The output is ASCII by construction.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `printf("%.17g", d)` to `out` (see [`format_double_17g`]).
pub fn write_double_17g(d: f64, out: &mut Vec<u8>) {
    if d.is_nan() {
        out.extend_from_slice(if d.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    if d == d.trunc() && d.abs() < 1e17 && !(d == 0.0 && d.is_sign_negative()) {
        // Integers below 10^17 print in full with no fraction.
        write_i64(d as i64, out);
        return;
    }
    let (neg, m, e) = decompose_f64(d);
    float::fmt_g(neg, m, e, 17, out);
}

/// `printf("%.{prec}f", d)` as glibc prints it (e.g. GEODIST's `%.4f`), with
/// "inf", "-inf", "nan" / "-nan". `prec` is capped at 1000.
pub fn format_double_fixed(d: f64, prec: u32) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let (neg, m, e) = decompose_f64(d);
    let mut out = Vec::new();
    float::fmt_fixed(neg, m, e, prec.min(1000), &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// A double rendered the way Redis renders a `long double` for people
/// (`%.17Lf`, trailing zeros stripped; see [`LongDouble::format_human`]), as GEOPOS
/// does for coordinates.
pub fn format_double_human(d: f64) -> String {
    LongDouble::from_f64(d).format_human()
}

#[cfg(test)]
mod tests;
