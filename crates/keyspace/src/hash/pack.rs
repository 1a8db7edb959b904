//! The compact ("listpack") form of a hash: one heap buffer holding every field and
//! value back to back, in insertion order.
//!
//! Layout: a 4-byte little-endian count of pairs, then `2 * count` entries, field
//! then value. An entry is a header byte and its payload:
//!
//! | header | payload |
//! |---|---|
//! | `0x00..=0x7f` | a string of that many bytes |
//! | `0x80 + (n - 1)`, `n` in `1..=8` | a two's complement integer in `n` little-endian bytes |
//! | `0x88` | a LEB128 length, then the string |
//!
//! The buffer is a `Box<[u8]>` of exactly its content (no spare capacity): a hash of
//! ten short pairs is one allocation of ~100 bytes. An empty buffer (no allocation)
//! is the empty hash. Entries are only walked forwards (a hash needs no reverse walk),
//! so unlike Redis's listpack they carry no back-length.
//!
//! Invariant: an element that is a canonical decimal `i64` (what
//! `shoal_ds::num::parse_i64` accepts) is always stored as an integer entry, which
//! renders back to exactly the same bytes; every other element is a string entry.
//! So a field matches an entry exactly when [`Needle::matches`] says so.

use crate::list::{Elem, Needle};

/// Bytes of the pair count at the start of a non-empty buffer.
pub(super) const HEADER: usize = 4;
const INT_TAG: u8 = 0x80;
const LONG_STR: u8 = 0x88;

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
fn int_width(v: i64) -> usize {
    (1..8)
        .find(|&n| {
            let bits = 8 * n as u32;
            let lo = -(1i64 << (bits - 1));
            let hi = (1i64 << (bits - 1)) - 1;
            (lo..=hi).contains(&v)
        })
        .unwrap_or(8)
}

fn leb_len(mut v: usize) -> usize {
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
    pub(super) fn len(&self) -> usize {
        match self {
            Enc::Int(_, n) => 1 + n,
            Enc::Str(b) if b.len() < 0x80 => 1 + b.len(),
            Enc::Str(b) => 1 + leb_len(b.len()) + b.len(),
        }
    }

    /// Appends the entry to `out`.
    fn write(&self, out: &mut Vec<u8>) {
        match *self {
            Enc::Int(v, n) => {
                out.push(INT_TAG + (n as u8 - 1));
                out.extend_from_slice(&v.to_le_bytes()[..n]);
            }
            Enc::Str(b) if b.len() < 0x80 => {
                out.push(b.len() as u8);
                out.extend_from_slice(b);
            }
            Enc::Str(b) => {
                out.push(LONG_STR);
                let mut v = b.len();
                loop {
                    let low = (v & 0x7f) as u8;
                    v >>= 7;
                    if v == 0 {
                        out.push(low);
                        break;
                    }
                    out.push(low | 0x80);
                }
                out.extend_from_slice(b);
            }
        }
    }
}

/// Reads the entry starting at `p`: the element and the offset just past it.
///
/// Invariant: `p` is the start of an entry of a well-formed buffer (built only by
/// this module), so the slicing cannot go out of bounds.
pub(super) fn read_at(buf: &[u8], p: usize) -> (Elem<'_>, usize) {
    let h = buf[p];
    if h < 0x80 {
        let end = p + 1 + usize::from(h);
        (Elem::Bytes(&buf[p + 1..end]), end)
    } else if h < LONG_STR {
        let n = usize::from(h - INT_TAG) + 1;
        let mut le = [0u8; 8];
        le[..n].copy_from_slice(&buf[p + 1..p + 1 + n]);
        // Sign-extend from the top payload byte.
        if le[n - 1] & 0x80 != 0 {
            le[n..].fill(0xff);
        }
        (Elem::Int(i64::from_le_bytes(le)), p + 1 + n)
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
        (Elem::Bytes(&buf[q..q + len]), q + len)
    }
}

/// Number of pairs in `buf`.
pub(super) fn count(buf: &[u8]) -> usize {
    match buf.get(..HEADER) {
        Some(h) => u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize,
        None => 0,
    }
}

fn set_count(buf: &mut [u8], n: usize) {
    // A pack never holds 2^32 pairs: it converts long before (entries limit, and the
    // 1 GB size cap of `Hash::prepare`).
    buf[..HEADER].copy_from_slice(&(n as u32).to_le_bytes());
}

/// Where a pair sits: its field's start, its value's start and the end of the pair.
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    pub field: usize,
    pub value: usize,
    pub end: usize,
}

/// Finds the pair whose field is `needle`.
pub(super) fn find(buf: &[u8], needle: &Needle<'_>) -> Option<Slot> {
    let mut p = HEADER;
    for _ in 0..count(buf) {
        let (f, v) = read_at(buf, p);
        let (_, end) = read_at(buf, v);
        if needle.matches(f) {
            return Some(Slot {
                field: p,
                value: v,
                end,
            });
        }
        p = end;
    }
    None
}

/// Replaces the bytes `range` of `buf` by `with` (an exact-size buffer again).
fn splice(buf: &mut Box<[u8]>, start: usize, end: usize, with: &[u8]) {
    let old = std::mem::take(buf);
    let mut v = Vec::with_capacity(old.len() - (end - start) + with.len());
    v.extend_from_slice(&old[..start]);
    v.extend_from_slice(with);
    v.extend_from_slice(&old[end..]);
    *buf = v.into_boxed_slice();
}

/// Appends a pair (the field must not be present).
pub(super) fn push(buf: &mut Box<[u8]>, field: &[u8], value: &[u8]) {
    let (f, v) = (classify(field), classify(value));
    let n = count(buf);
    // Growing the buffer itself lets the allocator extend it in place; reserving
    // exactly keeps the boxed slice free of spare capacity (no shrinking copy).
    let mut out = std::mem::take(buf).into_vec();
    let header = if out.is_empty() { HEADER } else { 0 };
    out.reserve_exact(header + f.len() + v.len());
    out.resize(out.len() + header, 0);
    f.write(&mut out);
    v.write(&mut out);
    set_count(&mut out, n + 1);
    *buf = out.into_boxed_slice();
}

/// Replaces the value of the pair at `slot`, keeping its place.
pub(super) fn replace_value(buf: &mut Box<[u8]>, slot: Slot, value: &[u8]) {
    let v = classify(value);
    let mut enc = Vec::with_capacity(v.len());
    v.write(&mut enc);
    if enc.len() == slot.end - slot.value {
        buf[slot.value..slot.end].copy_from_slice(&enc);
    } else {
        splice(buf, slot.value, slot.end, &enc);
    }
}

/// Removes the pair at `slot`; the buffer is freed with the last pair.
pub(super) fn remove(buf: &mut Box<[u8]>, slot: Slot) {
    let n = count(buf);
    if n <= 1 {
        *buf = Box::default();
        return;
    }
    splice(buf, slot.field, slot.end, &[]);
    set_count(buf, n - 1);
}

/// Walks every pair in order.
#[derive(Clone)]
pub(super) struct Pairs<'a> {
    buf: &'a [u8],
    p: usize,
    left: usize,
}

impl<'a> Pairs<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Pairs<'a> {
        Pairs {
            buf,
            p: HEADER,
            left: count(buf),
        }
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (Elem<'a>, Elem<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (f, v) = read_at(self.buf, self.p);
        let (v, end) = read_at(self.buf, v);
        self.p = end;
        Some((f, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Checks that `buf` is well formed: `count` pairs that end exactly at its end,
/// every element in its canonical encoding.
pub(super) fn check(buf: &[u8]) -> Result<(), String> {
    if buf.is_empty() {
        return Ok(());
    }
    if buf.len() < HEADER || count(buf) == 0 {
        return Err("a non-empty buffer without pairs".into());
    }
    let mut p = HEADER;
    for _ in 0..2 * count(buf) {
        if p >= buf.len() {
            return Err(format!("entries run past the end at {p}"));
        }
        let (e, next) = read_at(buf, p);
        let canonical = e.with_bytes(|b| {
            let mut enc = Vec::new();
            classify(b).write(&mut enc);
            enc == buf[p..next]
        });
        if !canonical {
            return Err(format!("entry at {p} is not canonical"));
        }
        p = next;
    }
    if p != buf.len() {
        return Err(format!("{} trailing bytes", buf.len() - p));
    }
    Ok(())
}
