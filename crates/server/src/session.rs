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
    /// Set by a command that must wait before replying (WAIT; blocking commands
    /// later): the connection suspends until the deadline, then runs `reply`.
    pub block: Option<Block>,
}

/// A suspended reply.
pub struct Block {
    /// None: wait until something wakes the client (never, for now).
    pub deadline: Option<std::time::Instant>,
    /// Writes the reply once the wait ends.
    pub reply: fn(&mut shoal_resp::ReplyWriter),
}

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
            rng: SmallRng::from_entropy(),
            keys: Vec::new(),
            key_shards: Vec::new(),
            shard_list: Vec::new(),
            now_ms: 0,
            monitor: false,
            block: None,
        }
    }
}
