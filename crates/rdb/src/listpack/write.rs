//! Building listpacks byte-for-byte as Redis 7.0 builds them. (Encoding side.)
//!
//! An element is its encoding and data, then a "backlen": the size of encoding
//! plus data in 7-bit groups, most significant group first, every byte after the
//! first with its top bit set, so a reader at the element's end can walk back.
//! Encodings, smallest that fits:
//! - `0xxxxxxx`: integer 0..=127;
//! - `10xxxxxx` + bytes: string shorter than 64 bytes;
//! - `110xxxxx yyyyyyyy`: integer in -4096..=4095 (13-bit two's complement);
//! - `1110xxxx yyyyyyyy` + bytes: string shorter than 4096 bytes;
//! - `0xf1`/`0xf2`/`0xf3`/`0xf4` + 2/3/4/8 bytes LE: 16/24/32/64-bit integers;
//! - `0xf0` + 4-byte LE length + bytes: any longer string.
//!
//! A string element that is a canonical decimal `i64` (what Redis's
//! `lpStringToInt64` accepts) is stored as that integer, as Redis's `lpAppend` does.

/// Bytes of the header (total size u32, element count u16) and the terminator.
const HEADER: usize = 6;
/// The count field's value when the real count does not fit.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// A listpack under construction.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
    count: usize,
}

impl Writer {
    pub fn new() -> Writer {
        Writer {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Appends a string element; one that reads as a canonical integer is stored
    /// as an integer, as Redis does.
    pub fn push_bytes(&mut self, s: &[u8]) {
        if s.len() <= 20 {
            if let Some(v) = shoal_ds::num::parse_i64(s) {
                return self.push_int(v);
            }
        }
        self.ensure_header();
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.push(0xe0 | (n >> 8) as u8);
            self.buf.push(n as u8);
        } else {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.finish_element(start);
    }

    /// Appends an integer element.
    pub fn push_int(&mut self, v: i64) {
        self.ensure_header();
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1 << 13) + v } else { v } as u16;
            self.buf.push(0xc0 | (u >> 8) as u8);
            self.buf.push(u as u8);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xf1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8_388_608..=8_388_607).contains(&v) {
            self.buf.push(0xf2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if let Ok(w) = i32::try_from(v) {
            self.buf.push(0xf3);
            self.buf.extend_from_slice(&w.to_le_bytes());
        } else {
            self.buf.push(0xf4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.finish_element(start);
    }

    /// Number of elements so far.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The size the finished blob will have (header and terminator included).
    pub fn bytes(&self) -> usize {
        self.buf.len().max(HEADER) + 1
    }

    /// The finished blob (header, elements, terminator).
    pub fn finish(mut self) -> Vec<u8> {
        self.ensure_header();
        self.buf.push(0xff);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count)
            .ok()
            .filter(|&c| c != COUNT_UNKNOWN)
            .unwrap_or(COUNT_UNKNOWN);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }

    /// `Writer::default()` starts without the header's room.
    fn ensure_header(&mut self) {
        if self.buf.is_empty() {
            self.buf.resize(HEADER, 0);
        }
    }

    /// Appends the backlen of the element that starts at `start`.
    fn finish_element(&mut self, start: usize) {
        let l = self.buf.len() - start;
        write_backlen(&mut self.buf, l);
        self.count += 1;
    }
}

/// Appends `l` as a listpack backlen.
fn write_backlen(out: &mut Vec<u8>, l: usize) {
    let groups = match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    for i in (0..groups).rev() {
        let g = ((l >> (7 * i)) & 0x7f) as u8;
        out.push(if i == groups - 1 { g } else { g | 0x80 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_strings_as_redis_encodes_them() {
        // RPUSH l a b 1 300 70000 -5 12345678901 in Redis 7.0 gives this node.
        let mut w = Writer::new();
        for e in ["a", "b", "1", "300", "70000", "-5", "12345678901"] {
            w.push_bytes(e.as_bytes());
        }
        let blob = w.finish();
        let want: &[u8] = b"$\x00\x00\x00\x07\x00\x81a\x02\x81b\x02\x01\x01\xc1,\x02\xf2p\x11\x01\x04\xdf\xfb\x02\xf45\x1c\xdc\xdf\x02\x00\x00\x00\x09\xff";
        assert_eq!(blob, want);
    }

    #[test]
    fn long_strings_and_backlens() {
        let mut w = Writer::new();
        w.push_bytes(&[b'x'; 100]);
        w.push_bytes(&[b'y'; 5000]);
        let blob = w.finish();
        // 100 bytes: 12-bit length (2 bytes), backlen of 102 in one byte.
        assert_eq!(&blob[6..8], &[0xe0, 100]);
        assert_eq!(blob[6 + 102], 102);
        // 5000 bytes: 32-bit length, backlen of 5005 in two bytes.
        let at = 6 + 103;
        assert_eq!(blob[at], 0xf0);
        assert_eq!(&blob[at + 1..at + 5], &5000u32.to_le_bytes());
        let bl = at + 5005;
        assert_eq!(
            &blob[bl..bl + 2],
            &[(5005 >> 7) as u8, (5005 & 127) as u8 | 0x80]
        );
        assert_eq!(blob.len(), bl + 3);
        assert_eq!(*blob.last().unwrap_or(&0), 0xff);
    }

    #[test]
    fn empty_listpack() {
        assert_eq!(Writer::new().finish(), vec![7, 0, 0, 0, 0, 0, 0xff]);
        assert_eq!(Writer::default().finish(), vec![7, 0, 0, 0, 0, 0, 0xff]);
    }

    #[test]
    fn integer_boundaries() {
        let enc = |v: i64| {
            let mut w = Writer::new();
            w.push_int(v);
            let b = w.finish();
            b[6..b.len() - 1].to_vec()
        };
        assert_eq!(enc(127), vec![127, 1]);
        assert_eq!(enc(128), vec![0xc0, 128, 2]);
        assert_eq!(enc(-4096), vec![0xd0, 0, 2]);
        assert_eq!(enc(4096), vec![0xf1, 0, 0x10, 3]);
        assert_eq!(enc(-8_388_608), vec![0xf2, 0, 0, 0x80, 4]);
        assert_eq!(enc(i64::from(i32::MIN)), vec![0xf3, 0, 0, 0, 0x80, 5]);
        assert_eq!(enc(i64::MIN)[0], 0xf4);
    }
}
