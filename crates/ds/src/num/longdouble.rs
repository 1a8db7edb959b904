//! A software model of the x87 80-bit `long double` as Redis 7.0.15 on x86-64 Linux
//! uses it: INCRBYFLOAT and HINCRBYFLOAT parse both operands with `strtold`, add
//! them in extended precision and print the sum with `%.17Lf`, stripping trailing
//! zeros ("human" mode); GEOPOS prints coordinates the same way.
//!
//! Owns: [`LongDouble`] — parsing (Redis `string2ld`), exact conversion from
//! integers and doubles, addition, and the `%.17Lf`-human and `%.17Lg` renderings.
//!
//! How Redis 7.0.15 uses it (checked against redis-server):
//! - INCRBYFLOAT: the stored value (an integer-encoded one via [`LongDouble::from_i64`],
//!   otherwise [`LongDouble::parse`]) plus the parsed increment; a parse failure of
//!   either is "ERR value is not a valid float"; a non-finite sum (including an
//!   `inf` increment) is "ERR increment would produce NaN or Infinity"; the reply
//!   and the new value are [`LongDouble::format_human`].
//! - HINCRBYFLOAT: the same, except that a non-finite *increment* is refused first
//!   with "ERR value is NaN or Infinity".
//! - The human form does not always round-trip prettily: `SET k 10.6` then
//!   `INCRBYFLOAT k 5.0e3` replies "5010.60000000000000009", because 10.6 parsed
//!   to 64 bits carries an error the sum makes visible at 17 decimals.
//!
//! Invariants: finite non-zero values are held as `m * 2^e` exactly as the
//! hardware would hold them (64-bit significand with explicit leading bit,
//! subnormals below 2^-16382 down to 2^-16445); every operation rounds once, to
//! nearest, ties to even, like the x87 FPU with its default control word. Nothing
//! panics on any input.

use super::float::{self, Lexed, Rounded, X87};

/// Longest text Redis accepts or produces for a long double, plus one
/// (`MAX_LONG_DOUBLE_CHARS`): `string2ld` refuses inputs of this length or more.
pub const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Zero,
    /// `m * 2^e`: `m >= 2^63` for normal numbers, `e == -16445` for subnormals.
    Finite {
        m: u64,
        e: i32,
    },
    Inf,
    Nan,
}

/// An x87 80-bit extended precision number.
#[derive(Clone, Copy, Debug)]
pub struct LongDouble {
    neg: bool,
    kind: Kind,
}

impl PartialEq for LongDouble {
    /// IEEE equality: NaN is unequal to everything, `-0 == 0`.
    fn eq(&self, other: &LongDouble) -> bool {
        match (self.kind, other.kind) {
            (Kind::Nan, _) | (_, Kind::Nan) => false,
            (Kind::Zero, Kind::Zero) => true,
            (a, b) => a == b && self.neg == other.neg,
        }
    }
}

impl Default for LongDouble {
    fn default() -> LongDouble {
        LongDouble::ZERO
    }
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble {
        neg: false,
        kind: Kind::Zero,
    };
    pub const INFINITY: LongDouble = LongDouble {
        neg: false,
        kind: Kind::Inf,
    };
    pub const NEG_INFINITY: LongDouble = LongDouble {
        neg: true,
        kind: Kind::Inf,
    };
    pub const NAN: LongDouble = LongDouble {
        neg: false,
        kind: Kind::Nan,
    };

    fn from_rounded(neg: bool, r: Rounded) -> LongDouble {
        let kind = match r {
            Rounded::Zero | Rounded::Underflow => Kind::Zero,
            Rounded::Overflow => Kind::Inf,
            Rounded::Finite(m, e) => Kind::Finite { m, e: e as i32 },
        };
        LongDouble { neg, kind }
    }

    /// Parses `s` as Redis `string2ld` does: C `strtold` must consume the whole
    /// input, which must be non-empty and shorter than [`MAX_LONG_DOUBLE_CHARS`]
    /// bytes, with no leading white space. `inf`/`infinity` are accepted (the
    /// caller then reports "would produce NaN or Infinity"); NaN, overflow, and a
    /// non-zero value that underflows to zero are refused. Hexadecimal floats are
    /// accepted.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
            return None;
        }
        let (neg, r) = match float::lex(s)? {
            Lexed::Inf { neg } => {
                return Some(LongDouble {
                    neg,
                    kind: Kind::Inf,
                })
            }
            Lexed::Dec {
                neg,
                int,
                frac,
                exp,
            } => (neg, float::dec_to_bin(X87, int, frac, exp)),
            Lexed::Hex {
                neg,
                int,
                frac,
                exp,
            } => (neg, float::hex_to_bin(X87, int, frac, exp)),
        };
        match r {
            Rounded::Underflow | Rounded::Overflow => None,
            r => Some(LongDouble::from_rounded(neg, r)),
        }
    }

    /// The exact value of an integer (the 64-bit significand holds any i64).
    pub fn from_i64(v: i64) -> LongDouble {
        let neg = v < 0;
        let m = v.unsigned_abs();
        if m == 0 {
            return LongDouble::ZERO;
        }
        let z = m.leading_zeros();
        LongDouble {
            neg,
            kind: Kind::Finite {
                m: m << z,
                e: -(z as i32),
            },
        }
    }

    /// The exact value of a double.
    pub fn from_f64(d: f64) -> LongDouble {
        let neg = d.is_sign_negative();
        if d.is_nan() {
            return LongDouble {
                neg,
                kind: Kind::Nan,
            };
        }
        if d.is_infinite() {
            return LongDouble {
                neg,
                kind: Kind::Inf,
            };
        }
        let (neg, m, e) = super::decompose_f64(d);
        if m == 0 {
            return LongDouble {
                neg,
                kind: Kind::Zero,
            };
        }
        let z = m.leading_zeros();
        LongDouble {
            neg,
            kind: Kind::Finite {
                m: m << z,
                e: (e - i64::from(z)) as i32,
            },
        }
    }

    /// Rounds to the nearest double (ties to even), as a C cast does.
    pub fn to_f64(self) -> f64 {
        let mag = match self.kind {
            Kind::Nan => return f64::NAN,
            Kind::Inf => f64::INFINITY,
            Kind::Zero => 0.0,
            Kind::Finite { m, e } => {
                match float::round_u128(float::F64, u128::from(m), i64::from(e), false) {
                    Rounded::Zero | Rounded::Underflow => 0.0,
                    Rounded::Overflow => f64::INFINITY,
                    Rounded::Finite(m, e) => super::f64_from_parts(m, e),
                }
            }
        };
        if self.neg {
            -mag
        } else {
            mag
        }
    }

    pub fn is_finite(&self) -> bool {
        matches!(self.kind, Kind::Zero | Kind::Finite { .. })
    }

    pub fn is_nan(&self) -> bool {
        self.kind == Kind::Nan
    }

    pub fn is_infinite(&self) -> bool {
        self.kind == Kind::Inf
    }

    pub fn is_zero(&self) -> bool {
        self.kind == Kind::Zero
    }

    pub fn is_sign_negative(&self) -> bool {
        self.neg
    }

    /// `-self`.
    #[allow(clippy::should_implement_trait)]
    pub fn neg(self) -> LongDouble {
        LongDouble {
            neg: !self.neg,
            kind: self.kind,
        }
    }

    /// `self + other`, rounded once to extended precision, ties to even.
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, other: LongDouble) -> LongDouble {
        match (self.kind, other.kind) {
            (Kind::Nan, _) | (_, Kind::Nan) => LongDouble::NAN,
            (Kind::Inf, Kind::Inf) => {
                if self.neg == other.neg {
                    self
                } else {
                    LongDouble::NAN
                }
            }
            (Kind::Inf, _) => self,
            (_, Kind::Inf) => other,
            (Kind::Zero, Kind::Zero) => LongDouble {
                neg: self.neg && other.neg,
                kind: Kind::Zero,
            },
            (Kind::Zero, _) => other,
            (_, Kind::Zero) => self,
            (Kind::Finite { m: ma, e: ea }, Kind::Finite { m: mb, e: eb }) => {
                add_finite(self.neg, ma, ea, other.neg, mb, eb)
            }
        }
    }

    /// `self - other`.
    #[allow(clippy::should_implement_trait)]
    pub fn sub(self, other: LongDouble) -> LongDouble {
        self.add(other.neg())
    }

    /// The 80-bit memory image (sign, 15-bit biased exponent, 64-bit significand
    /// with explicit integer bit) in the low bits of a u128.
    pub fn to_x87_bits(self) -> u128 {
        let sign = u128::from(self.neg) << 79;
        let (exp, mant): (u128, u64) = match self.kind {
            Kind::Zero => (0, 0),
            Kind::Inf => (0x7fff, 1 << 63),
            Kind::Nan => (0x7fff, 3 << 62),
            Kind::Finite { m, e } => {
                if m >> 63 == 1 {
                    ((i64::from(e) + 63 + 16383) as u128, m)
                } else {
                    (0, m)
                }
            }
        };
        sign | (exp << 64) | u128::from(mant)
    }

    /// Reads an 80-bit memory image (see [`LongDouble::to_x87_bits`]). Encodings
    /// the FPU treats as invalid operands (unnormals, pseudo-infinities) read as NaN.
    pub fn from_x87_bits(bits: u128) -> LongDouble {
        let neg = (bits >> 79) & 1 == 1;
        let exp = ((bits >> 64) & 0x7fff) as i64;
        let mant = bits as u64;
        let kind = if exp == 0x7fff {
            if mant == 1 << 63 {
                Kind::Inf
            } else {
                Kind::Nan
            }
        } else if exp == 0 {
            if mant == 0 {
                Kind::Zero
            } else {
                // Subnormal (or pseudo-denormal, whose value is the same).
                from_exact(mant, -16445)
            }
        } else if mant >> 63 == 0 {
            Kind::Nan
        } else {
            Kind::Finite {
                m: mant,
                e: (exp - 16383 - 63) as i32,
            }
        };
        LongDouble { neg, kind }
    }

    /// Redis's "human" rendering (`ld2string` with `LD_STR_HUMAN`), used for the
    /// INCRBYFLOAT / HINCRBYFLOAT results and GEOPOS coordinates: `%.17Lf`, then
    /// trailing zeros and a trailing `.` removed, and "-0" turned into "0".
    /// Infinities print as "inf" / "-inf", NaN as "nan" / "-nan".
    pub fn format_human(&self) -> String {
        let mut out = Vec::new();
        self.write_human(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends [`LongDouble::format_human`] to `out`.
    pub fn write_human(&self, out: &mut Vec<u8>) {
        if let Some(s) = self.special() {
            out.extend_from_slice(s);
            return;
        }
        let start = out.len();
        let (m, e) = self.parts();
        float::fmt_fixed(self.neg, m, e, 17, out);
        // There is always a '.' with 17 digits after it.
        while out.last() == Some(&b'0') {
            out.pop();
        }
        if out.last() == Some(&b'.') {
            out.pop();
        }
        if &out[start..] == b"-0" {
            out.truncate(start);
            out.push(b'0');
        }
    }

    /// `%.17Lg` (Redis `ld2string` with `LD_STR_AUTO`).
    pub fn format_17g(&self) -> String {
        if let Some(s) = self.special() {
            return String::from_utf8_lossy(s).into_owned();
        }
        let mut out = Vec::new();
        let (m, e) = self.parts();
        float::fmt_g(self.neg, m, e, 17, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// `%.{prec}Lf` without any stripping (`prec` capped at 1000).
    pub fn format_fixed(&self, prec: u32) -> String {
        if let Some(s) = self.special() {
            return String::from_utf8_lossy(s).into_owned();
        }
        let mut out = Vec::new();
        let (m, e) = self.parts();
        float::fmt_fixed(self.neg, m, e, prec.min(1000), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn special(&self) -> Option<&'static [u8]> {
        match (self.kind, self.neg) {
            (Kind::Inf, false) => Some(b"inf"),
            (Kind::Inf, true) => Some(b"-inf"),
            (Kind::Nan, false) => Some(b"nan"),
            (Kind::Nan, true) => Some(b"-nan"),
            _ => None,
        }
    }

    fn parts(&self) -> (u64, i64) {
        match self.kind {
            Kind::Finite { m, e } => (m, i64::from(e)),
            _ => (0, 0),
        }
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;
    fn add(self, rhs: LongDouble) -> LongDouble {
        LongDouble::add(self, rhs)
    }
}

impl std::ops::Sub for LongDouble {
    type Output = LongDouble;
    fn sub(self, rhs: LongDouble) -> LongDouble {
        LongDouble::sub(self, rhs)
    }
}

impl std::ops::Neg for LongDouble {
    type Output = LongDouble;
    fn neg(self) -> LongDouble {
        LongDouble::neg(self)
    }
}

/// Canonical form of the exact value `m * 2^e` that is known to fit the format.
fn from_exact(m: u64, e: i64) -> Kind {
    match float::round_u128(X87, u128::from(m), e, false) {
        Rounded::Finite(m, e) => Kind::Finite { m, e: e as i32 },
        Rounded::Overflow => Kind::Inf,
        Rounded::Zero | Rounded::Underflow => Kind::Zero,
    }
}

/// Sum of two finite non-zero values, rounded once.
fn add_finite(na: bool, ma: u64, ea: i32, nb: bool, mb: u64, eb: i32) -> LongDouble {
    // Canonical forms order by (exponent, significand) exactly as by magnitude.
    let ((na, ma, ea), (nb, mb, eb)) = if (ea, ma) >= (eb, mb) {
        ((na, ma, ea), (nb, mb, eb))
    } else {
        ((nb, mb, eb), (na, ma, ea))
    };
    // Work in units of 2^(ea - 62): 62 guard bits below the larger operand.
    let a = u128::from(ma) << 62;
    let d = i64::from(ea) - i64::from(eb);
    let (b, lost) = if d >= 126 {
        (0u128, true)
    } else {
        let full = u128::from(mb) << 62;
        let b = full >> d;
        (b, d > 0 && (full & ((1u128 << d) - 1)) != 0)
    };
    let (sum, sticky) = if na == nb {
        (a + b, lost)
    } else {
        // A lost tail of b makes the exact difference slightly smaller than a - b.
        (a - b - u128::from(lost), lost)
    };
    if sum == 0 && !sticky {
        // Exact cancellation gives +0 when rounding to nearest.
        return LongDouble::ZERO;
    }
    let r = float::round_u128(X87, sum, i64::from(ea) - 62, sticky);
    LongDouble::from_rounded(na, r)
}
