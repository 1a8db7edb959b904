//! A replica's full sync: receiving the master's RDB payload and replacing the
//! dataset with it.
//!
//! The payload arrives `$<len>`-sized or `$EOF:<mark>`-framed (the mark found
//! by `shoal_repl::EofScanner`). With `repl-diskless-load disabled` (the
//! default) it is written to a temp file that becomes `dbfilename` and is
//! loaded from there, as Redis does. With `on-empty-db` (when the dataset is
//! empty) or `swapdb` it goes straight into the loader, running on a blocking
//! thread that reads a channel the socket task fills; under `swapdb` the old
//! dataset is set aside first and put back if the payload fails to load.
//!
//! While the dataset is replaced, clients get LOADING; the AOF (if on) is
//! stopped before and rebuilt by a rewrite after, as Redis restarts it.

use super::{backlog_size, LinkState};
use crate::server::{unix_ms, Server};
use crate::{notice, warning};
use shoal_keyspace::DbShard;
use shoal_repl::{Backlog, EofScan, EofScanner, PayloadFraming, RdbStart};
use std::io::{Read, Write};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Where payload bytes go.
enum Target {
    File {
        temp: std::path::PathBuf,
        w: std::io::BufWriter<std::fs::File>,
    },
    Loader {
        tx: mpsc::Sender<Vec<u8>>,
        done: tokio::task::JoinHandle<bool>,
    },
}

impl Target {
    async fn put(&mut self, data: &[u8]) -> bool {
        if data.is_empty() {
            return true;
        }
        match self {
            Target::File { w, .. } => {
                if w.write_all(data).is_err() {
                    warning!("Failed trying to write the temp DB to disk");
                    return false;
                }
                true
            }
            // A loader that stopped (a bad payload) drops its end.
            Target::Loader { tx, .. } => tx.send(data.to_vec()).await.is_ok(),
        }
    }

    fn abandon(self) {
        if let Target::File { temp, .. } = self {
            let _ = std::fs::remove_file(temp);
        }
    }
}

fn dataset_empty(srv: &Server) -> bool {
    (0..srv.ks.num_shards()).all(|i| srv.ks.with_shard(i, |s| s.dbs.iter().all(|d| d.is_empty())))
}

/// A full sync: this replica's history ends (sub-replicas disconnected, backlog
/// freed), the payload is read and loaded. Returns the stream bytes read past
/// the payload, or None if the sync failed.
pub async fn receive_and_load(
    srv: &Arc<Server>,
    gen: u64,
    sock: &mut TcpStream,
    start: RdbStart,
    rest: Vec<u8>,
    timeout: u64,
) -> Option<Vec<u8>> {
    {
        let mut st = srv.repl.st.lock();
        if srv.repl.gen.load(Relaxed) != gen {
            return None;
        }
        for r in st.replicas.drain(..) {
            r.info.kill();
        }
        st.backlog = None;
        if let Some(m) = st.master.as_mut() {
            m.state = LinkState::Sync;
            m.sync_total = match start.framing {
                PayloadFraming::Sized(n) => n as i64,
                PayloadFraming::EofMark(_) => -1,
            };
            m.sync_read = 0;
            m.sync_last_io_ms = unix_ms();
        }
    }
    let mode = srv.config.read().string("repl-diskless-load");
    let swap = mode == "swapdb";
    let mut target = if swap || (mode == "on-empty-db" && dataset_empty(srv)) {
        let (tx, rx) = mpsc::channel::<Vec<u8>>(64);
        let s2 = srv.clone();
        let st2 = start.clone();
        let done = tokio::task::spawn_blocking(move || {
            load(&s2, gen, &st2, swap, |srv| {
                let reader = std::io::BufReader::with_capacity(1 << 20, ChanReader::new(rx));
                crate::persist::load::load_from(srv, reader).map(|(stats, _)| stats)
            })
        });
        Target::Loader { tx, done }
    } else {
        let temp = std::path::PathBuf::from(format!(
            "temp-{}.{}.rdb",
            unix_ms() / 1000,
            std::process::id()
        ));
        match std::fs::File::create(&temp) {
            Ok(f) => Target::File {
                temp,
                w: std::io::BufWriter::with_capacity(1 << 20, f),
            },
            Err(e) => {
                warning!(
                    "Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}"
                );
                return None;
            }
        }
    };
    let tail = match receive(srv, gen, sock, &start, rest, timeout, &mut target).await {
        Some(t) => t,
        None => {
            target.abandon();
            return None;
        }
    };
    let ok = match target {
        Target::Loader { tx, done } => {
            drop(tx);
            done.await.unwrap_or(false)
        }
        Target::File { temp, mut w } => {
            if w.flush().is_err() || w.get_ref().sync_all().is_err() {
                warning!("Failed trying to sync the temp DB to disk in MASTER <-> REPLICA synchronization");
                let _ = std::fs::remove_file(&temp);
                return None;
            }
            drop(w);
            let s2 = srv.clone();
            tokio::task::spawn_blocking(move || load_file(&s2, gen, &temp, &start))
                .await
                .unwrap_or(false)
        }
    };
    ok.then_some(tail)
}

/// Reads the payload into `target`; returns the bytes read past its end.
async fn receive(
    srv: &Arc<Server>,
    gen: u64,
    sock: &mut TcpStream,
    start: &RdbStart,
    rest: Vec<u8>,
    timeout: u64,
    target: &mut Target,
) -> Option<Vec<u8>> {
    let mut got: u64 = 0;
    let mut scanner = match start.framing {
        PayloadFraming::EofMark(mark) => Some(EofScanner::new(mark)),
        PayloadFraming::Sized(_) => None,
    };
    let mut out = Vec::with_capacity(64 << 10);
    let mut chunk = vec![0u8; 64 << 10];
    let mut pending = rest;
    loop {
        if !pending.is_empty() {
            let data = std::mem::take(&mut pending);
            match (&mut scanner, start.framing) {
                (Some(sc), _) => {
                    out.clear();
                    let r = sc.feed(&data, &mut out);
                    got += out.len() as u64;
                    if !target.put(&out).await {
                        return None;
                    }
                    if let EofScan::Done { rest } = r {
                        return Some(rest);
                    }
                }
                (None, PayloadFraming::Sized(n)) => {
                    let take = ((n - got) as usize).min(data.len());
                    if !target.put(&data[..take]).await {
                        return None;
                    }
                    got += take as u64;
                    if got == n {
                        return Some(data[take..].to_vec());
                    }
                }
                (None, PayloadFraming::EofMark(_)) => return None,
            }
            progress(srv, gen, got);
        } else if let PayloadFraming::Sized(0) = start.framing {
            return Some(Vec::new());
        }
        if !super::replica::current(srv, gen) {
            return None;
        }
        let r = tokio::select! {
            _ = srv.repl.gen_changed.notified() => return None,
            r = tokio::time::timeout(Duration::from_secs(timeout), sock.read(&mut chunk)) => r,
        };
        match r {
            Ok(Ok(0)) | Ok(Err(_)) => {
                warning!("I/O error trying to sync with MASTER: connection lost");
                return None;
            }
            Ok(Ok(n)) => pending.extend_from_slice(&chunk[..n]),
            Err(_) => {
                warning!("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
                return None;
            }
        }
    }
}

fn progress(srv: &Server, gen: u64, got: u64) {
    super::replica::with_link(srv, gen, |m| {
        m.sync_read = got as i64;
        m.sync_last_io_ms = unix_ms();
    });
}

/// The payload as a `Read`: chunks from the socket task, EOF when it hangs up.
struct ChanReader {
    rx: mpsc::Receiver<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

impl ChanReader {
    fn new(rx: mpsc::Receiver<Vec<u8>>) -> ChanReader {
        ChanReader {
            rx,
            cur: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ChanReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.cur.len() {
            match self.rx.blocking_recv() {
                Some(v) => {
                    self.cur = v;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The disk-staged payload: `temp` becomes `dbfilename`, then is loaded.
fn load_file(srv: &Arc<Server>, gen: u64, temp: &std::path::Path, start: &RdbStart) -> bool {
    let path = crate::persist::rdb_path(srv);
    let ok = load(srv, gen, start, false, |srv| {
        if let Err(e) = std::fs::rename(temp, &path) {
            let _ = std::fs::remove_file(temp);
            return Err(crate::persist::load::LoadError::Refused(format!(
                "Failed trying to rename the temp DB into {path} in MASTER <-> REPLICA synchronization: {e}"
            )));
        }
        crate::persist::load::load_rdb(srv, &path)
    });
    if ok {
        let c = srv.config.read();
        if c.bool("rdb-del-sync-files") && c.save_params().is_empty() && !c.bool("appendonly") {
            notice!("Removing the RDB file obtained from the master. This replica has no persistence enabled.");
            let _ = std::fs::remove_file(&path);
        }
    }
    ok
}

/// Replaces the dataset with what `read` loads (a blocking thread).
fn load<F>(srv: &Arc<Server>, gen: u64, start: &RdbStart, swap: bool, read: F) -> bool
where
    F: FnOnce(&Server) -> Result<crate::persist::load::LoadStats, crate::persist::load::LoadError>,
{
    let aof_on = srv.aof.enabled.load(Relaxed);
    if aof_on {
        crate::persist::aof::stop(srv);
    }
    // No save may run over the swap of the dataset.
    crate::persist::kill_bgsave(srv);
    srv.repl.loading.store(true, Relaxed);
    super::refresh_checks(srv);
    let aside = empty_dataset(srv, swap);
    srv.scripting.change_functions(|fe| fe.flush());
    notice!("MASTER <-> REPLICA sync: Loading DB in memory");
    let r = read(srv);
    match &r {
        Ok(stats) if swap => notice!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            stats.loaded,
            stats.expired
        ),
        Ok(_) => {}
        Err(e) => {
            warning!("Failed trying to load the MASTER synchronization DB from disk, check server logs. ({e})");
        }
    }
    let ok = r.is_ok();
    restore_or_free(srv, aside, ok);
    srv.repl.loading.store(false, Relaxed);
    super::refresh_checks(srv);
    if !ok {
        return false;
    }
    {
        let mut st = srv.repl.st.lock();
        if srv.repl.gen.load(Relaxed) != gen {
            return false;
        }
        match start.replid {
            Some(id) => st.ids.replid = id,
            None => st.ids.change_replid(&mut rand::thread_rng()),
        }
        st.ids.clear_replid2();
        let off = start.offset.max(0);
        st.offset = off;
        st.backlog = Some(Backlog::new(backlog_size(srv), off));
        if let Some(m) = st.master.as_mut() {
            m.reploff = off;
            m.read_reploff = off;
            m.stream_db = 0;
            m.cached = None;
        }
    }
    notice!("MASTER <-> REPLICA sync: Finished with success");
    // Our backlog must see every write from now on, ours too once promoted.
    super::ensure_sink(srv);
    if aof_on {
        let s2 = srv.clone();
        std::thread::spawn(move || crate::persist::aof::rewrite::enable(&s2, false));
    }
    true
}

/// Empties every database (in an exclusive section: no command sees half a
/// dataset). Under `swapdb` the old tables are returned, per shard and database.
fn empty_dataset(srv: &Server, swap: bool) -> Vec<Vec<DbShard>> {
    let lazy = srv.config.read().bool("replica-lazy-flush");
    if swap {
        notice!("MASTER <-> REPLICA sync: Backing up the current dataset to restore it if the load fails");
    } else {
        notice!("MASTER <-> REPLICA sync: Flushing old data");
    }
    let mut aside = Vec::new();
    srv.exclusive(|| {
        let mut all = srv.ks.lock_all();
        if swap {
            // Grouped per shard, to be put back where they were.
            all.for_each_shard(|_, s| aside.push(s.dbs.iter_mut().map(|d| d.take()).collect()));
            return;
        }
        let freed = all.empty_all(lazy);
        drop(all);
        if !freed.is_empty() {
            shoal_keyspace::lazyfree::free_later(freed);
        }
    });
    aside
}

/// After a `swapdb` load: the old dataset is freed, or put back on failure.
fn restore_or_free(srv: &Server, aside: Vec<Vec<DbShard>>, loaded: bool) {
    if aside.is_empty() {
        return;
    }
    if loaded {
        shoal_keyspace::lazyfree::free_later(aside.into_iter().flatten().collect::<Vec<_>>());
        return;
    }
    notice!("MASTER <-> REPLICA sync: Restoring the dataset backed up before the failed load");
    srv.exclusive(|| {
        let mut aside = aside.into_iter();
        let mut partial = Vec::new();
        let mut all = srv.ks.lock_all();
        all.for_each_shard(|_, s| {
            if let Some(old) = aside.next() {
                for (d, o) in s.dbs.iter_mut().zip(old) {
                    partial.push(std::mem::replace(d, o));
                }
            }
        });
        drop(all);
        shoal_keyspace::lazyfree::free_later(partial);
    });
}
