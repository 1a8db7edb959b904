//! Decoders for the compact blobs of older RDB versions: ziplist (lists, hashes
//! and sorted sets before Redis 7), intset (sets, still current) and zipmap
//! (hashes before Redis 2.6). (Decoding side.)
//!
//! Each decoder checks the whole blob as it walks it: header sizes and counts,
//! every entry's encoding and bounds, the ziplist's back links (`prevlen`) and
//! tail offset. Only what needs a set of all members (duplicates) or a sort
//! order (intset under deep sanitization) is left to the caller or to the
//! `deep` flag. A corrupt blob gives an error naming the offset, never a panic.

use crate::listpack::Item;

fn le(b: &[u8]) -> u64 {
    b.iter()
        .rev()
        .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// `n` bytes at `at` of `blob`, or an error naming `what`.
fn take<'a>(blob: &'a [u8], at: usize, n: usize, what: &str) -> Result<&'a [u8], String> {
    at.checked_add(n)
        .and_then(|end| blob.get(at..end))
        .ok_or_else(|| format!("{what} at offset {at} overruns the blob"))
}

/// Ziplist header: total bytes, tail offset (4 bytes each), count (2 bytes).
const ZL_HEADER: usize = 10;
const ZL_END: u8 = 0xff;
const ZL_BIGLEN: u8 = 254;

/// Every entry of a ziplist, in order. Checks the header's size, tail offset
/// and count (unless 65535), each entry's `prevlen` against the previous
/// entry's size, each encoding, and the terminator.
pub fn ziplist_entries(blob: &[u8]) -> Result<Vec<Item<'_>>, String> {
    if blob.len() < ZL_HEADER + 1 {
        return Err(format!("ziplist of {} bytes is too short", blob.len()));
    }
    let total = le(&blob[0..4]);
    let tail = le(&blob[4..8]);
    let count = le(&blob[8..10]);
    if total != blob.len() as u64 {
        return Err(format!(
            "ziplist header says {total} bytes, blob has {}",
            blob.len()
        ));
    }
    if blob[blob.len() - 1] != ZL_END {
        return Err("ziplist does not end with its terminator".into());
    }
    let end = blob.len() - 1;
    // Each entry takes at least 2 bytes: cap the reservation by that.
    let mut items = Vec::with_capacity((count as usize).min(end / 2));
    let mut pos = ZL_HEADER;
    let mut prev_size = 0usize;
    let mut last_at = ZL_HEADER;
    while pos < end {
        let at = pos;
        let (prevlen, plen) = if blob[pos] < ZL_BIGLEN {
            (usize::from(blob[pos]), 1)
        } else if blob[pos] == ZL_BIGLEN {
            (le(take(blob, pos + 1, 4, "ziplist prevlen")?) as usize, 5)
        } else {
            return Err(format!("ziplist terminator inside the list at offset {at}"));
        };
        if prevlen != prev_size {
            return Err(format!(
                "ziplist entry at offset {at} says the previous one is {prevlen} bytes, it is {prev_size}"
            ));
        }
        pos += plen;
        let enc = *blob
            .get(pos)
            .filter(|_| pos < end)
            .ok_or_else(|| format!("ziplist entry at offset {at} is truncated"))?;
        let (head, item) = match enc >> 6 {
            0 => {
                let n = usize::from(enc & 0x3f);
                (
                    1 + n,
                    Item::Bytes(take(blob, pos + 1, n, "ziplist string")?),
                )
            }
            1 => {
                let lo = take(blob, pos + 1, 1, "ziplist length")?[0];
                let n = (usize::from(enc & 0x3f) << 8) | usize::from(lo);
                (
                    2 + n,
                    Item::Bytes(take(blob, pos + 2, n, "ziplist string")?),
                )
            }
            2 => {
                let b = take(blob, pos + 1, 4, "ziplist length")?;
                let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                (
                    5usize.saturating_add(n),
                    Item::Bytes(take(blob, pos + 5, n, "ziplist string")?),
                )
            }
            _ => {
                let width = match enc {
                    0xc0 => 2,
                    0xd0 => 4,
                    0xe0 => 8,
                    0xf0 => 3,
                    0xfe => 1,
                    0xf1..=0xfd => 0,
                    _ => {
                        return Err(format!(
                            "unknown ziplist encoding {enc:#04x} at offset {pos}"
                        ))
                    }
                };
                let v = if width == 0 {
                    i64::from(enc & 0x0f) - 1
                } else {
                    let raw = le(take(blob, pos + 1, width, "ziplist integer")?);
                    let shift = 64 - 8 * width as u32;
                    ((raw << shift) as i64) >> shift
                };
                (1 + width, Item::Int(v))
            }
        };
        pos += head;
        if pos > end {
            return Err(format!(
                "ziplist entry at offset {at} overruns the terminator"
            ));
        }
        prev_size = pos - at;
        last_at = at;
        items.push(item);
    }
    if tail != last_at as u64 {
        return Err(format!(
            "ziplist tail offset {tail}, the last entry is at {last_at}"
        ));
    }
    if count != u64::from(u16::MAX) && count != items.len() as u64 {
        return Err(format!(
            "ziplist header counts {count} entries, it holds {}",
            items.len()
        ));
    }
    Ok(items)
}

/// An intset's members, in stored order. Checks the encoding (2, 4 or 8 bytes)
/// and that the size is the header plus `count` members; with `deep`, that the
/// members are strictly ascending (sorted and unique).
pub fn intset_members(blob: &[u8], deep: bool) -> Result<Vec<i64>, String> {
    let head = take(blob, 0, 8, "intset header")?;
    let width = le(&head[0..4]);
    let count = le(&head[4..8]);
    if !matches!(width, 2 | 4 | 8) {
        return Err(format!("intset encoding {width} is not 2, 4 or 8"));
    }
    if count.checked_mul(width).and_then(|b| b.checked_add(8)) != Some(blob.len() as u64) {
        return Err(format!(
            "intset of {count} members of {width} bytes does not fill {} bytes",
            blob.len()
        ));
    }
    let width = width as usize;
    let shift = 64 - 8 * width as u32;
    let members: Vec<i64> = blob[8..]
        .chunks_exact(width)
        .map(|c| ((le(c) << shift) as i64) >> shift)
        .collect();
    if deep {
        if let Some(i) = members.windows(2).position(|w| w[0] >= w[1]) {
            return Err(format!(
                "intset members out of order or repeated at index {}",
                i + 1
            ));
        }
    }
    Ok(members)
}

/// A field and its value.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

const ZM_BIGLEN: u8 = 254;
const ZM_END: u8 = 0xff;

/// A zipmap length: one byte below 254, else 254 and 4 bytes little endian.
fn zipmap_len(blob: &[u8], pos: &mut usize) -> Result<usize, String> {
    let b = *blob
        .get(*pos)
        .ok_or_else(|| format!("zipmap truncated at offset {pos}"))?;
    if b < ZM_BIGLEN {
        *pos += 1;
        Ok(usize::from(b))
    } else if b == ZM_BIGLEN {
        let n = le(take(blob, *pos + 1, 4, "zipmap length")?) as usize;
        *pos += 5;
        Ok(n)
    } else {
        Err(format!(
            "zipmap terminator where a length was expected at offset {pos}"
        ))
    }
}

/// A zipmap's field/value pairs, in order. Checks every length and the free
/// space after each value against the blob, the terminator, and the count in
/// the first byte (when it is below 254).
pub fn zipmap_pairs(blob: &[u8]) -> Result<Vec<Pair<'_>>, String> {
    let count = usize::from(*blob.first().ok_or("empty zipmap")?);
    let mut pairs = Vec::new();
    let mut pos = 1;
    loop {
        match blob.get(pos) {
            None => return Err("zipmap without terminator".into()),
            Some(&ZM_END) => break,
            Some(_) => {}
        }
        let klen = zipmap_len(blob, &mut pos)?;
        let key = take(blob, pos, klen, "zipmap key")?;
        pos += klen;
        let vlen = zipmap_len(blob, &mut pos)?;
        let free = usize::from(take(blob, pos, 1, "zipmap free byte")?[0]);
        pos += 1;
        let value = take(blob, pos, vlen, "zipmap value")?;
        pos += vlen;
        take(blob, pos, free, "zipmap free space")?;
        pos += free;
        pairs.push((key, value));
    }
    if pos + 1 != blob.len() {
        return Err(format!("zipmap terminator at offset {pos} before the end"));
    }
    if count < usize::from(ZM_BIGLEN) && count != pairs.len() {
        return Err(format!(
            "zipmap header counts {count} pairs, it holds {}",
            pairs.len()
        ));
    }
    Ok(pairs)
}
