//! Reading the configuration: command line, files, includes, stdin.
//!
//! Redis turns its command line into configuration text and appends it to
//! the file's: `redis-server [file] [-] [--name value ...]` becomes
//! `<file contents><stdin contents>\n<name "value" ...>` with one line per
//! `--name`, each value quoted. Errors therefore report line numbers that
//! continue past the file (the first option is on line `lines(file) + 2`),
//! and the offending line shows the quoted values. That text is then read
//! line by line: blank lines and `#` comments skipped, words split as in
//! [`crate::splitargs`], the first word matched case-insensitively.
//!
//! `include` reads another file at that point (path relative to the working
//! directory, which a preceding `dir` changes — Redis chdirs while loading;
//! here a virtual working directory does the same without side effects).
//! Errors inside an included file are numbered within that file. A path with
//! `*`, `?` or `[` in its last component includes every match, sorted, and
//! matching nothing is not an error.
//!
//! Directives whose meaning belongs to other layers (`rename-command`,
//! `user`, `loadmodule`, `sentinel ...`) are recorded; [`LoadHooks`] lets
//! those layers validate them during the load so errors carry line numbers.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::error::ConfigLoadError;
use crate::splitargs::{quote, split_args};
use crate::table::{DEPRECATED, DIRECTIVES};
use crate::value::{self, os_error_text, ParseCtx, Value};
use crate::{lookup, Config, SentinelLine};

/// Validation callbacks for directives this crate only records.
pub trait LoadHooks {
    /// `rename-command from to`; return Redis's reason text to reject
    /// (e.g. "No such command in rename-command").
    fn rename_command(&mut self, from: &str, to: &str) -> Result<(), String> {
        let _ = (from, to);
        Ok(())
    }
    /// `user ...` (`args[0]` is `user`). To reject, return the index of the
    /// argument Redis names in its message and the reason; the error reads
    /// `Error in user declaration '<args[index]>': <reason>`.
    fn user(&mut self, args: &[String]) -> Result<(), (usize, String)> {
        let _ = args;
        Ok(())
    }
}

/// How [`Config::load_with`] runs.
#[derive(Default)]
pub struct LoadOptions<'a> {
    /// Sentinel mode decided by the caller (e.g. from the program name);
    /// `--sentinel` on the command line sets it too.
    pub sentinel_mode: bool,
    /// Where `-` reads from (the process's stdin if `None`).
    pub stdin: Option<&'a mut dyn Read>,
    /// Working directory for relative paths (the process's if `None`).
    pub cwd: Option<PathBuf>,
    /// Validation of recorded directives.
    pub hooks: Option<&'a mut dyn LoadHooks>,
}

/// Nesting limit for `include` (Redis has none and recurses until it crashes).
const MAX_INCLUDE_DEPTH: usize = 32;

const ERR_BAD_DIRECTIVE: &str = "Bad directive or wrong number of arguments";

struct Loader<'a, 'h> {
    config: Config,
    cwd: PathBuf,
    save_seen: bool,
    sentinel_mode: bool,
    hooks: Option<&'a mut (dyn LoadHooks + 'h)>,
    depth: usize,
}

impl Config {
    /// Loads the configuration from `redis-server`'s arguments (without the
    /// program name): `[configfile] [-] [--directive value ...]`.
    pub fn load(args: &[String]) -> Result<Config, ConfigLoadError> {
        Config::load_with(args, LoadOptions::default())
    }

    /// [`Config::load`] with explicit options.
    pub fn load_with(args: &[String], opts: LoadOptions<'_>) -> Result<Config, ConfigLoadError> {
        match args.first().map(String::as_str) {
            Some("-v" | "--version") => return Err(ConfigLoadError::Version),
            Some("-h" | "--help") => return Err(ConfigLoadError::Help),
            Some("--test-memory") => {
                let megabytes = (args.len() == 2).then(|| args[1].clone());
                return Err(ConfigLoadError::TestMemory { megabytes });
            }
            _ => {}
        }
        let cwd = match opts.cwd {
            Some(c) => c,
            None => std::env::current_dir().unwrap_or_default(),
        };
        let sentinel_mode = opts.sentinel_mode || args.iter().any(|a| a == "--sentinel");

        let mut config_file = None;
        let mut rest = args;
        if let Some(first) = args.first() {
            if !first.starts_with('-') {
                config_file = Some(absolute_path(&cwd, first));
                rest = &args[1..];
            }
        }
        let (from_stdin, options) = options_text(rest, config_file.is_none());

        let mut text = String::new();
        if let Some(path) = &config_file {
            text.push_str(&read_config_file(path, &path.to_string_lossy())?);
        }
        if from_stdin {
            let mut buf = Vec::new();
            let res = match opts.stdin {
                Some(r) => r.read_to_end(&mut buf),
                None => std::io::stdin().read_to_end(&mut buf),
            };
            res.map_err(|e| ConfigLoadError::CantOpen {
                path: "-".into(),
                reason: os_error_text(&e),
            })?;
            text.push_str(&String::from_utf8_lossy(&buf));
        }
        text.push('\n');
        text.push_str(&options);

        let mut loader = Loader {
            config: Config::with_cwd(&cwd),
            cwd: cwd.clone(),
            save_seen: false,
            sentinel_mode,
            hooks: opts.hooks,
            depth: 0,
        };
        loader.config.config_file = config_file;
        loader.config.sentinel_flag = sentinel_mode;
        loader.process(&text)?;
        Ok(loader.config)
    }
}

/// Builds the configuration text of the command-line options the way Redis
/// does, and says whether `-` asked for stdin. `first_is_option` is true when
/// `args[0]` was the first argument of the program (no config file before it).
fn options_text(args: &[String], first_is_option: bool) -> (bool, String) {
    let mut from_stdin = false;
    let mut out = String::new();
    let mut value_expected_done = true;
    for (j, a) in args.iter().enumerate() {
        let is_first = j == 0 && first_is_option;
        let is_last = j + 1 == args.len();
        let next_is_option = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
        if a == "-" && (is_first || is_last) {
            from_stdin = true;
        } else if value_expected_done && a.starts_with("--") {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&a[2..]);
            out.push(' ');
            // "--name" alone expects its value in the next argument; "--name value"
            // in one argument is complete.
            if split_args(a).map(|v| v.len()) == Some(1) {
                value_expected_done = false;
                if !is_last && next_is_option && a.eq_ignore_ascii_case("--save") {
                    // `--save --other ...` means an empty save list.
                    out.push_str("\"\"");
                    value_expected_done = true;
                } else if !is_last && next_is_option && a.eq_ignore_ascii_case("--sentinel") {
                    value_expected_done = true;
                }
            } else {
                value_expected_done = true;
            }
        } else {
            out.push_str(&quote(a));
            out.push(' ');
            value_expected_done = true;
        }
    }
    (from_stdin, out)
}

/// `cwd`-relative absolute path with `.` and `..` resolved textually (no
/// symlink resolution, like Redis's own helper).
fn absolute_path(cwd: &Path, p: &str) -> PathBuf {
    let joined = cwd.join(p);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Reads a file or, when the last path component holds glob characters,
/// every matching file in name order. `shown` names it in errors.
fn read_config_file(path: &Path, shown: &str) -> Result<String, ConfigLoadError> {
    let cant_open = |e: std::io::Error| ConfigLoadError::CantOpen {
        path: shown.to_string(),
        reason: os_error_text(&e),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?', '[']) {
        let bytes = std::fs::read(path).map_err(cant_open)?;
        return Ok(String::from_utf8_lossy(&bytes).into_owned());
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut matches: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                !n.starts_with('.')
                    && shoal_ds::glob::glob_match(name.as_bytes(), n.as_bytes(), true)
            })
            .map(|e| e.path())
            .collect(),
        Err(_) => Vec::new(),
    };
    matches.sort();
    let mut text = String::new();
    for m in matches {
        let bytes = std::fs::read(&m).map_err(|e| ConfigLoadError::CantOpen {
            path: m.to_string_lossy().into_owned(),
            reason: os_error_text(&e),
        })?;
        text.push_str(&String::from_utf8_lossy(&bytes));
    }
    Ok(text)
}

/// Trims what Redis trims around a line.
fn trim_line(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

impl Loader<'_, '_> {
    fn process(&mut self, text: &str) -> Result<(), ConfigLoadError> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = trim_line(raw);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: &str| ConfigLoadError::bad_line(i + 1, line, reason);
            let argv =
                split_args(line).ok_or_else(|| err("Unbalanced quotes in configuration line"))?;
            if argv.is_empty() {
                continue;
            }
            self.directive(&argv, i + 1, line).map_err(|e| match e {
                LineError::Reason(r) => err(&r),
                LineError::Nested(e) => e,
            })?;
        }
        Ok(())
    }

    /// Applies one directive line.
    fn directive(&mut self, argv: &[String], linenum: usize, line: &str) -> Result<(), LineError> {
        let name = argv[0].to_ascii_lowercase();
        let argc = argv.len();
        if let Some(idx) = lookup(&name) {
            let d = &DIRECTIVES[idx];
            if !d.kind.is_multi_arg() && argc != 2 {
                return Err(value::ERR_NARGS.into());
            }
            // A multi-argument directive given as one non-empty string is split.
            let split;
            let args: &[String] = if d.kind.is_multi_arg() && argc == 2 && !argv[1].is_empty() {
                split = split_args(&argv[1]).unwrap_or_default();
                &split
            } else {
                &argv[1..]
            };
            let mut ctx = ParseCtx {
                loading: true,
                save_seen: self.save_seen,
                cwd: &self.cwd,
            };
            let v = value::parse_value(d, args, &self.config.values[idx], &mut ctx)?;
            self.save_seen = ctx.save_seen;
            if let Value::Str(dir) = &v {
                if d.kind == crate::Kind::Dir {
                    self.cwd = PathBuf::from(dir);
                }
            }
            self.config.values[idx] = v;
            return Ok(());
        }
        match (name.as_str(), argc) {
            (n, 2) if DEPRECATED.contains(&n) => {
                self.config.deprecated.push(n.to_string());
                Ok(())
            }
            ("include", 2) => self.include(&argv[1]),
            ("rename-command", 3) => {
                if let Some(h) = self.hooks.as_deref_mut() {
                    h.rename_command(&argv[1], &argv[2])?;
                }
                self.config
                    .rename_commands
                    .push((argv[1].clone(), argv[2].clone()));
                Ok(())
            }
            ("user", n) if n >= 2 => {
                let user_error = |i: usize, reason: &str| {
                    format!("Error in user declaration '{}': {reason}", argv[i])
                };
                if self.config.users.iter().any(|u| u[0] == argv[1]) {
                    return Err(user_error(
                        1,
                        "Duplicate user found. A user can only be defined once in config files",
                    )
                    .into());
                }
                if let Some(h) = self.hooks.as_deref_mut() {
                    h.user(argv)
                        .map_err(|(i, r)| LineError::Reason(user_error(i.min(argc - 1), &r)))?;
                }
                self.config.users.push(argv[1..].to_vec());
                Ok(())
            }
            ("loadmodule", n) if n >= 2 => {
                self.config.modules.push(argv[1..].to_vec());
                Ok(())
            }
            // `sentinel` alone comes from `--sentinel`; the mode is already known.
            ("sentinel", 1) => Ok(()),
            ("sentinel", _) => {
                if !self.sentinel_mode {
                    return Err("sentinel directive while not in sentinel mode".into());
                }
                self.config.sentinel_lines.push(SentinelLine {
                    line: linenum,
                    text: line.to_string(),
                    args: argv[1..].to_vec(),
                });
                Ok(())
            }
            _ => Err(ERR_BAD_DIRECTIVE.into()),
        }
    }

    fn include(&mut self, path: &str) -> Result<(), LineError> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err("include nested too deeply".into());
        }
        let full = self.cwd.join(path);
        let text = read_config_file(&full, path).map_err(LineError::Nested)?;
        self.depth += 1;
        let res = self.process(&text);
        self.depth -= 1;
        res.map_err(LineError::Nested)
    }
}

/// Why a line failed: a reason to report at that line, or a complete error
/// from an included file (reported with that file's numbering).
enum LineError {
    Reason(String),
    Nested(ConfigLoadError),
}

impl From<String> for LineError {
    fn from(r: String) -> Self {
        LineError::Reason(r)
    }
}

impl From<&str> for LineError {
    fn from(r: &str) -> Self {
        LineError::Reason(r.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_are_quoted_one_line_each() {
        let (stdin, t) = options_text(&v(&["--port", "7001", "--dir", "./x"]), true);
        assert!(!stdin);
        assert_eq!(t, "port \"7001\" \ndir \"./x\" ");
        let (_, t) = options_text(&v(&["--save", "--port", "1"]), true);
        assert_eq!(t, "save \"\"\nport \"1\" ");
        let (_, t) = options_text(&v(&["--port", "--port", "0"]), true);
        assert_eq!(t, "port \"--port\" \"0\" ");
        let (_, t) = options_text(&v(&["--port 6380", "--hz", "5"]), true);
        assert_eq!(t, "port 6380 \nhz \"5\" ");
        let (_, t) = options_text(&v(&["--sentinel", "--port", "1"]), true);
        assert_eq!(t, "sentinel \nport \"1\" ");
        let (stdin, t) = options_text(&v(&["-", "--port", "1"]), true);
        assert!(stdin);
        assert_eq!(t, "port \"1\" ");
        let (stdin, _) = options_text(&v(&["--port", "1", "-"]), true);
        assert!(stdin);
        let (_, t) = options_text(&v(&["extra"]), false);
        assert_eq!(t, "\"extra\" ");
    }

    #[test]
    fn absolute_paths() {
        assert_eq!(
            absolute_path(Path::new("/a/b"), "../c.conf"),
            PathBuf::from("/a/c.conf")
        );
        assert_eq!(
            absolute_path(Path::new("/a/b"), "./c.conf"),
            PathBuf::from("/a/b/c.conf")
        );
        assert_eq!(
            absolute_path(Path::new("/a/b"), "/x/y.conf"),
            PathBuf::from("/x/y.conf")
        );
    }
}
