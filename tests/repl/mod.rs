//! Support of the replication tests (tests/replication.rs,
//! tests/replication_interop.rs): servers in directories of the tests' own,
//! started as masters or replicas, INFO replication parsed into fields, and
//! bounded waits for the states a replication test needs (link up, replica
//! online at the master, offsets caught up, a log line written).
//!
//! The binary is Shoal by default; `SHOAL_REPL_BIN=/usr/bin/redis-server`
//! runs the same tests with Debian's redis-server 7.0.15 in every role, which
//! is how the tests themselves are validated.
//!
//! Invariants: every wait has a deadline and fails with both servers' logs;
//! every server is a [`DirServer`] (killed on drop).

#![allow(dead_code)]

// Not every test file uses every re-export.
#[allow(unused_imports)]
pub use crate::common::dir_server::{cmd, digest, redis_or_skip, shoal, tempdir_named, DirServer};
use crate::common::{Client, Frame};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long a sync, a catch-up or a log line may take before the test fails.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The binary every role runs: `SHOAL_REPL_BIN`, or the shoal-server Cargo
/// built.
pub fn bin() -> PathBuf {
    match std::env::var_os("SHOAL_REPL_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => shoal().to_path_buf(),
    }
}

/// The defaults of every replication test server: no save points, no AOF,
/// full syncs start at once.
const DEFAULTS: [&str; 6] = [
    "--save",
    "",
    "--appendonly",
    "no",
    "--repl-diskless-sync-delay",
    "0",
];

/// Starts `bin` in `dir` with the defaults and `extra`; its clients wait up
/// to 30 s for a reply.
pub fn start(bin: &Path, dir: &Path, extra: &[&str]) -> DirServer {
    let mut p = DirServer::start(bin, dir, &[&DEFAULTS[..], extra].concat());
    p.reply_timeout = Some(Duration::from_secs(30));
    p
}

/// Starts a replica of the master on `master_port` (`--replicaof` on the
/// command line).
pub fn start_replica(bin: &Path, dir: &Path, master_port: u16, extra: &[&str]) -> DirServer {
    let port = master_port.to_string();
    let mut args = vec!["--replicaof", "127.0.0.1", &port];
    args.extend_from_slice(extra);
    start(bin, dir, &args)
}

pub fn tempdir() -> tempfile::TempDir {
    tempdir_named("shoal-repl-")
}

/// The fields of `INFO <section>` as name -> value.
pub fn info_map(c: &mut Client, section: &str) -> HashMap<String, String> {
    let reply = c.cmd(&["INFO", section]).expect("INFO reply");
    let Frame::Bulk(Some(text)) = reply else {
        panic!("INFO {section}: {reply}")
    };
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
        .collect()
}

/// One field of INFO replication ("" when absent).
pub fn repl(c: &mut Client, field: &str) -> String {
    info_map(c, "replication").remove(field).unwrap_or_default()
}

/// `master_repl_offset` of INFO replication.
pub fn offset(c: &mut Client) -> i64 {
    repl(c, "master_repl_offset")
        .parse()
        .expect("master_repl_offset")
}

/// The `name=value` words of a `slaveN:` line.
pub fn slave_line(line: &str) -> HashMap<String, String> {
    line.split(',')
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The logs of `servers`, for failure messages.
pub fn logs(servers: &[&DirServer]) -> String {
    servers
        .iter()
        .map(|s| format!("--- {} on port {}:\n{}", s.name, s.port, s.log_text()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Polls `cond` every 20 ms until it holds; panics after [`LIMIT`] with
/// `what` and the logs of `servers`.
pub fn wait_for(what: &str, servers: &[&DirServer], mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + LIMIT;
    while !cond() {
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}\n{}",
            logs(servers)
        );
        sleep(Duration::from_millis(20));
    }
}

/// Waits until the replica reports `master_link_status:up`.
pub fn wait_link_up(replica: &DirServer) {
    let mut c = replica.client();
    wait_for("master_link_status:up", &[replica], || {
        repl(&mut c, "master_link_status") == "up"
    });
}

/// Waits until the master lists `n` replicas, all `state=online`.
pub fn wait_online(master: &DirServer, n: usize) {
    let mut c = master.client();
    wait_for(&format!("{n} online replicas"), &[master], || {
        let m = info_map(&mut c, "replication");
        m.get("connected_slaves").map(String::as_str) == Some(&n.to_string())
            && (0..n).all(|i| {
                m.get(&format!("slave{i}")).is_some_and(|l| {
                    slave_line(l).get("state").map(String::as_str) == Some("online")
                })
            })
    });
}

/// Waits until every replica's link is up and its `master_repl_offset`
/// equals the master's (read again each round: the master's periodic PING
/// moves it).
pub fn wait_caught_up(master: &DirServer, replicas: &[&DirServer]) {
    let mut mc = master.client();
    let mut rcs: Vec<Client> = replicas.iter().map(|r| r.client()).collect();
    let mut all = vec![master];
    all.extend_from_slice(replicas);
    wait_for(
        "replicas to catch up with the master's offset",
        &all,
        || {
            let want = offset(&mut mc);
            rcs.iter_mut().all(|c| {
                let m = info_map(c, "replication");
                m.get("master_link_status").map(String::as_str) == Some("up")
                    && m.get("master_repl_offset") == Some(&want.to_string())
            })
        },
    );
}

/// Waits until `server`'s log contains `needle`.
pub fn wait_log(server: &DirServer, needle: &str) {
    wait_for(&format!("log line {needle:?}"), &[server], || {
        server.log_text().contains(needle)
    });
}

/// Waits until `server`'s log has a line containing all of `parts`.
pub fn wait_log_line(server: &DirServer, parts: &[&str]) {
    wait_for(&format!("a log line with {parts:?}"), &[server], || {
        server
            .log_text()
            .lines()
            .any(|l| parts.iter().all(|p| l.contains(p)))
    });
}

/// DEBUG DIGEST of the master and of every replica, once the replicas have
/// caught up, taken while the master's offset does not move (a key expiring
/// or evicted meanwhile is retried, bounded); panics unless all are equal.
/// Returns the digest.
pub fn assert_same_digest(master: &DirServer, replicas: &[&DirServer]) -> String {
    let mut all = vec![master];
    all.extend_from_slice(replicas);
    let mut mc = master.client();
    let mut last = String::new();
    for _ in 0..20 {
        wait_caught_up(master, replicas);
        let before = offset(&mut mc);
        let want = String::from_utf8_lossy(&digest(&mut mc)).into_owned();
        let got: Vec<String> = replicas
            .iter()
            .map(|r| String::from_utf8_lossy(&digest(&mut r.client())).into_owned())
            .collect();
        if got.iter().all(|g| *g == want) {
            return want;
        }
        last = format!("master {want}, replicas {got:?}");
        if offset(&mut mc) == before {
            // Nothing moved while the digests were taken: a real difference.
            break;
        }
    }
    panic!("DEBUG DIGEST differs: {last}\n{}", logs(&all));
}

/// A few keys of several types in databases 0 and 3, one with a TTL far away.
pub fn write_some(c: &mut Client, tag: &str) {
    let k = |s: &str| format!("{tag}:{s}");
    for args in [
        vec!["SET".to_string(), k("str"), "v".into()],
        vec![
            "SET".into(),
            k("ttl"),
            "v".into(),
            "EX".into(),
            "3600".into(),
        ],
        vec!["INCRBY".into(), k("n"), "41".into()],
        vec![
            "RPUSH".into(),
            k("list"),
            "a".into(),
            "b".into(),
            "c".into(),
        ],
        vec![
            "HSET".into(),
            k("hash"),
            "f".into(),
            "1".into(),
            "g".into(),
            "2".into(),
        ],
        vec!["SADD".into(), k("set"), "x".into(), "y".into()],
        vec![
            "ZADD".into(),
            k("zset"),
            "1".into(),
            "m".into(),
            "2.5".into(),
            "n".into(),
        ],
        vec![
            "XADD".into(),
            k("stream"),
            "*".into(),
            "f".into(),
            "v".into(),
        ],
        vec!["SELECT".into(), "3".into()],
        vec!["SET".into(), k("db3"), "three".into()],
        vec!["SELECT".into(), "0".into()],
    ] {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = c.cmd(&a).expect("reply");
        assert!(!r.is_error(), "{a:?} -> {r}");
    }
}

/// ROLE, as a frame.
pub fn role(c: &mut Client) -> Frame {
    c.cmd(&["ROLE"]).expect("ROLE reply")
}

/// True if `s` is 40 lowercase hex digits (a replication ID).
pub fn is_replid(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A small deterministic generator (xorshift64*), so that a failing random
/// load can be replayed from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
