//! INFO: the sections and field names of Redis 7.0, filled from Shoal's state.
//!
//! Fields that belong to features of later issues (replication, persistence,
//! pub/sub, tracking, eviction) report the values Redis reports when the feature is
//! idle, so that tools parsing INFO keep working; each is filled in by its feature.

use super::{lossy, SCtx, ServerHandler};
use crate::server::{unix_ms, Server};
use crate::stats;
use bytes::Bytes;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

pub const HANDLERS: &[(&str, ServerHandler)] = &[("info", info)];

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

fn info(c: &mut SCtx, argv: &[Bytes]) {
    let mut wanted: Vec<&str> = Vec::new();
    let names: Vec<String> = argv[1..]
        .iter()
        .map(|a| lossy(a).to_ascii_lowercase())
        .collect();
    if names.is_empty() {
        wanted.extend(DEFAULT);
    }
    for n in &names {
        match n.as_str() {
            "default" => wanted.extend(DEFAULT),
            "all" | "everything" => wanted.extend(ALL),
            other => {
                if let Some(s) = ALL.iter().find(|s| **s == other) {
                    wanted.push(s);
                }
            }
        }
    }
    let text = render(c.srv, &wanted);
    c.out.verbatim("txt", text.as_bytes());
}

/// Renders the requested sections in Redis's order, each once.
pub fn render(srv: &Server, wanted: &[&str]) -> String {
    let mut out = String::new();
    for section in ALL {
        if !wanted.contains(section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        match *section {
            "server" => server(srv, &mut out),
            "clients" => clients(srv, &mut out),
            "memory" => memory(srv, &mut out),
            "persistence" => persistence(srv, &mut out),
            "stats" => stats_section(srv, &mut out),
            "replication" => replication(srv, &mut out),
            "cpu" => cpu(&mut out),
            "modules" => out.push_str("# Modules\r\n"),
            "commandstats" => commandstats(srv, &mut out),
            "errorstats" => errorstats(&mut out),
            "latencystats" => latencystats(srv, &mut out),
            "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "keyspace" => keyspace(srv, &mut out),
            _ => {}
        }
    }
    out
}

macro_rules! field {
    ($out:expr, $name:expr, $($v:tt)*) => {{
        let _ = write!($out, "{}:", $name);
        let _ = write!($out, $($v)*);
        $out.push_str("\r\n");
    }};
}

fn uname() -> String {
    // SAFETY: uname fills the zeroed struct we own.
    let u = unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        libc::uname(&mut u);
        u
    };
    let f = |a: &[libc::c_char]| {
        let bytes: Vec<u8> = a
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
}

fn server(srv: &Server, out: &mut String) {
    let cfg = srv.config.read();
    let up = srv.uptime_secs();
    out.push_str("# Server\r\n");
    field!(out, "redis_version", "{}", crate::REDIS_VERSION);
    field!(out, "redis_git_sha1", "00000000");
    field!(out, "redis_git_dirty", "0");
    field!(out, "redis_build_id", "0");
    field!(
        out,
        "redis_mode",
        "{}",
        if srv.sentinel_mode {
            "sentinel"
        } else {
            "standalone"
        }
    );
    field!(out, "shoal_version", "{}", crate::SHOAL_VERSION);
    field!(out, "os", "{}", uname());
    field!(out, "arch_bits", "64");
    field!(out, "monotonic_clock", "POSIX clock_gettime");
    field!(out, "multiplexing_api", "epoll");
    field!(out, "atomicvar_api", "c11-builtin");
    field!(out, "gcc_version", "0.0.0");
    field!(out, "process_id", "{}", std::process::id());
    field!(out, "process_supervised", "no");
    field!(out, "run_id", "{}", srv.run_id);
    field!(out, "tcp_port", "{}", srv.tcp_port.load(Relaxed));
    field!(out, "server_time_usec", "{}", unix_ms() * 1000);
    field!(out, "uptime_in_seconds", "{}", up);
    field!(out, "uptime_in_days", "{}", up / 86400);
    field!(out, "hz", "{}", srv.hot.hz.load(Relaxed));
    field!(out, "configured_hz", "{}", cfg.int("hz"));
    field!(
        out,
        "lru_clock",
        "{}",
        shoal_keyspace::db::lru_clock(unix_ms())
    );
    field!(out, "executable", "{}", srv.executable);
    field!(
        out,
        "config_file",
        "{}",
        cfg.config_file()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    field!(out, "io_threads_active", "0");
}

fn clients(srv: &Server, out: &mut String) {
    out.push_str("# Clients\r\n");
    // Replica links are not counted, as in Redis (they have their own section).
    let replicas = srv.repl.st.lock().replicas.len();
    field!(
        out,
        "connected_clients",
        "{}",
        srv.clients.len().saturating_sub(replicas)
    );
    field!(out, "cluster_connections", "0");
    field!(out, "maxclients", "{}", srv.hot.maxclients.load(Relaxed));
    field!(out, "client_recent_max_input_buffer", "0");
    field!(out, "client_recent_max_output_buffer", "0");
    field!(
        out,
        "blocked_clients",
        "{}",
        srv.blocking.count.load(Relaxed)
    );
    field!(
        out,
        "tracking_clients",
        "{}",
        srv.tracking.clients.load(Relaxed)
    );
    field!(out, "clients_in_timeout_table", "0");
}

/// Bytes with Redis's human-readable suffixes (B, K, M, G, T, P).
pub fn human_bytes(n: u64) -> String {
    let d = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.2}K", d / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", d / (1024.0 * 1024.0))
    } else if n < 1024u64.pow(4) {
        format!("{:.2}G", d / 1024f64.powi(3))
    } else if n < 1024u64.pow(5) {
        format!("{:.2}T", d / 1024f64.powi(4))
    } else {
        format!("{:.2}P", d / 1024f64.powi(5))
    }
}

/// Resident set size of this process in bytes, from /proc.
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                })
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn memory(srv: &Server, out: &mut String) {
    let cfg = srv.config.read();
    let used = crate::memory::used_memory();
    let rss = rss_bytes();
    let peak = crate::memory::peak_memory();
    let startup = crate::memory::startup_memory();
    let maxmem = cfg.int("maxmemory").max(0) as u64;
    out.push_str("# Memory\r\n");
    field!(out, "used_memory", "{used}");
    field!(out, "used_memory_human", "{}", human_bytes(used));
    field!(out, "used_memory_rss", "{rss}");
    field!(out, "used_memory_rss_human", "{}", human_bytes(rss));
    field!(out, "used_memory_peak", "{peak}");
    field!(out, "used_memory_peak_human", "{}", human_bytes(peak));
    field!(
        out,
        "used_memory_peak_perc",
        "{:.2}%",
        if peak > 0 {
            used as f64 * 100.0 / peak as f64
        } else {
            100.0
        }
    );
    field!(out, "used_memory_overhead", "{startup}");
    field!(out, "used_memory_startup", "{startup}");
    let dataset = used.saturating_sub(startup);
    field!(out, "used_memory_dataset", "{dataset}");
    field!(
        out,
        "used_memory_dataset_perc",
        "{:.2}%",
        if used > 0 {
            dataset as f64 * 100.0 / used as f64
        } else {
            0.0
        }
    );
    field!(out, "allocator_allocated", "{used}");
    field!(out, "allocator_active", "{used}");
    field!(out, "allocator_resident", "{rss}");
    let sys = total_system_memory();
    field!(out, "total_system_memory", "{sys}");
    field!(out, "total_system_memory_human", "{}", human_bytes(sys));
    for (k, v) in [
        ("used_memory_lua", "0"),
        ("used_memory_vm_eval", "0"),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", "0"),
        ("number_of_cached_scripts", "0"),
        ("number_of_functions", "0"),
        ("number_of_libraries", "0"),
        ("used_memory_vm_functions", "0"),
        ("used_memory_vm_total", "0"),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", "0"),
        ("used_memory_scripts", "0"),
        ("used_memory_scripts_human", "0B"),
    ] {
        field!(out, k, "{v}");
    }
    field!(out, "maxmemory", "{maxmem}");
    field!(out, "maxmemory_human", "{}", human_bytes(maxmem));
    field!(
        out,
        "maxmemory_policy",
        "{}",
        cfg.string("maxmemory-policy")
    );
    let frag = if used > 0 {
        rss as f64 / used as f64
    } else {
        0.0
    };
    field!(out, "allocator_frag_ratio", "1.00");
    field!(out, "allocator_frag_bytes", "0");
    field!(out, "allocator_rss_ratio", "{:.2}", frag);
    field!(out, "allocator_rss_bytes", "{}", rss as i64 - used as i64);
    field!(out, "rss_overhead_ratio", "1.00");
    field!(out, "rss_overhead_bytes", "0");
    field!(out, "mem_fragmentation_ratio", "{:.2}", frag);
    field!(
        out,
        "mem_fragmentation_bytes",
        "{}",
        rss as i64 - used as i64
    );
    field!(
        out,
        "mem_not_counted_for_evict",
        "{}",
        crate::evict::not_counted_for_evict(srv)
    );
    for k in [
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_clients_slaves",
        "mem_clients_normal",
        "mem_cluster_links",
        "mem_aof_buffer",
    ] {
        field!(out, k, "0");
    }
    field!(out, "mem_allocator", "{}", crate::memory::ALLOCATOR_NAME);
    field!(out, "active_defrag_running", "0");
    field!(
        out,
        "lazyfree_pending_objects",
        "{}",
        shoal_keyspace::lazyfree::pending()
    );
    field!(
        out,
        "lazyfreed_objects",
        "{}",
        shoal_keyspace::lazyfree::freed()
    );
}

fn persistence(srv: &Server, out: &mut String) {
    let p = &srv.persist;
    let now = crate::server::unix_ms();
    out.push_str("# Persistence\r\n");
    field!(out, "loading", "0");
    field!(out, "async_loading", "0");
    let cur = crate::persist::snapshot::running();
    let (peak, size, processed, total) = match &cur {
        Some(c) => (
            c.cow_peak.load(Relaxed),
            c.cow_bytes.load(Relaxed),
            c.keys_processed.load(Relaxed),
            c.keys_total.load(Relaxed),
        ),
        None => (0, 0, 0, 0),
    };
    field!(out, "current_cow_peak", "{peak}");
    field!(out, "current_cow_size", "{size}");
    // Redis reports how old its child's last COW sample is (a second or so,
    // as the child reports periodically); Shoal's size is read live from the
    // snapshot's counter, so its age is always 0.
    field!(out, "current_cow_size_age", "0");
    let perc = if total > 0 {
        processed.min(total) as f64 * 100.0 / total as f64
    } else {
        0.0
    };
    field!(out, "current_fork_perc", "{perc:.2}");
    field!(out, "current_save_keys_processed", "{processed}");
    field!(out, "current_save_keys_total", "{total}");
    field!(
        out,
        "rdb_changes_since_last_save",
        "{}",
        stats::totals()
            .dirty
            .saturating_sub(srv.dirty_at_save.load(Relaxed))
    );
    let in_progress = p.bgsave_in_progress.load(Relaxed);
    field!(out, "rdb_bgsave_in_progress", "{}", in_progress as u8);
    field!(out, "rdb_last_save_time", "{}", srv.lastsave.load(Relaxed));
    let ok = if p.last_bgsave_ok.load(Relaxed) {
        "ok"
    } else {
        "err"
    };
    field!(out, "rdb_last_bgsave_status", "{ok}");
    field!(
        out,
        "rdb_last_bgsave_time_sec",
        "{}",
        p.last_bgsave_time_sec.load(Relaxed)
    );
    let current = if in_progress {
        (now - p.bgsave_started_ms.load(Relaxed)) / 1000
    } else {
        -1
    };
    field!(out, "rdb_current_bgsave_time_sec", "{current}");
    field!(out, "rdb_saves", "{}", p.rdb_saves.load(Relaxed));
    field!(
        out,
        "rdb_last_cow_size",
        "{}",
        p.last_cow_size.load(Relaxed)
    );
    field!(
        out,
        "rdb_last_load_keys_expired",
        "{}",
        p.last_load_keys_expired.load(Relaxed)
    );
    field!(
        out,
        "rdb_last_load_keys_loaded",
        "{}",
        p.last_load_keys_loaded.load(Relaxed)
    );
    let (aof, aof_on) = crate::persist::aof::info_fields(srv);
    for (k, v) in aof {
        field!(out, k, "{v}");
    }
    field!(out, "module_fork_in_progress", "0");
    field!(out, "module_fork_last_cow_size", "0");
    for (k, v) in aof_on {
        field!(out, k, "{v}");
    }
}

fn stats_section(srv: &Server, out: &mut String) {
    let t = stats::totals();
    out.push_str("# Stats\r\n");
    field!(
        out,
        "total_connections_received",
        "{}",
        srv.total_connections.load(Relaxed)
    );
    field!(out, "total_commands_processed", "{}", t.commands_processed);
    field!(
        out,
        "instantaneous_ops_per_sec",
        "{}",
        crate::metrics::ops_per_sec()
    );
    field!(out, "total_net_input_bytes", "{}", t.net_input_bytes);
    field!(out, "total_net_output_bytes", "{}", t.net_output_bytes);
    field!(out, "total_net_repl_input_bytes", "0");
    field!(out, "total_net_repl_output_bytes", "0");
    field!(
        out,
        "instantaneous_input_kbps",
        "{:.2}",
        crate::metrics::input_kbps()
    );
    field!(
        out,
        "instantaneous_output_kbps",
        "{:.2}",
        crate::metrics::output_kbps()
    );
    field!(out, "instantaneous_input_repl_kbps", "0.00");
    field!(out, "instantaneous_output_repl_kbps", "0.00");
    field!(
        out,
        "rejected_connections",
        "{}",
        srv.rejected_connections.load(Relaxed)
    );
    let r = &srv.repl;
    field!(out, "sync_full", "{}", r.sync_full.load(Relaxed));
    field!(
        out,
        "sync_partial_ok",
        "{}",
        r.sync_partial_ok.load(Relaxed)
    );
    field!(
        out,
        "sync_partial_err",
        "{}",
        r.sync_partial_err.load(Relaxed)
    );
    field!(out, "expired_keys", "{}", t.expired_keys);
    field!(
        out,
        "expired_stale_perc",
        "{:.2}",
        srv.expired_stale_perc.load(Relaxed) as f64
    );
    field!(out, "expired_time_cap_reached_count", "0");
    field!(
        out,
        "expire_cycle_cpu_milliseconds",
        "{}",
        srv.expire_cycle_cpu_ms.load(Relaxed)
    );
    field!(out, "evicted_keys", "{}", t.evicted_keys);
    field!(out, "evicted_clients", "0");
    field!(
        out,
        "total_eviction_exceeded_time",
        "{}",
        srv.evict.total_exceeded_ms()
    );
    field!(
        out,
        "current_eviction_exceeded_time",
        "{}",
        srv.evict.current_exceeded_ms()
    );
    field!(out, "keyspace_hits", "{}", t.keyspace_hits);
    field!(out, "keyspace_misses", "{}", t.keyspace_misses);
    let (channels, patterns, shard) = srv.pubsub.counts();
    field!(out, "pubsub_channels", "{}", channels);
    field!(out, "pubsub_patterns", "{}", patterns);
    field!(out, "pubsubshard_channels", "{}", shard);
    for k in [
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
    ] {
        field!(out, k, "0");
    }
    let (keys, items, prefixes) = srv.tracking.totals();
    field!(out, "tracking_total_keys", "{}", keys);
    field!(out, "tracking_total_items", "{}", items);
    field!(out, "tracking_total_prefixes", "{}", prefixes);
    field!(out, "unexpected_error_replies", "0");
    field!(out, "total_error_replies", "{}", t.total_error_replies);
    field!(out, "dump_payload_sanitizations", "0");
    field!(out, "total_reads_processed", "{}", t.commands_processed);
    field!(out, "total_writes_processed", "{}", t.commands_processed);
    for k in [
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ] {
        field!(out, k, "0");
    }
}

fn replication(srv: &Server, out: &mut String) {
    out.push_str("# Replication\r\n");
    out.push_str(&crate::repl::info_lines(srv));
}

fn cpu(out: &mut String) {
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
    out.push_str("# CPU\r\n");
    field!(out, "used_cpu_sys", "{sys:.6}");
    field!(out, "used_cpu_user", "{user:.6}");
    field!(out, "used_cpu_sys_children", "{csys:.6}");
    field!(out, "used_cpu_user_children", "{cuser:.6}");
    field!(out, "used_cpu_sys_main_thread", "{sys:.6}");
    field!(out, "used_cpu_user_main_thread", "{user:.6}");
}

/// (system, user) CPU seconds.
pub fn rusage(who: libc::c_int) -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct we own.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (tv(ru.ru_stime), tv(ru.ru_utime))
}

fn commandstats(srv: &Server, out: &mut String) {
    out.push_str("# Commandstats\r\n");
    for e in &srv.registry.entries {
        let (calls, usec, rejected, failed) = stats::command_totals(e.id);
        if calls == 0 && rejected == 0 && failed == 0 {
            continue;
        }
        let per = if calls > 0 {
            usec as f64 / calls as f64
        } else {
            0.0
        };
        let _ = write!(
            out,
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
            e.full_name
        );
    }
}

fn errorstats(out: &mut String) {
    out.push_str("# Errorstats\r\n");
    for (code, n) in stats::error_totals() {
        let _ = write!(out, "errorstat_{code}:count={n}\r\n");
    }
}

fn keyspace(srv: &Server, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    let n = srv.ks.num_dbs();
    let mut keys = vec![0usize; n];
    let mut expires = vec![0usize; n];
    for idx in 0..srv.ks.num_shards() {
        srv.ks.with_shard(idx, |shard| {
            for (db, d) in shard.dbs.iter().enumerate() {
                keys[db] += d.len();
                expires[db] += d.expires_len();
            }
        });
    }
    for db in 0..n {
        if keys[db] > 0 {
            let _ = write!(
                out,
                "db{db}:keys={},expires={},avg_ttl=0\r\n",
                keys[db], expires[db]
            );
        }
    }
}

fn latencystats(srv: &Server, out: &mut String) {
    out.push_str("# Latencystats\r\n");
    let percentiles: Vec<f64> = srv
        .config
        .read()
        .string("latency-tracking-info-percentiles")
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    for e in &srv.registry.entries {
        let Some(h) = stats::command_histogram(e.id) else {
            continue;
        };
        let _ = write!(out, "latency_percentiles_usec_{}:", e.full_name);
        for (i, p) in percentiles.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let v = crate::histogram::percentile(&h, *p);
            let _ = write!(out, "p{}={:.3}", p, v as f64);
        }
        out.push_str("\r\n");
    }
}
