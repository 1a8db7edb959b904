//! Running one script or function call against a [`Host`]: binds the host-bound
//! `redis` functions and the instruction hook for the duration of the call (through
//! an mlua scope, so nothing outlives the host borrow), calls the function under the
//! error handler, and converts its result or error to a reply.

use std::cell::RefCell;

use bytes::Bytes;
use mlua::{Function, HookTriggers, Lua, MultiValue, Table, Value, VmState};
use shoal_resp::{Frame, Proto};

use crate::convert::{frame_to_lua, lua_to_frame};
use crate::errors::{error_table, final_message, raise, LuaErr};
use crate::redislib::{command_argv, log_args, one, set_repl_args, DYNAMIC};
use crate::sandbox::{Killed, Sandbox};
use crate::Host;

/// The hook checks the host every this many Lua instructions.
pub const HOOK_INSTRUCTIONS: u32 = 100_000;

/// Per-run state kept in the Lua state's app data.
#[derive(Debug, Default)]
pub(crate) struct RunState {
    /// `redis.setresp(3)` was called.
    pub resp3: bool,
    /// The host said the script was killed: every error from now on is the kill.
    pub killed: bool,
}

/// The result of running a script or function.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The reply to write with [`crate::write_frame`] (errors are [`Frame::Error`]).
    pub reply: Frame,
    /// The reply is an error already counted in errorstats (it came from a command
    /// the script ran and re-raised): the server must not count it again.
    pub error_already_counted: bool,
}

impl Outcome {
    fn error(text: impl Into<Bytes>) -> Outcome {
        Outcome {
            reply: Frame::Error(text.into()),
            error_already_counted: false,
        }
    }
}

/// Installs idle fallbacks for the host-bound functions (used outside any run).
pub(crate) fn install_idle(lua: &Lua, private: &Table) -> mlua::Result<()> {
    for name in DYNAMIC {
        let f = crate::redislib::rawfn(lua, |_, _| {
            Err(LuaErr::table(
                "This function can only be called from a running script",
            ))
        })?;
        private.raw_set(*name, f)?;
    }
    Ok(())
}

fn host_call(
    lua: &Lua,
    host: &RefCell<&mut dyn Host>,
    args: MultiValue,
    raise_err: bool,
) -> mlua::Result<MultiValue> {
    let argv = match command_argv(&args) {
        Ok(a) => a,
        Err(msg) => {
            let t = error_table(lua, msg.as_bytes(), false)?;
            return if raise_err {
                raise(lua, LuaErr::Value(Value::Table(t)))
            } else {
                Ok(one(Value::Table(t)))
            };
        }
    };
    let resp3 = lua.app_data_ref::<RunState>().is_some_and(|s| s.resp3);
    let proto = if resp3 { Proto::Resp3 } else { Proto::Resp2 };
    let reply = host.borrow_mut().call(&argv, proto);
    if let Frame::Error(e) = &reply {
        let mut text = Vec::with_capacity(e.len() + 1);
        text.push(b'-');
        text.extend_from_slice(e);
        let t = error_table(lua, &text, true)?;
        return if raise_err {
            raise(lua, LuaErr::Value(Value::Table(t)))
        } else {
            Ok(one(Value::Table(t)))
        };
    }
    Ok(one(frame_to_lua(lua, &reply, resp3)?))
}

/// Calls `f(a, b)` with `host` bound; `name` is what error messages call the script
/// (the SHA1 for EVAL, the function name for FCALL).
pub(crate) fn run(
    sb: &Sandbox,
    host: &mut dyn Host,
    f: &Function,
    name: &str,
    a: Value,
    b: Value,
) -> Outcome {
    let lua = &sb.lua;
    lua.set_app_data(RunState::default());
    let host = RefCell::new(host);
    let result = lua.scope(|scope| {
        let h = &host;
        let call =
            scope.create_function(move |lua, args: MultiValue| host_call(lua, h, args, true))?;
        let pcall =
            scope.create_function(move |lua, args: MultiValue| host_call(lua, h, args, false))?;
        let log = scope.create_function(move |lua, args: MultiValue| match log_args(&args) {
            Ok((level, msg)) => {
                h.borrow_mut().log(level, &msg);
                Ok(MultiValue::new())
            }
            Err(e) => raise(lua, e),
        })?;
        let set_repl =
            scope.create_function(move |lua, args: MultiValue| match set_repl_args(&args) {
                Ok(flags) => {
                    h.borrow_mut().set_repl(flags);
                    Ok(MultiValue::new())
                }
                Err(e) => raise(lua, e),
            })?;
        let replicate = scope.create_function(move |_, _: MultiValue| {
            h.borrow_mut().replicate_commands();
            Ok(one(Value::Boolean(true)))
        })?;
        let acl = scope.create_function(move |lua, args: MultiValue| {
            let argv = match command_argv(&args) {
                Ok(a) => a,
                Err(msg) => return raise(lua, LuaErr::table(msg)),
            };
            match h.borrow_mut().acl_check_cmd(&argv) {
                Ok(allowed) => Ok(one(Value::Boolean(allowed))),
                Err(msg) => raise(lua, LuaErr::table(msg)),
            }
        })?;
        let abort = scope.create_function(move |_, ()| Ok(h.borrow_mut().should_abort()))?;
        let p = &sb.private;
        p.raw_set("call", call)?;
        p.raw_set("pcall", pcall)?;
        p.raw_set("log", log)?;
        p.raw_set("set_repl", set_repl)?;
        p.raw_set("replicate_commands", replicate)?;
        p.raw_set("acl_check_cmd", acl)?;
        p.raw_set("abort", abort)?;
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
            abort_hook,
        );
        let r = sb.runner.call::<MultiValue>((f, &sb.handler, a, b));
        lua.remove_hook();
        install_idle(lua, p)?;
        p.raw_set("abort", Value::Nil)?;
        Ok(r)
    });
    let resp3 = lua.remove_app_data::<RunState>().is_some_and(|s| s.resp3);
    let values = match result {
        Ok(Ok(v)) => v,
        Ok(Err(e)) | Err(e) => return Outcome::error(format!("ERR {e}")),
    };
    let mut it = values.into_iter();
    let ok = matches!(it.next(), Some(Value::Boolean(true)));
    let v = it.next().unwrap_or(Value::Nil);
    if ok {
        // A returned `redis.pcall` error was counted when the command failed.
        let counted = match &v {
            Value::Table(t) => {
                matches!(t.raw_get::<Value>("err"), Ok(Value::String(_)))
                    && matches!(
                        t.raw_get::<Value>("ignore_error_stats_update"),
                        Ok(Value::Boolean(true))
                    )
            }
            _ => false,
        };
        return Outcome {
            reply: lua_to_frame(&v, resp3),
            error_already_counted: counted,
        };
    }
    match v {
        Value::Table(t) => {
            let (msg, counted) = final_message(&t, name);
            Outcome {
                reply: Frame::Error(msg),
                error_already_counted: counted,
            }
        }
        other => Outcome::error(format!("ERR {other:?}")),
    }
}

fn abort_hook(lua: &Lua, _: mlua::Debug) -> mlua::Result<VmState> {
    let private: Table = lua.named_registry_value("shoal.H")?;
    let abort: Option<Function> = private.raw_get("abort")?;
    let killed = match abort {
        Some(f) => f.call::<bool>(())?,
        None => false,
    };
    if killed {
        if let Some(mut st) = lua.app_data_mut::<RunState>() {
            st.killed = true;
        }
        // From now on every instruction raises, so `pcall` cannot keep the script alive.
        // (The sandbox's own code is spared, so the kill error can reach the caller.)
        lua.set_hook(HookTriggers::new().every_nth_instruction(1), |_, d| {
            if d.source().source.as_deref() == Some(crate::sandbox::INTERNAL_SOURCE) {
                return Ok(VmState::Continue);
            }
            Err(mlua::Error::external(Killed))
        });
        return Err(mlua::Error::external(Killed));
    }
    Ok(VmState::Continue)
}
