//! A minimal arbitrary-precision unsigned integer for exact decimal <-> binary
//! conversion of floating point numbers.
//!
//! Owns: [`Big`], little-endian base-2^32 limbs.
//!
//! Invariant: `limbs` never ends with a zero limb (zero is the empty vector), so
//! `bit_len` and comparisons are simple. Sizes are bounded by the callers (at most a
//! few tens of thousands of bits for the widest `long double` conversions).

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Big {
    limbs: Vec<u32>,
}

/// 5^13, the largest power of five that fits in a u32.
const POW5_13: u32 = 1_220_703_125;
const POW10_9: u32 = 1_000_000_000;

impl Big {
    pub(crate) fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::with_capacity(4);
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big { limbs }
    }

    pub(crate) fn is_odd(&self) -> bool {
        self.limbs.first().is_some_and(|&l| l & 1 == 1)
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    /// Number of significant bits (0 for zero).
    pub(crate) fn bit_len(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => (self.limbs.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()),
        }
    }

    /// The value if it fits in a u128.
    pub(crate) fn to_u128(&self) -> Option<u128> {
        if self.limbs.len() > 4 {
            return None;
        }
        Some(
            self.limbs
                .iter()
                .rev()
                .fold(0u128, |acc, &l| (acc << 32) | u128::from(l)),
        )
    }

    /// self = self * m + add.
    pub(crate) fn mul_add_small(&mut self, m: u32, add: u32) {
        let mut carry = u64::from(add);
        for l in &mut self.limbs {
            let t = u64::from(*l) * u64::from(m) + carry;
            *l = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    pub(crate) fn mul_pow10(&mut self, mut k: u64) {
        while k >= 9 {
            self.mul_add_small(POW10_9, 0);
            k -= 9;
        }
        if k > 0 {
            self.mul_add_small(10u32.pow(k as u32), 0);
        }
    }

    /// self <<= n.
    pub(crate) fn shl(&mut self, n: u64) {
        if self.is_zero() || n == 0 {
            return;
        }
        let words = (n / 32) as usize;
        let bits = (n % 32) as u32;
        if bits != 0 {
            let mut carry = 0u32;
            for l in &mut self.limbs {
                let v = *l;
                *l = (v << bits) | carry;
                carry = v >> (32 - bits);
            }
            if carry != 0 {
                self.limbs.push(carry);
            }
        }
        if words > 0 {
            let mut v = vec![0u32; words];
            v.extend_from_slice(&self.limbs);
            self.limbs = v;
        }
    }

    /// self = floor(self / 2^n); returns whether a non-zero remainder was dropped.
    pub(crate) fn shr(&mut self, n: u64) -> bool {
        if n == 0 || self.is_zero() {
            return false;
        }
        if n >= self.bit_len() {
            self.limbs.clear();
            return true;
        }
        let words = (n / 32) as usize;
        let bits = (n % 32) as u32;
        let mut lost = self.limbs[..words].iter().any(|&l| l != 0);
        self.limbs.drain(..words);
        if bits != 0 {
            lost |= self.limbs[0] & ((1u32 << bits) - 1) != 0;
            let len = self.limbs.len();
            for i in 0..len {
                let hi = if i + 1 < len { self.limbs[i + 1] } else { 0 };
                self.limbs[i] = (self.limbs[i] >> bits) | (hi << (32 - bits));
            }
        }
        self.trim();
        lost
    }

    /// self = floor(self / d); returns the remainder. `d` must be non-zero.
    pub(crate) fn div_small(&mut self, d: u32) -> u32 {
        let d = u64::from(d.max(1));
        let mut rem = 0u64;
        for l in self.limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*l);
            *l = (cur / d) as u32;
            rem = cur % d;
        }
        self.trim();
        rem as u32
    }

    /// self = floor(self / 5^k); returns whether the remainder was non-zero.
    pub(crate) fn div_pow5(&mut self, mut k: u64) -> bool {
        let mut lost = false;
        while k >= 13 && !self.is_zero() {
            lost |= self.div_small(POW5_13) != 0;
            k -= 13;
        }
        if k > 0 && !self.is_zero() {
            lost |= self.div_small(5u32.pow(k.min(13) as u32)) != 0;
        }
        lost
    }

    /// The top (up to) 128 bits: returns `(top, shift, lost)` with
    /// `self == top * 2^shift + r`, `0 <= r < 2^shift`, `lost == (r != 0)`.
    pub(crate) fn top_u128(&self) -> (u128, u64, bool) {
        let bl = self.bit_len();
        if bl <= 128 {
            return (self.to_u128().unwrap_or(0), 0, false);
        }
        let shift = bl - 128;
        let mut t = self.clone();
        let lost = t.shr(shift);
        (t.to_u128().unwrap_or(0), shift, lost)
    }

    /// Decimal digits (ASCII), "0" for zero.
    pub(crate) fn to_decimal(&self) -> Vec<u8> {
        if self.is_zero() {
            return b"0".to_vec();
        }
        let mut t = self.clone();
        let mut chunks = Vec::new();
        while !t.is_zero() {
            chunks.push(t.div_small(POW10_9));
        }
        let mut out = Vec::with_capacity(chunks.len() * 9);
        let mut first = true;
        for &c in chunks.iter().rev() {
            if first {
                out.extend_from_slice(c.to_string().as_bytes());
                first = false;
            } else {
                out.extend_from_slice(format!("{c:09}").as_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_ops() {
        let mut b = Big::from_u128(123_456_789);
        b.mul_pow10(30);
        assert_eq!(
            b.to_decimal(),
            b"123456789000000000000000000000000000000".to_vec()
        );
        b.shl(100);
        assert!(!b.shr(100));
        assert_eq!(
            b.to_decimal(),
            b"123456789000000000000000000000000000000".to_vec()
        );
        assert!(!b.div_pow5(30));
        assert!(!b.shr(30));
        assert_eq!(b.to_u128(), Some(123_456_789));
        assert!(b.div_pow5(1));
        assert_eq!(b.to_u128(), Some(123_456_789 / 5));
        let (t, s, lost) = Big::from_u128(u128::MAX).top_u128();
        assert_eq!((t, s, lost), (u128::MAX, 0, false));
        let mut x = Big::from_u128(u128::MAX);
        x.shl(3);
        x.mul_add_small(1, 5);
        let (t, s, lost) = x.top_u128();
        assert_eq!((t, s, lost), (u128::MAX, 3, true));
        assert_eq!(Big::default().to_decimal(), b"0".to_vec());
    }
}
