//! Suspending a client whose blocking command found nothing to serve.
//!
//! The command asked to wait ([`BlockOn`]); this registers it with the
//! [`Blocking`](crate::blocking::Blocking) registry, tries once more to serve it
//! (a key may have changed between the command's check and the registration, on
//! another thread), and hands the connection a future that resolves to its reply:
//! the served reply, or the timeout reply at the deadline.

use crate::blocking::{WaiterGuard, Wake};
use crate::registry::Entry;
use crate::server::{unix_ms, Server};
use crate::session::{Deferred, Session};
use bytes::Bytes;
use shoal_commands::BlockOn;
use std::sync::Arc;
use std::time::Duration;

pub fn suspend(srv: &Arc<Server>, s: &mut Session, e: &Entry, argv: &[Bytes], b: BlockOn) {
    let id = s.info.id;
    let argv = b.argv.unwrap_or_else(|| argv.to_vec());
    let keys: Vec<(usize, Bytes)> = b.keys.iter().map(|k| (s.db, k.clone())).collect();
    let mut rx = srv.blocking.register(
        s.info.clone(),
        s.db,
        s.proto,
        e.id,
        argv,
        b.keys,
        b.on_timeout,
    );
    // Closes the window between the command's look at its keys and the
    // registration.
    srv.blocking.serve(srv, &keys);
    let guard = WaiterGuard {
        srv: srv.clone(),
        id,
    };
    let on_timeout = b.on_timeout;
    let deadline = b.deadline_ms;
    s.block = Some(Box::pin(async move {
        let _guard = guard;
        let wait = async {
            match deadline {
                None => std::future::pending::<()>().await,
                Some(at) => {
                    let ms = (at - unix_ms()).max(0) as u64;
                    tokio::time::sleep(Duration::from_millis(ms)).await
                }
            }
        };
        tokio::select! {
            biased;
            r = &mut rx => Deferred::Wake(r.unwrap_or(Wake::Timeout(on_timeout))),
            _ = wait => {
                // Served at the last moment? Then the reply is already sent.
                match _guard.srv.blocking.remove(id) {
                    Some(_) => Deferred::Wake(Wake::Timeout(on_timeout)),
                    None => Deferred::Wake(rx.await.unwrap_or(Wake::Timeout(on_timeout))),
                }
            }
        }
    }));
}
