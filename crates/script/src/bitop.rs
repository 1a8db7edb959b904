//! The `bit` library (LuaBitOp 1.0): 32-bit operations on Lua numbers. Arguments are
//! numbers or numeric strings, normalised as LuaBitOp does (round half to even,
//! modulo 2^32, the trick of adding 2^52 + 2^51 and keeping the low word).

use mlua::{Lua, MultiValue, Table, Value};

use crate::cjson::type_name;
use crate::errors::LuaErr;
use crate::redislib::{one, rawfn};

/// The 32-bit value of argument `i` (0-based) of `f`.
fn barg(args: &MultiValue, i: usize, f: &str) -> Result<i32, LuaErr> {
    let v = args.get(i).cloned().unwrap_or(Value::Nil);
    let n = match &v {
        Value::Integer(n) => *n as f64,
        Value::Number(n) => *n,
        Value::String(s) => {
            crate::cjson::parse_lua_number(&s.as_bytes()).ok_or_else(|| expected(i, f, &v))?
        }
        _ => return Err(expected(i, f, &v)),
    };
    Ok(tobit(n))
}

fn expected(i: usize, f: &str, v: &Value) -> LuaErr {
    let got = if matches!(v, Value::Nil) {
        "no value"
    } else {
        type_name(v)
    };
    LuaErr::arg(i + 1, f, &format!("number expected, got {got}"))
}

/// LuaBitOp's normalisation of a double to 32 bits.
pub(crate) fn tobit(n: f64) -> i32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

fn num(v: i32) -> MultiValue {
    one(Value::Number(v as f64))
}

pub(crate) fn lib(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("tobit", rawfn(lua, |_, a| Ok(num(barg(&a, 0, "tobit")?)))?)?;
    t.raw_set("bnot", rawfn(lua, |_, a| Ok(num(!barg(&a, 0, "bnot")?)))?)?;
    t.raw_set(
        "bswap",
        rawfn(lua, |_, a| Ok(num(barg(&a, 0, "bswap")?.swap_bytes())))?,
    )?;
    for (name, op) in [
        ("band", (|x, y| x & y) as fn(i32, i32) -> i32),
        ("bor", |x, y| x | y),
        ("bxor", |x, y| x ^ y),
    ] {
        t.raw_set(
            name,
            rawfn(lua, move |_, a| {
                let mut acc = barg(&a, 0, name)?;
                for i in 1..a.len() {
                    acc = op(acc, barg(&a, i, name)?);
                }
                Ok(num(acc))
            })?,
        )?;
    }
    for (name, op) in [
        (
            "lshift",
            (|x: i32, n: u32| ((x as u32) << n) as i32) as fn(i32, u32) -> i32,
        ),
        ("rshift", |x, n| ((x as u32) >> n) as i32),
        ("arshift", |x, n| x >> n),
        ("rol", |x, n| (x as u32).rotate_left(n) as i32),
        ("ror", |x, n| (x as u32).rotate_right(n) as i32),
    ] {
        t.raw_set(
            name,
            rawfn(lua, move |_, a| {
                let x = barg(&a, 0, name)?;
                let n = barg(&a, 1, name)? as u32 & 31;
                Ok(num(op(x, n)))
            })?,
        )?;
    }
    t.raw_set(
        "tohex",
        rawfn(lua, |lua, a| {
            let x = barg(&a, 0, "tohex")? as u32;
            let mut n = if a.len() > 1 && !matches!(a[1], Value::Nil) {
                barg(&a, 1, "tohex")?
            } else {
                8
            };
            let upper = n < 0;
            if upper {
                n = n.saturating_neg();
            }
            let n = n.min(8) as usize;
            let s = if upper {
                format!("{x:08X}")
            } else {
                format!("{x:08x}")
            };
            Ok(one(Value::String(lua.create_string(&s[8 - n..])?)))
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use shoal_resp::Frame;

    #[test]
    fn matches_redis() {
        let r = eval("return {bit.tobit(0xffffffff), bit.tohex(255), bit.tohex(-1, -4), bit.tohex(255, 2), bit.bnot(0), bit.band(7,3,1), bit.lshift(1,31), bit.rshift(-1,28), bit.arshift(-256,4), bit.rol(1,33), bit.ror(1,1), bit.bswap(0x12345678), bit.tobit(2^40+5), bit.tobit(1.5), bit.tobit(2.5), bit.tohex(1,0), bit.tohex(-1, 10), bit.tobit('12'), bit.bor(1), bit.tobit(-1.5), bit.tohex(65535, -2)}");
        assert_eq!(
            wire(&r, shoal_resp::Proto::Resp2),
            "*21\r\n:-1\r\n$8\r\n000000ff\r\n$4\r\nFFFF\r\n$2\r\nff\r\n:-1\r\n:1\r\n:-2147483648\r\n:15\r\n:-16\r\n:2\r\n:-2147483648\r\n:2018915346\r\n:5\r\n:2\r\n:2\r\n$0\r\n\r\n$8\r\nffffffff\r\n:12\r\n:1\r\n:-2\r\n$2\r\nFF\r\n"
        );
        let b = "return bit.tohex('x')";
        assert_eq!(err_text(&eval(b)), format!("ERR user_script:1: bad argument #1 to 'tohex' (number expected, got string) script: {}, on @user_script:1.", sha(b)));
        assert!(
            matches!(eval("return bit.band()"), Frame::Error(e) if e.starts_with(b"ERR user_script:1: bad argument #1 to 'band' (number expected, got no value)"))
        );
    }
}
