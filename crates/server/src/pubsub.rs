//! Pub/Sub: who listens to which channel, pattern and shard channel, and the
//! delivery of messages to them.
//!
//! The registry maps each channel (pattern, shard channel) to its subscribers in
//! subscription order; each client's own subscriptions live in its
//! [`ClientInfo::subs`], so that a disconnecting client can be removed from
//! everything it joined without scanning the registry. Both sides change together
//! under the registry's lock.
//!
//! Delivery formats the message once per protocol (RESP2 array, RESP3 push) and
//! queues it on each subscriber's push channel. A message for the publishing client
//! itself goes straight into its reply buffer instead, ahead of PUBLISH's own reply,
//! as Redis writes it. A subscriber whose pending output passes the `pubsub` class
//! of `client-output-buffer-limit` is disconnected rather than left to grow.

use crate::client::{ClientInfo, Subs};
use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use shoal_resp::{Proto, ReplyWriter};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// The three namespaces: channels, patterns and shard channels are independent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    Channel,
    Pattern,
    Shard,
}

impl Space {
    /// The kind names of confirmations: (subscribe, unsubscribe).
    pub fn verbs(self) -> (&'static str, &'static str) {
        match self {
            Space::Channel => ("subscribe", "unsubscribe"),
            Space::Pattern => ("psubscribe", "punsubscribe"),
            Space::Shard => ("ssubscribe", "sunsubscribe"),
        }
    }
}

type Subscribers = HashMap<Bytes, Vec<Arc<ClientInfo>>>;

#[derive(Default)]
struct Inner {
    channels: Subscribers,
    patterns: Subscribers,
    shard: Subscribers,
}

impl Inner {
    fn map(&mut self, space: Space) -> &mut Subscribers {
        match space {
            Space::Channel => &mut self.channels,
            Space::Pattern => &mut self.patterns,
            Space::Shard => &mut self.shard,
        }
    }
}

/// The `pubsub` class of `client-output-buffer-limit`, kept as atomics so that
/// delivery reads it without the configuration lock.
#[derive(Default)]
pub struct PubsubLimit {
    pub hard: AtomicU64,
    pub soft: AtomicU64,
    pub soft_secs: AtomicI64,
}

#[derive(Default)]
pub struct PubSub {
    inner: Mutex<Inner>,
    pub limit: PubsubLimit,
}

/// A message to deliver and the client publishing it (who gets it in `out`).
pub struct Publisher<'a> {
    pub id: u64,
    pub out: Option<&'a mut ReplyWriter>,
}

impl PubSub {
    /// Subscribes `c` to `name` in `space`. Returns whether it was new, and the
    /// client's subscription count to report (channels + patterns, or shard
    /// channels).
    pub fn subscribe(&self, c: &Arc<ClientInfo>, space: Space, name: &Bytes) -> usize {
        let mut inner = self.inner.lock();
        let mut subs = c.subs.lock();
        if subs.insert(space, name) {
            inner
                .map(space)
                .entry(name.clone())
                .or_default()
                .push(c.clone());
        }
        subs.count(space)
    }

    /// Unsubscribes `c` from `name`; returns the count to report after it.
    pub fn unsubscribe(&self, c: &ClientInfo, space: Space, name: &[u8]) -> usize {
        let mut inner = self.inner.lock();
        let mut subs = c.subs.lock();
        if subs.remove(space, name) {
            remove_subscriber(inner.map(space), name, c.id);
        }
        subs.count(space)
    }

    /// The client's subscriptions in `space` (for an UNSUBSCRIBE without names).
    pub fn names_of(&self, c: &ClientInfo, space: Space) -> Vec<Bytes> {
        c.subs.lock().names(space)
    }

    /// Drops every subscription of a client (disconnect, RESET).
    pub fn remove_client(&self, c: &ClientInfo) {
        let mut inner = self.inner.lock();
        let mut subs = c.subs.lock();
        for space in [Space::Channel, Space::Pattern, Space::Shard] {
            for name in subs.names(space) {
                subs.remove(space, &name);
                remove_subscriber(inner.map(space), &name, c.id);
            }
        }
    }

    /// Delivers a message on `channel` to its subscribers and to matching patterns
    /// (`Space::Channel`), or to shard-channel subscribers (`Space::Shard`). Returns
    /// the number of deliveries, as PUBLISH replies.
    pub fn publish(
        &self,
        space: Space,
        channel: &[u8],
        msg: &[u8],
        mut publisher: Publisher<'_>,
    ) -> usize {
        let inner = self.inner.lock();
        let mut receivers = 0;
        let mut cache = FormatCache::default();
        let (direct, kind) = match space {
            Space::Shard => (&inner.shard, "smessage"),
            _ => (&inner.channels, "message"),
        };
        if let Some(list) = direct.get(channel) {
            for c in list {
                let bytes = cache.get(c, |w| {
                    w.push(3);
                    w.bulk_str(kind);
                    w.bulk(channel);
                    w.bulk(msg);
                });
                self.deliver(c, bytes, &mut publisher);
                receivers += 1;
            }
        }
        if space == Space::Channel {
            for (pattern, list) in inner.patterns.iter() {
                if !shoal_ds::glob::glob_match(pattern, channel, false) {
                    continue;
                }
                let mut cache = FormatCache::default();
                for c in list {
                    let bytes = cache.get(c, |w| {
                        w.push(4);
                        w.bulk_str("pmessage");
                        w.bulk(pattern);
                        w.bulk(channel);
                        w.bulk(msg);
                    });
                    self.deliver(c, bytes, &mut publisher);
                    receivers += 1;
                }
            }
        }
        receivers
    }

    fn deliver(&self, c: &ClientInfo, bytes: Bytes, publisher: &mut Publisher<'_>) {
        if c.id == publisher.id {
            if let Some(out) = publisher.out.as_deref_mut() {
                out.raw(&bytes);
                return;
            }
        }
        self.send_limited(c, bytes);
    }

    /// Queues `bytes` for `c`, disconnecting it if its pending output passes the
    /// pubsub limits.
    pub fn send_limited(&self, c: &ClientInfo, bytes: Bytes) {
        if !c.send_push(bytes) {
            return;
        }
        let pending = c.pending_output();
        let hard = self.limit.hard.load(Relaxed);
        let soft = self.limit.soft.load(Relaxed);
        let over_hard = hard > 0 && pending > hard;
        let over_soft = soft > 0 && pending > soft;
        let now = crate::server::unix_ms();
        let over_soft_too_long = if over_soft {
            let since = c.soft_limit_since_ms.load(Relaxed);
            if since == 0 {
                c.soft_limit_since_ms.store(now, Relaxed);
                false
            } else {
                now - since > self.limit.soft_secs.load(Relaxed) * 1000
            }
        } else {
            c.soft_limit_since_ms.store(0, Relaxed);
            false
        };
        if (over_hard || over_soft_too_long) && !c.killed.load(Relaxed) {
            crate::warning!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                c.id,
                c.addr
            );
            c.kill();
        }
    }

    /// Channels with at least one subscriber matching `pattern` (all if None).
    pub fn channels(&self, space: Space, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let inner = self.inner.lock();
        let map = match space {
            Space::Shard => &inner.shard,
            _ => &inner.channels,
        };
        map.keys()
            .filter(|k| pattern.is_none_or(|p| shoal_ds::glob::glob_match(p, k, false)))
            .cloned()
            .collect()
    }

    /// The number of subscribers of `channel`.
    pub fn numsub(&self, space: Space, channel: &[u8]) -> usize {
        let inner = self.inner.lock();
        let map = match space {
            Space::Shard => &inner.shard,
            _ => &inner.channels,
        };
        map.get(channel).map_or(0, Vec::len)
    }

    /// Numbers of channels, patterns and shard channels with subscribers.
    pub fn counts(&self) -> (usize, usize, usize) {
        let inner = self.inner.lock();
        (
            inner.channels.len(),
            inner.patterns.len(),
            inner.shard.len(),
        )
    }
}

fn remove_subscriber(map: &mut Subscribers, name: &[u8], id: u64) {
    if let Some(list) = map.get_mut(name) {
        list.retain(|c| c.id != id);
        if list.is_empty() {
            map.remove(name);
        }
    }
}

/// A message formatted at most once per protocol.
#[derive(Default)]
struct FormatCache {
    resp2: Option<Bytes>,
    resp3: Option<Bytes>,
}

impl FormatCache {
    fn get(&mut self, c: &ClientInfo, write: impl Fn(&mut ReplyWriter)) -> Bytes {
        let proto = if c.resp.load(Relaxed) == 3 {
            Proto::Resp3
        } else {
            Proto::Resp2
        };
        let slot = match proto {
            Proto::Resp2 => &mut self.resp2,
            Proto::Resp3 => &mut self.resp3,
        };
        slot.get_or_insert_with(|| {
            let mut w = ReplyWriter::new(proto);
            write(&mut w);
            let buf: BytesMut = w.buf;
            buf.freeze()
        })
        .clone()
    }
}

impl Subs {
    /// Adds a subscription; false if the client already had it.
    pub fn insert(&mut self, space: Space, name: &Bytes) -> bool {
        match space {
            Space::Channel => self.channels.insert(name.clone()),
            Space::Shard => self.shard.insert(name.clone()),
            Space::Pattern => {
                if self.patterns.contains(name) {
                    return false;
                }
                self.patterns.push(name.clone());
                true
            }
        }
    }

    /// Removes a subscription; false if the client did not have it.
    pub fn remove(&mut self, space: Space, name: &[u8]) -> bool {
        match space {
            Space::Channel => self.channels.remove(name),
            Space::Shard => self.shard.remove(name),
            Space::Pattern => match self.patterns.iter().position(|p| p == name) {
                Some(i) => {
                    self.patterns.remove(i);
                    true
                }
                None => false,
            },
        }
    }

    pub fn names(&self, space: Space) -> Vec<Bytes> {
        match space {
            Space::Channel => self.channels.iter().cloned().collect(),
            Space::Shard => self.shard.iter().cloned().collect(),
            Space::Pattern => self.patterns.clone(),
        }
    }

    /// The count a confirmation reports: channels and patterns together, shard
    /// channels on their own.
    pub fn count(&self, space: Space) -> usize {
        match space {
            Space::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    pub fn total(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard.len()
    }
}
