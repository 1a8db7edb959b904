//! Decoding of stream values (`STREAM_LISTPACKS`, `_2`, `_3`).
//!
//! Layout: a count of nodes, each a 16-byte big-endian master ID (the node's
//! key) and a listpack; the length, the last ID; from `_2` on the first ID, the
//! largest deleted ID and the count of entries ever added; then the consumer
//! groups: name, last delivered ID, (`_2`+) entries read, the group's PEL (raw
//! 16-byte IDs, 8-byte delivery time, delivery count), and the consumers (name,
//! seen time, (`_3`) active time, their PEL as raw IDs found in the group's).
//!
//! A node's listpack: the master entry (live count, deleted count, number of
//! master fields, the fields, 0), then each entry: flags, ms and seq deltas
//! from the master ID, either the values of the master fields (flag
//! SAMEFIELDS) or a field count and the pairs, and the entry's element count.
//!
//! The stream is rebuilt through [`StreamData::append`] with the file's node
//! boundaries (deleted entries appended, then deleted, so that nodes keep
//! their tombstones as Redis's listpacks do). Always checked, because Shoal's
//! stream relies on it: IDs strictly increase across the whole stream, the
//! last ID is not below the last entry, every consumer's PEL entry is in the
//! group's PEL and owned once, and every group PEL entry has a consumer. Under
//! `deep_sanitize` also: the master counts, each entry's element count and the
//! stream's length match the entries.

use std::collections::BTreeSet;
use std::io::BufRead;

use shoal_ds::num::parse_i64;
use shoal_keyspace::stream::{Consumer, Group, Pending, StreamId, ENTRIES_READ_UNKNOWN};
use shoal_keyspace::{Stream, Value};

use super::{ReadOptions, Source};
use crate::listpack::{Item, Reader};
use crate::{consts, Error};

fn raw_id<R: BufRead>(src: &mut Source<R>) -> Result<StreamId, Error> {
    let mut w = [0u8; 16];
    src.exact(&mut w)?;
    Ok(id_from_be(&w))
}

fn id_from_be(w: &[u8; 16]) -> StreamId {
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&w[..8]);
    seq.copy_from_slice(&w[8..]);
    StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
}

fn len_id<R: BufRead>(src: &mut Source<R>) -> Result<StreamId, Error> {
    let ms = src.len()?;
    let seq = src.len()?;
    Ok(StreamId::new(ms, seq))
}

fn millis<R: BufRead>(src: &mut Source<R>) -> Result<i64, Error> {
    let mut w = [0u8; 8];
    src.exact(&mut w)?;
    Ok(i64::from_le_bytes(w))
}

/// Walks one node's listpack.
struct NodeReader<'a> {
    lp: Reader<'a>,
    at: u64,
}

impl<'a> NodeReader<'a> {
    fn err(&self, what: impl std::fmt::Display) -> Error {
        Error::corrupt(
            format!(
                "stream listpack, element at offset {}: {what}",
                self.lp.offset()
            ),
            self.at,
        )
    }

    fn item(&mut self) -> Result<Item<'a>, Error> {
        match self.lp.next_item() {
            Ok(Some(it)) => Ok(it),
            Ok(None) => Err(self.err("ends inside an entry")),
            Err(e) => Err(self.err(e)),
        }
    }

    /// An integer element (Redis also reads integers stored as text).
    fn int(&mut self) -> Result<i64, Error> {
        match self.item()? {
            Item::Int(v) => Ok(v),
            Item::Bytes(b) => parse_i64(b).ok_or_else(|| self.err("integer expected")),
        }
    }

    /// A non-negative count.
    fn count(&mut self) -> Result<usize, Error> {
        let v = self.int()?;
        usize::try_from(v).map_err(|_| self.err(format!("count {v} is negative")))
    }
}

/// Appends an element's text to `buf`, returning its span.
fn put(buf: &mut Vec<u8>, it: Item<'_>) -> (usize, usize) {
    let start = buf.len();
    match it {
        Item::Bytes(b) => buf.extend_from_slice(b),
        Item::Int(v) => buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
    }
    (start, buf.len())
}

/// Reads one node into `s`, returning the IDs of its deleted entries; `prev`
/// is the last ID read so far (entries must be above it).
fn read_node(
    s: &mut Stream,
    master: StreamId,
    blob: &[u8],
    at: u64,
    prev: &mut Option<StreamId>,
    deep: bool,
) -> Result<Vec<StreamId>, Error> {
    let lp = Reader::new(blob).map_err(|e| Error::corrupt(format!("stream listpack: {e}"), at))?;
    let mut r = NodeReader { lp, at };
    let live = r.count()?;
    let deleted = r.count()?;
    let nfields = r.count()?;
    let mut master_fields = Vec::new();
    let mut mspans = Vec::with_capacity(nfields.min(blob.len()));
    for _ in 0..nfields {
        let it = r.item()?;
        mspans.push(put(&mut master_fields, it));
    }
    if r.int()? != 0 {
        return Err(r.err("master entry does not end with 0"));
    }
    let mut dead = Vec::new();
    let (mut seen_live, mut seen_dead) = (0usize, 0usize);
    let mut buf = Vec::new();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    loop {
        let flags = match r.lp.next_item() {
            Ok(None) => break,
            Ok(Some(Item::Int(v))) => v,
            Ok(Some(Item::Bytes(b))) => parse_i64(b).ok_or_else(|| r.err("integer expected"))?,
            Err(e) => return Err(r.err(e)),
        };
        let ms = master.ms.wrapping_add(r.int()? as u64);
        let seq = master.seq.wrapping_add(r.int()? as u64);
        let id = StreamId::new(ms, seq);
        if prev.is_some_and(|p| id <= p) {
            return Err(r.err(format!(
                "entry {}-{} is not above the one before",
                id.ms, id.seq
            )));
        }
        *prev = Some(id);
        buf.clear();
        spans.clear();
        let n;
        if flags & consts::STREAM_ITEM_FLAG_SAMEFIELDS != 0 {
            n = nfields;
            for &(a, b) in &mspans {
                let it = r.item()?;
                spans.push((a, b));
                let (x, y) = put(&mut buf, it);
                // Master field spans index `master_fields`, value spans `buf`:
                // told apart below by position (even: field, odd: value).
                spans.push((x, y));
            }
        } else {
            n = r.count()?;
            for _ in 0..n.saturating_mul(2) {
                let it = r.item()?;
                spans.push(put(&mut buf, it));
            }
        }
        let lp_count = r.int()?;
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let expected = if flags & consts::STREAM_ITEM_FLAG_SAMEFIELDS != 0 {
            n.saturating_add(3)
        } else {
            n.saturating_mul(2).saturating_add(4)
        };
        if deep && lp_count != expected {
            return Err(r.err(format!(
                "entry element count {lp_count}, expected {expected}"
            )));
        }
        let same = flags & consts::STREAM_ITEM_FLAG_SAMEFIELDS != 0;
        let pairs: Vec<&[u8]> = spans
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| {
                if same && i % 2 == 0 {
                    &master_fields[a..b]
                } else {
                    &buf[a..b]
                }
            })
            .collect();
        // The node's first entry opens a node; the others join it (limits off).
        let (max_bytes, max_entries) = if seen_live + seen_dead == 0 {
            (0, 1)
        } else {
            (0, 0)
        };
        s.append(id, &pairs, max_bytes, max_entries);
        if flags & consts::STREAM_ITEM_FLAG_DELETED != 0 {
            dead.push(id);
            seen_dead += 1;
        } else {
            seen_live += 1;
        }
    }
    if seen_live + seen_dead == 0 {
        return Err(Error::corrupt("Empty listpack inside stream", at));
    }
    if deep && (seen_live != live || seen_dead != deleted) {
        return Err(Error::corrupt(
            format!(
                "stream node counts {live} live and {deleted} deleted entries, holds {seen_live} and {seen_dead}"
            ),
            at,
        ));
    }
    Ok(dead)
}

/// Reads a stream value of `type_byte` (one of the three stream types).
pub(super) fn read<R: BufRead>(
    src: &mut Source<R>,
    type_byte: u8,
    opts: &ReadOptions,
) -> Result<Value, Error> {
    let v2 = type_byte >= consts::TYPE_STREAM_LISTPACKS_2;
    let v3 = type_byte >= consts::TYPE_STREAM_LISTPACKS_3;
    let deep = opts.deep_sanitize;
    let mut s = Stream::new();
    let nodes = src.len()?;
    let mut prev: Option<StreamId> = None;
    let mut prev_key: Option<StreamId> = None;
    let mut dead = Vec::new();
    for _ in 0..nodes {
        let at = src.offset;
        let key = src.string()?;
        let key: &[u8; 16] = key
            .as_slice()
            .try_into()
            .map_err(|_| Error::corrupt("stream node key is not 16 bytes", at))?;
        let master = id_from_be(key);
        if prev_key.is_some_and(|p| master <= p) {
            return Err(Error::corrupt("stream node keys out of order", at));
        }
        prev_key = Some(master);
        let at = src.offset;
        let blob = src.string()?;
        dead.extend(read_node(&mut s, master, &blob, at, &mut prev, deep)?);
    }
    s.delete(&dead);
    let at = src.offset;
    let length = src.len()?;
    let last_id = len_id(src)?;
    if prev.is_some_and(|p| p > last_id) {
        return Err(Error::corrupt("stream last ID below its last entry", at));
    }
    if deep && length != s.len() as u64 {
        return Err(Error::corrupt(
            format!("stream length {length}, holds {} entries", s.len()),
            at,
        ));
    }
    s.last_id = last_id;
    if v2 {
        s.first_id = len_id(src)?;
        s.max_deleted_id = len_id(src)?;
        let at = src.offset;
        s.entries_added = src.len()?;
        // Shoal computes lags as i64 differences from this counter.
        if s.entries_added < s.len() as u64 || s.entries_added > i64::MAX as u64 {
            return Err(Error::corrupt("stream entries added out of range", at));
        }
    } else {
        // Older files: what Redis assumes when it loads them.
        s.max_deleted_id = StreamId::ZERO;
        s.entries_added = s.len() as u64;
    }
    let ngroups = src.len()?;
    for _ in 0..ngroups {
        let at = src.offset;
        let name = src.string()?;
        let last = len_id(src)?;
        let entries_read = if v2 {
            // Any count, or -1 (unknown) written as a 64-bit length.
            let n = src.len()? as i64;
            if n < ENTRIES_READ_UNKNOWN {
                return Err(Error::corrupt(
                    "consumer group entries read out of range",
                    at,
                ));
            }
            n
        } else {
            s.estimate_distance(last)
                .map_or(ENTRIES_READ_UNKNOWN, |d| d as i64)
        };
        let mut g = Group::new(last, entries_read);
        let npel = src.len()?;
        for _ in 0..npel {
            let at = src.offset;
            let id = raw_id(src)?;
            let delivery_time = millis(src)?;
            let delivery_count = src.len()?;
            let p = Pending {
                consumer: Box::default(),
                delivery_time,
                delivery_count,
            };
            if g.pel.insert(id, p).is_some() {
                return Err(Error::corrupt(
                    "Duplicated global PEL entry loading stream consumer group",
                    at,
                ));
            }
        }
        let mut owned = BTreeSet::new();
        let nconsumers = src.len()?;
        for _ in 0..nconsumers {
            let at = src.offset;
            let cname: Box<[u8]> = src.string()?.into();
            if g.consumers.contains_key(&cname) {
                return Err(Error::corrupt("Duplicated consumer name", at));
            }
            let seen_time = millis(src)?;
            if v3 {
                // Redis 7.2's "active time": Shoal keeps only the seen time.
                millis(src)?;
            }
            let mut c = Consumer {
                seen_time,
                pel: BTreeSet::new(),
            };
            let npel = src.len()?;
            for _ in 0..npel {
                let at = src.offset;
                let id = raw_id(src)?;
                let Some(p) = g.pel.get_mut(&id) else {
                    return Err(Error::corrupt(
                        "Consumer entry not found in group global PEL",
                        at,
                    ));
                };
                if !owned.insert(id) || !c.pel.insert(id) {
                    return Err(Error::corrupt("Duplicated consumer PEL entry", at));
                }
                p.consumer = cname.clone();
            }
            g.consumers.insert(cname, c);
        }
        if owned.len() != g.pel.len() {
            return Err(Error::corrupt("Stream CG PEL entry without consumer", at));
        }
        if s.groups.insert(name.into(), g).is_some() {
            return Err(Error::corrupt("Duplicated consumer group name", at));
        }
    }
    Ok(Value::Stream(s))
}
