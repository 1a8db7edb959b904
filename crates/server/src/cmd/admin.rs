//! Administration commands: CONFIG, COMMAND, SHUTDOWN, MONITOR.

use super::{help_reply, lossy, SCtx, ServerHandler};
use crate::session::{After, Deferred};
use bytes::Bytes;
use shoal_commands::{args, errors};
use std::sync::atomic::Ordering::Relaxed;

pub const HANDLERS: &[(&str, ServerHandler)] = &[
    ("config", config),
    ("command", command),
    ("shutdown", shutdown),
    ("monitor", monitor),
];

fn config(c: &mut SCtx, argv: &[Bytes]) {
    let sub = lossy(&argv[1]).to_ascii_lowercase();
    match sub.as_str() {
        "get" => config_get(c, argv),
        "set" => config_set(c, argv),
        "resetstat" => {
            crate::stats::reset();
            c.srv.repl.reset_stats();
            c.out.ok();
        }
        "rewrite" => {
            let cfg = c.srv.config.read();
            match cfg.rewrite() {
                Ok(()) => {
                    crate::notice!("CONFIG REWRITE executed with success.");
                    c.out.ok();
                }
                Err(e) => {
                    crate::warning!("CONFIG REWRITE failed: {e}");
                    c.out.error(&e.to_string());
                }
            }
        }
        "help" => help_reply(
            c.out,
            "CONFIG",
            &[
                "GET <pattern>",
                "    Return the directives matching the glob-like <pattern>, with their values.",
                "SET <directive> <value> [<directive> <value> ...]",
                "    Change directives at runtime, all or none of them.",
                "RESETSTAT",
                "    Zero the statistics that INFO reports.",
                "REWRITE",
                "    Write the running configuration back to the configuration file.",
            ],
        ),
        _ => c.out.error(&errors::unknown_subcommand(&argv[1], "CONFIG")),
    }
}

fn config_get(c: &mut SCtx, argv: &[Bytes]) {
    let cfg = c.srv.config.read();
    let mut seen = std::collections::HashSet::new();
    let mut pairs = Vec::new();
    for pat in &argv[2..] {
        for (k, v) in cfg.get(&lossy(pat)) {
            if seen.insert(k.clone()) {
                pairs.push((k, v));
            }
        }
    }
    drop(cfg);
    c.out.map(pairs.len());
    for (k, v) in pairs {
        c.out.bulk_str(&k);
        c.out.bulk_str(&v);
    }
}

fn config_set(c: &mut SCtx, argv: &[Bytes]) {
    if !argv.len().is_multiple_of(2) {
        return c.out.error(errors::SYNTAX);
    }
    let pairs: Vec<(String, String)> = argv[2..]
        .chunks(2)
        .map(|p| (lossy(&p[0]), lossy(&p[1])))
        .collect();
    let local_client = c.s.info.is_local();
    let (changed, backup) = {
        let mut cfg = c.srv.config.write();
        let backup = cfg.clone();
        match cfg.set_with(&pairs, shoal_config::SetOptions { local_client }) {
            Ok(changed) => (changed, backup),
            Err(e) => return c.out.error(&e.to_string()),
        }
    };
    c.srv.apply_config();
    for name in &changed {
        apply_side_effect(c, name);
        crate::persist::aof::config_changed(c.srv, name);
    }
    let listeners = ["port", "bind"].into_iter().find(|n| changed.contains(n));
    match listeners {
        None => c.out.ok(),
        Some(arg) => {
            // Rebinding waits for the old listeners to close: the reply comes when
            // the new ones listen, or the old configuration is back.
            let srv = c.srv.clone();
            c.s.block = Some(Box::pin(async move {
                match crate::listen::rebind(&srv).await {
                    Ok(()) => Deferred::Ok,
                    Err(_) => {
                        *srv.config.write() = backup;
                        srv.apply_config();
                        let _ = crate::listen::rebind(&srv).await;
                        let detail = if arg == "port" {
                            "Unable to listen on this port. Check server logs."
                        } else {
                            "Failed to bind to specified addresses."
                        };
                        Deferred::Error(format!(
                            "ERR CONFIG SET failed (possibly related to argument '{arg}') - {detail}"
                        ))
                    }
                }
            }));
        }
    }
}

/// Directives whose change must act on the running server beyond the mirrored values.
fn apply_side_effect(c: &mut SCtx, name: &str) {
    let cfg = c.srv.config.read();
    match name {
        "loglevel" => {
            if let Some(l) = crate::log::Level::parse(&cfg.string("loglevel")) {
                crate::log::set_level(l);
            }
        }
        "dir" => {
            let _ = std::env::set_current_dir(cfg.string("dir"));
        }
        _ => {}
    }
}

fn command(c: &mut SCtx, argv: &[Bytes]) {
    let reg = &c.srv.registry;
    shoal_commands::introspect::command_command(argv, c.out, &|spec| reg.is_implemented(spec));
}

fn shutdown(c: &mut SCtx, argv: &[Bytes]) {
    let (mut save, mut nosave, mut abort, mut force) = (false, false, false, false);
    for a in &argv[1..] {
        if args::is(a, "NOSAVE") {
            nosave = true;
        } else if args::is(a, "SAVE") {
            save = true;
        } else if args::is(a, "NOW") {
            // No replicas to wait for: nothing to skip.
        } else if args::is(a, "FORCE") {
            force = true;
        } else if args::is(a, "ABORT") {
            abort = true;
        } else {
            return c.out.error(errors::SYNTAX);
        }
    }
    if (save && nosave) || (abort && argv.len() > 2) {
        return c.out.error(errors::SYNTAX);
    }
    if abort {
        return c.out.error("ERR No shutdown in progress.");
    }
    crate::warning!("User requested shutdown...");
    let save_points = !c.srv.config.read().save_params().is_empty();
    if (save || (save_points && !nosave)) && !crate::persist::shutdown_save(c.srv) && !force {
        crate::warning!(
            "Errors trying to shut down the server. Check the logs for more information."
        );
        return c.out.error("ERR Errors trying to SHUTDOWN. Check logs.");
    }
    c.srv.persist.shutdown_handled.store(true, Relaxed);
    // Redis closes the connection without replying when the shutdown goes ahead.
    c.s.after = After::Close;
    c.srv.request_shutdown();
}

fn monitor(c: &mut SCtx, _argv: &[Bytes]) {
    // Only EXEC runs a queued MONITOR: a transaction's client expects one reply
    // per command and cannot turn into a monitor (Redis's DENY_BLOCKING).
    if c.s.info.has_flag(crate::client::cflag::MULTI) {
        return c
            .out
            .error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    if !c.s.monitor {
        c.s.monitor = true;
        c.s.info.set_flag(crate::client::cflag::MONITOR, true);
        c.srv.clients.add_monitor(c.s.info.clone());
    }
    c.out.ok();
    let _ = c.srv.clients.monitor_count.load(Relaxed);
}
