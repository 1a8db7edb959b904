//! Decoding of list, set, sorted set and hash values in every encoding RDB has
//! had, into Shoal's values converted with [`crate::Limits`] as Redis converts
//! on load.
//!
//! Each reader returns `Ok(None)` for an empty collection: Redis refuses those
//! in DUMP payloads and skips them in files, so the caller decides.
//!
//! Checks made whatever the sanitization mode, because Shoal's values rely on
//! them: compact blobs are walked entirely (bounds, counts, encodings), hash and
//! zset blobs hold pairs, scores are numbers and never NaN, zset members are
//! distinct. Duplicates in the plain (non-blob) encodings are errors, as in
//! Redis; in compact blobs they are errors under `deep_sanitize` and merged
//! otherwise.

use std::io::BufRead;

use shoal_ds::num::parse_f64_lenient;
use shoal_ds::smallbytes::SmallBytes;
use shoal_keyspace::list::End;
use shoal_keyspace::{Elem, Hash, List, Set, Value, ZSet};

use super::{ReadOptions, Source};
use crate::listpack::{self, Item};
use crate::{consts, legacy, Error};

/// Appends `it` to `list` as bytes.
fn push_item(list: &mut List, it: Item<'_>) {
    match it {
        Item::Bytes(b) => list.push(End::Tail, b),
        Item::Int(v) => list.push(End::Tail, itoa::Buffer::new().format(v).as_bytes()),
    }
}

fn elem(it: Item<'_>) -> Elem<'_> {
    match it {
        Item::Bytes(b) => Elem::Bytes(b),
        Item::Int(v) => Elem::Int(v),
    }
}

/// A blob-level error (its message names the offset inside the blob) at the
/// blob's offset in the input.
fn blob_err(what: &str, e: String, at: u64) -> Error {
    Error::corrupt(format!("{what}: {e}"), at)
}

/// Every element of a listpack (validated entirely).
fn listpack_items<'a>(blob: &'a [u8], what: &str, at: u64) -> Result<Vec<Item<'a>>, Error> {
    let r = listpack::Reader::new(blob).map_err(|e| blob_err(what, e, at))?;
    // Each element takes at least 2 bytes.
    let mut v = Vec::with_capacity(r.header_count().unwrap_or(0).min(blob.len() / 2));
    for it in r {
        v.push(it.map_err(|e| blob_err(what, e, at))?);
    }
    Ok(v)
}

/// A string blob and the offset it started at.
fn blob<R: BufRead>(src: &mut Source<R>) -> Result<(Vec<u8>, u64), Error> {
    let at = src.offset;
    Ok((src.string()?, at))
}

/// A collection's element count.
fn count<R: BufRead>(src: &mut Source<R>) -> Result<(u64, u64), Error> {
    let at = src.offset;
    Ok((src.len()?, at))
}

/// A score of the `ZSET` type: a length byte (253 NaN, 254 +inf, 255 -inf)
/// then that many bytes of text.
fn text_score<R: BufRead>(src: &mut Source<R>) -> Result<f64, Error> {
    let at = src.offset;
    let n = src.byte()?;
    match n {
        253 => Ok(f64::NAN),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        _ => {
            let text = src.bytes(u64::from(n))?;
            parse_f64_lenient(&text).ok_or_else(|| Error::corrupt("score is not a number", at))
        }
    }
}

fn item_score(it: Item<'_>, at: u64) -> Result<f64, Error> {
    match it {
        Item::Int(v) => Ok(v as f64),
        Item::Bytes(b) => {
            parse_f64_lenient(b).ok_or_else(|| Error::corrupt("zset score is not a number", at))
        }
    }
}

/// A sorted set from its entries: NaN scores and duplicate members refused.
fn zset_from(entries: Vec<(f64, SmallBytes)>, opts: &ReadOptions, at: u64) -> Result<ZSet, Error> {
    if entries.iter().any(|(s, _)| s.is_nan()) {
        return Err(Error::corrupt("Zset with NAN score detected", at));
    }
    let mut members: Vec<&[u8]> = entries.iter().map(|(_, m)| m.as_bytes()).collect();
    members.sort_unstable();
    if members.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::corrupt("Duplicate zset fields detected", at));
    }
    Ok(ZSet::from_entries(entries, opts.limits.zset))
}

/// A hash from pairs of a compact blob (duplicates: see the module doc).
fn hash_from<'a>(
    pairs: impl Iterator<Item = (Item<'a>, Item<'a>)>,
    opts: &ReadOptions,
    at: u64,
) -> Result<Hash, Error> {
    let mut h = Hash::new();
    let mut ibuf = itoa::Buffer::new();
    let mut vbuf = itoa::Buffer::new();
    for (f, v) in pairs {
        let f = match f {
            Item::Bytes(b) => b,
            Item::Int(i) => ibuf.format(i).as_bytes(),
        };
        let v = match v {
            Item::Bytes(b) => b,
            Item::Int(i) => vbuf.format(i).as_bytes(),
        };
        if !h.set(f, v, &opts.limits.hash) && opts.deep_sanitize {
            return Err(Error::corrupt("Duplicate hash fields detected", at));
        }
    }
    Ok(h)
}

fn pairs<'a>(
    items: Vec<Item<'a>>,
    what: &str,
    at: u64,
) -> Result<impl Iterator<Item = (Item<'a>, Item<'a>)>, Error> {
    if !items.len().is_multiple_of(2) {
        return Err(Error::corrupt(
            format!("{what} holds an odd number of elements"),
            at,
        ));
    }
    let mut it = items.into_iter();
    Ok(std::iter::from_fn(move || Some((it.next()?, it.next()?))))
}

/// `LIST`: a count, then the elements.
pub(super) fn list_plain<R: BufRead>(
    src: &mut Source<R>,
    opts: &ReadOptions,
) -> Result<Option<Value>, Error> {
    let (n, _) = count(src)?;
    let mut l = List::new(opts.limits.list_fill);
    for _ in 0..n {
        l.push(End::Tail, &src.string()?);
    }
    Ok((!l.is_empty()).then_some(Value::List(l)))
}

/// `SET`: a count, then the members.
pub(super) fn set_plain<R: BufRead>(
    src: &mut Source<R>,
    opts: &ReadOptions,
) -> Result<Option<Value>, Error> {
    let (n, at) = count(src)?;
    let max = opts.limits.set_max_intset_entries;
    let mut s = if n > max as u64 {
        Set::new_table()
    } else {
        Set::new_intset()
    };
    for _ in 0..n {
        if !s.add(&src.string()?, max) {
            return Err(Error::corrupt("Duplicate set members detected", at));
        }
    }
    Ok((!s.is_empty()).then_some(Value::Set(s)))
}

/// `ZSET` (scores as text) and `ZSET_2` (scores as binary doubles).
pub(super) fn zset_plain<R: BufRead>(
    src: &mut Source<R>,
    binary: bool,
    opts: &ReadOptions,
) -> Result<Option<Value>, Error> {
    let (n, at) = count(src)?;
    let mut entries = Vec::with_capacity(n.min(4096) as usize);
    for _ in 0..n {
        let m = src.string()?;
        let score = if binary {
            let mut w = [0u8; 8];
            src.exact(&mut w)?;
            f64::from_le_bytes(w)
        } else {
            text_score(src)?
        };
        entries.push((score, SmallBytes::from(m)));
    }
    if entries.is_empty() {
        return Ok(None);
    }
    Ok(Some(Value::ZSet(zset_from(entries, opts, at)?)))
}

/// `HASH`: a count, then field, value, field, value...
pub(super) fn hash_plain<R: BufRead>(
    src: &mut Source<R>,
    opts: &ReadOptions,
) -> Result<Option<Value>, Error> {
    let (n, at) = count(src)?;
    let mut h = Hash::new();
    if n > opts.limits.hash.max_entries as u64 {
        h.convert();
    }
    for _ in 0..n {
        let f = src.string()?;
        let v = src.string()?;
        if !h.set(&f, &v, &opts.limits.hash) {
            return Err(Error::corrupt("Duplicate hash fields detected", at));
        }
    }
    Ok((!h.is_empty()).then_some(Value::Hash(h)))
}

/// The value types stored as one blob (ziplist, listpack, intset, zipmap).
pub(super) fn single_blob<R: BufRead>(
    src: &mut Source<R>,
    type_byte: u8,
    opts: &ReadOptions,
) -> Result<Option<Value>, Error> {
    let (b, at) = blob(src)?;
    let lim = &opts.limits;
    let v = match type_byte {
        consts::TYPE_HASH_ZIPMAP => {
            let pairs = legacy::zipmap_pairs(&b).map_err(|e| blob_err("zipmap", e, at))?;
            let mut h = Hash::new();
            for (f, v) in pairs {
                if !h.set(f, v, &lim.hash) {
                    return Err(Error::corrupt("Duplicate hash fields detected", at));
                }
            }
            Value::Hash(h)
        }
        consts::TYPE_LIST_ZIPLIST => {
            let items = legacy::ziplist_entries(&b).map_err(|e| blob_err("ziplist", e, at))?;
            let mut l = List::new(lim.list_fill);
            items.into_iter().for_each(|it| push_item(&mut l, it));
            Value::List(l)
        }
        consts::TYPE_SET_INTSET => {
            let members = legacy::intset_members(&b, opts.deep_sanitize)
                .map_err(|e| blob_err("intset", e, at))?;
            let mut s = Set::new_intset();
            for m in members {
                s.add_elem(Elem::Int(m), lim.set_max_intset_entries);
            }
            Value::Set(s)
        }
        consts::TYPE_SET_LISTPACK => {
            let items = listpack_items(&b, "set listpack", at)?;
            let mut s = Set::new_intset();
            for it in items {
                if !s.add_elem(elem(it), lim.set_max_intset_entries) && opts.deep_sanitize {
                    return Err(Error::corrupt("Duplicate set members detected", at));
                }
            }
            Value::Set(s)
        }
        consts::TYPE_ZSET_ZIPLIST | consts::TYPE_ZSET_LISTPACK => {
            let items = if type_byte == consts::TYPE_ZSET_ZIPLIST {
                legacy::ziplist_entries(&b).map_err(|e| blob_err("zset ziplist", e, at))?
            } else {
                listpack_items(&b, "zset listpack", at)?
            };
            let mut entries = Vec::with_capacity(items.len() / 2);
            for (m, s) in pairs(items, "zset blob", at)? {
                entries.push((item_score(s, at)?, SmallBytes::from(m.to_vec())));
            }
            if entries.is_empty() {
                return Ok(None);
            }
            Value::ZSet(zset_from(entries, opts, at)?)
        }
        consts::TYPE_HASH_ZIPLIST | consts::TYPE_HASH_LISTPACK => {
            let items = if type_byte == consts::TYPE_HASH_ZIPLIST {
                legacy::ziplist_entries(&b).map_err(|e| blob_err("hash ziplist", e, at))?
            } else {
                listpack_items(&b, "hash listpack", at)?
            };
            Value::Hash(hash_from(pairs(items, "hash blob", at)?, opts, at)?)
        }
        _ => return Err(Error::corrupt(format!("not a blob type {type_byte}"), at)),
    };
    Ok(non_empty(v))
}

fn non_empty(v: Value) -> Option<Value> {
    let empty = match &v {
        Value::Str(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        Value::Stream(_) => false,
    };
    (!empty).then_some(v)
}

/// `LIST_QUICKLIST` (ziplist nodes) and `LIST_QUICKLIST_2` (a container kind
/// then a listpack or one plain element per node). Empty nodes are skipped, as
/// Redis does.
pub(super) fn quicklist<R: BufRead>(
    src: &mut Source<R>,
    v2: bool,
    opts: &ReadOptions,
) -> Result<Option<Value>, Error> {
    let (nodes, _) = count(src)?;
    let mut l = List::new(opts.limits.list_fill);
    for _ in 0..nodes {
        let container = if v2 {
            let at = src.offset;
            match src.len()? {
                c @ (consts::QUICKLIST_NODE_PLAIN | consts::QUICKLIST_NODE_PACKED) => c,
                c => {
                    return Err(Error::corrupt(
                        format!("unknown quicklist node container {c}"),
                        at,
                    ))
                }
            }
        } else {
            consts::QUICKLIST_NODE_PACKED
        };
        let (b, at) = blob(src)?;
        if container == consts::QUICKLIST_NODE_PLAIN {
            l.push(End::Tail, &b);
            continue;
        }
        let items = if v2 {
            listpack_items(&b, "quicklist listpack", at)?
        } else {
            legacy::ziplist_entries(&b).map_err(|e| blob_err("quicklist ziplist", e, at))?
        };
        items.into_iter().for_each(|it| push_item(&mut l, it));
    }
    Ok((!l.is_empty()).then_some(Value::List(l)))
}
