//! The reply encoder: writes replies straight into a byte buffer, in RESP2 or RESP3.
//!
//! RESP3-only types are downgraded for RESP2 clients as Redis 7.0 does: maps become
//! flat arrays of 2n elements, sets and pushes arrays, doubles and big numbers bulk
//! strings, booleans the integers 1 and 0, verbatim strings plain bulks, and both nulls
//! `$-1` / `*-1`.
//!
//! Invariants: every method appends exactly one complete RESP element (or aggregate
//! header) to `buf`; simple strings and errors never carry CR or LF (each is replaced by
//! a space), so a reply can never inject protocol; every error written is recorded by
//! its code (first word, as Redis's errorstats counts it) until
//! [`ReplyWriter::take_error_codes`].

use bytes::{BufMut, BytesMut};

use crate::double::double_text;
use crate::request::ProtocolError;

/// The protocol version a client speaks (`HELLO 2` / `HELLO 3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Resp2,
    Resp3,
}

/// A position in the buffer where an aggregate length will be inserted once known
/// (Redis's deferred lengths). Obtained from [`ReplyWriter::defer_len`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a deferred length must be set, or the reply is left without its header"]
pub struct DeferredLen {
    pos: usize,
}

/// Encodes replies into `buf` for a client speaking `proto`.
#[derive(Debug)]
pub struct ReplyWriter {
    pub buf: BytesMut,
    pub proto: Proto,
    error_codes: Vec<String>,
}

/// Redis looks for the end of an error code within the first 32 bytes of `-CODE ...`.
const ERROR_CODE_SCAN: usize = 31;

impl ReplyWriter {
    pub fn new(proto: Proto) -> Self {
        ReplyWriter {
            buf: BytesMut::new(),
            proto,
            error_codes: Vec::new(),
        }
    }

    fn resp3(&self) -> bool {
        self.proto == Proto::Resp3
    }

    fn crlf(&mut self) {
        self.buf.put_slice(b"\r\n");
    }

    /// `<prefix><n>\r\n`
    fn header(&mut self, prefix: u8, n: usize) {
        let mut ib = itoa::Buffer::new();
        self.buf.put_u8(prefix);
        self.buf.put_slice(ib.format(n).as_bytes());
        self.crlf();
    }

    /// Appends `s` with every CR and LF replaced by a space.
    fn put_sanitized(&mut self, s: &[u8]) {
        if !s.iter().any(|&b| b == b'\r' || b == b'\n') {
            self.buf.put_slice(s);
            return;
        }
        self.buf.reserve(s.len());
        for &b in s {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
    }

    /// `+s\r\n`; CR and LF in `s` become spaces.
    pub fn simple(&mut self, s: &str) {
        self.simple_bytes(s.as_bytes());
    }

    /// `+s\r\n` for arbitrary bytes; CR and LF become spaces.
    pub fn simple_bytes(&mut self, s: &[u8]) {
        self.buf.put_u8(b'+');
        self.put_sanitized(s);
        self.crlf();
    }

    /// `+OK\r\n`
    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    /// `-{msg}\r\n`. `msg` starts with the error code (`"ERR syntax error"`,
    /// `"WRONGTYPE Operation ..."`); a leading `-` is accepted and not doubled. CR and
    /// LF become spaces. The code is recorded for errorstats.
    pub fn error(&mut self, msg: &str) {
        self.error_bytes(msg.as_bytes());
    }

    /// [`error`](Self::error) for a message holding arbitrary bytes (such as an
    /// argument echoed back).
    pub fn error_bytes(&mut self, msg: &[u8]) {
        let msg = msg.strip_prefix(b"-").unwrap_or(msg);
        let start = self.buf.len() + 1;
        self.buf.put_u8(b'-');
        self.put_sanitized(msg);
        let end = self.buf.len();
        self.crlf();
        let written = &self.buf[start..end];
        let code = match written[..written.len().min(ERROR_CODE_SCAN)]
            .iter()
            .position(|&b| b == b' ')
        {
            Some(i) => String::from_utf8_lossy(&written[..i]).into_owned(),
            // Redis falls back to ERR when it finds no code.
            None => "ERR".to_owned(),
        };
        self.error_codes.push(code);
    }

    /// Writes a protocol error exactly as Redis does (byte for byte, code `ERR`).
    pub fn protocol_error(&mut self, e: &ProtocolError) {
        self.error_bytes(&e.reply_bytes());
    }

    /// `:v\r\n`
    pub fn int(&mut self, v: i64) {
        let mut ib = itoa::Buffer::new();
        self.buf.put_u8(b':');
        self.buf.put_slice(ib.format(v).as_bytes());
        self.crlf();
    }

    /// `$len\r\nb\r\n`
    pub fn bulk(&mut self, b: &[u8]) {
        self.header(b'$', b.len());
        self.buf.put_slice(b);
        self.crlf();
    }

    /// `$len\r\ns\r\n`
    pub fn bulk_str(&mut self, s: &str) {
        self.bulk(s.as_bytes());
    }

    /// An integer rendered as a bulk string, without allocating.
    pub fn bulk_int(&mut self, v: i64) {
        let mut ib = itoa::Buffer::new();
        let s = ib.format(v);
        self.bulk(s.as_bytes());
    }

    /// The null bulk: RESP2 `$-1`, RESP3 `_`.
    pub fn null(&mut self) {
        if self.resp3() {
            self.buf.put_slice(b"_\r\n");
        } else {
            self.buf.put_slice(b"$-1\r\n");
        }
    }

    /// The null array: RESP2 `*-1`, RESP3 `_`.
    pub fn null_array(&mut self) {
        if self.resp3() {
            self.buf.put_slice(b"_\r\n");
        } else {
            self.buf.put_slice(b"*-1\r\n");
        }
    }

    /// `*n`: an array of n elements follows.
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n);
    }

    /// A map of n key/value pairs follows: RESP3 `%n`, RESP2 `*2n`.
    pub fn map(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'%', n);
        } else {
            self.header(b'*', n.saturating_mul(2));
        }
    }

    /// A set of n elements follows: RESP3 `~n`, RESP2 `*n`.
    pub fn set(&mut self, n: usize) {
        self.header(if self.resp3() { b'~' } else { b'*' }, n);
    }

    /// A push message of n elements follows: RESP3 `>n`, RESP2 `*n`.
    pub fn push(&mut self, n: usize) {
        self.header(if self.resp3() { b'>' } else { b'*' }, n);
    }

    /// A double, formatted with `%.17g` (Redis 7.0): RESP3 `,d`, RESP2 a bulk string.
    pub fn double(&mut self, d: f64) {
        let t = double_text(d);
        if self.resp3() {
            self.buf.put_u8(b',');
            self.buf.put_slice(t.as_bytes());
            self.crlf();
        } else {
            self.bulk(t.as_bytes());
        }
    }

    /// RESP3 `#t` / `#f`; RESP2 `:1` / `:0`.
    pub fn boolean(&mut self, b: bool) {
        let s: &[u8] = match (self.resp3(), b) {
            (true, true) => b"#t\r\n",
            (true, false) => b"#f\r\n",
            (false, true) => b":1\r\n",
            (false, false) => b":0\r\n",
        };
        self.buf.put_slice(s);
    }

    /// A big number given as its decimal text: RESP3 `(s`, RESP2 a bulk string.
    pub fn big_number(&mut self, s: &str) {
        if self.resp3() {
            self.buf.put_u8(b'(');
            self.put_sanitized(s.as_bytes());
            self.crlf();
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// A verbatim string: RESP3 `=len\r\nfmt:text`, RESP2 a bulk of `text`. The format
    /// is three bytes; shorter is padded with spaces, longer is cut (as Redis does).
    pub fn verbatim(&mut self, format: &str, text: &[u8]) {
        if !self.resp3() {
            self.bulk(text);
            return;
        }
        let mut fmt = [b' '; 3];
        for (slot, &b) in fmt.iter_mut().zip(format.as_bytes()) {
            *slot = b;
        }
        self.header(b'=', text.len().saturating_add(4));
        self.buf.put_slice(&fmt);
        self.buf.put_u8(b':');
        self.buf.put_slice(text);
        self.crlf();
    }

    /// Pre-encoded bytes, appended as they are.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }

    /// Marks the current position to insert an aggregate header later, when the number
    /// of elements is known (for replies produced by a single pass over data).
    pub fn defer_len(&mut self) -> DeferredLen {
        DeferredLen {
            pos: self.buf.len(),
        }
    }

    /// Sets a deferred length as an array of n elements (`*n`).
    pub fn set_deferred_array(&mut self, d: DeferredLen, n: usize) {
        self.insert_header(d, b'*', n);
    }

    /// Sets a deferred length as a map of n pairs (RESP3 `%n`, RESP2 `*2n`).
    pub fn set_deferred_map(&mut self, d: DeferredLen, n: usize) {
        if self.resp3() {
            self.insert_header(d, b'%', n);
        } else {
            self.insert_header(d, b'*', n.saturating_mul(2));
        }
    }

    /// Sets a deferred length as a set of n elements (RESP3 `~n`, RESP2 `*n`).
    pub fn set_deferred_set(&mut self, d: DeferredLen, n: usize) {
        let prefix = if self.resp3() { b'~' } else { b'*' };
        self.insert_header(d, prefix, n);
    }

    fn insert_header(&mut self, d: DeferredLen, prefix: u8, n: usize) {
        let mut ib = itoa::Buffer::new();
        let digits = ib.format(n).as_bytes();
        let hlen = digits.len() + 3;
        // A truncate below the mark leaves nothing to prefix: put the header at the end.
        let pos = d.pos.min(self.buf.len());
        let old_len = self.buf.len();
        self.buf.resize(old_len + hlen, 0);
        self.buf.copy_within(pos..old_len, pos + hlen);
        let h = &mut self.buf[pos..pos + hlen];
        h[0] = prefix;
        h[1..1 + digits.len()].copy_from_slice(digits);
        h[hlen - 2..].copy_from_slice(b"\r\n");
    }

    /// The error codes (first word of each error reply, e.g. `"ERR"`, `"WRONGTYPE"`)
    /// written since the last call, oldest first, for INFO errorstats.
    pub fn take_error_codes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.error_codes)
    }

    /// Bytes in the buffer.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops the buffer past `len` (to discard a partly written reply). Error codes
    /// already recorded are kept.
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// Inserts already-encoded bytes at offset `at` (before replies written
    /// since), e.g. a push message generated while a command ran.
    pub fn insert_at(&mut self, at: usize, bytes: &[u8]) {
        let at = at.min(self.buf.len());
        let tail = self.buf.split_off(at);
        self.buf.extend_from_slice(bytes);
        self.buf.unsplit(tail);
    }
}

#[cfg(test)]
#[path = "reply_tests.rs"]
mod tests;
