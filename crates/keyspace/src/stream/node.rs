//! A stream node: a run of consecutive entries, the unit Redis stores as one
//! listpack under one key of its radix tree.
//!
//! Shoal keeps each live entry's fields and values in one compact byte buffer;
//! entries whose field names equal the node's "master" fields (those of the
//! node's first entry) store only their values. Deleted entries are dropped at
//! once, but the node keeps the counts and the byte size Redis's listpack would
//! have (Redis only flags deleted entries), because when a node is full — and so
//! how many nodes XINFO STREAM reports — depends on them.
//!
//! Invariants: `entries` is sorted by ID, every ID is >= `master`; `live` equals
//! `entries.len()`; a node with no live entry is removed by its owner.

use super::id::StreamId;

/// Bytes of a listpack's header (total bytes, element count) and end marker.
const LP_OVERHEAD: usize = 7;

/// Size of the back-length field of a listpack element whose encoding is `n` bytes.
fn backlen_size(n: usize) -> usize {
    match n {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Size of an integer element in a listpack.
pub(crate) fn lp_int_size(v: i64) -> usize {
    let enc = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        -2147483648..=2147483647 => 5,
        _ => 9,
    };
    enc + 1
}

/// Size of a string element in a listpack (stored as an integer when it is a
/// canonical one, as listpacks do).
pub(crate) fn lp_str_size(s: &[u8]) -> usize {
    if s.len() <= 20 {
        if let Some(v) = shoal_ds::num::parse_i64(s) {
            return lp_int_size(v);
        }
    }
    let enc = match s.len() {
        0..=63 => 1 + s.len(),
        64..=4095 => 2 + s.len(),
        _ => 5 + s.len(),
    };
    enc + backlen_size(enc)
}

fn put_varint(buf: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Reads a varint at `*pos`. Invariant: `buf` was written by [`put_varint`].
fn get_varint(buf: &[u8], pos: &mut usize) -> usize {
    let mut v = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[*pos];
        *pos += 1;
        v |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

fn take<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let n = get_varint(buf, pos);
    let s = &buf[*pos..*pos + n];
    *pos += n;
    s
}

/// One live entry of a node.
#[derive(Clone, Debug)]
pub(crate) struct NodeEntry {
    pub id: StreamId,
    /// Whether the field names are the node's master fields (only values stored).
    same_fields: bool,
    /// varint count of pairs, then varint-length-prefixed strings: values only
    /// when `same_fields`, else field, value, field, value...
    data: Box<[u8]>,
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub master: StreamId,
    master_fields: Box<[u8]>,
    pub entries: Vec<NodeEntry>,
    /// Entries deleted from this node (still counted by Redis's listpack).
    pub deleted: u64,
    /// The ID of the last entry ever appended, deleted or not.
    pub last_appended: StreamId,
    /// Listpack bytes of the master fields and of every entry ever appended
    /// (without the master's count and deleted counters).
    body_bytes: usize,
}

/// The fields and values of an entry.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    master_fields: Option<&'a [u8]>,
    data: &'a [u8],
}

impl<'a> EntryRef<'a> {
    /// Number of field/value pairs.
    pub fn len(&self) -> usize {
        let mut pos = 0;
        get_varint(self.data, &mut pos)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pairs in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let data = self.data;
        let mut pos = 0;
        let n = get_varint(data, &mut pos);
        let mut fpos = 0;
        let master = self.master_fields;
        if let Some(m) = master {
            get_varint(m, &mut fpos);
        }
        (0..n).map(move |_| match master {
            Some(m) => {
                let f = take(m, &mut fpos);
                (f, take(data, &mut pos))
            }
            None => {
                let f = take(data, &mut pos);
                (f, take(data, &mut pos))
            }
        })
    }
}

/// Encodes `items` (varint count of `items.len() / div`, then each item).
fn encode<'a>(items: impl Iterator<Item = &'a [u8]>, count: usize) -> Box<[u8]> {
    let mut buf = Vec::new();
    put_varint(&mut buf, count);
    for it in items {
        put_varint(&mut buf, it.len());
        buf.extend_from_slice(it);
    }
    buf.into_boxed_slice()
}

/// Listpack size of an entry with these pairs: flags, ms-delta, seq-delta,
/// [num-fields, fields], values, lp-count.
fn entry_lp_size(master: StreamId, id: StreamId, pairs: &[&[u8]], same: bool) -> usize {
    let n = pairs.len() / 2;
    let mut size = lp_int_size(0)
        + lp_int_size(id.ms.wrapping_sub(master.ms) as i64)
        + lp_int_size(id.seq.wrapping_sub(master.seq) as i64);
    let lp_count = if same { n + 3 } else { 2 * n + 4 };
    size += lp_int_size(lp_count as i64);
    if !same {
        size += lp_int_size(n as i64);
    }
    for (i, s) in pairs.iter().enumerate() {
        if !same || i % 2 == 1 {
            size += lp_str_size(s);
        }
    }
    size
}

impl Node {
    /// A node whose first entry is `id` with `pairs` (field, value, ...).
    pub fn new(id: StreamId, pairs: &[&[u8]]) -> Node {
        let fields: Vec<&[u8]> = pairs.iter().step_by(2).copied().collect();
        // Master entry: num-fields, the fields, the zero terminator (the count and
        // deleted counters are added by `lp_bytes`).
        let mut body = lp_int_size(fields.len() as i64) + lp_int_size(0);
        body += fields.iter().map(|f| lp_str_size(f)).sum::<usize>();
        let mut node = Node {
            master: id,
            master_fields: encode(fields.iter().copied(), fields.len()),
            entries: Vec::new(),
            deleted: 0,
            last_appended: id,
            body_bytes: body,
        };
        node.push(id, pairs);
        node
    }

    /// Appends an entry with an ID above every ID of the node.
    pub fn push(&mut self, id: StreamId, pairs: &[&[u8]]) {
        let n = pairs.len() / 2;
        let same = {
            let mut pos = 0;
            let m = &self.master_fields;
            get_varint(m, &mut pos) == n && pairs.iter().step_by(2).all(|f| take(m, &mut pos) == *f)
        };
        self.body_bytes += entry_lp_size(self.master, id, pairs, same);
        let data = if same {
            encode(pairs.iter().skip(1).step_by(2).copied(), n)
        } else {
            encode(pairs.iter().copied(), n)
        };
        self.entries.push(NodeEntry {
            id,
            same_fields: same,
            data,
        });
        self.last_appended = id;
    }

    /// The listpack's total size in bytes, as Redis would have it.
    pub fn lp_bytes(&self) -> usize {
        LP_OVERHEAD
            + self.body_bytes
            + lp_int_size(self.entries.len() as i64)
            + lp_int_size(self.deleted as i64)
    }

    pub fn live(&self) -> u64 {
        self.entries.len() as u64
    }

    pub fn entry(&self, i: usize) -> (StreamId, EntryRef<'_>) {
        let e = &self.entries[i];
        (
            e.id,
            EntryRef {
                master_fields: e.same_fields.then_some(&*self.master_fields),
                data: &e.data,
            },
        )
    }

    /// Position of `id` among the live entries.
    pub fn find(&self, id: StreamId) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.id.cmp(&id))
    }

    /// Removes the entry at `i`, counting it as deleted.
    pub fn remove_at(&mut self, i: usize) {
        self.entries.remove(i);
        self.deleted += 1;
    }

    /// Removes the first `n` live entries, counting them as deleted.
    pub fn remove_first(&mut self, n: usize) {
        self.entries.drain(..n);
        self.deleted += n as u64;
    }

    pub fn heap_bytes(&self) -> usize {
        self.master_fields.len()
            + self.entries.capacity() * std::mem::size_of::<NodeEntry>()
            + self.entries.iter().map(|e| e.data.len()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let mut n = Node::new(StreamId::new(1, 0), &[b"a", b"1", b"b", b"2"]);
        n.push(StreamId::new(1, 1), &[b"a", b"x", b"b", b""]);
        n.push(StreamId::new(2, 0), &[b"c", b"y"]);
        let got: Vec<Vec<(Vec<u8>, Vec<u8>)>> = (0..3)
            .map(|i| {
                n.entry(i)
                    .1
                    .pairs()
                    .map(|(f, v)| (f.to_vec(), v.to_vec()))
                    .collect()
            })
            .collect();
        assert_eq!(
            got[0],
            vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"2".to_vec())
            ]
        );
        assert_eq!(got[1][1], (b"b".to_vec(), b"".to_vec()));
        assert_eq!(got[2], vec![(b"c".to_vec(), b"y".to_vec())]);
        assert!(n.entries[1].same_fields && !n.entries[2].same_fields);
    }
}
