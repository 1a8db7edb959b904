//! A stream as `STREAM_LISTPACKS_2` (RDB 10, Redis 7.0).
//!
//! Layout: the node count; per node its master ID (16 bytes, big-endian) and its
//! listpack, both as strings; the length; the last ID (ms, seq); the first ID;
//! the max deleted ID; entries added; the group count; per group its name, last
//! ID, entries read (-1 written as the 64-bit length 2^64-1, as Redis does), the
//! PEL (count, then per entry the raw 16-byte ID, the 8-byte LE delivery time and
//! the delivery count) and the consumers (count, then per consumer its name, the
//! 8-byte LE seen time and its PEL as raw IDs).
//!
//! A node listpack starts with the master entry (live count, deleted count, the
//! master field count, the master fields, 0), then per entry: flags, ms and seq
//! deltas from the master ID, the values only when the fields are the master's
//! (flag SAMEFIELDS) or else the field count and the pairs, then the entry's
//! element count (lp-count). Deleted entries are not kept by Shoal, so every
//! node is written with a deleted count of 0 and holds live entries only; nodes
//! are rebuilt with Redis's default limits (100 entries, 4096 bytes), which is
//! what Redis would build for these entries appended in order.

use shoal_keyspace::stream::{StreamData, StreamId};

use super::{write_len, write_string};
use crate::{consts, listpack};

/// `stream-node-max-entries` and `stream-node-max-bytes` defaults.
const NODE_MAX_ENTRIES: usize = 100;
const NODE_MAX_BYTES: usize = 4096;

type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

pub(super) fn write_stream(out: &mut Vec<u8>, s: &StreamData, z: bool) {
    // Group the entries into nodes.
    let mut nodes: Vec<Vec<(StreamId, Pairs<'_>)>> = Vec::new();
    let mut bytes = 0usize;
    for (id, e) in s.range(StreamId::ZERO, StreamId::MAX, false) {
        let pairs: Pairs<'_> = e.pairs().collect();
        let payload: usize = pairs.iter().map(|(f, v)| f.len() + v.len()).sum();
        let start_new = match nodes.last() {
            None => true,
            Some(n) => n.len() >= NODE_MAX_ENTRIES || bytes + payload >= NODE_MAX_BYTES,
        };
        if start_new {
            nodes.push(Vec::new());
            bytes = 16;
        }
        // An estimate of the entry's listpack bytes (the elements and their
        // headers); only where nodes split depends on it.
        bytes += payload + 4 * pairs.len() + 8;
        if let Some(n) = nodes.last_mut() {
            n.push((id, pairs));
        }
    }

    write_len(out, nodes.len() as u64);
    for n in &nodes {
        let Some((master, first)) = n.first() else {
            continue;
        };
        write_string(out, &master.to_be_bytes(), z);
        write_string(out, &node_listpack(*master, first, n), z);
    }
    write_len(out, s.len() as u64);
    write_id(out, s.last_id);
    write_id(out, s.first_id);
    write_id(out, s.max_deleted_id);
    write_len(out, s.entries_added);

    write_len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        write_string(out, name, z);
        write_id(out, g.last_id);
        // A negative count (unknown) is written as its 64-bit two's complement.
        write_len(out, g.entries_read as u64);
        write_len(out, g.pel.len() as u64);
        for (id, p) in &g.pel {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&p.delivery_time.to_le_bytes());
            write_len(out, p.delivery_count);
        }
        write_len(out, g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            write_string(out, cname, z);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            write_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}

fn write_id(out: &mut Vec<u8>, id: StreamId) {
    write_len(out, id.ms);
    write_len(out, id.seq);
}

/// The listpack of one node whose master entry is `first`.
fn node_listpack(
    master: StreamId,
    first: &Pairs<'_>,
    entries: &[(StreamId, Pairs<'_>)],
) -> Vec<u8> {
    let mut w = listpack::Writer::new();
    w.push_int(entries.len() as i64);
    w.push_int(0);
    w.push_int(first.len() as i64);
    for (f, _) in first {
        w.push_bytes(f);
    }
    w.push_int(0);
    for (id, pairs) in entries {
        let same = pairs.len() == first.len() && pairs.iter().zip(first).all(|(a, b)| a.0 == b.0);
        let flags = if same {
            consts::STREAM_ITEM_FLAG_SAMEFIELDS
        } else {
            0
        };
        w.push_int(flags);
        w.push_int(id.ms.wrapping_sub(master.ms) as i64);
        w.push_int(id.seq.wrapping_sub(master.seq) as i64);
        if same {
            for (_, v) in pairs {
                w.push_bytes(v);
            }
            w.push_int(pairs.len() as i64 + 3);
        } else {
            w.push_int(pairs.len() as i64);
            for (f, v) in pairs {
                w.push_bytes(f);
                w.push_bytes(v);
            }
            w.push_int(2 * pairs.len() as i64 + 4);
        }
    }
    w.finish()
}
