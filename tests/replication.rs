//! Master-replica replication between servers of one binary (Shoal by
//! default; `SHOAL_REPL_BIN=/usr/bin/redis-server` runs the same tests with
//! Redis in every role, which validates them): one master and two replicas
//! (INFO replication, ROLE, READONLY, WAIT), a replica restarted (partial
//! resynchronisation from the replication ID and offset of its RDB), a
//! replica down longer than the backlog (full resynchronisation), a chain
//! master -> replica -> sub-replica, a promotion with REPLICAOF NO ONE whose
//! other replica continues partially (replid2), and a random write load
//! (expiring keys, MULTI, scripts, blocking pops; evictions in a test of
//! their own) after which every DEBUG DIGEST agrees; also a replica hiding
//! keys past their TTL without deleting them, min-replicas-to-write
//! (NOREPLICAS), WAIT counting the acknowledging replicas, and
//! replica-serve-stale-data no (MASTERDOWN).
//!
//! Log lines checked are Redis 7.0.15's own (see the issue: users know them).

mod common;
mod repl;

use common::Frame;
use repl::*;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn as_str(f: &Frame) -> String {
    common::dir_server::text(f)
}

// ---------------------------------------------------------------------------
// (a) one master, two replicas
// ---------------------------------------------------------------------------

#[test]
fn master_with_two_replicas() {
    let bin = bin();
    let (dm, d1, d2) = (tempdir(), tempdir(), tempdir());
    let m = start(&bin, dm.path(), &[]);
    let r1 = start_replica(&bin, d1.path(), m.port, &[]);
    let r2 = start_replica(&bin, d2.path(), m.port, &[]);
    wait_link_up(&r1);
    wait_link_up(&r2);
    wait_online(&m, 2);

    let mut mc = m.client();
    write_some(&mut mc, "a");
    assert_eq!(
        mc.cmd(&["WAIT", "2", "10000"]).unwrap(),
        Frame::Integer(2),
        "WAIT 2\n{}",
        logs(&[&m, &r1, &r2])
    );
    let d = assert_same_digest(&m, &[&r1, &r2]);
    assert_ne!(d, "0".repeat(40));

    // The replicas serve reads of what the master wrote.
    let mut c1 = r1.client();
    let mut c2 = r2.client();
    assert_eq!(cmd(&mut c1, &["GET", "a:str"]), "v");
    assert_eq!(cmd(&mut c2, &["LLEN", "a:list"]), "3");
    assert_eq!(cmd(&mut c2, &["LINDEX", "a:list", "-1"]), "c");
    assert_eq!(cmd(&mut c2, &["SELECT", "3"]), "OK");
    assert_eq!(cmd(&mut c2, &["GET", "a:db3"]), "three");
    assert_eq!(cmd(&mut c2, &["SELECT", "0"]), "OK");
    let ttl: i64 = cmd(&mut c1, &["TTL", "a:ttl"]).parse().unwrap();
    assert!((3500..=3600).contains(&ttl), "TTL on the replica: {ttl}");

    // Writes on a replica are refused with Redis's text.
    for args in [&["SET", "x", "1"][..], &["DEL", "a:str"], &["FLUSHALL"]] {
        assert_eq!(
            c1.cmd(args).unwrap(),
            Frame::Error(b"READONLY You can't write against a read only replica.".to_vec()),
            "{args:?}"
        );
    }

    // INFO replication, master side.
    wait_caught_up(&m, &[&r1, &r2]);
    let mi = info_map(&mut mc, "replication");
    assert_eq!(mi["role"], "master");
    assert_eq!(mi["connected_slaves"], "2");
    assert!(is_replid(&mi["master_replid"]), "{mi:?}");
    assert_eq!(mi["repl_backlog_active"], "1");
    let moff: i64 = mi["master_repl_offset"].parse().unwrap();
    assert!(moff > 0);
    let mut ports = Vec::new();
    for i in 0..2 {
        let s = slave_line(&mi[&format!("slave{i}")]);
        assert_eq!(s["ip"], "127.0.0.1", "{s:?}");
        assert_eq!(s["state"], "online", "{s:?}");
        let off: i64 = s["offset"].parse().unwrap();
        assert!(off > 0 && off <= moff, "{s:?} vs {moff}");
        assert!(s["lag"].parse::<u64>().is_ok(), "{s:?}");
        ports.push(s["port"].clone());
    }
    ports.sort();
    let mut want = vec![r1.port.to_string(), r2.port.to_string()];
    want.sort();
    assert_eq!(ports, want);

    // INFO replication, replica side.
    for (r, c) in [(&r1, &mut c1), (&r2, &mut c2)] {
        let ri = info_map(c, "replication");
        assert_eq!(ri["role"], "slave", "{}", r.port);
        assert_eq!(ri["master_host"], "127.0.0.1");
        assert_eq!(ri["master_port"], m.port.to_string());
        assert_eq!(ri["master_link_status"], "up");
        assert_eq!(ri["master_sync_in_progress"], "0");
        assert_eq!(ri["slave_read_only"], "1");
        assert_eq!(ri["master_replid"], mi["master_replid"]);
        let so: i64 = ri["slave_repl_offset"].parse().unwrap();
        assert!(so > 0 && so <= offset(&mut mc), "{ri:?}");
        assert!(ri["master_last_io_seconds_ago"].parse::<i64>().unwrap() >= 0);
    }

    // ROLE, master: ["master", offset, [[ip, "port", "offset"], ...]].
    let Frame::Array(Some(v)) = role(&mut mc) else {
        panic!("ROLE")
    };
    assert_eq!(v.len(), 3);
    assert_eq!(as_str(&v[0]), "master");
    assert!(matches!(v[1], Frame::Integer(o) if o > 0));
    let Frame::Array(Some(list)) = &v[2] else {
        panic!("ROLE replicas: {}", v[2])
    };
    assert_eq!(list.len(), 2);
    for e in list {
        let Frame::Array(Some(t)) = e else {
            panic!("{e}")
        };
        assert_eq!(t.len(), 3);
        assert_eq!(t[0], Frame::Bulk(Some(b"127.0.0.1".to_vec())));
        assert!(
            matches!(&t[1], Frame::Bulk(Some(p)) if want.contains(&String::from_utf8_lossy(p).into_owned()))
        );
        assert!(
            matches!(&t[2], Frame::Bulk(Some(o)) if String::from_utf8_lossy(o).parse::<i64>().is_ok())
        );
    }
    // ROLE, replica: ["slave", host, port, "connected", offset].
    let Frame::Array(Some(v)) = role(&mut c1) else {
        panic!("ROLE")
    };
    assert_eq!(v.len(), 5, "{v:?}");
    assert_eq!(v[0], Frame::Bulk(Some(b"slave".to_vec())));
    assert_eq!(v[1], Frame::Bulk(Some(b"127.0.0.1".to_vec())));
    assert_eq!(v[2], Frame::Integer(m.port as i64));
    assert_eq!(v[3], Frame::Bulk(Some(b"connected".to_vec())));
    assert!(matches!(v[4], Frame::Integer(o) if o > 0));

    // The same master again: nothing to do.
    let port = m.port.to_string();
    assert_eq!(
        c1.cmd(&["REPLICAOF", "127.0.0.1", &port]).unwrap(),
        Frame::Simple(b"OK Already connected to specified master".to_vec())
    );
    // WAIT on a replica is an error.
    assert!(c1.cmd(&["WAIT", "0", "0"]).unwrap().is_error());

    // The full syncs were logged as Redis logs them.
    for r in [&r1, &r2] {
        let log = r.log_text();
        for line in [
            "Connecting to MASTER 127.0.0.1:",
            "MASTER <-> REPLICA sync started",
            "Full resync from master: ",
            "MASTER <-> REPLICA sync: Finished with success",
        ] {
            assert!(log.contains(line), "replica log lacks {line:?}:\n{log}");
        }
    }
    let log = m.log_text();
    assert!(
        log.contains("Full resync requested by replica 127.0.0.1:"),
        "{log}"
    );
    assert!(
        log.contains("Synchronization with replica 127.0.0.1:"),
        "{log}"
    );

    r1.stop();
    r2.stop();
    m.stop();
}

// ---------------------------------------------------------------------------
// (b) restart: partial resync from the RDB's replication ID and offset
// ---------------------------------------------------------------------------

#[test]
fn restarted_replica_resyncs_partially() {
    let bin = bin();
    let (dm, d1) = (tempdir(), tempdir());
    let m = start(&bin, dm.path(), &[]);
    let r = start_replica(&bin, d1.path(), m.port, &[]);
    let mut mc = m.client();
    write_some(&mut mc, "before");
    assert_same_digest(&m, &[&r]);

    // SHUTDOWN SAVE: the replica's RDB keeps the master's replid and offset.
    r.shutdown("SAVE");
    write_some(&mut mc, "while-down");
    assert_eq!(cmd(&mut mc, &["DEL", "before:str"]), "1");

    let r = start_replica(&bin, d1.path(), m.port, &[]);
    wait_link_up(&r);
    wait_log(&r, "Successful partial resynchronization with master.");
    wait_log_line(
        &m,
        &[
            "Partial resynchronization request from 127.0.0.1:",
            &format!("{}", r.port),
            "accepted",
        ],
    );
    let rlog = r.log_text();
    assert!(!rlog.contains("Full resync from master"), "{rlog}");
    assert_same_digest(&m, &[&r]);
    let mut rc = r.client();
    assert_eq!(cmd(&mut rc, &["GET", "while-down:str"]), "v");
    assert_eq!(cmd(&mut rc, &["EXISTS", "before:str"]), "0");

    // Writes after the resync flow as before.
    write_some(&mut mc, "after");
    assert_same_digest(&m, &[&r]);
    r.stop();
    m.stop();
}

// ---------------------------------------------------------------------------
// (c) down longer than the backlog: full resync (disk-based sync here)
// ---------------------------------------------------------------------------

#[test]
fn replica_behind_the_backlog_resyncs_fully() {
    let bin = bin();
    let (dm, d1) = (tempdir(), tempdir());
    let m = start(
        &bin,
        dm.path(),
        &["--repl-backlog-size", "16384", "--repl-diskless-sync", "no"],
    );
    let r = start_replica(&bin, d1.path(), m.port, &[]);
    let mut mc = m.client();
    write_some(&mut mc, "before");
    assert_same_digest(&m, &[&r]);
    r.shutdown("SAVE");

    // Well over 16 KB of stream while the replica is away.
    let value = "x".repeat(500);
    for i in 0..400 {
        let k = format!("bulk:{i}");
        assert_eq!(cmd(&mut mc, &["SET", &k, &value]), "OK");
    }
    let r = start_replica(&bin, d1.path(), m.port, &[]);
    wait_link_up(&r);
    wait_log_line(
        &m,
        &[
            "Unable to partial resync with replica 127.0.0.1:",
            "for lack of backlog",
        ],
    );
    wait_log(&r, "Full resync from master: ");
    assert_same_digest(&m, &[&r]);
    assert_eq!(cmd(&mut r.client(), &["STRLEN", "bulk:399"]), "500");
    r.stop();
    m.stop();
}

// ---------------------------------------------------------------------------
// (d) chain: master -> r1 -> r2
// ---------------------------------------------------------------------------

#[test]
fn chained_replicas_follow_the_top_master() {
    let bin = bin();
    let (dm, d1, d2) = (tempdir(), tempdir(), tempdir());
    let m = start(&bin, dm.path(), &[]);
    let r1 = start_replica(&bin, d1.path(), m.port, &[]);
    wait_link_up(&r1);
    let r2 = start_replica(&bin, d2.path(), r1.port, &[]);
    wait_link_up(&r2);
    wait_online(&r1, 1);

    let mut mc = m.client();
    write_some(&mut mc, "chain");
    for i in 0..200 {
        cmd(&mut mc, &["RPUSH", "chain:big", &i.to_string()]);
    }
    // Offsets equal on all three: the sub-replica gets the stream unchanged.
    wait_caught_up(&m, &[&r1, &r2]);
    assert_same_digest(&m, &[&r1, &r2]);
    let mid = repl(&mut mc, "master_replid");
    assert_eq!(repl(&mut r1.client(), "master_replid"), mid);
    assert_eq!(repl(&mut r2.client(), "master_replid"), mid);
    assert_eq!(repl(&mut r1.client(), "connected_slaves"), "1");
    assert_eq!(repl(&mut r2.client(), "master_port"), r1.port.to_string());
    assert_eq!(cmd(&mut r2.client(), &["LLEN", "chain:big"]), "200");
    r2.stop();
    r1.stop();
    m.stop();
}

// ---------------------------------------------------------------------------
// (e) promotion: REPLICAOF NO ONE, the other replica continues partially
// ---------------------------------------------------------------------------

#[test]
fn promoted_replica_keeps_the_other_replica_partially() {
    let bin = bin();
    let (dm, d1, d2) = (tempdir(), tempdir(), tempdir());
    let m = start(&bin, dm.path(), &[]);
    let r1 = start_replica(&bin, d1.path(), m.port, &[]);
    let r2 = start_replica(&bin, d2.path(), m.port, &[]);
    let mut mc = m.client();
    write_some(&mut mc, "old");
    assert_same_digest(&m, &[&r1, &r2]);
    let old_id = repl(&mut mc, "master_replid");
    let old_off = offset(&mut mc);
    m.stop();

    let mut c1 = r1.client();
    assert_eq!(cmd(&mut c1, &["REPLICAOF", "NO", "ONE"]), "OK");
    let i1 = info_map(&mut c1, "replication");
    assert_eq!(i1["role"], "master");
    assert_eq!(i1["master_replid2"], old_id, "{i1:?}");
    assert_ne!(i1["master_replid"], old_id);
    assert!(is_replid(&i1["master_replid"]));
    // The old history is valid up to where r1 stopped (the old master may
    // have sent a PING or GETACK after `old_off` before it went away).
    let r1_off: i64 = i1["master_repl_offset"].parse().unwrap();
    assert!(r1_off >= old_off, "{i1:?} vs {old_off}");
    assert_eq!(i1["second_repl_offset"], (r1_off + 1).to_string(), "{i1:?}");
    assert_eq!(cmd(&mut c1, &["SET", "new:after-promotion", "1"]), "OK");

    let mut c2 = r2.client();
    let full_before = r2.log_text().matches("Full resync from master").count();
    let p1 = r1.port.to_string();
    assert_eq!(cmd(&mut c2, &["REPLICAOF", "127.0.0.1", &p1]), "OK");
    wait_link_up(&r2);
    wait_log(&r2, "Successful partial resynchronization with master.");
    wait_log_line(
        &r1,
        &[
            "Partial resynchronization request from 127.0.0.1:",
            "accepted",
        ],
    );
    assert_eq!(
        r2.log_text().matches("Full resync from master").count(),
        full_before,
        "{}",
        r2.log_text()
    );
    write_some(&mut c1, "new");
    assert_same_digest(&r1, &[&r2]);
    assert_eq!(cmd(&mut c2, &["GET", "new:after-promotion"]), "1");
    assert_eq!(cmd(&mut c2, &["GET", "old:str"]), "v");
    assert_eq!(
        repl(&mut c2, "master_replid"),
        repl(&mut c1, "master_replid")
    );
    r2.stop();
    r1.stop();
}

// ---------------------------------------------------------------------------
// (f) random load
// ---------------------------------------------------------------------------

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

const SCRIPT: &str = "redis.call('INCRBY', KEYS[1], ARGV[1]) \
    redis.call('RPUSH', KEYS[2], ARGV[1]) \
    if redis.call('LLEN', KEYS[2]) > 5 then redis.call('LPOP', KEYS[2]) end \
    return redis.call('GET', KEYS[1])";

/// One random command of the load (its arguments), over a small key space
/// so that commands meet each other's keys.
fn random_command(rng: &mut Rng) -> Vec<String> {
    let k = |rng: &mut Rng, ty: &str| format!("{ty}:{}", rng.below(40));
    let n = |rng: &mut Rng, m: u64| rng.below(m).to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match rng.below(22) {
        0 => s(&["SET", &k(rng, "s"), &n(rng, 1000)]),
        1 => s(&[
            "SET",
            &k(rng, "s"),
            "short",
            "PX",
            &(1 + rng.below(80)).to_string(),
        ]),
        2 => s(&["INCRBY", &k(rng, "n"), &n(rng, 100)]),
        3 => s(&["APPEND", &k(rng, "s"), "ab"]),
        4 => s(&["LPUSH", &k(rng, "l"), &n(rng, 100), &n(rng, 100)]),
        5 => s(&["RPOP", &k(rng, "l")]),
        6 => s(&[
            "HSET",
            &k(rng, "h"),
            &format!("f{}", rng.below(8)),
            &n(rng, 100),
        ]),
        7 => s(&["HDEL", &k(rng, "h"), &format!("f{}", rng.below(8))]),
        8 => s(&["SADD", &k(rng, "t"), &n(rng, 30), &n(rng, 30)]),
        9 => s(&["SPOP", &k(rng, "t")]),
        10 => s(&[
            "ZADD",
            &k(rng, "z"),
            &n(rng, 50),
            &format!("m{}", rng.below(20)),
        ]),
        11 => s(&[
            "ZINCRBY",
            &k(rng, "z"),
            "1.5",
            &format!("m{}", rng.below(20)),
        ]),
        12 => s(&["EXPIRE", &k(rng, "s"), &(1 + rng.below(3600)).to_string()]),
        13 => s(&[
            "PEXPIREAT",
            &k(rng, "h"),
            &(now_ms() + 1 + rng.below(60)).to_string(),
        ]),
        14 => s(&["PEXPIRE", &k(rng, "l"), &(1 + rng.below(60)).to_string()]),
        15 => s(&["DEL", &k(rng, "s"), &k(rng, "t")]),
        16 => s(&["INCRBYFLOAT", &k(rng, "f"), "0.25"]),
        17 => s(&["XADD", &k(rng, "x"), "MAXLEN", "5", "*", "f", &n(rng, 9)]),
        18 => s(&["SRANDMEMBER", &k(rng, "t")]),
        19 => s(&[
            "GETEX",
            &k(rng, "s"),
            "PX",
            &(1 + rng.below(50)).to_string(),
        ]),
        20 => s(&["COPY", &k(rng, "h"), &k(rng, "h2"), "REPLACE"]),
        _ => s(&["PERSIST", &k(rng, "s")]),
    }
}

/// Sends `n` random commands to `c`: plain ones, MULTI/EXEC blocks and
/// scripts, switching databases now and then. Replies may be errors
/// (WRONGTYPE when a key changed type), never I/O failures.
fn random_load(c: &mut common::Client, rng: &mut Rng, n: usize) {
    let mut sent = 0;
    while sent < n {
        match rng.below(20) {
            0 => {
                let db = ["0", "1", "5"][rng.below(3) as usize];
                assert_eq!(cmd(c, &["SELECT", db]), "OK");
                sent += 1;
            }
            1 => {
                assert_eq!(cmd(c, &["MULTI"]), "OK");
                let len = 1 + rng.below(5);
                for _ in 0..len {
                    let a = random_command(rng);
                    let a: Vec<&str> = a.iter().map(String::as_str).collect();
                    assert_eq!(cmd(c, &a), "QUEUED", "{a:?}");
                }
                let r = c.cmd(&["EXEC"]).expect("EXEC");
                assert!(matches!(r, Frame::Array(Some(_))), "EXEC -> {r}");
                sent += len as usize + 2;
            }
            2 => {
                let kn = format!("sn:{}", rng.below(5));
                let kl = format!("sl:{}", rng.below(5));
                let v = rng.below(10).to_string();
                let r = c.cmd(&["EVAL", SCRIPT, "2", &kn, &kl, &v]).expect("EVAL");
                assert!(!r.is_error() || r.error_code() == Some(b"WRONGTYPE"), "{r}");
                sent += 1;
            }
            _ => {
                let a = random_command(rng);
                let a: Vec<&str> = a.iter().map(String::as_str).collect();
                c.cmd(&a).expect("reply");
                sent += 1;
            }
        }
    }
    assert_eq!(cmd(c, &["SELECT", "0"]), "OK");
}

/// Blocking pops on the master, served by pushes of the load's client.
fn blocking_pops(m: &DirServer, c: &mut common::Client, rounds: usize) {
    let port = m.port;
    let waiter = thread::spawn(move || {
        let mut w = common::Client::connect(port).expect("connect");
        let mut served = 0;
        for i in 0..rounds {
            let r = if i % 2 == 0 {
                w.cmd(&["BLPOP", "bl:a", "bl:b", "10"]).expect("BLPOP")
            } else {
                w.cmd(&["BZPOPMIN", "bz", "10"]).expect("BZPOPMIN")
            };
            if matches!(r, Frame::Array(Some(_))) {
                served += 1;
            }
        }
        served
    });
    for i in 0..rounds {
        // Wait (bounded) until the waiter is blocked, then serve it.
        let mut blocked = false;
        for _ in 0..500 {
            let v = info_map(c, "clients");
            if v.get("blocked_clients").map(String::as_str) == Some("1") {
                blocked = true;
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        assert!(blocked, "the waiter did not block (round {i})");
        if i % 2 == 0 {
            cmd(c, &["RPUSH", "bl:b", &format!("x{i}")]);
        } else {
            cmd(c, &["ZADD", "bz", &i.to_string(), &format!("m{i}")]);
        }
    }
    assert_eq!(waiter.join().expect("waiter"), rounds);
}

/// Waits past the load's short TTLs and makes the master delete what expired
/// (SCAN expires the keys it meets), so that the digests compare settled data.
fn settle_expired(c: &mut common::Client) {
    thread::sleep(Duration::from_millis(150));
    for db in ["0", "1", "5"] {
        cmd(c, &["SELECT", db]);
        let mut cursor = "0".to_string();
        for _ in 0..10_000 {
            let Frame::Array(Some(v)) = c.cmd(&["SCAN", &cursor, "COUNT", "1000"]).unwrap() else {
                panic!("SCAN")
            };
            cursor = as_str(&v[0]);
            if cursor == "0" {
                break;
            }
        }
    }
    cmd(c, &["SELECT", "0"]);
}

#[test]
fn random_load_keeps_replicas_identical() {
    let bin = bin();
    let (dm, d1, d2) = (tempdir(), tempdir(), tempdir());
    let m = start(&bin, dm.path(), &[]);
    let r1 = start_replica(&bin, d1.path(), m.port, &[]);
    let mut mc = m.client();
    let seed = 0x5eed_0005;
    let mut rng = Rng::new(seed);
    // Half the load before the second replica exists (it gets it by a full
    // sync), half after.
    random_load(&mut mc, &mut rng, 1500);
    let r2 = start_replica(
        &bin,
        d2.path(),
        m.port,
        &["--repl-diskless-load", "disabled"],
    );
    blocking_pops(&m, &mut mc, 6);
    random_load(&mut mc, &mut rng, 1500);
    settle_expired(&mut mc);
    let d = assert_same_digest(&m, &[&r1, &r2]);
    assert_ne!(d, "0".repeat(40), "seed {seed:#x}: empty dataset");
    // Same key counts in every database.
    for db in ["0", "1", "5"] {
        cmd(&mut mc, &["SELECT", db]);
        let want = cmd(&mut mc, &["DBSIZE"]);
        for r in [&r1, &r2] {
            let mut c = r.client();
            cmd(&mut c, &["SELECT", db]);
            assert_eq!(cmd(&mut c, &["DBSIZE"]), want, "db {db}");
        }
    }
    r2.stop();
    r1.stop();
    m.stop();
}

#[test]
fn evictions_reach_the_replicas() {
    let bin = bin();
    let (dm, d1) = (tempdir(), tempdir());
    // A small backlog: it counts as used memory, and eviction cannot free it.
    let m = start(
        &bin,
        dm.path(),
        &[
            "--maxmemory-policy",
            "allkeys-random",
            "--repl-backlog-size",
            "16384",
        ],
    );
    let r = start_replica(&bin, d1.path(), m.port, &[]);
    wait_link_up(&r);
    let mut mc = m.client();
    // A limit 2 MB above what the empty master uses, then 6 MB of values.
    let used: u64 = info_map(&mut mc, "memory")["used_memory"].parse().unwrap();
    let limit = (used + 2 * 1024 * 1024).to_string();
    assert_eq!(cmd(&mut mc, &["CONFIG", "SET", "maxmemory", &limit]), "OK");
    let value = "v".repeat(1000);
    let mut rng = Rng::new(0xe51c7);
    for i in 0..6000 {
        let k = format!("ev:{i}");
        let r = mc.cmd(&["SET", &k, &value]).unwrap();
        assert!(!r.is_error(), "SET {k}: {r}");
        if i % 10 == 0 {
            let a = random_command(&mut rng);
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            mc.cmd(&a).unwrap();
        }
    }
    let evicted: u64 = info_map(&mut mc, "stats")["evicted_keys"].parse().unwrap();
    assert!(evicted > 0, "nothing evicted\n{}", logs(&[&m]));
    settle_expired(&mut mc);
    assert_same_digest(&m, &[&r]);
    let dbsize = cmd(&mut mc, &["DBSIZE"]);
    assert_eq!(cmd(&mut r.client(), &["DBSIZE"]), dbsize);
    r.stop();
    m.stop();
}

// ---------------------------------------------------------------------------
// Expired keys on a replica; min-replicas-to-write; stale data
// ---------------------------------------------------------------------------

#[test]
fn replica_hides_logically_expired_keys() {
    let bin = bin();
    let (dm, d1) = (tempdir(), tempdir());
    let m = start(&bin, dm.path(), &[]);
    let r = start_replica(&bin, d1.path(), m.port, &[]);
    wait_link_up(&r);
    let mut mc = m.client();
    // The master stops expiring on its own, so that no DEL reaches the
    // replica: the key stays there, past its time.
    assert_eq!(cmd(&mut mc, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "OK");
    assert_eq!(cmd(&mut mc, &["SET", "soon", "v", "PX", "100"]), "OK");
    assert_eq!(cmd(&mut mc, &["SET", "kept", "v"]), "OK");
    wait_caught_up(&m, &[&r]);
    let mut rc = r.client();
    assert_eq!(cmd(&mut rc, &["GET", "soon"]), "v");
    thread::sleep(Duration::from_millis(200));
    // Hidden from reads, not deleted: the replica never expires keys itself.
    assert_eq!(rc.cmd(&["GET", "soon"]).unwrap(), Frame::Bulk(None));
    assert_eq!(cmd(&mut rc, &["EXISTS", "soon"]), "0");
    assert_eq!(cmd(&mut rc, &["DBSIZE"]), "2");
    // The master's own access deletes it and the DEL reaches the replica.
    assert_eq!(mc.cmd(&["GET", "soon"]).unwrap(), Frame::Bulk(None));
    wait_caught_up(&m, &[&r]);
    assert_eq!(cmd(&mut rc, &["DBSIZE"]), "1");
    assert_same_digest(&m, &[&r]);
    r.stop();
    m.stop();
}

#[test]
fn min_replicas_wait_and_stale_data() {
    let bin = bin();
    let (dm, d1, d2) = (tempdir(), tempdir(), tempdir());
    let m = start(&bin, dm.path(), &["--min-replicas-to-write", "2"]);
    let r1 = start_replica(&bin, d1.path(), m.port, &[]);
    let r2 = start_replica(
        &bin,
        d2.path(),
        m.port,
        &["--replica-serve-stale-data", "no"],
    );
    wait_online(&m, 2);
    let mut mc = m.client();
    // Both replicas are good: writes pass.
    let mut ok = false;
    for _ in 0..500 {
        if mc.cmd(&["SET", "k", "1"]).unwrap() == Frame::Simple(b"OK".to_vec()) {
            ok = true;
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert!(ok, "writes refused with 2 online replicas\n{}", logs(&[&m]));
    assert_eq!(mc.cmd(&["WAIT", "2", "10000"]).unwrap(), Frame::Integer(2));

    // One replica gone: writes refused, reads served, WAIT counts one.
    r1.stop();
    wait_online(&m, 1);
    assert_eq!(
        mc.cmd(&["SET", "k", "2"]).unwrap(),
        Frame::Error(b"NOREPLICAS Not enough good replicas to write.".to_vec())
    );
    assert_eq!(cmd(&mut mc, &["GET", "k"]), "1");
    assert_eq!(
        cmd(&mut mc, &["CONFIG", "SET", "min-replicas-to-write", "1"]),
        "OK"
    );
    assert_eq!(cmd(&mut mc, &["SET", "k", "3"]), "OK");
    assert_eq!(mc.cmd(&["WAIT", "2", "200"]).unwrap(), Frame::Integer(1));

    // The master gone: the replica with replica-serve-stale-data no refuses
    // data commands (even PING) but answers INFO.
    m.stop();
    let mut rc = r2.client();
    wait_for("master_link_status:down", &[&r2], || {
        repl(&mut rc, "master_link_status") == "down"
    });
    let masterdown = Frame::Error(
        b"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
            .to_vec(),
    );
    assert_eq!(rc.cmd(&["GET", "k"]).unwrap(), masterdown);
    assert_eq!(rc.cmd(&["PING"]).unwrap(), masterdown);
    assert_eq!(repl(&mut rc, "role"), "slave");
    r2.stop();
}
