//! `shoal-client`: a small RESP client used by the CLI, the tests, and later by
//! replication and Sentinel.
//!
//! Two clients with the same shape:
//!
//! | type | runtime | use |
//! |---|---|---|
//! | [`Client`] | blocking, `std::net` / `std::os::unix::net` | the CLI, tests, simple tools |
//! | [`AsyncClient`] | tokio | the server's outgoing links (replication, Sentinel, cluster) |
//!
//! Both connect over TCP or a Unix socket ([`Addr`]), and offer [`Client::call`]
//! (send one command, read one reply), [`Client::send`] / [`Client::read_frame`] for
//! pipelining and for streams of replies (MONITOR, SUBSCRIBE), and
//! [`Client::send_raw`] for bytes that are already RESP (`--pipe`).
//!
//! Error replies from the server are *replies*: `call` returns them as
//! `Ok(Frame::Error(..))`. Only the helpers that need a success ([`Client::auth`],
//! [`Client::select`], [`Client::hello`]) turn them into [`ClientError::Server`].
//!
//! In RESP3, out-of-band pushes (client-tracking invalidations, pub/sub messages)
//! arrive through the same calls as `Frame::Push`: a connection that enables them
//! reads with `read_frame` and sorts pushes from replies itself, as the CLI does.
//!
//! Replies are decoded by `shoal_resp::FrameDecoder`, which resumes where the last
//! read stopped; the read buffer keeps whatever follows a complete frame, so
//! pipelined replies are never lost.

#![forbid(unsafe_code)]

mod addr;
mod aio;
mod blocking;
mod error;
mod frame_ext;
mod readbuf;

pub use addr::{Addr, ToAddr};
pub use aio::AsyncClient;
pub use blocking::{Client, ClientReader, ClientWriter};
pub use error::ClientError;
pub use frame_ext::FrameExt;
pub use shoal_resp::Frame;
