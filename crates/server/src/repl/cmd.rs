//! The replication commands: REPLICAOF/SLAVEOF, ROLE, WAIT, REPLCONF, PSYNC,
//! SYNC. Replies and errors are Redis 7.0.15's (see tests/corpus/replication.txt).

use super::master::{count_acks, send_getack, SyncRequest};
use super::{replica, set_role_flags, LinkState};
use crate::client::cflag;
use crate::cmd::{SCtx, ServerHandler};
use crate::server::unix_ms;
use crate::session::Deferred;
use crate::{notice, warning};
use bytes::Bytes;
use shoal_commands::{args, errors};
use std::sync::atomic::Ordering::Relaxed;

pub const HANDLERS: &[(&str, ServerHandler)] = &[
    ("replicaof", replicaof),
    ("slaveof", replicaof),
    ("role", role),
    ("wait", wait),
    ("replconf", replconf),
    ("psync", psync),
    ("sync", sync),
];

const WAIT_ON_REPLICA: &str = "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.";

fn replicaof(c: &mut SCtx, argv: &[Bytes]) {
    if c.s.info.has_flag(cflag::REPLICA) {
        return c
            .out
            .error("ERR Command is not valid when client is a replica.");
    }
    if args::is(&argv[1], "no") && args::is(&argv[2], "one") {
        let who = crate::cmd::client::describe(c.srv, &c.s.info);
        unset_master(c.srv, &who);
        return c.out.ok();
    }
    let port = match shoal_ds::num::parse_i64(&argv[2]) {
        Some(p) if (0..=65535).contains(&p) => p as u16,
        _ => return c.out.error("ERR Invalid master port"),
    };
    let host = String::from_utf8_lossy(&argv[1]).into_owned();
    {
        let st = c.srv.repl.st.lock();
        if let Some(m) = &st.master {
            if m.host.eq_ignore_ascii_case(&host) && m.port == port {
                drop(st);
                notice!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
                return c.out.simple("OK Already connected to specified master");
            }
        }
    }
    set_master(c.srv, host.clone(), port);
    let who = crate::cmd::client::describe(c.srv, &c.s.info);
    notice!("REPLICAOF {host}:{port} enabled (user request from '{who}')");
    c.out.ok();
}

/// Turns this server into a replica of `host:port` (REPLICAOF, and `replicaof`
/// at start-up after the dataset is loaded).
pub fn set_master(srv: &std::sync::Arc<crate::server::Server>, host: String, port: u16) {
    {
        let mut st = srv.repl.st.lock();
        srv.repl.next_gen();
        let prev = st.master.take();
        let replid = st.ids.replid;
        let mut info = replica::master_info(host.clone(), port);
        match prev {
            Some(m) => {
                // Switching masters: the link's state is cached (a partial
                // resync with the new master may be possible).
                if m.state == LinkState::Connected {
                    warning!("Connection with master lost.");
                    notice!("Caching the disconnected master state.");
                }
                info.cached = if m.state == LinkState::Connected {
                    Some(shoal_repl::CachedMaster {
                        replid,
                        reploff: m.reploff,
                    })
                } else {
                    m.cached
                };
                info.reploff = m.reploff;
                info.read_reploff = m.reploff;
                info.stream_db = m.stream_db;
            }
            None => {
                notice!("Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
                info.cached = Some(shoal_repl::CachedMaster {
                    replid,
                    reploff: st.offset,
                });
                info.reploff = st.offset;
                info.read_reploff = st.offset;
            }
        }
        st.master = Some(info);
    }
    srv.repl.link_up.store(false, Relaxed);
    srv.config.write().set_replicaof(Some((host, port)));
    set_role_flags(srv, true);
    replica::spawn(srv);
}

/// REPLICAOF NO ONE: this replica becomes a master with a new history, the old
/// one kept as the secondary ID so that its replicas continue partially.
pub fn unset_master(srv: &std::sync::Arc<crate::server::Server>, who: &str) {
    {
        let mut st = srv.repl.st.lock();
        let Some(m) = st.master.take() else {
            return;
        };
        srv.repl.next_gen();
        if m.state == LinkState::Connected {
            warning!("Connection with master lost.");
            notice!("Caching the disconnected master state.");
            notice!("Discarding previously cached master state.");
        } else if m.cached.is_some() {
            notice!("Discarding previously cached master state.");
        }
        let offset = st.offset;
        let line = st.ids.shift(offset, &mut rand::thread_rng());
        warning!("{line}");
        // Sub-replicas learn the new ID by reconnecting (a partial resync).
        for r in st.replicas.drain(..) {
            r.info.kill();
        }
        st.no_replicas_since_ms = unix_ms();
    }
    srv.repl.link_up.store(false, Relaxed);
    // The next unit of our own stream selects its database.
    srv.propagation
        .reset_selected_db(crate::propagate::target::REPL);
    srv.config.write().set_replicaof(None);
    set_role_flags(srv, false);
    notice!("MASTER MODE enabled (user request from '{who}')");
}

fn role(c: &mut SCtx, _argv: &[Bytes]) {
    let st = c.srv.repl.st.lock();
    match &st.master {
        Some(m) => {
            c.out.array(5);
            c.out.bulk_str("slave");
            c.out.bulk_str(&m.host);
            c.out.int(m.port as i64);
            c.out.bulk_str(m.state.role_name());
            c.out.int(if m.state == LinkState::Connected {
                m.reploff
            } else {
                -1
            });
        }
        None => {
            c.out.array(3);
            c.out.bulk_str("master");
            c.out.int(st.offset);
            let online: Vec<_> = st
                .replicas
                .iter()
                .filter(|r| r.state.load(Relaxed) == super::master::state::ONLINE)
                .collect();
            c.out.array(online.len());
            for r in online {
                c.out.array(3);
                c.out.bulk_str(&r.ip);
                c.out.bulk_str(&r.port.to_string());
                c.out.bulk_str(&r.ack_off.load(Relaxed).to_string());
            }
        }
    }
}

/// WAIT numreplicas timeout: the number of replicas that acknowledged the
/// stream up to this point, once `numreplicas` did or the timeout (ms, 0 =
/// none) passed. The offset waited for is the stream's offset when WAIT runs
/// (Redis takes the client's last write; this is never earlier).
fn wait(c: &mut SCtx, argv: &[Bytes]) {
    if c.srv.repl.is_replica.load(Relaxed) {
        return c.out.error(WAIT_ON_REPLICA);
    }
    let wanted = match args::int(&argv[1]) {
        Ok(v) => v,
        Err(e) => return c.out.error(e),
    };
    let timeout = match shoal_ds::num::parse_i64(&argv[2]) {
        Some(v) if v < 0 => return c.out.error(errors::TIMEOUT_NEGATIVE),
        Some(v) => v,
        None => return c.out.error("ERR timeout is not an integer or out of range"),
    };
    let offset = c.srv.repl.st.lock().offset;
    let acked = count_acks(c.srv, offset);
    if acked as i64 >= wanted || c.s.in_exec || c.s.in_script {
        return c.out.int(acked as i64);
    }
    send_getack(c.srv);
    let srv = c.srv.clone();
    let mut rx = srv.repl.acks.subscribe();
    c.s.block = Some(Box::pin(async move {
        let deadline = (timeout > 0).then(|| {
            tokio::time::Instant::now() + std::time::Duration::from_millis(timeout as u64)
        });
        loop {
            let n = count_acks(&srv, offset);
            if n as i64 >= wanted {
                return Deferred::Int(n as i64);
            }
            match deadline {
                Some(d) => {
                    tokio::select! {
                        r = rx.changed() => if r.is_err() { return Deferred::Int(n as i64) },
                        _ = tokio::time::sleep_until(d) => return Deferred::Int(count_acks(&srv, offset) as i64),
                    }
                }
                None => {
                    if rx.changed().await.is_err() {
                        return Deferred::Int(n as i64);
                    }
                }
            }
        }
    }));
}

/// REPLCONF <option> <value> ...: what a replica tells its master before PSYNC.
/// ACK and GETACK get no reply from an ordinary client, as in Redis.
fn replconf(c: &mut SCtx, argv: &[Bytes]) {
    if argv.len().is_multiple_of(2) {
        return c.out.error(errors::SYNTAX);
    }
    let mut conf = c.s.replconf.clone();
    for pair in argv[1..].chunks(2) {
        let (opt, val) = (&pair[0], &pair[1]);
        if args::is(opt, "listening-port") {
            match args::int(val) {
                Ok(p) => conf.listening_port = p as u16,
                Err(e) => return c.out.error(e),
            }
        } else if args::is(opt, "ip-address") {
            conf.ip = Some(String::from_utf8_lossy(val).into_owned());
        } else if args::is(opt, "capa") {
            if args::is(val, "eof") {
                conf.capa_eof = true;
            } else if args::is(val, "psync2") {
                conf.capa_psync2 = true;
            }
        } else if args::is(opt, "ack") || args::is(opt, "getack") {
            // Only meaningful on a replica link (served in repl::master).
            return;
        } else if args::is(opt, "rdb-only") {
            match args::int(val) {
                Ok(0 | 1) => {}
                _ => return c.out.error("ERR value is not an integer or out of range"),
            }
        } else if args::is(opt, "rdb-filter-only") {
            if !val.is_empty() && !args::is(val, "functions") {
                return c.out.error(&format!(
                    "ERR Unsupported rdb-filter-only option: {}",
                    String::from_utf8_lossy(val)
                ));
            }
        } else {
            return c.out.error(&format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            ));
        }
    }
    c.s.replconf = conf;
    c.out.ok();
}

fn psync(c: &mut SCtx, argv: &[Bytes]) {
    let offset = match shoal_repl::ids::parse_psync_offset(&argv[2]) {
        Ok(o) => o,
        Err(_) => return c.out.error("ERR value is not an integer or out of range"),
    };
    start_sync(c, true, argv[1].to_vec(), offset);
}

fn sync(c: &mut SCtx, _argv: &[Bytes]) {
    start_sync(c, false, b"?".to_vec(), -1);
}

fn start_sync(c: &mut SCtx, psync: bool, replid: Vec<u8>, offset: i64) {
    // A replica asking again is ignored, as in Redis.
    if c.s.info.has_flag(cflag::REPLICA) {
        return;
    }
    if c.srv.repl.is_replica.load(Relaxed) && !c.srv.repl.link_up.load(Relaxed) {
        return c
            .out
            .error("NOMASTERLINK Can't SYNC while not connected with my master");
    }
    c.s.sync = Some(Box::new(SyncRequest {
        psync,
        replid,
        offset,
        conf: c.s.replconf.clone(),
    }));
}
