//! `shoal-cli-core`: the command-line client, behaving like `redis-cli` 7.0 in its
//! everyday use. `bins/shoal-cli` only calls [`main`].
//!
//! | module | owns |
//! |---|---|
//! | [`config`] | the settings one run works with, and their defaults |
//! | [`args`] | the command line and `redis://` URIs, parsed into a [`config::Config`] |
//! | [`usage`] | the `--help` and `--version` texts |
//! | [`format`] | reply rendering: the TTY form, `--raw`, `--csv`, quoting |
//! | [`split`] | splitting a typed line into arguments (quotes and escapes) |
//! | [`session`] | the connection as the user sees it: connect, AUTH/SELECT/HELLO, reconnects, sending a command and printing its replies, the prompt |
//! | [`hints`] | the command table behind hints, completion and `help` |
//! | [`out`] | writing to stdout/stderr without panicking on a closed pipe |
//! | [`modes`] | one module per mode (one-shot, REPL, `--pipe`, `--scan`, `--stat`, `--latency`, `--bigkeys`, `--eval`); [`modes::Mode::select`] picks one |
//!
//! Adding a mode (`--cluster ...` subcommands, Sentinel helpers) means a flag in
//! [`args`], a variant in [`modes::Mode`] and a module under `modes/`. Cluster
//! redirects (`-c`) live in [`session`], where every command passes.

pub mod args;
pub mod config;
pub mod format;
pub mod hints;
pub mod modes;
pub mod out;
pub mod session;
pub mod split;
pub mod usage;

use std::ffi::OsString;
use std::io::IsTerminal;

/// Runs the CLI on the process's arguments and returns the exit code.
pub fn main() -> i32 {
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    run(argv)
}

/// Runs the CLI on `argv` (without the program name) and returns the exit code.
pub fn run(argv: Vec<OsString>) -> i32 {
    // Like redis-cli, FAKETTY makes a pipe look like a terminal (for tests).
    let stdout_tty = std::io::stdout().is_terminal() || std::env::var_os("FAKETTY").is_some();
    let parsed = match args::parse(&argv, stdout_tty) {
        Ok(p) => p,
        Err(msg) => {
            out::eprint_line(&msg);
            return 1;
        }
    };
    let mut cfg = parsed.config;
    match parsed.action {
        args::Action::Help => {
            out::print(usage::help_text().as_bytes());
            return 0;
        }
        args::Action::Version => {
            out::print(format!("{}\n", usage::version_line()).as_bytes());
            return 0;
        }
        args::Action::Unsupported(what) => {
            out::eprint_line(&format!("{what} is not supported by shoal-cli yet"));
            return 1;
        }
        args::Action::Run => {}
    }
    if cfg.password.is_some() && !cfg.no_auth_warning {
        out::eprint_line(
            "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.",
        );
    }
    if cfg.password.is_none() {
        if let Some(p) = std::env::var_os("REDISCLI_AUTH") {
            use std::os::unix::ffi::OsStrExt;
            cfg.password = Some(p.as_bytes().to_vec());
        }
    }
    let mode = modes::Mode::select(&cfg, parsed.command);
    modes::run(mode, cfg)
}
