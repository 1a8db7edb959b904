//! The image a snapshot collects equals the state at the cut, whatever happens
//! to the tables during the walk.

use super::*;
use crate::db::{Access, Events, Now};
use crate::value::{Str, Value};
use parking_lot::Mutex;
use std::collections::BTreeMap;

type Image = BTreeMap<(usize, Vec<u8>), (Vec<u8>, Option<i64>)>;

#[derive(Default)]
struct Collect {
    image: Mutex<Image>,
    handed: Mutex<Vec<Tables>>,
}

fn text(e: &Entry) -> Vec<u8> {
    match &e.value {
        Value::Str(s) => s.to_vec(),
        _ => b"?".to_vec(),
    }
}

impl Collect {
    fn add(&self, db: usize, k: &[u8], e: &Entry, exp: Option<i64>) {
        let prev = self.image.lock().insert((db, k.to_vec()), (text(e), exp));
        assert!(prev.is_none(), "{} saved twice", String::from_utf8_lossy(k));
    }
}

impl SnapshotSink for Collect {
    fn save_entry(&self, db: usize, key: &[u8], entry: &Entry, expire_ms: Option<i64>) {
        self.add(db, key, entry, expire_ms);
    }
    fn hand_over(&self, tables: Tables) {
        self.handed.lock().push(tables);
    }
}

fn sv(s: &str) -> Value {
    Value::Str(Str::from_bytes(s.as_bytes()))
}

/// The live state of `dbs` as an image.
fn state(dbs: &[DbShard]) -> Image {
    let mut m = Image::new();
    for (i, d) in dbs.iter().enumerate() {
        for (k, e) in d.keys.iter() {
            m.insert((i, k.to_vec()), (text(e), d.expire_time(k)));
        }
    }
    m
}

fn filled(n: usize) -> Vec<DbShard> {
    let mut dbs: Vec<DbShard> = (0..2).map(|_| DbShard::default()).collect();
    for (i, d) in dbs.iter_mut().enumerate() {
        for j in 0..n {
            let k = format!("k{j}");
            d.set(k.as_bytes(), sv(&format!("v{i}-{j}")), false, 0);
            if j % 3 == 0 {
                d.set_expire(k.as_bytes(), 1_000_000 + j as i64);
            }
        }
    }
    dbs
}

fn cut(dbs: &mut [DbShard], sink: &Arc<Collect>) -> Image {
    let before = state(dbs);
    let s: Arc<dyn SnapshotSink> = sink.clone();
    for (i, d) in dbs.iter_mut().enumerate() {
        d.begin_snapshot(7, i, &s);
    }
    before
}

/// Walks everything with small steps, running `mutate` between steps; returns
/// the collected image.
fn walk(
    dbs: &mut [DbShard],
    sink: &Arc<Collect>,
    mut mutate: impl FnMut(&mut [DbShard], usize),
) -> Image {
    let mut round = 0;
    loop {
        let mut busy = false;
        for d in dbs.iter_mut() {
            // The database index comes from the hook, as the walker reads it.
            let Some(db) = d.snapshot_db(7) else {
                continue;
            };
            let mut g = |k: &[u8], e: &Entry, exp: Option<i64>| sink.add(db, k, e, exp);
            if d.snapshot_step(7, 5, &mut g) == Step::More {
                busy = true;
            }
        }
        mutate(dbs, round);
        round += 1;
        if !busy {
            break;
        }
        assert!(round < 100_000);
    }
    for t in sink.handed.lock().drain(..) {
        t.for_each_unsaved(|k, e, exp| sink.add(t.db, k, e, exp));
    }
    sink.image.lock().clone()
}

#[test]
fn untouched_tables_give_the_state_at_the_cut() {
    let mut dbs = filled(100);
    let sink = Arc::new(Collect::default());
    let before = cut(&mut dbs, &sink);
    assert_eq!(walk(&mut dbs, &sink, |_, _| {}), before);
    assert!(dbs.iter().all(|d| d.snap.is_none()));
}

#[test]
fn writes_during_the_walk_are_not_in_the_image() {
    let mut dbs = filled(200);
    let sink = Arc::new(Collect::default());
    let before = cut(&mut dbs, &sink);
    let mut ev = Events::default();
    let image = walk(&mut dbs, &sink, |dbs, r| {
        let d = &mut dbs[r % 2];
        let k = format!("k{}", (r * 37) % 250);
        match r % 6 {
            0 => d.set(k.as_bytes(), sv("new"), false, 1),
            1 => {
                d.remove(k.as_bytes());
            }
            2 => {
                d.set_expire(k.as_bytes(), 5);
            }
            3 => {
                d.persist(k.as_bytes());
            }
            4 => {
                if let Some(e) = d.lookup(0, k.as_bytes(), Now::new(1), Access::Write, &mut ev) {
                    e.value = sv("mutated");
                }
            }
            _ => {
                let e = Entry::new(sv("inserted"), 1);
                d.remove(k.as_bytes());
                d.insert_entry(k.as_bytes(), e, Some(9));
            }
        }
    });
    assert_eq!(image, before);
    // After the walk every bit equals the parity again: a second snapshot of
    // the current state works too.
    let sink2 = Arc::new(Collect::default());
    let now = cut(&mut dbs, &sink2);
    assert_eq!(walk(&mut dbs, &sink2, |_, _| {}), now);
}

#[test]
fn removals_that_move_pairs_never_hide_one() {
    let mut dbs = filled(300);
    let sink = Arc::new(Collect::default());
    let before = cut(&mut dbs, &sink);
    // Remove low-index keys while the walker is high: the last pairs move down.
    let image = walk(&mut dbs, &sink, |dbs, r| {
        for d in dbs.iter_mut() {
            let k = format!("k{}", r % 300);
            d.remove(k.as_bytes());
            d.set(format!("x{r}").as_bytes(), sv("x"), false, 0);
        }
    });
    assert_eq!(image, before);
}

#[test]
fn flush_and_take_hand_the_tables_over() {
    let mut dbs = filled(100);
    let sink = Arc::new(Collect::default());
    let before = cut(&mut dbs, &sink);
    let image = walk(&mut dbs, &sink, |dbs, r| match r {
        3 => {
            dbs[0].clear();
            dbs[0].set(b"after", sv("x"), false, 0);
        }
        5 => {
            let taken = dbs[1].take();
            assert!(taken.is_empty());
        }
        _ => {}
    });
    assert_eq!(image, before);
    assert_eq!(dbs[0].len(), 1);
    assert_eq!(dbs[1].len(), 0);
}

#[test]
fn swapdb_keeps_the_view_of_the_cut() {
    let mut dbs = filled(100);
    dbs[1].set(b"only-in-1", sv("y"), false, 0);
    let sink = Arc::new(Collect::default());
    let before = cut(&mut dbs, &sink);
    let image = walk(&mut dbs, &sink, |dbs, r| {
        if r == 2 {
            dbs.swap(0, 1);
            dbs[0].remove(b"only-in-1");
            dbs[1].set(b"k1", sv("changed"), false, 0);
        }
    });
    assert_eq!(image, before);
}

#[test]
fn lazy_and_active_expiry_save_first() {
    let mut dbs = filled(90);
    let sink = Arc::new(Collect::default());
    let before = cut(&mut dbs, &sink);
    let mut ev = Events::default();
    let image = walk(&mut dbs, &sink, |dbs, r| {
        if r == 1 {
            // Every key with a TTL is past due at this time.
            let now = 10_000_000;
            assert!(dbs[0]
                .lookup(0, b"k0", Now::new(now), Access::Read, &mut ev)
                .is_none());
            for _ in 0..100 {
                dbs[1].active_expire_step(1, now, 16, &mut ev);
            }
        }
    });
    assert_eq!(image, before);
    assert_eq!(dbs[1].expires_len(), 0);
}
