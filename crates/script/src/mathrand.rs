//! `math.random` and `math.randomseed` as Redis replaces them: a process-wide rand48
//! generator (the POSIX `lrand48` recurrence, 48-bit state), shared by every Lua
//! state and never reset by SCRIPT FLUSH, so the sequence a client sees depends
//! only on how many numbers scripts drew since the server started (or since the
//! last `math.randomseed`). That makes scripts' random numbers reproducible across
//! two servers fed the same commands, as Redis's are.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use mlua::{Lua, MultiValue, Table, Value};

use crate::cjson::type_name;
use crate::errors::LuaErr;
use crate::redislib::{one, rawfn};

/// rand48's multiplier and addend; the state is 48 bits.
const A: u64 = 0x5_DEEC_E66D;
const C: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;
/// rand48's default state (`srand48` never called).
const DEFAULT: u64 = 0x1234_ABCD_330E;
/// The divisor turning a draw into [0, 1).
const LRAND48_MAX: u64 = i32::MAX as u64;

static STATE: AtomicU64 = AtomicU64::new(DEFAULT);

/// `lrand48()`: the next 31-bit value. (Only one script runs at a time; the
/// update loop only guards against tests running engines in parallel.)
fn lrand48() -> u64 {
    let mut x = STATE.load(Relaxed);
    loop {
        let next = (x.wrapping_mul(A).wrapping_add(C)) & MASK;
        match STATE.compare_exchange_weak(x, next, Relaxed, Relaxed) {
            Ok(_) => return next >> 17,
            Err(cur) => x = cur,
        }
    }
}

/// `srand48(seed)`: the high 32 bits of the state from the seed, low 16 fixed.
fn srand48(seed: i32) {
    STATE.store(((seed as u32 as u64) << 16) | 0x330E, Relaxed);
}

/// `luaL_checkint`: a number (or numeric string) truncated to a C int.
fn check_int(args: &MultiValue, i: usize, f: &str) -> Result<i32, LuaErr> {
    let v = args.get(i).cloned().unwrap_or(Value::Nil);
    let n = match &v {
        Value::Integer(n) => *n as f64,
        Value::Number(n) => *n,
        Value::String(s) => crate::cjson::parse_lua_number(&s.as_bytes()).ok_or_else(|| {
            LuaErr::arg(i + 1, f, &format!("number expected, got {}", type_name(&v)))
        })?,
        _ => {
            let got = if matches!(v, Value::Nil) {
                "no value"
            } else {
                type_name(&v)
            };
            return Err(LuaErr::arg(
                i + 1,
                f,
                &format!("number expected, got {got}"),
            ));
        }
    };
    Ok(crate::numfmt::lua_number_to_reply_int(n) as i32)
}

fn random(_: &Lua, args: MultiValue) -> Result<MultiValue, LuaErr> {
    let r = (lrand48() % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
    let v = match args.len() {
        0 => r,
        1 => {
            let u = check_int(&args, 0, "random")?;
            if u < 1 {
                return Err(LuaErr::arg(1, "random", "interval is empty"));
            }
            (r * u as f64).floor() + 1.0
        }
        2 => {
            let l = check_int(&args, 0, "random")?;
            let u = check_int(&args, 1, "random")?;
            if l > u {
                return Err(LuaErr::arg(2, "random", "interval is empty"));
            }
            (r * (u as f64 - l as f64 + 1.0)).floor() + l as f64
        }
        _ => return Err(LuaErr::msg("wrong number of arguments")),
    };
    Ok(one(Value::Number(v)))
}

fn randomseed(_: &Lua, args: MultiValue) -> Result<MultiValue, LuaErr> {
    srand48(check_int(&args, 0, "randomseed")?);
    Ok(MultiValue::new())
}

/// Replaces `math.random` / `math.randomseed` in `math` (the real table), wrapped
/// with `wrap` (the sandbox's error-raising wrapper).
pub(crate) fn install(lua: &Lua, math: &Table, wrap: &mlua::Function) -> mlua::Result<()> {
    let marker: Table = lua.named_registry_value("shoal.E")?;
    math.raw_set(
        "random",
        wrap.call::<mlua::Function>((rawfn(lua, random)?, &marker))?,
    )?;
    math.raw_set(
        "randomseed",
        wrap.call::<mlua::Function>((rawfn(lua, randomseed)?, &marker))?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand48_sequence() {
        // The recurrence from a seeded state.
        let step = |x: u64| (x.wrapping_mul(A).wrapping_add(C)) & MASK;
        let seeded = ((7u32 as u64) << 16) | 0x330E;
        let r = (step(seeded) >> 17) % LRAND48_MAX;
        // Redis: `math.randomseed(7); return math.random(1000000)` -> 266445.
        let v = ((r as f64 / LRAND48_MAX as f64) * 1e6).floor() + 1.0;
        assert_eq!(v, 266445.0);
    }
}
