//! Replication between Shoal and Debian's redis-server 7.0.15, both ways: a
//! Shoal replica of a Redis master and a Redis replica of a Shoal master,
//! with diskless and disk-based full syncs. Each test: the persistence
//! interop dataset (every type in every encoding, TTLs, several databases,
//! function libraries) written before the replica exists (it arrives in the
//! full sync's RDB), more keys of several types written while it is online
//! (the command stream), then two partial resynchronisations (the master
//! link killed on the replica with CLIENT KILL TYPE master; the replica shut
//! down with SAVE and restarted), with writes in between; after each step
//! the data must be equal (DEBUG DIGEST, per-key digests, encodings, TTLs,
//! FUNCTION LIST).
//!
//! The Shoal side is `SHOAL_REPL_BIN` when set: `/usr/bin/redis-server`
//! makes every test redis/redis, which validates them. Every test is
//! skipped with a printed note when redis-server is absent.

mod common;
// Shared with the persistence interop tests; not every re-export is used here.
#[allow(unused_imports)]
mod interop;
mod repl;

use repl::*;
use std::path::Path;

fn redis_bin() -> Option<&'static Path> {
    redis_or_skip("note: replication interop test skipped")
}

/// Occurrences of `needle` in the server's log.
fn count(s: &DirServer, needle: &str) -> usize {
    s.log_text().matches(needle).count()
}

/// The data of `m` and `r` agree (after `r` caught up).
fn same_data(m: &DirServer, r: &DirServer, what: &str) {
    assert_same_digest(m, &[r]);
    interop::compare(&mut m.client(), &mut r.client(), what, false);
}

/// `master_bin` as master (with `master_extra`) and `replica_bin` as its
/// replica, through a full sync and two partial resyncs.
fn replicate(master_bin: &Path, replica_bin: &Path, master_extra: &[&str], what: &str) {
    let (dm, dr) = (tempdir(), tempdir());
    let m = start(master_bin, dm.path(), master_extra);
    let mut mc = m.client();
    interop::fill(&mut mc);
    // The encodings a loaded RDB has, so that OBJECT ENCODING compares.
    interop::reload(&mut mc, "master");

    // Full sync.
    let r = start_replica(replica_bin, dr.path(), m.port, &[]);
    wait_link_up(&r);
    wait_log(&r, "Full resync from master: ");
    same_data(&m, &r, &format!("{what}: after the full sync"));

    // The command stream.
    write_some(&mut mc, "online");
    same_data(&m, &r, &format!("{what}: streamed writes"));

    // Partial resync after the link is killed on the replica side.
    let before = count(&r, "Successful partial resynchronization with master.");
    assert_eq!(
        cmd(&mut r.client(), &["CLIENT", "KILL", "TYPE", "master"]),
        "1"
    );
    write_some(&mut mc, "killed");
    wait_for("a partial resync after CLIENT KILL", &[&m, &r], || {
        count(&r, "Successful partial resynchronization with master.") > before
    });
    wait_log_line(
        &m,
        &[
            "Partial resynchronization request from 127.0.0.1:",
            "accepted",
        ],
    );
    same_data(&m, &r, &format!("{what}: after CLIENT KILL TYPE master"));

    // Partial resync of a restarted replica (replid and offset from its RDB).
    r.shutdown("SAVE");
    write_some(&mut mc, "restart");
    cmd(&mut mc, &["DEL", "online:str", "killed:list"]);
    let r = start_replica(replica_bin, dr.path(), m.port, &[]);
    wait_link_up(&r);
    wait_log(&r, "Successful partial resynchronization with master.");
    assert!(
        !r.log_text().contains("Full resync from master"),
        "{what}: the restarted replica resynced fully\n{}",
        logs(&[&m, &r])
    );
    same_data(&m, &r, &format!("{what}: after the replica's restart"));
    r.stop();
    m.stop();
}

#[test]
fn shoal_replica_of_redis_master_diskless() {
    let Some(redis) = redis_bin() else { return };
    replicate(
        redis,
        &bin(),
        &[],
        "redis master -> shoal replica, diskless",
    );
}

#[test]
fn shoal_replica_of_redis_master_disk() {
    let Some(redis) = redis_bin() else { return };
    replicate(
        redis,
        &bin(),
        &["--repl-diskless-sync", "no"],
        "redis master -> shoal replica, disk",
    );
}

#[test]
fn redis_replica_of_shoal_master_diskless() {
    let Some(redis) = redis_bin() else { return };
    replicate(
        &bin(),
        redis,
        &[],
        "shoal master -> redis replica, diskless",
    );
}

#[test]
fn redis_replica_of_shoal_master_disk() {
    let Some(redis) = redis_bin() else { return };
    replicate(
        &bin(),
        redis,
        &["--repl-diskless-sync", "no"],
        "shoal master -> redis replica, disk",
    );
}
