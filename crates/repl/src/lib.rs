//! Replication without I/O, wire-compatible with Redis 7.0.15 (PSYNC2).
//!
//! This crate owns the parts of master–replica replication that are pure
//! decisions over bytes and offsets, so that the server drives them with real
//! sockets and timers while tests drive them in-process with a virtual clock
//! and a seeded RNG:
//!
//! - [`backlog`]: the replication backlog, a ring buffer addressed by
//!   replication offsets, and the INFO fields derived from it.
//! - [`ids`]: replication IDs (replid, replid2, second_repl_offset), the shift
//!   on promotion, and the master's PSYNC decision with its reply line.
//! - [`handshake`]: the replica side of the handshake (PING, AUTH, REPLCONF,
//!   PSYNC, the FULLRESYNC/CONTINUE reply and the RDB payload header) as a
//!   state machine `handle(now, event) -> Vec<Action>`.
//! - [`eof`]: the `$EOF:<40 bytes>` framing of a diskless (streamed) RDB
//!   payload, the marker found across chunk boundaries.
//!
//! Invariants the whole crate keeps:
//! - No I/O, no clock, no global randomness: time arrives as `now` (ms on any
//!   monotonic scale), randomness as a caller-provided `RngCore`.
//! - Offsets are `i64` as in Redis; `master_repl_offset` is the offset of the
//!   last byte fed, the first byte of a stream has offset 1.
//! - Nothing received from the network panics: a malformed line is a logged
//!   error and an [`handshake::Action::Abort`], never an `unwrap`.
//! - Log texts, reply lines and INFO field names are Redis 7.0.15's, checked
//!   against the real binaries (see each module).

pub mod backlog;
pub mod eof;
pub mod handshake;
pub mod ids;

pub use backlog::{Backlog, BacklogInfo};
pub use eof::{EofScan, EofScanner, EOF_MARK_LEN};
pub use handshake::{
    Action, CachedMaster, Event, Handshake, HandshakeConfig, LogLevel, PayloadFraming, RdbStart,
};
pub use ids::{psync_decide, FullResyncReason, PsyncDecision, ReplId, ReplIds};

/// Encodes a command as a RESP multibulk array, the form a replica sends its
/// handshake commands in (what Redis's replica writes, byte for byte).
pub fn encode_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    shoal_resp::put_command(&mut out, args.iter().copied());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_command_matches_redis_bytes() {
        assert_eq!(encode_command(&[b"PING"]), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            encode_command(&[b"PSYNC", b"?", b"-1"]),
            b"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n"
        );
    }
}
