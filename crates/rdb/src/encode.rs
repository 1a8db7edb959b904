//! Values to RDB bytes (version 10, as Redis 7.0 writes them), and whole files.
//!
//! Compact values are written in Redis 7.0's compact RDB types (hash and sorted
//! set listpacks, quicklist 2 with listpack nodes, intsets), so that Redis loads
//! them as fast as its own files and DUMP payloads are byte-identical to Redis's.
//!
//! By value and encoding:
//! - string: `STRING` (integer encodings for 32-bit integers, LZF when longer
//!   than 20 bytes and it saves 4 bytes, raw otherwise);
//! - list: `LIST_QUICKLIST_2` (see [`write_list`] for the node boundaries);
//! - set: `SET_INTSET` (the intset blob: width, count, sorted members LE) or
//!   `SET` (count, members in table order);
//! - hash: `HASH_LISTPACK` (field, value, ... in insertion order) or `HASH`;
//! - sorted set: `ZSET_LISTPACK` (member, score text, ... ascending) or
//!   `ZSET_2` (count, then member and 8-byte LE double, highest score first);
//! - stream: `STREAM_LISTPACKS_2` (see [`stream`]).
//!
//! Every blob and string goes through [`write_string`], so listpacks longer than
//! 20 bytes are LZF-compressed exactly when Redis compresses them.

use std::io::{self, Write};

use shoal_ds::crc64::crc64;
use shoal_keyspace::{Elem, Str, Value};

use crate::{consts, listpack};

mod stream;

/// What `rdbcompression` and `rdbchecksum` say.
#[derive(Clone, Copy, Debug)]
pub struct WriteOptions {
    pub compression: bool,
    pub checksum: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compression: true,
            checksum: true,
        }
    }
}

/// The access information Redis stores before a key under an LRU or LFU
/// `maxmemory-policy` (none otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `IDLE` opcode: seconds since the last access.
    IdleSecs(u64),
    /// `FREQ` opcode: the LFU counter.
    Freq(u8),
}

/// Appends a length in RDB's length encoding (6, 14, 32 or 64 bits).
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u64::from(u32::MAX) {
        out.push(consts::LEN_32BIT);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(consts::LEN_64BIT);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// The special encoding of an integer that fits 8, 16 or 32 bits.
fn write_small_int(out: &mut Vec<u8>, v: i64) -> bool {
    let enc = |e: u8| 0xc0 | e;
    if let Ok(b) = i8::try_from(v) {
        out.push(enc(consts::ENC_INT8));
        out.extend_from_slice(&b.to_le_bytes());
    } else if let Ok(b) = i16::try_from(v) {
        out.push(enc(consts::ENC_INT16));
        out.extend_from_slice(&b.to_le_bytes());
    } else if let Ok(b) = i32::try_from(v) {
        out.push(enc(consts::ENC_INT32));
        out.extend_from_slice(&b.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Appends a string as Redis's `rdbSaveRawString` does: int-encoded when it is
/// the canonical text of a 32-bit integer, LZF-compressed when `compress` and
/// longer than 20 bytes and compression saves at least 4 bytes, plain otherwise.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = shoal_ds::num::parse_i64(s) {
            if write_small_int(out, v) {
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        if let Some(c) = crate::lzf::compress(s) {
            out.push(0xc0 | consts::ENC_LZF);
            write_len(out, c.len() as u64);
            write_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends an integer-encoded string object (Redis's "int" encoding): the small
/// integer encodings, or its decimal text.
pub fn write_int_string(out: &mut Vec<u8>, v: i64) {
    if !write_small_int(out, v) {
        let mut b = itoa::Buffer::new();
        let text = b.format(v);
        write_len(out, text.len() as u64);
        out.extend_from_slice(text.as_bytes());
    }
}

/// Appends a value's type byte and body, in the RDB type Redis 7.0 uses for the
/// value's encoding (see the module documentation for the list).
pub fn write_value(out: &mut Vec<u8>, v: &Value, opts: &WriteOptions) {
    let z = opts.compression;
    match v {
        Value::Str(Str::Int(i)) => {
            out.push(consts::TYPE_STRING);
            write_int_string(out, *i);
        }
        Value::Str(s) => {
            out.push(consts::TYPE_STRING);
            s.with_bytes(|b| write_string(out, b, z));
        }
        Value::List(l) => {
            out.push(consts::TYPE_LIST_QUICKLIST_2);
            write_list(out, l, z);
        }
        Value::Set(s) => match s.intset_width() {
            Some(width) => {
                out.push(consts::TYPE_SET_INTSET);
                let mut blob = Vec::with_capacity(8 + s.len() * usize::from(width));
                blob.extend_from_slice(&u32::from(width).to_le_bytes());
                blob.extend_from_slice(&(s.len() as u32).to_le_bytes());
                for m in s.iter() {
                    if let Elem::Int(i) = m {
                        blob.extend_from_slice(&i.to_le_bytes()[..usize::from(width)]);
                    }
                }
                write_string(out, &blob, z);
            }
            None => {
                out.push(consts::TYPE_SET);
                write_len(out, s.len() as u64);
                for m in s.iter() {
                    m.with_bytes(|b| write_string(out, b, z));
                }
            }
        },
        Value::Hash(h) if h.is_compact() => {
            out.push(consts::TYPE_HASH_LISTPACK);
            let mut w = listpack::Writer::new();
            for (f, v) in h.iter() {
                w.push_bytes(f);
                w.push_bytes(v);
            }
            write_string(out, &w.finish(), z);
        }
        Value::Hash(h) => {
            out.push(consts::TYPE_HASH);
            write_len(out, h.len() as u64);
            for (f, v) in h.iter() {
                write_string(out, f, z);
                write_string(out, v, z);
            }
        }
        Value::ZSet(s) if s.encoding() == "listpack" => {
            out.push(consts::TYPE_ZSET_LISTPACK);
            let mut w = listpack::Writer::new();
            let mut text = Vec::with_capacity(24);
            s.for_each(&mut |m, score| {
                w.push_bytes(m);
                text.clear();
                score_text(score, &mut text);
                w.push_bytes(&text);
            });
            write_string(out, &w.finish(), z);
        }
        Value::ZSet(s) => {
            // Redis walks its skiplist from the tail: highest score first.
            out.push(consts::TYPE_ZSET_2);
            write_len(out, s.len() as u64);
            s.range(0, usize::MAX, true, &mut |m, score| {
                write_string(out, m, z);
                out.extend_from_slice(&score.to_le_bytes());
            });
        }
        Value::Stream(s) => {
            out.push(consts::TYPE_STREAM_LISTPACKS_2);
            stream::write_stream(out, s, z);
        }
    }
}

/// A sorted-set score as Redis 7.0 writes it into a listpack (`d2string`): "0"
/// for both zeros, integral values within +-(2^63-1)/2 in full decimal
/// (1.2345678901234568e17 is "123456789012345680"), otherwise `%.17g` ("inf",
/// "1.5", "0.10000000000000001", "1e+20"). The listpack then stores texts that
/// are canonical integers as integers.
fn score_text(score: f64, out: &mut Vec<u8>) {
    const HALF: f64 = (i64::MAX / 2) as f64;
    if score == 0.0 {
        out.push(b'0');
    } else if score.fract() == 0.0 && (-HALF..=HALF).contains(&score) {
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(score as i64).as_bytes());
    } else {
        shoal_ds::num::write_double_17g(score, out);
    }
}

/// Redis's `SIZE_ESTIMATE_OVERHEAD`: what a quicklist adds to an element's
/// length when it decides whether the element still fits a node.
const QUICKLIST_OVERHEAD: usize = 8;
/// Redis's `SIZE_SAFETY_LIMIT`: the byte cap of a node under a positive fill.
const QUICKLIST_SAFETY_LIMIT: usize = 8192;
/// Redis's default `packed_threshold`: elements this large get a plain node.
const QUICKLIST_PLAIN_THRESHOLD: usize = 1 << 30;

/// A list as `LIST_QUICKLIST_2`: the node count, then per node its container
/// (plain: one element as a string; packed: a listpack as a string).
///
/// Shoal's nodes are not Redis's listpacks, so the nodes are rebuilt here the way
/// Redis fills them when the elements are pushed at the tail one by one (RPUSH):
/// an element joins the last node while the node's listpack size plus the
/// element's length plus 8 stays within the fill's byte limit (`4096 << (k-1)`
/// for fill `-k`), or, for a positive fill, within 8192 bytes and `fill`
/// elements. Lists that Redis built otherwise (LPUSH, LINSERT) can have other
/// node boundaries there; the elements are the same.
fn write_list(out: &mut Vec<u8>, l: &shoal_keyspace::List, z: bool) {
    let fill = l.fill();
    let (max_bytes, max_count) = if fill < 0 {
        let k = (-fill).min(5) as u32;
        (4096usize << (k - 1), usize::MAX)
    } else {
        (QUICKLIST_SAFETY_LIMIT, usize::try_from(fill).unwrap_or(0))
    };
    enum Node {
        Plain(Vec<u8>),
        Packed(Vec<u8>),
    }
    let mut nodes: Vec<Node> = Vec::new();
    let mut cur: Option<listpack::Writer> = None;
    for e in l.iter() {
        let sz = e.len();
        if sz >= QUICKLIST_PLAIN_THRESHOLD {
            if let Some(w) = cur.take() {
                nodes.push(Node::Packed(w.finish()));
            }
            nodes.push(Node::Plain(e.to_vec()));
            continue;
        }
        if let Some(w) = &cur {
            let new_sz = w.bytes() + sz + QUICKLIST_OVERHEAD;
            let fits = if fill < 0 {
                new_sz <= max_bytes
            } else {
                new_sz <= max_bytes && w.len() < max_count
            };
            if !fits {
                if let Some(w) = cur.take() {
                    nodes.push(Node::Packed(w.finish()));
                }
            }
        }
        let w = cur.get_or_insert_with(listpack::Writer::new);
        match e {
            Elem::Int(i) => w.push_int(i),
            Elem::Bytes(b) => w.push_bytes(b),
        }
    }
    if let Some(w) = cur.take() {
        nodes.push(Node::Packed(w.finish()));
    }
    write_len(out, nodes.len() as u64);
    for n in &nodes {
        match n {
            Node::Plain(b) => {
                write_len(out, consts::QUICKLIST_NODE_PLAIN);
                write_string(out, b, z);
            }
            Node::Packed(b) => {
                write_len(out, consts::QUICKLIST_NODE_PACKED);
                write_string(out, b, z);
            }
        }
    }
}

/// Appends one key: `[EXPIRETIME_MS ms] [IDLE|FREQ] type key value`.
pub fn write_entry(
    out: &mut Vec<u8>,
    key: &[u8],
    v: &Value,
    expire_ms: Option<i64>,
    access: Option<Access>,
    opts: &WriteOptions,
) {
    if let Some(ms) = expire_ms {
        out.push(consts::OPCODE_EXPIRETIME_MS);
        out.extend_from_slice(&ms.to_le_bytes());
    }
    match access {
        Some(Access::IdleSecs(s)) => {
            out.push(consts::OPCODE_IDLE);
            write_len(out, s);
        }
        Some(Access::Freq(f)) => {
            out.push(consts::OPCODE_FREQ);
            out.push(f);
        }
        None => {}
    }
    // The type byte comes before the key: write the value into place after it.
    let type_at = out.len();
    out.push(0);
    write_string(out, key, opts.compression);
    let body_at = out.len();
    write_value(out, v, opts);
    out[type_at] = out[body_at];
    out.remove(body_at);
}

/// Appends `SELECTDB db`.
pub fn write_select_db(out: &mut Vec<u8>, db: usize) {
    out.push(consts::OPCODE_SELECTDB);
    write_len(out, db as u64);
}

/// Appends `RESIZEDB keys expires`.
pub fn write_resize_db(out: &mut Vec<u8>, keys: u64, expires: u64) {
    out.push(consts::OPCODE_RESIZEDB);
    write_len(out, keys);
    write_len(out, expires);
}

/// Appends an `AUX key value` field (strings that read as integers are stored
/// int-encoded, as Redis does for `redis-bits`, `ctime`...).
pub fn write_aux(out: &mut Vec<u8>, key: &[u8], value: &[u8], compress: bool) {
    out.push(consts::OPCODE_AUX);
    write_string(out, key, compress);
    write_string(out, value, compress);
}

/// Appends a `FUNCTION2` record: one library's source code.
pub fn write_function(out: &mut Vec<u8>, code: &[u8], compress: bool) {
    out.push(consts::OPCODE_FUNCTION2);
    write_string(out, code, compress);
}

/// An RDB file being written: the header on creation, bytes appended in order
/// (CRC64 kept up to date), `EOF` and the checksum on [`FileWriter::finish`].
pub struct FileWriter<W: Write> {
    out: W,
    crc: u64,
    opts: WriteOptions,
    written: u64,
}

impl<W: Write> FileWriter<W> {
    /// Writes the `REDIS0010` header.
    pub fn new(out: W, opts: WriteOptions) -> io::Result<FileWriter<W>> {
        let mut w = FileWriter {
            out,
            crc: 0,
            opts,
            written: 0,
        };
        w.raw(format!("REDIS{:04}", consts::WRITE_VERSION).as_bytes())?;
        Ok(w)
    }

    pub fn options(&self) -> &WriteOptions {
        &self.opts
    }

    /// Appends bytes made by the `write_*` functions above.
    pub fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.opts.checksum {
            self.crc = crc64(self.crc, bytes);
        }
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far (header included).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes `EOF` and the checksum (0 when `checksum` is off); returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        self.raw(&[consts::OPCODE_EOF])?;
        let crc = if self.opts.checksum { self.crc } else { 0 };
        self.out.write_all(&crc.to_le_bytes())?;
        self.written += 8;
        self.out.flush()?;
        Ok(self.out)
    }
}
