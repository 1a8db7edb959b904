//! Propagation: the stream of write effects that the AOF and replicas consume.
//!
//! Redis 7.0 sends the *effects* of commands, not the commands: a relative
//! expire becomes an absolute one, a random pop names what it popped, a script
//! sends the writes it made, a served blocking pop its non-blocking form. Handlers
//! say what to send (`Ctx::propagate`, see `shoal_commands::Propagate`); keys
//! deleted because their TTL passed send a DEL (UNLINK under
//! `lazyfree-lazy-expire`). This module collects those records per *execution
//! unit*, applies Redis's rules, encodes the unit as RESP multibulk and hands the
//! bytes to every registered [`Sink`] (the AOF writer and the replication
//! backlog, in later issues).
//!
//! Execution units and their rules, as Redis 7.0.15 applies them (checked
//! against a replica of the real server):
//! - A unit is one top-level command with everything it causes before it returns:
//!   the DELs of keys it found expired (recorded at the lookup, so before the
//!   command's own record), the commands of a `Rewritten` list, the `redis.call`s
//!   of a script, the queued commands of EXEC. A served blocked client is a unit of
//!   its own, after the unit that fed it; so is each key the active expiry cycle
//!   deletes.
//! - A unit of one command goes out alone; a unit of more goes out as
//!   `MULTI ... EXEC`. So a MULTI/EXEC with a single write, or a script with one
//!   write, sends that command alone; `SET` on an expired key sends
//!   `MULTI, DEL, SET, EXEC`; EXEC of reads, a script that writes nothing, a
//!   command with `dirty == 0` send nothing. The EVAL, EXEC or blocking command
//!   itself is never sent.
//! - `SELECT <db>` precedes a command whose database differs from the last one
//!   sent on that stream (before `MULTI` for the first command of a wrapped unit;
//!   `EXEC` never needs one). A SELECT inside a transaction or script therefore
//!   shows up inside the `MULTI ... EXEC` block.
//! - Targets: a record goes to the AOF, to replicas, or both. PUBLISH and
//!   SPUBLISH go to replicas only (Redis forces their replication but not their
//!   AOF record), so the AOF and replication streams are encoded separately, each
//!   with its own "last database sent"; the MULTI decision counts every record of
//!   the unit, as Redis's does.
//!
//! Where and when a unit is emitted matters for multi-threaded execution: two
//! commands on the same key run one after the other under its shard lock, and
//! must reach the stream in that order. So a keyspace command's unit is emitted
//! before its shard locks are released (`dispatch::call`, the last locked run of
//! EXEC, a served blocked client, each step of the expiry cycle); a script's at its
//! end, inside its exclusive section, where nothing else runs. Known gap: an EXEC
//! whose queue has a server command between keyspace commands releases its locks
//! at that command (see `cmd/multi.rs`), so a conflicting command of another client
//! could run and be emitted before the transaction's unit although it ran after
//! its first part. The transaction is not atomic in that case either. Likewise
//! SCAN, which locks shards one at a time, deletes expired keys under a lock it
//! releases before its unit (their DELs) is emitted: a write of such a key by
//! another thread in that window would reach the stream before the DEL. Closing
//! it needs `Ctx::with_shard` to emit those DELs before unlocking (as units of
//! their own), a hook the commands crate does not have yet.
//!
//! Costs: records are kept in a thread-local buffer (the unit in progress is always
//! on one thread: a command, EXEC with its queue, a script with its `redis.call`s
//! and inline scripts of EXEC all run on the thread that started the unit), and
//! only while a sink is registered: the call path checks one flag per command
//! ([`Propagation::active`]). Sinks are added and removed inside an exclusive
//! section of the gate ([`Propagation::add_sink`]), so no unit is in flight when
//! the flag changes: every unit is recorded whole or not at all. Emission takes one
//! mutex (the stream order); it is a leaf lock (taken under shard locks, never the
//! other way round), so a sink's `feed` must not touch the keyspace.

use crate::server::Server;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use shoal_commands::Propagate;
use shoal_ds::smallbytes::SmallBytes;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

/// Where a record goes (bit set).
pub mod target {
    pub const AOF: u8 = 1;
    pub const REPL: u8 = 2;
    pub const BOTH: u8 = AOF | REPL;
}

/// A consumer of the stream: the AOF writer, the replication backlog.
pub trait Sink: Send + Sync {
    /// Which stream it takes: [`target::AOF`] or [`target::REPL`].
    fn target(&self) -> u8;
    /// One execution unit, RESP multibulk, SELECT and MULTI/EXEC included. Called
    /// with the stream lock held (units arrive in order) and possibly with shard
    /// locks held: it must not touch the keyspace, and should be quick.
    fn feed(&self, bytes: &[u8]);
}

/// One command to propagate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub db: usize,
    pub target: u8,
    pub argv: Vec<Bytes>,
}

thread_local! {
    /// The records of the unit in progress on this thread.
    static PENDING: RefCell<Vec<Op>> = const { RefCell::new(Vec::new()) };
}

/// Adds a record to this thread's unit in progress.
pub fn record(op: Op) {
    PENDING.with(|p| p.borrow_mut().push(op));
}

/// Records what a keyspace command did: a DEL (or UNLINK) per key it found
/// expired, then the command itself as its handler asked (`dirty` decides for
/// [`Propagate::AsIs`]).
pub fn record_command(
    db: usize,
    argv: &[Bytes],
    dirty: u64,
    propagate: Propagate,
    expired: &[(usize, SmallBytes)],
    lazy_expire: bool,
) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        for (edb, key) in expired {
            p.push(expired_op(*edb, key, lazy_expire));
        }
        match propagate {
            Propagate::AsIs if dirty > 0 => p.push(Op {
                db,
                target: target::BOTH,
                argv: argv.to_vec(),
            }),
            Propagate::AsIs | Propagate::Nothing => {}
            Propagate::Rewritten(cmds) => p.extend(cmds.into_iter().map(|argv| Op {
                db,
                target: target::BOTH,
                argv,
            })),
        }
    });
}

/// The record of a key deleted because its TTL passed.
pub fn expired_op(db: usize, key: &[u8], lazy_expire: bool) -> Op {
    let verb: &'static [u8] = if lazy_expire { b"UNLINK" } else { b"DEL" };
    Op {
        db,
        target: target::BOTH,
        argv: vec![Bytes::from_static(verb), Bytes::copy_from_slice(key)],
    }
}

/// Takes this thread's unit in progress (leaving it empty).
pub fn take_pending() -> Vec<Op> {
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// Puts back a unit taken with [`take_pending`] (a nested unit, such as a blocked
/// client served in the middle of another, was emitted meanwhile).
pub fn restore_pending(ops: Vec<Op>) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        debug_assert!(p.is_empty());
        *p = ops;
    });
}

/// The per-stream encoder state: the last database sent.
#[derive(Default)]
struct Streams {
    /// Index 0: AOF, 1: replication. None forces a SELECT before the next command.
    selected: [Option<usize>; 2],
    buf: Vec<u8>,
}

/// The server's propagation hub: sinks, and the order of the stream.
#[derive(Default)]
pub struct Propagation {
    /// A sink is registered: commands record their effects.
    active: AtomicBool,
    sinks: RwLock<Vec<Arc<dyn Sink>>>,
    streams: Mutex<Streams>,
}

impl Propagation {
    /// Whether commands must record their effects (one relaxed load).
    #[inline]
    pub fn active(&self) -> bool {
        self.active.load(Relaxed)
    }

    /// Registers a sink. Runs an exclusive section of the gate, so it must be
    /// called outside any command (a background task, a test), and the first
    /// units it receives are whole.
    pub fn add_sink(srv: &Server, sink: Arc<dyn Sink>) {
        srv.exclusive(|| {
            let mut sinks = srv.propagation.sinks.write();
            sinks.push(sink);
            srv.propagation.active.store(true, Relaxed);
        });
    }

    /// Registers a sink from inside an exclusive section the caller runs (so that
    /// something else, such as an AOF rewrite's cut, happens at the same point of
    /// the stream).
    pub fn add_sink_in_section(&self, sink: Arc<dyn Sink>) {
        let mut sinks = self.sinks.write();
        sinks.push(sink);
        self.active.store(true, Relaxed);
    }

    /// Removes a sink (by identity), under the same rules as [`Propagation::add_sink`].
    pub fn remove_sink(srv: &Server, sink: &Arc<dyn Sink>) {
        srv.exclusive(|| {
            let mut sinks = srv.propagation.sinks.write();
            sinks.retain(|s| !Arc::ptr_eq(s, sink));
            srv.propagation.active.store(!sinks.is_empty(), Relaxed);
        });
    }

    /// Forgets the last database sent on a stream: its next command is preceded
    /// by SELECT (a new replica's stream, a rewritten AOF).
    pub fn reset_selected_db(&self, which: u8) {
        let mut st = self.streams.lock();
        if which & target::AOF != 0 {
            st.selected[0] = None;
        }
        if which & target::REPL != 0 {
            st.selected[1] = None;
        }
    }

    /// Runs `f` holding the stream lock: bytes fed to a sink inside `f` take
    /// their place in the stream's order (raw PING/GETACK to replicas).
    pub fn with_stream_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        let _st = self.streams.lock();
        f()
    }

    /// Runs `f` at a full sync's cut, holding the stream lock, after forgetting
    /// the replication stream's database: the first unit after the cut selects
    /// its database, and no unit is fed while `f` attaches the replicas.
    pub fn with_repl_cut<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut st = self.streams.lock();
        st.selected[1] = None;
        f()
    }

    /// The database the replication stream last selected (None: the next
    /// command will be preceded by SELECT).
    pub fn repl_selected_db(&self) -> Option<usize> {
        self.streams.lock().selected[1]
    }

    /// Emits this thread's unit in progress, if any, and empties it.
    pub fn emit(&self) {
        let ops = take_pending();
        if !ops.is_empty() {
            self.emit_ops(&ops);
        }
    }

    /// Emits `ops` as one unit to every sink.
    pub fn emit_ops(&self, ops: &[Op]) {
        let sinks = self.sinks.read();
        if sinks.is_empty() {
            return;
        }
        let mut st = self.streams.lock();
        let st = &mut *st;
        for (i, t) in [target::AOF, target::REPL].into_iter().enumerate() {
            if !sinks.iter().any(|s| s.target() & t != 0) {
                continue;
            }
            st.buf.clear();
            encode_unit(ops, t, &mut st.selected[i], &mut st.buf);
            if st.buf.is_empty() {
                continue;
            }
            for s in sinks.iter().filter(|s| s.target() & t != 0) {
                s.feed(&st.buf);
            }
        }
    }
}

/// Encodes one unit for stream `t` into `out`, updating `selected` (the last
/// database sent on that stream). The MULTI decision counts every record of the
/// unit, whatever its target, as Redis does.
pub fn encode_unit(ops: &[Op], t: u8, selected: &mut Option<usize>, out: &mut Vec<u8>) {
    let mine = || ops.iter().filter(|o| o.target & t != 0);
    let Some(first) = mine().next() else {
        return;
    };
    let wrap = ops.len() > 1;
    if wrap {
        select(first.db, selected, out);
        encode_cmd(out, [&b"MULTI"[..]]);
    }
    for op in mine() {
        select(op.db, selected, out);
        encode_cmd(out, op.argv.iter().map(|a| &a[..]));
    }
    if wrap {
        encode_cmd(out, [&b"EXEC"[..]]);
    }
}

fn select(db: usize, selected: &mut Option<usize>, out: &mut Vec<u8>) {
    if *selected != Some(db) {
        let n = db.to_string();
        encode_cmd(out, [&b"SELECT"[..], n.as_bytes()]);
        *selected = Some(db);
    }
}

/// Appends one command as a RESP multibulk.
pub fn encode_cmd<'a, I>(out: &mut Vec<u8>, argv: I)
where
    I: IntoIterator<Item = &'a [u8]>,
    I::IntoIter: ExactSizeIterator,
{
    shoal_resp::put_command(out, argv.into_iter());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(db: usize, t: u8, args: &[&str]) -> Op {
        Op {
            db,
            target: t,
            argv: args
                .iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect(),
        }
    }

    /// Decodes a stream into readable commands, one per line.
    fn lines(mut b: &[u8]) -> Vec<String> {
        let mut v = Vec::new();
        while !b.is_empty() {
            let (f, n) = shoal_resp::parse_frame(b).unwrap().unwrap();
            let shoal_resp::Frame::Array(items) = f else {
                panic!("not an array")
            };
            let words: Vec<String> = items
                .into_iter()
                .map(|i| match i {
                    shoal_resp::Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => panic!("not a bulk: {other:?}"),
                })
                .collect();
            v.push(words.join(" "));
            b = &b[n..];
        }
        v
    }

    fn enc(ops: &[Op], t: u8, sel: &mut Option<usize>) -> Vec<String> {
        let mut out = Vec::new();
        encode_unit(ops, t, sel, &mut out);
        lines(&out)
    }

    #[test]
    fn single_command_goes_alone_with_select_once() {
        let mut sel = None;
        assert_eq!(
            enc(&[op(0, 3, &["set", "a", "1"])], 1, &mut sel),
            ["SELECT 0", "set a 1"]
        );
        assert_eq!(
            enc(&[op(0, 3, &["set", "b", "1"])], 1, &mut sel),
            ["set b 1"]
        );
        assert_eq!(
            enc(&[op(3, 3, &["del", "b"])], 1, &mut sel),
            ["SELECT 3", "del b"]
        );
        assert_eq!(sel, Some(3));
    }

    #[test]
    fn several_commands_are_wrapped_and_select_comes_first() {
        let mut sel = Some(0);
        let ops = [
            op(5, 3, &["DEL", "k"]),
            op(5, 3, &["set", "k", "v"]),
            op(2, 3, &["set", "x", "y"]),
        ];
        assert_eq!(
            enc(&ops, 2, &mut sel),
            ["SELECT 5", "MULTI", "DEL k", "set k v", "SELECT 2", "set x y", "EXEC"]
        );
        // EXEC needs no SELECT: the stream stays on the last command's database.
        assert_eq!(sel, Some(2));
    }

    #[test]
    fn nothing_for_an_empty_unit() {
        let mut sel = None;
        assert!(enc(&[], 3, &mut sel).is_empty());
        assert_eq!(sel, None);
    }

    #[test]
    fn targets_filter_records_but_not_the_multi_decision() {
        let ops = [
            op(0, 2, &["publish", "c", "m"]),
            op(0, 3, &["set", "a", "1"]),
        ];
        let mut aof = Some(0);
        let mut repl = Some(0);
        assert_eq!(enc(&ops, 1, &mut aof), ["MULTI", "set a 1", "EXEC"]);
        assert_eq!(
            enc(&ops, 2, &mut repl),
            ["MULTI", "publish c m", "set a 1", "EXEC"]
        );
        // A unit with nothing for the AOF sends it nothing.
        assert!(enc(&[op(0, 2, &["publish", "c", "m"])], 1, &mut aof).is_empty());
    }

    #[test]
    fn record_command_rules() {
        take_pending();
        let argv: Vec<Bytes> = vec!["set".into(), "k".into(), "v".into()];
        // AsIs only when something changed.
        record_command(0, &argv, 0, Propagate::AsIs, &[], false);
        assert!(take_pending().is_empty());
        record_command(0, &argv, 1, Propagate::Nothing, &[], false);
        assert!(take_pending().is_empty());
        // Expired keys first, then the command.
        let expired = [(1, SmallBytes::from(&b"old"[..]))];
        record_command(0, &argv, 1, Propagate::AsIs, &expired, false);
        assert_eq!(
            take_pending(),
            [op(1, 3, &["DEL", "old"]), op(0, 3, &["set", "k", "v"])]
        );
        // A rewritten list replaces the command, even with dirty == 0.
        let rw = vec![vec![Bytes::from("SREM"), "s".into(), "a".into()]];
        record_command(0, &argv, 0, Propagate::Rewritten(rw), &expired, true);
        assert_eq!(
            take_pending(),
            [op(1, 3, &["UNLINK", "old"]), op(0, 3, &["SREM", "s", "a"])]
        );
    }

    #[test]
    fn encoding_is_resp_multibulk() {
        let mut out = Vec::new();
        encode_cmd(&mut out, [&b"SET"[..], b"k", b""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }
}
