//! The request parser: turns the bytes a client sent into argument vectors, the way
//! Redis 7.0.15 reads its query buffer.
//!
//! A request is either *multibulk* (`*N\r\n` then N times `$len\r\n<bytes>\r\n`), when
//! its first byte is `*`, or *inline* (one line ending in `\n`, optionally `\r\n`,
//! split with [`split_args`](crate::split_args)'s quoting rules). Redis's quirks are
//! kept on purpose, since clients observe them:
//! - after a header's `\r` and after a bulk's payload Redis skips two bytes without
//!   checking they are `\r\n`;
//! - Redis searches lines as C strings, so a NUL byte before the line terminator hides
//!   the terminator: the request never completes and, once more than 64 KiB are
//!   pending, fails with the "too big" error of that line;
//! - `*0`, negative counts and empty inline lines are empty requests, skipped silently.
//!
//! Where Redis's outcome depends on how the bytes were split into reads (a line longer
//! than 64 KiB errs only if the terminator was not yet received when more than 64 KiB
//! were pending), the parser takes the worst case and errs whenever the terminator sits
//! more than 64 KiB into the line. The requests and the error returned therefore never
//! depend on how the input is chunked (the fuzz target checks it).
//!
//! Invariants: [`RequestParser::parse`] consumes exactly the bytes of the requests it
//! returns or skips as empty, plus the headers and complete arguments of a partial
//! request, whose state it keeps, so a large bulk arriving in pieces is never rescanned; argv capacity is
//! bounded (never trusts `N`); the only reservation sized by the peer is for a bulk of
//! at least 32 KiB that passed the `max_bulk_len` check. After an error the parser is
//! poisoned and returns the same error again: the connection must be closed.
//!
//! Arguments are `Bytes` split off the caller's read buffer without copying: they share
//! its allocation, so a handler that keeps a small argument for long (as a stored value)
//! should copy it rather than pin the whole read buffer.

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

use crate::inline::{tokenize, Token};
use crate::num::parse_i64_strict;

/// Longest inline request, or multibulk header line, Redis accepts (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;
/// Bulks of at least this size get a buffer reserved for them (`PROTO_MBULK_BIG_ARG`).
pub const MBULK_BIG_ARG: usize = 32 * 1024;
/// Largest multibulk count accepted from a client that still has to authenticate.
pub const UNAUTH_MAX_MULTIBULK_LEN: i64 = 10;
/// Largest bulk length accepted from a client that still has to authenticate.
pub const UNAUTH_MAX_BULK_LEN: i64 = 16 * 1024;
/// Largest multibulk count accepted at all (`INT_MAX`).
pub const MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;
/// Initial argv capacity bound, whatever count the client announced.
const ARGV_PREALLOC_MAX: usize = 1024;

/// Limits from the configuration that the parser enforces.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`: longest bulk argument; longer is "invalid bulk length".
    /// A master's replication stream is exempt in Redis: pass `usize::MAX` for it.
    pub max_bulk_len: usize,
    /// `client-query-buffer-limit`: see [`RequestParser::exceeds_query_limit`].
    pub max_query_buf: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_query_buf: 1024 * 1024 * 1024,
        }
    }
}

/// A protocol error: Redis replies with it and then closes the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// An inline request line longer than 64 KiB.
    TooBigInlineRequest,
    /// An inline request with an unclosed quote, or a closing quote not followed by a blank.
    UnbalancedQuotes,
    /// A multibulk count that is not an integer or exceeds `INT_MAX`.
    InvalidMultibulkLength,
    /// A bulk length that is not an integer, is negative or exceeds `max_bulk_len`.
    InvalidBulkLength,
    /// A bulk header that does not start with `$`; carries the byte found instead.
    ExpectedDollar(u8),
    /// A multibulk count line longer than 64 KiB.
    TooBigMbulkCount,
    /// A bulk length line longer than 64 KiB.
    TooBigBulkCount,
    /// A multibulk count above 10 from a client that must still authenticate.
    UnauthenticatedMultibulkLength,
    /// A bulk length above 16384 from a client that must still authenticate.
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The error reply without the leading `-` and trailing CRLF, e.g.
    /// `"ERR Protocol error: invalid multibulk length"`. For
    /// [`ProtocolError::ExpectedDollar`] with a non-ASCII byte, the text holds the
    /// byte's Unicode scalar (Latin-1 reading); [`ProtocolError::reply_bytes`] is exact.
    pub fn reply_text(&self) -> String {
        format!("ERR {self}")
    }

    /// The exact bytes Redis sends, without the leading `-` and trailing CRLF.
    pub fn reply_bytes(&self) -> Vec<u8> {
        match self {
            ProtocolError::ExpectedDollar(b) => {
                let mut v = b"ERR Protocol error: expected '$', got '".to_vec();
                v.push(sanitize_byte(*b));
                v.push(b'\'');
                v
            }
            other => other.reply_text().into_bytes(),
        }
    }

    /// The short reason Redis puts in its log line ("Protocol error (%s) from client").
    pub fn log_reason(&self) -> &'static str {
        match self {
            ProtocolError::TooBigInlineRequest => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in inline request",
            ProtocolError::InvalidMultibulkLength => "invalid mbulk count",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::ExpectedDollar(_) => "expected $ but got something else",
            ProtocolError::TooBigMbulkCount => "too big mbulk count string",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::UnauthenticatedMultibulkLength => "unauth mbulk count",
            ProtocolError::UnauthenticatedBulkLength => "unauth bulk length",
        }
    }
}

/// Redis maps CR and LF in error replies to spaces.
fn sanitize_byte(b: u8) -> u8 {
    if b == b'\r' || b == b'\n' {
        b' '
    } else {
        b
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            ProtocolError::TooBigInlineRequest => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in request",
            ProtocolError::InvalidMultibulkLength => "invalid multibulk length",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::ExpectedDollar(b) => {
                return write!(
                    f,
                    "Protocol error: expected '$', got '{}'",
                    char::from(sanitize_byte(*b))
                );
            }
            ProtocolError::TooBigMbulkCount => "too big mbulk count string",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::UnauthenticatedMultibulkLength => "unauthenticated multibulk length",
            ProtocolError::UnauthenticatedBulkLength => "unauthenticated bulk length",
        };
        write!(f, "Protocol error: {what}")
    }
}

impl std::error::Error for ProtocolError {}

/// What kind of request is being parsed (Redis's `reqtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    None,
    Inline,
    Multibulk,
}

/// Result of looking for a line terminator.
enum LineEnd {
    /// The terminator is at this index.
    At(usize),
    /// Not received yet (everything before `scanned` is known not to hold it).
    NotYet,
    /// A NUL byte comes first: Redis will never see the terminator.
    Hidden,
}

/// The resumable request parser. One per connection.
#[derive(Debug)]
pub struct RequestParser {
    limits: Limits,
    auth_required: bool,
    kind: Kind,
    /// Arguments still expected by the current multibulk request (0: header not read).
    multibulk_left: usize,
    /// Length of the bulk whose header has been consumed and whose payload is awaited.
    bulk_len: Option<usize>,
    argv: Vec<Bytes>,
    /// An emptied argv handed back by the caller, reused for the next request so
    /// that steady-state parsing allocates no vector.
    spare: Vec<Bytes>,
    /// Scratch space of the fast path: (start, end) of each argument.
    spans: Vec<(usize, usize)>,
    /// Bytes at the front of the buffer already searched for the current line's
    /// terminator without success.
    scanned: usize,
    /// A NUL byte hides the current line's terminator.
    hidden: bool,
    poisoned: Option<ProtocolError>,
}

enum Step {
    Incomplete,
    Done(Vec<Bytes>),
}

impl RequestParser {
    /// A parser enforcing `limits`, for a client that needs no authentication.
    pub fn new(limits: Limits) -> Self {
        RequestParser {
            limits,
            auth_required: false,
            kind: Kind::None,
            multibulk_left: 0,
            bulk_len: None,
            argv: Vec::new(),
            spare: Vec::new(),
            spans: Vec::new(),
            scanned: 0,
            hidden: false,
            poisoned: None,
        }
    }

    /// Changes the limits (after `CONFIG SET`); they apply from the next header read.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether the client must still authenticate. Redis then refuses multibulk counts
    /// above 10 ([`UNAUTH_MAX_MULTIBULK_LEN`]) and bulks above 16384 bytes
    /// ([`UNAUTH_MAX_BULK_LEN`]) with "unauthenticated multibulk/bulk length". Since
    /// [`parse`](Self::parse) returns one request at a time, the caller clears this
    /// right after a successful AUTH/HELLO and the next pipelined request gets the
    /// normal limits, as in Redis.
    pub fn set_auth_required(&mut self, required: bool) {
        self.auth_required = required;
    }

    /// See [`set_auth_required`](Self::set_auth_required).
    pub fn auth_required(&self) -> bool {
        self.auth_required
    }

    /// Hands back an argv returned by [`parse`](Self::parse) once the caller is done
    /// with it; its allocation is reused (small vectors only).
    pub fn recycle(&mut self, mut argv: Vec<Bytes>) {
        argv.clear();
        if argv.capacity() <= ARGV_PREALLOC_MAX && argv.capacity() > self.spare.capacity() {
            self.spare = argv;
        }
    }

    /// True when a request is partially parsed: its first bytes have been seen but it
    /// is not complete.
    pub fn in_progress(&self) -> bool {
        self.kind != Kind::None
    }

    /// The announced length of the bulk whose payload is being awaited, if any. A
    /// server can use it, like Redis, to read exactly the rest of a big argument.
    pub fn pending_bulk_len(&self) -> Option<usize> {
        self.bulk_len
    }

    /// Whether `buffered` bytes of unparsed input exceed `client-query-buffer-limit`.
    /// `buffered` is the read buffer's length right after a read, before parsing: it
    /// includes the pending part of a big argument, but neither the arguments already
    /// split off for a partial request nor commands queued by MULTI (Redis 7.0.15 counts
    /// neither). When true, Redis closes the client without a reply. Redis 7.0.15 has no
    /// smaller query buffer limit for unauthenticated clients, and masters are exempt.
    pub fn exceeds_query_limit(&self, buffered: usize) -> bool {
        buffered > self.limits.max_query_buf
    }

    fn reset(&mut self) {
        self.kind = Kind::None;
        self.multibulk_left = 0;
        self.bulk_len = None;
        self.scanned = 0;
        self.hidden = false;
    }

    fn fail(&mut self, e: ProtocolError) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        self.reset();
        self.argv = Vec::new();
        self.poisoned = Some(e.clone());
        Err(e)
    }

    /// Parse one request from the front of `buf`, consuming its bytes. `Ok(Some(argv))`
    /// is a complete, non-empty request (argv are zero-copy `Bytes` split off `buf`);
    /// `Ok(None)` means more bytes are needed (partial state is kept); `Err` is a
    /// protocol error: the caller writes `-{reply_text}\r\n` (byte-exact:
    /// [`ReplyWriter::protocol_error`](crate::ReplyWriter::protocol_error)) and closes
    /// the connection. Empty requests (`*0\r\n`, `*-1\r\n`, blank inline lines) are skipped silently.
    pub fn parse(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        loop {
            if self.kind == Kind::None {
                match buf.first() {
                    None => return Ok(None),
                    Some(b'*') => {
                        if let Some(argv) = self.parse_complete_multibulk(buf) {
                            return Ok(Some(argv));
                        }
                        self.kind = Kind::Multibulk
                    }
                    Some(_) => self.kind = Kind::Inline,
                }
            }
            let step = match self.kind {
                Kind::Inline => self.parse_inline(buf),
                _ => self.parse_multibulk(buf),
            };
            match step {
                Err(e) => return self.fail(e),
                Ok(Step::Incomplete) => return Ok(None),
                Ok(Step::Done(argv)) => {
                    self.reset();
                    if !argv.is_empty() {
                        return Ok(Some(argv));
                    }
                }
            }
        }
    }

    /// The fast path for the common case: a well-formed multibulk request that is
    /// entirely in `buf`, with short headers and within the limits. It is split off
    /// in one piece and the arguments are slices of it. Anything else (incomplete,
    /// malformed, unusual) returns `None` without consuming, and the general parser,
    /// which knows every error and quirk, takes over.
    fn parse_complete_multibulk(&mut self, buf: &mut BytesMut) -> Option<Vec<Bytes>> {
        const MAX_FAST_ARGS: usize = 64;
        fn small_number(b: &[u8], at: usize) -> Option<(usize, usize)> {
            // Digits at `at` up to "\r\n"; returns (value, index after "\r\n").
            let mut v: usize = 0;
            let mut i = at;
            while i < b.len() && i - at < 12 {
                match b[i] {
                    d @ b'0'..=b'9' => {
                        if i > at && v == 0 {
                            return None; // leading zero: leave it to the general parser
                        }
                        v = v * 10 + (d - b'0') as usize;
                    }
                    b'\r' if i > at && i + 1 < b.len() && b[i + 1] == b'\n' => {
                        return Some((v, i + 2));
                    }
                    _ => return None,
                }
                i += 1;
            }
            None
        }
        let b = &buf[..];
        let (n, mut pos) = small_number(b, 1)?;
        if n == 0
            || n > MAX_FAST_ARGS
            || (self.auth_required && n as i64 > UNAUTH_MAX_MULTIBULK_LEN)
        {
            return None;
        }
        self.spans.clear();
        for _ in 0..n {
            if b.get(pos) != Some(&b'$') {
                return None;
            }
            let (len, start) = small_number(b, pos + 1)?;
            if len > self.limits.max_bulk_len
                || (self.auth_required && len as i64 > UNAUTH_MAX_BULK_LEN)
            {
                return None;
            }
            let end = start.checked_add(len)?;
            if end + 2 > b.len() || b[end] != b'\r' || b[end + 1] != b'\n' {
                return None;
            }
            self.spans.push((start, end));
            pos = end + 2;
        }
        let frame = buf.split_to(pos).freeze();
        let mut argv = std::mem::take(&mut self.spare);
        argv.extend(self.spans.iter().map(|&(s, e)| frame.slice(s..e)));
        Some(argv)
    }

    /// Looks for `term` in `buf` (a line starting at 0) the way Redis's `strchr` does,
    /// resuming where the previous call stopped.
    fn find_line_end(&mut self, buf: &[u8], term: u8) -> LineEnd {
        if self.hidden {
            return LineEnd::Hidden;
        }
        let from = self.scanned.min(buf.len());
        match buf[from..].iter().position(|&b| b == term || b == 0) {
            Some(i) if buf[from + i] == term => LineEnd::At(from + i),
            Some(_) => {
                self.hidden = true;
                LineEnd::Hidden
            }
            None => {
                self.scanned = buf.len();
                LineEnd::NotYet
            }
        }
    }

    fn parse_inline(&mut self, buf: &mut BytesMut) -> Result<Step, ProtocolError> {
        let nl = match self.find_line_end(buf, b'\n') {
            LineEnd::At(i) if i <= INLINE_MAX_SIZE => i,
            LineEnd::At(_) => return Err(ProtocolError::TooBigInlineRequest),
            LineEnd::NotYet | LineEnd::Hidden => {
                return if buf.len() > INLINE_MAX_SIZE {
                    Err(ProtocolError::TooBigInlineRequest)
                } else {
                    Ok(Step::Incomplete)
                };
            }
        };
        let line_len = if nl > 0 && buf[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let tokens = tokenize(&buf[..line_len]).ok_or(ProtocolError::UnbalancedQuotes)?;
        let line = buf.split_to(nl + 1).freeze();
        let argv = tokens
            .into_iter()
            .map(|t| match t {
                Token::Span(r) => line.slice(r),
                Token::Owned(v) => Bytes::from(v),
            })
            .collect();
        Ok(Step::Done(argv))
    }

    /// Finds a header line (`*N` or `$len`) terminated by `\r` plus one more byte.
    /// Returns the index of the `\r`, or `None` if it has not fully arrived.
    fn header_line(
        &mut self,
        buf: &[u8],
        too_big: ProtocolError,
    ) -> Result<Option<usize>, ProtocolError> {
        match self.find_line_end(buf, b'\r') {
            LineEnd::At(i) if i > INLINE_MAX_SIZE => Err(too_big),
            // Redis wants one byte after the `\r` (it does not check it is `\n`).
            LineEnd::At(i) if i + 2 <= buf.len() => Ok(Some(i)),
            LineEnd::At(_) => Ok(None),
            LineEnd::NotYet | LineEnd::Hidden => {
                if buf.len() > INLINE_MAX_SIZE {
                    Err(too_big)
                } else {
                    Ok(None)
                }
            }
        }
    }

    fn parse_multibulk(&mut self, buf: &mut BytesMut) -> Result<Step, ProtocolError> {
        if self.multibulk_left == 0 {
            let Some(cr) = self.header_line(buf, ProtocolError::TooBigMbulkCount)? else {
                return Ok(Step::Incomplete);
            };
            // buf[0] is the `*` that chose this request kind, so the count is buf[1..cr].
            let digits = buf.get(1..cr).unwrap_or(&[]);
            let n = match parse_i64_strict(digits) {
                Some(n) if n <= MAX_MULTIBULK_LEN => n,
                _ => return Err(ProtocolError::InvalidMultibulkLength),
            };
            if n > UNAUTH_MAX_MULTIBULK_LEN && self.auth_required {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            buf.advance(cr + 2);
            self.scanned = 0;
            self.hidden = false;
            if n <= 0 {
                return Ok(Step::Done(Vec::new()));
            }
            // 1 <= n <= INT_MAX, so the conversion cannot fail on 32- or 64-bit targets.
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            self.multibulk_left = n;
            let mut argv = std::mem::take(&mut self.spare);
            argv.reserve(n.min(ARGV_PREALLOC_MAX));
            self.argv = argv;
        }
        while self.multibulk_left > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    let Some(cr) = self.header_line(buf, ProtocolError::TooBigBulkCount)? else {
                        return Ok(Step::Incomplete);
                    };
                    if buf[0] != b'$' {
                        return Err(ProtocolError::ExpectedDollar(buf[0]));
                    }
                    let len = match parse_i64_strict(&buf[1..cr]) {
                        Some(l) if l >= 0 => l,
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    let len = match usize::try_from(len) {
                        Ok(l) if l <= self.limits.max_bulk_len => l,
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    if len as u64 > UNAUTH_MAX_BULK_LEN as u64 && self.auth_required {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    buf.advance(cr + 2);
                    self.scanned = 0;
                    self.hidden = false;
                    self.reserve_for_big_arg(buf, len);
                    self.bulk_len = Some(len);
                    len
                }
            };
            // `len + 2` cannot overflow: len <= i64::MAX < usize::MAX - 2 on 64-bit
            // targets, and saturating keeps 32-bit targets correct (never complete).
            if buf.len() < len.saturating_add(2) {
                return Ok(Step::Incomplete);
            }
            let arg = buf.split_to(len).freeze();
            // Redis skips the two bytes after the payload without checking them.
            buf.advance(2);
            self.argv.push(arg);
            self.bulk_len = None;
            self.multibulk_left -= 1;
        }
        Ok(Step::Done(std::mem::take(&mut self.argv)))
    }

    /// Like Redis, make room for a big argument up front when the buffer holds nothing
    /// beyond it, so that it is received without repeated reallocation and copying.
    /// The size was checked against `max_bulk_len`, which bounds the reservation.
    fn reserve_for_big_arg(&self, buf: &mut BytesMut, len: usize) {
        const RESERVE_CAP: usize = isize::MAX as usize / 4;
        if !(MBULK_BIG_ARG..=RESERVE_CAP).contains(&len) {
            return;
        }
        let want = len + 2;
        if buf.len() <= want && buf.capacity() < want {
            buf.reserve(want - buf.len());
        }
    }
}

impl Default for RequestParser {
    fn default() -> Self {
        RequestParser::new(Limits::default())
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
