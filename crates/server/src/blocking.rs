//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...) and serving
//! them when those keys change.
//!
//! A blocking command that finds nothing to serve asks to wait
//! ([`shoal_commands::BlockOn`]); `dispatch` registers a [`Waiter`] here and the
//! connection suspends on its reply. When a command modifies a key that has
//! waiters, the modifying thread runs each waiter's command again, on the waiter's
//! behalf and in FIFO order of blocking, right after its own command, and sends
//! the reply to the waiter's connection. A run that still finds nothing asks to
//! wait again and keeps its place in the queue; a run that serves may modify keys
//! itself (BLMOVE pushes to its destination), which serves their waiters in turn.
//! This is Redis's semantics ("the blocked client is served before any other
//! client's command") with one difference: between the end of the modifying
//! command and the serving, another thread's command may take the element first.
//!
//! Invariants:
//! - the registry lock is taken only by threads that hold no shard lock, and is
//!   held while serving (which takes shard locks): so serving is serialized and
//!   deadlock-free;
//! - a waiter is in `by_key` under each of its keys exactly while it is in
//!   `waiters`; whoever removes it (serving, timeout, CLIENT UNBLOCK, the
//!   connection going away) removes it from both and answers it at most once.

use crate::client::{cflag, ClientInfo};
use crate::server::{unix_ms, Server};
use crate::signals;
use bytes::Bytes;
use parking_lot::Mutex;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use shoal_commands::{Ctx, Propagate, TimeoutReply};
use shoal_keyspace::Events;
use shoal_resp::{Proto, ReplyWriter};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::oneshot;

/// How a blocked client's wait ended.
pub enum Wake {
    /// Served: the reply bytes, in the client's protocol.
    Reply(Bytes),
    /// Unblocked without data (timeout, CLIENT UNBLOCK ... TIMEOUT).
    Timeout(TimeoutReply),
    /// CLIENT UNBLOCK ... ERROR.
    Error(&'static str),
}

pub struct Waiter {
    pub info: Arc<ClientInfo>,
    pub db: usize,
    pub proto: Proto,
    /// The command to run when a key changes (registry entry and arguments).
    pub entry: usize,
    pub argv: Vec<Bytes>,
    pub keys: Vec<Bytes>,
    pub on_timeout: TimeoutReply,
    tx: Option<oneshot::Sender<Wake>>,
}

#[derive(Default)]
struct Inner {
    by_key: HashMap<(usize, Bytes), VecDeque<u64>>,
    waiters: HashMap<u64, Waiter>,
}

#[derive(Default)]
pub struct Blocking {
    inner: Mutex<Inner>,
    /// Number of blocked clients (INFO's `blocked_clients`); 0 lets commands skip
    /// recording the keys they modify.
    pub count: AtomicUsize,
}

impl Blocking {
    /// Registers a waiter; its connection awaits the returned receiver.
    #[allow(clippy::too_many_arguments)]
    pub fn register(
        &self,
        info: Arc<ClientInfo>,
        db: usize,
        proto: Proto,
        entry: usize,
        argv: Vec<Bytes>,
        mut keys: Vec<Bytes>,
        on_timeout: TimeoutReply,
    ) -> oneshot::Receiver<Wake> {
        let (tx, rx) = oneshot::channel();
        let mut seen = std::collections::HashSet::new();
        keys.retain(|k| seen.insert(k.clone()));
        let mut inner = self.inner.lock();
        let id = info.id;
        for k in &keys {
            inner
                .by_key
                .entry((db, k.clone()))
                .or_default()
                .push_back(id);
        }
        info.set_flag(cflag::BLOCKED, true);
        inner.waiters.insert(
            id,
            Waiter {
                info,
                db,
                proto,
                entry,
                argv,
                keys,
                on_timeout,
                tx: Some(tx),
            },
        );
        self.count.store(inner.waiters.len(), Relaxed);
        rx
    }

    /// Removes client `id`'s waiter, if it is still blocked.
    pub fn remove(&self, id: u64) -> Option<Waiter> {
        let mut inner = self.inner.lock();
        let w = remove_locked(&mut inner, id);
        self.count.store(inner.waiters.len(), Relaxed);
        w
    }

    /// CLIENT UNBLOCK: ends client `id`'s wait as a timeout or with an error.
    /// Returns whether it was blocked on keys.
    pub fn unblock(&self, id: u64, error: bool) -> bool {
        let Some(mut w) = self.remove(id) else {
            return false;
        };
        let wake = if error {
            Wake::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        } else {
            Wake::Timeout(w.on_timeout)
        };
        if let Some(tx) = w.tx.take() {
            let _ = tx.send(wake);
        }
        true
    }

    /// Serves the waiters of the modified keys `touched` (and, in turn, of keys
    /// the served commands modify).
    pub fn serve(&self, srv: &Arc<Server>, touched: &[(usize, Bytes)]) {
        let mut inner = self.inner.lock();
        let mut queue: VecDeque<(usize, Bytes)> = VecDeque::new();
        for k in touched {
            if inner.by_key.contains_key(k) && !queue.contains(k) {
                queue.push_back(k.clone());
            }
        }
        let mut rng: Option<SmallRng> = None;
        // Bounded: each round either serves (removes) a waiter or moves past it.
        while let Some(key) = queue.pop_front() {
            let Some(ids) = inner.by_key.get(&key) else {
                continue;
            };
            let ids: Vec<u64> = ids.iter().copied().collect();
            for id in ids {
                let Some(w) = inner.waiters.get(&id) else {
                    continue;
                };
                let rng = rng.get_or_insert_with(SmallRng::from_entropy);
                match run_for(srv, w, rng) {
                    Some((reply, ev)) => {
                        if let Some(mut w) = remove_locked(&mut inner, id) {
                            if let Some(tx) = w.tx.take() {
                                let _ = tx.send(Wake::Reply(reply));
                            }
                        }
                        for k in ev.touched {
                            if inner.by_key.contains_key(&k) && !queue.contains(&k) {
                                queue.push_back(k);
                            }
                        }
                    }
                    None => {
                        if !key_exists(srv, &key) {
                            break;
                        }
                    }
                }
            }
        }
        self.count.store(inner.waiters.len(), Relaxed);
    }
}

fn remove_locked(inner: &mut Inner, id: u64) -> Option<Waiter> {
    let w = inner.waiters.remove(&id)?;
    for k in &w.keys {
        let key = (w.db, k.clone());
        if let Some(q) = inner.by_key.get_mut(&key) {
            q.retain(|&x| x != id);
            if q.is_empty() {
                inner.by_key.remove(&key);
            }
        }
    }
    w.info.set_flag(cflag::BLOCKED, false);
    Some(w)
}

fn key_exists(srv: &Server, (db, key): &(usize, Bytes)) -> bool {
    let idx = srv.ks.shard_of(key);
    srv.ks.with_shard(idx, |s| s.dbs[*db].contains(key))
}

/// Runs a waiter's command again on its behalf. Returns its reply and what it
/// changed, or None if it still has nothing to serve.
fn run_for(srv: &Arc<Server>, w: &Waiter, rng: &mut SmallRng) -> Option<(Bytes, Events)> {
    let e = &srv.registry.entries[w.entry];
    let Some(crate::registry::Exec::Data(h)) = e.exec else {
        return None;
    };
    let mut keys = Vec::new();
    shoal_commands::keys::key_positions(e.spec, &w.argv, &mut keys);
    let mut shards: Vec<usize> = keys.iter().map(|&i| srv.ks.shard_of(&w.argv[i])).collect();
    let settings = srv.settings();
    let mut out = ReplyWriter::new(w.proto);
    let mut ev = Events {
        want: signals::want(srv),
        ..Events::default()
    };
    let locked = srv.ks.lock_shard_list(&mut shards);
    let mut ctx = Ctx {
        ks: &srv.ks,
        locked,
        db: w.db,
        now: crate::dispatch::now_for(&settings, unix_ms(), false),
        out: &mut out,
        ev: &mut ev,
        settings: &settings,
        rng,
        dirty: 0,
        propagate: Propagate::AsIs,
        key_shards: &[],
        block: None,
        may_block: true,
        woken: true,
    };
    h(&mut ctx, &w.argv);
    let still_blocked = ctx.block.is_some();
    let dirty = ctx.dirty;
    if srv.propagation.active() {
        // A unit of its own (the handler rewrote it to its non-blocking form),
        // emitted under the shard locks; set aside any unit in progress on this
        // thread, which is emitted in its own time.
        let outer = crate::propagate::take_pending();
        crate::propagate::record_command(
            w.db,
            &w.argv,
            dirty,
            std::mem::take(&mut ctx.propagate),
            &ctx.ev.expired,
            settings.lazyfree_lazy_expire,
        );
        srv.propagation.emit();
        crate::propagate::restore_pending(outer);
    }
    drop(ctx);
    crate::stats::local(|t| crate::stats::ThreadStats::add(&t.dirty, dirty));
    // Notifications, WATCH and invalidations of what the served command changed;
    // its waiters are served by the caller's loop.
    signals::publish_and_invalidate(srv, &mut ev, None);
    if still_blocked {
        return None;
    }
    let _ = out.take_error_codes();
    Some((out.buf.freeze(), ev))
}

/// Removes the waiter when the blocked connection stops waiting for any reason
/// (served, timed out, killed, server shutting down).
pub struct WaiterGuard {
    pub srv: Arc<Server>,
    pub id: u64,
}

impl Drop for WaiterGuard {
    fn drop(&mut self) {
        self.srv.blocking.remove(self.id);
    }
}

impl Blocking {
    /// Every key of database `db` that has waiters (a flushed or swapped database
    /// may have made any of them ready).
    pub fn keys_in_db(&self, db: usize) -> Vec<(usize, Bytes)> {
        let inner = self.inner.lock();
        inner
            .by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .cloned()
            .collect()
    }
}
