//! The replica's side of the replication handshake, as Redis 7.0.15 runs it.
//!
//! Sequence (captured between real 7.0.15 servers through a proxy, and
//! against a fake master that withholds replies, which shows the pipelining):
//! connect; `PING`; then, pipelined in one write, `[AUTH [masteruser]
//! masterauth]`, `REPLCONF listening-port <port>`, `[REPLCONF ip-address
//! <replica-announce-ip>]`, `REPLCONF capa eof capa psync2`; one reply read
//! per command in that order; then `PSYNC <cached replid> <cached offset+1>`
//! or `PSYNC ? -1`; then `+FULLRESYNC <replid> <offset>` followed by the
//! payload header (`$<len>` or `$EOF:<40-byte mark>`), or `+CONTINUE
//! [<replid>]`. Bare `\n` keepalives may precede the PSYNC reply and the
//! payload header (the master sends them while its snapshot is delayed).
//!
//! Owns: the states between "connect to the master" and "the RDB payload (or
//! the continued stream) begins", the commands to send, the log lines, and the
//! repl-timeout during the handshake. The server owns sockets, reading the
//! payload bytes (with [`crate::eof::EofScanner`] for the EOF form) and
//! loading it; it splits incoming bytes into lines with [`take_line`] until
//! this machine reports [`Action::StartRdb`] or [`Action::Continue`], then
//! stops feeding lines (the rest of its buffer is payload or stream).
//!
//! Invariants:
//! - Every event yields the actions in the order the server must perform them.
//! - After `Abort`, `StartRdb` or `Continue` the machine is finished and
//!   ignores further events (returns no actions).
//! - Nothing in a master's reply panics; a malformed reply is logged and aborts.

use crate::encode_command;
use crate::eof::{parse_eof_header, EOF_MARK_LEN};
use crate::ids::ReplId;

/// Redis's log levels, with the character Redis prints for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Verbose,
    Notice,
    Warning,
}

impl LogLevel {
    pub fn symbol(self) -> char {
        match self {
            LogLevel::Verbose => '-',
            LogLevel::Notice => '*',
            LogLevel::Warning => '#',
        }
    }
}

/// What the replica knows before connecting.
#[derive(Debug, Clone)]
pub struct HandshakeConfig {
    pub master_host: String,
    pub master_port: u16,
    /// This server's port (or `replica-announce-port`), sent as listening-port.
    pub listening_port: u16,
    pub announce_ip: Option<Vec<u8>>,
    pub masteruser: Option<Vec<u8>>,
    pub masterauth: Option<Vec<u8>>,
    /// `repl-timeout`, in the unit of `now`.
    pub timeout: u64,
    /// `repl-diskless-load` is not `disabled`: only changes the log text.
    pub diskless_load: bool,
    /// The link to this master just dropped: Redis then logs "Reconnecting to
    /// MASTER" instead of "Connecting to MASTER".
    pub reconnect: bool,
}

/// The replication state kept from a previous master link (or synthesized
/// from our own IDs when a master is turned into a replica): what PSYNC asks
/// to continue from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedMaster {
    pub replid: ReplId,
    /// The offset of the last byte processed; PSYNC asks for `reploff + 1`.
    pub reploff: i64,
}

/// Inputs to the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Start: the server is about to connect.
    Start,
    /// The TCP connection is established.
    Connected,
    /// Connecting failed (the text is the OS error).
    ConnectFailed(String),
    /// One line from the master, without its `\n` and trailing `\r`.
    Line(Vec<u8>),
    /// The master closed the connection or a read failed.
    Closed,
    /// Time passes (the server ticks it, e.g. from replicationCron's 1 Hz).
    Tick,
}

/// How the RDB payload is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFraming {
    /// `$<len>`: exactly that many bytes follow.
    Sized(u64),
    /// `$EOF:<mark>`: bytes until the 40-byte mark (diskless master).
    EofMark([u8; EOF_MARK_LEN]),
}

/// A full resynchronization begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbStart {
    /// The master's replid and offset from `+FULLRESYNC`; `None`/-1 when the
    /// reply was malformed or when we fell back to SYNC (Redis then has no
    /// usable ID and the next link will need a full sync again).
    pub replid: Option<ReplId>,
    pub offset: i64,
    pub framing: PayloadFraming,
}

/// Outputs, performed in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Send(Vec<u8>),
    Log(LogLevel, String),
    /// Any cached master is now useless: discard it.
    DiscardCachedMaster,
    /// Read the RDB payload; the handshake is over.
    StartRdb(RdbStart),
    /// Partial resync accepted: resume the cached master at `reploff`.
    /// `new_replid` is set when the master's ID differs from the cached one:
    /// the replica then shifts its IDs (`ReplIds::shift_to(new, reploff)`),
    /// silently: Redis logs no "Setting secondary replication ID" line here.
    Continue {
        replid: ReplId,
        reploff: i64,
        new_replid: Option<ReplId>,
    },
    /// Close the connection; the server retries later (Redis: next second).
    Abort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Connecting,
    PingReply,
    AuthReply,
    PortReply,
    IpReply,
    CapaReply,
    PsyncReply,
    /// After +FULLRESYNC or SYNC: waiting for `$...`.
    BulkHeader {
        replid: Option<ReplId>,
        offset: i64,
    },
    Finished,
}

/// The handshake state machine.
#[derive(Debug, Clone)]
pub struct Handshake {
    cfg: HandshakeConfig,
    cached: Option<CachedMaster>,
    state: State,
    last_io: u64,
}

/// Longest line accepted from the master before the payload (Redis reads
/// handshake replies into a fixed buffer; a longer one is a broken master).
pub const MAX_LINE: usize = 64 * 1024;

/// Splits one line off `buf` (through `\n`, dropping a `\r` before it), or
/// `None` when no full line is buffered. `Err` when more than [`MAX_LINE`]
/// bytes arrive without a newline.
pub fn take_line(buf: &mut Vec<u8>) -> Result<Option<Vec<u8>>, &'static str> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(p) => {
            let mut line: Vec<u8> = buf.drain(..=p).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            Ok(Some(line))
        }
        None if buf.len() > MAX_LINE => Err("line from MASTER too long"),
        None => Ok(None),
    }
}

fn notice(s: impl Into<String>) -> Action {
    Action::Log(LogLevel::Notice, s.into())
}

fn warning(s: impl Into<String>) -> Action {
    Action::Log(LogLevel::Warning, s.into())
}

fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(line).into_owned()
}

impl Handshake {
    pub fn new(cfg: HandshakeConfig, cached: Option<CachedMaster>) -> Handshake {
        Handshake {
            cfg,
            cached,
            state: State::Idle,
            last_io: 0,
        }
    }

    /// True once the machine has handed over (StartRdb, Continue) or aborted.
    pub fn is_finished(&self) -> bool {
        self.state == State::Finished
    }

    /// True while waiting for the payload header (INFO's
    /// master_sync_in_progress is 1 from +FULLRESYNC on).
    pub fn is_transferring(&self) -> bool {
        matches!(self.state, State::BulkHeader { .. })
    }

    pub fn handle(&mut self, now: u64, event: Event) -> Vec<Action> {
        if self.state == State::Finished {
            return Vec::new();
        }
        match event {
            Event::Start => self.start(now),
            Event::Connected if self.state == State::Connecting => {
                self.last_io = now;
                self.state = State::PingReply;
                vec![
                    notice("Non blocking connect for SYNC fired the event."),
                    Action::Send(encode_command(&[b"PING"])),
                ]
            }
            Event::Connected => Vec::new(),
            Event::ConnectFailed(err) => {
                self.state = State::Finished;
                vec![
                    warning(format!("Error condition on socket for SYNC: {err}")),
                    Action::Abort,
                ]
            }
            Event::Closed => {
                let prev = std::mem::replace(&mut self.state, State::Finished);
                let what = match prev {
                    State::PsyncReply => "Master did not reply to PSYNC, will try later",
                    _ => "Master did not respond to command during SYNC handshake",
                };
                vec![warning(what), Action::Abort]
            }
            Event::Tick => self.tick(now),
            Event::Line(line) => {
                self.last_io = now;
                self.line(&line)
            }
        }
    }

    fn start(&mut self, now: u64) -> Vec<Action> {
        self.last_io = now;
        self.state = State::Connecting;
        vec![
            notice(format!(
                "{} to MASTER {}:{}",
                if self.cfg.reconnect {
                    "Reconnecting"
                } else {
                    "Connecting"
                },
                self.cfg.master_host,
                self.cfg.master_port
            )),
            notice("MASTER <-> REPLICA sync started"),
        ]
    }

    fn tick(&mut self, now: u64) -> Vec<Action> {
        if self.state == State::Idle || now.saturating_sub(self.last_io) <= self.cfg.timeout {
            return Vec::new();
        }
        let what = if self.is_transferring() {
            "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value."
        } else {
            "Timeout connecting to the MASTER..."
        };
        self.state = State::Finished;
        vec![warning(what), Action::Abort]
    }

    fn abort(&mut self, mut actions: Vec<Action>) -> Vec<Action> {
        self.state = State::Finished;
        actions.push(Action::Abort);
        actions
    }

    /// The pipelined block after PING: AUTH, REPLCONFs, in Redis's order.
    fn handshake_block(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(pass) = &self.cfg.masterauth {
            match &self.cfg.masteruser {
                Some(user) => out.extend(encode_command(&[b"AUTH", user, pass])),
                None => out.extend(encode_command(&[b"AUTH", pass])),
            }
        }
        let port = self.cfg.listening_port.to_string();
        out.extend(encode_command(&[
            b"REPLCONF",
            b"listening-port",
            port.as_bytes(),
        ]));
        if let Some(ip) = &self.cfg.announce_ip {
            out.extend(encode_command(&[b"REPLCONF", b"ip-address", ip]));
        }
        out.extend(encode_command(&[
            b"REPLCONF",
            b"capa",
            b"eof",
            b"capa",
            b"psync2",
        ]));
        out
    }

    /// The state after the reply to `after` (skipping optional commands).
    fn next_reply_state(&self, after: State) -> State {
        let order = [
            State::AuthReply,
            State::PortReply,
            State::IpReply,
            State::CapaReply,
        ];
        let start = order.iter().position(|s| *s == after).map_or(0, |i| i + 1);
        for s in &order[start..] {
            let wanted = match s {
                State::AuthReply => self.cfg.masterauth.is_some(),
                State::IpReply => self.cfg.announce_ip.is_some(),
                _ => true,
            };
            if wanted {
                return *s;
            }
        }
        State::PsyncReply
    }

    fn send_psync(&mut self) -> Vec<Action> {
        self.state = State::PsyncReply;
        match self.cached {
            Some(c) => {
                let off = (c.reploff + 1).to_string();
                vec![
                    notice(format!(
                        "Trying a partial resynchronization (request {}:{}).",
                        c.replid, off
                    )),
                    Action::Send(encode_command(&[
                        b"PSYNC",
                        c.replid.as_bytes(),
                        off.as_bytes(),
                    ])),
                ]
            }
            None => vec![
                notice("Partial resynchronization not possible (no cached master)"),
                Action::Send(encode_command(&[b"PSYNC", b"?", b"-1"])),
            ],
        }
    }

    fn line(&mut self, line: &[u8]) -> Vec<Action> {
        match self.state {
            State::Idle | State::Connecting | State::Finished => Vec::new(),
            State::PingReply => {
                // Auth errors are expected here (AUTH comes next); any other
                // error means this is not a master we can talk to.
                let tolerated = line.starts_with(b"-NOAUTH")
                    || line.starts_with(b"-NOPERM")
                    || line.starts_with(b"-ERR operation not permitted");
                if line.first() == Some(&b'-') && !tolerated {
                    return self.abort(vec![warning(format!(
                        "Error reply to PING from master: '{}'",
                        text(line)
                    ))]);
                }
                self.state = self.next_reply_state(State::PingReply);
                vec![
                    notice("Master replied to PING, replication can continue..."),
                    Action::Send(self.handshake_block()),
                ]
            }
            State::AuthReply => {
                if line.first() == Some(&b'-') {
                    return self.abort(vec![warning(format!(
                        "Unable to AUTH to MASTER: {}",
                        text(line)
                    ))]);
                }
                self.after_reply(State::AuthReply)
            }
            s @ (State::PortReply | State::IpReply | State::CapaReply) => {
                let mut actions = Vec::new();
                if line.first() == Some(&b'-') {
                    let what = match s {
                        State::PortReply => "listening-port",
                        State::IpReply => "ip-address",
                        _ => "capa",
                    };
                    actions.push(notice(format!(
                        "(Non critical) Master does not understand REPLCONF {what}: {}",
                        text(line)
                    )));
                }
                actions.extend(self.after_reply(s));
                actions
            }
            State::PsyncReply => self.psync_reply(line),
            State::BulkHeader { replid, offset } => self.bulk_header(line, replid, offset),
        }
    }

    fn after_reply(&mut self, s: State) -> Vec<Action> {
        match self.next_reply_state(s) {
            State::PsyncReply => self.send_psync(),
            next => {
                self.state = next;
                Vec::new()
            }
        }
    }

    fn psync_reply(&mut self, line: &[u8]) -> Vec<Action> {
        if line.is_empty() {
            return Vec::new(); // newline keepalive while the master prepares
        }
        if let Some(rest) = line.strip_prefix(b"+FULLRESYNC") {
            let mut parts = rest.split(|&b| b == b' ').filter(|p| !p.is_empty());
            let replid = parts.next().and_then(ReplId::parse);
            let offset = parts
                .next()
                .and_then(|o| std::str::from_utf8(o).ok())
                .and_then(|o| o.parse::<i64>().ok());
            let mut actions = Vec::new();
            let (replid, offset) = match (replid, offset) {
                (Some(id), Some(off)) => {
                    actions.push(notice(format!("Full resync from master: {id}:{off}")));
                    (Some(id), off)
                }
                _ => {
                    actions.push(warning("Master replied with wrong +FULLRESYNC syntax."));
                    (None, -1)
                }
            };
            actions.push(Action::DiscardCachedMaster);
            self.state = State::BulkHeader { replid, offset };
            return actions;
        }
        if let Some(rest) = line.strip_prefix(b"+CONTINUE") {
            let Some(cached) = self.cached else {
                return self.abort(vec![warning(format!(
                    "Unexpected reply to PSYNC from master: {}",
                    text(line)
                ))]);
            };
            let id = rest.trim_ascii();
            let mut actions = vec![notice("Successful partial resynchronization with master.")];
            let mut new_replid = None;
            // Redis adopts the ID only when exactly 40 characters follow.
            if let Some(new) = ReplId::parse(id) {
                if !cached.replid.matches(new.as_bytes()) {
                    actions.push(warning(format!("Master replication ID changed to {new}")));
                    new_replid = Some(new);
                }
            }
            actions.push(notice(
                "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.",
            ));
            actions.push(Action::Continue {
                replid: new_replid.unwrap_or(cached.replid),
                reploff: cached.reploff,
                new_replid,
            });
            self.state = State::Finished;
            return actions;
        }
        if line.starts_with(b"-NOMASTERLINK") || line.starts_with(b"-LOADING") {
            return self.abort(vec![notice(format!(
                "Master is currently unable to PSYNC but should be in the future: {}",
                text(line)
            ))]);
        }
        // An old master (no PSYNC) or an error: fall back to SYNC.
        let mut actions = Vec::new();
        if line.starts_with(b"-ERR") {
            actions.push(Action::Log(
                LogLevel::Verbose,
                format!(
                    "Master does not support PSYNC or is in error state (reply: {})",
                    text(line)
                ),
            ));
        } else {
            actions.push(warning(format!(
                "Unexpected reply to PSYNC from master: {}",
                text(line)
            )));
        }
        actions.push(Action::DiscardCachedMaster);
        actions.push(notice("Retrying with SYNC..."));
        actions.push(Action::Send(b"SYNC\r\n".to_vec()));
        self.state = State::BulkHeader {
            replid: None,
            offset: -1,
        };
        actions
    }

    fn bulk_header(&mut self, line: &[u8], replid: Option<ReplId>, offset: i64) -> Vec<Action> {
        if line.is_empty() {
            return Vec::new(); // newline keepalive while the snapshot starts
        }
        if line[0] == b'-' {
            return self.abort(vec![warning(format!(
                "MASTER aborted replication with an error: {}",
                text(&line[1..])
            ))]);
        }
        if line[0] != b'$' {
            return self.abort(vec![warning(format!(
                "Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?",
                text(line)
            ))]);
        }
        let target = if self.cfg.diskless_load {
            "to parser"
        } else {
            "to disk"
        };
        let (framing, log) = if let Some(mark) = parse_eof_header(line) {
            (
                PayloadFraming::EofMark(mark),
                format!(
                    "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF {target}"
                ),
            )
        } else {
            match std::str::from_utf8(&line[1..])
                .ok()
                .and_then(|n| n.parse::<u64>().ok())
            {
                Some(n) => (
                    PayloadFraming::Sized(n),
                    format!("MASTER <-> REPLICA sync: receiving {n} bytes from master {target}"),
                ),
                None => {
                    // Redis would read a garbage length as 0; refusing is safer.
                    return self.abort(vec![warning(format!(
                        "Bad protocol from MASTER, invalid bulk length '{}'",
                        text(line)
                    ))]);
                }
            }
        };
        self.state = State::Finished;
        vec![
            notice(log),
            Action::StartRdb(RdbStart {
                replid,
                offset,
                framing,
            }),
        ]
    }
}

#[cfg(test)]
mod tests;
