//! The command layer: the declarative command table, key extraction, and one module
//! per command family. Handlers parse their arguments, operate on the keyspace
//! through [`ctx::Ctx`], and write their reply; they never see a socket and never
//! repeat the generic checks that dispatch does (arity, auth, key locking, ...).
//!
//! Must not depend on the server crate.

pub mod args;
pub mod bitmaps;
pub mod ctx;
pub mod digest;
pub mod errors;
pub mod generic;
pub mod geo;
pub mod hashes;
pub mod hll;
pub mod introspect;
pub mod keys;
pub mod lists;
pub mod sets;
pub mod settings;
pub mod spec;
pub mod streams;
pub mod strings;
pub mod table;
pub mod testing;
pub mod zsets;

#[cfg(test)]
mod notify_tests;
#[cfg(test)]
mod robustness;

pub use ctx::{BlockOn, Ctx, Propagate, TimeoutReply, WrongType};
pub use settings::{SanitizeDump, Settings};
pub use spec::CommandSpec;

/// A keyspace command handler. `argv[0]` is the command name as the client sent it.
pub type Handler = for<'a, 'b> fn(&'b mut Ctx<'a>, &'b [bytes::Bytes]);

/// The handler implementing the top-level command `name` (lowercase), if this crate
/// implements it. Subcommands are dispatched by their container's handler.
pub fn handler(name: &str) -> Option<Handler> {
    [
        strings::HANDLERS,
        bitmaps::HANDLERS,
        generic::HANDLERS,
        lists::HANDLERS,
        hashes::HANDLERS,
        sets::HANDLERS,
        zsets::HANDLERS,
        streams::HANDLERS,
        hll::HANDLERS,
        geo::HANDLERS,
    ]
    .iter()
    .flat_map(|t| t.iter())
    .find(|(n, _)| *n == name)
    .map(|(_, h)| *h)
}
