//! SORT and SORT_RO.
//!
//! The handler parses the options, reads the key to sort into a [`SortInput`] (the
//! elements in the value's native order, and whether that order means anything), runs
//! [`sort_rows`] and writes the rows to the client or stores them as a list.
//!
//! Only lists, sets and sorted sets can be sorted; strings answer WRONGTYPE and a
//! missing key sorts as an empty list. Adding a type means adding its arm to
//! [`input_of`]; STORE always writes a list ([`list_value`]), shaped by
//! `list-max-listpack-size`.
//!
//! BY and GET patterns read keys the command table cannot declare, so a call using
//! them locks the whole keyspace before reading anything.
//!
//! Comparison rules (Redis 7.0): numeric sorting parses each element (or BY value)
//! with C `strtod` and breaks ties by comparing the elements as bytes; ALPHA compares
//! with `strcoll`, which in the C locale is `strcmp` (bytes up to the first NUL),
//! except that with STORE it compares binary-safe. A missing BY value sorts as 0, or
//! first in ALPHA mode.

use super::{c_str, SORT_NOT_DOUBLE};
use crate::args;
use crate::ctx::Ctx;
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::{class, List, Value};
use std::cmp::Ordering;

/// Whether the elements' order in the value is meaningful (lists, sorted sets) or
/// arbitrary (sets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Native,
    Unordered,
}

/// The elements of the value being sorted.
#[derive(Clone, Debug)]
pub struct SortInput {
    pub items: Vec<Bytes>,
    pub order: SortOrder,
}

/// SORT's options, as parsed.
#[derive(Clone, Debug, Default)]
pub struct SortOpts {
    pub desc: bool,
    pub alpha: bool,
    pub limit_start: i64,
    /// Negative: no limit.
    pub limit_count: i64,
    pub by: Option<Bytes>,
    /// BY with a pattern without `*`: keep the native order.
    pub dontsort: bool,
    pub gets: Vec<Bytes>,
    pub store: Option<Bytes>,
}

pub(super) fn sort(ctx: &mut Ctx, argv: &[Bytes]) {
    sort_generic(ctx, argv, false);
}

pub(super) fn sort_ro(ctx: &mut Ctx, argv: &[Bytes]) {
    sort_generic(ctx, argv, true);
}

/// Parses SORT's options (`argv[2..]`). STORE is not an option of SORT_RO.
pub fn parse_opts(opts: &[Bytes], readonly: bool) -> Result<SortOpts, &'static str> {
    let mut o = SortOpts {
        limit_count: -1,
        ..SortOpts::default()
    };
    let mut j = 0;
    while j < opts.len() {
        let left = opts.len() - j - 1;
        let a = &opts[j];
        if args::is(a, "asc") {
            o.desc = false;
        } else if args::is(a, "desc") {
            o.desc = true;
        } else if args::is(a, "alpha") {
            o.alpha = true;
        } else if args::is(a, "limit") && left >= 2 {
            o.limit_start = args::int(&opts[j + 1])?;
            o.limit_count = args::int(&opts[j + 2])?;
            j += 2;
        } else if !readonly && args::is(a, "store") && left >= 1 {
            o.store = Some(opts[j + 1].clone());
            j += 1;
        } else if args::is(a, "by") && left >= 1 {
            let p = opts[j + 1].clone();
            o.dontsort = !c_str(&p).contains(&b'*');
            o.by = Some(p);
            j += 1;
        } else if args::is(a, "get") && left >= 1 {
            o.gets.push(opts[j + 1].clone());
            j += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// Whether evaluating the options may read keys other than the declared ones.
fn reads_other_keys(o: &SortOpts) -> bool {
    let star = |p: &Bytes| c_str(p).contains(&b'*');
    o.by.as_ref().is_some_and(star) || o.gets.iter().any(|g| c_str(g) != b"#" && star(g))
}

/// The elements of a sortable value, or `Err` for a type SORT refuses.
fn input_of(v: &Value) -> Result<SortInput, ()> {
    match v {
        Value::Str(_) => Err(()),
        Value::List(l) => Ok(SortInput {
            items: l.iter().map(|e| Bytes::from(e.to_vec())).collect(),
            order: SortOrder::Native,
        }),
        // Iteration order: ascending for an intset, arbitrary for a hashtable.
        Value::Set(s) => Ok(SortInput {
            items: s.iter().map(|e| Bytes::from(e.to_vec())).collect(),
            order: SortOrder::Unordered,
        }),
        // Scaffolding: sorted sets become sortable with their type.
        Value::Hash(_) | Value::ZSet(_) | Value::Stream(_) => Err(()),
    }
}

/// A list value holding `items`, for STORE.
fn list_value(items: Vec<Bytes>, fill: i64) -> Value {
    Value::List(List::from_items(fill, items))
}

fn sort_generic(ctx: &mut Ctx, argv: &[Bytes], readonly: bool) {
    let opts = match parse_opts(&argv[2..], readonly) {
        Ok(o) => o,
        Err(e) => return ctx.error(e),
    };
    if reads_other_keys(&opts) {
        // Nothing has been read yet, so trading the declared locks for all of them
        // keeps the command atomic.
        ctx.lock_all();
    }
    let key = &argv[1];
    let input = match ctx.read(key) {
        None => SortInput {
            items: Vec::new(),
            order: SortOrder::Native,
        },
        Some(e) => match input_of(&e.value) {
            Ok(i) => i,
            Err(()) => return ctx.wrong_type(),
        },
    };
    // Redis also forces a sort of an unordered input for scripts; the context does
    // not say whether the caller is a script yet.
    let deterministic = opts.store.is_some();
    let rows = sort_rows(input, &opts, deterministic, &mut |k, field| {
        lookup_string(ctx, k, field)
    });
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    match &opts.store {
        None => {
            ctx.out.array(rows.len());
            for r in &rows {
                match r {
                    Some(b) => ctx.out.bulk(b),
                    None => ctx.out.null(),
                }
            }
        }
        Some(dst) => {
            let n = rows.len();
            if n > 0 {
                let items = rows.into_iter().map(Option::unwrap_or_default).collect();
                let list = list_value(items, ctx.settings.list_max_listpack_size);
                ctx.write(dst);
                ctx.set(dst, list, false);
                ctx.dirty += n as u64 - 1;
                ctx.notify(class::LIST, "sortstore", dst);
            } else if ctx.delete(dst) {
                ctx.notify(class::GENERIC, "del", dst);
            }
            ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
}

/// Reads a string key (or a hash field) for BY and GET, as Redis's
/// `lookupKeyByPattern` does: anything else is treated as missing.
fn lookup_string(ctx: &mut Ctx, key: &[u8], field: Option<&[u8]>) -> Option<Bytes> {
    let e = ctx.read(key)?;
    match (&e.value, field) {
        (Value::Str(s), None) => Some(Bytes::from(s.to_vec())),
        // Hash fields need the hash type.
        (Value::Str(_), Some(_)) => None,
        // Scaffolding: hash fields are read once hashes exist.
        (_, _) => None,
    }
}

/// Resolves a BY/GET pattern for element `subst`: `#` is the element itself; the
/// first `*` is replaced by the element; `key->field` reads a hash field. Patterns
/// without `*` resolve to nothing. Like Redis, the searches stop at a NUL byte.
pub fn resolve_pattern(
    pattern: &[u8],
    subst: &Bytes,
    lookup: &mut PatternLookup<'_>,
) -> Option<Bytes> {
    let cpat = c_str(pattern);
    if cpat == b"#" {
        return Some(subst.clone());
    }
    let star = cpat.iter().position(|&b| b == b'*')?;
    let after = &cpat[star + 1..];
    let field_at = after
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| f + 2 < cpat.len());
    let (key_end, field) = match field_at {
        Some(f) => (f, Some(&pattern[f + 2..])),
        None => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(key_end + subst.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    lookup(&key, field)
}

/// C `strtod` as SORT uses it: leading white space is skipped, the rest must parse
/// completely (the string ends at a NUL); the empty string is 0; NaN, overflow and
/// underflow are errors.
fn sort_score(b: &[u8]) -> Option<f64> {
    let s = c_str(b);
    if s.is_empty() {
        return Some(0.0);
    }
    let ws = s
        .iter()
        .take_while(|&&c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    shoal_ds::num::parse_f64(&s[ws..])
}

/// `strcmp`: bytes up to the first NUL.
fn cmp_c(a: &[u8], b: &[u8]) -> Ordering {
    c_str(a).cmp(c_str(b))
}

/// Reads a string key, or with a field a hash field, for BY and GET.
pub type PatternLookup<'a> = dyn FnMut(&[u8], Option<&[u8]>) -> Option<Bytes> + 'a;

struct Row {
    obj: Bytes,
    score: f64,
    cmp: Option<Bytes>,
}

/// Sorts `input` under `opts` and returns the output rows: the elements, or with GET
/// one row per pattern per element (`None` where the pattern resolves to nothing).
/// `deterministic` (STORE, scripts) forces an ALPHA sort of an unordered input that
/// BY asked not to sort. `lookup(key, field)` reads a string key or a hash field.
pub fn sort_rows(
    input: SortInput,
    opts: &SortOpts,
    deterministic: bool,
    lookup: &mut PatternLookup<'_>,
) -> Result<Vec<Option<Bytes>>, &'static str> {
    let mut dontsort = opts.dontsort;
    let mut alpha = opts.alpha;
    let mut by = opts.by.as_ref();
    if dontsort && input.order == SortOrder::Unordered && deterministic {
        dontsort = false;
        alpha = true;
        by = None;
    }
    let len = i64::try_from(input.items.len()).unwrap_or(i64::MAX);
    let mut start = opts.limit_start.max(0);
    let mut end = if opts.limit_count < 0 {
        len - 1
    } else {
        start.saturating_add(opts.limit_count) - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    let mut rows: Vec<Row> = input
        .items
        .into_iter()
        .map(|obj| Row {
            obj,
            score: 0.0,
            cmp: None,
        })
        .collect();
    if dontsort {
        if input.order == SortOrder::Native && opts.desc {
            rows.reverse();
        }
    } else {
        let mut bad = false;
        for r in rows.iter_mut() {
            let byval = match by {
                Some(p) => match resolve_pattern(p, &r.obj, lookup) {
                    Some(v) => v,
                    None => continue,
                },
                None => r.obj.clone(),
            };
            if alpha {
                if by.is_some() {
                    r.cmp = Some(byval);
                }
            } else {
                match sort_score(&byval) {
                    Some(s) => r.score = s,
                    None => bad = true,
                }
            }
        }
        if bad {
            return Err(SORT_NOT_DOUBLE);
        }
        let binary = opts.store.is_some();
        let by_pattern = by.is_some();
        rows.sort_by(|a, b| {
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.obj.cmp(&b.obj))
            } else if by_pattern {
                match (&a.cmp, &b.cmp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) if binary => x.cmp(y),
                    (Some(x), Some(y)) => cmp_c(x, y),
                }
            } else if binary {
                a.obj.cmp(&b.obj)
            } else {
                cmp_c(&a.obj, &b.obj)
            };
            if opts.desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    let mut out = Vec::new();
    if end < start || start < 0 {
        return Ok(out);
    }
    // start and end are now within 0..len.
    for r in &rows[start as usize..=end as usize] {
        if opts.gets.is_empty() {
            out.push(Some(r.obj.clone()));
        }
        for g in &opts.gets {
            out.push(resolve_pattern(g, &r.obj, lookup));
        }
    }
    Ok(out)
}
