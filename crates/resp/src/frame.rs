//! The reply parser for clients (CLI, test harness, replication client), and the
//! encoding of commands as multibulk arrays.
//!
//! It reads every RESP2 and RESP3 type a server sends: `+ - : $ *` and
//! `_ , # ( ! = % ~ > |`. A RESP3 blob error (`!`) is returned as [`Frame::Error`];
//! streamed strings and aggregates (`$?`, `*?`) are refused since Redis never sends
//! them. Lines must end in CRLF and bulk payloads must be followed by CRLF.
//!
//! Invariants: nesting deeper than [`MAX_FRAME_DEPTH`] is an error (the parser is
//! iterative, so depth costs heap, not stack); aggregates pre-allocate at most 1024
//! slots whatever count they announce, so memory follows the bytes received.
//! [`parse_frame`] is stateless and copies payloads; [`FrameDecoder`] keeps partial
//! state between calls, consumes what it has parsed and shares the buffer's memory.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;
use std::ops::Range;

use crate::num::parse_i64_lenient;

/// Deepest nesting of aggregates accepted.
pub const MAX_FRAME_DEPTH: usize = 512;
const PREALLOC_MAX: usize = 1024;

/// One RESP value, as received.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    Simple(Bytes),
    Error(Bytes),
    Integer(i64),
    Bulk(Bytes),
    /// `$-1` (RESP2) or `_` (RESP3).
    Null,
    /// `*-1`.
    NullArray,
    Array(Vec<Frame>),
    Map(Vec<(Frame, Frame)>),
    Set(Vec<Frame>),
    Push(Vec<Frame>),
    /// The text of the double as sent (`1.5`, `inf`, `-nan`, ...).
    Double(Bytes),
    Boolean(bool),
    BigNumber(Bytes),
    Verbatim {
        format: Bytes,
        text: Bytes,
    },
    /// Attributes and the value they annotate.
    Attribute(Vec<(Frame, Frame)>, Box<Frame>),
}

/// A malformed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError(pub String);

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RESP protocol error: {}", self.0)
    }
}

impl std::error::Error for FrameError {}

fn err<T>(msg: impl Into<String>) -> Result<T, FrameError> {
    Err(FrameError(msg.into()))
}

/// A leaf value whose payloads are ranges of the token's bytes.
#[derive(Debug)]
enum Leaf {
    Simple(Range<usize>),
    Error(Range<usize>),
    Integer(i64),
    Bulk(Range<usize>),
    Null,
    NullArray,
    Double(Range<usize>),
    Boolean(bool),
    BigNumber(Range<usize>),
    Verbatim(Range<usize>, Range<usize>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AggKind {
    Array,
    Map,
    Set,
    Push,
    Attribute,
}

/// One step of parsing: a leaf, or the header of an aggregate with its element count.
#[derive(Debug)]
enum Token {
    Leaf(Leaf),
    Agg(AggKind, usize),
}

/// Finds the CRLF-terminated line starting at 1 (after the type byte). Returns the
/// line's end (index of `\r`), or `None` if incomplete.
fn line_end(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    match buf.iter().skip(1).position(|&b| b == b'\r') {
        None => Ok(None),
        Some(i) => {
            let cr = i + 1;
            match buf.get(cr + 1) {
                None => Ok(None),
                Some(b'\n') => Ok(Some(cr)),
                Some(_) => err("expected LF after CR"),
            }
        }
    }
}

/// Reads one token at the front of `buf`: `Ok(Some((token, consumed)))`.
fn next_token(buf: &[u8]) -> Result<Option<(Token, usize)>, FrameError> {
    let Some(&ty) = buf.first() else {
        return Ok(None);
    };
    let Some(cr) = line_end(buf)? else {
        return Ok(None);
    };
    let line = 1..cr;
    let after = cr + 2;
    let int = |what: &str| -> Result<i64, FrameError> {
        match parse_i64_lenient(&buf[1..cr]) {
            Some(n) => Ok(n),
            None => err(format!(
                "invalid {what} '{}'",
                String::from_utf8_lossy(&buf[1..cr.min(40)])
            )),
        }
    };
    let leaf = |l: Leaf| Ok(Some((Token::Leaf(l), after)));
    match ty {
        b'+' => leaf(Leaf::Simple(line)),
        b'-' => leaf(Leaf::Error(line)),
        b':' => leaf(Leaf::Integer(int("integer")?)),
        b',' => leaf(Leaf::Double(line)),
        b'(' => leaf(Leaf::BigNumber(line)),
        b'#' => match &buf[line] {
            b"t" => leaf(Leaf::Boolean(true)),
            b"f" => leaf(Leaf::Boolean(false)),
            _ => err("invalid boolean"),
        },
        b'_' => {
            if cr != 1 {
                return err("invalid null");
            }
            leaf(Leaf::Null)
        }
        b'$' | b'!' | b'=' => {
            if &buf[line.clone()] == b"?" {
                return err("streamed strings are not supported");
            }
            let n = int("bulk length")?;
            if n == -1 && ty == b'$' {
                return leaf(Leaf::Null);
            }
            let Ok(n) = usize::try_from(n) else {
                return err("invalid bulk length");
            };
            let Some(end) = after.checked_add(n) else {
                return err("invalid bulk length");
            };
            if buf.len() < end.saturating_add(2) {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return err("bulk payload not followed by CRLF");
            }
            let payload = after..end;
            let l = match ty {
                b'$' => Leaf::Bulk(payload),
                b'!' => Leaf::Error(payload),
                _ => {
                    if n < 4 || buf[after + 3] != b':' {
                        return err("invalid verbatim string");
                    }
                    Leaf::Verbatim(after..after + 3, after + 4..end)
                }
            };
            Ok(Some((Token::Leaf(l), end + 2)))
        }
        b'*' | b'%' | b'~' | b'>' | b'|' => {
            if &buf[line.clone()] == b"?" {
                return err("streamed aggregates are not supported");
            }
            let n = int("aggregate length")?;
            if n == -1 && ty == b'*' {
                return leaf(Leaf::NullArray);
            }
            let Ok(n) = usize::try_from(n) else {
                return err("invalid aggregate length");
            };
            let kind = match ty {
                b'*' => AggKind::Array,
                b'%' => AggKind::Map,
                b'~' => AggKind::Set,
                b'>' => AggKind::Push,
                _ => AggKind::Attribute,
            };
            Ok(Some((Token::Agg(kind, n), after)))
        }
        other => err(format!("unexpected type byte 0x{other:02x}")),
    }
}

fn leaf_frame(l: Leaf, bytes: &impl Fn(Range<usize>) -> Bytes) -> Frame {
    match l {
        Leaf::Simple(r) => Frame::Simple(bytes(r)),
        Leaf::Error(r) => Frame::Error(bytes(r)),
        Leaf::Integer(n) => Frame::Integer(n),
        Leaf::Bulk(r) => Frame::Bulk(bytes(r)),
        Leaf::Null => Frame::Null,
        Leaf::NullArray => Frame::NullArray,
        Leaf::Double(r) => Frame::Double(bytes(r)),
        Leaf::Boolean(b) => Frame::Boolean(b),
        Leaf::BigNumber(r) => Frame::BigNumber(bytes(r)),
        Leaf::Verbatim(f, t) => Frame::Verbatim {
            format: bytes(f),
            text: bytes(t),
        },
    }
}

/// An aggregate being filled.
#[derive(Debug)]
struct Level {
    kind: AggKind,
    /// Elements still expected (for maps and attributes: keys plus values).
    left: usize,
    items: Vec<Frame>,
    /// For an attribute whose pairs are complete: the pairs, waiting for the value.
    attrs: Option<Vec<(Frame, Frame)>>,
}

fn pairs(items: Vec<Frame>) -> Vec<(Frame, Frame)> {
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

/// The stack of open aggregates; shared by [`parse_frame`] and [`FrameDecoder`].
#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Level>,
}

impl Builder {
    /// Opens an aggregate; returns a frame if it completed at once (empty aggregate
    /// at the top level).
    fn open(&mut self, kind: AggKind, n: usize) -> Result<Option<Frame>, FrameError> {
        if self.stack.len() >= MAX_FRAME_DEPTH {
            return err("nesting too deep");
        }
        let left = match kind {
            AggKind::Map | AggKind::Attribute => match n.checked_mul(2) {
                Some(l) => l,
                None => return err("invalid aggregate length"),
            },
            _ => n,
        };
        self.stack.push(Level {
            kind,
            left,
            items: Vec::with_capacity(left.min(PREALLOC_MAX)),
            attrs: None,
        });
        if left == 0 {
            return Ok(self.close_ready());
        }
        Ok(None)
    }

    /// Completes the top levels that have all their elements; returns the top-level
    /// frame if everything is complete.
    fn close_ready(&mut self) -> Option<Frame> {
        loop {
            let top = self.stack.last_mut()?;
            if top.left > 0 {
                return None;
            }
            if top.kind == AggKind::Attribute && top.attrs.is_none() {
                // The pairs are in: now wait for the annotated value.
                top.attrs = Some(pairs(std::mem::take(&mut top.items)));
                top.left = 1;
                return None;
            }
            let level = self.stack.pop()?;
            let frame = match level.kind {
                AggKind::Array => Frame::Array(level.items),
                AggKind::Set => Frame::Set(level.items),
                AggKind::Push => Frame::Push(level.items),
                AggKind::Map => Frame::Map(pairs(level.items)),
                AggKind::Attribute => {
                    let value = level.items.into_iter().next().unwrap_or(Frame::Null);
                    Frame::Attribute(level.attrs.unwrap_or_default(), Box::new(value))
                }
            };
            if let Some(f) = self.add(frame) {
                return Some(f);
            }
        }
    }

    /// Adds a complete value to the innermost aggregate, or returns it if there is none.
    fn add(&mut self, frame: Frame) -> Option<Frame> {
        match self.stack.last_mut() {
            None => Some(frame),
            Some(top) => {
                top.items.push(frame);
                top.left -= 1;
                None
            }
        }
    }

    fn value(&mut self, frame: Frame) -> Option<Frame> {
        if let Some(f) = self.add(frame) {
            return Some(f);
        }
        self.close_ready()
    }
}

/// Parse one complete frame from the front of `buf`: `Ok(Some((frame, consumed)))`,
/// `Ok(None)` if incomplete. Payloads are copied out of `buf`.
pub fn parse_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
    let mut builder = Builder::default();
    let mut pos = 0;
    loop {
        let Some((token, used)) = next_token(&buf[pos..])? else {
            return Ok(None);
        };
        let base = pos;
        pos += used;
        let done = match token {
            Token::Leaf(l) => {
                let f = leaf_frame(l, &|r: Range<usize>| {
                    Bytes::copy_from_slice(&buf[base + r.start..base + r.end])
                });
                builder.value(f)
            }
            Token::Agg(kind, n) => builder.open(kind, n)?,
        };
        if let Some(f) = done {
            return Ok(Some((f, pos)));
        }
    }
}

/// A resumable reply parser: parses frames from a read buffer, consuming each part as
/// soon as it is complete, so a large reply arriving in pieces is parsed once.
/// Payloads share the buffer's memory.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    builder: Builder,
}

impl FrameDecoder {
    pub fn new() -> Self {
        FrameDecoder::default()
    }

    /// True when a frame is partially parsed.
    pub fn in_progress(&self) -> bool {
        !self.builder.stack.is_empty()
    }

    /// Parse the next frame from the front of `buf`, consuming its bytes. `Ok(None)`
    /// when more bytes are needed (the state is kept). After an error the state is
    /// reset; the stream cannot be trusted any more.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        loop {
            let (token, used) = match next_token(buf) {
                Ok(Some(t)) => t,
                Ok(None) => return Ok(None),
                Err(e) => {
                    self.builder.stack.clear();
                    return Err(e);
                }
            };
            let chunk = buf.split_to(used).freeze();
            let done = match token {
                Token::Leaf(l) => self.builder.value(leaf_frame(l, &|r| chunk.slice(r))),
                Token::Agg(kind, n) => match self.builder.open(kind, n) {
                    Ok(d) => d,
                    Err(e) => {
                        self.builder.stack.clear();
                        return Err(e);
                    }
                },
            };
            if let Some(f) = done {
                return Ok(Some(f));
            }
        }
    }
}

/// Encode a command as a RESP multibulk array.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A], out: &mut BytesMut) {
    let total: usize = args.iter().map(|a| a.as_ref().len() + 16).sum();
    out.reserve(total + 16);
    put_command(out, args.iter().map(|a| a.as_ref()));
}

/// Appends `*<n>\r\n`, the header of a multibulk of `n` elements.
pub fn put_array_header(out: &mut impl BufMut, n: usize) {
    out.put_u8(b'*');
    out.put_slice(itoa::Buffer::new().format(n).as_bytes());
    out.put_slice(b"\r\n");
}

/// Appends one bulk string: `$<len>\r\n<bytes>\r\n`.
pub fn put_bulk(out: &mut impl BufMut, b: &[u8]) {
    out.put_u8(b'$');
    out.put_slice(itoa::Buffer::new().format(b.len()).as_bytes());
    out.put_slice(b"\r\n");
    out.put_slice(b);
    out.put_slice(b"\r\n");
}

/// Appends a command as a RESP multibulk array of bulk strings: the form of
/// client requests, of the replication stream and of the AOF.
pub fn put_command<'a>(out: &mut impl BufMut, argv: impl ExactSizeIterator<Item = &'a [u8]>) {
    put_array_header(out, argv.len());
    for a in argv {
        put_bulk(out, a);
    }
}

/// Encodes a frame in RESP3 (for test servers and round trips), so that
/// [`parse_frame`] gives back any frame it produced: `Null` is written `_`, and an
/// error holding CR or LF is written as a blob error (`!`). A simple string is written
/// as it is: one holding CR cannot be encoded faithfully (and is never parsed).
pub fn encode_frame(frame: &Frame, out: &mut BytesMut) {
    // Explicit stack: frames may be deeply nested.
    let mut todo: Vec<&Frame> = vec![frame];
    let mut ib = itoa::Buffer::new();
    let mut header = |out: &mut BytesMut, p: u8, n: usize| {
        out.put_u8(p);
        out.put_slice(ib.format(n).as_bytes());
        out.put_slice(b"\r\n");
    };
    while let Some(f) = todo.pop() {
        match f {
            Frame::Simple(s) => {
                out.put_u8(b'+');
                out.put_slice(s);
                out.put_slice(b"\r\n");
            }
            Frame::Error(s) => {
                if s.iter().any(|&b| b == b'\r' || b == b'\n') {
                    header(out, b'!', s.len());
                } else {
                    out.put_u8(b'-');
                }
                out.put_slice(s);
                out.put_slice(b"\r\n");
            }
            Frame::Integer(n) => {
                out.put_u8(b':');
                out.put_slice(itoa::Buffer::new().format(*n).as_bytes());
                out.put_slice(b"\r\n");
            }
            Frame::Bulk(b) => {
                header(out, b'$', b.len());
                out.put_slice(b);
                out.put_slice(b"\r\n");
            }
            Frame::Null => out.put_slice(b"_\r\n"),
            Frame::NullArray => out.put_slice(b"*-1\r\n"),
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                let p = match f {
                    Frame::Array(_) => b'*',
                    Frame::Set(_) => b'~',
                    _ => b'>',
                };
                header(out, p, items.len());
                todo.extend(items.iter().rev());
            }
            Frame::Map(kv) => {
                header(out, b'%', kv.len());
                for (k, v) in kv.iter().rev() {
                    todo.push(v);
                    todo.push(k);
                }
            }
            Frame::Attribute(kv, value) => {
                header(out, b'|', kv.len());
                todo.push(value);
                for (k, v) in kv.iter().rev() {
                    todo.push(v);
                    todo.push(k);
                }
            }
            Frame::Double(d) => {
                out.put_u8(b',');
                out.put_slice(d);
                out.put_slice(b"\r\n");
            }
            Frame::Boolean(b) => out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::BigNumber(n) => {
                out.put_u8(b'(');
                out.put_slice(n);
                out.put_slice(b"\r\n");
            }
            Frame::Verbatim { format, text } => {
                let mut fmt = [b' '; 3];
                for (slot, &b) in fmt.iter_mut().zip(format.iter()) {
                    *slot = b;
                }
                header(out, b'=', text.len() + 4);
                out.put_slice(&fmt);
                out.put_u8(b':');
                out.put_slice(text);
                out.put_slice(b"\r\n");
            }
        }
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
