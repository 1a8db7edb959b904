//! Redis's script error texts and formats.
//!
//! Errors inside a script are Lua values: a table `{err = "CODE message"}` for errors
//! Redis raises itself (`redis.call` failures, library misuse), a string for Lua
//! runtime errors. The error handler turns every error into a table and records where
//! it happened; [`final_message`] then builds the reply text:
//! `"<err> script: <name>, on @user_script:<line>."`.

use bytes::Bytes;
use mlua::{Lua, MultiValue, Table, Value};

use crate::sandbox::{Killed, LoadTimeout, INTERNAL_SOURCE};

/// What a killed script is aborted with (the table form's `err`).
pub const SCRIPT_KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";
/// Reply to EVALSHA / FCALL of an unknown script (server side).
pub const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
/// Other clients' reply while a script runs past the busy time (EVAL / EVALSHA).
pub const BUSY_SCRIPT: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// Same, while a function runs (FCALL).
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
/// SCRIPT KILL / FUNCTION KILL when nothing runs.
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
/// SCRIPT KILL of a script that already wrote.
pub const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
/// A write command from a `no-writes` script or EVAL_RO / FCALL_RO (host side).
pub const WRITE_IN_RO: &str = "ERR Write commands are not allowed from read-only scripts.";
/// FCALL_RO / EVAL_RO of a script without the `no-writes` flag (server side).
pub const RO_NEEDS_NO_WRITES: &str =
    "ERR Can not execute a script with write flag using *_ro command.";
/// A script-forbidden command (`noscript` flag) through redis.call (host side).
pub const NOT_ALLOWED: &str = "ERR This Redis command is not allowed from script";
/// Unknown command through redis.call (host side).
pub const UNKNOWN_COMMAND: &str = "ERR Unknown Redis command called from script";
/// Wrong arity through redis.call (host side).
pub const WRONG_ARGS: &str = "ERR Wrong number of args calling Redis command from script";

/// Redis's normalisation of an error pushed to Lua: `-CODE msg` keeps its code (a
/// message without a space gets `ERR`), text without `-` gets `ERR `, and CR/LF are
/// trimmed from both ends of the message.
pub fn normalize_error(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let is_nl = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = msg.iter().position(|b| !is_nl(b)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|b| !is_nl(b)).map_or(start, |i| i + 1);
    let mut out = Vec::with_capacity(code.len() + 1 + end - start);
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(&msg[start..end]);
    out
}

/// `{err = <normalized text>}`, optionally flagged as already counted in errorstats.
pub(crate) fn error_table(lua: &Lua, text: &[u8], ignore_stats: bool) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(normalize_error(text))?)?;
    if ignore_stats {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

/// An error a Rust library function raises.
pub(crate) enum LuaErr {
    /// A Redis error table (text normalized as [`normalize_error`]).
    Table(Vec<u8>),
    /// A table already built.
    Value(Value),
    /// A message raised like `luaL_error`: prefixed with the caller's position.
    Msg(String),
}

impl LuaErr {
    pub(crate) fn table(s: impl Into<Vec<u8>>) -> LuaErr {
        LuaErr::Table(s.into())
    }
    pub(crate) fn msg(s: impl Into<String>) -> LuaErr {
        LuaErr::Msg(s.into())
    }
    /// `bad argument #n to 'f' (msg)`.
    pub(crate) fn arg(n: usize, f: &str, msg: &str) -> LuaErr {
        LuaErr::Msg(format!("bad argument #{n} to '{f}' ({msg})"))
    }
}

impl From<mlua::Error> for LuaErr {
    fn from(e: mlua::Error) -> LuaErr {
        LuaErr::Msg(e.to_string())
    }
}

/// The values a Rust library function returns for `e` (the error marker, then the
/// error value).
pub(crate) fn raise(lua: &Lua, e: LuaErr) -> mlua::Result<MultiValue> {
    let marker: Table = lua.named_registry_value("shoal.E")?;
    let v = match e {
        LuaErr::Table(text) => Value::Table(error_table(lua, &text, false)?),
        LuaErr::Value(v) => v,
        LuaErr::Msg(m) => {
            let mut s = position(lua, 1);
            s.push_str(&m);
            Value::String(lua.create_string(s)?)
        }
    };
    Ok(MultiValue::from_vec(vec![Value::Table(marker), v]))
}

/// The first frame at or above `level` that is not the sandbox's own code, as
/// `(source, short_src, line, is_c)`.
fn user_frame(lua: &Lua, level: usize, skip_c: bool) -> Option<(String, String, i32, bool)> {
    let mut c_skipped = false;
    for lvl in level..level + 64 {
        let d = lua.inspect_stack(lvl)?;
        let src = d.source();
        let source = src.source.as_deref().unwrap_or("").to_owned();
        if source == INTERNAL_SOURCE || src.what == "tail" || source == "=(tail call)" {
            continue;
        }
        if src.what == "C" {
            if skip_c && !c_skipped {
                c_skipped = true;
                continue;
            }
            return Some((source, String::new(), -1, true));
        }
        let short = src.short_src.as_deref().unwrap_or("").to_owned();
        return Some((source, short, d.curr_line(), false));
    }
    None
}

/// `luaL_where` for the script code calling a Rust function: `"user_script:3: "`,
/// or empty when the caller is a C function (`pcall(cjson.decode, s)`).
pub(crate) fn position(lua: &Lua, level: usize) -> String {
    // Level 0 is the Rust function, 1 its C wrapper, 2 the caller.
    let Some(d) = lua.inspect_stack(level + 1) else {
        return String::new();
    };
    let src = d.source();
    let line = d.curr_line();
    if src.what == "C" || line <= 0 {
        return String::new();
    }
    format!("{}:{line}: ", src.short_src.as_deref().unwrap_or(""))
}

/// The error handler passed to `xpcall`: every error becomes a table with `err`,
/// `source` and `line` (Redis's `__redis__err__handler`).
pub(crate) fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let killed = lua
        .app_data_ref::<crate::run::RunState>()
        .is_some_and(|s| s.killed);
    let t = match err {
        _ if killed => error_table(lua, format!("-{SCRIPT_KILLED}").as_bytes(), false)?,
        Value::Table(t) => t,
        Value::Error(e) => {
            if find_cause::<Killed>(&e) {
                error_table(lua, format!("-{SCRIPT_KILLED}").as_bytes(), false)?
            } else if find_cause::<LoadTimeout>(&e) {
                error_table(lua, b"FUNCTION LOAD timeout", false)?
            } else {
                error_table(lua, e.to_string().as_bytes(), false)?
            }
        }
        other => {
            let text = tostring(lua, &other)?;
            let t = lua.create_table()?;
            let mut s = b"ERR ".to_vec();
            s.extend_from_slice(&text);
            t.raw_set("err", lua.create_string(s)?)?;
            t
        }
    };
    if let Some((source, _, line, is_c)) = user_frame(lua, 1, true) {
        t.raw_set("source", source)?;
        if !is_c {
            t.raw_set("line", line)?;
        }
    }
    Ok(t)
}

fn find_cause<T: std::error::Error + 'static>(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::ExternalError(x) => x.downcast_ref::<T>().is_some(),
        mlua::Error::CallbackError { cause, .. } => find_cause::<T>(cause),
        mlua::Error::WithContext { cause, .. } => find_cause::<T>(cause),
        _ => false,
    }
}

/// Lua's `tostring` of a value (numbers as `%.14g`, `nil`, `true`, `table: 0x...`).
pub(crate) fn tostring(lua: &Lua, v: &Value) -> mlua::Result<Vec<u8>> {
    Ok(match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Nil => b"nil".to_vec(),
        Value::Boolean(b) => b.to_string().into_bytes(),
        Value::Integer(i) => crate::numfmt::fmt_g(*i as f64, 14).into_bytes(),
        Value::Number(n) => crate::numfmt::fmt_g(*n, 14).into_bytes(),
        other => {
            let real: Table = lua.named_registry_value("shoal.R")?;
            let f: mlua::Function = real.raw_get("tostring")?;
            let s: mlua::String = f.call(other.clone())?;
            s.as_bytes().to_vec()
        }
    })
}

/// The error text of a script that raised `t` (the handler's table): the message,
/// then ` script: <name>, on <source>:<line>.` when the location is known. Also
/// whether the error was already counted in errorstats (a `redis.call` failure).
pub(crate) fn final_message(t: &Table, name: &str) -> (Bytes, bool) {
    // A number is converted as `lua_tostring` would (`error({err=5})` -> "5").
    let msg: Vec<u8> = match t.raw_get::<Value>("err") {
        Ok(v @ (Value::String(_) | Value::Integer(_) | Value::Number(_))) => {
            crate::redislib::to_lstring(&v).unwrap_or_default()
        }
        _ => b"ERR unknown error raised by the script".to_vec(),
    };
    let mut out = msg;
    let source = t.raw_get::<Option<mlua::String>>("source").ok().flatten();
    let line = t.raw_get::<Option<i64>>("line").ok().flatten();
    if let (Some(source), Some(line)) = (source, line) {
        out.extend_from_slice(b" script: ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b", on ");
        out.extend_from_slice(&source.as_bytes());
        out.extend_from_slice(format!(":{line}.").as_bytes());
    }
    let ignore = matches!(
        t.raw_get::<Value>("ignore_error_stats_update"),
        Ok(Value::Boolean(true))
    );
    (Bytes::from(out), ignore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization() {
        assert_eq!(normalize_error(b"My Error"), b"ERR My Error");
        assert_eq!(normalize_error(b"-My Error"), b"My Error");
        assert_eq!(normalize_error(b"-x"), b"ERR x");
        assert_eq!(
            normalize_error(b"-WRONGTYPE Operation"),
            b"WRONGTYPE Operation"
        );
        assert_eq!(normalize_error(b"-ERR msg\r\n"), b"ERR msg");
        assert_eq!(normalize_error(b""), b"ERR ");
    }
}
