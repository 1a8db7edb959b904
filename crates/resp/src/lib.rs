//! `shoal-resp`: the Redis wire protocol, bytes to frames and back. It knows no
//! command: it turns a client's bytes into argument vectors, encodes replies into a
//! buffer for RESP2 or RESP3, and parses replies for clients.
//!
//! | module | owns |
//! |---|---|
//! | [`request`] | the resumable request parser (multibulk and inline), its limits and protocol errors |
//! | [`inline`] | the inline tokenizer (Redis's quoting rules), also usable for config lines |
//! | [`reply`] | the reply encoder ([`ReplyWriter`]), RESP2/RESP3 differences, error bookkeeping |
//! | [`double`] | `%.17g` formatting of doubles, as Redis 7.0 prints them |
//! | [`frame`] | the reply parser for clients ([`Frame`], [`parse_frame`], [`FrameDecoder`]) and command encoding |
//!
//! Nothing in this crate panics on any input or allocates beyond what the input
//! (bounded by the configured limits) justifies; there is no `unsafe`.

#![forbid(unsafe_code)]

pub mod double;
pub mod frame;
pub mod inline;
mod num;
pub mod reply;
pub mod request;

pub use double::*;
pub use frame::*;
pub use inline::*;
pub use reply::*;
pub use request::*;
