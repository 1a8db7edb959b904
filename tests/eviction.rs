//! Process tests of maxmemory eviction: each policy frees memory by deleting the
//! keys it should, `noeviction` (or nothing left to evict) refuses what Redis
//! refuses with its OOM error, evictions are notified, counted in INFO and
//! propagated as `DEL` (`UNLINK` under `lazyfree-lazy-eviction`) units of their own
//! (checked in the AOF, which receives the replication stream's units), and the
//! AOF loads back without evicting.
//!
//! Eviction is sampled, so the tests assert what holds whatever the samples are
//! (or fails with a vanishing probability, noted where it applies). Each test runs
//! against shoal-server and, when installed, against Debian's redis-server, which
//! keeps the tests honest about Redis's behaviour. Servers run on ephemeral
//! loopback ports in temporary directories and are killed on drop.

mod common;

use common::dir_server::{redis_or_skip, shoal, text, DirServer};
use common::{read_frame, Client, Frame};
use std::path::Path;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Size of the values the fill loops write.
const VALUE: usize = 50_000;

/// shoal-server, then redis-server when installed.
fn servers() -> Vec<&'static Path> {
    let mut v = vec![shoal()];
    v.extend(redis_or_skip("eviction against the reference"));
    v
}

fn start(bin: &Path, dir: &Path, extra: &[&str]) -> DirServer {
    DirServer::start(bin, dir, &[&["--save", ""], extra].concat())
}

fn cmd(c: &mut Client, args: &[&str]) -> String {
    text(&c.cmd(args).expect("reply"))
}

/// One INFO field (any section); panics if absent.
fn info(c: &mut Client, field: &str) -> String {
    let all = cmd(c, &["INFO", "everything"]);
    let prefix = format!("{field}:");
    all.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
        .to_string()
}

fn info_u64(c: &mut Client, field: &str) -> u64 {
    info(c, field).parse().expect("a number")
}

/// Sets `maxmemory` to what is in use now plus `headroom` bytes.
fn limit_to_now_plus(c: &mut Client, headroom: u64) -> u64 {
    let max = info_u64(c, "used_memory") + headroom;
    assert_eq!(
        cmd(c, &["CONFIG", "SET", "maxmemory", &max.to_string()]),
        "OK"
    );
    max
}

fn set(c: &mut Client, key: &str, ttl: Option<u64>) -> String {
    let v = "x".repeat(VALUE);
    match ttl {
        Some(t) => cmd(c, &["SET", key, &v, "EX", &t.to_string()]),
        None => cmd(c, &["SET", key, &v]),
    }
}

fn exists(c: &mut Client, key: &str) -> bool {
    cmd(c, &["EXISTS", key]) == "1"
}

/// Each policy evicts until memory is back under the limit, and only keys it may
/// evict: every write succeeds, keys without a TTL survive the volatile policies.
#[test]
fn every_policy_keeps_memory_under_the_limit() {
    for bin in servers() {
        let dir = tempfile::tempdir().unwrap();
        let s = start(bin, dir.path(), &[]);
        let mut c = s.client();
        for policy in [
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ] {
            assert_eq!(cmd(&mut c, &["CONFIG", "SET", "maxmemory", "0"]), "OK");
            assert_eq!(cmd(&mut c, &["FLUSHALL"]), "OK");
            assert_eq!(cmd(&mut c, &["CONFIG", "RESETSTAT"]), "OK");
            assert_eq!(
                cmd(&mut c, &["CONFIG", "SET", "maxmemory-policy", policy]),
                "OK"
            );
            let max = limit_to_now_plus(&mut c, 2_000_000);
            let volatile = policy.starts_with("volatile");
            // 10 keys without a TTL first (0.5 MB), then 90 with one (4.5 MB).
            for i in 0..100 {
                let ttl = (i >= 10).then_some(10_000);
                let r = set(&mut c, &format!("k{i}"), ttl);
                assert_eq!(r, "OK", "{}: {policy}: SET k{i}", s.name);
            }
            let evicted = info_u64(&mut c, "evicted_keys");
            let left: u64 = cmd(&mut c, &["DBSIZE"]).parse().unwrap();
            assert!(evicted > 0, "{}: {policy}: nothing evicted", s.name);
            assert_eq!(left + evicted, 100, "{}: {policy}", s.name);
            let used = info_u64(&mut c, "used_memory");
            // The last command may have pushed memory over by its own value.
            assert!(
                used <= max + 2 * VALUE as u64,
                "{}: {policy}: used {used} > max {max}",
                s.name
            );
            if volatile {
                for i in 0..10 {
                    assert!(
                        exists(&mut c, &format!("k{i}")),
                        "{}: {policy} evicted k{i}, which has no TTL",
                        s.name
                    );
                }
            }
        }
    }
}

/// The pool policies evict the keys their score prefers: idle keys under LRU,
/// rarely used ones under LFU, the soonest to expire under volatile-ttl. Each
/// preferred key is sampled at least once with near certainty (about 80 rounds
/// of 5 samples among ~40 keys), and a sampled one is evicted before any fresh
/// key.
#[test]
fn pool_policies_evict_the_keys_their_score_prefers() {
    for bin in servers() {
        let dir = tempfile::tempdir().unwrap();
        let s = start(bin, dir.path(), &[]);
        let mut c = s.client();
        for (policy, restore_opt) in [
            ("allkeys-lru", ["IDLETIME", "100000"]),
            ("allkeys-lfu", ["FREQ", "0"]),
        ] {
            assert_eq!(cmd(&mut c, &["CONFIG", "SET", "maxmemory", "0"]), "OK");
            assert_eq!(cmd(&mut c, &["FLUSHALL"]), "OK");
            assert_eq!(
                cmd(&mut c, &["CONFIG", "SET", "maxmemory-policy", policy]),
                "OK"
            );
            set(&mut c, "model", None);
            let Frame::Bulk(Some(payload)) = c.cmd(&["DUMP", "model"]).unwrap() else {
                panic!("DUMP")
            };
            cmd(&mut c, &["DEL", "model"]);
            // Ten cold keys (long idle, or never used), then fresh ones.
            for i in 0..10 {
                let key = format!("cold{i}");
                let r = c
                    .call(&[
                        b"RESTORE".as_slice(),
                        key.as_bytes(),
                        b"0",
                        &payload,
                        restore_opt[0].as_bytes(),
                        restore_opt[1].as_bytes(),
                    ])
                    .unwrap();
                assert_eq!(text(&r), "OK");
            }
            limit_to_now_plus(&mut c, 1_500_000);
            for i in 0..100 {
                assert_eq!(set(&mut c, &format!("hot{i}"), None), "OK");
                // Under LFU, the fresh keys are used a few times.
                if policy == "allkeys-lfu" {
                    for _ in 0..3 {
                        cmd(&mut c, &["EXISTS", &format!("hot{i}")]);
                        c.cmd(&["GET", &format!("hot{i}")]).unwrap();
                    }
                }
            }
            for i in 0..10 {
                let key = format!("cold{i}");
                assert!(!exists(&mut c, &key), "{}: {policy} kept {key}", s.name);
            }
        }
        // volatile-ttl: the later a key was written, the sooner it expires; the
        // first keys (longest TTLs) are never the pool's best while others exist.
        assert_eq!(cmd(&mut c, &["CONFIG", "SET", "maxmemory", "0"]), "OK");
        assert_eq!(cmd(&mut c, &["FLUSHALL"]), "OK");
        assert_eq!(
            cmd(
                &mut c,
                &["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"]
            ),
            "OK"
        );
        limit_to_now_plus(&mut c, 1_500_000);
        for i in 0..100u64 {
            assert_eq!(set(&mut c, &format!("t{i}"), Some(100_000 - i * 10)), "OK");
        }
        for i in 0..3 {
            assert!(exists(&mut c, &format!("t{i}")), "{}: t{i} evicted", s.name);
        }
    }
}

/// `noeviction`, or nothing left to evict: deny-oom commands (and writing
/// scripts, and anything queued in MULTI) get the OOM error; reads, DEL and
/// the like still run.
#[test]
fn over_the_limit_refuses_what_redis_refuses() {
    for bin in servers() {
        let dir = tempfile::tempdir().unwrap();
        let s = start(bin, dir.path(), &[]);
        let mut c = s.client();
        assert_eq!(cmd(&mut c, &["SET", "a", "1"]), "OK");
        assert_eq!(cmd(&mut c, &["SET", "b", "2"]), "OK");
        assert_eq!(cmd(&mut c, &["CONFIG", "SET", "maxmemory", "1"]), "OK");
        let cases: &[(&[&str], &str)] = &[
            (&["SET", "a", "2"], OOM),
            (&["APPEND", "a", "x"], OOM),
            (&["LPUSH", "l", "x"], OOM),
            (&["GET", "a"], "1"),
            (&["EXPIRE", "nokey", "10"], "0"),
            (&["DEL", "b"], "1"),
            (&["PING"], "PONG"),
            // Scripts: no shebang runs (its writes are checked inside); a
            // shebang without no-writes / allow-oom is refused up front.
            (&["EVAL", "return 1", "0"], "1"),
            (&["EVAL", "#!lua\nreturn 1", "0"], OOM),
            (&["EVAL", "#!lua flags=no-writes\nreturn 1", "0"], "1"),
            (&["EVAL", "#!lua flags=allow-oom\nreturn 1", "0"], "1"),
            (&["EVAL", "return redis.call('get', 'a')", "0"], "1"),
            // The first write of a script may not be deny-oom; after a write
            // the script may go on.
            (
                &[
                    "EVAL",
                    "redis.call('del', 'x'); return redis.call('set', 'a', '3')",
                    "0",
                ],
                "OK",
            ),
            (&["MULTI"], "OK"),
            (&["GET", "a"], OOM),
            (
                &["EXEC"],
                "EXECABORT Transaction discarded because of previous errors.",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(cmd(&mut c, args), *want, "{}: {args:?}", s.name);
        }
        let r = cmd(&mut c, &["EVAL", "return redis.call('set', 'a', '4')", "0"]);
        assert!(r.starts_with(OOM), "{}: {r}", s.name);
        let errs = info(&mut c, "errorstat_OOM");
        assert!(errs.starts_with("count="), "{}: {errs}", s.name);
        // A policy with nothing to evict refuses the same way.
        for policy in ["allkeys-lru", "volatile-random"] {
            cmd(&mut c, &["CONFIG", "SET", "maxmemory-policy", policy]);
            if policy == "allkeys-lru" {
                cmd(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
                cmd(&mut c, &["FLUSHALL"]);
                cmd(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
            }
            assert_eq!(cmd(&mut c, &["SET", "a", "5"]), OOM, "{}: {policy}", s.name);
        }
    }
}

/// Each evicted key fires `evicted` (class `e`), counted in `evicted_keys`; the
/// INFO fields of eviction are there.
#[test]
fn evictions_are_notified_and_counted() {
    for bin in servers() {
        let dir = tempfile::tempdir().unwrap();
        let s = start(bin, dir.path(), &["--notify-keyspace-events", "Ee"]);
        let mut c = s.client();
        let mut sub = s.client();
        sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]).unwrap();
        cmd(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
        );
        limit_to_now_plus(&mut c, 1_000_000);
        for i in 0..60 {
            assert_eq!(set(&mut c, &format!("k{i}"), None), "OK");
        }
        let evicted = info_u64(&mut c, "evicted_keys");
        assert!(evicted > 0);
        let mut keys = Vec::new();
        for _ in 0..evicted {
            let Frame::Array(Some(msg)) = sub.read().unwrap() else {
                panic!("not a message")
            };
            assert_eq!(text(&msg[0]), "message");
            assert_eq!(text(&msg[1]), "__keyevent@0__:evicted");
            keys.push(text(&msg[2]));
        }
        for k in &keys {
            assert!(!exists(&mut c, k), "{}: {k} notified but present", s.name);
        }
        for f in [
            "total_eviction_exceeded_time",
            "current_eviction_exceeded_time",
            "mem_not_counted_for_evict",
        ] {
            info_u64(&mut c, f);
        }
        assert_eq!(info(&mut c, "maxmemory_policy"), "allkeys-random");
        cmd(&mut c, &["CONFIG", "RESETSTAT"]);
        assert_eq!(info_u64(&mut c, "evicted_keys"), 0);
    }
}

/// The commands of the incr AOF file, one argument list each.
fn aof_commands(dir: &Path) -> Vec<Vec<String>> {
    let path = dir.join("appendonlydir").join("appendonly.aof.1.incr.aof");
    let bytes = std::fs::read(&path).unwrap();
    let mut r = std::io::Cursor::new(bytes);
    let mut out = Vec::new();
    while (r.position() as usize) < r.get_ref().len() {
        let Frame::Array(Some(items)) = read_frame(&mut r).unwrap() else {
            panic!("not a command")
        };
        out.push(items.iter().map(text).collect());
    }
    out
}

/// Evictions reach the propagation stream as `DEL key` (`UNLINK key` with
/// lazyfree-lazy-eviction), each alone, never inside MULTI; the AOF loads back
/// to the same data, without evicting or refusing while it loads.
#[test]
fn evictions_propagate_as_del_units() {
    for bin in servers() {
        for (lazy, verb) in [("no", "DEL"), ("yes", "UNLINK")] {
            let dir = tempfile::tempdir().unwrap();
            let s = start(
                bin,
                dir.path(),
                &[
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--maxmemory-policy",
                    "allkeys-lru",
                    "--lazyfree-lazy-eviction",
                    lazy,
                ],
            );
            let mut c = s.client();
            let max = limit_to_now_plus(&mut c, 1_000_000);
            for i in 0..50 {
                assert_eq!(set(&mut c, &format!("k{i}"), None), "OK");
            }
            let evicted = info_u64(&mut c, "evicted_keys");
            assert!(evicted > 0);
            let digest = cmd(&mut c, &["DEBUG", "DIGEST"]);
            let keys = cmd(&mut c, &["DBSIZE"]);
            let cmds = aof_commands(dir.path());
            let dels: Vec<&Vec<String>> = cmds.iter().filter(|a| a[0] == verb).collect();
            assert_eq!(dels.len() as u64, evicted, "{}: {cmds:?}", s.name);
            assert!(dels.iter().all(|a| a.len() == 2));
            assert!(
                !cmds.iter().any(|a| a[0].eq_ignore_ascii_case("multi")),
                "{}: an eviction was wrapped",
                s.name
            );
            drop(c);
            s.stop();
            // Loading under noeviction and a limit the data exceeds: nothing is
            // evicted or refused while the AOF loads.
            let half = (max / 2).to_string();
            let s = start(
                bin,
                dir.path(),
                &[
                    "--appendonly",
                    "yes",
                    "--maxmemory-policy",
                    "noeviction",
                    "--maxmemory",
                    &half,
                ],
            );
            let mut c = s.client();
            assert_eq!(cmd(&mut c, &["DBSIZE"]), keys, "{}", s.name);
            assert_eq!(cmd(&mut c, &["DEBUG", "DIGEST"]), digest, "{}", s.name);
            assert_eq!(info_u64(&mut c, "evicted_keys"), 0);
        }
    }
}

/// An evicted key counts as modified: a transaction WATCHing it fails.
#[test]
fn eviction_fails_watchers() {
    for bin in servers() {
        let dir = tempfile::tempdir().unwrap();
        let s = start(bin, dir.path(), &["--maxmemory-policy", "allkeys-random"]);
        let mut c = s.client();
        for i in 0..40 {
            assert_eq!(set(&mut c, &format!("k{i}"), None), "OK");
        }
        let mut w = s.client();
        let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        let mut watch = vec!["WATCH"];
        watch.extend(keys.iter().map(|k| k.as_str()));
        assert_eq!(cmd(&mut w, &watch), "OK");
        // Half the data over the limit: the next command evicts.
        let used = info_u64(&mut c, "used_memory");
        let max = (used - 20 * VALUE as u64).to_string();
        assert_eq!(cmd(&mut c, &["CONFIG", "SET", "maxmemory", &max]), "OK");
        cmd(&mut c, &["PING"]);
        assert!(info_u64(&mut c, "evicted_keys") > 0, "{}", s.name);
        assert_eq!(cmd(&mut w, &["MULTI"]), "OK");
        assert_eq!(cmd(&mut w, &["PING"]), "QUEUED");
        assert_eq!(w.cmd(&["EXEC"]).unwrap(), Frame::Array(None), "{}", s.name);
    }
}
