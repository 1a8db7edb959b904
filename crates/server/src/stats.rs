//! Server statistics, kept per thread and summed on read.
//!
//! Hot counters (commands processed, per-command calls and time, network bytes,
//! keyspace hits and misses) live in a `ThreadStats` owned by each runtime thread,
//! so that the request path never writes a cache line shared with another core.
//! INFO sums every thread's block. Relaxed atomics are enough: each block has one
//! writer and readers only need an approximate, monotonic view.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

#[derive(Default)]
pub struct CmdCounters {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
    /// Latency histogram, allocated on the command's first timed call.
    pub hist: OnceLock<crate::histogram::Hist>,
}

/// Counters of one thread.
pub struct ThreadStats {
    pub cmds: Box<[CmdCounters]>,
    pub commands_processed: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub expired_keys: AtomicU64,
    pub evicted_keys: AtomicU64,
    pub total_error_replies: AtomicU64,
    /// Keyspace changes (Redis's `server.dirty`), summed for
    /// `rdb_changes_since_last_save`.
    pub dirty: AtomicU64,
    /// Error code -> count; errors are rare, so a locked map is fine.
    pub errors: Mutex<HashMap<String, u64>>,
}

impl ThreadStats {
    fn new(n: usize) -> ThreadStats {
        ThreadStats {
            cmds: (0..n).map(|_| CmdCounters::default()).collect(),
            commands_processed: AtomicU64::new(0),
            net_input_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            keyspace_hits: AtomicU64::new(0),
            keyspace_misses: AtomicU64::new(0),
            expired_keys: AtomicU64::new(0),
            evicted_keys: AtomicU64::new(0),
            total_error_replies: AtomicU64::new(0),
            dirty: AtomicU64::new(0),
            errors: Mutex::new(HashMap::new()),
        }
    }

    pub fn add(c: &AtomicU64, n: u64) {
        // One writer per block: a load and a store avoid a locked read-modify-write.
        c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
    }

    pub fn count_error(&self, code: &str) {
        Self::add(&self.total_error_replies, 1);
        *self.errors.lock().entry(code.to_string()).or_insert(0) += 1;
    }
}

/// All threads' blocks.
pub struct Stats {
    num_cmds: usize,
    threads: Mutex<Vec<Arc<ThreadStats>>>,
}

static GLOBAL: OnceLock<Stats> = OnceLock::new();

thread_local! {
    static LOCAL: Arc<ThreadStats> = {
        let s = global();
        let t = Arc::new(ThreadStats::new(s.num_cmds));
        s.threads.lock().push(t.clone());
        t
    };
}

/// Sets up the statistics for `num_cmds` command table entries. Later calls keep the
/// first size (tests may start several servers in one process).
pub fn init(num_cmds: usize) {
    let _ = GLOBAL.set(Stats {
        num_cmds,
        threads: Mutex::new(Vec::new()),
    });
}

fn global() -> &'static Stats {
    GLOBAL.get_or_init(|| Stats {
        num_cmds: 1024,
        threads: Mutex::new(Vec::new()),
    })
}

/// Runs `f` with this thread's block.
pub fn local<R>(f: impl FnOnce(&ThreadStats) -> R) -> R {
    LOCAL.with(|t| f(t))
}

/// Sums of the counters over every thread.
#[derive(Default, Debug, Clone)]
pub struct Totals {
    pub commands_processed: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub total_error_replies: u64,
    pub dirty: u64,
}

pub fn totals() -> Totals {
    let mut t = Totals::default();
    for s in global().threads.lock().iter() {
        t.commands_processed += s.commands_processed.load(Relaxed);
        t.net_input_bytes += s.net_input_bytes.load(Relaxed);
        t.net_output_bytes += s.net_output_bytes.load(Relaxed);
        t.keyspace_hits += s.keyspace_hits.load(Relaxed);
        t.keyspace_misses += s.keyspace_misses.load(Relaxed);
        t.expired_keys += s.expired_keys.load(Relaxed);
        t.evicted_keys += s.evicted_keys.load(Relaxed);
        t.total_error_replies += s.total_error_replies.load(Relaxed);
        t.dirty += s.dirty.load(Relaxed);
    }
    t
}

/// Per-command sums: (calls, usec, rejected, failed) for entry `id`.
pub fn command_totals(id: usize) -> (u64, u64, u64, u64) {
    let mut r = (0, 0, 0, 0);
    for s in global().threads.lock().iter() {
        if let Some(c) = s.cmds.get(id) {
            r.0 += c.calls.load(Relaxed);
            r.1 += c.usec.load(Relaxed);
            r.2 += c.rejected.load(Relaxed);
            r.3 += c.failed.load(Relaxed);
        }
    }
    r
}

/// Error code counts summed over threads, sorted by code.
pub fn error_totals() -> Vec<(String, u64)> {
    let mut m: HashMap<String, u64> = HashMap::new();
    for s in global().threads.lock().iter() {
        for (k, v) in s.errors.lock().iter() {
            *m.entry(k.clone()).or_insert(0) += v;
        }
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort();
    v
}

/// CONFIG RESETSTAT: zero every counter.
pub fn reset() {
    for s in global().threads.lock().iter() {
        for c in s.cmds.iter() {
            c.calls.store(0, Relaxed);
            c.usec.store(0, Relaxed);
            c.rejected.store(0, Relaxed);
            c.failed.store(0, Relaxed);
            if let Some(h) = c.hist.get() {
                h.clear();
            }
        }
        for c in [
            &s.commands_processed,
            &s.net_input_bytes,
            &s.net_output_bytes,
            &s.keyspace_hits,
            &s.keyspace_misses,
            &s.expired_keys,
            &s.evicted_keys,
            &s.total_error_replies,
        ] {
            c.store(0, Relaxed);
        }
        s.errors.lock().clear();
    }
}

/// The summed latency histogram of entry `id`, if it has recorded anything.
pub fn command_histogram(id: usize) -> Option<[u64; crate::histogram::BUCKETS]> {
    let mut sum = [0u64; crate::histogram::BUCKETS];
    let mut any = false;
    for s in global().threads.lock().iter() {
        if let Some(h) = s.cmds.get(id).and_then(|c| c.hist.get()) {
            h.add_to(&mut sum);
            any = true;
        }
    }
    (any && sum.iter().any(|&c| c > 0)).then_some(sum)
}
