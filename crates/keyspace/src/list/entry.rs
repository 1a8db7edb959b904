//! The byte layout of one list entry, and the element types built on it.
//!
//! An entry is `header [payload] trailer`. Header `0x00..=0x7f`: a string of that
//! many bytes follows. `0x80 + (n - 1)` for `n` in `1..=8`: a two's complement
//! integer in `n` little-endian bytes. `0x88`: a LEB128 length, then the string.
//! The trailer is the size of header plus payload in 7-bit groups, read backwards
//! (the last byte holds the low bits; a set top bit means more bytes precede it),
//! so entries can be walked from either end of a node.
//!
//! Invariant: an element that is a canonical decimal `i64` (what
//! `shoal_ds::num::parse_i64` accepts) is always encoded as an integer, which
//! renders back to exactly the same bytes; every other element is a string entry.

/// Header of an entry holding an `n`-byte integer: `INT_TAG + n - 1`.
pub(super) const INT_TAG: u8 = 0x80;
/// Header of a string longer than 127 bytes (a LEB128 length follows).
pub(super) const LONG_STR: u8 = 0x88;

/// An element as stored: the bytes, or an integer whose decimal text is the element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl Elem<'_> {
    /// Calls `f` with the element's bytes, rendering an integer on the stack.
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Elem::Bytes(b) => f(b),
            Elem::Int(v) => {
                let mut buf = itoa::Buffer::new();
                f(buf.format(v).as_bytes())
            }
        }
    }

    pub fn to_vec(self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    /// Length in bytes of the element's text.
    pub fn len(self) -> usize {
        match self {
            Elem::Bytes(b) => b.len(),
            Elem::Int(v) => itoa::Buffer::new().format(v).len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// An element to search for, prepared once for fast comparison with entries.
#[derive(Clone, Copy, Debug)]
pub struct Needle<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    pub fn new(bytes: &'a [u8]) -> Needle<'a> {
        let int = match classify(bytes) {
            Enc::Int(v, _) => Some(v),
            Enc::Str(_) => None,
        };
        Needle { bytes, int }
    }

    /// Whether `e` is this element. Relies on the canonical-integer invariant.
    pub fn matches(&self, e: Elem<'_>) -> bool {
        match e {
            Elem::Int(v) => self.int == Some(v),
            Elem::Bytes(b) => self.int.is_none() && b == self.bytes,
        }
    }
}

/// How an element is encoded.
#[derive(Clone, Copy)]
pub(super) enum Enc<'a> {
    /// The value and its width in bytes (1..=8).
    Int(i64, usize),
    Str(&'a [u8]),
}

pub(super) fn classify(b: &[u8]) -> Enc<'_> {
    if b.len() <= 20 {
        if let Some(v) = shoal_ds::num::parse_i64(b) {
            return Enc::Int(v, int_width(v));
        }
    }
    Enc::Str(b)
}

/// The fewest bytes holding `v` in two's complement.
pub(super) fn int_width(v: i64) -> usize {
    (1..8)
        .find(|&n| {
            let bits = 8 * n as u32;
            let lo = -(1i64 << (bits - 1));
            let hi = (1i64 << (bits - 1)) - 1;
            (lo..=hi).contains(&v)
        })
        .unwrap_or(8)
}

/// Bytes of `v` as LEB128 (7 bits per byte).
pub(super) fn leb_len(mut v: usize) -> usize {
    let mut n = 1;
    v >>= 7;
    while v > 0 {
        n += 1;
        v >>= 7;
    }
    n
}

impl Enc<'_> {
    /// Header plus payload.
    pub(super) fn body_len(&self) -> usize {
        match self {
            Enc::Int(_, n) => 1 + n,
            Enc::Str(b) if b.len() < 0x80 => 1 + b.len(),
            Enc::Str(b) => 1 + leb_len(b.len()) + b.len(),
        }
    }

    /// The whole entry, trailer included.
    pub(super) fn entry_len(&self) -> usize {
        let body = self.body_len();
        body + leb_len(body)
    }

    /// Writes the entry into `out`, which is exactly `entry_len()` bytes.
    pub(super) fn write(&self, out: &mut [u8]) {
        let body = self.body_len();
        match *self {
            Enc::Int(v, n) => {
                out[0] = INT_TAG + (n as u8 - 1);
                out[1..=n].copy_from_slice(&v.to_le_bytes()[..n]);
            }
            Enc::Str(b) if b.len() < 0x80 => {
                out[0] = b.len() as u8;
                out[1..body].copy_from_slice(b);
            }
            Enc::Str(b) => {
                out[0] = LONG_STR;
                let mut p = 1;
                let mut v = b.len();
                loop {
                    let low = (v & 0x7f) as u8;
                    v >>= 7;
                    if v == 0 {
                        out[p] = low;
                        p += 1;
                        break;
                    }
                    out[p] = low | 0x80;
                    p += 1;
                }
                out[p..body].copy_from_slice(b);
            }
        }
        // Trailer: high groups first, each but the first flagged "more before me".
        let t = &mut out[body..];
        let n = t.len();
        for (i, slot) in t.iter_mut().enumerate() {
            let shift = 7 * (n - 1 - i);
            let group = ((body >> shift) & 0x7f) as u8;
            *slot = if i == 0 { group } else { group | 0x80 };
        }
    }
}

/// Reads the entry starting at `p`: the element and the entry's full length.
pub(super) fn read_at(buf: &[u8], p: usize) -> (Elem<'_>, usize) {
    let h = buf[p];
    let (elem, body) = if h < 0x80 {
        let n = usize::from(h);
        (Elem::Bytes(&buf[p + 1..p + 1 + n]), 1 + n)
    } else if h < LONG_STR {
        let n = usize::from(h - INT_TAG) + 1;
        let mut le = [0u8; 8];
        le[..n].copy_from_slice(&buf[p + 1..p + 1 + n]);
        // Sign-extend from the top payload byte.
        if le[n - 1] & 0x80 != 0 {
            le[n..].fill(0xff);
        }
        (Elem::Int(i64::from_le_bytes(le)), 1 + n)
    } else {
        let mut len = 0usize;
        let mut shift = 0;
        let mut q = p + 1;
        loop {
            let b = buf[q];
            q += 1;
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        (Elem::Bytes(&buf[q..q + len]), q - p + len)
    };
    (elem, body + leb_len(body))
}

/// The length of the entry that ends at `end` (exclusive), read from its trailer.
pub(super) fn len_before(buf: &[u8], end: usize) -> usize {
    let mut body = 0usize;
    let mut shift = 0;
    let mut q = end;
    loop {
        q -= 1;
        let b = buf[q];
        body |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    body + (end - q)
}
