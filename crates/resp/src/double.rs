//! Doubles as Redis 7.0 prints them in replies: C's `printf("%.17g")`, with `inf`,
//! `-inf`, `nan` and `-nan` spelled as glibc spells them.
//!
//! `%.17g` rounds to 17 significant digits (round-half-even on the exact binary
//! value), then uses fixed notation when the decimal exponent X satisfies
//! `-4 <= X < 17` and `d.ddde±XX` otherwise, dropping trailing zeros and a trailing
//! point. The correctly rounded digits come from the standard library's exact
//! `{:.16e}` formatting; the `%g` layout is done here.
//!
//! Invariant: the output is at most [`MAX_DOUBLE_CHARS`] ASCII bytes and never
//! contains CR or LF.

use std::fmt::Write as _;

/// Upper bound on the length of a formatted double.
pub const MAX_DOUBLE_CHARS: usize = 32;

/// A formatted double, held on the stack.
#[derive(Clone, Copy)]
pub struct DoubleText {
    buf: [u8; MAX_DOUBLE_CHARS],
    len: usize,
}

impl DoubleText {
    /// The formatted bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The formatted text.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever pushed.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    fn new() -> Self {
        DoubleText {
            buf: [0; MAX_DOUBLE_CHARS],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        // Capacity is ample for every layout (at most 25 bytes); drop rather than panic.
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_all(&mut self, s: &[u8]) {
        for &b in s {
            self.push(b);
        }
    }
}

impl std::fmt::Write for DoubleText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.len + s.len() > MAX_DOUBLE_CHARS {
            return Err(std::fmt::Error);
        }
        self.push_all(s.as_bytes());
        Ok(())
    }
}

impl std::fmt::Debug for DoubleText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Formats `d` like C's `printf("%.17g", d)`, without allocating.
pub fn double_text(d: f64) -> DoubleText {
    let mut out = DoubleText::new();
    if d.is_nan() {
        out.push_all(if d.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return out;
    }
    if d.is_sign_negative() {
        out.push(b'-');
    }
    let a = d.abs();
    if a.is_infinite() {
        out.push_all(b"inf");
        return out;
    }
    // 17 significant digits, correctly rounded: "D.DDDDDDDDDDDDDDDDeX".
    let mut sci = DoubleText::new();
    if write!(sci, "{a:.16e}").is_err() {
        return out;
    }
    let sci = sci.as_bytes();
    let Some(e_pos) = sci.iter().position(|&b| b == b'e') else {
        return out;
    };
    let mut digits = [b'0'; 17];
    let mut n = 0;
    for &b in &sci[..e_pos] {
        if b.is_ascii_digit() && n < digits.len() {
            digits[n] = b;
            n += 1;
        }
    }
    let exp: i32 = std::str::from_utf8(&sci[e_pos + 1..])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // Significant digits after dropping trailing zeros (at least one).
    let sig = digits.iter().rposition(|&b| b != b'0').map_or(1, |i| i + 1);
    if !(-4..17).contains(&exp) {
        out.push(digits[0]);
        if sig > 1 {
            out.push(b'.');
            out.push_all(&digits[1..sig]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        let mut eb = itoa::Buffer::new();
        out.push_all(eb.format(e).as_bytes());
    } else if exp >= 0 {
        // 0 <= exp <= 16: the integer part is the first exp+1 digits.
        let int_len = exp as usize + 1;
        out.push_all(&digits[..int_len]);
        if sig > int_len {
            out.push(b'.');
            out.push_all(&digits[int_len..sig]);
        }
    } else {
        out.push_all(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.push_all(&digits[..sig]);
    }
    out
}

/// Formats `d` like C's `printf("%.17g", d)` (Redis 7.0's double replies).
pub fn format_double(d: f64) -> String {
    double_text(d).as_str().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (3.0, "3"),
            (0.1, "0.10000000000000001"),
            (1.5, "1.5"),
            (1.5e-7, "1.4999999999999999e-07"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e300, "1.0000000000000001e+300"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (12345678901234567.0, "12345678901234568"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (0.0001234, "0.00012339999999999999"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "4.9406564584124654e-324"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "-nan"),
            (100.0, "100"),
            (2.5, "2.5"),
            (1e-4, "0.0001"),
            (9.999999999999999e16, "99999999999999984"),
        ];
        for &(d, want) in cases {
            assert_eq!(format_double(d), want, "{d:e}");
        }
    }

    /// Vectors produced by C's printf("%.17g") (through Python's `%` formatting,
    /// which is correctly rounded the same way), including exact ties.
    #[test]
    fn printf_vectors() {
        let data = include_str!("testdata/g17.txt");
        let mut n = 0;
        for line in data.lines() {
            let Some((bits, want)) = line.split_once(' ') else {
                continue;
            };
            let bits = u64::from_str_radix(bits, 16).expect("hex bits");
            let d = f64::from_bits(bits);
            assert_eq!(format_double(d), want, "bits {bits:016x}");
            n += 1;
        }
        assert!(n > 1000);
    }

    /// The same check over a large vector file made with `gen_g17.py`-style output
    /// (`<hex bits> <printf text>` per line): `SHOAL_G17_VECTORS=path cargo test -- --ignored`.
    #[test]
    #[ignore]
    fn printf_vectors_from_file() {
        let Ok(path) = std::env::var("SHOAL_G17_VECTORS") else {
            return;
        };
        let data = std::fs::read_to_string(path).expect("vector file");
        let mut n = 0;
        for line in data.lines() {
            let (bits, want) = line.split_once(' ').expect("vector line");
            let d = f64::from_bits(u64::from_str_radix(bits, 16).expect("hex bits"));
            assert_eq!(format_double(d), want, "bits {bits}");
            n += 1;
        }
        eprintln!("{n} vectors checked");
    }
}
