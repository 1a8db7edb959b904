//! The snapshot engine: a point-in-time RDB image of the whole keyspace, written
//! by a dedicated thread while clients keep reading and writing, with no fork()
//! and no copy of the dataset. Used by BGSAVE, SAVE, SHUTDOWN, FLUSHALL, DEBUG
//! RELOAD, and reusable by the AOF rewrite (RDB preamble) and full syncs.
//!
//! [`start`] takes the cut synchronously, every shard locked: each database
//! shard flips its parity and gets a copy-on-write hook
//! ([`shoal_keyspace::snapshot`]), the function libraries and the key counts are
//! captured, and the caller's `on_cut` runs (an AOF rewrite switches to a new
//! incremental file there, replication records its offset). The walker thread
//! then writes the header, aux fields and functions, and database by database,
//! shard by shard, locks one shard for a batch of [`BATCH`] entries, serialises
//! the unsaved ones, unlocks, and writes the batch and whatever the write path
//! saved meanwhile (the COW buffer, which starts with its own SELECTDB). The
//! tables emptied during the walk (FLUSHALL...) are saved last, then EOF and the
//! checksum. `on_done` gets the writer back (to fsync and rename) or the error.
//!
//! Invariant: the walk always runs to its end, even after an error or an abort
//! (then writing nothing), because the next cut needs every entry's parity bit
//! back in line; that costs a pass over the keys without serialisation.
//!
//! The caller of [`start`] must be allowed to lock every shard: a command (the
//! gate entered, no shard held), an exclusive section, or a thread that entered
//! the gate ([`with_gate`]).

use crate::server::Server;
use parking_lot::Mutex;
use shoal_keyspace::snapshot::{SnapshotSink, Step, Tables};
use shoal_keyspace::Entry;
use shoal_rdb::encode::{self, WriteOptions};
use shoal_rdb::FileWriter;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc;
use std::sync::Arc;

/// Entries per shard lock hold (a few hundred microseconds of small values).
pub const BATCH: usize = 1000;

/// What a snapshot writes.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub write: WriteOptions,
    /// The `aof-base` aux field: 1 when the image is an AOF's RDB preamble.
    pub aof_base: bool,
}

/// The access record written before each key, as Redis 7.0 does: `IDLE`
/// (seconds) under an LRU `maxmemory-policy`, `FREQ` (the decayed counter)
/// under an LFU one, nothing otherwise. Read from the configuration at the cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessMode {
    None,
    Lru,
    Lfu(shoal_keyspace::Lfu),
}

impl AccessMode {
    pub fn from_config(srv: &Server) -> AccessMode {
        let policy = srv.config.read().string("maxmemory-policy");
        let st = srv.settings();
        if policy.ends_with("-lfu") {
            AccessMode::Lfu(shoal_keyspace::Lfu {
                log_factor: st.lfu_log_factor.clamp(0, u32::MAX as i64) as u32,
                decay_time: st.lfu_decay_time.clamp(0, u32::MAX as i64) as u32,
            })
        } else if policy.ends_with("-lru") {
            AccessMode::Lru
        } else {
            AccessMode::None
        }
    }

    /// The record for `e` now.
    #[inline]
    pub fn record(self, e: &Entry) -> Option<encode::Access> {
        match self {
            AccessMode::None => None,
            AccessMode::Lru => Some(encode::Access::IdleSecs(
                e.idle_seconds(crate::server::unix_ms()),
            )),
            AccessMode::Lfu(lfu) => {
                let c = shoal_keyspace::db::lfu_decayed(
                    e.access_clock(),
                    crate::server::unix_ms(),
                    lfu,
                );
                Some(encode::Access::Freq(c.min(255) as u8))
            }
        }
    }
}

/// Why [`start`] refused.
#[derive(Debug)]
pub enum StartError {
    /// Another snapshot is running (one at a time).
    Busy,
    /// The walker thread could not be started.
    Thread(std::io::Error),
}

/// How a snapshot ended.
#[derive(Debug)]
pub enum SnapError {
    Io(std::io::Error),
    Aborted,
}

impl std::fmt::Display for SnapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapError::Io(e) => write!(f, "{}", crate::persist::io_text(e)),
            SnapError::Aborted => write!(f, "aborted"),
        }
    }
}

/// The progress of the running snapshot (INFO's current_* fields).
#[derive(Default)]
pub struct Progress {
    pub id: u64,
    pub keys_total: AtomicU64,
    /// Keys written by the walker and by the write path.
    pub keys_processed: AtomicU64,
    /// Bytes saved by the write path and not yet written (current_cow_size).
    pub cow_bytes: AtomicU64,
    pub cow_peak: AtomicU64,
    /// Bytes the write path saved over the whole snapshot.
    pub cow_total: AtomicU64,
    pub started_ms: i64,
}

/// A running snapshot.
pub struct SnapshotHandle {
    shared: Arc<Shared>,
    pub progress: Arc<Progress>,
}

impl SnapshotHandle {
    /// Stops writing: the walker finishes its pass without serialising and
    /// `on_done` gets [`SnapError::Aborted`].
    pub fn abort(&self) {
        self.shared.sink.discard.store(true, Relaxed);
    }

    pub fn is_finished(&self) -> bool {
        self.shared.finished.load(Relaxed)
    }

    /// Blocks until the walker has ended (after `on_done` returned).
    pub fn wait(&self) {
        let mut done = self.shared.done_lock.lock();
        while !*done {
            self.shared.done_cv.wait(&mut done);
        }
    }
}

struct Shared {
    sink: Arc<Sink>,
    finished: AtomicBool,
    done_lock: Mutex<bool>,
    done_cv: parking_lot::Condvar,
}

/// What the write path hands over: serialised old entries and emptied tables.
struct Sink {
    opts: WriteOptions,
    access: AccessMode,
    /// Threads serialising shards in parallel (1: the walker alone).
    workers: usize,
    discard: AtomicBool,
    state: Mutex<SinkState>,
    progress: Arc<Progress>,
}

#[derive(Default)]
struct SinkState {
    buf: Vec<u8>,
    last_db: Option<usize>,
    handed: Vec<Tables>,
}

impl SnapshotSink for Sink {
    fn save_entry(&self, db: usize, key: &[u8], entry: &Entry, expire_ms: Option<i64>) {
        if self.discard.load(Relaxed) {
            return;
        }
        let mut st = self.state.lock();
        let before = st.buf.len();
        if st.last_db != Some(db) {
            encode::write_select_db(&mut st.buf, db);
            st.last_db = Some(db);
        }
        let access = self.access.record(entry);
        encode::write_entry(
            &mut st.buf,
            key,
            &entry.value,
            expire_ms,
            access,
            &self.opts,
        );
        let p = &self.progress;
        let added = (st.buf.len() - before) as u64;
        p.keys_processed.fetch_add(1, Relaxed);
        p.cow_total.fetch_add(added, Relaxed);
        let now = st.buf.len() as u64;
        p.cow_bytes.store(now, Relaxed);
        if now > p.cow_peak.load(Relaxed) {
            p.cow_peak.store(now, Relaxed);
        }
    }

    fn hand_over(&self, tables: Tables) {
        if self.discard.load(Relaxed) {
            shoal_keyspace::lazyfree::free_later(tables);
            return;
        }
        self.state.lock().handed.push(tables);
    }
}

/// The running snapshot's id (0: none). One snapshot at a time.
static RUNNING: Mutex<Option<Arc<Progress>>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The progress of the running snapshot, if any.
pub fn running() -> Option<Arc<Progress>> {
    RUNNING.lock().clone()
}

/// Runs `f` with this thread inside the gate (as a command would be), for callers
/// outside any command (the save-point timer, shutdown). `None` if an exclusive
/// section (a script) runs.
pub fn with_gate<R>(srv: &Server, f: impl FnOnce() -> R) -> Option<R> {
    if !srv.gate.enter() {
        return None;
    }
    let r = f();
    srv.gate.leave();
    Some(r)
}

/// What the walker needs from the cut.
struct Cut {
    id: u64,
    counts: Vec<(u64, u64)>,
    functions: Vec<bytes::Bytes>,
    used_mem: u64,
    /// The replication aux fields at the cut (a master with a backlog, a replica).
    repl: Option<crate::repl::SaveInfo>,
}

/// Takes the cut and starts the walker (see the module doc). `on_cut` runs
/// inside the cut, every shard locked; `on_done` runs on the walker thread at
/// the end with the flushed writer, or the error.
pub fn start<W, C, D>(
    srv: &Arc<Server>,
    out: W,
    opts: Options,
    on_cut: C,
    on_done: D,
) -> Result<SnapshotHandle, StartError>
where
    W: Write + Send + 'static,
    C: FnOnce(),
    D: FnOnce(Result<W, SnapError>) + Send + 'static,
{
    start_with(srv, out, opts, 1, on_cut, on_done)
}

/// [`start`] with `workers` threads serialising shards in parallel (a SAVE the
/// caller waits for may use every core; a background save uses one, leaving
/// the others to the clients). Batches then each begin with their SELECTDB.
pub fn start_with<W, C, D>(
    srv: &Arc<Server>,
    out: W,
    opts: Options,
    workers: usize,
    on_cut: C,
    on_done: D,
) -> Result<SnapshotHandle, StartError>
where
    W: Write + Send + 'static,
    C: FnOnce(),
    D: FnOnce(Result<W, SnapError>) + Send + 'static,
{
    let mut running = RUNNING.lock();
    if running.is_some() {
        return Err(StartError::Busy);
    }
    let id = NEXT_ID.fetch_add(1, Relaxed);
    let progress = Arc::new(Progress {
        id,
        started_ms: crate::server::unix_ms(),
        ..Default::default()
    });
    let sink = Arc::new(Sink {
        opts: opts.write,
        access: AccessMode::from_config(srv),
        workers: workers.max(1),
        discard: AtomicBool::new(false),
        state: Mutex::new(SinkState::default()),
        progress: progress.clone(),
    });
    let shared = Arc::new(Shared {
        sink: sink.clone(),
        finished: AtomicBool::new(false),
        done_lock: Mutex::new(false),
        done_cv: parking_lot::Condvar::new(),
    });
    // The thread first, so that a failure leaves no hook behind.
    let (tx, rx) = mpsc::channel::<Cut>();
    let thread_srv = srv.clone();
    let thread_shared = shared.clone();
    std::thread::Builder::new()
        .name("shoal-snapshot".into())
        .spawn(move || {
            let Ok(cut) = rx.recv() else {
                return;
            };
            let sink = &thread_shared.sink;
            if sink.workers == 1 {
                // A background save must not take CPU from the workers serving
                // clients: on a busy machine it runs longer instead.
                lower_thread_priority();
            }
            let walked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                walk(&thread_srv, sink, out, opts, &cut)
            }));
            let result = match walked {
                Ok(r) => r,
                Err(_) => {
                    // A bug while serialising: finish the pass without writing so
                    // that the keyspace is left ready for the next snapshot.
                    crate::warning!("Snapshot failed: panic while serialising; finishing the pass");
                    sink.discard.store(true, Relaxed);
                    finish_pass(&thread_srv, sink, cut.id);
                    Err(SnapError::Io(std::io::Error::other(
                        "internal error while serialising",
                    )))
                }
            };
            on_done(result);
            *RUNNING.lock() = None;
            thread_shared.finished.store(true, Relaxed);
            *thread_shared.done_lock.lock() = true;
            thread_shared.done_cv.notify_all();
        })
        .map_err(StartError::Thread)?;
    *running = Some(progress.clone());
    drop(running);

    let dyn_sink: Arc<dyn SnapshotSink> = sink;
    let num_dbs = srv.ks.num_dbs();
    let mut counts = vec![(0u64, 0u64); num_dbs];
    {
        let mut locked = srv.ks.lock_all();
        locked.for_each_shard(|_, shard| {
            for (db, d) in shard.dbs.iter_mut().enumerate() {
                let (k, e) = d.begin_snapshot(id, db, &dyn_sink);
                counts[db].0 += k as u64;
                counts[db].1 += e as u64;
            }
        });
        on_cut();
        // Function libraries change only in commands that hold no shard: the
        // list mirrored at their last change is the one at the cut.
        let functions = srv.scripting.library_codes.lock().clone();
        progress
            .keys_total
            .store(counts.iter().map(|c| c.0).sum(), Relaxed);
        let cut = Cut {
            id,
            counts,
            functions,
            used_mem: crate::memory::used_memory(),
            // An AOF preamble carries no replication info, as in Redis.
            repl: if opts.aof_base {
                None
            } else {
                crate::repl::save_info(srv)
            },
        };
        // The walker waits on this channel: it cannot have gone.
        let _ = tx.send(cut);
    }
    Ok(SnapshotHandle { shared, progress })
}

/// The walker: writes the whole image (or, after an error or an abort, only
/// finishes the pass).
fn walk<W: Write + Send>(
    srv: &Server,
    sink: &Sink,
    out: W,
    opts: Options,
    cut: &Cut,
) -> Result<W, SnapError> {
    let mut w = Writer {
        file: None,
        err: None,
    };
    match FileWriter::new(out, opts.write) {
        Ok(f) => w.file = Some(f),
        Err(e) => w.err = Some(e),
    }
    let mut head = Vec::new();
    write_head(
        &mut head,
        opts.write.compression,
        cut.used_mem,
        cut.repl.as_ref(),
        opts.aof_base,
        &cut.functions,
    );
    w.put(sink, &head);

    let progress = &sink.progress;
    let nshards = srv.ks.num_shards();
    let workers = sink.workers.min(nshards).max(1);
    let wm = Mutex::new(w);
    for (db, &(keys, expires)) in cut.counts.iter().enumerate() {
        if keys == 0 {
            continue;
        }
        let mut head = Vec::new();
        encode::write_select_db(&mut head, db);
        encode::write_resize_db(&mut head, keys, expires);
        wm.lock().put(sink, &head);
        if workers == 1 {
            walk_shards(srv, sink, &wm, &opts, cut, db, 0..nshards, false);
        } else {
            let (wm, opts) = (&wm, &opts);
            std::thread::scope(|sc| {
                for k in 1..workers {
                    let mine = (k..nshards).step_by(workers);
                    sc.spawn(move || walk_shards(srv, sink, wm, opts, cut, db, mine, true));
                }
                walk_shards(
                    srv,
                    sink,
                    wm,
                    opts,
                    cut,
                    db,
                    (0..nshards).step_by(workers),
                    true,
                );
            });
        }
    }
    let mut w = wm.into_inner();
    let mut batch = Vec::with_capacity(64 << 10);
    // Tables emptied during the walk (no hook is left, so no more arrive).
    let handed = std::mem::take(&mut sink.state.lock().handed);
    for t in handed {
        let discard = sink.discard.load(Relaxed) || w.err.is_some();
        if !discard {
            batch.clear();
            encode::write_select_db(&mut batch, t.db);
            t.for_each_unsaved(|k, e, exp| {
                progress.keys_processed.fetch_add(1, Relaxed);
                let access = sink.access.record(e);
                encode::write_entry(&mut batch, k, &e.value, exp, access, &opts.write);
                if batch.len() >= 1 << 20 {
                    w.put(sink, &batch);
                    batch.clear();
                }
            });
            w.put(sink, &batch);
        }
        drop(t);
    }
    w.drain_cow(sink);
    if sink.discard.load(Relaxed) {
        return Err(SnapError::Aborted);
    }
    if let Some(e) = w.err {
        return Err(SnapError::Io(e));
    }
    match w.file {
        Some(f) => f.finish().map_err(SnapError::Io),
        None => Err(SnapError::Aborted),
    }
}

/// Serialises database `db` of `shards`, a batch per shard lock, writing each
/// batch and whatever the write path saved meanwhile. `parallel`: other
/// workers write between these batches, so each batch selects its database.
#[allow(clippy::too_many_arguments)]
fn walk_shards<W: Write>(
    srv: &Server,
    sink: &Sink,
    wm: &Mutex<Writer<W>>,
    opts: &Options,
    cut: &Cut,
    db: usize,
    shards: impl Iterator<Item = usize>,
    parallel: bool,
) {
    let progress = &sink.progress;
    // `rdb-key-save-delay` (microseconds per key, a testing aid as in Redis):
    // slept after each batch, with no shard locked.
    let key_delay = srv.config.read().int("rdb-key-save-delay").max(0) as u64;
    let mut batch = Vec::with_capacity(64 << 10);
    let mut need_select = parallel;
    for shard in shards {
        loop {
            batch.clear();
            if need_select {
                encode::write_select_db(&mut batch, db);
            }
            let discard = sink.discard.load(Relaxed) || wm.lock().err.is_some();
            let mut n = 0u64;
            let step = srv.ks.with_shard(shard, |s| {
                let Some(d) = s.dbs.iter_mut().find(|d| d.snapshot_db(cut.id) == Some(db)) else {
                    return Step::NotMine;
                };
                let mut save = |k: &[u8], e: &Entry, exp: Option<i64>| {
                    n += 1;
                    if !discard {
                        let access = sink.access.record(e);
                        encode::write_entry(&mut batch, k, &e.value, exp, access, &opts.write);
                    }
                };
                d.snapshot_step(cut.id, BATCH, &mut save)
            });
            progress.keys_processed.fetch_add(n, Relaxed);
            if key_delay > 0 && n > 0 && !discard {
                std::thread::sleep(std::time::Duration::from_micros(key_delay * n));
            }
            {
                let mut w = wm.lock();
                if n > 0 {
                    w.put(sink, &batch);
                    need_select = parallel;
                }
                if w.drain_cow(sink) {
                    need_select = true;
                }
            }
            if step != Step::More {
                break;
            }
        }
    }
}

/// What every RDB image of Shoal's starts with after the header: the aux fields
/// Redis 7.0.15 writes (redis-ver, redis-bits, ctime, used-mem, then with a
/// replication history repl-stream-db, repl-id, repl-offset, then aof-base),
/// then a FUNCTION2 record per library.
pub fn write_head<C: AsRef<[u8]>>(
    head: &mut Vec<u8>,
    compress: bool,
    used_mem: u64,
    repl: Option<&crate::repl::SaveInfo>,
    aof_base: bool,
    functions: &[C],
) {
    let aux = |head: &mut Vec<u8>, k: &[u8], v: &[u8]| encode::write_aux(head, k, v, compress);
    aux(head, b"redis-ver", crate::REDIS_VERSION.as_bytes());
    aux(head, b"redis-bits", b"64");
    aux(
        head,
        b"ctime",
        (crate::server::unix_ms() / 1000).to_string().as_bytes(),
    );
    aux(head, b"used-mem", used_mem.to_string().as_bytes());
    if let Some(r) = repl {
        aux(head, b"repl-stream-db", r.stream_db.to_string().as_bytes());
        aux(head, b"repl-id", r.replid.as_bytes());
        aux(head, b"repl-offset", r.offset.to_string().as_bytes());
    }
    aux(head, b"aof-base", if aof_base { b"1" } else { b"0" });
    for code in functions {
        encode::write_function(head, code.as_ref(), compress);
    }
}

/// Gives the calling thread a nice value of 10 (Linux schedules threads one by
/// one, so this affects only the snapshot thread): under CPU contention the
/// scheduler then runs client-serving threads first instead of slicing the CPU
/// evenly, which would make clients wait for the walker's time slices.
fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid takes no arguments; setpriority on our own thread id only
    // changes this thread's nice value, and a failure is harmless (ignored).
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// Walks every table still holding a hook of snapshot `id`, only marking
/// entries saved, and frees the handed-over tables (after a failed walk).
fn finish_pass(srv: &Server, sink: &Sink, id: u64) {
    for shard in 0..srv.ks.num_shards() {
        loop {
            let more = srv.ks.with_shard(shard, |s| {
                let Some(d) = s.dbs.iter_mut().find(|d| d.snapshot_db(id).is_some()) else {
                    return false;
                };
                d.snapshot_step(id, BATCH, &mut |_, _, _| {});
                true
            });
            if !more {
                break;
            }
        }
    }
    let handed = std::mem::take(&mut sink.state.lock().handed);
    shoal_keyspace::lazyfree::free_later(handed);
    sink.state.lock().buf = Vec::new();
}

/// The file being written and the first error (after which nothing is written).
struct Writer<W: Write> {
    file: Option<FileWriter<W>>,
    err: Option<std::io::Error>,
}

impl<W: Write> Writer<W> {
    fn put(&mut self, sink: &Sink, bytes: &[u8]) {
        if self.err.is_some() || sink.discard.load(Relaxed) || bytes.is_empty() {
            return;
        }
        if let Some(f) = &mut self.file {
            if let Err(e) = f.raw(bytes) {
                self.err = Some(e);
            }
        }
    }

    /// Writes what the write path saved; returns whether anything was written
    /// (it starts with its own SELECTDB, so the walker must select again).
    fn drain_cow(&mut self, sink: &Sink) -> bool {
        let bytes = {
            let mut st = sink.state.lock();
            if st.buf.is_empty() {
                return false;
            }
            st.last_db = None;
            std::mem::take(&mut st.buf)
        };
        sink.progress.cow_bytes.store(0, Relaxed);
        self.put(sink, &bytes);
        true
    }
}
