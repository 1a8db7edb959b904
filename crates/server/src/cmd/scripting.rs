//! EVAL EVALSHA EVAL_RO EVALSHA_RO SCRIPT FCALL FCALL_RO FUNCTION.
//!
//! Argument checks, the script cache and the function registry are handled here on
//! the worker; the run itself is handed to `crate::scripting`, on a blocking-pool
//! thread, and the client waits for its reply (inside EXEC it runs in place).

use super::SCtx;
use crate::blocking::Wake;
use crate::scripting::{self, Job, Target};
use crate::session::Deferred;
use bytes::Bytes;
use shoal_commands::{args, errors};
use shoal_script::errors as serr;
use shoal_script::functions::split_keys;
use std::sync::atomic::Ordering::Relaxed;

pub const HANDLERS: &[(&str, super::ServerHandler)] = &[
    ("eval", eval),
    ("evalsha", evalsha),
    ("eval_ro", eval_ro),
    ("evalsha_ro", evalsha_ro),
    ("script", script),
    ("fcall", fcall),
    ("fcall_ro", fcall_ro),
    ("function", function),
];

fn eval(c: &mut SCtx, argv: &[Bytes]) {
    eval_generic(c, argv, false, false);
}

fn evalsha(c: &mut SCtx, argv: &[Bytes]) {
    eval_generic(c, argv, true, false);
}

fn eval_ro(c: &mut SCtx, argv: &[Bytes]) {
    eval_generic(c, argv, false, true);
}

fn evalsha_ro(c: &mut SCtx, argv: &[Bytes]) {
    eval_generic(c, argv, true, true);
}

fn eval_generic(c: &mut SCtx, argv: &[Bytes], by_sha: bool, ro: bool) {
    if by_sha && argv[1].len() != 40 {
        // No SHA1 has another length: NOSCRIPT before the key count is looked at.
        return c.out.error(serr::NOSCRIPT);
    }
    let (keys, args) = match split_keys(&argv[2..], false) {
        Ok(ka) => ka,
        Err(e) => return c.out.error(e),
    };
    let engine = &c.srv.scripting.eval;
    let (sha, flags) = {
        let mut eng = engine.lock();
        let sha = if by_sha {
            let sha = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
            if !eng.exists(sha.as_bytes()) {
                return c.out.error(serr::NOSCRIPT);
            }
            sha
        } else {
            match eng.load(&argv[1]) {
                Ok(sha) => sha,
                Err(e) => return c.out.error(&e),
            }
        };
        let flags = eng.get(sha.as_bytes()).map(|s| s.flags).unwrap_or_default();
        (sha, flags)
    };
    if ro && flags.has_shebang && !flags.no_writes {
        return c.out.error(serr::RO_NEEDS_NO_WRITES);
    }
    let read_only = ro || (flags.has_shebang && flags.no_writes);
    start(c, argv, Target::Script(sha), keys, args, read_only);
}

fn fcall(c: &mut SCtx, argv: &[Bytes]) {
    fcall_generic(c, argv, false);
}

fn fcall_ro(c: &mut SCtx, argv: &[Bytes]) {
    fcall_generic(c, argv, true);
}

fn fcall_generic(c: &mut SCtx, argv: &[Bytes], ro: bool) {
    // The function is looked up first: an unknown one wins over a bad key count.
    let (flags, name) = {
        let fe = c.srv.scripting.functions.lock();
        match fe.function(&argv[1]) {
            // The registered name (FCALL matches any case): FUNCTION STATS shows it.
            Some((_, def)) => (def.flags, Bytes::from(def.name.clone())),
            None => return c.out.error("ERR Function not found"),
        }
    };
    let (keys, args) = match split_keys(&argv[2..], true) {
        Ok(ka) => ka,
        Err(e) => return c.out.error(e),
    };
    if ro && !flags.no_writes {
        return c.out.error(serr::RO_NEEDS_NO_WRITES);
    }
    let read_only = ro || flags.no_writes;
    start(c, argv, Target::Function(name), keys, args, read_only);
}

/// Hands the run to a blocking thread and suspends the client on its reply.
fn start(c: &mut SCtx, argv: &[Bytes], target: Target, keys: &[Bytes], args: &[Bytes], ro: bool) {
    let job = Job {
        target,
        keys: keys.to_vec(),
        args: args.to_vec(),
        read_only: ro,
        argv: argv.to_vec(),
        info: c.s.info.clone(),
        db: c.s.db,
        proto: c.s.proto,
        cmd_id: c.srv.registry.lookup(&argv[0]).map(|e| e.id),
    };
    if c.s.in_exec {
        // A transaction cannot suspend: run in place (see scripting::run).
        let reply = scripting::run(c.srv, job, true);
        return c.out.raw(&reply);
    }
    let srv = c.srv.clone();
    c.s.block = Some(Box::pin(async move {
        let reply = tokio::task::spawn_blocking(move || scripting::run(&srv, job, false))
            .await
            .unwrap_or_else(|_| Bytes::from_static(b"-ERR the script failed\r\n"));
        Deferred::Wake(Wake::Reply(reply))
    }));
}

fn script(c: &mut SCtx, argv: &[Bytes]) {
    let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
    match sub.as_str() {
        "load" => match c.srv.scripting.eval.lock().load(&argv[2]) {
            Ok(sha) => c.out.bulk_str(&sha),
            Err(e) => c.out.error(&e),
        },
        "exists" => {
            let eng = c.srv.scripting.eval.lock();
            let shas = &argv[2..];
            c.out.array(shas.len());
            for sha in shas {
                c.out.int(eng.exists(sha) as i64);
            }
        }
        "flush" => {
            if !flush_args_ok(argv) {
                return c
                    .out
                    .error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            }
            c.srv.scripting.eval.lock().flush();
            c.out.ok();
        }
        "kill" => kill(c, false),
        "debug" => {
            if args::is(&argv[2], "no") {
                c.out.ok();
            } else if args::is(&argv[2], "yes") || args::is(&argv[2], "sync") {
                c.out
                    .error("ERR Shoal does not implement the Lua debugger (SCRIPT DEBUG)");
            } else {
                c.out.error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
            }
        }
        "help" => super::help_reply(
            c.out,
            "SCRIPT",
            &[
                "DEBUG (YES|SYNC|NO)",
                "    Set the debug mode for subsequent scripts executed (only NO here).",
                "EXISTS <sha1> [<sha1> ...]",
                "    Return information about the existence of the scripts in the script cache.",
                "FLUSH [ASYNC|SYNC]",
                "    Flush the Lua scripts cache.",
                "KILL",
                "    Kill the currently executing Lua script.",
                "LOAD <script>",
                "    Load a script into the scripts cache without executing it.",
            ],
        ),
        _ => c.out.error(&errors::unknown_subcommand(&argv[1], "SCRIPT")),
    }
}

/// SCRIPT KILL (`function` false) and FUNCTION KILL.
fn kill(c: &mut SCtx, function: bool) {
    let sc = &c.srv.scripting;
    let running = sc.running.lock().clone();
    let Some(r) = running else {
        return c.out.error(serr::NOTBUSY);
    };
    if sc.wrote.load(Relaxed) {
        return c.out.error(serr::UNKILLABLE);
    }
    if r.function != function {
        // SCRIPT KILL cannot stop a function, nor FUNCTION KILL a script.
        return c.out.error(c.srv.gate.busy_error());
    }
    sc.kill.store(true, Relaxed);
    c.out.ok();
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE].
fn function_restore(c: &mut SCtx, argv: &[Bytes]) {
    use shoal_rdb::dump::FunctionPayloadError as E;
    use shoal_script::functions::RestorePolicy;
    let policy = match argv.get(3) {
        None => RestorePolicy::Append,
        Some(a) if argv.len() == 4 => {
            if args::is(a, "append") {
                RestorePolicy::Append
            } else if args::is(a, "replace") {
                RestorePolicy::Replace
            } else if args::is(a, "flush") {
                RestorePolicy::Flush
            } else {
                return c.out.error(
                    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
                );
            }
        }
        Some(_) => {
            return c
                .out
                .error(&errors::subcommand_syntax(&argv[1], "FUNCTION"))
        }
    };
    let codes = match shoal_rdb::dump::functions_restore(&argv[2]) {
        Ok(codes) => codes,
        Err(e) => {
            return c.out.error(match e {
                E::VersionOrChecksum => "ERR DUMP payload version or checksum are wrong",
                E::NotAFunction => "ERR given type is not a function",
                E::PreRelease => "ERR Failed loading engine name",
                E::Truncated => "ERR Failed loading library payload",
            })
        }
    };
    let codes: Vec<&[u8]> = codes.iter().map(|c| &c[..]).collect();
    let r = c
        .srv
        .scripting
        .change_functions(|fe| fe.restore(&codes, policy));
    match r {
        Ok(()) => {
            propagate_as_is(c, argv);
            c.out.ok()
        }
        Err(e) => c.out.error(&e),
    }
}

fn function(c: &mut SCtx, argv: &[Bytes]) {
    let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
    match sub.as_str() {
        "load" => {
            let (replace, code) = match argv.len() {
                3 => (false, &argv[2]),
                _ => {
                    // Options come before the code: only REPLACE exists.
                    let mut replace = false;
                    for a in &argv[2..argv.len() - 1] {
                        if args::is(a, "replace") {
                            replace = true;
                        } else {
                            return c.out.error(&format!(
                                "ERR Unknown option given: {}",
                                String::from_utf8_lossy(a)
                            ));
                        }
                    }
                    (replace, &argv[argv.len() - 1])
                }
            };
            let r = c
                .srv
                .scripting
                .change_functions(|fe| fe.load(code, replace));
            match r {
                Ok(name) => {
                    propagate_as_is(c, argv);
                    c.out.bulk_str(&name)
                }
                Err(e) => c.out.error(&e),
            }
        }
        "delete" => {
            let r = c.srv.scripting.change_functions(|fe| fe.delete(&argv[2]));
            match r {
                Ok(()) => {
                    propagate_as_is(c, argv);
                    c.out.ok()
                }
                Err(e) => c.out.error(&e),
            }
        }
        "flush" => {
            if argv.len() > 3 {
                return c
                    .out
                    .error(&errors::subcommand_syntax(&argv[1], "FUNCTION"));
            }
            if argv
                .get(2)
                .is_some_and(|a| !args::is(a, "sync") && !args::is(a, "async"))
            {
                return c
                    .out
                    .error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
            }
            c.srv.scripting.change_functions(|fe| fe.flush());
            propagate_as_is(c, argv);
            c.out.ok();
        }
        "list" => match c.srv.scripting.functions.lock().list(&argv[2..]) {
            Ok(f) => shoal_script::write_frame(&f, c.out),
            Err(e) => c.out.error(&e),
        },
        "stats" => {
            // Answered from kept counts: a running function holds the engine.
            let running = c.srv.scripting.running.lock().clone();
            if running.as_ref().is_some_and(|r| !r.function) {
                // As Redis: no function statistics while an EVAL script runs.
                return c.out.error(serr::BUSY_SCRIPT);
            }
            let now = crate::server::unix_ms();
            let (libs, funcs) = *c.srv.scripting.function_counts.lock();
            let run = running
                .as_ref()
                .filter(|r| r.function)
                .map(|r| (r.name.as_str(), &r.argv[..], now - r.started_ms));
            let frame = shoal_script::functions::stats_frame(run, libs, funcs);
            shoal_script::write_frame(&frame, c.out);
        }
        "kill" => kill(c, true),
        "dump" => {
            // From the mirrored codes: a running function holds the engine.
            let compression = c.srv.settings().rdbcompression;
            let codes = c.srv.scripting.library_codes.lock().clone();
            let payload =
                shoal_rdb::dump::functions_dump(codes.iter().map(|c| &c[..]), compression);
            c.out.bulk(&payload);
        }
        "restore" => function_restore(c, argv),
        "help" => super::help_reply(
            c.out,
            "FUNCTION",
            &[
                "LOAD [REPLACE] <FUNCTION CODE>",
                "    Create a new library with the given library name and code.",
                "DELETE <LIBRARY NAME>",
                "    Delete the given library.",
                "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
                "    Return general information on all the libraries.",
                "FLUSH [ASYNC|SYNC]",
                "    Delete all the libraries.",
                "KILL",
                "    Kill the current running function.",
                "STATS",
                "    Return information about the current function running.",
            ],
        ),
        _ => c
            .out
            .error(&errors::unknown_subcommand(&argv[1], "FUNCTION")),
    }
}

/// FUNCTION LOAD, DELETE and FLUSH change the server's data: Redis sends them to
/// the AOF and replicas as received (FLUSH even when there was nothing to flush).
/// SCRIPT LOAD and SCRIPT FLUSH are not sent.
fn propagate_as_is(c: &mut SCtx, argv: &[Bytes]) {
    if c.srv.propagation.active() {
        crate::propagate::record(crate::propagate::Op {
            db: c.s.db,
            target: crate::propagate::target::BOTH,
            argv: argv.to_vec(),
        });
    }
}

/// SCRIPT FLUSH takes at most one option, SYNC or ASYNC (both flush at once here:
/// dropping a Lua state is quick).
fn flush_args_ok(argv: &[Bytes]) -> bool {
    match argv.len() {
        2 => true,
        3 => args::is(&argv[2], "sync") || args::is(&argv[2], "async"),
        _ => false,
    }
}
