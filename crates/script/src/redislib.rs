//! The `redis` library: `call`, `pcall`, `error_reply`, `status_reply`, `sha1hex`,
//! `log`, `setresp`, `set_repl`, `replicate_commands`, `breakpoint`, `debug`,
//! `acl_check_cmd` and the `LOG_*`, `REPL_*`, `REDIS_VERSION*` constants.
//!
//! Functions that need the server (`call`, `pcall`, `log`, `set_repl`,
//! `replicate_commands`, `acl_check_cmd`) forward to per-run callbacks in the
//! private table (see [`crate::run`]); the rest are plain Rust functions. Argument
//! errors are Redis error tables raised from the caller's line, as Redis does.

use bytes::Bytes;
use mlua::{Lua, MultiValue, Table, Value};
use sha1::{Digest, Sha1};
use shoal_resp::double_text;

use crate::errors::{error_table, raise, LuaErr};

/// The version scripts see.
pub const REDIS_VERSION: &str = "7.0.15";
/// `(major << 16) | (minor << 8) | patch`.
pub const REDIS_VERSION_NUM: i64 = (7 << 16) | 15;

/// A Rust function with the library calling convention.
pub(crate) fn rawfn<F>(lua: &Lua, f: F) -> mlua::Result<mlua::Function>
where
    F: Fn(&Lua, MultiValue) -> Result<MultiValue, LuaErr> + mlua::MaybeSend + 'static,
{
    lua.create_function(move |lua, args: MultiValue| match f(lua, args) {
        Ok(v) => Ok(v),
        Err(e) => raise(lua, e),
    })
}

pub(crate) fn one(v: Value) -> MultiValue {
    MultiValue::from_vec(vec![v])
}

/// Lowercase hex SHA1 of `data`.
pub fn sha1hex(data: &[u8]) -> String {
    let d = Sha1::digest(data);
    let mut s = String::with_capacity(40);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// `lua_tolstring`: strings and numbers (numbers as `%.14g`), else `None`.
pub(crate) fn to_lstring(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(crate::numfmt::fmt_g(*i as f64, 14).into_bytes()),
        Value::Number(n) => Some(crate::numfmt::fmt_g(*n, 14).into_bytes()),
        _ => None,
    }
}

/// `lua_tonumber`: numbers, and strings that parse as numbers; else 0.
pub(crate) fn to_number(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        Value::String(s) => crate::cjson::parse_lua_number(&s.as_bytes()).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// `lua_isnumber`.
pub(crate) fn is_number(v: &Value) -> bool {
    match v {
        Value::Integer(_) | Value::Number(_) => true,
        Value::String(s) => crate::cjson::parse_lua_number(&s.as_bytes()).is_some(),
        _ => false,
    }
}

/// The arguments of `redis.call` as a command vector, or Redis's error text.
pub(crate) fn command_argv(args: &MultiValue) -> Result<Vec<Bytes>, &'static str> {
    if args.is_empty() {
        return Err("Please specify at least one argument for this redis lib call");
    }
    let mut argv = Vec::with_capacity(args.len());
    for a in args.iter() {
        argv.push(match a {
            Value::String(s) => Bytes::copy_from_slice(&s.as_bytes()),
            Value::Integer(i) => Bytes::copy_from_slice(double_text(*i as f64).as_bytes()),
            Value::Number(n) => Bytes::copy_from_slice(double_text(*n).as_bytes()),
            _ => return Err("Lua redis lib command arguments must be strings or integers"),
        });
    }
    Ok(argv)
}

/// The static part of the `redis` table (the engine adds the host-bound functions).
pub(crate) fn static_lib(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "error_reply",
        rawfn(lua, |lua, args| {
            let v = match (args.len(), args.front()) {
                (1, Some(Value::String(s))) => {
                    let s = s.as_bytes();
                    let mut text = Vec::with_capacity(s.len() + 1);
                    if s.first() != Some(&b'-') {
                        text.push(b'-');
                    }
                    text.extend_from_slice(&s);
                    error_table(lua, &text, false)?
                }
                _ => error_table(lua, b"wrong number or type of arguments", false)?,
            };
            Ok(one(Value::Table(v)))
        })?,
    )?;
    t.raw_set(
        "status_reply",
        rawfn(lua, |lua, args| {
            let v = match (args.len(), args.front()) {
                (1, Some(Value::String(s))) => {
                    let t = lua.create_table()?;
                    t.raw_set("ok", s.clone())?;
                    t
                }
                _ => error_table(lua, b"wrong number or type of arguments", false)?,
            };
            Ok(one(Value::Table(v)))
        })?,
    )?;
    t.raw_set(
        "sha1hex",
        rawfn(lua, |lua, args| {
            if args.len() != 1 {
                return Err(LuaErr::table("wrong number of arguments"));
            }
            let data = to_lstring(&args[0]).unwrap_or_default();
            Ok(one(Value::String(lua.create_string(sha1hex(&data))?)))
        })?,
    )?;
    t.raw_set(
        "setresp",
        rawfn(lua, |lua, args| {
            if args.len() != 1 {
                return Err(LuaErr::table("redis.setresp() requires one argument."));
            }
            let n = to_number(&args[0]) as i64;
            if n != 2 && n != 3 {
                return Err(LuaErr::table("RESP version must be 2 or 3."));
            }
            if let Some(mut st) = lua.app_data_mut::<crate::run::RunState>() {
                st.resp3 = n == 3;
            }
            Ok(MultiValue::new())
        })?,
    )?;
    t.raw_set(
        "breakpoint",
        rawfn(lua, |_, _| Ok(one(Value::Boolean(false))))?,
    )?;
    t.raw_set("debug", rawfn(lua, |_, _| Ok(MultiValue::new()))?)?;
    set_constants(&t)?;
    for (k, v) in [
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
    ] {
        t.raw_set(k, v)?;
    }
    Ok(t)
}

/// `LOG_*` and version constants (also in the FUNCTION LOAD API table).
pub(crate) fn set_constants(t: &Table) -> mlua::Result<()> {
    for (k, v) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
    ] {
        t.raw_set(k, v)?;
    }
    t.raw_set("REDIS_VERSION", REDIS_VERSION)?;
    t.raw_set("REDIS_VERSION_NUM", REDIS_VERSION_NUM)?;
    Ok(())
}

/// Names of the host-bound functions, forwarded to `H[name]` during a run.
pub(crate) const DYNAMIC: &[&str] = &[
    "call",
    "pcall",
    "log",
    "set_repl",
    "replicate_commands",
    "acl_check_cmd",
];

/// Validates `redis.log` arguments: the level and the joined message.
pub(crate) fn log_args(args: &MultiValue) -> Result<(crate::LogLevel, Vec<u8>), LuaErr> {
    if args.len() < 2 {
        return Err(LuaErr::table("redis.log() requires two arguments or more."));
    }
    if !is_number(&args[0]) {
        return Err(LuaErr::table(
            "First argument must be a number (log level).",
        ));
    }
    let level = crate::LogLevel::from_num(to_number(&args[0]) as i64)
        .ok_or_else(|| LuaErr::table("Invalid debug level."))?;
    let mut msg = Vec::new();
    let mut first = true;
    for a in args.iter().skip(1) {
        if let Some(s) = to_lstring(a) {
            if !first {
                msg.push(b' ');
            }
            first = false;
            msg.extend_from_slice(&s);
        }
    }
    Ok((level, msg))
}

/// Validates `redis.set_repl` arguments.
pub(crate) fn set_repl_args(args: &MultiValue) -> Result<u8, LuaErr> {
    if args.len() != 1 {
        return Err(LuaErr::table("redis.set_repl() requires two arguments."));
    }
    let flags = to_number(&args[0]) as i64;
    if !(0..=3).contains(&flags) {
        return Err(LuaErr::table(
            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        ));
    }
    Ok(flags as u8)
}
