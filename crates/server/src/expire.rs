//! The active expiry cycle: a background service that deletes keys whose TTL passed
//! even if nobody reads them.
//!
//! Every `1000/hz` ms it walks the shards one at a time, and in each database takes
//! steps over the expires table from where it stopped last time. Like Redis's slow
//! cycle it adapts: while a step finds more than 10% of its sample expired it keeps
//! going, and it stops when the cycle has used its time budget (25% of the period),
//! so a burst of expiring keys is cleaned quickly without starving clients. Each
//! shard is locked only for a bounded step. Each deleted key propagates a DEL
//! (UNLINK under `lazyfree-lazy-expire`) of its own, as in Redis 7.0.

use crate::server::{unix_ms, Server};
use crate::stats::{self, ThreadStats};
use shoal_keyspace::Events;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Buckets of the expires table walked per step.
const BUCKETS_PER_STEP: usize = 20;
/// Keep stepping while more than this percentage of the sample had expired.
const STALE_PERCENT: usize = 10;

pub async fn run(srv: Arc<Server>) {
    let mut shutdown = srv.shutdown_rx();
    let mut shard_cursor = 0usize;
    loop {
        let hz = srv.hot.hz.load(Relaxed).clamp(1, 500) as u64;
        let period = Duration::from_millis(1000 / hz);
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(period) => {}
        }
        // A replica deletes keys only when its master says so.
        if !srv.hot.active_expire.load(Relaxed) || srv.repl.is_replica.load(Relaxed) {
            continue;
        }
        // Not while a script runs: it owns the keyspace, and time stands still
        // for it.
        if !srv.gate.enter() {
            continue;
        }
        let budget = period / 4;
        let mut ev = Events {
            want: crate::signals::want(&srv),
            ..Events::default()
        };
        shard_cursor = cycle(&srv, shard_cursor, budget, &mut ev);
        // "expired" notifications, WATCH, invalidations, blocked clients.
        crate::signals::after_command(&srv, &mut ev, None);
        srv.gate.leave();
    }
}

/// One cycle; returns the shard to start from next time.
pub fn cycle(srv: &Server, start_shard: usize, budget: Duration, ev: &mut Events) -> usize {
    let started = Instant::now();
    let n = srv.ks.num_shards();
    let (mut sampled_total, mut expired_total) = (0usize, 0usize);
    let mut idx = start_shard % n;
    let propagating = srv.propagation.active();
    let lazy = propagating && srv.settings().lazyfree_lazy_expire;
    for _ in 0..n {
        srv.ks.with_shard(idx, |shard| {
            let now = unix_ms();
            for (db, d) in shard.dbs.iter_mut().enumerate() {
                loop {
                    let before = ev.expired.len();
                    let (sampled, expired) = d.active_expire_step(db, now, BUCKETS_PER_STEP, ev);
                    if propagating {
                        // Each deletion is a unit of its own (no MULTI), sent
                        // while the shard is still locked.
                        for (kdb, key) in &ev.expired[before..] {
                            let op = crate::propagate::expired_op(*kdb, key, lazy);
                            srv.propagation.emit_ops(std::slice::from_ref(&op));
                        }
                    }
                    sampled_total += sampled;
                    expired_total += expired;
                    if sampled == 0
                        || expired * 100 <= sampled * STALE_PERCENT
                        || started.elapsed() >= budget
                    {
                        break;
                    }
                }
            }
        });
        idx = (idx + 1) % n;
        if started.elapsed() >= budget {
            break;
        }
    }
    if expired_total > 0 {
        let count = ev.expired.len() as u64;
        stats::local(|t| ThreadStats::add(&t.expired_keys, count));
    }
    if let Some(perc) = (expired_total * 100).checked_div(sampled_total) {
        srv.expired_stale_perc.store(perc as u64, Relaxed);
    }
    srv.expire_cycle_cpu_ms
        .fetch_add(started.elapsed().as_millis() as u64, Relaxed);
    idx
}
