//! A fake [`Host`] for unit tests: a tiny string keyspace (SET, GET, DEL, PING,
//! HGETALL of a fixed map, a failing LPUSH) and recorders for logs and kills.

use std::collections::HashMap;

use bytes::Bytes;
use shoal_resp::{Frame, Proto, ReplyWriter};

use crate::{Host, LogLevel, Outcome, ScriptEngine};

#[derive(Default)]
pub(crate) struct FakeHost {
    pub kv: HashMap<Bytes, Bytes>,
    pub calls: Vec<(Vec<Bytes>, Proto)>,
    pub logs: Vec<(LogLevel, Vec<u8>)>,
    pub repl: Vec<u8>,
    /// `should_abort` answers true after this many checks.
    pub kill_after: Option<usize>,
    pub checks: usize,
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

impl Host for FakeHost {
    fn call(&mut self, argv: &[Bytes], resp: Proto) -> Frame {
        self.calls.push((argv.to_vec(), resp));
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        match (name.as_str(), argv.len()) {
            ("ping", 1) => Frame::Simple(b("PONG")),
            ("set", 3) => {
                self.kv.insert(argv[1].clone(), argv[2].clone());
                Frame::Simple(b("OK"))
            }
            ("get", 2) => match self.kv.get(&argv[1]) {
                Some(v) => Frame::Bulk(v.clone()),
                None => Frame::Null,
            },
            ("del", _) => Frame::Integer(
                argv[1..]
                    .iter()
                    .filter(|k| self.kv.remove(*k).is_some())
                    .count() as i64,
            ),
            ("hgetall", 2) => {
                let pairs = vec![(Frame::Bulk(b("a")), Frame::Bulk(b("1")))];
                match resp {
                    Proto::Resp3 => Frame::Map(pairs),
                    Proto::Resp2 => {
                        Frame::Array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect())
                    }
                }
            }
            ("zscore", 3) => match resp {
                Proto::Resp3 => Frame::Double(b("1.5")),
                Proto::Resp2 => Frame::Bulk(b("1.5")),
            },
            ("lpush", _) => Frame::Error(b(
                "WRONGTYPE Operation against a key holding the wrong kind of value",
            )),
            ("echo", 2) => Frame::Bulk(argv[1].clone()),
            (_, _)
                if ["ping", "set", "get", "hgetall", "zscore", "echo"].contains(&name.as_str()) =>
            {
                Frame::Error(b(
                    "ERR Wrong number of args calling Redis command from script",
                ))
            }
            _ => Frame::Error(b("ERR Unknown Redis command called from script")),
        }
    }

    fn log(&mut self, level: LogLevel, msg: &[u8]) {
        self.logs.push((level, msg.to_vec()));
    }

    fn set_repl(&mut self, flags: u8) {
        self.repl.push(flags);
    }

    fn should_abort(&mut self) -> bool {
        self.checks += 1;
        self.kill_after.is_some_and(|n| self.checks > n)
    }
}

/// Runs `body` as EVAL with no keys on a fresh engine.
pub(crate) fn eval(body: &str) -> Frame {
    eval_with(
        &mut ScriptEngine::new(),
        &mut FakeHost::default(),
        body,
        &[],
        &[],
    )
    .reply
}

pub(crate) fn eval_with(
    e: &mut ScriptEngine,
    h: &mut FakeHost,
    body: &str,
    keys: &[&str],
    args: &[&str],
) -> Outcome {
    let sha = match e.load(body.as_bytes()) {
        Ok(s) => s,
        Err(msg) => {
            return Outcome {
                reply: Frame::Error(Bytes::from(msg)),
                error_already_counted: false,
            }
        }
    };
    let keys: Vec<Bytes> = keys.iter().map(|s| b(s)).collect();
    let args: Vec<Bytes> = args.iter().map(|s| b(s)).collect();
    e.run(sha.as_bytes(), &keys, &args, h)
}

/// The error text of a reply, or panic.
pub(crate) fn err_text(f: &Frame) -> String {
    match f {
        Frame::Error(e) => String::from_utf8_lossy(e).into_owned(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The wire bytes of a frame written for `proto`.
pub(crate) fn wire(f: &Frame, proto: Proto) -> String {
    let mut w = ReplyWriter::new(proto);
    crate::write_frame(f, &mut w);
    String::from_utf8_lossy(&w.buf).into_owned()
}

pub(crate) fn sha(body: &str) -> String {
    crate::sha1hex(body.as_bytes())
}
