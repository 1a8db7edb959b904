//! CRC-16/XMODEM and the Redis Cluster key → hash slot mapping.
//!
//! Owns: [`crc16`] (polynomial 0x1021, initial value 0, not reflected, no final
//! xor — the variant Redis Cluster uses) and [`key_hash_slot`].
//!
//! Invariants: `key_hash_slot` always returns a value below [`SLOTS`]; a key whose
//! name holds a non-empty `{tag}` hashes exactly like the tag alone.

/// Number of hash slots in a Redis cluster.
pub const SLOTS: u16 = 16384;

const fn make_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

static TABLE: [u16; 256] = make_table();

/// CRC-16/XMODEM of `data` (`crc16(b"123456789") == 0x31c3`).
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc = (crc << 8) ^ TABLE[usize::from((crc >> 8) as u8 ^ b)];
    }
    crc
}

/// The cluster hash slot of `key`: CRC16 of the key modulo 16384, where a key that
/// contains `{` followed later by `}` with at least one byte between the first `{`
/// and the first `}` after it is hashed by that part only.
pub fn key_hash_slot(key: &[u8]) -> u16 {
    key_hash_slot_tag(key).1
}

/// The bytes that [`key_hash_slot`] hashes (the tag, or the whole key) and the slot.
pub fn key_hash_slot_tag(key: &[u8]) -> (&[u8], u16) {
    let part = hash_tag(key).unwrap_or(key);
    (part, crc16(part) & (SLOTS - 1))
}

/// The non-empty `{tag}` of `key`, if it has one.
pub fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let rest = &key[open + 1..];
    let close = rest.iter().position(|&b| b == b'}')?;
    if close == 0 {
        None
    } else {
        Some(&rest[..close])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn slots_match_redis() {
        // Values documented for CLUSTER KEYSLOT.
        assert_eq!(key_hash_slot(b"foo"), 12182);
        assert_eq!(key_hash_slot(b"bar"), 5061);
        assert_eq!(key_hash_slot(b"somekey"), 11058);
        assert_eq!(
            key_hash_slot(b"{user1000}.following"),
            key_hash_slot(b"{user1000}.followers")
        );
        assert_eq!(
            key_hash_slot(b"{user1000}.following"),
            key_hash_slot(b"user1000")
        );
        assert_eq!(key_hash_slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") & 16383);
        assert_eq!(key_hash_slot(b"foo{{bar}}zap"), crc16(b"{bar") & 16383);
        assert_eq!(key_hash_slot(b"foo{bar}{zap}"), crc16(b"bar") & 16383);
        assert_eq!(key_hash_slot(b"{"), crc16(b"{") & 16383);
        assert_eq!(key_hash_slot(b"}{"), crc16(b"}{") & 16383);
        assert_eq!(key_hash_slot(b""), 0);
    }
}
