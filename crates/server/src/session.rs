//! The per-connection state owned by the connection task (not shared).

use crate::client::ClientInfo;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use shoal_commands::Settings;
use shoal_keyspace::Events;
use shoal_resp::Proto;
use std::sync::Arc;

/// CLIENT REPLY state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Skipping the current command's reply (SKIP was set by the previous command).
    Skipping,
}

/// What the connection must do after the current batch of replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    Continue,
    /// Flush the replies, then close (QUIT, protocol errors, CLIENT KILL of self).
    Close,
}

pub struct Session {
    pub info: Arc<ClientInfo>,
    pub db: usize,
    pub proto: Proto,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    pub after: After,
    pub settings: Arc<Settings>,
    pub settings_gen: u64,
    pub ev: Events,
    pub rng: SmallRng,
    /// Reused buffers for key positions, their shards, and the shards to lock.
    pub keys: Vec<usize>,
    pub key_shards: Vec<(usize, usize, usize)>,
    pub shard_list: Vec<usize>,
    /// Unix time in ms for the commands of the current batch (refreshed by the
    /// connection before each batch and every few commands).
    pub now_ms: i64,
    pub monitor: bool,
    /// Set by a command that must wait before replying (WAIT, CONFIG SET port;
    /// blocking commands later): the connection awaits the future, then writes
    /// its reply. Requests after it stay queued, as in Redis.
    pub block: Option<Block>,
    /// Pub/Sub subscriptions of every kind (RESP2 subscribed mode when > 0).
    pub subscriptions: usize,
    /// Between MULTI and EXEC/DISCARD: the queued commands.
    pub multi: Option<MultiState>,
    /// WATCHed keys (a change raises the `DIRTY_CAS` flag of `info`).
    pub watched: Vec<(usize, bytes::Bytes)>,
    /// Watched keys that had not expired when watched, with their deadline: EXEC
    /// fails if one expires in the meantime, as in Redis.
    pub watched_deadlines: Vec<(usize, bytes::Bytes, i64)>,
    /// Running a script (commands may not block).
    pub in_script: bool,
    /// A script has run past `busy-reply-threshold`: dispatch answers BUSY.
    pub script_busy: bool,
    /// Running the queued commands of EXEC (commands cannot suspend).
    pub in_exec: bool,
    /// The master client of a replica: its stream is applied without replies,
    /// read-only checks or expiry of its own.
    pub is_master: bool,
    /// What REPLCONF said before PSYNC.
    pub replconf: crate::repl::master::ReplConf,
    /// PSYNC/SYNC accepted: the connection becomes a replica link.
    pub sync: Option<Box<crate::repl::master::SyncRequest>>,
}

/// A transaction being queued.
#[derive(Default)]
pub struct MultiState {
    /// Registry entry ids and arguments, in order.
    pub queued: Vec<(usize, Vec<bytes::Bytes>)>,
    /// A command was rejected while queuing: EXEC answers EXECABORT.
    pub failed: bool,
}

/// What a suspended command replies once its wait ends.
pub enum Deferred {
    Ok,
    Int(i64),
    Error(String),
    /// A blocking command's wait ended.
    Wake(crate::blocking::Wake),
}

impl Deferred {
    pub fn write(self, out: &mut shoal_resp::ReplyWriter) {
        match self {
            Deferred::Ok => out.ok(),
            Deferred::Int(v) => out.int(v),
            Deferred::Error(e) => out.error(&e),
            Deferred::Wake(crate::blocking::Wake::Reply(b)) => out.raw(&b),
            // A blocked client that times out (or is unblocked with TIMEOUT) gets a
            // null array whatever the command, BLMOVE and BRPOPLPUSH included, as
            // in Redis; the command's own null (`TimeoutReply`) is what it answers
            // when it may not block (inside MULTI).
            Deferred::Wake(crate::blocking::Wake::Timeout(_)) => out.null_array(),
            Deferred::Wake(crate::blocking::Wake::Error(e)) => out.error(e),
        }
    }
}

/// A suspended command: a future that resolves to its reply.
pub type Block = std::pin::Pin<Box<dyn std::future::Future<Output = Deferred> + Send>>;

impl Session {
    pub fn new(
        info: Arc<ClientInfo>,
        settings: Arc<Settings>,
        gen: u64,
        authenticated: bool,
    ) -> Session {
        Session {
            info,
            db: 0,
            proto: Proto::Resp2,
            authenticated,
            reply_mode: ReplyMode::On,
            after: After::Continue,
            settings,
            settings_gen: gen,
            ev: Events::default(),
            // Seeded from the thread's generator: no system call per session (a
            // script run makes one too).
            rng: SmallRng::from_rng(rand::thread_rng())
                .unwrap_or_else(|_| SmallRng::from_entropy()),
            keys: Vec::new(),
            key_shards: Vec::new(),
            shard_list: Vec::new(),
            now_ms: 0,
            monitor: false,
            block: None,
            subscriptions: 0,
            multi: None,
            watched: Vec::new(),
            watched_deadlines: Vec::new(),
            in_script: false,
            script_busy: false,
            in_exec: false,
            is_master: false,
            replconf: Default::default(),
            sync: None,
        }
    }

    /// Re-reads the subscription count after (UN)SUBSCRIBE or RESET, and keeps the
    /// `P` flag of CLIENT LIST in step.
    pub fn refresh_subscriptions(&mut self) {
        self.subscriptions = self.info.subs.lock().total();
        self.info
            .set_flag(crate::client::cflag::PUBSUB, self.subscriptions > 0);
    }
}
