//! One module per mode of the CLI; [`Mode::select`] picks the mode from the
//! options (in redis-cli's order of precedence) and [`run`] runs it.
//!
//! To add a mode: a flag in [`crate::args`], a variant here, a module beside this
//! one exposing `run(...) -> i32`.

pub mod bigkeys;
pub mod cluster;
pub mod eval;
pub mod latency;
pub mod oneshot;
pub mod pipe;
pub mod repl;
pub mod scan;
pub mod stat;

use crate::config::Config;
use crate::session::Session;

/// What this run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `--latency` / `--latency-history`.
    Latency { history: bool },
    /// `--pipe`.
    Pipe,
    /// `--bigkeys` / `--memkeys`.
    BigKeys { memory: bool },
    /// `--stat`.
    Stat,
    /// `--scan`.
    Scan,
    /// No command: the prompt.
    Repl,
    /// `--eval file keys , args`.
    Eval(Vec<Vec<u8>>),
    /// A command given on the command line.
    OneShot(Vec<Vec<u8>>),
}

impl Mode {
    /// The mode for these options and command-line words.
    pub fn select(cfg: &Config, command: Vec<Vec<u8>>) -> Mode {
        if cfg.latency {
            Mode::Latency {
                history: cfg.latency_history,
            }
        } else if cfg.pipe {
            Mode::Pipe
        } else if cfg.bigkeys {
            Mode::BigKeys { memory: false }
        } else if cfg.memkeys {
            Mode::BigKeys { memory: true }
        } else if cfg.stat {
            Mode::Stat
        } else if cfg.scan {
            Mode::Scan
        } else if cfg.eval.is_some() {
            Mode::Eval(command)
        } else if command.is_empty() {
            Mode::Repl
        } else {
            Mode::OneShot(command)
        }
    }
}

/// Runs `mode` and returns the exit code.
pub fn run(mode: Mode, cfg: Config) -> i32 {
    let mut session = Session::new(cfg);
    // The prompt starts even when the server is down; every other mode needs it.
    if mode != Mode::Repl && !session.connect(false) {
        return 1;
    }
    match mode {
        Mode::Latency { history } => latency::run(&mut session, history),
        Mode::Pipe => pipe::run(&mut session),
        Mode::BigKeys { memory } => bigkeys::run(&mut session, memory),
        Mode::Stat => stat::run(&mut session),
        Mode::Scan => scan::run(&mut session),
        Mode::Repl => repl::run(&mut session),
        Mode::Eval(args) => eval::run(&mut session, args),
        Mode::OneShot(args) => oneshot::run(&mut session, args),
    }
}
