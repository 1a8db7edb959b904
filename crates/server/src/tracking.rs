//! Client-side caching (CLIENT TRACKING): which clients may hold which keys, and
//! the invalidation messages sent when those keys change.

use crate::server::Server;
use bytes::Bytes;

/// Sends invalidations for modified keys and flushed databases.
pub fn invalidate(
    _srv: &Server,
    _touched: &[(usize, Bytes)],
    _flushed: &[usize],
    _me: Option<u64>,
) {
}

#[derive(Default)]
pub struct Tracking {
    /// Clients with tracking on.
    pub clients: std::sync::atomic::AtomicUsize,
}
