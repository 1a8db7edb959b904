//! Reply rendering, byte for byte as redis-cli 7.0 prints it.
//!
//! Three forms:
//! - *standard* (a terminal): typed and quoted, `(integer) 1`, `"k"`, `(nil)`,
//!   numbered aggregates (`1)` arrays, `1~` sets, `1#` maps with `=>`), nested
//!   aggregates indented under their parent's number;
//! - *raw* (`--raw`, or stdout not a terminal): bare values, one element per line;
//! - *CSV* (`--csv`): one line per reply, aggregates flattened.
//!
//! RESP3 attributes are not shown; the reply they decorate is.

use shoal_resp::Frame;

/// Which of the three forms to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    Standard,
    Raw,
    Csv,
}

/// The delimiters of raw output (`-d`, `-D`).
#[derive(Debug, Clone)]
pub struct Delims {
    /// Between the elements of an aggregate.
    pub element: Vec<u8>,
    /// After the whole reply.
    pub reply: Vec<u8>,
}

impl Default for Delims {
    fn default() -> Self {
        Delims {
            element: b"\n".to_vec(),
            reply: b"\n".to_vec(),
        }
    }
}

/// The full text printed for one reply. `raw_strings` is set for commands whose
/// replies are text meant for people (INFO, CLIENT LIST, ...): those print raw
/// even on a terminal, without the trailing reply delimiter.
pub fn format_reply(f: &Frame, mode: OutputMode, raw_strings: bool, delims: &Delims) -> Vec<u8> {
    let mut out = Vec::new();
    if raw_strings {
        raw(f, &delims.element, &mut out);
        return out;
    }
    match mode {
        OutputMode::Standard => tty(f, b"", &mut out),
        OutputMode::Raw => {
            raw(f, &delims.element, &mut out);
            out.extend_from_slice(&delims.reply);
        }
        OutputMode::Csv => {
            csv(f, &mut out);
            out.push(b'\n');
        }
    }
    out
}

/// The standard (terminal) form.
pub fn format_tty(f: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    tty(f, b"", &mut out);
    out
}

/// The raw form with `\n` between elements, without a trailing delimiter.
pub fn format_raw(f: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    raw(f, b"\n", &mut out);
    out
}

/// The CSV form, without the trailing newline.
pub fn format_csv(f: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    csv(f, &mut out);
    out
}

/// A string as redis-cli quotes it: in double quotes, with `\\`, `\"`, `\n`, `\r`,
/// `\t`, `\a`, `\b` escaped, other printable ASCII as is, the rest as `\xhh`.
pub fn repr(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    repr_into(s, &mut out);
    out
}

fn repr_into(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

fn tty(f: &Frame, prefix: &[u8], out: &mut Vec<u8>) {
    match f {
        Frame::Error(e) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(e);
            out.push(b'\n');
        }
        Frame::Simple(s) => {
            out.extend_from_slice(s);
            out.push(b'\n');
        }
        Frame::Integer(i) => out.extend_from_slice(format!("(integer) {i}\n").as_bytes()),
        Frame::Double(d) => {
            out.extend_from_slice(b"(double) ");
            out.extend_from_slice(d);
            out.push(b'\n');
        }
        Frame::BigNumber(n) => {
            out.extend_from_slice(b"(big number) ");
            out.extend_from_slice(n);
            out.push(b'\n');
        }
        Frame::Bulk(b) => {
            repr_into(b, out);
            out.push(b'\n');
        }
        Frame::Verbatim { text, .. } => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Null | Frame::NullArray => out.extend_from_slice(b"(nil)\n"),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)\n" } else { b"(false)\n" }),
        Frame::Array(items) => tty_seq(items, b')', b"(empty array)\n", prefix, out),
        Frame::Set(items) => tty_seq(items, b'~', b"(empty set)\n", prefix, out),
        Frame::Push(items) => tty_seq(items, b')', b"(empty push)\n", prefix, out),
        Frame::Map(pairs) => tty_map(pairs, prefix, out),
        Frame::Attribute(_, inner) => tty(inner, prefix, out),
    }
}

/// The child prefix: the parent's plus room for the widest index and its marker.
fn child_prefix(prefix: &[u8], n: usize) -> (usize, Vec<u8>) {
    let width = n.to_string().len();
    let mut p = prefix.to_vec();
    p.resize(prefix.len() + width + 2, b' ');
    (width, p)
}

fn index(out: &mut Vec<u8>, prefix: &[u8], i: usize, width: usize, sep: u8) {
    // The first element goes on the line where the parent put its own index.
    if i > 0 {
        out.extend_from_slice(prefix);
    }
    out.extend_from_slice(format!("{:>width$}", i + 1).as_bytes());
    out.push(sep);
    out.push(b' ');
}

fn tty_seq(items: &[Frame], sep: u8, empty: &[u8], prefix: &[u8], out: &mut Vec<u8>) {
    if items.is_empty() {
        out.extend_from_slice(empty);
        return;
    }
    let (width, child) = child_prefix(prefix, items.len());
    for (i, item) in items.iter().enumerate() {
        index(out, prefix, i, width, sep);
        tty(item, &child, out);
    }
}

fn tty_map(pairs: &[(Frame, Frame)], prefix: &[u8], out: &mut Vec<u8>) {
    if pairs.is_empty() {
        out.extend_from_slice(b"(empty hash)\n");
        return;
    }
    let (width, child) = child_prefix(prefix, pairs.len());
    for (i, (k, v)) in pairs.iter().enumerate() {
        index(out, prefix, i, width, b'#');
        tty(k, &child, out);
        if out.last() == Some(&b'\n') {
            out.pop();
        }
        out.extend_from_slice(b" => ");
        let mut value = Vec::new();
        tty(v, &child, &mut value);
        // A value spanning several lines starts on its own line, aligned with
        // its siblings; a one-line value stays after the arrow.
        let body = value.strip_suffix(b"\n").unwrap_or(&value);
        if body.contains(&b'\n') {
            out.push(b'\n');
            out.extend_from_slice(&child);
        }
        out.extend_from_slice(&value);
    }
}

fn raw(f: &Frame, delim: &[u8], out: &mut Vec<u8>) {
    match f {
        Frame::Error(e) => {
            out.extend_from_slice(e);
            out.push(b'\n');
        }
        Frame::Simple(s) | Frame::Bulk(s) | Frame::Double(s) | Frame::BigNumber(s) => {
            out.extend_from_slice(s)
        }
        Frame::Verbatim { text, .. } => out.extend_from_slice(text),
        Frame::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Frame::Null | Frame::NullArray => {}
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(delim);
                }
                raw(item, delim, out);
            }
        }
        Frame::Map(pairs) => {
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(delim);
                }
                raw(k, delim, out);
                out.push(b' ');
                raw(v, delim, out);
            }
        }
        Frame::Attribute(_, inner) => raw(inner, delim, out),
    }
}

fn csv(f: &Frame, out: &mut Vec<u8>) {
    match f {
        Frame::Error(e) => {
            out.extend_from_slice(b"ERROR,");
            repr_into(e, out);
        }
        Frame::Simple(s) | Frame::Bulk(s) => repr_into(s, out),
        Frame::Verbatim { text, .. } => repr_into(text, out),
        Frame::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Frame::Double(d) | Frame::BigNumber(d) => out.extend_from_slice(d),
        Frame::Null | Frame::NullArray => out.extend_from_slice(b"NULL"),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(item, out);
            }
        }
        Frame::Map(pairs) => {
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(k, out);
                out.push(b',');
                csv(v, out);
            }
        }
        Frame::Attribute(_, inner) => csv(inner, out),
    }
}
