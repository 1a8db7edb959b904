//! Geo commands, on sorted sets whose scores are 52-bit geohashes ([`hash`]):
//! GEOADD GEODIST GEOHASH GEOPOS GEORADIUS GEORADIUS_RO GEORADIUSBYMEMBER
//! GEORADIUSBYMEMBER_RO GEOSEARCH GEOSEARCHSTORE.
//!
//! As in Redis 7.0.15: GEOADD is ZADD with computed scores (it runs the ZADD code
//! and propagates as that ZADD); the searches ([`search`], Redis's
//! `georadiusGeneric`) look the key up first, parse the options in one pass with the
//! same precedence and error texts, collect members box by box over the nine
//! boxes covering the area (center, N, S, E, W, NE, NW, SE, SW, each scanned in
//! score order), then sort by distance if asked (or when COUNT is given without
//! ANY). Distances are replied with `%.4f`, coordinates in Redis's "human" long
//! double form (a RESP3 double in RESP3), hashes as integers.

pub mod hash;

use crate::args::{self, kw};
use crate::ctx::{Ctx, Propagate, WrongType};
use crate::errors;
use crate::zsets::{limits, reply_member_scores, zadd_argv, zset_and_out};
use bytes::Bytes;
use hash::{Shape, ShapeKind};
use shoal_ds::num::{format_double_fixed, format_double_human};
use shoal_ds::smallbytes::SmallBytes;
use shoal_keyspace::{class, Access, Value, ZSet};
use shoal_resp::{Proto, ReplyWriter};

use crate::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("geoadd", geoadd),
    ("geodist", geodist),
    ("geohash", geohash),
    ("geopos", geopos),
    ("georadius", georadius),
    ("georadius_ro", georadius_ro),
    ("georadiusbymember", georadiusbymember),
    ("georadiusbymember_ro", georadiusbymember_ro),
    ("geosearch", geosearch),
    ("geosearchstore", geosearchstore),
];

const UNIT_ERR: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const NO_MEMBER: &str = "ERR could not decode requested zset member";

/// Meters per unit (`m`, `km`, `ft`, `mi`).
fn unit(arg: &[u8]) -> Result<f64, &'static str> {
    if kw(arg, "m") {
        Ok(1.0)
    } else if kw(arg, "km") {
        Ok(1000.0)
    } else if kw(arg, "ft") {
        Ok(0.3048)
    } else if kw(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(UNIT_ERR)
    }
}

/// A longitude/latitude pair, range-checked.
fn long_lat(a: &[Bytes]) -> Result<[f64; 2], String> {
    let x = args::float(&a[0]).map_err(str::to_string)?;
    let y = args::float(&a[1]).map_err(str::to_string)?;
    if !(hash::LONG_MIN..=hash::LONG_MAX).contains(&x)
        || !(hash::LAT_MIN..=hash::LAT_MAX).contains(&y)
    {
        return Err(format!(
            "ERR invalid longitude,latitude pair {},{}",
            format_double_fixed(x, 6),
            format_double_fixed(y, 6)
        ));
    }
    Ok([x, y])
}

/// `radius unit` -> (radius, meters per unit).
fn distance_arg(a: &[Bytes]) -> Result<(f64, f64), &'static str> {
    let d = args::float(&a[0]).map_err(|_| "ERR need numeric radius")?;
    if d < 0.0 {
        return Err("ERR radius cannot be negative");
    }
    Ok((d, unit(&a[1])?))
}

/// `width height unit` -> (width, height, meters per unit).
fn box_arg(a: &[Bytes]) -> Result<(f64, f64, f64), &'static str> {
    let w = args::float(&a[0]).map_err(|_| "ERR need numeric width")?;
    let h = args::float(&a[1]).map_err(|_| "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err("ERR height or width cannot be negative");
    }
    Ok((w, h, unit(&a[2])?))
}

/// A coordinate as Redis's `addReplyHumanLongDouble` sends it.
fn reply_coord(out: &mut ReplyWriter, v: f64) {
    let text = format_double_human(v);
    if out.proto == Proto::Resp3 {
        out.raw(b",");
        out.raw(text.as_bytes());
        out.raw(b"\r\n");
    } else {
        out.bulk(text.as_bytes());
    }
}

fn reply_distance(out: &mut ReplyWriter, d: f64) {
    out.bulk(format_double_fixed(d, 4).as_bytes());
}

fn geoadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (mut xx, mut nx) = (false, false);
    let mut idx = 2;
    while idx < argv.len() {
        let o = &argv[idx];
        if kw(o, "nx") {
            nx = true;
        } else if kw(o, "xx") {
            xx = true;
        } else if !kw(o, "ch") {
            break;
        }
        idx += 1;
    }
    if !(argv.len() - idx).is_multiple_of(3) || (xx && nx) {
        return ctx.error(errors::SYNTAX);
    }
    let mut zargv = Vec::with_capacity(idx + (argv.len() - idx) / 3 * 2);
    zargv.push(Bytes::from_static(b"zadd"));
    zargv.extend_from_slice(&argv[1..idx]);
    for t in argv[idx..].chunks_exact(3) {
        let xy = match long_lat(&t[..2]) {
            Ok(xy) => xy,
            Err(e) => return ctx.error(&e),
        };
        let bits = hash::encode_wgs84(xy[0], xy[1]).map_or(0, hash::align52);
        zargv.push(Bytes::from(bits.to_string()));
        zargv.push(t[2].clone());
    }
    zadd_argv(ctx, &zargv);
    if ctx.dirty > 0 {
        ctx.propagate = Propagate::Rewritten(vec![zargv]);
    }
}

fn geodist(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let to_meter = match argv.len() {
        4 => 1.0,
        5 => match unit(&argv[4]) {
            Ok(u) => u,
            Err(e) => return ctx.error(e),
        },
        _ => return ctx.error(errors::SYNTAX),
    };
    let (z, out) = zset_and_out(ctx, &argv[1], Access::Read);
    let z = match z {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(None) => return out.null(),
        Ok(Some(z)) => z,
    };
    match (z.score(&argv[2]), z.score(&argv[3])) {
        (Some(a), Some(b)) => {
            let [x1, y1] = hash::decode_score(a);
            let [x2, y2] = hash::decode_score(b);
            reply_distance(out, hash::distance(x1, y1, x2, y2) / to_meter);
        }
        _ => out.null(),
    }
}

fn geohash(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    reply_member_scores(ctx, argv, |out, s| match s {
        Some(s) => out.bulk(&hash::geohash_string(s)),
        None => out.null(),
    });
}

fn geopos(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    reply_member_scores(ctx, argv, |out, s| match s {
        Some(s) => {
            let [x, y] = hash::decode_score(s);
            out.array(2);
            reply_coord(out, x);
            reply_coord(out, y);
        }
        None => out.null_array(),
    });
}

/// Which search command is running (Redis's `RADIUS_*` / `GEOSEARCH*` flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Radius { store_ok: bool },
    ByMember { store_ok: bool },
    Search,
    SearchStore,
}

fn georadius(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    search(ctx, argv, 1, Kind::Radius { store_ok: true });
}

fn georadius_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    search(ctx, argv, 1, Kind::Radius { store_ok: false });
}

fn georadiusbymember(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    search(ctx, argv, 1, Kind::ByMember { store_ok: true });
}

fn georadiusbymember_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    search(ctx, argv, 1, Kind::ByMember { store_ok: false });
}

fn geosearch(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    search(ctx, argv, 1, Kind::Search);
}

fn geosearchstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    search(ctx, argv, 2, Kind::SearchStore);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// One member found in the area.
struct Point {
    member: SmallBytes,
    score: f64,
    dist: f64,
    xy: [f64; 2],
}

/// Members of `z` inside `shape`, box by box in Redis's order; stops once
/// `limit` (ANY's count, 0: none) members are found.
fn collect(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let boxes = hash::search_boxes(shape);
    let mut found: Vec<Point> = Vec::new();
    let mut last = 0usize;
    for (i, b) in boxes.iter().enumerate() {
        if !hash::is_search_box(b) {
            continue;
        }
        // Huge radii can make neighbours coincide; Redis skips a box equal to the
        // last one processed (never comparing with the center, index 0).
        if last != 0 && *b == boxes[last] {
            continue;
        }
        if limit > 0 && found.len() >= limit {
            break;
        }
        let (min, max) = hash::box_scores(*b);
        let (start, end) = z.find_range(min <= max, &|s, _| s >= min, &|s, _| s < max, false);
        let mut full = false;
        z.range(start, end, false, &mut |m, s| {
            if full {
                return;
            }
            let [x, y] = hash::decode_score(s);
            if let Some(dist) = shape.contains(x, y) {
                found.push(Point {
                    member: SmallBytes::from(m),
                    score: s,
                    dist,
                    xy: [x, y],
                });
            }
            if limit > 0 && found.len() >= limit {
                full = true;
            }
        });
        last = i;
    }
    found
}

/// Makes sure every key that may follow a STORE or STOREDIST word is locked. The
/// command table declares the key after the first such word, but the last one
/// wins (`... STORE a STORE b` stores at b), so a repeated option trades the
/// declared locks for all of them, before anything has been read.
fn lock_store_keys(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    for w in args.windows(2) {
        if kw(&w[0], "store") || kw(&w[0], "storedist") {
            let idx = ctx.shard_idx(&w[1]);
            if ctx.locked.shard(idx).is_none() {
                ctx.lock_all();
                return;
            }
        }
    }
}

/// Redis's `georadiusGeneric`.
fn search(ctx: &mut Ctx<'_>, argv: &[Bytes], src_idx: usize, kind: Kind) {
    let src = &argv[src_idx];
    if matches!(
        kind,
        Kind::Radius { store_ok: true } | Kind::ByMember { store_ok: true }
    ) {
        lock_store_keys(ctx, &argv[src_idx + 1..]);
    }
    let lim = limits(ctx.settings);
    let (z, out) = zset_and_out(ctx, src, Access::Read);
    let z: Option<&ZSet> = match z {
        Err(WrongType) => return out.error(errors::WRONGTYPE),
        Ok(z) => z.map(|z| &*z),
    };
    let mut xy = [0.0, 0.0];
    let mut shape_kind = ShapeKind::Radius(0.0);
    let mut conversion = 1.0;
    let mut storekey: Option<Bytes> = None;
    let mut storedist = false;
    let base = match kind {
        Kind::Radius { .. } => {
            match long_lat(&argv[2..4]) {
                Ok(p) => xy = p,
                Err(e) => return out.error(&e),
            }
            match distance_arg(&argv[4..6]) {
                Ok((r, c)) => {
                    shape_kind = ShapeKind::Radius(r);
                    conversion = c;
                }
                Err(e) => return out.error(e),
            }
            6
        }
        Kind::ByMember { .. } => {
            if let Some(z) = z {
                match z.score(&argv[2]) {
                    Some(s) => xy = hash::decode_score(s),
                    None => return out.error(NO_MEMBER),
                }
                match distance_arg(&argv[3..5]) {
                    Ok((r, c)) => {
                        shape_kind = ShapeKind::Radius(r);
                        conversion = c;
                    }
                    Err(e) => return out.error(e),
                }
            }
            5
        }
        Kind::Search => 2,
        Kind::SearchStore => {
            storekey = Some(argv[1].clone());
            3
        }
    };
    let is_search = matches!(kind, Kind::Search | Kind::SearchStore);
    let store_ok = matches!(
        kind,
        Kind::Radius { store_ok: true } | Kind::ByMember { store_ok: true }
    );
    let (mut withdist, mut withhash, mut withcoord) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let rest = &argv[base.min(argv.len())..];
    let remaining = rest.len();
    let mut i = 0;
    while i < remaining {
        let a = &rest[i];
        if kw(a, "withdist") {
            withdist = true;
        } else if kw(a, "withhash") {
            withhash = true;
        } else if kw(a, "withcoord") {
            withcoord = true;
        } else if kw(a, "any") {
            any = true;
        } else if kw(a, "asc") {
            sort = Sort::Asc;
        } else if kw(a, "desc") {
            sort = Sort::Desc;
        } else if kw(a, "count") && i + 1 < remaining {
            match args::int(&rest[i + 1]) {
                Ok(c) if c > 0 => count = c,
                Ok(_) => return out.error("ERR COUNT must be > 0"),
                Err(e) => return out.error(e),
            }
            i += 1;
        } else if (kw(a, "store") || kw(a, "storedist")) && i + 1 < remaining && store_ok {
            storekey = Some(rest[i + 1].clone());
            storedist = kw(a, "storedist");
            i += 1;
        } else if kw(a, "storedist") && kind == Kind::SearchStore {
            storedist = true;
        } else if kw(a, "frommember") && i + 1 < remaining && is_search && !fromloc {
            if let Some(z) = z {
                match z.score(&rest[i + 1]) {
                    Some(s) => xy = hash::decode_score(s),
                    None => return out.error(NO_MEMBER),
                }
            }
            frommember = true;
            i += 1;
        } else if kw(a, "fromlonlat") && i + 2 < remaining && is_search && !frommember {
            match long_lat(&rest[i + 1..i + 3]) {
                Ok(p) => xy = p,
                Err(e) => return out.error(&e),
            }
            fromloc = true;
            i += 2;
        } else if kw(a, "byradius") && i + 2 < remaining && is_search && !bybox {
            match distance_arg(&rest[i + 1..i + 3]) {
                Ok((r, c)) => {
                    shape_kind = ShapeKind::Radius(r);
                    conversion = c;
                }
                Err(e) => return out.error(e),
            }
            byradius = true;
            i += 2;
        } else if kw(a, "bybox") && i + 3 < remaining && is_search && !byradius {
            match box_arg(&rest[i + 1..i + 4]) {
                Ok((w, h, c)) => {
                    shape_kind = ShapeKind::Box {
                        width: w,
                        height: h,
                    };
                    conversion = c;
                }
                Err(e) => return out.error(e),
            }
            bybox = true;
            i += 3;
        } else {
            return out.error(errors::SYNTAX);
        }
        i += 1;
    }
    // Redis names the command as the client spelled it.
    let name = String::from_utf8_lossy(&argv[0]).into_owned();
    if storekey.is_some() && (withdist || withhash || withcoord) {
        let what = if kind == Kind::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return out.error(&format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        ));
    }
    if is_search && !(frommember || fromloc) {
        return out.error(&format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        ));
    }
    if is_search && !(byradius || bybox) {
        return out.error(&format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        ));
    }
    if any && count == 0 {
        return out.error("ERR the ANY argument requires COUNT argument");
    }
    let Some(z) = z else {
        match storekey {
            Some(dst) => {
                if ctx.delete(&dst) {
                    ctx.notify(class::GENERIC, "del", &dst);
                }
                ctx.out.int(0);
            }
            None => out.array(0),
        }
        return;
    };
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let shape = Shape {
        xy,
        conversion,
        kind: shape_kind,
    };
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let mut found = collect(z, &shape, if any { count } else { 0 });
    if found.is_empty() && storekey.is_none() {
        return out.array(0);
    }
    let returned = if count == 0 {
        found.len()
    } else {
        found.len().min(count)
    };
    match sort {
        Sort::None => {}
        // Ties keep their order of discovery (glibc's qsort is a merge sort here).
        Sort::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
    }
    found.truncate(returned);
    for p in found.iter_mut() {
        p.dist /= conversion;
    }
    let Some(dst) = storekey else {
        let options = usize::from(withdist) + usize::from(withhash) + usize::from(withcoord);
        out.array(returned);
        for p in &found {
            if options > 0 {
                out.array(options + 1);
            }
            out.bulk(&p.member);
            if withdist {
                reply_distance(out, p.dist);
            }
            if withhash {
                out.int(hash::c_to_u64(p.score) as i64);
            }
            if withcoord {
                out.array(2);
                reply_coord(out, p.xy[0]);
                reply_coord(out, p.xy[1]);
            }
        }
        return;
    };
    if returned > 0 {
        // A member is found once unless two searched boxes coincide; keep the first.
        let mut seen = std::collections::HashSet::new();
        let items = found
            .into_iter()
            .filter(|p| seen.insert(p.member.clone()))
            .map(|p| (if storedist { p.dist } else { p.score }, p.member))
            .collect();
        let now = ctx.now;
        ctx.write(&dst);
        ctx.db(&dst).set(
            &dst,
            Value::ZSet(ZSet::from_entries(items, lim)),
            false,
            now,
        );
        let event = if is_search {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        ctx.notify(class::ZSET, event, &dst);
        ctx.dirty += returned as u64;
    } else if ctx.delete(&dst) {
        ctx.notify(class::GENERIC, "del", &dst);
    }
    ctx.out.int(returned as i64);
}

#[cfg(test)]
mod tests;
