//! Writing an AOF base file from the keyspace: an RDB image (`aof-use-rdb-preamble
//! yes`, with Redis's `aof-base` aux field) or commands that rebuild it.
//!
//! The commands are those of a rewrite ([`super::cmds`]); both forms carry the
//! function libraries as well.
//!
//! Used at start-up, when no AOF directory exists: the keyspace is then quiescent
//! (nothing else runs), so it is read shard by shard under each shard's lock. The
//! file is written under a temporary name, fsynced and renamed, so a crash never
//! leaves a half base behind its final name.

use crate::server::{unix_ms, Server};
use shoal_keyspace::Value;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes `dir/name` from the keyspace; returns its size.
pub fn write_base_file(srv: &Server, dir: &Path, name: &str, rdb: bool) -> io::Result<u64> {
    let tmp = dir.join(format!("temp-{name}"));
    let f = File::create(&tmp)?;
    let mut out = BufWriter::with_capacity(1 << 16, f);
    if rdb {
        write_rdb(srv, &mut out)?;
    } else {
        write_commands(srv, &mut out)?;
    }
    let f = out.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    let size = f.metadata()?.len();
    drop(f);
    std::fs::rename(&tmp, dir.join(name))?;
    super::sync_dir(dir);
    Ok(size)
}

/// Every live key of database `db`: (key, value copy, expire time).
fn for_each_key(
    srv: &Server,
    db: usize,
    mut f: impl FnMut(&[u8], &Value, Option<i64>) -> io::Result<()>,
) -> io::Result<()> {
    let now = unix_ms();
    for idx in 0..srv.ks.num_shards() {
        srv.ks.with_shard(idx, |sh| {
            let mut res = Ok(());
            if let Some(d) = sh.dbs.get(db) {
                d.for_each(now, |k, e, exp| {
                    if res.is_ok() {
                        res = f(k, &e.value, exp);
                    }
                });
            }
            res
        })?;
    }
    Ok(())
}

fn write_rdb(srv: &Server, out: &mut impl Write) -> io::Result<()> {
    use shoal_rdb::encode;
    let opts = crate::persist::write_options(srv);
    let mut w = shoal_rdb::FileWriter::new(out, opts)?;
    let mut buf = Vec::new();
    let codes = srv.scripting.library_codes.lock().clone();
    crate::persist::snapshot::write_head(
        &mut buf,
        opts.compression,
        crate::memory::used_memory(),
        None,
        true,
        &codes,
    );
    w.raw(&buf)?;
    let wopts = *w.options();
    for db in 0..srv.ks.num_dbs() {
        let mut selected = false;
        for_each_key(srv, db, |k, v, exp| {
            buf.clear();
            if !selected {
                encode::write_select_db(&mut buf, db);
                selected = true;
            }
            encode::write_entry(&mut buf, k, v, exp, None, &wopts);
            w.raw(&buf)
        })?;
    }
    w.finish()?;
    Ok(())
}

fn write_commands(srv: &Server, out: &mut impl Write) -> io::Result<()> {
    let mut w = super::cmds::CmdWriter::new(out);
    let codes = srv.scripting.library_codes.lock().clone();
    for code in &codes {
        w.function(code)?;
    }
    for db in 0..srv.ks.num_dbs() {
        for_each_key(srv, db, |k, v, exp| w.entry(db, k, v, exp))?;
    }
    w.finish()?;
    Ok(())
}
