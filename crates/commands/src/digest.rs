//! DEBUG DIGEST and DEBUG DIGEST-VALUE: a SHA-1 based signature of the dataset that
//! is independent of key order and equal to Redis's for the same data, so that a
//! Shoal and a Redis holding the same keys print the same digest.
//!
//! Shape of the computation (Redis's, reproduced from its observable results):
//! per database with keys, the running result is "mixed" with the database number
//! (4 bytes, big-endian); per key, a fresh 20-byte digest is mixed with the key, the
//! value's type (4 bytes, big-endian) and the value's contents, xored with the hash
//! of the marker `!!expire!!` when the key has a TTL, and its SHA-1 is xored into
//! the result.
//! `xor(d, data)`: d ^= SHA1(data). `mix(d, data)`: xor(d, data); d = SHA1(d).

use sha1::{Digest as _, Sha1};
use shoal_keyspace::stream::StreamId;
use shoal_keyspace::{DbShard, Value};

pub type Digest = [u8; 20];

fn xor(d: &mut Digest, data: &[u8]) {
    let h = Sha1::digest(data);
    for (a, b) in d.iter_mut().zip(h.iter()) {
        *a ^= b;
    }
}

fn mix(d: &mut Digest, data: &[u8]) {
    xor(d, data);
    let h = Sha1::digest(&d[..]);
    d.copy_from_slice(&h);
}

/// Redis's numeric type codes.
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Mixes a value (its type, contents and TTL marker) into `d`.
fn mix_object(d: &mut Digest, v: &Value, has_ttl: bool) {
    mix(d, &type_code(v).to_be_bytes());
    match v {
        Value::Str(s) => s.with_bytes(|b| mix(d, b)),
        // Each element, head to tail, straight into the key's digest.
        Value::List(l) => {
            for e in l.iter() {
                e.with_bytes(|b| mix(d, b));
            }
        }
        // Members are unordered: each one is xored in, so the order does not matter.
        Value::Set(s) => {
            for e in s.iter() {
                e.with_bytes(|b| xor(d, b));
            }
        }
        // Each pair gets its own digest (field, then value, mixed into zeros), whose
        // hash is xored in: the result does not depend on the order of the pairs, so
        // both encodings (and Redis's table order) give the same digest.
        Value::Hash(h) => {
            for (k, v) in h.iter() {
                let mut pair = [0u8; 20];
                mix(&mut pair, k);
                mix(&mut pair, v);
                xor(d, &pair);
            }
        }
        // Each entry in ID order: its ID as `ms.seq`, then each field and value.
        // Consumer groups do not enter the digest.
        Value::Stream(s) => {
            let all = s.range(StreamId::ZERO, StreamId::MAX, false);
            for (id, e) in all {
                mix(d, format!("{}.{}", id.ms, id.seq).as_bytes());
                for (f, v) in e.pairs() {
                    mix(d, f);
                    mix(d, v);
                }
            }
        }
        // Per member: a fresh digest mixed with the member and its score as
        // `%.17g` text, whose hash is xored in (order-independent).
        Value::ZSet(z) => z.for_each(&mut |m, s| {
            let mut e = [0u8; 20];
            mix(&mut e, m);
            mix(&mut e, shoal_resp::double_text(s).as_bytes());
            xor(d, &e);
        }),
    }
    if has_ttl {
        xor(d, b"!!expire!!");
    }
}

/// The digest of one value (with its type and TTL marker), without the key: what
/// DEBUG DIGEST-VALUE prints.
pub fn value_digest(v: &Value, has_ttl: bool) -> Digest {
    let mut d = [0u8; 20];
    mix_object(&mut d, v, has_ttl);
    d
}

/// Accumulates the dataset digest, database by database.
#[derive(Default)]
pub struct DatasetDigest {
    pub result: Digest,
}

impl DatasetDigest {
    /// Adds database `db`, given all its shards. Empty databases are skipped.
    pub fn add_db<'a>(
        &mut self,
        db: usize,
        shards: impl Iterator<Item = &'a DbShard> + Clone,
        now_ms: i64,
    ) {
        if shards.clone().all(|s| s.is_empty()) {
            return;
        }
        mix(&mut self.result, &(db as u32).to_be_bytes());
        for shard in shards {
            shard.for_each(now_ms, |key, entry, ttl| {
                let mut d = [0u8; 20];
                mix(&mut d, key);
                mix_object(&mut d, &entry.value, ttl.is_some());
                // The key's digest enters the result hashed (xor of its SHA-1).
                xor(&mut self.result, &d);
            });
        }
    }
}

pub fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_keyspace::{List, Set, Str};

    #[test]
    fn matches_redis_for_one_key() {
        // Reference: Redis 7.0.15 after `SET a 1` in db 0.
        let mut shard = DbShard::default();
        shard.set(b"a", Value::Str(Str::from_bytes(b"1")), false, 0);
        let mut dd = DatasetDigest::default();
        dd.add_db(0, std::iter::once(&shard), 0);
        assert_eq!(hex(&dd.result), "943d800368fb9c0e951138f1bc0e313ac769d91f");
        let v = value_digest(&Value::Str(Str::from_bytes(b"1")), false);
        assert_eq!(hex(&v), "b4fc66738120fba0b5aa500ab5c2bf89cea1c5da");
    }

    #[test]
    fn matches_redis_for_zsets() {
        // Reference: Redis 7.0.15, DEBUG DIGEST-VALUE after `ZADD q 1 a 2.5 b 3 c`
        // (the same for both encodings) and `ZADD k -0 a` (a listpack reads -0 as 0).
        let lim = shoal_keyspace::ZLimits::new(128, 64);
        let mut q = shoal_keyspace::ZSet::new();
        for (s, m) in [(1.0, "a"), (2.5, "b"), (3.0, "c")] {
            q.insert(m.as_bytes(), s, lim);
        }
        let q = Value::ZSet(q);
        assert_eq!(
            hex(&value_digest(&q, false)),
            "1edf4f538ced494d25ab010f1f17dc39e42adc24"
        );
        let mut k = shoal_keyspace::ZSet::new();
        k.insert(b"a", -0.0, lim);
        assert_eq!(
            hex(&value_digest(&Value::ZSet(k), false)),
            "8d8d88c2cfb8d9411b8d9973c96538bd6378d446"
        );
    }

    #[test]
    fn matches_redis_for_lists() {
        // Reference: Redis 7.0.15, db 0 holding only `RPUSH l 1 2 3`; then also
        // `RPUSH l2 "" "a b" -5 12345678901 xyz` with `EXPIRE l2 100`.
        let l = || Value::List(List::from_items(-2, ["1", "2", "3"]));
        let l2 = || {
            Value::List(List::from_items(
                -2,
                ["", "a b", "-5", "12345678901", "xyz"],
            ))
        };
        assert_eq!(
            hex(&value_digest(&l(), false)),
            "4ee6e075f07dc1413244a0d85654cd725e5ce13d"
        );
        assert_eq!(
            hex(&value_digest(&l2(), true)),
            "760cb33c1429117c8eccfbba5661823d14cd2ed2"
        );
        let mut shard = DbShard::default();
        shard.set(b"l", l(), false, 0);
        let mut dd = DatasetDigest::default();
        dd.add_db(0, std::iter::once(&shard), 0);
        assert_eq!(hex(&dd.result), "5c62e186fd0510f99df331998b7371d6361938e7");
        shard.set(b"l2", l2(), false, 0);
        shard.set_expire(b"l2", i64::MAX);
        let mut dd = DatasetDigest::default();
        dd.add_db(0, std::iter::once(&shard), 0);
        assert_eq!(hex(&dd.result), "9144f7fbfef147b6579619e9e1725ed3f631ef71");
    }

    #[test]
    fn matches_redis_for_sets() {
        // Reference: Redis 7.0.15, db 0 holding only `SADD di 1 2 3` (an intset) and
        // `SADD dh a b c 1` (a hashtable); the member order does not matter.
        let di = || Value::Set(Set::from_members(512, ["1", "2", "3"]));
        let dh = || Value::Set(Set::from_members(512, ["1", "c", "b", "a"]));
        assert_eq!(
            hex(&value_digest(&di(), false)),
            "2a462a3f51a1db89738ebbeef0c47ce1bbc85246"
        );
        assert_eq!(
            hex(&value_digest(&dh(), false)),
            "6c563d3f017ec5083ac0b9f29fc635f90a47f2d9"
        );
        let mut shard = DbShard::default();
        shard.set(b"di", di(), false, 0);
        shard.set(b"dh", dh(), false, 0);
        let mut dd = DatasetDigest::default();
        dd.add_db(0, std::iter::once(&shard), 0);
        assert_eq!(hex(&dd.result), "7a57b2d69fce9103faa06809684747a738c895d7");
    }

    #[test]
    fn matches_redis_for_hashes() {
        // Reference: Redis 7.0.15, db 0 holding only `HSET h a 1 b hello c -5 "" "x y"`,
        // then the same with `EXPIRE h 100`. Both encodings digest alike.
        use shoal_keyspace::hash::{Hash, Limits};
        let pairs = [("a", "1"), ("b", "hello"), ("c", "-5"), ("", "x y")];
        let compact = Value::Hash(Hash::from_pairs(&Limits::HASH_DEFAULTS, pairs));
        let mut table = Hash::from_pairs(&Limits::HASH_DEFAULTS, pairs);
        table.convert();
        let table = Value::Hash(table);
        for v in [&compact, &table] {
            assert_eq!(
                hex(&value_digest(v, false)),
                "04a94a0f246a0d365ac488a0b4a8e090d25a6263"
            );
            assert_eq!(
                hex(&value_digest(v, true)),
                "e22cb4f0f853e7629bd26358f1c22f0bc8f423e0"
            );
        }
        let mut shard = DbShard::default();
        shard.set(b"h", table.clone(), false, 0);
        let mut dd = DatasetDigest::default();
        dd.add_db(0, std::iter::once(&shard), 0);
        assert_eq!(hex(&dd.result), "ba3036f0d981fd45e8dea48bae770c683e017fbe");
        shard.set_expire(b"h", i64::MAX);
        let mut dd = DatasetDigest::default();
        dd.add_db(0, std::iter::once(&shard), 0);
        assert_eq!(hex(&dd.result), "251df9b694e814f86970344f3de549a2253bb327");
    }

    #[test]
    fn matches_redis_for_streams() {
        // Reference: Redis 7.0.15, `XADD s 1-1 a 1 b 2` (a group does not count).
        let mut s = shoal_keyspace::Stream::new();
        s.append(StreamId::new(1, 1), &[b"a", b"1", b"b", b"2"], 4096, 100);
        assert_eq!(
            hex(&value_digest(&Value::Stream(s), false)),
            "e4a21e3ca2d9a960e9859bb0985cc334bb4f2e58"
        );
    }
}
