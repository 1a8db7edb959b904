//! Dispatch: every generic check in one place, then the call.
//!
//! The order of checks follows Redis's: command lookup (and subcommand), arity,
//! authentication, then the state checks that later issues add here and only here
//! (ACL, cluster routing, OOM, MISCONF, min-replicas, read-only replica, subscribed
//! mode, loading, busy script, MULTI queuing). `call` runs the command, measures
//! it, and records statistics, the slow log and the MONITOR feed. Handlers never
//! repeat these checks.

use crate::cmd::SCtx;
use crate::registry::{Entry, Exec};
use crate::server::{unix_ms, Server};
use crate::session::Session;
use crate::stats::{self, ThreadStats};
use bytes::Bytes;
use shoal_commands::spec::flag;
use shoal_commands::{errors, Ctx, Propagate};
use shoal_keyspace::{ExpireMode, Lfu, Now};
use shoal_resp::ReplyWriter;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

/// Runs one request from `s`'s connection, writing its reply into `out`.
pub fn dispatch(srv: &Arc<Server>, s: &mut Session, out: &mut ReplyWriter, argv: &[Bytes]) {
    let reg = &srv.registry;
    let Some(top) = reg.lookup(&argv[0]) else {
        return reject(out, None, &errors::unknown_command(argv));
    };
    let mut e = top;
    if !top.subs.is_empty() && argv.len() >= 2 {
        match reg.sub(top, &argv[1]) {
            Some(sub) => e = sub,
            None => {
                let msg = errors::unknown_subcommand(&argv[1], &top.full_name.to_ascii_uppercase());
                return reject(out, None, &msg);
            }
        }
    }
    if !e.spec.arity_ok(argv.len()) {
        return reject(out, Some(e), &errors::wrong_arity(&e.full_name));
    }
    if !s.authenticated && !e.has(flag::NO_AUTH) {
        return reject(out, Some(e), errors::NOAUTH);
    }
    call(srv, s, out, e, argv);
}

fn reject(out: &mut ReplyWriter, e: Option<&Entry>, msg: &str) {
    out.error(msg);
    stats::local(|t| {
        if let Some(e) = e {
            ThreadStats::add(&t.cmds[e.id].rejected, 1);
        }
        for code in out.take_error_codes() {
            t.count_error(&code);
        }
    });
}

/// Executes a command that passed every check.
pub fn call(srv: &Arc<Server>, s: &mut Session, out: &mut ReplyWriter, e: &Entry, argv: &[Bytes]) {
    let gen = srv.settings_gen.load(Relaxed);
    if gen != s.settings_gen {
        s.settings = srv.settings();
        s.settings_gen = gen;
    }
    s.info.last_cmd.store(e.id + 1, Relaxed);
    let start = Instant::now();
    let mut dirty = 0;
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
            let locked = srv.ks.lock_shard_list(&mut s.shard_list);
            let expire = if s.settings.replica {
                ExpireMode::HideOnly
            } else {
                ExpireMode::Delete
            };
            let mut ctx = Ctx {
                ks: &srv.ks,
                locked,
                db: s.db,
                now: Now {
                    ms: s.now_ms,
                    expire,
                    lfu: s.settings.lfu_policy.then_some(Lfu {
                        log_factor: s.settings.lfu_log_factor.clamp(0, u32::MAX as i64) as u32,
                        decay_time: s.settings.lfu_decay_time.clamp(0, u32::MAX as i64) as u32,
                    }),
                },
                out: &mut *out,
                ev: &mut s.ev,
                settings: &s.settings,
                rng: &mut s.rng,
                dirty: 0,
                propagate: Propagate::AsIs,
                key_shards: &s.key_shards,
                block: None,
                may_block: false,
                woken: false,
            };
            h(&mut ctx, argv);
            dirty = ctx.dirty;
            // Shards unlock here, before statistics and the reply write.
            drop(ctx);
        }
        Some(Exec::Server(h)) => {
            let mut c = SCtx {
                srv,
                s: &mut *s,
                out: &mut *out,
            };
            h(&mut c, argv);
        }
        None => {}
    }
    let elapsed = start.elapsed();
    let us = elapsed.as_micros() as u64;
    let track_latency = srv.hot.latency_tracking.load(Relaxed);
    let expired = s.ev.expired.len() as u64;
    let (hits, misses) = (s.ev.hits, s.ev.misses);
    s.ev.clear();
    stats::local(|t| {
        let c = &t.cmds[e.id];
        ThreadStats::add(&c.calls, 1);
        ThreadStats::add(&c.usec, us);
        if track_latency {
            c.hist.get_or_init(Default::default).record(us);
        }
        ThreadStats::add(&t.commands_processed, 1);
        if dirty > 0 {
            ThreadStats::add(&t.dirty, dirty);
        }
        if hits > 0 {
            ThreadStats::add(&t.keyspace_hits, hits);
        }
        if misses > 0 {
            ThreadStats::add(&t.keyspace_misses, misses);
        }
        if expired > 0 {
            ThreadStats::add(&t.expired_keys, expired);
        }
        let codes = out.take_error_codes();
        if !codes.is_empty() {
            ThreadStats::add(&c.failed, 1);
            for code in codes {
                t.count_error(&code);
            }
        }
    });
    // Only this connection's task writes its counters: no read-modify-write needed.
    let n = s.info.tot_cmds.load(Relaxed);
    s.info.tot_cmds.store(n + 1, Relaxed);

    let threshold = srv.hot.slowlog_slower_than.load(Relaxed);
    if threshold >= 0 && us as i64 >= threshold && !e.has(flag::SKIP_SLOWLOG) {
        let name = s.info.name.lock().clone().unwrap_or_default();
        srv.slowlog
            .lock()
            .push(argv, us, unix_ms() / 1000, s.info.addr.clone(), name);
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
        feed_monitors(srv, s, argv);
    }
}

/// Sends `+<time> [<db> <addr>] "arg" ...` to every MONITOR client.
fn feed_monitors(srv: &Server, s: &Session, argv: &[Bytes]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        s.db,
        s.info.addr
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
