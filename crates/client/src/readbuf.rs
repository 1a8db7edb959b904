//! The read side shared by both clients: bytes received but not yet parsed.
//!
//! Invariant: `buf` always starts at the first byte of the next reply; a parsed
//! frame's bytes are consumed and whatever follows stays for the next call.

use crate::ClientError;
use bytes::{Buf, BytesMut};
use shoal_resp::{parse_frame, Frame};

/// How much room a read asks for at least; grows with the buffered data so that a
/// large reply arrives in a number of reads logarithmic in its size.
const MIN_READ: usize = 16 * 1024;

#[derive(Default)]
pub(crate) struct ReadBuf {
    buf: BytesMut,
}

impl ReadBuf {
    /// A complete frame from the buffer, if there is one.
    pub(crate) fn try_frame(&mut self) -> Result<Option<Frame>, ClientError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        match parse_frame(&self.buf) {
            Ok(Some((frame, used))) => {
                self.buf.advance(used);
                Ok(Some(frame))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(ClientError::Protocol(e.0)),
        }
    }

    /// Room to read into: the spare capacity after making some.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        let want = MIN_READ.max(self.buf.len());
        let len = self.buf.len();
        // The zeroed tail is cut back by `filled`; zeroing keeps this safe code.
        self.buf.resize(len + want, 0);
        &mut self.buf[len..]
    }

    /// Keeps `n` of the bytes just read into `spare()`.
    pub(crate) fn filled(&mut self, spare_len: usize, n: usize) {
        let keep = self.buf.len() - spare_len + n;
        self.buf.truncate(keep);
    }

    /// Bytes received and not yet parsed.
    pub(crate) fn pending(&self) -> usize {
        self.buf.len()
    }
}
