//! The Shoal server runtime: listeners, connections, dispatch, the server commands,
//! statistics and the background services.
//!
//! Lower crates (`resp`, `ds`, `keyspace`, `commands`, `config`) never depend on this
//! one. `run` is the whole life of a server process: configuration, logging,
//! listeners, services, and an orderly shutdown.

pub mod banner;
pub mod blocking;
pub mod client;
pub mod cmd;
pub mod conn;
pub mod dispatch;
pub mod evict;
pub mod expire;
pub mod gate;
pub mod histogram;
pub mod latency;
pub mod listen;
pub mod log;
pub mod memory;
pub mod metrics;
pub mod persist;
pub mod propagate;
#[cfg(test)]
mod propagate_tests;
pub mod pubsub;
pub mod registry;
pub mod repl;
pub mod scripting;
pub mod server;
pub mod session;
pub mod signals;
pub mod slowlog;
pub mod stats;
pub mod tracking;
pub mod watch;

use server::Server;
use std::io::IsTerminal;
use std::sync::Arc;

/// The Redis version Shoal is compatible with, reported to clients (INFO, HELLO)
/// because client libraries enable features by it.
pub const REDIS_VERSION: &str = "7.0.15";
/// Shoal's own version.
pub const SHOAL_VERSION: &str = env!("CARGO_PKG_VERSION");

fn usage(prog: &str) -> String {
    format!(
        "Usage: {prog} [/path/to/redis.conf] [options] [-]\n       \
         {prog} - (read config from stdin)\n       \
         {prog} -v or --version\n       \
         {prog} -h or --help\n\n\
         Examples:\n       \
         {prog} (run the server with default conf)\n       \
         {prog} /etc/redis/6379.conf\n       \
         {prog} --port 7777\n       \
         {prog} --port 7777 --replicaof 127.0.0.1 8888\n       \
         {prog} /etc/myredis.conf --loglevel verbose -\n       \
         {prog} /etc/myredis.conf --loglevel verbose\n"
    )
}

/// Runs a server process with `args` (without the program name); returns the exit code.
pub fn run(prog: &str, args: Vec<String>, sentinel: bool) -> i32 {
    if let Some(first) = args.first() {
        match first.as_str() {
            "-v" | "--version" => {
                println!("Shoal server v={SHOAL_VERSION} redis_compat={REDIS_VERSION} bits=64");
                return 0;
            }
            "-h" | "--help" => {
                println!("{}", usage(prog));
                return 0;
            }
            _ => {}
        }
    }
    let sentinel = sentinel || args.iter().any(|a| a == "--sentinel");
    let args: Vec<String> = args.into_iter().filter(|a| a != "--sentinel").collect();
    let config = match shoal_config::Config::load(&args) {
        Ok(c) => c,
        Err(shoal_config::ConfigLoadError::TestMemory { .. }) => {
            eprintln!(
                "--test-memory is not supported by Shoal: use a memory tester such as memtester."
            );
            return 1;
        }
        Err(e @ shoal_config::ConfigLoadError::CantOpen { .. }) => {
            warning!("{e}");
            return e.exit_code();
        }
        Err(e) => {
            eprintln!("{e}");
            return e.exit_code();
        }
    };
    log::configure(
        &config.string("logfile"),
        log::Level::parse(&config.string("loglevel")).unwrap_or(log::Level::Notice),
    );
    if sentinel {
        log::set_role(b'X');
        warning!("Sentinel mode is not available in this version of Shoal yet.");
        return 1;
    }
    log::set_role(b'C');
    warning!("oO0OoO0OoO0Oo Shoal is starting oO0OoO0OoO0Oo");
    warning!(
        "Shoal version={SHOAL_VERSION}, redis_version={REDIS_VERSION}, bits=64, pid={}, just started",
        std::process::id()
    );
    if config.config_file().is_none() {
        warning!(
            "Warning: no config file specified, using the default config. In order to specify a config file use {prog} /path/to/redis.conf"
        );
    } else {
        warning!("Configuration loaded");
    }
    log::set_role(b'M');
    let dir = config.string("dir");
    if !dir.is_empty() {
        if let Err(e) = std::env::set_current_dir(&dir) {
            warning!("Can't chdir to '{dir}': {e}");
            return 1;
        }
    }
    let always_logo = config.bool("always-show-logo");
    let srv = Server::new(config, sentinel);
    // One single-threaded runtime per core: a connection lives on one thread for
    // its whole life, so serving it needs no cross-thread wake-ups or work stealing.
    // The main thread's runtime also runs the listeners and background services.
    // One worker per core but one, at least one: the last core is left to the
    // kernel's network work, the background threads (expiry, later snapshots and
    // fsync) and, often, the clients. Measured on 2 cores with the load generator
    // beside the server: 2 workers raised p99 latency 2-3x and cost more CPU per
    // request than 1 (bench/RESULTS.md). SHOAL_WORKERS overrides the count.
    let n = std::env::var("SHOAL_WORKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get().saturating_sub(1).max(1))
                .unwrap_or(1)
        });
    let build = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let main_rt = match build() {
        Ok(rt) => rt,
        Err(e) => {
            warning!("Failed creating the runtime: {e}");
            return 1;
        }
    };
    let mut handles = vec![main_rt.handle().clone()];
    let mut threads = Vec::new();
    for i in 1..n {
        let rt = match build() {
            Ok(rt) => rt,
            Err(e) => {
                warning!("Failed creating the runtime: {e}");
                return 1;
            }
        };
        handles.push(rt.handle().clone());
        let mut stop = srv.shutdown_rx();
        let spawned = std::thread::Builder::new()
            .name(format!("shoal-worker-{i}"))
            .spawn(move || {
                rt.block_on(async move {
                    let _ = stop.changed().await;
                });
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                warning!("Failed starting worker thread: {e}");
                return 1;
            }
        }
    }
    let _ = srv.workers.set(handles);
    let code = main_rt.block_on(serve(srv.clone(), always_logo));
    srv.request_shutdown();
    for t in threads {
        let _ = t.join();
    }
    code
}

async fn serve(srv: Arc<Server>, always_logo: bool) -> i32 {
    let (bind, port, backlog, unixsocket, unixperm) = {
        let c = srv.config.read();
        (
            c.bind_addrs(),
            c.int("port").clamp(0, 65535) as u16,
            c.int("tcp-backlog") as i32,
            c.string("unixsocket"),
            c.int("unixsocketperm"),
        )
    };
    let listeners = match listen::bind_tcp(&bind, port, backlog) {
        Ok(l) => l,
        Err(msg) => {
            warning!("Warning: {msg}");
            warning!("Failed listening on port {port} (tcp), aborting.");
            return 1;
        }
    };
    srv.tcp_port
        .store(port as usize, std::sync::atomic::Ordering::Relaxed);
    let mode = "standalone";
    if always_logo || std::io::stdout().is_terminal() {
        log::write_raw(banner::logo(SHOAL_VERSION, mode, port, std::process::id()).as_bytes());
    } else {
        notice!("Running mode={mode}, port={port}.");
    }
    warning!("Server initialized");
    // A replica by configuration: the role is set before loading, so that the
    // RDB's replication info becomes the cached master.
    let replicaof = srv.config.read().replicaof();
    if let Some((host, port)) = &replicaof {
        srv.repl.st.lock().master = Some(repl::replica::master_info(host.clone(), *port));
        repl::set_role_flags(&srv, true);
    }
    // As Redis 7.0: with appendonly yes only the AOF is read (a dump.rdb beside it
    // is ignored, even when no AOF exists yet).
    if !srv.config.read().bool("appendonly") && !persist::load::load_at_startup(&srv) {
        return 1;
    }
    if let Err(code) = persist::aof::startup(&srv) {
        return code;
    }
    // A backlog restored from the RDB's replication info must see every write.
    if srv.repl.st.lock().backlog.is_some() {
        repl::ensure_sink(&srv);
    }
    if let Err(e) = listen::start_tcp(&srv, listeners) {
        warning!("Failed listening on port {port} (tcp), aborting. ({e})");
        return 1;
    }
    if port > 0 {
        notice!("Ready to accept connections tcp");
    }
    if !unixsocket.is_empty() {
        let _ = std::fs::remove_file(&unixsocket);
        match tokio::net::UnixListener::bind(&unixsocket) {
            Ok(l) => {
                if unixperm > 0 {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(
                        &unixsocket,
                        std::fs::Permissions::from_mode(unixperm as u32),
                    );
                }
                tokio::spawn(listen::accept_unix(srv.clone(), l, unixsocket.clone()));
                notice!("The server is now ready to accept connections at {unixsocket}");
            }
            Err(e) => {
                warning!("Failed opening Unix socket: {e}");
                return 1;
            }
        }
    }
    write_pidfile(&srv);
    if replicaof.is_some() {
        repl::replica::spawn(&srv);
    }
    tokio::spawn(repl::cron(srv.clone()));
    tokio::spawn(expire::run(srv.clone()));
    tokio::spawn(metrics::run(srv.clone()));
    tokio::spawn(persist::cron(srv.clone()));
    memory::record_startup();
    let mut shutdown = srv.shutdown_rx();
    loop {
        let signal = wait_signal();
        tokio::pin!(signal);
        tokio::select! {
            _ = shutdown.changed() => break,
            name = &mut signal => {
                warning!("Received {name} scheduling shutdown...");
            }
        }
        // A signal: save when save points exist; a failed save keeps the server
        // running, as Redis does.
        warning!("User requested shutdown...");
        if srv.config.read().save_params().is_empty() || shutdown_save_gated(&srv) {
            srv.persist
                .shutdown_handled
                .store(true, std::sync::atomic::Ordering::Relaxed);
            break;
        }
        warning!("Errors trying to shut down the server. Check the logs for more information.");
    }
    finish_shutdown(&srv, &unixsocket);
    0
}

/// The exit path's save, from outside any command: enters the gate first (a
/// running script ends at shutdown, so the wait is bounded).
fn shutdown_save_gated(srv: &Arc<Server>) -> bool {
    for _ in 0..10_000 {
        if let Some(ok) = persist::snapshot::with_gate(srv, || persist::shutdown_save(srv)) {
            return ok;
        }
        srv.scripting
            .kill
            .store(true, std::sync::atomic::Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    false
}

async fn wait_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

fn write_pidfile(srv: &Server) {
    let pidfile = srv.config.read().string("pidfile");
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            warning!("Failed to write PID file: {e}");
        }
    }
}

/// The last steps before exit: stop services, remove the socket and pid files.
fn finish_shutdown(srv: &Server, unixsocket: &str) {
    let handled = srv
        .persist
        .shutdown_handled
        .load(std::sync::atomic::Ordering::Relaxed);
    if !handled {
        warning!("User requested shutdown...");
    }
    srv.request_shutdown();
    persist::aof::rewrite::kill(srv);
    persist::aof::shutdown_threads(srv);
    persist::kill_bgsave(srv);
    if !unixsocket.is_empty() {
        notice!("Removing the unix socket file.");
        let _ = std::fs::remove_file(unixsocket);
    }
    let pidfile = srv.config.read().string("pidfile");
    if !pidfile.is_empty() {
        notice!("Removing the pid file.");
        let _ = std::fs::remove_file(&pidfile);
    }
    warning!("Shoal is now ready to exit, bye bye...");
}
