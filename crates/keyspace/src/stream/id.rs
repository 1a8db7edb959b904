//! Stream entry IDs: two unsigned 64-bit halves, milliseconds and a sequence
//! number, ordered as the pair. Parsing follows Redis's rules for the text forms
//! (see [`parse_u64_loose`]).

use std::fmt;

/// A stream entry ID, `ms-seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::ZERO
    }

    /// The next ID in order, or None after the maximum.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID in order, or None before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// The 16-byte big-endian key Redis's radix tree indexes nodes by.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// `ms-seq` as bytes.
    pub fn to_bytes(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// An unsigned decimal as Redis's `string2ull` reads one: a canonical integer
/// (negative ones refused), or else what C's `strtoull` accepts over the whole
/// string (leading white space, a `+` or `-` sign, leading zeros; a `-` negates
/// modulo 2^64), without overflow.
pub fn parse_u64_loose(s: &[u8]) -> Option<u64> {
    if let Some(v) = shoal_ds::num::parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// How the sequence part of a parsed ID was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seq {
    /// `ms-seq`.
    Given,
    /// `ms` alone: the caller's default applies.
    Missing,
    /// `ms-*` (XADD only).
    Auto,
}

/// Parses `ms[-seq]` (and `ms-*` when `allow_auto`). The text is read as a C
/// string, up to its first NUL byte, and must be under 128 bytes, as in Redis.
pub fn parse_id(arg: &[u8], allow_auto: bool) -> Option<(u64, u64, Seq)> {
    if arg.len() > 127 {
        return None;
    }
    let arg = match arg.iter().position(|&b| b == 0) {
        Some(n) => &arg[..n],
        None => arg,
    };
    match arg.iter().position(|&b| b == b'-') {
        None => Some((parse_u64_loose(arg)?, 0, Seq::Missing)),
        Some(dash) => {
            let ms = parse_u64_loose(&arg[..dash])?;
            let rest = &arg[dash + 1..];
            if allow_auto && rest == b"*" {
                return Some((ms, 0, Seq::Auto));
            }
            Some((ms, parse_u64_loose(rest)?, Seq::Given))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_parsing() {
        assert_eq!(parse_u64_loose(b"01"), Some(1));
        assert_eq!(parse_u64_loose(b" +1"), Some(1));
        assert_eq!(parse_u64_loose(b"-1"), None);
        assert_eq!(parse_u64_loose(b" -1"), Some(u64::MAX));
        assert_eq!(parse_u64_loose(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64_loose(b"18446744073709551616"), None);
        assert_eq!(parse_u64_loose(b""), None);
        assert_eq!(parse_u64_loose(b"1 "), None);
        assert_eq!(parse_id(b"1-2", false), Some((1, 2, Seq::Given)));
        assert_eq!(parse_id(b"1-*", true), Some((1, 0, Seq::Auto)));
        assert_eq!(parse_id(b"1-*", false), None);
        assert_eq!(parse_id(b"-1-1", false), None);
        assert_eq!(parse_id(b"5", false), Some((5, 0, Seq::Missing)));
    }

    #[test]
    fn order_and_steps() {
        assert!(StreamId::new(1, 5) < StreamId::new(2, 0));
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::ZERO.decr(), None);
        assert_eq!(StreamId::new(2, 0).decr(), Some(StreamId::new(1, u64::MAX)));
    }
}
