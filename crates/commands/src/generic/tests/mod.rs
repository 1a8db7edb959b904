//! Tests of the generic commands through [`TestDb`] (table arity and key extraction
//! as dispatch does them). Values are created straight in the keyspace, so the tests
//! do not depend on the string commands.

mod dbs;
mod dump;
mod expire;
mod keys;
mod object;
mod scan;
mod sort;

use crate::testing::TestDb;
use shoal_keyspace::{Str, Value};
use shoal_resp::Frame;

/// Stores a string in database `dbi` without going through a command.
pub(super) fn put(t: &mut TestDb, dbi: usize, key: &str, val: &str) {
    let idx = t.ks.shard_of(key.as_bytes());
    let mut l = t.ks.lock_one(idx);
    let shard = l.shard(idx).unwrap();
    let v = Value::Str(Str::from_bytes(val.as_bytes()));
    shard.dbs[dbi].set(key.as_bytes(), v, false, t.now_ms);
}

/// `put` in db 0 plus an absolute expiry time.
pub(super) fn put_at(t: &mut TestDb, key: &str, val: &str, at_ms: i64) {
    put(t, 0, key, val);
    let idx = t.ks.shard_of(key.as_bytes());
    let mut l = t.ks.lock_one(idx);
    l.shard(idx).unwrap().dbs[0].set_expire(key.as_bytes(), at_ms);
}

/// The string stored at `key` in `dbi` (ignoring expiry), if any.
pub(super) fn get(t: &TestDb, dbi: usize, key: &str) -> Option<String> {
    let idx = t.ks.shard_of(key.as_bytes());
    let mut l = t.ks.lock_one(idx);
    let shard = l.shard(idx).unwrap();
    let e = shard.dbs[dbi].peek(key.as_bytes(), i64::MIN)?;
    let s = e.value.as_str()?;
    Some(String::from_utf8(s.to_vec()).unwrap())
}

/// The absolute expiry (ms) of `key` in `dbi`.
pub(super) fn expire_of(t: &TestDb, dbi: usize, key: &str) -> Option<i64> {
    let idx = t.ks.shard_of(key.as_bytes());
    let mut l = t.ks.lock_one(idx);
    l.shard(idx).unwrap().dbs[dbi].expire_time(key.as_bytes())
}

/// Keys physically present in `dbi` (expired or not).
pub(super) fn raw_len(t: &TestDb, dbi: usize) -> usize {
    let mut l = t.ks.lock_all();
    let mut n = 0;
    l.for_each_shard(|_, s| n += s.dbs[dbi].len());
    n
}

pub(super) fn arr(items: &[Frame]) -> Frame {
    Frame::Array(items.to_vec())
}

pub(super) fn simple(s: &str) -> Frame {
    Frame::Simple(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

/// The elements of an array reply as strings, sorted.
pub(super) fn sorted_strings(f: &Frame) -> Vec<String> {
    let Frame::Array(v) = f else {
        panic!("not an array: {f:?}")
    };
    let mut out: Vec<String> = v
        .iter()
        .map(|x| match x {
            Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    out.sort();
    out
}

/// Runs one command like [`TestDb::cmd`] and also returns what it asked to
/// propagate.
pub(super) fn call_prop(t: &mut TestDb, args: &[&str]) -> (Frame, crate::Propagate) {
    let f = t.cmd(args);
    (f, std::mem::take(&mut t.last_propagate))
}
