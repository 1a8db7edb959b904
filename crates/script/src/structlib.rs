//! The `struct` library (Roberto Ierusalimschy's Lua struct as Redis bundles it):
//! `pack`, `unpack`, `size` with the format letters `> < = ! x b B h H l L T i I f d
//! c s` and optional sizes / alignment, little-endian native order, 8-byte `long`
//! and `size_t`, at most 32-byte integers.

use mlua::{Lua, MultiValue, Table, Value};

use crate::cjson::type_name;
use crate::errors::LuaErr;
use crate::redislib::{one, rawfn, to_lstring};

const MAX_INT_SIZE: usize = 32;
const MAX_ALIGN: usize = 8;

#[derive(Clone, Copy)]
struct Header {
    little: bool,
    align: usize,
}

/// One parsed option: letter and size.
struct Opt {
    letter: u8,
    size: usize,
}

struct Format<'a> {
    f: &'a [u8],
    i: usize,
    h: Header,
}

impl Format<'_> {
    fn num(&mut self, default: usize) -> usize {
        if !self.f.get(self.i).is_some_and(|c| c.is_ascii_digit()) {
            return default;
        }
        let mut n: usize = 0;
        while let Some(c) = self.f.get(self.i).filter(|c| c.is_ascii_digit()) {
            n = n.saturating_mul(10).saturating_add((c - b'0') as usize);
            self.i += 1;
        }
        n
    }

    /// The next data option (header options are applied), or `None` at the end.
    fn next(&mut self, fname: &str) -> Result<Option<Opt>, LuaErr> {
        loop {
            let Some(&c) = self.f.get(self.i) else {
                return Ok(None);
            };
            self.i += 1;
            let size = match c {
                b' ' => continue,
                b'>' => {
                    self.h.little = false;
                    continue;
                }
                b'<' | b'=' => {
                    self.h.little = true;
                    continue;
                }
                b'!' => {
                    let a = self.num(MAX_ALIGN);
                    if !a.is_power_of_two() {
                        return Err(LuaErr::msg(format!("alignment {a} is not a power of 2")));
                    }
                    self.h.align = a;
                    continue;
                }
                b'x' | b'b' | b'B' => 1,
                b'h' | b'H' => 2,
                b'l' | b'L' | b'T' | b'd' => 8,
                b'f' => 4,
                b'i' | b'I' => {
                    let n = self.num(4);
                    if n > MAX_INT_SIZE {
                        return Err(LuaErr::msg(format!(
                            "integral size {n} is larger than limit of {MAX_INT_SIZE}"
                        )));
                    }
                    n
                }
                b'c' => self.num(1),
                b's' => 0,
                other => {
                    return Err(LuaErr::arg(
                        1,
                        fname,
                        &format!("invalid format option '{}'", other as char),
                    ))
                }
            };
            return Ok(Some(Opt { letter: c, size }));
        }
    }

    /// Padding before an option at offset `len`.
    fn pad(&self, opt: &Opt, len: usize) -> usize {
        if opt.size <= 1 || opt.letter == b'c' {
            return 0;
        }
        let align = opt.size.min(self.h.align);
        (align - (len & (align - 1))) & (align - 1)
    }
}

fn format(f: &[u8]) -> Format<'_> {
    Format {
        f,
        i: 0,
        h: Header {
            little: true,
            align: 1,
        },
    }
}

fn check_number(args: &MultiValue, i: usize, fname: &str) -> Result<f64, LuaErr> {
    let v = args.get(i).cloned().unwrap_or(Value::Nil);
    match &v {
        Value::Integer(n) => Ok(*n as f64),
        Value::Number(n) => Ok(*n),
        Value::String(s) => {
            crate::cjson::parse_lua_number(&s.as_bytes()).ok_or_else(|| bad(i, fname, "number", &v))
        }
        _ => Err(bad(i, fname, "number", &v)),
    }
}

fn check_string(args: &MultiValue, i: usize, fname: &str) -> Result<Vec<u8>, LuaErr> {
    let v = args.get(i).cloned().unwrap_or(Value::Nil);
    to_lstring(&v).ok_or_else(|| bad(i, fname, "string", &v))
}

fn bad(i: usize, fname: &str, want: &str, v: &Value) -> LuaErr {
    let got = if matches!(v, Value::Nil) {
        "no value"
    } else {
        type_name(v)
    };
    LuaErr::arg(i + 1, fname, &format!("{want} expected, got {got}"))
}

fn put_int(out: &mut Vec<u8>, n: f64, size: usize, little: bool) {
    let v: u64 = if n < 0.0 { (n as i64) as u64 } else { n as u64 };
    let fill = if n < 0.0 { 0xff } else { 0 };
    let mut bytes: Vec<u8> = (0..size)
        .map(|i| if i < 8 { (v >> (8 * i)) as u8 } else { fill })
        .collect();
    if !little {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
}

fn pack(lua: &Lua, args: MultiValue) -> Result<MultiValue, LuaErr> {
    let fmt = check_string(&args, 0, "pack")?;
    let mut f = format(&fmt);
    let mut out = Vec::new();
    let mut arg = 1;
    while let Some(opt) = f.next("pack")? {
        let pad = f.pad(&opt, out.len());
        out.resize(out.len() + pad, 0);
        let little = f.h.little;
        match opt.letter {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(&args, arg, "pack")?;
                arg += 1;
                put_int(&mut out, n, opt.size, little);
            }
            b'x' => out.push(0),
            b'f' => {
                let n = check_number(&args, arg, "pack")? as f32;
                arg += 1;
                out.extend_from_slice(&if little {
                    n.to_le_bytes()
                } else {
                    n.to_be_bytes()
                });
            }
            b'd' => {
                let n = check_number(&args, arg, "pack")?;
                arg += 1;
                out.extend_from_slice(&if little {
                    n.to_le_bytes()
                } else {
                    n.to_be_bytes()
                });
            }
            b'c' | b's' => {
                let s = check_string(&args, arg, "pack")?;
                arg += 1;
                if opt.letter == b's' {
                    out.extend_from_slice(&s);
                    out.push(0);
                } else {
                    let size = if opt.size == 0 { s.len() } else { opt.size };
                    if s.len() < size {
                        // struct.c checks the argument after the string (its index
                        // was already advanced): Redis reports that position.
                        return Err(LuaErr::arg(arg + 1, "pack", "string too short"));
                    }
                    out.extend_from_slice(&s[..size]);
                }
            }
            _ => {}
        }
    }
    Ok(one(Value::String(lua.create_string(out)?)))
}

fn unpack(lua: &Lua, args: MultiValue) -> Result<MultiValue, LuaErr> {
    let fmt = check_string(&args, 0, "unpack")?;
    let data = check_string(&args, 1, "unpack")?;
    let init = match args.get(2) {
        None | Some(Value::Nil) => 1.0,
        Some(_) => check_number(&args, 2, "unpack")?,
    };
    let mut pos = (init as i64 - 1).max(0) as usize;
    if pos > data.len() {
        return Err(LuaErr::arg(3, "unpack", "offset must be 1..n"));
    }
    let mut f = format(&fmt);
    let mut out: Vec<Value> = Vec::new();
    let short = || LuaErr::arg(2, "unpack", "data string too short");
    while let Some(opt) = f.next("unpack")? {
        pos += f.pad(&opt, pos);
        let little = f.h.little;
        let mut size = opt.size;
        if opt.letter == b'c' && size == 0 {
            match out.pop() {
                Some(Value::Number(n)) => size = n.max(0.0) as usize,
                Some(Value::Integer(n)) => size = n.max(0) as usize,
                _ => return Err(LuaErr::msg("format 'c0' needs a previous size")),
            }
        }
        if opt.letter == b's' {
            let Some(end) = data.get(pos..).and_then(|d| d.iter().position(|&b| b == 0)) else {
                return Err(LuaErr::msg("unfinished string in data"));
            };
            out.push(Value::String(lua.create_string(&data[pos..pos + end])?));
            pos += end + 1;
            continue;
        }
        if pos.checked_add(size).is_none_or(|e| e > data.len()) {
            return Err(short());
        }
        let bytes = &data[pos..pos + size];
        match opt.letter {
            b'b' | b'h' | b'l' | b'i' | b'B' | b'H' | b'L' | b'T' | b'I' => {
                let mut v: u64 = 0;
                for i in 0..size.min(8) {
                    let b = if little {
                        bytes[i]
                    } else {
                        bytes[size - 1 - i]
                    };
                    v |= (b as u64) << (8 * i);
                }
                let signed = matches!(opt.letter, b'b' | b'h' | b'l' | b'i');
                let n = if signed && size < 8 && size > 0 {
                    let shift = 64 - 8 * size as u32;
                    (((v << shift) as i64) >> shift) as f64
                } else if signed {
                    v as i64 as f64
                } else {
                    v as f64
                };
                out.push(Value::Number(n));
            }
            b'f' => {
                let mut a = [0u8; 4];
                a.copy_from_slice(bytes);
                let n = if little {
                    f32::from_le_bytes(a)
                } else {
                    f32::from_be_bytes(a)
                };
                out.push(Value::Number(n as f64));
            }
            b'd' => {
                let mut a = [0u8; 8];
                a.copy_from_slice(bytes);
                let n = if little {
                    f64::from_le_bytes(a)
                } else {
                    f64::from_be_bytes(a)
                };
                out.push(Value::Number(n));
            }
            b'c' => out.push(Value::String(lua.create_string(bytes)?)),
            _ => {}
        }
        pos += size;
    }
    out.push(Value::Number((pos + 1) as f64));
    Ok(MultiValue::from_vec(out))
}

fn size(_: &Lua, args: MultiValue) -> Result<MultiValue, LuaErr> {
    let fmt = check_string(&args, 0, "size")?;
    let mut f = format(&fmt);
    let mut total = 0usize;
    while let Some(opt) = f.next("size")? {
        if opt.letter == b's' {
            return Err(LuaErr::arg(1, "size", "option 's' has no fixed size"));
        }
        if opt.letter == b'c' && opt.size == 0 {
            return Err(LuaErr::arg(1, "size", "option 'c0' has no fixed size"));
        }
        total += f.pad(&opt, total) + opt.size;
    }
    Ok(one(Value::Number(total as f64)))
}

pub(crate) fn lib(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", rawfn(lua, pack)?)?;
    t.raw_set("unpack", rawfn(lua, unpack)?)?;
    t.raw_set("size", rawfn(lua, size)?)?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use shoal_resp::Proto;

    #[test]
    fn matches_redis() {
        let w = |b: &str| wire(&eval(b), Proto::Resp2);
        assert_eq!(
            w("return {struct.pack('>I2', 258), struct.pack('<i4b', -2, 5), struct.size('>I2i4'), struct.pack('s', 'ab'), struct.pack('c3', 'abcdef'), struct.pack('d', 1.5):len(), struct.unpack('>I2', 'xy')}"),
            "*8\r\n$2\r\n\x01\x02\r\n$5\r\n\u{fe}\u{ff}\u{ff}\u{ff}\x05\r\n:6\r\n$3\r\nab\x00\r\n$3\r\nabc\r\n:8\r\n:30841\r\n:3\r\n"
                .replace(['\u{fe}', '\u{ff}'], "\u{fffd}")
        );
        assert_eq!(
            w("return {struct.unpack('<i2c2', struct.pack('<i2c2', -3, 'zz'))}"),
            "*3\r\n:-3\r\n$2\r\nzz\r\n:5\r\n"
        );
        assert!(w("return struct.pack('q', 1)")
            .contains("bad argument #1 to 'pack' (invalid format option 'q')"));
        assert!(w("return struct.unpack('>I4', 'ab')")
            .contains("bad argument #2 to 'unpack' (data string too short)"));
        assert!(w("return struct.pack('!3 i2', 1)")
            .contains("ERR user_script:1: alignment 3 is not a power of 2"));
        assert_eq!(w("return #struct.pack('i17', 1)"), ":17\r\n");
        assert!(w("return struct.size('s')")
            .contains("bad argument #1 to 'size' (option 's' has no fixed size)"));
        assert_eq!(
            w("return {struct.unpack('Bxc0', '\\3a' .. 'xyz')}"),
            "*2\r\n$3\r\nxyz\r\n:6\r\n"
        );
        assert_eq!(w("return struct.pack('>l', 1):len()"), ":8\r\n");
        assert_eq!(
            w("return {struct.unpack('>I3', '\\1\\2\\3', 1)}"),
            "*2\r\n:66051\r\n:4\r\n"
        );
        assert_eq!(w("return struct.pack('c', 'ab')"), "$1\r\na\r\n");
        assert_eq!(
            w("return {struct.unpack('s', 'ab\\0c')}"),
            "*2\r\n$2\r\nab\r\n:4\r\n"
        );
        assert_eq!(
            w("return {struct.unpack('!4 b i4', struct.pack('!4 b i4', 1, 2))}"),
            "*3\r\n:1\r\n:2\r\n:9\r\n"
        );
    }
}
