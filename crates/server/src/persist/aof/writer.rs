//! The AOF writer and fsync threads.
//!
//! With `everysec` and `no`, connections waiting for their units write the buffer
//! themselves (`Aof::write_inline`) and the writer sweeps up every [`SWEEP`] what
//! nobody waits for (an expiry's DEL). With `always` the writer is woken by each
//! unit. Either way it takes everything buffered, writes it to the current incr
//! file and,
//! with `appendfsync always`, fsyncs before publishing the new offsets: units fed
//! while it was busy are written and fsynced together next round (group commit).
//! With `everysec`, a second thread fsyncs once a second if anything was written
//! since, so a slow disk never holds up the writer. At a rewrite's cut
//! ([`super::Queue::switch`]) the writer finishes the old incr file (written and
//! fsynced) and goes on in the new one.
//!
//! A write error is retried once a second with the bytes kept (the file is cut
//! back to its last good size first, so no half unit remains), and reported in
//! INFO (`aof_last_write_status:err`); with `always` it is fatal, as in Redis:
//! a write that cannot be made durable cannot be acknowledged.

use super::{fsync, Aof};
use crate::server::Server;
use std::fs::File;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The current incr file and its last good length (a failed write is cut back
/// to it, so no half unit stays in the file).
pub struct WFile {
    file: File,
    good_len: u64,
}

impl WFile {
    fn new(file: File) -> WFile {
        let good_len = file.metadata().map_or(0, |m| m.len());
        WFile { file, good_len }
    }

    /// Writes `data` whole, or cuts the file back and returns the error.
    pub fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self.file.write_all(data) {
            Ok(()) => {
                self.good_len += data.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.good_len);
                Err(e)
            }
        }
    }
}

/// How long the writer sleeps between sweeps: the bound on how late a unit nobody
/// waits for (an expiry's DEL) reaches the file.
const SWEEP: Duration = Duration::from_millis(10);

/// Starts the writer (and, for `everysec`, the fsync thread) on `file`.
pub fn spawn(srv: Arc<Server>, file: File) -> std::io::Result<()> {
    let fsync_handle = file.try_clone()?;
    let shared = Arc::new(parking_lot::Mutex::new(fsync_handle));
    *srv.aof.wfile.lock() = Some(WFile::new(file));
    let w_srv = srv.clone();
    let w_shared = shared.clone();
    let writer = std::thread::Builder::new()
        .name("shoal-aof-write".into())
        .spawn(move || run_writer(&w_srv, &w_shared))?;
    let f_srv = srv.clone();
    let syncer = std::thread::Builder::new()
        .name("shoal-aof-fsync".into())
        .spawn(move || run_fsync(&f_srv, &shared))?;
    let mut t = srv.aof.threads.lock();
    t.push(writer);
    t.push(syncer);
    Ok(())
}

fn run_writer(srv: &Server, shared: &parking_lot::Mutex<File>) {
    let aof = &srv.aof;
    loop {
        {
            let mut q = aof.q.lock();
            while q.buf.is_empty() && q.switch.is_none() && !q.stop {
                let wait = if aof.policy.load(Ordering::Relaxed) == fsync::ALWAYS {
                    Duration::from_millis(200)
                } else {
                    SWEEP
                };
                aof.q_cv.wait_for(&mut q, wait);
            }
        }
        // The file first, then the buffer (the lock order of write_inline).
        let mut guard = aof.wfile.lock();
        let Some(wf) = guard.as_mut() else {
            return;
        };
        let (mut data, upto, switch, stop) = {
            let mut q = aof.q.lock();
            let data = std::mem::take(&mut q.buf);
            (
                data,
                aof.fed.load(Ordering::Acquire),
                q.switch.take(),
                q.stop,
            )
        };
        let before_cut = match &switch {
            Some((n, _)) => (*n).min(data.len()),
            None => data.len(),
        };
        let mut start_off = upto - data.len() as u64;
        if switch.is_some() {
            // The old file gets the units before the cut, made durable.
            write_retry(aof, wf, &data[..before_cut]);
            aof.current_size
                .fetch_add(before_cut as u64, Ordering::Relaxed);
            let _ = wf.file.sync_data();
            start_off += before_cut as u64;
            aof.written.fetch_max(start_off, Ordering::AcqRel);
            aof.synced.fetch_max(start_off, Ordering::AcqRel);
            if let Some((_, new)) = switch {
                *wf = WFile::new(new);
                if let Ok(h) = wf.file.try_clone() {
                    *shared.lock() = h;
                }
            }
            data.drain(..before_cut);
        }
        if !data.is_empty() {
            write_retry(aof, wf, &data);
            aof.current_size
                .fetch_add(data.len() as u64, Ordering::Relaxed);
            aof.written.fetch_max(upto, Ordering::AcqRel);
            if aof.policy.load(Ordering::Relaxed) == fsync::ALWAYS {
                if let Err(e) = wf.file.sync_data() {
                    fatal_always(&format!("Can't fsync the AOF file: {e}"));
                }
                aof.synced.fetch_max(upto, Ordering::AcqRel);
            }
            aof.bump();
        }
        if stop {
            crate::notice!("Calling fsync() on the AOF file.");
            let _ = wf.file.sync_data();
            aof.synced
                .fetch_max(aof.written.load(Ordering::Acquire), Ordering::AcqRel);
            *guard = None;
            aof.bump();
            return;
        }
    }
}

fn fatal_always(msg: &str) -> ! {
    crate::warning!("{msg}");
    crate::warning!(
        "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."
    );
    std::process::exit(1);
}

/// Writes `data` completely, retrying once a second on error.
fn write_retry(aof: &Aof, wf: &mut WFile, data: &[u8]) {
    loop {
        match wf.write(data) {
            Ok(()) => {
                if !aof.last_write_ok.swap(true, Ordering::Relaxed) {
                    crate::warning!("AOF write error looks solved, Redis can write again.");
                }
                return;
            }
            Err(e) => {
                crate::warning!("Error writing to the AOF file: {e}");
                if aof.policy.load(Ordering::Relaxed) == fsync::ALWAYS {
                    fatal_always("AOF write failed");
                }
                aof.last_write_ok.store(false, Ordering::Relaxed);
                // WFile::write cut the file back: no half unit stays.
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

fn run_fsync(srv: &Server, shared: &parking_lot::Mutex<File>) {
    let aof = &srv.aof;
    let mut last = Instant::now();
    loop {
        {
            let q = aof.q.lock();
            if q.stop {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
        if aof.policy.load(Ordering::Relaxed) != fsync::EVERYSEC
            || last.elapsed() < Duration::from_secs(1)
        {
            continue;
        }
        last = Instant::now();
        let written = aof.written.load(Ordering::Acquire);
        if written <= aof.synced.load(Ordering::Acquire) {
            continue;
        }
        let f = match shared.lock().try_clone() {
            Ok(f) => f,
            Err(_) => continue,
        };
        if f.sync_data().is_ok() {
            // Only forward: the writer may have synced further meanwhile.
            aof.synced.fetch_max(written, Ordering::AcqRel);
            aof.bump();
        }
    }
}
