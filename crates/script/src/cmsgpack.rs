//! stub
use mlua::{Lua, Table};
pub(crate) fn lib(lua: &Lua) -> mlua::Result<Table> { lua.create_table() }
