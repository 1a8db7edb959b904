//! Persistence: RDB snapshots (when and where the server saves and loads
//! `dir/dbfilename`) and the append-only file ([`aof`]).
//!
//! - [`snapshot`]: the point-in-time image engine (no fork, no copy), reusable
//!   by the AOF rewrite;
//! - [`load`]: reading an RDB file into the keyspace;
//! - this module: the RDB file around a snapshot (temporary name, fsync, rename,
//!   directory fsync: a failed save never damages the previous file), BGSAVE and
//!   SAVE, save points, the state INFO reports and the MISCONF condition.
//!
//! Invariant: `misconf` is true iff `stop-writes-on-bgsave-error` is on, save
//! points exist and the last background save failed; it is recomputed whenever
//! one of those changes, so dispatch reads one atomic per command.

pub mod aof;
pub mod load;
pub mod snapshot;

use crate::server::{unix_ms, Server};
use crate::{notice, warning};
use shoal_rdb::WriteOptions;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Redis's delay before a save point retries after a failed background save.
const BGSAVE_RETRY_DELAY_MS: i64 = 5000;

/// Persistence state shared by the commands, the timer and INFO.
pub struct Persistence {
    /// A BGSAVE (not another kind of snapshot) is running.
    pub bgsave_in_progress: AtomicBool,
    pub bgsave_started_ms: AtomicI64,
    pub last_bgsave_ok: AtomicBool,
    pub last_bgsave_time_sec: AtomicI64,
    /// When a background save was last tried (for the retry delay).
    pub last_bgsave_try_ms: AtomicI64,
    pub bgsave_scheduled: AtomicBool,
    pub rdb_saves: AtomicU64,
    pub last_cow_size: AtomicU64,
    pub last_load_keys_loaded: AtomicU64,
    pub last_load_keys_expired: AtomicU64,
    /// Writes are refused with -MISCONF (see the module invariant).
    pub misconf: AtomicBool,
    /// SHUTDOWN already saved (or decided not to): the exit path does not save.
    pub shutdown_handled: AtomicBool,
    /// The running BGSAVE, for abort (FLUSHALL, SHUTDOWN).
    pub current: parking_lot::Mutex<Option<Arc<snapshot::SnapshotHandle>>>,
}

impl Default for Persistence {
    fn default() -> Self {
        Persistence {
            bgsave_in_progress: AtomicBool::new(false),
            bgsave_started_ms: AtomicI64::new(0),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_time_sec: AtomicI64::new(-1),
            last_bgsave_try_ms: AtomicI64::new(0),
            bgsave_scheduled: AtomicBool::new(false),
            rdb_saves: AtomicU64::new(0),
            last_cow_size: AtomicU64::new(0),
            last_load_keys_loaded: AtomicU64::new(0),
            last_load_keys_expired: AtomicU64::new(0),
            misconf: AtomicBool::new(false),
            shutdown_handled: AtomicBool::new(false),
            current: parking_lot::Mutex::new(None),
        }
    }
}

/// Redis's text for an I/O error (no " (os error N)" suffix).
pub fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The file options from the configuration.
pub fn write_options(srv: &Server) -> WriteOptions {
    let c = srv.config.read();
    WriteOptions {
        compression: c.bool("rdbcompression"),
        checksum: c.bool("rdbchecksum"),
    }
}

/// `dbfilename` (relative to `dir`, the working directory).
pub fn rdb_path(srv: &Server) -> String {
    srv.config.read().string("dbfilename")
}

/// Recomputes the MISCONF condition.
pub fn update_misconf(srv: &Server) {
    let c = srv.config.read();
    let on = c.bool("stop-writes-on-bgsave-error")
        && !c.save_params().is_empty()
        && !srv.persist.last_bgsave_ok.load(Relaxed);
    srv.persist.misconf.store(on, Relaxed);
}

fn cwd_text() -> String {
    std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// Opens the temporary file of a save, logging Redis's line on failure.
fn open_temp(name: &str) -> Result<std::fs::File, String> {
    std::fs::File::create(name).map_err(|e| {
        let msg = format!(
            "Failed opening the temp RDB file {name} (in server root dir {}) for saving: {}",
            cwd_text(),
            io_text(&e)
        );
        warning!("{msg}");
        msg
    })
}

/// Makes the temporary file the RDB file: fsync, rename, fsync of the directory.
fn commit(file: std::io::BufWriter<std::fs::File>, temp: &str, target: &str) -> Result<(), String> {
    let fail = |what: &str, e: std::io::Error| {
        let _ = std::fs::remove_file(temp);
        let msg = format!("{what}: {}", io_text(&e));
        warning!("{msg}");
        msg
    };
    let file = file
        .into_inner()
        .map_err(|e| fail("Write error saving DB on disk", e.into_error()))?;
    file.sync_all()
        .map_err(|e| fail("Write error saving DB on disk", e))?;
    drop(file);
    std::fs::rename(temp, target).map_err(|e| {
        let _ = std::fs::remove_file(temp);
        let msg = format!(
            "Error moving temp DB file {temp} on the final destination {target} (in server root dir {}): {}",
            cwd_text(),
            io_text(&e)
        );
        warning!("{msg}");
        msg
    })?;
    let dir = std::path::Path::new(target)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::Path::new("."));
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Why a save did not start.
#[derive(Debug)]
pub enum SaveError {
    /// A background save or another snapshot is running.
    Busy,
    Failed(String),
}

/// Starts a snapshot into `dir/dbfilename` and calls `done` on the walker thread
/// with the outcome (the file is in place on `Ok`). Runs the cut in the caller
/// (see [`snapshot::start`] for where it may be called).
fn save_to_file(
    srv: &Arc<Server>,
    workers: usize,
    on_cut: impl FnOnce(),
    done: impl FnOnce(Result<(), String>) + Send + 'static,
) -> Result<Arc<snapshot::SnapshotHandle>, SaveError> {
    if snapshot::running().is_some() {
        return Err(SaveError::Busy);
    }
    let target = rdb_path(srv);
    let temp = format!("temp-{}-{}.rdb", std::process::id(), rand::random::<u32>());
    let file = open_temp(&temp).map_err(SaveError::Failed)?;
    let out = std::io::BufWriter::with_capacity(1 << 20, file);
    let opts = snapshot::Options {
        write: write_options(srv),
        aof_base: false,
    };
    let temp2 = temp.clone();
    let r = snapshot::start_with(srv, out, opts, workers, on_cut, move |res| {
        let res = match res {
            Ok(w) => commit(w, &temp2, &target),
            Err(e) => {
                let _ = std::fs::remove_file(&temp2);
                if !matches!(e, snapshot::SnapError::Aborted) {
                    warning!("Write error saving DB on disk: {e}");
                }
                Err(e.to_string())
            }
        };
        done(res)
    });
    match r {
        Ok(h) => Ok(Arc::new(h)),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            match e {
                snapshot::StartError::Busy => Err(SaveError::Busy),
                snapshot::StartError::Thread(e) => {
                    let msg = format!("Can't save in background: {}", io_text(&e));
                    warning!("{msg}");
                    Err(SaveError::Failed(msg))
                }
            }
        }
    }
}

/// BGSAVE: starts a background save (the caller may lock every shard).
pub fn bgsave(srv: &Arc<Server>) -> Result<(), SaveError> {
    bgsave_with(srv, || {}, |_| {})
}

/// [`bgsave`] with a hook run inside the cut (a full sync attaches its replicas
/// there) and one run after the save ended (`true`: the file is in place).
pub fn bgsave_with(
    srv: &Arc<Server>,
    on_cut: impl FnOnce(),
    after: impl FnOnce(bool) + Send + 'static,
) -> Result<(), SaveError> {
    let p = &srv.persist;
    let dirty_at_cut = Arc::new(AtomicU64::new(0));
    let d2 = dirty_at_cut.clone();
    let s2 = srv.clone();
    let started = unix_ms();
    p.last_bgsave_try_ms.store(started, Relaxed);
    // Held until the new save is registered: its completion (on the walker
    // thread, `take` below) must not run before, or the save would stay
    // "in progress" for ever.
    let mut current = p.current.lock();
    // One serialising thread: the other cores stay with the clients.
    let h = save_to_file(
        srv,
        1,
        || {
            d2.store(crate::stats::totals().dirty, Relaxed);
            on_cut();
        },
        move |res| {
            let ok = res.is_ok();
            let p = &s2.persist;
            let h = p.current.lock().take();
            let secs = (unix_ms() - started) / 1000;
            p.last_bgsave_time_sec.store(secs, Relaxed);
            if let Some(h) = &h {
                p.last_cow_size
                    .store(h.progress.cow_total.load(Relaxed), Relaxed);
            }
            match res {
                Ok(()) => {
                    notice!("DB saved on disk");
                    notice!("Background saving terminated with success");
                    s2.dirty_at_save.store(dirty_at_cut.load(Relaxed), Relaxed);
                    s2.lastsave.store(unix_ms() / 1000, Relaxed);
                    p.last_bgsave_ok.store(true, Relaxed);
                }
                Err(e) if e == "aborted" => {
                    warning!("Background saving terminated by abort");
                }
                Err(_) => {
                    warning!("Background saving error");
                    p.last_bgsave_ok.store(false, Relaxed);
                }
            }
            p.bgsave_in_progress.store(false, Relaxed);
            update_misconf(&s2);
            after(ok);
        },
    );
    match h {
        Ok(h) => {
            p.rdb_saves.fetch_add(1, Relaxed);
            p.bgsave_started_ms.store(started, Relaxed);
            p.bgsave_in_progress.store(true, Relaxed);
            *current = Some(h);
            notice!("Background saving started");
            Ok(())
        }
        Err(SaveError::Failed(_)) => {
            // Redis's child fails after BGSAVE has replied: the same here.
            p.rdb_saves.fetch_add(1, Relaxed);
            notice!("Background saving started");
            warning!("Background saving error");
            p.last_bgsave_ok.store(false, Relaxed);
            p.last_bgsave_time_sec.store(0, Relaxed);
            update_misconf(srv);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// A save the caller waits for (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD). The
/// caller may lock every shard and holds none.
///
/// During an AOF rewrite Redis saves in the foreground (its rewrite is a child
/// process), so these commands succeed there. Shoal's engine takes one snapshot
/// at a time: the save waits for the rewrite's walk to end (bounded: one pass
/// over the keys; the rewrite is neither aborted nor delayed, so it ends as
/// Redis's would, with the same INFO counters), then takes its own cut. A running
/// BGSAVE still makes it [`SaveError::Busy`], as Redis answers "Background save
/// already in progress".
pub fn save_blocking(srv: &Arc<Server>) -> Result<(), SaveError> {
    let dirty = Arc::new(AtomicU64::new(0));
    let result = Arc::new(parking_lot::Mutex::new(None));
    // The caller waits: every core serialises (a BGSAVE leaves them to clients).
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Bounded: each round waits for one rewrite to end, and only a rewrite
    // started meanwhile (scheduled, automatic) makes another round.
    let mut rounds = 0;
    let h = loop {
        let d2 = dirty.clone();
        let r2 = result.clone();
        match save_to_file(
            srv,
            workers,
            || d2.store(crate::stats::totals().dirty, Relaxed),
            move |res| *r2.lock() = Some(res),
        ) {
            Err(SaveError::Busy)
                if rounds < 100 && !srv.persist.bgsave_in_progress.load(Relaxed) =>
            {
                rounds += 1;
                wait_other_snapshot(srv);
            }
            r => break r?,
        }
    };
    h.wait();
    let res = result
        .lock()
        .take()
        .unwrap_or_else(|| Err("no result".into()));
    match res {
        Ok(()) => {
            notice!("DB saved on disk");
            srv.dirty_at_save.store(dirty.load(Relaxed), Relaxed);
            srv.lastsave.store(unix_ms() / 1000, Relaxed);
            // A successful save clears a past background failure, as in Redis.
            srv.persist.last_bgsave_ok.store(true, Relaxed);
            update_misconf(srv);
            Ok(())
        }
        Err(e) => Err(SaveError::Failed(e)),
    }
}

/// Waits for the running AOF rewrite's walk to end, or (another snapshot without
/// a handle here: one just starting or ending) a moment.
fn wait_other_snapshot(srv: &Server) {
    let h = srv.aof.rewrite.lock().clone();
    match h {
        Some(h) => h.wait(),
        None => std::thread::sleep(std::time::Duration::from_millis(10)),
    }
}

/// Aborts a running BGSAVE and waits for its walker to end.
pub fn kill_bgsave(srv: &Server) {
    let h = srv.persist.current.lock().clone();
    if let Some(h) = h {
        h.abort();
        h.wait();
    }
}

/// After FLUSHALL: Redis aborts a running BGSAVE and, with save points, saves
/// the (empty) dataset at once.
pub fn after_flushall(srv: &Arc<Server>) {
    kill_bgsave(srv);
    if !srv.config.read().save_params().is_empty() {
        let _ = save_blocking(srv);
    }
}

/// The exit path's save: Redis saves on shutdown when save points exist (or
/// SHUTDOWN SAVE). Returns false when the save failed.
pub fn shutdown_save(srv: &Arc<Server>) -> bool {
    if srv.aof.rewrite_in_progress.load(Relaxed) {
        warning!("There is a child rewriting the AOF. Killing it!");
        aof::rewrite::kill(srv);
    }
    if snapshot::running().is_some() {
        warning!("There is a child saving an .rdb. Killing it!");
        kill_bgsave(srv);
    }
    notice!("Saving the final RDB snapshot before exiting.");
    match save_blocking(srv) {
        Ok(()) => true,
        Err(_) => {
            warning!("Error trying to save the DB, can't exit.");
            false
        }
    }
}

/// The save-point timer (Redis's serverCron part): starts a BGSAVE when a save
/// point is reached, or a scheduled one when nothing else runs.
pub async fn cron(srv: Arc<Server>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    let mut stop = srv.shutdown_rx();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if snapshot::running().is_some() {
            continue;
        }
        // As Redis's serverCron: a scheduled or automatic AOF rewrite goes first.
        if aof::rewrite::cron(&srv) {
            continue;
        }
        let p = &srv.persist;
        if p.bgsave_scheduled.load(Relaxed) {
            if snapshot::with_gate(&srv, || bgsave(&srv)).is_some() {
                p.bgsave_scheduled.store(false, Relaxed);
            }
            continue;
        }
        let params = srv.config.read().save_params();
        if params.is_empty() {
            continue;
        }
        let now = unix_ms();
        let dirty = crate::stats::totals()
            .dirty
            .saturating_sub(srv.dirty_at_save.load(Relaxed));
        let since = now / 1000 - srv.lastsave.load(Relaxed);
        let retry_ok = p.last_bgsave_ok.load(Relaxed)
            || now - p.last_bgsave_try_ms.load(Relaxed) > BGSAVE_RETRY_DELAY_MS;
        let due = params
            .iter()
            .find(|&&(secs, changes)| dirty >= changes && since > secs as i64 && retry_ok);
        if let Some(&(secs, changes)) = due {
            notice!("{changes} changes in {secs} seconds. Saving...");
            let _ = snapshot::with_gate(&srv, || bgsave(&srv));
        }
    }
}
