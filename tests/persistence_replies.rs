//! Persistence commands side by side with Debian's redis-server 7.0.15: the
//! same command sequence runs against both servers and every reply must be
//! equal. Covers -MISCONF after a failed background save (writes, PING, EXEC
//! with queued writes, scripts), the save FLUSHALL makes under save points
//! (plain, in MULTI/EXEC, from a script), and DEBUG RELOAD with its options.
//!
//! Skipped with a printed note when redis-server is absent.

mod common;

use common::dir_server::{redis_or_skip, shoal, tempdir_named, wait_bgsave, DirServer};
use common::Frame;
use std::path::Path;

fn redis() -> Option<&'static Path> {
    redis_or_skip("note: side-by-side persistence test skipped")
}

/// A server in a directory of its own (removed after the server is killed).
struct Proc {
    server: DirServer,
    _dir: tempfile::TempDir,
}

impl Proc {
    /// Starts `bin` with this file's defaults (no AOF, protected configs
    /// settable) and `extra`, in a new directory `prepare` fills first.
    fn start(bin: &Path, extra: &[&str], prepare: impl FnOnce(&Path)) -> Proc {
        let dir = tempdir_named("shoal-replies-");
        prepare(dir.path());
        let defaults = ["--appendonly", "no", "--enable-protected-configs", "yes"];
        let server = DirServer::start(bin, dir.path(), &[&defaults[..], extra].concat());
        Proc { server, _dir: dir }
    }

    fn saves_logged(&self) -> usize {
        self.log_text().matches("DB saved on disk").count()
    }
}

impl std::ops::Deref for Proc {
    type Target = DirServer;

    fn deref(&self) -> &DirServer {
        &self.server
    }
}

/// One step: which connection, the command, and whether its reply must equal
/// Redis's (false for replies that carry times).
type Step<'a> = (usize, &'a [&'a str], bool);

/// Runs `steps` on two connections of `p`; a `BGSAVE` step waits for the end.
fn run(p: &Proc, steps: &[Step]) -> Vec<Frame> {
    let mut conns = [p.client(), p.client()];
    let mut out = Vec::new();
    for (who, args, _) in steps {
        let r = conns[*who].cmd(args).expect("reply");
        if args[0] == "BGSAVE" {
            wait_bgsave(&mut conns[*who]);
        }
        out.push(r);
    }
    out
}

fn compare(redis: &Proc, shoal: &Proc, steps: &[Step]) {
    let a = run(redis, steps);
    let b = run(shoal, steps);
    let mut failures = Vec::new();
    for (i, (step, (ra, rb))) in steps.iter().zip(a.iter().zip(&b)).enumerate() {
        if step.2 && ra != rb {
            failures.push(format!(
                "step {i} {:?}:\n  redis {ra}\n  shoal {rb}",
                step.1
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A `victim` directory: a save renaming its file onto it fails.
fn victim(dir: &Path) {
    std::fs::create_dir(dir.join("victim")).expect("mkdir");
    std::fs::write(dir.join("victim/f"), b"x").expect("write");
}

const LIB: &str = "#!lua name=l\n\
redis.register_function('w', function() return redis.call('set', 'q', '1') end)\n\
redis.register_function{function_name='r', callback=function() return 1 end, flags={'no-writes'}}";

#[test]
fn misconf_and_flushall_saves_match_redis() {
    let Some(rbin) = redis() else { return };
    let extra = ["--save", "3600 1"];
    let r = Proc::start(rbin, &extra, victim);
    let s = Proc::start(shoal(), &extra, victim);
    let steps: &[Step] = &[
        (0, &["SET", "a", "1"], true),
        (0, &["FUNCTION", "LOAD", LIB], true),
        (0, &["MULTI"], true),
        (0, &["SET", "x", "1"], true),
        (0, &["FCALL", "w", "0"], true),
        (0, &["GET", "a"], true),
        (1, &["CONFIG", "SET", "dbfilename", "victim"], true),
        (1, &["BGSAVE"], true),
        // The save failed after the write was queued: EXEC is refused.
        (0, &["EXEC"], true),
        (0, &["GET", "x"], true),
        (0, &["DISCARD"], true),
        // A read-only transaction runs.
        (0, &["MULTI"], true),
        (0, &["GET", "a"], true),
        (0, &["EXEC"], true),
        // Writes and PING are refused at once, also while queuing.
        (0, &["SET", "y", "1"], true),
        (0, &["PING"], true),
        (0, &["MULTI"], true),
        (0, &["FLUSHALL"], true),
        (0, &["EXEC"], true),
        (0, &["EVAL", "return redis.call('get', 'a')", "0"], true),
        (
            0,
            &["EVAL", "return redis.call('set', 'y', '1')", "0"],
            true,
        ),
        (0, &["EVAL", "#!lua\nreturn 1", "0"], true),
        (0, &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"], true),
        (0, &["FCALL", "w", "0"], true),
        (0, &["FCALL", "r", "0"], true),
        (0, &["FCALL_RO", "r", "0"], true),
        (0, &["MULTI"], true),
        (0, &["FCALL", "r", "0"], true),
        (0, &["EVAL", "return 1", "0"], true),
        (0, &["EXEC"], true),
        (0, &["MULTI"], true),
        (0, &["FCALL", "w", "0"], true),
        (0, &["EXEC"], true),
        (0, &["SAVE"], true),
        // A good save clears the condition.
        (1, &["CONFIG", "SET", "dbfilename", "dump.rdb"], true),
        (1, &["SAVE"], true),
        (0, &["SET", "y", "1"], true),
        // FLUSHALL saves under save points: plain, in a transaction, in a script.
        (0, &["FLUSHALL"], true),
        (0, &["DBSIZE"], true),
        (0, &["MULTI"], true),
        (0, &["SET", "z", "1"], true),
        (0, &["FLUSHALL"], true),
        (0, &["EXEC"], true),
        (
            0,
            &[
                "EVAL",
                "redis.call('set', 'k', 'v') redis.call('flushall') return 1",
                "0",
            ],
            true,
        ),
        (0, &["DBSIZE"], true),
    ];
    compare(&r, &s, steps);
    // The good SAVE, then FLUSHALL three times (the first SAVE failed).
    assert_eq!(r.saves_logged(), 4, "redis log:\n{}", r.log_text());
    assert_eq!(
        s.saves_logged(),
        r.saves_logged(),
        "shoal log:\n{}",
        s.log_text()
    );
    // Nothing was written after the last FLUSHALL: the file is saved and clean.
    for p in [&r, &s] {
        let mut c = p.client();
        let info = c.cmd(&["INFO", "persistence"]).expect("info");
        let text = String::from_utf8_lossy(info.as_bytes().unwrap_or_default()).into_owned();
        assert!(text.contains("rdb_changes_since_last_save:0\r\n"), "{text}");
    }
}

#[test]
fn debug_reload_matches_redis() {
    let Some(rbin) = redis() else { return };
    let extra = ["--save", ""];
    let r = Proc::start(rbin, &extra, victim);
    let s = Proc::start(shoal(), &extra, victim);
    let lib = "#!lua name=l1\nredis.register_function('f1', function() return 1 end)";
    let steps: &[Step] = &[
        // No file yet.
        (0, &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"], true),
        (0, &["DEBUG", "RELOAD", "bogus"], true),
        (0, &["SET", "x", "1"], true),
        (0, &["RPUSH", "l", "a", "b"], true),
        (0, &["FUNCTION", "LOAD", lib], true),
        (0, &["DEBUG", "RELOAD"], true),
        (0, &["GET", "x"], true),
        (0, &["FCALL", "f1", "0"], true),
        (0, &["DEBUG", "RELOAD", "MERGE"], true),
        (0, &["DEBUG", "RELOAD", "NOSAVE", "MERGE"], true),
        (0, &["DBSIZE"], true),
        // MERGE without a flush replaces the keys and the library.
        (0, &["SET", "x", "2"], true),
        (0, &["SET", "new", "1"], true),
        (0, &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"], true),
        (0, &["GET", "x"], true),
        (0, &["GET", "new"], true),
        (0, &["FUNCTION", "LIST"], true),
        // The library is there and the keys are gone: the library refuses the
        // load (Redis keeps running and replies with an error).
        (0, &["FLUSHDB"], true),
        (0, &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"], true),
        (0, &["DBSIZE"], true),
        (0, &["FUNCTION", "FLUSH"], true),
        (0, &["DEBUG", "RELOAD", "NOSAVE"], true),
        (0, &["GET", "x"], true),
        (0, &["LRANGE", "l", "0", "-1"], true),
        // A missing file.
        (0, &["CONFIG", "SET", "dbfilename", "missing.rdb"], true),
        (0, &["DEBUG", "RELOAD", "NOSAVE"], true),
        (0, &["DBSIZE"], true),
        (0, &["CONFIG", "SET", "dbfilename", "dump.rdb"], true),
        (0, &["DEBUG", "RELOAD"], true),
        (0, &["DBSIZE"], true),
        // The save fails: nothing is flushed; then the load of a directory fails.
        (0, &["CONFIG", "SET", "dbfilename", "victim"], true),
        (0, &["DEBUG", "RELOAD"], true),
        (0, &["DBSIZE"], true),
        (0, &["DEBUG", "RELOAD", "NOSAVE"], true),
        (0, &["DBSIZE"], true),
    ];
    compare(&r, &s, steps);
    for p in [&r, &s] {
        assert!(
            p.log_text().contains("DB reloaded by DEBUG RELOAD"),
            "{}",
            p.log_text()
        );
    }
}
