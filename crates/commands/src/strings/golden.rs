//! Test support: replays scripts of `command => expected reply` lines whose replies
//! were captured from Redis 7.0.15 (a fresh `redis-server`, one connection, RESP2).
//!
//! Arguments are split as redis-cli does (`"..."` with `\xHH`, `\n`, `\r`, `\t`,
//! `\"`, `\\` escapes). Replies are rendered compactly: `+OK`, `-ERR ...`, `:5`,
//! `"bytes"` (non-printable bytes as `\xHH`), `(nil)`, `[a, b]`. A few generic
//! commands the scripts use to observe state (DEL, EXISTS, TTL, PTTL, EXPIRETIME,
//! PEXPIRETIME, EXPIRE, OBJECT ENCODING, CONFIG SET proto-max-bulk-len) are served
//! here straight from the keyspace, so these tests depend only on this family.

use crate::testing::TestDb;
use bytes::Bytes;
use shoal_resp::Frame;

pub(crate) fn split(line: &str) -> Vec<Vec<u8>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut arg = Vec::new();
        if b[i] == b'"' {
            i += 1;
            while b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                    match b[i] {
                        b'x' => {
                            let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                            arg.push(u8::from_str_radix(h, 16).unwrap());
                            i += 2;
                        }
                        b'n' => arg.push(b'\n'),
                        b'r' => arg.push(b'\r'),
                        b't' => arg.push(b'\t'),
                        c => arg.push(c),
                    }
                } else {
                    arg.push(b[i]);
                }
                i += 1;
            }
            i += 1;
        } else {
            while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                arg.push(b[i]);
                i += 1;
            }
        }
        out.push(arg);
    }
    out
}

fn quote(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

pub(crate) fn render(f: &Frame) -> String {
    let list = |v: &[Frame]| {
        let items: Vec<String> = v.iter().map(render).collect();
        format!("[{}]", items.join(", "))
    };
    match f {
        Frame::Simple(s) => format!("+{}", String::from_utf8_lossy(s)),
        Frame::Error(s) => format!("-{}", String::from_utf8_lossy(s)),
        Frame::Integer(v) => format!(":{v}"),
        Frame::Bulk(b) => quote(b),
        Frame::Null | Frame::NullArray => "(nil)".into(),
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => list(v),
        Frame::Map(kv) => {
            let items: Vec<String> = kv
                .iter()
                .map(|(k, v)| format!("{}: {}", render(k), render(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Frame::Boolean(b) => if *b { "#t" } else { "#f" }.into(),
        other => format!("{other:?}"),
    }
}

/// Serves the observation commands from the keyspace; `None` for anything else.
fn shim(t: &mut TestDb, args: &[Vec<u8>]) -> Option<Frame> {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
    let now = t.now_ms;
    let dbi = t.db;
    let ks = &t.ks;
    let with = |key: &[u8], f: &mut dyn FnMut(&mut shoal_keyspace::DbShard) -> i64| {
        let idx = ks.shard_of(key);
        let mut l = ks.lock_one(idx);
        f(&mut l.shard(idx).unwrap().dbs[dbi])
    };
    let ttl = |key: &[u8], f: &dyn Fn(i64) -> i64| {
        with(key, &mut |d| match d.peek(key, now) {
            None => -2,
            Some(_) => d.expire_time(key).map_or(-1, f),
        })
    };
    let r = match name.as_str() {
        "DEL" | "EXISTS" => {
            let del = name == "DEL";
            let n = args[1..]
                .iter()
                .map(|k| {
                    with(k, &mut |d| {
                        let live = d.peek(k, now).is_some();
                        if del {
                            d.remove(k);
                        }
                        i64::from(live)
                    })
                })
                .sum();
            Frame::Integer(n)
        }
        "TTL" => Frame::Integer(ttl(&args[1], &|t| ((t - now).max(0) + 500) / 1000)),
        "PTTL" => Frame::Integer(ttl(&args[1], &|t| (t - now).max(0))),
        "EXPIRETIME" => Frame::Integer(ttl(&args[1], &|t| t / 1000)),
        "PEXPIRETIME" => Frame::Integer(ttl(&args[1], &|t| t)),
        "EXPIRE" => {
            let secs: i64 = String::from_utf8_lossy(&args[2]).parse().unwrap();
            let k = &args[1];
            Frame::Integer(with(k, &mut |d| {
                let live = d.peek(k, now).is_some();
                i64::from(live && d.set_expire(k, now + secs * 1000))
            }))
        }
        "OBJECT" => {
            let k = &args[2];
            let mut enc = None;
            with(k, &mut |d| {
                enc = d.peek(k, now).map(|e| e.value.encoding());
                0
            });
            enc.map_or(Frame::Null, |e| {
                Frame::Bulk(Bytes::from_static(e.as_bytes()))
            })
        }
        "CONFIG" => {
            let v = String::from_utf8_lossy(&args[3]).to_ascii_lowercase();
            let mb: i64 = v.trim_end_matches("mb").parse().unwrap();
            t.settings.proto_max_bulk_len = mb * 1024 * 1024;
            Frame::Simple(Bytes::from_static(b"OK"))
        }
        _ => return None,
    };
    Some(r)
}

/// Runs one command (through the shim or the command table) and renders its reply.
pub(crate) fn exec(t: &mut TestDb, line: &str) -> String {
    let args = split(line);
    let frame = match shim(t, &args) {
        Some(f) => f,
        None => {
            let v: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
            t.call(&v)
        }
    };
    render(&frame)
}

/// Replays `script` on `t` and panics listing every line whose reply differs.
pub(crate) fn run(t: &mut TestDb, script: &str) {
    let mut bad = Vec::new();
    let mut n = 0;
    for line in script.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (cmd, want) = line
            .split_once(" => ")
            .unwrap_or_else(|| panic!("golden line without ' => ': {line}"));
        let got = exec(t, cmd);
        n += 1;
        if got != want {
            bad.push(format!("{cmd}\n    want {want}\n    got  {got}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {n} replies differ from Redis:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Runs one command as dispatch would and returns its rendered reply, its `dirty`
/// count and what it asks to propagate (commands joined by ` ; `, arguments by
/// spaces; empty when nothing).
pub(crate) fn exec_full(t: &mut TestDb, line: &str) -> (String, u64, String) {
    use crate::ctx::Propagate;
    use shoal_resp::parse_frame;

    let argv: Vec<Bytes> = split(line).into_iter().map(Bytes::from).collect();
    let raw = t.call_raw(&argv);
    let dirty = t.last_dirty;
    let join = |cmd: &[Bytes]| {
        let parts: Vec<String> = cmd
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        parts.join(" ")
    };
    let prop = match &t.last_propagate {
        Propagate::AsIs if dirty > 0 => join(&argv),
        Propagate::AsIs | Propagate::Nothing => String::new(),
        Propagate::Rewritten(cmds) => {
            let v: Vec<String> = cmds.iter().map(|c| join(c)).collect();
            v.join(" ; ")
        }
    };
    let (frame, _) = parse_frame(&raw).unwrap().unwrap();
    (render(&frame), dirty, prop)
}

/// Runs `(command, reply, dirty, propagated)` rows in order on `t` and fails with
/// every row whose reply, change count or propagation differs. `NOW+ms` in an
/// expected propagation stands for the test clock plus `ms`.
pub(crate) fn check_propagation(t: &mut TestDb, rows: &[(&str, &str, u64, &str)]) {
    let now = t.now_ms;
    let mut bad = Vec::new();
    for &(cmd, reply, dirty, prop) in rows {
        let prop = match prop.split_once("NOW+") {
            Some((head, ms)) => format!("{head}{}", now + ms.parse::<i64>().unwrap_or(0)),
            None => prop.to_string(),
        };
        let got = exec_full(t, cmd);
        if (got.0.as_str(), got.1, got.2.as_str()) != (reply, dirty, prop.as_str()) {
            bad.push(format!("{cmd}: want {reply} {dirty} [{prop}], got {got:?}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
