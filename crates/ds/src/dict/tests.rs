use super::*;
use crate::smallbytes::SmallBytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};

fn key(i: u64) -> Vec<u8> {
    format!("key:{i}").into_bytes()
}

fn check_invariants<K: Borrow<[u8]>, V>(d: &Dict<K, V>) {
    if d.is_empty() {
        assert_eq!(d.capacity(), 0, "empty dict must not allocate");
        return;
    }
    let n = d.capacity();
    assert!(n.is_power_of_two() && n >= MIN_SLOTS);
    assert!(d.len() <= max_fill(n));
    let mask = n - 1;
    let mut seen = vec![false; d.len()];
    for (pos, &s) in d.slots.iter().enumerate() {
        if s == 0 {
            continue;
        }
        let idx = slot_index(s);
        assert!(idx < d.len(), "slot points past the pairs");
        assert!(!seen[idx], "two slots point at one pair");
        seen[idx] = true;
        let (k, _) = d.entries.get(idx).unwrap();
        let h = d.hash_of(k.borrow());
        assert_eq!(slot_hash(s), h as u32);
        // Every slot between home and pos is occupied.
        let mut i = h as usize & mask;
        while i != pos {
            assert_ne!(d.slots[i], 0, "gap between home and slot");
            i = (i + 1) & mask;
        }
    }
    assert!(seen.iter().all(|&b| b));
}

#[test]
fn empty_allocates_nothing() {
    let mut d: Dict<SmallBytes, u32> = Dict::new();
    assert_eq!(d.capacity(), 0);
    assert_eq!(d.heap_bytes(), 0);
    assert_eq!(d.get(b"x"), None);
    assert_eq!(d.remove(b"x"), None);
    assert_eq!(d.scan(0, |_, _| panic!("no entries")), 0);
    assert!(d.random_entry(&mut StdRng::seed_from_u64(1)).is_none());
    d.insert(SmallBytes::from("a"), 1);
    assert_eq!(d.capacity(), 4);
    assert_eq!(
        d.remove(b"a").map(|(k, v)| (k.to_vec(), v)),
        Some((b"a".to_vec(), 1))
    );
    assert_eq!(d.capacity(), 0);
    assert_eq!(d.heap_bytes(), 0);
}

#[test]
fn insert_keeps_old_key() {
    #[derive(Debug)]
    struct K(Vec<u8>, u32);
    impl Borrow<[u8]> for K {
        fn borrow(&self) -> &[u8] {
            &self.0
        }
    }
    let mut d: Dict<K, u32> = Dict::new();
    assert_eq!(d.insert(K(b"k".to_vec(), 1), 10), None);
    assert_eq!(d.insert(K(b"k".to_vec(), 2), 20), Some(10));
    let (k, v) = d.get_key_value(b"k").unwrap();
    assert_eq!((k.1, *v), (1, 20));
}

#[test]
fn model_random_ops() {
    for seed in 0..6u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut d: Dict<SmallBytes, u64> = Dict::with_seed(seed, seed * 7 + 1);
        let mut m: HashMap<Vec<u8>, u64> = HashMap::new();
        let space = [50u64, 500, 5000][seed as usize % 3];
        for step in 0..40_000u64 {
            let k = key(rng.gen_range(0..space));
            match rng.gen_range(0..10) {
                0..=4 => assert_eq!(d.insert(SmallBytes::from(&k[..]), step), m.insert(k, step)),
                5..=7 => assert_eq!(
                    d.remove(&k).map(|(k, v)| (k.to_vec(), v)),
                    m.remove_entry(&k)
                ),
                8 => {
                    if let Some(v) = d.get_mut(&k) {
                        *v += 1;
                    }
                    if let Some(v) = m.get_mut(&k) {
                        *v += 1;
                    }
                }
                _ => assert_eq!(d.get(&k), m.get(&k)),
            }
            assert_eq!(d.len(), m.len());
            if step % 4000 == 0 {
                check_invariants(&d);
            }
        }
        check_invariants(&d);
        for (k, v) in &m {
            assert_eq!(d.get(k), Some(v));
        }
        let mut from_iter: Vec<(Vec<u8>, u64)> = d.iter().map(|(k, v)| (k.to_vec(), *v)).collect();
        let mut want: Vec<(Vec<u8>, u64)> = m.into_iter().collect();
        from_iter.sort();
        want.sort();
        assert_eq!(from_iter, want);
    }
}

#[test]
fn grow_and_shrink_to_nothing() {
    let mut d: Dict<SmallBytes, u64> = Dict::new();
    for i in 0..100_000 {
        d.insert(SmallBytes::from(&key(i)[..]), i);
    }
    check_invariants(&d);
    assert_eq!(d.capacity(), 131_072);
    for i in 0..99_990 {
        assert!(d.remove(&key(i)).is_some());
    }
    check_invariants(&d);
    assert!(d.capacity() <= 128, "capacity {}", d.capacity());
    for i in 99_990..100_000 {
        assert_eq!(d.get(&key(i)), Some(&i));
        d.remove(&key(i));
    }
    assert_eq!(d.capacity(), 0);
    assert_eq!(d.heap_bytes(), 0);
}

#[test]
fn reverse_binary_cursor_covers_every_bucket_once() {
    for bits in 0..10 {
        let mask = (1u64 << bits) - 1;
        let mut seen = HashSet::new();
        let mut c = 0u64;
        loop {
            assert!(seen.insert(c & mask));
            c = reverse_binary_next(c, mask);
            if c == 0 {
                break;
            }
        }
        assert_eq!(seen.len() as u64, mask + 1);
    }
}

/// Redis's guarantee: an element present for the whole scan is returned.
#[test]
fn scan_guarantee_across_resizes() {
    for seed in 0..40u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut d: Dict<SmallBytes, u64> = Dict::with_seed(seed ^ 0xabc, seed);
        let base = rng.gen_range(1..3000u64);
        for i in 0..base {
            d.insert(SmallBytes::from(&key(i)[..]), i);
        }
        // Keys 0..stable stay for the whole scan; others churn.
        let stable = base / 3;
        let mut next = base;
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut cursor = 0u64;
        let mut steps = 0;
        let mut caps = HashSet::new();
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            steps += 1;
            // Phases: grow hard, then shrink hard, then mixed.
            let phase = (steps / 50) % 3;
            let ops = rng.gen_range(0..6);
            let cap_len = 4 * base + 200;
            for _ in 0..ops {
                match phase {
                    0 if d.len() < cap_len as usize => {
                        d.insert(SmallBytes::from(&key(next)[..]), next);
                        next += 1;
                    }
                    1 => {
                        if next > stable {
                            let victim = rng.gen_range(stable..next);
                            d.remove(&key(victim));
                        }
                    }
                    0 => {}
                    _ => {
                        if rng.gen_bool(0.5) && d.len() < cap_len as usize {
                            d.insert(SmallBytes::from(&key(next)[..]), next);
                            next += 1;
                        } else if next > stable {
                            let victim = rng.gen_range(stable..next);
                            d.remove(&key(victim));
                        }
                    }
                }
            }
            caps.insert(d.capacity());
            if cursor == 0 || steps > 1_000_000 {
                break;
            }
        }
        check_invariants(&d);
        for i in 0..stable {
            assert!(
                seen.contains(&key(i)),
                "seed {seed}: key {i} missed (steps {steps}, base {base}, caps {caps:?}, cursor {cursor})"
            );
        }
        assert!(
            caps.len() > 1 || base < 10,
            "seed {seed}: no resize happened"
        );
    }
}

#[test]
fn scan_without_changes_returns_each_once() {
    let mut d: Dict<SmallBytes, u64> = Dict::new();
    for i in 0..10_000 {
        d.insert(SmallBytes::from(&key(i)[..]), i);
    }
    let mut count: HashMap<u64, u32> = HashMap::new();
    let mut cursor = 0;
    loop {
        cursor = d.scan(cursor, |_, v| *count.entry(*v).or_default() += 1);
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(count.len(), 10_000);
    assert!(count.values().all(|&c| c == 1));
}

#[test]
fn random_entry_is_uniform_enough() {
    let mut d: Dict<SmallBytes, u64> = Dict::new();
    for i in 0..10 {
        d.insert(SmallBytes::from(&key(i)[..]), i);
    }
    let mut rng = StdRng::seed_from_u64(7);
    let mut hits = [0u32; 10];
    for _ in 0..10_000 {
        let (_, v) = d.random_entry(&mut rng).unwrap();
        hits[*v as usize] += 1;
    }
    assert!(hits.iter().all(|&h| h > 800 && h < 1200), "{hits:?}");
}

#[test]
fn retain_drain_entry() {
    let mut d: Dict<SmallBytes, u64> = (0..1000u64)
        .map(|i| (SmallBytes::from(&key(i)[..]), i))
        .collect();
    d.retain(|_, v| {
        *v += 1;
        *v % 3 == 0
    });
    check_invariants(&d);
    assert_eq!(d.len(), 333);
    assert!(d.iter().all(|(_, v)| v % 3 == 0));
    assert_eq!(d.get(&key(2)), Some(&3));

    *d.get_or_insert_with(b"new", |k| (SmallBytes::from(k), 0)) += 5;
    *d.get_or_insert_with(b"new", |k| (SmallBytes::from(k), 100)) += 5;
    assert_eq!(d.get(b"new"), Some(&10));
    match d.entry(b"other") {
        Entry::Vacant(v) => {
            *v.insert(1) += 1;
        }
        Entry::Occupied(_) => unreachable!(),
    }
    match d.entry(b"other") {
        Entry::Occupied(mut o) => {
            assert_eq!(o.insert(7), 2);
            assert_eq!(o.remove().1, 7);
        }
        Entry::Vacant(_) => unreachable!(),
    }
    assert!(!d.contains_key(b"other"));
    // A mismatched key falls back to a normal insert under its own key.
    if let Entry::Vacant(v) = d.entry(b"asked") {
        v.insert_with_key(SmallBytes::from("given"), 9);
    }
    assert_eq!(d.get(b"given"), Some(&9));
    assert_eq!(d.get(b"asked"), None);
    check_invariants(&d);

    for (_, v) in d.iter_mut() {
        *v = 0;
    }
    assert!(d.values().all(|&v| v == 0));
    let n = d.len();
    let drained: Vec<_> = d.drain().collect();
    assert_eq!(drained.len(), n);
    assert!(d.is_empty());
    assert_eq!(d.capacity(), 0);
    d.insert(SmallBytes::from("again"), 1);
    assert_eq!(d.len(), 1);
    d.clear();
    assert_eq!(d.heap_bytes(), 0);
    d.reserve(usize::MAX);
    assert!(d.capacity() >= 1 << 24);
    d.clear();
}

#[test]
fn memory_per_entry() {
    let mut d: Dict<SmallBytes, [u64; 2]> = Dict::new();
    let n = 200_000u64;
    for i in 0..n {
        d.insert(SmallBytes::from(&key(i)[..]), [i, i]);
    }
    let per = d.heap_bytes() as f64 / n as f64;
    // 40-byte pairs + 8 / load bytes of index.
    assert!(per < 65.0, "{per} bytes per entry");
}

/// `cargo test -p shoal-ds --release -- --ignored --nocapture dict_bench`
#[test]
#[ignore]
fn dict_bench() {
    use std::time::Instant;
    let n = 1_000_000u64;
    let keys: Vec<Vec<u8>> = (0..n)
        .map(|i| format!("key:{i:012}").into_bytes())
        .collect();
    let mut order: Vec<usize> = (0..n as usize).collect();
    let mut rng = StdRng::seed_from_u64(1);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }

    let t = Instant::now();
    let mut d: Dict<SmallBytes, u64> = Dict::new();
    let mut worst = std::time::Duration::ZERO;
    for (i, k) in keys.iter().enumerate() {
        let t1 = Instant::now();
        d.insert(SmallBytes::from(&k[..]), i as u64);
        worst = worst.max(t1.elapsed());
    }
    let ins = t.elapsed();
    println!("Dict: worst single insert (a resize of the index) {worst:?}");
    let t = Instant::now();
    let mut sum = 0u64;
    for &i in &order {
        sum += d.get(&keys[i]).copied().unwrap_or(0);
    }
    let get = t.elapsed();
    let t = Instant::now();
    let mut miss = 0;
    for i in 0..n {
        if !d.contains_key(format!("nokey:{i:010}").as_bytes()) {
            miss += 1;
        }
    }
    let missing = t.elapsed();
    let t = Instant::now();
    for &i in &order {
        d.remove(&keys[i]);
    }
    let rem = t.elapsed();
    println!(
        "Dict:    insert {:?}  get {:?}  miss(+fmt) {:?}  remove {:?}  ({} {})",
        ins / n as u32,
        get / n as u32,
        missing / n as u32,
        rem / n as u32,
        sum,
        miss
    );

    let t = Instant::now();
    let mut m: HashMap<SmallBytes, u64> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        m.insert(SmallBytes::from(&k[..]), i as u64);
    }
    let ins = t.elapsed();
    let t = Instant::now();
    let mut sum = 0u64;
    for &i in &order {
        sum += m.get(&keys[i][..]).copied().unwrap_or(0);
    }
    let get = t.elapsed();
    let t = Instant::now();
    let mut miss = 0;
    for i in 0..n {
        if !m.contains_key(format!("nokey:{i:010}").as_bytes()) {
            miss += 1;
        }
    }
    let missing = t.elapsed();
    let t = Instant::now();
    for &i in &order {
        m.remove(&keys[i][..]);
    }
    let rem = t.elapsed();
    println!(
        "HashMap: insert {:?}  get {:?}  miss(+fmt) {:?}  remove {:?}  ({} {})",
        ins / n as u32,
        get / n as u32,
        missing / n as u32,
        rem / n as u32,
        sum,
        miss
    );

    // A cache-resident table: the CPU cost of hashing and probing.
    let small: Vec<Vec<u8>> = keys[..1000].to_vec();
    let d: Dict<SmallBytes, u64> = small
        .iter()
        .enumerate()
        .map(|(i, k)| (SmallBytes::from(&k[..]), i as u64))
        .collect();
    let m: HashMap<SmallBytes, u64> = small
        .iter()
        .enumerate()
        .map(|(i, k)| (SmallBytes::from(&k[..]), i as u64))
        .collect();
    let rounds = 2000u32;
    let t = Instant::now();
    let mut s1 = 0u64;
    for _ in 0..rounds {
        for k in &small {
            s1 += d.get(k).copied().unwrap_or(0);
        }
    }
    let dt = t.elapsed() / (rounds * 1000);
    let t = Instant::now();
    let mut s2 = 0u64;
    for _ in 0..rounds {
        for k in &small {
            s2 += m.get(&k[..]).copied().unwrap_or(0);
        }
    }
    let mt = t.elapsed() / (rounds * 1000);
    println!("hot 1000-key get: Dict {dt:?}  HashMap {mt:?} ({s1} {s2})");

    let mut d: Dict<SmallBytes, [u64; 2]> = Dict::new();
    for (i, k) in keys.iter().enumerate() {
        d.insert(SmallBytes::from(&k[..]), [i as u64; 2]);
    }
    println!(
        "Dict<SmallBytes, 16-byte value>: {:.1} table bytes per key (cap {})",
        d.heap_bytes() as f64 / n as f64,
        d.capacity()
    );
    let mut m: HashMap<SmallBytes, [u64; 2]> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        m.insert(SmallBytes::from(&k[..]), [i as u64; 2]);
    }
    println!(
        "HashMap<SmallBytes, 16-byte value>: ~{:.1} table bytes per key (cap {})",
        (m.capacity() as f64 * 8.0 / 7.0 * (40.0 + 1.0)) / n as f64,
        m.capacity()
    );
}
