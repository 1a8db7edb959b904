//! The master's side: a connection that sent PSYNC (or SYNC) becomes a replica
//! link, served here until it closes.
//!
//! Partial resync: `+CONTINUE [replid]`, the backlog from the requested offset,
//! then the live stream. Full sync: the replica joins the next full-sync job
//! ([`super::fullsync`]); a job takes every replica waiting at its start (after
//! `repl-diskless-sync-delay`, or sooner once `repl-diskless-sync-max-replicas`
//! wait), takes one snapshot cut for all of them, and at the cut each replica's
//! queue starts collecting the stream. Diskless (Redis 7.0's default, when every
//! replica of the job announced `capa eof`): the snapshot is streamed to the
//! sockets as `$EOF:<mark>` ... `<mark>`, and the stream starts at the replica's
//! first REPLCONF ACK (a replica reading the payload to its mark must not find
//! stream bytes after it in the same read). Disk: the snapshot is a BGSAVE into
//! `dbfilename`, sent as `$<len>` followed by the stream at once.
//!
//! A replica whose queue passes `client-output-buffer-limit replica` is
//! disconnected (it will resynchronise); one that sends nothing for
//! `repl-timeout` is dropped by the cron.

use super::{backlog_size, ensure_sink};
use crate::client::{cflag, ClientInfo};
use crate::server::{unix_ms, Server};
use crate::{notice, warning};
use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use shoal_repl::{psync_decide, PsyncDecision};
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};

/// Replica link states (INFO's `state=`).
pub mod state {
    pub const WAIT_BGSAVE_START: u8 = 0;
    pub const WAIT_BGSAVE_END: u8 = 1;
    pub const SEND_BULK: u8 = 2;
    pub const ONLINE: u8 = 3;
}

/// What REPLCONF told us before PSYNC (kept in the session).
#[derive(Clone, Debug, Default)]
pub struct ReplConf {
    pub listening_port: u16,
    pub ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
}

/// A PSYNC/SYNC request handed from dispatch to the connection task.
#[derive(Clone, Debug)]
pub struct SyncRequest {
    /// PSYNC (false: the old SYNC, which gets no `+FULLRESYNC` line).
    pub psync: bool,
    pub replid: Vec<u8>,
    pub offset: i64,
    pub conf: ReplConf,
}

/// Pieces of a full sync sent to a replica's task.
pub enum Piece {
    /// Bytes to write as they are (`+FULLRESYNC`, payload chunks, the mark).
    Data(Bytes),
    /// The RDB file to send with a `$<len>` header (disk-based sync).
    File(std::path::PathBuf),
    /// The payload is complete.
    Done { diskless: bool },
}

/// A replica attached to this server.
pub struct ReplicaLink {
    pub info: Arc<ClientInfo>,
    pub ip: String,
    pub port: u16,
    pub state: AtomicU8,
    pub ack_off: AtomicI64,
    pub ack_ms: AtomicI64,
    pub capa_eof: bool,
    /// Asked with PSYNC (the old SYNC gets no `+FULLRESYNC` line).
    pub(super) psync: bool,
    /// What the replica sends (REPLCONF ACK), kept across reads: the parser
    /// holds a partial command inside itself.
    parser: Mutex<shoal_resp::RequestParser>,
    q: Mutex<Queue>,
    /// Bytes taken from the queue and being written (they count against the
    /// output buffer limits until the socket took them).
    inflight: AtomicUsize,
    pub wake: Notify,
    /// The job's pieces, set when the replica waits for a full sync.
    pub(super) pieces: Mutex<Option<mpsc::Sender<Piece>>>,
    hard: u64,
    soft: u64,
    soft_secs: i64,
}

#[derive(Default)]
struct Queue {
    buf: Vec<u8>,
    collecting: bool,
    soft_since_ms: i64,
    /// Closed for passing the output buffer limits.
    over_limit: bool,
}

impl ReplicaLink {
    /// `ip:port`, as Redis names a replica in its log.
    pub fn name(&self) -> String {
        if self.port == 0 {
            // No REPLCONF listening-port (a bare SYNC), as Redis names it.
            format!("{}:<unknown-replica-port>", self.ip)
        } else {
            format!("{}:{}", self.ip, self.port)
        }
    }

    pub fn state_name(&self) -> &'static str {
        match self.state.load(Relaxed) {
            state::WAIT_BGSAVE_START | state::WAIT_BGSAVE_END => "wait_bgsave",
            state::SEND_BULK => "send_bulk",
            _ => "online",
        }
    }

    /// Appends stream bytes if this replica collects them, enforcing the
    /// output buffer limits. Called under the state lock.
    pub fn push(&self, bytes: &[u8]) {
        let mut q = self.q.lock();
        if !q.collecting {
            return;
        }
        q.buf.extend_from_slice(bytes);
        let len = (q.buf.len() + self.inflight.load(Relaxed)) as u64;
        let mut over = self.hard > 0 && len > self.hard;
        if self.soft > 0 && len > self.soft {
            // The clock only past the soft limit: this runs under shard locks.
            let now = unix_ms();
            if q.soft_since_ms == 0 {
                q.soft_since_ms = now;
            } else if now - q.soft_since_ms > self.soft_secs * 1000 {
                over = true;
            }
        } else {
            q.soft_since_ms = 0;
        }
        if over {
            // The replica's task logs it once the link is down (no file I/O
            // here, under the stream and shard locks).
            q.collecting = false;
            q.over_limit = true;
            q.buf = Vec::new();
            drop(q);
            self.info.kill();
            return;
        }
        drop(q);
        self.wake.notify_one();
    }

    pub(super) fn start_collecting(&self, initial: Vec<u8>) {
        let mut q = self.q.lock();
        q.buf = initial;
        q.collecting = true;
    }

    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.q.lock().buf)
    }

    /// Bytes queued and not yet written.
    pub fn pending(&self) -> usize {
        self.q.lock().buf.len()
    }
}

/// Removes a replica from the state (its connection ended).
fn detach(srv: &Server, link: &Arc<ReplicaLink>) {
    let mut st = srv.repl.st.lock();
    let before = st.replicas.len();
    st.replicas.retain(|r| !Arc::ptr_eq(r, link));
    if st.replicas.is_empty() && before > 0 {
        st.no_replicas_since_ms = unix_ms();
    }
    drop(st);
    refresh_good_replicas(srv);
}

/// Serves a connection that sent PSYNC/SYNC until it closes. `rbuf` holds what
/// the client sent after the request.
pub async fn serve_replica<R, W>(
    srv: Arc<Server>,
    mut rd: R,
    mut wr: W,
    info: Arc<ClientInfo>,
    mut rbuf: BytesMut,
    req: SyncRequest,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    info.set_flag(cflag::REPLICA, true);
    let ip = req
        .conf
        .ip
        .clone()
        .unwrap_or_else(|| peer_ip(&info.addr).to_string());
    let cobl = srv.config.read().client_output_buffer_limits().replica;
    let link = Arc::new(ReplicaLink {
        info: info.clone(),
        ip,
        port: req.conf.listening_port,
        state: AtomicU8::new(state::WAIT_BGSAVE_START),
        ack_off: AtomicI64::new(0),
        ack_ms: AtomicI64::new(unix_ms()),
        capa_eof: req.conf.capa_eof,
        psync: req.psync,
        parser: Mutex::new(input_parser()),
        q: Mutex::new(Queue::default()),
        inflight: AtomicUsize::new(0),
        wake: Notify::new(),
        pieces: Mutex::new(None),
        hard: cobl.hard,
        soft: cobl.soft,
        soft_secs: cobl.soft_seconds,
    });
    let name = link.name();
    notice!("Replica {name} asks for synchronization");
    {
        let s2 = srv.clone();
        if tokio::task::spawn_blocking(move || ensure_sink(&s2))
            .await
            .is_err()
        {
            return;
        }
    }
    let full = attach(&srv, &link, &req);
    let ok = match full {
        Attach::Continue(first) => wr.write_all(&first).await.is_ok(),
        Attach::Full(rx) => full_sync(&srv, &link, &mut rd, &mut wr, &mut rbuf, rx).await,
    };
    if ok {
        stream(&srv, &link, &mut rd, &mut wr, &mut rbuf).await;
    }
    detach(&srv, &link);
    if link.q.lock().over_limit {
        warning!(
            "Client id={} addr={} flags=S scheduled to be closed ASAP for overcoming of output buffer limits.",
            info.id,
            info.addr
        );
    }
    if !*srv.shutdown_rx().borrow() {
        warning!("Connection with replica {name} lost.");
    }
    let _ = wr.shutdown().await;
}

/// The IP part of `ip:port` (IPv6 addresses keep their colons).
fn peer_ip(addr: &str) -> &str {
    addr.rsplit_once(':').map_or(addr, |(ip, _)| ip)
}

enum Attach {
    /// Partial resync: the reply line and the backlog bytes to write first.
    Continue(Vec<u8>),
    /// Full sync: the job's pieces arrive on this channel.
    Full(mpsc::Receiver<Piece>),
}

/// The PSYNC decision and the replica's attachment, atomically with the stream.
fn attach(srv: &Arc<Server>, link: &Arc<ReplicaLink>, req: &SyncRequest) -> Attach {
    let name = link.name();
    let mut st = srv.repl.st.lock();
    if req.psync {
        let d = psync_decide(
            &st.ids,
            st.backlog.as_ref(),
            st.offset,
            &req.replid,
            req.offset,
            req.conf.capa_psync2,
        );
        for line in d.log_lines(&st.ids, &name) {
            notice!("{line}");
        }
        if let PsyncDecision::Continue { offset, .. } = &d {
            let mut first = d.reply_line();
            let backlog = st
                .backlog
                .as_ref()
                .and_then(|b| b.copy_from(*offset))
                .unwrap_or_default();
            first.extend_from_slice(&backlog);
            link.state.store(state::ONLINE, Relaxed);
            link.ack_off.store(*offset - 1, Relaxed);
            link.start_collecting(Vec::new());
            st.replicas.push(link.clone());
            srv.repl.sync_partial_ok.fetch_add(1, Relaxed);
            drop(st);
            refresh_good_replicas(srv);
            return Attach::Continue(first);
        }
        if req.replid.first() != Some(&b'?') {
            srv.repl.sync_partial_err.fetch_add(1, Relaxed);
        }
    }
    if st.ensure_backlog(backlog_size(srv)) {
        let mut rng = rand::thread_rng();
        st.ids.change_replid(&mut rng);
        st.ids.clear_replid2();
        notice!(
            "Replication backlog created, my new replication IDs are '{}' and '{}'",
            st.ids.replid,
            st.ids.replid2
        );
    }
    let (tx, rx) = mpsc::channel(64);
    *link.pieces.lock() = Some(tx);
    link.state.store(state::WAIT_BGSAVE_START, Relaxed);
    st.replicas.push(link.clone());
    srv.repl.sync_full.fetch_add(1, Relaxed);
    let start_job = !std::mem::replace(&mut st.sync_job, true);
    drop(st);
    if start_job {
        let s2 = srv.clone();
        tokio::spawn(super::fullsync::job(s2));
    }
    Attach::Full(rx)
}

/// Waits for the job's pieces and writes them, sending `\n` every second while
/// nothing comes (the replica's handshake timeout). Returns false if the
/// replica must be dropped.
async fn full_sync<R, W>(
    srv: &Arc<Server>,
    link: &Arc<ReplicaLink>,
    rd: &mut R,
    wr: &mut W,
    rbuf: &mut BytesMut,
    mut rx: mpsc::Receiver<Piece>,
) -> bool
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut shutdown = srv.shutdown_rx();
    let mut started = false;
    loop {
        let piece = tokio::select! {
            _ = link.info.kill_notify.notified() => return false,
            _ = shutdown.changed() => return false,
            p = rx.recv() => p,
            _ = tokio::time::sleep(Duration::from_secs(1)), if !started => {
                if wr.write_all(b"\n").await.is_err() {
                    return false;
                }
                continue;
            }
            r = rd.read_buf(rbuf) => {
                // A replica says nothing useful before its payload; a closed
                // socket ends the link.
                match r {
                    Ok(0) | Err(_) => return false,
                    Ok(_) => {
                        rbuf.clear();
                        continue;
                    }
                }
            }
        };
        let Some(piece) = piece else {
            // The job ended without completing this replica's payload.
            return false;
        };
        match piece {
            Piece::Data(b) => {
                started = true;
                if wr.write_all(&b).await.is_err() {
                    return false;
                }
            }
            Piece::File(path) => {
                started = true;
                if !send_file(wr, &path).await {
                    return false;
                }
            }
            Piece::Done { diskless } => {
                let name = link.name();
                if diskless {
                    notice!(
                        "Streamed RDB transfer with replica {name} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming"
                    );
                    if !wait_first_ack(srv, link, rd, rbuf).await {
                        return false;
                    }
                }
                notice!("Synchronization with replica {name} succeeded");
                link.state.store(state::ONLINE, Relaxed);
                refresh_good_replicas(srv);
                return true;
            }
        }
    }
}

/// `$<len>\r\n` and the file's bytes.
async fn send_file<W: AsyncWrite + Unpin>(wr: &mut W, path: &std::path::Path) -> bool {
    let Ok(mut f) = tokio::fs::File::open(path).await else {
        return false;
    };
    let Ok(meta) = f.metadata().await else {
        return false;
    };
    let head = format!("${}\r\n", meta.len());
    if wr.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    tokio::io::copy(&mut f, wr)
        .await
        .is_ok_and(|n| n == meta.len())
}

/// After a diskless payload: waits for the replica's first REPLCONF ACK.
async fn wait_first_ack<R: AsyncRead + Unpin>(
    srv: &Arc<Server>,
    link: &Arc<ReplicaLink>,
    rd: &mut R,
    rbuf: &mut BytesMut,
) -> bool {
    let timeout = Duration::from_secs(srv.config.read().int("repl-timeout").max(1) as u64);
    let mut shutdown = srv.shutdown_rx();
    loop {
        if handle_input(srv, link, rbuf) {
            return true;
        }
        let r = tokio::select! {
            _ = link.info.kill_notify.notified() => return false,
            _ = shutdown.changed() => return false,
            r = tokio::time::timeout(timeout, rd.read_buf(rbuf)) => r,
        };
        match r {
            Ok(Ok(n)) if n > 0 => {}
            _ => return false,
        }
    }
}

/// Parses what the replica sent: REPLCONF ACK updates its offset (returns true
/// if one was seen). Anything else is ignored, as Redis's replies to a replica
/// go nowhere.
fn handle_input(srv: &Server, link: &ReplicaLink, rbuf: &mut BytesMut) -> bool {
    let mut parser = link.parser.lock();
    let mut acked = false;
    loop {
        match parser.parse(rbuf) {
            Ok(Some(argv)) => {
                if argv.len() >= 3
                    && argv[0].eq_ignore_ascii_case(b"replconf")
                    && argv[1].eq_ignore_ascii_case(b"ack")
                {
                    if let Some(off) = shoal_ds::num::parse_i64(&argv[2]) {
                        link.ack_off.store(off, Relaxed);
                        link.ack_ms.store(unix_ms(), Relaxed);
                        acked = true;
                    }
                }
            }
            Ok(None) => break,
            Err(_) => {
                // A replica speaking garbage: drop what it sent, start afresh.
                rbuf.clear();
                *parser = input_parser();
                break;
            }
        }
    }
    drop(parser);
    if acked {
        srv.repl.acks.send_modify(|n| *n += 1);
    }
    acked
}

fn input_parser() -> shoal_resp::RequestParser {
    shoal_resp::RequestParser::new(shoal_resp::Limits {
        max_bulk_len: 1 << 20,
        max_query_buf: 1 << 20,
    })
}

/// The online replica: writes the queue as it fills, reads ACKs.
async fn stream<R, W>(
    srv: &Arc<Server>,
    link: &Arc<ReplicaLink>,
    rd: &mut R,
    wr: &mut W,
    rbuf: &mut BytesMut,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut shutdown = srv.shutdown_rx();
    loop {
        let out = link.take();
        if !out.is_empty() {
            link.info.obuf.store(out.len(), Relaxed);
            link.inflight.store(out.len(), Relaxed);
            let w = tokio::select! {
                _ = link.info.kill_notify.notified() => return,
                _ = shutdown.changed() => return,
                w = wr.write_all(&out) => w,
            };
            if w.is_err() {
                return;
            }
            link.info.obuf.store(0, Relaxed);
            link.inflight.store(0, Relaxed);
            let total = link.info.tot_net_out.load(Relaxed);
            link.info
                .tot_net_out
                .store(total + out.len() as u64, Relaxed);
            continue;
        }
        tokio::select! {
            _ = link.info.kill_notify.notified() => return,
            _ = shutdown.changed() => return,
            _ = link.wake.notified() => {}
            r = rd.read_buf(rbuf) => {
                match r {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        handle_input(srv, link, rbuf);
                    }
                }
            }
        }
        if link.info.killed.load(Relaxed) {
            return;
        }
    }
}

/// Counts the replicas whose last ACK is within `min-replicas-max-lag`.
pub fn refresh_good_replicas(srv: &Server) {
    let max_lag = srv.config.read().int("min-replicas-max-lag");
    let now = unix_ms();
    let st = srv.repl.st.lock();
    let n = st
        .replicas
        .iter()
        .filter(|r| {
            r.state.load(Relaxed) == state::ONLINE
                && (now - r.ack_ms.load(Relaxed)) / 1000 <= max_lag
        })
        .count();
    srv.repl.good_replicas.store(n, Relaxed);
}

/// How many online replicas acknowledged `offset`.
pub fn count_acks(srv: &Server, offset: i64) -> usize {
    let st = srv.repl.st.lock();
    st.replicas
        .iter()
        .filter(|r| r.state.load(Relaxed) == state::ONLINE && r.ack_off.load(Relaxed) >= offset)
        .count()
}

/// Asks every replica for an ACK now (WAIT).
pub fn send_getack(srv: &Server) {
    let cmd = shoal_repl::encode_command(&[b"REPLCONF", b"GETACK", b"*"]);
    super::feed_raw(srv, &cmd);
}

/// Once a second: PING replicas every `repl-ping-replica-period`, drop timed
/// out ones, free the backlog after `repl-backlog-ttl` without replicas, and
/// keep the good-replica count fresh.
pub fn cron(srv: &Arc<Server>) {
    let (period, timeout, ttl) = {
        let c = srv.config.read();
        (
            c.int("repl-ping-replica-period").max(1) * 1000,
            c.int("repl-timeout").max(1) * 1000,
            c.int("repl-backlog-ttl"),
        )
    };
    let now = unix_ms();
    let (has_replicas, master_side) = {
        let st = srv.repl.st.lock();
        (!st.replicas.is_empty(), !st.is_replica())
    };
    if has_replicas && master_side && now - srv.repl.last_ping_ms.load(Relaxed) >= period {
        srv.repl.last_ping_ms.store(now, Relaxed);
        let ping = shoal_repl::encode_command(&[b"ping"]);
        super::feed_raw(srv, &ping);
    }
    let timed_out: Vec<Arc<ReplicaLink>> = {
        let st = srv.repl.st.lock();
        st.replicas
            .iter()
            .filter(|r| {
                r.state.load(Relaxed) == state::ONLINE && now - r.ack_ms.load(Relaxed) > timeout
            })
            .cloned()
            .collect()
    };
    for r in timed_out {
        warning!(
            "Disconnecting timedout replica (streaming sync): {}",
            r.name()
        );
        r.info.kill();
    }
    if master_side && ttl > 0 {
        let mut st = srv.repl.st.lock();
        if st.replicas.is_empty()
            && st.backlog.is_some()
            && now - st.no_replicas_since_ms > ttl * 1000
        {
            // A new replid: whoever had our history must fully resync.
            let mut rng = rand::thread_rng();
            st.ids.change_replid(&mut rng);
            st.ids.clear_replid2();
            st.backlog = None;
            notice!("Replication backlog freed after {ttl} seconds without connected replicas.");
        }
    }
    refresh_good_replicas(srv);
}
