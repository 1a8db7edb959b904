//! Test support shared by the process-level tests: spawning a server binary on an
//! ephemeral loopback port in a temporary directory, a small blocking RESP2/RESP3
//! client, and the redis-cli style argument splitter used by the differential corpus.
//!
//! This module deliberately depends on nothing from the workspace (not even
//! `shoal-resp`), so that the harness keeps working while the server crates change.

#![allow(dead_code)]

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub mod dir_server;

/// Debian's reference server.
pub const REFERENCE_SERVER: &str = "/usr/bin/redis-server";

/// How long a single reply may take before the harness gives up on a connection.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest bulk or aggregate the client accepts; anything bigger is treated as a
/// protocol error rather than an allocation request.
const MAX_LEN: i64 = 512 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------

/// One reply, RESP2 or RESP3. Doubles and big numbers keep their wire text so that
/// formatting differences are visible in comparisons.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Frame {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Integer(i64),
    /// `$`: `None` is the RESP2 null bulk string `$-1`.
    Bulk(Option<Vec<u8>>),
    /// `*`: `None` is the RESP2 null array `*-1`.
    Array(Option<Vec<Frame>>),
    /// RESP3 `_`.
    Null,
    Boolean(bool),
    Double(Vec<u8>),
    BigNumber(Vec<u8>),
    /// RESP3 `!`.
    BlobError(Vec<u8>),
    /// RESP3 `=`: format (3 bytes) and payload.
    Verbatim(Vec<u8>, Vec<u8>),
    Map(Vec<(Frame, Frame)>),
    Set(Vec<Frame>),
    Push(Vec<Frame>),
    /// RESP3 `|` attribute map, followed by the frame it annotates.
    Attribute(Vec<(Frame, Frame)>, Box<Frame>),
}

impl Frame {
    /// A short name for the reply's type, used by `@type` comparisons.
    pub fn type_name(&self) -> &'static str {
        match self {
            Frame::Simple(_) => "simple-string",
            Frame::Error(_) => "error",
            Frame::Integer(_) => "integer",
            Frame::Bulk(Some(_)) => "bulk-string",
            Frame::Bulk(None) => "null-bulk",
            Frame::Array(Some(_)) => "array",
            Frame::Array(None) => "null-array",
            Frame::Null => "null",
            Frame::Boolean(_) => "boolean",
            Frame::Double(_) => "double",
            Frame::BigNumber(_) => "big-number",
            Frame::BlobError(_) => "blob-error",
            Frame::Verbatim(..) => "verbatim-string",
            Frame::Map(_) => "map",
            Frame::Set(_) => "set",
            Frame::Push(_) => "push",
            Frame::Attribute(_, inner) => inner.type_name(),
        }
    }

    pub fn is_error(&self) -> bool {
        match self {
            Frame::Error(_) | Frame::BlobError(_) => true,
            Frame::Attribute(_, inner) => inner.is_error(),
            _ => false,
        }
    }

    /// The first word of an error (`ERR`, `WRONGTYPE`, ...), if this is an error.
    pub fn error_code(&self) -> Option<&[u8]> {
        match self {
            Frame::Error(e) | Frame::BlobError(e) => {
                Some(e.split(|&b| b == b' ').next().unwrap_or(&[]))
            }
            Frame::Attribute(_, inner) => inner.error_code(),
            _ => None,
        }
    }

    /// Bytes of a simple string, bulk string or verbatim string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Simple(b) | Frame::Bulk(Some(b)) | Frame::Verbatim(_, b) => Some(b),
            _ => None,
        }
    }

    /// Canonical form for multiset comparison: aggregates at `depth` and one level
    /// below have their elements sorted (maps by pair).
    pub fn unordered(&self, levels: usize) -> Frame {
        fn sort(v: &[Frame], levels: usize) -> Vec<Frame> {
            let mut out: Vec<Frame> = v.iter().map(|f| f.unordered(levels - 1)).collect();
            out.sort();
            out
        }
        if levels == 0 {
            return self.clone();
        }
        match self {
            Frame::Array(Some(v)) => Frame::Array(Some(sort(v, levels))),
            Frame::Set(v) => Frame::Set(sort(v, levels)),
            Frame::Push(v) => Frame::Push(sort(v, levels)),
            Frame::Map(pairs) => {
                let mut out: Vec<(Frame, Frame)> = pairs
                    .iter()
                    .map(|(k, v)| (k.unordered(levels - 1), v.unordered(levels - 1)))
                    .collect();
                out.sort();
                Frame::Map(out)
            }
            Frame::Attribute(a, inner) => {
                Frame::Attribute(a.clone(), Box::new(inner.unordered(levels)))
            }
            other => other.clone(),
        }
    }
}

fn fmt_bytes(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    f.write_str("\"")?;
    for &c in b {
        match c {
            b'"' => f.write_str("\\\"")?,
            b'\\' => f.write_str("\\\\")?,
            b'\n' => f.write_str("\\n")?,
            b'\r' => f.write_str("\\r")?,
            b'\t' => f.write_str("\\t")?,
            0x20..=0x7e => write!(f, "{}", c as char)?,
            _ => write!(f, "\\x{:02x}", c)?,
        }
    }
    f.write_str("\"")
}

fn fmt_list(f: &mut fmt::Formatter<'_>, open: &str, items: &[Frame], close: &str) -> fmt::Result {
    f.write_str(open)?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}", item)?;
    }
    f.write_str(close)
}

fn fmt_map(f: &mut fmt::Formatter<'_>, open: &str, pairs: &[(Frame, Frame)]) -> fmt::Result {
    f.write_str(open)?;
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}: {}", k, v)?;
    }
    f.write_str("}")
}

/// One-line rendering that shows the reply type unambiguously.
impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Frame::Simple(s) => {
                f.write_str("+")?;
                fmt_bytes(f, s)
            }
            Frame::Error(e) => {
                f.write_str("(error) ")?;
                fmt_bytes(f, e)
            }
            Frame::Integer(i) => write!(f, "(integer) {}", i),
            Frame::Bulk(Some(b)) => fmt_bytes(f, b),
            Frame::Bulk(None) => f.write_str("(nil bulk $-1)"),
            Frame::Array(Some(v)) => fmt_list(f, "[", v, "]"),
            Frame::Array(None) => f.write_str("(nil array *-1)"),
            Frame::Null => f.write_str("(null _)"),
            Frame::Boolean(b) => write!(f, "(boolean) {}", b),
            Frame::Double(d) => write!(f, "(double) {}", String::from_utf8_lossy(d)),
            Frame::BigNumber(n) => write!(f, "(big number) {}", String::from_utf8_lossy(n)),
            Frame::BlobError(e) => {
                f.write_str("(blob error) ")?;
                fmt_bytes(f, e)
            }
            Frame::Verbatim(fmt_, b) => {
                write!(f, "(verbatim {}) ", String::from_utf8_lossy(fmt_))?;
                fmt_bytes(f, b)
            }
            Frame::Map(pairs) => fmt_map(f, "%{", pairs),
            Frame::Set(v) => fmt_list(f, "~{", v, "}"),
            Frame::Push(v) => fmt_list(f, ">[", v, "]"),
            Frame::Attribute(a, inner) => {
                fmt_map(f, "|{", a)?;
                write!(f, " {}", inner)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing replies
// ---------------------------------------------------------------------------

fn proto_err(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn read_line<R: BufRead>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let n = r.read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed by server",
        ));
    }
    if line.len() < 2 || line[line.len() - 2] != b'\r' || line[line.len() - 1] != b'\n' {
        return Err(proto_err(format!(
            "line not terminated by CRLF: {:?}",
            String::from_utf8_lossy(&line)
        )));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn parse_int(b: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| proto_err(format!("bad integer {:?}", String::from_utf8_lossy(b))))
}

fn read_exact_crlf<R: BufRead>(r: &mut R, len: i64) -> io::Result<Vec<u8>> {
    if !(0..=MAX_LEN).contains(&len) {
        return Err(proto_err(format!("bad length {}", len)));
    }
    let mut buf = vec![0u8; len as usize + 2];
    r.read_exact(&mut buf)?;
    if &buf[len as usize..] != b"\r\n" {
        return Err(proto_err("blob not terminated by CRLF"));
    }
    buf.truncate(len as usize);
    Ok(buf)
}

fn read_aggregate<R: BufRead>(r: &mut R, len: i64) -> io::Result<Vec<Frame>> {
    if !(0..=MAX_LEN).contains(&len) {
        return Err(proto_err(format!("bad aggregate length {}", len)));
    }
    (0..len).map(|_| read_frame(r)).collect()
}

fn read_pairs<R: BufRead>(r: &mut R, len: i64) -> io::Result<Vec<(Frame, Frame)>> {
    if !(0..=MAX_LEN).contains(&len) {
        return Err(proto_err(format!("bad map length {}", len)));
    }
    (0..len)
        .map(|_| Ok((read_frame(r)?, read_frame(r)?)))
        .collect()
}

/// Reads one complete frame (RESP2 or RESP3) from `r`.
pub fn read_frame<R: BufRead>(r: &mut R) -> io::Result<Frame> {
    let line = read_line(r)?;
    let (&kind, rest) = line.split_first().ok_or_else(|| proto_err("empty line"))?;
    let rest = rest.to_vec();
    Ok(match kind {
        b'+' => Frame::Simple(rest),
        b'-' => Frame::Error(rest),
        b':' => Frame::Integer(parse_int(&rest)?),
        b'$' => match parse_int(&rest)? {
            -1 => Frame::Bulk(None),
            n => Frame::Bulk(Some(read_exact_crlf(r, n)?)),
        },
        b'*' => match parse_int(&rest)? {
            -1 => Frame::Array(None),
            n => Frame::Array(Some(read_aggregate(r, n)?)),
        },
        b'_' => {
            if !rest.is_empty() {
                return Err(proto_err("garbage after null"));
            }
            Frame::Null
        }
        b'#' => match rest.as_slice() {
            b"t" => Frame::Boolean(true),
            b"f" => Frame::Boolean(false),
            _ => return Err(proto_err("bad boolean")),
        },
        b',' => Frame::Double(rest),
        b'(' => Frame::BigNumber(rest),
        b'!' => Frame::BlobError(read_exact_crlf(r, parse_int(&rest)?)?),
        b'=' => {
            let body = read_exact_crlf(r, parse_int(&rest)?)?;
            if body.len() < 4 || body[3] != b':' {
                return Err(proto_err("verbatim string without format prefix"));
            }
            Frame::Verbatim(body[..3].to_vec(), body[4..].to_vec())
        }
        b'%' => Frame::Map(read_pairs(r, parse_int(&rest)?)?),
        b'~' => Frame::Set(read_aggregate(r, parse_int(&rest)?)?),
        b'>' => Frame::Push(read_aggregate(r, parse_int(&rest)?)?),
        b'|' => {
            let attrs = read_pairs(r, parse_int(&rest)?)?;
            Frame::Attribute(attrs, Box::new(read_frame(r)?))
        }
        other => {
            return Err(proto_err(format!(
                "unknown frame type byte {:?} in line {:?}",
                other as char,
                String::from_utf8_lossy(&line)
            )))
        }
    })
}

/// Encodes a command as a RESP multibulk request.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(16 + args.iter().map(|a| a.as_ref().len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

// ---------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------

/// A blocking RESP client over one TCP connection.
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    pub fn connect(port: u16) -> io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        stream.set_write_timeout(Some(REPLY_TIMEOUT))?;
        let writer = stream.try_clone()?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Sends one command without waiting for its reply.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.writer.write_all(&encode_command(args))
    }

    /// Sends raw bytes (inline commands, malformed requests, ...).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)
    }

    pub fn read(&mut self) -> io::Result<Frame> {
        read_frame(&mut self.reader)
    }

    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Frame> {
        self.send(args)?;
        self.read()
    }

    /// Like `call`, with arguments given as `&str` for convenience.
    pub fn cmd(&mut self, args: &[&str]) -> io::Result<Frame> {
        self.call(args)
    }

    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.writer.set_read_timeout(t)
    }

    pub fn shutdown(&self) {
        let _ = self.writer.shutdown(Shutdown::Both);
    }
}

// ---------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------

/// Asks the kernel for a free loopback port. The port is released before the
/// server binds it, so a collision is possible but unlikely; `ServerProcess::start`
/// retries on a fresh port when the server does not come up.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = l.local_addr().expect("local_addr").port();
    assert_ne!(port, 6379, "refusing to use the default Redis port");
    port
}

/// `--port P --bind 127.0.0.1 --dir D`: where a test server listens and works.
pub fn listen_args<'a>(port: &'a str, dir: &'a str) -> Vec<&'a str> {
    vec!["--port", port, "--bind", "127.0.0.1", "--dir", dir]
}

enum StartError {
    /// The process exited during start-up: worth another try on a new port.
    Exited(String),
    Fatal(String),
}

/// A server child process on an ephemeral port, killed and cleaned up on drop.
pub struct ServerProcess {
    pub binary: PathBuf,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub log_path: PathBuf,
    child: Child,
}

impl ServerProcess {
    /// Starts `binary` with Redis's command line: `--port N --dir D --save ""
    /// --appendonly no --enable-debug-command yes`, plus `extra` arguments, and waits
    /// until it answers PING.
    ///
    /// A server that exits during start-up is tried again on another port (the
    /// port may have been taken in between); one that hangs is not.
    pub fn start(binary: &Path, extra: &[&str]) -> Result<ServerProcess, String> {
        let mut last_err = String::new();
        for _ in 0..3 {
            match Self::try_start(binary, extra) {
                Ok(s) => return Ok(s),
                Err(StartError::Exited(e)) => last_err = e,
                Err(StartError::Fatal(e)) => return Err(e),
            }
        }
        Err(last_err)
    }

    fn try_start(binary: &Path, extra: &[&str]) -> Result<ServerProcess, StartError> {
        let fatal = StartError::Fatal;
        let dir = tempfile::Builder::new()
            .prefix("shoal-test-")
            .tempdir()
            .map_err(|e| fatal(format!("tempdir: {e}")))?;
        let port = free_port();
        let log_path = dir.path().join("server.log");
        let log = File::create(&log_path).map_err(|e| fatal(format!("log file: {e}")))?;
        let log2 = log
            .try_clone()
            .map_err(|e| fatal(format!("log file: {e}")))?;
        let port_s = port.to_string();
        let dir_s = dir.path().to_string_lossy().into_owned();
        let mut args = listen_args(&port_s, &dir_s);
        args.extend_from_slice(&[
            "--save",
            "",
            "--appendonly",
            "no",
            "--enable-debug-command",
            "yes",
        ]);
        args.extend_from_slice(extra);
        let child = Command::new(binary)
            .args(&args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .map_err(|e| fatal(format!("cannot spawn {}: {e}", binary.display())))?;
        let mut server = ServerProcess {
            binary: binary.to_path_buf(),
            port,
            dir,
            log_path,
            child,
        };
        server.wait_ready(Duration::from_secs(10))?;
        Ok(server)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), StartError> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(StartError::Exited(format!(
                    "{} exited during start-up ({status}); log:\n{}",
                    self.binary.display(),
                    self.log_tail(30)
                )));
            }
            if let Ok(mut c) = Client::connect(self.port) {
                let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
                if let Ok(Frame::Simple(s)) = c.cmd(&["PING"]) {
                    if s == b"PONG" {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(StartError::Fatal(format!(
                    "{} did not answer PING on port {} within {:?}; log:\n{}",
                    self.binary.display(),
                    self.port,
                    limit,
                    self.log_tail(30)
                )));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn connect(&self) -> io::Result<Client> {
        Client::connect(self.port)
    }

    /// True while the child process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last `n` lines of the server's stdout/stderr.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// redis-cli style argument splitting
// ---------------------------------------------------------------------------

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

/// Splits a line into arguments the way redis-cli does: whitespace separates
/// arguments; `"..."` understands `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a` and `\<c>`;
/// `'...'` understands only `\'`; a closing quote must be followed by whitespace or
/// the end of the line.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Ok(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return Err("unbalanced double quotes".into());
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(line[i + 2]), hex_val(line[i + 3])) {
                        cur.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < n {
                    cur.push(match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                    i += 2;
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                    i += 1;
                }
            } else if in_sq {
                if i >= n {
                    return Err("unbalanced single quotes".into());
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                    i += 1;
                }
            } else {
                if i >= n || is_space(line[i]) {
                    break;
                }
                match line[i] {
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
                i += 1;
            }
        }
        args.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_redis_cli() {
        let a = split_args(br#"SET "a b" 'c d' e\x00 "\x00\n\"" 'it\'s' """#).unwrap();
        assert_eq!(
            a,
            vec![
                b"SET".to_vec(),
                b"a b".to_vec(),
                b"c d".to_vec(),
                b"e\\x00".to_vec(),
                b"\x00\n\"".to_vec(),
                b"it's".to_vec(),
                b"".to_vec(),
            ]
        );
        assert!(split_args(br#""abc"d"#).is_err());
        assert!(split_args(br#""abc"#).is_err());
    }

    #[test]
    fn parses_resp3() {
        let raw = b"%2\r\n+a\r\n,1.5\r\n$1\r\nb\r\n~2\r\n#t\r\n_\r\n";
        let f = read_frame(&mut &raw[..]).unwrap();
        assert_eq!(
            f,
            Frame::Map(vec![
                (Frame::Simple(b"a".to_vec()), Frame::Double(b"1.5".to_vec())),
                (
                    Frame::Bulk(Some(b"b".to_vec())),
                    Frame::Set(vec![Frame::Boolean(true), Frame::Null])
                ),
            ])
        );
    }
}
