//! The declarative table of every directive Redis 7.0.15 accepts.
//!
//! One row per directive: canonical name, optional alias (the older
//! `slave-*`, `*-ziplist-*` and `lua-time-limit` spellings), value type with
//! its bounds or allowed words, flags, and the default in the exact text that
//! `CONFIG GET` shows. Rows are in alphabetical order of the canonical name;
//! `CONFIG GET` replies list names and aliases merged in alphabetical order
//! (Redis's own order is its hash table's, which no client can rely on).
//!
//! Facts come from the reference server (Debian's redis-server 7.0.15): the
//! names and defaults from `CONFIG GET *` (snapshot in
//! `tests/data/redis-7.0.15-config-names.txt`), the bounds from the range
//! errors it returns, the flags from how `CONFIG SET` refuses. Directives
//! that only a file or the command line can give (`include`, `rename-command`,
//! `user`, `loadmodule`, `sentinel`) and the three deprecated ones that are
//! accepted and ignored are listed separately in [`FILE_ONLY`] and
//! [`DEPRECATED`].
//!
//! Invariant (tested): names and aliases are lowercase and unique, and every
//! default parses with its own row's type.

/// Cannot be changed by CONFIG SET ("can't set immutable config").
pub const IMMUTABLE: u8 = 1;
/// Changeable only when `enable-protected-configs` allows it.
pub const PROTECTED: u8 = 2;
/// Value is redacted from SLOWLOG/MONITOR when set.
pub const SENSITIVE: u8 = 4;
/// Left out of `CONFIG GET` patterns; still returned when asked by exact name.
pub const HIDDEN: u8 = 8;
/// String that Redis holds as "no value" when empty: CONFIG REWRITE then
/// removes its lines instead of writing `name ""`.
pub const NULL_IF_EMPTY: u8 = 16;

/// Extra validation of a string directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrCheck {
    /// Anything.
    Any,
    /// Letters, digits, `-` and `.` only (`cluster-announce-hostname`).
    Hostname,
    /// A valid process title template (`proc-title-template`).
    ProcTitle,
    /// Non-empty and not a path (`appendfilename`).
    FileName,
    /// Non-empty and not a path (`appenddirname`).
    DirName,
    /// Not a path, may be empty (`dbfilename`).
    BaseName,
}

/// Value type of a directive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// `yes` / `no`, any case.
    Bool,
    /// Strict integer within bounds.
    Int { min: i64, max: i64 },
    /// Memory size (units accepted) within bounds; `max` may exceed `i64::MAX`
    /// for directives Redis stores as unsigned 64-bit.
    Memory { min: i128, max: i128 },
    /// Memory size or `N%` (stored negative, as Redis does).
    MemoryPercent { min: i128, max: i128 },
    /// Octal number (shown in octal).
    Octal { min: i64, max: i64 },
    /// One word among the listed ones; several words may share a value, the
    /// first one listed is the one shown.
    Enum(&'static [(&'static str, u32)]),
    /// One or more words whose values are or-ed (value 0 is the "default" word).
    FlagSet(&'static [(&'static str, u32)]),
    /// Free text, possibly checked.
    Str(StrCheck),
    /// `save` pairs of seconds and changes.
    Save,
    /// `bind` addresses (at most 16).
    Bind,
    /// `client-output-buffer-limit` class/hard/soft/seconds groups.
    ClientOutputBufferLimit,
    /// `oom-score-adj-values`: three integers in -2000..=2000.
    OomScoreAdjValues,
    /// `notify-keyspace-events` class letters.
    NotifyKeyspaceEvents,
    /// `dir`: an existing directory, kept as an absolute path.
    Dir,
    /// `replicaof` / `slaveof`: host and port, or `no one`.
    ReplicaOf,
    /// `latency-tracking-info-percentiles`: floats in 0..=100.
    Percentiles,
}

impl Kind {
    /// Multi-argument directives take several words in a file and one
    /// space-separated string in CONFIG SET.
    pub fn is_multi_arg(&self) -> bool {
        matches!(
            self,
            Kind::FlagSet(_)
                | Kind::Save
                | Kind::Bind
                | Kind::ClientOutputBufferLimit
                | Kind::OomScoreAdjValues
                | Kind::ReplicaOf
                | Kind::Percentiles
        )
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Directive {
    /// Canonical name (the one CONFIG REWRITE writes).
    pub name: &'static str,
    /// Older spelling accepted everywhere and listed by CONFIG GET.
    pub alias: Option<&'static str>,
    /// Value type.
    pub kind: Kind,
    /// [`IMMUTABLE`], [`PROTECTED`], [`SENSITIVE`], [`HIDDEN`].
    pub flags: u8,
    /// Default value as CONFIG GET shows it (`dir`'s is the working directory
    /// and is filled in at run time).
    pub default: &'static str,
}

impl Directive {
    const fn new(name: &'static str, kind: Kind, default: &'static str) -> Directive {
        Directive {
            name,
            alias: None,
            kind,
            flags: 0,
            default,
        }
    }
    const fn alias(mut self, alias: &'static str) -> Directive {
        self.alias = Some(alias);
        self
    }
    const fn flags(mut self, flags: u8) -> Directive {
        self.flags = flags;
        self
    }
    /// Has `flag` set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

const I32: i64 = i32::MAX as i64;
const I32MIN: i64 = i32::MIN as i64;
const I64: i64 = i64::MAX;
const U32: i64 = u32::MAX as i64;
const M64: i128 = i64::MAX as i128;
const U64: i128 = u64::MAX as i128;

const fn b(name: &'static str, default: &'static str) -> Directive {
    Directive::new(name, Kind::Bool, default)
}
const fn int(name: &'static str, min: i64, max: i64, default: &'static str) -> Directive {
    Directive::new(name, Kind::Int { min, max }, default)
}
const fn mem(name: &'static str, min: i128, max: i128, default: &'static str) -> Directive {
    Directive::new(name, Kind::Memory { min, max }, default)
}
const fn s(name: &'static str, default: &'static str) -> Directive {
    Directive::new(name, Kind::Str(StrCheck::Any), default)
}
const fn e(
    name: &'static str,
    words: &'static [(&'static str, u32)],
    default: &'static str,
) -> Directive {
    Directive::new(name, Kind::Enum(words), default)
}

const NO_YES_LOCAL: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];
const SHUTDOWN_ON_SIG: &[(&str, u32)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];
const SYSLOG_FACILITIES: &[(&str, u32)] = &[
    ("user", 0),
    ("local0", 1),
    ("local1", 2),
    ("local2", 3),
    ("local3", 4),
    ("local4", 5),
    ("local5", 6),
    ("local6", 7),
    ("local7", 8),
];
const MAXMEMORY_POLICIES: &[(&str, u32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];

/// Every directive that CONFIG GET/SET know, alphabetically by canonical name.
pub static DIRECTIVES: &[Directive] = &[
    e(
        "acl-pubsub-default",
        &[("allchannels", 1), ("resetchannels", 0)],
        "resetchannels",
    ),
    s("aclfile", "").flags(IMMUTABLE),
    int("acllog-max-len", 0, I64, "128"),
    int("active-defrag-cycle-max", 1, 99, "25"),
    int("active-defrag-cycle-min", 1, 99, "1"),
    mem("active-defrag-ignore-bytes", 1, M64, "104857600"),
    int("active-defrag-max-scan-fields", 1, I64, "1000"),
    int("active-defrag-threshold-lower", 0, 1000, "10"),
    int("active-defrag-threshold-upper", 0, 1000, "100"),
    int("active-expire-effort", 1, 10, "1"),
    b("activedefrag", "no"),
    b("activerehashing", "yes"),
    b("always-show-logo", "no").flags(IMMUTABLE),
    b("aof-disable-auto-gc", "no"),
    b("aof-load-truncated", "yes"),
    b("aof-rewrite-incremental-fsync", "yes"),
    b("aof-timestamp-enabled", "no"),
    b("aof-use-rdb-preamble", "yes"),
    s("aof_rewrite_cpulist", "").flags(NULL_IF_EMPTY | IMMUTABLE),
    Directive::new(
        "appenddirname",
        Kind::Str(StrCheck::DirName),
        "appendonlydir",
    )
    .flags(IMMUTABLE),
    Directive::new(
        "appendfilename",
        Kind::Str(StrCheck::FileName),
        "appendonly.aof",
    )
    .flags(IMMUTABLE),
    e(
        "appendfsync",
        &[("everysec", 2), ("always", 1), ("no", 0)],
        "everysec",
    ),
    b("appendonly", "no"),
    mem("auto-aof-rewrite-min-size", 0, M64, "67108864"),
    int("auto-aof-rewrite-percentage", 0, I32, "100"),
    s("bgsave_cpulist", "").flags(NULL_IF_EMPTY | IMMUTABLE),
    Directive::new("bind", Kind::Bind, "* -::*"),
    s("bind-source-addr", "").flags(NULL_IF_EMPTY),
    s("bio_cpulist", "").flags(NULL_IF_EMPTY | IMMUTABLE),
    int("busy-reply-threshold", 0, I64, "5000").alias("lua-time-limit"),
    Directive::new(
        "client-output-buffer-limit",
        Kind::ClientOutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    ),
    mem("client-query-buffer-limit", 1024 * 1024, M64, "1073741824"),
    b("cluster-allow-pubsubshard-when-down", "yes"),
    b("cluster-allow-reads-when-down", "no"),
    b("cluster-allow-replica-migration", "yes"),
    int("cluster-announce-bus-port", 0, 65535, "0"),
    Directive::new(
        "cluster-announce-hostname",
        Kind::Str(StrCheck::Hostname),
        "",
    )
    .flags(NULL_IF_EMPTY),
    s("cluster-announce-ip", "").flags(NULL_IF_EMPTY),
    int("cluster-announce-port", 0, 65535, "0"),
    int("cluster-announce-tls-port", 0, 65535, "0"),
    s("cluster-config-file", "nodes.conf").flags(IMMUTABLE),
    b("cluster-enabled", "no").flags(IMMUTABLE),
    mem("cluster-link-sendbuf-limit", 0, U64, "0"),
    int("cluster-migration-barrier", 0, I32, "1"),
    int("cluster-node-timeout", 0, I64, "15000"),
    int("cluster-port", 0, 65535, "0").flags(IMMUTABLE),
    e(
        "cluster-preferred-endpoint-type",
        &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)],
        "ip",
    ),
    b("cluster-replica-no-failover", "no").alias("cluster-slave-no-failover"),
    int("cluster-replica-validity-factor", 0, I32, "10").alias("cluster-slave-validity-factor"),
    b("cluster-require-full-coverage", "yes"),
    b("crash-log-enabled", "yes"),
    b("crash-memcheck-enabled", "yes"),
    b("daemonize", "no").flags(IMMUTABLE),
    int("databases", 1, I32, "16").flags(IMMUTABLE),
    Directive::new("dbfilename", Kind::Str(StrCheck::BaseName), "dump.rdb").flags(PROTECTED),
    Directive::new("dir", Kind::Dir, "").flags(PROTECTED),
    b("disable-thp", "yes").flags(IMMUTABLE),
    b("dynamic-hz", "yes"),
    e("enable-debug-command", NO_YES_LOCAL, "no").flags(IMMUTABLE),
    e("enable-module-command", NO_YES_LOCAL, "no").flags(IMMUTABLE),
    e("enable-protected-configs", NO_YES_LOCAL, "no").flags(IMMUTABLE),
    int("hash-max-listpack-entries", 0, I64, "512").alias("hash-max-ziplist-entries"),
    mem("hash-max-listpack-value", 0, M64, "64").alias("hash-max-ziplist-value"),
    mem("hll-sparse-max-bytes", 0, M64, "3000"),
    int("hz", 0, I32, "10"),
    s("ignore-warnings", ""),
    int("io-threads", 1, 128, "1").flags(IMMUTABLE),
    b("io-threads-do-reads", "no").flags(IMMUTABLE),
    b("jemalloc-bg-thread", "yes"),
    int("key-load-delay", I32MIN, I32, "0").flags(HIDDEN),
    int("latency-monitor-threshold", 0, I64, "0"),
    b("latency-tracking", "yes"),
    Directive::new(
        "latency-tracking-info-percentiles",
        Kind::Percentiles,
        "50 99 99.9",
    ),
    b("lazyfree-lazy-eviction", "no"),
    b("lazyfree-lazy-expire", "no"),
    b("lazyfree-lazy-server-del", "no"),
    b("lazyfree-lazy-user-del", "no"),
    b("lazyfree-lazy-user-flush", "no"),
    int("lfu-decay-time", 0, I32, "1"),
    int("lfu-log-factor", 0, I32, "10"),
    int("list-compress-depth", 0, I32, "0"),
    int("list-max-listpack-size", I32MIN, I32, "-2").alias("list-max-ziplist-size"),
    int(
        "loading-process-events-interval-bytes",
        1024,
        I32,
        "2097152",
    )
    .flags(HIDDEN),
    s("logfile", "").flags(IMMUTABLE),
    e(
        "loglevel",
        &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)],
        "notice",
    ),
    // Debian's security patch: re-enables deprecated Lua APIs; immutable and hidden.
    b("lua-enable-deprecated-api", "no").flags(IMMUTABLE | HIDDEN),
    s("masterauth", "").flags(NULL_IF_EMPTY | SENSITIVE),
    s("masteruser", "").flags(NULL_IF_EMPTY | SENSITIVE),
    int("maxclients", 1, U32, "10000"),
    mem("maxmemory", 0, U64, "0"),
    Directive::new(
        "maxmemory-clients",
        Kind::MemoryPercent { min: 0, max: M64 },
        "0",
    ),
    int("maxmemory-eviction-tenacity", 0, 100, "10"),
    e("maxmemory-policy", MAXMEMORY_POLICIES, "noeviction"),
    int("maxmemory-samples", 1, I32, "5"),
    int("min-replicas-max-lag", 0, I32, "10").alias("min-slaves-max-lag"),
    int("min-replicas-to-write", 0, I32, "0").alias("min-slaves-to-write"),
    b("no-appendfsync-on-rewrite", "no"),
    Directive::new("notify-keyspace-events", Kind::NotifyKeyspaceEvents, ""),
    e(
        "oom-score-adj",
        &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)],
        "no",
    ),
    Directive::new("oom-score-adj-values", Kind::OomScoreAdjValues, "0 200 800"),
    s("pidfile", "").flags(NULL_IF_EMPTY | IMMUTABLE),
    int("port", 0, 65535, "6379"),
    Directive::new(
        "proc-title-template",
        Kind::Str(StrCheck::ProcTitle),
        "{title} {listen-addr} {server-mode}",
    ),
    e(
        "propagation-error-behavior",
        &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)],
        "ignore",
    ),
    b("protected-mode", "yes"),
    mem("proto-max-bulk-len", 1024 * 1024, M64, "536870912"),
    b("rdb-del-sync-files", "no"),
    int("rdb-key-save-delay", I32MIN, I32, "0").flags(HIDDEN),
    b("rdb-save-incremental-fsync", "yes"),
    b("rdbchecksum", "yes").flags(IMMUTABLE),
    b("rdbcompression", "yes"),
    mem("repl-backlog-size", 1, M64, "1048576"),
    int("repl-backlog-ttl", 0, I64, "3600"),
    b("repl-disable-tcp-nodelay", "no"),
    e(
        "repl-diskless-load",
        &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)],
        "disabled",
    ),
    b("repl-diskless-sync", "yes"),
    int("repl-diskless-sync-delay", 0, I32, "5"),
    int("repl-diskless-sync-max-replicas", 0, I32, "0"),
    int("repl-ping-replica-period", 1, I32, "10").alias("repl-ping-slave-period"),
    int("repl-timeout", 1, I32, "60"),
    s("replica-announce-ip", "")
        .alias("slave-announce-ip")
        .flags(NULL_IF_EMPTY),
    int("replica-announce-port", 0, 65535, "0").alias("slave-announce-port"),
    b("replica-announced", "yes"),
    b("replica-ignore-disk-write-errors", "no"),
    b("replica-ignore-maxmemory", "yes").alias("slave-ignore-maxmemory"),
    b("replica-lazy-flush", "no").alias("slave-lazy-flush"),
    int("replica-priority", 0, I32, "100").alias("slave-priority"),
    b("replica-read-only", "yes").alias("slave-read-only"),
    b("replica-serve-stale-data", "yes").alias("slave-serve-stale-data"),
    Directive::new("replicaof", Kind::ReplicaOf, "")
        .alias("slaveof")
        .flags(IMMUTABLE),
    s("requirepass", "").flags(NULL_IF_EMPTY | SENSITIVE),
    e(
        "sanitize-dump-payload",
        &[("no", 0), ("yes", 1), ("clients", 2)],
        "no",
    ),
    Directive::new("save", Kind::Save, "3600 1 300 100 60 10000"),
    s("server_cpulist", "").flags(NULL_IF_EMPTY | IMMUTABLE),
    int("set-max-intset-entries", 0, I64, "512"),
    b("set-proc-title", "yes").flags(IMMUTABLE),
    Directive::new(
        "shutdown-on-sigint",
        Kind::FlagSet(SHUTDOWN_ON_SIG),
        "default",
    ),
    Directive::new(
        "shutdown-on-sigterm",
        Kind::FlagSet(SHUTDOWN_ON_SIG),
        "default",
    ),
    int("shutdown-timeout", 0, I32, "10"),
    int("slowlog-log-slower-than", -1, I64, "10000"),
    int("slowlog-max-len", 0, I64, "128"),
    int("socket-mark-id", 0, U32, "0").flags(IMMUTABLE),
    b("stop-writes-on-bgsave-error", "yes"),
    mem("stream-node-max-bytes", 0, M64, "4096"),
    int("stream-node-max-entries", 0, I64, "100"),
    e(
        "supervised",
        &[("upstart", 1), ("systemd", 2), ("auto", 3), ("no", 0)],
        "no",
    )
    .flags(IMMUTABLE),
    b("syslog-enabled", "no").flags(IMMUTABLE),
    e("syslog-facility", SYSLOG_FACILITIES, "local0").flags(IMMUTABLE),
    s("syslog-ident", "redis").flags(IMMUTABLE),
    int("tcp-backlog", 0, I32, "511").flags(IMMUTABLE),
    int("tcp-keepalive", 0, I32, "300"),
    int("timeout", 0, I32, "0"),
    e(
        "tls-auth-clients",
        &[("no", 0), ("yes", 1), ("optional", 2)],
        "yes",
    ),
    s("tls-ca-cert-dir", "").flags(NULL_IF_EMPTY),
    s("tls-ca-cert-file", "").flags(NULL_IF_EMPTY),
    s("tls-cert-file", "").flags(NULL_IF_EMPTY),
    s("tls-ciphers", "").flags(NULL_IF_EMPTY),
    s("tls-ciphersuites", "").flags(NULL_IF_EMPTY),
    s("tls-client-cert-file", "").flags(NULL_IF_EMPTY),
    s("tls-client-key-file", "").flags(NULL_IF_EMPTY),
    s("tls-client-key-file-pass", "").flags(NULL_IF_EMPTY),
    b("tls-cluster", "no"),
    s("tls-dh-params-file", "").flags(NULL_IF_EMPTY),
    s("tls-key-file", "").flags(NULL_IF_EMPTY),
    s("tls-key-file-pass", "").flags(NULL_IF_EMPTY),
    int("tls-port", 0, 65535, "0"),
    b("tls-prefer-server-ciphers", "no"),
    s("tls-protocols", "").flags(NULL_IF_EMPTY),
    b("tls-replication", "no"),
    int("tls-session-cache-size", 0, I32, "20480"),
    int("tls-session-cache-timeout", 0, I32, "300"),
    b("tls-session-caching", "yes"),
    int("tracking-table-max-keys", 0, I64, "1000000"),
    s("unixsocket", "").flags(NULL_IF_EMPTY | IMMUTABLE),
    Directive::new("unixsocketperm", Kind::Octal { min: 0, max: 0o777 }, "0").flags(IMMUTABLE),
    b("use-exit-on-panic", "no").flags(HIDDEN),
    int("watchdog-period", 0, I32, "0").flags(HIDDEN),
    int("zset-max-listpack-entries", 0, I64, "128").alias("zset-max-ziplist-entries"),
    mem("zset-max-listpack-value", 0, M64, "64").alias("zset-max-ziplist-value"),
];

/// Directives only a configuration file or the command line can give, with
/// the argument counts they accept (min, max; `None` = unbounded).
pub static FILE_ONLY: &[(&str, usize, Option<usize>)] = &[
    ("include", 1, Some(1)),
    ("rename-command", 2, Some(2)),
    ("user", 1, None),
    ("loadmodule", 1, None),
    ("sentinel", 0, None),
];

/// Directives Redis 7.0 still accepts (exactly one argument) and ignores.
pub static DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_sorted_lowercase_and_unique() {
        let mut seen = HashSet::new();
        for w in DIRECTIVES.windows(2) {
            assert!(w[0].name < w[1].name, "{} !< {}", w[0].name, w[1].name);
        }
        for d in DIRECTIVES {
            for n in std::iter::once(d.name).chain(d.alias) {
                assert_eq!(n, n.to_ascii_lowercase());
                assert!(seen.insert(n), "duplicate {n}");
            }
        }
        for (n, _, _) in FILE_ONLY {
            assert!(!seen.contains(n));
        }
    }
}
