//! Shared by the RDB targets: options from a byte, and the invariant checks of
//! a decoded value.

use shoal_keyspace::Value;
use shoal_rdb::{Limits, ReadOptions};

/// Bit 0: deep sanitization; bit 1: tiny encoding thresholds (so conversions
/// happen on small inputs); bit 2: ignore the checksum.
pub fn options(b: u8) -> ReadOptions {
    let mut limits = Limits::default();
    if b & 2 != 0 {
        limits.hash = shoal_keyspace::hash::Limits::new(2, 4);
        limits.zset = shoal_keyspace::ZLimits::new(2, 4);
        limits.set_max_intset_entries = 2;
        limits.list_fill = 2;
    }
    ReadOptions {
        limits,
        deep_sanitize: b & 1 != 0,
        ignore_checksum: b & 4 != 0,
    }
}

/// A value read successfully keeps the keyspace's invariants and can be walked.
pub fn check(v: &Value) {
    match v {
        Value::Str(s) => assert_eq!(s.to_vec().len(), s.len()),
        Value::List(l) => {
            l.check().expect("list invariants");
            assert!(!l.is_empty());
            assert_eq!(l.iter().count(), l.len());
        }
        Value::Hash(h) => {
            h.check().expect("hash invariants");
            assert!(!h.is_empty());
            assert_eq!(h.iter().count(), h.len());
        }
        Value::Set(s) => {
            s.check().expect("set invariants");
            assert!(!s.is_empty());
            assert_eq!(s.iter().count(), s.len());
        }
        Value::ZSet(z) => {
            assert!(!z.is_empty());
            let mut n = 0;
            let mut prev: Option<(f64, Vec<u8>)> = None;
            z.for_each(&mut |m, sc| {
                assert!(!sc.is_nan());
                if let Some((ps, pm)) = &prev {
                    assert!((*ps, pm.as_slice()) < (sc, m), "zset out of order");
                }
                prev = Some((sc, m.to_vec()));
                n += 1;
            });
            assert_eq!(n, z.len());
        }
        Value::Stream(s) => {
            let ids: Vec<_> = s
                .range(
                    shoal_keyspace::stream::StreamId::ZERO,
                    shoal_keyspace::stream::StreamId::MAX,
                    false,
                )
                .map(|(id, e)| {
                    let _ = e.pairs().count();
                    id
                })
                .collect();
            assert_eq!(ids.len(), s.len());
            assert!(ids.windows(2).all(|w| w[0] < w[1]));
            assert!(ids.last().is_none_or(|l| *l <= s.last_id));
            for g in s.groups.values() {
                for (id, p) in &g.pel {
                    assert!(g.consumers[&p.consumer].pel.contains(id));
                }
                for c in g.consumers.values() {
                    assert!(c.pel.iter().all(|id| g.pel.contains_key(id)));
                }
                let _ = s.group_lag(g);
            }
        }
    }
}
