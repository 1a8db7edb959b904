//! Freeing big values off the request path (UNLINK, FLUSHALL ASYNC, the
//! lazyfree-* directives): one background thread drops what it is sent.
//!
//! Handlers hand values over while they hold shard locks; sending is a channel
//! push, and the costly drop (walking a large collection) happens on the lazy-free
//! thread. Counters back INFO's `lazyfree_pending_objects` and `lazyfreed_objects`.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{channel, Sender};
use std::sync::OnceLock;

type Garbage = Box<dyn Send>;

static QUEUE: OnceLock<Mutex<Sender<Garbage>>> = OnceLock::new();
static PENDING: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

fn queue() -> &'static Mutex<Sender<Garbage>> {
    QUEUE.get_or_init(|| {
        let (tx, rx) = channel::<Garbage>();
        let spawned = std::thread::Builder::new()
            .name("shoal-lazyfree".into())
            .spawn(move || {
                for garbage in rx {
                    drop(garbage);
                    PENDING.fetch_sub(1, Relaxed);
                    FREED.fetch_add(1, Relaxed);
                }
            });
        // Without the thread the receiver is gone and `free_later` drops inline.
        let _ = spawned;
        Mutex::new(tx)
    })
}

/// Drops `value` on the lazy-free thread (inline if that thread is unavailable).
pub fn free_later<T: Send + 'static>(value: T) {
    PENDING.fetch_add(1, Relaxed);
    if let Err(garbage) = queue().lock().send(Box::new(value)) {
        PENDING.fetch_sub(1, Relaxed);
        drop(garbage);
    }
}

/// Objects waiting to be freed.
pub fn pending() -> u64 {
    PENDING.load(Relaxed)
}

/// Objects freed by the lazy-free thread since start.
pub fn freed() -> u64 {
    FREED.load(Relaxed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn frees_in_the_background() {
        let before = super::freed();
        super::free_later(vec![0u8; 1024]);
        for _ in 0..1000 {
            if super::freed() > before {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("nothing freed");
    }
}
