//! The AOF rewrite: BGREWRITEAOF, the automatic rewrite, and `CONFIG SET
//! appendonly yes` at run time (which creates the AOF by a rewrite).
//!
//! A rewrite is a snapshot ([`crate::persist::snapshot`]) with the `aof-base`
//! aux field, written to `temp-rewriteaof-bg-<pid>.aof` in the AOF directory:
//!
//! 1. Before the cut, with the AOF on: the next incr file is created and the
//!    manifest listing it is persisted (so a crash from here on loads the old base,
//!    the old incrs and the new one, in that order).
//! 2. At the cut (every shard locked, no unit in flight), the writer is told to
//!    switch to the new incr file at the current end of its buffer, and the AOF
//!    stream forgets its selected database: every unit before the cut is in the
//!    old incr files and in the base, every unit after it only in the new incr
//!    file, which starts with a SELECT.
//! 3. At the end (walker thread): the temp file is fsynced and renamed to the new
//!    base `<appendfilename>.<seq>.base.rdb`; the manifest gets the new base, the
//!    old base and the incrs up to the cut as history (`type h`) and is persisted;
//!    the history files are deleted and the manifest persisted again without them.
//!
//! Invariant: whatever fails, the manifest on disk lists a complete dataset: the
//! new manifest is installed by one rename, after the base it names is in place,
//! and the files it drops are deleted only afterwards. A failed rewrite leaves the
//! old manifest (with the new incr file of step 1) and deletes only its temp file.
//!
//! `CONFIG SET appendonly yes` (Redis's AOF_WAIT_REWRITE): in one exclusive section
//! (no unit in flight) the writer starts on `temp-<appendfilename>.incr` and the
//! snapshot's cut is taken; at the end the base and that file are renamed into
//! the directory and the AOF is on. If that rewrite fails, the writer is stopped,
//! the temp incr deleted (its units are in the dataset, so in the next base) and
//! the rewrite scheduled again.
//!
//! With the AOF off, BGREWRITEAOF writes a new base and a manifest of only that
//! base, as Redis does.
//!
//! `aof-use-rdb-preamble` (read when the rewrite starts) chooses the base's
//! form. With `yes` the snapshot's RDB image is the base, `.base.rdb`. With `no`
//! the finished image is converted into commands ([`super::cmds`]) in
//! `temp-rewriteaof-<pid>.aof`, which then replaces the image under the temp
//! name, and the base is `.base.aof`, as Redis names it. The conversion reads the
//! image back rather than walking the keyspace a second way, so the snapshot stays
//! the one consistent view of the dataset at the cut.

use super::{write_manifest, Files, Settings};
use crate::persist::snapshot::{self, SnapError, StartError};
use crate::persist::{io_text, write_options};
use crate::propagate::target;
use crate::server::{unix_ms, Server};
use crate::{notice, warning};
use shoal_aof::Manifest;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::Arc;
use std::time::Duration;

/// The answer to BGREWRITEAOF.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Started,
    Scheduled,
    InProgress,
    Failed,
}

/// Consecutive failures after which automatic and scheduled rewrites wait
/// (Redis: 1 minute, doubling up to an hour).
const LIMIT_FAILURES: u64 = 3;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// The AOF is on: switch the writer to a new incr file at the cut.
    On,
    /// The AOF is off: only a new base.
    Off,
    /// CONFIG SET appendonly yes: the AOF is created by this rewrite.
    Enable,
}

/// What the end of a rewrite needs.
struct Job {
    mode: Mode,
    dir: PathBuf,
    appendfilename: String,
    temp_name: String,
    /// The manifest to build on (the live one is used when the AOF is on).
    manifest: Manifest,
    /// The incr files up to this sequence number are in the base.
    last_incr_seq: u64,
    /// Enable: the temporary incr file the writer appends to.
    temp_incr: Option<String>,
    /// `aof-use-rdb-preamble`: the base is the RDB image, else commands.
    preamble: bool,
}

#[derive(Debug)]
enum StartFail {
    Busy,
    Failed,
}

/// BGREWRITEAOF. The caller may lock every shard (a command).
pub fn bgrewriteaof(srv: &Arc<Server>, in_exec: bool) -> Reply {
    let a = &srv.aof;
    if a.rewrite_in_progress.load(Acquire) {
        return Reply::InProgress;
    }
    let waiting = a.wait_rewrite.load(Acquire) && !a.enabled.load(Acquire);
    if snapshot::running().is_some() || in_exec || waiting {
        a.rewrite_scheduled.store(true, Relaxed);
        return Reply::Scheduled;
    }
    match start(srv) {
        Ok(()) => Reply::Started,
        Err(StartFail::Busy) => {
            a.rewrite_scheduled.store(true, Relaxed);
            Reply::Scheduled
        }
        Err(StartFail::Failed) => Reply::Failed,
    }
}

/// The manifest in use, else the one on disk, else an empty one.
fn current_manifest(srv: &Server, s: &Settings) -> (PathBuf, String, Manifest) {
    if let Some(f) = &*srv.aof.files.lock() {
        return (f.dir.clone(), f.appendfilename.clone(), f.manifest.clone());
    }
    let path = s.manifest_path();
    let m = match std::fs::read(&path) {
        Ok(bytes) => Manifest::parse(&bytes).unwrap_or_else(|e| {
            warning!(
                "Invalid AOF manifest file format in {}: {e}; the rewrite starts a new one",
                path.display()
            );
            Manifest::default()
        }),
        Err(_) => Manifest::default(),
    };
    (s.dir.clone(), s.appendfilename.clone(), m)
}

fn temp_base_name() -> String {
    format!("temp-rewriteaof-bg-{}.aof", std::process::id())
}

/// Opens the temp base file; on failure the rewrite counts as started and failed,
/// as Redis's child fails after BGREWRITEAOF has replied.
fn open_temp(srv: &Server, dir: &Path, name: &str) -> Option<File> {
    match File::create(dir.join(name)) {
        Ok(f) => Some(f),
        Err(e) => {
            let a = &srv.aof;
            a.rewrites.fetch_add(1, Relaxed);
            notice!("Background append only file rewriting started");
            warning!(
                "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): {}",
                io_text(&e)
            );
            warning!("Background AOF rewrite terminated with error");
            record_end(srv, Some(false));
            None
        }
    }
}

/// Starts a rewrite with the AOF on or off (inside the gate, no shard held).
fn start(srv: &Arc<Server>) -> Result<(), StartFail> {
    let a = &srv.aof;
    if a.rewrite_in_progress.swap(true, AcqRel) {
        return Err(StartFail::Busy);
    }
    let r = launch(srv);
    if r.is_err() {
        a.rewrite_in_progress.store(false, Release);
    }
    r
}

fn launch(srv: &Arc<Server>) -> Result<(), StartFail> {
    let a = &srv.aof;
    let s = Settings::read(srv);
    let on = a.enabled.load(Acquire);
    let (dir, appendfilename, manifest) = current_manifest(srv, &s);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        warning!("Can't create AOF directory {}: {e}", dir.display());
        return Err(StartFail::Failed);
    }
    a.rewrite_started_ms.store(unix_ms(), Relaxed);
    let temp_name = temp_base_name();
    let Some(temp) = open_temp(srv, &dir, &temp_name) else {
        a.rewrite_in_progress.store(false, Release);
        return Ok(());
    };
    let mut last_incr_seq = manifest.curr_incr_seq;
    let mut switch = None;
    if on {
        let mut files = a.files.lock();
        let Some(f) = files.as_mut() else {
            let _ = std::fs::remove_file(dir.join(&temp_name));
            return Err(StartFail::Failed);
        };
        let mut m = f.manifest.clone();
        last_incr_seq = m.curr_incr_seq;
        let info = m.add_incr(&appendfilename);
        let path = dir.join(&info.name);
        let opened = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path);
        let new = match opened.and_then(|n| write_manifest(&dir, &appendfilename, &m).map(|_| n)) {
            Ok(n) => n,
            Err(e) => {
                warning!(
                    "Can't open the append-only file {}: {}",
                    info.name,
                    io_text(&e)
                );
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_file(dir.join(&temp_name));
                return Err(StartFail::Failed);
            }
        };
        f.manifest = m;
        notice!("Creating AOF incr file {} on background rewrite", info.name);
        switch = Some(new);
    }
    let job = Job {
        mode: if on { Mode::On } else { Mode::Off },
        dir,
        appendfilename,
        temp_name,
        manifest,
        last_incr_seq,
        temp_incr: None,
        preamble: s.preamble,
    };
    let on_cut = || {
        if let Some(file) = switch {
            let mut q = a.q.lock();
            let n = q.buf.len();
            q.switch = Some((n, file));
            drop(q);
            a.q_cv.notify_all();
            srv.propagation.reset_selected_db(target::AOF);
        }
    };
    spawn_snapshot(srv, temp, job, on_cut)
}

/// Starts the snapshot of a rewrite (the cut runs `on_cut`).
fn spawn_snapshot(
    srv: &Arc<Server>,
    temp: File,
    job: Job,
    on_cut: impl FnOnce(),
) -> Result<(), StartFail> {
    let a = &srv.aof;
    let opts = snapshot::Options {
        write: write_options(srv),
        aof_base: true,
    };
    let temp_path = job.dir.join(&job.temp_name);
    let out = BufWriter::with_capacity(1 << 20, temp);
    let srv2 = srv.clone();
    // Held until the handle is registered: `finish` (on the walker thread) clears
    // it, and must not run first.
    let mut current = a.rewrite.lock();
    match snapshot::start(srv, out, opts, on_cut, move |res| finish(&srv2, job, res)) {
        Ok(h) => {
            a.rewrites.fetch_add(1, Relaxed);
            *current = Some(Arc::new(h));
            notice!("Background append only file rewriting started");
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp_path);
            match e {
                StartError::Busy => Err(StartFail::Busy),
                StartError::Thread(e) => {
                    warning!("Can't rewrite append only file in background: {e}");
                    Err(StartFail::Failed)
                }
            }
        }
    }
}

/// `CONFIG SET appendonly yes` (and its scheduled retries): runs on a thread of
/// its own, outside any command, because it takes an exclusive section.
/// `owned`: the caller already set `rewrite_in_progress` for this rewrite (so
/// that INFO shows it at once after CONFIG SET, as Redis's does).
pub fn enable(srv: &Arc<Server>, owned: bool) {
    let a = &srv.aof;
    let schedule = || {
        notice!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
        a.rewrite_scheduled.store(true, Relaxed);
    };
    if !a.wait_rewrite.load(Acquire) || a.enabled.load(Acquire) {
        if owned {
            a.rewrite_in_progress.store(false, Release);
        }
        return;
    }
    if owned {
        if snapshot::running().is_some() {
            a.rewrite_in_progress.store(false, Release);
            return schedule();
        }
    } else {
        if a.rewrite_in_progress.load(Acquire) {
            notice!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
            kill(srv);
        }
        if snapshot::running().is_some() || a.rewrite_in_progress.swap(true, AcqRel) {
            return schedule();
        }
    }
    let s = Settings::read(srv);
    let (dir, appendfilename, manifest) = current_manifest(srv, &s);
    let fail = |msg: String| {
        warning!("{msg}");
        record_end(srv, Some(false));
        a.rewrite_scheduled.store(true, Relaxed);
        a.rewrite_in_progress.store(false, Release);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return fail(format!("Can't create AOF directory {}: {e}", dir.display()));
    }
    a.rewrite_started_ms.store(unix_ms(), Relaxed);
    let temp_name = temp_base_name();
    let Some(temp) = open_temp(srv, &dir, &temp_name) else {
        a.rewrite_scheduled.store(true, Relaxed);
        a.rewrite_in_progress.store(false, Release);
        return;
    };
    let temp_incr = format!("temp-{appendfilename}.incr");
    let incr = match File::create(dir.join(&temp_incr)) {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_file(dir.join(&temp_name));
            return fail(format!(
                "Can't open the append-only file {temp_incr}: {}",
                io_text(&e)
            ));
        }
    };
    notice!("Creating AOF incr file {temp_incr} on background rewrite");
    let job = Job {
        mode: Mode::Enable,
        last_incr_seq: manifest.curr_incr_seq,
        dir: dir.clone(),
        appendfilename,
        temp_name: temp_name.clone(),
        manifest,
        temp_incr: Some(temp_incr.clone()),
        preamble: s.preamble,
    };
    // One section: the sink starts receiving units exactly at the cut.
    let r = srv.exclusive(|| {
        if snapshot::running().is_some() {
            return Err(StartFail::Busy);
        }
        let sink = super::start_writer(srv, &s, incr).map_err(|e| {
            warning!("Can't start the AOF writer: {e}");
            StartFail::Failed
        })?;
        srv.propagation.add_sink_in_section(sink.clone());
        *a.sink.lock() = Some(sink);
        spawn_snapshot(srv, temp, job, || {})
    });
    if let Err(e) = r {
        super::stop(srv);
        let _ = std::fs::remove_file(dir.join(&temp_name));
        let _ = std::fs::remove_file(dir.join(&temp_incr));
        match e {
            StartFail::Busy => {
                a.rewrite_in_progress.store(false, Release);
                schedule();
            }
            StartFail::Failed => fail("Can't start the AOF rewrite".into()),
        }
    }
}

/// Aborts a running rewrite and waits for its end.
pub fn kill(srv: &Server) {
    let h = srv.aof.rewrite.lock().clone();
    if let Some(h) = h {
        if !h.is_finished() {
            notice!("Killing running AOF rewrite child");
            h.abort();
        }
        h.wait();
    }
}

/// Records the end of a rewrite: `Some(ok)` for a result, `None` after an abort.
fn record_end(srv: &Server, ok: Option<bool>) {
    let a = &srv.aof;
    let now = unix_ms();
    a.last_rewrite_secs
        .store((now - a.rewrite_started_ms.load(Relaxed)) / 1000, Relaxed);
    a.rewrites_ended.fetch_add(1, Relaxed);
    match ok {
        Some(true) => {
            a.last_rewrite_ok.store(true, Relaxed);
            a.rewrite_failures.store(0, Relaxed);
        }
        Some(false) => {
            a.last_rewrite_ok.store(false, Relaxed);
            let n = a.rewrite_failures.fetch_add(1, Relaxed) + 1;
            a.last_rewrite_fail_ms.store(now, Relaxed);
            if n >= LIMIT_FAILURES {
                warning!(
                    "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
                    limit_minutes(n)
                );
            }
        }
        None => {}
    }
}

fn limit_minutes(failures: u64) -> i64 {
    let exp = failures.saturating_sub(LIMIT_FAILURES).min(6);
    (1i64 << exp).min(60)
}

/// Whether repeated failures hold automatic and scheduled rewrites back.
fn limited(srv: &Server) -> bool {
    let a = &srv.aof;
    let n = a.rewrite_failures.load(Relaxed);
    if n < LIMIT_FAILURES {
        return false;
    }
    unix_ms() - a.last_rewrite_fail_ms.load(Relaxed) < limit_minutes(n) * 60_000
}

/// The end of a rewrite (walker thread).
fn finish(srv: &Arc<Server>, job: Job, res: Result<BufWriter<File>, SnapError>) {
    let a = &srv.aof;
    let ok = match res {
        Err(SnapError::Aborted) => {
            let _ = std::fs::remove_file(job.dir.join(&job.temp_name));
            notice!("Background AOF rewrite terminated by abort");
            None
        }
        Err(SnapError::Io(e)) => {
            let _ = std::fs::remove_file(job.dir.join(&job.temp_name));
            warning!("Error writing the temporary AOF base file: {}", io_text(&e));
            warning!("Background AOF rewrite terminated with error");
            Some(false)
        }
        Ok(w) => Some(install(srv, &job, w).is_ok()),
    };
    record_end(srv, ok);
    *a.rewrite.lock() = None;
    if ok == Some(true) {
        notice!("Background AOF rewrite finished successfully");
    }
    if job.mode == Mode::Enable {
        if ok == Some(true) {
            a.wait_rewrite.store(false, Release);
        } else {
            // The AOF cannot be used: stop its writer (an exclusive section, so
            // on a thread of its own), drop the temp incr and try again later.
            let srv = srv.clone();
            let path = job.temp_incr.map(|t| job.dir.join(t));
            std::thread::spawn(move || {
                let _g = super::TOGGLE.lock();
                super::stop(&srv);
                if let Some(p) = path {
                    let _ = std::fs::remove_file(p);
                }
                let a = &srv.aof;
                if a.wait_rewrite.load(Acquire) {
                    a.rewrite_scheduled.store(true, Relaxed);
                }
                a.rewrite_in_progress.store(false, Release);
            });
            return;
        }
    }
    a.rewrite_in_progress.store(false, Release);
}

/// Waits until the writer has switched to the incr file of the cut (it must
/// not write to a file once that file is history).
fn wait_switch(srv: &Server) {
    for _ in 0..2000 {
        if srv.aof.q.lock().switch.is_none() || !srv.aof.enabled.load(Acquire) {
            return;
        }
        srv.aof.q_cv.notify_all();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Rewrites the RDB image in `dir/temp_name` as commands, in place: the commands
/// go to `temp-rewriteaof-<pid>.aof`, fsynced, then renamed over the image.
fn to_commands(dir: &Path, temp_name: &str) -> std::io::Result<()> {
    use std::io::BufReader;
    let cmd_path = dir.join(format!("temp-rewriteaof-{}.aof", std::process::id()));
    let r = (|| {
        let src = BufReader::with_capacity(1 << 20, File::open(dir.join(temp_name))?);
        let out = BufWriter::with_capacity(1 << 20, File::create(&cmd_path)?);
        let out = super::cmds::rdb_to_commands(src, out)?;
        let f = out.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&cmd_path, dir.join(temp_name))
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&cmd_path);
    }
    r
}

/// Makes the finished temp file the new base (see the module doc, step 3).
fn install(srv: &Arc<Server>, job: &Job, w: BufWriter<File>) -> Result<(), ()> {
    let a = &srv.aof;
    let dir = &job.dir;
    let temp = dir.join(&job.temp_name);
    let synced = w
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all());
    if let Err(e) = synced {
        let _ = std::fs::remove_file(&temp);
        warning!("Error writing the temporary AOF base file: {}", io_text(&e));
        warning!("Background AOF rewrite terminated with error");
        return Err(());
    }
    if !job.preamble {
        if let Err(e) = to_commands(dir, &job.temp_name) {
            let _ = std::fs::remove_file(&temp);
            warning!("Error writing the temporary AOF base file: {}", io_text(&e));
            warning!("Background AOF rewrite terminated with error");
            return Err(());
        }
    }
    notice!(
        "Successfully created the temporary AOF base file {}",
        job.temp_name
    );
    notice!("Background AOF rewrite terminated with success");
    if job.mode == Mode::On {
        wait_switch(srv);
    }
    let app = &job.appendfilename;
    let mut files = a.files.lock();
    let mut m = match (job.mode, files.as_ref()) {
        (Mode::On, Some(f)) => f.manifest.clone(),
        _ => job.manifest.clone(),
    };
    let base = m.install_base(app, job.preamble, job.last_incr_seq);
    let base_path = dir.join(&base.name);
    if let Err(e) = std::fs::rename(&temp, &base_path) {
        warning!(
            "Error trying to rename the temporary AOF base file {} into {}: {}",
            job.temp_name,
            base.name,
            io_text(&e)
        );
        let _ = std::fs::remove_file(&temp);
        return Err(());
    }
    notice!(
        "Successfully renamed the temporary AOF base file {} into {}",
        job.temp_name,
        base.name
    );
    let mut incr_renamed = None;
    if let Some(t) = &job.temp_incr {
        let incr = m.add_incr(app);
        if let Err(e) = std::fs::rename(dir.join(t), dir.join(&incr.name)) {
            warning!(
                "Error trying to rename the temporary AOF incr file {t} into {}: {}",
                incr.name,
                io_text(&e)
            );
            let _ = std::fs::remove_file(&base_path);
            return Err(());
        }
        notice!(
            "Successfully renamed the temporary AOF incr file {t} into {}",
            incr.name
        );
        incr_renamed = Some((dir.join(&incr.name), dir.join(t)));
    }
    if let Err(e) = write_manifest(dir, app, &m) {
        warning!(
            "Can't persist the AOF manifest after a rewrite: {}",
            io_text(&e)
        );
        let _ = std::fs::remove_file(&base_path);
        if let Some((now, back)) = incr_renamed {
            let _ = std::fs::rename(now, back);
        }
        return Err(());
    }
    // Committed: the old files are history, deleted now.
    // In the order Redis 7.0.15 logs them: the incr files, then the old base.
    for h in std::mem::take(&mut m.history).into_iter().rev() {
        notice!("Removing the history file {} in the background", h.name);
        let _ = std::fs::remove_file(dir.join(&h.name));
    }
    if let Err(e) = write_manifest(dir, app, &m) {
        // The manifest with history lines is valid too: not a failure.
        warning!("Can't persist the AOF manifest after removing history files: {e}");
    }
    let size = |name: &str| std::fs::metadata(dir.join(name)).map_or(0, |md| md.len());
    let base_size = size(&base.name);
    let total = base_size + m.incrs.iter().map(|f| size(&f.name)).sum::<u64>();
    a.base_size.store(base_size, Relaxed);
    a.current_size.store(total, Relaxed);
    a.rewrite_base_size.store(total, Relaxed);
    *files = Some(Files {
        dir: dir.clone(),
        appendfilename: app.clone(),
        manifest: m,
    });
    Ok(())
}

/// The persist cron's part (every tick, nothing else running): a scheduled
/// rewrite, else the automatic one. Returns whether a rewrite was started.
pub fn cron(srv: &Arc<Server>) -> bool {
    let a = &srv.aof;
    if snapshot::running().is_some() || a.rewrite_in_progress.load(Acquire) {
        return false;
    }
    if a.rewrite_scheduled.load(Relaxed) {
        if limited(srv) {
            return false;
        }
        if a.wait_rewrite.load(Acquire) && !a.enabled.load(Acquire) {
            a.rewrite_scheduled.store(false, Relaxed);
            let srv = srv.clone();
            std::thread::spawn(move || {
                let _g = super::TOGGLE.lock();
                enable(&srv, false)
            });
            return true;
        }
        let r = snapshot::with_gate(srv, || start(srv));
        if matches!(r, Some(Ok(())) | Some(Err(StartFail::Failed))) {
            a.rewrite_scheduled.store(false, Relaxed);
        }
        return matches!(r, Some(Ok(())));
    }
    if !a.enabled.load(Acquire) || a.wait_rewrite.load(Acquire) {
        return false;
    }
    let (perc, min) = {
        let c = srv.config.read();
        (
            c.int("auto-aof-rewrite-percentage"),
            c.int("auto-aof-rewrite-min-size"),
        )
    };
    let cur = a.current_size.load(Relaxed);
    if perc <= 0 || cur as i64 <= min {
        return false;
    }
    let base = a.rewrite_base_size.load(Relaxed).max(1);
    let growth = (cur as i128 * 100 / base as i128) as i64 - 100;
    if growth < perc || limited(srv) {
        return false;
    }
    notice!("Starting automatic rewriting of AOF on {growth}% growth");
    matches!(snapshot::with_gate(srv, || start(srv)), Some(Ok(())))
}
