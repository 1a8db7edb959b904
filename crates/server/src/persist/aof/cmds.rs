//! A dataset as the commands that rebuild it: the AOF base file with
//! `aof-use-rdb-preamble no` (`<appendfilename>.<seq>.base.aof`).
//!
//! The commands are the ones Redis 7.0.15's rewrite emits: `FUNCTION LOAD` per
//! library (before any database), `SELECT` before the first key of each database,
//! then per key: `SET` (strings, HyperLogLogs included); `RPUSH`, `SADD`, `ZADD`
//! (scores as `%.17g`, "inf"/"-inf") and `HMSET` in batches of at most
//! [`ITEMS_PER_CMD`] elements (members, field-value pairs); streams as one `XADD`
//! per entry with its ID (an empty stream as `XADD key MAXLEN 0 0-1 x y`, which
//! creates it and trims the entry away), then `XSETID key last ENTRIESADDED n
//! MAXDELETEDID id`, per group `XGROUP CREATE key group last ENTRIESREAD n`, per
//! pending entry `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n JUSTID
//! FORCE`, per consumer with no pending entry `XGROUP CREATECONSUMER`; and last
//! `PEXPIREAT` for a key with a time to live.
//!
//! [`rdb_to_commands`] turns an RDB image (what the rewrite's snapshot writes)
//! into such a file, so that the snapshot machinery stays the only walker of the
//! keyspace. Invariant: loading the commands rebuilds every value exactly (the
//! elements, scores, stream IDs, counters, groups and PELs); what the commands
//! cannot carry is what Redis's do not carry either (encodings, consumers' seen
//! times, which become the load time).

use shoal_keyspace::stream::StreamData;
use shoal_keyspace::{Str, Value};
use shoal_resp::{put_array_header as head, put_bulk as bulk};
use std::io::{self, BufRead, Write};

/// Redis's `AOF_REWRITE_ITEMS_PER_CMD`.
pub const ITEMS_PER_CMD: usize = 64;

/// Bytes buffered before a write to the output.
const FLUSH_AT: usize = 1 << 16;

/// Writes commands to `out`, buffering them.
pub struct CmdWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// The database the last SELECT chose.
    db: Option<usize>,
}

fn cmd(buf: &mut Vec<u8>, args: &[&[u8]]) {
    shoal_resp::put_command(buf, args.iter().copied());
}

/// Writes `items` as `NAME key <item>...` commands of at most [`ITEMS_PER_CMD`]
/// items each; `width` is the number of arguments per item.
fn batched<T>(
    buf: &mut Vec<u8>,
    name: &[u8],
    key: &[u8],
    len: usize,
    width: usize,
    items: impl Iterator<Item = T>,
    mut put: impl FnMut(&mut Vec<u8>, T),
) {
    let mut left = len;
    let mut in_cmd = 0;
    for it in items {
        if in_cmd == 0 {
            // `len` is the collection's length; never trust it to be exact.
            let n = left.clamp(1, ITEMS_PER_CMD);
            head(buf, 2 + n * width);
            bulk(buf, name);
            bulk(buf, key);
            in_cmd = n;
            left = left.saturating_sub(n);
        }
        put(buf, it);
        in_cmd -= 1;
    }
}

impl<W: Write> CmdWriter<W> {
    pub fn new(out: W) -> CmdWriter<W> {
        CmdWriter {
            out,
            buf: Vec::with_capacity(FLUSH_AT * 2),
            db: None,
        }
    }

    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// `FUNCTION LOAD <code>`.
    pub fn function(&mut self, code: &[u8]) -> io::Result<()> {
        cmd(&mut self.buf, &[b"FUNCTION", b"LOAD", code]);
        self.maybe_flush()
    }

    /// The commands of one key of database `db` (preceded by a SELECT when the
    /// database changes).
    pub fn entry(
        &mut self,
        db: usize,
        key: &[u8],
        value: &Value,
        expire_ms: Option<i64>,
    ) -> io::Result<()> {
        let b = &mut self.buf;
        if self.db != Some(db) {
            cmd(b, &[b"SELECT", itoa::Buffer::new().format(db).as_bytes()]);
            self.db = Some(db);
        }
        match value {
            Value::Str(Str::Int(i)) => {
                cmd(b, &[b"SET", key, itoa::Buffer::new().format(*i).as_bytes()])
            }
            Value::Str(s) => s.with_bytes(|v| cmd(b, &[b"SET", key, v])),
            Value::List(l) => batched(b, b"RPUSH", key, l.len(), 1, l.iter(), |b, e| {
                e.with_bytes(|v| bulk(b, v))
            }),
            Value::Set(s) => batched(b, b"SADD", key, s.len(), 1, s.iter(), |b, e| {
                e.with_bytes(|v| bulk(b, v))
            }),
            Value::Hash(h) => batched(b, b"HMSET", key, h.len(), 2, h.iter(), |b, (f, v)| {
                bulk(b, f);
                bulk(b, v);
            }),
            Value::ZSet(z) => {
                let mut members = Vec::with_capacity(z.len());
                z.range(0, usize::MAX, false, &mut |m, score| {
                    members.push((m.to_vec(), score))
                });
                let mut text = Vec::with_capacity(24);
                let n = members.len();
                batched(b, b"ZADD", key, n, 2, members.into_iter(), |b, (m, s)| {
                    text.clear();
                    shoal_ds::num::write_double_17g(s, &mut text);
                    bulk(b, &text);
                    bulk(b, &m);
                });
            }
            Value::Stream(s) => stream(b, key, s),
        }
        if let Some(ms) = expire_ms {
            cmd(
                b,
                &[b"PEXPIREAT", key, itoa::Buffer::new().format(ms).as_bytes()],
            );
        }
        self.maybe_flush()
    }

    /// Writes what is buffered and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn stream(b: &mut Vec<u8>, key: &[u8], s: &StreamData) {
    use shoal_keyspace::stream::StreamId;
    if s.is_empty() {
        // Creates the key; the entry is trimmed away at once and the counters
        // are set right by the XSETID below.
        cmd(b, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    } else {
        for (id, e) in s.range(StreamId::ZERO, StreamId::MAX, false) {
            head(b, 3 + 2 * e.len());
            bulk(b, b"XADD");
            bulk(b, key);
            bulk(b, &id.to_bytes());
            for (f, v) in e.pairs() {
                bulk(b, f);
                bulk(b, v);
            }
        }
    }
    let added = s.entries_added.to_string();
    cmd(
        b,
        &[
            b"XSETID",
            key,
            &s.last_id.to_bytes(),
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            &s.max_deleted_id.to_bytes(),
        ],
    );
    for (name, g) in &s.groups {
        let read = g.entries_read.to_string();
        cmd(
            b,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                name,
                &g.last_id.to_bytes(),
                b"ENTRIESREAD",
                read.as_bytes(),
            ],
        );
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                cmd(b, &[b"XGROUP", b"CREATECONSUMER", key, name, cname]);
                continue;
            }
            for id in &c.pel {
                // A consumer's PEL names entries of the group's PEL; one that
                // does not is not an entry anyone can claim.
                let Some(p) = g.pel.get(id) else { continue };
                let time = p.delivery_time.to_string();
                let count = p.delivery_count.to_string();
                cmd(
                    b,
                    &[
                        b"XCLAIM",
                        key,
                        name,
                        cname,
                        b"0",
                        &id.to_bytes(),
                        b"TIME",
                        time.as_bytes(),
                        b"RETRYCOUNT",
                        count.as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                );
            }
        }
    }
}

/// Reads an RDB image from `src` and writes its dataset as commands to `out`.
/// Errors name what was wrong in the image and where.
pub fn rdb_to_commands<R: BufRead, W: Write>(src: R, out: W) -> io::Result<W> {
    use shoal_rdb::{FileReader, Item, ReadOptions};
    let bad = |e: shoal_rdb::Error| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
    let mut rdb = FileReader::new(src, ReadOptions::default()).map_err(bad)?;
    let mut w = CmdWriter::new(out);
    let mut db = 0usize;
    while let Some(item) = rdb.next_item().map_err(bad)? {
        match item {
            Item::SelectDb(n) => db = n,
            Item::Function(code) => w.function(&code)?,
            Item::Entry {
                key,
                value,
                expire_ms,
                ..
            } => w.entry(db, &key, &value, expire_ms)?,
            Item::Aux { .. } | Item::ResizeDb { .. } => {}
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).replace("\r\n", " ")
    }

    #[test]
    fn batches_of_64() {
        let mut l = shoal_keyspace::List::new(-2);
        for i in 0..70 {
            l.push(shoal_keyspace::list::End::Tail, format!("e{i}").as_bytes());
        }
        let mut w = CmdWriter::new(Vec::new());
        w.entry(2, b"k", &Value::List(l), Some(5)).unwrap();
        let out = text(&w.finish().unwrap());
        assert!(out.starts_with("*2 $6 SELECT $1 2 *66 $5 RPUSH $1 k $2 e0 "));
        assert!(out.contains(" $3 e63 *8 $5 RPUSH $1 k $3 e64 "));
        assert!(out.ends_with("*3 $9 PEXPIREAT $1 k $1 5 "));
    }

    #[test]
    fn empty_stream() {
        let s = shoal_keyspace::Stream::new();
        let mut w = CmdWriter::new(Vec::new());
        w.entry(0, b"s", &Value::Stream(s), None).unwrap();
        let out = text(&w.finish().unwrap());
        assert!(out.contains("$4 XADD $1 s $6 MAXLEN $1 0 $3 0-1 $1 x $1 y "));
        assert!(out.contains("$6 XSETID $1 s $3 0-0 $12 ENTRIESADDED $1 0 "));
    }
}
