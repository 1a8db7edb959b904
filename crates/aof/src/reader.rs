//! The command stream of an AOF file: RESP arrays of bulk strings, as Redis
//! writes them (`*<argc>\r\n` then `$<len>\r\n<bytes>\r\n` per argument), with
//! annotation lines (`#TS:<unix time>\r\n` from `aof-timestamp-enabled`, any line
//! starting with `#`) skipped between commands.
//!
//! Every command comes with the byte offset where it starts, so a caller can
//! truncate a file to its last complete command. The end of input inside a
//! command is [`ReadError::Truncated`] (a file cut by a crash); anything else that
//! is not a well-formed command is [`ReadError::Corrupt`], with the offset of the
//! command it was found in and of the offending byte. Nothing here allocates more
//! than the input holds: bulk strings grow as their bytes arrive, and argument
//! vectors are reserved by a small bound whatever count the header claims.

use std::fmt;
use std::io::{self, BufRead, Read};

/// Header and annotation lines longer than this are corruption.
const MAX_LINE: usize = 1024;
/// Arguments reserved up front whatever the header says (the vector grows as
/// arguments really arrive).
const MAX_RESERVE: usize = 64;

/// One command and where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub argv: Vec<Vec<u8>>,
    /// Offset of its `*`.
    pub offset: u64,
    /// Offset just past its last byte.
    pub end: u64,
}

#[derive(Debug)]
pub enum ReadError {
    /// The input ends inside the command starting at `offset` (or inside an
    /// annotation line there).
    Truncated { offset: u64 },
    /// Not a well-formed command: the one starting at `offset`, found at `at`.
    Corrupt { offset: u64, at: u64, msg: String },
    /// Reading failed (the file, not its content).
    Io { offset: u64, err: io::Error },
}

impl ReadError {
    /// Where the last complete command ends: the valid prefix of the file.
    pub fn valid_up_to(&self) -> u64 {
        match self {
            ReadError::Truncated { offset }
            | ReadError::Corrupt { offset, .. }
            | ReadError::Io { offset, .. } => *offset,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Truncated { offset } => {
                write!(
                    f,
                    "unexpected end of file in the command at offset {offset}"
                )
            }
            ReadError::Corrupt { offset, at, msg } => write!(
                f,
                "{msg} at offset {at} (in the command at offset {offset})"
            ),
            ReadError::Io { offset, err } => write!(f, "read error at offset {offset}: {err}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// What went wrong inside one command, before offsets are attached.
enum Fail {
    Eof,
    Bad(u64, String),
    Io(io::Error),
}

/// Reads commands one by one from `src`, whose first byte is at `offset` of the
/// file (after an RDB preamble, for instance).
pub struct CommandReader<R: BufRead> {
    src: R,
    offset: u64,
    /// Set after an error: the stream cannot be resumed.
    failed: bool,
}

impl<R: BufRead> CommandReader<R> {
    pub fn new(src: R, offset: u64) -> CommandReader<R> {
        CommandReader {
            src,
            offset,
            failed: false,
        }
    }

    /// Bytes consumed so far (an offset in the file).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next command; `Ok(None)` at a clean end of input (between commands).
    pub fn next_command(&mut self) -> Result<Option<Command>, ReadError> {
        if self.failed {
            return Ok(None);
        }
        let r = self.read_one();
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    fn read_one(&mut self) -> Result<Option<Command>, ReadError> {
        loop {
            let start = self.offset;
            let first = match self.peek() {
                Ok(Some(b)) => b,
                Ok(None) => return Ok(None),
                Err(err) => return Err(ReadError::Io { offset: start, err }),
            };
            let r = if first == b'#' {
                self.line().map(|_| None)
            } else {
                self.command().map(Some)
            };
            match r {
                Ok(None) => continue,
                Ok(Some(argv)) => {
                    return Ok(Some(Command {
                        argv,
                        offset: start,
                        end: self.offset,
                    }))
                }
                Err(Fail::Eof) => return Err(ReadError::Truncated { offset: start }),
                Err(Fail::Bad(at, msg)) => {
                    return Err(ReadError::Corrupt {
                        offset: start,
                        at,
                        msg,
                    })
                }
                Err(Fail::Io(err)) => {
                    return Err(ReadError::Io {
                        offset: self.offset,
                        err,
                    })
                }
            }
        }
    }

    fn command(&mut self) -> Result<Vec<Vec<u8>>, Fail> {
        let at = self.offset;
        let line = self.line()?;
        let argc = header(&line, b'*').filter(|&n| n >= 1).ok_or_else(|| {
            Fail::Bad(
                at,
                format!("expected a command header, got {}", shown(&line)),
            )
        })?;
        let mut argv = Vec::with_capacity((argc as usize).min(MAX_RESERVE));
        for _ in 0..argc {
            let at = self.offset;
            let line = self.line()?;
            let len = header(&line, b'$').ok_or_else(|| {
                Fail::Bad(
                    at,
                    format!("expected a bulk string header, got {}", shown(&line)),
                )
            })?;
            let mut arg = Vec::new();
            let got = Read::take(&mut self.src, len)
                .read_to_end(&mut arg)
                .map_err(Fail::Io)?;
            self.offset += got as u64;
            if (got as u64) < len {
                return Err(Fail::Eof);
            }
            let at = self.offset;
            let mut crlf = [0u8; 2];
            for b in crlf.iter_mut() {
                *b = self.peek().map_err(Fail::Io)?.ok_or(Fail::Eof)?;
                self.src.consume(1);
                self.offset += 1;
            }
            if &crlf != b"\r\n" {
                return Err(Fail::Bad(
                    at,
                    format!("expected \\r\\n after a bulk string, got {}", shown(&crlf)),
                ));
            }
            argv.push(arg);
        }
        Ok(argv)
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.src.fill_buf() {
                Ok(b) => return Ok(b.first().copied()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// One line, `\n` included (at most [`MAX_LINE`] bytes).
    fn line(&mut self) -> Result<Vec<u8>, Fail> {
        let at = self.offset;
        let mut line = Vec::new();
        loop {
            let buf = match self.src.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Fail::Io(e)),
            };
            if buf.is_empty() {
                return Err(Fail::Eof);
            }
            let room = MAX_LINE - line.len();
            let (n, done) = match buf.iter().take(room).position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len().min(room), false),
            };
            line.extend_from_slice(&buf[..n]);
            self.src.consume(n);
            self.offset += n as u64;
            if done {
                return Ok(line);
            }
            if line.len() >= MAX_LINE {
                return Err(Fail::Bad(at, format!("line longer than {MAX_LINE} bytes")));
            }
        }
    }
}

/// `<marker><decimal>\r\n` to the number (a negative or missing number is not).
fn header(line: &[u8], marker: u8) -> Option<u64> {
    let body = line.strip_prefix(&[marker])?.strip_suffix(b"\r\n")?;
    if body.is_empty() || body.len() > 18 || !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(body).ok()?.parse().ok()
}

/// A few bytes for an error message, escaped.
fn shown(b: &[u8]) -> String {
    let cut = &b[..b.len().min(32)];
    let mut s = String::from("\"");
    for &c in cut {
        match c {
            0x20..=0x7e if c != b'"' && c != b'\\' => s.push(c as char),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    if b.len() > cut.len() {
        s.push_str("...");
    }
    s
}

/// Tracks MULTI ... EXEC over a command stream: a file that ends inside a
/// transaction is, for loading, cut before its MULTI (Redis reverts it).
#[derive(Debug, Default)]
pub struct MultiTracker {
    /// Offset of the MULTI of the open transaction.
    pub open_at: Option<u64>,
}

impl MultiTracker {
    pub fn see(&mut self, cmd: &Command) {
        let name = cmd.argv.first().map(|a| &a[..]).unwrap_or(b"");
        if name.eq_ignore_ascii_case(b"multi") {
            self.open_at = Some(cmd.offset);
        } else if name.eq_ignore_ascii_case(b"exec") {
            self.open_at = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(b: &[u8]) -> (Vec<Command>, Option<ReadError>) {
        let mut r = CommandReader::new(b, 0);
        let mut v = Vec::new();
        loop {
            match r.next_command() {
                Ok(Some(c)) => v.push(c),
                Ok(None) => return (v, None),
                Err(e) => return (v, Some(e)),
            }
        }
    }

    const STREAM: &[u8] = b"#TS:1795276248\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$3\r\nb c\r\n$0\r\n\r\n";

    #[test]
    fn reads_commands_with_offsets_and_skips_annotations() {
        let (cmds, e) = all(STREAM);
        assert!(e.is_none());
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].argv, [&b"SELECT"[..], b"0"]);
        assert_eq!(cmds[0].offset, 16);
        assert_eq!(cmds[1].offset, 39);
        assert_eq!(cmds[1].argv, [&b"set"[..], b"b c", b""]);
        assert_eq!(cmds[1].end, STREAM.len() as u64);
    }

    #[test]
    fn every_cut_is_truncation_at_the_last_command_start() {
        for cut in 1..STREAM.len() {
            let (cmds, e) = all(&STREAM[..cut]);
            let expect_valid = match cut {
                0..=16 => 0,
                17..=39 => 16,
                _ => 39,
            };
            match e {
                None => assert!(cut == 16 || cut == 39, "cut {cut}"),
                Some(ReadError::Truncated { offset }) => {
                    // A cut inside the annotation truncates at 0.
                    assert_eq!(offset, expect_valid, "cut {cut}");
                    assert_eq!(cmds.last().map_or(0, |c| c.end).max(offset), offset);
                }
                Some(other) => panic!("cut {cut}: {other}"),
            }
        }
    }

    #[test]
    fn corruption_in_the_middle_names_command_and_byte() {
        let mut b = STREAM.to_vec();
        b[41] = b'X'; // "$3" of the SET's first argument... its "*3\r\n" header
        let (cmds, e) = all(&b);
        assert_eq!(cmds.len(), 1);
        match e {
            Some(ReadError::Corrupt { offset, at, .. }) => {
                assert_eq!(offset, 39);
                assert_eq!(at, 39);
            }
            other => panic!("{other:?}"),
        }
        let mut b = STREAM.to_vec();
        let n = b.len();
        b[n - 2] = b'x';
        match all(&b).1 {
            Some(ReadError::Corrupt { offset, at, .. }) => {
                assert_eq!((offset, at), (39, n as u64 - 2))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hostile_headers_do_not_allocate() {
        let (_, e) = all(b"*999999999999999999\r\n$1\r\na\r\n");
        assert!(matches!(e, Some(ReadError::Truncated { offset: 0 })));
        let (_, e) = all(b"*1\r\n$999999999999999999\r\nabc");
        assert!(matches!(e, Some(ReadError::Truncated { offset: 0 })));
        let (_, e) = all(b"*0\r\n");
        assert!(matches!(e, Some(ReadError::Corrupt { .. })));
        let (_, e) = all(b"*-1\r\n");
        assert!(matches!(e, Some(ReadError::Corrupt { .. })));
        let long = vec![b'#'; 5000];
        assert!(matches!(all(&long).1, Some(ReadError::Corrupt { .. })));
    }

    #[test]
    fn multi_tracker() {
        let (cmds, _) = all(b"*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nexec\r\n*1\r\n$5\r\nmulti\r\n");
        let mut t = MultiTracker::default();
        t.see(&cmds[0]);
        assert_eq!(t.open_at, Some(0));
        t.see(&cmds[1]);
        assert_eq!(t.open_at, None);
        t.see(&cmds[2]);
        assert_eq!(t.open_at, Some(cmds[2].offset));
    }
}
