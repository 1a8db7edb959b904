//! The compact blob decoders (listpack, ziplist, intset, zipmap) and the value
//! types built on them, on blobs made here by test-only builders written from
//! the format facts; corrupt blobs must give errors, never panics.

use shoal_keyspace::Value;
use shoal_rdb::consts::*;
use shoal_rdb::decode::value_from_bytes;
use shoal_rdb::encode::{write_len, write_string};
use shoal_rdb::legacy::{intset_members, ziplist_entries, zipmap_pairs};
use shoal_rdb::listpack::{Item, Reader};
use shoal_rdb::ReadOptions;

#[derive(Clone, Copy)]
enum E<'a> {
    S(&'a [u8]),
    I(i64),
}

// ---- listpack builder ----

fn lp_backlen(l: usize) -> Vec<u8> {
    let mut groups = vec![(l & 127) as u8];
    let mut rest = l >> 7;
    while rest > 0 {
        groups.push((rest & 127) as u8);
        rest >>= 7;
    }
    groups.reverse();
    for g in groups.iter_mut().skip(1) {
        *g |= 0x80;
    }
    groups
}

fn lp_entry(e: E) -> Vec<u8> {
    let mut b = Vec::new();
    match e {
        E::I(v) if (0..=127).contains(&v) => b.push(v as u8),
        E::I(v) if (-4096..4096).contains(&v) => {
            let u = (v as u16) & 0x1fff;
            b.extend([0xc0 | (u >> 8) as u8, u as u8]);
        }
        E::I(v) if i16::try_from(v).is_ok() => {
            b.push(0xf1);
            b.extend((v as i16).to_le_bytes());
        }
        E::I(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
            b.push(0xf2);
            b.extend(&(v as i32).to_le_bytes()[..3]);
        }
        E::I(v) if i32::try_from(v).is_ok() => {
            b.push(0xf3);
            b.extend((v as i32).to_le_bytes());
        }
        E::I(v) => {
            b.push(0xf4);
            b.extend(v.to_le_bytes());
        }
        E::S(s) if s.len() < 64 => {
            b.push(0x80 | s.len() as u8);
            b.extend(s);
        }
        E::S(s) if s.len() < 4096 => {
            b.extend([0xe0 | (s.len() >> 8) as u8, s.len() as u8]);
            b.extend(s);
        }
        E::S(s) => {
            b.push(0xf0);
            b.extend((s.len() as u32).to_le_bytes());
            b.extend(s);
        }
    }
    let bl = lp_backlen(b.len());
    b.extend(bl);
    b
}

fn listpack(items: &[E]) -> Vec<u8> {
    let mut body: Vec<u8> = items.iter().flat_map(|&e| lp_entry(e)).collect();
    let mut b = ((body.len() + 7) as u32).to_le_bytes().to_vec();
    b.extend((items.len().min(65535) as u16).to_le_bytes());
    b.append(&mut body);
    b.push(0xff);
    b
}

// ---- ziplist builder ----

fn zl_entry(e: E, prevlen: usize, big_prevlen: bool) -> Vec<u8> {
    let mut b = Vec::new();
    if prevlen < 254 && !big_prevlen {
        b.push(prevlen as u8);
    } else {
        b.push(254);
        b.extend((prevlen as u32).to_le_bytes());
    }
    match e {
        E::I(v) if (0..=12).contains(&v) => b.push(0xf1 + v as u8),
        E::I(v) if i8::try_from(v).is_ok() => b.extend([0xfe, v as u8]),
        E::I(v) if i16::try_from(v).is_ok() => {
            b.push(0xc0);
            b.extend((v as i16).to_le_bytes());
        }
        E::I(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
            b.push(0xf0);
            b.extend(&(v as i32).to_le_bytes()[..3]);
        }
        E::I(v) if i32::try_from(v).is_ok() => {
            b.push(0xd0);
            b.extend((v as i32).to_le_bytes());
        }
        E::I(v) => {
            b.push(0xe0);
            b.extend(v.to_le_bytes());
        }
        E::S(s) if s.len() < 64 => {
            b.push(s.len() as u8);
            b.extend(s);
        }
        E::S(s) if s.len() < 16384 => {
            b.extend([0x40 | (s.len() >> 8) as u8, s.len() as u8]);
            b.extend(s);
        }
        E::S(s) => {
            b.push(0x80);
            b.extend((s.len() as u32).to_be_bytes());
            b.extend(s);
        }
    }
    b
}

fn ziplist(items: &[E]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0;
    let mut tail = 10;
    for (i, &e) in items.iter().enumerate() {
        tail = 10 + body.len();
        let ent = zl_entry(e, prev, i % 3 == 2);
        prev = ent.len();
        body.extend(ent);
    }
    let mut b = ((body.len() + 11) as u32).to_le_bytes().to_vec();
    b.extend((tail as u32).to_le_bytes());
    b.extend((items.len().min(65535) as u16).to_le_bytes());
    b.extend(body);
    b.push(0xff);
    b
}

fn intset(width: u32, vals: &[i64]) -> Vec<u8> {
    let mut b = width.to_le_bytes().to_vec();
    b.extend((vals.len() as u32).to_le_bytes());
    for v in vals {
        b.extend(&v.to_le_bytes()[..width as usize]);
    }
    b
}

fn zipmap(pairs: &[(&[u8], &[u8])], free: u8) -> Vec<u8> {
    let mut b = vec![pairs.len().min(254) as u8];
    let len = |b: &mut Vec<u8>, n: usize| {
        if n < 254 {
            b.push(n as u8);
        } else {
            b.push(254);
            b.extend((n as u32).to_le_bytes());
        }
    };
    for (k, v) in pairs {
        len(&mut b, k.len());
        b.extend(*k);
        len(&mut b, v.len());
        b.push(free);
        b.extend(*v);
        b.extend(std::iter::repeat_n(0u8, free as usize));
    }
    b.push(0xff);
    b
}

fn sample() -> Vec<E<'static>> {
    static LONG: [u8; 5000] = [b'q'; 5000];
    static MID: [u8; 300] = [b'm'; 300];
    let mut v: Vec<E> = [
        0,
        1,
        12,
        13,
        127,
        128,
        -1,
        4095,
        -4096,
        4096,
        32767,
        -32768,
        8388607,
        -8388608,
        i32::MAX as i64,
        i32::MIN as i64,
        i64::MAX,
        i64::MIN,
    ]
    .map(E::I)
    .to_vec();
    v.extend([
        E::S(b""),
        E::S(b"hello"),
        E::S(&MID[..63]),
        E::S(&MID[..64]),
        E::S(&MID),
        E::S(&LONG),
    ]);
    v
}

fn same(got: &[Item], want: &[E]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        match (g, w) {
            (Item::Int(a), E::I(b)) => assert_eq!(a, b),
            (Item::Bytes(a), E::S(b)) => assert_eq!(a, b),
            _ => panic!("element kinds differ: {g:?}"),
        }
    }
}

fn lp_all(b: &[u8]) -> Result<Vec<Item<'_>>, String> {
    Reader::new(b)?.collect()
}

#[test]
fn listpack_every_encoding() {
    let items = sample();
    let b = listpack(&items);
    same(&lp_all(&b).unwrap(), &items);
    // A 32-bit string (over 4095 bytes) and its 2-byte backlen are in there.
    assert!(b.len() > 5000);
    // Empty listpack.
    assert!(lp_all(&listpack(&[])).unwrap().is_empty());
    // Count 65535 means unknown.
    let mut u = listpack(&items);
    u[4..6].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(lp_all(&u).unwrap().len(), items.len());
}

#[test]
fn corrupt_listpacks_are_errors() {
    let b = listpack(&[E::S(b"abc"), E::I(1000), E::S(b"xyz")]);
    // Every truncation (with the size fixed up or not).
    for n in 0..b.len() {
        assert!(lp_all(&b[..n]).is_err(), "prefix {n}");
        let mut t = b[..n].to_vec();
        if t.len() >= 6 {
            let l = t.len() as u32;
            t[..4].copy_from_slice(&l.to_le_bytes());
            assert!(lp_all(&t).is_err(), "fixed prefix {n}");
        }
    }
    let mut wrong_count = b.clone();
    wrong_count[4] = 2;
    assert!(lp_all(&wrong_count).is_err());
    let mut bad_backlen = b.clone();
    bad_backlen[6 + 4] = 3; // "abc": 1 + 3 bytes, backlen at offset 10
    assert!(lp_all(&bad_backlen).is_err());
    let mut bad_enc = b.clone();
    bad_enc[6] = 0xf5;
    assert!(lp_all(&bad_enc).is_err());
    let mut no_end = b.clone();
    *no_end.last_mut().unwrap() = 0;
    assert!(lp_all(&no_end).is_err());
    let mut early_end = b;
    early_end[6] = 0xff;
    assert!(lp_all(&early_end).is_err());
}

#[test]
fn ziplist_every_encoding() {
    let items = sample();
    let b = ziplist(&items);
    same(&ziplist_entries(&b).unwrap(), &items);
    assert!(ziplist_entries(&ziplist(&[])).unwrap().is_empty());
    // A string of 20000 bytes (32-bit length) with 5-byte prevlens around it.
    let long = vec![b'z'; 20000];
    let items = [E::I(5), E::S(&long), E::I(-70000), E::S(b"tail")];
    same(&ziplist_entries(&ziplist(&items)).unwrap(), &items);
}

#[test]
fn corrupt_ziplists_are_errors() {
    let b = ziplist(&[E::S(b"abc"), E::I(1000), E::S(b"xyz"), E::I(3)]);
    for n in 0..b.len() {
        let mut t = b[..n].to_vec();
        assert!(ziplist_entries(&t).is_err(), "prefix {n}");
        if t.len() >= 4 {
            let l = t.len() as u32;
            t[..4].copy_from_slice(&l.to_le_bytes());
            assert!(ziplist_entries(&t).is_err(), "fixed prefix {n}");
        }
    }
    let mut wrong_count = b.clone();
    wrong_count[8] = 3;
    assert!(ziplist_entries(&wrong_count).is_err());
    let mut wrong_tail = b.clone();
    wrong_tail[4] += 1;
    assert!(ziplist_entries(&wrong_tail).is_err());
    let mut wrong_prevlen = b.clone();
    wrong_prevlen[10 + 5] = 9; // second entry's prevlen (first is 1 + 1 + 3)
    assert!(ziplist_entries(&wrong_prevlen).is_err());
    let mut bad_enc = b;
    bad_enc[11] = 0xc1;
    assert!(ziplist_entries(&bad_enc).is_err());
}

#[test]
fn intsets() {
    for w in [2u32, 4, 8] {
        let vals: Vec<i64> = match w {
            2 => vec![-32768, -1, 0, 5, 32767],
            4 => vec![i32::MIN as i64, 0, 70000, i32::MAX as i64],
            _ => vec![i64::MIN, -1, 5_000_000_000, i64::MAX],
        };
        assert_eq!(intset_members(&intset(w, &vals), true).unwrap(), vals);
    }
    let unsorted = intset(2, &[3, 1, 2]);
    assert!(intset_members(&unsorted, true).is_err());
    assert_eq!(intset_members(&unsorted, false).unwrap(), vec![3, 1, 2]);
    assert!(intset_members(&intset(2, &[1, 1]), true).is_err());
    let good = intset(4, &[1, 2, 3]);
    for n in 0..good.len() {
        assert!(intset_members(&good[..n], false).is_err());
    }
    let mut bad_width = good.clone();
    bad_width[0] = 3;
    assert!(intset_members(&bad_width, false).is_err());
    let mut bad_count = good;
    bad_count[4] = 0xff;
    assert!(intset_members(&bad_count, false).is_err());
}

#[test]
fn zipmaps() {
    let long = vec![b'v'; 300];
    let pairs: Vec<(&[u8], &[u8])> = vec![(b"a", b"1"), (b"key", &long), (b"", b"empty")];
    for free in [0u8, 3] {
        let b = zipmap(&pairs, free);
        assert_eq!(zipmap_pairs(&b).unwrap(), pairs);
        for n in 0..b.len() {
            assert!(zipmap_pairs(&b[..n]).is_err(), "prefix {n}");
        }
    }
    let mut wrong_count = zipmap(&pairs, 0);
    wrong_count[0] = 2;
    assert!(zipmap_pairs(&wrong_count).is_err());
    let mut trailing = zipmap(&pairs, 0);
    trailing.push(0);
    assert!(zipmap_pairs(&trailing).is_err());
}

// ---- values of every type byte ----

fn opts(deep: bool) -> ReadOptions {
    ReadOptions {
        deep_sanitize: deep,
        ..ReadOptions::default()
    }
}

fn blob_body(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_string(&mut out, b, false);
    out
}

fn decode(t: u8, body: &[u8], deep: bool) -> Result<Value, shoal_rdb::Error> {
    let r = value_from_bytes(t, body, &opts(deep));
    // Every proper prefix is an error, never a panic.
    for n in 0..body.len() {
        assert!(
            value_from_bytes(t, &body[..n], &opts(deep)).is_err(),
            "type {t} prefix {n}"
        );
    }
    r
}

fn list_of(v: &Value) -> Vec<Vec<u8>> {
    v.as_list().unwrap().iter().map(|e| e.to_vec()).collect()
}

fn hash_of(v: &Value) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut p: Vec<_> = v
        .as_hash()
        .unwrap()
        .iter()
        .map(|(f, v)| (f.to_vec(), v.to_vec()))
        .collect();
    p.sort();
    p
}

fn zset_of(v: &Value) -> Vec<(Vec<u8>, f64)> {
    let mut out = Vec::new();
    v.as_zset()
        .unwrap()
        .for_each(&mut |m, s| out.push((m.to_vec(), s)));
    out
}

fn set_of(v: &Value) -> Vec<Vec<u8>> {
    let mut m: Vec<_> = v.as_set().unwrap().iter().map(|e| e.to_vec()).collect();
    m.sort();
    m
}

#[test]
fn old_list_encodings() {
    let items = [E::S(b"a"), E::I(7), E::S(b"bc"), E::I(-70000)];
    let want: Vec<Vec<u8>> = ["a", "7", "bc", "-70000"].map(|s| s.into()).to_vec();
    let v = decode(TYPE_LIST_ZIPLIST, &blob_body(&ziplist(&items)), false).unwrap();
    assert_eq!(list_of(&v), want);
    // Quicklist of ziplists, an empty node skipped.
    let mut body = Vec::new();
    write_len(&mut body, 3);
    body.extend(blob_body(&ziplist(&items[..2])));
    body.extend(blob_body(&ziplist(&[])));
    body.extend(blob_body(&ziplist(&items[2..])));
    let v = decode(TYPE_LIST_QUICKLIST, &body, true).unwrap();
    assert_eq!(list_of(&v), want);
    // Quicklist 2: a packed node and a plain node.
    let mut body = Vec::new();
    write_len(&mut body, 2);
    write_len(&mut body, QUICKLIST_NODE_PACKED);
    body.extend(blob_body(&listpack(&items)));
    write_len(&mut body, QUICKLIST_NODE_PLAIN);
    body.extend(blob_body(b"plain"));
    let v = decode(TYPE_LIST_QUICKLIST_2, &body, true).unwrap();
    let mut w2 = want.clone();
    w2.push(b"plain".to_vec());
    assert_eq!(list_of(&v), w2);
    let mut bad = body.clone();
    bad[1] = 3; // unknown container
    assert!(value_from_bytes(TYPE_LIST_QUICKLIST_2, &bad, &opts(false)).is_err());
    // Only empty nodes: an empty list.
    let mut body = Vec::new();
    write_len(&mut body, 1);
    body.extend(blob_body(&ziplist(&[])));
    assert!(value_from_bytes(TYPE_LIST_QUICKLIST, &body, &opts(false)).is_err());
}

#[test]
fn hash_encodings() {
    let pairs = [E::S(b"f1"), E::S(b"v1"), E::I(2), E::I(-3)];
    let want = vec![
        (b"2".to_vec(), b"-3".to_vec()),
        (b"f1".to_vec(), b"v1".to_vec()),
    ];
    for (t, blob) in [
        (TYPE_HASH_ZIPLIST, ziplist(&pairs)),
        (TYPE_HASH_LISTPACK, listpack(&pairs)),
        (
            TYPE_HASH_ZIPMAP,
            zipmap(&[(b"f1", b"v1"), (b"2", b"-3")], 1),
        ),
    ] {
        let v = decode(t, &blob_body(&blob), true).unwrap();
        assert_eq!(hash_of(&v), want, "type {t}");
        assert_eq!(v.encoding(), "listpack");
    }
    // Odd element count, duplicates (deep only), empty.
    let odd = listpack(&pairs[..3]);
    assert!(value_from_bytes(TYPE_HASH_LISTPACK, &blob_body(&odd), &opts(false)).is_err());
    let dup = listpack(&[E::S(b"f"), E::S(b"1"), E::S(b"f"), E::S(b"2")]);
    assert!(value_from_bytes(TYPE_HASH_LISTPACK, &blob_body(&dup), &opts(true)).is_err());
    let v = value_from_bytes(TYPE_HASH_LISTPACK, &blob_body(&dup), &opts(false)).unwrap();
    assert_eq!(v.as_hash().unwrap().len(), 1);
    assert!(
        value_from_bytes(TYPE_HASH_LISTPACK, &blob_body(&listpack(&[])), &opts(false)).is_err()
    );
    // A long value converts to a table, as Redis converts on load.
    let long = vec![b'x'; 100];
    let v = decode(
        TYPE_HASH_ZIPLIST,
        &blob_body(&ziplist(&[E::S(b"f"), E::S(&long)])),
        false,
    )
    .unwrap();
    assert_eq!(v.encoding(), "hashtable");
    // The plain type: duplicates are always errors.
    let mut body = Vec::new();
    write_len(&mut body, 2);
    for s in ["f", "1", "f", "2"] {
        write_string(&mut body, s.as_bytes(), false);
    }
    assert!(value_from_bytes(TYPE_HASH, &body, &opts(false)).is_err());
}

#[test]
fn zset_encodings() {
    let items = [
        E::S(b"a"),
        E::S(b"1.5"),
        E::S(b"b"),
        E::I(-2),
        E::S(b"c"),
        E::S(b"inf"),
    ];
    let want = vec![
        (b"b".to_vec(), -2.0),
        (b"a".to_vec(), 1.5),
        (b"c".to_vec(), f64::INFINITY),
    ];
    for (t, blob) in [
        (TYPE_ZSET_ZIPLIST, ziplist(&items)),
        (TYPE_ZSET_LISTPACK, listpack(&items)),
    ] {
        let v = decode(t, &blob_body(&blob), true).unwrap();
        assert_eq!(zset_of(&v), want);
    }
    let dup = listpack(&[E::S(b"a"), E::I(1), E::S(b"a"), E::I(2)]);
    assert!(value_from_bytes(TYPE_ZSET_LISTPACK, &blob_body(&dup), &opts(false)).is_err());
    let nan = listpack(&[E::S(b"a"), E::S(b"nan")]);
    assert!(value_from_bytes(TYPE_ZSET_LISTPACK, &blob_body(&nan), &opts(false)).is_err());
    let text = listpack(&[E::S(b"a"), E::S(b"one")]);
    assert!(value_from_bytes(TYPE_ZSET_LISTPACK, &blob_body(&text), &opts(false)).is_err());
    // ZSET with text scores and the special lengths 254 (+inf), 255 (-inf).
    let mut body = Vec::new();
    write_len(&mut body, 3);
    write_string(&mut body, b"x", false);
    body.extend([3, b'2', b'.', b'5']);
    write_string(&mut body, b"hi", false);
    body.push(254);
    write_string(&mut body, b"lo", false);
    body.push(255);
    let v = decode(TYPE_ZSET, &body, false).unwrap();
    assert_eq!(
        zset_of(&v),
        vec![
            (b"lo".to_vec(), f64::NEG_INFINITY),
            (b"x".to_vec(), 2.5),
            (b"hi".to_vec(), f64::INFINITY)
        ]
    );
    // 253 is NaN: refused.
    let mut nan = Vec::new();
    write_len(&mut nan, 1);
    write_string(&mut nan, b"x", false);
    nan.push(253);
    assert!(value_from_bytes(TYPE_ZSET, &nan, &opts(false)).is_err());
    // ZSET_2 with binary doubles.
    let mut body = Vec::new();
    write_len(&mut body, 1);
    write_string(&mut body, b"m", false);
    body.extend(0.25f64.to_le_bytes());
    let v = decode(TYPE_ZSET_2, &body, true).unwrap();
    assert_eq!(zset_of(&v), vec![(b"m".to_vec(), 0.25)]);
}

#[test]
fn set_encodings() {
    let v = decode(TYPE_SET_INTSET, &blob_body(&intset(2, &[-1, 5, 9])), true).unwrap();
    assert_eq!(
        set_of(&v),
        vec![b"-1".to_vec(), b"5".to_vec(), b"9".to_vec()]
    );
    assert_eq!(v.encoding(), "intset");
    let items = [E::S(b"a"), E::I(3), E::S(b"b")];
    let v = decode(TYPE_SET_LISTPACK, &blob_body(&listpack(&items)), true).unwrap();
    assert_eq!(
        set_of(&v),
        vec![b"3".to_vec(), b"a".to_vec(), b"b".to_vec()]
    );
    assert_eq!(v.encoding(), "hashtable");
    let ints = listpack(&[E::I(3), E::I(1)]);
    let v = decode(TYPE_SET_LISTPACK, &blob_body(&ints), true).unwrap();
    assert_eq!(v.encoding(), "intset");
    let dup = listpack(&[E::I(3), E::I(3)]);
    assert!(value_from_bytes(TYPE_SET_LISTPACK, &blob_body(&dup), &opts(true)).is_err());
    assert!(value_from_bytes(TYPE_SET_LISTPACK, &blob_body(&dup), &opts(false)).is_ok());
    // More members than set-max-intset-entries: a table.
    let many: Vec<i64> = (0..600).collect();
    let v = value_from_bytes(TYPE_SET_INTSET, &blob_body(&intset(2, &many)), &opts(true)).unwrap();
    assert_eq!(v.encoding(), "hashtable");
    assert_eq!(v.as_set().unwrap().len(), 600);
}

#[test]
fn other_types_and_framing() {
    assert!(matches!(
        value_from_bytes(TYPE_MODULE_2, b"\x00", &opts(false))
            .unwrap_err()
            .kind,
        shoal_rdb::error::ErrorKind::Unsupported(_)
    ));
    assert!(value_from_bytes(8, b"\x00", &opts(false)).is_err());
    assert!(value_from_bytes(30, b"\x00", &opts(false)).is_err());
    // Trailing bytes after a value.
    assert!(value_from_bytes(TYPE_STRING, b"\x01ab", &opts(false)).is_err());
    // Empty plain collections.
    for t in [TYPE_LIST, TYPE_SET, TYPE_ZSET, TYPE_HASH] {
        assert!(value_from_bytes(t, b"\x00", &opts(false)).is_err());
    }
}

// ---- streams ----

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fn raw_id(out: &mut Vec<u8>, ms: u64, seq: u64) {
    out.extend(ms.to_be_bytes());
    out.extend(seq.to_be_bytes());
}

/// What a stream body is built from (see `stream_body`).
struct StreamSpec {
    t: u8,
    /// seq of the third entry (1-3 normally).
    third_seq: i64,
    last_seq: u64,
    /// IDs (seq, ms 1) in the consumer's PEL.
    consumer_pel: Vec<u64>,
}

/// One node (master 1-1): 1-1 live {a:1,b:2}, 1-2 deleted {a:3,b:4}, 1-3 live
/// {c:x}; a group "g" (last 1-3) with 1-1 and 1-3 pending, consumer "c".
fn stream_body(sp: &StreamSpec) -> Vec<u8> {
    let v2 = sp.t >= TYPE_STREAM_LISTPACKS_2;
    let lp = listpack(&[
        E::I(2),
        E::I(1),
        E::I(2),
        E::S(b"a"),
        E::S(b"b"),
        E::I(0),
        E::I(2),
        E::I(0),
        E::I(0),
        E::S(b"1"),
        E::S(b"2"),
        E::I(5),
        E::I(3),
        E::I(0),
        E::I(1),
        E::S(b"3"),
        E::S(b"4"),
        E::I(5),
        E::I(0),
        E::I(0),
        E::I(sp.third_seq - 1),
        E::I(1),
        E::S(b"c"),
        E::S(b"x"),
        E::I(6),
    ]);
    let mut b = Vec::new();
    write_len(&mut b, 1);
    let mut key = Vec::new();
    raw_id(&mut key, 1, 1);
    write_string(&mut b, &key, false);
    write_string(&mut b, &lp, false);
    write_len(&mut b, 2);
    write_len(&mut b, 1);
    write_len(&mut b, sp.last_seq);
    if v2 {
        for v in [1, 1, 1, 2, 3] {
            write_len(&mut b, v);
        }
    }
    write_len(&mut b, 1);
    write_string(&mut b, b"g", false);
    write_len(&mut b, 1);
    write_len(&mut b, 3);
    if v2 {
        write_len(&mut b, 3);
    }
    write_len(&mut b, 2);
    for (seq, count) in [(1u64, 2u64), (3, 1)] {
        raw_id(&mut b, 1, seq);
        b.extend(1_700_000_000_000i64.to_le_bytes());
        write_len(&mut b, count);
    }
    write_len(&mut b, 1);
    write_string(&mut b, b"c", false);
    b.extend(1_700_000_000_001i64.to_le_bytes());
    if sp.t >= TYPE_STREAM_LISTPACKS_3 {
        b.extend(1_700_000_000_002i64.to_le_bytes());
    }
    write_len(&mut b, sp.consumer_pel.len() as u64);
    for &seq in &sp.consumer_pel {
        raw_id(&mut b, 1, seq);
    }
    b
}

fn good(t: u8) -> StreamSpec {
    StreamSpec {
        t,
        third_seq: 3,
        last_seq: 5,
        consumer_pel: vec![1, 3],
    }
}

#[test]
fn streams_of_every_version() {
    use shoal_keyspace::stream::StreamId;
    for t in [
        TYPE_STREAM_LISTPACKS,
        TYPE_STREAM_LISTPACKS_2,
        TYPE_STREAM_LISTPACKS_3,
    ] {
        for deep in [false, true] {
            let v = decode(t, &stream_body(&good(t)), deep).unwrap();
            let s = v.as_stream().unwrap();
            let entries: Vec<(StreamId, Pairs)> = s
                .range(StreamId::ZERO, StreamId::MAX, false)
                .map(|(id, e)| {
                    (
                        id,
                        e.pairs().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
                    )
                })
                .collect();
            assert_eq!(
                entries,
                vec![
                    (
                        StreamId::new(1, 1),
                        vec![
                            (b"a".to_vec(), b"1".to_vec()),
                            (b"b".to_vec(), b"2".to_vec())
                        ]
                    ),
                    (StreamId::new(1, 3), vec![(b"c".to_vec(), b"x".to_vec())]),
                ]
            );
            assert_eq!(s.len(), 2);
            assert_eq!(s.node_count(), 1);
            assert_eq!(s.last_id, StreamId::new(1, 5));
            assert_eq!(s.first_id, StreamId::new(1, 1));
            let g = &s.groups[&b"g"[..]];
            assert_eq!(g.last_id, StreamId::new(1, 3));
            if t == TYPE_STREAM_LISTPACKS {
                assert_eq!(s.entries_added, 2);
                assert_eq!(s.max_deleted_id, StreamId::ZERO);
                assert_eq!(g.entries_read, -1);
            } else {
                assert_eq!(s.entries_added, 3);
                assert_eq!(s.max_deleted_id, StreamId::new(1, 2));
                assert_eq!(g.entries_read, 3);
            }
            assert_eq!(g.pel.len(), 2);
            assert_eq!(g.pel[&StreamId::new(1, 1)].delivery_count, 2);
            assert_eq!(&*g.pel[&StreamId::new(1, 3)].consumer, b"c");
            let c = &g.consumers[&b"c"[..]];
            assert_eq!(c.seen_time, 1_700_000_000_001);
            assert_eq!(c.pel.len(), 2);
        }
    }
}

#[test]
fn corrupt_streams_are_errors() {
    let t = TYPE_STREAM_LISTPACKS_2;
    let bad = |sp: StreamSpec| {
        for deep in [false, true] {
            assert!(value_from_bytes(t, &stream_body(&sp), &opts(deep)).is_err());
        }
    };
    // Entry IDs not increasing (1-2 after 1-2).
    bad(StreamSpec {
        third_seq: 2,
        ..good(t)
    });
    // Last ID below the last entry.
    bad(StreamSpec {
        last_seq: 2,
        ..good(t)
    });
    // A consumer PEL entry missing from the group's PEL.
    bad(StreamSpec {
        consumer_pel: vec![1, 3, 4],
        ..good(t)
    });
    // A group PEL entry without consumer.
    bad(StreamSpec {
        consumer_pel: vec![1],
        ..good(t)
    });
    // The same entry twice in a consumer's PEL.
    bad(StreamSpec {
        consumer_pel: vec![1, 1, 3],
        ..good(t)
    });
}

#[test]
fn files_skip_empty_keys() {
    use shoal_rdb::{FileReader, Item};
    let mut f = b"REDIS0010".to_vec();
    f.push(OPCODE_EXPIRETIME_MS);
    f.extend(5i64.to_le_bytes());
    f.push(TYPE_SET);
    write_string(&mut f, b"empty", false);
    write_len(&mut f, 0);
    f.push(TYPE_STRING);
    write_string(&mut f, b"k", false);
    write_string(&mut f, b"v", false);
    f.push(OPCODE_EOF);
    f.extend(0u64.to_le_bytes());
    let mut r = FileReader::new(&f[..], ReadOptions::default()).unwrap();
    match r.next_item().unwrap() {
        Some(Item::Entry { key, expire_ms, .. }) => {
            assert_eq!(key, b"k");
            assert_eq!(expire_ms, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(r.next_item().unwrap().is_none());
    assert_eq!(r.empty_keys_skipped(), (1, &[b"empty".to_vec()][..]));
}
