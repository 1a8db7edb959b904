//! HGET HMGET HGETALL HKEYS HVALS HLEN HSTRLEN HEXISTS: the hash commands that only
//! read. Replies are written straight from the stored bytes.

use super::{hash_and_out, len_i64};
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::Access;

pub(super) fn hget(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (h, out) = hash_and_out(ctx, &argv[1], Access::Read);
    match h {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(None) => out.null(),
        Ok(Some(h)) => match h.get(&argv[2]) {
            None => out.null(),
            Some(v) => out.bulk(v),
        },
    }
}

pub(super) fn hmget(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let fields = &argv[2..];
    let (h, out) = hash_and_out(ctx, &argv[1], Access::Read);
    let h = match h {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(h) => h,
    };
    out.array(fields.len());
    for f in fields {
        match h.as_deref().and_then(|h| h.get(f)) {
            None => out.null(),
            Some(v) => out.bulk(v),
        }
    }
}

/// What HGETALL, HKEYS and HVALS reply for each pair.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Both,
    Fields,
    Values,
}

fn getall_generic(ctx: &mut Ctx<'_>, argv: &[Bytes], part: Part) {
    let (h, out) = hash_and_out(ctx, &argv[1], Access::Read);
    let h = match h {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) if part == Part::Both => return out.map(0),
        Ok(None) => return out.array(0),
        Ok(Some(h)) => h,
    };
    // HGETALL is a map (a flat array in RESP2); the others are arrays.
    if part == Part::Both {
        out.map(h.len());
    } else {
        out.array(h.len());
    }
    for (k, v) in h.iter() {
        if part != Part::Values {
            out.bulk(k);
        }
        if part != Part::Fields {
            out.bulk(v);
        }
    }
}

pub(super) fn hgetall(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    getall_generic(ctx, argv, Part::Both);
}

pub(super) fn hkeys(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    getall_generic(ctx, argv, Part::Fields);
}

pub(super) fn hvals(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    getall_generic(ctx, argv, Part::Values);
}

pub(super) fn hlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (h, out) = hash_and_out(ctx, &argv[1], Access::Read);
    match h {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(h) => out.int(len_i64(h.map_or(0, |h| h.len()))),
    }
}

pub(super) fn hstrlen(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (h, out) = hash_and_out(ctx, &argv[1], Access::Read);
    match h {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(h) => {
            let len = h.and_then(|h| h.get(&argv[2])).map_or(0, |v| v.len());
            out.int(len_i64(len));
        }
    }
}

pub(super) fn hexists(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (h, out) = hash_and_out(ctx, &argv[1], Access::Read);
    match h {
        Err(WrongType) => out.error(errors::WRONGTYPE),
        Ok(h) => out.int(i64::from(h.is_some_and(|h| h.contains(&argv[2])))),
    }
}
