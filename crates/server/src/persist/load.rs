//! Loading an RDB file into the keyspace: at start-up (`appendonly no`), by
//! DEBUG RELOAD, and by the AOF loader for an RDB preamble ([`load_from`]).
//!
//! Keys already expired are skipped and counted on a master (a replica keeps
//! them for its master's DEL); FUNCTION2 records load their library; a key
//! present twice is an error, as in Redis. Nothing in the file can panic the
//! server: every problem is a [`LoadError`] naming the offset.

use crate::server::{unix_ms, Server};
use crate::{notice, warning};
use shoal_keyspace::{Entry, Now};
use shoal_rdb::encode::Access;
use shoal_rdb::{FileReader, Item, ReadOptions};
use std::io::BufRead;
use std::sync::atomic::Ordering::Relaxed;

/// What a load did.
#[derive(Debug, Default, Clone)]
pub struct LoadStats {
    pub loaded: u64,
    pub expired: u64,
    /// The replication aux fields (repl-stream-db, repl-id, repl-offset), when
    /// the file has all three.
    pub repl: Option<crate::repl::SaveInfo>,
}

#[derive(Debug)]
pub enum LoadError {
    /// The file does not exist (not an error at start-up).
    Missing,
    Rdb(shoal_rdb::Error),
    /// A well-formed file Shoal cannot take (too many databases, duplicate key,
    /// a function library that does not load).
    Refused(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Missing => write!(f, "no such file"),
            LoadError::Rdb(e) => write!(f, "{e}"),
            LoadError::Refused(s) => write!(f, "{s}"),
        }
    }
}

/// The read options from the configuration.
pub fn read_options(srv: &Server) -> ReadOptions {
    let s = srv.settings();
    let c = srv.config.read();
    // The configured thresholds decide the encodings of what the file holds,
    // as they would for the same data written by commands.
    let limits = shoal_rdb::Limits {
        hash: shoal_keyspace::hash::Limits::new(
            s.hash_max_listpack_entries,
            s.hash_max_listpack_value,
        ),
        zset: shoal_keyspace::ZLimits::new(s.zset_max_listpack_entries, s.zset_max_listpack_value),
        set_max_intset_entries: s.set_max_intset_entries.max(0) as usize,
        list_fill: s.list_max_listpack_size,
        stream_node_max_bytes: s.stream_node_max_bytes,
        stream_node_max_entries: s.stream_node_max_entries,
    };
    ReadOptions {
        limits,
        // Redis 7.0 validates a file deeply only under `yes`: `clients` exempts
        // loading (it is meant for RESTORE from ordinary clients).
        deep_sanitize: c.string("sanitize-dump-payload") == "yes",
        ignore_checksum: !c.bool("rdbchecksum"),
    }
}

/// Loads the RDB file at `path` into the keyspace (which the caller has emptied
/// or which is empty at start-up), logging as Redis does. The caller must be
/// allowed to lock shards (no shard held).
pub fn load_rdb(srv: &Server, path: &str) -> Result<LoadStats, LoadError> {
    load_rdb_with(srv, path, false)
}

/// [`load_rdb`]; with `merge` (DEBUG RELOAD MERGE) a key or function library
/// already present is replaced instead of refusing the file.
pub fn load_rdb_with(srv: &Server, path: &str, merge: bool) -> Result<LoadStats, LoadError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(LoadError::Missing),
        Err(e) => {
            return Err(LoadError::Rdb(shoal_rdb::Error::new(
                shoal_rdb::error::ErrorKind::Io(e),
                0,
            )))
        }
    };
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let r = load_from_with(srv, reader, merge).map(|(stats, _)| stats);
    if let Ok(st) = &r {
        notice!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            st.loaded,
            st.expired
        );
        srv.persist.last_load_keys_loaded.store(st.loaded, Relaxed);
        srv.persist
            .last_load_keys_expired
            .store(st.expired, Relaxed);
    }
    r
}

/// Loads RDB bytes from `input` (up to and including the checksum) and returns
/// the reader positioned after them (an AOF goes on with its commands).
pub fn load_from<R: BufRead>(srv: &Server, input: R) -> Result<(LoadStats, R), LoadError> {
    load_from_with(srv, input, false)
}

/// [`load_from`], replacing what is already present when `merge` is set.
pub fn load_from_with<R: BufRead>(
    srv: &Server,
    input: R,
    merge: bool,
) -> Result<(LoadStats, R), LoadError> {
    let opts = read_options(srv);
    let mut rd = FileReader::new(input, opts).map_err(LoadError::Rdb)?;
    let replica = srv.settings().replica;
    let now = unix_ms();
    let mut db = 0usize;
    let mut st = LoadStats::default();
    let num_dbs = srv.ks.num_dbs();
    // Under an LFU policy an entry starts with the LFU clock and takes a
    // file's FREQ; otherwise it takes a file's IDLE (Redis 7.0 applies IDLE
    // whatever the non-LFU policy).
    let mode = crate::persist::snapshot::AccessMode::from_config(srv);
    let lfu = match mode {
        crate::persist::snapshot::AccessMode::Lfu(l) => Some(l),
        _ => None,
    };
    let mut now_k = Now::new(now);
    now_k.lfu = lfu;
    let mut repl = (None, None, None);
    while let Some(item) = rd.next_item().map_err(LoadError::Rdb)? {
        match item {
            Item::Aux { key, value } => {
                aux(&key, &value, now);
                repl_aux(&mut repl, &key, &value);
            }
            Item::SelectDb(d) => {
                if d >= num_dbs {
                    return Err(LoadError::Refused(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {num_dbs} databases. Exiting"
                    )));
                }
                db = d;
            }
            Item::ResizeDb { .. } => {}
            Item::Entry {
                key,
                value,
                expire_ms,
                access,
            } => {
                if !replica && expire_ms.is_some_and(|t| t < now) {
                    st.expired += 1;
                    continue;
                }
                let mut entry = Entry::new(value, now_k);
                match (access, lfu.is_some()) {
                    (Some(Access::Freq(f)), true) => entry.set_lfu_counter(f, now),
                    (Some(Access::IdleSecs(s)), false) => entry.set_idle_seconds(s, now),
                    _ => {}
                }
                let dup = srv.ks.with_key_shard(&key, |s| {
                    let d = &mut s.dbs[db];
                    if d.contains(&key) {
                        if !merge {
                            return true;
                        }
                        d.remove(&key);
                    }
                    d.insert_entry(&key, entry, expire_ms);
                    false
                });
                if dup {
                    return Err(LoadError::Refused(format!(
                        "RDB has duplicated key '{}' in DB {db}",
                        String::from_utf8_lossy(&key)
                    )));
                }
                st.loaded += 1;
            }
            Item::Function(code) => {
                let r = srv.scripting.change_functions(|fe| fe.load(&code, merge));
                if let Err(e) = r {
                    return Err(LoadError::Refused(format!("Failed loading library: {e}")));
                }
            }
        }
    }
    if let (Some(stream_db), Some(replid), Some(offset)) = repl {
        st.repl = Some(crate::repl::SaveInfo {
            stream_db,
            replid,
            offset,
        });
    }
    Ok((st, rd.into_inner()))
}

type ReplAux = (Option<usize>, Option<String>, Option<i64>);

/// Collects the replication aux fields.
fn repl_aux(repl: &mut ReplAux, key: &[u8], value: &[u8]) {
    let text = String::from_utf8_lossy(value);
    match key {
        b"repl-stream-db" => repl.0 = text.parse().ok(),
        b"repl-id" if value.len() == 40 => repl.1 = Some(text.into_owned()),
        b"repl-offset" => repl.2 = text.parse().ok(),
        _ => {}
    }
}

fn aux(key: &[u8], value: &[u8], now_ms: i64) {
    let text = String::from_utf8_lossy(value);
    match key {
        b"redis-ver" => notice!("Loading RDB produced by version {text}"),
        b"ctime" => {
            if let Ok(t) = text.parse::<i64>() {
                let age = (now_ms / 1000 - t).max(0);
                notice!("RDB age {age} seconds");
            }
        }
        b"used-mem" => {
            if let Ok(m) = text.parse::<u64>() {
                notice!(
                    "RDB memory usage when created {:.2} Mb",
                    m as f64 / (1024.0 * 1024.0)
                );
            }
        }
        _ => {}
    }
}

/// The start-up load of `dir/dbfilename` (when `appendonly` is no). Returns
/// false when the server must not start.
pub fn load_at_startup(srv: &Server) -> bool {
    let path = crate::persist::rdb_path(srv);
    let start = std::time::Instant::now();
    match load_rdb(srv, &path) {
        Ok(stats) => {
            notice!(
                "DB loaded from disk: {:.3} seconds",
                start.elapsed().as_secs_f64()
            );
            if let Some(info) = &stats.repl {
                crate::repl::restore_from_rdb(srv, info);
            }
            srv.dirty_at_save
                .store(crate::stats::totals().dirty, Relaxed);
            true
        }
        Err(LoadError::Missing) => true,
        Err(e) => {
            warning!("Fatal error loading the DB ({path}): {e}. Exiting.");
            false
        }
    }
}
