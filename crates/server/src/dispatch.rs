//! Dispatch: every generic check in one place, then the call.
//!
//! The order of checks follows Redis's: command lookup (and subcommand), arity,
//! authentication, then the state checks that later issues add here and only here
//! (ACL, cluster routing, OOM, MISCONF, min-replicas, read-only replica, subscribed
//! mode, loading, busy script, MULTI queuing). `call` runs the command, measures
//! it, and records statistics, the slow log and the MONITOR feed. Handlers never
//! repeat these checks.

use crate::client::{cflag, ClientInfo};
use crate::cmd::SCtx;
use crate::registry::{Entry, Exec, Resolved};
use crate::server::{unix_ms, Server};
use crate::session::Session;
use crate::signals;
use crate::stats::{self, ThreadStats};
use bytes::Bytes;
use shoal_commands::spec::flag;
use shoal_commands::Settings;
use shoal_commands::{errors, Ctx, Propagate};
use shoal_keyspace::{ExpireMode, Lfu, Now};
use shoal_resp::{Proto, ReplyWriter};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

/// Runs one request from `s`'s connection, writing its reply into `out`.
pub fn dispatch(srv: &Arc<Server>, s: &mut Session, out: &mut ReplyWriter, argv: &[Bytes]) {
    let (top, e) = match srv.registry.resolve(argv) {
        Resolved::Found { top, e } => (top, e),
        Resolved::UnknownCommand => {
            return reject(srv, s, out, None, &errors::unknown_command(argv));
        }
        Resolved::UnknownSubcommand(top) => {
            let msg = errors::unknown_subcommand(&argv[1], &top.full_name.to_ascii_uppercase());
            return reject(srv, s, out, None, &msg);
        }
    };
    if !e.spec.arity_ok(argv.len()) {
        return reject(srv, s, out, Some(e), &errors::wrong_arity(&e.full_name));
    }
    if !s.authenticated && !e.has(flag::NO_AUTH) {
        return reject(srv, s, out, Some(e), errors::NOAUTH);
    }
    // maxmemory: evict as the policy asks; OOM when nothing more can go.
    // Our master's stream is never refused (a replica not ignoring maxmemory
    // still evicts before applying it).
    if crate::evict::before_command(srv, s, out)
        && !s.is_master
        && crate::evict::refused_when_oom(srv, s, top, e, argv)
    {
        return reject(srv, s, out, Some(e), crate::evict::OOM_ERROR);
    }
    // MISCONF: writes (and PING, as in Redis) after a failed background save;
    // an EXEC counts as a write when a write is queued (the save may have
    // failed after queuing).
    if srv.persist.misconf.load(Relaxed)
        && !s.is_master
        && (writes(srv, e, argv) || top.spec.name == "ping" || queues_write(srv, s, top))
    {
        return reject(srv, s, out, Some(e), errors::MISCONF);
    }
    // Replication: min-replicas, read-only replica, stale data, loading.
    if srv.repl.checks.load(Relaxed) && !s.is_master {
        let write = writes(srv, e, argv) || queues_write(srv, s, top);
        if let Some(msg) =
            crate::repl::refusal(srv, write, e.has(flag::STALE), e.has(flag::LOADING))
        {
            return reject(srv, s, out, Some(e), msg);
        }
    }
    // The checks below concern rare states (a transaction being queued, RESP2
    // subscribed mode, a busy script): one branch skips them all.
    if s.multi.is_some() || s.subscriptions > 0 || s.script_busy {
        if let Some(msg) = state_check(srv, s, top, e) {
            return reject(srv, s, out, Some(e), &msg);
        }
        if let Some(m) = &mut s.multi {
            if !matches!(
                top.spec.name,
                "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
            ) {
                m.queued.push((e.id, argv.to_vec()));
                s.info.multi.store(m.queued.len() as i64, Relaxed);
                return out.simple("QUEUED");
            }
        }
    }
    call(srv, s, out, e, argv);
}

/// An EXEC whose transaction holds a write command.
fn queues_write(srv: &Server, s: &Session, top: &Entry) -> bool {
    top.spec.name == "exec"
        && s.multi.as_ref().is_some_and(|m| {
            m.queued.iter().any(|(id, argv)| {
                srv.registry
                    .entries
                    .get(*id)
                    .is_some_and(|e| writes(srv, e, argv))
            })
        })
}

/// Whether a command counts as a write for MISCONF: its WRITE flag, or for
/// EVAL, EVALSHA and FCALL the script's own flags, as Redis 7.0 takes them: a
/// shebang script or a function without `no-writes` is a write; a script
/// without a shebang is not (its writes are refused inside, by the script host).
fn writes(srv: &Server, e: &Entry, argv: &[Bytes]) -> bool {
    if e.has(flag::WRITE) {
        return true;
    }
    let Some(arg) = argv.get(1) else {
        return false;
    };
    let writing = |f: &shoal_script::ScriptFlags| f.has_shebang && !f.no_writes;
    match e.spec.name {
        "eval" => shoal_script::shebang::parse_eval_body(arg).is_ok_and(|(f, _)| writing(&f)),
        "evalsha" => {
            let sha = arg.to_ascii_lowercase();
            let eng = srv.scripting.eval.lock();
            eng.get(&sha).is_some_and(|s| writing(&s.flags))
        }
        "fcall" => {
            let fe = srv.scripting.functions.lock();
            fe.function(arg).is_some_and(|(_, d)| !d.flags.no_writes)
        }
        _ => false,
    }
}

/// The refusals of the rare states, in Redis's order: no-multi commands inside a
/// transaction, RESP2 subscribed mode, a busy script.
fn state_check(
    srv: &Server,
    s: &Session,
    top: &Entry,
    e: &Entry,
) -> Option<std::borrow::Cow<'static, str>> {
    if s.multi.is_some() && e.has(flag::NO_MULTI) {
        return Some(errors::NOT_IN_MULTI.into());
    }
    if s.subscriptions > 0
        && s.proto == Proto::Resp2
        && !crate::cmd::pubsub::allowed_in_subscribed_mode(top.spec.name)
    {
        return Some(errors::subscribed_mode(&e.full_name).into());
    }
    if s.script_busy && !e.has(flag::ALLOW_BUSY) {
        return Some(srv.gate.busy_error().into());
    }
    None
}

fn reject(srv: &Server, s: &mut Session, out: &mut ReplyWriter, e: Option<&Entry>, msg: &str) {
    // An error before queuing dooms the transaction (EXECABORT at EXEC).
    if let Some(m) = &mut s.multi {
        m.failed = true;
    }
    if e.is_some_and(|e| e.spec.name == "exec") {
        // A rejected EXEC ends the transaction at once, with or without MULTI
        // (Redis's `execCommandAbort`): the reason loses its "ERR " code only.
        crate::cmd::multi::abort(srv, s);
        let why = msg.strip_prefix("ERR ").unwrap_or(msg);
        out.error(&format!(
            "EXECABORT Transaction discarded because of: {why}"
        ));
    } else {
        out.error(msg);
    }
    stats::local(|t| {
        if let Some(e) = e {
            ThreadStats::add(&t.cmds[e.id].rejected, 1);
        }
        for code in out.take_error_codes() {
            t.count_error(&code);
        }
    });
}

/// The clock and expiry mode commands run under (`master_client`: a replica's
/// master link, which never expires keys itself).
pub fn now_for(settings: &Settings, ms: i64, master_client: bool) -> Now {
    let expire = if master_client {
        ExpireMode::Never
    } else if settings.replica {
        ExpireMode::HideOnly
    } else {
        ExpireMode::Delete
    };
    Now {
        ms,
        expire,
        lfu: settings.lfu_policy.then_some(Lfu {
            log_factor: settings.lfu_log_factor.clamp(0, u32::MAX as i64) as u32,
            decay_time: settings.lfu_decay_time.clamp(0, u32::MAX as i64) as u32,
        }),
    }
}

/// What a finished command reports for statistics, the slow log and MONITOR.
pub struct Outcome {
    pub us: u64,
    pub dirty: u64,
    pub expired: u64,
    pub hits: u64,
    pub misses: u64,
}

/// Executes a command that passed every check.
pub fn call(srv: &Arc<Server>, s: &mut Session, out: &mut ReplyWriter, e: &Entry, argv: &[Bytes]) {
    refresh_settings(srv, s);
    s.info.last_cmd.store(e.id + 1, Relaxed);
    let start = Instant::now();
    let reply_start = out.len();
    let mut dirty = 0;
    let mut block = None;
    // One flag per command when nothing consumes the propagation stream.
    let propagating = srv.propagation.active();
    // A command nested in a unit (EXEC's queue, a script's redis.call) adds to the
    // unit; only a top-level command ends one.
    let top = !s.in_exec && !s.in_script;
    match e.exec {
        Some(Exec::Data(h)) => {
            s.keys.clear();
            s.key_shards.clear();
            s.shard_list.clear();
            shoal_commands::keys::key_positions(e.spec, argv, &mut s.keys);
            for &i in &s.keys {
                let k = &argv[i];
                let shard = srv.ks.shard_of(k);
                s.key_shards.push((k.as_ptr() as usize, k.len(), shard));
                s.shard_list.push(shard);
            }
            let watched_before = crate::watch::before_command(srv, e.spec.name);
            let locked = if shoal_commands::keys::needs_all_shards(e.spec, &s.keys) {
                srv.ks.lock_all()
            } else {
                srv.ks.lock_shard_list(&mut s.shard_list)
            };
            s.ev.want = signals::want(srv);
            let mut ctx = Ctx {
                ks: &srv.ks,
                locked,
                db: s.db,
                now: now_for(&s.settings, s.now_ms, s.is_master),
                out: &mut *out,
                ev: &mut s.ev,
                settings: &s.settings,
                rng: &mut s.rng,
                dirty: 0,
                propagate: Propagate::AsIs,
                key_shards: &s.key_shards,
                block: None,
                may_block: !s.in_script,
                woken: false,
            };
            let expired_before = ctx.ev.expired.len();
            h(&mut ctx, argv);
            dirty = ctx.dirty;
            block = ctx.block.take();
            if propagating {
                crate::propagate::record_command(
                    ctx.db,
                    argv,
                    dirty,
                    std::mem::take(&mut ctx.propagate),
                    &ctx.ev.expired[expired_before..],
                    ctx.settings.lazyfree_lazy_expire,
                );
                if top {
                    // Under the shard locks: commands on the same key reach the
                    // stream in the order they ran.
                    srv.propagation.emit();
                }
            }
            // Shards unlock here, before statistics and the reply write.
            drop(ctx);
            if let Some(before) = watched_before {
                srv.watches.after_flush(&srv.ks, &s.ev.flushed, &before);
            }
        }
        Some(Exec::Server(h)) => {
            let mut c = SCtx {
                srv,
                s: &mut *s,
                out: &mut *out,
            };
            h(&mut c, argv);
            // What the command recorded (PUBLISH, FUNCTION LOAD; EXEC's queue when
            // it ended with a server command).
            if propagating && top {
                srv.propagation.emit();
            }
        }
        None => {}
    }
    let outcome = Outcome {
        us: start.elapsed().as_micros() as u64,
        dirty,
        expired: s.ev.expired.len() as u64,
        hits: s.ev.hits,
        misses: s.ev.misses,
    };
    if let Some(b) = block {
        crate::cmd::blocked::suspend(srv, s, e, argv, b);
    }
    let flushall = !s.ev.flushed.is_empty() && e.spec.name == "flushall";
    finish_effects(srv, s, out, reply_start);
    record(srv, &s.info, s.db, e, argv, out, &outcome);
    if flushall {
        crate::persist::after_flushall(srv);
    }
    // CLIENT CACHING applies to the next command (in a transaction, to the whole
    // transaction, EXEC included). As in Redis, any CLIENT subcommand keeps it
    // (CLIENT CACHING yes, CLIENT TRACKINGINFO, GET: the GET is tracked).
    if !s.info.has_flag(cflag::MULTI)
        && !e.full_name.starts_with("client|")
        && s.info.has_flag(cflag::TRACKING_CACHING)
    {
        s.info.set_flag(cflag::TRACKING_CACHING, false);
    }
}

/// Picks up a new settings snapshot if the configuration changed.
pub fn refresh_settings(srv: &Server, s: &mut Session) {
    let gen = srv.settings_gen.load(Relaxed);
    if gen != s.settings_gen {
        s.settings = srv.settings();
        s.settings_gen = gen;
    }
}

/// Statistics, the slow log, latency events and the MONITOR feed of one command.
pub fn record(
    srv: &Server,
    info: &ClientInfo,
    db: usize,
    e: &Entry,
    argv: &[Bytes],
    out: &mut ReplyWriter,
    o: &Outcome,
) {
    let us = o.us;
    let track_latency = srv.hot.latency_tracking.load(Relaxed);
    stats::local(|t| {
        let c = &t.cmds[e.id];
        ThreadStats::add(&c.calls, 1);
        ThreadStats::add(&c.usec, us);
        if track_latency {
            c.hist.get_or_init(Default::default).record(us);
        }
        ThreadStats::add(&t.commands_processed, 1);
        if o.dirty > 0 {
            ThreadStats::add(&t.dirty, o.dirty);
        }
        if o.hits > 0 {
            ThreadStats::add(&t.keyspace_hits, o.hits);
        }
        if o.misses > 0 {
            ThreadStats::add(&t.keyspace_misses, o.misses);
        }
        if o.expired > 0 {
            ThreadStats::add(&t.expired_keys, o.expired);
        }
        let codes = out.take_error_codes();
        if !codes.is_empty() {
            ThreadStats::add(&c.failed, 1);
            for code in codes {
                t.count_error(&code);
            }
        }
    });
    if info.has_flag(cflag::TRACKING)
        && e.has(flag::READONLY)
        && !info.has_flag(cflag::TRACKING_BCAST)
    {
        let mut pos = Vec::new();
        shoal_commands::keys::key_positions(e.spec, argv, &mut pos);
        srv.tracking.remember(info, pos.iter().map(|&i| &argv[i]));
    }
    // Only this connection's task writes its counters: no read-modify-write needed.
    let n = info.tot_cmds.load(Relaxed);
    info.tot_cmds.store(n + 1, Relaxed);

    let threshold = srv.hot.slowlog_slower_than.load(Relaxed);
    if threshold >= 0 && us as i64 >= threshold && !e.has(flag::SKIP_SLOWLOG) {
        let name = info.name.lock().clone().unwrap_or_default();
        srv.slowlog
            .lock()
            .push(argv, us, unix_ms() / 1000, info.addr.clone(), name);
    }
    let lat = srv.hot.latency_threshold_ms.load(Relaxed);
    if lat > 0 && (us / 1000) as i64 >= lat {
        let event = if e.has(flag::FAST) {
            "fast-command"
        } else {
            "command"
        };
        srv.latency.lock().add(event, unix_ms() / 1000, us / 1000);
    }
    if srv.clients.monitor_count.load(Relaxed) > 0
        && !e.has(flag::SKIP_MONITOR)
        && !e.has(flag::ADMIN)
    {
        feed_monitors(srv, info, db, argv);
    }
}

/// Sends `+<time> [<db> <addr>] "arg" ...` to every MONITOR client.
fn feed_monitors(srv: &Server, info: &ClientInfo, db: usize, argv: &[Bytes]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        db,
        info.addr
    );
    for a in argv {
        line.push(' ');
        line.push_str(&quote_repr(a));
    }
    line.push_str("\r\n");
    let msg = Bytes::from(line);
    for m in srv.clients.monitors.lock().iter() {
        m.send_push(msg.clone());
    }
}

/// Quotes bytes the way Redis shows them in MONITOR and CLIENT LIST: in double
/// quotes, with \n \r \t \a \b \\ \" escaped and other non-printables as \xHH.
pub fn quote_repr(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('"');
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

/// Processes the effects a command (or a whole transaction) recorded in `s.ev`:
/// notifications, WATCH, invalidations, blocked clients. Notifications for the
/// client itself go before the reply that starts at `reply_start`, as Redis
/// writes them while the command runs. Inside a transaction or a script, blocked
/// clients wait for the end of the unit (`signals::serve_deferred`).
#[inline]
pub fn finish_effects(
    srv: &Arc<Server>,
    s: &mut Session,
    out: &mut ReplyWriter,
    reply_start: usize,
) {
    if signals::pending(&s.ev) {
        effects_slow(srv, s, out, reply_start);
    }
    s.ev.clear();
}

#[cold]
fn effects_slow(srv: &Arc<Server>, s: &mut Session, out: &mut ReplyWriter, reply_start: usize) {
    let mut own = ReplyWriter::new(s.proto);
    let me = Some((s.info.id, &mut own));
    if s.in_exec || s.in_script {
        signals::after_nested_command(srv, &mut s.ev, me);
    } else {
        signals::after_command(srv, &mut s.ev, me);
    }
    if !own.is_empty() {
        out.insert_at(reply_start, &own.buf);
    }
}
