//! MULTI EXEC DISCARD WATCH UNWATCH.
//!
//! Dispatch queues every command between MULTI and EXEC (after the checks that
//! would reject it, which doom the transaction). EXEC runs the queue under the
//! locks of every shard the queued commands declare (all shards when one of them
//! is keyless or reads undeclared keys), so no other client's command interleaves:
//! Redis's atomicity. Server commands in a transaction (INFO, CONFIG, CLIENT, ...)
//! run with the shard locks released, since some of them read the keyspace
//! themselves; they never modify keys.
//!
//! WATCH registers the client under each key; a modification of the key (or its
//! expiry, or a flush of its database) raises the client's `DIRTY_CAS` flag and
//! EXEC answers a null array.
//!
//! While EXEC runs the queue the client still shows the `x` flag and its queue
//! length in CLIENT LIST, as in Redis, and commands that would block the
//! connection (MONITOR) refuse to run.

use super::SCtx;
use crate::client::cflag;
use crate::dispatch::{call, finish_effects, now_for, record, refresh_settings, Outcome};
use crate::registry::Exec;
use crate::session::{MultiState, Session};
use bytes::Bytes;
use shoal_commands::errors;
use shoal_commands::{Ctx, Propagate};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

pub const HANDLERS: &[(&str, super::ServerHandler)] = &[
    ("multi", multi),
    ("exec", exec),
    ("discard", discard),
    ("watch", watch),
    ("unwatch", unwatch),
];

fn multi(c: &mut SCtx, _argv: &[Bytes]) {
    if c.s.multi.is_some() {
        return c.out.error(errors::MULTI_NESTED);
    }
    c.s.multi = Some(MultiState::default());
    c.s.info.multi.store(0, Relaxed);
    c.s.info.set_flag(cflag::MULTI, true);
    c.out.ok();
}

fn discard(c: &mut SCtx, _argv: &[Bytes]) {
    if c.s.multi.is_none() {
        return c.out.error(errors::DISCARD_WITHOUT_MULTI);
    }
    end_multi(c.s);
    unwatch_all(c);
    c.out.ok();
}

fn end_multi(s: &mut Session) {
    s.multi = None;
    s.info.multi.store(-1, Relaxed);
    s.info.set_flag(cflag::MULTI, false);
}

fn watch(c: &mut SCtx, argv: &[Bytes]) {
    if c.s.multi.is_some() {
        return c.out.error(errors::WATCH_IN_MULTI);
    }
    let db = c.s.db;
    let now = crate::server::unix_ms();
    for key in &argv[1..] {
        if c.s.watched.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        let idx = c.srv.ks.shard_of(key);
        let deadline = c.srv.ks.with_shard(idx, |sh| {
            let d = &sh.dbs[db];
            if d.contains(key) {
                d.expire_time(key)
            } else {
                None
            }
        });
        let expired = deadline.is_some_and(|at| at <= now);
        c.srv.watches.watch(db, key.clone(), &c.s.info, expired);
        c.s.watched.push((db, key.clone()));
        if let Some(at) = deadline.filter(|&at| at > now) {
            c.s.watched_deadlines.push((db, key.clone(), at));
        }
    }
    c.out.ok();
}

fn unwatch(c: &mut SCtx, _argv: &[Bytes]) {
    unwatch_all(c);
    c.out.ok();
}

/// Forgets every watched key and lowers the flag.
pub fn unwatch_all(c: &mut SCtx) {
    forget_watches(c.srv, c.s);
}

pub fn forget_watches(srv: &crate::server::Server, s: &mut Session) {
    srv.watches.unwatch(&s.watched, s.info.id);
    s.watched.clear();
    s.watched_deadlines.clear();
    s.info.set_flag(cflag::DIRTY_CAS, false);
}

/// A rejected EXEC (arity, authentication): the transaction, if any, is
/// discarded and the watched keys forgotten.
pub fn abort(srv: &crate::server::Server, s: &mut Session) {
    end_multi(s);
    forget_watches(srv, s);
}

fn exec(c: &mut SCtx, _argv: &[Bytes]) {
    let Some(m) = c.s.multi.take() else {
        return c.out.error(errors::EXEC_WITHOUT_MULTI);
    };
    end_multi(c.s);
    if m.failed {
        unwatch_all(c);
        return c.out.error(errors::EXECABORT);
    }
    let now = crate::server::unix_ms();
    let expired = c.s.watched_deadlines.iter().any(|(_, _, at)| *at <= now);
    if c.s.info.has_flag(cflag::DIRTY_CAS) || expired {
        unwatch_all(c);
        return c.out.null_array();
    }
    unwatch_all(c);
    // Still "in MULTI" for CLIENT LIST/INFO while the queue runs.
    c.s.info.set_flag(cflag::MULTI, true);
    c.s.info.multi.store(m.queued.len() as i64, Relaxed);
    c.s.in_exec = true;
    run_queue(c, m.queued);
    c.s.in_exec = false;
    c.s.info.multi.store(-1, Relaxed);
    c.s.info.set_flag(cflag::MULTI, false);
}

/// Runs the queued commands atomically and replies with their replies.
fn run_queue(c: &mut SCtx, queued: Vec<(usize, Vec<Bytes>)>) {
    let srv = c.srv;
    let reply_start = c.out.len();
    c.out.array(queued.len());
    let mut shards = Vec::new();
    let mut all = false;
    let mut positions = Vec::new();
    // Watched keys before a FLUSHDB/FLUSHALL/SWAPDB in the queue, taken before
    // the queue locks its shards (see `crate::watch`).
    let mut watched_before: Option<Vec<(usize, Bytes)>> = None;
    for (id, argv) in &queued {
        let e = &srv.registry.entries[*id];
        if !matches!(e.exec, Some(Exec::Data(_))) {
            continue;
        }
        if watched_before.is_none() {
            watched_before = crate::watch::before_command(srv, e.spec.name);
        }
        positions.clear();
        shoal_commands::keys::key_positions(e.spec, argv, &mut positions);
        if positions.is_empty() || matches!(e.spec.name, "sort" | "sort_ro") {
            all = true;
        }
        shards.extend(positions.iter().map(|&i| srv.ks.shard_of(&argv[i])));
    }
    // The queue is one propagation unit (`crate::propagate`): MULTI ... EXEC
    // around its writes if there are several.
    let propagating = srv.propagation.active();
    let mut flushall = false;
    let mut i = 0;
    while i < queued.len() {
        let e = &srv.registry.entries[queued[i].0];
        if !matches!(e.exec, Some(Exec::Data(_))) {
            // Server commands run unlocked (see the module doc).
            c.s.now_ms = crate::server::unix_ms();
            call(srv, c.s, c.out, e, &queued[i].1);
            i += 1;
            continue;
        }
        // A run of keyspace commands under one set of locks.
        refresh_settings(srv, c.s);
        let s = &mut *c.s;
        let info = s.info.clone();
        let settings = s.settings.clone();
        let master = s.is_master;
        let locked = if all {
            srv.ks.lock_all()
        } else {
            srv.ks.lock_shard_list(&mut shards.clone())
        };
        s.ev.want = crate::signals::want(srv);
        let mut ctx = Ctx {
            ks: &srv.ks,
            locked,
            db: s.db,
            now: now_for(&settings, crate::server::unix_ms(), master),
            out: &mut *c.out,
            ev: &mut s.ev,
            settings: &settings,
            rng: &mut s.rng,
            dirty: 0,
            propagate: Propagate::AsIs,
            key_shards: &[],
            block: None,
            may_block: false,
            woken: false,
        };
        while i < queued.len() {
            let (id, argv) = &queued[i];
            let e = &srv.registry.entries[*id];
            let Some(Exec::Data(h)) = e.exec else {
                break;
            };
            info.last_cmd.store(e.id + 1, Relaxed);
            ctx.now = now_for(&settings, crate::server::unix_ms(), master);
            ctx.dirty = 0;
            ctx.propagate = Propagate::AsIs;
            let expired_before = ctx.ev.expired.len();
            let (hits, misses) = (ctx.ev.hits, ctx.ev.misses);
            let start = Instant::now();
            h(&mut ctx, argv);
            // FLUSHALL saves at once under save points, in a transaction too.
            flushall |= e.spec.name == "flushall" && !ctx.ev.flushed.is_empty();
            if propagating {
                record_effects(&mut ctx, argv, expired_before, &settings);
            }
            let outcome = Outcome {
                us: start.elapsed().as_micros() as u64,
                dirty: ctx.dirty,
                expired: (ctx.ev.expired.len() - expired_before) as u64,
                hits: ctx.ev.hits - hits,
                misses: ctx.ev.misses - misses,
            };
            record(srv, &info, ctx.db, e, argv, ctx.out, &outcome);
            i += 1;
        }
        if propagating && i == queued.len() {
            // The unit ends with this run: emit it before its locks go (when the
            // queue ends with a server command, `dispatch::call` emits after EXEC).
            srv.propagation.emit();
        }
    }
    if let Some(before) = watched_before {
        srv.watches.after_flush(&srv.ks, &c.s.ev.flushed, &before);
    }
    // The unit is over: blocked clients are served now, as after any command.
    c.s.in_exec = false;
    finish_effects(srv, c.s, c.out, reply_start);
    crate::signals::serve_deferred(srv);
    if flushall {
        crate::persist::after_flushall(srv);
    }
}

/// Records a queued keyspace command's effects in the transaction's unit.
fn record_effects(
    ctx: &mut Ctx,
    argv: &[Bytes],
    expired_before: usize,
    settings: &shoal_commands::Settings,
) {
    crate::propagate::record_command(
        ctx.db,
        argv,
        ctx.dirty,
        std::mem::take(&mut ctx.propagate),
        &ctx.ev.expired[expired_before..],
        settings.lazyfree_lazy_expire,
    );
}
