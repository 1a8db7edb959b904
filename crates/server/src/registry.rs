//! The runtime command registry: the declarative table joined with implementations.
//!
//! Every command and subcommand of the table gets an entry with a dense id (used to
//! index per-thread statistics), its compiled flags and, when Shoal implements it,
//! how to execute it. Keyspace commands come from `shoal-commands`; commands about
//! the server itself (CLIENT, CONFIG, INFO, ...) from this crate's `cmd` modules. A
//! subcommand shares its container's executor: the container's handler dispatches
//! on `argv[1]` itself, after dispatch has checked the subcommand's arity.

use crate::cmd::{self, ServerHandler};
use shoal_commands::spec::{flag, CommandSpec};
use shoal_commands::Handler;

#[derive(Clone, Copy)]
pub enum Exec {
    /// Runs under the locks of its keys' shards.
    Data(Handler),
    /// Runs with the server and the client's connection state.
    Server(ServerHandler),
}

pub struct Entry {
    pub id: usize,
    pub spec: &'static CommandSpec,
    pub flags: u32,
    pub exec: Option<Exec>,
    /// "get" or "config|get", as errors and statistics name it.
    pub full_name: String,
    /// Ids of the subcommand entries, in table order (containers only).
    pub subs: Vec<usize>,
}

impl Entry {
    pub fn implemented(&self) -> bool {
        self.exec.is_some()
    }

    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }
}

/// What [`Registry::resolve`] found.
pub enum Resolved<'r> {
    /// `top` is the command, `e` the entry to run (`top` itself, or a subcommand).
    Found {
        top: &'r Entry,
        e: &'r Entry,
    },
    UnknownCommand,
    /// A container (its entry) given a subcommand it does not have.
    UnknownSubcommand(&'r Entry),
}

/// Invariant: the entry of the table's top-level command `i` has id `i`
/// (subcommands come after all top-level commands), so a spec found by the table's
/// allocation-free lookup maps to its entry by position.
pub struct Registry {
    pub entries: Vec<Entry>,
}

impl Registry {
    pub fn build() -> Registry {
        let table = shoal_commands::table::all();
        let mut entries: Vec<Entry> = table
            .iter()
            .enumerate()
            .map(|(id, spec)| Entry {
                id,
                spec,
                flags: flag::compile(spec.flags),
                exec: shoal_commands::handler(spec.name)
                    .map(Exec::Data)
                    .or_else(|| cmd::handler(spec.name).map(Exec::Server)),
                full_name: spec.name.to_string(),
                subs: Vec::new(),
            })
            .collect();
        for (id, spec) in table.iter().enumerate() {
            let exec = entries[id].exec;
            for sub in spec.subcommands {
                let sid = entries.len();
                entries.push(Entry {
                    id: sid,
                    spec: sub,
                    flags: flag::compile(sub.flags),
                    exec,
                    full_name: format!("{}|{}", spec.name, sub.name),
                    subs: Vec::new(),
                });
                entries[id].subs.push(sid);
            }
        }
        Registry { entries }
    }

    /// The top-level entry for a command name in any letter case.
    pub fn lookup(&self, name: &[u8]) -> Option<&Entry> {
        let spec = shoal_commands::table::lookup(name)?;
        let table = shoal_commands::table::all();
        // The spec lives in the table's slice: its index is its offset from the start.
        let offset = (spec as *const CommandSpec as usize).wrapping_sub(table.as_ptr() as usize);
        let id = offset / std::mem::size_of::<CommandSpec>();
        if id >= table.len() || !std::ptr::eq(&table[id], spec) {
            return None;
        }
        let e = &self.entries[id];
        e.implemented().then_some(e)
    }

    /// The subcommand entry of container `e` for `name`.
    pub fn sub(&self, e: &Entry, name: &[u8]) -> Option<&Entry> {
        e.subs
            .iter()
            .map(|&i| &self.entries[i])
            .find(|s| s.spec.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// The command a request names, as Redis's `lookupCommand` finds it: the
    /// subcommand's entry for containers given one.
    pub fn resolve(&self, argv: &[bytes::Bytes]) -> Resolved<'_> {
        let Some(top) = self.lookup(&argv[0]) else {
            return Resolved::UnknownCommand;
        };
        if top.subs.is_empty() || argv.len() < 2 {
            return Resolved::Found { top, e: top };
        }
        match self.sub(top, &argv[1]) {
            Some(e) => Resolved::Found { top, e },
            None => Resolved::UnknownSubcommand(top),
        }
    }

    /// The entry for a full name like "config|get".
    pub fn by_full_name(&self, full: &str) -> Option<&Entry> {
        let mut parts = full.splitn(2, '|');
        let top = self.lookup(parts.next()?.as_bytes())?;
        match parts.next() {
            Some(s) => self.sub(top, s.as_bytes()),
            None => Some(top),
        }
    }

    pub fn is_implemented(&self, spec: &CommandSpec) -> bool {
        let name = if spec.parent.is_empty() {
            spec.name
        } else {
            spec.parent
        };
        self.lookup(name.as_bytes()).is_some()
    }
}
