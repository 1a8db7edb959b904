//! The `cjson` library (lua-cjson 2.1 as Redis bundles it): `encode`, `decode`,
//! `null` and the configuration functions.
//!
//! Encoding: numbers with `%.14g` (NaN/Inf refused), strings escaped as cjson does
//! (`/` as `\/`, control bytes and DEL as `\u00XX`, other bytes raw), a table whose
//! keys are all positive integers is an array (holes become `null`; "excessively
//! sparse" arrays are refused), any other table an object, the empty table `{}`.
//! Decoding: C `strtod` numbers (hex, `inf`, `nan` accepted, as Redis's build does),
//! `\u` escapes to UTF-8 with surrogate pairs, `null` to the `cjson.null` light
//! userdata; error texts and character positions as cjson's.

use mlua::{ffi, LightUserData, Lua, MultiValue, Table, Value};

use crate::errors::LuaErr;
use crate::numfmt::fmt_g;
use crate::redislib::{one, rawfn};

/// Settings changed by `cjson.encode_max_depth` and friends (per state).
#[derive(Clone, Debug)]
struct Config {
    encode_max_depth: i64,
    decode_max_depth: i64,
    sparse_convert: bool,
    sparse_ratio: i64,
    sparse_safe: i64,
    precision: usize,
    keep_buffer: bool,
    encode_invalid_numbers: bool,
    decode_invalid_numbers: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            precision: 14,
            keep_buffer: true,
            encode_invalid_numbers: false,
            decode_invalid_numbers: true,
        }
    }
}

fn config(lua: &Lua) -> Config {
    lua.app_data_ref::<Config>()
        .map(|c| c.clone())
        .unwrap_or_default()
}

fn update(lua: &Lua, f: impl FnOnce(&mut Config)) {
    if lua.app_data_ref::<Config>().is_none() {
        lua.set_app_data(Config::default());
    }
    if let Some(mut c) = lua.app_data_mut::<Config>() {
        f(&mut c);
    }
}

/// `cjson.null`.
pub(crate) fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// Its address marks a -0 argument of `cjson.encode` (the C wrapper in cwrap.rs
/// swaps the number for it, since mlua would pass it as the integer 0).
static NEGATIVE_ZERO: u8 = 0;

fn negative_zero() -> LightUserData {
    LightUserData(std::ptr::addr_of!(NEGATIVE_ZERO) as *mut std::ffi::c_void)
}

/// Whether `t[key]` (raw) is the number -0. mlua reads an integral number of a
/// Lua 5.1 state as an integer, so a zero's sign is only visible on the C side.
fn stored_negative_zero(lua: &Lua, t: &Table, key: Value) -> mlua::Result<bool> {
    // SAFETY: exec_raw runs the closure in a frame holding exactly the two pushed
    // arguments; it replaces them with one boolean.
    unsafe {
        lua.exec_raw::<bool>((t, key), |state| {
            ffi::lua_rawget(state, 1);
            let neg = ffi::lua_type(state, -1) == ffi::LUA_TNUMBER && {
                let d = ffi::lua_tonumber(state, -1);
                d == 0.0 && d.is_sign_negative()
            };
            ffi::lua_pop(state, 2);
            ffi::lua_pushboolean(state, i32::from(neg));
        })
    }
}

pub(crate) fn lib(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    t.raw_set("null", null())?;
    // Functions whose -0 arguments the wrapper replaces by a marker (prelude.lua).
    let negzero = lua.create_table()?;
    negzero.raw_set("encode", negative_zero())?;
    t.raw_set("__negzero", negzero)?;
    t.raw_set(
        "encode",
        rawfn(lua, |lua, args| {
            if args.len() != 1 {
                return Err(LuaErr::arg(1, "encode", "expected 1 argument"));
            }
            let cfg = config(lua);
            let mut out = Vec::new();
            encode(lua, &cfg, &args[0], &mut out)?;
            Ok(one(Value::String(lua.create_string(out)?)))
        })?,
    )?;
    t.raw_set(
        "decode",
        rawfn(lua, |lua, args| {
            if args.len() != 1 {
                return Err(LuaErr::arg(1, "decode", "expected 1 argument"));
            }
            let text = match crate::redislib::to_lstring(&args[0]) {
                Some(s) => s,
                None => {
                    return Err(LuaErr::arg(
                        1,
                        "decode",
                        &format!("string expected, got {}", type_name(&args[0])),
                    ))
                }
            };
            if text.len() >= 2 && (text[0] == 0 || text[1] == 0) {
                return Err(LuaErr::msg("JSON parser does not support UTF-16 or UTF-32"));
            }
            let cfg = config(lua);
            let mut p = Parser {
                lua,
                s: &text,
                pos: 0,
                depth: 0,
                cfg: &cfg,
            };
            let v = p.document()?;
            Ok(one(v))
        })?,
    )?;
    t.raw_set(
        "encode_max_depth",
        rawfn(lua, |lua, args| {
            if let Some(n) = int_arg(&args, 0) {
                update(lua, |c| c.encode_max_depth = n.max(1));
            }
            Ok(one(Value::Integer(config(lua).encode_max_depth)))
        })?,
    )?;
    t.raw_set(
        "decode_max_depth",
        rawfn(lua, |lua, args| {
            if let Some(n) = int_arg(&args, 0) {
                update(lua, |c| c.decode_max_depth = n.max(1));
            }
            Ok(one(Value::Integer(config(lua).decode_max_depth)))
        })?,
    )?;
    t.raw_set(
        "encode_number_precision",
        rawfn(lua, |lua, args| {
            if let Some(n) = int_arg(&args, 0) {
                if !(1..=14).contains(&n) {
                    return Err(LuaErr::arg(
                        1,
                        "encode_number_precision",
                        "expected integer between 1 and 14",
                    ));
                }
                update(lua, |c| c.precision = n as usize);
            }
            Ok(one(Value::Integer(config(lua).precision as i64)))
        })?,
    )?;
    t.raw_set(
        "encode_sparse_array",
        rawfn(lua, |lua, args| {
            if let Some(Value::Boolean(b)) = args.front() {
                update(lua, |c| c.sparse_convert = *b);
            }
            if let Some(n) = int_arg(&args, 1) {
                update(lua, |c| c.sparse_ratio = n.max(0));
            }
            if let Some(n) = int_arg(&args, 2) {
                update(lua, |c| c.sparse_safe = n.max(0));
            }
            let c = config(lua);
            Ok(MultiValue::from_vec(vec![
                Value::Boolean(c.sparse_convert),
                Value::Integer(c.sparse_ratio),
                Value::Integer(c.sparse_safe),
            ]))
        })?,
    )?;
    t.raw_set(
        "encode_keep_buffer",
        rawfn(lua, |lua, args| {
            if let Some(Value::Boolean(b)) = args.front() {
                update(lua, |c| c.keep_buffer = *b);
            }
            Ok(one(Value::Boolean(config(lua).keep_buffer)))
        })?,
    )?;
    t.raw_set(
        "encode_invalid_numbers",
        rawfn(lua, |lua, args| {
            if let Some(Value::Boolean(b)) = args.front() {
                update(lua, |c| c.encode_invalid_numbers = *b);
            }
            Ok(one(Value::Boolean(config(lua).encode_invalid_numbers)))
        })?,
    )?;
    t.raw_set(
        "decode_invalid_numbers",
        rawfn(lua, |lua, args| {
            if let Some(Value::Boolean(b)) = args.front() {
                update(lua, |c| c.decode_invalid_numbers = *b);
            }
            Ok(one(Value::Boolean(config(lua).decode_invalid_numbers)))
        })?,
    )?;
    t.raw_set(
        "new",
        rawfn(lua, |lua, _| {
            let real: Table = lua.named_registry_value("shoal.R")?;
            Ok(one(real.raw_get("cjson")?))
        })?,
    )?;
    Ok(t)
}

fn int_arg(args: &MultiValue, i: usize) -> Option<i64> {
    match args.get(i) {
        Some(Value::Integer(n)) => Some(*n),
        Some(Value::Number(n)) => Some(*n as i64),
        _ => None,
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

fn encode_number(cfg: &Config, n: f64, out: &mut Vec<u8>) -> Result<(), LuaErr> {
    if !n.is_finite() && !cfg.encode_invalid_numbers {
        return Err(LuaErr::msg(
            "Cannot serialise number: must not be NaN or Inf",
        ));
    }
    out.extend_from_slice(fmt_g(n, cfg.precision).as_bytes());
    Ok(())
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// The array length of `t` if every key is a positive integer (0 if empty), `None`
/// for an object; an error for an excessively sparse array.
fn array_length(cfg: &Config, t: &Table) -> Result<Option<i64>, LuaErr> {
    let mut max = 0f64;
    let mut items = 0i64;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let k = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if k.floor() != k || k < 1.0 {
            return Ok(None);
        }
        if k > max {
            max = k;
        }
        items += 1;
    }
    if cfg.sparse_ratio > 0
        && max > (items * cfg.sparse_ratio) as f64
        && max > cfg.sparse_safe as f64
    {
        if !cfg.sparse_convert {
            return Err(LuaErr::msg(
                "Cannot serialise table: excessively sparse array",
            ));
        }
        return Ok(None);
    }
    Ok(Some(max as i64))
}

/// Encodes `root` into `out`. Iterative (a stack of pending jobs) so deep tables cost
/// heap, not the thread's stack.
fn encode(lua: &Lua, cfg: &Config, root: &Value, out: &mut Vec<u8>) -> Result<(), LuaErr> {
    enum Job {
        Value(Value, i64),
        Key(Value),
        Lit(&'static [u8]),
    }
    let mut jobs = vec![Job::Value(root.clone(), 0)];
    while let Some(job) = jobs.pop() {
        let (v, depth) = match job {
            Job::Lit(b) => {
                out.extend_from_slice(b);
                continue;
            }
            Job::Key(k) => {
                match &k {
                    Value::String(s) => encode_string(&s.as_bytes(), out),
                    Value::Integer(i) => {
                        out.push(b'"');
                        encode_number(cfg, *i as f64, out)?;
                        out.push(b'"');
                    }
                    Value::Number(n) => {
                        out.push(b'"');
                        encode_number(cfg, *n, out)?;
                        out.push(b'"');
                    }
                    other => {
                        return Err(LuaErr::msg(format!(
                            "Cannot serialise {}: table key must be a number or string",
                            type_name(other)
                        )))
                    }
                }
                out.push(b':');
                continue;
            }
            Job::Value(v, depth) => (v, depth),
        };
        match &v {
            Value::Nil => out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
            Value::LightUserData(p) if *p == negative_zero() => encode_number(cfg, -0.0, out)?,
            Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Integer(i) => encode_number(cfg, *i as f64, out)?,
            Value::Number(n) => encode_number(cfg, *n, out)?,
            Value::String(s) => encode_string(&s.as_bytes(), out),
            Value::Table(t) => {
                let depth = depth + 1;
                if depth > cfg.encode_max_depth {
                    return Err(LuaErr::msg(format!(
                        "Cannot serialise, excessive nesting ({depth})"
                    )));
                }
                match array_length(cfg, t)? {
                    Some(len) if len > 0 => {
                        out.push(b'[');
                        jobs.push(Job::Lit(b"]"));
                        for i in (1..=len).rev() {
                            let mut v: Value = t.raw_get(i)?;
                            if v == Value::Integer(0)
                                && stored_negative_zero(lua, t, Value::Integer(i))?
                            {
                                v = Value::Number(-0.0);
                            }
                            jobs.push(Job::Value(v, depth));
                            if i > 1 {
                                jobs.push(Job::Lit(b","));
                            }
                        }
                    }
                    _ => {
                        out.push(b'{');
                        jobs.push(Job::Lit(b"}"));
                        let pairs: Vec<(Value, Value)> =
                            t.pairs::<Value, Value>().collect::<mlua::Result<_>>()?;
                        let n = pairs.len();
                        for (idx, (k, mut val)) in pairs.into_iter().enumerate().rev() {
                            if val == Value::Integer(0) && stored_negative_zero(lua, t, k.clone())?
                            {
                                val = Value::Number(-0.0);
                            }
                            jobs.push(Job::Value(val, depth));
                            jobs.push(Job::Key(k));
                            if idx > 0 && idx < n {
                                jobs.push(Job::Lit(b","));
                            }
                        }
                    }
                }
            }
            other => {
                return Err(LuaErr::msg(format!(
                    "Cannot serialise {}: type not supported",
                    type_name(other)
                )))
            }
        }
    }
    Ok(())
}

/// The longest prefix of `s` that C's `strtod` accepts: its value and length.
pub(crate) fn strtod_prefix(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let lower = |n: usize| rest.get(..n).map(|p| p.to_ascii_lowercase());
    if lower(8).as_deref() == Some(b"infinity") {
        return Some((sign * f64::INFINITY, i + 8));
    }
    if lower(3).as_deref() == Some(b"inf") {
        return Some((sign * f64::INFINITY, i + 3));
    }
    if lower(3).as_deref() == Some(b"nan") {
        let mut n = i + 3;
        if s.get(n) == Some(&b'(') {
            if let Some(close) = s[n..].iter().position(|&c| c == b')') {
                if s[n + 1..n + close]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    n += close + 1;
                }
            }
        }
        return Some((f64::NAN, n));
    }
    if rest.len() >= 3
        && rest[0] == b'0'
        && (rest[1] | 0x20) == b'x'
        && (rest[2].is_ascii_hexdigit()
            || (rest[2] == b'.' && rest.get(3).is_some_and(|c| c.is_ascii_hexdigit())))
    {
        let mut j = 2;
        let mut mant = 0f64;
        let mut exp = 0i64;
        while j < rest.len() && rest[j].is_ascii_hexdigit() {
            mant = mant * 16.0 + (rest[j] as char).to_digit(16).unwrap_or(0) as f64;
            j += 1;
        }
        if rest.get(j) == Some(&b'.') {
            j += 1;
            while j < rest.len() && rest[j].is_ascii_hexdigit() {
                mant = mant * 16.0 + (rest[j] as char).to_digit(16).unwrap_or(0) as f64;
                exp -= 4;
                j += 1;
            }
        }
        if rest.get(j).is_some_and(|c| c | 0x20 == b'p') {
            let mut k = j + 1;
            let eneg = match rest.get(k) {
                Some(b'-') => {
                    k += 1;
                    true
                }
                Some(b'+') => {
                    k += 1;
                    false
                }
                _ => false,
            };
            let start = k;
            let mut e = 0i64;
            while k < rest.len() && rest[k].is_ascii_digit() {
                e = (e * 10 + (rest[k] - b'0') as i64).min(100_000);
                k += 1;
            }
            if k > start {
                exp += if eneg { -e } else { e };
                j = k;
            }
        }
        return Some((
            sign * mant * 2f64.powi(exp.clamp(-100_000, 100_000) as i32),
            i + j,
        ));
    }
    let mut j = 0;
    let mut digits = 0;
    while j < rest.len() && rest[j].is_ascii_digit() {
        j += 1;
        digits += 1;
    }
    if rest.get(j) == Some(&b'.') {
        j += 1;
        while j < rest.len() && rest[j].is_ascii_digit() {
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if rest.get(j).is_some_and(|c| c | 0x20 == b'e') {
        let mut k = j + 1;
        if matches!(rest.get(k), Some(b'+') | Some(b'-')) {
            k += 1;
        }
        if rest.get(k).is_some_and(|c| c.is_ascii_digit()) {
            while k < rest.len() && rest[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&rest[..j]).ok()?;
    let text = text.strip_suffix('.').unwrap_or(text);
    let v: f64 = if text.starts_with('.') {
        format!("0{text}").parse().ok()?
    } else {
        text.parse().ok()?
    };
    Some((sign * v, i + j))
}

/// Lua's string-to-number conversion (`tonumber`, arithmetic on strings): `strtod`,
/// or a hex integer, with surrounding whitespace.
pub(crate) fn parse_lua_number(s: &[u8]) -> Option<f64> {
    let ws = |c: &u8| c.is_ascii_whitespace();
    let start = s.iter().position(|c| !ws(c))?;
    let t = &s[start..];
    let (v, n) = strtod_prefix(t)?;
    if t[n..].iter().all(ws) {
        Some(v)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool,
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num => "T_NUMBER",
            Tok::Bool => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(m) => m,
        }
    }
}

struct Parser<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    pos: usize,
    depth: i64,
    cfg: &'a Config,
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        // cjson reads a C string: the first NUL ends the input.
        self.s.get(i).copied().unwrap_or(0)
    }

    /// Next token: (kind, its start index, its value).
    fn next(&mut self) -> (Tok, usize, Value) {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let c = self.at(start);
        let simple = |t| (t, start, Value::Nil);
        match c {
            0 => simple(Tok::End),
            b'{' => {
                self.pos += 1;
                simple(Tok::ObjBegin)
            }
            b'}' => {
                self.pos += 1;
                simple(Tok::ObjEnd)
            }
            b'[' => {
                self.pos += 1;
                simple(Tok::ArrBegin)
            }
            b']' => {
                self.pos += 1;
                simple(Tok::ArrEnd)
            }
            b':' => {
                self.pos += 1;
                simple(Tok::Colon)
            }
            b',' => {
                self.pos += 1;
                simple(Tok::Comma)
            }
            b'"' => self.string(),
            b'-' | b'0'..=b'9' => self.number(start),
            _ => {
                let rest = &self.s[start..];
                if rest.starts_with(b"true") {
                    self.pos += 4;
                    (Tok::Bool, start, Value::Boolean(true))
                } else if rest.starts_with(b"false") {
                    self.pos += 5;
                    (Tok::Bool, start, Value::Boolean(false))
                } else if rest.starts_with(b"null") {
                    self.pos += 4;
                    (Tok::Null, start, null())
                } else if self.cfg.decode_invalid_numbers && invalid_number(rest) {
                    self.number(start)
                } else {
                    (Tok::Error("invalid token"), start, Value::Nil)
                }
            }
        }
    }

    fn number(&mut self, start: usize) -> (Tok, usize, Value) {
        let end = self
            .s
            .iter()
            .skip(start)
            .position(|&c| c == 0)
            .map_or(self.s.len(), |n| start + n);
        match strtod_prefix(&self.s[start..end]) {
            Some((v, n)) => {
                self.pos = start + n;
                (Tok::Num, start, Value::Number(v))
            }
            None => (Tok::Error("invalid number"), start, Value::Nil),
        }
    }

    fn string(&mut self) -> (Tok, usize, Value) {
        let start = self.pos;
        self.pos += 1;
        let mut buf = Vec::new();
        loop {
            let c = self.at(self.pos);
            if c == b'"' {
                break;
            }
            if c == 0 {
                return (Tok::Error("unexpected end of string"), self.pos, Value::Nil);
            }
            if c == b'\\' {
                let e = self.at(self.pos + 1);
                let ch = match e {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 8,
                    b'f' => 12,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'u' => match self.unicode_escape(&mut buf) {
                        Some(()) => continue,
                        None => {
                            return (
                                Tok::Error("invalid unicode escape code"),
                                self.pos,
                                Value::Nil,
                            )
                        }
                    },
                    _ => return (Tok::Error("invalid escape code"), self.pos, Value::Nil),
                };
                buf.push(ch);
                self.pos += 2;
                continue;
            }
            buf.push(c);
            self.pos += 1;
        }
        self.pos += 1;
        match self.lua.create_string(buf) {
            Ok(s) => (Tok::Str, start, Value::String(s)),
            Err(_) => (Tok::Error("out of memory"), start, Value::Nil),
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            v = v * 16 + (self.at(at + i) as char).to_digit(16)?;
        }
        Some(v)
    }

    /// `\uXXXX` (and a following low surrogate) at `pos`, appended as UTF-8.
    fn unicode_escape(&mut self, buf: &mut Vec<u8>) -> Option<()> {
        let mut cp = self.hex4(self.pos + 2)?;
        let mut len = 6;
        if (0xdc00..=0xdfff).contains(&cp) {
            return None;
        }
        if (0xd800..=0xdbff).contains(&cp) {
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return None;
            }
            let lo = self.hex4(self.pos + 8)?;
            if !(0xdc00..=0xdfff).contains(&lo) {
                return None;
            }
            cp = (((cp & 0x3ff) << 10) | (lo & 0x3ff)) + 0x10000;
            len = 12;
        }
        let ch = char::from_u32(cp)?;
        let mut tmp = [0u8; 4];
        buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
        self.pos += len;
        Some(())
    }

    fn fail(&self, expected: &str, tok: Tok, at: usize) -> LuaErr {
        LuaErr::msg(format!(
            "Expected {expected} but found {} at character {}",
            tok.name(),
            at + 1
        ))
    }

    /// Parses the whole input. Iterative (an explicit stack of open containers), so
    /// nesting costs heap, not the thread's stack.
    fn document(&mut self) -> Result<Value, LuaErr> {
        enum Open {
            Arr(Table, i64),
            Obj(Table, Value),
        }
        let mut stack: Vec<Open> = Vec::new();
        let (mut tok, mut at, mut tv) = self.next();
        loop {
            // Expecting a value: `tok`.
            let mut v = match tok {
                Tok::Str | Tok::Num | Tok::Bool | Tok::Null => {
                    std::mem::replace(&mut tv, Value::Nil)
                }
                Tok::ObjBegin => {
                    self.enter(at)?;
                    let t = self.lua.create_table()?;
                    let (ktok, kat, kv) = self.next();
                    if ktok == Tok::ObjEnd {
                        self.depth -= 1;
                        Value::Table(t)
                    } else {
                        let key = self.key(ktok, kat, kv)?;
                        stack.push(Open::Obj(t, key));
                        (tok, at, tv) = self.next();
                        continue;
                    }
                }
                Tok::ArrBegin => {
                    self.enter(at)?;
                    let t = self.lua.create_table()?;
                    let (ntok, nat, nv) = self.next();
                    if ntok == Tok::ArrEnd {
                        self.depth -= 1;
                        Value::Table(t)
                    } else {
                        stack.push(Open::Arr(t, 1));
                        (tok, at, tv) = (ntok, nat, nv);
                        continue;
                    }
                }
                other => return Err(self.fail("value", other, at)),
            };
            // A complete value: attach it to its container, closing containers.
            loop {
                match stack.last_mut() {
                    None => {
                        let (etok, eat, _) = self.next();
                        if etok != Tok::End {
                            return Err(self.fail("the end", etok, eat));
                        }
                        return Ok(v);
                    }
                    Some(Open::Arr(t, i)) => {
                        t.raw_set(*i, v)?;
                        *i += 1;
                        let (ntok, nat, _) = self.next();
                        match ntok {
                            Tok::ArrEnd => {}
                            Tok::Comma => {
                                (tok, at, tv) = self.next();
                                break;
                            }
                            other => return Err(self.fail("comma or array end", other, nat)),
                        }
                    }
                    Some(Open::Obj(t, key)) => {
                        t.raw_set(std::mem::replace(key, Value::Nil), v)?;
                        let (ntok, nat, _) = self.next();
                        match ntok {
                            Tok::ObjEnd => {}
                            Tok::Comma => {
                                let (ktok, kat, kv) = self.next();
                                *key = self.key(ktok, kat, kv)?;
                                (tok, at, tv) = self.next();
                                break;
                            }
                            other => return Err(self.fail("comma or object end", other, nat)),
                        }
                    }
                }
                // The container closed: it is the value to attach next.
                self.depth -= 1;
                v = match stack.pop() {
                    Some(Open::Arr(t, _)) | Some(Open::Obj(t, _)) => Value::Table(t),
                    None => Value::Nil,
                };
            }
        }
    }

    /// An object key and the colon after it.
    fn key(&mut self, tok: Tok, at: usize, v: Value) -> Result<Value, LuaErr> {
        if tok != Tok::Str {
            return Err(self.fail("object key string", tok, at));
        }
        let (ctok, cat, _) = self.next();
        if ctok != Tok::Colon {
            return Err(self.fail("colon", ctok, cat));
        }
        Ok(v)
    }

    fn enter(&mut self, at: usize) -> Result<(), LuaErr> {
        self.depth += 1;
        if self.depth > self.cfg.decode_max_depth {
            return Err(LuaErr::msg(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth,
                at + 1
            )));
        }
        Ok(())
    }
}

/// cjson's test for number forms JSON forbids (`+1`, hex, leading zeros, inf, nan).
fn invalid_number(s: &[u8]) -> bool {
    let mut p = s;
    if p.first() == Some(&b'+') {
        return true;
    }
    if p.first() == Some(&b'-') {
        p = &p[1..];
    }
    match p.first() {
        Some(b'0') => {
            let c2 = p.get(1).copied().unwrap_or(0);
            (c2 | 0x20) == b'x' || c2.is_ascii_digit()
        }
        Some(c) if *c <= b'9' => false,
        _ => {
            let l = |n: usize| p.get(..n).map(|x| x.to_ascii_lowercase());
            l(3).as_deref() == Some(b"inf") || l(3).as_deref() == Some(b"nan")
        }
    }
}

#[cfg(test)]
#[path = "cjson_tests.rs"]
mod tests;
