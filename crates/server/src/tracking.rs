//! Client-side caching (CLIENT TRACKING): which clients may hold which keys, and
//! the invalidation messages sent when those keys change.
//!
//! Two modes, as in Redis 7.0:
//! - default: the keys a tracking client reads (read-only commands) are remembered
//!   in a table `key -> client ids`; when the key changes, each of those clients
//!   gets one invalidation and the key leaves the table (it is remembered again
//!   on the next read). OPTIN/OPTOUT narrow what is remembered with CLIENT CACHING;
//! - BCAST: clients register key prefixes and get an invalidation for every
//!   modified key under one of them, without any per-key memory.
//!
//! Keys are tracked by name only, across databases, as Redis does. Messages go to
//! the client itself as RESP3 `invalidate` pushes, or to the REDIRECT client: as a
//! push if it speaks RESP3, as a `__redis__:invalidate` Pub/Sub message if it is in
//! RESP2 subscribed mode. A FLUSHDB/FLUSHALL invalidates everything with a null.
//! NOLOOP skips the changes a client makes itself.
//!
//! Messages for the modifying client travel through its push channel like the
//! others, so they arrive after the reply of the command that caused them (Redis
//! 7.0 defers them the same way).
//!
//! Not done yet: `tracking-table-max-keys` (the table is not bounded).

use crate::client::{cflag, ClientInfo};
use crate::server::Server;
use bytes::Bytes;
use parking_lot::Mutex;
use shoal_resp::{Proto, ReplyWriter};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// The Pub/Sub channel RESP2 redirect clients receive invalidations on.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// One tracking client's options.
pub struct State {
    pub info: Arc<ClientInfo>,
    /// Client id invalidations go to (0: the client itself).
    pub redirect: u64,
    pub prefixes: Vec<Bytes>,
}

#[derive(Default)]
struct Inner {
    /// Default mode: key -> ids of the clients that may cache it.
    table: HashMap<Bytes, HashSet<u64>>,
    /// BCAST mode: prefix -> ids of its clients (ordered like Redis's radix tree).
    prefixes: BTreeMap<Bytes, HashSet<u64>>,
    clients: HashMap<u64, State>,
}

#[derive(Default)]
pub struct Tracking {
    inner: Mutex<Inner>,
    /// Clients with tracking on.
    pub clients: AtomicUsize,
}

/// CLIENT TRACKING ON's options, validated.
pub struct Options {
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    pub prefixes: Vec<Bytes>,
}

impl Tracking {
    /// The prefixes `c` registered (for overlap checks and TRACKINGINFO).
    pub fn prefixes_of(&self, id: u64) -> Vec<Bytes> {
        let inner = self.inner.lock();
        inner
            .clients
            .get(&id)
            .map(|s| s.prefixes.clone())
            .unwrap_or_default()
    }

    pub fn redirect_of(&self, id: u64) -> Option<u64> {
        self.inner.lock().clients.get(&id).map(|s| s.redirect)
    }

    /// Turns tracking on for `info` (or changes its options).
    pub fn enable(&self, info: &Arc<ClientInfo>, o: Options) {
        let mut inner = self.inner.lock();
        for f in [
            cflag::TRACKING_BROKEN_REDIR,
            cflag::TRACKING_BCAST,
            cflag::TRACKING_OPTIN,
            cflag::TRACKING_OPTOUT,
            cflag::TRACKING_NOLOOP,
        ] {
            info.set_flag(f, false);
        }
        info.set_flag(cflag::TRACKING, true);
        info.set_flag(cflag::TRACKING_BCAST, o.bcast);
        info.set_flag(cflag::TRACKING_OPTIN, o.optin);
        info.set_flag(cflag::TRACKING_OPTOUT, o.optout);
        info.set_flag(cflag::TRACKING_NOLOOP, o.noloop);
        let id = info.id;
        let state = inner.clients.entry(id).or_insert_with(|| State {
            info: info.clone(),
            redirect: 0,
            prefixes: Vec::new(),
        });
        state.redirect = o.redirect;
        let mut added = Vec::new();
        if o.bcast {
            let mut new = o.prefixes;
            if new.is_empty() {
                new.push(Bytes::new());
            }
            for p in new {
                if !state.prefixes.contains(&p) {
                    state.prefixes.push(p.clone());
                    added.push(p);
                }
            }
        }
        for p in added {
            inner.prefixes.entry(p).or_default().insert(id);
        }
        self.clients.store(inner.clients.len(), Relaxed);
    }

    /// Turns tracking off (CLIENT TRACKING OFF, RESET, disconnection).
    pub fn disable(&self, info: &ClientInfo) {
        let mut inner = self.inner.lock();
        if let Some(state) = inner.clients.remove(&info.id) {
            for p in &state.prefixes {
                if let Some(ids) = inner.prefixes.get_mut(p) {
                    ids.remove(&info.id);
                    if ids.is_empty() {
                        inner.prefixes.remove(p);
                    }
                }
            }
        }
        for f in [
            cflag::TRACKING,
            cflag::TRACKING_BROKEN_REDIR,
            cflag::TRACKING_BCAST,
            cflag::TRACKING_OPTIN,
            cflag::TRACKING_OPTOUT,
            cflag::TRACKING_NOLOOP,
            cflag::TRACKING_CACHING,
        ] {
            info.set_flag(f, false);
        }
        self.clients.store(inner.clients.len(), Relaxed);
    }

    /// Remembers that `info` read `keys` (after a read-only command), unless its
    /// OPTIN/OPTOUT mode and CLIENT CACHING say otherwise.
    pub fn remember<'k>(&self, info: &ClientInfo, keys: impl Iterator<Item = &'k Bytes>) {
        if info.has_flag(cflag::TRACKING_BCAST) {
            return;
        }
        let caching = info.has_flag(cflag::TRACKING_CACHING);
        if (info.has_flag(cflag::TRACKING_OPTIN) && !caching)
            || (info.has_flag(cflag::TRACKING_OPTOUT) && caching)
        {
            return;
        }
        let mut inner = self.inner.lock();
        for k in keys {
            inner.table.entry(k.clone()).or_default().insert(info.id);
        }
    }

    /// Numbers for INFO: tracked keys, (key, client) items, prefixes.
    pub fn totals(&self) -> (usize, usize, usize) {
        let inner = self.inner.lock();
        let items = inner.table.values().map(HashSet::len).sum();
        (inner.table.len(), items, inner.prefixes.len())
    }
}

/// Sends invalidations for the keys a command modified and the databases it
/// flushed. `me` is the modifying client (for NOLOOP).
pub fn invalidate(srv: &Server, touched: &[(usize, Bytes)], flushed: &[usize], me: Option<u64>) {
    let t = &srv.tracking;
    let mut inner = t.inner.lock();
    if !flushed.is_empty() {
        // Everything may have changed: a null invalidation to every client.
        inner.table.clear();
        let targets: Vec<u64> = inner.clients.keys().copied().collect();
        for id in targets {
            send(srv, &mut inner, id, None);
        }
    }
    if touched.is_empty() {
        return;
    }
    // Default mode: each client that read the key, once.
    for (_, key) in touched {
        let Some(ids) = inner.table.remove(key) else {
            continue;
        };
        for id in ids {
            let Some(state) = inner.clients.get(&id) else {
                continue;
            };
            if state.info.has_flag(cflag::TRACKING_BCAST)
                || (state.info.has_flag(cflag::TRACKING_NOLOOP) && Some(id) == me)
            {
                continue;
            }
            send(srv, &mut inner, id, Some(std::slice::from_ref(key)));
        }
    }
    // BCAST: per prefix and client, the modified keys under the prefix.
    if inner.prefixes.is_empty() {
        return;
    }
    let mut messages: Vec<(u64, Vec<Bytes>)> = Vec::new();
    for (prefix, ids) in inner.prefixes.iter() {
        let keys: Vec<Bytes> = touched
            .iter()
            .map(|(_, k)| k)
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        if keys.is_empty() {
            continue;
        }
        for &id in ids {
            let noloop = inner
                .clients
                .get(&id)
                .is_some_and(|s| s.info.has_flag(cflag::TRACKING_NOLOOP));
            if noloop && Some(id) == me {
                continue;
            }
            messages.push((id, keys.clone()));
        }
    }
    for (id, keys) in messages {
        send(srv, &mut inner, id, Some(&keys));
    }
}

/// Sends one invalidation message for tracking client `id` (None: everything).
fn send(srv: &Server, inner: &mut Inner, id: u64, keys: Option<&[Bytes]>) {
    let Some(state) = inner.clients.get(&id) else {
        return;
    };
    let own_proto = proto_of(&state.info);
    let mut target = state.info.clone();
    let mut redirected = false;
    if state.redirect != 0 {
        match srv.clients.get(state.redirect) {
            Some(r) => {
                target = r;
                redirected = true;
            }
            None => {
                // Told at every message that cannot be delivered, as Redis does.
                state.info.set_flag(cflag::TRACKING_BROKEN_REDIR, true);
                if own_proto == Proto::Resp3 {
                    let mut w = ReplyWriter::new(Proto::Resp3);
                    w.push(2);
                    w.bulk_str("tracking-redir-broken");
                    w.int(state.redirect as i64);
                    state.info.send_push(w.buf.freeze());
                }
                return;
            }
        }
    }
    let tproto = proto_of(&target);
    let mut w = ReplyWriter::new(tproto);
    if tproto == Proto::Resp3 {
        w.push(2);
        w.bulk_str("invalidate");
    } else if redirected && target.has_flag(cflag::PUBSUB) {
        w.push(3);
        w.bulk_str("message");
        w.bulk(CHANNEL);
    } else {
        return;
    }
    match keys {
        // The null is written in the tracking client's protocol, as Redis does.
        None => w.raw(if own_proto == Proto::Resp3 {
            b"_\r\n"
        } else {
            b"$-1\r\n"
        }),
        Some(keys) => {
            w.array(keys.len());
            for k in keys {
                w.bulk(k);
            }
        }
    }
    srv.pubsub.send_limited(&target, w.buf.freeze());
}

fn proto_of(c: &ClientInfo) -> Proto {
    if c.resp.load(Relaxed) == 3 {
        Proto::Resp3
    } else {
        Proto::Resp2
    }
}
