//! Building a sandboxed Lua state as Redis 7.0 presents it to scripts.
//!
//! Lua 5.1 cannot mark a table read-only (Redis patches its VM for that), so the
//! sandbox uses proxies: scripts see an empty table `G` as their globals whose
//! metatable reads through to the real globals `R` and refuses writes with "Attempt
//! to modify a readonly table"; `R`'s own metatable turns a missing global into
//! "Script attempted to access nonexistent global variable 'x'". Library tables
//! (`redis`, `string`, `cjson`...) are proxied the same way. `rawset`, `rawget`,
//! `next`, `pairs`, `setmetatable`, `getmetatable` and `table.insert/remove/sort` see
//! through proxies (and refuse to modify them), `pcall` reports error tables by their
//! message, `loadstring`/`load` refuse bytecode; `os`, `io`, `print`, `debug`,
//! `require`, `loadfile`, `dofile`, `setfenv`, `getfenv`, `module`, `newproxy` are gone.
//!
//! Rust-implemented library functions return their results normally, or the private
//! marker `E` followed by an error value that a Lua wrapper raises (a Redis error
//! table, or a message already prefixed with the caller's position as `luaL_error`
//! would), so errors are plain Lua values that `pcall` and the handler understand.
//!
//! Invariant: the private table `H` (registry `shoal.H`) is never reachable from
//! scripts; it carries the per-run callbacks (`call`, `pcall`, `log`, `abort`...).

use mlua::{Function, Lua, StdLib, Table};

/// Chunk name of the sandbox's own Lua code (skipped when locating errors).
pub(crate) const INTERNAL_SOURCE: &str = "=shoal";

const PRELUDE: &str = include_str!("prelude.lua");

/// The tables and functions of a sandboxed state that the engine keeps.
pub(crate) struct Sandbox {
    pub lua: Lua,
    /// The real globals.
    pub real: Table,
    /// The proxy scripts see as `_G`.
    pub globals: Table,
    /// Private helpers and per-run callbacks.
    pub private: Table,
    /// `H.run(f, handler, a, b)`: `xpcall(f(a, b), handler)`.
    pub runner: Function,
    /// The error handler (builds Redis's error table with source and line).
    pub handler: Function,
}

/// Error raised by the instruction hook once the host says the script was killed.
#[derive(Debug)]
pub(crate) struct Killed;

impl std::fmt::Display for Killed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::errors::SCRIPT_KILLED)
    }
}
impl std::error::Error for Killed {}

/// Error raised by the hook when FUNCTION LOAD runs too long.
#[derive(Debug)]
pub(crate) struct LoadTimeout;

impl std::fmt::Display for LoadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FUNCTION LOAD timeout")
    }
}
impl std::error::Error for LoadTimeout {}

/// Runs the prelude on a new state (see [`new_lua`]) with the given Rust libraries
/// (`name -> table of functions`, installed as globals). [`finalize`] completes it.
pub(crate) fn build(libs: &[(&str, Table)], lua: Lua) -> mlua::Result<Sandbox> {
    let real = lua.globals();
    let private = lua.create_table()?;
    let marker = lua.create_table()?;
    lua.set_named_registry_value("shoal.H", &private)?;
    lua.set_named_registry_value("shoal.E", &marker)?;
    lua.set_named_registry_value("shoal.R", &real)?;
    let lib_table = lua.create_table()?;
    for (name, t) in libs {
        lib_table.raw_set(*name, t)?;
    }
    private.raw_set("make_wrapper", crate::cwrap::make_wrapper_fn(&lua)?)?;
    let prelude = lua
        .load(PRELUDE)
        .set_name(INTERNAL_SOURCE)
        .set_mode(mlua::ChunkMode::Text)
        .into_function()?;
    prelude.call::<()>((&real, &private, &marker, &lib_table))?;
    let globals: Table = private.get("G")?;
    lua.set_named_registry_value("shoal.G", &globals)?;
    let handler = lua.create_function(crate::errors::error_handler)?;
    let runner: Function = private.get("run")?;
    Ok(Sandbox {
        lua,
        real,
        globals,
        private,
        runner,
        handler,
    })
}

/// Proxies the library tables, installs the missing-global error, and switches the
/// thread's globals to the proxy. Call after every library is in `real`.
pub(crate) fn finalize(sb: &Sandbox, readonly_libs: &[&str]) -> mlua::Result<()> {
    let names = sb.lua.create_sequence_from(readonly_libs.iter().copied())?;
    let fin: Function = sb.private.get("finalize")?;
    fin.call::<()>(names)
}

/// The standard libraries Redis opens (no `io`, `os`, `package`, `debug` for scripts).
pub(crate) fn new_lua() -> mlua::Result<Lua> {
    // The debug library is opened for the prelude only and removed from the globals.
    Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH,
        mlua::LuaOptions::new(),
    )
}
