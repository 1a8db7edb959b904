//! The `cmsgpack` library (lua-cmsgpack as Redis bundles it): `pack(...)` concatenates
//! the encodings of its arguments; `unpack(s)` returns every object in `s`;
//! `unpack_one(s [, offset])` and `unpack_limit(s, n [, offset])` return the offset
//! after what they read (-1 at the end) followed by the objects.
//!
//! Encoding: integral numbers as the smallest MessagePack integer (positive values
//! unsigned), other numbers as float32 when exact, else float64; strings as
//! fixstr/str8/str16/str32; tables whose keys are exactly 1..n as arrays, others as
//! maps; nesting deeper than 16 and unsupported types as nil.

use mlua::{Lua, MultiValue, Table, Value};

use crate::cjson::type_name;
use crate::errors::LuaErr;
use crate::redislib::{one, rawfn};

const MAX_NESTING: usize = 16;

fn pack_len(out: &mut Vec<u8>, n: usize, fix: u8, fix_max: usize, codes: [u8; 3], eight_ok: bool) {
    if n <= fix_max {
        out.push(fix | n as u8);
    } else if eight_ok && n <= 0xff {
        out.push(codes[0]);
        out.push(n as u8);
    } else if n <= 0xffff {
        out.push(codes[1]);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(codes[2]);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn pack_number(out: &mut Vec<u8>, n: f64) {
    let i = n as i64;
    if i as f64 == n && n.is_finite() {
        if i >= 0 {
            let u = i as u64;
            if u < 128 {
                out.push(u as u8);
            } else if u <= 0xff {
                out.extend_from_slice(&[0xcc, u as u8]);
            } else if u <= 0xffff {
                out.push(0xcd);
                out.extend_from_slice(&(u as u16).to_be_bytes());
            } else if u <= 0xffff_ffff {
                out.push(0xce);
                out.extend_from_slice(&(u as u32).to_be_bytes());
            } else {
                out.push(0xcf);
                out.extend_from_slice(&u.to_be_bytes());
            }
        } else if i >= -32 {
            out.push(i as i8 as u8);
        } else if i >= -128 {
            out.extend_from_slice(&[0xd0, i as i8 as u8]);
        } else if i >= -32768 {
            out.push(0xd1);
            out.extend_from_slice(&(i as i16).to_be_bytes());
        } else if i >= -(1 << 31) {
            out.push(0xd2);
            out.extend_from_slice(&(i as i32).to_be_bytes());
        } else {
            out.push(0xd3);
            out.extend_from_slice(&i.to_be_bytes());
        }
    } else if (n as f32) as f64 == n || n.is_nan() {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The array length if the keys are exactly 1..n.
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
    let mut count = 0usize;
    let mut max = 0f64;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let k = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if k < 1.0 || k.floor() != k {
            return Ok(None);
        }
        max = max.max(k);
        count += 1;
    }
    Ok((max as usize == count).then_some(count))
}

fn pack_value(out: &mut Vec<u8>, v: &Value, level: usize) -> mlua::Result<()> {
    match v {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => pack_number(out, *i as f64),
        Value::Number(n) => pack_number(out, *n),
        Value::String(s) => {
            let s = s.as_bytes();
            pack_len(out, s.len(), 0xa0, 31, [0xd9, 0xda, 0xdb], true);
            out.extend_from_slice(&s);
        }
        Value::Table(t) if level < MAX_NESTING => match array_len(t)? {
            Some(n) => {
                pack_len(out, n, 0x90, 15, [0, 0xdc, 0xdd], false);
                for i in 1..=n {
                    pack_value(out, &t.raw_get::<Value>(i)?, level + 1)?;
                }
            }
            None => {
                let pairs: Vec<(Value, Value)> =
                    t.pairs::<Value, Value>().collect::<mlua::Result<_>>()?;
                pack_len(out, pairs.len(), 0x80, 15, [0, 0xde, 0xdf], false);
                for (k, v) in pairs {
                    pack_value(out, &k, level + 1)?;
                    pack_value(out, &v, level + 1)?;
                }
            }
        },
        _ => out.push(0xc0),
    }
    Ok(())
}

struct Reader<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    pos: usize,
}

enum DecodeErr {
    Missing,
    Bad,
    Lua(mlua::Error),
}

impl From<mlua::Error> for DecodeErr {
    fn from(e: mlua::Error) -> Self {
        DecodeErr::Lua(e)
    }
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeErr> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.s.len())
            .ok_or(DecodeErr::Missing)?;
        let b = &self.s[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    fn uint(&mut self, n: usize) -> Result<u64, DecodeErr> {
        Ok(self.take(n)?.iter().fold(0u64, |a, &b| (a << 8) | b as u64))
    }

    fn string(&mut self, n: usize) -> Result<Value, DecodeErr> {
        let b = self.take(n)?.to_vec();
        Ok(Value::String(self.lua.create_string(b)?))
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Value, DecodeErr> {
        let t = self.lua.create_table()?;
        for i in 1..=n {
            let v = self.value(depth + 1)?;
            t.raw_set(i, v)?;
        }
        Ok(Value::Table(t))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value, DecodeErr> {
        let t = self.lua.create_table()?;
        for _ in 0..n {
            let k = self.value(depth + 1)?;
            let v = self.value(depth + 1)?;
            if !matches!(k, Value::Nil) {
                t.raw_set(k, v)?;
            }
        }
        Ok(Value::Table(t))
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeErr> {
        // Nesting is bounded so a crafted payload cannot exhaust the stack.
        if depth > 256 {
            return Err(DecodeErr::Bad);
        }
        let c = self.take(1)?[0];
        Ok(match c {
            0x00..=0x7f => Value::Number(c as f64),
            0xe0..=0xff => Value::Number(c as i8 as f64),
            0xa0..=0xbf => self.string((c & 0x1f) as usize)?,
            0x90..=0x9f => self.array((c & 0x0f) as usize, depth)?,
            0x80..=0x8f => self.map((c & 0x0f) as usize, depth)?,
            0xc0 => Value::Nil,
            0xc2 => Value::Boolean(false),
            0xc3 => Value::Boolean(true),
            0xcc => Value::Number(self.uint(1)? as f64),
            0xcd => Value::Number(self.uint(2)? as f64),
            0xce => Value::Number(self.uint(4)? as f64),
            0xcf => Value::Number(self.uint(8)? as f64),
            0xd0 => Value::Number(self.uint(1)? as u8 as i8 as f64),
            0xd1 => Value::Number(self.uint(2)? as u16 as i16 as f64),
            0xd2 => Value::Number(self.uint(4)? as u32 as i32 as f64),
            0xd3 => Value::Number(self.uint(8)? as i64 as f64),
            0xca => Value::Number(f32::from_bits(self.uint(4)? as u32) as f64),
            0xcb => Value::Number(f64::from_bits(self.uint(8)?)),
            0xd9 | 0xc4 => {
                let n = self.uint(1)? as usize;
                self.string(n)?
            }
            0xda | 0xc5 => {
                let n = self.uint(2)? as usize;
                self.string(n)?
            }
            0xdb | 0xc6 => {
                let n = self.uint(4)? as usize;
                self.string(n)?
            }
            0xdc => {
                let n = self.uint(2)? as usize;
                self.array(n, depth)?
            }
            0xdd => {
                let n = self.uint(4)? as usize;
                self.array(n, depth)?
            }
            0xde => {
                let n = self.uint(2)? as usize;
                self.map(n, depth)?
            }
            0xdf => {
                let n = self.uint(4)? as usize;
                self.map(n, depth)?
            }
            _ => return Err(DecodeErr::Bad),
        })
    }
}

/// Decodes up to `limit` objects (0: all) from `offset`: the values and the offset
/// after them (-1 when the input is exhausted).
fn decode(lua: &Lua, s: &[u8], limit: usize, offset: usize) -> Result<(Vec<Value>, i64), LuaErr> {
    let mut r = Reader {
        lua,
        s,
        pos: offset,
    };
    let mut out = Vec::new();
    while r.pos < s.len() && (limit == 0 || out.len() < limit) {
        match r.value(0) {
            Ok(v) => out.push(v),
            Err(DecodeErr::Missing) => return Err(LuaErr::msg("Missing bytes in input.")),
            Err(DecodeErr::Bad) => return Err(LuaErr::msg("Bad data format in input.")),
            Err(DecodeErr::Lua(e)) => return Err(e.into()),
        }
    }
    let next = if r.pos >= s.len() { -1 } else { r.pos as i64 };
    Ok((out, next))
}

fn string_arg(args: &MultiValue, i: usize, f: &str) -> Result<Vec<u8>, LuaErr> {
    let v = args.get(i).cloned().unwrap_or(Value::Nil);
    crate::redislib::to_lstring(&v).ok_or_else(|| {
        let got = if matches!(v, Value::Nil) {
            "no value"
        } else {
            type_name(&v)
        };
        LuaErr::arg(i + 1, f, &format!("string expected, got {got}"))
    })
}

fn int_arg(args: &MultiValue, i: usize) -> usize {
    match args.get(i) {
        Some(Value::Integer(n)) => (*n).max(0) as usize,
        Some(Value::Number(n)) => n.max(0.0) as usize,
        _ => 0,
    }
}

pub(crate) fn lib(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    t.raw_set(
        "pack",
        rawfn(lua, |lua, args| {
            if args.is_empty() {
                return Err(LuaErr::arg(0, "pack", "MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for a in args.iter() {
                pack_value(&mut out, a, 0)?;
            }
            Ok(one(Value::String(lua.create_string(out)?)))
        })?,
    )?;
    t.raw_set(
        "unpack",
        rawfn(lua, |lua, args| {
            let s = string_arg(&args, 0, "unpack")?;
            let (vals, _) = decode(lua, &s, 0, 0)?;
            Ok(MultiValue::from_vec(vals))
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        rawfn(lua, |lua, args| {
            let s = string_arg(&args, 0, "unpack_one")?;
            let (mut vals, next) = decode(lua, &s, 1, int_arg(&args, 1))?;
            vals.insert(0, Value::Number(next as f64));
            Ok(MultiValue::from_vec(vals))
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        rawfn(lua, |lua, args| {
            let s = string_arg(&args, 0, "unpack_limit")?;
            let (mut vals, next) = decode(lua, &s, int_arg(&args, 1), int_arg(&args, 2))?;
            vals.insert(0, Value::Number(next as f64));
            Ok(MultiValue::from_vec(vals))
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use shoal_resp::Proto;

    #[test]
    fn matches_redis() {
        let hex = "local t = {cmsgpack.pack(1, 'a', {1,2}, {a=1}, true, nil, 1.5, -1, 300, 2^40, -40, -300, 70000, -70000, 2^33, -2^33, string.rep('x',40), 0.1)} local o = {} for i,v in ipairs(t) do o[i] = (v:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end return o";
        assert_eq!(wire(&eval(hex), Proto::Resp2), "*1\r\n$228\r\n01a16192010281a16101c3c0ca3fc00000ffcd012ccf0000010000000000d0d8d1fed4ce00011170d2fffeee90cf0000000200000000d3fffffffe00000000d92878787878787878787878787878787878787878787878787878787878787878787878787878787878cb3fb999999999999a\r\n");
        assert_eq!(
            wire(
                &eval("return {cmsgpack.unpack(cmsgpack.pack({1,2,{x='y'}}, 'z', 5.5))}"),
                Proto::Resp2
            ),
            "*3\r\n*3\r\n:1\r\n:2\r\n*0\r\n$1\r\nz\r\n:5\r\n"
        );
        assert!(err_text(&eval("return cmsgpack.pack()")).starts_with(
            "ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"
        ));
        assert!(err_text(&eval("return cmsgpack.unpack()")).starts_with(
            "ERR user_script:1: bad argument #1 to 'unpack' (string expected, got no value)"
        ));
        assert_eq!(
            wire(&eval("return {cmsgpack.unpack('')}"), Proto::Resp2),
            "*0\r\n"
        );
        assert_eq!(wire(&eval("return (cmsgpack.pack({[1]=1,[3]=3}):gsub('.', function(c) return string.format('%02x', c:byte()) end))"), Proto::Resp2), "$10\r\n8201010303\r\n");
        assert_eq!(
            wire(
                &eval("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}"),
                Proto::Resp2
            ),
            "*2\r\n:1\r\n:1\r\n"
        );
        assert_eq!(
            wire(
                &eval("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}"),
                Proto::Resp2
            ),
            "*3\r\n:2\r\n:1\r\n:2\r\n"
        );
        assert!(
            err_text(&eval("return cmsgpack.unpack(string.char(0x92, 1))"))
                .contains("Missing bytes in input.")
        );
    }
}
