use super::*;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::collections::BTreeMap;

fn pairs(h: &Hash) -> Vec<(Vec<u8>, Vec<u8>)> {
    h.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()
}

fn as_map(h: &Hash) -> BTreeMap<Vec<u8>, Vec<u8>> {
    pairs(h).into_iter().collect()
}

#[test]
fn value_stays_small() {
    assert_eq!(std::mem::size_of::<Hash>(), 16);
    // Ten short pairs: one byte of header each.
    let h = Hash::from_pairs(
        &Limits::HASH_DEFAULTS,
        (0..10).map(|i| (format!("f{i}"), format!("v{i}"))),
    );
    assert_eq!(h.heap_bytes(), 50);
    assert!(std::mem::size_of::<crate::Value>() <= 24);
}

#[test]
fn compact_keeps_insertion_order_and_updates_in_place() {
    let lim = Limits::HASH_DEFAULTS;
    let mut h = Hash::new();
    assert!(h.is_empty());
    assert!(h.set(b"a", b"1", &lim));
    assert!(h.set(b"b", b"two", &lim));
    assert!(h.set(b"c", b"-300", &lim));
    assert!(!h.set(b"b", b"x", &lim));
    assert!(!h.set(b"a", b"a much longer value than before", &lim));
    h.check().unwrap();
    assert_eq!(h.encoding(), "listpack");
    let got: Vec<_> = pairs(&h);
    assert_eq!(
        got,
        vec![
            (b"a".to_vec(), b"a much longer value than before".to_vec()),
            (b"b".to_vec(), b"x".to_vec()),
            (b"c".to_vec(), b"-300".to_vec()),
        ]
    );
    assert!(h.remove(b"b"));
    assert!(!h.remove(b"b"));
    assert!(h.set(b"b", b"y", &lim));
    let keys: Vec<_> = h.iter().map(|(k, _)| k.to_vec()).collect();
    assert_eq!(keys, vec![b"a".to_vec(), b"c".to_vec(), b"b".to_vec()]);
    assert_eq!(h.get(b"c"), Some(&b"-300"[..]));
    assert_eq!(h.get(b"zz"), None);
    assert!(h.remove(b"a") && h.remove(b"b") && h.remove(b"c"));
    assert!(h.is_empty());
    h.check().unwrap();
}

#[test]
fn integers_and_strings_are_told_apart() {
    let lim = Limits::HASH_DEFAULTS;
    let mut h = Hash::new();
    let items: &[&[u8]] = &[
        b"0",
        b"-0",
        b"01",
        b"1",
        b"+1",
        b" 1",
        b"1.0",
        b"127",
        b"128",
        b"-128",
        b"-129",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"9223372036854775808",
        b"",
        b"\x00\xff",
    ];
    for (i, f) in items.iter().enumerate() {
        assert!(h.set(f, i.to_string().as_bytes(), &lim), "{f:?}");
    }
    h.check().unwrap();
    assert_eq!(h.len(), items.len());
    for (i, f) in items.iter().enumerate() {
        assert_eq!(
            h.get(f).map(|e| e.to_vec()),
            Some(i.to_string().into_bytes())
        );
    }
    let long = vec![b'x'; 64];
    assert!(h.set(&long, &long, &lim));
    assert_eq!(h.encoding(), "listpack");
    assert_eq!(h.get(&long).unwrap().to_vec(), long);
    h.check().unwrap();
}

#[test]
fn long_strings_in_compact_form() {
    let lim = Limits::new(512, 100_000);
    let mut h = Hash::new();
    for n in [127usize, 128, 300, 16383, 16384, 70000] {
        let f = vec![b'f'; n];
        let v = vec![b'v'; n + 1];
        h.set(&f, &v, &lim);
        assert_eq!(h.get(&f).unwrap().to_vec(), v);
    }
    h.check().unwrap();
    assert_eq!(h.len(), 6);
}

#[test]
fn converts_at_the_limits_and_never_back() {
    let lim = Limits::new(3, 5);
    let mut h = Hash::from_pairs(&lim, [("a", "1"), ("b", "2"), ("c", "3")]);
    assert_eq!(h.encoding(), "listpack");
    assert!(!h.set(b"a", b"12345", &lim));
    assert_eq!(h.encoding(), "listpack");
    assert!(h.set(b"d", b"4", &lim));
    assert_eq!(h.encoding(), "hashtable");
    h.remove(b"d");
    h.remove(b"c");
    assert_eq!(h.encoding(), "hashtable");
    assert_eq!(h.len(), 2);

    // Limits lowered under an existing hash: the next write converts, even an update.
    let mut h = Hash::from_pairs(&lim, [("a", "1"), ("b", "2"), ("c", "3")]);
    assert!(!h.set(b"a", b"2", &Limits::new(2, 5)));
    assert_eq!(h.encoding(), "hashtable");

    let mut h = Hash::from_pairs(&lim, [("a", "1")]);
    h.set(b"a", b"123456", &lim);
    assert_eq!(h.encoding(), "hashtable");
    assert_eq!(h.get(b"a").unwrap().to_vec(), b"123456");

    let mut h = Hash::from_pairs(&lim, [("a", "1")]);
    h.prepare([1, 6], &lim);
    assert_eq!(h.encoding(), "hashtable");
    assert_eq!(as_map(&h).len(), 1);

    let h = Hash::from_pairs(&Limits::new(0, 64), [("a", "1")]);
    assert_eq!(h.encoding(), "hashtable");
}

#[test]
fn random_draws() {
    let lim = Limits::HASH_DEFAULTS;
    let mut rng = SmallRng::seed_from_u64(7);
    for big in [false, true] {
        let mut h = Hash::new();
        for i in 0..100 {
            h.set(format!("f{i}").as_bytes(), format!("{i}").as_bytes(), &lim);
        }
        if big {
            h.convert();
        }
        let all = as_map(&h);
        for count in [0usize, 1, 10, 40, 99, 100, 150] {
            let mut got = Vec::new();
            h.random_distinct(&mut rng, count, |k, v| got.push((k.to_vec(), v.to_vec())));
            assert_eq!(got.len(), count.min(100));
            let set: BTreeMap<_, _> = got.iter().cloned().collect();
            assert_eq!(set.len(), got.len(), "distinct");
            for (k, v) in &got {
                assert_eq!(all.get(k), Some(v));
            }
        }
        let mut n = 0;
        h.random_pairs(&mut rng, 500, |k, v| {
            assert_eq!(all.get(k), Some(&v.to_vec()));
            n += 1;
            true
        });
        assert_eq!(n, 500);
        let (k, _) = h.random_pair(&mut rng).unwrap();
        assert!(all.contains_key(k));
    }
    let mut n = 0;
    Hash::new().random_pairs(&mut rng, 5, |_, _| {
        n += 1;
        true
    });
    assert_eq!(n, 0);
}

#[test]
fn scan_covers_the_table() {
    let lim = Limits::new(16, 64);
    let h = Hash::from_pairs(&lim, (0..1000).map(|i| (format!("k{i}"), format!("v{i}"))));
    assert_eq!(h.encoding(), "hashtable");
    let mut seen = BTreeMap::new();
    let mut cursor = 0;
    for _ in 0..100_000 {
        cursor = h.scan_step(cursor, |k, v| {
            seen.insert(k.to_vec(), v.to_vec());
        });
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(cursor, 0);
    assert_eq!(seen, as_map(&h));
}

#[test]
fn model_check_against_a_map() {
    let mut rng = SmallRng::seed_from_u64(99);
    let lim = Limits::new(20, 8);
    for _round in 0..50 {
        let mut h = Hash::new();
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for _ in 0..200 {
            let f = format!("{}", rng.gen_range(0..40)).into_bytes();
            let vlen = rng.gen_range(0..10);
            let v: Vec<u8> = (0..vlen).map(|_| rng.gen_range(b'0'..=b'9')).collect();
            if rng.gen_bool(0.3) {
                assert_eq!(h.remove(&f), model.remove(&f).is_some());
            } else {
                assert_eq!(h.set(&f, &v, &lim), model.insert(f, v).is_none());
            }
            h.check().unwrap();
            assert_eq!(h.len(), model.len());
        }
        assert_eq!(as_map(&h), model);
    }
}

#[test]
fn header_boundaries() {
    let lim = Limits::new(512, 1000);
    let mut h = Hash::new();
    let mut model = BTreeMap::new();
    for flen in [0usize, 1, 13, 14, 15, 16, 127, 128, 300] {
        for vlen in [0usize, 1, 14, 15, 16, 127, 128, 300] {
            let f = format!("{flen}-{vlen}-").into_bytes();
            let f: Vec<u8> = f.iter().copied().cycle().take(flen.max(f.len())).collect();
            let v = vec![b'v'; vlen];
            h.set(&f, &v, &lim);
            model.insert(f, v);
        }
    }
    h.check().unwrap();
    assert_eq!(as_map(&h), model);
    // Values that change header size in place.
    for (f, _) in model.clone() {
        for vlen in [16usize, 0, 15, 200] {
            let v = vec![b'w'; vlen];
            assert!(!h.set(&f, &v, &lim));
            model.insert(f.clone(), v);
            h.check().unwrap();
        }
    }
    assert_eq!(as_map(&h), model);
    assert_eq!(h.encoding(), "listpack");
}
