//! The shared state of a running server and its construction from the configuration.
//!
//! `Server` is created once at start-up and shared (`Arc`) by every connection task
//! and background service. Values read on every request are mirrored from the
//! configuration into atomics (`Hot`) or into the `Settings` snapshot handed to
//! command handlers, so the request path never takes the configuration lock.

use crate::client::ClientList;
use crate::latency::LatencyMonitor;
use crate::registry::Registry;
use crate::slowlog::SlowLog;
use parking_lot::{Mutex, RwLock};
use shoal_commands::{SanitizeDump, Settings};
use shoal_config::Config;
use shoal_keyspace::Keyspace;
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed,
};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// Configuration values read on the request path.
pub struct Hot {
    pub maxclients: AtomicUsize,
    pub timeout_secs: AtomicI64,
    pub protected_mode: AtomicBool,
    pub proto_max_bulk_len: AtomicUsize,
    pub client_query_buffer_limit: AtomicUsize,
    pub slowlog_slower_than: AtomicI64,
    pub latency_threshold_ms: AtomicI64,
    pub has_password: AtomicBool,
    pub active_expire: AtomicBool,
    pub hz: AtomicI64,
    pub latency_tracking: AtomicBool,
    /// `notify-keyspace-events` classes (0: off).
    pub notify_classes: AtomicU32,
    /// `busy-reply-threshold` (alias `lua-time-limit`), in ms.
    pub busy_reply_threshold_ms: AtomicI64,
}

/// How clients are paused (CLIENT PAUSE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseKind {
    None,
    Write,
    All,
}

pub struct Pause {
    pub kind: PauseKind,
    pub until_ms: i64,
}

pub struct Server {
    pub ks: Keyspace,
    pub registry: Registry,
    pub config: RwLock<Config>,
    settings: RwLock<Arc<Settings>>,
    pub settings_gen: AtomicU64,
    pub hot: Hot,
    pub clients: ClientList,
    pub started: Instant,
    pub start_unix_ms: i64,
    pub run_id: String,
    /// The summed per-thread change counter at the last successful save:
    /// `rdb_changes_since_last_save` is the current sum minus this.
    pub dirty_at_save: AtomicU64,
    pub lastsave: AtomicI64,
    pub slowlog: Mutex<SlowLog>,
    pub pubsub: crate::pubsub::PubSub,
    pub watches: crate::watch::Watches,
    pub blocking: crate::blocking::Blocking,
    pub tracking: crate::tracking::Tracking,
    pub gate: crate::gate::Gate,
    pub scripting: crate::scripting::Scripting,
    /// Sinks of the propagation stream (AOF, replicas) and its order.
    pub propagation: crate::propagate::Propagation,
    /// The append-only file (persist/aof).
    pub aof: crate::persist::aof::Aof,
    pub latency: Mutex<LatencyMonitor>,
    pub pause: Mutex<Pause>,
    /// Set while a CLIENT PAUSE may be in force, so that the request path checks
    /// one shared-read atomic instead of locking `pause` for every command.
    pub pause_active: AtomicBool,
    pub pause_changed: tokio::sync::Notify,
    pub shutdown_tx: watch::Sender<bool>,
    /// Listening ports, for INFO and the banner.
    pub tcp_port: AtomicUsize,
    pub total_connections: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub expired_stale_perc: AtomicU64,
    pub expire_cycle_cpu_ms: AtomicU64,
    pub executable: String,
    /// The worker runtimes connections are spread over (set once at start-up).
    pub workers: std::sync::OnceLock<Vec<tokio::runtime::Handle>>,
    pub next_worker: AtomicUsize,
    pub sentinel_mode: bool,
    /// TCP listener generation: accept loops of an older generation stop (CONFIG
    /// SET port/bind replaces the listeners).
    pub listen_gen: watch::Sender<u64>,
    /// Held by every running TCP accept loop of the current generation.
    pub listen_token: Mutex<Arc<()>>,
    pub persist: crate::persist::Persistence,
    /// Replication: role, IDs, backlog, replicas, the link to our master.
    pub repl: crate::repl::Replication,
    /// maxmemory eviction: its configuration, pool and statistics.
    pub evict: crate::evict::Evictor,
}

pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

impl Server {
    pub fn new(config: Config, sentinel_mode: bool) -> Arc<Server> {
        let registry = Registry::build();
        crate::stats::init(registry.entries.len());
        let dbs = config.int("databases").clamp(1, i32::MAX as i64) as usize;
        let (shutdown_tx, _) = watch::channel(false);
        let now = unix_ms();
        let srv = Server {
            ks: Keyspace::new(
                dbs,
                std::env::var("SHOAL_SHARDS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(shoal_keyspace::DEFAULT_SHARDS),
            ),
            registry,
            settings: RwLock::new(Arc::new(Settings::default())),
            settings_gen: AtomicU64::new(0),
            hot: Hot {
                maxclients: AtomicUsize::new(10000),
                timeout_secs: AtomicI64::new(0),
                protected_mode: AtomicBool::new(true),
                proto_max_bulk_len: AtomicUsize::new(512 << 20),
                client_query_buffer_limit: AtomicUsize::new(1 << 30),
                slowlog_slower_than: AtomicI64::new(10000),
                latency_threshold_ms: AtomicI64::new(0),
                has_password: AtomicBool::new(false),
                active_expire: AtomicBool::new(true),
                hz: AtomicI64::new(10),
                latency_tracking: AtomicBool::new(true),
                notify_classes: AtomicU32::new(0),
                busy_reply_threshold_ms: AtomicI64::new(5000),
            },
            config: RwLock::new(config),
            clients: ClientList::default(),
            started: Instant::now(),
            start_unix_ms: now,
            run_id: random_hex(40),
            dirty_at_save: AtomicU64::new(0),
            lastsave: AtomicI64::new(now / 1000),
            slowlog: Mutex::new(SlowLog::default()),
            pubsub: Default::default(),
            watches: Default::default(),
            blocking: Default::default(),
            tracking: Default::default(),
            gate: Default::default(),
            scripting: Default::default(),
            propagation: Default::default(),
            aof: Default::default(),
            latency: Mutex::new(LatencyMonitor::default()),
            pause: Mutex::new(Pause {
                kind: PauseKind::None,
                until_ms: 0,
            }),
            pause_changed: tokio::sync::Notify::new(),
            pause_active: AtomicBool::new(false),
            shutdown_tx,
            tcp_port: AtomicUsize::new(0),
            total_connections: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            expired_stale_perc: AtomicU64::new(0),
            expire_cycle_cpu_ms: AtomicU64::new(0),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            sentinel_mode,
            workers: std::sync::OnceLock::new(),
            next_worker: AtomicUsize::new(0),
            listen_gen: watch::channel(0).0,
            listen_token: Mutex::new(Arc::new(())),
            persist: Default::default(),
            repl: Default::default(),
            evict: Default::default(),
        };
        srv.apply_config();
        Arc::new(srv)
    }

    /// Mirrors the configuration into the hot atomics and the handlers' settings.
    /// Called at start-up and after every successful CONFIG SET.
    pub fn apply_config(&self) {
        let cfg = self.config.read();
        let h = &self.hot;
        h.maxclients
            .store(cfg.int("maxclients").max(1) as usize, Relaxed);
        h.timeout_secs.store(cfg.int("timeout"), Relaxed);
        h.protected_mode.store(cfg.bool("protected-mode"), Relaxed);
        h.proto_max_bulk_len
            .store(cfg.int("proto-max-bulk-len").max(1) as usize, Relaxed);
        h.client_query_buffer_limit.store(
            cfg.int("client-query-buffer-limit").max(1) as usize,
            Relaxed,
        );
        h.slowlog_slower_than
            .store(cfg.int("slowlog-log-slower-than"), Relaxed);
        h.latency_threshold_ms
            .store(cfg.int("latency-monitor-threshold"), Relaxed);
        h.has_password
            .store(!cfg.string("requirepass").is_empty(), Relaxed);
        h.hz.store(cfg.int("hz").clamp(1, 500), Relaxed);
        h.latency_tracking
            .store(cfg.bool("latency-tracking"), Relaxed);
        self.slowlog
            .lock()
            .set_max_len(cfg.int("slowlog-max-len").max(0) as usize);
        let cobl = cfg.client_output_buffer_limits();
        self.pubsub.limit.hard.store(cobl.pubsub.hard, Relaxed);
        self.pubsub.limit.soft.store(cobl.pubsub.soft, Relaxed);
        self.pubsub
            .limit
            .soft_secs
            .store(cobl.pubsub.soft_seconds, Relaxed);
        h.notify_classes
            .store(cfg.notify_keyspace_events(), Relaxed);
        h.busy_reply_threshold_ms
            .store(cfg.int("busy-reply-threshold"), Relaxed);
        self.evict.configure(&cfg);
        let policy = cfg.string("maxmemory-policy");
        let settings = Settings {
            proto_max_bulk_len: cfg.int("proto-max-bulk-len"),
            lfu_policy: policy.contains("lfu"),
            lfu_log_factor: cfg.int("lfu-log-factor"),
            lfu_decay_time: cfg.int("lfu-decay-time"),
            lazyfree_lazy_user_del: cfg.bool("lazyfree-lazy-user-del"),
            lazyfree_lazy_user_flush: cfg.bool("lazyfree-lazy-user-flush"),
            lazyfree_lazy_server_del: cfg.bool("lazyfree-lazy-server-del"),
            lazyfree_lazy_expire: cfg.bool("lazyfree-lazy-expire"),
            replica: self.repl.is_replica.load(Relaxed),
            list_max_listpack_size: cfg.int("list-max-listpack-size"),
            hash_max_listpack_entries: cfg.int("hash-max-listpack-entries"),
            hash_max_listpack_value: cfg.int("hash-max-listpack-value"),
            set_max_intset_entries: cfg.int("set-max-intset-entries"),
            zset_max_listpack_entries: cfg.int("zset-max-listpack-entries"),
            zset_max_listpack_value: cfg.int("zset-max-listpack-value"),
            stream_node_max_bytes: cfg.int("stream-node-max-bytes"),
            stream_node_max_entries: cfg.int("stream-node-max-entries"),
            hll_sparse_max_bytes: cfg.int("hll-sparse-max-bytes"),
            rdbcompression: cfg.bool("rdbcompression"),
            sanitize_dump_payload: SanitizeDump::parse(&cfg.string("sanitize-dump-payload")),
        };
        let backlog_size = cfg.int("repl-backlog-size").max(1) as usize;
        drop(cfg);
        crate::persist::update_misconf(self);
        crate::repl::refresh_checks(self);
        if let Some(b) = self.repl.st.lock().backlog.as_mut() {
            if b.size() != backlog_size {
                b.resize(backlog_size);
            }
        }
        *self.settings.write() = Arc::new(settings);
        self.settings_gen.fetch_add(1, Relaxed);
    }

    /// Whether any client uses client-side caching (CLIENT TRACKING ON).
    #[inline]
    pub fn tracking_active(&self) -> bool {
        self.tracking.clients.load(Relaxed) > 0
    }

    pub fn settings(&self) -> Arc<Settings> {
        self.settings.read().clone()
    }

    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Asks every service and connection to stop.
    pub fn request_shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
    }

    pub fn shutdown_rx(&self) -> watch::Receiver<bool> {
        self.shutdown_tx.subscribe()
    }
}

impl Server {
    /// Starts a connection task on the next worker runtime (round robin), or on the
    /// current runtime before the workers exist.
    pub fn spawn_connection<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        match self.workers.get() {
            Some(w) if !w.is_empty() => {
                let i = self.next_worker.fetch_add(1, Relaxed) % w.len();
                w[i].spawn(fut);
            }
            _ => {
                tokio::spawn(fut);
            }
        }
    }
}
