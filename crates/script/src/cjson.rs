//! stub
use mlua::{Lua, Table};
pub(crate) fn lib(lua: &Lua) -> mlua::Result<Table> { lua.create_table() }
pub(crate) fn parse_lua_number(s: &[u8]) -> Option<f64> { std::str::from_utf8(s).ok()?.trim().parse().ok() }
