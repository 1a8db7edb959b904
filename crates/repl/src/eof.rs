//! The `$EOF:<mark>` framing of a streamed (diskless) RDB payload.
//!
//! A master that streams its snapshot cannot know its length up front, so it
//! sends `$EOF:` followed by 40 random bytes and `\r\n`, then the RDB, then
//! the same 40 bytes. The replica must pass the RDB on while spotting the
//! marker, which may arrive split across any number of reads.
//!
//! Owns: the marker search. Invariants:
//! - Bytes handed out as payload are never part of the marker: the scanner
//!   holds back the last `EOF_MARK_LEN - 1` bytes it has seen until the next
//!   chunk shows they are not the marker's beginning.
//! - The first occurrence of the marker ends the payload; bytes after it in
//!   the same chunk are returned untouched (they belong to the command
//!   stream). Redis 7.0.15 only compares the last 40 bytes of each read,
//!   which is the same thing on the wire, since a master sends nothing after
//!   the marker until the replica's first REPLCONF ACK.
//! - Memory is bounded: at most `EOF_MARK_LEN - 1` bytes are held.

/// Length of the marker (Redis's RDB_EOF_MARK_SIZE).
pub const EOF_MARK_LEN: usize = 40;

/// Parses the bulk header line (without `\r\n`) of an EOF-marked payload:
/// `$EOF:` and at least 40 more bytes, of which the first 40 are the marker.
pub fn parse_eof_header(line: &[u8]) -> Option<[u8; EOF_MARK_LEN]> {
    let rest = line.strip_prefix(b"$EOF:")?;
    let mark = rest.get(..EOF_MARK_LEN)?;
    let mut m = [0u8; EOF_MARK_LEN];
    m.copy_from_slice(mark);
    Some(m)
}

/// What a chunk fed to the scanner completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EofScan {
    /// The marker has not been seen yet.
    More,
    /// The marker was found: `rest` are the bytes after it in this chunk.
    Done { rest: Vec<u8> },
}

/// Streams a payload through, finding the end marker.
#[derive(Debug, Clone)]
pub struct EofScanner {
    mark: [u8; EOF_MARK_LEN],
    held: Vec<u8>,
    payload_len: u64,
    done: bool,
}

impl EofScanner {
    pub fn new(mark: [u8; EOF_MARK_LEN]) -> EofScanner {
        EofScanner {
            mark,
            held: Vec::with_capacity(EOF_MARK_LEN * 2),
            payload_len: 0,
            done: false,
        }
    }

    /// Payload bytes handed out so far.
    pub fn payload_len(&self) -> u64 {
        self.payload_len
    }

    /// True once the marker was found.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds one chunk read from the master: appends to `out` the payload
    /// bytes now known not to be the marker. After `Done`, further chunks are
    /// returned whole in `rest` (the scanner is finished).
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> EofScan {
        if self.done {
            return EofScan::Done {
                rest: chunk.to_vec(),
            };
        }
        // The marker may start in the held tail: search the tail joined with
        // the chunk's first bytes, then the chunk itself.
        let head_len = chunk.len().min(EOF_MARK_LEN - 1);
        let mut joined = std::mem::take(&mut self.held);
        let held_len = joined.len();
        joined.extend_from_slice(&chunk[..head_len]);
        if let Some(p) = find(&joined, &self.mark) {
            // Found with its start in the held tail (p < held_len) or
            // entirely inside the chunk's first bytes; either way the
            // payload is joined[..p].
            out.extend_from_slice(&joined[..p]);
            self.payload_len += p as u64;
            self.done = true;
            let after = p + EOF_MARK_LEN - held_len; // index in chunk past the mark
            return EofScan::Done {
                rest: chunk[after..].to_vec(),
            };
        }
        if let Some(p) = find(chunk, &self.mark) {
            out.extend_from_slice(&joined[..held_len]);
            out.extend_from_slice(&chunk[..p]);
            self.payload_len += (held_len + p) as u64;
            self.done = true;
            return EofScan::Done {
                rest: chunk[p + EOF_MARK_LEN..].to_vec(),
            };
        }
        // Not found: everything but the last 39 bytes seen is payload.
        joined.truncate(held_len);
        joined.extend_from_slice(chunk);
        let keep = joined.len().min(EOF_MARK_LEN - 1);
        let release = joined.len() - keep;
        out.extend_from_slice(&joined[..release]);
        self.payload_len += release as u64;
        self.held = joined.split_off(release);
        EofScan::More
    }
}

fn find(hay: &[u8], needle: &[u8; EOF_MARK_LEN]) -> Option<usize> {
    hay.windows(EOF_MARK_LEN).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARK: &[u8; 40] = b"3225b69d1cc9e63cc7f1228b7944a8086734a7ee";

    fn payload() -> Vec<u8> {
        // Includes near-misses of the marker: its first 39 bytes twice.
        let mut p = b"REDIS0010\xfa\x09redis-ver".to_vec();
        p.extend_from_slice(&MARK[..39]);
        p.extend_from_slice(b"\x00\xff");
        p.extend_from_slice(&MARK[..39]);
        p.extend((0..300u32).map(|i| (i * 7) as u8));
        p
    }

    fn run(chunks: &[&[u8]]) -> (Vec<u8>, Option<Vec<u8>>) {
        let mut s = EofScanner::new(*MARK);
        let mut out = Vec::new();
        let mut rest = None;
        for c in chunks {
            if let EofScan::Done { rest: r } = s.feed(c, &mut out) {
                // After the marker, later chunks come back whole as `rest`.
                rest.get_or_insert_with(Vec::new).extend(r);
            }
        }
        assert_eq!(s.payload_len(), out.len() as u64);
        (out, rest)
    }

    #[test]
    fn header_parses() {
        let mut line = b"$EOF:".to_vec();
        line.extend_from_slice(MARK);
        assert_eq!(parse_eof_header(&line), Some(*MARK));
        assert_eq!(parse_eof_header(b"$EOF:short"), None);
        assert_eq!(parse_eof_header(b"$172"), None);
    }

    #[test]
    fn byte_by_byte() {
        let mut wire = payload();
        wire.extend_from_slice(MARK);
        wire.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        let mut s = EofScanner::new(*MARK);
        let mut out = Vec::new();
        let mut rest = Vec::new();
        let mut done_at = None;
        for (i, b) in wire.iter().enumerate() {
            match s.feed(std::slice::from_ref(b), &mut out) {
                EofScan::More => assert!(done_at.is_none()),
                EofScan::Done { rest: r } => {
                    done_at.get_or_insert(i);
                    rest.extend(r);
                }
            }
        }
        assert_eq!(out, payload());
        assert_eq!(done_at, Some(payload().len() + 39));
        assert_eq!(rest, b"*1\r\n$4\r\nPING\r\n");
    }

    #[test]
    fn every_split_point() {
        let mut wire = payload();
        wire.extend_from_slice(MARK);
        wire.extend_from_slice(b"tail");
        for cut1 in 0..wire.len() {
            for cut2 in [cut1, (cut1 + 17).min(wire.len()), wire.len()] {
                let (out, rest) = run(&[&wire[..cut1], &wire[cut1..cut2], &wire[cut2..]]);
                assert_eq!(out, payload(), "cuts {cut1} {cut2}");
                let rest = rest.expect("marker found");
                assert_eq!(rest, b"tail", "cuts {cut1} {cut2}");
            }
        }
    }

    #[test]
    fn empty_payload_and_missing_marker() {
        let (out, rest) = run(&[MARK]);
        assert!(out.is_empty());
        assert_eq!(rest, Some(vec![]));
        let (out, rest) = run(&[b"abc", &MARK[..39]]);
        assert_eq!(out, b"abc");
        assert_eq!(rest, None);
    }
}
