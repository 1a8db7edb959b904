//! What happens after a command changed keys: keyspace notifications are
//! published, watchers of the keys get their transactions failed, client-side
//! caches are invalidated, and clients blocked on the keys are served.
//!
//! Handlers report changes through `Events::notify` (see `shoal_keyspace::notify`);
//! [`want`] tells them beforehand what is worth recording, so that a server with no
//! watchers, no blocked clients and no notifications records nothing.

use crate::pubsub::{Publisher, Space};
use crate::server::Server;
use shoal_keyspace::{class, Events, Want};
use shoal_resp::ReplyWriter;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// What commands should record right now.
#[inline]
pub fn want(srv: &Server) -> Want {
    Want {
        touched: srv.watches.count.load(Relaxed) > 0
            || srv.blocking.count.load(Relaxed) > 0
            || srv.tracking_active(),
        classes: srv.hot.notify_classes.load(Relaxed),
    }
}

/// Whether `ev` holds anything for [`after_command`] to do.
#[inline]
pub fn pending(ev: &Events) -> bool {
    !ev.touched.is_empty() || !ev.notices.is_empty() || !ev.flushed.is_empty()
}

/// Publishes the notifications in `ev`, fails the transactions watching its
/// modified keys and invalidates their cached copies. Leaves `ev.touched` in place
/// for the caller to serve blocked clients. `me` is the client that ran the
/// command: a notification it subscribed to is written into its replies.
pub fn publish_and_invalidate(
    srv: &Arc<Server>,
    ev: &mut Events,
    mut me: Option<(u64, &mut ReplyWriter)>,
) {
    let classes = ev.want.classes;
    // Keys that expired during the command are among the notices and touched keys
    // already, in the order Redis reports them (`Events::expired_key`).
    for n in &ev.notices {
        notify(srv, classes, n.event, n.db, &n.key, &mut me);
    }
    // Flushed databases fail the watchers of their keys in the call layer, which
    // knows which keys existed before (`crate::watch::before_command`).
    if srv.watches.count.load(Relaxed) > 0 {
        for (db, key) in &ev.touched {
            srv.watches.touch(&srv.ks, *db, key);
        }
    }
    if srv.tracking_active() {
        crate::tracking::invalidate(srv, &ev.touched, &ev.flushed, me.as_ref().map(|m| m.0));
    }
}

/// Everything that follows a command's changes (see the module doc).
pub fn after_command(srv: &Arc<Server>, ev: &mut Events, me: Option<(u64, &mut ReplyWriter)>) {
    publish_and_invalidate(srv, ev, me);
    if srv.blocking.count.load(Relaxed) > 0 && (!ev.touched.is_empty() || !ev.flushed.is_empty()) {
        let mut keys = std::mem::take(&mut ev.touched);
        for db in &ev.flushed {
            keys.extend(srv.blocking.keys_in_db(*db));
        }
        srv.blocking.serve(srv, &keys);
    }
}

thread_local! {
    /// Keys made ready by commands nested in a unit (EXEC's queue, a script's
    /// `redis.call`s): their blocked clients are served when the unit ends.
    static DEFERRED: std::cell::RefCell<Vec<(usize, bytes::Bytes)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// [`after_command`] for a command nested in an execution unit (EXEC, a script):
/// notifications, WATCH and invalidations now, but blocked clients are served only
/// when the unit ends ([`serve_deferred`]). Redis serves them after the top-level
/// command, so they see the whole transaction or script, and what they
/// propagate follows the unit's own records.
pub fn after_nested_command(
    srv: &Arc<Server>,
    ev: &mut Events,
    me: Option<(u64, &mut ReplyWriter)>,
) {
    publish_and_invalidate(srv, ev, me);
    if srv.blocking.count.load(Relaxed) > 0 && (!ev.touched.is_empty() || !ev.flushed.is_empty()) {
        let mut keys = std::mem::take(&mut ev.touched);
        for db in &ev.flushed {
            keys.extend(srv.blocking.keys_in_db(*db));
        }
        DEFERRED.with(|d| d.borrow_mut().extend(keys));
    }
}

/// Serves the clients blocked on keys that commands nested in the unit that just
/// ended made ready.
pub fn serve_deferred(srv: &Arc<Server>) {
    let keys = DEFERRED.with(|d| std::mem::take(&mut *d.borrow_mut()));
    if !keys.is_empty() && srv.blocking.count.load(Relaxed) > 0 {
        srv.blocking.serve(srv, &keys);
    }
}

/// Publishes one event on `__keyspace@<db>__:<key>` and/or
/// `__keyevent@<db>__:<event>`, as `notify-keyspace-events` asks.
fn notify(
    srv: &Server,
    classes: u32,
    event: &str,
    db: usize,
    key: &[u8],
    me: &mut Option<(u64, &mut ReplyWriter)>,
) {
    if classes & class::KEYSPACE != 0 {
        let mut chan = format!("__keyspace@{db}__:").into_bytes();
        chan.extend_from_slice(key);
        srv.pubsub
            .publish(Space::Channel, &chan, event.as_bytes(), publisher_of(me));
    }
    if classes & class::KEYEVENT != 0 {
        let chan = format!("__keyevent@{db}__:{event}");
        srv.pubsub
            .publish(Space::Channel, chan.as_bytes(), key, publisher_of(me));
    }
}

/// The publishing client, who gets its own notifications in its reply buffer.
fn publisher_of<'p>(me: &'p mut Option<(u64, &mut ReplyWriter)>) -> Publisher<'p> {
    match me {
        Some((id, out)) => Publisher {
            id: *id,
            out: Some(&mut **out),
        },
        None => Publisher { id: 0, out: None },
    }
}
