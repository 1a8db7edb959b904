//! The replica's side: the link task that follows our master.
//!
//! One task per REPLICAOF generation ([`super::Replication::gen`]): connect,
//! drive the handshake machine (`shoal_repl::Handshake`), then either receive
//! the RDB payload (to a temp file renamed to `dbfilename`, as Redis does with
//! `repl-diskless-load disabled`; or straight into the loader for the other
//! modes), flush and load it with clients answered LOADING, or continue
//! partially; then apply the master's stream. Commands run through dispatch as
//! the *master client* (a session with `is_master`: no replies, no READONLY,
//! no expiry of its own) and the applied bytes are fed, unchanged, to our
//! backlog and sub-replicas. `REPLCONF ACK <offset>` goes back every second and
//! on GETACK. When the link drops, the master's ID and our offset are cached so
//! that the next connection asks for a partial resync; the task retries every
//! second until REPLICAOF changes the generation.

use super::{backlog_size, LinkState, MasterInfo};
use crate::client::{cflag, ClientInfo};
use crate::dispatch::dispatch;
use crate::server::{unix_ms, Server};
use crate::session::Session;
use crate::{notice, warning};
use bytes::BytesMut;
use shoal_repl::{
    Action, Backlog, CachedMaster, Event, Handshake, HandshakeConfig, LogLevel, RdbStart,
};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether the task of generation `gen` is still the current one.
pub(super) fn current(srv: &Server, gen: u64) -> bool {
    srv.repl.gen.load(Relaxed) == gen && !*srv.shutdown_rx().borrow()
}

/// Starts the link task of the current generation (on a worker runtime, where
/// commands run).
pub fn spawn(srv: &Arc<Server>) {
    let gen = srv.repl.gen.load(Relaxed);
    let s2 = srv.clone();
    srv.spawn_connection(link_task(s2, gen));
}

async fn link_task(srv: Arc<Server>, gen: u64) {
    let mut reconnect = false;
    while current(&srv, gen) {
        let was_up = run_once(&srv, gen, reconnect).await;
        if !current(&srv, gen) {
            return;
        }
        // A link that was up reconnects at once (Redis: "Reconnecting to
        // MASTER"); failed attempts retry once a second.
        reconnect = was_up;
        if !was_up {
            tokio::select! {
                _ = srv.repl.gen_changed.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

/// Runs `f` on our master's state, if the link task of generation `gen` is
/// still the current one (REPLICAOF may have replaced it meanwhile).
pub(super) fn with_link<R>(
    srv: &Server,
    gen: u64,
    f: impl FnOnce(&mut MasterInfo) -> R,
) -> Option<R> {
    let mut st = srv.repl.st.lock();
    if srv.repl.gen.load(Relaxed) != gen {
        return None;
    }
    st.master.as_mut().map(f)
}

fn set_state(srv: &Server, gen: u64, state: LinkState) {
    with_link(srv, gen, |m| m.state = state);
}

fn log_action(level: LogLevel, text: &str) {
    match level {
        LogLevel::Verbose => crate::verbose!("{text}"),
        LogLevel::Notice => notice!("{text}"),
        LogLevel::Warning => warning!("{text}"),
    }
}

/// What the handshake ended with.
enum Outcome {
    Full(RdbStart, Vec<u8>),
    Continue {
        replid: shoal_repl::ReplId,
        reploff: i64,
        new_replid: Option<shoal_repl::ReplId>,
        rest: Vec<u8>,
    },
}

/// One connection to the master, from connect to the link dropping. Returns
/// whether the link got to the streaming state.
async fn run_once(srv: &Arc<Server>, gen: u64, reconnect: bool) -> bool {
    let (host, port, cached) = {
        let st = srv.repl.st.lock();
        match &st.master {
            Some(m) => (m.host.clone(), m.port, m.cached),
            None => return false,
        }
    };
    let (cfg, timeout) = {
        let c = srv.config.read();
        let announce_port = c.int("replica-announce-port");
        let listening_port = if announce_port > 0 {
            announce_port as u16
        } else {
            srv.tcp_port.load(Relaxed) as u16
        };
        let opt = |name: &str| {
            let v = c.string(name);
            (!v.is_empty()).then(|| v.into_bytes())
        };
        let timeout = c.int("repl-timeout").max(1) as u64;
        (
            HandshakeConfig {
                master_host: host.clone(),
                master_port: port,
                listening_port,
                announce_ip: opt("replica-announce-ip"),
                masteruser: opt("masteruser"),
                masterauth: opt("masterauth"),
                timeout: timeout * 1000,
                diskless_load: c.string("repl-diskless-load") != "disabled",
                reconnect,
            },
            timeout,
        )
    };
    let clock = std::time::Instant::now();
    let now = || clock.elapsed().as_millis() as u64;
    let mut hs = Handshake::new(cfg, cached);
    for a in hs.handle(now(), Event::Start) {
        if let Action::Log(l, t) = a {
            log_action(l, &t);
        }
    }
    set_state(srv, gen, LinkState::Connecting);
    let conn = tokio::time::timeout(
        Duration::from_secs(timeout),
        TcpStream::connect((host.as_str(), port)),
    )
    .await;
    let mut sock = match conn {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            perform_logs(hs.handle(now(), Event::ConnectFailed(crate::persist::io_text(&e))));
            set_state(srv, gen, LinkState::Connect);
            return false;
        }
        Err(_) => {
            perform_logs(hs.handle(now(), Event::ConnectFailed("Connection timed out".into())));
            set_state(srv, gen, LinkState::Connect);
            return false;
        }
    };
    if srv.config.read().bool("repl-disable-tcp-nodelay") {
        let _ = sock.set_nodelay(false);
    } else {
        let _ = sock.set_nodelay(true);
    }
    set_state(srv, gen, LinkState::Handshake);
    let mut actions = hs.handle(now(), Event::Connected);
    let mut buf: Vec<u8> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let outcome = 'hs: loop {
        for a in std::mem::take(&mut actions) {
            match a {
                Action::Send(b) => {
                    if sock.write_all(&b).await.is_err() {
                        actions = hs.handle(now(), Event::Closed);
                        continue 'hs;
                    }
                }
                Action::Log(l, t) => log_action(l, &t),
                Action::DiscardCachedMaster => discard_cached(srv, gen),
                Action::StartRdb(start) => {
                    break 'hs Some(Outcome::Full(start, std::mem::take(&mut buf)))
                }
                Action::Continue {
                    replid,
                    reploff,
                    new_replid,
                } => {
                    break 'hs Some(Outcome::Continue {
                        replid,
                        reploff,
                        new_replid,
                        rest: std::mem::take(&mut buf),
                    })
                }
                Action::Abort => break 'hs None,
            }
        }
        if hs.is_finished() {
            break None;
        }
        // Lines already buffered first.
        match shoal_repl::handshake::take_line(&mut buf) {
            Ok(Some(line)) => {
                if hs.is_transferring() {
                    set_state(srv, gen, LinkState::Sync);
                }
                actions = hs.handle(now(), Event::Line(line));
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                warning!("{e}");
                break None;
            }
        }
        if !current(srv, gen) {
            break None;
        }
        let mut chunk = [0u8; 16 * 1024];
        tokio::select! {
            _ = srv.repl.gen_changed.notified() => break None,
            r = sock.read(&mut chunk) => match r {
                Ok(0) | Err(_) => actions = hs.handle(now(), Event::Closed),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            },
            _ = tick.tick() => actions = hs.handle(now(), Event::Tick),
        }
    };
    let Some(outcome) = outcome else {
        set_state(srv, gen, LinkState::Connect);
        return false;
    };
    let (rest, db) = match outcome {
        Outcome::Full(start, rest) => {
            match super::payload::receive_and_load(srv, gen, &mut sock, start, rest, timeout).await
            {
                Some(rest) => (rest, 0),
                None => {
                    set_state(srv, gen, LinkState::Connect);
                    return false;
                }
            }
        }
        Outcome::Continue {
            replid,
            reploff,
            new_replid,
            rest,
        } => match continue_partial(srv, gen, replid, reploff, new_replid) {
            Some(db) => {
                // The backlog exists from here on: writes after a promotion
                // must reach it.
                let s2 = srv.clone();
                let _ = tokio::task::spawn_blocking(move || super::ensure_sink(&s2)).await;
                (rest, db)
            }
            None => return false,
        },
    };
    stream(srv, gen, sock, rest, db, timeout, &host, port).await;
    true
}

fn perform_logs(actions: Vec<Action>) {
    for a in actions {
        if let Action::Log(l, t) = a {
            log_action(l, &t);
        }
    }
}

fn discard_cached(srv: &Server, gen: u64) {
    if with_link(srv, gen, |m| m.cached.take().is_some()) == Some(true) {
        notice!("Discarding previously cached master state.");
    }
}

/// `+CONTINUE`: adopt the master's ID (keeping ours as the secondary one, and
/// telling sub-replicas by disconnecting them) and resume at `reploff`.
/// Returns the stream's selected database.
fn continue_partial(
    srv: &Server,
    gen: u64,
    replid: shoal_repl::ReplId,
    reploff: i64,
    new_replid: Option<shoal_repl::ReplId>,
) -> Option<usize> {
    let mut st = srv.repl.st.lock();
    if srv.repl.gen.load(Relaxed) != gen {
        return None;
    }
    if let Some(new) = new_replid {
        st.ids.shift_to(new, reploff);
        for r in st.replicas.drain(..) {
            r.info.kill();
        }
    } else if st.ids.replid != replid {
        st.ids.replid = replid;
    }
    let keep = st
        .backlog
        .as_ref()
        .is_some_and(|b| b.master_repl_offset() == reploff);
    if !keep {
        st.backlog = Some(Backlog::new(backlog_size(srv), reploff));
    }
    st.offset = reploff;
    let m = st.master.as_mut()?;
    m.reploff = reploff;
    m.read_reploff = reploff;
    m.cached = None;
    Some(m.stream_db)
}

/// Applies the master's stream until the link drops or REPLICAOF changes it.
#[allow(clippy::too_many_arguments)]
async fn stream(
    srv: &Arc<Server>,
    gen: u64,
    sock: TcpStream,
    rest: Vec<u8>,
    db: usize,
    timeout: u64,
    host: &str,
    port: u16,
) {
    let (mut rd, mut wr) = sock.into_split();
    let now = unix_ms();
    let info = Arc::new(ClientInfo::new(
        srv.clients.next_id(),
        format!("{host}:{port}"),
        String::new(),
        -1,
        now,
    ));
    info.set_flag(cflag::MASTER, true);
    srv.clients.add(info.clone());
    let mut s = Session::new(
        info.clone(),
        srv.settings(),
        srv.settings_gen.load(Relaxed),
        true,
    );
    s.is_master = true;
    s.db = db;
    let mut reploff = {
        let mut st = srv.repl.st.lock();
        let off = st.master.as_ref().map_or(0, |m| m.reploff);
        if let Some(m) = st.master.as_mut() {
            m.state = LinkState::Connected;
            m.last_io_ms = now;
            m.down_since_ms = 0;
        }
        off
    };
    srv.repl.link_up.store(true, Relaxed);
    super::refresh_checks(srv);
    let mut parser = shoal_resp::RequestParser::new(shoal_resp::Limits {
        max_bulk_len: usize::MAX >> 1,
        max_query_buf: usize::MAX >> 1,
    });
    let mut out = shoal_resp::ReplyWriter::new(shoal_resp::Proto::Resp2);
    let mut rbuf = BytesMut::from(&rest[..]);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut shutdown = srv.shutdown_rx();
    let mut last_io = now;
    let ack = |off: i64| {
        let o = off.to_string();
        shoal_repl::encode_command(&[b"REPLCONF", b"ACK", o.as_bytes()])
    };
    // Whether the link was lost (logged, master cached) rather than ended by
    // REPLICAOF or shutdown.
    let mut lost = true;
    // The first ACK tells a diskless master to start the stream.
    if wr.write_all(&ack(reploff)).await.is_ok() {
        'link: loop {
            // Apply every complete command buffered. The parser keeps a partial
            // command inside itself, so what a command used is measured by its
            // encoding: masters (Redis's and ours) send canonical RESP multibulk,
            // which is also what goes on to our backlog and sub-replicas.
            if !rbuf.is_empty() {
                let mut applied: Vec<u8> = Vec::new();
                loop {
                    let argv = match parser.parse(&mut rbuf) {
                        Ok(Some(argv)) => argv,
                        Ok(None) => break,
                        Err(e) => {
                            warning!("Protocol error from MASTER: {e}");
                            break 'link;
                        }
                    };
                    if argv.is_empty() {
                        continue;
                    }
                    let before = applied.len();
                    shoal_resp::put_command(&mut applied, argv.iter().map(|a| &a[..]));
                    if is_getack(&argv) {
                        // The ACK names what was applied before this command.
                        let off = reploff + before as i64;
                        if wr.write_all(&ack(off)).await.is_err() {
                            break 'link;
                        }
                    } else {
                        apply(srv, &mut s, &mut out, &argv).await;
                    }
                    parser.recycle(argv);
                }
                if !applied.is_empty() {
                    reploff += applied.len() as i64;
                    let mut st = srv.repl.st.lock();
                    if srv.repl.gen.load(Relaxed) != gen {
                        lost = false;
                        break 'link;
                    }
                    st.feed(&applied);
                    if let Some(m) = st.master.as_mut() {
                        m.reploff = reploff;
                        m.read_reploff = reploff;
                        m.stream_db = s.db;
                    }
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            tokio::select! {
                _ = srv.repl.gen_changed.notified() => { lost = false; break 'link; }
                _ = info.kill_notify.notified() => break 'link,
                _ = shutdown.changed() => { lost = false; break 'link; }
                r = rd.read(&mut chunk) => match r {
                    Ok(0) | Err(_) => break 'link,
                    Ok(n) => {
                        rbuf.extend_from_slice(&chunk[..n]);
                        last_io = unix_ms();
                        let total = info.tot_net_in.load(Relaxed);
                        info.tot_net_in.store(total + n as u64, Relaxed);
                        let mut st = srv.repl.st.lock();
                        if let Some(m) = st.master.as_mut() {
                            m.last_io_ms = last_io;
                            m.read_reploff += n as i64;
                        }
                    }
                },
                _ = tick.tick() => {
                    if !current(srv, gen) {
                        lost = false;
                        break 'link;
                    }
                    if unix_ms() - last_io > timeout as i64 * 1000 {
                        warning!("MASTER timeout: no data nor PING received...");
                        break 'link;
                    }
                    if wr.write_all(&ack(reploff)).await.is_err() {
                        break 'link;
                    }
                }
            }
        }
    }
    srv.clients.remove(info.id);
    crate::cmd::multi::forget_watches(srv, &mut s);
    let mut st = srv.repl.st.lock();
    if srv.repl.gen.load(Relaxed) != gen {
        return;
    }
    srv.repl.link_up.store(false, Relaxed);
    let replid = st.ids.replid;
    if let Some(m) = st.master.as_mut() {
        if lost {
            warning!("Connection with master lost.");
            notice!("Caching the disconnected master state.");
        }
        m.cached = Some(CachedMaster {
            replid,
            reploff: m.reploff,
        });
        m.state = LinkState::Connect;
        m.down_since_ms = unix_ms();
    }
    drop(st);
    super::refresh_checks(srv);
}

fn is_getack(argv: &[bytes::Bytes]) -> bool {
    argv.len() >= 2
        && argv[0].eq_ignore_ascii_case(b"replconf")
        && argv[1].eq_ignore_ascii_case(b"getack")
}

/// Runs one command of the master's stream (replies discarded).
async fn apply(
    srv: &Arc<Server>,
    s: &mut Session,
    out: &mut shoal_resp::ReplyWriter,
    argv: &[bytes::Bytes],
) {
    // A script running on this replica owns the keyspace: wait for it.
    let mut waited = 0u32;
    while !srv.gate.enter() {
        srv.gate.wait(Duration::from_millis(100)).await;
        waited += 1;
        if waited > 100_000 {
            return;
        }
    }
    s.now_ms = unix_ms();
    dispatch(srv, s, out, argv);
    srv.gate.leave();
    out.buf.clear();
    let _ = out.take_error_codes();
}

/// The state a server turned replica starts from (REPLICAOF at run time,
/// `replicaof` at start-up): our own history as a cached master, so a partial
/// resync is possible with a master that shares it.
pub fn master_info(host: String, port: u16) -> MasterInfo {
    MasterInfo {
        host,
        port,
        state: LinkState::Connect,
        last_io_ms: 0,
        down_since_ms: 0,
        reploff: 0,
        read_reploff: 0,
        cached: None,
        stream_db: 0,
        sync_total: 0,
        sync_read: 0,
        sync_last_io_ms: 0,
    }
}
