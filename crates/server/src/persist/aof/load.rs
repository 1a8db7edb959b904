//! Loading an AOF directory at start-up: the base (an RDB preamble, or commands),
//! then every incr file, in the manifest's order.
//!
//! Commands are replayed through the normal dispatch path by a client that gets
//! no replies and whose commands are not propagated (the AOF sink is registered
//! only after loading); each file starts with a fresh client, in database 0, as
//! Redis loads each file with a new fake client. A command that names no known
//! command stops start-up, as in Redis; errors of known commands are ignored.
//!
//! A file cut mid-command (or inside MULTI ... EXEC) is accepted only if it is
//! the last file and `aof-load-truncated yes`: it is then truncated to its last
//! complete command (before the unfinished MULTI) and the server goes on. Any
//! other damage stops start-up with the file's name and the offset.

use super::Settings;
use crate::client::ClientInfo;
use crate::server::{unix_ms, Server};
use crate::session::Session;
use bytes::Bytes;
use shoal_aof::reader::MultiTracker;
use shoal_aof::{CommandReader, Manifest, ReadError};
use shoal_keyspace::{Entry, Now};
use shoal_resp::{Proto, ReplyWriter};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Loads every file of `m`; returns the exit code on failure (logged).
pub fn load_all(srv: &Arc<Server>, s: &Settings, m: &Manifest) -> Result<(), i32> {
    let start = Instant::now();
    let files: Vec<_> = m.load_order().collect();
    for (i, f) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let is_base = i == 0 && m.base.is_some();
        let path = s.dir.join(&f.name);
        let t = Instant::now();
        load_file(srv, &path, &f.name, last, s.load_truncated)?;
        crate::notice!(
            "DB loaded from {} file {}: {:.3} seconds",
            if is_base { "base" } else { "incr" },
            f.name,
            t.elapsed().as_secs_f64()
        );
    }
    crate::notice!(
        "DB loaded from append only file: {:.3} seconds",
        start.elapsed().as_secs_f64()
    );
    // Replayed commands are not the clients' commands: statistics start at zero.
    crate::stats::reset();
    Ok(())
}

fn fake_session(srv: &Server) -> Session {
    let info = Arc::new(ClientInfo::new(
        u64::MAX,
        String::new(),
        String::new(),
        -1,
        unix_ms(),
    ));
    let gen = srv.settings_gen.load(std::sync::atomic::Ordering::Relaxed);
    Session::new(info, srv.settings(), gen, true)
}

/// Loads one file. `last`: damage at its end may be forgiven (`load_truncated`).
fn load_file(
    srv: &Arc<Server>,
    path: &Path,
    name: &str,
    last: bool,
    load_truncated: bool,
) -> Result<(), i32> {
    let f = File::open(path).map_err(|e| {
        crate::warning!("Fatal error: can't open the append log file {name} for reading: {e}");
        1
    })?;
    let mut src = BufReader::with_capacity(1 << 16, f);
    let mut start = 0;
    let head = src.fill_buf().map_err(|e| {
        crate::warning!("Unrecoverable error reading the append only file {name}: {e}");
        1
    })?;
    if shoal_aof::is_rdb(head) {
        // A `.rdb` base is an RDB file; any other file with an RDB head (an
        // upgraded Redis 6 AOF) has a preamble and a command tail, and Redis 7.0
        // logs the two cases differently.
        let rdb_file = name.ends_with(".rdb");
        if rdb_file {
            crate::notice!("Reading RDB base file on AOF loading...");
        } else {
            crate::notice!("Reading RDB preamble from AOF file...");
        }
        let (rest, end) = load_rdb(srv, src).map_err(|e| {
            crate::warning!("Error reading the RDB base file {name}, AOF loading aborted: {e}");
            1
        })?;
        if !rdb_file {
            crate::notice!("Reading the remaining AOF tail...");
        }
        src = rest;
        start = end;
    }
    let mut rd = CommandReader::new(src, start);
    let mut s = fake_session(srv);
    let mut out = ReplyWriter::new(Proto::Resp2);
    let mut multi = MultiTracker::default();
    let failure = loop {
        match rd.next_command() {
            Ok(Some(cmd)) => {
                multi.see(&cmd);
                let argv: Vec<Bytes> = cmd.argv.into_iter().map(Bytes::from).collect();
                if let crate::registry::Resolved::UnknownCommand = srv.registry.resolve(&argv) {
                    crate::warning!(
                        "Unknown command '{}' reading the append only file {name} at offset {}",
                        String::from_utf8_lossy(&argv[0]),
                        cmd.offset
                    );
                    return Err(1);
                }
                s.now_ms = unix_ms();
                while !srv.gate.enter() {
                    std::thread::yield_now();
                }
                crate::dispatch::dispatch(srv, &mut s, &mut out, &argv);
                srv.gate.leave();
                out.buf.clear();
                let _ = out.take_error_codes();
            }
            Ok(None) => break multi.open_at.map(|at| ReadError::Truncated { offset: at }),
            Err(e) => break Some(e),
        }
    };
    let Some(e) = failure else {
        return Ok(());
    };
    match e {
        ReadError::Truncated { offset } if last && load_truncated => {
            if multi.open_at.is_some() {
                crate::warning!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
            }
            crate::warning!("!!! Warning: short read while loading the AOF file {name}!!!");
            crate::warning!("!!! Truncating the AOF {name} at offset {offset} !!!");
            let cut = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| {
                    f.set_len(offset)?;
                    f.sync_all()
                });
            if let Err(err) = cut {
                crate::warning!("Error truncating the AOF file {name}: {err}");
                return Err(1);
            }
            crate::warning!("AOF {name} loaded anyway because aof-load-truncated is enabled");
            Ok(())
        }
        ReadError::Truncated { offset } => {
            crate::warning!(
                "Unexpected end of file reading the append only file {name} (the last complete command ends at offset {offset}). You can: 1) Make a backup of your AOF file, then use shoal-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
            );
            Err(1)
        }
        ReadError::Corrupt { offset, at, msg } => {
            crate::warning!(
                "Bad file format reading the append only file {name}: {msg} at offset {at} (command at offset {offset}): make a backup of your AOF file, then use shoal-check-aof --fix <filename.manifest>"
            );
            Err(1)
        }
        ReadError::Io { offset, err } => {
            crate::warning!(
                "Unrecoverable error reading the append only file {name} at offset {offset}: {err}"
            );
            Err(1)
        }
    }
}

/// Loads an RDB image into the keyspace; returns the reader just after it and
/// the offset there.
fn load_rdb(
    srv: &Arc<Server>,
    src: BufReader<File>,
) -> Result<(BufReader<File>, u64), shoal_rdb::Error> {
    let opts = {
        let c = srv.config.read();
        shoal_rdb::ReadOptions {
            deep_sanitize: c.string("sanitize-dump-payload") == "yes",
            ..Default::default()
        }
    };
    let mut rdb = shoal_rdb::FileReader::new(src, opts)?;
    let mut db = 0usize;
    let now = unix_ms();
    let (mut loaded, mut expired) = (0u64, 0u64);
    loop {
        let at = rdb.offset();
        match rdb.next_item()? {
            None => break,
            Some(shoal_rdb::Item::SelectDb(n)) => {
                if n >= srv.ks.num_dbs() {
                    return Err(shoal_rdb::Error::corrupt(
                        format!("database {n} out of range (databases {})", srv.ks.num_dbs()),
                        at,
                    ));
                }
                db = n;
            }
            Some(shoal_rdb::Item::Entry {
                key,
                value,
                expire_ms,
                ..
            }) => {
                if expire_ms.is_some_and(|t| t < now) {
                    expired += 1;
                    continue;
                }
                loaded += 1;
                srv.ks.with_key_shard(&key, |sh| {
                    sh.dbs[db].insert_entry(&key, Entry::new(value, Now::new(now)), expire_ms)
                });
            }
            Some(shoal_rdb::Item::Function(code)) => {
                let argv = vec![
                    Bytes::from_static(b"FUNCTION"),
                    Bytes::from_static(b"LOAD"),
                    Bytes::from_static(b"REPLACE"),
                    Bytes::from(code),
                ];
                let mut s = fake_session(srv);
                let mut out = ReplyWriter::new(Proto::Resp2);
                while !srv.gate.enter() {
                    std::thread::yield_now();
                }
                crate::dispatch::dispatch(srv, &mut s, &mut out, &argv);
                srv.gate.leave();
            }
            Some(_) => {}
        }
    }
    crate::notice!("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}.");
    let end = rdb.offset();
    Ok((rdb.into_inner(), end))
}
