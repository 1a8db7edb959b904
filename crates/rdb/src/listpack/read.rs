//! Walking and validating listpacks read from files. (Decoding side.)
//!
//! The header is checked on creation (declared total size equals the blob's
//! length, terminator in place); every element is checked as it is read: its
//! encoding is a known one, its data and its backlen lie inside the blob before
//! the terminator, and the backlen equals the element's size. At the terminator
//! the number of elements read is checked against the header's count (unless
//! it is 65535, "unknown"). So walking a listpack to its end validates it
//! entirely, and a corrupt blob gives an error, never a panic.

/// One element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl Item<'_> {
    /// The element's text (an integer rendered in decimal).
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Item::Bytes(b) => b.to_vec(),
            Item::Int(v) => itoa::Buffer::new().format(v).as_bytes().to_vec(),
        }
    }
}

/// Header size: 4-byte total size, 2-byte count.
const HEADER: usize = 6;
/// The terminator byte.
const EOF: u8 = 0xff;
/// The header's count when the real count did not fit.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// Iterates over a listpack's elements after checking its header; every step
/// checks bounds, so a corrupt blob gives an error, never a panic.
pub struct Reader<'a> {
    blob: &'a [u8],
    pos: usize,
    count: u16,
    seen: usize,
    done: bool,
}

/// How many bytes the backlen of an element of `len` bytes takes.
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

fn le(b: &[u8]) -> u64 {
    b.iter()
        .rev()
        .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

impl<'a> Reader<'a> {
    /// Checks the header (total size equals the blob's length, terminator present).
    pub fn new(blob: &'a [u8]) -> Result<Reader<'a>, String> {
        if blob.len() < HEADER + 1 {
            return Err(format!("listpack of {} bytes is too short", blob.len()));
        }
        let total = le(&blob[..4]);
        if total != blob.len() as u64 {
            return Err(format!(
                "listpack header says {total} bytes, blob has {}",
                blob.len()
            ));
        }
        if blob[blob.len() - 1] != EOF {
            return Err("listpack does not end with its terminator".into());
        }
        Ok(Reader {
            blob,
            pos: HEADER,
            count: le(&blob[4..6]) as u16,
            seen: 0,
            done: false,
        })
    }

    /// The element count of the header, `None` when it says "unknown" (65535).
    pub fn header_count(&self) -> Option<usize> {
        (self.count != COUNT_UNKNOWN).then_some(usize::from(self.count))
    }

    /// Offset in the blob of the next element (for error messages).
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Elements read so far.
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// `n` bytes from `at`, which must end before the terminator.
    fn slice(&self, at: usize, n: usize) -> Result<&'a [u8], String> {
        let end = at
            .checked_add(n)
            .filter(|&e| e < self.blob.len())
            .ok_or_else(|| format!("listpack element at offset {} overruns the blob", self.pos))?;
        Ok(&self.blob[at..end])
    }

    /// The next element, `Ok(None)` at the terminator.
    pub fn next_item(&mut self) -> Result<Option<Item<'a>>, String> {
        if self.done {
            return Ok(None);
        }
        let at = self.pos;
        let b = *self
            .blob
            .get(at)
            .ok_or_else(|| format!("listpack ends without terminator at offset {at}"))?;
        if b == EOF {
            if at != self.blob.len() - 1 {
                return Err(format!("listpack terminator at offset {at} before the end"));
            }
            if let Some(n) = self.header_count() {
                if n != self.seen {
                    return Err(format!(
                        "listpack header counts {n} elements, it holds {}",
                        self.seen
                    ));
                }
            }
            self.done = true;
            return Ok(None);
        }
        // (header bytes, data bytes, item)
        let (head, item): (usize, Item<'a>) = match b {
            0x00..=0x7f => (1, Item::Int(i64::from(b))),
            0x80..=0xbf => {
                let n = usize::from(b & 0x3f);
                (1 + n, Item::Bytes(self.slice(at + 1, n)?))
            }
            0xc0..=0xdf => {
                let lo = self.slice(at + 1, 1)?[0];
                let v = (i64::from(b & 0x1f) << 8) | i64::from(lo);
                let v = if v >= 1 << 12 { v - (1 << 13) } else { v };
                (2, Item::Int(v))
            }
            0xe0..=0xef => {
                let lo = self.slice(at + 1, 1)?[0];
                let n = (usize::from(b & 0x0f) << 8) | usize::from(lo);
                (2 + n, Item::Bytes(self.slice(at + 2, n)?))
            }
            0xf0 => {
                let n = le(self.slice(at + 1, 4)?);
                let n = usize::try_from(n).map_err(|_| "listpack string too long".to_string())?;
                (
                    5usize.saturating_add(n),
                    Item::Bytes(self.slice(at + 5, n)?),
                )
            }
            0xf1..=0xf4 => {
                let width = match b {
                    0xf1 => 2,
                    0xf2 => 3,
                    0xf3 => 4,
                    _ => 8,
                };
                let raw = le(self.slice(at + 1, width)?);
                // Sign-extend from `width` bytes.
                let shift = 64 - 8 * width as u32;
                let v = ((raw << shift) as i64) >> shift;
                (1 + width, Item::Int(v))
            }
            _ => return Err(format!("unknown listpack encoding {b:#04x} at offset {at}")),
        };
        let bl = backlen_size(head);
        let back = self.slice(at + head, bl)?;
        // The backlen is written most significant group first; every byte but
        // the first has its top bit set.
        let mut v: usize = 0;
        for (i, &x) in back.iter().enumerate() {
            if (i == 0) == (x & 0x80 != 0) {
                return Err(format!("bad listpack backlen at offset {}", at + head));
            }
            v = (v << 7) | usize::from(x & 0x7f);
        }
        if v != head {
            return Err(format!(
                "listpack backlen {v} at offset {} for an element of {head} bytes",
                at + head
            ));
        }
        self.pos = at + head + bl;
        self.seen += 1;
        Ok(Some(item))
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Item<'a>, String>;

    /// The elements, then `None`; an error is yielded once, then `None`.
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_item() {
            Ok(Some(it)) => Some(Ok(it)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
