//! CLIENT and its subcommands.

use super::conn::{valid_client_name, BAD_CLIENT_NAME};
use super::{help_reply, lossy, SCtx, ServerHandler};
use crate::client::{cflag, ClientInfo};
use crate::server::{unix_ms, PauseKind};
use crate::session::{After, ReplyMode};
use bytes::Bytes;
use shoal_commands::{args, errors};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

pub const HANDLERS: &[(&str, ServerHandler)] = &[("client", client)];

fn client(c: &mut SCtx, argv: &[Bytes]) {
    let sub = lossy(&argv[1]).to_ascii_lowercase();
    match sub.as_str() {
        "id" => c.out.int(c.s.info.id as i64),
        "getname" => match c.s.info.name.lock().clone() {
            Some(n) => c.out.bulk(&n),
            None => c.out.null(),
        },
        "setname" => {
            let n = &argv[2];
            if !valid_client_name(n) {
                return c.out.error(BAD_CLIENT_NAME);
            }
            *c.s.info.name.lock() = if n.is_empty() { None } else { Some(n.clone()) };
            c.out.ok();
        }
        "info" => {
            let line = describe(c.srv, &c.s.info);
            c.out.verbatim("txt", format!("{line}\n").as_bytes());
        }
        "list" => list(c, argv),
        "kill" => kill(c, argv),
        "unblock" => unblock(c, argv),
        "tracking" => super::tracking::tracking(c, argv),
        "caching" => super::tracking::caching(c, argv),
        "getredir" => super::tracking::getredir(c),
        "trackinginfo" => super::tracking::trackinginfo(c),
        "pause" => pause(c, argv),
        "unpause" => {
            c.srv.pause.lock().kind = PauseKind::None;
            c.srv.pause_active.store(false, Relaxed);
            c.srv.pause_changed.notify_waiters();
            c.out.ok();
        }
        "reply" => {
            let a = &argv[2];
            if args::is(a, "ON") {
                c.s.reply_mode = ReplyMode::On;
                c.out.ok();
            } else if args::is(a, "OFF") {
                c.s.reply_mode = ReplyMode::Off;
            } else if args::is(a, "SKIP") {
                if c.s.reply_mode != ReplyMode::Off {
                    c.s.reply_mode = ReplyMode::SkipNext;
                }
            } else {
                c.out.error(errors::SYNTAX);
            }
        }
        "no-evict" => {
            let a = &argv[2];
            if args::is(a, "ON") || args::is(a, "OFF") {
                c.s.info.set_flag(cflag::NO_EVICT, args::is(a, "ON"));
                c.out.ok();
            } else {
                c.out.error(errors::SYNTAX);
            }
        }
        "help" => help_reply(
            c.out,
            "CLIENT",
            &[
                "ID",
                "    The id of this connection.",
                "GETNAME",
                "    The name of this connection.",
                "SETNAME <name>",
                "    Name this connection (an empty name removes it).",
                "INFO",
                "    A CLIENT LIST line about this connection.",
                "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
                "    One line per connection, optionally filtered.",
                "KILL <ip:port>",
                "    Close the connection from <ip:port>.",
                "KILL <filter> <value> [<filter> <value> ...]",
                "    Close the connections matching every filter: ID, ADDR, LADDR, TYPE, USER,",
                "    SKIPME (YES|NO, default YES: never this connection).",
                "PAUSE <timeout> [WRITE|ALL]",
                "    Hold back all commands, or only writes, for <timeout> milliseconds.",
                "UNPAUSE",
                "    End a pause now.",
                "REPLY (ON|OFF|SKIP)",
                "    Turn replies to this connection on or off, or skip the next one.",
                "NO-EVICT (ON|OFF)",
                "    Exempt this connection from client eviction.",
            ],
        ),
        _ => c.out.error(&format!(
            "ERR CLIENT {} is not available in this version of Shoal yet",
            sub.to_ascii_uppercase()
        )),
    }
}

fn kind_of(info: &ClientInfo) -> &'static str {
    if info.has_flag(cflag::MONITOR) {
        "monitor"
    } else if info.has_flag(cflag::REPLICA) {
        "replica"
    } else if info.has_flag(cflag::MASTER) {
        "master"
    } else if info.has_flag(cflag::PUBSUB) {
        "pubsub"
    } else {
        "normal"
    }
}

fn parse_kind(b: &[u8]) -> Option<&'static str> {
    let s = lossy(b).to_ascii_lowercase();
    match s.as_str() {
        "normal" => Some("normal"),
        "master" => Some("master"),
        "replica" | "slave" => Some("replica"),
        "pubsub" => Some("pubsub"),
        _ => None,
    }
}

/// Whether `info` is of the CLIENT LIST / KILL type `kind`.
fn is_kind(info: &ClientInfo, kind: &str) -> bool {
    match kind {
        // MONITOR clients count as normal ones for the filters, as in Redis.
        "normal" => matches!(kind_of(info), "normal" | "monitor"),
        "master" | "replica" => kind_of(info) == kind,
        _ => false,
    }
}

fn flags_text(info: &ClientInfo) -> String {
    let mut f = String::new();
    if info.has_flag(cflag::REPLICA) {
        f.push('S');
    }
    if info.has_flag(cflag::MASTER) {
        f.push('M');
    }
    if info.has_flag(cflag::MONITOR) {
        f.push('O');
    }
    if info.has_flag(cflag::PUBSUB) {
        f.push('P');
    }
    if info.has_flag(cflag::MULTI) {
        f.push('x');
    }
    if info.has_flag(cflag::BLOCKED) {
        f.push('b');
    }
    if info.has_flag(cflag::TRACKING) {
        f.push('t');
    }
    if info.has_flag(cflag::TRACKING_BROKEN_REDIR) {
        f.push('R');
    }
    if info.has_flag(cflag::TRACKING_BCAST) {
        f.push('B');
    }
    if info.has_flag(cflag::DIRTY_CAS) {
        f.push('d');
    }
    if info.has_flag(cflag::UNIX_SOCKET) {
        f.push('U');
    }
    if info.has_flag(cflag::NO_EVICT) {
        f.push('e');
    }
    if f.is_empty() {
        f.push('N');
    }
    f
}

/// One CLIENT LIST line (without the newline): also how the log names a client.
pub fn describe(srv: &crate::server::Server, info: &Arc<ClientInfo>) -> String {
    let now = unix_ms();
    let name = info
        .name
        .lock()
        .as_ref()
        .map(|n| lossy(n))
        .unwrap_or_default();
    let cmd = match info.last_cmd.load(Relaxed) {
        0 => "NULL".to_string(),
        id => srv
            .registry
            .entries
            .get(id - 1)
            .map(|e| e.full_name.clone())
            .unwrap_or_else(|| "NULL".to_string()),
    };
    let qbuf = info.qbuf.load(Relaxed);
    let qfree = info.qbuf_free.load(Relaxed);
    let subs = info.subs.lock();
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp=0 obl=0 oll=0 omem=0 tot-mem={} events=r cmd={} user={} redir=-1 resp={}",
        info.id,
        info.addr,
        info.laddr,
        info.fd,
        name,
        (now - info.created_ms).max(0) / 1000,
        (now - info.last_interaction_ms.load(Relaxed)).max(0) / 1000,
        flags_text(info),
        info.db.load(Relaxed),
        subs.channels.len(),
        subs.patterns.len(),
        subs.shard.len(),
        info.multi.load(Relaxed),
        qbuf,
        qfree,
        qbuf + qfree,
        qbuf + qfree + 1024,
        cmd,
        info.user.lock(),
        info.resp.load(Relaxed),
    )
}

fn list(c: &mut SCtx, argv: &[Bytes]) {
    let mut kind: Option<&'static str> = None;
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 2;
    while i < argv.len() {
        if args::is(&argv[i], "TYPE") && i + 1 < argv.len() {
            match parse_kind(&argv[i + 1]) {
                Some(k) => kind = Some(k),
                None => {
                    return c.out.error(&format!(
                        "ERR Unknown client type '{}'",
                        lossy(&argv[i + 1])
                    ))
                }
            }
            i += 2;
        } else if args::is(&argv[i], "ID") && i + 1 < argv.len() {
            let mut v = Vec::new();
            i += 1;
            while i < argv.len() {
                match shoal_ds::num::parse_i64(&argv[i]) {
                    Some(id) if id > 0 => v.push(id as u64),
                    _ => return c.out.error("ERR Invalid client ID"),
                }
                i += 1;
            }
            ids = Some(v);
        } else {
            return c.out.error(errors::SYNTAX);
        }
    }
    let mut text = String::new();
    for info in c.srv.clients.snapshot() {
        if kind.is_some_and(|k| !is_kind(&info, k)) {
            continue;
        }
        if ids.as_ref().is_some_and(|v| !v.contains(&info.id)) {
            continue;
        }
        text.push_str(&describe(c.srv, &info));
        text.push('\n');
    }
    c.out.verbatim("txt", text.as_bytes());
}

fn kill(c: &mut SCtx, argv: &[Bytes]) {
    // Old form: CLIENT KILL ip:port
    if argv.len() == 3 {
        let addr = lossy(&argv[2]);
        let target = c
            .srv
            .clients
            .snapshot()
            .into_iter()
            .find(|i| i.addr == addr);
        return match target {
            Some(t) => {
                kill_one(c, &t);
                c.out.ok();
            }
            None => c.out.error("ERR No such client"),
        };
    }
    let mut id: Option<u64> = None;
    let mut addr: Option<String> = None;
    let mut laddr: Option<String> = None;
    let mut kind: Option<&'static str> = None;
    let mut user: Option<String> = None;
    let mut skipme = true;
    let mut i = 2;
    while i < argv.len() {
        if i + 1 >= argv.len() {
            return c.out.error(errors::SYNTAX);
        }
        let (opt, val) = (&argv[i], &argv[i + 1]);
        if args::is(opt, "ID") {
            match shoal_ds::num::parse_i64(val) {
                Some(v) if v > 0 => id = Some(v as u64),
                _ => return c.out.error("ERR client-id should be greater than 0"),
            }
        } else if args::is(opt, "TYPE") {
            match parse_kind(val) {
                Some(k) => kind = Some(k),
                None => {
                    return c
                        .out
                        .error(&format!("ERR Unknown client type '{}'", lossy(val)))
                }
            }
        } else if args::is(opt, "ADDR") {
            addr = Some(lossy(val));
        } else if args::is(opt, "LADDR") {
            laddr = Some(lossy(val));
        } else if args::is(opt, "USER") {
            // Only the default user exists until ACLs arrive.
            if &val[..] != b"default" {
                return c.out.error(&format!("ERR No such user '{}'", lossy(val)));
            }
            user = Some(lossy(val));
        } else if args::is(opt, "SKIPME") {
            if args::is(val, "YES") {
                skipme = true;
            } else if args::is(val, "NO") {
                skipme = false;
            } else {
                return c.out.error(errors::SYNTAX);
            }
        } else {
            return c.out.error(errors::SYNTAX);
        }
        i += 2;
    }
    let mut killed = 0;
    for info in c.srv.clients.snapshot() {
        if id.is_some_and(|v| v != info.id)
            || addr.as_ref().is_some_and(|a| *a != info.addr)
            || laddr.as_ref().is_some_and(|a| *a != info.laddr)
            || kind.is_some_and(|k| !is_kind(&info, k))
            || user.as_ref().is_some_and(|u| *u != *info.user.lock())
            || (skipme && info.id == c.s.info.id)
        {
            continue;
        }
        kill_one(c, &info);
        killed += 1;
    }
    c.out.int(killed);
}

fn kill_one(c: &mut SCtx, info: &Arc<ClientInfo>) {
    if info.id == c.s.info.id {
        // The reply still goes out; the connection closes right after.
        c.s.after = After::Close;
    } else {
        info.kill();
    }
}

fn pause(c: &mut SCtx, argv: &[Bytes]) {
    let ms = match shoal_ds::num::parse_i64(&argv[2]) {
        Some(v) if v < 0 => return c.out.error(errors::TIMEOUT_NEGATIVE),
        Some(v) => v,
        None => return c.out.error("ERR timeout is not an integer or out of range"),
    };
    let kind = match argv.get(3) {
        None => PauseKind::All,
        Some(a) if args::is(a, "ALL") => PauseKind::All,
        Some(a) if args::is(a, "WRITE") => PauseKind::Write,
        Some(_) => return c.out.error("ERR CLIENT PAUSE mode must be WRITE or ALL"),
    };
    if argv.len() > 4 {
        return c.out.error(errors::SYNTAX);
    }
    let until = unix_ms().saturating_add(ms);
    {
        let mut p = c.srv.pause.lock();
        // A new pause never shortens or weakens one in force (as in Redis).
        let active = p.kind != PauseKind::None && p.until_ms > unix_ms();
        if !active || p.kind == kind || kind == PauseKind::All {
            p.kind = if active && p.kind == PauseKind::All {
                PauseKind::All
            } else {
                kind
            };
        }
        p.until_ms = if active { p.until_ms.max(until) } else { until };
        c.srv.pause_active.store(true, Relaxed);
    }
    c.srv.pause_changed.notify_waiters();
    c.out.ok();
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends a wait on keys (not WAIT, as in Redis).
fn unblock(c: &mut SCtx, argv: &[Bytes]) {
    if argv.len() > 4 {
        return c.out.error(
            "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.",
        );
    }
    let id = match args::int(&argv[2]) {
        Ok(v) => v,
        Err(e) => return c.out.error(e),
    };
    let error = match argv.get(3) {
        None => false,
        Some(a) if args::is(a, "TIMEOUT") => false,
        Some(a) if args::is(a, "ERROR") => true,
        Some(_) => {
            return c
                .out
                .error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        }
    };
    let done = u64::try_from(id).is_ok_and(|id| c.srv.blocking.unblock(id, error));
    c.out.int(done as i64);
}
