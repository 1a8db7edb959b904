//! The active expiry cycle: a background service that deletes keys whose TTL passed
//! even if nobody reads them.
//!
//! Every `1000/hz` ms it walks the shards one at a time, and in each database takes
//! steps over the expires table from where it stopped last time. Like Redis's slow
//! cycle it adapts: while a step finds more than 10% of its sample expired it keeps
//! going, and it stops when the cycle has used its time budget (25% of the period),
//! so a burst of expiring keys is cleaned quickly without starving clients. Each
//! shard is locked only for a bounded step.

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
        if !srv.hot.active_expire.load(Relaxed) {
            continue;
        }
        let budget = period / 4;
        shard_cursor = cycle(&srv, shard_cursor, budget);
    }
}

/// One cycle; returns the shard to start from next time. The keys it deletes are
/// reported like a command's: "expired" notifications, failed WATCHes, invalidated
/// client-side caches.
pub fn cycle(srv: &Arc<Server>, start_shard: usize, budget: Duration) -> usize {
    let started = Instant::now();
    let n = srv.ks.num_shards();
    let mut ev = Events {
        want: crate::signals::want(srv),
        ..Events::default()
    };
    let (mut sampled_total, mut expired_total) = (0usize, 0usize);
    let mut idx = start_shard % n;
    for _ in 0..n {
        srv.ks.with_shard(idx, |shard| {
            let now = unix_ms();
            for (db, d) in shard.dbs.iter_mut().enumerate() {
                loop {
                    let (sampled, expired) =
                        d.active_expire_step(db, now, BUCKETS_PER_STEP, &mut ev);
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
        if crate::signals::pending(&ev) {
            crate::signals::publish_and_invalidate(srv, &mut ev, None);
        }
    }
    if let Some(perc) = (expired_total * 100).checked_div(sampled_total) {
        srv.expired_stale_perc.store(perc as u64, Relaxed);
    }
    srv.expire_cycle_cpu_ms
        .fetch_add(started.elapsed().as_millis() as u64, Relaxed);
    idx
}
