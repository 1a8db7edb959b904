//! The append-only file of a running server (Redis 7's multi-part AOF).
//!
//! Owns: the AOF state of the server ([`Aof`], a field of `Server`), the
//! propagation [`Sink`] that appends every unit to the AOF buffer, the writer and
//! fsync threads ([`writer`]), start-up ([`startup`]: load an existing directory,
//! upgrade a Redis 6 style single file into one ([`upgrade`]) or create one;
//! [`load`], [`base`]), the rewrite ([`rewrite`]: BGREWRITEAOF,
//! automatic rewrites, turning the AOF on at run time) and the INFO fields.
//!
//! The path of a write with the AOF on: the command's unit is encoded once by
//! `propagate` and fed here under the stream lock, so the buffer holds units in
//! stream order; the feeding thread remembers the offset its unit ends at
//! ([`take_fed`]). The writer thread writes whatever the buffer holds to the
//! current incr file (and with `appendfsync always` fsyncs it: one fsync covers
//! every unit written before it, a group commit). A connection does not send the
//! replies of a batch before the AOF has reached the last offset the batch fed
//! ([`Aof::wait_durable`]): on disk (`always`) or in the kernel (`everysec`, `no`:
//! as Redis writes the AOF before replying, a crash of the process loses no
//! acknowledged write; a crash of the machine loses what was not yet fsynced).
//! Replies that come from elsewhere (a script run on a blocking thread, a blocked
//! client served by another's write) wait for everything fed so far.
//!
//! Invariants: `synced <= written <= fed` (byte offsets in the stream since
//! start-up); the buffer holds exactly the bytes `written..fed`.

pub mod base;
pub mod cmds;
pub mod load;
pub mod rewrite;
pub mod upgrade;
pub mod writer;

use crate::propagate::{target, Propagation, Sink};
use crate::server::Server;
use parking_lot::{Condvar, Mutex};
use shoal_aof::Manifest;
use std::cell::Cell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

/// `appendfsync` values.
pub mod fsync {
    pub const NO: u8 = 0;
    pub const EVERYSEC: u8 = 1;
    pub const ALWAYS: u8 = 2;
}

thread_local! {
    /// The stream offset the last unit fed on this thread ends at.
    static FED: Cell<u64> = const { Cell::new(0) };
}

/// Takes (and clears) the offset the last unit fed on this thread ends at; 0 when
/// none was fed since the last call.
#[inline]
pub fn take_fed() -> u64 {
    FED.with(|f| f.replace(0))
}

/// Bytes waiting for the writer, and what the writer must do at a cut.
#[derive(Default)]
pub(crate) struct Queue {
    pub buf: Vec<u8>,
    /// The unix second of the last `#TS:` annotation (aof-timestamp-enabled).
    pub last_ts: i64,
    /// At a rewrite's cut: the bytes of `buf` before it go to the current incr
    /// file, then the writer switches to this one.
    pub switch: Option<(usize, File)>,
    /// The writer must stop once the buffer is written.
    pub stop: bool,
}

/// The files of the AOF directory in use.
pub struct Files {
    pub dir: PathBuf,
    pub appendfilename: String,
    pub manifest: Manifest,
}

/// The AOF state of the server.
#[derive(Default)]
pub struct Aof {
    /// The AOF is on (its sink is registered and a writer runs).
    pub enabled: AtomicBool,
    pub policy: AtomicU8,
    pub timestamps: AtomicBool,
    pub(crate) q: Mutex<Queue>,
    pub(crate) q_cv: Condvar,
    /// The incr file being written, shared by the writer thread and connections
    /// writing their own units (see [`Aof::write_inline`]). Lock order: `wfile`
    /// before `q`.
    pub(crate) wfile: Mutex<Option<writer::WFile>>,
    pub fed: AtomicU64,
    pub written: AtomicU64,
    pub synced: AtomicU64,
    /// Bumped whenever `written` or `synced` moves (or the AOF stops).
    pub(crate) progress: ProgressTx,
    pub files: Mutex<Option<Files>>,
    pub last_write_ok: AtomicBool,
    /// Size of the incr files and the base (INFO aof_current_size, aof_base_size).
    pub current_size: AtomicU64,
    pub base_size: AtomicU64,
    /// Rewrites started (INFO aof_rewrites).
    pub rewrites: AtomicU64,
    /// Rewrites ended, whatever the outcome (aof_last_rewrite_time_sec is -1
    /// before the first).
    pub rewrites_ended: AtomicU64,
    pub rewrite_in_progress: AtomicBool,
    /// A rewrite waits for another snapshot to end (the persist cron starts it).
    pub rewrite_scheduled: AtomicBool,
    /// `CONFIG SET appendonly yes` at run time: the AOF counts as on (INFO
    /// aof_enabled) but is only used once a rewrite has created it (Redis's
    /// AOF_WAIT_REWRITE).
    pub wait_rewrite: AtomicBool,
    pub rewrite_started_ms: AtomicI64,
    pub last_rewrite_secs: AtomicI64,
    pub last_rewrite_ok: AtomicBool,
    pub rewrite_failures: AtomicU64,
    /// When the last rewrite failed (the retry limit after repeated failures).
    pub last_rewrite_fail_ms: AtomicI64,
    /// The size of the AOF after the last rewrite (or at start-up): automatic
    /// rewrites compare the current size with it.
    pub rewrite_base_size: AtomicU64,
    /// The running rewrite, for abort.
    pub(crate) rewrite: Mutex<Option<Arc<crate::persist::snapshot::SnapshotHandle>>>,
    pub(crate) threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    pub(crate) sink: Mutex<Option<Arc<dyn Sink>>>,
}

/// A `tokio::sync::watch` sender that exists from construction.
pub(crate) struct ProgressTx(pub tokio::sync::watch::Sender<u64>);

impl Default for ProgressTx {
    fn default() -> Self {
        ProgressTx(tokio::sync::watch::channel(0).0)
    }
}

impl Aof {
    /// Bytes fed and not yet written (INFO aof_buffer_length).
    pub fn buffer_len(&self) -> u64 {
        self.fed
            .load(Ordering::Acquire)
            .saturating_sub(self.written.load(Ordering::Acquire))
    }

    pub(crate) fn bump(&self) {
        self.progress.0.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Waits until the AOF holds the stream up to `need` as the fsync policy
    /// requires before a reply: fsynced (`always`) or written (`everysec`, `no`).
    pub async fn wait_durable(&self, need: u64) {
        if need == 0 || self.reached(need) {
            return;
        }
        // Subscribed before trying, so that progress made meanwhile wakes us.
        let mut rx = self.progress.0.subscribe();
        loop {
            if self.reached(need) {
                return;
            }
            // Units fed while another writer was busy: this connection writes them.
            if self.policy.load(Ordering::Relaxed) != fsync::ALWAYS && self.write_inline() {
                continue;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// With `everysec` or `no`, a connection waiting for its units writes the
    /// buffer to the file itself (one write(2) for every unit buffered, as Redis
    /// writes its AOF before replying) instead of waiting for the writer thread:
    /// no thread hand-off on the reply path. Not with `always`: an fsync on a
    /// worker thread stops every connection of that thread from feeding units, so
    /// each fsync would cover only a few (measured: 6k SET/s against 45k with the
    /// writer thread, which fsyncs while the workers go on feeding). Returns
    /// whether it wrote; it does not when the file is busy (the writer or another
    /// connection is writing: their progress will cover this unit), at a rewrite's
    /// cut, after a write error (the writer thread retries), or when the AOF stops.
    fn write_inline(&self) -> bool {
        if self.policy.load(Ordering::Relaxed) == fsync::ALWAYS {
            return false;
        }
        let Some(mut wf) = self.wfile.try_lock() else {
            return false;
        };
        let Some(wf) = wf.as_mut() else {
            return false;
        };
        if !self.last_write_ok.load(Ordering::Relaxed) {
            return false;
        }
        let (data, upto) = {
            let mut q = self.q.lock();
            if q.switch.is_some() || q.stop || q.buf.is_empty() {
                return false;
            }
            (std::mem::take(&mut q.buf), self.fed.load(Ordering::Acquire))
        };
        match wf.write(&data) {
            Ok(()) => {
                self.current_size
                    .fetch_add(data.len() as u64, Ordering::Relaxed);
                self.written.fetch_max(upto, Ordering::AcqRel);
                self.bump();
                true
            }
            Err(e) => {
                crate::warning!("Error writing to the AOF file: {e}");
                self.last_write_ok.store(false, Ordering::Relaxed);
                // Back in front of what arrived since: the writer thread retries.
                let mut q = self.q.lock();
                q.buf.splice(0..0, data);
                drop(q);
                self.q_cv.notify_one();
                false
            }
        }
    }

    fn reached(&self, need: u64) -> bool {
        if !self.enabled.load(Ordering::Acquire) {
            return true;
        }
        let done = if self.policy.load(Ordering::Relaxed) == fsync::ALWAYS {
            &self.synced
        } else {
            &self.written
        };
        done.load(Ordering::Acquire) >= need
    }

    /// Everything fed so far (a reply produced elsewhere waits for it).
    pub fn fed_now(&self) -> u64 {
        if self.enabled.load(Ordering::Relaxed) {
            self.fed.load(Ordering::Acquire)
        } else {
            0
        }
    }

    /// Appends one unit (called by the sink, under the stream lock).
    fn append(&self, bytes: &[u8]) {
        let mut q = self.q.lock();
        if self.timestamps.load(Ordering::Relaxed) {
            let now = crate::server::unix_ms() / 1000;
            if now > q.last_ts {
                q.last_ts = now;
                let ann = format!("#TS:{now}\r\n");
                q.buf.extend_from_slice(ann.as_bytes());
                self.fed.fetch_add(ann.len() as u64, Ordering::AcqRel);
            }
        }
        q.buf.extend_from_slice(bytes);
        let end = self.fed.fetch_add(bytes.len() as u64, Ordering::AcqRel) + bytes.len() as u64;
        drop(q);
        FED.with(|f| f.set(end));
        // With `everysec`/`no` the connection waiting for this unit writes it
        // (write_inline) and the writer thread only sweeps up, on its short timer;
        // with `always` the writer thread writes and fsyncs at once.
        if self.policy.load(Ordering::Relaxed) == fsync::ALWAYS {
            self.q_cv.notify_one();
        }
    }
}

/// The propagation sink of the AOF.
struct AofSink(Arc<Server>);

impl Sink for AofSink {
    fn target(&self) -> u8 {
        target::AOF
    }

    fn feed(&self, bytes: &[u8]) {
        self.0.aof.append(bytes);
    }
}

/// The AOF directives, read once.
pub struct Settings {
    pub appendonly: bool,
    pub dir: PathBuf,
    pub appendfilename: String,
    pub policy: u8,
    pub preamble: bool,
    pub load_truncated: bool,
    pub timestamps: bool,
}

impl Settings {
    pub fn read(srv: &Server) -> Settings {
        let c = srv.config.read();
        Settings {
            appendonly: c.bool("appendonly"),
            dir: PathBuf::from(c.string("appenddirname")),
            appendfilename: c.string("appendfilename"),
            policy: parse_policy(&c.string("appendfsync")),
            preamble: c.bool("aof-use-rdb-preamble"),
            load_truncated: c.bool("aof-load-truncated"),
            timestamps: c.bool("aof-timestamp-enabled"),
        }
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.dir
            .join(shoal_aof::manifest_file_name(&self.appendfilename))
    }
}

fn parse_policy(s: &str) -> u8 {
    match s {
        "always" => fsync::ALWAYS,
        "no" => fsync::NO,
        _ => fsync::EVERYSEC,
    }
}

/// Whether start-up will load the AOF (appendonly yes and a manifest exists, or
/// an old-style file to upgrade): then the RDB file must not be loaded, as Redis
/// prefers the AOF.
pub fn will_load(srv: &Server) -> bool {
    let s = Settings::read(srv);
    s.appendonly && (s.manifest_path().exists() || Path::new(&s.appendfilename).is_file())
}

/// Start-up with `appendonly yes`: loads the AOF directory if its manifest exists,
/// otherwise creates one whose base holds the dataset loaded so far (from the RDB
/// file, or empty); then opens the last incr file and starts writing. Returns the
/// exit code on failure (the reason is logged).
pub fn startup(srv: &Arc<Server>) -> Result<(), i32> {
    let s = Settings::read(srv);
    if !s.appendonly {
        return Ok(());
    }
    let manifest_path = s.manifest_path();
    let mut on_disk = if manifest_path.exists() {
        let bytes = std::fs::read(&manifest_path).map_err(|e| {
            crate::warning!(
                "Can't open the AOF manifest file {}: {e}",
                manifest_path.display()
            );
            1
        })?;
        Some(Manifest::parse(&bytes).map_err(|e| {
            crate::warning!(
                "Invalid AOF manifest file format in {}: {e}",
                manifest_path.display()
            );
            1
        })?)
    } else {
        None
    };
    // A Redis 6 style `dir/<appendfilename>` becomes the directory's base.
    if upgrade::needed(&s, on_disk.as_ref()) {
        on_disk = Some(upgrade::run(&s)?);
    }
    let fresh = on_disk.is_none();
    let (manifest, incr) = if let Some(mut m) = on_disk {
        load::load_all(srv, &s, &m)?;
        let incr = match m.incrs.last() {
            Some(last) => {
                crate::notice!("Opening AOF incr file {} on server start", last.name);
                last.name.clone()
            }
            None => {
                let info = m.add_incr(&s.appendfilename);
                crate::notice!("Creating AOF incr file {} on server start", info.name);
                write_manifest(&s.dir, &s.appendfilename, &m).map_err(|e| {
                    crate::warning!("Can't persist the AOF manifest: {e}");
                    1
                })?;
                info.name
            }
        };
        (m, incr)
    } else {
        create_dir(srv, &s)?
    };
    open_and_start(srv, &s, manifest, &incr, fresh).map_err(|e| {
        crate::warning!("Can't open the append-only file {incr}: {e}");
        1
    })
}

/// A new AOF directory: base (from the keyspace), first incr, manifest.
fn create_dir(srv: &Arc<Server>, s: &Settings) -> Result<(Manifest, String), i32> {
    let fail = |what: &str, e: std::io::Error| {
        crate::warning!("{what}: {e}");
        1
    };
    std::fs::create_dir_all(&s.dir).map_err(|e| {
        fail(
            &format!("Can't create AOF directory {}", s.dir.display()),
            e,
        )
    })?;
    let mut m = Manifest::default();
    let base = m.install_base(&s.appendfilename, s.preamble, 0);
    m.history.clear();
    base::write_base_file(srv, &s.dir, &base.name, s.preamble)
        .map_err(|e| fail("Can't write the AOF base file", e))?;
    crate::notice!("Creating AOF base file {} on server start", base.name);
    let incr = m.add_incr(&s.appendfilename);
    File::create(s.dir.join(&incr.name)).map_err(|e| fail("Can't create the AOF incr file", e))?;
    crate::notice!("Creating AOF incr file {} on server start", incr.name);
    write_manifest(&s.dir, &s.appendfilename, &m)
        .map_err(|e| fail("Can't persist the AOF manifest", e))?;
    Ok((m, incr.name))
}

/// Writes the manifest atomically: a temporary file, fsync, rename, fsync of the
/// directory.
pub fn write_manifest(dir: &Path, appendfilename: &str, m: &Manifest) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(shoal_aof::temp_manifest_file_name(appendfilename));
    let mut f = File::create(&tmp)?;
    f.write_all(&m.to_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(
        &tmp,
        dir.join(shoal_aof::manifest_file_name(appendfilename)),
    )?;
    sync_dir(dir);
    Ok(())
}

/// Makes a rename or creation in `dir` durable (best effort: not every file
/// system supports it).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Opens `incr` for appending, registers the sink and starts the threads.
fn open_and_start(
    srv: &Arc<Server>,
    s: &Settings,
    manifest: Manifest,
    incr: &str,
    fresh: bool,
) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(s.dir.join(incr))?;
    let aof = &srv.aof;
    // As Redis: a directory created at start-up counts from zero (its base is not
    // counted until a rewrite); a loaded one counts every file.
    let mut size = 0;
    if !fresh {
        for f in manifest.load_order() {
            size += std::fs::metadata(s.dir.join(&f.name)).map_or(0, |m| m.len());
        }
        if let Some(b) = &manifest.base {
            let bs = std::fs::metadata(s.dir.join(&b.name)).map_or(0, |m| m.len());
            aof.base_size.store(bs, Ordering::Relaxed);
        }
    }
    aof.current_size.store(size, Ordering::Relaxed);
    aof.rewrite_base_size.store(size, Ordering::Relaxed);
    *aof.files.lock() = Some(Files {
        dir: s.dir.clone(),
        appendfilename: s.appendfilename.clone(),
        manifest,
    });
    let sink = start_writer(srv, s, file)?;
    Propagation::add_sink(srv, sink.clone());
    *aof.sink.lock() = Some(sink);
    Ok(())
}

/// Starts the writer threads on `file` and returns the sink to register: the
/// caller registers it (outside any command, or inside its own exclusive section).
pub(crate) fn start_writer(
    srv: &Arc<Server>,
    s: &Settings,
    file: File,
) -> std::io::Result<Arc<dyn Sink>> {
    let aof = &srv.aof;
    aof.policy.store(s.policy, Ordering::Relaxed);
    aof.timestamps.store(s.timestamps, Ordering::Relaxed);
    aof.last_write_ok.store(true, Ordering::Relaxed);
    aof.last_rewrite_ok.store(true, Ordering::Relaxed);
    {
        let mut q = aof.q.lock();
        q.stop = false;
        q.buf.clear();
    }
    let start = aof.fed.load(Ordering::Acquire);
    aof.written.store(start, Ordering::Release);
    aof.synced.store(start, Ordering::Release);
    writer::spawn(srv.clone(), file)?;
    aof.enabled.store(true, Ordering::Release);
    // The first unit after this is preceded by SELECT: a new file starts in db 0.
    srv.propagation.reset_selected_db(target::AOF);
    Ok(Arc::new(AofSink(srv.clone())))
}

/// Stops the AOF: no more units, the buffer written and fsynced, threads joined.
/// Must be called outside any command (it enters an exclusive section).
pub fn stop(srv: &Arc<Server>) {
    rewrite::kill(srv);
    let sink = srv.aof.sink.lock().take();
    if let Some(sink) = sink {
        Propagation::remove_sink(srv, &sink);
    }
    shutdown_threads(srv);
    srv.aof.enabled.store(false, Ordering::Release);
    srv.aof.bump();
}

/// Writes what is buffered, fsyncs and stops the threads (shutdown).
pub fn shutdown_threads(srv: &Server) {
    {
        let mut q = srv.aof.q.lock();
        q.stop = true;
    }
    srv.aof.q_cv.notify_all();
    let threads = std::mem::take(&mut *srv.aof.threads.lock());
    for t in threads {
        let _ = t.join();
    }
}

/// CONFIG SET of an AOF directive: applies it to the running server. Runs outside
/// the command (on a blocking thread) because switching the AOF on or off enters
/// an exclusive section.
pub fn config_changed(srv: &Arc<Server>, name: &str) {
    match name {
        "appendfsync" => {
            let p = parse_policy(&srv.config.read().string("appendfsync"));
            srv.aof.policy.store(p, Ordering::Relaxed);
            srv.aof.bump();
        }
        "aof-timestamp-enabled" => {
            let t = srv.config.read().bool("aof-timestamp-enabled");
            srv.aof.timestamps.store(t, Ordering::Relaxed);
        }
        "appendonly" => {
            let on = srv.config.read().bool("appendonly");
            let a = &srv.aof;
            let mut owned = false;
            if on && !a.enabled.load(Ordering::Acquire) && !a.wait_rewrite.load(Ordering::Acquire) {
                // As Redis: the AOF is created by a rewrite and used once it ends;
                // INFO shows both at once.
                a.wait_rewrite.store(true, Ordering::Release);
                owned = !a.rewrite_in_progress.swap(true, Ordering::AcqRel);
                if owned {
                    a.rewrite_started_ms
                        .store(crate::server::unix_ms(), Ordering::Relaxed);
                }
            }
            let srv = srv.clone();
            std::thread::spawn(move || reconcile(&srv, owned));
        }
        _ => {}
    }
}

/// Serialises turning the AOF on and off (CONFIG SET, scheduled retries).
pub(crate) static TOGGLE: Mutex<()> = Mutex::new(());

/// Brings the AOF in line with the `appendonly` directive as it is now (so
/// that of quick CONFIG SETs the last one wins). `owned`: the caller set
/// `rewrite_in_progress` for the rewrite that turns the AOF on.
fn reconcile(srv: &Arc<Server>, owned: bool) {
    let _g = TOGGLE.lock();
    let a = &srv.aof;
    if srv.config.read().bool("appendonly") {
        if !a.enabled.load(Ordering::Acquire) {
            a.wait_rewrite.store(true, Ordering::Release);
        }
        rewrite::enable(srv, owned);
        return;
    }
    if owned {
        a.rewrite_in_progress.store(false, Ordering::Release);
    }
    let waiting = a.wait_rewrite.swap(false, Ordering::AcqRel);
    let was = a.enabled.load(Ordering::Acquire) || waiting;
    a.rewrite_scheduled.store(false, Ordering::Relaxed);
    if was {
        stop(srv);
    }
}

/// INFO fields: name, value.
pub type Fields = Vec<(&'static str, String)>;

/// The `aof_*` fields of INFO persistence, as Redis 7.0.15 prints them: the first
/// group always, the second (from `aof_current_size`) only with the AOF on.
pub fn info_fields(srv: &Server) -> (Fields, Fields) {
    let a = &srv.aof;
    let on = a.enabled.load(Ordering::Relaxed) || a.wait_rewrite.load(Ordering::Relaxed);
    let in_progress = a.rewrite_in_progress.load(Ordering::Relaxed);
    let current_secs = if in_progress {
        (crate::server::unix_ms() - a.rewrite_started_ms.load(Ordering::Relaxed)) / 1000
    } else {
        -1
    };
    let rewrites = a.rewrites.load(Ordering::Relaxed);
    let last_secs = if a.rewrites_ended.load(Ordering::Relaxed) == 0 {
        -1
    } else {
        a.last_rewrite_secs.load(Ordering::Relaxed)
    };
    let ok = |b: bool| if b { "ok" } else { "err" }.to_string();
    let first = vec![
        ("aof_enabled", (on as u8).to_string()),
        ("aof_rewrite_in_progress", (in_progress as u8).to_string()),
        (
            "aof_rewrite_scheduled",
            (a.rewrite_scheduled.load(Ordering::Relaxed) as u8).to_string(),
        ),
        ("aof_last_rewrite_time_sec", last_secs.to_string()),
        ("aof_current_rewrite_time_sec", current_secs.to_string()),
        (
            "aof_last_bgrewrite_status",
            ok(rewrites == 0 || a.last_rewrite_ok.load(Ordering::Relaxed)),
        ),
        ("aof_rewrites", rewrites.to_string()),
        (
            "aof_rewrites_consecutive_failures",
            a.rewrite_failures.load(Ordering::Relaxed).to_string(),
        ),
        (
            "aof_last_write_status",
            ok(!on || a.last_write_ok.load(Ordering::Relaxed)),
        ),
        ("aof_last_cow_size", "0".to_string()),
    ];
    let mut second = Vec::new();
    if on {
        let pending_fsync = a.written.load(Ordering::Relaxed) > a.synced.load(Ordering::Relaxed)
            && a.policy.load(Ordering::Relaxed) == fsync::EVERYSEC;
        second = vec![
            (
                "aof_current_size",
                a.current_size.load(Ordering::Relaxed).to_string(),
            ),
            (
                "aof_base_size",
                a.base_size.load(Ordering::Relaxed).to_string(),
            ),
            ("aof_pending_rewrite", "0".to_string()),
            ("aof_buffer_length", a.buffer_len().to_string()),
            ("aof_pending_bio_fsync", (pending_fsync as u8).to_string()),
            ("aof_delayed_fsync", "0".to_string()),
        ];
    }
    (first, second)
}
