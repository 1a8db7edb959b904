//! Shoal's configuration: every directive of Redis 7.0.15, how it is read
//! from redis.conf and the command line, `CONFIG GET`, `CONFIG SET` and
//! `CONFIG REWRITE`, with Redis's texts for every error.
//!
//! The crate does no networking and has no side effects beyond reading
//! configuration files (and stdin for `-`), checking that `dir` exists, and
//! writing the file on [`Config::rewrite`]. Acting on values (chdir to `dir`,
//! binding, opening the log file, daemonizing, ...) is the server's job; the
//! list of directives a [`Config::set`] changed tells it what to apply.
//!
//! Layout:
//! * [`table`] — the declarative table of directives (names, aliases, types,
//!   bounds, flags, defaults).
//! * `value` — typed values, parsing and CONFIG GET rendering.
//! * `load` — command line and file reading ([`Config::load`]).
//! * `set` — CONFIG SET ([`Config::set`]).
//! * `rewrite` — CONFIG REWRITE ([`Config::rewrite`]).
//! * [`splitargs`], `parse` — tokenising (shoal-resp's tokenizer) and number readers; patterns match with `shoal_ds::glob`.
//!
//! Invariant: `Config::values[i]` always holds a value of the type of
//! `table::DIRECTIVES[i]`.

mod error;
mod load;
mod parse;
mod rewrite;
mod set;
pub mod splitargs;
pub mod table;
mod value;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use error::{
    ConfigLoadError, ConfigRewriteError, ConfigSetError, ERR_CONFIG_SET_SYNTAX, REDIS_VERSION,
    TEST_MEMORY_USAGE,
};
pub use load::{LoadHooks, LoadOptions};
pub use rewrite::{RewriteExtra, REWRITE_SIGNATURE};
pub use set::SetOptions;
pub use table::{Directive, Kind, DIRECTIVES};
pub use value::{notify, ClientBufferLimit, ClientOutputBufferLimits, MAX_BIND_ADDRS};

use value::Value;

/// A `sentinel ...` line kept for the Sentinel layer, which validates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelLine {
    /// Line number within the text it came from (for error reports).
    pub line: usize,
    /// The trimmed line (for error reports).
    pub text: String,
    /// Arguments after `sentinel`.
    pub args: Vec<String>,
}

/// `maxmemory-clients`: a byte count or a percentage of `maxmemory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryLimit {
    /// Absolute limit in bytes (0 = none).
    Bytes(u64),
    /// Percentage of `maxmemory` (1..=100).
    Percent(u8),
}

/// The server's configuration: current values of every directive, plus what
/// the loaded files said that is not a directive value (renamed commands,
/// users, modules, Sentinel lines).
#[derive(Debug, Clone)]
pub struct Config {
    values: Vec<Value>,
    config_file: Option<PathBuf>,
    sentinel_flag: bool,
    rename_commands: Vec<(String, String)>,
    users: Vec<Vec<String>>,
    modules: Vec<Vec<String>>,
    sentinel_lines: Vec<SentinelLine>,
    deprecated: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

/// Name or alias (lowercase) to table index.
fn index() -> &'static HashMap<&'static str, usize> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m = HashMap::new();
        for (i, d) in DIRECTIVES.iter().enumerate() {
            m.insert(d.name, i);
            if let Some(a) = d.alias {
                m.insert(a, i);
            }
        }
        m
    })
}

/// Every name and alias with its index, alphabetically (CONFIG GET order).
fn sorted_names() -> &'static [(&'static str, usize)] {
    static NAMES: OnceLock<Vec<(&'static str, usize)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut v: Vec<_> = index().iter().map(|(n, i)| (*n, *i)).collect();
        v.sort_unstable();
        v
    })
}

/// Table index of a name or alias, any case.
pub(crate) fn lookup(name: &str) -> Option<usize> {
    let idx = index();
    idx.get(name)
        .or_else(|| idx.get(name.to_ascii_lowercase().as_str()))
        .copied()
}

/// The table row of a name or alias, any case.
pub fn directive(name: &str) -> Option<&'static Directive> {
    lookup(name).map(|i| &DIRECTIVES[i])
}

fn default_value(i: usize, cwd: &Path) -> Value {
    let d = &DIRECTIVES[i];
    match d.kind {
        Kind::Dir => return Value::Str(cwd.to_string_lossy().into_owned()),
        Kind::ReplicaOf => return Value::ReplicaOf(None),
        _ => {}
    }
    let args: Vec<String> = if d.kind.is_multi_arg() {
        splitargs::split_args(d.default).unwrap_or_default()
    } else {
        vec![d.default.to_string()]
    };
    let mut ctx = value::ParseCtx {
        loading: false,
        save_seen: false,
        cwd,
    };
    // Invariant (unit-tested for every row): each default parses with its own type.
    value::parse_value(d, &args, &Value::Bool(false), &mut ctx)
        .unwrap_or_else(|e| panic!("bad default for {}: {e}", d.name))
}

impl Config {
    /// Every directive at its default; `dir` is the current directory.
    pub fn new() -> Config {
        let cwd = std::env::current_dir().unwrap_or_default();
        Config::with_cwd(&cwd)
    }

    pub(crate) fn with_cwd(cwd: &Path) -> Config {
        Config {
            values: (0..DIRECTIVES.len())
                .map(|i| default_value(i, cwd))
                .collect(),
            config_file: None,
            sentinel_flag: false,
            rename_commands: Vec::new(),
            users: Vec::new(),
            modules: Vec::new(),
            sentinel_lines: Vec::new(),
            deprecated: Vec::new(),
        }
    }

    /// Absolute path of the configuration file given on the command line.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// Whether Sentinel mode was asked for (`--sentinel` anywhere on the
    /// command line, or [`LoadOptions::sentinel_mode`]).
    pub fn sentinel_flag(&self) -> bool {
        self.sentinel_flag
    }

    /// CONFIG GET for one pattern. Without `*`, `?` or `[` it is an exact,
    /// case-insensitive lookup that also finds hidden directives and answers
    /// with the name as given; otherwise every visible name and alias that
    /// matches (case-insensitively), alphabetically.
    pub fn get(&self, pattern: &str) -> Vec<(String, String)> {
        if !pattern.contains(['*', '?', '[']) {
            return match lookup(pattern) {
                Some(i) => vec![(pattern.to_string(), self.display(i))],
                None => Vec::new(),
            };
        }
        sorted_names()
            .iter()
            .filter(|(n, i)| {
                !DIRECTIVES[*i].has(table::HIDDEN)
                    && shoal_ds::glob::glob_match(pattern.as_bytes(), n.as_bytes(), true)
            })
            .map(|(n, i)| (n.to_string(), self.display(*i)))
            .collect()
    }

    /// CONFIG GET with several patterns: the union, each name once
    /// (case-insensitively, first occurrence kept), in order of discovery.
    pub fn get_many(&self, patterns: &[String]) -> Vec<(String, String)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for p in patterns {
            for (n, v) in self.get(p) {
                if seen.insert(n.to_ascii_lowercase()) {
                    out.push((n, v));
                }
            }
        }
        out
    }

    /// One directive's value as CONFIG GET shows it (name or alias, any case).
    pub fn get_value(&self, name: &str) -> Option<String> {
        lookup(name).map(|i| self.display(i))
    }

    fn display(&self, i: usize) -> String {
        value::display(&DIRECTIVES[i], &self.values[i])
    }

    fn value(&self, name: &str) -> Option<&Value> {
        lookup(name).map(|i| &self.values[i])
    }

    /// Numeric value (integers, memory in bytes, octal, enum ordinal,
    /// booleans as 0/1). `maxmemory-clients` percentages come out negative;
    /// prefer [`Config::maxmemory_clients`]. Values above `i64::MAX` saturate.
    /// Unknown names give 0.
    pub fn int(&self, name: &str) -> i64 {
        match self.value(name) {
            Some(Value::Num(n)) => {
                i64::try_from(*n).unwrap_or(if *n < 0 { i64::MIN } else { i64::MAX })
            }
            Some(Value::Bool(b)) => i64::from(*b),
            Some(Value::Enum(e)) => i64::from(*e),
            _ => 0,
        }
    }

    /// Numeric value as unsigned (negative values give 0).
    pub fn uint(&self, name: &str) -> u64 {
        match self.value(name) {
            Some(Value::Num(n)) => u64::try_from(*n).unwrap_or(if *n < 0 { 0 } else { u64::MAX }),
            _ => u64::try_from(self.int(name)).unwrap_or(0),
        }
    }

    /// Boolean value (`yes`); enums are true when not their zero word.
    /// Unknown names give false.
    pub fn bool(&self, name: &str) -> bool {
        match self.value(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Enum(e)) => *e != 0,
            _ => false,
        }
    }

    /// The CONFIG GET text of any directive (enum words, paths, ...); empty
    /// for unknown names.
    pub fn string(&self, name: &str) -> String {
        self.get_value(name).unwrap_or_default()
    }

    /// `save`: (seconds, changes) pairs; empty means no automatic saving.
    /// A change count that wrapped negative (as Redis stores it) counts as 0.
    pub fn save_params(&self) -> Vec<(u64, u64)> {
        match self.value("save") {
            Some(Value::Save(p)) => p
                .iter()
                .map(|(s, c)| (*s as u64, u64::try_from(*c).unwrap_or(0)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `bind` addresses as given (a leading `-` marks an optional address).
    pub fn bind_addrs(&self) -> Vec<String> {
        match self.value("bind") {
            Some(Value::Bind(a)) => a.clone(),
            _ => Vec::new(),
        }
    }

    /// `client-output-buffer-limit` per client class.
    pub fn client_output_buffer_limits(&self) -> ClientOutputBufferLimits {
        match self.value("client-output-buffer-limit") {
            Some(Value::Cobl(c)) => *c,
            _ => value::default_cobl(),
        }
    }

    /// `oom-score-adj-values` for master, replica and background child.
    pub fn oom_score_adj_values(&self) -> [i32; 3] {
        match self.value("oom-score-adj-values") {
            Some(Value::Oom(o)) => *o,
            _ => [0, 200, 800],
        }
    }

    /// `notify-keyspace-events` as [`notify`] bits.
    pub fn notify_keyspace_events(&self) -> u32 {
        match self.value("notify-keyspace-events") {
            Some(Value::Notify(n)) => *n,
            _ => 0,
        }
    }

    /// `replicaof`: the master's host and port, or `None` for a master.
    pub fn replicaof(&self) -> Option<(String, u16)> {
        match self.value("replicaof") {
            Some(Value::ReplicaOf(r)) => r.clone(),
            _ => None,
        }
    }

    /// Records the outcome of `REPLICAOF`/`SLAVEOF` (the directive is
    /// immutable for CONFIG SET but follows the command).
    pub fn set_replicaof(&mut self, master: Option<(String, u16)>) {
        if let Some(i) = lookup("replicaof") {
            self.values[i] = Value::ReplicaOf(master);
        }
    }

    /// `latency-tracking-info-percentiles`.
    pub fn latency_tracking_percentiles(&self) -> Vec<f64> {
        match self.value("latency-tracking-info-percentiles") {
            Some(Value::Percentiles(p)) => p.clone(),
            _ => Vec::new(),
        }
    }

    /// `maxmemory-clients`.
    pub fn maxmemory_clients(&self) -> MemoryLimit {
        let v = self.int("maxmemory-clients");
        if v < 0 {
            MemoryLimit::Percent(v.unsigned_abs().min(100) as u8)
        } else {
            MemoryLimit::Bytes(v as u64)
        }
    }

    /// `dir` as an absolute path.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(self.string("dir"))
    }

    /// `rename-command` pairs in file order (an empty target disables the command).
    pub fn rename_commands(&self) -> &[(String, String)] {
        &self.rename_commands
    }

    /// `user` lines (arguments after `user`) in file order.
    pub fn users(&self) -> &[Vec<String>] {
        &self.users
    }

    /// `loadmodule` lines (path, then module arguments) in file order.
    pub fn modules(&self) -> &[Vec<String>] {
        &self.modules
    }

    /// `sentinel ...` lines, for the Sentinel layer to apply after loading.
    pub fn sentinel_lines(&self) -> &[SentinelLine] {
        &self.sentinel_lines
    }

    /// Deprecated directives met while loading (Redis warns and ignores them).
    pub fn deprecated_directives(&self) -> &[String] {
        &self.deprecated
    }

    /// Whether a directive's value must be redacted when logged (name or alias).
    pub fn is_sensitive(name: &str) -> bool {
        directive(name).is_some_and(|d| d.has(table::SENSITIVE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_display_as_in_table() {
        let c = Config::with_cwd(Path::new("/"));
        for d in DIRECTIVES {
            if d.kind != Kind::Dir {
                assert_eq!(
                    c.get_value(d.name).as_deref(),
                    Some(d.default),
                    "{}",
                    d.name
                );
            }
        }
        assert_eq!(c.get_value("dir").as_deref(), Some("/"));
    }

    #[test]
    fn get_exact_keeps_case_and_finds_hidden() {
        let c = Config::new();
        assert_eq!(
            c.get("PORT"),
            vec![("PORT".to_string(), "6379".to_string())]
        );
        assert_eq!(
            c.get("slaveof"),
            vec![("slaveof".to_string(), String::new())]
        );
        assert_eq!(c.get("key-load-delay").len(), 1);
        assert!(c.get("key-*").is_empty());
        assert!(c.get("nosuch").is_empty());
        assert!(c.get("").is_empty());
        assert!(c.get("save\\").is_empty());
    }

    #[test]
    fn get_patterns_include_aliases() {
        let c = Config::new();
        let names: Vec<String> = c.get("slave*").into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"slaveof".to_string()));
        assert!(names.contains(&"slave-priority".to_string()));
        assert_eq!(names.len(), 8);
        let h = c.get("h?");
        assert_eq!(h, vec![("hz".to_string(), "10".to_string())]);
        let all = c.get("*");
        assert_eq!(all.len(), 192);
        let many = c.get_many(&["port".into(), "PORT".into(), "p*".into()]);
        assert_eq!(
            many.iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("port"))
                .count(),
            1
        );
    }

    #[test]
    fn typed_accessors() {
        let c = Config::new();
        assert_eq!(c.int("port"), 6379);
        assert_eq!(c.int("nosuch"), 0);
        assert!(!c.bool("appendonly") && c.bool("activerehashing"));
        assert_eq!(c.string("maxmemory-policy"), "noeviction");
        assert_eq!(c.save_params(), vec![(3600, 1), (300, 100), (60, 10000)]);
        assert_eq!(c.bind_addrs(), vec!["*".to_string(), "-::*".to_string()]);
        let l = c.client_output_buffer_limits();
        assert_eq!(l.replica.hard, 256 << 20);
        assert_eq!(l.pubsub.soft_seconds, 60);
        assert_eq!(c.oom_score_adj_values(), [0, 200, 800]);
        assert_eq!(c.latency_tracking_percentiles(), vec![50.0, 99.0, 99.9]);
        assert_eq!(c.maxmemory_clients(), MemoryLimit::Bytes(0));
        assert_eq!(c.replicaof(), None);
        assert!(Config::is_sensitive("requirepass") && Config::is_sensitive("MASTERAUTH"));
        assert!(!Config::is_sensitive("port"));
    }
}
