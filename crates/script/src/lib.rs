//! `shoal-script`: Redis 7.0's scripting, EVAL scripts and FUNCTION libraries, on an
//! embedded Lua 5.1 (mlua, vendored). It knows nothing of the keyspace: the server
//! implements [`Host`] to run the commands scripts call, and writes the resulting
//! [`Outcome`] with [`write_frame`].
//!
//! | module | owns |
//! |---|---|
//! | [`host`] | the [`Host`] trait (redis.call, log, set_repl, kill checks) |
//! | [`eval`] | [`ScriptEngine`]: the EVAL state and the SHA1 script cache |
//! | [`functions`] | [`FunctionEngine`]: libraries, FUNCTION subcommand data, FCALL |
//! | [`shebang`] | script flags, `#!lua` lines, name rules |
//! | [`convert`] | reply <-> Lua conversion rules, writing results |
//! | [`errors`] | error texts and the error-reply format |
//! | `sandbox`, `run`, `redislib` | the protected globals, running under a host, the `redis` library |
//! | `cjson`, `cmsgpack`, `bitop`, `structlib` | the other libraries scripts see |
//! | `numfmt` | `%.14g` and the double -> integer cast |
//! | `mathrand` | `math.random` / `math.randomseed` on Redis's process-wide rand48 |

pub mod convert;
pub mod errors;
pub mod eval;
pub mod functions;
pub mod host;
pub mod shebang;

mod bitop;
mod cjson;
mod cmsgpack;
mod cwrap;
mod libs;
mod mathrand;
mod numfmt;
mod redislib;
mod run;
mod sandbox;
mod structlib;

pub use convert::{frame_to_lua, lua_to_frame, write_frame};
pub use eval::{Script, ScriptEngine};
pub use functions::FunctionEngine;
pub use host::*;
pub use redislib::{sha1hex, REDIS_VERSION};
pub use run::{Outcome, HOOK_INSTRUCTIONS};
pub use shebang::ScriptFlags;

#[cfg(test)]
mod eval_tests;
#[cfg(test)]
mod testing;
