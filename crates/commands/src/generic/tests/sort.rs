//! SORT and SORT_RO: the handler on the types that exist today, and the sorting
//! machinery on its own with lists and sets described as [`SortInput`]s.

use super::*;
use crate::generic::{parse_sort_opts, resolve_pattern, sort_rows, SortInput, SortOrder};
use crate::testing::{err, int, TestDb};
use bytes::Bytes;
use std::collections::HashMap;

#[test]
fn sort_of_missing_and_string_keys() {
    let mut t = TestDb::default();
    assert_eq!(t.cmd(&["SORT", "nope"]), arr(&[]));
    assert_eq!(t.cmd(&["SORT_RO", "nope"]), arr(&[]));
    assert_eq!(
        t.cmd(&[
            "SORT", "nope", "GET", "#", "GET", "x*", "BY", "y*", "DESC", "ASC", "ALPHA", "LIMIT",
            "0", "10"
        ]),
        arr(&[])
    );
    put(&mut t, 0, "s", "1");
    assert_eq!(t.cmd(&["SORT", "s"]), err(crate::errors::WRONGTYPE));
    assert_eq!(
        t.cmd(&["SORT_RO", "s", "BY", "w*"]),
        err(crate::errors::WRONGTYPE)
    );
}

#[test]
fn sort_store_of_nothing_deletes_the_destination() {
    let mut t = TestDb::default();
    put(&mut t, 0, "dst", "x");
    assert_eq!(t.cmd(&["SORT", "nope", "STORE", "dst"]), int(0));
    assert_eq!(get(&t, 0, "dst"), None);
    assert_eq!(t.dirty, 1);
    assert_eq!(t.cmd(&["SORT", "nope", "BY", "w*", "STORE", "dst"]), int(0));
    assert_eq!(t.dirty, 1);
}

#[test]
fn sort_option_errors() {
    let mut t = TestDb::default();
    put(&mut t, 0, "s", "1");
    let syn = err("ERR syntax error");
    let notint = err("ERR value is not an integer or out of range");
    assert_eq!(t.cmd(&["SORT", "nope", "foo"]), syn);
    // Options are parsed before the type check.
    assert_eq!(t.cmd(&["SORT", "s", "foo"]), syn);
    assert_eq!(t.cmd(&["SORT", "nope", "LIMIT", "1"]), syn);
    assert_eq!(t.cmd(&["SORT", "nope", "LIMIT", "a", "b"]), notint);
    assert_eq!(t.cmd(&["SORT", "nope", "LIMIT", "0", "b"]), notint);
    assert_eq!(t.cmd(&["SORT", "s", "LIMIT", "a", "1"]), notint);
    assert_eq!(t.cmd(&["SORT", "nope", "BY"]), syn);
    assert_eq!(t.cmd(&["SORT", "nope", "GET"]), syn);
    assert_eq!(t.cmd(&["SORT", "nope", "STORE"]), syn);
    assert_eq!(t.cmd(&["SORT_RO", "nope", "STORE", "dst"]), syn);
    assert_eq!(
        t.cmd(&["SORT"]),
        err("ERR wrong number of arguments for 'sort' command")
    );
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn opts(args: &[&str]) -> crate::generic::SortOpts {
    let v: Vec<Bytes> = args.iter().map(|s| b(s)).collect();
    parse_sort_opts(&v, false).unwrap()
}

fn list(items: &[&str]) -> SortInput {
    SortInput {
        items: items.iter().map(|s| b(s)).collect(),
        order: SortOrder::Native,
    }
}

fn set(items: &[&str]) -> SortInput {
    SortInput {
        items: items.iter().map(|s| b(s)).collect(),
        order: SortOrder::Unordered,
    }
}

/// Runs the sorter with string keys from `kv` (and hash fields as "key->field").
fn run(
    input: SortInput,
    args: &[&str],
    kv: &[(&str, &str)],
) -> Result<Vec<Option<String>>, &'static str> {
    let map: HashMap<String, String> = kv
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let o = opts(args);
    let deterministic = o.store.is_some();
    let rows = sort_rows(input, &o, deterministic, &mut |k, f| {
        let mut key = String::from_utf8_lossy(k).into_owned();
        if let Some(f) = f {
            key = format!("{key}->{}", String::from_utf8_lossy(f));
        }
        map.get(&key).map(|v| b(v))
    })?;
    Ok(rows
        .into_iter()
        .map(|r| r.map(|x| String::from_utf8(x.to_vec()).unwrap()))
        .collect())
}

fn some(v: &[&str]) -> Vec<Option<String>> {
    v.iter().map(|s| Some(s.to_string())).collect()
}

#[test]
fn numeric_and_alpha_sorting() {
    assert_eq!(
        run(list(&["3", "1", "2"]), &[], &[]),
        Ok(some(&["1", "2", "3"]))
    );
    assert_eq!(
        run(list(&["3", "1", "2"]), &["DESC"], &[]),
        Ok(some(&["3", "2", "1"]))
    );
    assert_eq!(
        run(
            list(&["10", "9", "1e1", "-inf", " 5", "", "0x10"]),
            &[],
            &[]
        ),
        Ok(some(&["-inf", "", " 5", "9", "10", "1e1", "0x10"]))
    );
    assert_eq!(
        run(list(&["a", "1"]), &[], &[]),
        Err(crate::generic::SORT_NOT_DOUBLE)
    );
    assert_eq!(
        run(list(&["nan"]), &[], &[]),
        Err(crate::generic::SORT_NOT_DOUBLE)
    );
    assert_eq!(
        run(list(&["1 "]), &[], &[]),
        Err(crate::generic::SORT_NOT_DOUBLE)
    );
    assert_eq!(
        run(list(&["1e400"]), &[], &[]),
        Err(crate::generic::SORT_NOT_DOUBLE)
    );
    assert_eq!(
        run(list(&["b", "a", "B", "1"]), &["ALPHA"], &[]),
        Ok(some(&["1", "B", "a", "b"]))
    );
    assert_eq!(
        run(
            list(&["b", "a", "c"]),
            &["ALPHA", "DESC", "LIMIT", "0", "2"],
            &[]
        ),
        Ok(some(&["c", "b"]))
    );
}

#[test]
fn limit_edges() {
    let l = || list(&["3", "1", "2"]);
    assert_eq!(run(l(), &["LIMIT", "1", "1"], &[]), Ok(some(&["2"])));
    assert_eq!(
        run(l(), &["DESC", "LIMIT", "1", "1"], &[]),
        Ok(some(&["2"]))
    );
    assert_eq!(run(l(), &["LIMIT", "5", "1"], &[]), Ok(vec![]));
    assert_eq!(run(l(), &["LIMIT", "-5", "2"], &[]), Ok(some(&["1", "2"])));
    assert_eq!(
        run(l(), &["LIMIT", "0", "-3"], &[]),
        Ok(some(&["1", "2", "3"]))
    );
    assert_eq!(run(l(), &["LIMIT", "0", "0"], &[]), Ok(vec![]));
    assert_eq!(
        run(l(), &["LIMIT", "2", "9223372036854775807"], &[]),
        Ok(some(&["3"]))
    );
    assert_eq!(run(list(&[]), &["LIMIT", "0", "5"], &[]), Ok(vec![]));
}

#[test]
fn by_nosort_keeps_native_order() {
    let l = || list(&["3", "1", "2"]);
    assert_eq!(run(l(), &["BY", "nosort"], &[]), Ok(some(&["3", "1", "2"])));
    assert_eq!(
        run(l(), &["BY", "nosort", "DESC"], &[]),
        Ok(some(&["2", "1", "3"]))
    );
    assert_eq!(
        run(l(), &["BY", "nosort", "DESC", "LIMIT", "1", "5"], &[]),
        Ok(some(&["1", "3"]))
    );
    // A set is not reordered by DESC when not sorted...
    assert_eq!(
        run(set(&["b", "c", "a"]), &["BY", "nosort", "DESC"], &[]),
        Ok(some(&["b", "c", "a"]))
    );
    // ...but is sorted (ALPHA) when stored, so that replicas agree.
    assert_eq!(
        run(set(&["b", "c", "a"]), &["BY", "nosort", "STORE", "d"], &[]),
        Ok(some(&["a", "b", "c"]))
    );
}

#[test]
fn by_and_get_patterns() {
    let kv = [
        ("w_1", "10"),
        ("w_2", "5"),
        ("x", "1"),
        ("h_1->f", "z"),
        ("h_2->f", "y"),
    ];
    let l = || list(&["3", "1", "2"]);
    // A missing weight sorts as 0.
    assert_eq!(run(l(), &["BY", "w_*"], &kv), Ok(some(&["3", "2", "1"])));
    assert_eq!(
        run(l(), &["BY", "w_*", "GET", "#", "GET", "w_*"], &kv),
        Ok(vec![
            Some("3".into()),
            None,
            Some("2".into()),
            Some("5".into()),
            Some("1".into()),
            Some("10".into())
        ])
    );
    // GET of a fixed key gives nothing.
    assert_eq!(
        run(l(), &["BY", "nosort", "GET", "x"], &kv),
        Ok(vec![None, None, None])
    );
    // Hash fields; ALPHA with BY puts missing values first.
    assert_eq!(
        run(l(), &["BY", "h_*->f", "ALPHA"], &kv),
        Ok(some(&["3", "2", "1"]))
    );
    assert_eq!(
        run(l(), &["BY", "nosort", "GET", "h_*->f"], &kv),
        Ok(vec![None, Some("z".into()), Some("y".into())])
    );
    // A BY value that is not a number fails the numeric sort.
    assert_eq!(
        run(l(), &["BY", "h_*->f"], &kv),
        Err(crate::generic::SORT_NOT_DOUBLE)
    );
}

#[test]
fn pattern_resolution() {
    let mut seen = Vec::new();
    let mut lookup = |k: &[u8], f: Option<&[u8]>| {
        seen.push((k.to_vec(), f.map(|f| f.to_vec())));
        None
    };
    let s = b("X");
    assert_eq!(resolve_pattern(b"#", &s, &mut lookup), Some(b("X")));
    assert_eq!(resolve_pattern(b"#\0y", &s, &mut lookup), Some(b("X")));
    assert_eq!(resolve_pattern(b"nostar", &s, &mut lookup), None);
    resolve_pattern(b"a*b*c", &s, &mut lookup);
    resolve_pattern(b"h*->fld", &s, &mut lookup);
    resolve_pattern(b"h*->", &s, &mut lookup);
    resolve_pattern(b"h->x*", &s, &mut lookup);
    assert_eq!(
        seen,
        vec![
            (b"aXb*c".to_vec(), None),
            (b"hX".to_vec(), Some(b"fld".to_vec())),
            (b"hX->".to_vec(), None),
            (b"h->xX".to_vec(), None),
        ]
    );
}
