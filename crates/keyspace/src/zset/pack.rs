//! The compact encoding of small sorted sets (reported as "listpack").
//!
//! One heap buffer of exactly its length holds a varint count, then the entries in
//! `(score, member)` order. An entry is:
//!
//! ```text
//! b0: P (bit 7) | K score kind (bits 6..4) | L suffix length (bits 3..0, 15 = more)
//! [p: shared prefix length, 1 byte, when P]
//! [varint: suffix length - 15, when L = 15]
//! suffix bytes
//! score payload by K: 0 -> +0.0 (none), 1 -> i8, 2 -> i16, 3 -> i32, 4 -> f32,
//!                     5 -> f64 (little-endian), 6 -> +inf, 7 -> -inf
//! ```
//!
//! Members are front-coded: an entry may reuse the first `p` bytes (2..=255) of the
//! previous member, so members that share a prefix (`user:1001`, `user:1002`, ...)
//! cost their differing tail only. With integral scores a 10-member set of
//! `member:N` names takes 48 bytes where Redis's listpack takes 127; this is what
//! keeps many small sorted sets below Redis's memory.
//!
//! The price of front coding is that members can only be decoded walking forward
//! from the start ([`Cursor`]), so everything is O(n) here, as in Redis's listpack
//! (n is at most `zset-max-listpack-entries`, 128 by default). Every mutation writes
//! a fresh buffer in one pass ([`Pack::rebuild`]).
//!
//! Invariants: the count matches the entries; entries are strictly increasing by
//! score then member bytes; no score is NaN; `-0.0` is stored as `0.0` (Redis 7.0's
//! listpack keeps scores as text made by `d2string`, which renders -0 as "0", so a
//! listpack-encoded set reads -0 back as 0).

use smallvec::SmallVec;
use std::cmp::Ordering;

/// Room for the members of the default configuration (64 bytes) without a heap
/// allocation while decoding.
type MemberBuf = SmallVec<[u8; 64]>;

const K_ZERO: u8 = 0;
const K_I8: u8 = 1;
const K_I16: u8 = 2;
const K_I32: u8 = 3;
const K_F32: u8 = 4;
const K_F64: u8 = 5;
const K_PINF: u8 = 6;
const K_NINF: u8 = 7;

/// Compares two entries in sorted-set order: by score, then member bytes.
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    // Scores are never NaN, so partial_cmp always answers; -0.0 == 0.0 as in C.
    s1.partial_cmp(&s2)
        .unwrap_or(Ordering::Equal)
        .then_with(|| m1.cmp(m2))
}

#[derive(Clone)]
pub(crate) struct Pack(Box<[u8]>);

impl std::fmt::Debug for Pack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_list();
        let mut c = self.cursor();
        while let Some((s, m)) = c.next() {
            l.entry(&(s, m.escape_ascii().to_string()));
        }
        l.finish()
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint at `*pos`, advancing it.
fn read_varint(buf: &[u8], pos: &mut usize) -> Option<usize> {
    let mut v: usize = 0;
    let mut shift = 0;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// The kind and payload that encode `s` (never NaN).
fn encode_score(s: f64) -> (u8, [u8; 8], usize) {
    let mut p = [0u8; 8];
    if s == 0.0 {
        return (K_ZERO, p, 0);
    }
    if s.is_infinite() {
        return (if s > 0.0 { K_PINF } else { K_NINF }, p, 0);
    }
    if s.fract() == 0.0 && s.abs() <= i32::MAX as f64 {
        let v = s as i32;
        if let Ok(b) = i8::try_from(v) {
            p[0] = b as u8;
            return (K_I8, p, 1);
        }
        if let Ok(h) = i16::try_from(v) {
            p[..2].copy_from_slice(&h.to_le_bytes());
            return (K_I16, p, 2);
        }
        p[..4].copy_from_slice(&v.to_le_bytes());
        return (K_I32, p, 4);
    }
    let f = s as f32;
    if f as f64 == s {
        p[..4].copy_from_slice(&f.to_le_bytes());
        return (K_F32, p, 4);
    }
    p.copy_from_slice(&s.to_le_bytes());
    (K_F64, p, 8)
}

fn decode_score(kind: u8, buf: &[u8], pos: &mut usize) -> Option<f64> {
    let take = |pos: &mut usize, n: usize| -> Option<&[u8]> {
        let b = buf.get(*pos..*pos + n)?;
        *pos += n;
        Some(b)
    };
    Some(match kind {
        K_ZERO => 0.0,
        K_I8 => f64::from(take(pos, 1)?[0] as i8),
        K_I16 => f64::from(i16::from_le_bytes(take(pos, 2)?.try_into().ok()?)),
        K_I32 => f64::from(i32::from_le_bytes(take(pos, 4)?.try_into().ok()?)),
        K_F32 => f64::from(f32::from_le_bytes(take(pos, 4)?.try_into().ok()?)),
        K_F64 => f64::from_le_bytes(take(pos, 8)?.try_into().ok()?),
        K_PINF => f64::INFINITY,
        _ => f64::NEG_INFINITY,
    })
}

/// Walks the entries forward, rebuilding each member into its own buffer.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    left: usize,
    member: MemberBuf,
}

impl Cursor<'_> {
    /// The next entry, or None at the end.
    #[allow(clippy::should_implement_trait)] // a lending cursor, not an Iterator
    pub(crate) fn next(&mut self) -> Option<(f64, &[u8])> {
        if self.left == 0 {
            return None;
        }
        let buf = self.buf;
        let b0 = *buf.get(self.pos)?;
        self.pos += 1;
        let shared = if b0 & 0x80 != 0 {
            let p = *buf.get(self.pos)?;
            self.pos += 1;
            usize::from(p)
        } else {
            0
        };
        let mut slen = usize::from(b0 & 0x0f);
        if slen == 15 {
            slen = 15usize.checked_add(read_varint(buf, &mut self.pos)?)?;
        }
        let suffix = buf.get(self.pos..self.pos.checked_add(slen)?)?;
        self.pos += slen;
        self.member.truncate(shared);
        self.member.extend_from_slice(suffix);
        let score = decode_score((b0 >> 4) & 7, buf, &mut self.pos)?;
        self.left -= 1;
        Some((score, &self.member))
    }

    /// Skips `n` entries (fewer if the set ends first).
    pub(crate) fn skip(&mut self, n: usize) {
        for _ in 0..n {
            if self.next().is_none() {
                break;
            }
        }
    }
}

/// Writes entries (in order) into a new pack.
pub(crate) struct Writer {
    out: Vec<u8>,
    prev: MemberBuf,
    count: usize,
}

impl Writer {
    pub(crate) fn with_capacity(bytes: usize) -> Writer {
        Writer {
            out: Vec::with_capacity(bytes),
            prev: MemberBuf::new(),
            count: 0,
        }
    }

    pub(crate) fn push(&mut self, score: f64, member: &[u8]) {
        let common = self
            .prev
            .iter()
            .zip(member)
            .take_while(|(a, b)| a == b)
            .count()
            .min(255);
        // Sharing one byte would cost the byte it saves.
        let shared = if common >= 2 { common } else { 0 };
        let suffix = &member[shared..];
        let (kind, payload, plen) = encode_score(score);
        let l = suffix.len().min(15) as u8;
        let p = if shared > 0 { 0x80 } else { 0 };
        self.out.push(p | (kind << 4) | l);
        if shared > 0 {
            self.out.push(shared as u8);
        }
        if l == 15 {
            write_varint(&mut self.out, suffix.len() - 15);
        }
        self.out.extend_from_slice(suffix);
        self.out.extend_from_slice(&payload[..plen]);
        self.prev.clear();
        self.prev.extend_from_slice(member);
        self.count += 1;
    }

    pub(crate) fn finish(self) -> Pack {
        let mut head = Vec::with_capacity(10);
        write_varint(&mut head, self.count);
        // Exactly sized: shrinking a larger buffer in place would keep the
        // allocator's bigger chunk (glibc does not split off less than 32 bytes).
        let mut v = Vec::with_capacity(head.len() + self.out.len());
        v.extend_from_slice(&head);
        v.extend_from_slice(&self.out);
        Pack(v.into_boxed_slice())
    }
}

impl Default for Pack {
    fn default() -> Self {
        Pack(Box::new([0]))
    }
}

impl Pack {
    /// The number of entries and where the first one starts.
    fn header(&self) -> (usize, usize) {
        let mut pos = 0;
        let n = read_varint(&self.0, &mut pos).unwrap_or(0);
        (n, pos)
    }

    pub(crate) fn len(&self) -> usize {
        self.header().0
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn cursor(&self) -> Cursor<'_> {
        let (left, pos) = self.header();
        Cursor {
            buf: &self.0,
            pos,
            left,
            member: MemberBuf::new(),
        }
    }

    /// The rank and score of `member`.
    pub(crate) fn find(&self, member: &[u8]) -> Option<(usize, f64)> {
        let mut c = self.cursor();
        let mut i = 0;
        while let Some((s, m)) = c.next() {
            if m == member {
                return Some((i, s));
            }
            i += 1;
        }
        None
    }

    /// A copy without the entry of `remove` (if given) and with `insert` (if given)
    /// at its place in the order. `insert`'s member must not be present unless it
    /// is the one removed.
    pub(crate) fn rebuild(&self, remove: Option<&[u8]>, insert: Option<(f64, &[u8])>) -> Pack {
        let extra = insert.map_or(0, |(_, m)| m.len() + 12);
        let mut w = Writer::with_capacity(self.0.len() + extra);
        let mut pending = insert;
        let mut removing = remove;
        let mut c = self.cursor();
        while let Some((s, m)) = c.next() {
            if removing.is_some_and(|r| r == m) {
                removing = None;
                continue;
            }
            if let Some((is, im)) = pending {
                if cmp_entry(is, im, s, m) == Ordering::Less {
                    w.push(is, im);
                    pending = None;
                }
            }
            w.push(s, m);
        }
        if let Some((is, im)) = pending {
            w.push(is, im);
        }
        w.finish()
    }

    /// Removes the entries of ranks `start..end`, handing each to `f`.
    pub(crate) fn remove_ranks(&mut self, start: usize, end: usize, f: &mut dyn FnMut(&[u8], f64)) {
        let mut w = Writer::with_capacity(self.0.len());
        let mut c = self.cursor();
        let mut i = 0;
        while let Some((s, m)) = c.next() {
            if (start..end).contains(&i) {
                f(m, s);
            } else {
                w.push(s, m);
            }
            i += 1;
        }
        *self = w.finish();
    }

    /// Every entry in order, copied out (for random access and reverse walks).
    pub(crate) fn decode(&self) -> Decoded {
        let mut d = Decoded {
            arena: Vec::with_capacity(self.0.len() * 2),
            items: Vec::with_capacity(self.len()),
        };
        let mut c = self.cursor();
        while let Some((s, m)) = c.next() {
            let start = d.arena.len();
            d.arena.extend_from_slice(m);
            d.items.push((s, start, m.len()));
        }
        d
    }
}

/// A decoded pack: members laid end to end in `arena`.
pub(crate) struct Decoded {
    arena: Vec<u8>,
    items: Vec<(f64, usize, usize)>,
}

impl Decoded {
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn get(&self, i: usize) -> Option<(f64, &[u8])> {
        let &(s, start, len) = self.items.get(i)?;
        Some((s, self.arena.get(start..start + len)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(items: &[(f64, &str)]) -> Pack {
        let mut v: Vec<(f64, &str)> = items.to_vec();
        v.sort_by(|a, b| cmp_entry(a.0, a.1.as_bytes(), b.0, b.1.as_bytes()));
        let mut w = Writer::with_capacity(64);
        for (s, m) in v {
            w.push(s, m.as_bytes());
        }
        w.finish()
    }

    fn all(p: &Pack) -> Vec<(f64, Vec<u8>)> {
        let mut c = p.cursor();
        let mut v = Vec::new();
        while let Some((s, m)) = c.next() {
            v.push((s, m.to_vec()));
        }
        v
    }

    #[test]
    fn round_trips_scores_and_members() {
        let long = "x".repeat(300);
        let scores = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            127.0,
            -128.0,
            128.0,
            40000.0,
            -2147483648.0,
            2147483647.0,
            2147483648.0,
            1.5,
            0.1,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            4503599627370496.0,
            5e-324,
        ];
        let names: Vec<String> = (0..scores.len())
            .map(|i| format!("member:{i}"))
            .chain([String::new(), long.clone(), format!("{long}y")])
            .collect();
        let items: Vec<(f64, &str)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (scores[i % scores.len()], n.as_str()))
            .collect();
        let p = build(&items);
        assert_eq!(p.len(), items.len());
        let got = all(&p);
        let mut want: Vec<(f64, Vec<u8>)> = items
            .iter()
            .map(|(s, m)| (if *s == 0.0 { 0.0 } else { *s }, m.as_bytes().to_vec()))
            .collect();
        want.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0.to_bits(), w.0.to_bits());
            assert_eq!(g.1, w.1);
        }
    }

    #[test]
    fn small_sets_are_lean() {
        let names: Vec<String> = (0..10).map(|i| format!("member:{i}")).collect();
        let items: Vec<(f64, &str)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (i as f64, n.as_str()))
            .collect();
        assert!(build(&items).heap_bytes() <= 50);
    }

    #[test]
    fn rebuild_inserts_removes_and_moves() {
        let p = build(&[(1.0, "a"), (2.0, "b"), (3.0, "c")]);
        let p2 = p.rebuild(None, Some((2.5, b"bb")));
        let names: Vec<Vec<u8>> = all(&p2).into_iter().map(|x| x.1).collect();
        assert_eq!(
            names,
            [b"a".to_vec(), b"b".to_vec(), b"bb".to_vec(), b"c".to_vec()]
        );
        let p3 = p2.rebuild(Some(b"a"), Some((10.0, b"a")));
        assert_eq!(p3.find(b"a"), Some((3, 10.0)));
        let p4 = p3.rebuild(Some(b"c"), None);
        assert_eq!(p4.len(), 3);
        assert_eq!(p4.find(b"c"), None);
        let mut p5 = p4.clone();
        let mut gone = Vec::new();
        p5.remove_ranks(0, 2, &mut |m, _| gone.push(m.to_vec()));
        assert_eq!(gone, [b"b".to_vec(), b"bb".to_vec()]);
        assert_eq!(p5.len(), 1);
    }
}
