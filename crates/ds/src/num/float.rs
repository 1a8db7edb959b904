//! Exact binary floating point <-> decimal machinery shared by `f64` and the x87
//! 80-bit `long double` emulation.
//!
//! Owns: the `strtod` grammar as Redis accepts it ([`lex`]), correctly rounded
//! conversion of decimal and hexadecimal literals to a binary format
//! ([`dec_to_bin`], [`hex_to_bin`]), IEEE round-to-nearest-even ([`round_u128`]),
//! and glibc-exact `printf` renderings `%.Nf` ([`fmt_fixed`]) and `%.Ng`
//! ([`fmt_g`]).
//!
//! Values are handled as `(-1)^neg * m * 2^e` with an integer significand `m`.
//! Invariants: every conversion is exact or rounded once, half to even, as glibc
//! does in the default rounding mode; nothing here panics or allocates without a
//! bound derived from the input length.

use super::big::Big;

/// A binary floating point format.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Format {
    /// Significand bits, including the leading one.
    pub prec: u32,
    /// Exponent of the unit in the last place of the smallest subnormal.
    pub min_ulp: i64,
    /// Largest exponent of a leading bit (the format's emax).
    pub max_exp: i64,
}

pub(crate) const F64: Format = Format {
    prec: 53,
    min_ulp: -1074,
    max_exp: 1023,
};

pub(crate) const X87: Format = Format {
    prec: 64,
    min_ulp: -16445,
    max_exp: 16383,
};

/// Result of rounding a magnitude into a format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rounded {
    /// The input was exactly zero.
    Zero,
    /// A non-zero input too small for the format: it rounded to zero.
    Underflow,
    /// Too large for the format: it rounded to infinity.
    Overflow,
    /// `m * 2^e`, with `m < 2^prec` (and `m >= 2^(prec-1)` unless `e == min_ulp`).
    Finite(u64, i64),
}

/// Rounds the magnitude `q * 2^e` (plus something strictly between 0 and `2^e` if
/// `sticky`) to `fmt`, half to even. Callers with `sticky` set must supply at
/// least `prec + 2` significant bits in `q` unless the result is subnormal.
pub(crate) fn round_u128(fmt: Format, q: u128, e: i64, sticky: bool) -> Rounded {
    if q == 0 {
        return if sticky {
            Rounded::Underflow
        } else {
            Rounded::Zero
        };
    }
    let bl = i64::from(128 - q.leading_zeros());
    let p = e.saturating_add(bl - 1);
    if p > fmt.max_exp {
        return Rounded::Overflow;
    }
    let prec = i64::from(fmt.prec);
    let mut ulp = (p - (prec - 1)).max(fmt.min_ulp);
    let shift = ulp - e;
    let mut m: u128;
    if shift <= 0 {
        // Exact: fewer significant bits than the format holds.
        m = q << (-shift);
    } else {
        let (kept, rem, half) = if shift >= 129 {
            (0, q, None)
        } else if shift == 128 {
            (0, q, Some(1u128 << 127))
        } else {
            (
                q >> shift,
                q & ((1u128 << shift) - 1),
                Some(1u128 << (shift - 1)),
            )
        };
        m = kept;
        let up = match half {
            None => false,
            Some(h) => rem > h || (rem == h && (sticky || m & 1 == 1)),
        };
        if up {
            m += 1;
            if m == 1u128 << prec {
                m >>= 1;
                ulp += 1;
                if ulp + prec - 1 > fmt.max_exp {
                    return Rounded::Overflow;
                }
            }
        }
        if m == 0 {
            return Rounded::Underflow;
        }
    }
    Rounded::Finite(m as u64, ulp)
}

/// Rounds the magnitude `b * 2^e` (plus a bit if `sticky`) to `fmt`.
pub(crate) fn round_big(fmt: Format, b: &Big, e: i64, sticky: bool) -> Rounded {
    let (top, shift, lost) = b.top_u128();
    round_u128(fmt, top, e.saturating_add(shift as i64), sticky || lost)
}

/// A lexed floating point literal in the `strtod` grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lexed<'a> {
    Inf {
        neg: bool,
    },
    Dec {
        neg: bool,
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
    Hex {
        neg: bool,
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
}

/// Exponents are saturated here: far beyond any format's range, yet small enough
/// that adding digit counts never overflows an i64.
const EXP_SAT: i64 = 1_000_000_000_000;

/// Lexes `s` as C `strtod` would, requiring the whole input to be consumed and no
/// leading white space (Redis rejects it). NaN literals yield `None`, since Redis
/// rejects NaN values.
pub(crate) fn lex(s: &[u8]) -> Option<Lexed<'_>> {
    let (neg, rest) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
        return Some(Lexed::Inf { neg });
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        let body = &rest[2..];
        let (int, frac, after) = mantissa(body, |c| c.is_ascii_hexdigit());
        if int.is_empty() && frac.is_empty() {
            // strtod would stop after the "0": the 'x' is left over.
            return None;
        }
        let exp = exponent(after, b'p')?;
        return Some(Lexed::Hex {
            neg,
            int,
            frac,
            exp,
        });
    }
    let (int, frac, after) = mantissa(rest, |c| c.is_ascii_digit());
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = exponent(after, b'e')?;
    Some(Lexed::Dec {
        neg,
        int,
        frac,
        exp,
    })
}

/// Splits `digits [. digits]` off the front of `s`.
fn mantissa(s: &[u8], is_digit: impl Fn(u8) -> bool) -> (&[u8], &[u8], &[u8]) {
    let n_int = s.iter().take_while(|&&c| is_digit(c)).count();
    let int = &s[..n_int];
    let rest = &s[n_int..];
    if rest.first() == Some(&b'.') {
        let n_frac = rest[1..].iter().take_while(|&&c| is_digit(c)).count();
        (int, &rest[1..1 + n_frac], &rest[1 + n_frac..])
    } else {
        (int, &[], rest)
    }
}

/// Parses the optional exponent part, which must end the input.
fn exponent(s: &[u8], marker: u8) -> Option<i64> {
    if s.is_empty() {
        return Some(0);
    }
    if s[0] | 0x20 != marker {
        return None;
    }
    let (neg, digits) = match s.get(1) {
        Some(b'-') => (true, &s[2..]),
        Some(b'+') => (false, &s[2..]),
        _ => (false, &s[1..]),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        v = (v * 10 + i64::from(d - b'0')).min(EXP_SAT);
    }
    Some(if neg { -v } else { v })
}

fn strip_leading_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b'0').count();
    &s[n..]
}

/// Correctly rounded conversion of the decimal `int.frac * 10^exp` to `fmt`.
pub(crate) fn dec_to_bin(fmt: Format, int: &[u8], frac: &[u8], exp: i64) -> Rounded {
    // Concatenate the digits without allocating unless needed.
    let int = strip_leading_zeros(int);
    let (digits, mut e10): (Vec<u8>, i64) = if int.is_empty() {
        let f = strip_leading_zeros(frac);
        (f.to_vec(), exp - frac.len() as i64)
    } else {
        let mut d = Vec::with_capacity(int.len() + frac.len());
        d.extend_from_slice(int);
        d.extend_from_slice(frac);
        (d, exp - frac.len() as i64)
    };
    let trailing = digits.iter().rev().take_while(|&&c| c == b'0').count();
    let digits = &digits[..digits.len() - trailing];
    e10 += trailing as i64;
    if digits.is_empty() {
        return Rounded::Zero;
    }
    // The value lies in [10^(l-1), 10^l).
    let l = e10 + digits.len() as i64;
    // log10 of the largest finite value and of half the smallest subnormal.
    let max_dec = (fmt.max_exp as f64 + 1.0) * std::f64::consts::LOG10_2;
    let min_dec = (fmt.min_ulp as f64 - 1.0) * std::f64::consts::LOG10_2;
    if (l - 1) as f64 > max_dec + 1.0 {
        return Rounded::Overflow;
    }
    if (l as f64) < min_dec - 1.0 {
        return Rounded::Underflow;
    }
    let mut b = Big::default();
    for chunk in digits.chunks(9) {
        let mut v = 0u32;
        for &d in chunk {
            v = v * 10 + u32::from(d - b'0');
        }
        b.mul_add_small(10u32.pow(chunk.len() as u32), v);
    }
    if e10 >= 0 {
        b.mul_pow10(e10 as u64);
        return round_big(fmt, &b, 0, false);
    }
    let k = (-e10) as u64;
    // Scale up so that the quotient keeps at least prec + 3 significant bits.
    let need = i64::from(fmt.prec) + 4 + (k as f64 * std::f64::consts::LOG2_10).ceil() as i64
        - k as i64
        - b.bit_len() as i64;
    let s = need.max(0) as u64;
    b.shl(s);
    let lost = b.div_pow5(k);
    // b * 2^s / 5^k is the value times 2^(s + k).
    round_big(fmt, &b, -(s as i64) - k as i64, lost)
}

/// Exact conversion of the hexadecimal `int.frac * 2^exp` to `fmt`. Linear in the
/// input: only the first 30 significant digits are kept, the rest only decide
/// the sticky bit, which is all correct rounding needs.
pub(crate) fn hex_to_bin(fmt: Format, int: &[u8], frac: &[u8], exp: i64) -> Rounded {
    const KEEP: usize = 30;
    let val = |c: u8| -> u32 {
        match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'f' => u32::from(c - b'a' + 10),
            b'A'..=b'F' => u32::from(c - b'A' + 10),
            _ => 0,
        }
    };
    let mut q: u128 = 0;
    let mut kept = 0usize;
    let mut sticky = false;
    // Binary exponent of the last kept digit's unit, relative to 2^exp.
    let mut e2: i64 = 0;
    for (i, &c) in int.iter().chain(frac.iter()).enumerate() {
        let v = val(c);
        let in_frac = i >= int.len();
        if kept == 0 && v == 0 {
            if in_frac {
                e2 -= 4;
            }
            continue;
        }
        if kept < KEEP {
            q = (q << 4) | u128::from(v);
            kept += 1;
            if in_frac {
                e2 -= 4;
            }
        } else {
            sticky |= v != 0;
            if !in_frac {
                e2 += 4;
            }
        }
    }
    if q == 0 {
        return Rounded::Zero;
    }
    let e2 = exp.saturating_add(e2);
    let p = e2.saturating_add(i64::from(128 - q.leading_zeros()) - 1);
    if p > fmt.max_exp + 1 {
        return Rounded::Overflow;
    }
    if p < fmt.min_ulp - 2 {
        return Rounded::Underflow;
    }
    round_u128(fmt, q, e2, sticky)
}

/// Where a scaled value's dropped fraction lies relative to one half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Half {
    Below,
    Tie,
    Above,
}

fn pow10_u128(k: u64) -> Option<u128> {
    if k > 38 {
        return None;
    }
    Some(10u128.pow(k as u32))
}

/// floor(m * 2^e * 10^k) and the position of the remainder, when everything fits
/// in 126 bits.
fn scale_small(m: u64, e: i64, k: i64) -> Option<(u128, Half)> {
    let mut n = u128::from(m);
    if e > 0 {
        if e > 126 || i64::from(n.leading_zeros()) <= e + 2 {
            return None;
        }
        n <<= e;
    }
    if k > 0 {
        n = n.checked_mul(pow10_u128(k as u64)?)?;
        if n >> 126 != 0 {
            return None;
        }
    }
    let mut d: u128 = if k < 0 { pow10_u128((-k) as u64)? } else { 1 };
    if e < 0 {
        let a = -e;
        if a > 126 || i64::from(d.leading_zeros()) <= a + 2 {
            return None;
        }
        d <<= a;
    }
    let q = n / d;
    let r = n % d;
    let half = match (2 * r).cmp(&d) {
        std::cmp::Ordering::Less => Half::Below,
        std::cmp::Ordering::Equal => Half::Tie,
        std::cmp::Ordering::Greater => Half::Above,
    };
    Some((q, half))
}

/// floor(m * 2^e * 10^k) and the position of the remainder, exactly.
fn scale_big(m: u64, e: i64, k: i64) -> (Big, Half) {
    let mut n = Big::from_u128(u128::from(m));
    if e > 0 {
        n.shl(e as u64);
    }
    if k > 0 {
        n.mul_pow10(k as u64);
    }
    // floor(2n / d) keeps the half bit; `lost` tells whether anything below it
    // was non-zero.
    n.shl(1);
    let mut lost = false;
    if k < 0 {
        lost |= n.div_pow5((-k) as u64);
        lost |= n.shr((-k) as u64);
    }
    if e < 0 {
        lost |= n.shr((-e) as u64);
    }
    let half_bit = n.is_odd();
    n.shr(1);
    let half = match (half_bit, lost) {
        (false, _) => Half::Below,
        (true, false) => Half::Tie,
        (true, true) => Half::Above,
    };
    (n, half)
}

fn rounds_up(half: Half, odd: bool) -> bool {
    match half {
        Half::Below => false,
        Half::Tie => odd,
        Half::Above => true,
    }
}

/// `printf("%.{prec}f")` of `(-1)^neg * m * 2^e`, glibc-exact.
pub(crate) fn fmt_fixed(neg: bool, m: u64, e: i64, prec: u32, out: &mut Vec<u8>) {
    let k = i64::from(prec);
    let mut digits = match scale_small(m, e, k) {
        Some((q, half)) => {
            let r = q + u128::from(rounds_up(half, q & 1 == 1));
            r.to_string().into_bytes()
        }
        None => {
            let (mut q, half) = scale_big(m, e, k);
            if rounds_up(half, q.is_odd()) {
                q.mul_add_small(1, 1);
            }
            q.to_decimal()
        }
    };
    let prec = prec as usize;
    if digits.len() <= prec {
        let mut padded = vec![b'0'; prec + 1 - digits.len()];
        padded.extend_from_slice(&digits);
        digits = padded;
    }
    if neg {
        out.push(b'-');
    }
    let split = digits.len() - prec;
    out.extend_from_slice(&digits[..split]);
    if prec > 0 {
        out.push(b'.');
        out.extend_from_slice(&digits[split..]);
    }
}

/// `printf("%.{prec}g")` of `(-1)^neg * m * 2^e` for `1 <= prec <= 36`,
/// glibc-exact. Zero prints as "0" / "-0".
pub(crate) fn fmt_g(neg: bool, m: u64, e: i64, prec: u32, out: &mut Vec<u8>) {
    if neg {
        out.push(b'-');
    }
    if m == 0 {
        out.push(b'0');
        return;
    }
    let prec = prec.clamp(1, 36);
    let p = e + i64::from(64 - m.leading_zeros()) - 1;
    let mut x = (p as f64 * std::f64::consts::LOG10_2).floor() as i64;
    let lo = 10u128.pow(prec - 1);
    let hi = 10u128.pow(prec);
    let mut digits: u128 = lo;
    for _ in 0..8 {
        let k = i64::from(prec) - 1 - x;
        let (q, half) = match scale_small(m, e, k) {
            Some(v) => v,
            None => {
                let (q, half) = scale_big(m, e, k);
                (q.to_u128().unwrap_or(u128::MAX), half)
            }
        };
        if q >= hi {
            x += 1;
            continue;
        }
        if q < lo {
            x -= 1;
            continue;
        }
        digits = q + u128::from(rounds_up(half, q & 1 == 1));
        if digits == hi {
            digits = lo;
            x += 1;
        }
        break;
    }
    let s = digits.to_string();
    let s = s.as_bytes();
    let prec = i64::from(prec);
    if x < -4 || x >= prec {
        out.push(s[0]);
        let frac = trim_zeros(&s[1..]);
        if !frac.is_empty() {
            out.push(b'.');
            out.extend_from_slice(frac);
        }
        out.push(b'e');
        out.push(if x < 0 { b'-' } else { b'+' });
        let ax = x.unsigned_abs();
        if ax < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(ax.to_string().as_bytes());
    } else if x >= 0 {
        let split = (x + 1) as usize;
        out.extend_from_slice(&s[..split]);
        let frac = trim_zeros(&s[split..]);
        if !frac.is_empty() {
            out.push(b'.');
            out.extend_from_slice(frac);
        }
    } else {
        out.extend_from_slice(b"0.");
        for _ in 0..(-x - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(trim_zeros(s));
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|&&c| c == b'0').count();
    &s[..s.len() - n]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64) -> String {
        let mut out = Vec::new();
        let (neg, m, e) = super::super::decompose_f64(v);
        fmt_g(neg, m, e, 17, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn f(v: f64, prec: u32) -> String {
        let mut out = Vec::new();
        let (neg, m, e) = super::super::decompose_f64(v);
        fmt_fixed(neg, m, e, prec, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lexing() {
        assert_eq!(lex(b"inf"), Some(Lexed::Inf { neg: false }));
        assert_eq!(lex(b"-InFiNiTy"), Some(Lexed::Inf { neg: true }));
        assert_eq!(lex(b"infinit"), None);
        assert_eq!(lex(b"nan"), None);
        assert_eq!(lex(b""), None);
        assert_eq!(lex(b"."), None);
        assert_eq!(lex(b"1e"), None);
        assert_eq!(lex(b"1e+"), None);
        assert_eq!(lex(b" 1"), None);
        assert_eq!(lex(b"1 "), None);
        assert_eq!(lex(b"0x"), None);
        assert_eq!(lex(b"0x1p"), None);
        assert_eq!(lex(b"--1"), None);
        assert_eq!(lex(b"1_0"), None);
        assert!(lex(b"0x.8").is_some());
        assert!(lex(b"+.5e-3").is_some());
        assert!(lex(b"5.").is_some());
        assert_eq!(
            lex(b"-12.5e+7"),
            Some(Lexed::Dec {
                neg: true,
                int: b"12",
                frac: b"5",
                exp: 7
            })
        );
    }

    #[test]
    fn rounding_f64() {
        assert_eq!(
            dec_to_bin(F64, b"0", b"1", 0),
            Rounded::Finite(0x0019_9999_9999_999a, -56)
        );
        assert_eq!(dec_to_bin(F64, b"1", b"", 400), Rounded::Overflow);
        assert_eq!(dec_to_bin(F64, b"1", b"", -400), Rounded::Underflow);
        assert_eq!(dec_to_bin(F64, b"000", b"000", -400), Rounded::Zero);
        assert_eq!(dec_to_bin(F64, b"2", b"", -324), Rounded::Underflow);
        assert_eq!(dec_to_bin(F64, b"3", b"", -324), Rounded::Finite(1, -1074));
    }

    #[test]
    fn printf_g() {
        assert_eq!(g(0.1), "0.10000000000000001");
        assert_eq!(g(1.0), "1");
        assert_eq!(g(100.0), "100");
        assert_eq!(g(1e17), "1e+17");
        assert_eq!(g(1e16), "10000000000000000");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1.0000000000000001e-05");
        assert_eq!(g(1e308), "1e+308");
        assert_eq!(g(-0.0), "-0");
        assert_eq!(g(5e-324), "4.9406564584124654e-324");
        // A tie at the 18th digit: glibc rounds half to even.
        assert_eq!(g(1051.0 / 1048576.0), "0.0010023117065429688");
        assert_eq!(g(1.5), "1.5");
    }

    #[test]
    fn printf_f() {
        assert_eq!(f(0.5, 0), "0");
        assert_eq!(f(1.5, 0), "2");
        assert_eq!(f(2.5, 0), "2");
        assert_eq!(f(0.125, 2), "0.12");
        assert_eq!(f(-0.0, 3), "-0.000");
        assert_eq!(f(1e20, 2), "100000000000000000000.00");
        assert_eq!(f(0.1, 17), "0.10000000000000001");
    }
}
