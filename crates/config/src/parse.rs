//! Scalar parsers with the exact acceptance rules of Redis 7.0's config code.
//!
//! Redis uses three different number readers and the differences show up in
//! what each directive accepts, so each is reproduced:
//!
//! * [`strict_i64`] — integers of plain numeric directives: an optional `-`,
//!   no `+`, no blanks, no leading zeros (`05` and `-0` are rejected).
//! * [`memory`] — memory sizes: ASCII digits then an optional unit among `b`,
//!   `k` (1000), `kb` (1024), `m`, `mb`, `g`, `gb`, any case. Leading zeros
//!   are fine, the empty string is 0, an over-long number saturates and the
//!   unit multiplication wraps modulo 2^64, all as in Redis.
//! * [`c_strtoll`] — the C library's `strtoll` as used by `save`, the master
//!   port and buffer-limit seconds: leading blanks, optional sign, stops at
//!   the first non-digit, saturates on overflow.
//!
//! plus [`octal`] for `unixsocketperm`, [`c_strtod`] for percentiles, and the
//! memory formatting used by CONFIG REWRITE ([`format_memory`]).

use crate::splitargs::is_c_space;

/// Integer in Redis's strict form; `None` if not exactly an `i64`.
pub fn strict_i64(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Memory value in bytes; `None` for anything that is not digits + unit.
pub fn memory(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let split = b
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(b.len());
    let (digits, unit) = b.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    // Redis copies the digits into a 128-byte buffer and refuses longer ones.
    if digits.len() >= 128 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v.saturating_mul(10).saturating_add(u64::from(c - b'0'));
    }
    Some(v.wrapping_mul(mul))
}

/// `strtoll(s, &end, 10)`; returns the value and whether the whole string
/// was consumed, plus whether it overflowed (saturated).
pub fn c_strtoll(s: &str) -> (i64, bool, bool) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_c_space(b[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: i128 = 0;
    let mut overflow = false;
    while i < b.len() && b[i].is_ascii_digit() {
        if !overflow {
            v = v * 10 + i128::from(b[i] - b'0');
            if v > i128::from(i64::MAX) + 1 {
                overflow = true;
            }
        }
        i += 1;
    }
    if i == start {
        // No digits: nothing is consumed, end pointer stays at the start.
        return (0, b.is_empty(), false);
    }
    let v = if neg { -v } else { v };
    let (v, of) = if v > i128::from(i64::MAX) {
        (i64::MAX, true)
    } else if v < i128::from(i64::MIN) {
        (i64::MIN, true)
    } else {
        (v as i64, overflow)
    };
    (v, i == b.len(), of)
}

/// Octal permission bits as `unixsocketperm` takes them.
pub fn octal(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 21 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(i64::from(c - b'0'))?;
    }
    Some(if neg { -v } else { v })
}

/// `strtod` restricted to what matters here: leading blanks, decimal and
/// exponent forms, `inf`/`nan`, and hexadecimal integers. `None` unless the
/// whole string is consumed.
pub fn c_strtod(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(|c: char| c.is_ascii() && is_c_space(c as u8));
    if t.is_empty() {
        return None;
    }
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let v = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        hex.bytes().fold(0f64, |acc, c| {
            acc * 16.0 + f64::from((c as char).to_digit(16).unwrap_or(0))
        })
    } else {
        if body.starts_with(['+', '-']) {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Memory as CONFIG REWRITE writes it: the largest of `gb`, `mb`, `kb` that
/// divides the value exactly, else plain bytes.
pub fn format_memory(v: i128) -> String {
    const KB: i128 = 1024;
    const MB: i128 = 1024 * 1024;
    const GB: i128 = 1024 * 1024 * 1024;
    if v != 0 && v % GB == 0 {
        format!("{}gb", v / GB)
    } else if v != 0 && v % MB == 0 {
        format!("{}mb", v / MB)
    } else if v != 0 && v % KB == 0 {
        format!("{}kb", v / KB)
    } else {
        v.to_string()
    }
}

/// A percentile as Redis prints it: six decimals, then trailing zeros and a
/// trailing dot removed.
pub fn format_percentile(v: f64) -> String {
    let s = format!("{v:.6}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        assert_eq!(strict_i64("0"), Some(0));
        assert_eq!(strict_i64("-1"), Some(-1));
        assert_eq!(strict_i64("9223372036854775807"), Some(i64::MAX));
        assert_eq!(strict_i64("-9223372036854775808"), Some(i64::MIN));
        for bad in [
            "",
            "-",
            "+5",
            " 5",
            "5 ",
            "05",
            "-0",
            "0x10",
            "1.5",
            "1k",
            "9223372036854775808",
            "18446744073709551615",
            "abc",
        ] {
            assert_eq!(strict_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn memory_units() {
        assert_eq!(memory("1k"), Some(1000));
        assert_eq!(memory("1Kb"), Some(1024));
        assert_eq!(memory("1gB"), Some(1 << 30));
        assert_eq!(memory("1b"), Some(1));
        assert_eq!(memory("1B"), Some(1));
        assert_eq!(memory("05"), Some(5));
        assert_eq!(memory(""), Some(0));
        assert_eq!(memory("99999999999999999999999"), Some(u64::MAX));
        assert_eq!(memory("99999999999g"), Some(7766279630452241920));
        for bad in ["-1", "+5", " 5", "5 ", "1.5", "1bb", "10%", "0x10", "abc"] {
            assert_eq!(memory(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn strtoll_like() {
        assert_eq!(c_strtoll("+5"), (5, true, false));
        assert_eq!(c_strtoll(" 5"), (5, true, false));
        assert_eq!(c_strtoll("5x"), (5, false, false));
        assert_eq!(c_strtoll(""), (0, true, false));
        assert_eq!(c_strtoll("x"), (0, false, false));
        assert_eq!(c_strtoll("9223372036854775808"), (i64::MAX, true, true));
    }

    #[test]
    fn octal_and_floats() {
        assert_eq!(octal("0777"), Some(0o777));
        assert_eq!(octal("755"), Some(0o755));
        assert_eq!(octal("999"), None);
        assert_eq!(octal("abc"), None);
        assert_eq!(c_strtod("0x10"), Some(16.0));
        assert_eq!(c_strtod("99.9"), Some(99.9));
        assert_eq!(c_strtod("1k"), None);
        assert_eq!(c_strtod(""), None);
        assert_eq!(format_percentile(33.333333333), "33.333333");
        assert_eq!(format_percentile(1e-7), "0");
        assert_eq!(format_percentile(-0.0), "-0");
        assert_eq!(format_percentile(50.0), "50");
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1 << 20), "1mb");
        assert_eq!(format_memory(3000), "3000");
        assert_eq!(format_memory(16384), "16kb");
    }
}
