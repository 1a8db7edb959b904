//! Typed directive values: parsing from arguments, the CONFIG GET rendering,
//! and the typed views the server reads.
//!
//! [`parse_value`] turns the arguments of one directive into a [`Value`],
//! returning Redis's exact error text on failure (the caller wraps it in the
//! load or CONFIG SET error format). Two directives depend on what came
//! before: `save` (while loading, the first `save` line drops the defaults and
//! later ones add to it; `save ""` clears) and `client-output-buffer-limit`
//! (only the classes given change), hence the `current` value argument.
//!
//! Numbers are kept as `i128` so that unsigned 64-bit directives (`maxmemory`)
//! and signed ones share one representation; `maxmemory-clients` keeps a
//! percentage as a negative number, exactly like Redis.

use std::path::Path;

use crate::parse::{self, c_strtod, c_strtoll, format_percentile, memory, octal, strict_i64};
use crate::table::{Directive, Kind, StrCheck};

/// One directive's current value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    Num(i128),
    Enum(u32),
    Str(String),
    Save(Vec<(i64, i32)>),
    Bind(Vec<String>),
    Cobl(ClientOutputBufferLimits),
    Oom([i32; 3]),
    Notify(u32),
    ReplicaOf(Option<(String, u16)>),
    Percentiles(Vec<f64>),
}

/// Limits of one client class (`client-output-buffer-limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientBufferLimit {
    /// Disconnect as soon as the output buffer exceeds this many bytes (0 = off).
    pub hard: u64,
    /// Disconnect when above this many bytes for `soft_seconds` (0 = off).
    pub soft: u64,
    /// How long the soft limit may be exceeded.
    pub soft_seconds: i64,
}

/// `client-output-buffer-limit` for the three client classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOutputBufferLimits {
    /// Ordinary clients.
    pub normal: ClientBufferLimit,
    /// Replicas (Redis shows this class as `slave`).
    pub replica: ClientBufferLimit,
    /// Pub/Sub subscribers.
    pub pubsub: ClientBufferLimit,
}

impl ClientOutputBufferLimits {
    pub(crate) fn classes(&self) -> [(&'static str, ClientBufferLimit); 3] {
        [
            ("normal", self.normal),
            ("replica", self.replica),
            ("pubsub", self.pubsub),
        ]
    }
}

/// Bits of `notify-keyspace-events` (the keyspace crate owns them: handlers
/// report events with these classes).
pub use shoal_keyspace::notify::class as notify;

const NOTIFY_LETTERS: &[(u8, u32)] = &[
    (b'g', notify::GENERIC),
    (b'$', notify::STRING),
    (b'l', notify::LIST),
    (b's', notify::SET),
    (b'h', notify::HASH),
    (b'z', notify::ZSET),
    (b'x', notify::EXPIRED),
    (b'e', notify::EVICTED),
    (b't', notify::STREAM),
    (b'd', notify::MODULE),
    (b'n', notify::NEW),
];

/// Context of a parse: loading a file (where `save` accumulates) or CONFIG SET.
pub(crate) struct ParseCtx<'a> {
    pub loading: bool,
    /// Set once a `save` line has been seen during this load.
    pub save_seen: bool,
    /// Directory relative paths (`dir`) are resolved against.
    pub cwd: &'a Path,
}

pub(crate) const ERR_INT: &str = "argument couldn't be parsed into an integer";
pub(crate) const ERR_BOOL: &str = "argument must be 'yes' or 'no'";
pub(crate) const ERR_MEM: &str = "argument must be a memory value";
pub(crate) const ERR_MEM_PCT: &str = "argument must be a memory or percent value";
pub(crate) const ERR_PCT_MAX: &str = "percentage argument must be less or equal to 100";
pub(crate) const ERR_OCTAL: &str = "argument couldn't be parsed as an octal number";
pub(crate) const ERR_NARGS: &str = "wrong number of arguments";
pub(crate) const ERR_SAVE: &str = "Invalid save parameters";
pub(crate) const ERR_BIND_MANY: &str = "Too many bind addresses specified.";
pub(crate) const ERR_COBL_NARGS: &str = "Wrong number of arguments in buffer limit configuration.";
pub(crate) const ERR_COBL_CLASS: &str =
    "Invalid client class specified in buffer limit configuration.";
pub(crate) const ERR_COBL_VALUE: &str =
    "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
pub(crate) const ERR_OOM: &str =
    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
pub(crate) const ERR_NOTIFY: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
pub(crate) const ERR_MASTER_PORT: &str = "Invalid master port";
pub(crate) const ERR_PCTL_PARSE: &str = "Invalid latency-tracking-info-percentiles parameters";
pub(crate) const ERR_PCTL_RANGE: &str =
    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
pub(crate) const ERR_HOSTNAME: &str =
    "Hostnames may only contain alphanumeric characters, hyphens or dots";
pub(crate) const ERR_PROC_TITLE: &str = "template format is invalid or contains unknown variables";
pub(crate) const ERR_SHUTDOWN_BOTH: &str =
    "shutdown options SAVE and NOSAVE can't be used simultaneously";

/// Most bind addresses Redis accepts.
pub const MAX_BIND_ADDRS: usize = 16;

fn one_of(words: &[(&str, u32)]) -> String {
    let names: Vec<&str> = words.iter().map(|(n, _)| *n).collect();
    format!(
        "argument(s) must be one of the following: {}",
        names.join(", ")
    )
}

fn between(min: impl std::fmt::Display, max: impl std::fmt::Display) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

/// Parses `args` for directive `d`. Single-argument kinds must get exactly
/// one argument (checked by the callers, which word the error differently).
pub(crate) fn parse_value(
    d: &Directive,
    args: &[String],
    current: &Value,
    ctx: &mut ParseCtx,
) -> Result<Value, String> {
    let first = args.first().map(String::as_str).unwrap_or("");
    match d.kind {
        Kind::Bool => match first.to_ascii_lowercase().as_str() {
            "yes" => Ok(Value::Bool(true)),
            "no" => Ok(Value::Bool(false)),
            _ => Err(ERR_BOOL.into()),
        },
        Kind::Int { min, max } => {
            let v = strict_i64(first).ok_or(ERR_INT)?;
            if v < min || v > max {
                return Err(between(min, max));
            }
            Ok(Value::Num(adjust_int(d.name, v).into()))
        }
        Kind::Memory { min, max } => {
            let raw = memory(first).ok_or(ERR_MEM)?;
            let v = signed_view(raw, max);
            if v < min || v > max {
                return Err(between(min, max));
            }
            Ok(Value::Num(v))
        }
        Kind::MemoryPercent { min, max } => parse_memory_percent(first, min, max).map(Value::Num),
        Kind::Octal { min, max } => {
            let v = octal(first).ok_or(ERR_OCTAL)?;
            if v < min || v > max {
                return Err(format!(
                    "argument must be between {min:o} and {max:o} inclusive"
                ));
            }
            Ok(Value::Num(v.into()))
        }
        Kind::Enum(words) => words
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(first))
            .map(|(_, v)| Value::Enum(*v))
            .ok_or_else(|| one_of(words)),
        Kind::FlagSet(words) => {
            if args.is_empty() {
                return Err(one_of(words));
            }
            let mut bits = 0;
            for a in args {
                let (_, v) = words
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(a))
                    .ok_or_else(|| one_of(words))?;
                bits |= v;
            }
            // Only the shutdown flags use this kind: save (1) and nosave (2) exclude each other.
            if bits & 3 == 3 {
                return Err(ERR_SHUTDOWN_BOTH.into());
            }
            Ok(Value::Enum(bits))
        }
        Kind::Str(check) => {
            check_string(d.name, check, first)?;
            Ok(Value::Str(first.to_string()))
        }
        Kind::Save => parse_save(args, current, ctx),
        Kind::Bind => {
            if args.len() > MAX_BIND_ADDRS {
                return Err(ERR_BIND_MANY.into());
            }
            Ok(Value::Bind(args.to_vec()))
        }
        Kind::ClientOutputBufferLimit => parse_cobl(args, current),
        Kind::OomScoreAdjValues => {
            if args.len() != 3 {
                return Err(ERR_NARGS.into());
            }
            let mut out = [0i32; 3];
            for (slot, a) in out.iter_mut().zip(args) {
                let (v, full, _) = c_strtoll(a);
                if !full || !(-2000..=2000).contains(&v) {
                    return Err(ERR_OOM.into());
                }
                *slot = v as i32;
            }
            Ok(Value::Oom(out))
        }
        Kind::NotifyKeyspaceEvents => parse_notify(first).map(Value::Notify),
        Kind::Dir => resolve_dir(first, ctx.cwd).map(Value::Str),
        Kind::ReplicaOf => {
            if args.len() != 2 {
                return Err(ERR_NARGS.into());
            }
            if args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one") {
                return Ok(Value::ReplicaOf(None));
            }
            let (port, full, overflow) = c_strtoll(&args[1]);
            if !full || overflow || !(0..=65535).contains(&port) {
                return Err(ERR_MASTER_PORT.into());
            }
            Ok(Value::ReplicaOf(Some((args[0].clone(), port as u16))))
        }
        Kind::Percentiles => {
            let mut out = Vec::with_capacity(args.len());
            for a in args {
                let v = c_strtod(a).ok_or(ERR_PCTL_PARSE)?;
                if !(0.0..=100.0).contains(&v) {
                    return Err(ERR_PCTL_RANGE.into());
                }
                out.push(v);
            }
            Ok(Value::Percentiles(out))
        }
    }
}

/// Directives whose stored value Redis adjusts after accepting it.
fn adjust_int(name: &str, v: i64) -> i64 {
    match name {
        // The server clamps hz to 1..=500 and CONFIG GET shows the clamped value.
        "hz" => v.clamp(1, 500),
        _ => v,
    }
}

/// Redis stores most memory directives in signed 64-bit variables: a value
/// above `i64::MAX` then reads as negative and fails the bounds check.
fn signed_view(raw: u64, max: i128) -> i128 {
    if max <= i128::from(i64::MAX) {
        i128::from(raw as i64)
    } else {
        i128::from(raw)
    }
}

fn parse_memory_percent(s: &str, min: i128, max: i128) -> Result<i128, String> {
    if let Some(num) = s.strip_suffix('%') {
        let v = strict_i64(num).filter(|v| *v >= 0).ok_or(ERR_MEM_PCT)?;
        if v > 100 {
            return Err(ERR_PCT_MAX.into());
        }
        return Ok(-i128::from(v));
    }
    let v = i128::from(memory(s).ok_or(ERR_MEM_PCT)? as i64);
    if v < 0 {
        // Redis reads a huge value as a negative number, i.e. a percentage.
        if -v > 100 {
            return Err(ERR_PCT_MAX.into());
        }
        return Ok(v);
    }
    if v < min || v > max {
        return Err(between(min, max));
    }
    Ok(v)
}

fn check_string(name: &str, check: StrCheck, v: &str) -> Result<(), String> {
    let is_path = v.contains('/') || v.contains('\\');
    match check {
        StrCheck::Any => Ok(()),
        StrCheck::Hostname => {
            if v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
            {
                Ok(())
            } else {
                Err(ERR_HOSTNAME.into())
            }
        }
        StrCheck::ProcTitle => valid_proc_title(v)
            .then_some(())
            .ok_or_else(|| ERR_PROC_TITLE.into()),
        StrCheck::FileName | StrCheck::DirName if v.is_empty() => {
            Err(format!("{name} can't be empty"))
        }
        StrCheck::FileName | StrCheck::BaseName if is_path => {
            Err(format!("{name} can't be a path, just a filename"))
        }
        StrCheck::DirName if is_path => Err(format!("{name} can't be a path, just a dirname")),
        _ => Ok(()),
    }
}

/// A process title template is valid when every `{name}` is a known
/// variable (`{{` and `}}` are literal braces) and the title it produces is
/// not blank. Variables that may be empty at startup count as empty.
pub(crate) fn valid_proc_title(t: &str) -> bool {
    let b = t.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                out.push('{');
                i += 2;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                out.push('}');
                i += 2;
            }
            b'{' => {
                let Some(end) = t[i + 1..].find('}') else {
                    return false;
                };
                match &t[i + 1..i + 1 + end] {
                    "title" | "server-mode" | "config-file" | "unixsocket" => {}
                    "listen-addr" | "port" | "tls-port" => out.push('0'),
                    _ => return false,
                }
                i += end + 2;
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    !out.trim().is_empty()
}

fn parse_save(args: &[String], current: &Value, ctx: &mut ParseCtx) -> Result<Value, String> {
    let mut args = args;
    let explicit_reset = args.len() == 1 && args[0].is_empty();
    if explicit_reset {
        args = &[];
    }
    if args.len() % 2 == 1 {
        return Err(ERR_SAVE.into());
    }
    let mut pairs = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks(2) {
        let (secs, full_s, _) = c_strtoll(&pair[0]);
        let (changes, full_c, _) = c_strtoll(&pair[1]);
        if !full_s || !full_c || secs < 1 || changes < 0 {
            return Err(ERR_SAVE.into());
        }
        // Redis keeps the change count in a C int: larger counts wrap.
        pairs.push((secs, changes as i32));
    }
    let mut out = match current {
        Value::Save(p) if ctx.loading && ctx.save_seen && !explicit_reset => p.clone(),
        _ => Vec::new(),
    };
    if ctx.loading {
        ctx.save_seen = true;
    }
    out.extend(pairs);
    Ok(Value::Save(out))
}

fn parse_cobl(args: &[String], current: &Value) -> Result<Value, String> {
    if !args.chunks_exact(4).remainder().is_empty() {
        return Err(ERR_COBL_NARGS.into());
    }
    let mut limits = match current {
        Value::Cobl(c) => *c,
        _ => default_cobl(),
    };
    let mut updates = Vec::new();
    for g in args.chunks(4) {
        let class = match g[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => return Err(ERR_COBL_CLASS.into()),
        };
        let hard = memory(&g[1]).ok_or(ERR_COBL_VALUE)?;
        let soft = memory(&g[2]).ok_or(ERR_COBL_VALUE)?;
        let (secs, full, overflow) = c_strtoll(&g[3]);
        if !full || overflow || secs < 0 {
            return Err(ERR_COBL_VALUE.into());
        }
        updates.push((
            class,
            ClientBufferLimit {
                hard,
                soft,
                soft_seconds: secs,
            },
        ));
    }
    for (class, l) in updates {
        match class {
            0 => limits.normal = l,
            1 => limits.replica = l,
            _ => limits.pubsub = l,
        }
    }
    Ok(Value::Cobl(limits))
}

pub(crate) fn default_cobl() -> ClientOutputBufferLimits {
    let l = |hard, soft, soft_seconds| ClientBufferLimit {
        hard,
        soft,
        soft_seconds,
    };
    ClientOutputBufferLimits {
        normal: l(0, 0, 0),
        replica: l(256 << 20, 64 << 20, 60),
        pubsub: l(32 << 20, 8 << 20, 60),
    }
}

fn parse_notify(s: &str) -> Result<u32, String> {
    let mut flags = 0;
    for c in s.bytes() {
        flags |= match c {
            b'A' => notify::ALL,
            b'K' => notify::KEYSPACE,
            b'E' => notify::KEYEVENT,
            b'm' => notify::KEY_MISS,
            _ => NOTIFY_LETTERS
                .iter()
                .find(|(l, _)| *l == c)
                .map(|(_, f)| *f)
                .ok_or(ERR_NOTIFY)?,
        };
    }
    Ok(flags)
}

/// `notify-keyspace-events` as Redis shows it. When every `A` class is on,
/// `A` is shown and `n` is not, even if set (a Redis quirk kept on purpose).
pub(crate) fn notify_to_string(flags: u32) -> String {
    let mut out = String::new();
    if flags & notify::ALL == notify::ALL {
        out.push('A');
    } else {
        for (l, f) in NOTIFY_LETTERS {
            if flags & f != 0 {
                out.push(*l as char);
            }
        }
    }
    for (l, f) in [
        ('K', notify::KEYSPACE),
        ('E', notify::KEYEVENT),
        ('m', notify::KEY_MISS),
    ] {
        if flags & f != 0 {
            out.push(l);
        }
    }
    out
}

/// Resolves a `dir` value against `cwd` and checks it is a directory. The
/// error is the bare system message Redis prints ("No such file or directory").
pub(crate) fn resolve_dir(v: &str, cwd: &Path) -> Result<String, String> {
    let p = cwd.join(v);
    let meta = std::fs::metadata(&p).map_err(|e| os_error_text(&e))?;
    if !meta.is_dir() {
        return Err(os_error_text(&std::io::Error::from_raw_os_error(20)));
    }
    let abs = std::fs::canonicalize(&p).map_err(|e| os_error_text(&e))?;
    Ok(abs.to_string_lossy().into_owned())
}

/// The C library's `strerror` text of an I/O error (Rust appends " (os error N)").
pub(crate) fn os_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// CONFIG GET rendering of `v` for directive `d`.
pub(crate) fn display(d: &Directive, v: &Value) -> String {
    match (v, d.kind) {
        (Value::Bool(b), _) => if *b { "yes" } else { "no" }.to_string(),
        (Value::Num(n), Kind::MemoryPercent { .. }) if *n < 0 => format!("{}%", -n),
        (Value::Num(n), Kind::Octal { .. }) => format!("{n:o}"),
        (Value::Num(n), _) => n.to_string(),
        (Value::Enum(x), Kind::Enum(words)) => words
            .iter()
            .find(|(_, v)| v == x)
            .map(|(n, _)| *n)
            .unwrap_or("")
            .into(),
        (Value::Enum(x), Kind::FlagSet(words)) => flagset_words(words, *x).join(" "),
        (Value::Enum(x), _) => x.to_string(),
        (Value::Str(s), _) => s.clone(),
        (Value::Save(p), _) => p
            .iter()
            .map(|(s, c)| format!("{s} {c}"))
            .collect::<Vec<_>>()
            .join(" "),
        (Value::Bind(a), _) => a.join(" "),
        (Value::Cobl(c), _) => {
            let f = |l: ClientBufferLimit| format!("{} {} {}", l.hard, l.soft, l.soft_seconds);
            format!(
                "normal {} slave {} pubsub {}",
                f(c.normal),
                f(c.replica),
                f(c.pubsub)
            )
        }
        (Value::Oom(o), _) => format!("{} {} {}", o[0], o[1], o[2]),
        (Value::Notify(f), _) => notify_to_string(*f),
        (Value::ReplicaOf(r), _) => r
            .as_ref()
            .map(|(h, p)| format!("{h} {p}"))
            .unwrap_or_default(),
        (Value::Percentiles(p), _) => p
            .iter()
            .map(|v| format_percentile(*v))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

pub(crate) fn flagset_words(words: &[(&'static str, u32)], bits: u32) -> Vec<&'static str> {
    if bits == 0 {
        return words
            .iter()
            .filter(|(_, v)| *v == 0)
            .map(|(n, _)| *n)
            .take(1)
            .collect();
    }
    words
        .iter()
        .filter(|(_, v)| *v != 0 && bits & v == *v)
        .map(|(n, _)| *n)
        .collect()
}

/// Formats a memory number for CONFIG REWRITE.
pub(crate) fn rewrite_memory(v: i128) -> String {
    parse::format_memory(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{DIRECTIVES, SENSITIVE};

    fn d(name: &str) -> &'static Directive {
        DIRECTIVES.iter().find(|d| d.name == name).unwrap()
    }

    fn set(name: &str, args: &[&str]) -> Result<String, String> {
        let d = d(name);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut ctx = ParseCtx {
            loading: false,
            save_seen: false,
            cwd: Path::new("/"),
        };
        parse_value(d, &args, &Value::Cobl(default_cobl()), &mut ctx).map(|v| display(d, &v))
    }

    #[test]
    fn notify_letters() {
        assert_eq!(set("notify-keyspace-events", &["KEA"]).unwrap(), "AKE");
        assert_eq!(set("notify-keyspace-events", &["Amn"]).unwrap(), "Am");
        assert_eq!(parse_notify("Amn").unwrap() & notify::NEW, notify::NEW);
        assert_eq!(
            set("notify-keyspace-events", &["Kq"]).unwrap_err(),
            ERR_NOTIFY
        );
    }

    #[test]
    fn proc_title_templates() {
        for ok in [
            "{title} {listen-addr} {server-mode}",
            "a}",
            "{{title}}",
            "a{title}b",
            "{port}",
        ] {
            assert!(valid_proc_title(ok), "{ok}");
        }
        for bad in ["", " ", "{title}", "{port", "x{}", "{TITLE}", "{foo}"] {
            assert!(!valid_proc_title(bad), "{bad}");
        }
    }

    #[test]
    fn flag_sets_and_enums() {
        assert_eq!(
            set("shutdown-on-sigint", &["force", "save", "now"]).unwrap(),
            "save now force"
        );
        assert_eq!(
            set("shutdown-on-sigint", &["default", "now"]).unwrap(),
            "now"
        );
        assert_eq!(set("shutdown-on-sigint", &["default"]).unwrap(), "default");
        assert_eq!(
            set("shutdown-on-sigint", &["save", "nosave"]).unwrap_err(),
            ERR_SHUTDOWN_BOTH
        );
        assert_eq!(set("oom-score-adj", &["relative"]).unwrap(), "yes");
        assert_eq!(
            set("maxmemory-policy", &["ALLKEYS-LRU"]).unwrap(),
            "allkeys-lru"
        );
    }

    #[test]
    fn special_multi_values() {
        assert_eq!(set("save", &["5", ""]).unwrap(), "5 0");
        assert_eq!(set("save", &[""]).unwrap(), "");
        assert_eq!(
            set(
                "client-output-buffer-limit",
                &["REPLICA", "1kb", "2mb", "3"]
            )
            .unwrap(),
            "normal 0 0 0 slave 1024 2097152 3 pubsub 33554432 8388608 60"
        );
        assert_eq!(
            set("oom-score-adj-values", &["+1", "02", "-2000"]).unwrap(),
            "1 2 -2000"
        );
        assert_eq!(set("replicaof", &["No", "One"]).unwrap(), "");
        assert_eq!(
            set("latency-tracking-info-percentiles", &["33.333333333", "-0"]).unwrap(),
            "33.333333 -0"
        );
        assert_eq!(
            set("maxmemory-clients", &["18446744073709551615"]).unwrap(),
            "1%"
        );
        assert_eq!(set("unixsocketperm", &["0755"]).unwrap(), "755");
        assert_eq!(set("hz", &["1000"]).unwrap(), "500");
    }

    #[test]
    fn sensitive_set() {
        let s: Vec<&str> = DIRECTIVES
            .iter()
            .filter(|d| d.has(SENSITIVE))
            .map(|d| d.name)
            .collect();
        assert_eq!(s, ["masterauth", "masteruser", "requirepass"]);
    }
}
