//! Redis's conversions between replies and Lua values, both directions, and the
//! writing of a script's result to a client.
//!
//! Reply -> Lua (`redis.call` results; RESP3 forms only arrive after
//! `redis.setresp(3)`): integer -> number, bulk -> string, null -> `false` (RESP2) or
//! `nil` (RESP3), array -> table, status -> `{ok=s}`, error -> `{err=s}`, map ->
//! `{map={k=v}}`, set -> `{set={m=true}}`, double -> `{double=n}`, big number ->
//! `{big_number=s}`, verbatim -> `{verbatim_string={format=f, string=s}}`, boolean ->
//! boolean; attributes are dropped.
//!
//! Lua -> reply (a script's return value): number -> integer (C truncation), string
//! -> bulk, `true` -> `1` (or RESP3 true after `setresp(3)`), `false` -> null bulk (or
//! RESP3 false), table -> the first of `err`, `ok`, `double`, `big_number`, `map`,
//! `set`, `verbatim_string` present with the right type, else an array of `t[1..]`
//! up to the first nil; anything else -> null.

use bytes::Bytes;
use mlua::{Lua, Table, Value};
use shoal_resp::{double_text, Frame, ReplyWriter};

use crate::errors::normalize_error;
use crate::numfmt::lua_number_to_reply_int;

/// Nesting depth past which a returned table is cut with "reached lua stack limit"
/// (Redis reaches its Lua C-stack limit near 8000 levels; a smaller bound keeps the
/// conversion's recursion shallow).
pub const MAX_REPLY_DEPTH: usize = 1000;

/// Converts a command reply to the Lua value `redis.call` returns.
/// `resp3`: the script asked for RESP3 (nulls become `nil` instead of `false`).
pub fn frame_to_lua(lua: &Lua, f: &Frame, resp3: bool) -> mlua::Result<Value> {
    Ok(match f {
        Frame::Simple(s) => {
            let t = lua.create_table()?;
            t.raw_set("ok", lua.create_string(s)?)?;
            Value::Table(t)
        }
        Frame::Error(e) => {
            let mut text = Vec::with_capacity(e.len() + 1);
            text.push(b'-');
            text.extend_from_slice(e);
            let t = lua.create_table()?;
            t.raw_set("err", lua.create_string(normalize_error(&text))?)?;
            Value::Table(t)
        }
        Frame::Integer(n) => Value::Number(*n as f64),
        Frame::Bulk(b) => Value::String(lua.create_string(b)?),
        Frame::Null | Frame::NullArray if resp3 => Value::Nil,
        Frame::Null | Frame::NullArray => Value::Boolean(false),
        Frame::Array(items) | Frame::Push(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, frame_to_lua(lua, item, resp3)?)?;
            }
            Value::Table(t)
        }
        Frame::Map(pairs) => {
            let inner = lua.create_table_with_capacity(0, pairs.len())?;
            for (k, v) in pairs {
                let k = frame_to_lua(lua, k, resp3)?;
                let v = frame_to_lua(lua, v, resp3)?;
                if !matches!(k, Value::Nil) {
                    inner.raw_set(k, v)?;
                }
            }
            wrap1(lua, "map", Value::Table(inner))?
        }
        Frame::Set(items) => {
            let inner = lua.create_table_with_capacity(0, items.len())?;
            for item in items {
                let k = frame_to_lua(lua, item, resp3)?;
                if !matches!(k, Value::Nil) {
                    inner.raw_set(k, true)?;
                }
            }
            wrap1(lua, "set", Value::Table(inner))?
        }
        Frame::Double(text) => {
            let d = parse_double(text);
            wrap1(lua, "double", Value::Number(d))?
        }
        Frame::Boolean(b) => Value::Boolean(*b),
        Frame::BigNumber(s) => wrap1(lua, "big_number", Value::String(lua.create_string(s)?))?,
        Frame::Verbatim { format, text } => {
            let inner = lua.create_table()?;
            inner.raw_set("format", lua.create_string(format)?)?;
            inner.raw_set("string", lua.create_string(text)?)?;
            wrap1(lua, "verbatim_string", Value::Table(inner))?
        }
        Frame::Attribute(_, v) => frame_to_lua(lua, v, resp3)?,
    })
}

fn wrap1(lua: &Lua, key: &str, v: Value) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(key, v)?;
    Ok(Value::Table(t))
}

fn parse_double(text: &[u8]) -> f64 {
    let s = std::str::from_utf8(text).unwrap_or("nan");
    match s {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => s.parse().unwrap_or(f64::NAN),
    }
}

/// Converts a script's return value to its reply. `resp3` is the script's
/// `redis.setresp(3)` (it only changes how booleans are returned). Iterative, so a
/// deeply nested (or self-referencing) table costs heap, not stack.
pub fn lua_to_frame(v: &Value, resp3: bool) -> Frame {
    enum Open {
        Array(Vec<Frame>),
        Map(Vec<(Frame, Frame)>, Option<Frame>),
        Set(Vec<Frame>),
    }
    enum Step {
        Leaf(Frame),
        Open(Open, Vec<Value>),
    }
    // Containers being filled, each with the values still to convert (reversed).
    let mut stack: Vec<(Open, Vec<Value>)> = Vec::new();
    let mut next = Some(v.clone());
    loop {
        let depth = stack.len();
        let step = match next.take() {
            Some(v) => match classify(&v, resp3, depth) {
                Ok(f) => Step::Leaf(f),
                Err((open, mut children)) => {
                    children.reverse();
                    Step::Open(open, children)
                }
            },
            None => match stack.pop() {
                Some((open, children)) => Step::Open(open, children),
                None => return Frame::Null,
            },
        };
        let mut done = match step {
            Step::Leaf(f) => f,
            Step::Open(open, mut children) => match children.pop() {
                Some(child) => {
                    stack.push((open, children));
                    next = Some(child);
                    continue;
                }
                None => close(open),
            },
        };
        // Attach `done` to its parent; parents that become complete close in turn.
        loop {
            let Some((open, children)) = stack.last_mut() else {
                return done;
            };
            match open {
                Open::Array(items) | Open::Set(items) => items.push(done),
                Open::Map(pairs, key) => match key.take() {
                    None => *key = Some(done),
                    Some(k) => pairs.push((k, done)),
                },
            }
            if let Some(child) = children.pop() {
                next = Some(child);
                break;
            }
            let (open, _) = stack.pop().expect("non-empty");
            done = close(open);
        }
    }

    fn close(open: Open) -> Frame {
        match open {
            Open::Array(items) => Frame::Array(items),
            Open::Set(items) => Frame::Set(items),
            Open::Map(pairs, _) => Frame::Map(pairs),
        }
    }

    /// A leaf frame, or a container to open with its child values in order.
    #[allow(clippy::result_large_err)]
    fn classify(v: &Value, resp3: bool, depth: usize) -> Result<Frame, (Open, Vec<Value>)> {
        let t = match v {
            Value::Table(t) => t,
            other => return Ok(scalar(other, resp3)),
        };
        if depth >= MAX_REPLY_DEPTH {
            return Ok(Frame::Error(Bytes::from_static(
                b"ERR reached lua stack limit",
            )));
        }
        if let Value::String(s) = get(t, "err") {
            return Ok(Frame::Error(Bytes::copy_from_slice(&s.as_bytes())));
        }
        if let Value::String(s) = get(t, "ok") {
            return Ok(Frame::Simple(Bytes::copy_from_slice(&s.as_bytes())));
        }
        match get(t, "double") {
            Value::Number(n) => {
                return Ok(Frame::Double(Bytes::copy_from_slice(
                    double_text(n).as_bytes(),
                )))
            }
            Value::Integer(n) => {
                return Ok(Frame::Double(Bytes::copy_from_slice(
                    double_text(n as f64).as_bytes(),
                )))
            }
            _ => {}
        }
        if let Value::String(s) = get(t, "big_number") {
            return Ok(Frame::BigNumber(Bytes::copy_from_slice(&s.as_bytes())));
        }
        if let Value::Table(m) = get(t, "map") {
            let mut children = Vec::new();
            for (k, v) in m.pairs::<Value, Value>().flatten() {
                children.push(k);
                children.push(v);
            }
            return Err((Open::Map(Vec::new(), None), children));
        }
        if let Value::Table(s) = get(t, "set") {
            let children: Vec<Value> = s
                .pairs::<Value, Value>()
                .flatten()
                .map(|(k, _)| k)
                .collect();
            return Err((Open::Set(Vec::new()), children));
        }
        if let Value::Table(v) = get(t, "verbatim_string") {
            if let (Value::String(f), Value::String(s)) = (get(&v, "format"), get(&v, "string")) {
                return Ok(Frame::Verbatim {
                    format: Bytes::copy_from_slice(&f.as_bytes()),
                    text: Bytes::copy_from_slice(&s.as_bytes()),
                });
            }
        }
        let mut children = Vec::new();
        for i in 1.. {
            let v = t.raw_get::<Value>(i).unwrap_or(Value::Nil);
            if matches!(v, Value::Nil) {
                break;
            }
            children.push(v);
        }
        Err((Open::Array(Vec::new()), children))
    }
}

fn scalar(v: &Value, resp3: bool) -> Frame {
    match v {
        Value::String(s) => Frame::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Boolean(b) => match (resp3, b) {
            (true, b) => Frame::Boolean(*b),
            (false, true) => Frame::Integer(1),
            (false, false) => Frame::Null,
        },
        Value::Integer(n) => Frame::Integer(*n),
        Value::Number(n) => Frame::Integer(lua_number_to_reply_int(*n)),
        _ => Frame::Null,
    }
}

fn get(t: &Table, k: &str) -> Value {
    t.raw_get::<Value>(k).unwrap_or(Value::Nil)
}

/// Writes a script's result for the client's protocol (RESP3 forms are downgraded
/// for RESP2 clients by the writer, as Redis does).
pub fn write_frame(f: &Frame, w: &mut ReplyWriter) {
    match f {
        Frame::Simple(s) => w.simple_bytes(s),
        Frame::Error(e) => {
            // The writer drops one leading '-'; Redis writes `-` + the text as is.
            if e.first() == Some(&b'-') {
                let mut t = Vec::with_capacity(e.len() + 1);
                t.push(b'-');
                t.extend_from_slice(e);
                w.error_bytes(&t);
            } else {
                w.error_bytes(e);
            }
        }
        Frame::Integer(n) => w.int(*n),
        Frame::Bulk(b) => w.bulk(b),
        Frame::Null => w.null(),
        Frame::NullArray => w.null_array(),
        Frame::Array(items) | Frame::Push(items) => {
            w.array(items.len());
            for i in items {
                write_frame(i, w);
            }
        }
        Frame::Map(pairs) => {
            w.map(pairs.len());
            for (k, v) in pairs {
                write_frame(k, w);
                write_frame(v, w);
            }
        }
        Frame::Set(items) => {
            w.set(items.len());
            for i in items {
                write_frame(i, w);
            }
        }
        Frame::Double(t) => w.double(parse_double(t)),
        Frame::Boolean(b) => w.boolean(*b),
        Frame::BigNumber(s) => w.big_number(&String::from_utf8_lossy(s)),
        Frame::Verbatim { format, text } => w.verbatim(&String::from_utf8_lossy(format), text),
        Frame::Attribute(_, v) => write_frame(v, w),
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
