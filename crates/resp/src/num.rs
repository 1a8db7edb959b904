//! Strict decimal integer parsing with Redis's rules for protocol lengths.
//!
//! Invariant: accepts exactly the strings Redis's `string2ll` accepts — an optional
//! `-`, then either the single digit `0` or a digit `1-9` followed by digits; no `+`,
//! no leading zeros, no `-0`, no spaces, fewer than 21 bytes, and the value fits i64.

/// Parses `s` as Redis parses protocol lengths; `None` when Redis would reject it.
pub(crate) fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    // Redis refuses strings of 21 bytes or more before looking at them.
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        // v <= 2^63, so the wrapping negation is exact (2^63 maps to i64::MIN).
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses an integer as a RESP reply carries it: optional sign, at least one digit.
/// More lenient than [`parse_i64_strict`] (leading `+` and zeros are accepted) since
/// it reads what a server sent rather than guarding a server.
pub(crate) fn parse_i64_lenient(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = i64::from(b - b'0');
        // Accumulate negatively so that i64::MIN is reachable.
        v = v.checked_mul(10)?;
        v = if negative {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_accepts_what_redis_accepts() {
        assert_eq!(parse_i64_strict(b"0"), Some(0));
        assert_eq!(parse_i64_strict(b"7"), Some(7));
        assert_eq!(parse_i64_strict(b"-1"), Some(-1));
        assert_eq!(parse_i64_strict(b"1234567890"), Some(1234567890));
        assert_eq!(parse_i64_strict(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn strict_rejects_what_redis_rejects() {
        for s in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b"-0",
            b"00",
            b" 1",
            b"1 ",
            b"1x",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"000000000000000000001",
        ] {
            assert_eq!(
                parse_i64_strict(s),
                None,
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
    }

    #[test]
    fn lenient() {
        assert_eq!(parse_i64_lenient(b"+5"), Some(5));
        assert_eq!(parse_i64_lenient(b"007"), Some(7));
        assert_eq!(parse_i64_lenient(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64_lenient(b"9223372036854775808"), None);
        assert_eq!(parse_i64_lenient(b"-"), None);
        assert_eq!(parse_i64_lenient(b""), None);
        assert_eq!(parse_i64_lenient(b"1.5"), None);
    }
}
