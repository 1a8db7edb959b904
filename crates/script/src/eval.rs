//! The EVAL engine: one sandboxed Lua state and the script cache (SHA1 of the body
//! -> compiled function, Redis's `f_<sha>`), for EVAL, EVALSHA, EVAL_RO,
//! EVALSHA_RO and SCRIPT LOAD / EXISTS / FLUSH.
//!
//! Invariant: every cached script was compiled in the current state; FLUSH replaces
//! the state and the cache together (as Redis does, freeing everything scripts
//! left behind).

use std::collections::HashMap;

use bytes::Bytes;
use mlua::{Function, Value};

use crate::run::{install_idle, run, Outcome};
use crate::sandbox::{self, Sandbox};
use crate::shebang::{parse_eval_body, ScriptFlags};
use crate::{libs, Host};

/// A cached script.
#[derive(Debug)]
pub struct Script {
    /// Lowercase hex SHA1 of the whole body (shebang included).
    pub sha: String,
    pub body: Bytes,
    pub flags: ScriptFlags,
    func: Function,
}

/// The EVAL scripting engine.
pub struct ScriptEngine {
    sb: Sandbox,
    scripts: HashMap<String, Script>,
    body_bytes: usize,
}

/// The globals proxied read-only in both engines.
pub(crate) const READONLY_LIBS: &[&str] = &[
    "string",
    "math",
    "table",
    "coroutine",
    "redis",
    "cjson",
    "cmsgpack",
    "bit",
    "struct",
];

/// A state with every library, for EVAL scripts (and function runtimes).
pub(crate) fn script_sandbox() -> mlua::Result<Sandbox> {
    let lua = sandbox::new_lua()?;
    let libs = libs::all(&lua)?;
    let sb = sandbox::build(&libs, lua)?;
    install_idle(&sb.lua, &sb.private)?;
    let redis: mlua::Table = sb.real.raw_get("redis")?;
    let wrap: Function = sb.private.get("wrap")?;
    let make_wrapper: Function = sb.private.get("make_wrapper")?;
    let marker: mlua::Table = sb.lua.named_registry_value("shoal.E")?;
    let math: mlua::Table = sb.real.raw_get("math")?;
    crate::mathrand::install(&sb.lua, &math, &wrap)?;
    for name in crate::redislib::DYNAMIC {
        let dispatch = sb.lua.create_function(move |lua, args: mlua::MultiValue| {
            let private: mlua::Table = lua.named_registry_value("shoal.H")?;
            let f: Function = private.raw_get(*name)?;
            f.call::<mlua::MultiValue>(args)
        })?;
        // redis.call / redis.pcall format -0.0 arguments as "-0" (see cwrap.rs).
        let keep_neg_zero = matches!(*name, "call" | "pcall");
        let f: Function = make_wrapper.call((dispatch, &marker, keep_neg_zero))?;
        redis.raw_set(*name, f)?;
    }
    Ok(sb)
}

impl ScriptEngine {
    /// A fresh engine with an empty cache.
    pub fn new() -> ScriptEngine {
        let sb = script_sandbox().expect("building the Lua sandbox cannot fail");
        // EVAL scripts see the error handler as a global, as in Redis 7.0.
        sb.real
            .raw_set("__redis__err__handler", sb.handler.clone())
            .expect("setting a global");
        sandbox::finalize(&sb, READONLY_LIBS).expect("sandbox finalize");
        ScriptEngine {
            sb,
            scripts: HashMap::new(),
            body_bytes: 0,
        }
    }

    /// Compiles `body` into the cache unless already there (SCRIPT LOAD, and the
    /// first step of EVAL). Returns the SHA1, or the error reply text (shebang errors,
    /// "ERR Error compiling script (new function): user_script:1: ...").
    pub fn load(&mut self, body: &[u8]) -> Result<String, String> {
        let sha = crate::redislib::sha1hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, offset) = parse_eval_body(body)?;
        if body.get(offset) == Some(&0x1b) {
            // Redis's Lua never loads bytecode: it lexes the chunk as source, where
            // ESC is the first (unexpected) token.
            return Err(
                "ERR Error compiling script (new function): user_script:1: unexpected symbol near 'char(27)'"
                    .into(),
            );
        }
        let func = self
            .sb
            .lua
            .load(&body[offset..])
            .set_name("@user_script")
            .set_mode(mlua::ChunkMode::Text)
            .set_environment(self.sb.globals.clone())
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling script (new function): {}",
                    lua_error_text(&e)
                )
            })?;
        self.body_bytes += body.len();
        self.scripts.insert(
            sha.clone(),
            Script {
                sha: sha.clone(),
                body: Bytes::copy_from_slice(body),
                flags,
                func,
            },
        );
        Ok(sha)
    }

    /// The cached script with this SHA1 (any case).
    pub fn get(&self, sha: &[u8]) -> Option<&Script> {
        let key = std::str::from_utf8(sha).ok()?.to_ascii_lowercase();
        self.scripts.get(&key)
    }

    /// SCRIPT EXISTS for one SHA1.
    pub fn exists(&self, sha: &[u8]) -> bool {
        self.get(sha).is_some()
    }

    /// Number of cached scripts (INFO `number_of_cached_scripts`).
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Bytes of cached bodies (INFO `used_memory_scripts_eval` approximation).
    pub fn body_bytes(&self) -> usize {
        self.body_bytes
    }

    /// Memory used by the Lua state (INFO `used_memory_lua`).
    pub fn lua_memory(&self) -> usize {
        self.sb.lua.used_memory()
    }

    /// SCRIPT FLUSH: a new state and an empty cache.
    pub fn flush(&mut self) {
        *self = ScriptEngine::new();
    }

    /// Runs the cached script `sha` with `KEYS` and `ARGV`. The server has already
    /// checked the script exists ([`NOSCRIPT`](crate::errors::NOSCRIPT) otherwise) and
    /// its flags against the command (EVAL_RO, OOM, stale replica...).
    pub fn run(
        &mut self,
        sha: &[u8],
        keys: &[Bytes],
        args: &[Bytes],
        host: &mut dyn Host,
    ) -> Outcome {
        let Some(script) = self.get(sha) else {
            return Outcome {
                reply: shoal_resp::Frame::Error(Bytes::from_static(
                    crate::errors::NOSCRIPT.as_bytes(),
                )),
                error_already_counted: false,
            };
        };
        let func = script.func.clone();
        let name = script.sha.clone();
        if let Err(e) = self.set_keys_argv(keys, args) {
            return Outcome {
                reply: shoal_resp::Frame::Error(Bytes::from(format!("ERR {e}"))),
                error_already_counted: false,
            };
        }
        run(&self.sb, host, &func, &name, Value::Nil, Value::Nil)
    }

    fn set_keys_argv(&self, keys: &[Bytes], args: &[Bytes]) -> mlua::Result<()> {
        let lua = &self.sb.lua;
        let k = lua.create_sequence_from(keys.iter().map(|b| mlua::String::wrap(b.as_ref())))?;
        let a = lua.create_sequence_from(args.iter().map(|b| mlua::String::wrap(b.as_ref())))?;
        self.sb.real.raw_set("KEYS", k)?;
        self.sb.real.raw_set("ARGV", a)?;
        Ok(())
    }
}

impl Default for ScriptEngine {
    fn default() -> Self {
        ScriptEngine::new()
    }
}

/// The message of a Lua compile error as Lua wrote it (`user_script:1: ...`).
pub(crate) fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
