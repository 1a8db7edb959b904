//! Unit tests of the eviction pool, scores, budgets and policies.

use super::*;

fn cand(score: u64, key: &str) -> Candidate {
    Candidate {
        score,
        db: 0,
        shard: 0,
        key: SmallBytes::from(key.as_bytes()),
    }
}

#[test]
fn pool_keeps_the_best_sixteen_in_order() {
    let mut p = Pool::default();
    for i in 0..40u64 {
        // Scores in a scrambled order.
        let s = (i * 7) % 40;
        p.insert(cand(s, &format!("k{s}")));
    }
    assert_eq!(p.len(), POOL_SIZE);
    let mut got = Vec::new();
    while let Some(c) = p.pop_best() {
        got.push(c.score);
    }
    assert_eq!(got, (24..40).rev().collect::<Vec<_>>());
}

#[test]
fn pool_ignores_worse_than_worst_when_full_and_updates_known_keys() {
    let mut p = Pool::default();
    for i in 0..POOL_SIZE as u64 {
        p.insert(cand(100 + i, &format!("k{i}")));
    }
    p.insert(cand(1, "low"));
    assert!(p.items.iter().all(|c| &c.key[..] != b"low"));
    // A key seen again takes its new score and stays once.
    p.insert(cand(1000, "k3"));
    assert_eq!(p.len(), POOL_SIZE);
    assert_eq!(&p.pop_best().unwrap().key[..], b"k3");
    assert_eq!(p.items.iter().filter(|c| &c.key[..] == b"k3").count(), 0);
    // Same key in another database is another candidate.
    let mut other = cand(5000, "k4");
    other.db = 1;
    p.insert(other);
    assert_eq!(p.pop_best().unwrap().db, 1);
    assert!(p.items.iter().any(|c| &c.key[..] == b"k4"));
}

#[test]
fn pool_is_emptied_when_the_policy_changes() {
    let mut p = Pool::default();
    p.for_policy(Policy::AllkeysLru);
    p.insert(cand(1, "a"));
    p.for_policy(Policy::AllkeysLru);
    assert_eq!(p.len(), 1);
    p.for_policy(Policy::VolatileTtl);
    assert!(p.is_empty());
}

#[test]
fn scores_order_keys_as_the_policies_want() {
    use shoal_keyspace::{Now, Str, Value};
    let lfu = Lfu {
        log_factor: 10,
        decay_time: 1,
    };
    let v = || Value::Str(Str::from_bytes(b"v"));
    let now = 1_000_000_000;
    // LRU: the longer idle, the higher.
    let old = Entry::new(v(), now - 50_000);
    let fresh = Entry::new(v(), now);
    assert!(
        score(Policy::AllkeysLru, &old, None, now, lfu)
            > score(Policy::AllkeysLru, &fresh, None, now, lfu)
    );
    assert_eq!(score(Policy::AllkeysLru, &old, None, now, lfu), 50_000);
    // TTL: the sooner it expires, the higher.
    assert!(
        score(Policy::VolatileTtl, &fresh, Some(now + 10), now, lfu)
            > score(Policy::VolatileTtl, &fresh, Some(now + 10_000), now, lfu)
    );
    // LFU: the less used, the higher.
    let lfu_now = Now {
        lfu: Some(lfu),
        ..Now::new(now)
    };
    let rare = Entry::new(v(), lfu_now);
    let mut hot = Entry::new(v(), lfu_now);
    for _ in 0..1000 {
        hot.touch(lfu_now);
    }
    assert_eq!(score(Policy::AllkeysLfu, &rare, None, now, lfu), 250);
    assert!(
        score(Policy::AllkeysLfu, &rare, None, now, lfu)
            > score(Policy::AllkeysLfu, &hot, None, now, lfu)
    );
}

#[test]
fn tenacity_budgets() {
    assert_eq!(time_limit(0), Some(Duration::ZERO));
    assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
    assert_eq!(time_limit(11), Some(Duration::from_micros(575)));
    assert!(time_limit(99).unwrap() > Duration::from_secs(100));
    assert_eq!(time_limit(100), None);
}

#[test]
fn policies_parse_and_round_trip() {
    for p in Policy::ALL {
        assert_eq!(Policy::from_index(p.index()), p);
    }
    assert_eq!(Policy::parse("ALLKEYS-LFU"), Policy::AllkeysLfu);
    assert!(Policy::parse("volatile-ttl").volatile());
    assert!(!Policy::parse("allkeys-random").volatile());
    assert_eq!(Policy::parse("bogus"), Policy::NoEviction);
}
