//! SAVE, BGSAVE and BGREWRITEAOF (LASTSAVE is in `conn`). The work is in
//! [`crate::persist`] and [`crate::persist::aof::rewrite`].

use super::{SCtx, ServerHandler};
use crate::persist::{self, SaveError};
use bytes::Bytes;
use shoal_commands::{args, errors};
use std::sync::atomic::Ordering::Relaxed;

pub const HANDLERS: &[(&str, ServerHandler)] = &[
    ("save", save),
    ("bgsave", bgsave),
    ("bgrewriteaof", bgrewriteaof),
];

const IN_PROGRESS: &str = "ERR Background save already in progress";

fn save(c: &mut SCtx, _argv: &[Bytes]) {
    if c.srv.persist.bgsave_in_progress.load(Relaxed) {
        return c.out.error(IN_PROGRESS);
    }
    match persist::save_blocking(c.srv) {
        Ok(()) => c.out.ok(),
        Err(SaveError::Busy) => c.out.error(IN_PROGRESS),
        Err(SaveError::Failed(_)) => c.out.error("ERR"),
    }
}

fn bgsave(c: &mut SCtx, argv: &[Bytes]) {
    let schedule = match argv.len() {
        1 => false,
        2 if args::is(&argv[1], "schedule") => true,
        _ => return c.out.error(errors::SYNTAX),
    };
    let p = &c.srv.persist;
    if p.bgsave_in_progress.load(Relaxed) {
        return c.out.error(IN_PROGRESS);
    }
    // Another snapshot (an AOF rewrite) holds the engine.
    if persist::snapshot::running().is_some() || c.s.in_exec {
        if schedule || c.s.in_exec {
            p.bgsave_scheduled.store(true, Relaxed);
            return c.out.simple("Background saving scheduled");
        }
        return c.out.error(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        );
    }
    match persist::bgsave(c.srv) {
        Ok(()) => c.out.simple("Background saving started"),
        Err(SaveError::Busy) => c.out.error(IN_PROGRESS),
        Err(SaveError::Failed(_)) => c.out.error("ERR"),
    }
}

fn bgrewriteaof(c: &mut SCtx, _argv: &[Bytes]) {
    use crate::persist::aof::rewrite::{self, Reply};
    match rewrite::bgrewriteaof(c.srv, c.s.in_exec) {
        Reply::Started => c.out.simple("Background append only file rewriting started"),
        Reply::Scheduled => c.out.simple("Background append only file rewriting scheduled"),
        Reply::InProgress => c
            .out
            .error("ERR Background append only file rewriting already in progress"),
        Reply::Failed => c.out.error(
            "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
        ),
    }
}
