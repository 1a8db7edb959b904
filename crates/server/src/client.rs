//! Connected clients: the shared, observable part of each connection and the list
//! CLIENT LIST / KILL / INFO read.
//!
//! A connection task owns its [`Client`] (parser state, selected db, protocol, ...);
//! the part other tasks must see or act on (name, address, counters for CLIENT LIST,
//! the kill switch, the push channel used by MONITOR) lives in an `Arc<ClientInfo>`
//! registered in [`ClientList`] for the connection's lifetime.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::{mpsc, Notify};

/// Client flags shown in CLIENT LIST's `flags=` field that other parties may set.
pub mod cflag {
    pub const MONITOR: u32 = 1 << 0;
    pub const CLOSE_AFTER_REPLY: u32 = 1 << 1;
    pub const NO_EVICT: u32 = 1 << 2;
    pub const UNIX_SOCKET: u32 = 1 << 3;
    pub const READONLY: u32 = 1 << 4;
    pub const PUBSUB: u32 = 1 << 5;
    pub const MULTI: u32 = 1 << 6;
    pub const BLOCKED: u32 = 1 << 7;
    pub const TRACKING: u32 = 1 << 8;
    pub const TRACKING_BROKEN_REDIR: u32 = 1 << 9;
    pub const TRACKING_BCAST: u32 = 1 << 10;
    pub const DIRTY_CAS: u32 = 1 << 11;
    pub const TRACKING_OPTIN: u32 = 1 << 12;
    pub const TRACKING_OPTOUT: u32 = 1 << 13;
    pub const TRACKING_NOLOOP: u32 = 1 << 14;
    /// CLIENT CACHING was given for the next command.
    pub const TRACKING_CACHING: u32 = 1 << 15;
    /// A replica's link to this server (after PSYNC/SYNC).
    pub const REPLICA: u32 = 1 << 16;
    /// Our master's link (on a replica).
    pub const MASTER: u32 = 1 << 17;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    Normal,
    Master,
    Replica,
    PubSub,
}

pub struct ClientInfo {
    pub id: u64,
    /// "ip:port" of the peer, or "/path:0" for unix sockets as Redis shows it.
    pub addr: String,
    pub laddr: String,
    pub fd: i64,
    pub created_ms: i64,
    pub name: Mutex<Option<Bytes>>,
    pub lib_name: Mutex<Option<Bytes>>,
    pub lib_ver: Mutex<Option<Bytes>>,
    pub db: AtomicUsize,
    pub last_interaction_ms: AtomicI64,
    /// Registry id + 1 of the command being or last executed (0: none yet).
    pub last_cmd: AtomicUsize,
    pub flags: AtomicU64,
    pub resp: AtomicUsize,
    pub qbuf: AtomicUsize,
    pub qbuf_free: AtomicUsize,
    pub obuf: AtomicUsize,
    pub multi: AtomicI64,
    pub tot_net_in: AtomicU64,
    pub tot_net_out: AtomicU64,
    pub tot_cmds: AtomicU64,
    pub user: Mutex<String>,
    /// Set by CLIENT KILL, timeouts, output-buffer limits: the task closes the connection.
    pub killed: AtomicBool,
    pub kill_notify: Notify,
    /// Messages for the client that do not answer its own requests (MONITOR feed,
    /// later pub/sub and invalidations). Bounded by the sender's checks.
    pub push: Mutex<Option<mpsc::UnboundedSender<Bytes>>>,
    /// Bytes queued on `push` and not yet taken by the connection task.
    pub push_pending: AtomicUsize,
    /// When the output first passed the soft output-buffer limit (0: it is below).
    pub soft_limit_since_ms: AtomicI64,
    /// Pub/Sub subscriptions (changed with the registry's lock held).
    pub subs: Mutex<Subs>,
}

/// A client's Pub/Sub subscriptions. Patterns keep their subscription order (a
/// PUNSUBSCRIBE without arguments confirms them in that order, as Redis does);
/// channels are a hash set in Redis too.
#[derive(Default, Debug)]
pub struct Subs {
    pub channels: HashSet<Bytes>,
    pub patterns: Vec<Bytes>,
    pub shard: HashSet<Bytes>,
}

impl ClientInfo {
    pub fn new(id: u64, addr: String, laddr: String, fd: i64, now_ms: i64) -> ClientInfo {
        ClientInfo {
            id,
            addr,
            laddr,
            fd,
            created_ms: now_ms,
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            db: AtomicUsize::new(0),
            last_interaction_ms: AtomicI64::new(now_ms),
            last_cmd: AtomicUsize::new(0),
            flags: AtomicU64::new(0),
            resp: AtomicUsize::new(2),
            qbuf: AtomicUsize::new(0),
            qbuf_free: AtomicUsize::new(0),
            obuf: AtomicUsize::new(0),
            multi: AtomicI64::new(-1),
            tot_net_in: AtomicU64::new(0),
            tot_net_out: AtomicU64::new(0),
            tot_cmds: AtomicU64::new(0),
            user: Mutex::new("default".to_string()),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
            push: Mutex::new(None),
            push_pending: AtomicUsize::new(0),
            soft_limit_since_ms: AtomicI64::new(0),
            subs: Mutex::new(Subs::default()),
        }
    }

    pub fn kill(&self) {
        self.killed.store(true, Relaxed);
        self.kill_notify.notify_one();
    }

    /// Whether the peer is local the way Redis counts it: a Unix socket, 127.0.0.1
    /// or ::1 (not the rest of 127/8). Used by `enable-debug-command local` and
    /// `enable-protected-configs local`.
    pub fn is_local(&self) -> bool {
        self.has_flag(cflag::UNIX_SOCKET)
            || self.addr.starts_with("127.0.0.1:")
            || self.addr.starts_with("::1:")
    }

    pub fn has_flag(&self, f: u32) -> bool {
        self.flags.load(Relaxed) & f as u64 != 0
    }

    pub fn set_flag(&self, f: u32, on: bool) {
        if on {
            self.flags.fetch_or(f as u64, Relaxed);
        } else {
            self.flags.fetch_and(!(f as u64), Relaxed);
        }
    }

    /// Queues an out-of-band message to the connection. Returns false if it is gone.
    pub fn send_push(&self, msg: Bytes) -> bool {
        let n = msg.len();
        match &*self.push.lock() {
            Some(tx) if tx.send(msg).is_ok() => {
                self.push_pending.fetch_add(n, Relaxed);
                true
            }
            _ => false,
        }
    }

    /// The connection task took a pushed message of `n` bytes into its buffer.
    pub fn push_taken(&self, n: usize) {
        self.push_pending.fetch_sub(n, Relaxed);
    }

    /// Output not yet written to the socket: queued pushes plus the reply buffer.
    pub fn pending_output(&self) -> u64 {
        (self.push_pending.load(Relaxed) + self.obuf.load(Relaxed)) as u64
    }
}

/// Every connected client, by id (ordered, so CLIENT LIST is in connection order).
#[derive(Default)]
pub struct ClientList {
    map: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    next_id: AtomicU64,
    /// Clients receiving the MONITOR feed; checked on every command, so kept apart.
    pub monitors: Mutex<Vec<Arc<ClientInfo>>>,
    pub monitor_count: AtomicUsize,
}

impl ClientList {
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed) + 1
    }

    pub fn add(&self, c: Arc<ClientInfo>) {
        self.map.lock().insert(c.id, c);
    }

    pub fn remove(&self, id: u64) {
        self.map.lock().remove(&id);
        let mut m = self.monitors.lock();
        m.retain(|c| c.id != id);
        self.monitor_count.store(m.len(), Relaxed);
    }

    pub fn len(&self) -> usize {
        self.map.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn snapshot(&self) -> Vec<Arc<ClientInfo>> {
        self.map.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.map.lock().get(&id).cloned()
    }

    pub fn remove_monitor(&self, id: u64) {
        let mut m = self.monitors.lock();
        m.retain(|c| c.id != id);
        self.monitor_count.store(m.len(), Relaxed);
    }

    pub fn add_monitor(&self, c: Arc<ClientInfo>) {
        let mut m = self.monitors.lock();
        if !m.iter().any(|x| x.id == c.id) {
            m.push(c);
        }
        self.monitor_count.store(m.len(), Relaxed);
    }
}
