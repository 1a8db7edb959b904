//! The read side shared by both clients: bytes received but not yet parsed, and
//! the resumable decoder that consumes them.
//!
//! Invariant: `buf` holds exactly the bytes after the last consumed token; the
//! decoder keeps the partial state of a reply that is still arriving, so a large
//! reply is parsed once, whatever the number of reads, and its payloads share the
//! read buffer's memory.

use crate::ClientError;
use bytes::BytesMut;
use shoal_resp::{Frame, FrameDecoder};

/// How much room a read asks for at least; grows with the buffered data so that a
/// large payload arrives in a number of reads logarithmic in its size.
const MIN_READ: usize = 16 * 1024;

#[derive(Default)]
pub(crate) struct ReadBuf {
    buf: BytesMut,
    decoder: FrameDecoder,
}

impl ReadBuf {
    /// A complete frame from the buffer, if there is one.
    pub(crate) fn try_frame(&mut self) -> Result<Option<Frame>, ClientError> {
        if self.buf.is_empty() && !self.decoder.in_progress() {
            return Ok(None);
        }
        self.decoder
            .decode(&mut self.buf)
            .map_err(|e| ClientError::Protocol(format!("Protocol error: {}", e.0)))
    }

    /// Room to read into: zeroed spare space at the end of the buffer.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        let want = MIN_READ.max(self.buf.len());
        let len = self.buf.len();
        // Zeroing keeps this safe code; `filled` cuts the unused tail again.
        self.buf.resize(len + want, 0);
        &mut self.buf[len..]
    }

    /// Keeps `n` of the `spare_len` bytes just offered by `spare()`.
    pub(crate) fn filled(&mut self, spare_len: usize, n: usize) {
        let keep = self.buf.len() - spare_len + n;
        self.buf.truncate(keep);
    }

    /// Bytes received and not yet consumed by the decoder.
    pub(crate) fn pending(&self) -> usize {
        self.buf.len()
    }
}
