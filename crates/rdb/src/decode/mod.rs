//! RDB bytes to values, and whole files read item by item.
//!
//! Reads every version from 1 to 11 and every encoding in them; converts each
//! value to Shoal's representation with the thresholds of [`crate::Limits`], as
//! Redis converts on load. With `deep_sanitize` (`sanitize-dump-payload yes`)
//! compact blobs are validated entirely (duplicates, order, counts) before use;
//! without it every blob is still walked with bounds checks, so nothing panics.
//!
//! Empty collections: a DUMP payload holding one is refused; a file holding
//! one has that key skipped (Redis logs "rdbLoadObject skipping empty key" and
//! goes on, since old versions could write them), counted by
//! [`FileReader::empty_keys_skipped`].
//!
//! - [`values`]: lists, sets, sorted sets and hashes in all their encodings.
//! - [`stream`]: streams with their consumer groups.

mod stream;
mod values;

use std::io::BufRead;

use shoal_ds::crc64::crc64;
use shoal_keyspace::value::EMBSTR_MAX;
use shoal_keyspace::{Str, Value};

use crate::consts;
use crate::encode::Access;
use crate::error::ErrorKind;
use crate::{Error, Limits};

#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    pub limits: Limits,
    pub deep_sanitize: bool,
    /// Skip the CRC64 check (a zero checksum is never checked, as in Redis).
    pub ignore_checksum: bool,
}

/// One thing read from a file.
#[derive(Debug)]
pub enum Item {
    Aux {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    SelectDb(usize),
    ResizeDb {
        keys: u64,
        expires: u64,
    },
    Entry {
        key: Vec<u8>,
        value: Value,
        expire_ms: Option<i64>,
        access: Option<Access>,
    },
    /// A `FUNCTION2` record: a library's source code.
    Function(Vec<u8>),
}

/// Decodes a value of type `type_byte` from `body` (a DUMP payload's value part,
/// which must be consumed exactly).
pub fn value_from_bytes(type_byte: u8, body: &[u8], opts: &ReadOptions) -> Result<Value, Error> {
    let mut src = Source::new(body);
    let v = read_value(&mut src, type_byte, opts)?;
    if src.offset != body.len() as u64 {
        return Err(Error::corrupt("trailing bytes after the value", src.offset));
    }
    Ok(v)
}

/// A byte source that counts what it consumed and keeps the running CRC64.
pub(crate) struct Source<R: BufRead> {
    input: R,
    pub(crate) offset: u64,
    crc: u64,
}

impl<R: BufRead> Source<R> {
    pub(crate) fn new(input: R) -> Source<R> {
        Source {
            input,
            offset: 0,
            crc: 0,
        }
    }

    fn io(&self, e: std::io::Error) -> Error {
        io_error(e, self.offset)
    }

    pub(crate) fn exact(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        self.input.read_exact(buf).map_err(|e| self.io(e))?;
        self.crc = crc64(self.crc, buf);
        self.offset += buf.len() as u64;
        Ok(())
    }

    pub(crate) fn byte(&mut self) -> Result<u8, Error> {
        let mut b = [0u8];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    /// `n` bytes into a new vector, grown as data arrives (a corrupt length does
    /// not allocate more than the input holds).
    pub(crate) fn bytes(&mut self, n: u64) -> Result<Vec<u8>, Error> {
        let mut v = Vec::with_capacity(n.min(1 << 20) as usize);
        let mut left = n;
        while left > 0 {
            let off = self.offset;
            let chunk = self.input.fill_buf().map_err(|e| io_error(e, off))?;
            if chunk.is_empty() {
                return Err(Error::new(ErrorKind::Truncated, self.offset));
            }
            let take = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            v.extend_from_slice(&chunk[..take]);
            self.crc = crc64(self.crc, &chunk[..take]);
            self.input.consume(take);
            self.offset += take as u64;
            left -= take as u64;
        }
        Ok(v)
    }

    /// A length, or `Err(special)` for the special string encodings (the byte's
    /// low six bits).
    pub(crate) fn len_or_special(&mut self) -> Result<Result<u64, u8>, Error> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Ok(u64::from(b & 0x3f)),
            1 => Ok((u64::from(b & 0x3f) << 8) | u64::from(self.byte()?)),
            3 => Err(b & 0x3f),
            _ => match b {
                consts::LEN_32BIT => {
                    let mut w = [0u8; 4];
                    self.exact(&mut w)?;
                    Ok(u64::from(u32::from_be_bytes(w)))
                }
                consts::LEN_64BIT => {
                    let mut w = [0u8; 8];
                    self.exact(&mut w)?;
                    Ok(u64::from_be_bytes(w))
                }
                _ => {
                    return Err(Error::corrupt(
                        format!("unknown length encoding {b:#04x}"),
                        self.offset - 1,
                    ))
                }
            },
        })
    }

    pub(crate) fn len(&mut self) -> Result<u64, Error> {
        let at = self.offset;
        self.len_or_special()?
            .map_err(|_| Error::corrupt("encoded string where a length was expected", at))
    }

    /// A string in any of its encodings (plain, integer, LZF).
    pub(crate) fn string(&mut self) -> Result<Vec<u8>, Error> {
        let at = self.offset;
        match self.len_or_special()? {
            Ok(n) => self.bytes(n),
            Err(consts::ENC_INT8) => Ok((self.byte()? as i8).to_string().into_bytes()),
            Err(consts::ENC_INT16) => {
                let mut w = [0u8; 2];
                self.exact(&mut w)?;
                Ok(i16::from_le_bytes(w).to_string().into_bytes())
            }
            Err(consts::ENC_INT32) => {
                let mut w = [0u8; 4];
                self.exact(&mut w)?;
                Ok(i32::from_le_bytes(w).to_string().into_bytes())
            }
            Err(consts::ENC_LZF) => {
                let clen = self.len()?;
                let len = self.len()?;
                let packed = self.bytes(clen)?;
                let len = usize::try_from(len)
                    .map_err(|_| Error::corrupt("LZF length out of range", at))?;
                crate::lzf::decompress(&packed, len)
                    .map_err(|e| Error::corrupt(format!("LZF: {e}"), at))
            }
            Err(e) => Err(Error::corrupt(format!("unknown string encoding {e}"), at)),
        }
    }

    fn into_inner(self) -> R {
        self.input
    }
}

fn io_error(e: std::io::Error, offset: u64) -> Error {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        Error::new(ErrorKind::Truncated, offset)
    } else {
        Error::new(ErrorKind::Io(e), offset)
    }
}

/// A string value from its bytes, encoded as Redis encodes a loaded string; a
/// long one keeps the vector (no copy).
fn str_from_vec(v: Vec<u8>) -> Str {
    if v.len() > EMBSTR_MAX {
        Str::raw(v)
    } else {
        Str::from_bytes(&v)
    }
}

/// Reads a value body of type `type_byte`; an empty collection is an error.
pub(crate) fn read_value<R: BufRead>(
    src: &mut Source<R>,
    type_byte: u8,
    opts: &ReadOptions,
) -> Result<Value, Error> {
    let at = src.offset;
    read_value_or_empty(src, type_byte, opts)?.ok_or_else(|| Error::corrupt("empty collection", at))
}

/// Reads a value body of type `type_byte`; `Ok(None)` for an empty collection.
pub(crate) fn read_value_or_empty<R: BufRead>(
    src: &mut Source<R>,
    type_byte: u8,
    opts: &ReadOptions,
) -> Result<Option<Value>, Error> {
    let at = src.offset;
    match type_byte {
        consts::TYPE_STRING => Ok(Some(Value::Str(str_from_vec(src.string()?)))),
        consts::TYPE_LIST => values::list_plain(src, opts),
        consts::TYPE_SET => values::set_plain(src, opts),
        consts::TYPE_ZSET => values::zset_plain(src, false, opts),
        consts::TYPE_ZSET_2 => values::zset_plain(src, true, opts),
        consts::TYPE_HASH => values::hash_plain(src, opts),
        consts::TYPE_HASH_ZIPMAP
        | consts::TYPE_LIST_ZIPLIST
        | consts::TYPE_SET_INTSET
        | consts::TYPE_ZSET_ZIPLIST
        | consts::TYPE_HASH_ZIPLIST
        | consts::TYPE_HASH_LISTPACK
        | consts::TYPE_ZSET_LISTPACK
        | consts::TYPE_SET_LISTPACK => values::single_blob(src, type_byte, opts),
        consts::TYPE_LIST_QUICKLIST => values::quicklist(src, false, opts),
        consts::TYPE_LIST_QUICKLIST_2 => values::quicklist(src, true, opts),
        consts::TYPE_STREAM_LISTPACKS
        | consts::TYPE_STREAM_LISTPACKS_2
        | consts::TYPE_STREAM_LISTPACKS_3 => stream::read(src, type_byte, opts).map(Some),
        consts::TYPE_MODULE_PRE_GA | consts::TYPE_MODULE_2 => Err(Error::new(
            ErrorKind::Unsupported("module value types".into()),
            at,
        )),
        t => Err(Error::corrupt(format!("unknown value type {t}"), at)),
    }
}

/// Reads a file item by item. Takes a `BufRead` and consumes exactly the RDB
/// bytes, so that an AOF with an RDB preamble can go on reading commands from
/// the same reader afterwards ([`FileReader::into_inner`]).
pub struct FileReader<R: BufRead> {
    src: Source<R>,
    version: u32,
    opts: ReadOptions,
    done: bool,
    empty_skipped: u64,
    empty_first: Vec<Vec<u8>>,
}

/// How many skipped empty keys' names [`FileReader`] keeps (Redis logs as many).
const EMPTY_KEYS_KEPT: usize = 10;

impl<R: BufRead> FileReader<R> {
    /// Reads and checks the `REDIS00NN` header.
    pub fn new(input: R, opts: ReadOptions) -> Result<FileReader<R>, Error> {
        let mut src = Source::new(input);
        let mut magic = [0u8; 9];
        src.exact(&mut magic)
            .map_err(|_| Error::new(ErrorKind::BadHeader("file too short".into()), 0))?;
        if &magic[..5] != b"REDIS" {
            return Err(Error::new(
                ErrorKind::BadHeader("wrong signature".into()),
                0,
            ));
        }
        let version = std::str::from_utf8(&magic[5..])
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| Error::new(ErrorKind::BadHeader("bad version number".into()), 5))?;
        if !(consts::MIN_READ_VERSION..=consts::MAX_READ_VERSION).contains(&version) {
            return Err(Error::new(
                ErrorKind::BadHeader(format!("can't handle RDB format version {version}")),
                5,
            ));
        }
        Ok(FileReader {
            src,
            version,
            opts,
            done: false,
            empty_skipped: 0,
            empty_first: Vec::new(),
        })
    }

    /// Keys skipped because their value was an empty collection, and the names
    /// of the first ten of them (for the log).
    pub fn empty_keys_skipped(&self) -> (u64, &[Vec<u8>]) {
        (self.empty_skipped, &self.empty_first)
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.src.offset
    }

    /// The next item; `Ok(None)` once `EOF` and the checksum have been read and
    /// verified.
    pub fn next_item(&mut self) -> Result<Option<Item>, Error> {
        if self.done {
            return Ok(None);
        }
        let mut expire_ms = None;
        let mut access = None;
        loop {
            let at = self.src.offset;
            let op = self.src.byte()?;
            match op {
                consts::OPCODE_EXPIRETIME_MS => {
                    let mut w = [0u8; 8];
                    self.src.exact(&mut w)?;
                    expire_ms = Some(i64::from_le_bytes(w));
                }
                consts::OPCODE_EXPIRETIME => {
                    let mut w = [0u8; 4];
                    self.src.exact(&mut w)?;
                    expire_ms = Some(i64::from(i32::from_le_bytes(w)) * 1000);
                }
                consts::OPCODE_IDLE => access = Some(Access::IdleSecs(self.src.len()?)),
                consts::OPCODE_FREQ => access = Some(Access::Freq(self.src.byte()?)),
                consts::OPCODE_SELECTDB => {
                    let db = self.src.len()?;
                    let db = usize::try_from(db)
                        .map_err(|_| Error::corrupt("database number out of range", at))?;
                    return Ok(Some(Item::SelectDb(db)));
                }
                consts::OPCODE_RESIZEDB => {
                    let keys = self.src.len()?;
                    let expires = self.src.len()?;
                    return Ok(Some(Item::ResizeDb { keys, expires }));
                }
                consts::OPCODE_AUX => {
                    let key = self.src.string()?;
                    let value = self.src.string()?;
                    return Ok(Some(Item::Aux { key, value }));
                }
                consts::OPCODE_FUNCTION2 => {
                    return Ok(Some(Item::Function(self.src.string()?)));
                }
                consts::OPCODE_FUNCTION_PRE_GA => {
                    return Err(Error::new(
                        ErrorKind::Unsupported("pre-release function format".into()),
                        at,
                    ))
                }
                consts::OPCODE_MODULE_AUX => {
                    return Err(Error::new(
                        ErrorKind::Unsupported("module aux data".into()),
                        at,
                    ))
                }
                consts::OPCODE_EOF => {
                    let computed = self.src.crc;
                    if self.version >= 5 {
                        let mut w = [0u8; 8];
                        self.src.exact(&mut w)?;
                        let expected = u64::from_le_bytes(w);
                        if expected != 0 && !self.opts.ignore_checksum && expected != computed {
                            return Err(Error::new(
                                ErrorKind::Checksum { expected, computed },
                                self.src.offset - 8,
                            ));
                        }
                    }
                    self.done = true;
                    return Ok(None);
                }
                type_byte => {
                    let key = self.src.string()?;
                    let Some(value) = read_value_or_empty(&mut self.src, type_byte, &self.opts)?
                    else {
                        self.empty_skipped += 1;
                        if self.empty_first.len() < EMPTY_KEYS_KEPT {
                            self.empty_first.push(key);
                        }
                        expire_ms = None;
                        access = None;
                        continue;
                    };
                    return Ok(Some(Item::Entry {
                        key,
                        value,
                        expire_ms,
                        access,
                    }));
                }
            }
        }
    }

    /// The reader, positioned just after the checksum.
    pub fn into_inner(self) -> R {
        self.src.into_inner()
    }
}
