//! The boundary between the engine and the server: the [`Host`] trait the server
//! implements for the duration of one script or function call.
//!
//! The engine never touches the keyspace: every `redis.call` / `redis.pcall` goes to
//! [`Host::call`], which runs the command as a script's fake client would (the server
//! checks script-forbidden commands, read-only scripts, OOM, ACLs...) and hands back
//! the reply as a decoded [`Frame`] in the protocol the script asked for with
//! `redis.setresp` (an error reply is [`Frame::Error`] holding the text after `-`).

use bytes::Bytes;
use shoal_resp::{Frame, Proto};

/// `redis.log` levels (`redis.LOG_DEBUG` ... `redis.LOG_WARNING`, values 0..=3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl LogLevel {
    pub(crate) fn from_num(n: i64) -> Option<LogLevel> {
        Some(match n {
            0 => LogLevel::Debug,
            1 => LogLevel::Verbose,
            2 => LogLevel::Notice,
            3 => LogLevel::Warning,
            _ => return None,
        })
    }
}

/// `redis.set_repl` flags: a bit set of [`REPL_AOF`] and [`REPL_REPLICA`].
pub const REPL_NONE: u8 = 0;
/// Propagate the following commands to the AOF.
pub const REPL_AOF: u8 = 1;
/// Propagate the following commands to replicas.
pub const REPL_REPLICA: u8 = 2;
/// Both.
pub const REPL_ALL: u8 = 3;

/// What the server provides to a running script. Only `call` is required.
pub trait Host {
    /// Runs `argv` (never empty) for `redis.call`/`redis.pcall`, the reply encoded for
    /// `resp` (the script's `redis.setresp`, 2 by default) and decoded back into a
    /// frame. Errors are [`Frame::Error`] with their code (`"ERR ..."`,
    /// `"WRONGTYPE ..."`), as the server would have written them after the `-`.
    fn call(&mut self, argv: &[Bytes], resp: Proto) -> Frame;

    /// `redis.log(level, ...)`: the message is the arguments joined by spaces.
    fn log(&mut self, _level: LogLevel, _msg: &[u8]) {}

    /// `redis.set_repl(flags)` with validated flags (`REPL_*`).
    fn set_repl(&mut self, _flags: u8) {}

    /// `redis.replicate_commands()` (always effects replication in 7.0: a no-op).
    fn replicate_commands(&mut self) {}

    /// `redis.acl_check_cmd(cmd, ...)`: whether the calling user may run `argv`, or
    /// an error text (such as "Invalid command passed to redis.acl_check_cmd()").
    fn acl_check_cmd(&mut self, _argv: &[Bytes]) -> Result<bool, Vec<u8>> {
        Ok(true)
    }

    /// Called from the instruction-count hook every [`crate::HOOK_INSTRUCTIONS`]
    /// instructions. The server measures the time spent, lets other clients in (BUSY
    /// replies, SCRIPT KILL / FUNCTION KILL) and returns `true` once the script was
    /// killed; the engine then aborts it with "ERR Script killed by user with SCRIPT
    /// KILL...", which `pcall` inside the script cannot keep catching.
    fn should_abort(&mut self) -> bool {
        false
    }
}
