//! Eviction: keeping memory under `maxmemory` by deleting keys the
//! `maxmemory-policy` chooses, and refusing commands that may grow memory when
//! nothing more can be evicted.
//!
//! When it runs. Before every top-level command dispatch calls
//! [`before_command`] (one relaxed load when `maxmemory` is 0). Over the limit, it
//! evicts until memory is back under it, nothing evictable is left, or the
//! per-command time budget of `maxmemory-eviction-tenacity` is spent (checked
//! every 16 keys, as Redis does). A spent budget lets the command run and leaves a
//! background task evicting in further budgets (Redis's eviction timer); running
//! out of keys (or `noeviction`) makes the command fail with the OOM error if it
//! is flagged deny-oom, a script that may write (a shebang without `no-writes` or
//! `allow-oom`, a function without those flags) or, inside MULTI, anything but
//! EXEC, DISCARD, QUIT and RESET. A script starting in that state without
//! `allow-oom` may not make a deny-oom command its first write ([`script_oom`],
//! checked by the script host). Nothing is evicted from inside a script's
//! `redis.call` or EXEC's queue (they go through `dispatch::call`, not
//! `dispatch`), while an exclusive section (a script) runs, for the AOF loading
//! client, while clients are paused (the dataset must stay still), or on a replica
//! under `replica-ignore-maxmemory yes`.
//!
//! Memory. `used_memory` (the counting allocator) minus
//! [`not_counted_for_evict`]: what Redis leaves out because freeing keys would
//! not shrink it (the AOF buffer; the replication buffers beyond the backlog once
//! replication exists). It is measured again after each evicted key rather than
//! summed from per-key deltas: other threads allocate and free meanwhile, and a
//! fresh reading is what decides.
//!
//! Choosing keys. `*-random`: a random key of a non-empty database. The other
//! policies keep Redis's eviction pool: the best [`POOL_SIZE`] candidates seen so
//! far, ordered by a score (LRU: idle milliseconds; LFU: 255 minus the decayed
//! counter; TTL: `u64::MAX` minus the expiry time), kept from one eviction to the
//! next. Each eviction first adds fresh samples, then takes the best candidate
//! that still exists (and still has a TTL under `volatile-*`). Redis samples
//! `maxmemory-samples` keys of every database from its whole dict; here a database
//! is split over 256 shards, and locking them all for each key would be far too
//! costly, so a round starts at a random shard and walks shards, sampling in
//! each up to what remains of `maxmemory-samples` (at most as many as the shard
//! holds, per database), until that many were drawn or every shard was seen. Keys
//! hash uniformly over shards, so a shard's keys are a random subset of the
//! database and the pool converges to the same choices; with a sparse keyspace
//! the walk gathers samples from several shards. Samples are drawn with
//! replacement and the pool holds each key once.
//!
//! Each evicted key is removed through `DbShard::remove` and, under that shard's
//! lock, propagated as a unit of its own: `DEL key` (`UNLINK` under
//! `lazyfree-lazy-eviction`), what a Redis 7.0.15 replica receives, never wrapped
//! with the command that caused it. It fires the `evicted` notification (class
//! `e`) and counts as a modification (WATCH, client-side caching); those effects
//! are processed after the shard lock is released, before the command runs, so
//! the client's own notifications precede its reply. One thread evicts at a time
//! (the pool's mutex); lock order: pool, then one shard, then the stream.
//!
//! INFO: `evicted_keys` (per-thread counter, reset by CONFIG RESETSTAT),
//! `total_eviction_exceeded_time` and `current_eviction_exceeded_time` (time
//! spent over the limit: from the first check that could not get under it to the
//! first that found memory under it again), `mem_not_counted_for_evict`.

use crate::server::{unix_ms, PauseKind, Server};
use crate::session::Session;
use crate::stats::{self, ThreadStats};
use bytes::Bytes;
use parking_lot::Mutex;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use shoal_commands::spec::flag;
use shoal_config::Config;
use shoal_ds::smallbytes::SmallBytes;
use shoal_keyspace::{class, Entry, Events, Lfu};
use shoal_resp::ReplyWriter;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The error a command gets when memory is over the limit and cannot be freed.
pub const OOM_ERROR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Candidates kept between evictions (Redis's pool size).
pub const POOL_SIZE: usize = 16;

/// Keys evicted between two looks at the clock (and at the time budget).
const KEYS_PER_CLOCK_CHECK: u64 = 16;

/// A value whose freeing costs more allocations than this goes to the lazy-free
/// thread under `lazyfree-lazy-eviction` (as for UNLINK).
const LAZYFREE_THRESHOLD: usize = 64;

/// The AOF loading client's id (Redis's fake AOF client has the same).
const AOF_CLIENT_ID: u64 = u64::MAX;

/// `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
}

impl Policy {
    const ALL: [Policy; 8] = [
        Policy::NoEviction,
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
    ];

    /// From the directive's value (anything unknown reads as `noeviction`).
    pub fn parse(s: &str) -> Policy {
        match s.to_ascii_lowercase().as_str() {
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            _ => Policy::NoEviction,
        }
    }

    /// Only keys with a TTL may be evicted.
    pub fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    fn random(self) -> bool {
        matches!(self, Policy::VolatileRandom | Policy::AllkeysRandom)
    }

    fn index(self) -> u8 {
        Policy::ALL.iter().position(|p| *p == self).unwrap_or(0) as u8
    }

    fn from_index(i: u8) -> Policy {
        Policy::ALL
            .get(i as usize)
            .copied()
            .unwrap_or(Policy::NoEviction)
    }
}

/// What an eviction attempt achieved (Redis's EVICT_OK / RUNNING / FAIL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit (or eviction does not apply).
    Ok,
    /// Over the limit, the time budget spent: evicting goes on in the background.
    Running,
    /// Over the limit and nothing (more) can be evicted.
    Fail,
}

/// A key the pool may evict, with its score (higher: evicted sooner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub score: u64,
    pub db: usize,
    pub shard: usize,
    pub key: SmallBytes,
}

/// The eviction pool: up to [`POOL_SIZE`] candidates in ascending score order.
#[derive(Default, Debug)]
pub struct Pool {
    items: Vec<Candidate>,
    /// The policy the scores were computed for (a change empties the pool).
    policy: Option<Policy>,
}

impl Pool {
    /// Offers a candidate: kept if the pool has room or it beats the worst one
    /// (which then leaves). A key already in the pool takes the new score.
    pub fn insert(&mut self, c: Candidate) {
        if let Some(i) = self
            .items
            .iter()
            .position(|x| x.db == c.db && x.key == c.key)
        {
            self.items.remove(i);
        }
        if self.items.len() >= POOL_SIZE {
            if self.items.first().is_some_and(|w| c.score <= w.score) {
                return;
            }
            self.items.remove(0);
        }
        let at = self.items.partition_point(|x| x.score <= c.score);
        self.items.insert(at, c);
    }

    /// Takes the best candidate.
    pub fn pop_best(&mut self) -> Option<Candidate> {
        self.items.pop()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn for_policy(&mut self, p: Policy) {
        if self.policy != Some(p) {
            self.items.clear();
            self.policy = Some(p);
        }
    }
}

/// The score of a sampled key under a pool policy.
pub fn score(policy: Policy, e: &Entry, expire_at: Option<i64>, now_ms: i64, lfu: Lfu) -> u64 {
    match policy {
        Policy::VolatileLfu | Policy::AllkeysLfu => {
            255 - u64::from(shoal_keyspace::db::lfu_decayed(e.access_clock(), now_ms, lfu).min(255))
        }
        Policy::VolatileTtl => u64::MAX - expire_at.unwrap_or(i64::MAX).max(0) as u64,
        _ => e.idle_seconds(now_ms).saturating_mul(1000),
    }
}

/// The time budget of one eviction run for a `maxmemory-eviction-tenacity`:
/// 50 µs per step up to 10 (500 µs, the default), then growing by 15% per step
/// (about two minutes at 99); 100 means no limit.
pub fn time_limit(tenacity: u32) -> Option<Duration> {
    match tenacity {
        0..=10 => Some(Duration::from_micros(50 * u64::from(tenacity))),
        11..=99 => Some(Duration::from_micros(
            (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64,
        )),
        _ => None,
    }
}

/// Sampling state, under one mutex (one evictor at a time).
struct State {
    pool: Pool,
    /// Where the random policies look first.
    next_db: usize,
    rng: SmallRng,
}

/// The server's eviction state: the configuration mirrored for the request path,
/// the pool, and the time-over-limit statistics.
pub struct Evictor {
    maxmemory: AtomicU64,
    policy: AtomicU8,
    samples: AtomicU32,
    tenacity: AtomicU32,
    lazy: AtomicBool,
    replica_ignore: AtomicBool,
    state: Mutex<State>,
    /// Microseconds since `base` when memory was first found over the limit
    /// (0: it is not).
    exceeded_since_us: AtomicU64,
    exceeded_total_us: AtomicU64,
    base: Instant,
    /// A background task is evicting (after a command spent its budget).
    background: AtomicBool,
    /// The last eviction attempt ended over the limit with nothing to evict
    /// (Redis's `pre_command_oom_state`, which scripts consult).
    last_failed: AtomicBool,
}

impl Default for Evictor {
    fn default() -> Self {
        Evictor {
            maxmemory: AtomicU64::new(0),
            policy: AtomicU8::new(Policy::NoEviction.index()),
            samples: AtomicU32::new(5),
            tenacity: AtomicU32::new(10),
            lazy: AtomicBool::new(false),
            replica_ignore: AtomicBool::new(true),
            state: Mutex::new(State {
                pool: Pool::default(),
                next_db: 0,
                rng: SmallRng::from_entropy(),
            }),
            exceeded_since_us: AtomicU64::new(0),
            exceeded_total_us: AtomicU64::new(0),
            base: Instant::now(),
            background: AtomicBool::new(false),
            last_failed: AtomicBool::new(false),
        }
    }
}

impl Evictor {
    /// Mirrors the eviction directives (start-up and every CONFIG SET).
    pub fn configure(&self, cfg: &Config) {
        self.maxmemory
            .store(cfg.int("maxmemory").max(0) as u64, Relaxed);
        self.policy.store(
            Policy::parse(&cfg.string("maxmemory-policy")).index(),
            Relaxed,
        );
        self.samples.store(
            cfg.int("maxmemory-samples").clamp(1, 1 << 16) as u32,
            Relaxed,
        );
        self.tenacity.store(
            cfg.int("maxmemory-eviction-tenacity").clamp(0, 100) as u32,
            Relaxed,
        );
        self.lazy.store(cfg.bool("lazyfree-lazy-eviction"), Relaxed);
        self.replica_ignore
            .store(cfg.bool("replica-ignore-maxmemory"), Relaxed);
    }

    pub fn policy(&self) -> Policy {
        Policy::from_index(self.policy.load(Relaxed))
    }

    fn now_us(&self) -> u64 {
        (self.base.elapsed().as_micros() as u64).max(1)
    }

    /// Records whether memory is over the limit, for the exceeded-time statistics.
    fn note(&self, outcome: Outcome) {
        let failed = outcome == Outcome::Fail;
        if self.last_failed.load(Relaxed) != failed {
            self.last_failed.store(failed, Relaxed);
        }
        if outcome == Outcome::Ok {
            if self.exceeded_since_us.load(Relaxed) != 0 {
                let since = self.exceeded_since_us.swap(0, Relaxed);
                if since != 0 {
                    self.exceeded_total_us
                        .fetch_add(self.now_us().saturating_sub(since), Relaxed);
                }
            }
        } else if self.exceeded_since_us.load(Relaxed) == 0 {
            let _ = self
                .exceeded_since_us
                .compare_exchange(0, self.now_us(), Relaxed, Relaxed);
        }
    }

    /// INFO's `current_eviction_exceeded_time` (ms).
    pub fn current_exceeded_ms(&self) -> u64 {
        match self.exceeded_since_us.load(Relaxed) {
            0 => 0,
            since => self.now_us().saturating_sub(since) / 1000,
        }
    }

    /// INFO's `total_eviction_exceeded_time` (ms), the current period included.
    pub fn total_exceeded_ms(&self) -> u64 {
        let cur = match self.exceeded_since_us.load(Relaxed) {
            0 => 0,
            since => self.now_us().saturating_sub(since),
        };
        (self.exceeded_total_us.load(Relaxed) + cur) / 1000
    }
}

/// Memory Redis does not count against `maxmemory`: what eviction cannot
/// shrink. The AOF buffer and what waits in replicas' queues (the backlog
/// itself counts, as Redis's does up to its size).
pub fn not_counted_for_evict(srv: &Server) -> u64 {
    let queued: usize = srv
        .repl
        .st
        .lock()
        .replicas
        .iter()
        .map(|r| r.pending())
        .sum();
    srv.aof.buffer_len() + queued as u64
}

/// Whether a script starting now runs in the OOM state: the last eviction
/// attempt (the one before the script's command) could not get under the limit,
/// and memory is still over it. Its first write may then not be deny-oom.
pub fn script_oom(srv: &Server) -> bool {
    let max = srv.evict.maxmemory.load(Relaxed);
    max > 0 && srv.evict.last_failed.load(Relaxed) && over_limit(srv, max)
}

/// Whether memory, less what is not counted, is over `max`.
fn over_limit(srv: &Server, max: u64) -> bool {
    let used = crate::memory::used_memory();
    used > max && used.saturating_sub(not_counted_for_evict(srv)) > max
}

/// Evicts before a top-level command as the policy asks. True when memory is
/// still over the limit with nothing left to evict: the caller then refuses
/// the command if [`refused_when_oom`] says so.
#[inline]
pub fn before_command(srv: &Arc<Server>, s: &mut Session, out: &mut ReplyWriter) -> bool {
    if srv.evict.maxmemory.load(Relaxed) == 0 {
        return false;
    }
    before_command_slow(srv, s, out)
}

#[cold]
fn before_command_slow(srv: &Arc<Server>, s: &mut Session, out: &mut ReplyWriter) -> bool {
    // The common case under a limit: one reading of the memory counters.
    if !over_limit(srv, srv.evict.maxmemory.load(Relaxed)) {
        srv.evict.note(Outcome::Ok);
        return false;
    }
    crate::dispatch::refresh_settings(srv, s);
    // Not for the AOF being loaded, nor while a script owns the keyspace (a
    // command bypassing the gate, or answered BUSY).
    if s.info.id == AOF_CLIENT_ID
        || s.script_busy
        || !srv.gate.entered()
        || !server_may_evict(srv, s.settings.replica)
    {
        srv.evict.last_failed.store(false, Relaxed);
        return false;
    }
    let mut ev = Events {
        want: crate::signals::want(srv),
        ..Events::default()
    };
    let outcome = perform(srv, &mut ev);
    if crate::signals::pending(&ev) {
        // The client's own notifications go before its reply.
        crate::signals::after_command(srv, &mut ev, Some((s.info.id, out)));
    }
    if outcome == Outcome::Running {
        continue_in_background(srv);
    }
    outcome == Outcome::Fail
}

/// Whether the server's state allows eviction: not a replica ignoring
/// `maxmemory`, not while clients are paused.
fn server_may_evict(srv: &Server, replica: bool) -> bool {
    if replica && srv.evict.replica_ignore.load(Relaxed) {
        return false;
    }
    // Not while a full sync's payload replaces the dataset.
    if srv.repl.loading.load(Relaxed) {
        return false;
    }
    if srv.pause_active.load(Relaxed) {
        let p = srv.pause.lock();
        if p.kind != PauseKind::None && p.until_ms > unix_ms() {
            return false;
        }
    }
    true
}

/// Whether a command is refused when memory is over the limit and nothing can
/// be evicted, as Redis decides it: deny-oom commands, scripts that may write
/// without `allow-oom`, EXEC of a transaction holding such a command, and in a
/// transaction being queued every command but EXEC, DISCARD, QUIT and RESET.
pub fn refused_when_oom(
    srv: &Server,
    s: &Session,
    top: &crate::registry::Entry,
    e: &crate::registry::Entry,
    argv: &[Bytes],
) -> bool {
    if s.multi.is_some() && !matches!(top.spec.name, "exec" | "discard" | "quit" | "reset") {
        return true;
    }
    if top.spec.name == "exec" {
        return s.multi.as_ref().is_some_and(|m| {
            m.queued.iter().any(|(id, argv)| {
                srv.registry
                    .entries
                    .get(*id)
                    .is_some_and(|q| denies_oom(srv, q, argv))
            })
        });
    }
    denies_oom(srv, e, argv)
}

/// A command's deny-oom flag, or for scripts the flag their own flags give.
fn denies_oom(srv: &Server, e: &crate::registry::Entry, argv: &[Bytes]) -> bool {
    if e.has(flag::DENYOOM) {
        return true;
    }
    let Some(arg) = argv.get(1) else {
        return false;
    };
    let denies = |f: &shoal_script::ScriptFlags| !f.no_writes && !f.allow_oom;
    match e.spec.name {
        "eval" | "eval_ro" => shoal_script::shebang::parse_eval_body(arg)
            .is_ok_and(|(f, _)| f.has_shebang && denies(&f)),
        "evalsha" | "evalsha_ro" => {
            let sha = arg.to_ascii_lowercase();
            let eng = srv.scripting.eval.lock();
            eng.get(&sha)
                .is_some_and(|s| s.flags.has_shebang && denies(&s.flags))
        }
        "fcall" | "fcall_ro" => {
            let fe = srv.scripting.functions.lock();
            fe.function(arg).is_some_and(|(_, d)| denies(&d.flags))
        }
        _ => false,
    }
}

/// Evicts until memory is under the limit, nothing is left to evict, or the
/// time budget is spent. Effects (notifications, modified keys) go to `ev`.
pub fn perform(srv: &Server, ev: &mut Events) -> Outcome {
    let ev_state = &srv.evict;
    let max = ev_state.maxmemory.load(Relaxed);
    if max == 0 || !over_limit(srv, max) {
        ev_state.note(Outcome::Ok);
        return Outcome::Ok;
    }
    let policy = ev_state.policy();
    if policy == Policy::NoEviction {
        ev_state.note(Outcome::Fail);
        return Outcome::Fail;
    }
    let mut st = ev_state.state.lock();
    let started = Instant::now();
    let budget = time_limit(ev_state.tenacity.load(Relaxed));
    let samples = ev_state.samples.load(Relaxed) as usize;
    let lazy = ev_state.lazy.load(Relaxed);
    let settings = srv.settings();
    let lfu = Lfu {
        log_factor: settings.lfu_log_factor.clamp(0, u32::MAX as i64) as u32,
        decay_time: settings.lfu_decay_time.clamp(0, u32::MAX as i64) as u32,
    };
    let mut evicted = 0u64;
    let mut attempts = 0u64;
    let outcome = loop {
        if !over_limit(srv, max) {
            break Outcome::Ok;
        }
        let now_ms = unix_ms();
        let Some(victim) = pick(srv, &mut st, policy, samples, now_ms, lfu) else {
            break Outcome::Fail;
        };
        if evict_one(srv, &victim, policy.volatile(), lazy, ev) {
            evicted += 1;
        }
        attempts += 1;
        if attempts.is_multiple_of(KEYS_PER_CLOCK_CHECK)
            && budget.is_some_and(|b| started.elapsed() >= b)
        {
            break if over_limit(srv, max) {
                Outcome::Running
            } else {
                Outcome::Ok
            };
        }
    };
    drop(st);
    // Out of keys, but values may still be on their way out on the lazy-free
    // thread: give it a moment, as Redis does.
    let outcome = if outcome == Outcome::Fail && shoal_keyspace::lazyfree::pending() > 0 {
        let wait = budget
            .unwrap_or(Duration::from_millis(1))
            .min(Duration::from_millis(1));
        std::thread::sleep(wait);
        if over_limit(srv, max) {
            Outcome::Fail
        } else {
            Outcome::Ok
        }
    } else {
        outcome
    };
    if evicted > 0 {
        stats::local(|t| ThreadStats::add(&t.evicted_keys, evicted));
    }
    let ms = started.elapsed().as_millis() as u64;
    let threshold = srv.hot.latency_threshold_ms.load(Relaxed);
    if threshold > 0 && ms as i64 >= threshold {
        srv.latency
            .lock()
            .add("eviction-cycle", unix_ms() / 1000, ms);
    }
    ev_state.note(outcome);
    outcome
}

/// The next key to evict, or None when the policy finds nothing evictable.
fn pick(
    srv: &Server,
    st: &mut State,
    policy: Policy,
    samples: usize,
    now_ms: i64,
    lfu: Lfu,
) -> Option<Candidate> {
    if policy.random() {
        return pick_random(srv, st, policy.volatile());
    }
    st.pool.for_policy(policy);
    let volatile = policy.volatile();
    let n = srv.ks.num_shards();
    let start = st.rng.gen_range(0..n);
    let mut drawn = 0usize;
    for i in 0..n {
        if drawn >= samples {
            break;
        }
        let idx = (start + i) % n;
        let State { pool, rng, .. } = &mut *st;
        srv.ks.with_shard(idx, |sh| {
            for (db, d) in sh.dbs.iter().enumerate() {
                let size = if volatile { d.expires_len() } else { d.len() };
                let want = samples.saturating_sub(drawn).min(size);
                if want == 0 {
                    continue;
                }
                d.sample(rng, want, volatile, |k, e, t| {
                    pool.insert(Candidate {
                        score: score(policy, e, t, now_ms, lfu),
                        db,
                        shard: idx,
                        key: k.clone(),
                    })
                });
                drawn += want;
            }
        });
    }
    st.pool.pop_best()
}

/// A random key (with a TTL under `volatile-random`): from a random shard, the
/// first non-empty database from a rotating start.
fn pick_random(srv: &Server, st: &mut State, volatile: bool) -> Option<Candidate> {
    let n = srv.ks.num_shards();
    let dbs = srv.ks.num_dbs();
    let start = st.rng.gen_range(0..n);
    for i in 0..n {
        let idx = (start + i) % n;
        let State { rng, next_db, .. } = &mut *st;
        let found = srv.ks.with_shard(idx, |sh| {
            for j in 0..dbs {
                let db = (*next_db + j) % dbs;
                let Some(d) = sh.dbs.get(db) else { continue };
                let mut got = None;
                d.sample(rng, 1, volatile, |k, _, _| got = Some(k.clone()));
                if let Some(key) = got {
                    *next_db = db + 1;
                    return Some(Candidate {
                        score: 0,
                        db,
                        shard: idx,
                        key,
                    });
                }
            }
            None
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Deletes one candidate if it is still there (with a TTL under a volatile
/// policy): propagated under its shard's lock, notified, its value freed
/// outside the lock. Returns whether a key was evicted.
fn evict_one(srv: &Server, c: &Candidate, volatile: bool, lazy: bool, ev: &mut Events) -> bool {
    let removed = srv.ks.with_shard(c.shard, |sh| {
        let d = sh.dbs.get_mut(c.db)?;
        if volatile && d.expire_time(&c.key).is_none() {
            return None;
        }
        let (entry, _) = d.remove(&c.key)?;
        if srv.propagation.active() {
            // A unit of its own, sent while the shard is locked: a later write
            // of the key reaches the stream after it.
            let op = crate::propagate::expired_op(c.db, &c.key, lazy);
            srv.propagation.emit_ops(std::slice::from_ref(&op));
        }
        ev.notify(class::EVICTED, "evicted", c.db, &c.key);
        Some(entry)
    });
    match removed {
        Some(entry) => {
            if lazy && entry.value.free_effort() > LAZYFREE_THRESHOLD {
                shoal_keyspace::lazyfree::free_later(entry);
            }
            true
        }
        None => false,
    }
}

/// Keeps evicting after a command spent its budget over the limit, in budgets
/// of its own between other work (Redis's eviction timer), until memory is
/// under the limit or nothing is left to evict.
fn continue_in_background(srv: &Arc<Server>) {
    if srv.evict.background.swap(true, Relaxed) {
        return;
    }
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        srv.evict.background.store(false, Relaxed);
        return;
    };
    let srv = srv.clone();
    rt.spawn(async move {
        let shutdown = srv.shutdown_rx();
        loop {
            // Like Redis's timer of period 0: again as soon as the thread's other
            // tasks had their turn.
            tokio::task::yield_now().await;
            if *shutdown.borrow() {
                break;
            }
            if !srv.gate.enter() {
                // A script runs: wait for its end.
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
            let mut ev = Events {
                want: crate::signals::want(&srv),
                ..Events::default()
            };
            let outcome = if server_may_evict(&srv, srv.settings().replica) {
                perform(&srv, &mut ev)
            } else {
                Outcome::Ok
            };
            crate::signals::after_command(&srv, &mut ev, None);
            srv.gate.leave();
            if outcome != Outcome::Running {
                break;
            }
        }
        srv.evict.background.store(false, Relaxed);
    });
}

#[cfg(test)]
#[path = "evict_tests.rs"]
mod tests;
