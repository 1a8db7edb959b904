//! A full-sync job on the master: one snapshot cut for every replica waiting
//! for a full resynchronisation.
//!
//! The job waits `repl-diskless-sync-delay` (or until
//! `repl-diskless-sync-max-replicas` wait), takes the waiting replicas, and
//! starts one snapshot for them (inside the gate, retrying while another
//! snapshot runs). Inside the cut each replica gets `+FULLRESYNC` with the cut's
//! offset and its queue starts collecting the stream (see [`on_cut`]). Diskless:
//! the snapshot's writer fans 64 KiB chunks out to the replicas' tasks between
//! `$EOF:<mark>` and the mark; disk: the snapshot is a BGSAVE into `dbfilename`,
//! whose path the tasks send with `$<len>`. A job ends when no replica waits.
//! Each replica's channel closing (the job dropping its sender) tells its task
//! the payload will not come.

use super::master::{state, Piece, ReplicaLink};
use crate::server::Server;
use crate::{notice, warning};
use bytes::Bytes;
use shoal_repl::ReplId;
use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A full-sync job: serves every replica waiting for one, again while some wait.
pub async fn job(srv: Arc<Server>) {
    loop {
        let (diskless, delay, max) = {
            let c = srv.config.read();
            (
                c.bool("repl-diskless-sync"),
                c.int("repl-diskless-sync-delay").max(0) as u64,
                c.int("repl-diskless-sync-max-replicas").max(0) as usize,
            )
        };
        let waiting = |srv: &Server| {
            let st = srv.repl.st.lock();
            st.replicas
                .iter()
                .filter(|r| r.state.load(Relaxed) == state::WAIT_BGSAVE_START)
                .count()
        };
        if diskless && delay > 0 {
            notice!("Delay next BGSAVE for diskless SYNC");
            let end = std::time::Instant::now() + Duration::from_secs(delay);
            while std::time::Instant::now() < end && !(max > 0 && waiting(&srv) >= max) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let links: Vec<Arc<ReplicaLink>> = {
            let mut st = srv.repl.st.lock();
            let links: Vec<_> = st
                .replicas
                .iter()
                .filter(|r| r.state.load(Relaxed) == state::WAIT_BGSAVE_START)
                .cloned()
                .collect();
            if links.is_empty() {
                st.sync_job = false;
                return;
            }
            links
        };
        let socket = diskless && links.iter().all(|l| l.capa_eof);
        notice!(
            "Starting BGSAVE for SYNC with target: {}",
            if socket { "replicas sockets" } else { "disk" }
        );
        // One snapshot at a time: wait for a running save or rewrite to end.
        let mut tries = 0u32;
        loop {
            let s2 = srv.clone();
            let l2 = links.clone();
            let started = tokio::task::spawn_blocking(move || {
                crate::persist::snapshot::with_gate(&s2, || start_snapshot(&s2, &l2, socket))
            })
            .await;
            match started {
                Ok(Some(true)) => break,
                Ok(Some(false)) | Ok(None) => {}
                Err(_) => break,
            }
            tries += 1;
            if tries.is_multiple_of(100) {
                notice!("Full sync waits for the running snapshot to end");
            }
            if *srv.shutdown_rx().borrow() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Wait for this job's snapshot to end before serving the next batch.
        while links.iter().any(|l| l.pieces.lock().is_some()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// At the cut: each replica collects the stream from here and gets its
/// `+FULLRESYNC` line with the cut's offset.
fn on_cut(srv: &Server, links: &[Arc<ReplicaLink>]) {
    srv.propagation.with_repl_cut(|| {
        let st = srv.repl.st.lock();
        let line = shoal_repl::ids::fullresync_reply(&st.ids.replid, st.offset);
        let offset = st.offset;
        for l in links {
            l.state.store(state::WAIT_BGSAVE_END, Relaxed);
            l.ack_off.store(offset, Relaxed);
            l.start_collecting(Vec::new());
            if let Some(tx) = l.pieces.lock().as_ref().filter(|_| l.psync) {
                let _ = tx.try_send(Piece::Data(Bytes::from(line.clone())));
            }
        }
        drop(st);
    });
}

fn senders(links: &[Arc<ReplicaLink>]) -> Vec<mpsc::Sender<Piece>> {
    links
        .iter()
        .filter_map(|l| l.pieces.lock().clone())
        .collect()
}

fn end_job(links: &[Arc<ReplicaLink>]) {
    for l in links {
        l.pieces.lock().take();
    }
}

/// Starts the job's snapshot (inside the gate). False when another snapshot runs.
fn start_snapshot(srv: &Arc<Server>, links: &[Arc<ReplicaLink>], socket: bool) -> bool {
    let txs = senders(links);
    if socket {
        let mark: [u8; 40] = random_mark();
        let mut head = b"$EOF:".to_vec();
        head.extend_from_slice(&mark);
        head.extend_from_slice(b"\r\n");
        let out = FanOut {
            txs: txs.clone(),
            buf: head,
        };
        let opts = crate::persist::snapshot::Options {
            write: crate::persist::write_options(srv),
            aof_base: false,
        };
        let l2: Vec<_> = links.to_vec();
        let l3: Vec<_> = links.to_vec();
        let r = crate::persist::snapshot::start(
            srv,
            out,
            opts,
            || on_cut(srv, &l2),
            move |res| {
                match res {
                    Ok(mut w) => {
                        let _ = w.flush();
                        w.send(Bytes::copy_from_slice(&mark));
                        for tx in &w.txs {
                            let _ = tx.blocking_send(Piece::Done { diskless: true });
                        }
                        notice!("Background RDB transfer terminated with success");
                    }
                    Err(e) => warning!("Background transfer error: {e}"),
                }
                end_job(&l3);
            },
        );
        match r {
            Ok(_) => {
                notice!("Background RDB transfer started");
                true
            }
            Err(crate::persist::snapshot::StartError::Busy) => false,
            Err(crate::persist::snapshot::StartError::Thread(e)) => {
                warning!("Can't start the full sync's snapshot: {e}");
                end_job(links);
                true
            }
        }
    } else {
        let l2: Vec<_> = links.to_vec();
        let l3: Vec<_> = links.to_vec();
        let path = std::path::PathBuf::from(crate::persist::rdb_path(srv));
        let r = crate::persist::bgsave_with(
            srv,
            || on_cut(srv, &l2),
            move |ok| {
                if ok {
                    for tx in &txs {
                        let _ = tx.blocking_send(Piece::File(path.clone()));
                        let _ = tx.blocking_send(Piece::Done { diskless: false });
                    }
                }
                end_job(&l3);
            },
        );
        match r {
            Ok(()) => true,
            Err(crate::persist::SaveError::Busy) => false,
            Err(crate::persist::SaveError::Failed(e)) => {
                warning!("Can't start the full sync's BGSAVE: {e}");
                end_job(links);
                true
            }
        }
    }
}

fn random_mark() -> [u8; 40] {
    let id = ReplId::random(&mut rand::thread_rng());
    *id.as_bytes()
}

/// The snapshot's writer for a diskless sync: chunks to every replica's task.
/// A replica gone drops out; a slow one slows the walker (not the clients).
struct FanOut {
    txs: Vec<mpsc::Sender<Piece>>,
    buf: Vec<u8>,
}

impl FanOut {
    fn send(&mut self, b: Bytes) {
        self.txs
            .retain(|tx| tx.blocking_send(Piece::Data(b.clone())).is_ok());
    }
}

impl Write for FanOut {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 << 10 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let b = Bytes::from(std::mem::take(&mut self.buf));
            self.send(b);
        }
        Ok(())
    }
}
