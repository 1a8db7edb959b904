//! C's `%.<p>g` formatting of doubles (cjson writes numbers with `%.14g`), and the
//! conversion of a Lua number to a reply integer as Redis's C cast does on x86-64.
//!
//! Rust's `{:e}` formatting is correctly rounded, as glibc's printf is, so taking its
//! digits and laying them out by `%g`'s rules gives the same text.

/// `printf("%.<prec>g", x)`.
pub fn fmt_g(x: f64, prec: usize) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    let p = prec.max(1);
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let m = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, x)).to_owned()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `(long long)d` as compiled for x86-64: truncation toward zero, and the "integer
/// indefinite" value `i64::MIN` for NaN and out-of-range values (what Redis replies
/// for `return 1e300`).
pub fn lua_number_to_reply_int(d: f64) -> i64 {
    // 2^63 is exactly representable; the range is [-2^63, 2^63).
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if d.is_nan() || !(-LIMIT..LIMIT).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_14g() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1.0 / 3.0, "0.33333333333333"),
            (1e14, "1e+14"),
            (123456789012345678.0, "1.2345678901235e+17"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (-5e-7, "-5e-07"),
            (9007199254740992.0, "9.007199254741e+15"),
            (1500.0, "1500"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e300, "1e+300"),
            (12345678901234.0, "12345678901234"),
        ];
        for (x, want) in cases {
            assert_eq!(fmt_g(*x, 14), *want, "{x}");
        }
        assert_eq!(fmt_g(f64::INFINITY, 14), "inf");
        assert_eq!(fmt_g(f64::NEG_INFINITY, 14), "-inf");
    }

    #[test]
    fn reply_int_casts() {
        assert_eq!(lua_number_to_reply_int(3.99), 3);
        assert_eq!(lua_number_to_reply_int(-3.7), -3);
        assert_eq!(lua_number_to_reply_int(-0.5), 0);
        assert_eq!(lua_number_to_reply_int(1e300), i64::MIN);
        assert_eq!(lua_number_to_reply_int(f64::NAN), i64::MIN);
        assert_eq!(lua_number_to_reply_int(-9.3e18), i64::MIN);
    }
}
