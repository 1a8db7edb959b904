//! An in-process harness for handler tests: a keyspace, a clock you set, and calls
//! that go through the command table's arity and key extraction like dispatch does
//! (without the server's other checks).

use crate::ctx::{BlockOn, Ctx, Propagate};
use crate::settings::Settings;
use bytes::{Bytes, BytesMut};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use shoal_keyspace::{Events, Keyspace, Locked, Now};
use shoal_resp::{parse_frame, Frame, Proto, ReplyWriter};

pub struct TestDb {
    pub ks: Keyspace,
    pub settings: Settings,
    pub rng: SmallRng,
    pub ev: Events,
    pub db: usize,
    pub now_ms: i64,
    pub proto: Proto,
    /// Total `dirty` reported by the calls so far.
    pub dirty: u64,
    /// The `dirty` and the propagation of the last call.
    pub last_dirty: u64,
    pub last_propagate: Propagate,
    /// The keyspace notifications of the last call (record them by setting
    /// `ev.want.classes`).
    pub last_notices: Vec<shoal_keyspace::Notice>,
    /// The keys the last call marked modified (recorded when `ev.want.touched`).
    pub last_touched: Vec<(usize, Bytes)>,
    /// Let blocking commands wait (`Ctx::may_block`; false answers as inside MULTI).
    pub may_block: bool,
    /// Run the next calls as the re-run of a woken blocked client (`Ctx::woken`).
    pub woken: bool,
    /// What the last call asked to wait for, if it blocked (it then wrote no reply).
    pub last_block: Option<BlockOn>,
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb {
            ks: Keyspace::new(16, 8),
            settings: Settings::default(),
            rng: SmallRng::seed_from_u64(1),
            ev: Events::default(),
            db: 0,
            now_ms: 1_700_000_000_000,
            proto: Proto::Resp2,
            dirty: 0,
            last_dirty: 0,
            last_propagate: Propagate::AsIs,
            last_notices: Vec::new(),
            last_touched: Vec::new(),
            may_block: false,
            woken: false,
            last_block: None,
        }
    }
}

impl TestDb {
    /// Runs one command and returns its reply decoded.
    pub fn call(&mut self, args: &[&[u8]]) -> Frame {
        let argv: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let raw = self.call_raw(&argv);
        match parse_frame(&raw) {
            Ok(Some((f, n))) if n == raw.len() => f,
            other => panic!("handler wrote a malformed or partial reply: {other:?} {raw:?}"),
        }
    }

    /// `call` with string arguments.
    pub fn cmd(&mut self, args: &[&str]) -> Frame {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.call(&v)
    }

    /// Runs one command and returns the raw reply bytes.
    pub fn call_raw(&mut self, argv: &[Bytes]) -> BytesMut {
        self.last_dirty = 0;
        self.last_propagate = Propagate::AsIs;
        self.last_notices.clear();
        self.last_touched.clear();
        self.last_block = None;
        let mut out = ReplyWriter::new(self.proto);
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        let Some(spec) = crate::table::lookup(name.as_bytes()) else {
            out.error(&crate::errors::unknown_command(argv));
            return out.buf;
        };
        let spec = if !spec.subcommands.is_empty() && argv.len() >= 2 {
            match spec.subcommand(&argv[1]) {
                Some(s) => s,
                None => {
                    out.error(&crate::errors::unknown_subcommand(
                        &argv[1],
                        &name.to_ascii_uppercase(),
                    ));
                    return out.buf;
                }
            }
        } else {
            spec
        };
        if !spec.arity_ok(argv.len()) {
            out.error(&crate::errors::wrong_arity(&spec.full_name()));
            return out.buf;
        }
        let Some(h) = crate::handler(&name) else {
            out.error(&crate::errors::unknown_command(argv));
            return out.buf;
        };
        let mut keys = Vec::new();
        crate::keys::key_positions(spec, argv, &mut keys);
        let locked = if crate::keys::needs_all_shards(spec, &keys) {
            self.ks.lock_all()
        } else if keys.is_empty() {
            Locked::empty()
        } else {
            self.ks.lock_keys(keys.iter().map(|&i| &argv[i]))
        };
        let mut ctx = Ctx {
            ks: &self.ks,
            locked,
            db: self.db,
            now: Now {
                lfu: self.settings.lfu_policy.then_some(shoal_keyspace::Lfu {
                    log_factor: self.settings.lfu_log_factor as u32,
                    decay_time: self.settings.lfu_decay_time as u32,
                }),
                ..Now::new(self.now_ms)
            },
            out: &mut out,
            ev: &mut self.ev,
            settings: &self.settings,
            rng: &mut self.rng,
            dirty: 0,
            propagate: Propagate::AsIs,
            key_shards: &[],
            block: None,
            may_block: self.may_block,
            woken: self.woken,
        };
        h(&mut ctx, argv);
        self.dirty += ctx.dirty;
        self.last_dirty = ctx.dirty;
        self.last_propagate = std::mem::take(&mut ctx.propagate);
        self.last_block = ctx.block.take();
        drop(ctx);
        self.last_notices = std::mem::take(&mut self.ev.notices);
        self.last_touched = std::mem::take(&mut self.ev.touched);
        self.ev.clear();
        out.buf
    }
}

/// The commands of a `Propagate::Rewritten`, as strings (panics otherwise).
pub fn rewritten(p: &Propagate) -> Vec<Vec<String>> {
    match p {
        Propagate::Rewritten(v) => v
            .iter()
            .map(|c| {
                c.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .collect(),
        other => panic!("not rewritten: {other:?}"),
    }
}

impl TestDb {
    /// What the last call propagates, when it rewrote its command.
    pub fn rewritten(&self) -> Vec<Vec<String>> {
        rewritten(&self.last_propagate)
    }
}

/// Shorthands for expected replies.
pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

pub fn int(v: i64) -> Frame {
    Frame::Integer(v)
}

pub fn ok() -> Frame {
    Frame::Simple(Bytes::from_static(b"OK"))
}

pub fn err(s: &str) -> Frame {
    Frame::Error(Bytes::copy_from_slice(s.as_bytes()))
}
