//! Commands about the server and the connection rather than the keyspace: one
//! module per family, each exporting a `HANDLERS` table like the keyspace families.

use crate::server::Server;
use crate::session::Session;
use shoal_resp::ReplyWriter;
use std::sync::Arc;

pub mod admin;
pub mod blocked;
pub mod client;
pub mod conn;
pub mod debug;
pub mod info;
pub mod multi;
pub mod observe;
pub mod persist;
pub mod pubsub;
pub mod scripting;
pub mod tracking;

/// The context of a server command: the server, the calling connection's state and
/// the reply writer.
pub struct SCtx<'a> {
    pub srv: &'a Arc<Server>,
    pub s: &'a mut Session,
    pub out: &'a mut ReplyWriter,
}

pub type ServerHandler = for<'a, 'b> fn(&'b mut SCtx<'a>, &'b [bytes::Bytes]);

/// All server command families.
const FAMILIES: &[&[(&str, ServerHandler)]] = &[
    conn::HANDLERS,
    admin::HANDLERS,
    client::HANDLERS,
    info::HANDLERS,
    debug::HANDLERS,
    observe::HANDLERS,
    persist::HANDLERS,
    pubsub::HANDLERS,
    multi::HANDLERS,
    scripting::HANDLERS,
    crate::repl::cmd::HANDLERS,
];

pub fn handler(name: &str) -> Option<ServerHandler> {
    FAMILIES
        .iter()
        .flat_map(|t| t.iter())
        .find(|(n, _)| *n == name)
        .map(|(_, h)| *h)
}

/// The argument as lossy UTF-8 (for error messages and names).
pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Replies to a HELP subcommand: a header line, the given lines, then HELP's own entry.
pub fn help_reply(out: &mut ReplyWriter, cmd: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Print this help.");
}
