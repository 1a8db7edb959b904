//! The interactive prompt.
//!
//! On a terminal: rustyline with history (`~/.shoalcli_history`, or
//! `$REDISCLI_HISTFILE`; `/dev/null` turns it off), hints and TAB completion from
//! [`crate::hints`]. With stdin not a terminal, lines are read plainly and run the
//! same way, without a prompt.
//!
//! Besides commands, a line can be `quit`/`exit`, `clear`, `connect host port`,
//! `:set hints`/`:set nohints`, `help ...`, or `N command` to run a command N
//! times. Commands taking 0.5 s or more are followed by their duration.

use crate::format::OutputMode;
use crate::hints;
use crate::out;
use crate::session::Session;
use crate::split::split_args;
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Context, Editor, Helper};
use std::borrow::Cow;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Instant;

/// What the loop does after a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    Exit(i32),
}

pub fn run(session: &mut Session) -> i32 {
    session.interactive = true;
    load_preferences(session);
    session.connect(false);
    if std::io::stdin().is_terminal() {
        run_editor(session)
    } else {
        run_plain(session)
    }
}

fn run_plain(session: &mut Session) -> i32 {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().split(b'\n');
    while let Some(Ok(mut line)) = lines.next() {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if let Next::Exit(code) = handle_line(session, &line, None) {
            return code;
        }
    }
    0
}

fn run_editor(session: &mut Session) -> i32 {
    let config = rustyline::Config::builder()
        .completion_type(CompletionType::Circular)
        .auto_add_history(false)
        .max_history_size(1000)
        .map(|b| b.build());
    let mut editor: Editor<CliHelper, FileHistory> = match config.and_then(Editor::with_config) {
        Ok(e) => e,
        Err(_) => return run_plain(session),
    };
    editor.set_helper(Some(CliHelper {
        hints: session.cfg.hints,
    }));
    let history = history_path();
    if let Some(p) = &history {
        let _ = editor.load_history(p);
    }
    loop {
        let prompt = session.prompt();
        let line = match editor.readline(&prompt) {
            Ok(l) => l,
            // Ctrl-C and Ctrl-D both leave, as in redis-cli.
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => return 0,
            Err(e) => {
                out::eprint_line(&format!("Error reading the line: {e}"));
                return 1;
            }
        };
        if let Some(p) = &history {
            if let Some(args) = split_args(line.as_bytes()) {
                if !args.is_empty() && !is_sensitive(&args) {
                    let _ = editor.add_history_entry(line.as_str());
                    let _ = editor.save_history(p);
                }
            }
        }
        let next = handle_line(session, line.as_bytes(), Some(&mut editor));
        if let Next::Exit(code) = next {
            return code;
        }
    }
}

/// Runs one typed line.
pub fn handle_line(
    session: &mut Session,
    line: &[u8],
    editor: Option<&mut Editor<CliHelper, FileHistory>>,
) -> Next {
    let Some(args) = split_args(line) else {
        out::print(b"Invalid argument(s)\n");
        return Next::Continue;
    };
    let Some(first) = args.first() else {
        return Next::Continue;
    };
    let lower = String::from_utf8_lossy(first).to_ascii_lowercase();
    if lower == "quit" || lower == "exit" {
        return Next::Exit(0);
    }
    if lower.starts_with(':') {
        set_preference(session, &args, editor);
        return Next::Continue;
    }
    if lower == "connect" && args.len() == 3 {
        session.cfg.host = String::from_utf8_lossy(&args[1]).into_owned();
        session.cfg.port = crate::args::atoi(&String::from_utf8_lossy(&args[2])) as u16;
        session.cfg.socket = None;
        session.connect(true);
        return Next::Continue;
    }
    if lower == "clear" && args.len() == 1 {
        match editor {
            Some(e) => {
                let _ = e.clear_screen();
            }
            None => out::print(b"\x1b[H\x1b[2J"),
        }
        return Next::Continue;
    }
    let (repeat, skip) = match repeat_prefix(&args) {
        Ok(r) => r,
        Err(()) => {
            out::print(b"Invalid redis-cli repeat command option value.\n");
            return Next::Continue;
        }
    };
    let start = Instant::now();
    let _ = session.issue(&args[skip..], repeat);
    let elapsed = start.elapsed();
    if elapsed.as_millis() >= 500 && session.cfg.output == OutputMode::Standard {
        out::print(format!("({:.2}s)\n", elapsed.as_secs_f64()).as_bytes());
    }
    Next::Continue
}

/// `N command ...` runs the command N times: `(N, 1)`; otherwise `(1, 0)`.
fn repeat_prefix(args: &[Vec<u8>]) -> Result<(i64, usize), ()> {
    if args.len() < 2 {
        return Ok((1, 0));
    }
    let first = &args[0];
    let digits = first
        .strip_prefix(b"-")
        .or_else(|| first.strip_prefix(b"+"))
        .unwrap_or(first);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Ok((1, 0));
    }
    match std::str::from_utf8(first)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
    {
        Some(n) if n > 0 => Ok((n, 1)),
        _ => Err(()),
    }
}

fn set_preference(
    session: &mut Session,
    args: &[Vec<u8>],
    editor: Option<&mut Editor<CliHelper, FileHistory>>,
) {
    let words: Vec<String> = args
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    match words
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [":set", "hints"] => session.cfg.hints = true,
        [":set", "nohints"] => session.cfg.hints = false,
        [":set", other, ..] => {
            out::print(format!("Unknown redis-cli preference '{other}'\n").as_bytes());
        }
        _ => out::print(format!("Unknown redis-cli option '{}'\n", words[0]).as_bytes()),
    }
    if let Some(h) = editor.and_then(|e| e.helper_mut()) {
        h.hints = session.cfg.hints;
    }
}

/// Lines holding secrets stay out of the history file.
fn is_sensitive(args: &[Vec<u8>]) -> bool {
    let w: Vec<String> = args
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let has = |word: &str| w.iter().skip(1).any(|a| a == word);
    match w[0].as_str() {
        "auth" => true,
        "acl" => w.get(1).is_some_and(|s| s == "setuser"),
        "hello" => has("auth"),
        "migrate" => has("auth") || has("auth2"),
        "config" => {
            w.get(1).is_some_and(|s| s == "set")
                && w.iter()
                    .skip(2)
                    .any(|a| matches!(a.as_str(), "masterauth" | "masteruser" | "requirepass"))
        }
        _ => false,
    }
}

/// Applies the `:set ...` lines of `$REDISCLI_RCFILE`, else `~/.shoalclirc`.
fn load_preferences(session: &mut Session) {
    let path = match std::env::var_os("REDISCLI_RCFILE") {
        Some(p) => PathBuf::from(p),
        None => match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".shoalclirc"),
            None => return,
        },
    };
    let Ok(text) = std::fs::read(&path) else {
        return;
    };
    for line in text.split(|&c| c == b'\n') {
        if let Some(args) = split_args(line) {
            if args.first().is_some_and(|a| a.starts_with(b":")) {
                set_preference(session, &args, None);
            }
        }
    }
}

/// `$REDISCLI_HISTFILE` (`~` expanded; `/dev/null` disables history), else
/// `~/.shoalcli_history`.
pub fn history_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match std::env::var("REDISCLI_HISTFILE") {
        Ok(p) if p == "/dev/null" => None,
        Ok(p) => match (p.strip_prefix("~/"), &home) {
            (Some(rest), Some(h)) => Some(h.join(rest)),
            _ => Some(PathBuf::from(p)),
        },
        Err(_) => home.map(|h| h.join(".shoalcli_history")),
    }
}

/// rustyline's view of the command table.
pub struct CliHelper {
    pub hints: bool,
}

impl Completer for CliHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok((0, hints::complete(&line[..pos])))
    }
}

impl Hinter for CliHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if !self.hints || pos < line.len() {
            return None;
        }
        hints::hint(line)
    }
}

impl Highlighter for CliHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[0;90;49m{hint}\x1b[0m"))
    }
}

impl Validator for CliHelper {}

impl Helper for CliHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn repeat_prefixes() {
        assert_eq!(repeat_prefix(&w(&["3", "ping"])), Ok((3, 1)));
        assert_eq!(repeat_prefix(&w(&["3"])), Ok((1, 0)));
        assert_eq!(repeat_prefix(&w(&["3x", "ping"])), Ok((1, 0)));
        assert_eq!(repeat_prefix(&w(&["0", "ping"])), Err(()));
        assert_eq!(repeat_prefix(&w(&["-2", "ping"])), Err(()));
    }

    #[test]
    fn secrets_stay_out_of_history() {
        assert!(is_sensitive(&w(&["AUTH", "pw"])));
        assert!(is_sensitive(&w(&["acl", "SETUSER", "u", ">pw"])));
        assert!(is_sensitive(&w(&["hello", "3", "AUTH", "u", "p"])));
        assert!(is_sensitive(&w(&["config", "set", "requirepass", "x"])));
        assert!(!is_sensitive(&w(&["set", "auth", "x"])));
        assert!(!is_sensitive(&w(&["config", "get", "requirepass"])));
    }
}
