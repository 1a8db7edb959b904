//! The replication backlog: the newest `size` bytes of the replication stream,
//! in a ring buffer addressed by replication offsets.
//!
//! Owns: the ring, `master_repl_offset` while the backlog exists, and the
//! offset arithmetic a partial resynchronization needs.
//!
//! Invariants:
//! - `histlen() == buf.len() <= size`; the ring only grows as bytes are fed,
//!   so a large `repl-backlog-size` costs nothing until it is used.
//! - While `buf.len() < size` the history is linear in `buf[0..]`; once the
//!   ring is full the oldest byte is at `write` and the next byte goes there.
//! - `first_byte_offset() + histlen() == master_repl_offset() + 1`: the
//!   history is exactly the bytes `first_byte_offset ..= master_repl_offset`.
//!   With no history, `first_byte_offset == master_repl_offset + 1`, as Redis
//!   reports right after creating the backlog.
//!
//! Redis 7.0.15 keeps the backlog as shared 16 KiB blocks and trims whole
//! blocks, so its `repl_backlog_histlen` may exceed the configured size by up
//! to one block; this ring trims to the byte. Both accept exactly the offsets
//! they still hold (the PSYNC acceptance rule in [`Backlog::contains`]).
//! (Measured on 7.0.15: size 16384, 100 KB written, histlen 21355.) The
//! 16384-byte minimum of `repl-backlog-size` is a config rule (CONFIG SET to a
//! smaller value stores 16384); this type accepts any size >= 1 so tests can
//! wrap it with a few bytes.

/// The replication backlog (see the module docs for its invariants).
#[derive(Debug, Clone)]
pub struct Backlog {
    buf: Vec<u8>,
    size: usize,
    write: usize,
    master_repl_offset: i64,
}

/// The INFO `# Replication` fields that describe the backlog, as Redis prints
/// them: with no backlog, active is 0 and offset and histlen are 0, while the
/// size is the configured `repl-backlog-size` either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogInfo {
    pub repl_backlog_active: i64,
    pub repl_backlog_size: i64,
    pub repl_backlog_first_byte_offset: i64,
    pub repl_backlog_histlen: i64,
}

impl BacklogInfo {
    /// The fields for `backlog`, or for no backlog with `configured_size`.
    pub fn of(backlog: Option<&Backlog>, configured_size: usize) -> BacklogInfo {
        match backlog {
            Some(b) => BacklogInfo {
                repl_backlog_active: 1,
                repl_backlog_size: b.size() as i64,
                repl_backlog_first_byte_offset: b.first_byte_offset(),
                repl_backlog_histlen: b.histlen() as i64,
            },
            None => BacklogInfo {
                repl_backlog_active: 0,
                repl_backlog_size: configured_size as i64,
                repl_backlog_first_byte_offset: 0,
                repl_backlog_histlen: 0,
            },
        }
    }

    /// `name:value\r\n` lines in Redis's INFO order.
    pub fn lines(&self) -> String {
        format!(
            "repl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
            self.repl_backlog_active,
            self.repl_backlog_size,
            self.repl_backlog_first_byte_offset,
            self.repl_backlog_histlen
        )
    }
}

impl Backlog {
    /// A new, empty backlog of `size` bytes (at least 1) whose next byte will
    /// have offset `master_repl_offset + 1`, as Redis creates it when the
    /// first replica attaches.
    pub fn new(size: usize, master_repl_offset: i64) -> Backlog {
        Backlog {
            buf: Vec::new(),
            size: size.max(1),
            write: 0,
            master_repl_offset,
        }
    }

    /// The configured capacity (`repl-backlog-size`).
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many bytes of history are held.
    pub fn histlen(&self) -> usize {
        self.buf.len()
    }

    /// The offset of the last byte fed.
    pub fn master_repl_offset(&self) -> i64 {
        self.master_repl_offset
    }

    /// The offset of the oldest byte held (`master_repl_offset + 1` when empty).
    pub fn first_byte_offset(&self) -> i64 {
        self.master_repl_offset - self.buf.len() as i64 + 1
    }

    /// Appends bytes of the replication stream; `master_repl_offset` advances
    /// by `data.len()` and the oldest bytes beyond `size` are dropped.
    pub fn feed(&mut self, data: &[u8]) {
        self.master_repl_offset += data.len() as i64;
        if data.len() >= self.size {
            // Only the newest `size` bytes can survive: the ring becomes them.
            self.buf.clear();
            self.buf.extend_from_slice(&data[data.len() - self.size..]);
            self.write = 0;
            return;
        }
        let mut data = data;
        if self.buf.len() < self.size {
            let take = data.len().min(self.size - self.buf.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            // `write` is 0 here (linear phase), which is where the ring's
            // oldest byte sits once it is full.
        }
        while !data.is_empty() {
            let room = self.size - self.write;
            let take = data.len().min(room);
            self.buf[self.write..self.write + take].copy_from_slice(&data[..take]);
            self.write = (self.write + take) % self.size;
            data = &data[take..];
        }
    }

    /// Redis's PSYNC range check: offset `x` can be served iff
    /// `first_byte_offset <= x <= first_byte_offset + histlen`; the upper
    /// bound is `master_repl_offset + 1`, the "nothing to send yet" offset.
    pub fn contains(&self, offset: i64) -> bool {
        let first = self.first_byte_offset();
        offset >= first && offset <= first + self.buf.len() as i64
    }

    /// The bytes from `offset` to the end, as up to two slices (the ring may
    /// wrap), or `None` when `offset` is outside [`Backlog::contains`].
    pub fn range_from(&self, offset: i64) -> Option<(&[u8], &[u8])> {
        if !self.contains(offset) {
            return None;
        }
        // In range: 0 <= skip <= histlen, so it fits a usize.
        let skip = (offset - self.first_byte_offset()) as usize;
        let (older, newer) = self.halves();
        if skip <= older.len() {
            Some((&older[skip..], newer))
        } else {
            Some((&newer[skip - older.len()..], &[]))
        }
    }

    /// [`Backlog::range_from`] copied into one buffer.
    pub fn copy_from(&self, offset: i64) -> Option<Vec<u8>> {
        let (a, b) = self.range_from(offset)?;
        let mut v = Vec::with_capacity(a.len() + b.len());
        v.extend_from_slice(a);
        v.extend_from_slice(b);
        Some(v)
    }

    /// Changes the capacity (CONFIG SET repl-backlog-size), keeping the newest
    /// `min(histlen, new_size)` bytes; offsets are unchanged.
    pub fn resize(&mut self, new_size: usize) {
        let new_size = new_size.max(1);
        let keep = self.buf.len().min(new_size);
        let (older, newer) = self.halves();
        let mut linear = Vec::with_capacity(keep);
        let total = older.len() + newer.len();
        let skip = total - keep;
        if skip < older.len() {
            linear.extend_from_slice(&older[skip..]);
            linear.extend_from_slice(newer);
        } else {
            linear.extend_from_slice(&newer[skip - older.len()..]);
        }
        self.buf = linear;
        self.size = new_size;
        // Linear again: if full, the oldest byte is at 0 and so is the next write.
        self.write = 0;
    }

    /// The history as (older part, newer part) in stream order.
    fn halves(&self) -> (&[u8], &[u8]) {
        if self.buf.len() < self.size {
            (&self.buf[..], &[])
        } else {
            (&self.buf[self.write..], &self.buf[..self.write])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stream bytes for offsets `from..=to` when byte at offset `o` is `o % 251`.
    fn stream(from: i64, to: i64) -> Vec<u8> {
        (from..=to).map(|o| (o % 251) as u8).collect()
    }

    #[test]
    fn new_backlog_reports_redis_initial_fields() {
        let b = Backlog::new(1024, 0);
        assert_eq!(b.first_byte_offset(), 1);
        assert_eq!(b.histlen(), 0);
        assert!(b.contains(1));
        assert!(!b.contains(0));
        assert!(!b.contains(2));
        assert_eq!(b.copy_from(1).unwrap(), b"");
        let info = BacklogInfo::of(Some(&b), 1024);
        assert_eq!(
            info.lines(),
            "repl_backlog_active:1\r\nrepl_backlog_size:1024\r\nrepl_backlog_first_byte_offset:1\r\nrepl_backlog_histlen:0\r\n"
        );
        let none = BacklogInfo::of(None, 1048576);
        assert_eq!(none.repl_backlog_active, 0);
        assert_eq!(none.repl_backlog_size, 1048576);
        assert_eq!(none.repl_backlog_first_byte_offset, 0);
        assert_eq!(none.repl_backlog_histlen, 0);
    }

    #[test]
    fn created_after_offset_starts_there() {
        let mut b = Backlog::new(16, 50);
        assert_eq!(b.first_byte_offset(), 51);
        b.feed(&stream(51, 60));
        assert_eq!(b.master_repl_offset(), 60);
        assert_eq!(b.copy_from(55).unwrap(), stream(55, 60));
    }

    #[test]
    fn wrap_around_keeps_newest_bytes_in_order() {
        let mut b = Backlog::new(10, 0);
        let mut off = 0;
        // Odd chunk sizes so that writes straddle the ring's end many times.
        for chunk in [3usize, 4, 5, 1, 9, 7, 2, 11, 6].iter().cycle().take(40) {
            b.feed(&stream(off + 1, off + *chunk as i64));
            off += *chunk as i64;
            assert_eq!(b.master_repl_offset(), off);
            assert_eq!(b.histlen(), (off as usize).min(10));
            assert_eq!(b.first_byte_offset() + b.histlen() as i64, off + 1);
            let first = b.first_byte_offset();
            for x in first..=off + 1 {
                assert_eq!(b.copy_from(x).unwrap(), stream(x, off), "offset {x}");
            }
            assert!(b.range_from(first - 1).is_none() || first == 1);
            assert!(b.range_from(off + 2).is_none());
        }
    }

    #[test]
    fn feed_larger_than_size_keeps_tail() {
        let mut b = Backlog::new(8, 0);
        b.feed(&stream(1, 3));
        b.feed(&stream(4, 30));
        assert_eq!(b.histlen(), 8);
        assert_eq!(b.first_byte_offset(), 23);
        assert_eq!(b.copy_from(23).unwrap(), stream(23, 30));
        b.feed(&stream(31, 33));
        assert_eq!(b.copy_from(26).unwrap(), stream(26, 33));
        assert!(!b.contains(25));
    }

    #[test]
    fn resize_keeps_newest_bytes() {
        let mut b = Backlog::new(10, 0);
        b.feed(&stream(1, 27)); // full and wrapped: holds 18..=27
        b.feed(&stream(28, 31)); // holds 22..=31, ring wrapped mid-buffer
        b.resize(4);
        assert_eq!(b.size(), 4);
        assert_eq!(b.first_byte_offset(), 28);
        assert_eq!(b.copy_from(28).unwrap(), stream(28, 31));
        b.feed(&stream(32, 33));
        assert_eq!(b.copy_from(30).unwrap(), stream(30, 33));
        // Growing keeps everything and offsets; later feeds fill the new room.
        b.resize(20);
        assert_eq!(b.first_byte_offset(), 30);
        b.feed(&stream(34, 45));
        assert_eq!(b.histlen(), 16);
        assert_eq!(b.copy_from(30).unwrap(), stream(30, 45));
        b.feed(&stream(46, 52));
        assert_eq!(b.first_byte_offset(), 33);
        assert_eq!(b.copy_from(33).unwrap(), stream(33, 52));
    }

    #[test]
    fn resize_of_partial_history_and_to_zero() {
        let mut b = Backlog::new(100, 0);
        b.feed(&stream(1, 5));
        b.resize(3);
        assert_eq!(b.copy_from(3).unwrap(), stream(3, 5));
        b.resize(0); // clamped to 1
        assert_eq!(b.size(), 1);
        assert_eq!(b.copy_from(5).unwrap(), stream(5, 5));
        b.feed(&stream(6, 6));
        assert_eq!(b.copy_from(6).unwrap(), stream(6, 6));
        assert!(!b.contains(5));
    }
}
