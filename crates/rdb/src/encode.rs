//! Values to RDB bytes (version 10, as Redis 7.0 writes them), and whole files.
//! (Filled in by the encoding side.)
//!
//! Compact values are written in Redis 7.0's compact RDB types (hash and sorted
//! set listpacks, quicklist 2 with listpack nodes, intsets), so that Redis loads
//! them as fast as its own files and DUMP payloads are byte-identical to Redis's.

use std::io::{self, Write};

use shoal_ds::crc64::crc64;
use shoal_keyspace::{Str, Value};

use crate::consts;

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

/// Appends a value's type byte and body.
pub fn write_value(out: &mut Vec<u8>, v: &Value, opts: &WriteOptions) {
    match v {
        Value::Str(Str::Int(i)) => {
            out.push(consts::TYPE_STRING);
            write_int_string(out, *i);
        }
        Value::Str(s) => {
            out.push(consts::TYPE_STRING);
            s.with_bytes(|b| write_string(out, b, opts.compression));
        }
        _ => todo!("encode::write_value for collections"),
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
