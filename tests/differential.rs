//! Differential test: runs every corpus file in `tests/corpus/*.txt` against the
//! reference server (Debian's `redis-server` 7.0.15) and against Shoal, and compares
//! the replies line by line. The corpus format is described in
//! `tests/corpus/README.md`.
//!
//! Environment:
//! - `SHOAL_DIFF_CANDIDATE=/path/to/server` replaces the candidate binary (default:
//!   the `shoal-server` built by Cargo). `/usr/bin/redis-server` gives a
//!   redis-vs-redis run, which checks that the corpus is deterministic.
//! - `SHOAL_DIFF_REFERENCE=/path/to/server` replaces the reference binary.
//! - `SHOAL_DIFF_FILTER=substring` runs only the files whose name contains it.
//! - `SHOAL_SKIP_REFERENCE=1` turns a missing reference server into a skip.
//! - `SHOAL_DIFF_SHOW=1` prints every command with the reference's reply.
//! - `SHOAL_DIFF_STRICT=1` ignores `tests/corpus/XFAIL` (every file must pass).

mod common;

use common::{split_args, Client, Frame, ServerProcess, REFERENCE_SERVER};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// How a reply is compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Compare {
    #[default]
    Exact,
    /// Aggregates compared as multisets, at the top level and one level below.
    Unordered,
    /// Only the reply type.
    Type,
    /// Both must be errors with the same first word.
    Error,
    /// Sent, reply read, not compared.
    Ignore,
    /// Sent, no reply expected (CLIENT REPLY OFF/SKIP).
    NoReply,
}

/// Everything that decides whether two replies match.
#[derive(Clone, Debug, Default)]
struct Check {
    compare: Compare,
    /// `@mask NAME`: the value that follows the field NAME (in a map, or at an even
    /// position of a flat key/value array) is ignored, at any depth.
    masks: Vec<Vec<u8>>,
    /// `@capture NAME`: each side keeps its reply (integer or string) as the value
    /// of `${NAME}` in later commands.
    capture: Option<String>,
    /// `@vars`: an integer or string equal to a captured value is replaced by
    /// `${NAME}` on each side before comparing.
    vars: bool,
    /// `@fields a,b`: strings of `name=value` words (CLIENT LIST, CLIENT INFO)
    /// keep only the named words.
    fields: Vec<Vec<u8>>,
}

impl Check {
    fn prepare(&self, o: Outcome, vars: &Vars) -> Outcome {
        let o = if self.vars {
            o.map(|f| name_vars(&f, vars))
        } else {
            o
        };
        let o = if self.fields.is_empty() {
            o
        } else {
            o.map(|f| keep_fields(&f, &self.fields))
        };
        if self.masks.is_empty() {
            return o;
        }
        o.map(|f| mask(&f, &self.masks))
    }

    fn matches(&self, r: &Outcome, c: &Outcome) -> bool {
        match (r, c) {
            (Ok(r), Ok(c)) => match self.compare {
                Compare::Exact => r == c,
                Compare::Unordered => r.unordered(2) == c.unordered(2),
                Compare::Type => r.type_name() == c.type_name(),
                Compare::Error => r.is_error() && c.is_error() && r.error_code() == c.error_code(),
                Compare::Ignore | Compare::NoReply => true,
            },
            (Err(r), Err(c)) => r == c,
            _ => false,
        }
    }
}

/// One server's captured values (`@capture`), by name.
type Vars = HashMap<String, Vec<u8>>;

/// The text a captured reply stands for: an integer in decimal, a string as is.
fn capture_value(f: &Frame) -> Option<Vec<u8>> {
    match f {
        Frame::Integer(i) => Some(i.to_string().into_bytes()),
        other => other.as_bytes().map(<[u8]>::to_vec),
    }
}

/// Replaces every `${NAME}` in `args` with the captured value of NAME.
fn substitute(args: &[Vec<u8>], vars: &Vars) -> Result<Vec<Vec<u8>>, String> {
    args.iter()
        .map(|a| {
            let mut out = Vec::with_capacity(a.len());
            let mut rest = &a[..];
            while let Some(i) = rest.windows(2).position(|w| w == b"${") {
                out.extend_from_slice(&rest[..i]);
                let tail = &rest[i + 2..];
                let end = tail
                    .iter()
                    .position(|&b| b == b'}')
                    .ok_or_else(|| "unterminated ${".to_string())?;
                let name = String::from_utf8_lossy(&tail[..end]).into_owned();
                let value = vars
                    .get(&name)
                    .ok_or_else(|| format!("${{{name}}} was not captured"))?;
                out.extend_from_slice(value);
                rest = &tail[end + 1..];
            }
            out.extend_from_slice(rest);
            Ok(out)
        })
        .collect()
}

/// `@fields`: in every string of the reply (at any depth), each line keeps only
/// its `name=value` words whose name is listed, in their order.
fn keep_fields(f: &Frame, names: &[Vec<u8>]) -> Frame {
    let filter = |text: &[u8]| -> Vec<u8> {
        let lines: Vec<Vec<u8>> = text
            .split(|&b| b == b'\n')
            .map(|line| {
                let words: Vec<&[u8]> = line
                    .split(|&b| b == b' ')
                    .filter(|w| {
                        let name = w.split(|&b| b == b'=').next().unwrap_or(&[]);
                        w.contains(&b'=') && names.iter().any(|n| n == name)
                    })
                    .collect();
                words.join(&b' ')
            })
            .collect();
        lines.join(&b'\n')
    };
    let all = |v: &[Frame]| v.iter().map(|x| keep_fields(x, names)).collect::<Vec<_>>();
    match f {
        Frame::Bulk(Some(b)) => Frame::Bulk(Some(filter(b))),
        Frame::Simple(b) => Frame::Simple(filter(b)),
        Frame::Verbatim(fmt, b) => Frame::Verbatim(fmt.clone(), filter(b)),
        Frame::Array(Some(v)) => Frame::Array(Some(all(v))),
        Frame::Set(v) => Frame::Set(all(v)),
        Frame::Push(v) => Frame::Push(all(v)),
        Frame::Attribute(a, inner) => {
            Frame::Attribute(a.clone(), Box::new(keep_fields(inner, names)))
        }
        other => other.clone(),
    }
}

/// `@vars`: integers and strings equal to a captured value become `${NAME}`.
fn name_vars(f: &Frame, vars: &Vars) -> Frame {
    let lookup = |v: &[u8]| {
        vars.iter()
            .filter(|(_, x)| x.as_slice() == v)
            .map(|(k, _)| k)
            .min()
            .map(|k| Frame::Simple(format!("${{{k}}}").into_bytes()))
    };
    let all = |v: &[Frame]| v.iter().map(|x| name_vars(x, vars)).collect::<Vec<_>>();
    match f {
        Frame::Integer(i) => lookup(i.to_string().as_bytes()).unwrap_or_else(|| f.clone()),
        Frame::Simple(b) | Frame::Bulk(Some(b)) => lookup(b).unwrap_or_else(|| f.clone()),
        Frame::Array(Some(v)) => Frame::Array(Some(all(v))),
        Frame::Set(v) => Frame::Set(all(v)),
        Frame::Push(v) => Frame::Push(all(v)),
        Frame::Map(pairs) => Frame::Map(
            pairs
                .iter()
                .map(|(k, v)| (name_vars(k, vars), name_vars(v, vars)))
                .collect(),
        ),
        Frame::Attribute(a, inner) => Frame::Attribute(a.clone(), Box::new(name_vars(inner, vars))),
        other => other.clone(),
    }
}

fn masked() -> Frame {
    Frame::Simple(b"<masked>".to_vec())
}

fn mask(f: &Frame, fields: &[Vec<u8>]) -> Frame {
    let is_field = |k: &Frame| k.as_bytes().is_some_and(|b| fields.iter().any(|m| m == b));
    let flat = |v: &[Frame]| -> Vec<Frame> {
        let pairs = v.len() & 1 == 0;
        let mut out = Vec::with_capacity(v.len());
        for (i, item) in v.iter().enumerate() {
            if pairs && i % 2 == 1 && is_field(&v[i - 1]) {
                out.push(masked());
            } else {
                out.push(mask(item, fields));
            }
        }
        out
    };
    match f {
        Frame::Map(pairs) => Frame::Map(
            pairs
                .iter()
                .map(|(k, v)| {
                    let v = if is_field(k) {
                        masked()
                    } else {
                        mask(v, fields)
                    };
                    (mask(k, fields), v)
                })
                .collect(),
        ),
        Frame::Array(Some(v)) => Frame::Array(Some(flat(v))),
        Frame::Set(v) => Frame::Set(flat(v)),
        Frame::Push(v) => Frame::Push(flat(v)),
        Frame::Attribute(a, inner) => Frame::Attribute(a.clone(), Box::new(mask(inner, fields))),
        other => other.clone(),
    }
}

#[derive(Debug)]
enum Step {
    Command {
        line_no: usize,
        text: String,
        args: Vec<Vec<u8>>,
        check: Check,
        nowait: bool,
        /// `@raw`: `args[0]` is sent as is instead of as a RESP multibulk.
        raw: bool,
        /// `@scanall`: iterate the SCAN-family command to cursor 0, compare the set
        /// of elements seen.
        scan_all: bool,
    },
    Sleep(Duration),
    Conn(String),
    Await,
    /// Read one more reply (push messages, pub/sub deliveries) and compare it.
    Read {
        line_no: usize,
        check: Check,
    },
}

fn parse_corpus(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (idx, source) in text.lines().enumerate() {
        let line_no = idx + 1;
        let mut line = source.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut check = Check::default();
        let mut nowait = false;
        let mut raw = false;
        let mut scan_all = false;
        while let Some(rest) = line.strip_prefix('@') {
            let (word, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let mut tail = tail.trim_start();
            let set = |c: &mut Compare, v: Compare| -> Result<(), String> {
                if *c != Compare::Exact {
                    return Err(format!("line {line_no}: more than one comparison modifier"));
                }
                *c = v;
                Ok(())
            };
            match word {
                "unordered" => set(&mut check.compare, Compare::Unordered)?,
                "type" => set(&mut check.compare, Compare::Type)?,
                "error" => set(&mut check.compare, Compare::Error)?,
                "ignore" => set(&mut check.compare, Compare::Ignore)?,
                "noreply" => set(&mut check.compare, Compare::NoReply)?,
                "nowait" => nowait = true,
                "raw" => raw = true,
                "scanall" => scan_all = true,
                "vars" => check.vars = true,
                "fields" => {
                    let (list, after) = tail
                        .split_once(char::is_whitespace)
                        .ok_or_else(|| format!("line {line_no}: @fields needs a list of names"))?;
                    check
                        .fields
                        .extend(list.split(',').map(|n| n.as_bytes().to_vec()));
                    tail = after.trim_start();
                }
                "capture" => {
                    let (name, after) = tail
                        .split_once(char::is_whitespace)
                        .ok_or_else(|| format!("line {line_no}: @capture needs a name"))?;
                    if check.capture.is_some()
                        || name.is_empty()
                        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        return Err(format!(
                            "line {line_no}: @capture needs one name of letters, digits and _"
                        ));
                    }
                    check.capture = Some(name.to_string());
                    tail = after.trim_start();
                }
                "mask" => {
                    let (field, after) = tail
                        .split_once(char::is_whitespace)
                        .ok_or_else(|| format!("line {line_no}: @mask needs a field name"))?;
                    check.masks.push(field.as_bytes().to_vec());
                    tail = after.trim_start();
                }
                "sleep" => {
                    let ms: u64 = tail
                        .parse()
                        .map_err(|_| format!("line {line_no}: @sleep needs milliseconds"))?;
                    steps.push(Step::Sleep(Duration::from_millis(ms)));
                    line = "";
                    break;
                }
                "conn" => {
                    if tail.is_empty() || tail.contains(char::is_whitespace) {
                        return Err(format!("line {line_no}: @conn needs one name"));
                    }
                    steps.push(Step::Conn(tail.to_string()));
                    line = "";
                    break;
                }
                "await" => {
                    steps.push(Step::Await);
                    line = "";
                    break;
                }
                "read" => {
                    if !tail.is_empty() {
                        return Err(format!("line {line_no}: @read takes no arguments"));
                    }
                    steps.push(Step::Read {
                        line_no,
                        check: check.clone(),
                    });
                    line = "";
                    break;
                }
                other => return Err(format!("line {line_no}: unknown directive @{other}")),
            }
            line = tail;
        }
        if line.is_empty() {
            continue;
        }
        let args = split_args(line.as_bytes()).map_err(|e| format!("line {line_no}: {e}"))?;
        if raw && args.len() != 1 {
            return Err(format!(
                "line {line_no}: @raw takes exactly one (quoted) argument"
            ));
        }
        if scan_all && (raw || nowait || scan_cursor_index(&args).is_none()) {
            return Err(format!(
                "line {line_no}: @scanall needs a SCAN, SSCAN, HSCAN or ZSCAN command (no @raw, @nowait)"
            ));
        }
        steps.push(Step::Command {
            line_no,
            text: line.to_string(),
            args,
            check,
            nowait,
            raw,
            scan_all,
        });
    }
    Ok(steps)
}

/// Position of the cursor argument of a SCAN-family command.
fn scan_cursor_index(args: &[Vec<u8>]) -> Option<usize> {
    let name = args.first()?.to_ascii_uppercase();
    let idx = match name.as_slice() {
        b"SCAN" => 1,
        b"SSCAN" | b"HSCAN" | b"ZSCAN" => 2,
        _ => return None,
    };
    (args.len() > idx).then_some(idx)
}

/// Runs a SCAN-family command from the given cursor until the server answers
/// cursor 0. The outcome is `[ "0", [elements...] ]` with the elements (pairs for
/// HSCAN/ZSCAN) sorted and deduplicated, since SCAN may return an element twice;
/// an error reply or a malformed reply is returned as it is.
fn scan_all(client: &mut Client, args: &[Vec<u8>]) -> Outcome {
    let idx = scan_cursor_index(args).expect("checked by the parser");
    let pairs = args[0].eq_ignore_ascii_case(b"HSCAN") || args[0].eq_ignore_ascii_case(b"ZSCAN");
    let mut args = args.to_vec();
    let mut seen = BTreeSet::new();
    for _ in 0..100_000 {
        let reply = client.call(&args).map_err(|e| io_class(&e))?;
        let (cursor, items) = match &reply {
            Frame::Array(Some(v)) if v.len() == 2 => match (&v[0], &v[1]) {
                (Frame::Bulk(Some(c)), Frame::Array(Some(items))) => (c.clone(), items.clone()),
                _ => return Ok(reply),
            },
            _ => return Ok(reply),
        };
        if pairs {
            for pair in items.chunks(2) {
                seen.insert(Frame::Array(Some(pair.to_vec())));
            }
        } else {
            seen.extend(items);
        }
        if cursor == b"0" {
            return Ok(Frame::Array(Some(vec![
                Frame::Bulk(Some(b"0".to_vec())),
                Frame::Array(Some(seen.into_iter().collect())),
            ])));
        }
        args[idx] = cursor;
    }
    Err("<SCAN did not reach cursor 0 in 100000 calls>".to_string())
}

/// A reply, or what went wrong on the connection instead.
type Outcome = Result<Frame, String>;

fn io_class(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => "<connection closed>".to_string(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "<timed out>".to_string(),
        _ => format!("<I/O error: {e}>"),
    }
}

fn show(o: &Outcome) -> String {
    match o {
        Ok(f) => f.to_string(),
        Err(e) => e.clone(),
    }
}

struct Pending {
    line_no: usize,
    text: String,
    check: Check,
}

struct ConnPair {
    reference: Client,
    candidate: Client,
    pending: VecDeque<Pending>,
}

struct Mismatch {
    line_no: usize,
    text: String,
    reference: String,
    candidate: String,
}

struct FileRun<'a> {
    reference: &'a ServerProcess,
    candidate: &'a ServerProcess,
    conns: HashMap<String, ConnPair>,
    current: String,
    mismatches: Vec<Mismatch>,
    aborted: Option<String>,
    /// `SHOAL_DIFF_SHOW=1`: print every command with the reference's reply.
    show: bool,
    file: String,
    /// `@capture`d values of the reference and of the candidate.
    ref_vars: Vars,
    cand_vars: Vars,
}

impl<'a> FileRun<'a> {
    fn conn(&mut self) -> Result<&mut ConnPair, String> {
        if !self.conns.contains_key(&self.current) {
            let reference = self
                .reference
                .connect()
                .map_err(|e| format!("cannot connect to reference: {e}"))?;
            let candidate = self
                .candidate
                .connect()
                .map_err(|e| format!("cannot connect to candidate: {e}"))?;
            self.conns.insert(
                self.current.clone(),
                ConnPair {
                    reference,
                    candidate,
                    pending: VecDeque::new(),
                },
            );
        }
        Ok(self.conns.get_mut(&self.current).expect("inserted above"))
    }

    fn record(&mut self, line_no: usize, text: &str, check: &Check, r: Outcome, c: Outcome) {
        if let Some(name) = &check.capture {
            for (o, vars) in [(&r, &mut self.ref_vars), (&c, &mut self.cand_vars)] {
                match o.as_ref().ok().and_then(capture_value) {
                    Some(v) => {
                        vars.insert(name.clone(), v);
                    }
                    None => {
                        vars.remove(name);
                    }
                }
            }
        }
        let (r, c) = (
            check.prepare(r, &self.ref_vars),
            check.prepare(c, &self.cand_vars),
        );
        if self.show {
            eprintln!("{}:{line_no}: {text}\n    -> {}", self.file, show(&r));
        }
        let transport_diverged = r.is_err() != c.is_err();
        if !check.matches(&r, &c) {
            let (reference, candidate) = match check.compare {
                Compare::Type => (
                    format!("type {} <- {}", type_of(&r), show(&r)),
                    format!("type {} <- {}", type_of(&c), show(&c)),
                ),
                _ => (show(&r), show(&c)),
            };
            self.mismatches.push(Mismatch {
                line_no,
                text: text.to_string(),
                reference,
                candidate,
            });
        }
        if transport_diverged {
            self.aborted = Some(format!(
                "connection '{}' diverged at line {line_no} (one side failed at transport level); rest of file skipped",
                self.current
            ));
        }
    }

    /// Reads the replies of commands sent with `@nowait` on the current connection.
    fn drain(&mut self) -> Result<(), String> {
        loop {
            let pair = self.conn()?;
            let Some(p) = pair.pending.pop_front() else {
                return Ok(());
            };
            let r = pair.reference.read().map_err(|e| io_class(&e));
            let c = pair.candidate.read().map_err(|e| io_class(&e));
            self.record(p.line_no, &p.text, &p.check, r, c);
            if self.aborted.is_some() {
                return Ok(());
            }
        }
    }

    fn step(&mut self, step: &Step) -> Result<(), String> {
        match step {
            Step::Sleep(d) => thread::sleep(*d),
            Step::Conn(name) => {
                self.current = name.clone();
                self.conn()?;
            }
            Step::Await => self.drain()?,
            Step::Read { line_no, check } => {
                self.drain()?;
                if self.aborted.is_some() {
                    return Ok(());
                }
                let pair = self.conn()?;
                let r = pair.reference.read().map_err(|e| io_class(&e));
                let c = pair.candidate.read().map_err(|e| io_class(&e));
                self.record(*line_no, "@read", check, r, c);
            }
            Step::Command {
                line_no,
                text,
                args,
                check,
                nowait,
                raw,
                scan_all: iterate,
            } => {
                if !*nowait {
                    self.drain()?;
                    if self.aborted.is_some() {
                        return Ok(());
                    }
                }
                let (ref_args, cand_args) = if *raw {
                    (args.clone(), args.clone())
                } else {
                    let err = |e| format!("line {line_no}: {e}");
                    (
                        substitute(args, &self.ref_vars).map_err(err)?,
                        substitute(args, &self.cand_vars).map_err(err)?,
                    )
                };
                let pair = self.conn()?;
                if *iterate {
                    let r = scan_all(&mut pair.reference, &ref_args);
                    let c = scan_all(&mut pair.candidate, &cand_args);
                    self.record(*line_no, text, check, r, c);
                    return Ok(());
                }
                // Send to both before reading either, so that both servers work on
                // the command at the same time (this matters for timing-sensitive lines).
                let (rs, cs) = if *raw {
                    (
                        pair.reference.send_raw(&args[0]),
                        pair.candidate.send_raw(&args[0]),
                    )
                } else {
                    (
                        pair.reference.send(&ref_args),
                        pair.candidate.send(&cand_args),
                    )
                };
                let rs = rs.map_err(|e| io_class(&e));
                let cs = cs.map_err(|e| io_class(&e));
                if check.compare == Compare::NoReply || *nowait {
                    if rs.is_err() || cs.is_err() {
                        return Err(format!("line {line_no}: send failed"));
                    }
                    if *nowait && check.compare != Compare::NoReply {
                        pair.pending.push_back(Pending {
                            line_no: *line_no,
                            text: text.clone(),
                            check: check.clone(),
                        });
                    }
                    return Ok(());
                }
                let r = rs.and_then(|_| pair.reference.read().map_err(|e| io_class(&e)));
                let c = cs.and_then(|_| pair.candidate.read().map_err(|e| io_class(&e)));
                self.record(*line_no, text, check, r, c);
            }
        }
        Ok(())
    }

    fn finish(&mut self) {
        let names: Vec<String> = self.conns.keys().cloned().collect();
        for name in names {
            if self.aborted.is_some() {
                return;
            }
            self.current = name;
            if let Err(e) = self.drain() {
                self.aborted = Some(e);
            }
        }
    }
}

fn type_of(o: &Outcome) -> &'static str {
    match o {
        Ok(f) => f.type_name(),
        Err(_) => "transport-error",
    }
}

struct FileReport {
    name: String,
    commands: usize,
    elapsed: Duration,
    mismatches: Vec<Mismatch>,
    fatal: Option<String>,
}

impl FileReport {
    fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.fatal.is_none()
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for m in &self.mismatches {
            let _ = writeln!(
                out,
                "MISMATCH {}:{}: {}\n    reference: {}\n    candidate: {}",
                self.name, m.line_no, m.text, m.reference, m.candidate
            );
        }
        if let Some(f) = &self.fatal {
            let _ = writeln!(out, "ERROR {}: {}", self.name, f);
        }
        out
    }
}

fn run_file(path: &Path, reference_bin: &Path, candidate_bin: &Path) -> Result<FileReport, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    // A corpus syntax error is a bug in the corpus, not a mismatch: fail loudly.
    let steps = parse_corpus(&text).map_err(|e| format!("{name}: corpus error: {e}"))?;
    let commands = steps
        .iter()
        .filter(|s| matches!(s, Step::Command { .. }))
        .count();
    let start = Instant::now();
    let mut report = FileReport {
        name: name.clone(),
        commands,
        elapsed: Duration::ZERO,
        mismatches: Vec::new(),
        fatal: None,
    };
    // Fresh servers for every file: configuration, client ids, slowlog and
    // statistics all start from the same state, whatever ran before.
    let reference = ServerProcess::start(reference_bin, &[])
        .map_err(|e| format!("{name}: reference server failed to start: {e}"))?;
    let mut candidate = match ServerProcess::start(candidate_bin, &[]) {
        Ok(c) => c,
        Err(e) => {
            report.fatal = Some(format!("candidate server failed to start: {e}"));
            report.elapsed = start.elapsed();
            return Ok(report);
        }
    };
    let mut run = FileRun {
        reference: &reference,
        candidate: &candidate,
        conns: HashMap::new(),
        current: "main".to_string(),
        mismatches: Vec::new(),
        aborted: None,
        show: std::env::var_os("SHOAL_DIFF_SHOW").is_some_and(|v| v == "1"),
        file: name.clone(),
        ref_vars: Vars::new(),
        cand_vars: Vars::new(),
    };
    // Every file starts from an empty keyspace on a fresh connection.
    let flush = Step::Command {
        line_no: 0,
        text: "FLUSHALL (implicit)".to_string(),
        args: vec![b"FLUSHALL".to_vec()],
        check: Check::default(),
        nowait: false,
        raw: false,
        scan_all: false,
    };
    let mut fatal = run.step(&flush).err();
    if fatal.is_none() {
        for step in &steps {
            if let Err(e) = run.step(step) {
                fatal = Some(e);
                break;
            }
            if run.aborted.is_some() {
                break;
            }
        }
    }
    if fatal.is_none() && run.aborted.is_none() {
        run.finish();
    }
    report.mismatches = std::mem::take(&mut run.mismatches);
    report.fatal = fatal.or(run.aborted.take());
    drop(run);
    if !candidate.is_running() {
        let crash = format!(
            "candidate server exited during the file; log tail:\n{}",
            candidate.log_tail(30)
        );
        report.fatal = Some(match report.fatal.take() {
            Some(f) => format!("{f}\n{crash}"),
            None => crash,
        });
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// File names listed in `tests/corpus/XFAIL`: known not to pass against Shoal yet.
fn expected_failures() -> HashSet<String> {
    if std::env::var_os("SHOAL_DIFF_STRICT").is_some_and(|v| v == "1") {
        return HashSet::new();
    }
    std::fs::read_to_string(corpus_dir().join("XFAIL"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.to_string())
        .collect()
}

#[test]
fn corpus_matches_reference() {
    let reference_bin = PathBuf::from(
        std::env::var("SHOAL_DIFF_REFERENCE").unwrap_or_else(|_| REFERENCE_SERVER.to_string()),
    );
    if !reference_bin.exists() {
        if std::env::var_os("SHOAL_SKIP_REFERENCE").is_some_and(|v| v == "1") {
            eprintln!(
                "SKIPPED: reference server {} not found (SHOAL_SKIP_REFERENCE=1)",
                reference_bin.display()
            );
            return;
        }
        panic!(
            "reference server {} not found: install Debian's redis-server \
             (apt-get install redis-server) or set SHOAL_SKIP_REFERENCE=1 to skip",
            reference_bin.display()
        );
    }
    let candidate_bin = PathBuf::from(
        std::env::var("SHOAL_DIFF_CANDIDATE")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_shoal-server").to_string()),
    );
    let filter = std::env::var("SHOAL_DIFF_FILTER").unwrap_or_default();
    let xfail = expected_failures();

    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(&filter))
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no corpus file matches SHOAL_DIFF_FILTER={filter:?}"
    );
    eprintln!(
        "differential: reference {} vs candidate {}",
        reference_bin.display(),
        candidate_bin.display()
    );

    let mut failed = Vec::new();
    let mut xfailed = Vec::new();
    let mut total_commands = 0;
    for path in &files {
        let report = match run_file(path, &reference_bin, &candidate_bin) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        total_commands += report.commands;
        let expected_fail = xfail.contains(&report.name);
        let status = match (report.passed(), expected_fail) {
            (true, false) => "ok",
            (true, true) => "ok (XPASS: listed in tests/corpus/XFAIL, remove it there)",
            (false, true) => "FAILED (expected: listed in tests/corpus/XFAIL)",
            (false, false) => "FAILED",
        };
        eprintln!(
            "  {:<24} {:>4} commands {:>6} ms  {} mismatches  {}",
            report.name,
            report.commands,
            report.elapsed.as_millis(),
            report.mismatches.len(),
            status
        );
        if !report.passed() {
            eprint!("{}", report.render());
            if expected_fail {
                xfailed.push(report.name.clone());
            } else {
                failed.push(match &report.fatal {
                    None => format!("{} ({} mismatches)", report.name, report.mismatches.len()),
                    Some(f) => format!(
                        "{} ({} mismatches, then: {})",
                        report.name,
                        report.mismatches.len(),
                        f.lines().next().unwrap_or("")
                    ),
                });
            }
        }
    }
    eprintln!(
        "differential: {} files, {} commands, {} failed, {} expected failures",
        files.len(),
        total_commands,
        failed.len(),
        xfailed.len()
    );
    assert!(
        failed.is_empty(),
        "corpus files differ from the reference: {}",
        failed.join(", ")
    );
}

#[test]
fn corpus_syntax() {
    let steps = parse_corpus(
        "# comment\n\n@unordered @mask id HELLO 3\n@sleep 5\n@conn b\n@nowait PING\n@await\n\
         @raw \"PING\\r\\n\"\n@scanall SCAN 0 COUNT 2\n@type @read\n",
    )
    .unwrap();
    assert_eq!(steps.len(), 8);
    match &steps[0] {
        Step::Command {
            line_no,
            args,
            check,
            ..
        } => {
            assert_eq!(*line_no, 3);
            assert_eq!(args, &vec![b"HELLO".to_vec(), b"3".to_vec()]);
            assert_eq!(check.compare, Compare::Unordered);
            assert_eq!(check.masks, vec![b"id".to_vec()]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(steps[1], Step::Sleep(d) if d == Duration::from_millis(5)));
    assert!(matches!(&steps[2], Step::Conn(n) if n == "b"));
    assert!(matches!(steps[3], Step::Command { nowait: true, .. }));
    assert!(matches!(steps[4], Step::Await));
    assert!(matches!(&steps[5], Step::Command { raw: true, args, .. } if args[0] == b"PING\r\n"));
    assert!(matches!(steps[6], Step::Command { scan_all: true, .. }));
    assert!(matches!(&steps[7], Step::Read { check, .. } if check.compare == Compare::Type));
    assert!(parse_corpus("@type @error GET k").is_err());
    assert!(parse_corpus("@bogus GET k").is_err());
    assert!(parse_corpus("@scanall GET k").is_err());
    assert!(parse_corpus("@raw a b").is_err());
    assert!(parse_corpus("GET \"unterminated").is_err());
}

#[test]
fn captured_values() {
    let steps = parse_corpus("@type @capture id CLIENT ID\n@vars @read\n").unwrap();
    assert!(
        matches!(&steps[0], Step::Command { check, .. } if check.capture.as_deref() == Some("id"))
    );
    assert!(matches!(&steps[1], Step::Read { check, .. } if check.vars));
    assert!(parse_corpus("@capture CLIENT").is_err());
    assert!(parse_corpus("@capture a-b CLIENT ID").is_err());
    let mut vars = Vars::new();
    vars.insert("id".to_string(), b"12".to_vec());
    let args = vec![b"CLIENT".to_vec(), b"x${id}y".to_vec(), b"${id}".to_vec()];
    assert_eq!(
        substitute(&args, &vars).unwrap(),
        vec![b"CLIENT".to_vec(), b"x12y".to_vec(), b"12".to_vec()]
    );
    assert!(substitute(&[b"${nope}".to_vec()], &vars).is_err());
    assert!(substitute(&[b"${id".to_vec()], &vars).is_err());
    let f = Frame::Push(vec![Frame::Bulk(Some(b"x".to_vec())), Frame::Integer(12)]);
    assert_eq!(
        name_vars(&f, &vars),
        Frame::Push(vec![
            Frame::Bulk(Some(b"x".to_vec())),
            Frame::Simple(b"${id}".to_vec())
        ])
    );
    assert_eq!(capture_value(&Frame::Integer(-3)), Some(b"-3".to_vec()));
    assert_eq!(capture_value(&Frame::Null), None);
    let f = Frame::Bulk(Some(
        b"id=3 addr=x flags=x multi=2\nid=4 flags=N multi=-1\n".to_vec(),
    ));
    assert_eq!(
        keep_fields(&f, &[b"flags".to_vec(), b"multi".to_vec()]),
        Frame::Bulk(Some(b"flags=x multi=2\nflags=N multi=-1\n".to_vec()))
    );
}

#[test]
fn masking() {
    let bulk = |s: &str| Frame::Bulk(Some(s.as_bytes().to_vec()));
    let f = Frame::Array(Some(vec![
        bulk("id"),
        Frame::Integer(7),
        bulk("nested"),
        Frame::Map(vec![(bulk("id"), Frame::Integer(8))]),
        bulk("odd"),
    ]));
    // an odd-length array is not a key/value list, but what it contains is masked
    assert_eq!(
        mask(&f, &[b"id".to_vec()]),
        Frame::Array(Some(vec![
            bulk("id"),
            Frame::Integer(7),
            bulk("nested"),
            Frame::Map(vec![(bulk("id"), masked())]),
            bulk("odd"),
        ]))
    );
    let f = Frame::Array(Some(vec![
        bulk("id"),
        Frame::Integer(7),
        bulk("nested"),
        Frame::Map(vec![(bulk("id"), Frame::Integer(8))]),
    ]));
    assert_eq!(
        mask(&f, &[b"id".to_vec()]),
        Frame::Array(Some(vec![
            bulk("id"),
            masked(),
            bulk("nested"),
            Frame::Map(vec![(bulk("id"), masked())]),
        ]))
    );
}
