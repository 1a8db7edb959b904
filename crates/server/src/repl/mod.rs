//! Replication, the server side: Shoal as a master serving replicas and as a
//! replica of a master, wire-compatible with Redis 7.0.15 (PSYNC2). The pure
//! decisions (backlog ring, replication IDs, the PSYNC decision, the replica's
//! handshake machine, `$EOF:` framing) live in `shoal-repl`; this module owns
//! the state shared by connections and background tasks, and the I/O.
//!
//! - [`Replication`] (a field of `Server`): the role, the replication IDs, the
//!   backlog, the replicas attached to this server, the link to our master.
//! - [`master`]: serving a replica connection after PSYNC/SYNC: partial resync
//!   from the backlog, full sync by streaming the fork-less snapshot
//!   (diskless, `$EOF:` framing) or through an RDB file (`$<len>`), then the
//!   command stream; REPLCONF ACKs; WAIT; min-replicas.
//! - [`replica`]: the link task of a replica: connect, handshake, receive and
//!   load the payload, apply the master's stream through dispatch as the
//!   master client, ACK every second, cache the master on disconnection.
//! - [`cmd`]: REPLICAOF/SLAVEOF, ROLE, WAIT, REPLCONF, PSYNC, SYNC.
//!
//! The stream: on a master, the propagation sink ([`ReplSink`]) receives each
//! execution unit already encoded; [`State::feed`] appends it to the backlog and
//! to the queue of every attached replica (a replica waiting for its snapshot
//! accumulates from the snapshot's cut). On a replica the sink ignores units
//! (the replica's own writes are not propagated, as in Redis since 4.0); the
//! bytes applied from the master are fed instead, unchanged, so sub-replicas and
//! the backlog carry the top master's stream and offsets.
//!
//! Invariants:
//! - `State::offset` is the offset of the last stream byte (the backlog's
//!   `master_repl_offset` when there is one); it only advances under the state
//!   lock, together with the backlog and the queues.
//! - Lock order: shard locks, then the propagation stream lock, then the state
//!   lock, then a replica's queue lock. The state lock is never held across I/O.

pub mod cmd;
pub mod fullsync;
pub mod master;
pub mod payload;
pub mod replica;

use crate::propagate::{target, Sink};
use crate::server::{unix_ms, Server};
use parking_lot::Mutex;
use shoal_repl::{Backlog, BacklogInfo, CachedMaster, ReplIds};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

pub use master::ReplicaLink;

/// The replica side's link state, as ROLE and INFO name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Must connect (after REPLICAOF, or after the link dropped).
    Connect,
    /// TCP connection being made.
    Connecting,
    /// Handshake (PING .. PSYNC).
    Handshake,
    /// Receiving the RDB payload.
    Sync,
    /// Applying the stream.
    Connected,
}

impl LinkState {
    /// ROLE's name for the state.
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// What a replica knows of its master.
pub struct MasterInfo {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// Unix ms of the last byte received from the master.
    pub last_io_ms: i64,
    /// Unix ms the link went down (0: never up since REPLICAOF).
    pub down_since_ms: i64,
    /// Offset of the last stream byte applied (slave_repl_offset).
    pub reploff: i64,
    /// Offset of the last stream byte read (slave_read_repl_offset).
    pub read_reploff: i64,
    /// The master's state kept for PSYNC after the link dropped.
    pub cached: Option<CachedMaster>,
    /// The database the master's stream has selected (kept across a partial resync).
    pub stream_db: usize,
    /// Full sync progress: payload size (-1 for the EOF form) and bytes read.
    pub sync_total: i64,
    pub sync_read: i64,
    pub sync_last_io_ms: i64,
}

/// Replication state guarded by one lock.
pub struct State {
    pub ids: ReplIds,
    pub backlog: Option<Backlog>,
    /// The offset of the last byte of the stream (see the module invariants).
    pub offset: i64,
    pub replicas: Vec<Arc<ReplicaLink>>,
    /// When the last replica went away (the backlog is freed after repl-backlog-ttl).
    pub no_replicas_since_ms: i64,
    /// `Some` on a replica.
    pub master: Option<MasterInfo>,
    /// The REPL propagation sink is registered.
    pub sink_registered: bool,
    /// A full-sync job runs (decided under this lock, so one starts at a time).
    pub sync_job: bool,
}

impl State {
    /// Appends stream bytes: backlog, offset, every replica queue that collects.
    pub fn feed(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let Some(b) = self.backlog.as_mut() else {
            return;
        };
        b.feed(bytes);
        self.offset = b.master_repl_offset();
        for r in &self.replicas {
            r.push(bytes);
        }
    }

    pub fn is_replica(&self) -> bool {
        self.master.is_some()
    }

    /// Creates the backlog if there is none, as the first replica's arrival does.
    /// Returns whether a new history started (new replid, replid2 cleared).
    pub fn ensure_backlog(&mut self, size: usize) -> bool {
        if self.backlog.is_some() {
            return false;
        }
        self.backlog = Some(Backlog::new(size, self.offset));
        true
    }
}

/// The server's replication (a field of `Server`).
pub struct Replication {
    pub st: Arc<Mutex<State>>,
    /// This server is a replica: read-only checks on the request path.
    pub is_replica: AtomicBool,
    /// A replica's link with its master is up (MASTERDOWN checks).
    pub link_up: AtomicBool,
    /// A full sync's payload is being loaded (LOADING replies).
    pub loading: AtomicBool,
    /// Replicas whose last ACK is younger than min-replicas-max-lag.
    pub good_replicas: AtomicUsize,
    /// Some replication check may refuse a command (this is a replica, a load
    /// runs, or min-replicas-to-write is set): dispatch's one branch.
    pub checks: AtomicBool,
    /// `replica-read-only`, `replica-serve-stale-data`, `min-replicas-to-write`.
    pub read_only: AtomicBool,
    pub serve_stale: AtomicBool,
    pub min_to_write: AtomicUsize,
    /// Bumped by REPLICAOF: link tasks of an older generation stop.
    pub gen: AtomicU64,
    /// Wakes link tasks when `gen` changes (see [`Replication::next_gen`]).
    pub gen_changed: tokio::sync::Notify,
    /// Bumped on every REPLCONF ACK (WAIT waits on it).
    pub acks: tokio::sync::watch::Sender<u64>,
    /// Unix ms of the last PING sent to replicas.
    pub last_ping_ms: AtomicI64,
    /// Full syncs and partial resyncs served (INFO sync_full, sync_partial_ok/err).
    pub sync_full: AtomicU64,
    pub sync_partial_ok: AtomicU64,
    pub sync_partial_err: AtomicU64,
}

impl Default for Replication {
    fn default() -> Self {
        let mut rng = rand::thread_rng();
        Replication {
            st: Arc::new(Mutex::new(State {
                ids: ReplIds::new(&mut rng),
                backlog: None,
                offset: 0,
                replicas: Vec::new(),
                no_replicas_since_ms: unix_ms(),
                master: None,
                sink_registered: false,
                sync_job: false,
            })),
            is_replica: AtomicBool::new(false),
            link_up: AtomicBool::new(false),
            loading: AtomicBool::new(false),
            good_replicas: AtomicUsize::new(0),
            checks: AtomicBool::new(false),
            read_only: AtomicBool::new(true),
            serve_stale: AtomicBool::new(true),
            min_to_write: AtomicUsize::new(0),
            gen: AtomicU64::new(0),
            gen_changed: tokio::sync::Notify::new(),
            acks: tokio::sync::watch::channel(0).0,
            last_ping_ms: AtomicI64::new(0),
            sync_full: AtomicU64::new(0),
            sync_partial_ok: AtomicU64::new(0),
            sync_partial_err: AtomicU64::new(0),
        }
    }
}

impl Replication {
    /// Starts a new link generation (REPLICAOF): the running link task stops at
    /// once, wherever it waits.
    pub fn next_gen(&self) {
        self.gen.fetch_add(1, Relaxed);
        self.gen_changed.notify_waiters();
    }

    /// CONFIG RESETSTAT: the sync counters restart from zero.
    pub fn reset_stats(&self) {
        self.sync_full.store(0, Relaxed);
        self.sync_partial_ok.store(0, Relaxed);
        self.sync_partial_err.store(0, Relaxed);
    }
}

/// The propagation sink of the replication stream.
pub struct ReplSink(pub Arc<Mutex<State>>);

impl Sink for ReplSink {
    fn target(&self) -> u8 {
        target::REPL
    }

    fn feed(&self, bytes: &[u8]) {
        let mut st = self.0.lock();
        // A replica forwards its master's stream, not its own units.
        if !st.is_replica() {
            st.feed(bytes);
        }
    }
}

/// Registers the REPL sink once (outside any command: it takes an exclusive
/// section). Commands record their effects from then on.
pub fn ensure_sink(srv: &Arc<Server>) {
    if srv.repl.st.lock().sink_registered {
        return;
    }
    let sink: Arc<dyn Sink> = Arc::new(ReplSink(srv.repl.st.clone()));
    srv.exclusive(|| {
        let mut st = srv.repl.st.lock();
        if !st.sink_registered {
            st.sink_registered = true;
            srv.propagation.add_sink_in_section(sink);
        }
    });
}

/// `repl-backlog-size` as configured (Redis's minimum is applied by CONFIG SET).
pub fn backlog_size(srv: &Server) -> usize {
    srv.config.read().int("repl-backlog-size").max(1) as usize
}

/// Feeds raw bytes into the replication stream (PING, REPLCONF GETACK), under the
/// propagation stream's order. Nothing happens without a backlog.
pub fn feed_raw(srv: &Server, bytes: &[u8]) {
    srv.propagation.with_stream_lock(|| {
        let mut st = srv.repl.st.lock();
        if !st.is_replica() {
            st.feed(bytes);
        }
    });
}

/// What the RDB's replication aux fields say (`repl-stream-db`, `repl-id`,
/// `repl-offset`), written when this server has a replication history: a
/// master with a backlog, or a replica (its master's ID and applied offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveInfo {
    pub stream_db: usize,
    pub replid: String,
    pub offset: i64,
}

/// The save info at this instant (called inside a snapshot's cut).
pub fn save_info(srv: &Server) -> Option<SaveInfo> {
    // Stream lock before state lock (the module's lock order).
    let selected = srv.propagation.repl_selected_db();
    let st = srv.repl.st.lock();
    match &st.master {
        Some(m) => Some(SaveInfo {
            stream_db: m.stream_db,
            replid: st.ids.replid.to_string(),
            offset: m.reploff,
        }),
        None if st.backlog.is_some() => Some(SaveInfo {
            stream_db: selected.unwrap_or(0),
            replid: st.ids.replid.to_string(),
            offset: st.offset,
        }),
        None => None,
    }
}

/// After the start-up load of an RDB carrying replication info: a replica keeps
/// it as its cached master (a partial resync may follow); a master keeps the ID
/// as its secondary one and opens a backlog at that offset, so that its former
/// replicas can continue, as Redis 7.0 does.
pub fn restore_from_rdb(srv: &Server, info: &SaveInfo) {
    let Some(id) = shoal_repl::ReplId::parse(info.replid.as_bytes()) else {
        return;
    };
    let mut st = srv.repl.st.lock();
    if let Some(m) = st.master.as_mut() {
        crate::notice!("Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
        m.cached = Some(CachedMaster {
            replid: id,
            reploff: info.offset,
        });
        m.reploff = info.offset;
        m.read_reploff = info.offset;
        m.stream_db = info.stream_db;
        st.ids.replid = id;
        st.ids.clear_replid2();
        st.offset = info.offset;
    } else {
        st.ids.replid2 = id;
        st.ids.second_repl_offset = info.offset + 1;
        st.offset = info.offset;
        st.backlog = Some(Backlog::new(backlog_size(srv), info.offset));
    }
}

/// The `# Replication` section's lines after `role` (shared by INFO).
pub fn info_lines(srv: &Server) -> String {
    use std::fmt::Write;
    let now = unix_ms();
    let st = srv.repl.st.lock();
    let mut s = String::new();
    let cfg = srv.config.read();
    match &st.master {
        Some(m) => {
            let _ = write!(s, "role:slave\r\n");
            let _ = write!(s, "master_host:{}\r\nmaster_port:{}\r\n", m.host, m.port);
            let up = m.state == LinkState::Connected;
            let _ = write!(
                s,
                "master_link_status:{}\r\n",
                if up { "up" } else { "down" }
            );
            let last_io = if up {
                ((now - m.last_io_ms) / 1000).max(0)
            } else {
                -1
            };
            let _ = write!(s, "master_last_io_seconds_ago:{last_io}\r\n");
            let syncing = m.state == LinkState::Sync;
            let _ = write!(s, "master_sync_in_progress:{}\r\n", syncing as i32);
            let _ = write!(
                s,
                "slave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
                m.read_reploff, m.reploff
            );
            if syncing {
                let total = m.sync_total;
                let read = m.sync_read;
                let left = if total >= 0 { total - read } else { 0 };
                let perc = if total > 0 {
                    read as f64 * 100.0 / total as f64
                } else {
                    0.0
                };
                let _ = write!(
                    s,
                    "master_sync_total_bytes:{total}\r\nmaster_sync_read_bytes:{read}\r\nmaster_sync_left_bytes:{left}\r\nmaster_sync_perc:{perc:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                    ((now - m.sync_last_io_ms) / 1000).max(0)
                );
            }
            if !up {
                let since = if m.down_since_ms > 0 {
                    ((now - m.down_since_ms) / 1000).max(0)
                } else {
                    -1
                };
                let _ = write!(s, "master_link_down_since_seconds:{since}\r\n");
            }
            let _ = write!(
                s,
                "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
                cfg.int("replica-priority"),
                cfg.bool("replica-read-only") as i32,
                cfg.bool("replica-announced") as i32
            );
        }
        None => {
            let _ = write!(s, "role:master\r\n");
        }
    }
    // Every attached replica, in any state (Redis lists those still syncing).
    let _ = write!(s, "connected_slaves:{}\r\n", st.replicas.len());
    if st.master.is_none() {
        let to_write = cfg.int("min-replicas-to-write");
        if to_write > 0 && cfg.int("min-replicas-max-lag") > 0 {
            let _ = write!(
                s,
                "min_slaves_good_slaves:{}\r\n",
                srv.repl.good_replicas.load(Relaxed)
            );
        }
    }
    for (i, r) in st.replicas.iter().enumerate() {
        let _ = write!(
            s,
            "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
            r.ip,
            r.port,
            r.state_name(),
            r.ack_off.load(Relaxed),
            ((now - r.ack_ms.load(Relaxed)) / 1000).max(0)
        );
    }
    let _ = write!(s, "master_failover_state:no-failover\r\n");
    let _ = write!(
        s,
        "master_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\n",
        st.ids.replid,
        st.ids.replid2,
        st.offset,
        st.ids.second_repl_offset
    );
    s.push_str(&BacklogInfo::of(st.backlog.as_ref(), backlog_size(srv)).lines());
    s
}

/// Mirrors the configuration and the role into the hot flags dispatch reads.
pub fn refresh_checks(srv: &Server) {
    let r = &srv.repl;
    let (ro, stale, min, lag) = {
        let c = srv.config.read();
        (
            c.bool("replica-read-only"),
            c.bool("replica-serve-stale-data"),
            c.int("min-replicas-to-write").max(0) as usize,
            c.int("min-replicas-max-lag"),
        )
    };
    r.read_only.store(ro, Relaxed);
    r.serve_stale.store(stale, Relaxed);
    // min-replicas-max-lag 0 disables the check, as in Redis.
    let min = if lag > 0 { min } else { 0 };
    r.min_to_write.store(min, Relaxed);
    let any = r.is_replica.load(Relaxed) || r.loading.load(Relaxed) || min > 0;
    r.checks.store(any, Relaxed);
}

/// Why a command of an ordinary client (not our master's) is refused for
/// replication reasons, in Redis's order (NOREPLICAS, READONLY, MASTERDOWN,
/// LOADING); `write` says whether it writes.
pub fn refusal(
    srv: &Server,
    write: bool,
    flags_stale: bool,
    flags_loading: bool,
) -> Option<&'static str> {
    let r = &srv.repl;
    let replica = r.is_replica.load(Relaxed);
    if !replica && write {
        let min = r.min_to_write.load(Relaxed);
        if min > 0 && r.good_replicas.load(Relaxed) < min {
            return Some("NOREPLICAS Not enough good replicas to write.");
        }
    }
    if replica && write && r.read_only.load(Relaxed) {
        return Some("READONLY You can't write against a read only replica.");
    }
    if replica && !r.link_up.load(Relaxed) && !r.serve_stale.load(Relaxed) && !flags_stale {
        return Some(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        );
    }
    if r.loading.load(Relaxed) && !flags_loading {
        return Some("LOADING Redis is loading the dataset in memory");
    }
    None
}

/// The replica log role character and the hot flags follow the role.
pub fn set_role_flags(srv: &Server, replica: bool) {
    srv.repl.is_replica.store(replica, Relaxed);
    crate::log::set_role(if replica { b'S' } else { b'M' });
    // apply_config mirrors the role into the handlers' settings (expiry mode)
    // and refreshes the checks.
    srv.apply_config();
}

/// The 1 Hz replication cron: PING to replicas, GETACK for WAIT, backlog TTL,
/// the good-replica count, replica timeouts, ACKs from the replica side.
pub async fn cron(srv: Arc<Server>) {
    let mut shutdown = srv.shutdown_rx();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {}
        }
        master::cron(&srv);
    }
}
