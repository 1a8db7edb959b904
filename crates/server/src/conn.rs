//! One connection: read, parse every complete request, dispatch each, answer the
//! whole batch with one write.
//!
//! The task also listens for the kill switch (CLIENT KILL, shutdown), for
//! out-of-band messages (the MONITOR feed) and for the idle timeout. Nothing here
//! knows a command: requests go to `dispatch`.

use crate::client::ClientInfo;
use crate::dispatch::dispatch;
use crate::server::{unix_ms, PauseKind, Server};
use crate::session::{After, ReplyMode, Session};
use crate::stats::{self, ThreadStats};
use bytes::BytesMut;
use shoal_resp::{Limits, Proto, ReplyWriter, RequestParser};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

const READ_CHUNK: usize = 16 * 1024;

fn limits(srv: &Server) -> Limits {
    Limits {
        max_bulk_len: srv.hot.proto_max_bulk_len.load(Relaxed),
        max_query_buf: srv.hot.client_query_buffer_limit.load(Relaxed),
    }
}

/// A connection's socket, split into halves so that replies can be written while
/// requests are still read (a client may pipeline without reading, as Redis allows).
pub trait Split {
    type R: AsyncRead + Unpin;
    type W: AsyncWrite + Unpin + TryWrite;
    fn split(self) -> (Self::R, Self::W);
}

/// A non-blocking write attempt, to answer without a trip through the runtime.
pub trait TryWrite {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize>;
}

impl Split for tokio::net::TcpStream {
    type R = tokio::net::tcp::OwnedReadHalf;
    type W = tokio::net::tcp::OwnedWriteHalf;
    fn split(self) -> (Self::R, Self::W) {
        self.into_split()
    }
}

impl TryWrite for tokio::net::tcp::OwnedWriteHalf {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
        tokio::net::tcp::OwnedWriteHalf::try_write(self, buf)
    }
}

impl Split for tokio::net::UnixStream {
    type R = tokio::net::unix::OwnedReadHalf;
    type W = tokio::net::unix::OwnedWriteHalf;
    fn split(self) -> (Self::R, Self::W) {
        self.into_split()
    }
}

impl TryWrite for tokio::net::unix::OwnedWriteHalf {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
        tokio::net::unix::OwnedWriteHalf::try_write(self, buf)
    }
}

/// Serves one accepted connection until it closes.
pub async fn serve<S: Split>(srv: Arc<Server>, stream: S, info: Arc<ClientInfo>) {
    let (mut rd, mut wr) = stream.split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    *info.push.lock() = Some(tx);
    srv.clients.add(info.clone());
    // Unregisters the client however the task ends, a panic in a handler included
    // (tokio contains the panic to this task; the shard locks unlock on unwind).
    let _registration = Registration {
        srv: srv.clone(),
        info: info.clone(),
    };
    let authenticated = !srv.hot.has_password.load(Relaxed);
    let mut s = Session::new(
        info.clone(),
        srv.settings(),
        srv.settings_gen.load(Relaxed),
        authenticated,
    );
    let mut parser = RequestParser::new(limits(&srv));
    // Until it authenticates, a client gets Redis's small request limits.
    parser.set_auth_required(!s.authenticated);
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut out = ReplyWriter::new(Proto::Resp2);
    let mut shutdown = srv.shutdown_rx();
    let mut limits_gen = s.settings_gen;

    // The AOF offset the replies in `out` wait for (0: none).
    let mut aof_need = 0u64;
    'conn: loop {
        // Answer every complete request in the buffer.
        let mut processed = 0u64;
        s.now_ms = unix_ms();
        loop {
            if s.after == After::Close || info.killed.load(Relaxed) {
                break;
            }
            match parser.parse(&mut rbuf) {
                Ok(Some(argv)) => {
                    if argv.is_empty() {
                        continue;
                    }
                    if pause_applies(&srv, &argv) {
                        wait_unpaused(&srv).await;
                        s.now_ms = unix_ms();
                    }
                    processed += 1;
                    if processed.is_multiple_of(32) {
                        s.now_ms = unix_ms();
                    }
                    let mut before = out.len();
                    let mode_before = s.reply_mode;
                    // The common case without building the waiting future.
                    let (admitted, waited) = if srv.gate.enter() {
                        (Admit::Run, false)
                    } else {
                        admit(&srv, &argv).await
                    };
                    if waited {
                        s.now_ms = unix_ms();
                    }
                    crate::persist::aof::take_fed();
                    match admitted {
                        Admit::Run => {
                            dispatch(&srv, &mut s, &mut out, &argv);
                            srv.gate.leave();
                        }
                        Admit::Bypass => dispatch(&srv, &mut s, &mut out, &argv),
                        Admit::Busy => {
                            s.script_busy = true;
                            dispatch(&srv, &mut s, &mut out, &argv);
                            s.script_busy = false;
                        }
                    }
                    aof_need = aof_need.max(crate::persist::aof::take_fed());
                    if let Some(block) = s.block.take() {
                        // Send what came before, then wait: later requests in the
                        // buffer stay queued behind the blocked one, as in Redis.
                        if aof_need > 0 {
                            srv.aof.wait_durable(std::mem::take(&mut aof_need)).await;
                        }
                        if !flush(&mut wr, &mut out, &info).await {
                            break 'conn;
                        }
                        before = 0;
                        match wait_block(&info, &mut shutdown, block).await {
                            Some(reply) => reply.write(&mut out),
                            None => break 'conn,
                        }
                        // The reply may follow writes made on another thread (a
                        // script's, a served pop's): they reach the AOF first.
                        aof_need = srv.aof.fed_now();
                        s.now_ms = unix_ms();
                    }
                    apply_reply_mode(&mut s, &mut out, before, mode_before);
                    parser.recycle(argv);
                    parser.set_auth_required(!s.authenticated);
                    if s.sync.is_some() {
                        // PSYNC/SYNC: the connection becomes a replica link.
                        break 'conn;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    crate::verbose!(
                        "Protocol error ({}) from client: id={} addr={}",
                        e,
                        info.id,
                        info.addr
                    );
                    // Byte-exact: Redis echoes the offending byte as is.
                    out.protocol_error(&e);
                    let _ = out.take_error_codes();
                    s.after = After::Close;
                    break;
                }
            }
        }
        if processed > 0 {
            info.last_interaction_ms.store(s.now_ms, Relaxed);
        }
        // Replies of writes wait for the AOF (appendfsync: on disk, or written).
        if aof_need > 0 {
            srv.aof.wait_durable(std::mem::take(&mut aof_need)).await;
        }
        // Answer now if the socket takes it; what it does not take is written below
        // while reading goes on.
        if !out.is_empty() && !try_flush(&wr, &mut out, &info) {
            break 'conn;
        }
        if (s.after == After::Close || info.killed.load(Relaxed)) && out.is_empty() {
            break 'conn;
        }
        if s.after == After::Close || info.killed.load(Relaxed) {
            // Closing after the last replies: write them out, then stop.
            let _ = flush(&mut wr, &mut out, &info).await;
            break 'conn;
        }
        if rbuf.len() > srv.hot.client_query_buffer_limit.load(Relaxed) {
            crate::warning!(
                "Closing client that reached max query buffer length: id={} addr={} (qbuf initial bytes: {:?})",
                info.id,
                info.addr,
                String::from_utf8_lossy(&rbuf[..rbuf.len().min(64)])
            );
            break 'conn;
        }
        let gen = srv.settings_gen.load(Relaxed);
        if gen != limits_gen {
            parser.set_limits(limits(&srv));
            limits_gen = gen;
        }
        info.qbuf.store(rbuf.len(), Relaxed);
        if rbuf.capacity() - rbuf.len() < READ_CHUNK / 4 {
            rbuf.reserve(READ_CHUNK);
        }
        info.qbuf_free.store(rbuf.capacity() - rbuf.len(), Relaxed);
        info.obuf.store(out.len(), Relaxed);

        let idle = srv.hot.timeout_secs.load(Relaxed);
        let idle = (idle > 0 && !s.monitor).then(|| Duration::from_secs(idle as u64));
        let pending_out = !out.is_empty();
        tokio::select! {
            biased;
            _ = info.kill_notify.notified() => break 'conn,
            _ = shutdown.changed() => break 'conn,
            w = wr.write_buf(&mut out.buf), if pending_out => {
                match w {
                    Ok(0) | Err(_) => break 'conn,
                    Ok(n) => count_output(&info, n),
                }
            }
            Some(msg) = rx.recv() => {
                // Out-of-band messages (MONITOR, Pub/Sub, invalidations) queue
                // behind pending replies.
                out.raw(&msg);
                info.push_taken(msg.len());
                // Take whatever else is queued, so one write carries it all.
                while let Ok(msg) = rx.try_recv() {
                    out.raw(&msg);
                    info.push_taken(msg.len());
                }
            }
            r = read_with_timeout(&mut rd, &mut rbuf, idle) => {
                match r {
                    Some(Ok(0)) | Some(Err(_)) => break 'conn,
                    Some(Ok(n)) => {
                        stats::local(|t| ThreadStats::add(&t.net_input_bytes, n as u64));
                        let total = info.tot_net_in.load(Relaxed);
                        info.tot_net_in.store(total + n as u64, Relaxed);
                    }
                    None => {
                        crate::verbose!("Closing idle client");
                        break 'conn;
                    }
                }
            }
        }
    }
    crate::cmd::multi::forget_watches(&srv, &mut s);
    if let Some(req) = s.sync.take() {
        if aof_need > 0 {
            srv.aof.wait_durable(aof_need).await;
        }
        if flush(&mut wr, &mut out, &info).await {
            crate::repl::master::serve_replica(srv.clone(), rd, wr, info.clone(), rbuf, *req).await;
        }
        return;
    }
    let _ = wr.shutdown().await;
}

struct Registration {
    srv: Arc<Server>,
    info: Arc<ClientInfo>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        *self.info.push.lock() = None;
        self.srv.pubsub.remove_client(&self.info);
        self.srv.tracking.disable(&self.info);
        self.srv.clients.remove(self.info.id);
    }
}

/// Counts bytes sent to the client (server-wide and per client).
fn count_output(info: &ClientInfo, n: usize) {
    stats::local(|t| ThreadStats::add(&t.net_output_bytes, n as u64));
    // One writer per client (its task): no read-modify-write needed.
    let total = info.tot_net_out.load(Relaxed);
    info.tot_net_out.store(total + n as u64, Relaxed);
}

/// Writes as much of the pending replies as the socket takes without waiting.
/// Returns false if the peer is gone.
fn try_flush<W: TryWrite>(wr: &W, out: &mut ReplyWriter, info: &ClientInfo) -> bool {
    use bytes::Buf;
    while !out.is_empty() {
        match wr.try_write(&out.buf) {
            Ok(0) => return false,
            Ok(n) => {
                out.buf.advance(n);
                count_output(info, n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    true
}

/// Writes the pending replies. Returns false if the peer is gone.
async fn flush<S: AsyncWrite + Unpin>(
    stream: &mut S,
    out: &mut ReplyWriter,
    info: &ClientInfo,
) -> bool {
    if out.is_empty() {
        return true;
    }
    let n = out.len();
    if stream.write_all(&out.buf).await.is_err() {
        return false;
    }
    out.buf.clear();
    count_output(info, n);
    true
}

/// Suspends a blocked client until its command's future resolves. Returns None if
/// the connection must close instead (killed, server shutting down).
async fn wait_block(
    info: &ClientInfo,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
    block: crate::session::Block,
) -> Option<crate::session::Deferred> {
    tokio::select! {
        _ = info.kill_notify.notified() => None,
        _ = shutdown.changed() => None,
        reply = block => Some(reply),
    }
}

async fn read_with_timeout<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    idle: Option<Duration>,
) -> Option<std::io::Result<usize>> {
    match idle {
        None => Some(stream.read_buf(buf).await),
        Some(d) => tokio::time::timeout(d, stream.read_buf(buf)).await.ok(),
    }
}

/// CLIENT REPLY OFF|SKIP: drop the replies the client asked not to get.
fn apply_reply_mode(s: &mut Session, out: &mut ReplyWriter, before: usize, mode_before: ReplyMode) {
    match (mode_before, s.reply_mode) {
        (_, ReplyMode::Off) => out.truncate(before),
        (ReplyMode::Skipping, ReplyMode::Skipping) => {
            out.truncate(before);
            s.reply_mode = ReplyMode::On;
        }
        (_, ReplyMode::SkipNext) => {
            // The SKIP command itself has no reply; the next command's is dropped.
            out.truncate(before);
            s.reply_mode = ReplyMode::Skipping;
        }
        _ => {}
    }
}

/// Whether CLIENT PAUSE holds this request back.
fn pause_applies(srv: &Server, argv: &[bytes::Bytes]) -> bool {
    if !srv.pause_active.load(Relaxed) {
        return false;
    }
    let p = srv.pause.lock();
    if p.kind == PauseKind::None || p.until_ms <= unix_ms() {
        // The pause is over: back to the lock-free check. (CLIENT PAUSE sets the
        // flag under the same lock, so a new pause is never missed.)
        srv.pause_active.store(false, Relaxed);
        return false;
    }
    match p.kind {
        PauseKind::None => false,
        PauseKind::All => true,
        PauseKind::Write => srv
            .registry
            .lookup(&argv[0])
            .map(|e| {
                e.has(shoal_commands::spec::flag::WRITE)
                    || e.has(shoal_commands::spec::flag::MAY_REPLICATE)
            })
            .unwrap_or(false),
    }
}

async fn wait_unpaused(srv: &Server) {
    loop {
        let (kind, until) = {
            let p = srv.pause.lock();
            (p.kind, p.until_ms)
        };
        let now = unix_ms();
        if kind == PauseKind::None || until <= now {
            return;
        }
        let wait = Duration::from_millis((until - now) as u64);
        let _ = tokio::time::timeout(wait, srv.pause_changed.notified()).await;
    }
}

/// How a command may run with respect to an exclusive section (a script).
enum Admit {
    /// Normally: no section runs (the thread's gate flag is now set).
    Run,
    /// Without touching the keyspace, while a section runs (SCRIPT KILL, ...).
    Bypass,
    /// Refused with BUSY (dispatch still makes its earlier checks first).
    Busy,
}

/// Waits while a script runs, up to `busy-reply-threshold` after its start; then
/// the command gets BUSY. Commands flagged allow-busy that never touch the
/// keyspace pass at once.
/// Also says whether it waited (the command's clock must then be read again).
async fn admit(srv: &Server, argv: &[bytes::Bytes]) -> (Admit, bool) {
    let mut waited = false;
    loop {
        if srv.gate.enter() {
            return (Admit::Run, waited);
        }
        if may_bypass(srv, argv) {
            return (Admit::Bypass, waited);
        }
        let Some(since) = srv.gate.exclusive_since() else {
            continue;
        };
        let threshold = srv.hot.busy_reply_threshold_ms.load(Relaxed).max(0);
        let elapsed = unix_ms() - since;
        if elapsed >= threshold {
            return (Admit::Busy, waited);
        }
        srv.gate
            .wait(Duration::from_millis((threshold - elapsed) as u64))
            .await;
        waited = true;
    }
}

/// Allow-busy commands that do not read the keyspace (WATCH does, for the
/// watched keys' deadlines, so it waits like any other command).
fn may_bypass(srv: &Server, argv: &[bytes::Bytes]) -> bool {
    match srv.registry.resolve(argv) {
        crate::registry::Resolved::Found { top, e } => {
            e.has(shoal_commands::spec::flag::ALLOW_BUSY) && top.spec.name != "watch"
        }
        // Unknown commands and subcommands touch nothing.
        _ => true,
    }
}
