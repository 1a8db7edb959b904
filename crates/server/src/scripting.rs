//! Running Lua scripts and functions (the engines are `shoal-script`'s).
//!
//! A script runs on a blocking-pool thread inside an exclusive section of the
//! [`Gate`](crate::gate::Gate): no command runs meanwhile, so the script is atomic,
//! while the worker threads stay free to answer BUSY, SCRIPT KILL and FUNCTION
//! KILL. The caller's connection awaits the reply like any suspended command.
//! Each `redis.call` goes through the ordinary call path (`dispatch::call`) with a
//! fake client session whose commands may not block.
//!
//! Statistics follow Redis: a command `redis.call` refuses (unknown, wrong arity,
//! not allowed, a write in a read-only script) counts in errorstats when refused, a
//! command that runs counts its own errors, and the script's reply counts only the
//! errors not counted already; the calling EVAL/FCALL fails (`failed_calls`) when its
//! reply holds an error. SHUTDOWN ends a running script, even an unkillable one.
//!
//! Lock order, which keeps this deadlock-free: a script job takes `section`, then
//! enters the exclusive section (waiting until no worker is inside a command), then
//! the engine's mutex. Workers take an engine's mutex only inside a command (SCRIPT
//! LOAD, FUNCTION LOAD, EVAL's compile step), so the job never holds an engine while
//! it waits for a worker.

use crate::client::ClientInfo;
use crate::dispatch;
use crate::registry::Entry;
use crate::server::{unix_ms, Server};
use crate::session::Session;
use crate::stats::ThreadStats;
use bytes::Bytes;
use parking_lot::Mutex;
use shoal_commands::spec::flag;
use shoal_resp::{parse_frame, Frame, Proto, ReplyWriter};
use shoal_script::{FunctionEngine, Host, LogLevel, ScriptEngine};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

/// The script or function being run, for SCRIPT KILL and FUNCTION STATS.
#[derive(Clone)]
pub struct Running {
    pub function: bool,
    /// The function's name (FUNCTION STATS), or the script's SHA.
    pub name: String,
    pub argv: Vec<Bytes>,
    pub started_ms: i64,
}

#[derive(Default)]
pub struct Scripting {
    pub eval: Mutex<ScriptEngine>,
    pub functions: Mutex<FunctionEngine>,
    /// Held for the whole of an exclusive section (one script at a time).
    section: Mutex<()>,
    pub running: Mutex<Option<Running>>,
    /// SCRIPT KILL / FUNCTION KILL asked the running script to stop.
    pub kill: AtomicBool,
    /// The running script has executed a write (it can no longer be killed).
    pub wrote: AtomicBool,
    /// Libraries and functions loaded (FUNCTION STATS answers from these while a
    /// function holds the engine).
    pub function_counts: Mutex<(usize, usize)>,
    /// The code of every loaded library, mirrored at each change (a snapshot's
    /// cut reads it without the engine, which a running function holds).
    pub library_codes: Mutex<Vec<Bytes>>,
}

impl Scripting {
    /// Every change of the function libraries goes through here: `f` runs on the
    /// engine, and what is mirrored outside it (the counts, the library codes) is
    /// refreshed under the same lock.
    pub fn change_functions<R>(&self, f: impl FnOnce(&mut FunctionEngine) -> R) -> R {
        let mut fe = self.functions.lock();
        let r = f(&mut fe);
        *self.function_counts.lock() = (fe.libraries().len(), fe.function_count());
        *self.library_codes.lock() = fe.libraries().values().map(|l| l.code.clone()).collect();
        r
    }
}

/// What to run.
pub enum Target {
    /// A cached EVAL script, by SHA.
    Script(String),
    /// A function, by name.
    Function(Bytes),
}

/// One script or function call with everything it needs from the caller.
pub struct Job {
    pub target: Target,
    pub keys: Vec<Bytes>,
    pub args: Vec<Bytes>,
    /// EVAL_RO, FCALL_RO, or a `no-writes` script: writes are refused.
    pub read_only: bool,
    pub argv: Vec<Bytes>,
    pub info: Arc<ClientInfo>,
    pub db: usize,
    pub proto: Proto,
    /// The calling command's entry (EVAL, FCALL...), for its `failed_calls`.
    pub cmd_id: Option<usize>,
}

/// Runs `job` atomically and returns the reply, encoded for the caller. `inline`
/// is for a caller on a worker thread inside a command (EXEC): it steps out of the
/// gate for the duration.
pub fn run(srv: &Arc<Server>, job: Job, inline: bool) -> Bytes {
    if inline {
        srv.gate.leave();
    }
    let sc = &srv.scripting;
    let section = sc.section.lock();
    let function = matches!(job.target, Target::Function(_));
    srv.gate.begin(unix_ms(), function);
    let name = match &job.target {
        Target::Script(sha) => sha.clone(),
        Target::Function(n) => String::from_utf8_lossy(n).into_owned(),
    };
    *sc.running.lock() = Some(Running {
        function,
        name,
        argv: job.argv.clone(),
        started_ms: unix_ms(),
    });
    sc.kill.store(false, Relaxed);
    sc.wrote.store(false, Relaxed);
    let settings = srv.settings();
    let gen = srv.settings_gen.load(Relaxed);
    let mut session = Session::new(job.info.clone(), settings, gen, true);
    session.db = job.db;
    session.in_script = true;
    // Memory over `maxmemory` with nothing left to evict when the script starts:
    // its first write may not be a deny-oom command, unless it allows OOM.
    let oom = crate::evict::script_oom(srv)
        && !match &job.target {
            Target::Script(sha) => sc
                .eval
                .lock()
                .get(sha.as_bytes())
                .is_some_and(|s| s.flags.allow_oom),
            Target::Function(n) => sc
                .functions
                .lock()
                .function(n)
                .is_some_and(|(_, d)| d.flags.allow_oom),
        };
    let mut host = ScriptHost {
        srv,
        session,
        read_only: job.read_only,
        oom,
    };
    let outcome = match &job.target {
        Target::Script(sha) => sc
            .eval
            .lock()
            .run(sha.as_bytes(), &job.keys, &job.args, &mut host),
        Target::Function(name) => sc
            .functions
            .lock()
            .call(name, &job.keys, &job.args, &mut host),
    };
    if !inline {
        // Still alone in the keyspace: the script's effects go out as one unit,
        // then the clients its writes made ready are served (Redis serves them
        // after the script). Inside EXEC both wait for the end of the transaction.
        if srv.propagation.active() {
            srv.propagation.emit();
        }
        crate::signals::serve_deferred(srv);
    }
    *sc.running.lock() = None;
    srv.gate.end();
    drop(section);
    if inline {
        while !srv.gate.enter() {
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
    }
    let mut out = ReplyWriter::new(job.proto);
    shoal_script::write_frame(&outcome.reply, &mut out);
    let codes = out.take_error_codes();
    // As Redis: the calling command failed if its reply holds an error (whether
    // counted in errorstats now or already, by the command the script called).
    let failed = !codes.is_empty();
    crate::stats::local(|t| {
        if !outcome.error_already_counted {
            for code in &codes {
                t.count_error(code);
            }
        }
        if let (true, Some(id)) = (failed, job.cmd_id) {
            ThreadStats::add(&t.cmds[id].failed, 1);
        }
    });
    out.buf.freeze()
}

impl Server {
    /// Runs `f` alone: no command, script or expiry step runs meanwhile. Must be
    /// called outside any command (it waits for every worker to leave its command).
    pub fn exclusive<R>(&self, f: impl FnOnce() -> R) -> R {
        let _section = self.scripting.section.lock();
        self.gate.begin(unix_ms(), false);
        let r = f();
        self.gate.end();
        r
    }
}

/// The server side of `redis.call` and friends for one run.
struct ScriptHost<'a> {
    srv: &'a Arc<Server>,
    /// The script's fake client: its own selected database, no blocking.
    session: Session,
    read_only: bool,
    /// Over `maxmemory` at the start, without `allow-oom` (see `call_entry`).
    oom: bool,
}

fn error(text: &str) -> Frame {
    Frame::Error(Bytes::copy_from_slice(text.as_bytes()))
}

/// A command `redis.call` refused before running it: counted in errorstats (and as
/// a rejected call of the command when known) now, as Redis counts it; the engine
/// then marks the error as counted so the script's reply does not count it again.
fn rejected(e: Option<&Entry>, text: &str) -> Frame {
    let code = text.split(' ').next().unwrap_or("ERR");
    crate::stats::local(|t| {
        if let Some(e) = e {
            ThreadStats::add(&t.cmds[e.id].rejected, 1);
        }
        t.count_error(code);
    });
    error(text)
}

/// Commands a read-only script may not call: writes, and the commands Redis 7.0
/// flags may-replicate. Its COMMAND INFO does not show that flag, so the table does
/// not carry it for PUBLISH, SPUBLISH and PFCOUNT (the only such commands a script
/// may otherwise call): they are named here.
fn may_replicate(e: &Entry) -> bool {
    e.has(flag::WRITE)
        || e.has(flag::MAY_REPLICATE)
        || matches!(e.spec.name, "publish" | "spublish" | "pfcount")
}

/// Whether XREAD / XREADGROUP's option parsing (as the stream commands do it)
/// reaches a BLOCK option before any other error or the STREAMS keyword.
fn xread_blocks(argv: &[Bytes], xreadgroup: bool) -> bool {
    let kw = |a: &[u8], k: &str| a.eq_ignore_ascii_case(k.as_bytes());
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = &argv[i][..];
        if kw(o, "block") && more > 0 {
            return true;
        } else if kw(o, "count") && more > 0 {
            let ok = std::str::from_utf8(&argv[i + 1])
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .is_some();
            if !ok {
                return false;
            }
            i += 2;
        } else if kw(o, "group") && more >= 2 && xreadgroup {
            i += 3;
        } else if kw(o, "noack") && xreadgroup {
            i += 1;
        } else {
            return false;
        }
    }
    false
}

impl<'a> Host for ScriptHost<'a> {
    fn call(&mut self, argv: &[Bytes], resp: Proto) -> Frame {
        use shoal_script::errors;
        let srv: &'a Arc<Server> = self.srv;
        let crate::registry::Resolved::Found { e, .. } = srv.registry.resolve(argv) else {
            return rejected(None, errors::UNKNOWN_COMMAND);
        };
        self.call_entry(e, argv, resp)
    }

    fn log(&mut self, level: LogLevel, msg: &[u8]) {
        let text = String::from_utf8_lossy(msg);
        match level {
            LogLevel::Debug => crate::debug!("{}", text),
            LogLevel::Verbose => crate::verbose!("{}", text),
            LogLevel::Notice => crate::notice!("{}", text),
            LogLevel::Warning => crate::warning!("{}", text),
        }
    }

    fn acl_check_cmd(&mut self, argv: &[Bytes]) -> Result<bool, Vec<u8>> {
        // Every user may run every command until ACLs exist; the command must exist.
        match self.srv.registry.resolve(argv) {
            crate::registry::Resolved::Found { .. } => Ok(true),
            _ => Err(b"Invalid command passed to redis.acl_check_cmd()".to_vec()),
        }
    }

    fn should_abort(&mut self) -> bool {
        // SHUTDOWN NOSAVE (or a signal) ends even an unkillable script: the process
        // cannot exit while the script's thread runs.
        self.srv.scripting.kill.load(Relaxed) || *self.srv.shutdown_tx.borrow()
    }
}

impl ScriptHost<'_> {
    /// `redis.call` of a known command: the script-specific checks, then the call.
    fn call_entry(&mut self, e: &Entry, argv: &[Bytes], resp: Proto) -> Frame {
        use shoal_script::errors;
        if !e.spec.arity_ok(argv.len()) {
            return rejected(Some(e), errors::WRONG_ARGS);
        }
        if e.has(flag::NOSCRIPT) {
            return rejected(Some(e), errors::NOT_ALLOWED);
        }
        if self.read_only && may_replicate(e) {
            return rejected(Some(e), errors::WRITE_IN_RO);
        }
        if matches!(e.spec.name, "xread" | "xreadgroup")
            && xread_blocks(argv, e.spec.name == "xreadgroup")
        {
            // Redis refuses BLOCK in scripts outright rather than answering at once.
            let msg = format!(
                "ERR {} command is not allowed with BLOCK option from scripts",
                String::from_utf8_lossy(&argv[0])
            );
            return rejected(Some(e), &msg);
        }
        // A failed background save refuses a script's writes too (MISCONF).
        if e.has(flag::WRITE) && self.srv.persist.misconf.load(Relaxed) {
            return rejected(Some(e), shoal_commands::errors::MISCONF);
        }
        // A read-only replica, or too few good replicas, refuse a script's writes.
        if e.has(flag::WRITE) && self.srv.repl.checks.load(Relaxed) && !self.session.is_master {
            if let Some(msg) = crate::repl::refusal(self.srv, true, true, true) {
                return rejected(Some(e), msg);
            }
        }
        // Over maxmemory, a script may not start writing with a deny-oom command;
        // once it has written it must be allowed to finish.
        if self.oom && e.has(flag::DENYOOM) && !self.srv.scripting.wrote.load(Relaxed) {
            return rejected(Some(e), crate::evict::OOM_ERROR);
        }
        if e.has(flag::WRITE) {
            self.srv.scripting.wrote.store(true, Relaxed);
        }
        self.session.proto = resp;
        self.session.now_ms = unix_ms();
        let mut out = ReplyWriter::new(resp);
        dispatch::call(self.srv, &mut self.session, &mut out, e, argv);
        match parse_frame(&out.buf) {
            Ok(Some((f, _))) => f,
            _ => error("ERR the command wrote no reply"),
        }
    }
}
