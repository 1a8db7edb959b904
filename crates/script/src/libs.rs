//! The Rust-implemented libraries installed as globals in every state.

use mlua::{Lua, Table};

/// `(global name, table)` for every Rust library.
pub(crate) fn all(lua: &Lua) -> mlua::Result<Vec<(&'static str, Table)>> {
    Ok(vec![
        ("redis", crate::redislib::static_lib(lua)?),
        ("cjson", crate::cjson::lib(lua)?),
        ("cmsgpack", crate::cmsgpack::lib(lua)?),
        ("bit", crate::bitop::lib(lua)?),
        ("struct", crate::structlib::lib(lua)?),
    ])
}
