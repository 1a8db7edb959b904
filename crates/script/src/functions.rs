//! Redis 7 functions: the library registry behind FUNCTION LOAD / DELETE / FLUSH /
//! LIST / STATS and FCALL / FCALL_RO, on its own Lua state (as Redis keeps functions
//! apart from EVAL scripts).
//!
//! FUNCTION LOAD runs the library body with a restricted environment whose only
//! global is `redis` = {register_function, log, LOG_*, REDIS_VERSION*} (the globals
//! proxy reads through to that table during the load and to the full globals after),
//! under a 500 ms time limit. Registered functions are committed only if the whole
//! load succeeds.
//!
//! Invariant: `funcs` maps every registered function name, lowercased (function names
//! match in any case; library names are case-sensitive), to the library holding it;
//! a library's `functions` are keyed the same way.
//! FUNCTION DUMP / RESTORE: the server builds and parses the payload (RDB
//! records); [`FunctionEngine::restore`] installs a payload's libraries atomically.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mlua::{Function, HookTriggers, MultiValue, Table, Value, VmState};
use shoal_resp::Frame;

use crate::errors::LuaErr;
use crate::eval::{lua_error_text, script_sandbox, READONLY_LIBS};
use crate::redislib::{one, rawfn, set_constants};
use crate::run::{run, Outcome};
use crate::sandbox::{self, LoadTimeout, Sandbox};
use crate::shebang::{parse_library_header, valid_name, ScriptFlags};
use crate::Host;

/// FUNCTION LOAD's time limit.
pub const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

const NAME_RULE: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// A registered function.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    pub name: String,
    pub description: Option<Bytes>,
    pub flags: ScriptFlags,
    func: Function,
}

/// What FUNCTION RESTORE does with the libraries already loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Refuse when a library or function name is taken (the default).
    Append,
    /// Replace libraries of the same name.
    Replace,
    /// Delete every library first.
    Flush,
}

/// A loaded library.
#[derive(Debug, Clone)]
pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: BTreeMap<String, FunctionDef>,
}

/// Functions registered while a library body runs.
#[derive(Default)]
struct Pending(Vec<FunctionDef>);

/// The functions engine.
pub struct FunctionEngine {
    sb: Sandbox,
    load_env: Table,
    libs: BTreeMap<String, Library>,
    funcs: HashMap<String, String>,
}

impl FunctionEngine {
    pub fn new() -> FunctionEngine {
        let sb = script_sandbox().expect("building the Lua sandbox cannot fail");
        let load_env = load_env(&sb).expect("building the load environment");
        sandbox::finalize(&sb, READONLY_LIBS).expect("sandbox finalize");
        FunctionEngine {
            sb,
            load_env,
            libs: BTreeMap::new(),
            funcs: HashMap::new(),
        }
    }

    /// The libraries, by name.
    pub fn libraries(&self) -> &BTreeMap<String, Library> {
        &self.libs
    }

    /// The function called `name` (any case, as Redis matches function names) and
    /// its library.
    pub fn function(&self, name: &[u8]) -> Option<(&Library, &FunctionDef)> {
        let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        let lib = self.libs.get(self.funcs.get(&name)?)?;
        Some((lib, lib.functions.get(&name)?))
    }

    /// Number of functions (FUNCTION STATS `functions_count`).
    pub fn function_count(&self) -> usize {
        self.funcs.len()
    }

    /// FUNCTION LOAD [REPLACE] code: the library name, or the error reply text.
    pub fn load(&mut self, code: &[u8], replace: bool) -> Result<String, String> {
        let (name, offset) = parse_library_header(code)?;
        if !valid_name(name.as_bytes()) {
            return Err(format!("ERR {NAME_RULE}"));
        }
        if !replace && self.libs.contains_key(&name) {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let chunk = self
            .sb
            .lua
            .load(&code[offset..])
            .set_name("@user_function")
            .set_mode(mlua::ChunkMode::Text)
            .set_environment(self.sb.globals.clone())
            .into_function()
            .map_err(|e| format!("ERR Error compiling function: {}", lua_error_text(&e)))?;
        let defs = self.run_body(&chunk)?;
        if defs.is_empty() {
            return Err("ERR No functions registered".into());
        }
        for d in &defs {
            if let Some(owner) = self.funcs.get(&d.name.to_ascii_lowercase()) {
                if *owner != name {
                    return Err(format!("ERR Function {} already exists", d.name));
                }
            }
        }
        self.delete_lib(&name);
        let mut lib = Library {
            name: name.clone(),
            code: Bytes::copy_from_slice(code),
            functions: BTreeMap::new(),
        };
        for d in defs {
            let key = d.name.to_ascii_lowercase();
            self.funcs.insert(key.clone(), name.clone());
            lib.functions.insert(key, d);
        }
        self.libs.insert(name.clone(), lib);
        Ok(name)
    }

    /// Runs a library body in the load environment; its registered functions.
    fn run_body(&mut self, chunk: &Function) -> Result<Vec<FunctionDef>, String> {
        let lua = &self.sb.lua;
        let set_index: Function = self
            .sb
            .private
            .get("set_index")
            .map_err(|e| e.to_string())?;
        set_index
            .call::<()>((&self.sb.globals, &self.load_env))
            .map_err(|e| e.to_string())?;
        lua.set_app_data(Pending::default());
        let start = Instant::now();
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(crate::HOOK_INSTRUCTIONS / 10),
            move |_, _| {
                if start.elapsed() > LOAD_TIMEOUT {
                    return Err(mlua::Error::external(LoadTimeout));
                }
                Ok(VmState::Continue)
            },
        );
        let r =
            self.sb
                .runner
                .call::<MultiValue>((chunk, &self.sb.handler, Value::Nil, Value::Nil));
        lua.remove_hook();
        let _ = set_index.call::<()>((&self.sb.globals, &self.sb.real));
        let pending = lua.remove_app_data::<Pending>().unwrap_or_default();
        let values = r.map_err(|e| format!("ERR Error registering functions: ERR {e}"))?;
        let mut it = values.into_iter();
        if matches!(it.next(), Some(Value::Boolean(true))) {
            return Ok(pending.0);
        }
        let msg = match it.next() {
            Some(Value::Table(t)) => match t.raw_get::<Value>("err") {
                Ok(Value::String(s)) => s.to_string_lossy(),
                _ => "ERR unknown error".into(),
            },
            _ => "ERR unknown error".into(),
        };
        Err(format!("ERR Error registering functions: {msg}"))
    }

    fn delete_lib(&mut self, name: &str) -> bool {
        match self.libs.remove(name) {
            Some(lib) => {
                for f in lib.functions.keys() {
                    self.funcs.remove(f);
                }
                true
            }
            None => false,
        }
    }

    /// FUNCTION DELETE.
    pub fn delete(&mut self, name: &[u8]) -> Result<(), String> {
        let name = String::from_utf8_lossy(name);
        if self.delete_lib(&name) {
            Ok(())
        } else {
            Err("ERR Library not found".into())
        }
    }

    /// FUNCTION RESTORE: installs the libraries of `codes` under `policy`, all or
    /// none. Every library is first compiled in a scratch engine (so a broken one
    /// changes nothing), then conflicts are checked as Redis checks them: with
    /// APPEND, library names first, then function names; with REPLACE, function
    /// names owned by libraries the payload does not replace.
    pub fn restore(&mut self, codes: &[&[u8]], policy: RestorePolicy) -> Result<(), String> {
        let mut scratch = FunctionEngine::new();
        for code in codes {
            scratch.load(code, false)?;
        }
        match policy {
            RestorePolicy::Flush => {}
            RestorePolicy::Append => {
                if let Some(name) = scratch.libs.keys().find(|n| self.libs.contains_key(*n)) {
                    return Err(format!("ERR Library {name} already exists"));
                }
                if let Some(f) = scratch.funcs.keys().find(|f| self.funcs.contains_key(*f)) {
                    return Err(format!(
                        "ERR Function {} already exists",
                        self.display_name(f)
                    ));
                }
            }
            RestorePolicy::Replace => {
                let taken = scratch.funcs.keys().find(|f| {
                    self.funcs
                        .get(*f)
                        .is_some_and(|owner| !scratch.libs.contains_key(owner))
                });
                if let Some(f) = taken {
                    return Err(format!(
                        "ERR Function {} already exists",
                        self.display_name(f)
                    ));
                }
            }
        }
        if policy == RestorePolicy::Flush {
            self.flush();
        }
        for lib in scratch.libs.values() {
            // Compiled once already: loading again cannot fail on the code, and the
            // checks above leave no name conflict.
            self.load(&lib.code, true)?;
        }
        Ok(())
    }

    /// A function's name as registered (the maps are keyed in lower case).
    fn display_name(&self, key: &str) -> String {
        self.funcs
            .get(key)
            .and_then(|lib| self.libs.get(lib))
            .and_then(|l| l.functions.get(key))
            .map(|d| d.name.clone())
            .unwrap_or_else(|| key.to_string())
    }

    /// FUNCTION FLUSH: every library goes, and the Lua state is rebuilt.
    pub fn flush(&mut self) {
        *self = FunctionEngine::new();
    }

    /// FCALL / FCALL_RO of `name` (the server checked it exists — "ERR Function not
    /// found" otherwise — and its flags).
    pub fn call(
        &mut self,
        name: &[u8],
        keys: &[Bytes],
        args: &[Bytes],
        host: &mut dyn Host,
    ) -> Outcome {
        let Some((_, def)) = self.function(name) else {
            return Outcome {
                reply: Frame::Error(Bytes::from_static(b"ERR Function not found")),
                error_already_counted: false,
            };
        };
        let func = def.func.clone();
        let fname = def.name.clone();
        let lua = &self.sb.lua;
        let tables = (|| -> mlua::Result<(Table, Table)> {
            Ok((
                lua.create_sequence_from(keys.iter().map(|b| mlua::String::wrap(b.as_ref())))?,
                lua.create_sequence_from(args.iter().map(|b| mlua::String::wrap(b.as_ref())))?,
            ))
        })();
        match tables {
            Ok((k, a)) => run(
                &self.sb,
                host,
                &func,
                &fname,
                Value::Table(k),
                Value::Table(a),
            ),
            Err(e) => Outcome {
                reply: Frame::Error(Bytes::from(format!("ERR {e}"))),
                error_already_counted: false,
            },
        }
    }

    /// FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern] (arguments after LIST): the
    /// reply, or the error text.
    pub fn list(&self, args: &[Bytes]) -> Result<Frame, String> {
        let mut withcode = false;
        let mut pattern: Option<&[u8]> = None;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a.eq_ignore_ascii_case(b"withcode") && !withcode {
                withcode = true;
            } else if a.eq_ignore_ascii_case(b"libraryname") && pattern.is_none() {
                i += 1;
                match args.get(i) {
                    Some(p) => pattern = Some(p),
                    None => return Err("ERR library name argument was not given".into()),
                }
            } else {
                return Err(format!(
                    "ERR Unknown argument {}",
                    String::from_utf8_lossy(a)
                ));
            }
            i += 1;
        }
        let bulk = |s: &str| Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()));
        let mut out = Vec::new();
        for lib in self.libs.values() {
            if let Some(p) = pattern {
                if !shoal_ds::glob::glob_match(p, lib.name.as_bytes(), false) {
                    continue;
                }
            }
            let funcs = lib
                .functions
                .values()
                .map(|f| {
                    Frame::Map(vec![
                        (bulk("name"), bulk(&f.name)),
                        (
                            bulk("description"),
                            f.description.clone().map_or(Frame::Null, Frame::Bulk),
                        ),
                        (
                            bulk("flags"),
                            Frame::Set(
                                f.flags
                                    .names()
                                    .into_iter()
                                    .map(|n| Frame::Simple(Bytes::from_static(n.as_bytes())))
                                    .collect(),
                            ),
                        ),
                    ])
                })
                .collect();
            let mut m = vec![
                (bulk("library_name"), bulk(&lib.name)),
                (bulk("engine"), bulk("LUA")),
                (bulk("functions"), Frame::Array(funcs)),
            ];
            if withcode {
                m.push((bulk("library_code"), Frame::Bulk(lib.code.clone())));
            }
            out.push(Frame::Map(m));
        }
        Ok(Frame::Array(out))
    }

    /// FUNCTION STATS; `running` is the running function's name, its command line and
    /// the milliseconds it has run (the server knows).
    pub fn stats(&self, running: Option<(&str, &[Bytes], i64)>) -> Frame {
        stats_frame(running, self.libs.len(), self.funcs.len())
    }

    /// Memory used by the functions' Lua state (INFO `used_memory_vm_functions`).
    pub fn lua_memory(&self) -> usize {
        self.sb.lua.used_memory()
    }
}

/// The FUNCTION STATS reply from its parts, so that the server can answer while a
/// function runs (and holds the engine) from counts it kept.
pub fn stats_frame(
    running: Option<(&str, &[Bytes], i64)>,
    libraries: usize,
    functions: usize,
) -> Frame {
    let bulk = |s: &str| Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()));
    let running = match running {
        None => Frame::Null,
        Some((name, argv, ms)) => Frame::Map(vec![
            (bulk("name"), bulk(name)),
            (
                bulk("command"),
                Frame::Array(argv.iter().cloned().map(Frame::Bulk).collect()),
            ),
            (bulk("duration_ms"), Frame::Integer(ms)),
        ]),
    };
    Frame::Map(vec![
        (bulk("running_script"), running),
        (
            bulk("engines"),
            Frame::Map(vec![(
                bulk("LUA"),
                Frame::Map(vec![
                    (bulk("libraries_count"), Frame::Integer(libraries as i64)),
                    (bulk("functions_count"), Frame::Integer(functions as i64)),
                ]),
            )]),
        ),
    ])
}

impl Default for FunctionEngine {
    fn default() -> Self {
        FunctionEngine::new()
    }
}

/// The globals a library body sees while it loads.
fn load_env(sb: &Sandbox) -> mlua::Result<Table> {
    let lua = &sb.lua;
    let missing: Table = sb.private.get("missing_mt")?;
    let readonly: Function = sb.private.get("readonly")?;
    let wrap: Function = sb.private.get("wrap")?;
    let marker: Table = lua.named_registry_value("shoal.E")?;
    let redis = lua.create_table()?;
    set_constants(&redis)?;
    redis.raw_set(
        "register_function",
        wrap.call::<Function>((rawfn(lua, register_function)?, &marker))?,
    )?;
    let log = rawfn(lua, |_, args| {
        // No client is attached to a load: validate, and drop the message.
        crate::redislib::log_args(&args)?;
        Ok(MultiValue::new())
    })?;
    redis.raw_set("log", wrap.call::<Function>((log, &marker))?)?;
    redis.set_metatable(Some(missing.clone()));
    let env = lua.create_table()?;
    env.raw_set("redis", readonly.call::<Table>(redis)?)?;
    env.set_metatable(Some(missing));
    Ok(env)
}

fn lua_is_string(v: &Value) -> Option<Vec<u8>> {
    crate::redislib::to_lstring(v)
}

fn register_function(lua: &mlua::Lua, args: MultiValue) -> Result<MultiValue, LuaErr> {
    let (name, callback, flags, description) = match args.len() {
        1 => {
            let Value::Table(t) = &args[0] else {
                return Err(LuaErr::table(
                    "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
                ));
            };
            let mut name = None;
            let mut callback = None;
            let mut flags = ScriptFlags::default();
            let mut description = None;
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let key = lua_is_string(&k).unwrap_or_default();
                match key.as_slice() {
                    b"function_name" => {
                        name = Some(lua_is_string(&v).ok_or_else(|| {
                            LuaErr::table("function_name argument given to redis.register_function must be a string")
                        })?)
                    }
                    b"callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => {
                            return Err(LuaErr::table(
                                "callback argument given to redis.register_function must be a function",
                            ))
                        }
                    },
                    b"flags" => {
                        let Value::Table(ft) = v else {
                            return Err(LuaErr::table(
                                "flags argument to redis.register_function must be a table representing function flags",
                            ));
                        };
                        for f in ft.sequence_values::<Value>() {
                            let f = f?;
                            let ok = match &f {
                                Value::String(s) => flags.set(&s.as_bytes()),
                                _ => false,
                            };
                            if !ok {
                                return Err(LuaErr::table("unknown flag given"));
                            }
                        }
                    }
                    b"description" => {
                        description = Some(lua_is_string(&v).ok_or_else(|| {
                            LuaErr::table("description argument given to redis.register_function must be a string")
                        })?)
                    }
                    _ => return Err(LuaErr::table("unknown argument given to redis.register_function")),
                }
            }
            let Some(name) = name else {
                return Err(LuaErr::table(
                    "redis.register_function must get a function name argument",
                ));
            };
            let Some(callback) = callback else {
                return Err(LuaErr::table(
                    "redis.register_function must get a callback argument",
                ));
            };
            (name, callback, flags, description)
        }
        2 => {
            let name = lua_is_string(&args[0]).ok_or_else(|| {
                LuaErr::table("first argument to redis.register_function must be a string")
            })?;
            let Value::Function(f) = &args[1] else {
                return Err(LuaErr::table(
                    "second argument to redis.register_function must be a function",
                ));
            };
            (name, f.clone(), ScriptFlags::default(), None)
        }
        _ => {
            return Err(LuaErr::table(
                "wrong number of arguments to redis.register_function",
            ))
        }
    };
    if !valid_name(&name) {
        // Redis 7.0 reports bad function names with the library-name text.
        return Err(LuaErr::table(NAME_RULE));
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    let Some(mut pending) = lua.app_data_mut::<Pending>() else {
        return Err(LuaErr::table(
            "redis.register_function can only be called on FUNCTION LOAD command",
        ));
    };
    if pending.0.iter().any(|d| d.name.eq_ignore_ascii_case(&name)) {
        return Err(LuaErr::table("Function already exists in the library"));
    }
    let flags = ScriptFlags {
        has_shebang: true,
        ..flags
    };
    pending.0.push(FunctionDef {
        name,
        description: description.map(Bytes::from),
        flags,
        func: callback,
    });
    Ok(one(Value::Nil))
}

/// Splits FCALL / EVAL arguments after the script: `numkeys key... arg...`. `fcall`
/// selects FCALL's text for a non-integer count.
pub fn split_keys(args: &[Bytes], fcall: bool) -> Result<(&[Bytes], &[Bytes]), &'static str> {
    let Some(first) = args.first() else {
        return Err("ERR wrong number of arguments");
    };
    let n: i64 = std::str::from_utf8(first)
        .ok()
        .filter(|s| !(s.starts_with('+') || (s.len() > 1 && s.starts_with('0'))))
        .and_then(|s| s.parse().ok())
        .ok_or(if fcall {
            "ERR Bad number of keys provided"
        } else {
            "ERR value is not an integer or out of range"
        })?;
    if n < 0 {
        return Err("ERR Number of keys can't be negative");
    }
    let rest = &args[1..];
    if n as u64 > rest.len() as u64 {
        return Err("ERR Number of keys can't be greater than number of args");
    }
    Ok(rest.split_at(n as usize))
}

#[cfg(test)]
#[path = "functions_tests.rs"]
mod tests;
