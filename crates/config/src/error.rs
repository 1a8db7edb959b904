//! Error types of loading, CONFIG SET and CONFIG REWRITE, rendered with the
//! exact texts of Redis 7.0.15.
//!
//! * [`ConfigLoadError`] — also carries the early-exit requests of the command
//!   line (`--version`, `--help`, `--test-memory`), which are not errors but
//!   must stop loading; the caller decides what to print and how to exit.
//! * [`ConfigSetError`] — `Display` is the whole error line without the
//!   leading `-` (it starts with `ERR`).
//! * [`ConfigRewriteError`] — same convention.

use std::fmt;

/// The version Shoal reports itself compatible with (used in texts Redis
/// prints with its own version).
pub const REDIS_VERSION: &str = "7.0.15";

/// Why [`crate::Config::load`] did not produce a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigLoadError {
    /// `-v` or `--version` as first argument: print the version, exit 0.
    Version,
    /// `-h` or `--help` as first argument: print usage, exit 0.
    Help,
    /// `--test-memory` as first argument. `megabytes` is the second argument
    /// when exactly two were given; otherwise Redis prints [`TEST_MEMORY_USAGE`]
    /// and exits 1.
    TestMemory {
        /// Amount to test, as given.
        megabytes: Option<String>,
    },
    /// A bad line. `Display` gives the complete multi-line report Redis
    /// prints to stderr before exiting with status 1, without the final
    /// newline: `eprintln!("{e}")` reproduces Redis's output byte for byte.
    BadLine {
        /// 1-based line number within the text being read (the file, an
        /// included file, or the file followed by the command-line options).
        line: usize,
        /// The offending line, trimmed.
        text: String,
        /// Redis's reason text.
        reason: String,
    },
    /// A configuration file could not be read. Redis logs this (warning
    /// level, through its logger) and exits with status 1.
    CantOpen {
        /// The path as Redis names it: absolute for the main file, as written
        /// for an `include`.
        path: String,
        /// The system's error text.
        reason: String,
    },
}

/// What Redis prints to stderr when `--test-memory` lacks its argument, less
/// the final newline (as every `Display` here, meant for `eprintln!`).
pub const TEST_MEMORY_USAGE: &str =
    "Please specify the amount of memory to test in megabytes.\nExample: ./redis-server --test-memory 4096\n";

impl ConfigLoadError {
    /// A [`ConfigLoadError::BadLine`]; for layers that validate directives
    /// this crate only records (`sentinel ...` lines, users, modules).
    pub fn bad_line(
        line: usize,
        text: impl Into<String>,
        reason: impl Into<String>,
    ) -> ConfigLoadError {
        ConfigLoadError::BadLine {
            line,
            text: text.into(),
            reason: reason.into(),
        }
    }

    /// Exit status Redis uses for this outcome.
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigLoadError::Version | ConfigLoadError::Help => 0,
            ConfigLoadError::TestMemory { megabytes: Some(_) } => 0,
            _ => 1,
        }
    }
}

impl fmt::Display for ConfigLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigLoadError::Version => write!(f, "version requested"),
            ConfigLoadError::Help => write!(f, "usage requested"),
            ConfigLoadError::TestMemory { megabytes: Some(m) } => {
                write!(f, "memory test of {m} megabytes requested")
            }
            ConfigLoadError::TestMemory { megabytes: None } => f.write_str(TEST_MEMORY_USAGE),
            ConfigLoadError::BadLine { line, text, reason } => write!(
                f,
                "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n\
                 Reading the configuration file, at line {line}\n>>> '{text}'\n{reason}"
            ),
            ConfigLoadError::CantOpen { path, reason } => {
                write!(f, "Fatal error, can't open config file '{path}': {reason}")
            }
        }
    }
}

impl std::error::Error for ConfigLoadError {}

/// Why CONFIG SET refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSetError {
    /// No such directive.
    Unknown {
        /// The name as the client sent it.
        name: String,
    },
    /// The directive exists but this value or this change is refused.
    Failed {
        /// The name as the client sent it.
        name: String,
        /// Redis's reason text.
        reason: String,
    },
}

impl ConfigSetError {
    pub(crate) fn failed(name: &str, reason: impl Into<String>) -> ConfigSetError {
        ConfigSetError::Failed {
            name: name.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ConfigSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSetError::Unknown { name } => {
                write!(
                    f,
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                )
            }
            ConfigSetError::Failed { name, reason } => {
                write!(
                    f,
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"
                )
            }
        }
    }
}

impl std::error::Error for ConfigSetError {}

/// The reply Redis gives to CONFIG SET with an odd number of arguments
/// after the subcommand (arity errors proper are the dispatcher's).
pub const ERR_CONFIG_SET_SYNTAX: &str = "ERR syntax error";

/// Why CONFIG REWRITE failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigRewriteError {
    /// Started without a configuration file.
    NoConfigFile,
    /// Reading or writing the file failed (system error text).
    Io(String),
}

impl fmt::Display for ConfigRewriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigRewriteError::NoConfigFile => {
                f.write_str("ERR The server is running without a config file")
            }
            ConfigRewriteError::Io(e) => write!(f, "ERR Rewriting config file: {e}"),
        }
    }
}

impl std::error::Error for ConfigRewriteError {}
