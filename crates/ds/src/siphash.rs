//! SipHash, the keyed hash behind [`crate::dict::Dict`].
//!
//! Owns: [`siphash12`] (SipHash-1-2, as Redis uses: the dict's hash), [`siphash13`]
//! (SipHash-1-3, what Rust's standard `HashMap` uses),
//! [`siphash24`] (the reference variant, kept for its published test vectors) and a
//! per-process random key ([`process_key`]).
//!
//! Why SipHash: the keyspace hashes attacker-chosen bytes, so the hash must be
//! keyed with a secret to resist collision flooding (Redis uses SipHash for the
//! same reason). SipHash-1-3 is the standard library's choice of speed/strength
//! trade-off; on the short keys typical of Redis (≤ 24 bytes) it costs a few
//! nanoseconds, small next to the cache misses of a lookup in a large table.
//!
//! Invariants: the functions are pure and total; the process key is drawn once from
//! the OS entropy source (through `rand`) and never changes.

use std::sync::OnceLock;

#[inline(always)]
fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

#[inline(always)]
fn sip<const C: usize, const D: usize>(k0: u64, k1: u64, data: &[u8]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let m = u64::from_le_bytes(w);
        v[3] ^= m;
        for _ in 0..C {
            round(&mut v);
        }
        v[0] ^= m;
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 8];
    last[..rest.len()].copy_from_slice(rest);
    let m = u64::from_le_bytes(last) | ((data.len() as u64) << 56);
    v[3] ^= m;
    for _ in 0..C {
        round(&mut v);
    }
    v[0] ^= m;
    v[2] ^= 0xff;
    for _ in 0..D {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// SipHash-1-3 of `data` under the key `(k0, k1)`.
#[inline]
pub fn siphash13(k0: u64, k1: u64, data: &[u8]) -> u64 {
    sip::<1, 3>(k0, k1, data)
}

/// SipHash-2-4 of `data` under the key `(k0, k1)`.
/// SipHash-1-2: one compression and two finalization rounds, the variant Redis
/// hashes its keys with; the dict uses it (it keeps SipHash's keyed-PRF structure,
/// which is what defeats collision flooding, at fewer rounds).
pub fn siphash12(k0: u64, k1: u64, data: &[u8]) -> u64 {
    sip::<1, 2>(k0, k1, data)
}

pub fn siphash24(k0: u64, k1: u64, data: &[u8]) -> u64 {
    sip::<2, 4>(k0, k1, data)
}

/// The random key shared by every [`crate::dict::Dict`] of this process.
pub fn process_key() -> (u64, u64) {
    static KEY: OnceLock<(u64, u64)> = OnceLock::new();
    *KEY.get_or_init(rand::random)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hasher;

    fn key() -> (u64, u64) {
        let k: Vec<u8> = (0..16).collect();
        (
            u64::from_le_bytes(k[..8].try_into().unwrap()),
            u64::from_le_bytes(k[8..].try_into().unwrap()),
        )
    }

    #[test]
    fn reference_vectors_24() {
        // From the SipHash paper's reference implementation (key 00..0f,
        // message 00..len-1).
        let (k0, k1) = key();
        let msg: Vec<u8> = (0..64).collect();
        assert_eq!(siphash24(k0, k1, &msg[..0]), 0x726f_db47_dd0e_0e31);
        assert_eq!(siphash24(k0, k1, &msg[..1]), 0x74f8_39c5_93dc_67fd);
        assert_eq!(siphash24(k0, k1, &msg[..15]), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn matches_std_siphash13() {
        // std's DefaultHasher::new() is SipHash-1-3 with a zero key.
        for len in [0usize, 1, 7, 8, 9, 16, 23, 64] {
            let data: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(31)).collect();
            #[allow(deprecated)]
            let mut h = std::collections::hash_map::DefaultHasher::new();
            h.write(&data);
            assert_eq!(siphash13(0, 0, &data), h.finish(), "len {len}");
        }
    }

    #[test]
    fn process_key_is_stable() {
        assert_eq!(process_key(), process_key());
    }
}
