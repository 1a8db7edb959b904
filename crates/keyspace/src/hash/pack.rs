//! The compact ("listpack") form of a hash: one heap buffer holding every pair back
//! to back, in insertion order.
//!
//! A pair is a header byte, then the field's bytes, then the value's:
//!
//! | header | lengths |
//! |---|---|
//! | `0x00..=0xef` | field `header >> 4` bytes (0..=14), value `header & 15` bytes (0..=15) |
//! | `0xf0` | a LEB128 field length and a LEB128 value length follow |
//!
//! So a pair of short strings costs one byte more than its text: ten pairs such as
//! `f1 v1` take 50 bytes, where Redis's listpack takes 87. The hash keeps the buffer
//! as a `Box<[u8]>` of exactly its content (no spare capacity, one allocation; an
//! empty buffer, no allocation, is the empty hash) and edits it as a `Vec` (the
//! functions here), reserving once for a whole command. There is no pair count: HLEN walks the
//! pairs (they are few by construction, and the walk skips from header to header).
//! Elements are kept as the bytes they were written with (no integer encoding), so
//! finding a field is a plain byte comparison.
//!
//! Invariant: the buffer is a sequence of well-formed pairs ending exactly at its
//! end; every buffer is built by this module.

/// Header of a pair whose lengths follow as LEB128 numbers.
const LONG_PAIR: u8 = 0xf0;
/// Longest field a one-byte header describes (15 would make `0xf?` headers).
const SHORT_FIELD_MAX: usize = 14;
/// Longest value a one-byte header describes.
const SHORT_VALUE_MAX: usize = 15;

fn leb_len(mut v: usize) -> usize {
    let mut n = 1;
    v >>= 7;
    while v > 0 {
        n += 1;
        v >>= 7;
    }
    n
}

fn write_leb(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Bytes a pair of these lengths takes.
pub(super) fn pair_len(flen: usize, vlen: usize) -> usize {
    if flen <= SHORT_FIELD_MAX && vlen <= SHORT_VALUE_MAX {
        1 + flen + vlen
    } else {
        1 + leb_len(flen) + leb_len(vlen) + flen + vlen
    }
}

/// Where a pair sits: its start (header), its field's and its value's start, and
/// its end.
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    pub start: usize,
    pub field: usize,
    pub value: usize,
    pub end: usize,
}

/// Reads the pair starting at `p`.
///
/// Invariant: `p` is the start of a pair of a well-formed buffer (built only by
/// this module), so the slicing cannot go out of bounds.
fn read_slot(buf: &[u8], p: usize) -> Slot {
    let h = buf[p];
    let (flen, vlen, data) = if h < LONG_PAIR {
        (usize::from(h >> 4), usize::from(h & 15), p + 1)
    } else {
        let mut q = p + 1;
        let mut lens = [0usize; 2];
        for len in &mut lens {
            let mut shift = 0;
            loop {
                let b = buf[q];
                q += 1;
                *len |= usize::from(b & 0x7f) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        (lens[0], lens[1], q)
    };
    Slot {
        start: p,
        field: data,
        value: data + flen,
        end: data + flen + vlen,
    }
}

/// The field and value of the pair at `slot`.
fn pair_at(buf: &[u8], slot: Slot) -> (&[u8], &[u8]) {
    (&buf[slot.field..slot.value], &buf[slot.value..slot.end])
}

/// Number of pairs in `buf`.
pub(super) fn count(buf: &[u8]) -> usize {
    let mut n = 0;
    let mut p = 0;
    while p < buf.len() {
        p = read_slot(buf, p).end;
        n += 1;
    }
    n
}

/// Finds the pair whose field is `field`.
pub(super) fn find(buf: &[u8], field: &[u8]) -> Option<Slot> {
    let mut p = 0;
    while p < buf.len() {
        let slot = read_slot(buf, p);
        if pair_at(buf, slot).0 == field {
            return Some(slot);
        }
        p = slot.end;
    }
    None
}

/// The value of the pair at `slot`.
pub(super) fn value_at(buf: &[u8], slot: Slot) -> &[u8] {
    &buf[slot.value..slot.end]
}

/// Appends a pair (the field must not be present).
pub(super) fn push(buf: &mut Vec<u8>, field: &[u8], value: &[u8]) {
    if field.len() <= SHORT_FIELD_MAX && value.len() <= SHORT_VALUE_MAX {
        buf.push(((field.len() as u8) << 4) | value.len() as u8);
    } else {
        buf.push(LONG_PAIR);
        write_leb(buf, field.len());
        write_leb(buf, value.len());
    }
    buf.extend_from_slice(field);
    buf.extend_from_slice(value);
}

/// Replaces the value of the pair at `slot`, keeping its place.
pub(super) fn replace_value(buf: &mut Vec<u8>, slot: Slot, value: &[u8]) {
    if value.len() == slot.end - slot.value {
        buf[slot.value..slot.end].copy_from_slice(value);
        return;
    }
    // The header may change size with the value: rewrite the whole pair.
    let mut pair = Vec::with_capacity(pair_len(slot.value - slot.field, value.len()));
    push(&mut pair, &buf[slot.field..slot.value], value);
    buf.splice(slot.start..slot.end, pair);
}

/// Removes the pair at `slot`.
pub(super) fn remove(buf: &mut Vec<u8>, slot: Slot) {
    buf.drain(slot.start..slot.end);
}

/// Walks every pair in order.
#[derive(Clone)]
pub(super) struct Pairs<'a> {
    buf: &'a [u8],
    p: usize,
}

impl<'a> Pairs<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Pairs<'a> {
        Pairs { buf, p: 0 }
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.p >= self.buf.len() {
            return None;
        }
        let slot = read_slot(self.buf, self.p);
        self.p = slot.end;
        Some(pair_at(self.buf, slot))
    }
}

/// Checks that `buf` is well formed: pairs that end exactly at its end, each with
/// the shortest header for its lengths.
pub(super) fn check(buf: &[u8]) -> Result<(), String> {
    let mut p = 0;
    while p < buf.len() {
        let h = buf[p];
        if h > LONG_PAIR {
            return Err(format!("bad header {h:#x} at {p}"));
        }
        let slot = read_slot(buf, p);
        if slot.end > buf.len() {
            return Err(format!("pair at {p} runs past the end"));
        }
        let (f, v) = pair_at(buf, slot);
        if pair_len(f.len(), v.len()) != slot.end - slot.start {
            return Err(format!("pair at {p} does not use its shortest header"));
        }
        p = slot.end;
    }
    Ok(())
}
